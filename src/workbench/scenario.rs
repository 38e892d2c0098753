//! The scenario open in the workbench: an ordered list of calls (from a session or bundle with
//! several steps, from runs picked in the history, or from a suite's test) and its last
//! "Run all": every step replayed in order on the open plugin, in the background, each with its
//! verdict, the first that differs marked.

use std::sync::Arc;

use poll_promise::Promise;

use crate::bundle::{ExpectedOutcome, Step};
use crate::runner::{Canceller, HostData};
use crate::suite::{StepResult, Test, run_steps};

use super::{Notice, RunBlocker, Workbench};

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
        job: Promise<crate::suite::StepsRun>,
        stop: Canceller,
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

impl Workbench {
    /// The scenario open in the workbench, if any.
    pub fn scenario_view(&self) -> Option<&ScenarioView> {
        self.scenario.as_ref()
    }

    /// Makes `steps` the open scenario.
    pub(super) fn set_scenario(&mut self, name: String, steps: Vec<Step>, keep_state: bool) {
        let host = self.state.host.clone();
        self.set_scenario_from(name, steps, keep_state, host);
    }

    /// Makes `steps` the open scenario, its first step starting from `host`.
    fn set_scenario_from(
        &mut self,
        name: String,
        steps: Vec<Step>,
        keep_state: bool,
        host: HostData,
    ) {
        self.scenario = Some(ScenarioView {
            name,
            steps,
            keep_state,
            host,
            run: ScenarioRun::NotRun,
        });
        self.revision += 1;
    }

    /// A scenario of the history's runs `numbers`, in the order they ran, each expecting the
    /// outcome it had (an output the history cut short expects nothing).
    pub(super) fn scenario_from_history(&mut self, numbers: &[u64]) {
        let mut runs: Vec<_> = numbers
            .iter()
            .filter_map(|n| self.history().get(*n))
            .collect();
        runs.sort_by_key(|r| r.number);
        if runs.is_empty() {
            return self.say(Notice::NoRunsPicked);
        }
        // A scenario is of the open plugin: another plugin's runs (and kv store) stay its own.
        let open = self.state.plugin.key();
        let others: Vec<u64> = runs
            .iter()
            .filter(|r| r.plugin != open)
            .map(|r| r.number)
            .collect();
        if !others.is_empty() {
            return self.say(Notice::RunsOfAnotherPlugin(others));
        }
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
        // The kv store as it was before the first of them.
        let host = HostData {
            kv: runs[0].kv_before.as_ref().clone(),
            secrets: self.state.host.secrets.clone(),
        };
        let count = steps.len();
        self.set_scenario_from(format!("runs {}", numbers.join(", ")), steps, true, host);
        self.say(Notice::ScenarioMade { runs: count, cut });
    }

    /// Replays every step of the open scenario, in the background.
    pub(super) fn run_scenario(&mut self) {
        if self.is_running() {
            return self.say(Notice::CannotRunScenario(RunBlocker::CallRunning));
        }
        let Some(session) = self.session().cloned() else {
            return self.say(Notice::CannotRunScenario(RunBlocker::NoPlugin));
        };
        let generation = self.generation;
        let wake = Arc::clone(&self.wake);
        let Some(view) = &mut self.scenario else {
            return;
        };
        let stop = Canceller::default();
        let test = Test {
            name: view.name.clone(),
            fresh_instance: !view.keep_state,
            steps: view.steps.clone(),
        };
        let host = view.host.clone();
        let flag = stop.clone();
        let job = Promise::spawn_thread("scenario", move || {
            let outcome = run_steps(&session, &host, &test, false, &flag);
            wake();
            outcome
        });
        view.run = ScenarioRun::Running {
            job,
            stop,
            generation,
        };
        let count = view.steps.len();
        self.say(Notice::ScenarioRunning { steps: count });
    }

    /// Asks a running scenario to stop after its current step.
    pub(super) fn stop_scenario(&mut self) {
        if let Some(ScenarioView {
            run: ScenarioRun::Running { stop, .. },
            ..
        }) = &self.scenario
        {
            stop.cancel();
        }
    }

    /// Takes in a finished scenario run.
    pub(super) fn poll_scenario(&mut self) {
        let Some(view) = &mut self.scenario else {
            return;
        };
        let ScenarioRun::Running {
            job, generation, ..
        } = &view.run
        else {
            return;
        };
        if job.ready().is_none() {
            return;
        }
        let ours = *generation == self.generation;
        let ScenarioRun::Running { job, .. } =
            std::mem::replace(&mut view.run, ScenarioRun::NotRun)
        else {
            return;
        };
        let crate::suite::StepsRun {
            steps: results,
            stopped,
        } = job.block_and_take();
        if !ours {
            return self.say(Notice::ScenarioDiscarded);
        }
        let total = view.steps.len();
        let matched = results.iter().filter(|r| r.passed()).count();
        let first = results.iter().position(|r| !r.passed());
        view.run = ScenarioRun::Done { results, stopped };
        self.say(Notice::ScenarioEnded {
            matched,
            total,
            first_difference: first,
            stopped,
        });
    }

    /// Loads step `index` of the scenario into the editor (function, input, expected).
    pub(super) fn edit_scenario_step(&mut self, index: usize) {
        let Some(step) = self
            .scenario
            .as_ref()
            .and_then(|v| v.steps.get(index))
            .cloned()
        else {
            return;
        };
        self.load_step(step);
        self.say(Notice::StepInEditor(index));
    }

    /// Closes the scenario: the workbench is back to single calls.
    pub(super) fn close_scenario(&mut self) {
        self.stop_scenario();
        self.scenario = None;
        self.revision += 1;
    }
}
