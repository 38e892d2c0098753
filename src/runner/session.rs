//! The caller's side of running a plugin: a [`Session`] is one loaded plugin with one set of
//! sandbox options, backed by a worker process started on first use. Calls run on a named driver
//! thread and return a [`CallHandle`] to poll, wait on, or cancel. The driver enforces stop and
//! timeout even when the plugin is stuck inside a host call, by killing the worker.

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::error::LoadError;
use super::host::HostData;
use super::inspect::Inspection;
use super::options::SandboxOptions;
use super::protocol::{self, CallSpec, FromWorker, LoadRequest, ToWorker};
use super::report::{CallReport, ErrorKind, LogLevel};
use super::source::LoadedPlugin;
use super::worker::{WASI_OUTPUT_ENV, WORKER_ARG};

/// How often the driver looks at the cancel flag while waiting.
const POLL: Duration = Duration::from_millis(5);
/// How long a cancelled call may take to return before its worker is killed.
const CANCEL_GRACE: Duration = Duration::from_millis(40);
/// How long past its timeout a call may take before its worker is killed (it is stuck in a host
/// call, where wasmtime's interruption cannot reach it).
const TIMEOUT_GRACE: Duration = Duration::from_millis(250);
/// How long a load may take before it is given up.
const LOAD_LIMIT: Duration = Duration::from_mins(2);

/// How to start worker processes.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The executable to run with [`WORKER_ARG`]: this program.
    pub exe: PathBuf,
    /// Use wasmtime's on-disk cache of compiled modules (extism's default). Off measures a cold
    /// compile every time.
    pub compile_cache: bool,
}

impl WorkerConfig {
    /// Workers run this very executable.
    pub fn current_exe() -> Result<Self, LoadError> {
        std::env::current_exe()
            .map(|exe| Self {
                exe,
                compile_cache: true,
            })
            .map_err(|e| LoadError::WorkerStart {
                exe: PathBuf::from("(current executable)"),
                detail: e.to_string(),
            })
    }

    /// Workers run `exe` (tests point this at the built binary).
    pub fn with_exe(exe: impl Into<PathBuf>) -> Self {
        Self {
            exe: exe.into(),
            compile_cache: true,
        }
    }
}

/// One call to make.
#[derive(Clone, Debug, Default)]
pub struct CallRequest {
    pub function: String,
    /// Shared, so a big input is never copied on its way to the worker.
    pub input: Arc<Vec<u8>>,
    /// The kv store and secrets host functions serve during the call.
    pub host: HostData,
    /// Logs below this level are not kept.
    pub log_level: LogLevel,
    /// Run on a new instance instead of the warm one.
    pub fresh_instance: bool,
    /// Call this many times on the warm instance (a benchmark loop, run inside the worker);
    /// 0 and 1 both mean once.
    pub loops: u32,
}

/// Stops a call from any thread.
#[derive(Clone, Debug, Default)]
pub struct Canceller(Arc<AtomicBool>);

impl Canceller {
    /// Asks the call to stop; it ends with [`ErrorKind::Cancelled`] within about 50 ms.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A call in progress.
pub struct CallHandle {
    rx: Receiver<CallReport>,
    canceller: Canceller,
}

impl CallHandle {
    /// The report, if the call has finished.
    pub fn try_take(&self) -> Option<CallReport> {
        self.rx.try_recv().ok()
    }

    /// Blocks until the call finishes.
    pub fn wait(self) -> CallReport {
        self.rx.recv().unwrap_or_else(|_| {
            CallReport::failed(
                "",
                ErrorKind::Trap,
                "the call's driver thread ended without a report",
            )
        })
    }

    pub fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }

    pub fn cancel(&self) {
        self.canceller.cancel();
    }
}

/// A running worker process.
struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    /// Frames from the worker; an `Err` says why its stream could not be read.
    frames: Receiver<Result<(FromWorker, Vec<u8>), String>>,
}

