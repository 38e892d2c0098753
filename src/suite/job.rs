//! Test runs the window starts: a suite open in the window (loaded from its file, its tests'
//! statuses, and a run of all or one of them in the background: parallel workers, progress as
//! each test finishes, Stop), and an xtp-test plugin run against the plugin open in the
//! workbench ([`XtpJob`]). No UI here: the window's Tests windows read these and send
//! commands.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::file::{self, Consent, LoadOptions, SuiteError};
use super::report::Outcome;
use super::xtp::{self, XtpSuite};
use super::{Suite, TestResult};
use crate::platform::job::{Canceller, Job, Waker};
use crate::runner::{LogLevel, PluginUnderTest, WorkerConfig};

/// Where one test stands.
#[derive(Clone, Debug)]
pub enum TestStatus {
    NotRun,
    /// In the run under way, not finished yet.
    Queued,
    Done(Box<TestResult>),
}

/// A run in the background.
struct Running {
    job: Job<()>,
    /// Results as they come, drained by [`OpenSuite::poll`].
    arrived: Arc<Mutex<Vec<TestResult>>>,
    total: usize,
    done: usize,
}

/// A suite being loaded on a background thread: loading reads its file, its plugin and its
/// input files, none of which the window's thread reads.
pub struct LoadingSuite {
    pub path: PathBuf,
    job: Job<Box<OpenSuite>>,
}

impl LoadingSuite {
    /// Starts loading the suite at `path` (see [`OpenSuite::load`]); `wake` is called when it
    /// is loaded.
    pub fn start(
        path: &Path,
        consent: Consent,
        registry: crate::registry::Settings,
        wake: Waker,
    ) -> Self {
        let loading = path.to_path_buf();
        Self {
            path: path.to_path_buf(),
            job: Job::spawn("load-suite", wake, move |_| {
                Box::new(OpenSuite::load(&loading, consent, registry))
            }),
        }
    }

    /// The suite, once it is loaded; `Err` gives the loading back while it is not.
    ///
    /// # Errors
    /// Itself, while the suite is still loading.
    pub fn finish(self) -> Result<Box<OpenSuite>, Self> {
        let path = self.path;
        self.job.finish().map_err(|job| Self { path, job })
    }
}

/// A suite file open in the window.
pub struct OpenSuite {
    pub path: PathBuf,
    /// The suite, or why it could not be loaded.
    pub loaded: Result<Suite, SuiteError>,
    pub statuses: Vec<TestStatus>,
    /// The suite file's text as loaded (a TOML suite's, shown in the Tests window).
    pub source: Option<String>,
    running: Option<Running>,
}

impl OpenSuite {
    /// Loads the suite at `path` (`consent` decides its grants, as `test --trust` would;
    /// `registry` says how `oci://` plugins are pulled).
    pub fn load(path: &Path, consent: Consent, registry: crate::registry::Settings) -> Self {
        let loaded = file::load(
            path,
            &LoadOptions {
                plugin: None,
                consent,
                redirects: Vec::new(),
                registry,
            },
        );
        let statuses = loaded
            .as_ref()
            .map_or_else(|_| Vec::new(), |s| vec![TestStatus::NotRun; s.tests.len()]);
        let source = path
            .extension()
            .is_some_and(|e| e == "toml")
            .then(|| {
                crate::platform::files::read_text(path, crate::platform::files::FileKind::Suite)
                    .ok()
            })
            .flatten();
        Self {
            path: path.to_path_buf(),
            loaded,
            statuses,
            source,
            running: None,
        }
    }

