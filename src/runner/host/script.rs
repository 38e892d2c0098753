//! Rhai host functions: the sandboxed engine scripts run in, the check the editor and the CLI
//! run before anything is linked ([`check`]), and the runtime the worker calls scripts through
//! ([`Scripts`]).
//!
//! The sandbox: nothing is registered that reaches files, the network, processes or the
//! environment (Rhai has none of its own; `import` is compiled out and `eval` is disabled);
//! nothing blocks (Rhai's `sleep` is replaced by an error); `print` and `debug` go to the
//! call's log; operations, strings, arrays, maps, call depth and expression depth are bounded;
//! and a progress hook, looked at on every operation, ends a script when the call is stopped,
//! runs past its timeout, or holds more than [`MAX_SCRIPT_BYTES`] (counted by the allocator,
//! `platform::alloc`, so strings, blobs, maps, closures' captures, kv entries and log lines
//! all count), since wasmtime's interruption does not reach host code. Log lines are cut to
//! 16 KiB and a call's lines to [`MAX_SCRIPT_LOG_BYTES`]; the kv store to `MAX_KV_BYTES`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rhai::{AST, Blob, CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope};

use super::bytes::Bytes;

/// Operations one script call may run (a few seconds of work at most; the call's timeout and
/// Stop usually come first).
pub const MAX_OPERATIONS: u64 = 500_000_000;
/// Longest string a script may build, in bytes.
const MAX_STRING: usize = 16 * 1024 * 1024;
/// Largest array or blob a script may build.
const MAX_ARRAY: usize = 4 * 1024 * 1024;
const MAX_MAP: usize = 100_000;
const MAX_CALL_LEVELS: usize = 64;
/// How many operations pass between two looks at the stop flag and the deadline.
const CHECK_EVERY: u64 = 1024;
/// The most a script call may hold at once (what it allocated less what it freed).
pub const MAX_SCRIPT_BYTES: usize = 512 * 1024 * 1024;
/// The most a script call logs (`log`, `print`, `debug`); lines past it are counted, not kept.
pub const MAX_SCRIPT_LOG_BYTES: usize = 4 * 1024 * 1024;

