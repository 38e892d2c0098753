//! The author's loop, measured:
//! - edit to result: the hello module replaced on disk → hot reload (the OS's event, debounced)
//!   → compile → the re-run's report in the workbench, the window's next frame;
//! - compile choices on the bare extism SDK: wasmtime's default (Cranelift, optimized) against
//!   Cranelift without optimization (the app's "Fast compile") and with the single-pass
//!   register allocator too, cold (no compile cache), with the call time each gives; on the
//!   js-pdk fixture (1.9 MB) and on a larger plugin named by `EXTISM_PLAYGROUND_BIG_PLUGIN`;
//! - cold open through the app's runner (worker process, inspection) with and without Fast
//!   compile;
//! - an idle window with a watched plugin open under Xvfb: frames drawn and CPU seconds used in
//!   10 s (read from /proc/PID/stat), then the same after the file changes once.
//!
//! Run with `cargo bench --bench author`.

#[path = "../tests/it/common/mod.rs"]
#[allow(dead_code, reason = "the bench uses part of the tests' helpers")]
mod common;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use extism_playground::bundle::InputMode;
use extism_playground::workbench::{self, Source, Workbench, WorkbenchState};

const BIN: &str = env!("CARGO_BIN_EXE_extism-playground");

fn main() {
    edit_to_result(false);
    edit_to_result(true);
    compile_choices();
    cold_open_through_the_runner();
    idle_window();
}

/// A wasmtime configuration to compare.
#[derive(Clone, Copy)]
enum Choice {
    Default,
    OptNone,
    OptNoneSinglePass,
}

impl Choice {
    fn label(self) -> &'static str {
        match self {
            Self::Default => "Cranelift, optimized (default)",
            Self::OptNone => "Cranelift, opt-level none",
            Self::OptNoneSinglePass => "opt-level none + single-pass (Fast compile)",
        }
    }

    fn config(self) -> wasmtime::Config {
        let mut config = wasmtime::Config::new();
        match self {
            Self::Default => {}
            Self::OptNone => {
                config.cranelift_opt_level(wasmtime::OptLevel::None);
            }
            Self::OptNoneSinglePass => {
                config
                    .cranelift_opt_level(wasmtime::OptLevel::None)
                    .cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
            }
        }
        config
    }
}

/// The plugins to compile: the js-pdk fixture, and the big one if named.
fn big_plugins() -> Vec<(String, Vec<u8>, &'static str, &'static str)> {
    let mut plugins = vec![(
        "js-xtp-fruit.wasm (js-pdk)".to_string(),
        std::fs::read(common::fixture("js-xtp-fruit")).unwrap(),
        "referenceTypes",
        "apple",
    )];
    match std::env::var_os("EXTISM_PLAYGROUND_BIG_PLUGIN") {
        Some(path) => {
            let function = std::env::var("EXTISM_PLAYGROUND_BIG_FUNCTION")
                .unwrap_or_else(|_| "execute".into());
            let bytes = std::fs::read(&path).expect("EXTISM_PLAYGROUND_BIG_PLUGIN is readable");
            let name = PathBuf::from(&path)
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            plugins.push((name, bytes, Box::leak(function.into_boxed_str()), "{}"));
        }
        None => println!(
            "compile choices: no larger plugin (set EXTISM_PLAYGROUND_BIG_PLUGIN=FILE.wasm and EXTISM_PLAYGROUND_BIG_FUNCTION=NAME)"
        ),
    }
    plugins
}

/// The js-pdk fixture's own imports, each answering `true`.
fn stubs() -> Vec<extism::Function> {
    ["eatAFruit", "kv_read", "kv_write"]
        .into_iter()
        .map(|name| {
            extism::Function::new(
                name,
                [extism::PTR],
                [extism::PTR],
                extism::UserData::new(()),
                |plugin, _inputs, outputs, _data| {
                    let handle = plugin.memory_new("true")?;
                    outputs[0] = plugin.memory_to_val(handle);
                    Ok(())
                },
            )
        })
        .collect()
}

