//! The caller's side of running a plugin. A [`Session`] owns one plugin, its inspection, its
//! current sandbox options and the host functions it is linked with, backed by a worker process
//! started on first use and kept warm between calls. Each call runs on one named driver thread
//! and is handed back as a [`Call`]: a promise of its result with a canceller and live progress.
//! The driver enforces Stop and the timeout even when the plugin is stuck inside a host call, by
//! killing the worker. Nothing here blocks the caller: option changes and resets are recorded
//! and take effect on the next call.

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use poll_promise::Promise;

use super::channel;
use super::error::LoadError;
use super::host::harness::{self, XTP_HARNESS};
use super::host::{HostData, HostRegistry};
use super::inspect::{Inspection, Linkage, Unsatisfied};
use super::options::SandboxOptions;
use super::output::Output;
use super::protocol::{self, FromWorker, LoadRequest, PluginLoad, ToWorker, UnderTestLoad};
use super::report::{CallReport, ErrorKind, LogLevel};
use super::source::LoadedPlugin;
use super::worker::WORKER_ARG;

/// How often the driver looks at the cancel flag while waiting.
const POLL: Duration = Duration::from_millis(5);
/// How long a cancelled call may take to return before its worker is killed.
const CANCEL_GRACE: Duration = Duration::from_millis(40);
/// How long past its timeout a call may take before its worker is killed (it is stuck in a host
/// call, where wasmtime's interruption cannot reach it).
const TIMEOUT_GRACE: Duration = Duration::from_millis(250);
/// How long a load may take before it is given up.
const LOAD_LIMIT: Duration = Duration::from_mins(2);
/// How long the report of a call may take to arrive once the plugin has returned (it may be
/// large, but it is only being written: a worker past this is stuck).
const REPORT_LIMIT: Duration = Duration::from_mins(1);

/// How to start worker processes.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The executable to run with [`WORKER_ARG`]: this program.
    pub exe: PathBuf,
    /// Use wasmtime's on-disk cache of compiled modules (extism's default). Off measures a cold
    /// compile every time.
    pub compile_cache: bool,
    /// Whether a trap writes a coredump, for calls that ask for it back
    /// ([`CallRequest::coredump`]). wasmtime serializes the plugin's whole memory for it, which
    /// costs as much again: the command line turns it on only when asked (`--coredump`).
    pub coredumps: bool,
}

impl WorkerConfig {
    /// Workers run this very executable.
    pub fn current_exe() -> Result<Self, LoadError> {
        std::env::current_exe()
            .map(|exe| Self {
                exe,
                compile_cache: true,
                coredumps: true,
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
            coredumps: true,
        }
    }
}

/// One call to make. It goes to the worker as it is, its input as the frame's payload.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CallRequest {
    pub function: String,
    /// Shared, so a big input is never copied on its way to the worker (where it arrives as
    /// the frame's payload, not in this header).
    #[serde(skip)]
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
    /// Bring back the wasm coredump when the call traps ([`CallReport::coredump`]).
    pub coredump: bool,
}

/// The plugin an xtp-test plugin drives through `xtp:test/harness`, with what it runs under:
/// its own sandbox options and host functions, and the input `mock_input` returns.
#[derive(Clone, Debug)]
pub struct PluginUnderTest {
    pub plugin: LoadedPlugin,
    pub inspection: Inspection,
    pub options: SandboxOptions,
    pub host: HostRegistry,
    /// What `mock_input` returns; `None` when nothing was given (it returns 0).
    pub mock_input: Option<Vec<u8>>,
}

impl PluginUnderTest {
    /// Checks that it can be loaded as it is set up: its options are valid and every import
    /// can be provided.
    pub fn check(&self) -> Result<(), LoadError> {
        self.options.validate()?;
        let unsatisfied = unsatisfied_imports(
            &self.plugin,
            &self.inspection,
            self.options.wasi,
            &self.host,
            None,
        );
        if unsatisfied.is_empty() {
            Ok(())
        } else {
            Err(LoadError::UnsatisfiedImports {
                plugin: self.plugin.display_name.clone(),
                list: unsatisfied.iter().map(ToString::to_string).collect(),
            })
        }
    }
}

