//! What the window's widgets can ask for. A [`Command`] is either a request to the workbench or
//! something only the window does (a file dialog, the clipboard, the theme, a draft's field);
//! `App::run_command` applies them once per frame, after layout. A file dialog's answer is a
//! command too: [`DialogPurpose::answer`] says which, for every purpose.

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
    /// Put a picked file in the host-function editor's mock-host field (nothing if the editor
    /// closed meanwhile).
    PickedMockHost(PathBuf),
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
    /// Put a picked folder in the source-map editor's local folder (nothing if it closed
    /// meanwhile).
    PickedSourceFolder(PathBuf),
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

    /// What the path the user picked becomes: a request to the workbench, or the field of the
    /// draft it was picked for. A dialog that was cancelled or failed (no portal, no zenity)
    /// answers nothing, so what was typed stays.
    pub fn answer(self, path: PathBuf) -> Command {
        use workbench::{Command as Wb, TestCommand};
        match self {
            Self::OpenPlugin | Self::ImportManifest | Self::OpenSession => {
                Wb::Open(Source::Path(path)).into()
            }
            Self::LoadInput => Wb::LoadInput(path).into(),
            Self::SaveOutput => Wb::SaveOutput(path).into(),
            Self::PickAllowedPathDir(index) => Wb::SetAllowedPathHost { index, host: path }.into(),
            Self::SaveSession { embed } => Wb::SaveSession { path, embed }.into(),
            Self::ExportManifest => Wb::ExportManifest(path).into(),
            Self::AddRunToSuite => Wb::AddRunToSuite(path).into(),
            Self::SaveCoredump => Wb::SaveCoredump(path).into(),
            Self::OpenSuite => TestCommand::OpenSuite { path, trust: false }.into(),
            Self::RunXtp => TestCommand::RunXtp(path).into(),
            Self::PickMockHost => Command::PickedMockHost(path),
            Self::PickSourceFolder => Postmortem::PickedSourceFolder(path).into(),
            Self::PickNewPluginFolder => NewPluginCommand::Folder(path).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_answers_with_the_command_its_path_is_for() {
        let path = PathBuf::from("/picked");
        let answer = |purpose: DialogPurpose| purpose.answer(path.clone());
        let wb = |command: workbench::Command| Command::Workbench(command);
        assert_eq!(
            answer(DialogPurpose::OpenSession),
            wb(workbench::Command::Open(Source::Path(path.clone())))
        );
        assert_eq!(
            answer(DialogPurpose::OpenSuite),
            wb(workbench::Command::Tests(
                workbench::TestCommand::OpenSuite {
                    path: path.clone(),
                    trust: false
                }
            ))
        );
        assert_eq!(
            answer(DialogPurpose::RunXtp),
            wb(workbench::Command::Tests(workbench::TestCommand::RunXtp(
                path.clone()
            )))
        );
        assert_eq!(
            answer(DialogPurpose::PickMockHost),
            Command::PickedMockHost(path.clone())
        );
        assert_eq!(
            answer(DialogPurpose::PickSourceFolder),
            Command::Postmortem(Postmortem::PickedSourceFolder(path.clone()))
        );
        assert_eq!(
            answer(DialogPurpose::PickNewPluginFolder),
            Command::NewPlugin(NewPluginCommand::Folder(path.clone()))
        );
    }
}
