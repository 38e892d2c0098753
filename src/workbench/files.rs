//! The workbench commands that read or write files: input loaded from a file, output saved,
//! sessions and bundles saved, the Extism manifest exported. Every failure says what failed and
//! what to do, and nothing in the workbench is lost by it.

use std::path::Path;

use crate::bundle::{self, Bundle, BundleError};

use super::view::check_json;
use super::{InputDraft, InputMode, LARGE_INPUT_BYTES, Workbench};

impl Workbench {
    /// Replaces the input with the file's contents: in the editor when it is text of a
    /// reasonable size, else sent byte for byte.
    pub(super) fn load_input(&mut self, path: &Path) {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                return self.set_status(
                    format!(
                        "Cannot read {}: {e}; check the file and its permissions, then load it again",
                        path.display()
                    ),
                    true,
                );
            }
        };
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match String::from_utf8(bytes) {
            Ok(text) if text.len() < LARGE_INPUT_BYTES => {
                let mode = if check_json(&text).is_ok() {
                    InputMode::Json
                } else {
                    InputMode::Raw
                };
                self.large_input = None;
                self.state.input = InputDraft { text, mode };
                self.set_status(format!("Input loaded from {}", path.display()), false);
            }
            other => {
                let bytes =
                    other.map_or_else(std::string::FromUtf8Error::into_bytes, String::into_bytes);
                let size = bytes.len();
                self.set_large_input(&name, bytes);
                self.set_status(
                    format!(
                        "Input: {size} bytes from {name}, sent byte for byte (not editable here)"
                    ),
                    false,
                );
            }
        }
    }

    /// Saves the last run's whole output.
    pub(super) fn save_output(&mut self, path: &Path) {
        let Some(last) = &self.last else {
            return self.set_status("There is no output to save yet: run first", true);
        };
        let len = last.report.output.len();
        match bundle::write_atomically(path, &last.report.output) {
            Ok(()) => self.set_status(format!("Saved {len} bytes to {}", path.display()), false),
            Err(e) => self.set_status(
                format!(
                    "Cannot save {}: {e}; the output is kept, save it to another folder or name",
                    path.display()
                ),
                true,
            ),
        }
    }

    /// Saves the current scenario: a session (the plugin by path) or, with `embed`, a
    /// self-contained bundle. Secret values are included only when the user said so.
    pub(super) fn save_session(&mut self, path: &Path, embed: bool) {
        match self.write_session(path, embed) {
            Ok(()) => {
                let what = if embed {
                    "bundle (plugin embedded)"
                } else {
                    "session"
                };
                let secrets_left_out =
                    !self.state.bundle_secrets && !self.state.host.secrets.is_empty();
                let note = if secrets_left_out {
                    " (secret values left out: replay with --secret NAME=VALUE, or turn on File, Include secret values)"
                } else {
                    ""
                };
                self.set_status(
                    format!("Saved the {what} to {}{note}", path.display()),
                    false,
                );
            }
            Err(e) => self.set_status(e.to_string(), true),
        }
    }

    fn write_session(&mut self, path: &Path, embed: bool) -> Result<(), BundleError> {
        let Some(scenario) = self.scenario() else {
            return Err(BundleError::Invalid {
                name: path.display().to_string(),
                detail: "no plugin is open; open one, then save".to_string(),
            });
        };
        let bytes = bundle::save(
            path,
            Bundle::new(&scenario, embed, self.state.bundle_secrets),
        )?;
        self.record_saved(path, &bytes);
        self.state.session_path = Some(path.to_path_buf());
        self.state.remember_session(path.to_path_buf());
        Ok(())
    }

    /// Records a file this app wrote, so opening it later asks nothing. A failure to record
    /// only means the user will be asked; it is said in the log, not in the way.
    fn record_saved(&self, path: &Path, bytes: &[u8]) {
        if let Err(e) = self.trust.record_saved(path, bytes) {
            tracing::warn!("{e}");
        }
    }

    /// Writes the plugin and its options as a plain Extism manifest.
    pub(super) fn export_manifest(&mut self, path: &Path) {
        let Some(session) = self.session() else {
            return self.set_status("No plugin is open: open one, then export", true);
        };
        let manifest = session.plugin().to_manifest(&self.state.options, false);
        let json = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
        match bundle::write_atomically(path, json.as_bytes()) {
            Ok(()) => {
                self.record_saved(path, json.as_bytes());
                self.set_status(
                    format!("Exported the Extism manifest to {}", path.display()),
                    false,
                );
            }
            Err(e) => self.set_status(
                format!(
                    "Cannot write {}: {e}; pick another folder or name",
                    path.display()
                ),
                true,
            ),
        }
    }
}
