//! Sessions and bundles in the window: open and save them, record the expected output, export
//! the manifest and host code. The file format itself lives in [`crate::bundle`].

use std::path::Path;

use super::command::Command;
use super::state::{InputDraft, InputMode, PluginRef};
use super::{App, DialogPurpose, Loaded};
use crate::bundle::{self, Bundle, BundleError, ExpectedOutcome, Scenario};
use crate::runner::Inspection;

impl App {
    pub(crate) fn apply_session_command(&mut self, ctx: &egui::Context, command: &Command) {
        match command {
            Command::OpenSessionDialog => {
                self.open_dialog(
                    ctx,
                    DialogPurpose::OpenSession,
                    &[("Sessions and bundles", &["json"])],
                );
            }
            Command::SaveSession => match self.state.session_path.clone() {
                Some(path) => self.save_and_report(&path, false),
                None => self.save_dialog(
                    ctx,
                    DialogPurpose::SaveBundle { embed: false },
                    self.suggested_name("session"),
                ),
            },
            Command::SaveSessionAs => {
                self.save_dialog(
                    ctx,
                    DialogPurpose::SaveBundle { embed: false },
                    self.suggested_name("session"),
                );
            }
            Command::SaveBundleAs => {
                self.save_dialog(
                    ctx,
                    DialogPurpose::SaveBundle { embed: true },
                    self.suggested_name("bundle"),
                );
            }
            Command::ExportManifestDialog => {
                self.save_dialog(
                    ctx,
                    DialogPurpose::ExportManifest,
                    self.suggested_name("manifest"),
                );
            }
            Command::RecordExpected => {
                if let Some(last) = &self.last {
                    let expected = ExpectedOutcome::of(&last.report);
                    let what = match &expected {
                        ExpectedOutcome::Output(bytes) => {
                            format!("{} bytes of output", bytes.len())
                        }
                        ExpectedOutcome::Error(kind) => format!("a {kind} error"),
                    };
                    self.state.expected = Some(expected);
                    self.refresh_verdict();
                    self.set_status(format!("Recorded the expected outcome: {what}"), false);
                }
            }
            Command::ClearExpected => {
                self.state.expected = None;
                self.refresh_verdict();
            }
            Command::ShowExportCode => self.show_export = true,
            _ => {}
        }
    }

    fn suggested_name(&self, kind: &str) -> String {
        let stem = self.loaded.as_ref().map_or("plugin", |l| {
            l.plugin
                .display_name
                .trim_end_matches(".wasm")
                .trim_end_matches(".json")
        });
        format!("{stem}-{}.{kind}.json", self.state.function)
    }

    pub(crate) fn finish_session_dialog(&mut self, purpose: &DialogPurpose, path: &Path) {
        match purpose {
            DialogPurpose::OpenSession => self.open_bundle(path, true),
            DialogPurpose::SaveBundle { embed } => self.save_and_report(path, *embed),
            DialogPurpose::ExportManifest => match self.export_manifest(path) {
                Ok(()) => self.set_status(
                    format!("Exported the Extism manifest to {}", path.display()),
                    false,
                ),
                Err(e) => self.set_status(e.clone(), true),
            },
            _ => {}
        }
    }

    fn save_and_report(&mut self, path: &Path, embed: bool) {
        match self.save_bundle(path, embed) {
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
            Err(e) => self.set_status(format!("{e}"), true),
        }
    }

    /// A hash of everything the exported host code depends on.
    pub(crate) fn export_key(&self) -> Option<u64> {
        use std::hash::{Hash as _, Hasher as _};
        let loaded = self.loaded.as_ref()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for m in &loaded.plugin.modules {
            m.sha256.hash(&mut h);
        }
        format!("{:?}", self.state.options).hash(&mut h);
        self.state.function.hash(&mut h);
        self.state.host.kv.hash(&mut h);
        match &self.large_input {
            Some(large) => (std::sync::Arc::as_ptr(&large.bytes) as usize).hash(&mut h),
            None => self.state.input.text.hash(&mut h),
        }
        Some(h.finish())
    }