/// The imports of `plugin` that nothing would provide: not WASI (when on), not its own other
/// modules nor the `also_linked` module, not `host`.
pub fn unsatisfied_imports(
    plugin: &LoadedPlugin,
    inspection: &Inspection,
    wasi: bool,
    host: &HostRegistry,
    also_linked: Option<&str>,
) -> Vec<Unsatisfied> {
    let mut linked = plugin.linked_module_names();
    linked.extend(also_linked.map(str::to_string));
    inspection.unsatisfied_imports(&Linkage {
        wasi,
        linked_modules: &linked,
        host,
    })
}

/// Stops a call from any thread: a call asked to stop ends with [`ErrorKind::Cancelled`]
/// within about 50 ms.
pub use crate::platform::job::Canceller;

/// Where a call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Checking the call and creating the instance.
    Starting,
    /// Starting a worker and compiling the plugin in it.
    Loading,
    /// The plugin is running.
    Calling,
}

/// What a running call has got to, readable from any thread.
#[derive(Debug, Default)]
struct Progress {
    phase: AtomicU8,
    calls_done: AtomicU64,
}

impl Progress {
    fn set_phase(&self, phase: Phase) {
        let value = match phase {
            Phase::Starting => 0,
            Phase::Loading => 1,
            Phase::Calling => 2,
        };
        self.phase.store(value, Ordering::SeqCst);
    }

    fn phase(&self) -> Phase {
        match self.phase.load(Ordering::SeqCst) {
            0 => Phase::Starting,
            1 => Phase::Loading,
            _ => Phase::Calling,
        }
    }
}

/// A call in progress: a promise of its result (`T` is whatever the caller asked to be made of
/// the report on the driver thread), with a canceller and its progress.
pub struct Call<T: Send + 'static> {
    promise: Promise<T>,
    canceller: Canceller,
    progress: Arc<Progress>,
}

impl<T: Send + 'static> Call<T> {
    /// The result, once the call has finished.
    pub fn ready(&self) -> Option<&T> {
        self.promise.ready()
    }

    /// Blocks until the call finishes.
    pub fn block_and_take(self) -> T {
        self.promise.block_and_take()
    }

    /// Asks the call to stop (see [`Canceller::cancel`]).
    pub fn cancel(&self) {
        self.canceller.cancel();
    }

    /// Where the call is.
    pub fn phase(&self) -> Phase {
        self.progress.phase()
    }

    /// How many calls of a loop have finished so far (updated about ten times a second).
    pub fn calls_done(&self) -> u64 {
        self.progress.calls_done.load(Ordering::SeqCst)
    }
}

/// A running worker process.
struct Worker {
    child: Child,
    /// The protocol channel's sending side.
    channel: BufWriter<channel::Stream>,
    /// Frames from the worker; an `Err` says why its stream could not be read.
    frames: Receiver<std::io::Result<(FromWorker, Vec<u8>)>>,
    /// The plugin's WASI output, read from the worker's stdout and stderr.
    output: Output,
    /// The private folder the worker's plugin's coredumps go to; removed with the worker
    /// (dropped after it is ended).
    #[expect(dead_code, reason = "held for its drop, which removes the folder")]
    coredump: crate::platform::files::PrivateDir,
}

