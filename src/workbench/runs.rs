//! Runs: the run slot (idle, or one call in flight), taking a finished call in, the history of
//! this session's runs, and the verdict of the last run against the expected outcome. [`Runs`]
//! owns them; the workbench starts calls with what its editor and sandbox hold.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use crate::bundle::ExpectedOutcome;
use crate::bundle::diff::{self, DiffRow};
use crate::runner::host::Bytes;
use crate::runner::{Call, CallRequest, ErrorKind};

use super::notice::{Called, NewInstance};
use super::view::RunView;
use super::{Notice, Waker};

/// How many past runs the history keeps.
const HISTORY_LEN: usize = 200;
/// How much of each run's output the history keeps for comparisons.
const HISTORY_OUTPUT_BYTES: usize = 1024 * 1024;

/// Why the next run starts on a new instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreshReason {
    ResetByYou,
    OptionsChanged,
    Reloaded,
    PreviousCallFailed,
}

/// A call in flight.
pub struct Running {
    pub call: Call<RunView>,
    /// The plugin generation the call was made on; a result for an older one is discarded.
    pub generation: u64,
    pub started: Instant,
    pub function: String,
    /// The input it was given and the kv store before it (for scenarios made from runs).
    pub input: Arc<Vec<u8>>,
    pub kv_before: Arc<BTreeMap<String, Bytes>>,
    /// How many calls it makes (more than one: a bench).
    pub loops: u32,
    pub stop_requested: bool,
    /// A re-run after a reload: what it is compared with.
    pub compare_with: Option<RerunOf>,
}

/// Whether a call is in flight.
#[derive(Default)]
pub enum RunSlot {
    #[default]
    Idle,
    Running(Box<Running>),
}

/// One finished run, for the history, the plot and comparisons.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub number: u64,
    /// The plugin it ran on ([`crate::open::PluginRef::key`]).
    pub plugin: String,
    /// The output (the first `HISTORY_OUTPUT_BYTES` of it).
    pub output: Arc<Vec<u8>>,
    pub output_cut: bool,
    pub function: String,
    /// The input it was given (kept whole: a scenario replays it byte for byte).
    pub input: Arc<Vec<u8>>,
    /// The kv store before the call.
    pub kv_before: Arc<BTreeMap<String, Bytes>>,
    pub error_kind: Option<ErrorKind>,
    /// `ok`, or the error kind.
    pub outcome: String,
    pub ok: bool,
    pub call_ms: f64,
    pub load_ms: f64,
    pub instantiate_ms: f64,
    pub fuel: Option<u64>,
    /// The main module's memory at its peak during the call, in pages.
    pub peak_pages: Option<u64>,
}

/// This session's runs, oldest first, bounded.
#[derive(Default)]
pub struct History {
    runs: VecDeque<RunSummary>,
    count: u64,
}

impl History {
    pub fn runs(&self) -> impl DoubleEndedIterator<Item = &RunSummary> + ExactSizeIterator {
        self.runs.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The run numbered `number`, if it is still kept.
    pub fn get(&self, number: u64) -> Option<&RunSummary> {
        self.runs.iter().find(|r| r.number == number)
    }

    fn push(
        &mut self,
        view: &RunView,
        plugin: String,
        input: &Arc<Vec<u8>>,
        kv_before: &Arc<BTreeMap<String, Bytes>>,
    ) -> u64 {
        let report = &view.report;
        self.count += 1;
        let kept = report.output.len().min(HISTORY_OUTPUT_BYTES);
        self.runs.push_back(RunSummary {
            number: self.count,
            plugin,
            output: Arc::new(report.output[..kept].to_vec()),
            output_cut: kept < report.output.len(),
            function: report.function.clone(),
            input: Arc::clone(input),
            kv_before: Arc::clone(kv_before),
            error_kind: report.error_kind(),
            outcome: report
                .error_kind()
                .map_or_else(|| "ok".to_string(), |k| k.to_string()),
            ok: report.is_ok(),
            call_ms: report.timings.call_ms,
            load_ms: report.timings.load_ms,
            instantiate_ms: report.timings.instantiate_ms,
            fuel: report.fuel_consumed,
            peak_pages: report.memory.map(|m| m.peak_pages),
        });
        while self.runs.len() > HISTORY_LEN {
            self.runs.pop_front();
        }
        self.count
    }
}

/// A re-run after a reload, and the run of the same function before the reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RerunOf {
    Run(u64),
    /// The function had not run yet.
    NoEarlierRun,
}