impl Worker {
    fn spawn(config: &WorkerConfig) -> Result<Self, LoadError> {
        let fail = |detail: String| LoadError::WorkerStart {
            exe: config.exe.clone(),
            detail,
        };
        let mut command = Command::new(&config.exe);
        if !config.compile_cache {
            // extism reads an empty EXTISM_CACHE_CONFIG as "no cache".
            command.env("EXTISM_CACHE_CONFIG", "");
        }
        let mut child = command
            .arg(WORKER_ARG)
            .env(WASI_OUTPUT_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| fail(e.to_string()))?;
        let stdin = BufWriter::new(
            child
                .stdin
                .take()
                .ok_or_else(|| fail("no stdin pipe".into()))?,
        );
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| fail("no stdout pipe".into()))?;
        let (tx, frames) = mpsc::channel();
        std::thread::Builder::new()
            .name("worker-reader".to_string())
            .spawn(move || {
                let mut reader = BufReader::with_capacity(256 * 1024, stdout);
                loop {
                    let sent = match protocol::read_frame::<FromWorker>(&mut reader) {
                        Ok(Some(frame)) => tx.send(Ok(frame)),
                        // The worker closed its end: the driver sees the channel close.
                        Ok(None) => break,
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string()));
                            break;
                        }
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            child,
            stdin,
            frames,
        })
    }

    fn send(&mut self, message: &ToWorker, payload: &[u8]) -> std::io::Result<()> {
        protocol::write_frame(&mut self.stdin, message, payload)
    }

    /// Whether the process has ended (e.g. killed while idle).
    fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    fn describe_exit(&mut self) -> String {
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => format!("the worker process ended unexpectedly ({status})"),
            Err(e) => format!("the worker process ended unexpectedly ({e})"),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loaded plugin with its sandbox options, ready for calls.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    plugin: LoadedPlugin,
    options: SandboxOptions,
    inspection: Inspection,
    config: WorkerConfig,
    worker: Mutex<Option<Worker>>,
}

/// Outcome of one step of waiting on the worker.
enum Wait {
    Frame(FromWorker, Vec<u8>),
    Cancelled,
    TimedOut,
    Died(String),
}

impl Session {
    /// Prepares `plugin` with `options`: validates the options and inspects the module. No
    /// plugin code runs until the first call.
    pub fn new(
        plugin: LoadedPlugin,
        options: SandboxOptions,
        config: WorkerConfig,
    ) -> Result<Self, LoadError> {
        options.validate()?;
        let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
        Ok(Self {
            inner: Arc::new(Inner {
                plugin,
                options,
                inspection,
                config,
                worker: Mutex::new(None),
            }),
        })
    }

    pub fn plugin(&self) -> &LoadedPlugin {
        &self.inner.plugin
    }

    pub fn options(&self) -> &SandboxOptions {
        &self.inner.options
    }

    pub fn inspection(&self) -> &Inspection {
        &self.inner.inspection
    }

    /// Checks that `function` can be called with these options: it is exported, has an Extism
    /// signature, and every import can be satisfied.
    pub fn check_call(&self, function: &str) -> Result<(), LoadError> {
        let inspection = &self.inner.inspection;
        let plugin = &self.inner.plugin.display_name;
        let unsatisfied = inspection.unsatisfied_imports(
            self.inner.options.wasi,
            &self.inner.plugin.linked_module_names(),
        );
        if !unsatisfied.is_empty() {
            return Err(LoadError::UnsatisfiedImports {
                plugin: plugin.clone(),
                list: unsatisfied.iter().map(ToString::to_string).collect(),
            });
        }
        let callable = inspection.callable_functions().join(", ");
        match inspection.export(function) {
            Some(export) if export.callable => Ok(()),
            Some(export) => Err(LoadError::NotCallable {
                function: function.to_string(),
                plugin: plugin.clone(),
                signature: export.signature.as_ref().map_or_else(
                    || format!("{:?} (not a function)", export.kind),
                    ToString::to_string,
                ),
                callable,
            }),
            None => Err(LoadError::MissingFunction {
                function: function.to_string(),
                plugin: plugin.clone(),
                exported: if callable.is_empty() {
                    "nothing callable".to_string()
                } else {
                    callable
                },
            }),
        }
    }

