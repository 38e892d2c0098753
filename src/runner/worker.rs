//! The worker process: the only place plugin code runs. The session starts this binary with the
//! hidden `__worker` argument and hands it its protocol channel on stdin (`runner::channel`).
//! The worker reads frames there, runs calls on a named
//! executor thread (so a cancel can arrive mid-call), and collects each call's logs and host
//! calls. Its own stdout and stderr belong to the plugin's WASI output, which extism writes
//! there and the session reads (`runner::output`); the worker marks where each call's begins
//! and ends. The same on every OS.

use std::io::{BufReader, BufWriter, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use super::backtrace;
use super::capture::{Markers, PdkLogLayer, Recorder};
use super::channel;
use super::classify::{Limits, classify};
use super::host::harness::{self, UnderTest, XtpRun};
use super::host::script::{self, Control, Scripts};
use super::host::{self, HostContext, HostData, HostRegistry, Implementation};
use super::memory::MemoryWatch;
use super::protocol::{self, FromWorker, LoadRequest, PluginLoad, ToWorker, UnderTestLoad};
use super::report::{CallError, CallReport, ErrorKind, LogLevel, LoopStats};
use super::session::CallRequest;

/// How often a loop of calls reports how far it got.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// The argument that makes the binary a worker.
pub const WORKER_ARG: &str = "__worker";

/// Set to `load`, `call` or `host-function` to make the worker panic there, once per load,
/// call or host call: how the tests prove that a panic anywhere in the worker ends the load or
/// call with an error that says so, never a hang. Read once, when the worker starts.
pub const FAULT_ENV: &str = "EXTISM_PLAYGROUND_WORKER_FAULT";

/// Panics when [`FAULT_ENV`] names `place`.
pub(crate) fn fault_point(place: &str) {
    static FAULT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if FAULT
        .get_or_init(|| std::env::var(FAULT_ENV).ok())
        .as_deref()
        == Some(place)
    {
        panic!("a fault was injected at {place} ({FAULT_ENV})");
    }
}

/// The environment variable that makes extism write WASI output to the process's stdio.
pub(crate) const WASI_OUTPUT_ENV: &str = "EXTISM_ENABLE_WASI_OUTPUT";

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// State shared between the frame reader and the executor.
#[derive(Default)]
struct Shared {
    cancel_handle: Mutex<Option<extism::CancelHandle>>,
    /// The mock-host plugins' instances, stopped with the plugin.
    mock_cancels: Mutex<Vec<extism::CancelHandle>>,
    /// The instance an xtp test drives, stopped with the test plugin.
    under_test_cancel: Arc<Mutex<Option<extism::CancelHandle>>>,
    /// Stops the call in progress; host scripts look at it too.
    control: Arc<Control>,
}

impl Shared {
    fn cancel_requested(&self) -> &AtomicBool {
        &self.control.cancel
    }
}

/// Runs the worker until the session closes the channel, then exits the process with 0.
/// Returns exit code 3 when it cannot start: the channel cannot be opened or its executor
/// thread cannot be started.
pub fn serve() -> std::process::ExitCode {
    let (stream, token) = match channel::connect() {
        Ok(connected) => connected,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "extism-playground worker: cannot reach the app: {e}"
            );
            return std::process::ExitCode::from(3);
        }
    };
    // The worker's own failures are told apart from what the plugin writes to stderr.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(
            std::io::stderr(),
            "[extism-playground worker] {info}; this is a bug of the app, not of the plugin"
        );
    }));
    let recorder = Arc::new(Recorder::default());
    // The global level follows each call's log level: PDK logs below it are not even sent by
    // the guest, and extism's own debug/trace events cost nothing (at TRACE they slow every
    // call by about a quarter).
    let (level, level_handle) = tracing_subscriber::reload::Layer::new(LevelFilter::INFO);
    let _ = tracing_subscriber::registry()
        .with(level)
        .with(PdkLogLayer {
            recorder: Arc::clone(&recorder),
        })
        .try_init();
    let Ok(protocol_out) = stream.try_clone() else {
        return std::process::ExitCode::from(3);
    };
    let markers = Markers::new(token.as_str());
    let out = BufWriter::new(protocol_out);
    let shared = Arc::new(Shared::default());
    let (tx, rx) = mpsc::channel::<(ToWorker, Vec<u8>)>();
    let executor = {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("plugin-exec".to_string())
            // Host functions and wasmtime's own frames run on this stack.
            .stack_size(8 * 1024 * 1024)
            .spawn(move || {
                // Loads and calls catch their own panics; one anywhere else (making the
                // executor, answering) ends the worker, so the session sees it end instead of
                // waiting on a silent one.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    Executor::new(recorder, markers, out, shared, level_handle).run(&rx);
                }));
                if ran.is_err() {
                    std::process::exit(3);
                }
            })
    };
    if executor.is_err() {
        return std::process::ExitCode::from(3);
    }
    let mut frames = BufReader::with_capacity(256 * 1024, stream);
    loop {
        match protocol::read_frame::<ToWorker>(&mut frames) {
            Ok(Some((ToWorker::Cancel, _))) => {
                shared.cancel_requested().store(true, Ordering::SeqCst);
                for slot in [&shared.cancel_handle, &*shared.under_test_cancel] {
                    if let Some(handle) = slot
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .as_ref()
                    {
                        let _ = handle.cancel();
                    }
                }
                for handle in shared
                    .mock_cancels
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .iter()
                {
                    let _ = handle.cancel();
                }
            }
            Ok(Some(frame)) => {
                // A new call starts uncancelled; a Stop that arrives from here on (even while
                // the instance is being created) is kept.
                if matches!(frame.0, ToWorker::Call(_)) {
                    shared.cancel_requested().store(false, Ordering::SeqCst);
                }
                if tx.send(frame).is_err() {
                    break;
                }
            }
            // The session is gone (or spoke nonsense): nothing left to do, even mid-call.
            Ok(None) | Err(_) => break,
        }
    }
    std::process::exit(0);
}

