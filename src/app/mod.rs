//! The desktop window over the runner: the [`App`] struct and its eframe integration.
//!
//! - [`state`]: what persists between runs.
//! - [`command`]: what the UI can ask for, and the actions' labels and shortcuts.
//! - [`logic`]: per-frame work that is not layout: applying commands, collecting finished
//!   calls, hot reload, dropped files.
//! - [`ui`]: layout, one file per panel.

pub mod command;
mod logic;
mod sessions;
pub mod state;
mod ui;
pub(crate) mod view;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use poll_promise::Promise;

use crate::runner::{CallReport, Canceller, Inspection, LoadedPlugin, Session, WorkerConfig};
use command::Command;
use state::AppState;
use view::RunView;

/// How many past runs the timing history keeps.
const HISTORY_LEN: usize = 200;
/// How much of each run's output the history keeps for comparisons.
const HISTORY_OUTPUT_BYTES: usize = 1024 * 1024;

/// What the window is started with.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// A plugin to open instead of the last one.
    pub open: Option<PathBuf>,
    /// How to start worker processes.
    pub worker: WorkerConfig,
    /// When the process started, to log the time to the first frame.
    pub started: Option<Instant>,
    /// Close after the first frame (to measure cold start).
    pub exit_after_first_frame: bool,
}

impl AppOptions {
    /// Options for a window whose workers run `worker`.
    pub fn new(worker: WorkerConfig) -> Self {
        Self {
            open: None,
            worker,
            started: None,
            exit_after_first_frame: false,
        }
    }
}

/// An input too large for the text editor (loaded from a file), sent as it is.
#[derive(Clone, Debug)]
pub struct LargeInput {
    pub bytes: std::sync::Arc<Vec<u8>>,
    pub name: String,
}

/// Inputs at least this big are kept out of the text editor.
pub const LARGE_INPUT_BYTES: usize = 1024 * 1024;

/// The verdict of the last run against the expected outcome, and its side-by-side rows (built
/// on first view).
pub struct VerdictView {
    pub matched: bool,
    pub rows: Option<Vec<ui::DiffRow>>,
}

/// The open plugin, read and inspected.
pub struct Loaded {
    pub plugin: LoadedPlugin,
    pub inspection: Inspection,
    /// Size and modification time of the opened file and of every module file it names, for
    /// hot reload.
    pub stamps: Vec<(PathBuf, Option<FileStamp>)>,
}

/// What identifies a version of a file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub modified: Option<SystemTime>,
    pub len: u64,
}

/// The files hot reload watches for a plugin opened from `path`: the file itself and, for a
/// manifest, each module file.
pub fn watch_stamps(
    path: &std::path::Path,
    plugin: &LoadedPlugin,
) -> Vec<(PathBuf, Option<FileStamp>)> {
    let mut paths = vec![path.to_path_buf()];
    for module in &plugin.modules {
        if let crate::runner::source::ModuleOrigin::File(p) = &module.origin
            && !paths.contains(p)
        {
            paths.push(p.clone());
        }
    }
    paths
        .into_iter()
        .map(|p| {
            let stamp = FileStamp::of(&p);
            (p, stamp)
        })
        .collect()
}

