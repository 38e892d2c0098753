//! Inside the worker: collects what one call says. PDK log events arrive through a `tracing`
//! layer (target `extism::pdk`, routed by the `plugin` field), host-function logs and calls are
//! recorded by the host functions, and the plugin's WASI stdout/stderr are captured by pointing
//! the worker's own fd 1 and 2 at pipes (extism writes WASI output to the process's stdio).

use std::io::{Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::report::{HostCall, LogEntry, LogLevel, LogSource};

/// Log lines one call keeps; later ones are counted as dropped.
pub(crate) const MAX_LOG_LINES: usize = 200_000;
/// Host-call records one call keeps.
const MAX_HOST_CALLS: usize = 100_000;
/// Longest log line kept, in bytes; longer lines are cut.
const MAX_LINE_BYTES: usize = 16 * 1024;
/// Log text one call keeps, in bytes, so a report always fits the protocol's header limit.
const MAX_LOG_BYTES: usize = 64 * 1024 * 1024;

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

fn cut(message: &str) -> String {
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

/// The worker's captured stdio: each stream's reader thread signals when it has read a sync
/// marker, so everything written before the marker is known to be recorded.
pub(crate) struct StdioCapture {
    marker: String,
    synced: mpsc::Receiver<()>,
    streams: usize,
}

/// How long [`StdioCapture::sync`] waits for the readers before giving up.
const SYNC_TIMEOUT: Duration = Duration::from_secs(2);

impl StdioCapture {
    /// Points fd 1 and 2 at pipes read by named threads, and returns a handle on the original
    /// stdout for the worker protocol.
    #[cfg(unix)]
    pub fn install(recorder: &Arc<Recorder>) -> std::io::Result<(std::fs::File, Self)> {
        use std::os::fd::AsFd;

        let protocol = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
        let marker = format!("\u{1}extism-playground-sync-{}\u{1}", std::process::id());
        let (tx, synced) = mpsc::channel();
        for (source, level) in [
            (LogSource::Stdout, LogLevel::Info),
            (LogSource::Stderr, LogLevel::Warn),
        ] {
            let (reader, writer) = std::io::pipe()?;
            match source {
                LogSource::Stdout => rustix::stdio::dup2_stdout(&writer)?,
                _ => rustix::stdio::dup2_stderr(&writer)?,
            }
            drop(writer);
            let recorder = Arc::clone(recorder);
            let marker = marker.clone();
            let tx = tx.clone();
            std::thread::Builder::new()
                .name(format!("wasi-{}", source.as_str()))
                .spawn(move || {
                    read_lines(reader, &marker, &tx, |line| {
                        recorder.log(level, source, line);
                    });
                })?;
        }
        Ok((
            protocol,
            Self {
                marker,
                synced,
                streams: 2,
            },
        ))
    }

    /// Without fd redirection, WASI output is not captured.
    #[cfg(not(unix))]
    pub fn install(_recorder: &Arc<Recorder>) -> std::io::Result<(std::fs::File, Self)> {
        Err(std::io::Error::other(
            "capturing WASI output needs a unix host",
        ))
    }

    /// Waits until everything written to stdout/stderr so far has been recorded.
    pub fn sync(&self) {
        let marker = format!("{}\n", self.marker);
        {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(marker.as_bytes());
            let _ = out.flush();
        }
        {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(marker.as_bytes());
            let _ = err.flush();
        }
        for _ in 0..self.streams {
            if self.synced.recv_timeout(SYNC_TIMEOUT).is_err() {
                break;
            }
        }
    }
}

/// Reads `reader` line by line into `emit` until EOF; a line ending in `marker` flushes the text
/// before it and signals `synced`.
fn read_lines(mut reader: impl Read, marker: &str, synced: &mpsc::Sender<()>, emit: impl Fn(&str)) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(pos) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + pos];
            let text = String::from_utf8_lossy(line);
            let text = text.strip_suffix('\r').unwrap_or(&text);
            if let Some(before) = text.strip_suffix(marker) {
                if !before.is_empty() {
                    emit(before);
                }
                let _ = synced.send(());
            } else {
                emit(text);
            }
            start += pos + 1;
        }
        pending.drain(..start);
        // A plugin that never writes a newline must not grow this without bound.
        if pending.len() > MAX_LINE_BYTES * 4 {
            emit(&String::from_utf8_lossy(&pending));
            pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_and_marker_flushes_partial_line() {
        let (tx, rx) = mpsc::channel();
        let lines = Mutex::new(Vec::new());
        let input = b"one\r\ntwo\npartial<M>\nthree\n".to_vec();
        read_lines(&input[..], "<M>", &tx, |l| {
            lines.lock().unwrap().push(l.to_string());
        });
        assert_eq!(*lines.lock().unwrap(), ["one", "two", "partial", "three"]);
        assert!(rx.try_recv().is_ok());
    }

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