/// The environment variable naming the file extism writes a trap's coredump to. The session
/// makes that file (private: it will hold the plugin's memory) before it starts the worker,
/// and removes it when the worker is gone, however it ended.
pub(crate) const COREDUMP_ENV: &str = "EXTISM_PLAYGROUND_COREDUMP";

/// What one call (or loop) in the worker gives back.
struct Called {
    report: CallReport,
    /// The output, then the coredump when the report says there is one.
    payload: Vec<u8>,
    /// When the plugin may have printed: the number its output is marked with.
    printed: Option<u64>,
}

impl Called {
    /// A call that never reached the plugin: no output, nothing printed.
    fn unprinted(report: CallReport) -> Self {
        Self {
            report,
            payload: Vec::new(),
            printed: None,
        }
    }
}

/// A worker's coredump file, made empty in a private folder of its own (it will hold the
/// plugin's memory): the folder goes when it is dropped.
pub(crate) fn coredump_folder()
-> std::io::Result<(crate::platform::files::PrivateDir, std::path::PathBuf)> {
    let folder = crate::platform::files::PrivateDir::new("worker")?;
    let file = folder.create_file("plugin.coredump")?;
    Ok((folder, file))
}

/// The coredump file the session named; a worker started without one makes a private folder
/// of its own for it (kept for the worker's life).
fn coredump_file() -> (
    std::path::PathBuf,
    Option<crate::platform::files::PrivateDir>,
) {
    if let Some(path) = std::env::var_os(COREDUMP_ENV) {
        return (std::path::PathBuf::from(path), None);
    }
    match coredump_folder() {
        Ok((folder, file)) => (file, Some(folder)),
        // No coredumps then: a path that cannot be written.
        Err(_) => (std::path::PathBuf::new(), None),
    }
}

struct Executor {
    recorder: Arc<Recorder>,
    /// Marks each call's output in stdout and stderr, when the call may print.
    markers: Markers,
    out: BufWriter<channel::Stream>,
    shared: Arc<Shared>,
    host: extism::UserData<HostContext>,
    compiled: Option<extism::CompiledPlugin>,
    /// The mock-host plugins the host functions call, compiled, by sha256.
    mocks: Arc<Vec<(String, extism::CompiledPlugin)>>,
    /// The plugin an xtp-test plugin drives, compiled, when the loaded plugin is one.
    under_test: Option<Arc<UnderTest>>,
    plugin: Option<extism::Plugin>,
    /// Whether anything loaded has WASI (the plugin, the plugin it drives or a mock host), so
    /// a call can write to stdout or stderr and its output must be waited for after it.
    may_print: bool,
    limits: Limits,
    level: LevelHandle,
    current_level: LevelFilter,
    /// The main module's memory, read as the plugin's instances grow it.
    memory: MemoryWatch,
    /// Where extism writes the coredump of a trap (read, then removed, after each failure).
    coredump_path: std::path::PathBuf,
    /// The private folder holding it, when the worker made one itself.
    _coredump_dir: Option<crate::platform::files::PrivateDir>,
}

