//! What one call did: output, outcome, timings, logs and host calls. Plain data, serializable,
//! so the worker can send it to the caller and the CLI can print it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The plugin returned an Extism error (with its message).
    PluginError,
    /// The module trapped: unreachable, out-of-bounds access, stack exhausted, a crash.
    Trap,
    /// The call ran longer than the timeout.
    Timeout,
    /// The caller stopped the call.
    Cancelled,
    /// The plugin tried to grow memory beyond the limit.
    OutOfMemory,
    /// The plugin used up its fuel.
    OutOfFuel,
    /// The plugin called WASI `proc_exit` with a non-zero code.
    Exit,
    /// The plugin could not be loaded, or the call could not be made.
    Load,
    /// A host function failed (a `fail` definition, a script error, a mock-host plugin that
    /// trapped, a secret that is not set).
    HostFunction,
    /// The app itself failed while it ran the call (a bug of the app, not of the plugin); the
    /// worker that ran it is replaced.
    Internal,
}

impl ErrorKind {
    /// The `snake_case` name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PluginError => "plugin_error",
            Self::Trap => "trap",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::OutOfMemory => "out_of_memory",
            Self::OutOfFuel => "out_of_fuel",
            Self::Exit => "exit",
            Self::Load => "load",
            Self::HostFunction => "host_function",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call's kind and full message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallError {
    pub kind: ErrorKind,
    pub message: String,
    /// The WASI exit code, for [`ErrorKind::Exit`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Where the plugin was when it failed (a trap, a host function failing under its frames),
    /// innermost first; empty when there is no backtrace (extism drops it for timeouts and
    /// fuel running out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
    /// Frames left out of the middle of a very deep backtrace (a runaway recursion).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frames_omitted: usize,
    /// How to get source lines into [`Self::frames`], when the module has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl CallError {
    /// Takes `kept` as the wasm backtrace (its middle left out when it was very deep).
    pub(crate) fn keep_frames(&mut self, kept: super::backtrace::KeptFrames) {
        self.frames = kept.frames;
        self.frames_omitted = kept.omitted;
    }

    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            exit_code: None,
            frames: Vec::new(),
            frames_omitted: 0,
            hint: None,
        }
    }

    /// The message, then one line per frame (`function at file:line:column`), then the hint:
    /// what Copy error copies and the CLI prints.
    pub fn with_backtrace(&self) -> String {
        use std::fmt::Write as _;
        let mut text = self.message.clone();
        if !self.frames.is_empty() {
            text.push_str("\nbacktrace:");
            for (i, frame) in self.frames.iter().enumerate() {
                if self.frames_omitted > 0 && i == crate::runner::backtrace::KEEP_INNER {
                    let _ = write!(text, "\n      … {} frames left out …", self.frames_omitted);
                }
                let _ = write!(text, "\n  {i:>2}: {frame}");
            }
        }
        if let Some(hint) = &self.hint {
            let _ = write!(text, "\n{hint}");
        }
        text
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One frame of a failed call's backtrace. A frame of wasm code that inlined other functions
/// gives one `Frame` per inlined function, the innermost first, all at the same offset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// The function, demangled without its hash (`debug_demo::apply_discount`); `None` when
    /// neither the name section nor DWARF names it.
    pub function: Option<String>,
    /// The source file, from DWARF (`..` segments resolved).
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The offset of the instruction in the module's bytes.
    pub module_offset: Option<usize>,
    /// The module's name in the plugin (`main`, or a linked module's name).
    #[serde(default)]
    pub module: String,
    /// The function's index in the module.
    #[serde(default)]
    pub func_index: u32,
    /// True for a function inlined into the frame below it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inlined: bool,
}

impl Frame {
    /// `function` or `func[INDEX]`.
    pub fn function_label(&self) -> String {
        self.function
            .clone()
            .unwrap_or_else(|| format!("func[{}]", self.func_index))
    }

    /// `file:line:column`, as far as known.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(match (self.line, self.column) {
            (Some(line), Some(column)) if column > 0 => format!("{file}:{line}:{column}"),
            (Some(line), _) => format!("{file}:{line}"),
            _ => file.clone(),
        })
    }
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.function_label())?;
        if self.inlined {
            f.write_str(" (inlined)")?;
        }
        match self.location() {
            Some(location) => write!(f, " at {location}"),
            None => match self.module_offset {
                Some(offset) => write!(f, " at {}+{offset:#x}", self.module),
                None => Ok(()),
            },
        }
    }
}

/// The main module's linear memory around a call, in 64 KiB wasm pages, read from the
/// instance (not estimated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryFigures {
    /// Before the call (for a call on a new instance: as the instance was created).
    pub initial_pages: u64,
    /// The most the call reached.
    pub peak_pages: u64,
    /// After the call. Wasm memories only grow today, so this equals the peak.
    pub final_pages: u64,
}