/// What is wrong with a script, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "line {line}, column {column}: {}", self.message)
            }
            (Some(line), None) => write!(f, "line {line}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ScriptError {}

fn at(position: Position, message: String) -> ScriptError {
    ScriptError {
        line: position.line(),
        column: position.position(),
        message,
    }
}

/// An engine with the sandbox's limits and nothing registered yet.
fn sandboxed_engine(max_operations: u64) -> Engine {
    let mut engine = Engine::new();
    engine.disable_symbol("eval");
    engine.set_max_operations(max_operations);
    engine.set_max_string_size(MAX_STRING);
    engine.set_max_array_size(MAX_ARRAY);
    engine.set_max_map_size(MAX_MAP);
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(128, 64);
    // Never the worker's stdout: replaced with the call's log by `Scripts`.
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine
}

/// Compiles `script` and checks it defines `name` with `arity` parameters.
pub fn check(script: &str, name: &str, arity: usize) -> Result<(), ScriptError> {
    let engine = sandboxed_engine(MAX_OPERATIONS);
    let ast = engine
        .compile(script)
        .map_err(|e| at(e.1, e.0.to_string()))?;
    ensure_function(&ast, name, arity)
}

fn ensure_function(ast: &AST, name: &str, arity: usize) -> Result<(), ScriptError> {
    let defined: Vec<String> = ast
        .iter_functions()
        .map(|f| format!("{}({})", f.name, f.params.join(", ")))
        .collect();
    if ast
        .iter_functions()
        .any(|f| f.name == name && f.params.len() == arity)
    {
        return Ok(());
    }
    Err(ScriptError {
        line: None,
        column: None,
        message: format!(
            "the script defines no function {name} with {arity} parameter(s); it defines {}",
            if defined.is_empty() {
                "none".to_string()
            } else {
                defined.join(", ")
            }
        ),
    })
}

/// A value going into or coming out of a host function.
#[derive(Clone, Debug, PartialEq)]
pub enum HostValue {
    Bytes(Vec<u8>),
    Int(i64),
    Float(f64),
    Nothing,
}

impl HostValue {
    fn into_dynamic(self) -> Dynamic {
        match self {
            Self::Bytes(b) => Dynamic::from_blob(b),
            Self::Int(i) => Dynamic::from_int(i),
            Self::Float(f) => Dynamic::from_float(f),
            Self::Nothing => Dynamic::UNIT,
        }
    }
}

/// What a script's call shares with the functions it may call: the kv store (lent for the
/// call), the plugin's config, and the lines it logged.
#[derive(Default)]
struct ScriptIo {
    kv: BTreeMap<String, Bytes>,
    /// What `kv` holds, as its limit counts it.
    kv_bytes: usize,
    config: BTreeMap<String, String>,
    logs: Vec<String>,
    /// What `logs` holds, in bytes.
    log_bytes: usize,
    /// Lines not kept because the call's logs were full.
    logs_dropped: u64,
}

impl ScriptIo {
    /// Keeps a line the script logged: cut to a line's limit, and counted rather than kept once
    /// the call has logged [`MAX_SCRIPT_LOG_BYTES`].
    fn log(&mut self, line: &str) {
        let line = crate::runner::capture::cut(line);
        if self.log_bytes + line.len() > MAX_SCRIPT_LOG_BYTES {
            self.logs_dropped += 1;
            return;
        }
        self.log_bytes += line.len();
        self.logs.push(line);
    }

    /// Sets a kv entry within the store's limit; a refusal is the script's runtime error, in
    /// words (Rhai's errors carry text).
    fn kv_set(&mut self, key: String, value: Vec<u8>) -> Result<(), Box<EvalAltResult>> {
        super::kv_set(&mut self.kv, &mut self.kv_bytes, key, value)
            .map_err(|full| full.to_string().into())
    }
}

/// When scripts must stop.
#[derive(Default)]
pub(crate) struct Control {
    /// Set when the user stops the call.
    pub cancel: Arc<AtomicBool>,
    /// When the call's timeout runs out.
    pub deadline: Mutex<Option<Instant>>,
}

/// Why a script ended without a value.
#[derive(Debug, PartialEq, Eq)]
pub enum ScriptFailure {
    /// The user stopped the call.
    Stopped,
    /// The call's timeout ran out while the script ran.
    TimedOut,
    /// The script failed (compile, runtime or limit error), with where.
    Error(ScriptError),
}

const STOPPED: &str = "stopped";
const TIMED_OUT: &str = "timed out";
const TOO_MUCH_MEMORY: &str = "too much memory";

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The compiled scripts of one loaded plugin's host functions, and the engine they run in.
pub(crate) struct Scripts {
    engine: Engine,
    io: Arc<Mutex<ScriptIo>>,
    asts: HashMap<String, AST>,
    /// The calling thread's allocation count when the script call began (see
    /// [`MAX_SCRIPT_BYTES`]).
    held_from: Arc<AtomicIsize>,
}

impl Scripts {
    /// An engine whose scripts log through the returned lines, stop under `control`, and read
    /// `config`.
    pub fn new(control: Arc<Control>, config: BTreeMap<String, String>) -> Self {
        Self::with_max_operations(control, config, MAX_OPERATIONS)
    }

    /// [`Self::new`] with another operation limit.
    pub fn with_max_operations(
        control: Arc<Control>,
        config: BTreeMap<String, String>,
        max_operations: u64,
    ) -> Self {
        let io = Arc::new(Mutex::new(ScriptIo {
            config,
            ..ScriptIo::default()
        }));
        let mut engine = sandboxed_engine(max_operations);
        let printed = Arc::clone(&io);
        engine.on_print(move |s| lock(&printed).log(s));
        let debugged = Arc::clone(&io);
        engine.on_debug(move |s, _, pos| {
            let mut io = lock(&debugged);
            if pos.is_none() {
                io.log(s);
            } else {
                // Cut before it is copied: a line keeps no more than its limit anyway.
                let head = &s[..s.floor_char_boundary(crate::runner::capture::MAX_LINE_BYTES)];
                io.log(&format!("{head} ({pos})"));
            }
        });
        let held_from = Arc::new(AtomicIsize::new(0));
        let from = Arc::clone(&held_from);
        let max_bytes = isize::try_from(MAX_SCRIPT_BYTES).unwrap_or(isize::MAX);
        engine.on_progress(move |ops| {
            // Every operation: one operation allocates at most a string's or an array's limit,
            // so a script is ended within that of its budget. What it freed of what was there
            // before it began (a kv value it replaced) lowers the base, not the budget.
            let net = crate::platform::alloc::thread_net_bytes();
            let base = from.fetch_min(net, Ordering::Relaxed).min(net);
            if net - base > max_bytes {
                return Some(Dynamic::from(TOO_MUCH_MEMORY));
            }
            if ops % CHECK_EVERY != 0 {
                return None;
            }
            if control.cancel.load(Ordering::SeqCst) {
                return Some(Dynamic::from(STOPPED));
            }
            lock(&control.deadline)
                .is_some_and(|d| Instant::now() >= d)
                .then(|| Dynamic::from(TIMED_OUT))
        });
        let kv = Arc::clone(&io);
        engine.register_fn("kv_get", move |key: &str| -> Dynamic {
            lock(&kv)
                .kv
                .get(key)
                .map_or(Dynamic::UNIT, |v| Dynamic::from_blob(v.0.clone()))
        });
        let kv = Arc::clone(&io);
        engine.register_fn("kv_get", move |key: Blob| -> Dynamic {
            let key = String::from_utf8_lossy(&key).into_owned();
            lock(&kv)
                .kv
                .get(&key)
                .map_or(Dynamic::UNIT, |v| Dynamic::from_blob(v.0.clone()))
        });
        let kv = Arc::clone(&io);
        engine.register_fn("kv_set", move |key: &str, value: Blob| {
            lock(&kv).kv_set(key.to_string(), value)
        });
        let kv = Arc::clone(&io);
        engine.register_fn("kv_set", move |key: &str, value: &str| {
            lock(&kv).kv_set(key.to_string(), value.as_bytes().to_vec())
        });
        let kv = Arc::clone(&io);
        engine.register_fn("kv_set", move |key: Blob, value: Blob| {
            let key = String::from_utf8_lossy(&key).into_owned();
            lock(&kv).kv_set(key, value)
        });
        // Rhai's own `sleep` would block the plugin (and panics on a huge number): scripts
        // answer without waiting.
        engine.register_fn("sleep", |_: rhai::INT| -> Result<(), Box<EvalAltResult>> {
            Err(NO_SLEEP.into())
        });
        engine.register_fn(
            "sleep",
            |_: rhai::FLOAT| -> Result<(), Box<EvalAltResult>> { Err(NO_SLEEP.into()) },
        );
        let config = Arc::clone(&io);
        engine.register_fn("config", move |key: &str| -> Dynamic {
            lock(&config)
                .config
                .get(key)
                .map_or(Dynamic::UNIT, |v| Dynamic::from(v.clone()))
        });
        let log = Arc::clone(&io);
        engine.register_fn("log", move |text: &str| {
            lock(&log).log(text);
        });
        let log = Arc::clone(&io);
        engine.register_fn("log", move |bytes: Blob| {
            let cut = &bytes[..bytes.len().min(crate::runner::capture::MAX_LINE_BYTES + 4)];
            lock(&log).log(&String::from_utf8_lossy(cut));
        });
        Self {
            engine,
            io,
            asts: HashMap::new(),
            held_from,
        }
    }

    /// Compiles the script of the function called `key` (checked before, so an error here is
    /// reported when the function is called).
    pub fn add(&mut self, key: &str, script: &str) -> Result<(), ScriptError> {
        let ast = self
            .engine
            .compile(script)
            .map_err(|e| at(e.1, e.0.to_string()))?;
        self.asts.insert(key.to_string(), ast);
        Ok(())
    }

    /// Calls function `name` of the script kept under `key` with `args`, lending it `kv`.
    /// Returns its value and the lines it logged.
    pub fn call(
        &self,
        key: &str,
        name: &str,
        args: Vec<HostValue>,
        kv: &mut BTreeMap<String, Bytes>,
    ) -> (Result<HostValue, ScriptFailure>, Vec<String>) {
        let Some(ast) = self.asts.get(key) else {
            return (
                Err(ScriptFailure::Error(ScriptError {
                    line: None,
                    column: None,
                    message: format!("no script is loaded for {key}"),
                })),
                Vec::new(),
            );
        };
        {
            let mut io = lock(&self.io);
            io.kv = std::mem::take(kv);
            io.kv_bytes = super::kv_bytes(&io.kv);
            io.log_bytes = 0;
            io.logs_dropped = 0;
        }
        let args: Vec<Dynamic> = args.into_iter().map(HostValue::into_dynamic).collect();
        self.held_from.store(
            crate::platform::alloc::thread_net_bytes(),
            Ordering::Relaxed,
        );
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let result = self.engine.call_fn_with_options::<Dynamic>(
            options,
            &mut Scope::new(),
            ast,
            name,
            args,
        );
        let logs = {
            let mut io = lock(&self.io);
            *kv = std::mem::take(&mut io.kv);
            let mut logs = std::mem::take(&mut io.logs);
            if io.logs_dropped > 0 {
                logs.push(format!(
                    "… {} more lines not kept: a script call logs at most {} MiB",
                    io.logs_dropped,
                    MAX_SCRIPT_LOG_BYTES >> 20
                ));
            }
            logs
        };
        let max = self.engine.max_operations();
        (
            result.map_err(|e| failure(*e, max)).and_then(from_dynamic),
            logs,
        )
    }
}

/// What a script that calls `sleep` is told.
const NO_SLEEP: &str = "sleep is not available to host function scripts: the plugin waits while \
                        its host function runs, so a script answers at once (to test a slow \
                        host, use the call's timeout)";

fn failure(e: EvalAltResult, max_operations: u64) -> ScriptFailure {
    match e {
        EvalAltResult::ErrorTerminated(token, pos) => {
            match token.clone().into_string().ok().as_deref() {
                Some(STOPPED) => ScriptFailure::Stopped,
                Some(TOO_MUCH_MEMORY) => ScriptFailure::Error(at(
                    pos,
                    format!(
                        "the script held more than {} MiB at once (its limit) and was ended",
                        MAX_SCRIPT_BYTES >> 20
                    ),
                )),
                _ => ScriptFailure::TimedOut,
            }
        }
        EvalAltResult::ErrorTooManyOperations(pos) => ScriptFailure::Error(at(
            pos,
            format!(
                "the script ran more than {max_operations} operations (its limit) and was ended"
            ),
        )),
        other => {
            let pos = other.position();
            // The message without rhai's own " (line L, position C)" suffix: ours says where.
            let mut message = other.to_string();
            if let Some(cut) = message.rfind(" (line ") {
                message.truncate(cut);
            }
            ScriptFailure::Error(at(pos, message))
        }
    }
}

fn from_dynamic(value: Dynamic) -> Result<HostValue, ScriptFailure> {
    if value.is_unit() {
        return Ok(HostValue::Nothing);
    }
    if value.is_blob() {
        return Ok(HostValue::Bytes(value.cast::<Blob>()));
    }
    if value.is_string() {
        return Ok(HostValue::Bytes(
            value.cast::<rhai::ImmutableString>().as_bytes().to_vec(),
        ));
    }
    if value.is_int() {
        return Ok(HostValue::Int(value.cast::<rhai::INT>()));
    }
    if value.is_float() {
        return Ok(HostValue::Float(value.cast::<rhai::FLOAT>()));
    }
    Err(ScriptFailure::Error(ScriptError {
        line: None,
        column: None,
        message: format!(
            "the function returned a {}; return a Blob, a string, a number or () \
             (a map becomes JSON with .to_json())",
            value.type_name()
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scripts(source: &str) -> Scripts {
        let mut s = Scripts::new(Arc::new(Control::default()), BTreeMap::new());
        s.add("k", source).unwrap();
        s
    }

    #[test]
    fn check_finds_syntax_errors_with_their_place_and_missing_functions() {
        let err = check("fn f(x) {\n  let y = ;\n}", "f", 1).unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.column.is_some());
        let err = check("fn g(x) { x }", "f", 1).unwrap_err();
        assert!(err.message.contains("defines g(x)"), "{err}");
        let err = check("fn f() { 1 }", "f", 1).unwrap_err();
        assert!(err.message.contains("1 parameter"), "{err}");
        assert!(check("fn f(a, b) { a + b }", "f", 2).is_ok());
    }

    #[test]
    fn scripts_get_blobs_and_numbers_and_return_bytes_or_numbers() {
        let s = scripts(
            "fn up(b) { b.as_string().to_upper() }
             fn add(a, b) { a + b }
             fn half(x) { x / 2.0 }
             fn nothing() { }",
        );
        let mut kv = BTreeMap::new();
        let (r, _) = s.call("k", "up", vec![HostValue::Bytes(b"abc".to_vec())], &mut kv);
        assert_eq!(r.unwrap(), HostValue::Bytes(b"ABC".to_vec()));
        let (r, _) = s.call(
            "k",
            "add",
            vec![HostValue::Int(40), HostValue::Int(2)],
            &mut kv,
        );
        assert_eq!(r.unwrap(), HostValue::Int(42));
        let (r, _) = s.call("k", "half", vec![HostValue::Float(3.0)], &mut kv);
        assert_eq!(r.unwrap(), HostValue::Float(1.5));
        let (r, _) = s.call("k", "nothing", vec![], &mut kv);
        assert_eq!(r.unwrap(), HostValue::Nothing);
    }

    #[test]
    fn kv_is_byte_capable_and_logs_and_prints_are_collected() {
        let s = scripts(
            r#"fn put(k, v) { kv_set(k, v); print("stored"); log("key " + k.as_string()); kv_get(k) }
               fn missing() { kv_get("nope") }"#,
        );
        let mut kv = BTreeMap::new();
        let binary = vec![0u8, 255, 7];
        let (r, logs) = s.call(
            "k",
            "put",
            vec![
                HostValue::Bytes(b"bin".to_vec()),
                HostValue::Bytes(binary.clone()),
            ],
            &mut kv,
        );
        assert_eq!(r.unwrap(), HostValue::Bytes(binary.clone()));
        assert_eq!(kv["bin"], Bytes(binary));
        assert_eq!(logs, ["stored", "key bin"]);
        assert_eq!(
            s.call("k", "missing", vec![], &mut kv).0.unwrap(),
            HostValue::Nothing
        );
    }

    #[test]
    fn the_sandbox_has_no_files_imports_or_eval() {
        assert!(check(r#"import "fs" as fs; fn f() { 1 }"#, "f", 0).is_err());
        let s = scripts(
            r#"fn read() { open_file("/etc/passwd") }
               fn env() { env("HOME") }"#,
        );
        let mut kv = BTreeMap::new();
        for f in ["read", "env"] {
            match s.call("k", f, vec![], &mut kv).0 {
                Err(ScriptFailure::Error(e)) => assert!(e.message.contains("not found"), "{e}"),
                other => panic!("{f}: {other:?}"),
            }
        }
        assert!(check(r#"fn f() { eval("1") }"#, "f", 0).is_err());
    }

    #[test]
    fn loops_end_by_the_operation_limit_the_deadline_and_stop() {
        let source = "fn spin() { loop { } }";
        let mut s =
            Scripts::with_max_operations(Arc::new(Control::default()), BTreeMap::new(), 100_000);
        s.add("k", source).unwrap();
        let mut kv = BTreeMap::new();
        match s.call("k", "spin", vec![], &mut kv).0 {
            Err(ScriptFailure::Error(e)) => assert!(e.message.contains("operations"), "{e}"),
            other => panic!("{other:?}"),
        }
        let control = Arc::new(Control::default());
        *control.deadline.lock().unwrap() = Some(Instant::now());
        let mut s = Scripts::new(Arc::clone(&control), BTreeMap::new());
        s.add("k", source).unwrap();
        assert_eq!(
            s.call("k", "spin", vec![], &mut kv).0,
            Err(ScriptFailure::TimedOut)
        );
        *control.deadline.lock().unwrap() = None;
        control.cancel.store(true, Ordering::SeqCst);
        assert_eq!(
            s.call("k", "spin", vec![], &mut kv).0,
            Err(ScriptFailure::Stopped)
        );
    }

    #[test]
    fn sleep_is_refused_at_once_whatever_its_argument() {
        let s = scripts("fn huge() { sleep(1e300) } fn hour() { sleep(3600) }");
        for f in ["huge", "hour"] {
            let started = Instant::now();
            match s.call("k", f, vec![], &mut BTreeMap::new()).0 {
                Err(ScriptFailure::Error(e)) => {
                    assert!(e.message.contains(NO_SLEEP), "{f}: {e}");
                }
                other => panic!("{f}: {other:?}"),
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[test]
    fn log_lines_are_cut_and_a_calls_log_is_bounded() {
        let s = scripts(
            r#"fn flood() { let s = "x"; s.pad(1000000, "x"); for i in 0..10 { print(s); log(s); debug(s); } }"#,
        );
        let (r, logs) = s.call("k", "flood", vec![], &mut BTreeMap::new());
        r.unwrap();
        assert!(logs.iter().all(|l| l.len() < 17 * 1024), "lines are cut");
        assert_eq!(logs.len(), 30);
        let total: usize = logs.iter().map(String::len).sum();
        assert!(total <= MAX_SCRIPT_LOG_BYTES, "{total}");
    }

    #[test]
    fn runtime_errors_say_where() {
        let s = scripts("fn f(x) {\n  let y = x + 1;\n  y.nope()\n}");
        match s
            .call("k", "f", vec![HostValue::Int(1)], &mut BTreeMap::new())
            .0
        {
            Err(ScriptFailure::Error(e)) => {
                assert_eq!(e.line, Some(3), "{e}");
                assert!(e.message.contains("nope"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}
