//! The Tests window's jobs, owned by the workbench like every other background job: a suite
//! file loaded and run in the background, and an xtp-test plugin run against the open plugin.
//! Each is started by a [`TestCommand`], polled in `Workbench::poll`, and ended by Stop or
//! Close; the window only reads them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::runner::{PluginUnderTest, WorkerConfig};
use crate::suite::file::Consent;
use crate::suite::job::{LoadingSuite, OpenSuite, XtpJob};

use super::Waker;

/// What the Tests window asks of its jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestCommand {
    /// Open a test suite (`trust`: grant what it asks, as `test --trust` does).
    OpenSuite {
        path: PathBuf,
        trust: bool,
    },
    /// Run one test of the open suite, or all of them.
    Run(Option<usize>),
    /// Stop the suite's run (tests running end as stopped; queued ones do not start).
    Stop,
    /// Close the suite (stopping its run).
    Close,
    /// Run the xtp-test plugin at this path against the open plugin.
    RunXtp(PathBuf),
    StopXtp,
    CloseXtp,
}

/// How the suite's last run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuiteRunEnded {
    pub passed: usize,
    pub failed: usize,
}

/// The Tests window's jobs.
#[derive(Default)]
pub struct Testing {
    loading: Option<LoadingSuite>,
    suite: Option<OpenSuite>,
    ended: Option<SuiteRunEnded>,
    xtp: Option<XtpJob>,
}

impl Testing {
    /// The suite open in the Tests window.
    pub fn suite(&self) -> Option<&OpenSuite> {
        self.suite.as_ref()
    }

    /// The suite being loaded (it replaces the open one when it is), by its file.
    pub fn loading(&self) -> Option<&Path> {
        self.loading.as_ref().map(|l| l.path.as_path())
    }

    /// How the open suite's last run ended, until it runs again.
    pub fn ended(&self) -> Option<SuiteRunEnded> {
        self.ended
    }

    /// The xtp-test plugin run shown in the xtp window.
    pub fn xtp(&self) -> Option<&XtpJob> {
        self.xtp.as_ref()
    }

    /// Starts loading the suite at `path`, stopping the open one's run.
    pub(super) fn open_suite(
        &mut self,
        path: &Path,
        trust: bool,
        registry: crate::registry::Settings,
        wake: &Waker,
    ) {
        let consent = if trust { Consent::Trust } else { Consent::Ask };
        if let Some(old) = &self.suite {
            old.stop();
        }
        self.loading = Some(LoadingSuite::start(
            path,
            consent,
            registry,
            Arc::clone(wake),
        ));
        self.ended = None;
    }

    /// Runs test `only` of the open suite, or every test.
    pub(super) fn run(&mut self, only: Option<usize>, worker: WorkerConfig, wake: &Waker) {
        if let Some(suite) = &mut self.suite {
            suite.run(only, crate::suite::default_jobs(), worker, Arc::clone(wake));
            self.ended = None;
        }
    }

    pub(super) fn stop(&self) {
        if let Some(suite) = &self.suite {
            suite.stop();
        }
    }

    pub(super) fn close(&mut self) {
        self.stop();
        self.suite = None;
        self.loading = None;
        self.ended = None;
    }

    /// Runs the test plugin at `path` against `under_test` (nothing without a plugin open:
    /// the last run stays shown).
    pub(super) fn run_xtp(
        &mut self,
        path: &Path,
        under_test: Option<PluginUnderTest>,
        worker: WorkerConfig,
        wake: &Waker,
    ) {
        let Some(under_test) = under_test else {
            return;
        };
        self.stop_xtp();
        self.xtp = Some(XtpJob::start(path, under_test, worker, Arc::clone(wake)));
    }

    pub(super) fn stop_xtp(&self) {
        if let Some(xtp) = &self.xtp {
            xtp.stop();
        }
    }

    pub(super) fn close_xtp(&mut self) {
        self.stop_xtp();
        self.xtp = None;
    }

    /// Takes in what the jobs finished: a loaded suite, results as they arrive, an xtp run.
    pub(super) fn poll(&mut self) {
        if let Some(loading) = self.loading.take() {
            match loading.finish() {
                Ok(suite) => self.suite = Some(*suite),
                Err(loading) => self.loading = Some(loading),
            }
        }
        if let Some(suite) = &mut self.suite
            && suite.poll()
        {
            let (passed, failed) = suite.tally();
            self.ended = Some(SuiteRunEnded { passed, failed });
        }
        if let Some(xtp) = &mut self.xtp {
            xtp.poll();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::Testing;
    use crate::suite::file::SuiteError;

    fn waker() -> super::Waker {
        Arc::new(|| {})
    }

    #[test]
    fn a_suite_loads_in_the_background_and_closing_forgets_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.toml");
        std::fs::write(&path, "this is [not toml").unwrap();
        let mut testing = Testing::default();
        testing.open_suite(&path, false, crate::registry::Settings::default(), &waker());
        assert_eq!(testing.loading(), Some(path.as_path()));
        let started = Instant::now();
        while testing.loading().is_some() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the suite never loaded"
            );
            testing.poll();
            std::thread::sleep(Duration::from_millis(2));
        }
        let suite = testing
            .suite()
            .expect("the loaded suite replaces the loading one");
        assert!(
            matches!(&suite.loaded, Err(SuiteError::Toml { path: p, .. }) if *p == path),
            "{:?}",
            suite.loaded.as_ref().err()
        );
        // Nothing ran, so nothing ended.
        assert_eq!(testing.ended(), None);
        testing.close();
        assert!(testing.suite().is_none() && testing.loading().is_none());
    }

    #[test]
    fn an_xtp_run_without_a_plugin_under_test_starts_nothing() {
        let mut testing = Testing::default();
        testing.run_xtp(
            std::path::Path::new("test.wasm"),
            None,
            crate::runner::WorkerConfig::with_exe("worker"),
            &waker(),
        );
        assert!(testing.xtp().is_none());
        // Stop and Close with nothing running change nothing.
        testing.stop_xtp();
        testing.close_xtp();
        testing.stop();
        assert!(testing.xtp().is_none() && testing.suite().is_none());
    }
}
