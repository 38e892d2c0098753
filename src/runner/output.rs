//! The plugin's WASI stdout and stderr, as the session reads them from its worker's stdout and
//! stderr (which carry nothing else: the protocol has a channel of its own). Around each call of
//! a plugin that can print, the worker writes a *begin* and an *end* marker into both streams;
//! the marker carries the worker's secret token, so a plugin cannot fake one. A named reader
//! thread per stream cuts what it reads into calls by those markers; the session then takes a
//! call's lines once both streams have passed its end marker. The same on every OS.
//!
//! Outside calls, the worker's stderr (its own panics, say) goes on to the app's stderr, as an
//! inherited stderr would; its stdout there is dropped (only a plugin writes to it).

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::capture::{MAX_LINE_BYTES, MAX_LOG_BYTES, MAX_LOG_LINES, cut};
use super::report::{LogEntry, LogLevel, LogSource};

/// How long the session waits for a call's end markers (or a stopped worker's streams to
/// end) before taking what came.
const SYNC_LIMIT: Duration = Duration::from_secs(2);
/// Longer than any marker: a token of 32, a number of at most 20 and the words around them.
const MAX_MARKER_BYTES: usize = 96;

/// Which edge of a call a marker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    Begin,
    End,
}

/// The marker for `edge` of call `seq`, for a worker whose token is `token` (no newline).
pub(crate) fn marker(token: &str, edge: Edge, seq: u64) -> String {
    let edge = match edge {
        Edge::Begin => "begin",
        Edge::End => "end",
    };
    format!("\u{1}extism-playground-{token}-{edge}-{seq}\u{1}")
}

/// Reads a marker at the end of `line`: the text before it and what it marks.
fn split_marker<'a>(line: &'a str, prefix: &str) -> Option<(&'a str, Edge, u64)> {
    let body = line.strip_suffix('\u{1}')?;
    let at = body.rfind(prefix)?;
    let rest = &body[at + prefix.len()..];
    let (edge, seq) = rest.split_once('-')?;
    let edge = match edge {
        "begin" => Edge::Begin,
        "end" => Edge::End,
        _ => return None,
    };
    Some((&line[..at], edge, seq.parse().ok()?))
}

/// What one stream holds for the call in progress and the last one finished.
#[derive(Default)]
struct Stream {
    /// The call being written, with when its begin marker was read.
    current: Option<(u64, Instant)>,
    lines: Vec<LogEntry>,
    bytes: usize,
    dropped: u64,
    /// The last call whose end marker was read, with its lines and how many were dropped.
    finished: Option<(u64, Vec<LogEntry>, u64)>,
    /// The stream reached its end (the worker is gone).
    closed: bool,
}

impl Stream {
    fn push(&mut self, source: LogSource, text: &str) {
        let Some((_, begun)) = self.current else {
            return;
        };
        if self.lines.len() >= MAX_LOG_LINES / 2
            || self.bytes + text.len().min(MAX_LINE_BYTES) > MAX_LOG_BYTES / 2
        {
            self.dropped += 1;
            return;
        }
        let message = cut(text);
        self.bytes += message.len();
        self.lines.push(LogEntry {
            offset_us: u64::try_from(begun.elapsed().as_micros()).unwrap_or(u64::MAX),
            level: level_of(source),
            source,
            message,
        });
    }
}

fn level_of(source: LogSource) -> LogLevel {
    if source == LogSource::Stderr {
        LogLevel::Warn
    } else {
        LogLevel::Info
    }
}

#[derive(Default)]
struct Streams {
    stdout: Stream,
    stderr: Stream,
    /// The call begun last, with when the first of the two streams read its begin marker:
    /// both streams count their lines' offsets from there, so lines of the two interleave in
    /// the order they were read.
    begun: Option<(u64, Instant)>,
}

impl Streams {
    fn stream(&mut self, source: LogSource) -> &mut Stream {
        if source == LogSource::Stderr {
            &mut self.stderr
        } else {
            &mut self.stdout
        }
    }
}

/// The WASI output of one worker, read by two named threads.
#[derive(Clone)]
pub(crate) struct Output {
    shared: Arc<(Mutex<Streams>, Condvar)>,
}

/// What a call printed.
#[derive(Debug, Default)]
pub(crate) struct Printed {
    /// Both streams' lines, in order of their offsets.
    pub lines: Vec<LogEntry>,
    /// Lines dropped past the limits.
    pub dropped: u64,
}

