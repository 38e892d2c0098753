//! The scenario open in the workbench: an ordered list of calls (from a session or bundle with
//! several steps, from runs picked in the history, or from a suite's test) and its last
//! "Run all": every step replayed in order on the open plugin, in the background, each with its
//! verdict, the first that differs marked.

use crate::bundle::{ExpectedOutcome, Step};
use crate::platform::job::{Job, Waker};
use crate::runner::{HostData, Session};
use crate::suite::{StepResult, Test, run_steps};

use super::{Notice, RunSummary};

/// A scenario and what its last run did.
pub struct ScenarioView {
    /// What it is called (the file, or the runs it was made from).
    pub name: String,
    pub steps: Vec<Step>,
    /// Whether the steps share one instance.
    pub keep_state: bool,
    /// The host data the first step starts with.
    pub host: HostData,
    pub run: ScenarioRun,
}

/// The scenario's run.
pub enum ScenarioRun {
    NotRun,
    Running {
        job: Job<crate::suite::StepsRun>,
        /// The plugin generation it runs on.
        generation: u64,
    },
    Done {
        results: Vec<StepResult>,
        /// Whether it was stopped before the last step.
        stopped: bool,
    },
}

impl ScenarioView {
    /// The results of the last finished run, if any.
    pub fn results(&self) -> Option<&[StepResult]> {
        match &self.run {
            ScenarioRun::Done { results, .. } => Some(results),
            _ => None,
        }
    }

    /// The first step whose outcome differs from what it expects (or that failed).
    pub fn first_difference(&self) -> Option<usize> {
        self.results()?.iter().position(|r| !r.passed())
    }

    pub fn is_running(&self) -> bool {
        matches!(self.run, ScenarioRun::Running { .. })
    }
}

impl ScenarioView {
    /// A scenario of `steps`, not run yet, its first step starting from `host`.
    pub fn new(name: String, steps: Vec<Step>, keep_state: bool, host: HostData) -> Self {
        Self {
            name,
            steps,
            keep_state,
            host,
            run: ScenarioRun::NotRun,
        }
    }

    /// A scenario of the history's `runs` (picked by the user), in the order they ran, each
    /// expecting the outcome it had (an output the history cut short expects nothing); the kv
    /// store is the one before the first, the secrets `secrets`. A scenario is of the open
    /// plugin (`open`, its key): another plugin's runs (and kv store) stay its own.
    ///
    /// # Errors
    /// What the status bar says instead: no run picked, or runs of another plugin.
    pub fn from_runs(
        mut runs: Vec<&RunSummary>,
        open: &str,
        secrets: &std::collections::BTreeMap<String, String>,
    ) -> Result<(Self, Notice), Notice> {
        runs.sort_by_key(|r| r.number);
        let Some(first) = runs.first() else {
            return Err(Notice::NoRunsPicked);
        };
        let others: Vec<u64> = runs
            .iter()
            .filter(|r| r.plugin != open)
            .map(|r| r.number)
            .collect();
        if !others.is_empty() {
            return Err(Notice::RunsOfAnotherPlugin(others));
        }
        let host = HostData {
            kv: first.kv_before.as_ref().clone(),
            secrets: secrets.clone(),
        };
        let cut = runs.iter().filter(|r| r.output_cut).count();
        let steps: Vec<Step> = runs
            .iter()
            .map(|run| Step {
                function: run.function.clone(),
                input: run.input.as_ref().clone(),
                input_mode: None,
                expected: match (run.error_kind, run.output_cut) {
                    (Some(kind), _) => Some(ExpectedOutcome::Error(kind)),
                    (None, false) => Some(ExpectedOutcome::Output(run.output.as_ref().clone())),
                    (None, true) => None,
                },
            })
            .collect();
        let numbers: Vec<String> = runs.iter().map(|r| r.number.to_string()).collect();
        let made = Notice::ScenarioMade {
            runs: steps.len(),
            cut,
        };
        let name = format!("runs {}", numbers.join(", "));
        Ok((Self::new(name, steps, true, host), made))
    }