impl Worker {
    fn spawn(config: &WorkerConfig) -> Result<Self, LoadError> {
        let fail = |detail: String| LoadError::WorkerStart {
            exe: config.exe.clone(),
            detail,
        };
        let mut channel = channel::Opening::new()
            .map_err(|e| fail(format!("cannot open a channel to the worker: {e}")))?;
        let mut command = Command::new(&config.exe);
        if !config.compile_cache {
            // extism reads an empty EXTISM_CACHE_CONFIG as "no cache".
            command.env("EXTISM_CACHE_CONFIG", "");
        }
        // extism writes WASI output to the worker's stdout and stderr, which carry nothing
        // else: they are read here and cut into calls.
        command.env(super::worker::WASI_OUTPUT_ENV, "1");
        // A folder of its own for the coredump (it will hold the plugin's memory): made new,
        // private, with an unpredictable name, and removed with the worker (or, if this
        // process dies, by the next start).
        let private = super::worker::coredump_folder().map_err(|e| {
            fail(format!(
                "cannot make a private folder for its coredumps: {e}"
            ))
        })?;
        command.env(super::worker::COREDUMP_ENV, &private.1);
        crate::platform::process::windowless(&mut command);
        let stdin = channel
            .worker_stdin()
            .map_err(|e| fail(format!("cannot open a channel to the worker: {e}")))?;
        let spawned = command
            .arg(WORKER_ARG)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        // The command holds the worker's end of the channel: it goes now, so the stream ends
        // here when the worker does.
        drop(command);
        let child = spawned.map_err(|e| fail(e.to_string()))?;
        // From here the child is killed on any failure (and the private folder removed).
        let mut starting = Starting { child: Some(child) };
        let child = starting.child.as_mut().expect("just spawned");
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(fail("no stdio pipes".into()));
        };
        let output = Output::read(stdout, stderr, channel.token().as_str())
            .map_err(|e| fail(e.to_string()))?;
        let stream = channel
            .open(child, channel::CONNECT_LIMIT)
            .map_err(|e| fail(format!("cannot hand the worker its channel: {e}")))?;
        let reading = stream.try_clone().map_err(|e| fail(e.to_string()))?;
        let (tx, frames) = mpsc::channel();
        std::thread::Builder::new()
            .name("worker-reader".to_string())
            .spawn(move || {
                let mut reader = BufReader::with_capacity(256 * 1024, reading);
                loop {
                    let sent = match protocol::read_frame::<FromWorker>(&mut reader) {
                        Ok(Some(frame)) => tx.send(Ok(frame)),
                        // The worker closed its end: the driver sees the channel close.
                        Ok(None) => break,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            break;
                        }
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| fail(e.to_string()))?;
        let child = starting.child.take().expect("still starting");
        Ok(Self {
            child,
            channel: BufWriter::new(stream),
            frames,
            output,
            coredump: private.0,
        })
    }

    fn send(&mut self, message: &ToWorker, payload: &[u8]) -> Result<(), protocol::WriteError> {
        protocol::write_frame(&mut self.channel, message, payload)
    }

    /// Whether the process has ended (e.g. killed while idle).
    fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Ends the process (if it has not ended) and reaps it.
    fn end(&mut self) {
        crate::platform::process::kill(&mut self.child);
        let _ = self.child.wait();
    }

    /// Why `what` could not be sent: the worker stopped reading (it is then stopped), or ended.
    fn describe_write_failure(&mut self, error: &std::io::Error, what: &str) -> String {
        if matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            self.end();
            return format!(
                "the worker did not take {what} for {} s, so it was stopped",
                channel::WRITE_LIMIT.as_secs()
            );
        }
        self.describe_exit()
    }

    fn describe_exit(&mut self) -> String {
        crate::platform::process::kill(&mut self.child);
        match self.child.wait() {
            Ok(status) => format!("the worker process ended unexpectedly ({status})"),
            Err(e) => format!("the worker process ended unexpectedly ({e})"),
        }
    }
}

/// A worker being started: killed unless it gets going.
struct Starting {
    child: Option<Child>,
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            crate::platform::process::kill(&mut child);
            let _ = child.wait();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        crate::platform::process::kill(&mut self.child);
        let _ = self.child.wait();
        // The coredump folder goes as the fields drop, after the worker has ended.
    }
}

/// A worker between calls, with the options version it was loaded with.
struct IdleWorker {
    worker: Worker,
    options_version: u64,
}

/// What changes over a session's life.
struct State {
    options: Arc<SandboxOptions>,
    /// The host functions the next call links.
    host: Arc<HostRegistry>,
    /// Bumped on every change of the options: a worker loaded with older ones is not reused.
    options_version: u64,
    /// The warm worker, while no call has it.
    idle: Option<IdleWorker>,
    /// The next call starts on a new instance.
    fresh_next: bool,
}

