//! Every action a menu item, toolbar button or shortcut offers, with its label, tooltip,
//! shortcut, whether it is available now (and why not), and the command it sends. Menus,
//! toolbars and the keyboard all read this one table, so they cannot drift apart.

use std::path::PathBuf;

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::bundle::InputMode;
use crate::samples::Sample;
use crate::workbench::{self, Source};

use super::App;
use super::command::{Command, DialogPurpose, Postmortem};
use super::state::ThemeChoice;

/// Why an action cannot be taken now: the workbench's reason, or the window's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    Run(workbench::RunBlocker),
    Build(workbench::BuildBlocker),
    Suite(workbench::notice::NoSuiteFile),
    /// A reason the window decides, in its words.
    Because(&'static str),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Run(blocker) => f.write_str(&super::words::run_blocker(blocker)),
            Self::Build(blocker) => f.write_str(super::words::build_blocker(*blocker)),
            Self::Suite(why) => f.write_str(super::words::no_suite_file(*why)),
            Self::Because(why) => f.write_str(why),
        }
    }
}

/// A user-facing action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    NewPlugin,
    Build,
    StopBuild,
    OpenPlugin,
    ImportManifest,
    OpenSession,
    OpenSample(&'static Sample),
    OpenRecent(PathBuf),
    OpenFromRegistry,
    OpenRecentReference(String),
    CheckForNewer,
    Reload,
    SaveSession,
    SaveSessionAs,
    SaveBundleAs,
    ExportManifest,
    ExportHostCode,
    TrustedFiles,
    LoadInput,
    ClearLargeInput,
    SaveOutput,
    CopyOutput,
    CopyError,
    ClearLogs,
    Quit,
    Run,
    Bench,
    Stop,
    Reset,
    FormatInput,
    RecordExpected,
    ClearExpected,
    EnableWasi,
    RunScenario,
    OpenSuite,
    AddRunToSuite,
    RunXtp,
    FindLimits,
    ShowCoredump,
    SaveCoredump,
    Theme(ThemeChoice),
}

/// The actions with a keyboard shortcut.
const WITH_SHORTCUTS: [Action; 10] = [
    Action::Build,
    Action::OpenPlugin,
    Action::OpenSession,
    Action::Reload,
    Action::SaveSession,
    Action::Run,
    Action::Stop,
    Action::Reset,
    Action::FormatInput,
    Action::Quit,
];

