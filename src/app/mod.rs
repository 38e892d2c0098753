//! The desktop window over the workbench: the [`App`] struct and its eframe integration. The
//! window owns no plugin state and no background job of its own (runs, suites, xtp runs and the
//! limit finder are the workbench's); it shows the [`Workbench`] and sends it commands, and
//! keeps only its layout, drafts and dialogs.
//!
//! - [`state`]: what the window persists between runs (the workbench's state and its own).
//! - [`autosave`]: that state on disk, saved within seconds of a change, atomically.
//! - [`command`]: what the UI can ask for, and the command a file dialog's answer becomes.
//! - [`action`]: every menu item, button and shortcut: label, tooltip, shortcut, availability.
//! - `command_handling` (private): the one place commands are applied, file dialogs, shortcuts.
//! - `ui` (private): layout, one file per panel.

pub mod action;
pub mod autosave;
pub mod command;
mod command_handling;
pub mod state;
mod ui;
pub mod words;

#[doc(hidden)]
pub use ui::bench_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::runner::{CallReport, WorkerConfig};
use crate::workbench::{Source, Workbench, WorkbenchState};
use command::{Command, DialogPurpose};
use state::{AppState, ResultTab, ThemeChoice};

/// The window's icon (the 256 px one of `assets/icon`, which the desktop entry uses too).
pub const ICON_PNG: &[u8] = include_bytes!("../../assets/icon/extism-playground-256.png");

/// The window's icon, decoded; `None` only if the embedded PNG were broken (then the window
/// keeps the platform's default).
pub fn window_icon() -> Option<egui::IconData> {
    eframe::icon_data::from_png_bytes(ICON_PNG).ok()
}

/// What the window is started with.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// A plugin, session or bundle to open instead of the last one.
    pub open: Option<PathBuf>,
    /// How to start worker processes.
    pub worker: WorkerConfig,
    /// When the process started, to log the time to the first frame.
    pub started: Option<Instant>,
    /// Close after the first frame (to measure cold start).
    pub exit_after_first_frame: bool,
    /// Where the files trusted on this machine are kept.
    pub trust: crate::trust::TrustStore,
    /// How registries are reached (the command line's flags) and where pulled content is
    /// kept; the window adds its own logins and plain-HTTP hosts.
    pub registry: crate::registry::Settings,
    /// Where the window's state is saved as it changes (`None`: in eframe's storage only, as
    /// the window closes; what tests use).
    pub state_file: Option<autosave::StateFile>,
}

impl AppOptions {
    /// Options for a window whose workers run `worker`.
    pub fn new(worker: WorkerConfig) -> Self {
        Self {
            open: None,
            worker,
            started: None,
            exit_after_first_frame: false,
            trust: crate::trust::TrustStore::user(),
            registry: crate::registry::Settings::default(),
            state_file: None,
        }
    }
}

/// How the output is shown: the user's pick sticks for the rest of the session; until then,
/// JSON when the output is JSON, else text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputView {
    #[default]
    Auto,
    Text,
    Json,
    Hex,
}

/// A file dialog running on its own thread.
pub struct Dialog {
    pub job: crate::platform::job::Job<Option<PathBuf>>,
    pub purpose: DialogPurpose,
}

/// Generated host code for the Export window, with the workbench revision it was made for.
pub struct ExportedCode {
    pub revision: u64,
    pub go: String,
    pub rust: String,
}

/// Two runs picked in the History tab, and their side-by-side rows once built.
#[derive(Default)]
pub struct Comparison {
    pub a: Option<u64>,
    pub b: Option<u64>,
    /// Runs picked to make a scenario of.
    pub picked: std::collections::BTreeSet<u64>,
    /// The rows, with the pair of run numbers they were built for.
    pub rows: Option<ComparedRows>,
}

/// The side-by-side rows of two runs.
pub struct ComparedRows {
    pub a: u64,
    pub b: u64,
    pub rows: Vec<crate::bundle::diff::DiffRow>,
}

/// Text typed into "add" rows of the side panel, not yet committed.
#[derive(Default)]
pub struct PanelDrafts {
    pub host: String,
    pub config: MapDraft,
    pub kv: MapDraft,
    pub secret: MapDraft,
}

/// A key and value being typed for a new map entry.
#[derive(Default)]
pub struct MapDraft {
    pub key: String,
    pub value: String,
}