/// Changes the worker's global tracing level.
type LevelHandle = tracing_subscriber::reload::Handle<LevelFilter, tracing_subscriber::Registry>;

impl Executor {
    fn new(
        recorder: Arc<Recorder>,
        markers: Markers,
        out: BufWriter<channel::Stream>,
        shared: Arc<Shared>,
        level: LevelHandle,
    ) -> Self {
        let host = extism::UserData::new(HostContext::new(Arc::clone(&recorder)));
        let (coredump_path, coredump_dir) = coredump_file();
        Self {
            recorder,
            markers,
            out,
            shared,
            host,
            compiled: None,
            mocks: Arc::default(),
            under_test: None,
            plugin: None,
            may_print: false,
            limits: Limits::default(),
            level,
            current_level: LevelFilter::INFO,
            memory: MemoryWatch::default(),
            coredump_path,
            _coredump_dir: coredump_dir,
        }
    }

    /// Sets the global tracing level to what this call records.
    fn set_level(&mut self, level: LogLevel) {
        let filter = match level {
            LogLevel::Trace => LevelFilter::TRACE,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Error => LevelFilter::ERROR,
        };
        if filter != self.current_level && self.level.modify(|f| *f = filter).is_ok() {
            self.current_level = filter;
        }
    }

    /// Sends a frame to the session; if the session is gone there is nothing left to do.
    fn answer(&mut self, message: &FromWorker, payload: &[u8]) {
        match protocol::write_frame(&mut self.out, message, payload) {
            Ok(()) => {}
            Err(protocol::WriteError::TooLarge { .. }) => {
                if let FromWorker::Report { report, printed } = message {
                    // The output is kept; the kv store and host results after the call (what
                    // made it too large) are not sent, and the report says so.
                    let mut report = report.clone();
                    report.kv_after = None;
                    report.host_results.clear();
                    report.logs.push(crate::runner::report::LogEntry {
                        offset_us: 0,
                        level: LogLevel::Warn,
                        source: crate::runner::report::LogSource::Host,
                        message: format!(
                            "the kv store and host results after the call were not kept: with \
                             the output they are over the {} a call's report carries",
                            crate::platform::files::size_text(protocol::MAX_PAYLOAD_BYTES)
                        ),
                    });
                    let smaller = FromWorker::Report {
                        report,
                        printed: *printed,
                    };
                    if protocol::write_frame(&mut self.out, &smaller, payload).is_ok() {
                        return;
                    }
                }
                std::process::exit(0);
            }
            Err(protocol::WriteError::Io(_)) => std::process::exit(0),
        }
    }