impl Action {
    /// The actions that have a keyboard shortcut.
    pub fn with_shortcuts() -> &'static [Self] {
        &WITH_SHORTCUTS
    }

    pub fn label(&self) -> String {
        match self {
            Self::NewPlugin => "New plugin…".into(),
            Self::Build => "Build".into(),
            Self::StopBuild => "⏹ Stop build".into(),
            Self::OpenPlugin => "Open plugin…".into(),
            Self::ImportManifest => "Import Extism manifest…".into(),
            Self::OpenSession => "Open session or bundle…".into(),
            Self::OpenSample(sample) => sample.name.into(),
            Self::OpenRecent(path) => path.display().to_string(),
            Self::OpenFromRegistry => "Open from registry…".into(),
            Self::OpenRecentReference(reference) => reference.clone(),
            Self::CheckForNewer => "Check for newer".into(),
            Self::Reload => "Reload plugin".into(),
            Self::SaveSession => "Save session".into(),
            Self::SaveSessionAs => "Save session as…".into(),
            Self::SaveBundleAs => "Save as bundle (embed plugin)…".into(),
            Self::ExportManifest => "Export Extism manifest…".into(),
            Self::ExportHostCode => "Export host code…".into(),
            Self::TrustedFiles => "Trusted files…".into(),
            Self::LoadInput => "Load input from file…".into(),
            Self::ClearLargeInput => "Clear large input".into(),
            Self::SaveOutput => "Save output…".into(),
            Self::CopyOutput => "Copy output".into(),
            Self::CopyError => "Copy error".into(),
            Self::ClearLogs => "Clear logs".into(),
            Self::Quit => "Quit".into(),
            Self::Run => "▶ Run".into(),
            Self::Bench => "Bench".into(),
            Self::Stop => "⏹ Stop".into(),
            Self::Reset => "Reset instance".into(),
            Self::FormatInput => "Format JSON".into(),
            Self::RecordExpected => "Record expected output".into(),
            Self::ClearExpected => "Clear expected output".into(),
            Self::EnableWasi => "Turn WASI on".into(),
            Self::RunScenario => "▶ Run all steps".into(),
            Self::OpenSuite => "Open test suite…".into(),
            Self::AddRunToSuite => "Add this run to a suite…".into(),
            Self::RunXtp => "Run an xtp-test plugin against this plugin…".into(),
            Self::FindLimits => "Find limits…".into(),
            Self::ShowCoredump => "Coredump…".into(),
            Self::SaveCoredump => "Save coredump…".into(),
            Self::Theme(ThemeChoice::System) => "Follow system theme".into(),
            Self::Theme(ThemeChoice::Light) => "Light".into(),
            Self::Theme(ThemeChoice::Dark) => "Dark".into(),
        }
    }

    pub fn tooltip(&self) -> String {
        match self {
            Self::NewPlugin => {
                "Write a Rust plugin crate (extism-pdk) from a template, with this host's functions declared and a test suite, then build and open it"
            }
            Self::Build => {
                "Build the open plugin's crate (cargo build --target …) and load the new module; a failed build keeps this one"
            }
            Self::StopBuild => "End cargo and the compilers it started; the loaded module stays",
            Self::OpenPlugin => "Open a .wasm module, an Extism manifest, a session or a bundle",
            Self::ImportManifest => "Open an Extism manifest JSON: its modules and options",
            Self::OpenSession => {
                "Open a saved session or repro bundle: plugin, options, input and expected output"
            }
            Self::OpenSample(sample) => sample.description,
            Self::OpenRecent(_) => "Open this file again",
            Self::OpenFromRegistry => {
                "Pull a plugin from an OCI registry by tag or digest (oci://HOST/REPO:TAG)"
            }
            Self::OpenRecentReference(_) => "Pull this reference again (a tag may have moved)",
            Self::CheckForNewer => {
                "Ask the registry whether the tag this plugin was pulled by now points elsewhere"
            }
            Self::Reload => "Read the plugin file again",
            Self::SaveSession => {
                "Save plugin (by path), options, host data, function, input and expected output"
            }
            Self::SaveSessionAs => "Save the session to a new file (the plugin by path)",
            Self::SaveBundleAs => {
                "A self-contained file: the plugin's bytes inside, for sharing and `extism-playground replay`"
            }
            Self::ExportManifest => {
                "The plugin and sandbox options as a manifest for the extism CLI and SDKs"
            }
            Self::ExportHostCode => "Go and Rust programs that run this scenario with the Extism SDKs",
            Self::TrustedFiles => {
                "Files whose grants open without asking: those you chose to remember, and those this app saved"
            }
            Self::LoadInput => "Replace the input with a file's contents",
            Self::ClearLargeInput => "Forget the input loaded from a file and edit text again",
            Self::SaveOutput => "Save the full output to a file",
            Self::CopyOutput => "Copy the whole output",
            Self::CopyError => "Copy the error kind and its full message",
            Self::ClearLogs => "Clear this call's logs",
            Self::Quit => "Close the window (your work is saved)",
            Self::Run => "Call the selected function with the input",
            Self::Bench => {
                "Call the function this many times on the warm instance (inside the worker) and show calls/s, percentiles and a histogram in Timing. Logs are kept at info and above."
            }
            Self::Stop => "Stop the running call (or scenario)",
            Self::Reset => "Discard the warm instance: the next call starts fresh",
            Self::FormatInput => "Pretty-print the JSON input",
            Self::RecordExpected => {
                "Remember the last run's outcome; later runs and `replay` are checked against it"
            }
            Self::ClearExpected => "Stop checking runs against an expected outcome",
            Self::EnableWasi => "Link WASI preview 1, which this plugin imports",
            Self::RunScenario => {
                "Replay every step of the scenario in order (the first on a fresh instance) and check each against what it expects"
            }
            Self::OpenSuite => {
                "Open a test suite (.toml) or bundle: list its tests, run them in the background, open a failing one here"
            }
            Self::AddRunToSuite => {
                "Append the last run as a test (expecting what it did) to a suite file, new or existing; its comments and order are kept"
            }
            Self::RunXtp => {
                "Pick an xtp-test plugin (it exports `test` and imports xtp:test/harness) and run it against the open plugin, with its options and host functions; the input, when not empty, is what mock_input returns. As `test --xtp`."
            }
            Self::FindLimits => {
                "Find the smallest memory and fuel with which this call gives the same outcome, and a timeout with a margin (each probe on a fresh instance)"
            }
            Self::ShowCoredump => {
                "The trap's coredump: its frames, globals and memory (hex)"
            }
            Self::SaveCoredump => {
                "Save the trap's wasm coredump (it holds the plugin's memory, so it may hold secrets)"
            }
            Self::Theme(_) => "The window's colours",
        }
        .to_string()
    }

    pub fn shortcut(&self) -> Option<KeyboardShortcut> {
        let ctrl = Modifiers::COMMAND;
        Some(match self {
            Self::Build => KeyboardShortcut::new(ctrl, Key::B),
            Self::OpenPlugin => KeyboardShortcut::new(ctrl, Key::O),
            Self::OpenSession => KeyboardShortcut::new(ctrl | Modifiers::SHIFT, Key::O),
            Self::SaveSession => KeyboardShortcut::new(ctrl, Key::S),
            Self::Reload => KeyboardShortcut::new(ctrl, Key::R),
            Self::Run => KeyboardShortcut::new(ctrl, Key::Enter),
            Self::Stop => KeyboardShortcut::new(Modifiers::NONE, Key::Escape),
            Self::Reset => KeyboardShortcut::new(ctrl | Modifiers::SHIFT, Key::R),
            Self::FormatInput => KeyboardShortcut::new(ctrl | Modifiers::SHIFT, Key::F),
            Self::Quit => KeyboardShortcut::new(ctrl, Key::Q),
            Self::NewPlugin
            | Self::StopBuild
            | Self::ImportManifest
            | Self::OpenSample(_)
            | Self::OpenRecent(_)
            | Self::OpenFromRegistry
            | Self::OpenRecentReference(_)
            | Self::CheckForNewer
            | Self::SaveSessionAs
            | Self::SaveBundleAs
            | Self::ExportManifest
            | Self::ExportHostCode
            | Self::TrustedFiles
            | Self::LoadInput
            | Self::ClearLargeInput
            | Self::SaveOutput
            | Self::CopyOutput
            | Self::CopyError
            | Self::ClearLogs
            | Self::Bench
            | Self::RecordExpected
            | Self::ClearExpected
            | Self::EnableWasi
            | Self::RunScenario
            | Self::OpenSuite
            | Self::AddRunToSuite
            | Self::RunXtp
            | Self::FindLimits
            | Self::ShowCoredump
            | Self::SaveCoredump
            | Self::Theme(_) => return None,
        })
    }

    /// Whether the action can be taken now: `Err` says why not.
    pub fn availability(&self, app: &App) -> Result<(), Unavailable> {
        let wb = &app.workbench;
        let running = wb.is_running()
            || wb
                .scenario_view()
                .is_some_and(crate::workbench::scenario::ScenarioView::is_running);
        let has_plugin = wb.session().is_some();
        let last = wb.last();
        match self {
            Self::Build => wb
                .build_blocker()
                .map_or(Ok(()), |b| Err(Unavailable::Build(b))),
            Self::StopBuild => check(wb.is_building(), "no build is running"),
            Self::NewPlugin
            | Self::OpenPlugin
            | Self::ImportManifest
            | Self::OpenSession
            | Self::OpenSample(_)
            | Self::OpenRecent(_)
            | Self::OpenFromRegistry
            | Self::OpenRecentReference(_)
            | Self::LoadInput
            | Self::TrustedFiles
            | Self::OpenSuite
            | Self::Quit
            | Self::Theme(_) => Ok(()),
            Self::Reload => check(
                wb.ready().is_some_and(|r| r.origin.path().is_some()),
                "samples are built in; there is nothing to reload",
            ),
            Self::SaveSession
            | Self::SaveSessionAs
            | Self::SaveBundleAs
            | Self::ExportManifest
            | Self::ExportHostCode
            | Self::Reset => check(has_plugin, "open a plugin first"),
            Self::ClearLargeInput => check(wb.large_input().is_some(), "no input file is loaded"),
            Self::SaveOutput | Self::CopyOutput => check(
                last.is_some_and(|l| !l.report.output.is_empty()),
                "the last run has no output",
            ),
            Self::CopyError => check(
                last.is_some_and(|l| l.report.error.is_some()),
                "the last run did not fail",
            ),
            Self::ClearLogs => check(
                last.is_some_and(|l| !l.report.logs.is_empty()),
                "there are no logs",
            ),
            Self::Run | Self::Bench => wb
                .run_blocker()
                .map_or(Ok(()), |b| Err(Unavailable::Run(b))),
            Self::RunScenario => match wb.scenario_view() {
                None => Err(Unavailable::Because(
                    "no scenario is open: make one from runs in History, or open a bundle with several steps",
                )),
                Some(_) if running => Err(Unavailable::Because("something is running")),
                Some(_) if !has_plugin => Err(Unavailable::Because("open a plugin first")),
                Some(_) => Ok(()),
            },
            Self::Stop => check(running || wb.is_pulling(), "nothing is running"),
            Self::CheckForNewer => check_for_newer(wb),
            Self::FormatInput => check(
                wb.state().input.mode == InputMode::Json && wb.large_input().is_none(),
                "the editor is in Raw mode",
            ),
            Self::RecordExpected => check(last.is_some(), "run first"),
            Self::AddRunToSuite => match wb.suite_plugin_file() {
                _ if last.is_none() => Err(Unavailable::Because(
                    "run first: the last run becomes the test",
                )),
                Ok(_) => Ok(()),
                Err(why) => Err(Unavailable::Suite(why)),
            },
            Self::RunXtp => check(has_plugin, "open the plugin to test first"),
            Self::FindLimits => match wb.run_blocker() {
                Some(why) => Err(Unavailable::Run(why)),
                None if app
                    .workbench
                    .limit_search()
                    .is_some_and(crate::workbench::limits::LimitJob::is_running) =>
                {
                    Err(Unavailable::Because("a search is running"))
                }
                None => Ok(()),
            },
            Self::ShowCoredump | Self::SaveCoredump => check(
                wb.coredump().is_some(),
                "the last run did not trap (wasmtime writes a coredump only for a trap)",
            ),
            Self::ClearExpected => check(
                wb.state().expected.is_some(),
                "no expected outcome is recorded",
            ),
            Self::EnableWasi => check(
                !wb.state().options.wasi && wb.session().is_some_and(|s| s.inspection().needs_wasi),
                "WASI is on, or the plugin does not import it",
            ),
        }
    }

    /// The command the action sends.
    pub fn command(&self) -> Command {
        use workbench::Command as Wb;
        match self {
            Self::NewPlugin => super::ui::NewPluginCommand::Show.into(),
            Self::Build => Command::Build,
            Self::StopBuild => Wb::StopBuild.into(),
            Self::OpenPlugin => Command::Dialog(DialogPurpose::OpenPlugin),
            Self::ImportManifest => Command::Dialog(DialogPurpose::ImportManifest),
            Self::OpenSession => Command::Dialog(DialogPurpose::OpenSession),
            Self::OpenSample(sample) => Wb::Open(Source::Sample(sample)).into(),
            Self::OpenRecent(path) => Wb::Open(Source::Path(path.clone())).into(),
            Self::OpenFromRegistry => Command::ShowRegistryDialog,
            Self::OpenRecentReference(reference) => Wb::OpenFromRegistry {
                reference: reference.clone(),
                login: None,
                plain_http: None,
            }
            .into(),
            Self::CheckForNewer => Wb::CheckForNewer.into(),
            Self::Reload => Wb::Reload.into(),
            Self::SaveSession => Command::SaveSession,
            Self::SaveSessionAs => Command::Dialog(DialogPurpose::SaveSession { embed: false }),
            Self::SaveBundleAs => Command::Dialog(DialogPurpose::SaveSession { embed: true }),
            Self::ExportManifest => Command::Dialog(DialogPurpose::ExportManifest),
            Self::ExportHostCode => Command::ShowExportCode,
            Self::TrustedFiles => Command::ShowTrustedFiles,
            Self::LoadInput => Command::Dialog(DialogPurpose::LoadInput),
            Self::ClearLargeInput => Wb::ClearLargeInput.into(),
            Self::SaveOutput => Command::Dialog(DialogPurpose::SaveOutput),
            Self::CopyOutput => Command::CopyOutput,
            Self::CopyError => Command::CopyError,
            Self::ClearLogs => Wb::ClearLogs.into(),
            Self::Quit => Command::Quit,
            Self::Run => Wb::Run.into(),
            Self::Bench => Wb::RunBench.into(),
            Self::Stop => Wb::Stop.into(),
            Self::Reset => Wb::ResetInstance.into(),
            Self::FormatInput => Wb::FormatInput.into(),
            Self::RecordExpected => Wb::RecordExpected.into(),
            Self::ClearExpected => Wb::ClearExpected.into(),
            Self::EnableWasi => Wb::EnableWasi.into(),
            Self::RunScenario => Wb::RunScenario.into(),
            Self::OpenSuite => Command::Dialog(DialogPurpose::OpenSuite),
            Self::AddRunToSuite => Command::Dialog(DialogPurpose::AddRunToSuite),
            Self::RunXtp => Command::Dialog(DialogPurpose::RunXtp),
            Self::FindLimits => workbench::Command::Limits(workbench::LimitCommand::Find).into(),
            Self::ShowCoredump => Postmortem::ShowCoredump.into(),
            Self::SaveCoredump => Command::Dialog(DialogPurpose::SaveCoredump),
            Self::Theme(choice) => Command::SetTheme(*choice),
        }
    }

    /// The tooltip with the shortcut, as shown on hover.
    pub fn hover_text(&self, ctx: &egui::Context) -> String {
        match self.shortcut() {
            Some(s) => format!("{} ({})", self.tooltip(), ctx.format_shortcut(&s)),
            None => self.tooltip(),
        }
    }

    /// A menu entry showing the shortcut, greyed with the reason when unavailable; clicking
    /// it closes the menu and sends the command.
    pub fn menu_item(&self, ui: &mut egui::Ui, app: &mut App) {
        let availability = self.availability(app);
        let mut button = egui::Button::new(self.label());
        if let Some(s) = self.shortcut() {
            button = button.shortcut_text(ui.ctx().format_shortcut(&s));
        }
        let response = ui
            .add_enabled(availability.is_ok(), button)
            .on_hover_text(self.tooltip())
            .on_disabled_hover_text(
                availability
                    .err()
                    .map(|why| why.to_string())
                    .unwrap_or_default(),
            );
        if response.clicked() {
            ui.close();
            app.send(self.command());
        }
    }

    /// A toolbar button with the tooltip and shortcut on hover, greyed with the reason when
    /// unavailable. `text` overrides how the label looks.
    pub fn button(
        &self,
        ui: &mut egui::Ui,
        app: &mut App,
        text: Option<egui::RichText>,
    ) -> egui::Response {
        let availability = self.availability(app);
        let text = text.unwrap_or_else(|| egui::RichText::new(self.label()));
        let response = ui
            .add_enabled(availability.is_ok(), egui::Button::new(text))
            .on_hover_text(self.hover_text(ui.ctx()))
            .on_disabled_hover_text(
                availability
                    .err()
                    .map(|why| why.to_string())
                    .unwrap_or_default(),
            );
        if response.clicked() {
            app.send(self.command());
        }
        response
    }
}

/// `Ok` when `ok`, else unavailable for `why`.
fn check(ok: bool, why: &'static str) -> Result<(), Unavailable> {
    if ok {
        Ok(())
    } else {
        Err(Unavailable::Because(why))
    }
}

/// Whether "Check for newer" can ask the registry now.
fn check_for_newer(wb: &crate::workbench::Workbench) -> Result<(), Unavailable> {
    match wb.session().and_then(|s| s.plugin().registry_pin()) {
        None => Err(Unavailable::Because(
            "the open plugin was not pulled from a registry",
        )),
        Some(pin) if pin.tag_reference().is_none() => Err(Unavailable::Because(
            "it was opened by digest: there is no tag to check",
        )),
        Some(_)
            if matches!(
                wb.newer(),
                Some(crate::workbench::registry::NewerCheck::Checking { .. })
            ) =>
        {
            Err(Unavailable::Because("already asking the registry"))
        }
        Some(_) => Ok(()),
    }
}
