//! How a call's report is written: `--json`, or logs, output and timings for people.

use std::io::Write;

use serde::Serialize;

use crate::runner::report::{CallError, HostCall, MemoryFigures, Timings};
use crate::runner::{CallReport, LogEntry};

/// The `--json` report.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub ok: bool,
    pub function: &'a str,
    pub output: String,
    pub error: Option<&'a CallError>,
    pub timings: &'a Timings,
    pub logs: &'a [LogEntry],
    pub logs_dropped: u64,
    pub host_calls: &'a [HostCall],
    pub fuel_consumed: Option<u64>,
    /// The main module's memory around the call, in pages.
    pub memory: Option<&'a MemoryFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<JsonStats>,
    /// With `--find-limits`: the smallest limits that keep the outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<crate::runner::limits::Limits>,
    /// Where the plugin was pulled from, when it came from a registry: the reference, the
    /// manifest and layer digests, and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<crate::registry::Pin>,
}

/// Loop statistics without the per-call durations.
#[derive(Serialize)]
pub struct JsonStats {
    pub calls: u64,
    pub min_us: f64,
    pub median_us: f64,
    pub p95_us: f64,
    pub max_us: f64,
}

impl<'a> JsonReport<'a> {
    pub fn of(report: &'a CallReport) -> Self {
        Self {
            ok: report.is_ok(),
            function: &report.function,
            output: String::from_utf8_lossy(&report.output).into_owned(),
            error: report.error.as_ref(),
            timings: &report.timings,
            logs: &report.logs,
            logs_dropped: report.logs_dropped,
            host_calls: &report.host_calls,
            fuel_consumed: report.fuel_consumed,
            memory: report.memory.as_ref(),
            limits: None,
            registry: None,
            stats: report.stats.as_ref().map(|s| JsonStats {
                calls: s.calls,
                min_us: s.min_us,
                median_us: s.median_us,
                p95_us: s.p95_us,
                max_us: s.max_us,
            }),
        }
    }
}

/// The call's logs on stderr, one `[level source] message` line each.
pub(super) fn print_logs(report: &CallReport) {
    let mut err = std::io::stderr().lock();
    for log in &report.logs {
        let _ = writeln!(
            err,
            "[{} {}] {}",
            log.level,
            log.source.as_str(),
            log.message
        );
    }
    if report.logs_dropped > 0 {
        let _ = writeln!(err, "({} more log lines dropped)", report.logs_dropped);
    }
}

pub(super) fn print_report(
    report: &CallReport,
    json: bool,
    limits: Option<&crate::runner::limits::Limits>,
    registry: Option<&crate::registry::Pin>,
) {
    if json {
        let mut out = JsonReport::of(report);
        out.limits = limits.copied();
        out.registry = registry.cloned();
        let text = serde_json::to_string_pretty(&out)
            .unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":\"{e}\"}}"));
        println!("{text}");
        return;
    }
    print_logs(report);
    let mut err = std::io::stderr().lock();
    if let Some(stats) = &report.stats {
        let per_s = if stats.median_us > 0.0 {
            1e6 / stats.median_us
        } else {
            0.0
        };
        let _ = writeln!(
            err,
            "{} calls: min {:.1} µs, median {:.1} µs, p95 {:.1} µs, max {:.1} µs ({per_s:.0} calls/s at the median)",
            stats.calls, stats.min_us, stats.median_us, stats.p95_us, stats.max_us
        );
    }
    if let Some(error) = &report.error {
        let _ = writeln!(err, "error ({}): {}", error.kind, error.with_backtrace());
    }
    drop(err);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&report.output);
    if !report.output.is_empty()
        && std::io::IsTerminal::is_terminal(&out)
        && !report.output.ends_with(b"\n")
    {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}