impl State {
    /// What a call starts from: the options and host functions now, and the warm worker and
    /// the fresh-instance request, both taken.
    fn start_call(&mut self) -> CallStart {
        CallStart {
            options: Arc::clone(&self.options),
            host: Arc::clone(&self.host),
            options_version: self.options_version,
            idle: self.idle.take(),
            fresh: std::mem::take(&mut self.fresh_next),
        }
    }
}

/// What a call takes from the session's [`State`] as it starts.
struct CallStart {
    options: Arc<SandboxOptions>,
    host: Arc<HostRegistry>,
    options_version: u64,
    idle: Option<IdleWorker>,
    fresh: bool,
}

/// A plugin with its sandbox options and host functions, ready for calls. Clones share one
/// worker.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    plugin: LoadedPlugin,
    inspection: Inspection,
    config: WorkerConfig,
    /// Set when the plugin is an xtp-test plugin: the plugin it drives.
    under_test: Option<PluginUnderTest>,
    state: Mutex<State>,
}

/// Outcome of one step of waiting on the worker.
enum Wait {
    Frame(FromWorker, Vec<u8>),
    Cancelled,
    TimedOut,
    Died(String),
}

impl Session {
    /// Inspects `plugin` and prepares it with `options` and the built-in host functions. No
    /// plugin code runs until the first call.
    pub fn new(
        plugin: LoadedPlugin,
        options: SandboxOptions,
        config: WorkerConfig,
    ) -> Result<Self, LoadError> {
        let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
        Ok(Self::inspected(
            plugin,
            inspection,
            options,
            HostRegistry::builtin(),
            config,
        ))
    }

    /// Prepares a plugin already inspected (the module is not parsed again).
    pub fn inspected(
        plugin: LoadedPlugin,
        inspection: Inspection,
        options: SandboxOptions,
        host: HostRegistry,
        config: WorkerConfig,
    ) -> Self {
        Self::build(plugin, inspection, options, host, None, config)
    }

    /// Prepares an xtp-test plugin (inspected) that drives `under_test` through the
    /// `xtp:test/harness` host functions: the worker compiles both once, links the harness and
    /// the built-in host functions into the test plugin, and gives each call of the test plugin
    /// a fresh instance of the plugin under test (see `runner::host::harness` for the
    /// semantics).
    pub fn xtp(
        test: LoadedPlugin,
        inspection: Inspection,
        options: SandboxOptions,
        under_test: PluginUnderTest,
        config: WorkerConfig,
    ) -> Self {
        Self::build(
            test,
            inspection,
            options,
            HostRegistry::builtin(),
            Some(under_test),
            config,
        )
    }

