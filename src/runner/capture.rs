//! Inside the worker: collects what one call says. PDK log events arrive through a `tracing`
//! layer (target `extism::pdk`, routed by the `plugin` field), host-function logs and calls are
//! recorded by the host functions. The plugin's WASI stdout/stderr go to the worker's own
//! stdout and stderr, read by the session (`runner::output`); here the worker only marks where
//! each call's output begins and ends.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::report::{HostCall, LogEntry, LogLevel, LogSource};

/// Log lines one call keeps; later ones are counted as dropped.
pub(crate) const MAX_LOG_LINES: usize = 200_000;
/// Host-call records one call keeps.
const MAX_HOST_CALLS: usize = 100_000;
/// Longest log line kept, in bytes; longer lines are cut.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024;
/// Log text one call keeps, in bytes, so a report always fits the protocol's header limit.
pub(crate) const MAX_LOG_BYTES: usize = 64 * 1024 * 1024;

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[derive(Default)]
struct Current {
    active: bool,
    plugin_id: String,
    started: Option<Instant>,
    level: LogLevel,
    logs: Vec<LogEntry>,
    log_bytes: usize,
    dropped: u64,
    host_calls: Vec<HostCall>,
}

/// What one call said, as collected.
pub(crate) struct Collected {
    pub logs: Vec<LogEntry>,
    pub dropped: u64,
    pub host_calls: Vec<HostCall>,
}

/// Collects logs and host calls for the call in progress.
#[derive(Default)]
pub(crate) struct Recorder {
    current: Mutex<Current>,
    /// The ids of the mock-host plugin instances: their PDK logs belong to the call too.
    mock_ids: Mutex<Vec<String>>,
    /// The id of the instance of the plugin an xtp test drives: its PDK logs belong to the
    /// call too.
    under_test_id: Mutex<Option<String>>,
}

pub(crate) fn cut(message: &str) -> String {
    if message.len() <= MAX_LINE_BYTES {
        return message.to_string();
    }
    let mut end = MAX_LINE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &message[..end], message.len())
}

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, Current> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts collecting for a call of plugin `plugin_id`, keeping logs at `level` and above.
    pub fn begin(&self, plugin_id: String, level: LogLevel) {
        let mut c = self.lock();
        *c = Current {
            active: true,
            plugin_id,
            started: Some(Instant::now()),
            level,
            ..Current::default()
        };
    }

    /// Stops collecting and hands over what was collected.
    pub fn finish(&self) -> Collected {
        let mut c = self.lock();
        c.active = false;
        Collected {
            logs: std::mem::take(&mut c.logs),
            dropped: c.dropped,
            host_calls: std::mem::take(&mut c.host_calls),
        }
    }

    /// Records a log line of the call in progress.
    pub fn log(&self, level: LogLevel, source: LogSource, message: &str) {
        let mut c = self.lock();
        Self::push(&mut c, level, source, message);
    }

    fn push(c: &mut Current, level: LogLevel, source: LogSource, message: &str) {
        if !c.active || level < c.level {
            return;
        }
        if c.logs.len() >= MAX_LOG_LINES
            || c.log_bytes + message.len().min(MAX_LINE_BYTES) > MAX_LOG_BYTES
        {
            c.dropped += 1;
            return;
        }
        let offset_us = c.started.map_or(0, |s| micros(s.elapsed()));
        let message = cut(message);
        c.log_bytes += message.len();
        c.logs.push(LogEntry {
            offset_us,
            level,
            source,
            message,
        });
    }

    /// Says which plugin ids are mock-host plugins of the current instance.
    pub fn set_mock_ids(&self, ids: Vec<String>) {
        *self
            .mock_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = ids;
    }

    /// Says which plugin id is the instance an xtp test drives (`None` outside xtp runs).
    pub fn set_under_test_id(&self, id: Option<String>) {
        *self
            .under_test_id
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = id;
    }

    /// Records a PDK log line, if it belongs to the plugin of the call in progress (or to one
    /// of its mock-host plugins, whose lines are the host's, or to the plugin an xtp test
    /// drives, marked as such).
    pub fn pdk_log(&self, plugin_id: Option<&str>, level: LogLevel, message: &str) {
        let is_mock = plugin_id.is_some_and(|id| {
            self.mock_ids
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .any(|m| m == id)
        });
        let under_test = plugin_id.is_some_and(|id| {
            self.under_test_id
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_deref()
                == Some(id)
        });
        let mut c = self.lock();
        if under_test {
            Self::push(
                &mut c,
                level,
                LogSource::Pdk,
                &format!("[plugin under test] {message}"),
            );
            return;
        }
        if is_mock {
            Self::push(
                &mut c,
                level,
                LogSource::Host,
                &format!("[mock host] {message}"),
            );
            return;
        }
        if plugin_id.is_some_and(|id| id != c.plugin_id) {
            return;
        }
        Self::push(&mut c, level, LogSource::Pdk, message);
    }

    /// Whether a host call made now would be recorded (a call is being collected and the
    /// record is not full), so its summaries are worth making.
    pub fn wants_host_calls(&self) -> bool {
        let c = self.lock();
        c.active && c.host_calls.len() < MAX_HOST_CALLS
    }

    /// Records a host-function call that started at `started`.
    pub fn host_call(&self, function: &str, args: String, result: String, started: Instant) {
        let mut c = self.lock();
        if !c.active || c.host_calls.len() >= MAX_HOST_CALLS {
            return;
        }
        let offset_us = c
            .started
            .map_or(0, |s| micros(started.saturating_duration_since(s)));
        c.host_calls.push(HostCall {
            function: function.to_string(),
            args,
            result,
            offset_us,
            duration_us: micros(started.elapsed()),
        });
    }
}