/// What a reload changed: the run after it against the last run of the same function before
/// it.
#[derive(Clone, Debug)]
pub struct ReloadChange {
    /// The run before the reload (`None`: the function had not run yet).
    pub before: Option<u64>,
    pub after: u64,
    /// Whether output and outcome are the same.
    pub same: bool,
    /// Both outputs side by side (empty when they are the same or there is nothing to
    /// compare).
    pub rows: Vec<DiffRow>,
}

/// The verdict of the last run against the expected outcome, with its side-by-side rows
/// (built on first view).
pub struct VerdictView {
    pub matched: bool,
    rows: Option<Vec<DiffRow>>,
}

/// The runs: the call in flight, the last finished one with its verdict, the history, and why
/// the next call starts on a new instance.
#[derive(Default)]
pub struct Runs {
    slot: RunSlot,
    last: Option<RunView>,
    verdict: Option<VerdictView>,
    history: History,
    /// The run after the last reload compared with the run before it.
    reload_change: Option<ReloadChange>,
    /// What the next run started compares with (set just before a re-run after a reload).
    rerun_base: Option<RerunOf>,
    /// Why the next run starts on a new instance, when it does for a reason worth saying.
    fresh_reason: Option<FreshReason>,
}

/// A call to start: what it sends, and what it is recorded with.
pub struct Start<'a> {
    pub session: &'a crate::runner::Session,
    pub request: CallRequest,
    /// The plugin generation it is made on.
    pub generation: u64,
    /// The kv store before it.
    pub kv_before: Arc<BTreeMap<String, Bytes>>,
}

/// A finished call taken in.
pub struct Ended {
    pub notice: Notice,
    /// The kv store the call left, when it reports one.
    pub kv_after: Option<BTreeMap<String, Bytes>>,
}

impl Runs {
    pub fn slot(&self) -> &RunSlot {
        &self.slot
    }

    pub fn is_running(&self) -> bool {
        matches!(self.slot, RunSlot::Running(_))
    }

    /// The last finished call.
    pub fn last(&self) -> Option<&RunView> {
        self.last.as_ref()
    }