    /// Whether the suite failed to load only because its grants need consent.
    pub fn needs_consent(&self) -> bool {
        matches!(self.loaded, Err(SuiteError::Consent { .. }))
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// How far the run is: tests finished and tests in it.
    pub fn progress(&self) -> Option<(usize, usize)> {
        self.running.as_ref().map(|r| (r.done, r.total))
    }

    /// Counts of passed and failed tests among those that ran (a stopped test is neither).
    pub fn tally(&self) -> (usize, usize) {
        self.statuses
            .iter()
            .fold((0, 0), |(passed, failed), status| match status {
                TestStatus::Done(r) if r.stopped => (passed, failed),
                TestStatus::Done(r) if r.passed() => (passed + 1, failed),
                TestStatus::Done(_) => (passed, failed + 1),
                _ => (passed, failed),
            })
    }

    /// Starts running `only` one test, or all of them, on `jobs` workers; `wake` is called as
    /// each finishes. Does nothing while a run is under way or when the suite did not load.
    pub fn run(&mut self, only: Option<usize>, jobs: usize, worker: WorkerConfig, wake: Waker) {
        if self.running.is_some() {
            return;
        }
        let Ok(suite) = &self.loaded else { return };
        let picked: Vec<(usize, usize)> = match only {
            Some(t) if t < suite.tests.len() => vec![(0, t)],
            Some(_) => return,
            None => (0..suite.tests.len()).map(|t| (0, t)).collect(),
        };
        for &(_, t) in &picked {
            self.statuses[t] = TestStatus::Queued;
        }
        let arrived = Arc::new(Mutex::new(Vec::new()));
        let total = picked.len();
        let suites = vec![suite.clone()];
        let sink = Arc::clone(&arrived);
        let job = Job::spawn("test suite", wake.clone(), move |stop| {
            let on_result = |result: &TestResult| {
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(result.clone());
                wake();
            };
            super::run(&suites, &picked, jobs, &worker, stop, &on_result);
        });
        self.running = Some(Running {
            job,
            arrived,
            total,
            done: 0,
        });
    }

    /// Stops the run (the tests running end as stopped; the queued ones do not start).
    pub fn stop(&self) {
        if let Some(running) = &self.running {
            running.job.stop();
        }
    }

    /// Takes in the results that arrived. Returns whether the run finished.
    pub fn poll(&mut self) -> bool {
        let Some(running) = &mut self.running else {
            return false;
        };
        let arrived: Vec<TestResult> = std::mem::take(
            &mut *running
                .arrived
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        running.done += arrived.len();
        for result in arrived {
            if let Some(status) = self.statuses.get_mut(result.test) {
                *status = TestStatus::Done(Box::new(result));
            }
        }
        if running.job.is_running() {
            return false;
        }
        self.running = None;
        for status in &mut self.statuses {
            if matches!(status, TestStatus::Queued) {
                *status = TestStatus::NotRun;
            }
        }
        true
    }
}

/// An xtp-test plugin run from the window against the plugin open in the workbench (its
/// options and host functions; the input editor's bytes as the harness's mock input).
pub struct XtpJob {
    /// The test plugin's file.
    pub path: PathBuf,
    /// The plugin under test, as the window names it.
    pub against: String,
    /// How many bytes `mock_input` returns, when the run has a mock input.
    pub mock_input: Option<usize>,
    /// Whether the run ended because it was stopped (its last failures are the stop's).
    pub stopped: bool,
    state: XtpState,
}

enum XtpState {
    Running(Job<Outcome>),
    Done(Outcome),
}

impl XtpJob {
    /// Starts running the test plugin at `path` against `under_test` in the background;
    /// `wake` is called when it ends. A test plugin or plugin under test that cannot be
    /// loaded ends the run with a load error, as `test --xtp` reports it.
    pub fn start(
        path: &Path,
        under_test: PluginUnderTest,
        worker: WorkerConfig,
        wake: Waker,
    ) -> Self {
        let against = under_test.plugin.display_name.clone();
        let mock_input = under_test.mock_input.as_ref().map(Vec::len);
        let test_path = path.to_path_buf();
        let job = Job::spawn("xtp test", wake, move |stop| {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_xtp(&test_path, under_test, worker, stop)
            }));
            run.unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("no message");
                Outcome {
                    suites: Vec::new(),
                    load_errors: vec![(
                        test_path.clone(),
                        format!("the run failed inside the playground ({why}); please report it"),
                    )],
                }
            })
        });
        Self {
            path: path.to_path_buf(),
            against,
            mock_input,
            stopped: false,
            state: XtpState::Running(job),
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, XtpState::Running(_))
    }

    /// Stops the run: the `test` export ends as stopped, the assertions it made are kept.
    pub fn stop(&self) {
        if let XtpState::Running(job) = &self.state {
            job.stop();
        }
    }

    /// The finished run, as the reporters read it.
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            XtpState::Done(outcome) => Some(outcome),
            XtpState::Running(_) => None,
        }
    }

    /// Takes in the finished run. Returns whether it finished now.
    pub fn poll(&mut self) -> bool {
        let XtpState::Running(job) = &self.state else {
            return false;
        };
        if job.is_running() {
            return false;
        }
        self.stopped = job.stop_requested();
        let state = std::mem::replace(&mut self.state, XtpState::Done(Outcome::default()));
        if let XtpState::Running(job) = state
            && let Ok(outcome) = job.finish()
        {
            self.state = XtpState::Done(outcome);
        }
        true
    }
}

/// Loads the test plugin and runs it once against `under_test`, as `test --xtp` does.
fn run_xtp(
    path: &Path,
    under_test: PluginUnderTest,
    worker: WorkerConfig,
    stop: &Canceller,
) -> Outcome {
    let load_error = |why: String| Outcome {
        suites: Vec::new(),
        load_errors: vec![(path.to_path_buf(), why)],
    };
    let (test, inspection) = match xtp::load_test_plugin(path) {
        Ok(loaded) => loaded,
        Err(e) => return load_error(e.to_string()),
    };
    if let Err(e) = under_test.check() {
        return load_error(format!(
            "the plugin under test, {}, cannot be loaded as it is set up: {e}",
            under_test.plugin.display_name
        ));
    }
    let suite = XtpSuite::new(path, test, inspection, under_test, None);
    xtp::run(&suite, worker, LogLevel::Info, stop).outcome(&suite)
}
