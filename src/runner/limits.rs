//! The limit finder: the smallest memory (in pages) and fuel with which a call still gives the
//! outcome it gives without those limits, found by probing, each probe a call on a fresh
//! instance. A wall-clock minimum would be noise, so the timeout is the measured call time
//! times [`TIMEOUT_MARGIN`]. The suggestion adds [`SUGGESTED_MARGIN_PERCENT`] to the minimums.

use serde::Serialize;

use super::options::SandboxOptions;
use super::report::{CallReport, ErrorKind};
use super::session::{CallRequest, Canceller, Session};

/// The suggested timeout is this many times the slowest measured call.
pub const TIMEOUT_MARGIN: f64 = 10.0;
/// The suggested memory and fuel are the minimums plus this share.
pub const SUGGESTED_MARGIN_PERCENT: u64 = 25;
/// The largest memory probed: 4 GiB, all a 32-bit memory can address.
const MAX_PAGES: u64 = 65_536;
/// The fuel of the unlimited run, large enough for any call that finishes.
const UNLIMITED_FUEL: u64 = u64::MAX / 4;

/// What the search found: the minimums (`--json`'s `limits`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// The fewest 64 KiB pages (extism's `memory.max_pages`) with the same outcome.
    pub memory_pages: Option<u32>,
    /// The least fuel with the same outcome.
    pub fuel: Option<u64>,
    /// The slowest measured call times [`TIMEOUT_MARGIN`], in milliseconds, rounded up.
    pub timeout_ms: u64,
}

/// The search's result, with what it measured on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub limits: Limits,
    /// The slowest call among the probes that gave the expected outcome.
    pub slowest_call_ms: f64,
    /// The outcome every limit keeps (`ok` or the error kind).
    pub outcome: String,
    /// How many calls the search made.
    pub probes: u32,
}

impl Found {
    /// The minimums plus [`SUGGESTED_MARGIN_PERCENT`], at least one page or unit more.
    pub fn suggested_pages(&self) -> Option<u64> {
        self.limits.memory_pages.map(|p| with_margin(u64::from(p)))
    }

    pub fn suggested_fuel(&self) -> Option<u64> {
        self.limits.fuel.map(with_margin)
    }

    /// The manifest fields to set, as JSON (fuel is not a manifest field: it is given to the
    /// host's plugin builder, so it is a note beside it).
    pub fn manifest_snippet(&self) -> String {
        let mut manifest = serde_json::Map::new();
        if let Some(pages) = self.suggested_pages() {
            manifest.insert("memory".into(), serde_json::json!({ "max_pages": pages }));
        }
        manifest.insert("timeout_ms".into(), self.limits.timeout_ms.into());
        serde_json::to_string_pretty(&serde_json::Value::Object(manifest)).unwrap_or_default()
    }

    /// The whole result as text: minimums, the snippet, the margins stated.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "outcome kept: {} ({} probe calls)",
            self.outcome, self.probes
        );
        match self.limits.memory_pages {
            Some(0) => {
                let _ = writeln!(
                    s,
                    "memory: the call keeps its outcome with no growth at all"
                );
            }
            Some(p) => {
                let _ = writeln!(
                    s,
                    "memory: {p} pages ({} KiB) at least; one page less changes the outcome",
                    u64::from(p) * 64
                );
            }
            None => {
                let _ = writeln!(s, "memory: no limit keeps the outcome");
            }
        }
        match self.limits.fuel {
            Some(f) => {
                let _ = writeln!(s, "fuel: {f} at least");
            }
            None => {
                let _ = writeln!(s, "fuel: no limit keeps the outcome");
            }
        }
        let _ = writeln!(
            s,
            "timeout: {} ms = {TIMEOUT_MARGIN}× the slowest call measured ({:.2} ms)",
            self.limits.timeout_ms, self.slowest_call_ms
        );
        let _ = writeln!(
            s,
            "\nsuggested manifest (memory +{SUGGESTED_MARGIN_PERCENT}%, timeout {TIMEOUT_MARGIN}×):\n{}",
            self.manifest_snippet()
        );
        if let Some(fuel) = self.suggested_fuel() {
            let _ = writeln!(
                s,
                "fuel +{SUGGESTED_MARGIN_PERCENT}%: {fuel} (not a manifest field: `PluginBuilder::with_fuel_limit({fuel})`, `--fuel {fuel}`, or `fuel = {fuel}` in a suite)"
            );
        }
        s
    }
}

fn with_margin(n: u64) -> u64 {
    n.saturating_add((n * SUGGESTED_MARGIN_PERCENT).div_ceil(100).max(1))
}