    pub fn last_mut(&mut self) -> Option<&mut RunView> {
        self.last.as_mut()
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn fresh_reason(&self) -> Option<FreshReason> {
        self.fresh_reason
    }

    /// Says the next call starts on a new instance, for `reason`.
    pub fn fresh_because(&mut self, reason: FreshReason) {
        self.fresh_reason = Some(reason);
    }

    /// Another plugin (or version) is installed: what was shown of the last one goes.
    pub fn forget_last(&mut self) {
        self.last = None;
        self.verdict = None;
        self.fresh_reason = None;
        self.reload_change = None;
    }

    /// Starts a call on the thread of its session; `wake` is called once its view is ready.
    pub fn start(&mut self, start: Start<'_>, wake: Waker) {
        let Start {
            session,
            request,
            generation,
            kv_before,
        } = start;
        let function = request.function.clone();
        let input = Arc::clone(&request.input);
        let loops = request.loops;
        // The view (line index of a 64 MiB output, say) is built on the call's thread; the
        // window is woken once the view can be taken (woken before, its frame finds nothing
        // and only the next one does).
        let call = session.call_then(request, RunView::new, move || wake());
        self.slot = RunSlot::Running(Box::new(Running {
            call,
            generation,
            started: Instant::now(),
            function,
            input,
            kv_before,
            loops,
            stop_requested: false,
            compare_with: self.rerun_base.take(),
        }));
    }

    /// Asks the call in flight to stop.
    pub fn stop(&mut self) {
        if let RunSlot::Running(running) = &mut self.slot {
            running.call.cancel();
            running.stop_requested = true;
        }
    }

    /// Takes in the call in flight if it finished: a call made on an older `generation` of
    /// the plugin is discarded. `plugin` gives the open plugin's key, recorded in the history
    /// (asked only when a call finished: this runs every frame).
    pub fn poll(
        &mut self,
        generation: u64,
        plugin: impl FnOnce() -> String,
        expected: Option<&ExpectedOutcome>,
    ) -> Option<Ended> {
        let finished = matches!(&self.slot, RunSlot::Running(r) if r.call.ready().is_some());
        if !finished {
            return None;
        }
        let RunSlot::Running(running) = std::mem::replace(&mut self.slot, RunSlot::Idle) else {
            return None;
        };
        // Ready: this does not block.
        let view = running.call.block_and_take();
        if running.generation != generation {
            return Some(Ended {
                notice: Notice::CallDiscarded {
                    function: view.report.function,
                },
                kv_after: None,
            });
        }
        let ended = self.take_in(view, plugin(), &running.input, &running.kv_before, expected);
        self.compare_with_before_reload(running.compare_with);
        Some(ended)
    }

    /// Takes in a finished call: the history, the status, the verdict.
    fn take_in(
        &mut self,
        view: RunView,
        plugin: String,
        input: &Arc<Vec<u8>>,
        kv_before: &Arc<BTreeMap<String, Bytes>>,
        expected: Option<&ExpectedOutcome>,
    ) -> Ended {
        let report = &view.report;
        let kv_after = report.kv_after.clone();
        self.history.push(&view, plugin, input, kv_before);
        let instance = report.new_instance.then(|| match self.fresh_reason.take() {
            Some(reason) => NewInstance::Because(reason),
            None if report.timings.load_ms > 0.0 => NewInstance::Compiled,
            None => NewInstance::First,
        });
        let discarded = report
            .error
            .as_ref()
            .is_some_and(|e| e.kind != ErrorKind::PluginError && e.kind != ErrorKind::Load);
        if discarded {
            self.fresh_reason = Some(FreshReason::PreviousCallFailed);
        }
        let notice = Notice::Called(Called {
            function: report.function.clone(),
            error: report.error_kind(),
            instance,
            discarded,
        });
        self.last = Some(view);
        self.refresh_verdict(expected);
        Ended { notice, kv_after }
    }

    /// Makes the next run a re-run after a reload of `function` with `input`, compared with
    /// the last run of it with this very input (another input would differ for reasons of its
    /// own).
    pub fn rerun(&mut self, function: &str, input: &Arc<Vec<u8>>) {
        let base = self
            .history
            .runs()
            .rev()
            .find(|r| r.function == function && r.input == *input)
            .map_or(RerunOf::NoEarlierRun, |r| RerunOf::Run(r.number));
        self.rerun_base = Some(base);
    }

    /// Compares the run just finished with `base` when it was a re-run after a reload (any
    /// other run ends the comparison shown).
    fn compare_with_before_reload(&mut self, base: Option<RerunOf>) {
        self.reload_change = base.and_then(|base| {
            let after = self.history.runs().next_back()?;
            let before = match base {
                RerunOf::Run(n) => self.history.get(n),
                RerunOf::NoEarlierRun => None,
            };
            Some(match before {
                Some(before) => {
                    let same = before.outcome == after.outcome && before.output == after.output;
                    ReloadChange {
                        before: Some(before.number),
                        after: after.number,
                        same,
                        // Only a change is shown side by side.
                        rows: if same {
                            Vec::new()
                        } else {
                            diff::side_by_side(&before.output, &after.output)
                        },
                    }
                }
                None => ReloadChange {
                    before: None,
                    after: after.number,
                    same: false,
                    rows: Vec::new(),
                },
            })
        });
    }

    /// Recomputes whether the last run matches `expected` (a byte comparison; the
    /// side-by-side rows are built only when shown).
    pub fn refresh_verdict(&mut self, expected: Option<&ExpectedOutcome>) {
        self.verdict = match (expected, &self.last) {
            (Some(expected), Some(last)) => Some(VerdictView {
                matched: expected.matches(&last.report),
                rows: None,
            }),
            _ => None,
        };
    }

    /// What the last reload changed, once its re-run finished (until the next run).
    pub fn reload_change(&self) -> Option<&ReloadChange> {
        self.reload_change.as_ref()
    }

    /// Whether the last run matches the expected outcome, if both exist.
    pub fn verdict(&self) -> Option<&VerdictView> {
        self.verdict.as_ref()
    }

    /// The expected and actual outputs side by side (built once per verdict), when `expected`
    /// is an output and the last run produced one.
    pub fn verdict_rows(&mut self, expected: Option<&ExpectedOutcome>) -> Option<&[DiffRow]> {
        let (Some(ExpectedOutcome::Output(want)), Some(last), Some(verdict)) =
            (expected, &self.last, &mut self.verdict)
        else {
            return None;
        };
        if last.report.error.is_some() {
            return None;
        }
        Some(
            verdict
                .rows
                .get_or_insert_with(|| diff::side_by_side(want, &last.report.output)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::CallReport;
    use crate::runner::report::CallError;

    fn report(function: &str, output: &str, error: Option<ErrorKind>) -> RunView {
        RunView::new(CallReport {
            function: function.to_string(),
            output: output.as_bytes().to_vec(),
            error: error.map(|kind| CallError::new(kind, "it failed")),
            new_instance: true,
            ..CallReport::default()
        })
    }

    fn take_in(runs: &mut Runs, view: RunView, input: &str) -> Ended {
        let expected = ExpectedOutcome::Output(b"3".to_vec());
        runs.take_in(
            view,
            "sample:hello".to_string(),
            &Arc::new(input.as_bytes().to_vec()),
            &Arc::default(),
            Some(&expected),
        )
    }

    #[test]
    fn a_call_taken_in_is_recorded_said_and_judged() {
        let mut runs = Runs::default();
        runs.fresh_because(FreshReason::ResetByYou);
        let ended = take_in(&mut runs, report("count", "3", None), "aaa");
        assert!(matches!(
            ended.notice,
            Notice::Called(Called {
                error: None,
                instance: Some(NewInstance::Because(FreshReason::ResetByYou)),
                discarded: false,
                ..
            })
        ));
        assert_eq!(runs.fresh_reason(), None, "said once, then forgotten");
        assert_eq!(runs.history().runs().len(), 1);
        assert_eq!(runs.history().get(1).unwrap().plugin, "sample:hello");
        assert!(runs.verdict().unwrap().matched);
        assert!(
            runs.verdict_rows(Some(&ExpectedOutcome::Output(b"3".to_vec())))
                .is_some()
        );
    }

    #[test]
    fn a_trap_makes_the_next_call_fresh_and_a_plugin_error_does_not() {
        let mut runs = Runs::default();
        let ended = take_in(&mut runs, report("f", "", Some(ErrorKind::Trap)), "");
        assert!(matches!(
            ended.notice,
            Notice::Called(Called {
                discarded: true,
                ..
            })
        ));
        assert_eq!(runs.fresh_reason(), Some(FreshReason::PreviousCallFailed));
        assert!(!runs.verdict().unwrap().matched);

        let mut runs = Runs::default();
        take_in(&mut runs, report("f", "", Some(ErrorKind::PluginError)), "");
        assert_eq!(runs.fresh_reason(), None);
    }

    #[test]
    fn a_rerun_after_a_reload_is_compared_with_the_last_run_of_the_same_input() {
        let mut runs = Runs::default();
        take_in(&mut runs, report("count", "3", None), "aaa");
        take_in(&mut runs, report("count", "1", None), "a");
        // The re-run is compared with run 1 (same function, same input), not run 2.
        runs.rerun("count", &Arc::new(b"aaa".to_vec()));
        let base = runs.rerun_base.take();
        assert_eq!(base, Some(RerunOf::Run(1)));
        take_in(&mut runs, report("count", "4", None), "aaa");
        runs.compare_with_before_reload(base);
        let change = runs.reload_change().unwrap();
        assert_eq!(
            (change.before, change.after, change.same),
            (Some(1), 3, false)
        );
        assert!(!change.rows.is_empty());

        // A function that had not run: nothing to compare with.
        runs.rerun("other", &Arc::default());
        assert_eq!(runs.rerun_base, Some(RerunOf::NoEarlierRun));
        runs.forget_last();
        assert!(runs.last().is_none() && runs.reload_change().is_none());
    }
}
