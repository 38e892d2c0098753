//! Calls through the playground's runner against the bare extism SDK, side by side in one run:
//! the same plugin, the same input, a warm instance each. The runner's loop runs inside its worker
//! process (`CallRequest::loops`, as `--loop N` and the window's Bench do), so one request pays
//! the process round trip once for all the calls it times.
//!
//! Also: the same for a module with DWARF (debug-demo's `checkout`), which the runner compiles
//! with backtrace details, a coredump on trap and its own memory creator.
//!
//! Also: one host call per plugin call through the user-defined `value`, `template` and `rhai`
//! host functions against the same call to a native Rust host function in the bare SDK.
//!
//! Also: loading a plugin with a cold compile against a re-load from wasmtime's compile cache,
//! for the bare SDK and for the runner (load time measured inside its worker).
//!
//! Also: single calls, one request each, so every call pays the whole path: the frame to the
//! worker over its loopback channel, the call, the report back; and for a WASI plugin that
//! prints, the markers around its output and the session's reading of the worker's stdout and
//! stderr (the bare SDK, with WASI output off, discards what the plugin prints).
//!
//! Also: a suite of 500 one-step tests on hello (each test a fresh instance, as `test` runs
//! them) with one job and with two, against the bare SDK making the same 500 calls on fresh
//! instances of one compiled plugin, on one thread and on two.
//!
//! Run with `cargo bench --bench calls`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use extism_playground::runner::host::HostFnDef;
use extism_playground::runner::{
    CallRequest, HostRegistry, Inspection, LoadedPlugin, SandboxOptions, Session, WorkerConfig,
};

const WORKER: &str = env!("CARGO_BIN_EXE_extism-playground");

/// A committed sample's module.
fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/assets/samples/{name}.wasm", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hello() -> Vec<u8> {
    sample("hello")
}

