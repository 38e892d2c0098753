//! What the results area shows of a finished call, computed once per report (line index of the
//! output, pretty JSON, filtered log rows, the bench histogram) so big outputs and log floods
//! never re-scan per frame. Also the JSON check of the input editor.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::runner::{CallReport, LogEntry, LogLevel};

/// Which log lines the log table shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogFilter {
    pub min_level: LogLevel,
    /// Text the message must contain (any case).
    pub text: String,
}

impl Default for LogFilter {
    fn default() -> Self {
        Self {
            min_level: LogLevel::Trace,
            text: String::new(),
        }
    }
}

/// Output lines indexed for the text view; beyond this, the rest is only in "save".
const MAX_INDEXED_LINES: usize = 2_000_000;
/// Outputs bigger than this are not pretty-printed.
const MAX_PRETTY_BYTES: usize = 16 * 1024 * 1024;

/// Where the input stops being JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Checks that `text` is one JSON value; empty input (no input at all) is fine too.
pub fn check_json(text: &str) -> Result<(), JsonError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| {
            let message = e.to_string();
            // serde_json appends " at line L column C"; the position is shown separately.
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            JsonError {
                line: e.line(),
                column: e.column(),
                message,
            }
        })
}

/// Byte ranges of the lines of `bytes` (without their `\n`).
pub fn line_ranges(bytes: &[u8], max: usize) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            lines.push(start..i);
            start = i + 1;
            if lines.len() >= max {
                return lines;
            }
        }
    }
    if start < bytes.len() {
        lines.push(start..bytes.len());
    }
    lines
}

/// The output pretty-printed, if it is JSON.
pub struct PrettyJson {
    pub text: String,
    pub lines: Vec<Range<usize>>,
}

/// A finished call and what the views derive from it.
pub struct RunView {
    pub report: CallReport,
    pub output_lines: Vec<Range<usize>>,
    /// Whether `output_lines` stops before the end of the output.
    pub output_lines_cut: bool,
    /// `None` when the output is not JSON (or too big to pretty-print).
    pretty: Option<PrettyJson>,
    /// Indices of the log entries the filter lets through, with the filter they were made for.
    log_rows: Option<(LogFilter, Vec<usize>)>,
    /// The histogram of a bench run's call durations.
    histogram: Option<Histogram>,
}

/// Call durations of a bench run in equal-width bins.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Bin centers (µs) and counts.
    pub bins: Vec<(f64, u64)>,
    pub bin_width_us: f64,
    /// Calls slower than the last bin (beyond the 99th percentile).
    pub beyond: u64,
}

/// Bins in a bench histogram.
const HISTOGRAM_BINS: u32 = 40;

impl Histogram {
    /// Bins `durations_us` from the fastest call to the 99th percentile.
    pub fn of(durations_us: &[f64]) -> Self {
        if durations_us.is_empty() {
            return Self::default();
        }
        let mut sorted = durations_us.to_vec();
        sorted.sort_by(f64::total_cmp);
        let low = sorted[0];
        #[expect(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "index math on a sorted sample"
        )]
        let high = sorted[((sorted.len() as f64 * 0.99) as usize).min(sorted.len() - 1)];
        let width = ((high - low) / f64::from(HISTOGRAM_BINS)).max(0.001);
        let mut counts = vec![0u64; HISTOGRAM_BINS as usize];
        let mut beyond = 0;
        for d in durations_us {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "non-negative bin index"
            )]
            let bin = ((d - low) / width) as usize;
            match counts.get_mut(bin) {
                Some(c) => *c += 1,
                None if *d <= high => *counts.last_mut().expect("bins") += 1,
                None => beyond += 1,
            }
        }
        let bins = counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                #[expect(clippy::cast_precision_loss, reason = "small bin index")]
                let center = low + (i as f64 + 0.5) * width;
                (center, c)
            })
            .collect();
        Self {
            bins,
            bin_width_us: width,
            beyond,
        }
    }
}

impl RunView {
    /// Indexes `report` for the views: output lines, pretty JSON, the bench histogram. Meant
    /// to run off the UI thread (it scans the whole output).
    pub fn new(report: CallReport) -> Self {
        let output_lines = line_ranges(&report.output, MAX_INDEXED_LINES);
        let output_lines_cut = output_lines
            .last()
            .is_some_and(|l| l.end < report.output.len().saturating_sub(1));
        let pretty = pretty(&report.output);
        let histogram = report
            .stats
            .as_ref()
            .map(|stats| Histogram::of(&stats.durations_us));
        Self {
            report,
            output_lines,
            output_lines_cut,
            pretty,
            log_rows: None,
            histogram,
        }
    }