/// What only the window keeps: view choices and caches that are not saved.
#[derive(Default)]
pub struct ViewState {
    pub output_view: OutputView,
    pub show_secrets: bool,
    pub show_export: bool,
    pub export: Option<ExportedCode>,
    /// The Trusted files window's list, while it is open.
    pub trusted: Option<crate::trust::TrustList>,
    pub comparison: Comparison,
    pub drafts: PanelDrafts,
    pub dialog: Option<Dialog>,
    /// The host function being defined, while its editor is open.
    pub mock_editor: Option<ui::MockDraft>,
    /// The New plugin dialog: its draft while open, and the one it last created from.
    pub new_plugin: ui::NewPluginDialog,
    /// The last build whose start (`build_shown`) and end (`build_followed`) the window
    /// acted on.
    pub build_shown: u64,
    pub build_followed: u64,
    /// The Open from registry dialog, while it is open.
    pub registry_dialog: Option<ui::RegistryDraft>,
    /// The coredump window, the source view and the path-map editor.
    pub postmortem: ui::PostmortemWindows,
}

/// The playground window.
pub struct App {
    pub(crate) workbench: Workbench,
    pub(crate) theme: ThemeChoice,
    pub(crate) log_filter: crate::workbench::view::LogFilter,
    pub(crate) result_tab: ResultTab,
    pub(crate) view: ViewState,
    commands: Vec<Command>,
    first_frame: FirstFrame,
    autosave: autosave::Autosave,
    /// Why the saved state could not be read as the window opened (shown for the session: it
    /// says where the unreadable file was kept).
    load_problem: Option<String>,
}

/// Timing of the first frame (cold start), logged once.
struct FirstFrame {
    started: Option<Instant>,
    exit_after: bool,
    seen: bool,
}