    fn run(mut self, rx: &mpsc::Receiver<(ToWorker, Vec<u8>)>) {
        // A panic of the app's own code (host functions catch their own) ends the load or call
        // with an error that says so, then the worker: its state cannot be trusted, and the
        // session starts another for the next call. Never a silent worker.
        let panicked = |panic: Box<dyn std::any::Any + Send>| {
            format!(
                "the worker failed: it panicked ({}); this is a bug of the app, not of the \
                 plugin: please report it (the next call starts a new worker)",
                host::panic_text(panic.as_ref())
            )
        };
        while let Ok((message, payload)) = rx.recv() {
            match message {
                ToWorker::Load(request) => {
                    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        fault_point("load");
                        self.load(*request, &payload)
                    }));
                    match loaded {
                        Ok(reply) => self.answer(&reply, &[]),
                        Err(panic) => {
                            let message = panicked(panic);
                            self.answer(&FromWorker::LoadFailed { message }, &[]);
                            std::process::exit(0);
                        }
                    }
                }
                ToWorker::Call(spec) => {
                    let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        fault_point("call");
                        self.call(&spec, &payload)
                    }));
                    match called {
                        Ok(Called {
                            report,
                            payload,
                            printed,
                        }) => {
                            self.answer(
                                &FromWorker::Report {
                                    report: Box::new(report),
                                    printed,
                                },
                                &payload,
                            );
                            if self.with_host(|ctx| ctx.panicked).unwrap_or(true) {
                                // A host function panicked: its state is not to be trusted;
                                // the session starts a new worker for the next call.
                                std::process::exit(0);
                            }
                        }
                        Err(panic) => {
                            let report = CallReport::failed(
                                &spec.function,
                                ErrorKind::Internal,
                                panicked(panic),
                            );
                            self.answer(
                                &FromWorker::Report {
                                    report: Box::new(report),
                                    printed: None,
                                },
                                &[],
                            );
                            std::process::exit(0);
                        }
                    }
                }
                // Handled by the frame reader as it arrives.
                ToWorker::Cancel => {}
            }
        }
    }

    fn drop_instance(&mut self) {
        self.plugin = None;
        *self
            .shared
            .cancel_handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    fn load(&mut self, request: LoadRequest, payload: &[u8]) -> FromWorker {
        match self.try_load(request, payload) {
            Ok(load_ms) => FromWorker::Loaded { load_ms },
            // The protocol carries the failure as text: the session words it as is.
            Err(failure) => FromWorker::LoadFailed {
                message: failure.to_string(),
            },
        }
    }

    /// Compiles the plugin (and the plugin it drives, for an xtp-test plugin) with the host
    /// functions it links; returns how long compiling took.
    fn try_load(&mut self, request: LoadRequest, payload: &[u8]) -> Result<f64, LoadFailure> {
        self.drop_instance();
        self.compiled = None;
        self.under_test = None;
        self.may_print = false;
        let mut payload = Payload {
            bytes: payload,
            offset: 0,
        };
        let mut manifest = request.plugin.manifest;
        manifest.wasm = payload.modules(request.plugin.modules)?;
        let mut mock_bytes = Vec::new();
        for (sha, len) in request.mocks {
            let bytes = payload
                .take(len)
                .ok_or(LoadFailure::CutShort(PayloadPart::MockHost))?;
            mock_bytes.push((sha, Arc::new(bytes.to_vec())));
        }
        let mut registry = request.plugin.host;
        registry.attach_mock_bytes(&mock_bytes);
        // The plugin under test: its modules in its manifest, its mocks' bytes attached.
        let under_test = match request.under_test {
            Some(load) => {
                let mut load = *load;
                load.plugin.manifest.wasm =
                    payload.modules(std::mem::take(&mut load.plugin.modules))?;
                load.plugin.host.attach_mock_bytes(&mock_bytes);
                let mock_input = match load.mock_input {
                    Some(len) => Some(
                        payload
                            .take(len)
                            .ok_or(LoadFailure::CutShort(PayloadPart::MockInput))?
                            .to_vec(),
                    ),
                    None => None,
                };
                Some((load, mock_input))
            }
            None => None,
        };
        let wasi = request.plugin.wasi;
        let fuel_limit = request.plugin.fuel_limit;
        self.may_print = wasi
            || !mock_bytes.is_empty()
            || under_test
                .as_ref()
                .is_some_and(|(load, _)| load.plugin.wasi);
        let registries: Vec<&HostRegistry> = std::iter::once(&registry)
            .chain(under_test.as_ref().map(|(load, _)| &load.plugin.host))
            .collect();
        // The user's host functions serve the plugin that imports them: in an xtp run that is
        // the plugin under test (the test plugin imports the harness), so its config and its
        // per-call timeout are theirs.
        let (host_manifest, host_fuel) = under_test
            .as_ref()
            .map_or((&manifest, fuel_limit), |(load, _)| {
                (&load.plugin.manifest, load.plugin.fuel_limit)
            });
        self.load_host(&registries, host_manifest, host_fuel)?;
        let mut functions = host::link(&registry, &self.host);
        if under_test.is_some() {
            functions.extend(harness::link(&self.host));
        }
        let started = Instant::now();
        self.memory = MemoryWatch::new(&request.memories);
        let post_mortem = PostMortem {
            memory: Some(&self.memory),
            coredump: request.coredumps.then_some(self.coredump_path.as_path()),
        };
        let (compiled, limits) = compile(
            manifest,
            Engine {
                wasi,
                fuel_limit,
                fast_compile: request.fast_compile,
            },
            functions,
            &post_mortem,
        )
        .map_err(|cause| LoadFailure::Compile { cause })?;
        self.limits = limits;
        if let Some((load, mock_input)) = under_test {
            self.under_test = Some(Arc::new(self.compile_under_test(load, mock_input)?));
        }
        self.compiled = Some(compiled);
        Ok(ms(started.elapsed()))
    }

    /// Compiles the plugin an xtp-test plugin drives, with its own host functions (bound to the
    /// same host context) and sandbox.
    fn compile_under_test(
        &self,
        load: UnderTestLoad,
        mock_input: Option<Vec<u8>>,
    ) -> Result<UnderTest, LoadFailure> {
        let UnderTestLoad {
            label,
            callable,
            plugin:
                PluginLoad {
                    manifest,
                    wasi,
                    fuel_limit,
                    host,
                    ..
                },
            ..
        } = load;
        let (compiled, limits) = compile(
            manifest,
            Engine {
                wasi,
                fuel_limit,
                fast_compile: false,
            },
            host::link(&host, &self.host),
            &PostMortem::default(),
        )
        .map_err(|cause| LoadFailure::UnderTest {
            label: label.clone(),
            cause,
        })?;
        Ok(UnderTest {
            label,
            callable,
            compiled,
            limits,
            mock_input,
        })
    }

    /// Prepares what user-defined host functions need: their scripts compiled in a sandboxed
    /// engine that reads the manifest's config, and their mock-host plugins compiled (with WASI,
    /// no paths, no hosts) and bounded like the plugin they serve: its timeout, memory limit and
    /// fuel (and Stop, see [`Executor::ensure_instance`]).
    fn load_host(
        &mut self,
        registries: &[&HostRegistry],
        manifest: &extism::Manifest,
        fuel_limit: Option<u64>,
    ) -> Result<(), LoadFailure> {
        let config = manifest
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut scripts = Scripts::new(Arc::clone(&self.shared.control), config);
        let mut any_script = false;
        let mut mocks: Vec<(String, extism::CompiledPlugin)> = Vec::new();
        for f in registries.iter().flat_map(|r| r.functions()) {
            match &f.implementation {
                Implementation::Rhai(script) => {
                    any_script = true;
                    let function = format!("{}::{}", f.module, f.name);
                    scripts
                        .add(&function, script)
                        .map_err(|cause| LoadFailure::Script { function, cause })?;
                }
                Implementation::Wasm(mock) if !mocks.iter().any(|(sha, _)| *sha == mock.sha256) => {
                    let mut mock_manifest =
                        extism::Manifest::new([extism::Wasm::data(mock.bytes.to_vec())]);
                    mock_manifest.timeout_ms = manifest.timeout_ms;
                    mock_manifest.memory.max_pages = manifest.memory.max_pages;
                    let mut builder = extism::PluginBuilder::new(mock_manifest).with_wasi(true);
                    if let Some(fuel) = fuel_limit {
                        builder = builder.with_fuel_limit(fuel);
                    }
                    let compiled = extism::CompiledPlugin::new(builder).map_err(|cause| {
                        LoadFailure::MockHost {
                            label: mock.label.clone(),
                            cause,
                        }
                    })?;
                    mocks.push((mock.sha256.clone(), compiled));
                }
                _ => {}
            }
        }
        self.mocks = Arc::new(mocks);
        self.with_host(|ctx| {
            ctx.scripts = any_script.then_some(scripts);
            ctx.mocks.clear();
        });
        Ok(())
    }

    /// Runs `f` on the host context (skipped if its lock is poisoned).
    fn with_host<T>(&self, f: impl FnOnce(&mut HostContext) -> T) -> Option<T> {
        let ctx = self.host.get().ok()?;
        let mut ctx = ctx.lock().ok()?;
        Some(f(&mut ctx))
    }

    /// Host scripts end when the plugin call now starting runs past its timeout.
    fn start_deadline(&self) {
        let deadline = self
            .limits
            .timeout_ms
            .map(|t| Instant::now() + std::time::Duration::from_millis(t));
        *self
            .shared
            .control
            .deadline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = deadline;
    }

    fn set_host_data(&self, data: HostData) {
        self.with_host(|ctx| {
            ctx.kv_bytes = host::kv_bytes(&data.kv);
            ctx.data = data;
            ctx.failure = None;
            ctx.results.clear();
        });
    }

    fn take_host_failure(&self) -> Option<host::HostFailure> {
        self.with_host(|ctx| ctx.failure.take()).flatten()
    }

    /// Creates an instance when asked for a fresh one or when there is none.
    fn ensure_instance(&mut self, fresh: bool, report: &mut CallReport) -> Result<(), CallError> {
        if !fresh && self.plugin.is_some() {
            return Ok(());
        }
        self.drop_instance();
        let Some(compiled) = self.compiled.as_ref() else {
            return Err(CallError::new(
                ErrorKind::Load,
                "no plugin is loaded in the worker",
            ));
        };
        let started = Instant::now();
        let plugin = extism::Plugin::new_from_compiled(compiled).map_err(|e| {
            CallError::new(
                ErrorKind::Load,
                format!("cannot instantiate the plugin: {e:#}"),
            )
        })?;
        let mut mocks = std::collections::HashMap::new();
        let mut mock_cancels = Vec::new();
        for (sha, compiled) in self.mocks.iter() {
            let mock = extism::Plugin::new_from_compiled(compiled).map_err(|e| {
                CallError::new(
                    ErrorKind::Load,
                    format!("cannot instantiate a mock-host plugin: {e:#}"),
                )
            })?;
            mock_cancels.push(mock.cancel_handle());
            mocks.insert(sha.clone(), mock);
        }
        // Stop reaches a mock-host plugin in the middle of its answer too.
        *self
            .shared
            .mock_cancels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = mock_cancels;
        self.recorder
            .set_mock_ids(mocks.values().map(|m| m.id.to_string()).collect());
        self.with_host(|ctx| ctx.mocks = mocks);
        // The memories made so far are the kernel's and linked modules'; the main module's
        // comes when extism instantiates it, in the first call.
        self.memory.forget();
        report.timings.instantiate_ms = ms(started.elapsed());
        *self
            .shared
            .cancel_handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(plugin.cancel_handle());
        self.plugin = Some(plugin);
        report.new_instance = true;
        Ok(())
    }

    /// For an xtp-test plugin: starts the run the harness serves, with a fresh instance of the
    /// plugin under test (and fresh mock-host plugins with `new_mocks`, when the test plugin's
    /// instance, which made them, is not new).
    fn begin_xtp_run(&self, data: &HostData, new_mocks: bool) {
        let Some(under_test) = &self.under_test else {
            return;
        };
        let run = XtpRun::new(
            Arc::clone(under_test),
            Arc::clone(&self.mocks),
            data.kv.clone(),
            Arc::clone(&self.shared.control),
            Arc::clone(&self.shared.under_test_cancel),
        );
        self.with_host(|ctx| {
            ctx.xtp = Some(run);
            harness::fresh_instance(ctx, new_mocks);
        });
    }

    /// Ends the xtp run (dropping the instance under test) and hands over its assertions.
    fn end_xtp_run(&self) -> Vec<crate::runner::report::Assertion> {
        if self.under_test.is_none() {
            return Vec::new();
        }
        *self
            .shared
            .under_test_cancel
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.recorder.set_under_test_id(None);
        self.with_host(|ctx| ctx.xtp.take().map(|mut run| run.take_assertions()))
            .flatten()
            .unwrap_or_default()
    }

    /// Makes one call (or loop).
    fn call(&mut self, spec: &CallRequest, input: &[u8]) -> Called {
        let mut report = CallReport {
            function: spec.function.clone(),
            ..CallReport::default()
        };
        if let Err(error) = self.ensure_instance(spec.fresh_instance, &mut report) {
            report.error = Some(error);
            return Called::unprinted(report);
        }
        self.set_host_data(spec.host.clone());
        self.set_level(spec.log_level);
        self.begin_xtp_run(&spec.host, !report.new_instance);
        let Some(mut plugin) = self.plugin.take() else {
            unreachable!("ensure_instance leaves an instance");
        };
        self.recorder.begin(plugin.id.to_string(), spec.log_level);
        // Only WASI writes to stdout and stderr; without it there is nothing to mark.
        let printed = self.may_print.then(|| self.markers.begin());
        self.memory.begin_call();
        self.answer(&FromWorker::Calling, &[]);

        let loops = spec.loops.max(1);
        let mut durations_us = Vec::with_capacity(loops as usize);
        let mut output = Vec::new();
        let mut error = None;
        let mut last_progress = Instant::now();
        for i in 0..loops {
            if self.shared.cancel_requested().load(Ordering::SeqCst) {
                error = Some(CallError::new(
                    ErrorKind::Cancelled,
                    format!("the loop was stopped after {i} calls"),
                ));
                break;
            }
            if loops > 1 && last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                self.answer(
                    &FromWorker::Progress {
                        calls_done: u64::from(i),
                    },
                    &[],
                );
            }
            self.start_deadline();
            let started = Instant::now();
            let result = if self.under_test.is_some() {
                // A test plugin fails by returning non-zero, with an error message or without.
                plugin
                    .call::<&[u8], &[u8]>(&spec.function, input)
                    .map_err(|e| (e, -1))
            } else {
                plugin.call_get_error_code::<&[u8], &[u8]>(&spec.function, input)
            };
            let elapsed = started.elapsed();
            report.timings.call_ms = ms(elapsed);
            match result {
                Ok(bytes) => {
                    if i + 1 == loops {
                        output = bytes.to_vec();
                    }
                    durations_us.push(elapsed.as_secs_f64() * 1e6);
                }
                Err((e, rc)) => {
                    let cancelled = self.shared.cancel_requested().load(Ordering::SeqCst);
                    // A host function that failed says why better than the trap it caused.
                    let mut failed = match self.take_host_failure() {
                        Some(failure) => CallError::new(failure.kind, failure.message),
                        None => classify(&e, rc, cancelled, &self.limits),
                    };
                    failed.keep_frames(backtrace::frames_kept(&e));
                    error = Some(failed);
                    break;
                }
            }
        }
        report.fuel_consumed = plugin.fuel_consumed();
        report.memory = self.memory.end_call();
        self.plugin = Some(plugin);
        if printed.is_some() {
            self.markers.end();
        }
        self.answer(&FromWorker::Returned, &[]);
        self.collect(&mut report);
        if loops > 1 {
            report.stats = Some(LoopStats::from_durations(durations_us));
        }
        // After anything but a clean error return the instance's state cannot be trusted.
        if error
            .as_ref()
            .is_some_and(|e: &CallError| e.kind != ErrorKind::PluginError)
        {
            self.drop_instance();
        }
        report.error = error;
        let mut payload = output;
        if report.error.is_some()
            && let Some(dump) = self.take_coredump(spec.coredump)
        {
            report.coredump_len = Some(dump.len() as u64);
            payload.extend_from_slice(&dump);
        }
        Called {
            report,
            payload,
            printed,
        }
    }

    /// What the call left behind for its report: logs, host calls, the kv store, host results
    /// and an xtp run's assertions (the session adds the WASI output).
    fn collect(&mut self, report: &mut CallReport) {
        let collected = self.recorder.finish();
        report.logs = collected.logs;
        report.logs_dropped = collected.dropped;
        report.host_calls = collected.host_calls;
        if let Some((kv, results, panicked)) = self.with_host(|ctx| {
            (
                ctx.data.kv.clone(),
                std::mem::take(&mut ctx.results),
                ctx.panicked,
            )
        }) && !panicked
        {
            // After a host function's panic the kv store may be half lent: it is not reported
            // (the session keeps the one it sent).
            report.kv_after = Some(kv);
            report.host_results = results;
        }
        report.assertions = self.end_xtp_run();
    }

    /// The coredump extism wrote for the failed call, if `wanted`; removed either way (it
    /// holds the plugin's memory).
    fn take_coredump(&self, wanted: bool) -> Option<Vec<u8>> {
        let dump = if wanted {
            crate::platform::files::read(
                &self.coredump_path,
                crate::platform::files::FileKind::Coredump,
            )
            .ok()
            .filter(|bytes| !bytes.is_empty())
        } else {
            None
        };
        // Emptied, not removed: extism writes into the file as it is, keeping its mode.
        crate::platform::files::empty(&self.coredump_path);
        dump
    }
}