/// A `tracing` layer that hands extism's PDK log events to the recorder.
pub(crate) struct PdkLogLayer {
    pub recorder: Arc<Recorder>,
}

const PDK_TARGET: &str = "extism::pdk";

#[derive(Default)]
struct PdkFields {
    plugin: Option<String>,
    message: String,
}

impl tracing::field::Visit for PdkFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "plugin" => self.plugin = Some(value.to_string()),
            "message" => self.message = value.to_string(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "plugin" => self.plugin = Some(format!("{value:?}").trim_matches('"').to_string()),
            "message" => self.message = format!("{value:?}"),
            _ => {}
        }
    }
}

fn level_of(level: tracing::Level) -> LogLevel {
    match level {
        tracing::Level::TRACE => LogLevel::Trace,
        tracing::Level::DEBUG => LogLevel::Debug,
        tracing::Level::INFO => LogLevel::Info,
        tracing::Level::WARN => LogLevel::Warn,
        tracing::Level::ERROR => LogLevel::Error,
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PdkLogLayer {
    /// Decided once per callsite: extism's own (frequent) trace events then cost nothing per
    /// call, and only the PDK's log events are ever built.
    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if metadata.target() == PDK_TARGET {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(
        &self,
        metadata: &tracing::Metadata<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        metadata.target() == PDK_TARGET
    }

    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = PdkFields::default();
        event.record(&mut fields);
        self.recorder.pdk_log(
            fields.plugin.as_deref(),
            level_of(*event.metadata().level()),
            &fields.message,
        );
    }
}

/// Writes the markers around a call into the worker's stdout and stderr, where the session
/// reads the plugin's WASI output (see `runner::output`).
pub(crate) struct Markers {
    token: String,
    seq: u64,
}

impl Markers {
    pub fn new(token: &str) -> Self {
        Self {
            token: token.to_string(),
            seq: 0,
        }
    }

    /// Marks the start of a new call; returns its number.
    pub fn begin(&mut self) -> u64 {
        self.seq += 1;
        self.write(super::output::Edge::Begin);
        self.seq
    }

    /// Marks the end of the call begun last. The plugin's writes go straight to the streams
    /// (wasi-common does not buffer), so everything it wrote is before this marker.
    pub fn end(&self) {
        self.write(super::output::Edge::End);
    }

    fn write(&self, edge: super::output::Edge) {
        let line = format!("{}\n", super::output::marker(&self.token, edge, self.seq));
        {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_filters_by_level_plugin_and_cap() {
        let r = Recorder::default();
        r.log(LogLevel::Error, LogSource::Host, "before begin is ignored");
        r.begin("p1".into(), LogLevel::Info);
        r.log(LogLevel::Debug, LogSource::Host, "below level");
        r.pdk_log(Some("p2"), LogLevel::Info, "other plugin");
        r.pdk_log(Some("p1"), LogLevel::Warn, "kept");
        let c = r.finish();
        assert_eq!(c.logs.len(), 1);
        assert_eq!(c.logs[0].message, "kept");
        assert_eq!(c.logs[0].source, LogSource::Pdk);
    }
}