/// Why no limits were found.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("the search was stopped")]
    Stopped,
    #[error("the call does not finish without limits, so there is nothing to keep: {0}")]
    NoBaseline(String),
}

/// One step of the search, for a progress line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Calls made so far.
    pub done: u32,
    /// What the last one tried, e.g. `memory 17 pages: same outcome`.
    pub last: String,
}

/// What a call gave, as compared between probes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Output(Vec<u8>),
    Failed(ErrorKind),
}

impl Outcome {
    fn of(report: &CallReport) -> Self {
        match report.error_kind() {
            None => Self::Output(report.output.clone()),
            Some(kind) => Self::Failed(kind),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Output(bytes) => format!("ok ({} bytes of output)", bytes.len()),
            Self::Failed(kind) => format!("fails with {kind}"),
        }
    }
}

/// Runs the search for `request` on a session of its own (made from `session`, which is not
/// touched), reporting each probe to `progress`; `stop` ends it between (and during) probes.
pub fn find(
    session: &Session,
    request: &CallRequest,
    stop: &Canceller,
    progress: &mut dyn FnMut(Probe),
) -> Result<Found, LimitError> {
    let probe_session = session.detached();
    let base = session.options().as_ref().clone();
    let mut searcher = Searcher {
        session: probe_session,
        request: CallRequest {
            fresh_instance: true,
            loops: 1,
            coredump: false,
            ..request.clone()
        },
        stop,
        progress,
        done: 0,
        slowest_ms: 0.0,
        expected: None,
    };
    // The unlimited run, metered so it says how much fuel it used.
    let unlimited = SandboxOptions {
        memory_max_pages: None,
        fuel_limit: Some(UNLIMITED_FUEL),
        ..base.clone()
    };
    let baseline = searcher.call(&unlimited, "without limits")?;
    if matches!(
        baseline.error_kind(),
        Some(ErrorKind::Timeout | ErrorKind::Cancelled | ErrorKind::Load | ErrorKind::OutOfFuel)
    ) {
        let message = baseline.error.map(|e| e.message).unwrap_or_default();
        return Err(LimitError::NoBaseline(message));
    }
    let expected = Outcome::of(&baseline);
    searcher.slowest_ms = baseline.timings.call_ms;
    searcher.expected = Some(expected.clone());

    let peak = baseline.memory.map_or(1, |m| m.peak_pages.max(1));
    let memory_pages = searcher
        .smallest(
            peak,
            MAX_PAGES,
            &|pages| SandboxOptions {
                memory_max_pages: u32::try_from(pages).ok(),
                fuel_limit: None,
                ..base.clone()
            },
            "memory",
            "pages",
        )?
        .and_then(|p| u32::try_from(p).ok());
    let used = baseline.fuel_consumed.unwrap_or(1).max(1);
    let fuel = searcher.smallest(
        used,
        UNLIMITED_FUEL,
        &|fuel| SandboxOptions {
            memory_max_pages: None,
            fuel_limit: Some(fuel),
            ..base.clone()
        },
        "fuel",
        "units",
    )?;
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let timeout_ms = ((searcher.slowest_ms * TIMEOUT_MARGIN).ceil() as u64)
        .div_ceil(10)
        .max(1)
        * 10;
    Ok(Found {
        limits: Limits {
            memory_pages,
            fuel,
            timeout_ms,
        },
        slowest_call_ms: searcher.slowest_ms,
        outcome: expected.describe(),
        probes: searcher.done,
    })
}

struct Searcher<'a> {
    session: Session,
    request: CallRequest,
    stop: &'a Canceller,
    progress: &'a mut dyn FnMut(Probe),
    done: u32,
    slowest_ms: f64,
    expected: Option<Outcome>,
}

impl Searcher<'_> {
    fn call(&mut self, options: &SandboxOptions, what: &str) -> Result<CallReport, LimitError> {
        if self.stop.is_cancelled() {
            return Err(LimitError::Stopped);
        }
        self.session.set_options(options.clone());
        let report = self.session.call_stoppable(self.request.clone(), self.stop);
        if self.stop.is_cancelled() {
            return Err(LimitError::Stopped);
        }
        self.done += 1;
        let verdict = match &self.expected {
            None => Outcome::of(&report).describe(),
            Some(expected) if *expected == Outcome::of(&report) => "same outcome".to_string(),
            Some(_) => format!("differs ({})", Outcome::of(&report).describe()),
        };
        (self.progress)(Probe {
            done: self.done,
            last: format!("{what}: {verdict}"),
        });
        Ok(report)
    }

    /// Whether the call keeps its outcome under `options`.
    fn keeps(&mut self, options: &SandboxOptions, what: &str) -> Result<bool, LimitError> {
        let report = self.call(options, what)?;
        let same = self.expected.as_ref() == Some(&Outcome::of(&report));
        if same {
            self.slowest_ms = self.slowest_ms.max(report.timings.call_ms);
        }
        Ok(same)
    }

    /// [`smallest`] with each probe a call under `options(n)`.
    fn smallest(
        &mut self,
        guess: u64,
        max: u64,
        options: &impl Fn(u64) -> SandboxOptions,
        what: &str,
        unit: &str,
    ) -> Result<Option<u64>, LimitError> {
        smallest(guess, max, |n| {
            self.keeps(&options(n), &format!("{what} {n} {unit}"))
        })
    }
}