    /// Everything needed to replay what the window shows now.
    pub fn scenario(&self) -> Option<Scenario> {
        let loaded = self.loaded.as_ref()?;
        Some(Scenario {
            plugin: loaded.plugin.clone(),
            options: self.state.options.clone(),
            keep_state: self.state.keep_state,
            host: self.state.host.clone(),
            function: self.state.function.clone(),
            input: self.input_bytes().as_ref().clone(),
            input_mode: Some(match self.state.input.mode {
                InputMode::Json => "json".to_string(),
                InputMode::Raw => "raw".to_string(),
            }),
            expected: self.state.expected.clone(),
        })
    }

    /// Saves the current scenario: a session (the plugin by path) or, with `embed`, a
    /// self-contained bundle. Secret values are included only when the user said so.
    pub fn save_bundle(&mut self, path: &Path, embed: bool) -> Result<(), BundleError> {
        let Some(scenario) = self.scenario() else {
            return Err(BundleError::Invalid {
                name: path.display().to_string(),
                detail: "no plugin is open".to_string(),
            });
        };
        bundle::save(
            path,
            &Bundle::new(&scenario, embed, self.state.bundle_secrets),
        )?;
        self.state.session_path = Some(path.to_path_buf());
        self.state.remember_session(path.to_path_buf());
        Ok(())
    }

    fn export_manifest(&self, path: &Path) -> Result<(), String> {
        let loaded = self.loaded.as_ref().ok_or("no plugin is open")?;
        let manifest = loaded.plugin.to_manifest(&self.state.options, false);
        let json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
        bundle::write_atomically(path, json.as_bytes())
            .map_err(|e| format!("Cannot write {}: {e}", path.display()))
    }

    /// Opens a session or bundle. With `fresh`, its options, host data, function, input and
    /// expected outcome replace the current ones (on restart only the plugin is re-read).
    pub(crate) fn open_bundle(&mut self, path: &Path, fresh: bool) {
        self.open_loaded_bundle(path, bundle::load(path), fresh);
    }

    /// Installs a bundle read from `path` (see [`Self::open_bundle`]), or says why not.
    pub(crate) fn open_loaded_bundle(
        &mut self,
        path: &Path,
        loaded: Result<Scenario, BundleError>,
        fresh: bool,
    ) {
        let scenario = match loaded {
            Ok(s) => s,
            Err(e) => {
                let message = e.to_string();
                self.load_error = Some(message.clone());
                self.set_status(message, true);
                return;
            }
        };
        let inspection =
            match Inspection::of(&scenario.plugin.display_name, &scenario.plugin.main().bytes) {
                Ok(i) => i,
                Err(e) => {
                    self.load_error = Some(e.to_string());
                    self.set_status(format!("Could not open {}: {e}", path.display()), true);
                    return;
                }
            };
        self.stash_input();
        self.state.plugin = PluginRef::Bundle(path.to_path_buf());
        self.state.session_path = Some(path.to_path_buf());
        self.state.remember_session(path.to_path_buf());
        let function = scenario.function.clone();
        self.install(Loaded {
            plugin: scenario.plugin,
            inspection,
            stamps: Vec::new(),
        });
        if !fresh {
            return;
        }
        self.state.options = scenario.options;
        self.state.keep_state = scenario.keep_state;
        self.state.host.kv = scenario.host.kv;
        // Secrets saved without values are unset (get_secret says so), unless one was typed
        // here under the same name.
        for (name, value) in scenario.host.secrets {
            if !value.is_empty() {
                self.state.host.secrets.insert(name, value);
            }
        }
        self.state.function = function;
        self.large_input = None;
        match String::from_utf8(scenario.input) {
            Ok(text) if text.len() < super::LARGE_INPUT_BYTES => {
                let mode = match scenario.input_mode.as_deref() {
                    Some("raw") => InputMode::Raw,
                    Some("json") => InputMode::Json,
                    _ if crate::app::view::check_json(&text).is_ok() => InputMode::Json,
                    _ => InputMode::Raw,
                };
                self.state.input = InputDraft { text, mode };
            }
            // Binary or big inputs are sent byte for byte, outside the editor.
            Ok(text) => self.set_large_input("the bundle's input", text.into_bytes()),
            Err(e) => self.set_large_input("the bundle's input", e.into_bytes()),
        }
        self.state.expected = scenario.expected;
        self.refresh_verdict();
        self.input_check = None;
        self.set_status(
            format!(
                "Opened {}: ready to run {}",
                path.display(),
                self.state.function
            ),
            false,
        );
    }
}
