//! Runs: the run slot (idle, or one call in flight), taking a finished call in, the history of
//! this session's runs, and the verdict of the last run against the expected outcome.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use crate::bundle::ExpectedOutcome;
use crate::bundle::diff::{self, DiffRow};
use crate::runner::host::Bytes;
use crate::runner::{Call, CallRequest, ErrorKind, LogLevel};

use super::notice::{Called, NewInstance};
use super::view::RunView;
use super::{Notice, PluginSlot, Workbench};

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
pub enum RunSlot {
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

impl Workbench {
    pub(super) fn run(&mut self, loops: u32) {
        if let Some(reason) = self.run_blocker() {
            self.say(Notice::CannotRun(reason));
            return;
        }
        let PluginSlot::Ready(ready) = &self.plugin else {
            return;
        };
        let function = self.state.function.clone();
        let input = self.input_bytes();
        let kv_before = Arc::new(self.state.host.kv.clone());
        let request = CallRequest {
            function: function.clone(),
            input: Arc::clone(&input),
            host: self.state.host.clone(),
            // A single run keeps everything (the log table filters what it shows). A bench keeps
            // info and above: recording trace slows every call of the loop.
            log_level: if loops > 1 {
                LogLevel::Info
            } else {
                LogLevel::Trace
            },
            fresh_instance: !self.state.keep_state && loops <= 1,
            loops,
            // A trap's coredump comes back for Save coredump… (it is dropped with older runs).
            coredump: true,
        };
        let wake = Arc::clone(&self.wake);
        // The view (line index of a 64 MiB output, say) is built on the call's thread; the
        // window is woken once the view can be taken (woken before, its frame finds nothing
        // and only the next one does).
        let call = ready
            .session
            .call_then(request, RunView::new, move || wake());
        self.run = RunSlot::Running(Box::new(Running {
            call,
            generation: self.generation,
            started: Instant::now(),
            function,
            input,
            kv_before,
            loops,
            stop_requested: false,
            compare_with: self.rerun_base.take(),
        }));
    }

    pub(super) fn stop(&mut self) {
        if let RunSlot::Running(running) = &mut self.run {
            running.call.cancel();
            running.stop_requested = true;
        }
    }

    pub(super) fn poll_run(&mut self) {
        let finished = matches!(&self.run, RunSlot::Running(r) if r.call.ready().is_some());
        if !finished {
            return;
        }
        let RunSlot::Running(running) = std::mem::replace(&mut self.run, RunSlot::Idle) else {
            return;
        };
        // Ready: this does not block.
        let view = running.call.block_and_take();
        if running.generation == self.generation {
            self.finish(view, &running.input, &running.kv_before);
            self.compare_with_before_reload(running.compare_with);
        } else {
            self.say(Notice::CallDiscarded {
                function: view.report.function,
            });
        }
    }

    /// Takes in a finished call.
    fn finish(
        &mut self,
        view: RunView,
        input: &Arc<Vec<u8>>,
        kv_before: &Arc<BTreeMap<String, Bytes>>,
    ) {
        let report = &view.report;
        if let Some(kv) = &report.kv_after {
            self.state.host.kv.clone_from(kv);
        }
        self.history
            .push(&view, self.state.plugin.key(), input, kv_before);
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
        self.say(Notice::Called(Called {
            function: report.function.clone(),
            error: report.error_kind(),
            instance,
            discarded,
        }));
        self.last = Some(view);
        self.refresh_verdict();
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

    /// Recomputes whether the last run matches the expected outcome (a byte comparison; the
    /// side-by-side rows are built only when shown).
    pub(super) fn refresh_verdict(&mut self) {
        self.verdict = match (&self.state.expected, &self.last) {
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

    /// The expected and actual outputs side by side (built once per verdict), when the
    /// expected outcome is an output and the last run produced one.
    pub fn verdict_rows(&mut self) -> Option<&[DiffRow]> {
        let (Some(ExpectedOutcome::Output(want)), Some(last), Some(verdict)) =
            (&self.state.expected, &self.last, &mut self.verdict)
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