    fn build(
        plugin: LoadedPlugin,
        inspection: Inspection,
        options: SandboxOptions,
        host: HostRegistry,
        under_test: Option<PluginUnderTest>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                plugin,
                inspection,
                config,
                under_test,
                state: Mutex::new(State {
                    options: Arc::new(options),
                    host: Arc::new(host),
                    options_version: 0,
                    idle: None,
                    fresh_next: false,
                }),
            }),
        }
    }

    /// A session of the same plugin, options and host functions with a worker of its own:
    /// for work (a limit search) whose option changes must not touch this session's.
    #[must_use]
    pub fn detached(&self) -> Self {
        let (options, host) = {
            let state = self.lock();
            (state.options.as_ref().clone(), state.host.as_ref().clone())
        };
        Self::build(
            self.inner.plugin.clone(),
            self.inner.inspection.clone(),
            options,
            host,
            self.inner.under_test.clone(),
            self.inner.config.clone(),
        )
    }

    pub fn plugin(&self) -> &LoadedPlugin {
        &self.inner.plugin
    }

    pub fn inspection(&self) -> &Inspection {
        &self.inner.inspection
    }

    /// The plugin an xtp-test plugin drives, for a session of one.
    pub fn plugin_under_test(&self) -> Option<&PluginUnderTest> {
        self.inner.under_test.as_ref()
    }

    /// The host functions the next call links.
    pub fn host_functions(&self) -> Arc<HostRegistry> {
        Arc::clone(&self.lock().host)
    }

    /// Links `host` from the next call on (a change means a new worker, like an options
    /// change). Returns whether it changed.
    pub fn set_host_functions(&self, host: HostRegistry) -> bool {
        let mut state = self.lock();
        if *state.host == host {
            return false;
        }
        state.host = Arc::new(host);
        state.options_version += 1;
        true
    }

    /// The options the next call runs with.
    pub fn options(&self) -> Arc<SandboxOptions> {
        Arc::clone(&self.lock().options)
    }

    /// Uses `options` from the next call on; a change means a new instance (and a new worker,
    /// since a compiled plugin carries its options). Returns whether they changed.
    pub fn set_options(&self, options: SandboxOptions) -> bool {
        let mut state = self.lock();
        if *state.options == options {
            return false;
        }
        state.options = Arc::new(options);
        // The warm worker is left where it is: the next call sees its version is old and
        // drops (stops) it on the call's thread, not the caller's.
        state.options_version += 1;
        true
    }

    /// Discards the warm instance: the next call starts on a new one.
    pub fn reset(&self) {
        self.lock().fresh_next = true;
    }

    /// Whether the next call will start on a new instance (nothing warm, a reset, or options
    /// changed since the warm instance was made).
    pub fn next_call_is_fresh(&self) -> bool {
        let state = self.lock();
        state.fresh_next
            || state
                .idle
                .as_ref()
                .is_none_or(|idle| idle.options_version != state.options_version)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The imports that cannot be provided with the current options.
    pub fn unsatisfied_imports(&self) -> Vec<Unsatisfied> {
        let options = self.options();
        self.unsatisfied_with(&options)
    }

    fn unsatisfied_with(&self, options: &SandboxOptions) -> Vec<Unsatisfied> {
        unsatisfied_imports(
            &self.inner.plugin,
            &self.inner.inspection,
            options.wasi,
            &self.host_functions(),
            // Checked against the harness's own table in `check_call_with`.
            self.inner.under_test.is_some().then_some(XTP_HARNESS),
        )
    }

    /// Checks that `function` can be called with the current options: they are valid, the
    /// function is exported with an Extism signature, and every import can be provided.
    pub fn check_call(&self, function: &str) -> Result<(), LoadError> {
        self.check_call_with(function, &self.options())
    }

    fn check_call_with(&self, function: &str, options: &SandboxOptions) -> Result<(), LoadError> {
        options.validate()?;
        let inspection = &self.inner.inspection;
        let plugin = &self.inner.plugin.display_name;
        let mut list: Vec<String> = self
            .unsatisfied_with(options)
            .iter()
            .map(ToString::to_string)
            .collect();
        if let Some(under_test) = &self.inner.under_test {
            list.extend(harness::import_problems(inspection));
            under_test.check()?;
        }
        if !list.is_empty() {
            return Err(LoadError::UnsatisfiedImports {
                plugin: plugin.clone(),
                list,
            });
        }
        let callable = inspection.callable_functions().join(", ");
        match inspection.export(function) {
            Some(export) if export.callable => Ok(()),
            Some(export) => Err(LoadError::NotCallable {
                function: function.to_string(),
                plugin: plugin.clone(),
                signature: export.signature.as_ref().map_or_else(
                    || format!("a {} (not a function)", export.kind.as_str()),
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
    pub fn call(&self, request: CallRequest) -> Call<CallReport> {
        self.call_then(request, |report| report, || {})
    }

    /// Starts a call on a named driver thread, which then turns its report into `T` with
    /// `then` (so work such as indexing a large output happens there, off the caller's thread)
    /// and calls `done` once the result can be taken ([`Call::ready`] returns it from then on:
    /// a window woken by `done` finds it on that very frame).
    pub fn call_then<T: Send + 'static>(
        &self,
        request: CallRequest,
        then: impl FnOnce(CallReport) -> T + Send + 'static,
        done: impl FnOnce() + Send + 'static,
    ) -> Call<T> {
        let (sender, promise) = Promise::new();
        let canceller = Canceller::default();
        let progress = Arc::new(Progress::default());
        let call = Call {
            promise,
            canceller: canceller.clone(),
            progress: Arc::clone(&progress),
        };
        let function = request.function.clone();
        // The job sits where both the thread and this function can reach it, so it still runs
        // (with a failed report) if the thread cannot be started.
        let job = Arc::new(Mutex::new(Some((sender, then, done))));
        let session = self.clone();
        let job_for_thread = Arc::clone(&job);
        let spawned = std::thread::Builder::new()
            .name("extism-call".to_string())
            .spawn(move || {
                let report = session.run(request, &canceller, &progress);
                if let Some((sender, then, done)) = take(&job_for_thread) {
                    sender.send(then(report));
                    done();
                }
            });
        if let Err(e) = spawned
            && let Some((sender, then, done)) = take(&job)
        {
            sender.send(then(CallReport::failed(
                &function,
                ErrorKind::Load,
                format!("cannot start a call thread: {e}"),
            )));
            done();
        }
        call
    }

    /// Runs a call on this thread (for headless use).
    pub fn call_blocking(&self, request: CallRequest) -> CallReport {
        self.call_stoppable(request, &Canceller::default())
    }

    /// Runs a call on this thread; `canceller` stops it from another (then and from then on:
    /// a canceller stays cancelled).
    pub fn call_stoppable(&self, request: CallRequest, canceller: &Canceller) -> CallReport {
        self.run(request, canceller, &Arc::new(Progress::default()))
    }

    /// The driver: check, get a worker (warm or new), call, and keep the worker for the next
    /// call unless the call ended in a way that leaves it untrustworthy.
    fn run(&self, request: CallRequest, canceller: &Canceller, progress: &Progress) -> CallReport {
        let function = request.function.clone();
        let CallStart {
            options,
            host,
            options_version,
            idle,
            fresh,
        } = self.lock().start_call();
        // A worker loaded with older options is dropped (stopped) here, outside the lock.
        let warm = idle
            .filter(|idle| idle.options_version == options_version)
            .map(|idle| idle.worker);
        if let Err(e) = self.check_call_with(&function, &options) {
            self.keep(warm, options_version);
            return CallReport::failed(&function, ErrorKind::Load, e.to_string());
        }
        if canceller.is_cancelled() {
            self.keep(warm, options_version);
            return CallReport::failed(
                &function,
                ErrorKind::Cancelled,
                "the call was stopped before it started",
            );
        }
        // A worker that died while idle is replaced, not blamed on this call.
        let warm = warm.and_then(|mut w| (!w.has_exited()).then_some(w));
        let (mut worker, load_ms, new_worker) = if let Some(worker) = warm {
            (worker, 0.0, false)
        } else {
            progress.set_phase(Phase::Loading);
            match self.start_worker(&options, &host, canceller) {
                Ok((worker, ms)) => (worker, ms, true),
                Err(report) => {
                    return CallReport {
                        function,
                        ..*report
                    };
                }
            }
        };
        progress.set_phase(Phase::Starting);
        let loops = request.loops;
        let log_level = request.log_level;
        let input = Arc::clone(&request.input);
        // The input travels as the frame's payload, not in its header.
        let call = CallRequest {
            fresh_instance: request.fresh_instance || fresh,
            input: Arc::default(),
            ..request
        };
        if let Err(e) = worker.send(&ToWorker::Call(call), &input) {
            return self.unsent(worker, options_version, &function, &e);
        }
        let limit = options.timeout_ms.map(|t| {
            Duration::from_millis(t.saturating_mul(u64::from(loops.max(1)))) + TIMEOUT_GRACE
        });
        let outcome = wait_for_report(&mut worker, canceller, limit, progress);
        match outcome {
            Wait::Frame(FromWorker::Report { report, printed }, mut output) => {
                let mut report = *report;
                if let Some(seq) = printed {
                    worker
                        .output
                        .take(seq, log_level)
                        .merge_into(&mut report.logs, &mut report.logs_dropped);
                }
                self.keep(Some(worker), options_version);
                if let Some(len) = report.coredump_len.take()
                    && let Some(at) = usize::try_from(len)
                        .ok()
                        .and_then(|len| output.len().checked_sub(len))
                {
                    report.coredump = Some(Arc::new(output.split_off(at)));
                }
                report.output = output;
                if let Some(error) = &mut report.error {
                    error.hint =
                        crate::runner::backtrace::line_hint(&error.frames, &self.inner.inspection);
                }
                report.timings.load_ms = load_ms;
                report.new_instance |= new_worker;
                report
            }
            other => {
                // What the plugin printed before it was stopped is kept: the worker is ended
                // first, so its streams are read to their end.
                worker.end();
                let printed = worker.output.take_unfinished(log_level);
                drop(worker);
                let mut report = self.lost_call(&function, &options, other);
                printed.merge_into(&mut report.logs, &mut report.logs_dropped);
                report
            }
        }
    }

    /// The report of a call that could not be sent to its worker.
    fn unsent(
        &self,
        mut worker: Worker,
        options_version: u64,
        function: &str,
        error: &protocol::WriteError,
    ) -> CallReport {
        match error {
            protocol::WriteError::TooLarge { .. } => {
                // Nothing was sent: the worker is as it was.
                self.keep(Some(worker), options_version);
                CallReport::failed(
                    function,
                    ErrorKind::Load,
                    format!("the call cannot be made: its input and kv store are {error}"),
                )
            }
            protocol::WriteError::Io(e) => CallReport::failed(
                function,
                ErrorKind::Trap,
                worker.describe_write_failure(e, "the call"),
            ),
        }
    }

    /// The report of a call whose worker gave no report (stopped, timed out, died or spoke out
    /// of turn).
    fn lost_call(&self, function: &str, options: &SandboxOptions, outcome: Wait) -> CallReport {
        let mut report = match outcome {
            Wait::Frame(other, _) => CallReport::failed(
                function,
                ErrorKind::Trap,
                format!("the worker answered out of turn: {other:?}"),
            ),
            Wait::Cancelled => CallReport::failed(
                function,
                ErrorKind::Cancelled,
                "the call was stopped (the plugin did not return in time, so its worker was stopped and the instance discarded)",
            ),
            Wait::TimedOut => {
                let t = options.timeout_ms.unwrap_or_default();
                CallReport::failed(
                    function,
                    ErrorKind::Timeout,
                    format!(
                        "the call ran past the {t} ms timeout inside a host call; its worker was stopped and the instance discarded"
                    ),
                )
            }
            Wait::Died(message) => CallReport::failed(function, ErrorKind::Trap, message),
        };
        // An xtp run's assertions come back with the worker's report: when the worker had to
        // be stopped there are none, and the reader should know they were lost, not absent.
        if self.plugin_under_test().is_some()
            && let Some(error) = &mut report.error
        {
            error
                .message
                .push_str("; the assertions the test plugin made before were lost with its worker");
        }
        report
    }

    /// Makes `worker` the warm one again, unless the options changed meanwhile or another call
    /// already put one back (then it is dropped, which stops it).
    fn keep(&self, worker: Option<Worker>, options_version: u64) {
        let Some(worker) = worker else { return };
        let mut state = self.lock();
        if state.options_version == options_version && state.idle.is_none() {
            state.idle = Some(IdleWorker {
                worker,
                options_version,
            });
        } else {
            drop(state);
            drop(worker);
        }
    }

    /// Starts a worker and loads the plugin into it with `options`.
    fn start_worker(
        &self,
        options: &SandboxOptions,
        host: &HostRegistry,
        canceller: &Canceller,
    ) -> Result<(Worker, f64), Box<CallReport>> {
        let load_failed =
            |message: String| Box::new(CallReport::failed("", ErrorKind::Load, message));
        let mut worker =
            Worker::spawn(&self.inner.config).map_err(|e| load_failed(e.to_string()))?;
        let plugin = &self.inner.plugin;
        let under_test = self.inner.under_test.as_ref();
        let mut mocks = host.mock_plugins();
        for mock in under_test.iter().flat_map(|u| u.host.mock_plugins()) {
            if !mocks.iter().any(|m| m.sha256 == mock.sha256) {
                mocks.push(mock);
            }
        }
        let request = LoadRequest {
            plugin: PluginLoad::of(plugin, options, host),
            fast_compile: options.fast_compile,
            mocks: mocks
                .iter()
                .map(|m| (m.sha256.clone(), m.bytes.len() as u64))
                .collect(),
            memories: self.inner.inspection.memories.clone(),
            coredumps: self.inner.config.coredumps,
            under_test: under_test.map(|u| {
                Box::new(UnderTestLoad {
                    label: u.plugin.display_name.clone(),
                    callable: u
                        .inspection
                        .callable_functions()
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    plugin: PluginLoad::of(&u.plugin, &u.options, &u.host),
                    mock_input: u.mock_input.as_ref().map(|b| b.len() as u64),
                })
            }),
        };
        let payload: Vec<u8> = plugin
            .modules
            .iter()
            .flat_map(|m| m.bytes.iter().copied())
            .chain(mocks.iter().flat_map(|m| m.bytes.iter().copied()))
            .chain(under_test.iter().flat_map(|u| {
                u.plugin
                    .modules
                    .iter()
                    .flat_map(|m| m.bytes.iter().copied())
                    .chain(u.mock_input.iter().flatten().copied())
            }))
            .collect();
        match worker.send(&ToWorker::Load(Box::new(request)), &payload) {
            Ok(()) => {}
            Err(e @ protocol::WriteError::TooLarge { .. }) => {
                return Err(load_failed(format!("the plugin is too large to load: {e}")));
            }
            Err(protocol::WriteError::Io(e)) => {
                return Err(load_failed(worker.describe_write_failure(&e, "the plugin")));
            }
        }
        let unused = Progress::default();
        match wait_for(&mut worker, canceller, Some(LOAD_LIMIT), &unused) {
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

/// Takes the job out of its slot (whoever comes first runs it).
fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// Waits for a call's report: within `limit` (the call's timeout) until the plugin returns,
/// then within [`REPORT_LIMIT`] (the report may be large, but it is only being written).
/// Stop is honoured all along.
fn wait_for_report(
    worker: &mut Worker,
    canceller: &Canceller,
    limit: Option<Duration>,
    progress: &Progress,
) -> Wait {
    let outcome = wait_for(worker, canceller, limit, progress);
    if !matches!(outcome, Wait::Frame(FromWorker::Returned, _)) {
        return outcome;
    }
    match wait_for(worker, canceller, Some(REPORT_LIMIT), progress) {
        Wait::TimedOut => Wait::Died(format!(
            "the plugin returned, but its worker did not send the report within {} s, so it was stopped",
            REPORT_LIMIT.as_secs()
        )),
        other => other,
    }
}

/// Waits for the worker's next answer, honouring cancel (a polite request first, then the kill)
/// and an overall limit. Progress frames update `progress` and are not answers.
fn wait_for(
    worker: &mut Worker,
    canceller: &Canceller,
    limit: Option<Duration>,
    progress: &Progress,
) -> Wait {
    let started = Instant::now();
    let mut cancel_sent: Option<Instant> = None;
    loop {
        match worker.frames.recv_timeout(POLL) {
            Ok(Ok((FromWorker::Calling, _))) => progress.set_phase(Phase::Calling),
            Ok(Ok((FromWorker::Progress { calls_done }, _))) => {
                progress.calls_done.store(calls_done, Ordering::SeqCst);
            }
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
            .field("options", &self.options())
            .finish_non_exhaustive()
    }
}
