//! A suite open in the window: loaded from its file, its tests' statuses, and a run of all or
//! one of them in the background (parallel workers, progress as each test finishes, Stop).
//! No UI here: the window's Tests panel reads this and sends commands.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use poll_promise::Promise;

use super::file::{self, Consent, LoadOptions, SuiteError};
use super::{Suite, TestResult};
use crate::runner::{Canceller, WorkerConfig};

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
    job: Promise<()>,
    /// Results as they come, drained by [`OpenSuite::poll`].
    arrived: Arc<Mutex<Vec<TestResult>>>,
    stop: Canceller,
    total: usize,
    done: usize,
}

/// A suite file open in the window.
pub struct OpenSuite {
    pub path: PathBuf,
    /// The suite, or why it could not be loaded.
    pub loaded: Result<Suite, SuiteError>,
    pub statuses: Vec<TestStatus>,
    running: Option<Running>,
}

impl OpenSuite {
    /// Loads the suite at `path` (`consent` decides its grants, as `test --trust` would).
    pub fn load(path: &Path, consent: Consent) -> Self {
        let loaded = file::load(
            path,
            &LoadOptions {
                plugin: None,
                consent,
            },
        );
        let statuses = loaded
            .as_ref()
            .map_or_else(|_| Vec::new(), |s| vec![TestStatus::NotRun; s.tests.len()]);
        Self {
            path: path.to_path_buf(),
            loaded,
            statuses,
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
    pub fn run(
        &mut self,
        only: Option<usize>,
        jobs: usize,
        worker: WorkerConfig,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) {
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
        let stop = Canceller::default();
        let total = picked.len();
        let suites = vec![suite.clone()];
        let (sink, flag) = (Arc::clone(&arrived), stop.clone());
        let job = Promise::spawn_thread("test suite", move || {
            let on_result = |result: &TestResult| {
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(result.clone());
                wake();
            };
            super::run(&suites, &picked, jobs, &worker, &flag, &on_result);
            wake();
        });
        self.running = Some(Running {
            job,
            arrived,
            stop,
            total,
            done: 0,
        });
    }

    /// Stops the run (the tests running end as stopped; the queued ones do not start).
    pub fn stop(&self) {
        if let Some(running) = &self.running {
            running.stop.cancel();
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
        if running.job.ready().is_none() {
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