fn compile_choices() {
    for (name, bytes, function, input) in big_plugins() {
        #[expect(clippy::cast_precision_loss, reason = "sizes in MB")]
        let mb = bytes.len() as f64 / 1e6;
        println!("compile choices, {name} ({mb:.2} MB), cold (no compile cache), median of 5:");
        let mut baseline = None;
        for choice in [Choice::Default, Choice::OptNone, Choice::OptNoneSinglePass] {
            let mut compile_ms = Vec::new();
            let mut plugin = None;
            for _ in 0..5 {
                let started = Instant::now();
                let builder =
                    extism::PluginBuilder::new(extism::Manifest::new([extism::Wasm::data(
                        bytes.clone(),
                    )]))
                    .with_wasi(true)
                    .with_functions(stubs())
                    .with_cache_disabled()
                    .with_wasmtime_config(choice.config());
                let compiled = extism::CompiledPlugin::new(builder).expect("it compiles");
                compile_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                plugin = Some(compiled);
            }
            let compiled = plugin.unwrap();
            let mut instance = extism::Plugin::new_from_compiled(&compiled).expect("instantiates");
            // The first call warms the instance (a js-pdk plugin initializes its engine).
            let first = instance.call::<&str, Vec<u8>>(function, input);
            assert!(first.is_ok(), "{function}: {:?}", first.err());
            let mut call_us = Vec::new();
            for _ in 0..50 {
                let started = Instant::now();
                let result = instance.call::<&str, Vec<u8>>(function, input);
                call_us.push(started.elapsed().as_secs_f64() * 1e6);
                assert!(result.is_ok(), "{function}: {:?}", result.err());
            }
            compile_ms.sort_by(f64::total_cmp);
            call_us.sort_by(f64::total_cmp);
            let compile = percentile(&compile_ms, 0.5);
            let base = *baseline.get_or_insert(compile);
            println!(
                "  {:<42} compile {compile:>7.1} ms ({:>3.0}% of default), warm call median {:>8.1} us",
                choice.label(),
                compile / base * 100.0,
                percentile(&call_us, 0.5)
            );
        }
    }
}

/// `bytes` with a custom section appended holding `n` and the time: a module never compiled
/// before (wasmtime's compile cache cannot answer for it) that behaves the same.
fn variant(bytes: &[u8], n: u32) -> Vec<u8> {
    let name = b"bench";
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut payload = n.to_le_bytes().to_vec();
    payload.extend_from_slice(&nanos.to_le_bytes());
    let mut out = bytes.to_vec();
    out.push(0);
    let size = u8::try_from(1 + name.len() + payload.len()).expect("small section");
    out.push(size);
    out.push(u8::try_from(name.len()).expect("short name"));
    out.extend_from_slice(name);
    out.extend_from_slice(&payload);
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Module replaced → the re-run's report is in the workbench.
fn edit_to_result(fast_compile: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hello.wasm");
    let hello = std::fs::read(common::sample("hello")).unwrap();
    std::fs::write(&path, &hello).unwrap();
    let (woke, wakes) = mpsc::channel::<()>();
    let woke = Mutex::new(woke);
    let mut wb = Workbench::new(
        WorkbenchState::default(),
        common::worker(),
        Arc::new(move || {
            let _ = woke.lock().unwrap().send(());
        }),
    )
    .with_trust_store(common::trust_store());
    wb.apply(workbench::Command::Open(Source::Path(path.clone())));
    let mut options = wb.state().options.clone();
    options.fast_compile = fast_compile;
    wb.apply(workbench::Command::SetOptions(options));
    wb.apply(workbench::Command::SetInputMode(InputMode::Raw));
    *wb.input_text_mut() = "Hello, world!".into();
    wb.input_edited();
    let wait_for_runs = |wb: &mut Workbench, runs: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let _ = wb.poll();
            if wb.history().runs().len() == runs && !wb.is_running() {
                return;
            }
            assert!(Instant::now() < deadline, "no result: {:?}", wb.status());
            let _ = wakes.recv_timeout(Duration::from_millis(200));
        }
    };
    wb.apply(workbench::Command::Run);
    wait_for_runs(&mut wb, 1);
    let mut ms = Vec::new();
    for n in 0..30 {
        while wakes.try_recv().is_ok() {}
        let started = Instant::now();
        std::fs::write(&path, variant(&hello, n)).unwrap();
        wait_for_runs(&mut wb, 2 + n as usize);
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let last = wb.last().unwrap();
        assert!(last.report.is_ok(), "{:?}", last.report.error);
        assert!(
            last.report.timings.load_ms > 0.0,
            "the new module was compiled"
        );
    }
    let compile: Vec<f64> = wb.history().runs().skip(1).map(|r| r.load_ms).collect();
    #[expect(clippy::cast_precision_loss, reason = "a few dozen runs")]
    let mean_compile = compile.iter().sum::<f64>() / compile.len() as f64;
    ms.sort_by(f64::total_cmp);
    println!(
        "edit to result (hello, {} edits{}): median {:.1} ms, p90 {:.1} ms, max {:.1} ms; of which compile {mean_compile:.1} ms on average, debounce {} ms",
        ms.len(),
        if fast_compile { ", Fast compile" } else { "" },
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
        ms[ms.len() - 1],
        workbench::watch::QUIET.as_millis()
    );
}