impl Output {
    /// Starts reading the worker's `stdout` and `stderr`; `token` is the worker's.
    pub fn read(
        stdout: impl Read + Send + 'static,
        stderr: impl Read + Send + 'static,
        token: &str,
    ) -> std::io::Result<Self> {
        let output = Self {
            shared: Arc::default(),
        };
        let prefix = format!("\u{1}extism-playground-{token}-");
        for (source, reader) in [
            (LogSource::Stdout, Box::new(stdout) as Box<dyn Read + Send>),
            (LogSource::Stderr, Box::new(stderr)),
        ] {
            let output = output.clone();
            let prefix = prefix.clone();
            std::thread::Builder::new()
                .name(format!("worker-{}", source.as_str()))
                .spawn(move || {
                    read_lines(reader, |line| output.line(source, line, &prefix));
                    let mut streams = output.lock();
                    streams.stream(source).closed = true;
                    output.shared.1.notify_all();
                })?;
        }
        Ok(output)
    }

    fn lock(&self) -> MutexGuard<'_, Streams> {
        self.shared.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn line(&self, source: LogSource, line: &str, prefix: &str) {
        let mut streams = self.lock();
        let stream = streams.stream(source);
        match split_marker(line, prefix) {
            Some((before, Edge::Begin, seq)) => {
                if !before.is_empty() {
                    drop(streams);
                    Self::outside(source, before);
                    streams = self.lock();
                }
                let base = match streams.begun {
                    Some((begun, at)) if begun == seq => at,
                    _ => {
                        let now = Instant::now();
                        streams.begun = Some((seq, now));
                        now
                    }
                };
                let stream = streams.stream(source);
                *stream = Stream {
                    current: Some((seq, base)),
                    finished: stream.finished.take(),
                    ..Stream::default()
                };
            }
            Some((before, Edge::End, seq)) => {
                if !before.is_empty() {
                    stream.push(source, before);
                }
                stream.current = None;
                stream.bytes = 0;
                stream.finished = Some((
                    seq,
                    std::mem::take(&mut stream.lines),
                    std::mem::take(&mut stream.dropped),
                ));
                self.shared.1.notify_all();
            }
            None if stream.current.is_some() => stream.push(source, line),
            None => {
                drop(streams);
                Self::outside(source, line);
            }
        }
    }

    /// The streams once `ready` holds of them, or after [`SYNC_LIMIT`].
    fn wait_until(&self, ready: impl Fn(&Streams) -> bool) -> MutexGuard<'_, Streams> {
        let deadline = Instant::now() + SYNC_LIMIT;
        let mut streams = self.lock();
        while !ready(&streams) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            streams = self
                .shared
                .1
                .wait_timeout(streams, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        streams
    }