impl FileStamp {
    pub fn of(path: &std::path::Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

/// A call in flight.
pub struct Running {
    pub promise: Promise<RunView>,
    /// The plugin generation the call was made on; a result for an older one is discarded.
    pub generation: u64,
    pub canceller: Canceller,
    pub started: Instant,
    pub function: String,
    pub stop_requested: bool,
}

/// One finished run, for the history and plot.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub number: u64,
    /// The output (the first `HISTORY_OUTPUT_BYTES` of it).
    pub output: std::sync::Arc<Vec<u8>>,
    pub output_cut: bool,
    pub function: String,
    pub outcome: String,
    pub ok: bool,
    pub call_ms: f64,
    pub load_ms: f64,
    pub instantiate_ms: f64,
    pub fuel: Option<u64>,
}

/// A line in the status bar.
#[derive(Clone, Debug)]
pub struct Status {
    pub text: String,
    pub is_error: bool,
}

/// What a file dialog's answer is for.
pub enum DialogPurpose {
    OpenPlugin,
    LoadInput,
    SaveOutput(std::sync::Arc<Vec<u8>>),
    PickDir(usize),
    OpenSession,
    /// Save a session (`embed: false`) or a self-contained bundle.
    SaveBundle {
        embed: bool,
    },
    ExportManifest,
}

/// A plugin being read on a background thread (its manifest names modules to download).
pub(crate) struct Opening {
    pub promise: Promise<Result<logic::OpenedPlugin, String>>,
    pub path: PathBuf,
    pub fresh: bool,
}

/// A file dialog running on its own thread.
pub struct Dialog {
    pub promise: Promise<Option<PathBuf>>,
    pub purpose: DialogPurpose,
}

/// The playground window.
pub struct App {
    pub(crate) state: AppState,
    worker: WorkerConfig,
    pub(crate) loaded: Option<Loaded>,
    /// Why the last attempt to open a plugin failed.
    pub(crate) load_error: Option<String>,
    session: Option<Session>,
    pub(crate) running: Option<Running>,
    pub(crate) last: Option<RunView>,
    pub(crate) history: VecDeque<RunSummary>,
    runs: u64,
    pub(crate) status: Option<Status>,
    /// Why the next run will start a new instance, if it will.
    pub(crate) reset_reason: Option<String>,
    commands: Vec<Command>,
    dialog: Option<Dialog>,
    next_reload_check: Option<Instant>,
    /// Cached check of the input as JSON: `None` until computed for the current text.
    pub(crate) input_check: Option<Result<(), view::JsonError>>,
    /// Shows secret values in the host panel.
    pub(crate) show_secrets: bool,
    /// New entries being typed in the sandbox and host panels.
    pub(crate) drafts: ui::PanelDrafts,
    /// The Export host code window is open.
    pub(crate) show_export: bool,
    /// Runs picked for the side-by-side comparison (history numbers).
    pub(crate) compare: (Option<u64>, Option<u64>),
    /// The side-by-side rows of the picked runs, for the pair they were built for.
    pub(crate) compare_rows: Option<((u64, u64), Vec<ui::DiffRow>)>,
    pub(crate) verdict: Option<VerdictView>,
    pub(crate) large_input: Option<LargeInput>,
    /// A plugin being opened in the background.
    pub(crate) opening: Option<Opening>,
    first_frame: FirstFrame,
    /// Bumped whenever another plugin (or version of it) is installed.
    pub(crate) generation: u64,
    /// The key of the installed plugin, to tell a new plugin from a reload.
    pub(crate) loaded_key: Option<String>,
    /// Generated host code for the Export window, with the key it was made for.
    pub(crate) export_cache: Option<(u64, String, String)>,
}

/// Timing of the first frame (cold start), logged once.
struct FirstFrame {
    started: Option<Instant>,
    exit_after: bool,
    seen: bool,
}

impl App {
    /// Creates the window's state, restoring the last session if eframe has one.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let state: AppState = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, eframe::APP_KEY))
            .unwrap_or_default();
        let mut app = Self {
            state,
            worker: options.worker,
            loaded: None,
            load_error: None,
            session: None,
            running: None,
            last: None,
            history: VecDeque::new(),
            runs: 0,
            status: None,
            reset_reason: None,
            commands: Vec::new(),
            dialog: None,
            next_reload_check: None,
            input_check: None,
            show_secrets: false,
            drafts: ui::PanelDrafts::default(),
            show_export: false,
            compare: (None, None),
            compare_rows: None,
            verdict: None,
            large_input: None,
            opening: None,
            generation: 0,
            loaded_key: None,
            export_cache: None,
            first_frame: FirstFrame {
                started: options.started,
                exit_after: options.exit_after_first_frame,
                seen: false,
            },
        };
        cc.egui_ctx.set_theme(app.theme_preference());
        match options.open {
            Some(path) => app.open_path(&path, true),
            None => app.restore_plugin(),
        }
        app
    }

    fn theme_preference(&self) -> egui::ThemePreference {
        match self.state.theme {
            state::ThemeChoice::System => egui::ThemePreference::System,
            state::ThemeChoice::Light => egui::ThemePreference::Light,
            state::ThemeChoice::Dark => egui::ThemePreference::Dark,
        }
    }

    /// Queues a command for the end of the frame.
    pub(crate) fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// Whether a call is in flight.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The last finished call, if any.
    pub fn last_report(&self) -> Option<&CallReport> {
        self.last.as_ref().map(|v| &v.report)
    }

    /// The persisted state (for tests and diagnostics).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Uses `bytes` as the input, outside the text editor (as File, Load input does for big
    /// files).
    pub fn set_large_input(&mut self, name: &str, bytes: Vec<u8>) {
        self.large_input = Some(LargeInput {
            bytes: std::sync::Arc::new(bytes),
            name: name.to_string(),
        });
    }

    /// Recomputes whether the last run matches the expected outcome (a byte comparison; the
    /// side-by-side rows are built only when shown).
    pub(crate) fn refresh_verdict(&mut self) {
        self.verdict = match (&self.state.expected, &self.last) {
            (Some(expected), Some(last)) => Some(VerdictView {
                matched: expected.matches(&last.report),
                rows: None,
            }),
            _ => None,
        };
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.handle_shortcuts(ui.ctx());
        ui::show(self, ui);
        if !self.first_frame.seen {
            self.first_frame.seen = true;
            if let Some(started) = self.first_frame.started {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                tracing::info!("first frame {ms:.1} ms after start");
                if self.first_frame.exit_after {
                    eprintln!("first frame {ms:.1} ms after start");
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
        }
        let commands = std::mem::take(&mut self.commands);
        for command in commands {
            self.apply(ui.ctx(), command);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