/// Log levels, least severe first.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub const ALL: [Self; 5] = [
        Self::Trace,
        Self::Debug,
        Self::Info,
        Self::Warn,
        Self::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LogLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown log level {s:?}; use trace, debug, info, warn or error")
            })
    }
}

/// Where a log line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// The PDK's log calls (`extism:host/env` log_*).
    Pdk,
    /// A host function (`extism:host/user` `log_info`).
    Host,
    /// The plugin's WASI stdout.
    Stdout,
    /// The plugin's WASI stderr.
    Stderr,
}

impl LogSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdk => "pdk",
            Self::Host => "host",
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }
}

/// One log line of a call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Time since the call started, in microseconds.
    pub offset_us: u64,
    pub level: LogLevel,
    pub source: LogSource,
    pub message: String,
}

/// One call the plugin made to a host function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostCall {
    pub function: String,
    /// A short, printable summary of the arguments.
    pub args: String,
    /// A short summary of the result, or the error it returned.
    pub result: String,
    /// Time since the call started, in microseconds.
    pub offset_us: u64,
    pub duration_us: u64,
}

/// Where the time of a call went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Reading and compiling the module; 0 when a loaded plugin was reused.
    pub load_ms: f64,
    /// Creating the instance (store, linker, WASI context); 0 when the warm instance was reused.
    pub instantiate_ms: f64,
    /// The call itself (for a loop, the last call).
    pub call_ms: f64,
}

/// Statistics over the calls of a loop.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoopStats {
    pub calls: u64,
    pub min_us: f64,
    pub median_us: f64,
    pub p95_us: f64,
    pub max_us: f64,
    /// Every call's duration, in order, for histograms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub durations_us: Vec<f64>,
}

impl LoopStats {
    /// Summarizes call durations (in microseconds).
    pub fn from_durations(durations_us: Vec<f64>) -> Self {
        if durations_us.is_empty() {
            return Self::default();
        }
        let mut sorted = durations_us.clone();
        sorted.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            // Nearest-rank percentile.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            sorted[rank - 1]
        };
        Self {
            calls: sorted.len() as u64,
            min_us: sorted[0],
            median_us: pick(0.5),
            p95_us: pick(0.95),
            max_us: sorted[sorted.len() - 1],
            durations_us,
        }
    }
}

/// One assertion an xtp-test plugin made through the `xtp:test/harness` host functions (or a
/// failure the harness recorded for it: a call of the plugin under test that failed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assertion {
    /// The group it was made in (`None` outside any group).
    pub group: Option<String>,
    /// The name the test plugin gave it (names repeat: results are a list, not a map).
    pub name: String,
    pub passed: bool,
    /// The reason the test plugin sent (it sends one whether the assertion passed or not), or
    /// why the harness failed it.
    pub message: String,
    /// Time since the test call started, in microseconds.
    pub offset_us: u64,
}

/// Everything one call did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallReport {
    pub function: String,
    /// The output bytes (of the last call, for a loop). Sent outside the JSON header.
    #[serde(skip)]
    pub output: Vec<u8>,
    pub error: Option<CallError>,
    pub timings: Timings,
    pub logs: Vec<LogEntry>,
    /// Log lines not kept because the call produced more than the runner keeps.
    pub logs_dropped: u64,
    pub host_calls: Vec<HostCall>,
    /// Fuel used by the call, when a fuel limit is set.
    pub fuel_consumed: Option<u64>,
    /// Present for loops.
    pub stats: Option<LoopStats>,
    /// The kv store after the call (host functions may have changed it).
    pub kv_after: Option<BTreeMap<String, crate::runner::host::Bytes>>,
    /// What each user-defined host function returned last during the call, by
    /// `module::name` (numbers as decimal text): what exported host code returns for mocks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host_results: BTreeMap<String, crate::runner::host::Bytes>,
    /// True when this call ran on a new instance (first call, fresh-instance mode, or after a
    /// reset, an options change or a stopped call).
    pub new_instance: bool,
    /// For the call of an xtp-test plugin's `test` export: its assertions, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// The main module's linear memory around the call; `None` when it has no memory of its
    /// own or the call did not reach it (a load failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryFigures>,
    /// The wasm coredump wasmtime wrote when the call trapped, when the caller asked for it.
    /// Sent after the output in the worker's payload; `coredump_len` says how long it is.
    #[serde(skip)]
    pub coredump: Option<std::sync::Arc<Vec<u8>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coredump_len: Option<u64>,
}

impl CallReport {
    /// A report for a call that failed before plugin code ran.
    pub fn failed(function: &str, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            function: function.to_string(),
            error: Some(CallError::new(kind, message)),
            ..Self::default()
        }
    }

    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }

    /// The error kind, if the call failed.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error.as_ref().map(|e| e.kind)
    }
}
