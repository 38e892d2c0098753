//! What the UI can ask for. Widgets push a [`Command`]; `App::apply` carries them out once per
//! frame, after layout. [`Action`] owns each user-facing action's label, tooltip and shortcut so
//! menus, buttons and keys cannot drift apart.

use std::path::PathBuf;

use egui::{Key, KeyboardShortcut, Modifiers};

/// A request from the UI, applied after layout.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    OpenDialog,
    OpenPath(PathBuf),
    OpenSample(&'static str),
    Reload,
    Run,
    Stop,
    ResetInstance,
    SelectFunction(String),
    FormatInput,
    LoadInputDialog,
    SaveOutputDialog,
    CopyOutput,
    CopyError,
    ClearLogs,
    /// Turn WASI on (offered when a plugin needs it).
    EnableWasi,
    PickAllowedPathDir(usize),
    OpenSessionDialog,
    /// Save to the session's file (asks where the first time).
    SaveSession,
    SaveSessionAs,
    /// Save a self-contained bundle (plugin embedded).
    SaveBundleAs,
    ExportManifestDialog,
    RecordExpected,
    ClearExpected,
    ShowExportCode,
    /// Call the function `bench_loops` times on the warm instance.
    RunBench,
    ClearLargeInput,
}

/// A user-facing action with a label, a tooltip and maybe a shortcut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Open,
    OpenSession,
    SaveSession,
    Reload,
    Run,
    Stop,
    Reset,
    FormatInput,
}

impl Action {
    pub const ALL: [Self; 8] = [
        Self::Open,
        Self::OpenSession,
        Self::SaveSession,
        Self::Reload,
        Self::Run,
        Self::Stop,
        Self::Reset,
        Self::FormatInput,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open plugin…",
            Self::OpenSession => "Open session or bundle…",
            Self::SaveSession => "Save session",
            Self::Reload => "Reload plugin",
            Self::Run => "▶ Run",
            Self::Stop => "⏹ Stop",
            Self::Reset => "Reset instance",
            Self::FormatInput => "Format JSON",
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            Self::Open => "Open a .wasm module or an Extism manifest (JSON)",
            Self::OpenSession => {
                "Open a saved session or repro bundle: plugin, options, input and expected output"
            }
            Self::SaveSession => {
                "Save plugin (by path), options, host data, function, input and expected output"
            }
            Self::Reload => "Read the plugin file again",
            Self::Run => "Call the selected function with the input",
            Self::Stop => "Stop the running call",
            Self::Reset => "Discard the warm instance: the next call starts fresh",
            Self::FormatInput => "Pretty-print the JSON input",
        }
    }

    pub fn shortcut(self) -> Option<KeyboardShortcut> {
        let ctrl = Modifiers::COMMAND;
        Some(match self {
            Self::Open => KeyboardShortcut::new(ctrl, Key::O),
            Self::OpenSession => KeyboardShortcut::new(ctrl | Modifiers::SHIFT, Key::O),
            Self::SaveSession => KeyboardShortcut::new(ctrl, Key::S),
            Self::Reload => KeyboardShortcut::new(ctrl, Key::R),
            Self::Run => KeyboardShortcut::new(ctrl, Key::Enter),
            Self::Stop => KeyboardShortcut::new(Modifiers::NONE, Key::Escape),
            Self::Reset => KeyboardShortcut::new(ctrl | Modifiers::SHIFT, Key::R),
            Self::FormatInput => KeyboardShortcut::new(ctrl | Modifiers::SHIFT, Key::F),
        })
    }

    pub fn command(self) -> Command {
        match self {
            Self::Open => Command::OpenDialog,
            Self::OpenSession => Command::OpenSessionDialog,
            Self::SaveSession => Command::SaveSession,
            Self::Reload => Command::Reload,
            Self::Run => Command::Run,
            Self::Stop => Command::Stop,
            Self::Reset => Command::ResetInstance,
            Self::FormatInput => Command::FormatInput,
        }
    }

    /// The tooltip with the shortcut, as shown on hover.
    pub fn hover_text(self, ctx: &egui::Context) -> String {
        match self.shortcut() {
            Some(s) => format!("{} ({})", self.tooltip(), ctx.format_shortcut(&s)),
            None => self.tooltip().to_string(),
        }
    }

    /// A menu entry showing the shortcut; clicking it closes the menu.
    pub fn menu_button(self, ui: &mut egui::Ui, enabled: bool) -> Option<Command> {
        let mut button = egui::Button::new(self.label());
        if let Some(s) = self.shortcut() {
            button = button.shortcut_text(ui.ctx().format_shortcut(&s));
        }
        let response = ui
            .add_enabled(enabled, button)
            .on_hover_text(self.tooltip());
        response.clicked().then(|| {
            ui.close();
            self.command()
        })
    }

    /// A toolbar button with the tooltip and shortcut on hover.
    pub fn button(self, ui: &mut egui::Ui, enabled: bool) -> Option<Command> {
        let hover = self.hover_text(ui.ctx());
        ui.add_enabled(enabled, egui::Button::new(self.label()))
            .on_hover_text(hover)
            .clicked()
            .then(|| self.command())
    }
}