    /// Starts a call on a named driver thread.
    pub fn call(&self, request: CallRequest) -> CallHandle {
        let (tx, rx) = mpsc::channel();
        let canceller = Canceller::default();
        let handle = CallHandle {
            rx,
            canceller: canceller.clone(),
        };
        let session = self.clone();
        let function = request.function.clone();
        let spawned = std::thread::Builder::new()
            .name("extism-call".to_string())
            .spawn(move || {
                let report = session.run(request, &canceller);
                let _ = tx.send(report);
            });
        if let Err(e) = spawned {
            // The receiver in `handle` sees the sender dropped; report through a fresh channel.
            let (tx, rx) = mpsc::channel();
            let _ = tx.send(CallReport::failed(
                &function,
                ErrorKind::Load,
                format!("cannot start a call thread: {e}"),
            ));
            return CallHandle { rx, ..handle };
        }
        handle
    }

    /// Runs a call on this thread (the driver's body; also handy for headless use).
    pub fn call_blocking(&self, request: CallRequest) -> CallReport {
        self.run(request, &Canceller::default())
    }

    /// Drops the warm instance so the next call starts fresh. Waits for a call in progress.
    pub fn reset(&self) {
        let mut slot = self.lock_worker();
        if let Some(worker) = slot.as_mut() {
            let ok = worker.send(&ToWorker::Reset, &[]).is_ok()
                && matches!(
                    worker.frames.recv_timeout(Duration::from_secs(5)),
                    Ok(Ok((FromWorker::ResetDone, _)))
                );
            if !ok {
                *slot = None;
            }
        }
    }

    fn lock_worker(&self) -> MutexGuard<'_, Option<Worker>> {
        self.inner
            .worker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn run(&self, request: CallRequest, canceller: &Canceller) -> CallReport {
        let function = request.function.clone();
        if let Err(e) = self.check_call(&function) {
            return CallReport::failed(&function, ErrorKind::Load, e.to_string());
        }
        let mut slot = self.lock_worker();
        if canceller.is_cancelled() {
            return CallReport::failed(
                &function,
                ErrorKind::Cancelled,
                "the call was stopped before it started",
            );
        }
        let mut load_ms = 0.0;
        let mut new_worker = false;
        // A worker that died while idle is replaced, not blamed on this call.
        if slot.as_mut().is_some_and(Worker::has_exited) {
            *slot = None;
        }
        if slot.is_none() {
            match self.start_worker(canceller) {
                Ok((worker, ms)) => {
                    *slot = Some(worker);
                    load_ms = ms;
                    new_worker = true;
                }
                Err(report) => {
                    return CallReport {
                        function,
                        ..*report
                    };
                }
            }
        }
        let worker = slot.as_mut().expect("worker was just started");
        let spec = CallSpec {
            function: function.clone(),
            host: request.host,
            log_level: request.log_level,
            fresh_instance: request.fresh_instance,
            loops: request.loops,
        };
        if worker.send(&ToWorker::Call(spec), &request.input).is_err() {
            let message = worker.describe_exit();
            *slot = None;
            return CallReport::failed(&function, ErrorKind::Trap, message);
        }
        let limit = self.inner.options.timeout_ms.map(|t| {
            Duration::from_millis(t.saturating_mul(u64::from(request.loops.max(1)))) + TIMEOUT_GRACE
        });
        let mut outcome = wait_for(worker, canceller, limit);
        if matches!(outcome, Wait::Frame(FromWorker::Returned, _)) {
            // The plugin is done; the report may be large: no deadline, no cancel, from here.
            outcome = wait_for(worker, &Canceller::default(), None);
        }
        match outcome {
            Wait::Frame(FromWorker::Report(report), output) => {
                let mut report = *report;
                report.output = output;
                report.timings.load_ms = load_ms;
                report.new_instance |= new_worker;
                report
            }
            Wait::Frame(other, _) => {
                *slot = None;
                CallReport::failed(
                    &function,
                    ErrorKind::Trap,
                    format!("the worker answered out of turn: {other:?}"),
                )
            }
            Wait::Cancelled => {
                *slot = None;
                CallReport::failed(
                    &function,
                    ErrorKind::Cancelled,
                    "the call was stopped (the plugin did not return in time, so its worker was stopped and the instance discarded)",
                )
            }
            Wait::TimedOut => {
                *slot = None;
                let t = self.inner.options.timeout_ms.unwrap_or_default();
                CallReport::failed(
                    &function,
                    ErrorKind::Timeout,
                    format!(
                        "the call ran past the {t} ms timeout inside a host call; its worker was stopped and the instance discarded"
                    ),
                )
            }
            Wait::Died(message) => {
                *slot = None;
                CallReport::failed(&function, ErrorKind::Trap, message)
            }
        }
    }

