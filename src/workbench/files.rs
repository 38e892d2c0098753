//! The workbench commands that read or write files: input loaded from a file, output saved,
//! sessions and bundles saved, the Extism manifest exported. Every failure says what failed and
//! what to do, and nothing in the workbench is lost by it.

use std::path::{Path, PathBuf};

use poll_promise::Promise;

use crate::bundle::{self, Bundle, BundleError, ExpectedOutcome};
use crate::platform::files::{self, FileKind, ReadError};

use super::view::check_json;
use super::{InputDraft, InputMode, LARGE_INPUT_BYTES, Workbench};
use crate::open::PluginRef;

/// An input file being read on a background thread.
pub(super) struct InputLoad {
    path: PathBuf,
    job: Promise<Result<Vec<u8>, ReadError>>,
}

impl Workbench {
    /// Starts reading an input file (on a thread of its own: it may be large, or not a file at
    /// all); [`Self::poll_input_load`] puts it in place.
    pub(super) fn load_input(&mut self, path: &Path) {
        let wake = std::sync::Arc::clone(&self.wake);
        let reading = path.to_path_buf();
        let job = Promise::spawn_thread("read-input", move || {
            let read = files::read(&reading, FileKind::Input);
            wake();
            read
        });
        self.set_status(format!("Loading the input from {}…", path.display()), false);
        self.input_load = Some(InputLoad {
            path: path.to_path_buf(),
            job,
        });
    }

    /// Whether an input file is being read.
    pub fn is_loading_input(&self) -> bool {
        self.input_load.is_some()
    }

    pub(super) fn poll_input_load(&mut self) {
        if self
            .input_load
            .as_ref()
            .is_none_or(|load| load.job.ready().is_none())
        {
            return;
        }
        let Some(InputLoad { path, job }) = self.input_load.take() else {
            return;
        };
        match job.block_and_take() {
            Ok(bytes) => self.put_input(&path, bytes),
            Err(e) => self.set_status(format!("{e}; the input was not changed"), true),
        }
    }