fn text(len: usize) -> Vec<u8> {
    b"hello extism playground "
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

fn label(len: usize) -> String {
    match len {
        n if n >= 1 << 20 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn session(wasm: &[u8], compile_cache: bool) -> Session {
    named_session("hello.wasm", wasm, compile_cache)
}

fn named_session(name: &str, wasm: &[u8], compile_cache: bool) -> Session {
    let plugin = LoadedPlugin::from_wasm_bytes(name, wasm.to_vec()).expect("valid module");
    let worker = WorkerConfig {
        compile_cache,
        ..WorkerConfig::with_exe(WORKER)
    };
    Session::new(plugin, SandboxOptions::default(), worker).expect("session")
}

fn calls(c: &mut Criterion) {
    let wasm = hello();
    let mut sdk = extism::Plugin::new(wasm.as_slice(), [], false).expect("sdk plugin");
    let runner = session(&wasm, true);
    for (function, len) in [
        ("count_vowels", 16),
        ("count_vowels", 4 << 10),
        ("count_vowels", 1 << 20),
        ("echo", 1 << 20),
    ] {
        let input = text(len);
        let mut group = c.benchmark_group(format!("{function} {}", label(len)));
        group.throughput(Throughput::Bytes(len as u64));
        sdk_and_runner(&mut group, &mut sdk, &runner, function, &input);
        group.finish();
    }
    dwarf_calls(c);
    round_trips(c);
}

/// One call per request through the runner against one SDK call: the channel's round trip, and
/// for `wasi-demo`'s `print` the capture of what it printed.
fn round_trips(c: &mut Criterion) {
    let input = text(16);
    let shared = std::sync::Arc::new(input.clone());
    for (name, function, wasi) in [
        ("hello", "count_vowels", false),
        ("wasi-demo", "print", true),
    ] {
        let wasm = sample(name);
        let mut sdk = extism::Plugin::new(wasm.as_slice(), [], wasi).expect("sdk plugin");
        let plugin = LoadedPlugin::from_wasm_bytes(name, wasm).expect("valid module");
        let options = SandboxOptions {
            wasi,
            ..SandboxOptions::default()
        };
        let runner =
            Session::new(plugin, options, WorkerConfig::with_exe(WORKER)).expect("session");
        let mut group = c.benchmark_group(format!("one call per request: {name} {function} 16 B"));
        group.bench_function("extism SDK", |b| {
            b.iter(|| {
                let out: &[u8] = sdk.call(function, input.as_slice()).expect("call");
                black_box(out.len());
            });
        });
        group.bench_function("playground runner", |b| {
            b.iter(|| {
                let report = runner.call_blocking(CallRequest {
                    function: function.to_string(),
                    input: std::sync::Arc::clone(&shared),
                    ..CallRequest::default()
                });
                assert!(report.is_ok(), "{:?}", report.error);
                // What the plugin printed came back with the call.
                assert_eq!(
                    report.logs.len(),
                    if wasi { 2 } else { 0 },
                    "{:?}",
                    report.logs
                );
                black_box(report.output.len());
            });
        });
        group.finish();
    }
}

/// The same comparison for a module that carries DWARF (the debug-demo sample): the runner
/// compiles it with backtrace details on (file and line of a trap's frames), which wasmtime
/// works out when it compiles, not when it calls.
fn dwarf_calls(c: &mut Criterion) {
    let wasm = sample("debug-demo");
    let input =
        br#"{"items": [{"name": "tea", "cents": 350, "quantity": 2}], "discount_percent": 10}"#;
    let mut sdk = extism::Plugin::new(wasm.as_slice(), [], false).expect("sdk plugin");
    let runner = named_session("debug-demo.wasm", &wasm, true);
    let mut group = c.benchmark_group("checkout (debug-demo, with DWARF)");
    sdk_and_runner(&mut group, &mut sdk, &runner, "checkout", input);
    group.finish();
}

/// `function` with `input` through the bare SDK's `Plugin::call` and through the runner (the
/// loop inside its worker, timed around the whole request), as two benches of `group`.
fn sdk_and_runner(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    sdk: &mut extism::Plugin,
    runner: &Session,
    function: &str,
    input: &[u8],
) {
    group.bench_function("extism SDK", |b| {
        b.iter(|| {
            let out: &[u8] = sdk.call(function, input).expect("call");
            black_box(out.len());
        });
    });
    let shared = std::sync::Arc::new(input.to_vec());
    group.bench_function("playground runner", |b| {
        b.iter_custom(|iters| runner_loop(runner, function, &shared, iters).0);
    });
}

/// One request of `iters` calls of `function`, looped inside the runner's worker: the time the
/// whole request took, and its report (checked to have succeeded).
fn runner_loop(
    runner: &Session,
    function: &str,
    input: &std::sync::Arc<Vec<u8>>,
    iters: u64,
) -> (Duration, extism_playground::runner::CallReport) {
    let request = CallRequest {
        function: function.to_string(),
        input: std::sync::Arc::clone(input),
        loops: u32::try_from(iters).expect("iteration count fits"),
        ..CallRequest::default()
    };
    let started = Instant::now();
    let report = runner.call_blocking(request);
    let elapsed = started.elapsed();
    assert!(report.is_ok(), "{:?}", report.error);
    (elapsed, report)
}

fn load(c: &mut Criterion) {
    let wasm = hello();
    let mut group = c.benchmark_group("load hello.wasm");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    for (name, cached) in [("cold compile", false), ("compile cache", true)] {
        group.bench_function(format!("extism SDK, {name}"), |b| {
            b.iter(|| {
                let mut builder = extism::PluginBuilder::new(wasm.as_slice());
                if !cached {
                    builder = builder.with_cache_disabled();
                }
                black_box(extism::CompiledPlugin::new(builder).expect("compiles"));
            });
        });
        // The runner's load time as its worker measures it (process start not included).
        group.bench_function(format!("playground runner, {name}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let report = session(&wasm, cached).call_blocking(CallRequest {
                        function: "greet".into(),
                        input: b"x".to_vec().into(),
                        ..CallRequest::default()
                    });
                    assert!(report.is_ok(), "{:?}", report.error);
                    total += Duration::from_secs_f64(report.timings.load_ms / 1000.0);
                }
                total
            });
        });
    }
    // Everything a first call costs: worker start, load from the cache, instantiate, call.
    group.bench_function("playground runner, first call end to end", |b| {
        b.iter(|| {
            let report = session(&wasm, true).call_blocking(CallRequest {
                function: "greet".into(),
                input: b"x".to_vec().into(),
                ..CallRequest::default()
            });
            assert!(report.is_ok());
        });
    });
    group.finish();
    dwarf_compile(c);
}