    /// Replays every step on `session` in the background (made on plugin `generation`).
    pub fn start(&mut self, session: Session, generation: u64, wake: Waker) -> Notice {
        let test = Test {
            name: self.name.clone(),
            fresh_instance: !self.keep_state,
            steps: self.steps.clone(),
        };
        let host = self.host.clone();
        let job = Job::spawn("scenario", wake, move |stop| {
            run_steps(&session, &host, &test, false, stop)
        });
        self.run = ScenarioRun::Running { job, generation };
        Notice::ScenarioRunning {
            steps: self.steps.len(),
        }
    }

    /// Asks a running replay to stop after its current step.
    pub fn stop(&self) {
        if let ScenarioRun::Running { job, .. } = &self.run {
            job.stop();
        }
    }

    /// Takes in a finished replay: one made on an older `generation` of the plugin is
    /// discarded.
    pub fn poll(&mut self, generation: u64) -> Option<Notice> {
        let ScenarioRun::Running { job, .. } = &self.run else {
            return None;
        };
        if job.is_running() {
            return None;
        }
        let ScenarioRun::Running {
            job,
            generation: made_on,
        } = std::mem::replace(&mut self.run, ScenarioRun::NotRun)
        else {
            return None;
        };
        let crate::suite::StepsRun {
            steps: results,
            stopped,
        } = job.finish().ok()?;
        if made_on != generation {
            return Some(Notice::ScenarioDiscarded);
        }
        let total = self.steps.len();
        let matched = results.iter().filter(|r| r.passed()).count();
        let first_difference = results.iter().position(|r| !r.passed());
        self.run = ScenarioRun::Done { results, stopped };
        Some(Notice::ScenarioEnded {
            matched,
            total,
            first_difference,
            stopped,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::runner::ErrorKind;

    fn run(number: u64, plugin: &str, output: &str, error: Option<ErrorKind>) -> RunSummary {
        RunSummary {
            number,
            plugin: plugin.to_string(),
            output: Arc::new(output.as_bytes().to_vec()),
            output_cut: false,
            function: "f".to_string(),
            input: Arc::new(number.to_string().into_bytes()),
            kv_before: Arc::new(BTreeMap::from([(
                "n".to_string(),
                crate::runner::host::Bytes::from(number.to_string().as_str()),
            )])),
            error_kind: error,
            outcome: String::new(),
            ok: error.is_none(),
            call_ms: 0.0,
            load_ms: 0.0,
            instantiate_ms: 0.0,
            fuel: None,
            peak_pages: None,
        }
    }

    #[test]
    fn runs_become_steps_in_the_order_they_ran_expecting_what_they_did() {
        let (two, one) = (
            run(2, "p", "", Some(ErrorKind::Trap)),
            run(1, "p", "out", None),
        );
        let mut cut = run(3, "p", "long", None);
        cut.output_cut = true;
        let secrets = BTreeMap::from([("token".to_string(), "s".to_string())]);
        let (view, made) = ScenarioView::from_runs(vec![&two, &cut, &one], "p", &secrets).unwrap();
        assert!(matches!(made, Notice::ScenarioMade { runs: 3, cut: 1 }));
        assert_eq!(view.name, "runs 1, 2, 3");
        let expected: Vec<_> = view.steps.iter().map(|s| s.expected.clone()).collect();
        assert_eq!(
            expected,
            [
                Some(ExpectedOutcome::Output(b"out".to_vec())),
                Some(ExpectedOutcome::Error(ErrorKind::Trap)),
                None
            ]
        );
        // The kv store before the first run, the secrets given.
        assert_eq!(view.host.kv, *one.kv_before);
        assert_eq!(view.host.secrets, secrets);
        assert!(view.keep_state && !view.is_running() && view.results().is_none());
    }

    #[test]
    fn no_runs_or_another_plugins_runs_make_no_scenario() {
        let none = BTreeMap::new();
        assert!(matches!(
            ScenarioView::from_runs(Vec::new(), "p", &none),
            Err(Notice::NoRunsPicked)
        ));
        let (mine, theirs) = (run(1, "p", "", None), run(2, "q", "", None));
        assert!(matches!(
            ScenarioView::from_runs(vec![&mine, &theirs], "p", &none),
            Err(Notice::RunsOfAnotherPlugin(runs)) if runs == [2]
        ));
    }
}