/// Why the worker could not load a plugin. The worker sends it to the session as its text
/// ([`FromWorker::LoadFailed`]), so causes show with `{:#}` (extism's whole chain) here.
#[derive(Debug, thiserror::Error)]
enum LoadFailure {
    /// The payload ended before the part its request announced.
    #[error("{0} cut short")]
    CutShort(PayloadPart),
    #[error("{cause:#}")]
    Compile { cause: extism::Error },
    #[error("the plugin under test, {label}, cannot be loaded: {cause:#}")]
    UnderTest { label: String, cause: extism::Error },
    #[error("the script of {function}: {cause}")]
    Script {
        function: String,
        cause: script::ScriptError,
    },
    #[error("the mock-host plugin {label} cannot be loaded: {cause:#}")]
    MockHost { label: String, cause: extism::Error },
}

/// A part of a load request's payload, for [`LoadFailure::CutShort`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PayloadPart {
    Module,
    MockHost,
    MockInput,
}

impl std::fmt::Display for PayloadPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Module => "module bytes",
            Self::MockHost => "mock-host plugin bytes",
            Self::MockInput => "mock input",
        })
    }
}

/// What a compiled plugin carries for post-mortems: the memory watch whose creator makes its
/// memories, and the file extism writes a trap's coredump to. The main plugin has both; the
/// plugin an xtp test drives has neither.
#[derive(Default)]
struct PostMortem<'a> {
    memory: Option<&'a MemoryWatch>,
    coredump: Option<&'a std::path::Path>,
}