    /// A line written outside any call.
    fn outside(source: LogSource, line: &str) {
        if source == LogSource::Stderr {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }

    /// What call `seq` printed at `level` and above, once both streams have passed its end
    /// marker (or after [`SYNC_LIMIT`], or when the worker is gone: then what came).
    pub fn take(&self, seq: u64, level: LogLevel) -> Printed {
        let done = |s: &Stream| s.closed || s.finished.as_ref().is_some_and(|f| f.0 >= seq);
        let mut streams = self.wait_until(|s| done(&s.stdout) && done(&s.stderr));
        let mut printed = Printed::default();
        let streams = &mut *streams;
        for stream in [&mut streams.stdout, &mut streams.stderr] {
            let (lines, dropped) = match stream.finished.take() {
                Some((s, lines, dropped)) if s == seq => (lines, dropped),
                // Not finished in time: what it has of the call.
                other => {
                    stream.finished = other;
                    if stream.current.is_some_and(|(s, _)| s == seq) {
                        (std::mem::take(&mut stream.lines), stream.dropped)
                    } else {
                        (Vec::new(), 0)
                    }
                }
            };
            printed.dropped += dropped;
            printed
                .lines
                .extend(lines.into_iter().filter(|l| l.level >= level));
        }
        printed.lines.sort_by_key(|l| l.offset_us);
        printed
    }

    /// What the call in progress printed, once its worker has ended: both streams are read
    /// to their end first (for up to [`SYNC_LIMIT`]), so its last lines are not lost.
    pub fn take_unfinished(&self, level: LogLevel) -> Printed {
        let mut guard = self.wait_until(|s| s.stdout.closed && s.stderr.closed);
        let streams = &mut *guard;
        let mut printed = Printed::default();
        for stream in [&mut streams.stdout, &mut streams.stderr] {
            if stream.current.is_some() {
                printed.dropped += std::mem::take(&mut stream.dropped);
                printed.lines.extend(
                    std::mem::take(&mut stream.lines)
                        .into_iter()
                        .filter(|l| l.level >= level),
                );
            }
        }
        printed.lines.sort_by_key(|l| l.offset_us);
        printed
    }
}

impl Printed {
    /// Adds these lines to a call's logs, keeping the logs in order of their offsets.
    pub fn merge_into(self, logs: &mut Vec<LogEntry>, dropped: &mut u64) {
        *dropped += self.dropped;
        if self.lines.is_empty() {
            return;
        }
        logs.extend(self.lines);
        // Stable: lines of one offset keep the order they were read in.
        logs.sort_by_key(|l| l.offset_us);
    }
}

/// Reads `reader` line by line into `emit` until its end; a last line without a newline is
/// emitted too, and a plugin that never writes a newline cannot grow the buffer without bound.
fn read_lines(mut reader: impl Read, mut emit: impl FnMut(&str)) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(pos) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&pending[start..start + pos]);
            emit(line.strip_suffix('\r').unwrap_or(&line));
            start += pos + 1;
        }
        pending.drain(..start);
        if pending.len() > MAX_LINE_BYTES * 4 {
            // A marker the read cut in two stays whole: what may be its start is kept back.
            let keep = pending
                .iter()
                .rposition(|&b| b == 1)
                .filter(|&at| pending.len() - at <= MAX_MARKER_BYTES)
                .unwrap_or(pending.len());
            emit(&String::from_utf8_lossy(&pending[..keep]));
            pending.drain(..keep);
        }
    }
    if !pending.is_empty() {
        emit(&String::from_utf8_lossy(&pending));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn m(edge: Edge, seq: u64) -> String {
        marker(TOKEN, edge, seq)
    }

    /// The output of a worker that wrote `stdout` and `stderr` and ended.
    fn fed(stdout: String, stderr: String) -> Output {
        Output::read(
            std::io::Cursor::new(stdout.into_bytes()),
            std::io::Cursor::new(stderr.into_bytes()),
            TOKEN,
        )
        .unwrap()
    }

    fn messages(printed: &Printed) -> Vec<(LogSource, &str)> {
        printed
            .lines
            .iter()
            .map(|l| (l.source, l.message.as_str()))
            .collect()
    }

    #[test]
    fn lines_are_cut_into_calls_by_the_markers() {
        let stdout = format!(
            "before the call\n{b1}\nout one\r\npartial{e1}\nbetween\n{b2}\nout two\n{e2}\n",
            b1 = m(Edge::Begin, 1),
            e1 = m(Edge::End, 1),
            b2 = m(Edge::Begin, 2),
            e2 = m(Edge::End, 2),
        );
        let stderr = format!(
            "{b1}\nerr one\n{e1}\n{b2}\n{e2}\n",
            b1 = m(Edge::Begin, 1),
            e1 = m(Edge::End, 1),
            b2 = m(Edge::Begin, 2),
            e2 = m(Edge::End, 2),
        );
        // Fed from slices, the readers finish before `take`: the streams are read by then.
        let output = fed(stdout, stderr);
        // Call 1 is gone: only the last finished call is kept.
        let two = output.take(2, LogLevel::Trace);
        assert_eq!(messages(&two), [(LogSource::Stdout, "out two")]);
        let first = fed(
            format!(
                "{}\nout one\r\npartial{}\n",
                m(Edge::Begin, 1),
                m(Edge::End, 1)
            ),
            format!("{}\nerr one\n{}\n", m(Edge::Begin, 1), m(Edge::End, 1)),
        )
        .take(1, LogLevel::Trace);
        let mut got = messages(&first);
        got.sort_by_key(|(_, text)| *text);
        assert_eq!(
            got,
            [
                (LogSource::Stderr, "err one"),
                (LogSource::Stdout, "out one"),
                (LogSource::Stdout, "partial"),
            ]
        );
        assert!(
            first
                .lines
                .iter()
                .all(|l| (l.source == LogSource::Stderr) == (l.level == LogLevel::Warn))
        );
        // Below the call's level, stdout (info) is not kept.
        let warn_only = fed(
            format!("{}\nout\n{}\n", m(Edge::Begin, 1), m(Edge::End, 1)),
            format!("{}\nerr\n{}\n", m(Edge::Begin, 1), m(Edge::End, 1)),
        )
        .take(1, LogLevel::Warn);
        assert_eq!(messages(&warn_only), [(LogSource::Stderr, "err")]);
    }

    #[test]
    fn a_marker_without_the_token_is_plain_output() {
        let forged = marker("ffffffffffffffffffffffffffffffff", Edge::End, 1);
        let output = fed(
            format!(
                "{}\n{forged}\nafter\n{}\n",
                m(Edge::Begin, 1),
                m(Edge::End, 1)
            ),
            format!("{}\n{}\n", m(Edge::Begin, 1), m(Edge::End, 1)),
        );
        let printed = output.take(1, LogLevel::Trace);
        let texts: Vec<&str> = printed.lines.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(texts, [forged.as_str(), "after"]);
    }

    #[test]
    fn a_stopped_call_gives_all_it_printed_before_its_worker_ended() {
        let (mut out_w, out_r) = pipe();
        let (err_w, err_r) = pipe();
        let output = Output::read(out_r, err_r, TOKEN).unwrap();
        write!(out_w, "{}\nworking\nstill working", m(Edge::Begin, 7)).unwrap();
        // The worker ends: its streams close. The last line, with no newline, counts too.
        drop(out_w);
        drop(err_w);
        let printed = output.take_unfinished(LogLevel::Trace);
        let texts: Vec<&str> = printed.lines.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(texts, ["working", "still working"]);
    }

    /// A reader that returns its bytes in reads of the given sizes.
    struct Reads {
        bytes: Vec<u8>,
        at: usize,
        sizes: Vec<usize>,
    }

    impl Read for Reads {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let wanted = if self.sizes.is_empty() {
                usize::MAX
            } else {
                self.sizes.remove(0)
            };
            let n = wanted.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn a_marker_cut_by_the_long_line_limit_is_still_read() {
        // A line longer than the limit, then a marker, with a read ending inside the marker
        // once the line is past the limit.
        let text_len = MAX_LINE_BYTES * 4 + 1000;
        let marker = m(Edge::End, 3);
        let mut bytes = vec![b'x'; text_len];
        bytes.extend_from_slice(marker.as_bytes());
        bytes.push(b'\n');
        let reads = Reads {
            bytes,
            at: 0,
            sizes: vec![MAX_LINE_BYTES * 4, 1000 + 10],
        };
        let mut got = Vec::new();
        read_lines(reads, |l| got.push(l.to_string()));
        assert_eq!(got.len(), 2, "the text, then the marker whole");
        assert_eq!(got[0].len(), text_len);
        assert_eq!(got[1], marker);
    }

    #[test]
    fn take_gives_up_on_a_stream_that_never_ends_the_call() {
        let (mut out_w, out_r) = pipe();
        let (mut err_w, err_r) = pipe();
        let output = Output::read(out_r, err_r, TOKEN).unwrap();
        writeln!(
            out_w,
            "{}\nlate line\n{}",
            m(Edge::Begin, 1),
            m(Edge::End, 1)
        )
        .unwrap();
        writeln!(err_w, "{}\nstuck", m(Edge::Begin, 1)).unwrap();
        let started = Instant::now();
        let printed = output.take(1, LogLevel::Trace);
        assert!(started.elapsed() >= SYNC_LIMIT);
        let mut texts: Vec<&str> = printed.lines.iter().map(|l| l.message.as_str()).collect();
        texts.sort_unstable();
        assert_eq!(texts, ["late line", "stuck"]);
    }

    #[test]
    fn merged_lines_keep_the_order_of_their_offsets() {
        let entry = |offset_us, message: &str| LogEntry {
            offset_us,
            level: LogLevel::Info,
            source: LogSource::Pdk,
            message: message.into(),
        };
        let mut logs = vec![entry(10, "pdk a"), entry(30, "pdk b")];
        let mut dropped = 1;
        Printed {
            lines: vec![entry(20, "wasi"), entry(30, "wasi at b")],
            dropped: 2,
        }
        .merge_into(&mut logs, &mut dropped);
        let texts: Vec<&str> = logs.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(texts, ["pdk a", "wasi", "pdk b", "wasi at b"]);
        assert_eq!(dropped, 3);
    }

    #[test]
    fn a_last_line_without_a_newline_is_kept() {
        let mut got = Vec::new();
        let long = vec![b'x'; MAX_LINE_BYTES * 4 + 10];
        let mut input = long.clone();
        input.extend_from_slice(b"\ntail");
        read_lines(&input[..], |l| got.push(l.len()));
        assert_eq!(got, [long.len(), 4]);
    }

    fn pipe() -> (std::io::PipeWriter, std::io::PipeReader) {
        let (r, w) = std::io::pipe().unwrap();
        (w, r)
    }
}
