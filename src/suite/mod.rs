//! Test suites: plugins called step by step with expected outcomes, run headless and in
//! parallel, reported for people and for CI. A suite is a TOML file written by hand (or a
//! bundle, whose scenario is one test); each test is an ordered list of calls on one instance.
//! Nothing here knows about the window: it runs suites through [`crate::runner`] sessions and
//! reports through a callback.
//!
//! - [`file`]: suite files and bundles read into [`Suite`]s (paths, consent, host functions),
//!   and directories searched for them.
//! - [`report`]: results as text, JSON and JUnit XML, through one neutral model that suite runs
//!   and xtp runs both convert into.
//! - [`job`]: a suite open in the window, run in the background with progress and Stop.
//! - [`edit`]: a call appended to a suite file as a test (comments and order kept).
//! - [`xtp`]: xtp-test plugins (Extism plugins exporting `test`, importing `xtp:test/harness`)
//!   run offline against a plugin under test, one testcase per assertion.

pub mod edit;
pub mod file;
pub mod job;
pub mod report;
pub mod xtp;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bundle::{Step, Verdict, verdict};
use crate::runner::{
    CallReport, CallRequest, Canceller, HostData, HostRegistry, Inspection, LoadedPlugin, LogLevel,
    SandboxOptions, Session, WorkerConfig,
};

/// A suite ready to run: the plugin read and checked, its sandbox and host functions settled.
#[derive(Clone, Debug)]
pub struct Suite {
    /// The file, as given or found.
    pub path: PathBuf,
    pub plugin: LoadedPlugin,
    pub inspection: Inspection,
    pub options: SandboxOptions,
    /// The host data every test starts from (kv store, secrets).
    pub host: HostData,
    pub registry: HostRegistry,
    /// The definitions behind the registry's user-defined functions (to open a test in the
    /// workbench with them).
    pub host_functions: Vec<crate::runner::host::HostFnDef>,
    /// Host functions the suite defines that this plugin does not import (ignored, and said so:
    /// a suite may run against another build).
    pub ignored_host_functions: Vec<String>,
    pub tests: Vec<Test>,
}

impl Suite {
    /// The file's name as reports show it.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// One test: calls made in order, on one instance unless each step asks for a fresh one.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    pub name: String,
    /// Each step on a fresh instance (the first always is).
    pub fresh_instance: bool,
    pub steps: Vec<Step>,
}

/// What one step did.
#[derive(Clone, Debug)]
pub struct StepResult {
    pub report: CallReport,
    /// `None` when the step expects nothing in particular (it passes when the call succeeds).
    pub verdict: Option<Verdict>,
}

impl StepResult {
    /// Whether the step passed: it matched what it expects, or expects nothing and succeeded.
    pub fn passed(&self) -> bool {
        match &self.verdict {
            Some(verdict) => *verdict == Verdict::Match,
            None => self.report.is_ok(),
        }
    }

    /// Why the step failed, in words (`None` when it passed).
    pub fn failure(&self) -> Option<String> {
        match &self.verdict {
            Some(Verdict::Match) => None,
            Some(Verdict::Mismatch(text)) => Some(text.clone()),
            None => self.report.error.as_ref().map(|e| {
                format!(
                    "the call failed ({} error): {}; a step that expects an error says so with expect_error",
                    e.kind, e.message
                )
            }),
        }
    }
}

/// What one test did.
#[derive(Clone, Debug)]
pub struct TestResult {
    /// Index of the suite in the list that was run.
    pub suite: usize,
    /// Index of the test in its suite.
    pub test: usize,
    /// The steps that ran, in order (a test stops at its first failing step).
    pub steps: Vec<StepResult>,
    pub duration: Duration,
    /// Set when the run was stopped before this test finished.
    pub stopped: bool,
}

impl TestResult {
    /// Whether every step passed (and the test was not stopped).
    pub fn passed(&self) -> bool {
        !self.stopped && self.steps.iter().all(StepResult::passed)
    }

    /// The first failing step: its index and why.
    pub fn first_failure(&self) -> Option<(usize, String)> {
        self.steps
            .iter()
            .enumerate()
            .find_map(|(i, step)| step.failure().map(|why| (i, why)))
    }
}

/// Which tests to run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only tests whose name contains this text.
    pub filter: Option<String>,
    /// Only the K-th (1-based) of N disjoint slices.
    pub shard: Option<Shard>,
}

