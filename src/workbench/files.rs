//! The workbench commands that read or write files: input loaded from a file, output saved,
//! sessions and bundles saved, the Extism manifest exported. Every failure says what failed and
//! what to do, and nothing in the workbench is lost by it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use poll_promise::Promise;

use crate::bundle::{self, Bundle, BundleError, ExpectedOutcome};
use crate::platform::files::{self, FileKind, ReadError};

use super::notice::{NoSuiteFile, Notice, TestAdded};
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
        self.say(Notice::LoadingInput(path.to_path_buf()));
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
            Err(e) => self.say(Notice::InputNotLoaded(Arc::new(e))),
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
                self.say(Notice::InputLoaded(path.to_path_buf()));
            }
            other => {
                let bytes =
                    other.map_or_else(std::string::FromUtf8Error::into_bytes, String::into_bytes);
                let size = bytes.len();
                self.set_large_input(&name, bytes);
                self.say(Notice::LargeInputLoaded { bytes: size, name });
            }
        }
    }

    /// Saves the last run's whole output.
    pub(super) fn save_output(&mut self, path: &Path) {
        let Some(last) = self.last() else {
            return self.say(Notice::NoOutputYet);
        };
        let len = last.report.output.len();
        match files::write_atomically(path, &last.report.output) {
            Ok(()) => self.say(Notice::OutputSaved {
                bytes: len,
                path: path.to_path_buf(),
            }),
            Err(e) => self.say(Notice::OutputNotSaved {
                path: path.to_path_buf(),
                error: Arc::new(e),
            }),
        }
    }

    /// Writes the trap's coredump to `path`.
    pub(super) fn save_coredump(&mut self, path: &Path) {
        let Some(dump) = self.coredump().cloned() else {
            return self.say(Notice::NoCoredump);
        };
        match files::write_private(path, &dump) {
            Ok(()) => self.say(Notice::CoredumpSaved {
                bytes: dump.len(),
                path: path.to_path_buf(),
            }),
            Err(e) => self.say(Notice::CoredumpNotSaved {
                path: path.to_path_buf(),
                error: Arc::new(e),
            }),
        }
    }

    /// Saves the current scenario: a session (the plugin by path) or, with `embed`, a
    /// self-contained bundle. Secret values are included only when the user said so.
    pub(super) fn save_session(&mut self, path: &Path, embed: bool) {
        match self.write_session(path, embed) {
            Ok(()) => self.say(Notice::SessionSaved {
                path: path.to_path_buf(),
                embed,
                secrets_left_out: !self.state.bundle_secrets && !self.state.host.secrets.is_empty(),
                with_coredump: embed && self.state.bundle_coredump && self.coredump().is_some(),
            }),
            Err(e) => self.say(Notice::SessionNotSaved(Arc::new(e))),
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
            return self.say(Notice::NoPluginToExport);
        };
        let manifest = session.plugin().to_manifest(&self.state.options, false);
        let json = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
        match files::write_atomically(path, json.as_bytes()) {
            Ok(()) => {
                self.record_saved(path, json.as_bytes());
                self.say(Notice::ManifestExported(path.to_path_buf()));
            }
            Err(e) => self.say(Notice::ManifestNotExported {
                path: path.to_path_buf(),
                error: Arc::new(e),
            }),
        }
    }
}

impl Workbench {
    /// The module file a suite of the open plugin would name, or why there is none.
    pub fn suite_plugin_file(&self) -> Result<&Path, NoSuiteFile> {
        let session = self.session().ok_or(NoSuiteFile::NoPlugin)?;
        match &session.plugin().main().origin {
            crate::runner::source::ModuleOrigin::File(file) => Ok(file),
            _ => Err(NoSuiteFile::NotAFile),
        }
    }

    /// Appends the last run to the suite file at `path` (a new file starts with a `[plugin]`
    /// table for the open plugin and its options) as a one-step test expecting what the run
    /// did.
    pub(super) fn add_run_to_suite(&mut self, path: &Path) {
        let Some(last) = self.last() else {
            return self.say(Notice::NoRunForSuite);
        };
        let plugin = match self.suite_plugin_file() {
            Ok(plugin) => plugin,
            Err(why) => return self.say(Notice::NoFileForSuite(why)),
        };
        // The history holds what the last run was given (the editor may have moved on since).
        let Some(run) = self.history().runs().next_back() else {
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
                self.say(Notice::TestAdded(TestAdded {
                    name: added.name,
                    suite: path.to_path_buf(),
                    warm,
                    written: added.written,
                    notes: added.notes,
                }));
            }
            Err(e) => self.say(Notice::TestNotAdded(Arc::new(e))),
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
        self.say(Notice::SuiteTestOpened {
            test: case.name.clone(),
            suite: suite.name(),
            step,
            steps: case.steps.len(),
        });
    }
}
