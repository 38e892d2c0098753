//! Entry point: parse the command line, then run a headless command, a worker, or the window.

use std::process::ExitCode;

use clap::Parser as _;
use extism_playground::app::{App, AppOptions};
use extism_playground::cli::Cli;
use extism_playground::runner::WorkerConfig;
use extism_playground::runner::worker::WORKER_ARG;

/// Set to close the window after its first frame and print how long that took.
const EXIT_AFTER_FIRST_FRAME_ENV: &str = "EXTISM_PLAYGROUND_EXIT_AFTER_FIRST_FRAME";

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // A worker process (started by the app itself, never by people: it is not part of the
    // command line, its help or its completions). Its stdout belongs to the plugin.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == WORKER_ARG)
    {
        return extism_playground::runner::worker::serve();
    }
    // What saves and sessions of a process that died left behind (temporary files, coredump
    // folders) goes now.
    extism_playground::platform::files::remove_leftovers();
    let cli = Cli::parse();
    if let Some(command) = cli.command {
        return extism_playground::cli::run(command);
    }
    init_logging();
    let registry = match cli.registry_settings() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(extism_playground::cli::EXIT_USAGE);
        }
    };
    match open_window(cli.open, registry, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The app's own diagnostics go to stderr, filtered by `RUST_LOG` (default: warnings).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn open_window(
    open: Option<std::path::PathBuf>,
    registry: extism_playground::registry::Settings,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    let worker = WorkerConfig::current_exe()?;
    let mut viewport = egui::ViewportBuilder::default();
    if let Some(icon) = extism_playground::app::window_icon() {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let options = eframe::NativeOptions {
        viewport: viewport
            .with_title("Extism Playground")
            // The desktop entry's StartupWMClass: docks group the window under its icon.
            .with_app_id(extism_playground::platform::dirs::APP_ID)
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([760.0, 480.0])
            .with_drag_and_drop(true),
        // OpenGL, always: it renders with Mesa's software GL where there is no GPU, and a build
        // that also links wgpu (the tests' snapshot renderer) must not switch the window to it.
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "extism-playground",
        options,
        Box::new(move |cc| {
            // The window exists (an error before this still reaches the console): started
            // from a menu on Windows, no empty console stays beside it.
            extism_playground::platform::console::release_own_console();
            let options = AppOptions {
                open,
                registry,
                started: Some(started),
                exit_after_first_frame: std::env::var_os(EXIT_AFTER_FIRST_FRAME_ENV).is_some(),
                state_file: extism_playground::app::autosave::StateFile::user(),
                ..AppOptions::new(worker)
            };
            Ok(Box::new(App::new(cc, options)))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