/// How the engine runs a plugin: WASI, fuel, and whether to compile fast or well.
#[derive(Clone, Copy, Debug, Default)]
struct Engine {
    wasi: bool,
    fuel_limit: Option<u64>,
    fast_compile: bool,
}

/// Compiles a plugin from `manifest` with these host functions and engine settings; returns
/// it with the limits its calls' failures are classified against.
fn compile(
    manifest: extism::Manifest,
    engine: Engine,
    functions: Vec<extism::Function>,
    post_mortem: &PostMortem<'_>,
) -> Result<(extism::CompiledPlugin, Limits), extism::Error> {
    let Engine {
        wasi,
        fuel_limit,
        fast_compile,
    } = engine;
    let limits = Limits {
        timeout_ms: manifest.timeout_ms,
        memory_max_pages: manifest.memory.max_pages,
        fuel_limit,
    };
    // Backtraces name file and line from the module's DWARF. wasmtime reads it when it
    // compiles a module that has it; calls cost the same (see BENCHMARKS.md).
    let mut config = wasmtime::Config::new();
    config
        .wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable)
        .wasm_backtrace_max_frames(std::num::NonZeroUsize::new(MAX_FRAMES));
    if fast_compile {
        // Winch, the baseline compiler, would be faster still but rejects what extism turns
        // on (GC, function references, tail calls); this is what Cranelift offers instead.
        config
            .cranelift_opt_level(wasmtime::OptLevel::None)
            .cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
    }
    if let Some(creator) = post_mortem.memory.and_then(MemoryWatch::creator) {
        // Copy-on-write memory images work only on wasmtime's own memories: data segments
        // are copied into ours when an instance is made.
        config.with_host_memory(creator).memory_init_cow(false);
    }
    let mut builder = extism::PluginBuilder::new(manifest)
        .with_wasmtime_config(config)
        .with_wasi(wasi)
        .with_functions(functions);
    if let Some(path) = post_mortem.coredump {
        builder = builder.with_coredump(path);
    }
    if let Some(fuel) = fuel_limit {
        builder = builder.with_fuel_limit(fuel);
    }
    Ok((extism::CompiledPlugin::new(builder)?, limits))
}

