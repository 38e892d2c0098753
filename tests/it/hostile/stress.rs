//! A seeded random walk through the workbench, as an impatient user clicks: open samples and
//! bundles that ask for grants, answer (allow, without grants, cancel), change options, reset,
//! switch functions and keep-state, run, stop, reload, in any order and at any moment. Every
//! call into the workbench must return at once, and every wait has a bound: a plugin opens
//! within [`OPEN_BOUND`], a call gets past loading within [`LOAD_BOUND`], a stopped call ends
//! within [`STOP_BOUND`]. A walk that breaks one fails with its seed and its last steps, and
//! `EXTISM_PLAYGROUND_STRESS_SEED=N` replays it exactly (`..._STRESS_STEPS` sets its length).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use extism_playground::runner::{Phase, SandboxOptions};
use extism_playground::workbench::{
    Answer, Command, PluginSlot, RunSlot, Source, Workbench, WorkbenchState,
};

use crate::common::{self, Strangers};

/// How long an `apply` or `poll` may take: they run on the window's thread. A thread that
/// blocks on a worker blocks for seconds; this leaves room for two busy cores running the other
/// hostile cases beside it.
const UI_BOUND: Duration = Duration::from_secs(2);
/// How long a plugin may take to open (read, review, inspect).
const OPEN_BOUND: Duration = Duration::from_secs(20);
/// How long a call may stay before its plugin code runs (a worker started and the plugin
/// compiled; the samples compile in well under a second, from the cache).
const LOAD_BOUND: Duration = Duration::from_secs(20);
/// How long a call may take to end once stopped.
const STOP_BOUND: Duration = Duration::from_secs(10);
/// A call still running this long is stopped, as a user would.
const PATIENCE: Duration = Duration::from_secs(2);

/// A small, seedable generator (xorshift64*): the walk depends on nothing else.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("small")
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The walk so far, for the failure message.
struct Walk {
    seed: u64,
    step: usize,
    recent: VecDeque<String>,
}

impl Walk {
    fn note(&mut self, what: &str) {
        if self.recent.len() == 12 {
            self.recent.pop_front();
        }
        self.recent.push_back(format!("{}: {what}", self.step));
    }

    #[track_caller]
    fn fail(&self, wb: &Workbench, what: &str) -> ! {
        panic!(
            "{what}\nseed {} (replay with EXTISM_PLAYGROUND_STRESS_SEED={}), step {}; status: {:?}\nlast steps:\n  {}",
            self.seed,
            self.seed,
            self.step,
            wb.status(),
            self.recent.iter().cloned().collect::<Vec<_>>().join("\n  ")
        )
    }
}

/// Where a call has been, to hold each phase to its bound.
struct Watch {
    since: Instant,
    loading_since: Option<Instant>,
    stopped_at: Option<Instant>,
}

/// Applies a command (or polls) and fails if it blocked the window's thread.
fn timed(walk: &Walk, wb: &mut Workbench, what: &str, f: impl FnOnce(&mut Workbench)) {
    let started = Instant::now();
    f(wb);
    let took = started.elapsed();
    if took > UI_BOUND {
        walk.fail(wb, &format!("{what} took {took:?} on the window's thread"));
    }
}