/// Opening a large plugin never compiled before through the app's runner (worker process,
/// host functions linked), and its first call: with and without Fast compile.
fn cold_open_through_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, function, input) in big_plugins() {
        for fast_compile in [false, true] {
            let mut load_ms = Vec::new();
            let mut first_call_ms = Vec::new();
            for n in 0..5 {
                let path = dir.path().join(format!("cold-{n}.wasm"));
                std::fs::write(&path, variant(&bytes, n)).unwrap();
                let defs: Vec<_> = if name.starts_with("js-xtp-fruit") {
                    ["eatAFruit=value:true", "kv_read=value:", "kv_write=value:"]
                        .into_iter()
                        .map(common::flag)
                        .collect()
                } else {
                    Vec::new()
                };
                let options = extism_playground::runner::SandboxOptions {
                    wasi: true,
                    fast_compile,
                    ..Default::default()
                };
                let started = Instant::now();
                let session = common::session_with(&path, &defs, options);
                let report = common::call(&session, function, input);
                first_call_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                assert!(report.is_ok(), "{name}: {:?}", report.error);
                load_ms.push(report.timings.load_ms);
            }
            load_ms.sort_by(f64::total_cmp);
            first_call_ms.sort_by(f64::total_cmp);
            println!(
                "cold open through the runner, {name}{}: compile {:.1} ms, open to first result {:.1} ms (medians of 5)",
                if fast_compile { ", Fast compile" } else { "" },
                percentile(&load_ms, 0.5),
                percentile(&first_call_ms, 0.5)
            );
        }
    }
}

/// CPU seconds (user + system) used so far by process `pid`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports them in clock ticks of 1/100 s (USER_HZ) on every common configuration.
    (ticks(11) + ticks(12)) / 100.0
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The idle window: frames and CPU over 10 s with a watched plugin open.
fn idle_window() {
    if !has("Xvfb") {
        println!("idle window: skipped (no Xvfb; apt-get install xvfb libgl1-mesa-dri)");
        return;
    }
    let display = format!(":{}", 500 + std::process::id() % 200);
    let mut xvfb = Command::new("Xvfb")
        .args([
            display.as_str(),
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    std::thread::sleep(Duration::from_secs(1));
    let home = tempfile::tempdir().unwrap();
    let plugin: PathBuf = home.path().join("plugin.wasm");
    let hello = std::fs::read(common::sample("hello")).unwrap();
    std::fs::write(&plugin, &hello).unwrap();
    let mut app = Command::new(BIN)
        .arg(&plugin)
        .env("DISPLAY", &display)
        .env("HOME", home.path())
        .env("EXTISM_PLAYGROUND_DATA_DIR", home.path().join("data"))
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env("RUST_LOG", "extism_playground::frames=trace")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the app starts");
    let frames = Arc::new(Mutex::new(0_u64));
    let stderr = app.stderr.take().unwrap();
    {
        let frames = Arc::clone(&frames);
        std::thread::Builder::new()
            .name("frames".into())
            .spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("extism_playground::frames") {
                        *frames.lock().unwrap() += 1;
                    }
                }
            })
            .unwrap();
    }
    // Let it start, open the plugin and settle.
    std::thread::sleep(Duration::from_secs(5));
    let measure = |what: &str, after: &dyn Fn()| {
        let (frames0, cpu0) = (*frames.lock().unwrap(), cpu_seconds(app.id()));
        after();
        std::thread::sleep(Duration::from_secs(10));
        let (frames1, cpu1) = (*frames.lock().unwrap(), cpu_seconds(app.id()));
        println!(
            "idle window, {what}: {} frames, {:.2} CPU-seconds in 10 s",
            frames1 - frames0,
            cpu1 - cpu0
        );
    };
    measure("watched plugin open, no input", &|| {});
    measure("the plugin's file rewritten once", &|| {
        std::fs::write(&plugin, variant(&hello, 1)).unwrap();
    });
    let _ = app.kill();
    let _ = app.wait();
    let _ = xvfb.kill();
    let _ = xvfb.wait();
}