impl App {
    /// Creates the window, restoring the last session if eframe has one.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        // The state file first; eframe's storage holds what older versions saved (and what a
        // window without a state file saves).
        let (from_file, load_problem) =
            match options.state_file.as_ref().map(autosave::StateFile::load) {
                Some(Ok(state)) => (state, None),
                Some(Err(e)) => (None, Some(e.to_string())),
                None => (None, None),
            };
        let had_file = from_file.is_some();
        let saved: AppState = from_file
            .or_else(|| {
                cc.storage
                    .and_then(|storage| eframe::get_value(storage, eframe::APP_KEY))
            })
            .unwrap_or_default();
        let ctx = cc.egui_ctx.clone();
        let wake = Arc::new(move || ctx.request_repaint());
        let autosave = autosave::Autosave::new(options.state_file, had_file.then_some(&saved));
        let mut app = Self::with_state(saved, options.worker, options.trust, wake);
        app.autosave = autosave;
        app.load_problem = load_problem;
        app.workbench.set_registry_settings(options.registry);
        app.first_frame = FirstFrame {
            started: options.started,
            exit_after: options.exit_after_first_frame,
            seen: false,
        };
        cc.egui_ctx.set_theme(app.theme.preference());
        match options.open {
            // A suite opens in the Tests window, over the last session.
            Some(path) if path.extension().is_some_and(|e| e == "toml") => {
                app.workbench.restore();
                app.send(Command::from(crate::workbench::TestCommand::OpenSuite {
                    path,
                    trust: false,
                }));
            }
            // A registry reference goes through the same dialog path as typed in the window.
            Some(path) if path.to_str().is_some_and(crate::registry::is_reference) => {
                app.workbench
                    .apply(crate::workbench::Command::OpenFromRegistry {
                        reference: path.to_string_lossy().into_owned(),
                        login: None,
                        plain_http: None,
                    });
            }
            Some(path) => app
                .workbench
                .apply(crate::workbench::Command::Open(Source::Path(path))),
            None => app.workbench.restore(),
        }
        app
    }

    fn with_state(
        saved: AppState,
        worker: WorkerConfig,
        trust: crate::trust::TrustStore,
        wake: crate::workbench::Waker,
    ) -> Self {
        let AppState {
            workbench,
            theme,
            log_filter,
            result_tab,
        } = saved;
        Self {
            workbench: Workbench::new(workbench, worker, wake).with_trust_store(trust),
            theme,
            log_filter,
            result_tab,
            view: ViewState::default(),
            commands: Vec::new(),
            first_frame: FirstFrame {
                started: None,
                exit_after: false,
                seen: false,
            },
            autosave: autosave::Autosave::new(None, None),
            load_problem: None,
        }
    }

    /// Queues a command for the end of the frame.
    pub(crate) fn send(&mut self, command: impl Into<Command>) {
        self.commands.push(command.into());
    }

    /// The workbench under the window.
    pub fn workbench(&self) -> &Workbench {
        &self.workbench
    }

    /// The workbench, for tests that set up what no widget can (a large input, say).
    pub fn workbench_mut(&mut self) -> &mut Workbench {
        &mut self.workbench
    }

    /// Opens a test suite in the Tests window, as picking it in Tests → Open test suite does
    /// (for tests: no file dialog).
    pub fn open_test_suite(&mut self, path: std::path::PathBuf) {
        self.send(Command::from(crate::workbench::TestCommand::OpenSuite {
            path,
            trust: false,
        }));
    }

    /// Runs the xtp-test plugin at `path` against the open plugin, as picking it in Tests →
    /// Run an xtp-test plugin does (for tests: no file dialog).
    pub fn run_xtp_test(&mut self, path: std::path::PathBuf) {
        self.send(Command::from(crate::workbench::TestCommand::RunXtp(path)));
    }

    /// The xtp-test plugin run shown in the xtp window.
    pub fn xtp_run(&self) -> Option<&crate::suite::job::XtpJob> {
        self.workbench.testing().xtp()
    }

    /// The limit finder's search, while its window is open.
    pub fn limit_search(&self) -> Option<&crate::workbench::limits::LimitJob> {
        self.workbench.limit_search()
    }

    /// Whether a suite is being loaded for the Tests window (in the background).
    pub fn is_loading_suite(&self) -> bool {
        self.workbench.testing().loading().is_some()
    }

    /// The test suite open in the Tests window.
    pub fn test_suite(&self) -> Option<&crate::suite::job::OpenSuite> {
        self.workbench.testing().suite()
    }

    /// Whether a call is in flight.
    pub fn is_running(&self) -> bool {
        self.workbench.is_running()
    }

    /// The last finished call, if any.
    pub fn last_report(&self) -> Option<&CallReport> {
        self.workbench.last().map(|v| &v.report)
    }

    /// The workbench's persisted state (for tests and diagnostics).
    pub fn state(&self) -> &WorkbenchState {
        self.workbench.state()
    }

    /// What [`eframe::App::save`] writes.
    pub fn to_save(&mut self) -> AppState {
        AppState {
            workbench: self.workbench.state_to_save().clone(),
            theme: self.theme,
            log_filter: self.log_filter.clone(),
            result_tab: self.result_tab,
        }
    }

    /// Whether every change has been handed to the state file (or there is none).
    pub fn is_saved(&self) -> bool {
        self.autosave.is_saved()
    }

    /// Runs `f` on the autosave with the state as it would be saved, borrowed.
    fn with_saving<R>(
        &mut self,
        f: impl FnOnce(&mut autosave::Autosave, &state::Saving<'_>) -> R,
    ) -> R {
        let saving = state::Saving {
            workbench: self.workbench.state_to_save(),
            theme: self.theme,
            log_filter: &self.log_filter,
            result_tab: self.result_tab,
        };
        f(&mut self.autosave, &saving)
    }

    /// What is wrong with the saved state, if anything: it could not be read, or saved.
    pub fn save_problem(&self) -> Option<&str> {
        self.autosave.problem().or(self.load_problem.as_deref())
    }

    /// After each frame: saves the state when a change is due, and asks for the one repaint
    /// that saves a change not due yet.
    fn autosave(&mut self, ctx: &egui::Context) {
        let now = ctx.input(|i| i.time);
        let next = self.with_saving(|autosave, saving| autosave.after_frame(now, saving));
        if let autosave::Next::RepaintAfter(after) = next {
            ctx.request_repaint_after(after);
        }
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        // One line per frame with RUST_LOG=extism_playground::frames=trace (the idle bench
        // counts them).
        tracing::trace!(target: "extism_playground::frames", "frame");
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
        if !commands.is_empty() {
            // What they changed shows in the next frame, not at the next input event.
            ui.ctx().request_repaint();
        }
        for command in commands {
            self.run_command(ui.ctx(), command);
        }
        self.autosave(ui.ctx());
    }

    /// As the window closes (and every half minute): what is not saved yet is saved now.
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.autosave.file().is_some() {
            self.with_saving(|autosave, saving| autosave.flush(saving));
        } else {
            eframe::set_value(storage, eframe::APP_KEY, &self.to_save());
        }
    }
}