    /// Replaces the input with a file's contents: in the editor when it is text of a
    /// reasonable size, else sent byte for byte.
    fn put_input(&mut self, path: &Path, bytes: Vec<u8>) {
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
        match files::write_atomically(path, &last.report.output) {
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

    /// Writes the trap's coredump to `path`.
    pub(super) fn save_coredump(&mut self, path: &Path) {
        let Some(dump) = self.coredump().cloned() else {
            return self.set_status("There is no coredump: the last run did not trap", true);
        };
        match files::write_private(path, &dump) {
            Ok(()) => self.set_status(
                format!(
                    "Saved the coredump to {} ({} bytes; it holds the plugin's memory, so it may hold secrets)",
                    path.display(),
                    dump.len()
                ),
                false,
            ),
            Err(e) => self.set_status(
                format!(
                    "Cannot save the coredump to {}: {e}; save it to another folder or name",
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
                let mut note = if secrets_left_out {
                    " (secret values left out: replay with --secret NAME=VALUE, or turn on File, Include secret values)"
                } else {
                    ""
                }
                .to_string();
                if embed && self.state.bundle_coredump && self.coredump().is_some() {
                    note.push_str(
                        "; it carries the trap's coredump, which holds the plugin's memory",
                    );
                }
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
        let mut file = Bundle::new(&scenario, embed, self.state.bundle_secrets);
        if embed
            && self.state.bundle_coredump
            && let Some(dump) = self.coredump()
        {
            file = file.with_coredump(dump);
        }
        let bytes = bundle::save(path, file)?;
        self.record_saved(path, &bytes);
        // Reopened in this run, it finds the secrets it was saved without again.
        let secrets = self.state.host.secrets.clone();
        self.state
            .set_secrets_aside_for(&PluginRef::Bundle(path.to_path_buf()), secrets);
        self.state.session_path = Some(path.to_path_buf());
        self.state.remember_session(path.to_path_buf());
        Ok(())
    }

    /// Records a file this app wrote, so opening it later asks nothing. A failure to record
    /// only means the user will be asked; it is said in the log, not in the way.
    fn record_saved(&self, path: &Path, bytes: &[u8]) {
        let Some(review) = crate::open::saved_review(path, bytes) else {
            return tracing::warn!("{} cannot be reviewed to be trusted", path.display());
        };
        if let Err(e) = self.trust.record_saved(&review) {
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
        match files::write_atomically(path, json.as_bytes()) {
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

impl Workbench {
    /// The module file a suite of the open plugin would name, or why there is none.
    pub fn suite_plugin_file(&self) -> Result<&Path, &'static str> {
        let session = self.session().ok_or("open a plugin first")?;
        match &session.plugin().main().origin {
            crate::runner::source::ModuleOrigin::File(file) => Ok(file),
            _ => Err(
                "the plugin has no file of its own (a sample, or embedded in a bundle), and a suite names its .wasm file: open the .wasm, then add the run",
            ),
        }
    }

    /// Appends the last run to the suite file at `path` (a new file starts with a `[plugin]`
    /// table for the open plugin and its options) as a one-step test expecting what the run
    /// did.
    pub(super) fn add_run_to_suite(&mut self, path: &Path) {
        let Some(last) = &self.last else {
            self.set_status("Run first: the last run is what goes into the suite", true);
            return;
        };
        let plugin = match self.suite_plugin_file() {
            Ok(plugin) => plugin,
            Err(why) => {
                let mut why = why.to_string();
                why[..1].make_ascii_uppercase();
                return self.set_status(why, true);
            }
        };
        // The history holds what the last run was given (the editor may have moved on since).
        let Some(run) = self.history.runs().next_back() else {
            return;
        };
        let expected = ExpectedOutcome::of(&last.report);
        let warm = !last.report.new_instance;
        let name = format!("{} {}", last.report.function, run.number);
        let test = crate::suite::edit::NewTest {
            name: &name,
            function: &last.report.function,
            input: &run.input,
            expected: &expected,
        };
        // The definitions the plugin is linked with (fitted to its imports), not every one.
        let linked = self.host_functions();
        let host_functions: Vec<_> = self
            .state
            .host_functions
            .iter()
            .filter(|d| {
                linked
                    .get(&d.module, &d.name)
                    .is_some_and(|f| d.enabled && f.implementation.is_user_defined())
            })
            .cloned()
            .collect();
        let suite = crate::suite::edit::SuitePlugin {
            wasm: plugin,
            options: &self.state.options,
            host_functions: &host_functions,
            kv: &run.kv_before,
        };
        match crate::suite::edit::append_test(path, &suite, &test) {
            Ok(added) => {
                // A suite this app created, or one already trusted, stays trusted with the test
                // added; one from someone else is not trusted for having a test added to it.
                let trusted_before = added.before.as_deref().is_none_or(|before| {
                    crate::suite::file::review_text(path, before)
                        .is_ok_and(|r| !r.needs_consent() || self.trust.trust(&r).is_some())
                });
                if trusted_before
                    && let Ok(review) = crate::suite::file::review_text(path, &added.text)
                    && let Err(e) = self.trust.record_saved(&review)
                {
                    tracing::warn!("{e}");
                }
                let mut said = format!(
                    "Added the test \"{}\" to {}: `extism-playground test {}` runs it",
                    added.name,
                    path.display(),
                    path.display(),
                );
                if warm {
                    said.push_str(" (this run was on a warm instance; the test starts on a fresh one, so if earlier calls shaped the output, add them as steps or make a scenario of them in History)");
                }
                if !added.written.is_empty() {
                    let files: Vec<String> = added
                        .written
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect();
                    said.push_str("; wrote ");
                    said.push_str(&files.join(", "));
                    said.push_str(" beside it");
                }
                for note in &added.notes {
                    said.push_str("; note: ");
                    said.push_str(&note.to_string());
                }
                self.set_status(said, false);
            }
            Err(e) => self.set_status(e.to_string(), true),
        }
    }

    /// Opens test `test` of `suite`: its plugin with the suite's options, host data and host
    /// functions; its steps as the scenario; and its first failing step (else its first) in the
    /// editor.
    pub fn open_suite_test(&mut self, suite: &crate::suite::Suite, test: usize, step: usize) {
        let Some(case) = suite.tests.get(test) else {
            return;
        };
        let scenario = crate::bundle::Scenario {
            plugin: suite.plugin.clone(),
            options: suite.options.clone(),
            keep_state: !case.fresh_instance,
            host: suite.host.clone(),
            host_functions: suite.host_functions.clone(),
            steps: case.steps.clone(),
        };
        let origin = match &suite.plugin.main().origin {
            crate::runner::source::ModuleOrigin::File(file) => PluginRef::File(file.clone()),
            _ => PluginRef::File(suite.path.clone()),
        };
        let opened = crate::open::Opened {
            origin,
            plugin: suite.plugin.clone(),
            inspection: suite.inspection.clone(),
            setup: crate::open::Setup::Scenario(Box::new(scenario)),
            watched: Vec::new(),
            grants: None,
            coredump: None,
            note: None,
        };
        self.install(opened, super::Intent::Fresh);
        // Named after the test, even with one step.
        let steps = case.steps.clone();
        self.set_scenario(case.name.clone(), steps, !case.fresh_instance);
        self.edit_scenario_step(step.min(case.steps.len().saturating_sub(1)));
        self.set_status(
            format!(
                "Opened the test \"{}\" of {}: its step {} is in the editor; Run all (Scenario tab) replays its {} steps",
                case.name,
                suite.name(),
                step + 1,
                case.steps.len()
            ),
            false,
        );
    }
}