    /// Starts a worker and loads the plugin into it.
    fn start_worker(&self, canceller: &Canceller) -> Result<(Worker, f64), Box<CallReport>> {
        let load_failed =
            |message: String| Box::new(CallReport::failed("", ErrorKind::Load, message));
        let mut worker =
            Worker::spawn(&self.inner.config).map_err(|e| load_failed(e.to_string()))?;
        let plugin = &self.inner.plugin;
        let mut manifest = plugin.to_inline_manifest(&self.inner.options);
        manifest.wasm.clear();
        let request = LoadRequest {
            manifest,
            modules: plugin
                .modules
                .iter()
                .map(|m| (m.name.clone(), m.bytes.len() as u64))
                .collect(),
            wasi: self.inner.options.wasi,
            fuel_limit: self.inner.options.fuel_limit,
        };
        let payload: Vec<u8> = plugin
            .modules
            .iter()
            .flat_map(|m| m.bytes.iter().copied())
            .collect();
        if worker.send(&ToWorker::Load(request), &payload).is_err() {
            return Err(load_failed(worker.describe_exit()));
        }
        match wait_for(&mut worker, canceller, Some(LOAD_LIMIT)) {
            Wait::Frame(FromWorker::Loaded { load_ms }, _) => Ok((worker, load_ms)),
            Wait::Frame(FromWorker::LoadFailed { message }, _) => Err(load_failed(format!(
                "extism could not load {}: {message}",
                plugin.display_name
            ))),
            Wait::Frame(other, _) => Err(load_failed(format!(
                "the worker answered out of turn: {other:?}"
            ))),
            Wait::Cancelled => Err(Box::new(CallReport::failed(
                "",
                ErrorKind::Cancelled,
                "stopped while loading",
            ))),
            Wait::TimedOut => Err(load_failed(format!(
                "loading took longer than {} s",
                LOAD_LIMIT.as_secs()
            ))),
            Wait::Died(message) => Err(load_failed(message)),
        }
    }
}

/// Waits for the worker's next frame, honouring cancel (a polite request first, then the kill)
/// and an overall limit.
fn wait_for(worker: &mut Worker, canceller: &Canceller, limit: Option<Duration>) -> Wait {
    let started = Instant::now();
    let mut cancel_sent: Option<Instant> = None;
    loop {
        match worker.frames.recv_timeout(POLL) {
            Ok(Ok((frame, payload))) => return Wait::Frame(frame, payload),
            Ok(Err(e)) => {
                let exit = worker.describe_exit();
                return Wait::Died(format!(
                    "the worker's answer could not be read ({e}); {exit}"
                ));
            }
            Err(RecvTimeoutError::Disconnected) => return Wait::Died(worker.describe_exit()),
            Err(RecvTimeoutError::Timeout) => {}
        }
        if canceller.is_cancelled() {
            match cancel_sent {
                None => {
                    if worker.send(&ToWorker::Cancel, &[]).is_err() {
                        return Wait::Cancelled;
                    }
                    cancel_sent = Some(Instant::now());
                }
                Some(at) if at.elapsed() > CANCEL_GRACE => return Wait::Cancelled,
                Some(_) => {}
            }
        }
        if limit.is_some_and(|limit| started.elapsed() > limit) {
            return Wait::TimedOut;
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("plugin", &self.inner.plugin.display_name)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}