/// What reading DWARF costs when a module is compiled: debug-demo (600 KB, most of it DWARF)
/// compiled cold by the bare SDK with wasmtime's defaults, and with backtrace details on as the
/// runner's worker compiles it.
fn dwarf_compile(c: &mut Criterion) {
    let wasm = sample("debug-demo");
    let mut group = c.benchmark_group("compile debug-demo.wasm (with DWARF), cold");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    for (name, details) in [
        ("extism SDK, wasmtime defaults", false),
        ("extism SDK, backtrace details on", true),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut builder = extism::PluginBuilder::new(wasm.as_slice()).with_cache_disabled();
                if details {
                    let mut config = wasmtime::Config::new();
                    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
                    builder = builder.with_wasmtime_config(config);
                }
                black_box(extism::CompiledPlugin::new(builder).expect("compiles"));
            });
        });
    }
    group.finish();
}

/// c-pdk's `count_vowels` (written by others, not by us) calls `hello_world` once per call with
/// its JSON result and returns what the host answers.
const HOSTFN_PLUGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/thirdparty/c-count-vowels-hostfn.wasm"
);

/// A runner session on the C plugin with `flag` defining `hello_world`.
fn mocked(wasm: &[u8], flag: &str) -> Session {
    let plugin =
        LoadedPlugin::from_wasm_bytes("c-count-vowels-hostfn.wasm", wasm.to_vec()).expect("module");
    let inspection = Inspection::of("c", wasm).expect("inspects");
    let def = HostFnDef::parse_flag(flag, std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
        .expect("definition");
    let (host, problems) = HostRegistry::with_definitions(&[def], &inspection.imports);
    assert!(problems.is_empty(), "{problems:?}");
    let options = SandboxOptions {
        wasi: true,
        ..SandboxOptions::default()
    };
    Session::inspected(
        plugin,
        inspection,
        options,
        host,
        WorkerConfig::with_exe(WORKER),
    )
}

fn host_calls(c: &mut Criterion) {
    let wasm = std::fs::read(HOSTFN_PLUGIN).expect("fixture");
    let input = b"Hello, world!".to_vec();
    let echo = extism::Function::new(
        "hello_world",
        [extism::PTR],
        [extism::PTR],
        extism::UserData::new(()),
        |plugin: &mut extism::CurrentPlugin,
         inputs: &[extism::Val],
         outputs: &mut [extism::Val],
         _: extism::UserData<()>| {
            let text: Vec<u8> = plugin.memory_get_val::<&[u8]>(&inputs[0])?.to_vec();
            plugin.memory_set_val(&mut outputs[0], text)?;
            Ok(())
        },
    );
    let mut sdk = extism::Plugin::new(wasm.as_slice(), [echo], true).expect("sdk plugin");
    let mut group = c.benchmark_group("one host call per plugin call");
    group.bench_function("extism SDK, native Rust host function", |b| {
        b.iter(|| {
            let out: &[u8] = sdk.call("count_vowels", input.as_slice()).expect("call");
            black_box(out.len());
        });
    });
    let shared = std::sync::Arc::new(input.clone());
    for (name, flag) in [
        (
            "playground runner, value",
            r#"hello_world=value:{"count": 3}"#,
        ),
        ("playground runner, template", "hello_world=template:{0}"),
        (
            "playground runner, rhai",
            "hello_world=rhai:tests/fixtures/echo.rhai",
        ),
    ] {
        let runner = mocked(&wasm, flag);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let (elapsed, report) = runner_loop(&runner, "count_vowels", &shared, iters);
                assert_eq!(report.output, br#"{"count": 3}"#);
                elapsed
            });
        });
    }
    group.finish();
}