/// The most frames wasmtime records of a trap (its default is 20). A runaway recursion is
/// cut to its ends afterwards (`backtrace::frames_kept`).
const MAX_FRAMES: usize = 10_000;

/// The payload of a load request, read in order.
struct Payload<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Payload<'a> {
    /// The next `len` bytes, if there are that many.
    fn take(&mut self, len: u64) -> Option<&'a [u8]> {
        let len = usize::try_from(len).ok()?;
        let bytes = self.bytes.get(self.offset..self.offset.checked_add(len)?)?;
        self.offset += len;
        Some(bytes)
    }

    /// The next modules, named as listed.
    fn modules(
        &mut self,
        modules: Vec<(Option<String>, u64)>,
    ) -> Result<Vec<extism::Wasm>, LoadFailure> {
        modules
            .into_iter()
            .map(|(name, len)| {
                let bytes = self
                    .take(len)
                    .ok_or(LoadFailure::CutShort(PayloadPart::Module))?;
                let mut wasm = extism::Wasm::data(bytes.to_vec());
                wasm.meta_mut().name = name;
                Ok(wasm)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_failures_say_what_failed_as_the_session_shows_it() {
        assert_eq!(
            LoadFailure::CutShort(PayloadPart::MockHost).to_string(),
            "mock-host plugin bytes cut short"
        );
        let failure = LoadFailure::Script {
            function: "acme:tenant::get_user".into(),
            cause: script::ScriptError {
                line: Some(2),
                column: Some(13),
                message: "Expecting an expression".into(),
            },
        };
        assert_eq!(
            failure.to_string(),
            "the script of acme:tenant::get_user: line 2, column 13: Expecting an expression"
        );
        let failure = LoadFailure::MockHost {
            label: "mock.wasm".into(),
            cause: extism::Error::msg("invalid module").context("cannot compile"),
        };
        assert_eq!(
            failure.to_string(),
            "the mock-host plugin mock.wasm cannot be loaded: cannot compile: invalid module"
        );
    }
}