/// Polls for `span`, holding the call and the open to their bounds.
fn poll_for(walk: &Walk, wb: &mut Workbench, watch: &mut Option<Watch>, span: Duration) {
    let until = Instant::now() + span;
    loop {
        timed(walk, wb, "poll", |wb| {
            wb.poll();
        });
        check(walk, wb, watch);
        if Instant::now() >= until {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn check(walk: &Walk, wb: &mut Workbench, watch: &mut Option<Watch>) {
    match wb.run_slot() {
        RunSlot::Running(running) => {
            let watch = watch.get_or_insert_with(|| Watch {
                since: Instant::now(),
                loading_since: None,
                stopped_at: None,
            });
            let phase = running.call.phase();
            if phase == Phase::Calling {
                watch.loading_since = None;
            } else if watch.loading_since.is_none() {
                watch.loading_since = Some(Instant::now());
            }
            if watch
                .loading_since
                .is_some_and(|at| at.elapsed() > LOAD_BOUND)
                && watch.stopped_at.is_none()
            {
                walk.fail(
                    wb,
                    &format!(
                        "a call of {} stayed in {phase:?} for over {LOAD_BOUND:?}",
                        running.function
                    ),
                );
            }
            if watch.stopped_at.is_some_and(|at| at.elapsed() > STOP_BOUND) {
                walk.fail(
                    wb,
                    &format!(
                        "a call of {} did not end within {STOP_BOUND:?} of Stop (in {phase:?})",
                        running.function
                    ),
                );
            }
            if watch.stopped_at.is_none() && watch.since.elapsed() > PATIENCE {
                wb.apply(Command::Stop);
                watch.stopped_at = Some(Instant::now());
            }
        }
        RunSlot::Idle => *watch = None,
    }
}

/// Records when a Stop was asked for (by the walk, not by patience).
fn stopped(watch: &mut Option<Watch>) {
    if let Some(watch) = watch
        && watch.stopped_at.is_none()
    {
        watch.stopped_at = Some(Instant::now());
    }
}

/// Waits for an open to be read and installed (or refused).
fn settle(walk: &Walk, wb: &mut Workbench, watch: &mut Option<Watch>) {
    let started = Instant::now();
    while matches!(wb.plugin(), PluginSlot::Opening(_)) {
        if started.elapsed() > OPEN_BOUND {
            walk.fail(wb, &format!("an open did not finish within {OPEN_BOUND:?}"));
        }
        poll_for(walk, wb, watch, Duration::from_millis(5));
    }
}

/// One step of a walk.
enum Step {
    Command(Command),
    /// Type this into the input editor.
    Type(&'static str),
    /// Let the window idle this long.
    Wait(Duration),
}

/// The walk's next step, as a user might take it now.
fn choose(rng: &mut Rng, wb: &Workbench, samples: &[&str], bundles: &[std::path::PathBuf]) -> Step {
    let command = match rng.below(16) {
        0 | 1 => {
            let name: &&str = rng.pick(samples);
            Command::Open(Source::sample(name).expect("a sample"))
        }
        2 | 3 => Command::Open(Source::Path(rng.pick(bundles).clone())),
        4..=6 if wb.asking().is_some() => Command::Answer(*rng.pick(&[
            Answer::Allow,
            Answer::WithoutGrants,
            Answer::WithoutGrants,
            Answer::Cancel,
        ])),
        4..=6 => Command::Run,
        7 => Command::Stop,
        8 => Command::ResetInstance,
        9 => Command::SetKeepState(rng.below(2) == 0),
        10 => {
            let functions: Vec<String> = wb
                .session()
                .map(|s| {
                    s.inspection()
                        .entry_points()
                        .into_iter()
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if functions.is_empty() {
                return Step::Wait(Duration::ZERO);
            }
            Command::SelectFunction(rng.pick(&functions).clone())
        }
        11 => Command::SetOptions(SandboxOptions {
            timeout_ms: *rng.pick(&[None, Some(50), Some(1_000)]),
            ..wb.state().options.clone()
        }),
        12 => Command::SetOptions(SandboxOptions {
            wasi: rng.below(2) == 0,
            ..wb.state().options.clone()
        }),
        13 => Command::Reload,
        14 => {
            let text: &&'static str = rng.pick(&["", "hello", "{\"a\":1}", "/data/notes.txt"]);
            return Step::Type(text);
        }
        _ => return Step::Wait(Duration::from_millis(rng.next() % 300)),
    };
    Step::Command(command)
}

fn walk(seed: u64, steps: usize) -> Tally {
    let s = Strangers::new();
    let secret = format!("ro:{}", s.private.display());
    let bundles = [
        s.bundle("paths.json", &[(&secret, "/data")], &[], "/data/secret.txt"),
        s.bundle(
            "hosts.json",
            &[("./data", "/data")],
            &["example.com"],
            "/data/notes.txt",
        ),
        s.bundle("plain.json", &[], &[], "/nothing/here"),
    ];
    let samples = ["hello", "wasi-demo", "chaos", "counter", "host-demo"];
    let mut wb = Workbench::new(WorkbenchState::default(), common::worker(), Arc::new(|| {}))
        .with_trust_store(common::trust_store());
    let mut walk = Walk {
        seed,
        step: 0,
        recent: VecDeque::new(),
    };
    let mut rng = Rng::new(seed);
    let mut watch: Option<Watch> = None;
    let mut tally = Tally::default();
    wb.restore();
    settle(&walk, &mut wb, &mut watch);
    for step in 0..steps {
        walk.step = step;
        let command = match choose(&mut rng, &wb, &samples, &bundles) {
            Step::Command(command) => command,
            Step::Type(text) => {
                *wb.input_text_mut() = text.to_string();
                wb.input_edited();
                walk.note("typed");
                poll_for(&walk, &mut wb, &mut watch, Duration::from_millis(1));
                continue;
            }
            Step::Wait(span) => {
                walk.note(&format!("waited {span:?}"));
                poll_for(&walk, &mut wb, &mut watch, span);
                continue;
            }
        };
        walk.note(&format!("{command:?}").chars().take(160).collect::<String>());
        let is_stop = matches!(command, Command::Stop);
        let was_running = wb.is_running();
        let is_run = matches!(command, Command::Run);
        let is_answer = matches!(command, Command::Answer(_));
        timed(&walk, &mut wb, "apply", |wb| wb.apply(command));
        tally.runs += usize::from(is_run && !was_running && wb.is_running());
        tally.answers += usize::from(is_answer);
        if is_stop {
            stopped(&mut watch);
        }
        check(&walk, &mut wb, &mut watch);
        settle(&walk, &mut wb, &mut watch);
        poll_for(
            &walk,
            &mut wb,
            &mut watch,
            Duration::from_millis(rng.next() % 40),
        );
    }
    // The walk ends as a user closes the window: whatever runs is stopped and ends in time.
    walk.step = steps;
    wb.apply(Command::Stop);
    stopped(&mut watch);
    let started = Instant::now();
    while wb.is_running() {
        if started.elapsed() > STOP_BOUND {
            walk.fail(&wb, "the last call did not end within its bound of Stop");
        }
        poll_for(&walk, &mut wb, &mut watch, Duration::from_millis(5));
    }
    tally.finished = wb.history().runs().len();
    eprintln!("seed {seed}: {steps} steps, {tally:?}");
    tally
}

/// What a walk did, so a walk that did nothing is noticed.
#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    finished: usize,
    answers: usize,
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn random_walks_through_the_window_never_wait_past_a_bound() {
    let steps = env_number("EXTISM_PLAYGROUND_STRESS_STEPS")
        .map_or(150, |n| usize::try_from(n).expect("a step count"));
    let seeds: Vec<u64> = match env_number("EXTISM_PLAYGROUND_STRESS_SEED") {
        Some(seed) => vec![seed],
        None => vec![1, 2, 3],
    };
    for seed in seeds {
        let tally = walk(seed, steps);
        // The walk did what it is for: calls started and ended, and files asked and were answered.
        assert!(tally.runs >= steps / 20, "seed {seed}: only {tally:?}");
        assert!(tally.answers >= steps / 60, "seed {seed}: only {tally:?}");
    }
}