/// The smallest `n` in 0..=`max` for which `keeps(n)`, assuming a larger limit never changes a
/// kept outcome. Starts at `guess` (what the unlimited run used): a guess that holds while one
/// less does not settles it in two probes; otherwise it moves away from the guess (down when
/// it holds, up when it fails) by doubling steps until the outcome changes, then bisects. A
/// result above 0 always had one less probed and failing.
fn smallest(
    guess: u64,
    max: u64,
    mut keeps: impl FnMut(u64) -> Result<bool, LimitError>,
) -> Result<Option<u64>, LimitError> {
    let guess = guess.min(max);
    // The answer lies in `low..=holds`: every value below `low` is known to fail (or `low` is
    // 0), and `holds` is known to keep the outcome.
    let (mut low, mut holds);
    if keeps(guess)? {
        if guess == 0 || !keeps(guess - 1)? {
            return Ok(Some(guess));
        }
        holds = guess - 1;
        low = 0;
        let mut step = 1;
        while let Some(candidate) = holds.checked_sub(step) {
            if keeps(candidate)? {
                holds = candidate;
                step = step.saturating_mul(2);
            } else {
                low = candidate + 1;
                break;
            }
        }
    } else {
        low = guess + 1;
        let mut step = 1;
        loop {
            if low > max {
                return Ok(None);
            }
            let candidate = guess.saturating_add(step).min(max);
            if keeps(candidate)? {
                holds = candidate;
                break;
            }
            low = candidate + 1;
            step = step.saturating_mul(2);
        }
    }
    while low < holds {
        let mid = low + (holds - low) / 2;
        if keeps(mid)? {
            holds = mid;
        } else {
            low = mid + 1;
        }
    }
    Ok(Some(holds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_finds_every_threshold_from_every_guess() {
        const MAX: u64 = 64;
        for threshold in 0..=MAX + 3 {
            for guess in 0..=MAX + 3 {
                let mut probed = Vec::new();
                let found = smallest(guess, MAX, |n| {
                    assert!(n <= MAX, "never past the maximum");
                    probed.push(n);
                    Ok(n >= threshold)
                })
                .unwrap();
                let want = (threshold <= MAX).then_some(threshold);
                assert_eq!(found, want, "threshold {threshold}, guess {guess}");
                if let Some(found) = found {
                    assert!(probed.contains(&found));
                    assert!(
                        found == 0 || probed.contains(&(found - 1)),
                        "one less was tried"
                    );
                }
                // Near the guess it is quick; it never probes much more than twice log2.
                assert!(probed.len() <= 16, "{probed:?}");
            }
        }
    }

    #[test]
    fn a_stop_ends_the_search() {
        let mut calls = 0;
        let result = smallest(10, 64, |_| {
            calls += 1;
            if calls == 3 {
                Err(LimitError::Stopped)
            } else {
                Ok(true)
            }
        });
        assert!(matches!(result, Err(LimitError::Stopped)));
        assert_eq!(calls, 3);
    }

    #[test]
    fn margins_round_up() {
        assert_eq!(with_margin(1), 2);
        assert_eq!(with_margin(17), 22);
        assert_eq!(with_margin(400), 500);
    }

    #[test]
    fn the_snippet_is_a_manifest_fragment() {
        let found = Found {
            limits: Limits {
                memory_pages: Some(20),
                fuel: Some(1000),
                timeout_ms: 30,
            },
            slowest_call_ms: 2.5,
            outcome: "ok".into(),
            probes: 7,
        };
        let json: serde_json::Value = serde_json::from_str(&found.manifest_snippet()).unwrap();
        assert_eq!(json["memory"]["max_pages"], 25);
        assert_eq!(json["timeout_ms"], 30);
        assert!(
            found.summary().contains("with_fuel_limit(1250)"),
            "{}",
            found.summary()
        );
    }
}