/// The K-th of N disjoint slices of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// Parses `K/N` with 1 <= K <= N.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a shard: use K/N with 1 <= K <= N, e.g. 1/2");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl Selection {
    /// The tests of `suites` this selection runs, as (suite, test) indices in file order.
    /// Shards deal the filtered tests out in turn, so slices differ by at most one test and
    /// together hold every test exactly once.
    pub fn pick(&self, suites: &[Suite]) -> Vec<(usize, usize)> {
        let all = suites.iter().enumerate().flat_map(|(s, suite)| {
            suite
                .tests
                .iter()
                .enumerate()
                .filter(|(_, test)| {
                    self.filter
                        .as_deref()
                        .is_none_or(|text| test.name.contains(text))
                })
                .map(move |(t, _)| (s, t))
        });
        match self.shard {
            None => all.collect(),
            Some(shard) => all
                .enumerate()
                .filter(|(i, _)| i % shard.count == shard.index - 1)
                .map(|(_, pick)| pick)
                .collect(),
        }
    }
}

/// Runs one test on `session`: the first step on a fresh instance with `host` (the suite's host
/// data),
/// every later step on the same instance (or a fresh one when the test says so) with the kv
/// store as the previous step left it. Stops at the first failing step when `stop_at_failure`;
/// `stop` stops the step running and those after it.
pub fn run_steps(
    session: &Session,
    host: &HostData,
    test: &Test,
    stop_at_failure: bool,
    stop: &Canceller,
) -> StepsRun {
    let mut host = host.clone();
    let mut results = Vec::with_capacity(test.steps.len());
    for (i, step) in test.steps.iter().enumerate() {
        if stop.is_cancelled() {
            return StepsRun {
                steps: results,
                stopped: true,
            };
        }
        // The session checks the call first: a function this build does not export (a suite
        // run against another build) fails its step with a load error, not the run.
        let report = session.call_stoppable(
            CallRequest {
                function: step.function.clone(),
                input: Arc::new(step.input.clone()),
                host: host.clone(),
                log_level: LogLevel::Info,
                fresh_instance: i == 0 || test.fresh_instance,
                loops: 1,
                coredump: false,
            },
            stop,
        );
        if stop.is_cancelled() {
            // The step was cut short: its outcome says nothing about the plugin.
            return StepsRun {
                steps: results,
                stopped: true,
            };
        }
        if let Some(kv) = &report.kv_after {
            host.kv.clone_from(kv);
        }
        let result = StepResult {
            verdict: step.expected.as_ref().map(|e| verdict(e, &report)),
            report,
        };
        let failed = !result.passed();
        results.push(result);
        if failed && stop_at_failure {
            break;
        }
    }
    StepsRun {
        steps: results,
        stopped: false,
    }
}

/// The steps of one test that ran, in order, and whether Stop cut the test short.
#[derive(Debug, Default)]
pub struct StepsRun {
    pub steps: Vec<StepResult>,
    pub stopped: bool,
}

/// A session of `suite`'s plugin on a worker process of its own.
pub fn session_for(suite: &Suite, worker: WorkerConfig) -> Session {
    Session::inspected(
        suite.plugin.clone(),
        suite.inspection.clone(),
        suite.options.clone(),
        suite.registry.clone(),
        worker,
    )
}

/// Runs the `picked` tests of `suites` on `jobs` worker processes at once, each test from a
/// fresh instance, and calls `on_result` as each finishes (from the job's thread). Returns
/// the results in the order of `picked`. `stop` ends the run (the steps running are stopped).
pub fn run(
    suites: &[Suite],
    picked: &[(usize, usize)],
    jobs: usize,
    worker: &WorkerConfig,
    stop: &Canceller,
    on_result: &(dyn Fn(&TestResult) + Sync),
) -> Vec<TestResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TestResult>>> = Mutex::new(vec![None; picked.len()]);
    let jobs = jobs.clamp(1, picked.len().max(1));
    std::thread::scope(|scope| {
        for job in 0..jobs {
            let body = || {
                // One worker per job, kept while the job stays in one suite (tests are in
                // suite order, so a job rarely changes suites).
                let mut current: Option<(usize, Session)> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(s, t)) = picked.get(i) else { break };
                    let suite = &suites[s];
                    if current.as_ref().is_none_or(|(cs, _)| *cs != s) {
                        current = Some((s, session_for(suite, worker.clone())));
                    }
                    let (_, session) = current.as_ref().expect("set above");
                    let started = Instant::now();
                    let StepsRun { steps, stopped } = if stop.is_cancelled() {
                        StepsRun {
                            steps: Vec::new(),
                            stopped: true,
                        }
                    } else {
                        run_steps(session, &suite.host, &suite.tests[t], true, stop)
                    };
                    let result = TestResult {
                        suite: s,
                        test: t,
                        steps,
                        duration: started.elapsed(),
                        stopped,
                    };
                    on_result(&result);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(result);
                }
            };
            std::thread::Builder::new()
                .name(format!("test job {}", job + 1))
                .spawn_scoped(scope, body)
                .expect("a thread for a test job");
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .map(|r| r.expect("every picked test ran"))
        .collect()
}

/// The number of tests to run at once when not told: the machine's cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_only_in_range() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/2", "3/2", "1/0", "1", "a/b", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("K/N"), "{bad}: {e}");
        }
    }
}