/// The number of tests in the generated suite.
const SUITE_TESTS: usize = 500;

/// A suite of [`SUITE_TESTS`] one-step tests on hello, written to `dir`.
fn generated_suite(dir: &std::path::Path) -> std::path::PathBuf {
    use std::fmt::Write as _;
    // The plugin beside the suite: one outside its folder is a grant that would need consent.
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/samples/hello.wasm"),
        dir.join("hello.wasm"),
    )
    .expect("hello.wasm copies");
    let mut text = "[plugin]\nwasm = \"hello.wasm\"\n".to_string();
    for i in 0..SUITE_TESTS {
        let _ = write!(
            text,
            "[[test]]\nname = \"greets {i}\"\n[[test.step]]\ncall = \"greet\"\ninput = \"n{i}\"\nexpect_output = \"Hello, n{i}!\"\n"
        );
    }
    let path = dir.join("generated.toml");
    std::fs::write(&path, text).expect("suite written");
    path
}

fn suites(c: &mut Criterion) {
    use extism_playground::suite::{self, Selection, file};
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = generated_suite(dir.path());
    let mut group = c.benchmark_group(format!("suite of {SUITE_TESTS} one-step tests"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(SUITE_TESTS as u64));

    // The SDK: per thread, compile once, then per test a fresh instance, one call, one
    // comparison; the tests dealt out to the threads as they finish, as `test` deals them to
    // jobs. Two threads say how far this machine lets this work scale, beside the runner's
    // two jobs.
    let wasm = hello();
    for threads in [1, 2] {
        let name = if threads == 1 {
            "extism SDK, fresh instance per test".to_string()
        } else {
            format!("extism SDK, fresh instance per test, {threads} threads")
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                let next = std::sync::atomic::AtomicUsize::new(0);
                std::thread::scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|| {
                            let manifest =
                                extism::Manifest::new([extism::Wasm::data(wasm.clone())]);
                            let compiled =
                                extism::CompiledPlugin::new(extism::PluginBuilder::new(manifest))
                                    .expect("compiles");
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                if i >= SUITE_TESTS {
                                    break;
                                }
                                let mut plugin =
                                    extism::Plugin::new_from_compiled(&compiled).expect("instance");
                                let input = format!("n{i}");
                                let out: String =
                                    plugin.call("greet", input.as_str()).expect("call");
                                assert_eq!(out, format!("Hello, {input}!"));
                            }
                        });
                    }
                });
            });
        });
    }
    // The runner: the suite loaded as `test` loads it, then run on worker processes started
    // for the run (their start and compile included).
    for jobs in [1, 2] {
        group.bench_function(format!("playground test --jobs {jobs}"), |b| {
            b.iter(|| {
                let loaded = file::load(&path, &file::LoadOptions::default()).expect("loads");
                let suites = [loaded];
                let picked = Selection::default().pick(&suites);
                let stop = extism_playground::runner::Canceller::default();
                let results = suite::run(
                    &suites,
                    &picked,
                    jobs,
                    &WorkerConfig::with_exe(WORKER),
                    &stop,
                    &|_| {},
                );
                assert!(results.iter().all(suite::TestResult::passed));
                black_box(results.len());
            });
        });
    }
    group.finish();
}

criterion_group!(benches, calls, host_calls, load, suites);
criterion_main!(benches);
