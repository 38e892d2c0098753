//! What the window's widgets can ask for. A [`Command`] is either a request to the workbench or
//! something only the window does (a file dialog, the clipboard, the theme); `App::run_command`
//! applies them once per frame, after layout. A file dialog's answer becomes a workbench
//! command according to its [`DialogPurpose`].

use std::path::PathBuf;

use crate::workbench::{self, Source};

use super::state::ThemeChoice;
use super::ui::NewPluginCommand;

/// A request from the UI, applied after layout.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// For the workbench.
    Workbench(workbench::Command),
    /// Ask for a file or folder; the answer is used for `DialogPurpose`.
    Dialog(DialogPurpose),
    /// Save the session to the file it came from, or ask where the first time.
    SaveSession,
    CopyOutput,
    CopyError,
    ShowExportCode,
    /// Open the Trusted files window (reading the list as it is now).
    ShowTrustedFiles,
    /// Open the Open from registry dialog.
    ShowRegistryDialog,
    /// For the New plugin dialog (open it, fill its folder).
    NewPlugin(NewPluginCommand),
    /// Build the open plugin's crate, showing the Build tab.
    Build,
    SetTheme(ThemeChoice),
    /// Coredump, source view (see [`Postmortem`]).
    Postmortem(Postmortem),
    Quit,
}

/// What the window does to explain a failed call.
#[derive(Clone, Debug, PartialEq)]
pub enum Postmortem {
    /// Open the last trap's coredump in its window.
    ShowCoredump,
    /// Show a frame's source file around its line (read-only), or offer to map its path.
    OpenSource {
        file: String,
        line: u32,
        column: Option<u32>,
    },
    /// Map the prefix `from` of built paths to the local folder `to`.
    AddSourceMap {
        from: String,
        to: PathBuf,
    },
    RemoveSourceMap(usize),
}

impl From<Postmortem> for Command {
    fn from(command: Postmortem) -> Self {
        Self::Postmortem(command)
    }
}

impl From<NewPluginCommand> for Command {
    fn from(command: NewPluginCommand) -> Self {
        Self::NewPlugin(command)
    }
}

impl From<workbench::Command> for Command {
    fn from(command: workbench::Command) -> Self {
        Self::Workbench(command)
    }
}

impl From<workbench::TestCommand> for Command {
    fn from(command: workbench::TestCommand) -> Self {
        Self::Workbench(workbench::Command::Tests(command))
    }
}

/// What a file dialog's answer is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    OpenPlugin,
    ImportManifest,
    OpenSession,
    LoadInput,
    SaveOutput,
    /// The host directory of allowed path `index`.
    PickAllowedPathDir(usize),
    /// Save a session (`embed: false`: the plugin by path) or a self-contained bundle.
    SaveSession {
        embed: bool,
    },
    ExportManifest,
    /// The mock-host plugin of the host function being edited.
    PickMockHost,
    /// A test suite to open in the Tests window.
    OpenSuite,
    /// The suite file (existing or new) the last run goes into.
    AddRunToSuite,
    /// An xtp-test plugin to run against the open plugin.
    RunXtp,
    /// Where the last trap's coredump goes.
    SaveCoredump,
    /// The local folder a built path prefix stands for (in the source-map editor).
    PickSourceFolder,
    /// The folder a new plugin's crate goes into (in the New plugin dialog).
    PickNewPluginFolder,
}

/// What kind of dialog a purpose needs.
pub enum DialogKind {
    /// Pick an existing file, offering these filters.
    Open(&'static [(&'static str, &'static [&'static str])]),
    /// Name a file to write, suggesting this name.
    Save {
        suggested: String,
        json: bool,
    },
    PickFolder,
}

impl DialogPurpose {
    /// The dialog to show; `suggested` names the file a save dialog proposes, given its
    /// ending.
    pub fn kind(&self, suggested: impl FnOnce(&str) -> String) -> DialogKind {
        const PLUGINS: &[(&str, &[&str])] = &[("Plugins", &["wasm", "json"])];
        const MANIFESTS: &[(&str, &[&str])] = &[("Extism manifests", &["json"])];
        const SESSIONS: &[(&str, &[&str])] = &[("Sessions and bundles", &["json"])];
        match self {
            Self::OpenPlugin => DialogKind::Open(PLUGINS),
            Self::ImportManifest => DialogKind::Open(MANIFESTS),
            Self::OpenSession => DialogKind::Open(SESSIONS),
            Self::LoadInput => DialogKind::Open(&[]),
            Self::SaveOutput => DialogKind::Save {
                suggested: suggested("-output.bin"),
                json: false,
            },
            Self::PickAllowedPathDir(_) | Self::PickSourceFolder | Self::PickNewPluginFolder => {
                DialogKind::PickFolder
            }
            Self::SaveSession { embed: false } => DialogKind::Save {
                suggested: suggested(".session.json"),
                json: true,
            },
            Self::SaveSession { embed: true } => DialogKind::Save {
                suggested: suggested(".bundle.json"),
                json: true,
            },
            Self::ExportManifest => DialogKind::Save {
                suggested: suggested(".manifest.json"),
                json: true,
            },
            Self::PickMockHost | Self::RunXtp => DialogKind::Open(&[("WebAssembly", &["wasm"])]),
            Self::OpenSuite => DialogKind::Open(&[("Test suites and bundles", &["toml", "json"])]),
            Self::AddRunToSuite => DialogKind::Save {
                suggested: suggested(".suite.toml"),
                json: false,
            },
            Self::SaveCoredump => DialogKind::Save {
                suggested: suggested(".coredump"),
                json: false,
            },
        }
    }

    /// What the workbench does with the path the user picked (`None`: the window keeps it).
    pub fn answer(self, path: PathBuf) -> Option<workbench::Command> {
        Some(match self {
            Self::OpenPlugin | Self::ImportManifest | Self::OpenSession => {
                workbench::Command::Open(Source::Path(path))
            }
            Self::LoadInput => workbench::Command::LoadInput(path),
            Self::SaveOutput => workbench::Command::SaveOutput(path),
            Self::PickAllowedPathDir(index) => {
                workbench::Command::SetAllowedPathHost { index, host: path }
            }
            Self::SaveSession { embed } => workbench::Command::SaveSession { path, embed },
            Self::ExportManifest => workbench::Command::ExportManifest(path),
            Self::AddRunToSuite => workbench::Command::AddRunToSuite(path),
            Self::SaveCoredump => workbench::Command::SaveCoredump(path),
            Self::PickMockHost
            | Self::OpenSuite
            | Self::RunXtp
            | Self::PickSourceFolder
            | Self::PickNewPluginFolder => {
                return None;
            }
        })
    }
}