    /// The output pretty-printed as JSON, if it is JSON.
    pub fn pretty_json(&self) -> Option<&PrettyJson> {
        self.pretty.as_ref()
    }

    /// The log entries `filter` lets through (cached per filter).
    pub fn log_rows(&mut self, filter: &LogFilter) -> &[usize] {
        let stale = self.log_rows.as_ref().is_none_or(|(f, _)| f != filter);
        if stale {
            let needle = filter.text.to_lowercase();
            let rows = self
                .report
                .logs
                .iter()
                .enumerate()
                .filter(|(_, log)| passes(log, filter, &needle))
                .map(|(i, _)| i)
                .collect();
            self.log_rows = Some((filter.clone(), rows));
        }
        &self.log_rows.as_ref().expect("just computed").1
    }

    /// The histogram of a bench run's call durations.
    pub fn histogram(&self) -> Option<&Histogram> {
        self.histogram.as_ref()
    }

    /// Forgets the call's logs (the Clear button).
    pub fn clear_logs(&mut self) {
        self.report.logs.clear();
        self.report.logs_dropped = 0;
        self.log_rows = None;
    }
}

/// `output` pretty-printed, if it is JSON and not too big.
fn pretty(output: &[u8]) -> Option<PrettyJson> {
    if output.len() > MAX_PRETTY_BYTES {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(output).ok()?;
    let text = serde_json::to_string_pretty(&value).ok()?;
    let lines = line_ranges(text.as_bytes(), usize::MAX);
    Some(PrettyJson { text, lines })
}

fn passes(log: &LogEntry, filter: &LogFilter, needle_lower: &str) -> bool {
    log.level >= filter.min_level
        && (needle_lower.is_empty() || log.message.to_lowercase().contains(needle_lower))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::LogSource;

    #[test]
    fn json_errors_have_line_and_column() {
        assert!(check_json("{\"a\": [1, 2]}").is_ok());
        assert!(check_json("  \n").is_ok(), "no input is not an error");
        let e = check_json("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert_eq!((e.line, e.column), (3, 7));
        assert!(e.message.contains("expected `:`"), "{}", e.message);
        assert!(!e.message.contains("at line"));
    }

    #[test]
    fn lines_are_indexed_with_and_without_trailing_newline() {
        assert_eq!(line_ranges(b"a\nbc\n", 10), [0..1, 2..4]);
        assert_eq!(line_ranges(b"a\nbc", 10), [0..1, 2..4]);
        assert_eq!(line_ranges(b"", 10), Vec::<Range<usize>>::new());
        assert_eq!(line_ranges(b"1\n2\n3\n", 2).len(), 2);
    }

    #[test]
    fn log_rows_follow_the_filter() {
        let log = |level, message: &str| LogEntry {
            offset_us: 0,
            level,
            source: LogSource::Pdk,
            message: message.into(),
        };
        let report = CallReport {
            logs: vec![
                log(LogLevel::Debug, "Alpha"),
                log(LogLevel::Warn, "beta"),
                log(LogLevel::Error, "alphabet"),
            ],
            ..CallReport::default()
        };
        let mut view = RunView::new(report);
        let mut filter = LogFilter::default();
        assert_eq!(view.log_rows(&filter), [0, 1, 2]);
        filter.min_level = LogLevel::Warn;
        assert_eq!(view.log_rows(&filter), [1, 2]);
        filter.text = "ALPHA".into();
        assert_eq!(view.log_rows(&filter), [2]);
        view.clear_logs();
        assert!(view.log_rows(&filter).is_empty());
    }

    #[test]
    fn histogram_counts_every_call() {
        let durations: Vec<f64> = (0..1000)
            .map(|i| 10.0 + f64::from(i % 100))
            .chain([5000.0])
            .collect();
        let h = Histogram::of(&durations);
        assert_eq!(h.bins.len(), 40);
        assert_eq!(h.bins.iter().map(|(_, c)| c).sum::<u64>() + h.beyond, 1001);
        assert_eq!(
            h.beyond, 1,
            "the 5 ms outlier is beyond the 99th percentile"
        );
        assert!(h.bins[0].0 > 10.0 && h.bins[0].0 < 12.0, "{:?}", h.bins[0]);
    }

    #[test]
    fn pretty_json_only_for_json() {
        let view = RunView::new(CallReport {
            output: br#"{"a":[1,2]}"#.to_vec(),
            ..CallReport::default()
        });
        assert_eq!(view.pretty_json().unwrap().lines.len(), 6);
        let view = RunView::new(CallReport {
            output: b"plain".to_vec(),
            ..CallReport::default()
        });
        assert!(view.pretty_json().is_none());
    }
}
