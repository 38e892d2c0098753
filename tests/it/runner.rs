//! The runner end to end: every sample function through a real worker process, every error kind
//! with its message, limits, cancel, host functions, WASI capture, manifests and load errors.

use crate::common;

use std::time::Duration;

use crate::common::{
    assert_ok, call, output, sample, serve_http, serve_silent, session, wasm_file, worker,
};
use extism_playground::runner::inspect::Linkage;
use extism_playground::runner::{
    AllowedPath, CallRequest, ErrorKind, HostData, Inspection, LoadError, LoadedPlugin, LogLevel,
    LogSource, Phase, SandboxOptions, Session,
};

fn defaults() -> SandboxOptions {
    SandboxOptions::default()
}

#[test]
fn hello_functions() {
    let s = session("hello", defaults());
    let r = call(&s, "count_vowels", "hello world");
    assert_ok(&r);
    assert_eq!(output(&r), r#"{"count":3,"total":3,"vowels":"aeiouAEIOU"}"#);
    assert!(r.new_instance);
    assert!(r.timings.load_ms > 0.0 && r.timings.instantiate_ms > 0.0 && r.timings.call_ms > 0.0);
    // The instance keeps its state: the running total grows.
    let r = call(&s, "count_vowels", "aaa");
    assert_eq!(output(&r), r#"{"count":3,"total":6,"vowels":"aeiouAEIOU"}"#);
    assert!(!r.new_instance);
    assert!(
        r.timings.load_ms.abs() < f64::EPSILON,
        "a warm call loads nothing"
    );

    assert_eq!(output(&call(&s, "greet", "Ada")), "Hello, Ada!");
    assert_eq!(
        output(&call(&s, "echo", "bytes\u{0}back")),
        "bytes\u{0}back"
    );
    let r = call(&s, "handle_event", r#"{"user_id": 42, "event": "signup"}"#);
    assert_eq!(
        output(&r),
        r#"{"status":"success","message":"Processing signup for user 42"}"#
    );
    let r = call(
        &s,
        "handle_event_v2",
        r#"{"user_id": 7, "event": "login", "priority": "high"}"#,
    );
    assert_eq!(
        output(&r),
        r#"{"status":"success","message":"Processing login for user 7","version":2,"priority":"high"}"#
    );
}

#[test]
fn config_overrides_vowels() {
    let options = SandboxOptions {
        config: [("vowels".to_string(), "lo".to_string())].into(),
        ..defaults()
    };
    let r = call(&session("hello", options), "count_vowels", "hello world");
    assert_eq!(output(&r), r#"{"count":5,"total":5,"vowels":"lo"}"#);
}

#[test]
fn bad_json_input_is_a_plugin_error() {
    let r = call(&session("hello", defaults()), "handle_event", "{not json");
    assert_eq!(r.error_kind(), Some(ErrorKind::PluginError));
    assert!(!r.error.unwrap().message.is_empty());
}

#[test]
fn pdk_and_host_logs_are_attributed_to_the_call() {
    let s = session("host-demo", defaults());
    let r = s.call_blocking(CallRequest {
        function: "log_levels".into(),
        input: b"x".to_vec().into(),
        log_level: LogLevel::Trace,
        ..CallRequest::default()
    });
    assert_ok(&r);
    let pdk: Vec<_> = r
        .logs
        .iter()
        .filter(|l| l.source == LogSource::Pdk)
        .collect();
    let levels: Vec<_> = pdk.iter().map(|l| l.level).collect();
    assert_eq!(levels, LogLevel::ALL, "{:#?}", r.logs);
    assert_eq!(pdk[2].message, "info from host-demo: x");
    let host: Vec<_> = r
        .logs
        .iter()
        .filter(|l| l.source == LogSource::Host)
        .collect();
    assert_eq!(host.len(), 1);
    assert_eq!(host[0].message, "host log_info from host-demo: x");
    assert_eq!(r.host_calls.len(), 1);
    assert_eq!(r.host_calls[0].function, "log_info");
    assert!(
        r.host_calls[0].args.contains("host log_info"),
        "{:?}",
        r.host_calls[0]
    );

    // The level filter drops what is below it.
    let r = s.call_blocking(CallRequest {
        function: "log_levels".into(),
        log_level: LogLevel::Warn,
        ..CallRequest::default()
    });
    let levels: Vec<_> = r.logs.iter().map(|l| l.level).collect();
    assert_eq!(levels, [LogLevel::Warn, LogLevel::Error]);
}

#[test]
fn kv_store_is_served_and_updated() {
    let s = session("host-demo", defaults());
    let host = HostData {
        kv: [("greeting".to_string(), "hello".into())].into(),
        ..HostData::default()
    };
    let r = s.call_blocking(CallRequest {
        function: "kv_roundtrip".into(),
        input: br#"{"key": "greeting", "value": "hi"}"#.to_vec().into(),
        host,
        ..CallRequest::default()
    });
    assert_ok(&r);
    assert_eq!(
        output(&r),
        r#"{"key":"greeting","previous":"hello","value":"hi"}"#
    );
    assert_eq!(
        r.kv_after.unwrap()["greeting"],
        extism_playground::runner::host::Bytes::from("hi")
    );
    let names: Vec<_> = r.host_calls.iter().map(|c| c.function.as_str()).collect();
    assert_eq!(names, ["kv_get", "kv_set", "kv_get"]);
}

#[test]
fn secrets_are_served_and_missing_ones_explained() {
    let s = session("host-demo", defaults());
    let host = HostData {
        secrets: [("api_key".to_string(), "s3cr3t-value".to_string())].into(),
        ..HostData::default()
    };
    let r = s.call_blocking(CallRequest {
        function: "secret_length".into(),
        input: b"api_key".to_vec().into(),
        host,
        ..CallRequest::default()
    });
    assert_ok(&r);
    assert_eq!(output(&r), r#"{"name":"api_key","length":12}"#);
    // The value never appears in the host-call record.
    assert!(
        !r.host_calls[0].result.contains("s3cr3t"),
        "{:?}",
        r.host_calls
    );

    // A name without a value (a bundle saved without secret values) is not set either.
    let r = s.call_blocking(CallRequest {
        function: "secret_length".into(),
        input: b"api_key".to_vec().into(),
        host: HostData {
            secrets: [("api_key".to_string(), String::new())].into(),
            ..HostData::default()
        },
        ..CallRequest::default()
    });
    let error = r.error.expect("an empty secret fails");
    // A host function's error fails the call with the host function's own kind and reason.
    assert_eq!(error.kind, ErrorKind::HostFunction, "{}", error.message);
    assert!(
        error.message.contains(r#"secret "api_key" is not set"#),
        "{}",
        error.message
    );

    let r = call(&s, "secret_length", "nope");
    let error = r.error.expect("missing secret fails");
    assert_eq!(error.kind, ErrorKind::HostFunction, "{}", error.message);
    assert!(
        error.message.contains(r#"secret "nope" is not set"#),
        "{}",
        error.message
    );
}

#[test]
fn http_is_denied_unless_the_host_is_allowed() {
    let base = serve_http("served body", 1);
    let url = format!("{base}/hello");
    let r = call(&session("http-demo", defaults()), "http_get", &url);
    let error = r.error.expect("denied");
    // extism's http_request fails inside the host call, which reaches the plugin as a trap.
    assert_eq!(error.kind, ErrorKind::Trap);
    assert!(
        error.message.contains("is not allowed") && error.message.contains("127.0.0.1"),
        "{}",
        error.message
    );

    let allowed = SandboxOptions {
        allowed_hosts: vec!["127.0.0.1".into()],
        ..defaults()
    };
    let r = call(&session("http-demo", allowed), "http_get", &url);
    assert_ok(&r);
    assert_eq!(output(&r), "served body");
}

#[test]
fn wasi_needs_an_allowed_path_to_write() {
    let without = SandboxOptions {
        wasi: true,
        ..defaults()
    };
    let r = call(&session("wasi-demo", without), "write_read", "data!");
    // The plugin's own write fails (no preopened /data) and it returns that error.
    let error = r.error.expect("writing without an allowed path fails");
    assert_eq!(error.kind, ErrorKind::PluginError, "{}", error.message);

    let dir = tempfile::tempdir().unwrap();
    let with = SandboxOptions {
        wasi: true,
        allowed_paths: vec![AllowedPath {
            host: dir.path().to_path_buf(),
            guest: "/data".into(),
            read_only: false,
        }],
        ..defaults()
    };
    let r = call(&session("wasi-demo", with), "write_read", "data!");
    assert_ok(&r);
    assert_eq!(output(&r), "data!");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("playground.txt")).unwrap(),
        "data!"
    );
}

#[test]
fn read_only_path_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let options = SandboxOptions {
        wasi: true,
        allowed_paths: vec![AllowedPath {
            host: dir.path().to_path_buf(),
            guest: "/data".into(),
            read_only: true,
        }],
        ..defaults()
    };
    let r = call(&session("wasi-demo", options), "write_read", "data!");
    let error = r.error.expect("a read-only path refuses writes");
    assert_eq!(error.kind, ErrorKind::PluginError, "{}", error.message);
    assert!(!dir.path().join("playground.txt").exists());
}

#[test]
fn wasi_stdout_and_stderr_are_captured_per_call() {
    let s = session(
        "wasi-demo",
        SandboxOptions {
            wasi: true,
            ..defaults()
        },
    );
    for round in ["first", "second"] {
        let r = call(&s, "print", round);
        assert_ok(&r);
        let of = |source| {
            r.logs
                .iter()
                .filter(|l| l.source == source)
                .map(|l| l.message.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(of(LogSource::Stdout), [round]);
        assert_eq!(
            of(LogSource::Stderr),
            [format!("wasi-demo wrote {} bytes to stdout", round.len())]
        );
        assert_eq!(r.logs.len(), 2, "{:?}", r.logs);
    }
}

/// A WASI module that writes anything to its stdout: a fake protocol frame, NULs, bytes that
/// are not UTF-8, no newline until the end (`noisy`); or a line and then waits on an HTTP
/// server that never answers (`stuck`).
fn printing_module(dir: &tempfile::TempDir, url: &str) -> extism_playground::runner::Session {
    // A frame's header length, a frame header, a payload length of 0, then junk.
    let mut noise = b"\x1a\x00\x00\x00{\"Loaded\":{\"load_ms\":1.0}}".to_vec();
    noise.extend_from_slice(&[0; 8]);
    noise.extend_from_slice(b"\xff\xfe junk\n");
    let noise_len = noise.len();
    let noise = noise.iter().fold(String::new(), |mut out, b| {
        let _ = std::fmt::Write::write_fmt(&mut out, format_args!("\\{b:02x}"));
        out
    });
    let request = format!(r#"{{"url":"{url}","method":"GET"}}"#);
    let request_len = request.len();
    let request = request.replace('"', "\\22");
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "http_request" (func $http (param i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 100) "{noise}")
  (data (i32.const 400) "to stderr\n")
  (data (i32.const 500) "working\n")
  (data (i32.const 600) "{request}")
  (func $write (param $fd i32) (param $at i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $at))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 16))))
  (func $copy (param $at i32) (param $len i32) (result i64) (local $off i64) (local $i i32)
    (local.set $off (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (call $store_u8 (i64.add (local.get $off) (i64.extend_i32_u (local.get $i)))
        (i32.load8_u (i32.add (local.get $at) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $off))
  (func (export "noisy") (result i32)
    (call $write (i32.const 1) (i32.const 100) (i32.const {noise_len}))
    (call $write (i32.const 2) (i32.const 400) (i32.const 10))
    (call $output_set (call $copy (i32.const 400) (i32.const 2)) (i64.const 2))
    (i32.const 0))
  (func (export "stuck") (result i32)
    (call $write (i32.const 1) (i32.const 500) (i32.const 8))
    (drop (call $http (call $copy (i32.const 600) (i32.const {request_len})) (i64.const 0)))
    (i32.const 0)))"#,
    );
    let path = wasm_file(dir, "printing.wasm", &wat);
    let (plugin, _) = LoadedPlugin::from_path(&path).unwrap();
    Session::new(
        plugin,
        SandboxOptions {
            wasi: true,
            allowed_hosts: vec!["127.0.0.1".into()],
            ..defaults()
        },
        worker(),
    )
    .unwrap()
}

#[test]
fn whatever_a_plugin_prints_never_reaches_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let s = printing_module(&dir, "http://127.0.0.1:1/");
    for _ in 0..3 {
        let r = call(&s, "noisy", "");
        assert_ok(&r);
        assert_eq!(output(&r), "to");
        let stdout: Vec<&str> = r
            .logs
            .iter()
            .filter(|l| l.source == LogSource::Stdout)
            .map(|l| l.message.as_str())
            .collect();
        assert_eq!(stdout.len(), 1, "{:?}", r.logs);
        assert!(
            stdout[0].contains(r#"{"Loaded":{"load_ms":1.0}}"#),
            "{stdout:?}"
        );
        assert!(stdout[0].ends_with(" junk"), "{stdout:?}");
        assert!(
            r.logs
                .iter()
                .any(|l| l.source == LogSource::Stderr && l.message == "to stderr"),
            "{:?}",
            r.logs
        );
    }
}

#[test]
fn what_a_plugin_printed_before_its_worker_was_stopped_is_kept() {
    let (url, reached) = serve_silent();
    let dir = tempfile::tempdir().unwrap();
    let s = printing_module(&dir, &url);
    let handle = s.call(CallRequest {
        function: "stuck".into(),
        ..CallRequest::default()
    });
    reached
        .recv_timeout(Duration::from_secs(30))
        .expect("the plugin's request reached the server");
    // Inside http_request only killing the worker stops the call.
    handle.cancel();
    let r = wait_bounded(handle);
    assert_eq!(r.error_kind(), Some(ErrorKind::Cancelled), "{:?}", r.error);
    assert!(
        r.error
            .as_ref()
            .unwrap()
            .message
            .contains("its worker was stopped")
    );
    let printed: Vec<(LogSource, &str)> = r
        .logs
        .iter()
        .map(|l| (l.source, l.message.as_str()))
        .collect();
    assert_eq!(printed, [(LogSource::Stdout, "working")]);
}

#[test]
fn wasi_exit_code_is_reported() {
    let s = session(
        "wasi-demo",
        SandboxOptions {
            wasi: true,
            ..defaults()
        },
    );
    let r = call(&s, "exit_with", "3");
    let error = r.error.expect("exit 3 fails");
    assert_eq!(error.kind, ErrorKind::Exit);
    assert_eq!(error.exit_code, Some(3));
    assert!(error.message.contains("code 3"), "{}", error.message);
}

#[test]
fn counter_keeps_state_until_reset_or_fresh() {
    let s = session("counter", defaults());
    for expected in 1..=3 {
        assert_eq!(
            output(&call(&s, "increment", "")),
            format!(r#"{{"count":{expected}}}"#)
        );
    }
    s.reset();
    let r = call(&s, "increment", "");
    assert_eq!(output(&r), r#"{"count":1}"#);
    assert!(r.new_instance);
    assert_eq!(output(&call(&s, "reset", "")), r#"{"count":0}"#);
    assert_eq!(output(&call(&s, "increment", "")), r#"{"count":1}"#);

    for _ in 0..2 {
        let r = s.call_blocking(CallRequest {
            function: "increment".into(),
            fresh_instance: true,
            ..CallRequest::default()
        });
        assert_eq!(output(&r), r#"{"count":1}"#);
        assert!(r.new_instance);
    }
}

#[test]
fn spin_is_stopped_by_the_timeout() {
    let s = session(
        "chaos",
        SandboxOptions {
            timeout_ms: Some(300),
            ..defaults()
        },
    );
    let r = call(&s, "spin", "");
    let error = r.error.expect("spin times out");
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(error.message.contains("300 ms"), "{}", error.message);
    // The session is still usable afterwards.
    assert_eq!(
        call(&s, "error_return", "").error_kind(),
        Some(ErrorKind::PluginError)
    );
}

#[test]
fn spin_is_stopped_by_cancel() {
    let s = session("chaos", defaults());
    let handle = s.call(CallRequest {
        function: "spin".into(),
        ..CallRequest::default()
    });
    wait_for_phase(&handle, Phase::Calling);
    handle.cancel();
    let r = wait_bounded(handle);
    assert_eq!(r.error_kind(), Some(ErrorKind::Cancelled), "{:?}", r.error);
    assert_eq!(call(&s, "trap", "").error_kind(), Some(ErrorKind::Trap));
}

#[test]
fn a_call_stuck_in_a_host_call_can_be_stopped() {
    let (url, reached) = serve_silent();
    let s = session(
        "http-demo",
        SandboxOptions {
            allowed_hosts: vec!["127.0.0.1".into()],
            ..defaults()
        },
    );
    let handle = s.call(CallRequest {
        function: "http_get".into(),
        input: url.into_bytes().into(),
        ..CallRequest::default()
    });
    // The server has the request: the plugin is inside http_request, where wasmtime's
    // interruption cannot reach it, so only killing the worker stops it.
    reached
        .recv_timeout(Duration::from_secs(30))
        .expect("the plugin's request reached the server");
    assert!(handle.ready().is_none(), "the request is still waiting");
    handle.cancel();
    let r = wait_bounded(handle);
    assert_eq!(r.error_kind(), Some(ErrorKind::Cancelled), "{:?}", r.error);
    assert!(
        r.error.unwrap().message.contains("its worker was stopped"),
        "the worker was killed, not cancelled politely"
    );
    // A new worker serves the next call: a refused connection fails inside the host call.
    let r = call(&s, "http_get", "http://127.0.0.1:1/");
    assert_eq!(r.error_kind(), Some(ErrorKind::Trap), "{:?}", r.error);
}

/// Waits (with a bound) until the call has reached `phase`.
fn wait_for_phase(
    handle: &extism_playground::runner::Call<extism_playground::runner::CallReport>,
    phase: Phase,
) {
    let started = std::time::Instant::now();
    while handle.phase() != phase {
        assert!(
            handle.ready().is_none(),
            "the call ended before reaching {phase:?}: {:?}",
            handle.ready().map(|r| &r.error)
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the call never reached {phase:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits for a call with a bound, so a broken cancel fails the test instead of hanging it.
fn wait_bounded(
    handle: extism_playground::runner::Call<extism_playground::runner::CallReport>,
) -> extism_playground::runner::CallReport {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("wait-bounded".into())
        .spawn(move || {
            let _ = tx.send(handle.block_and_take());
        })
        .unwrap();
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the call stopped")
}

#[test]
fn memory_limit_gives_out_of_memory() {
    let s = session(
        "chaos",
        SandboxOptions {
            memory_max_pages: Some(16),
            ..defaults()
        },
    );
    let r = call(&s, "alloc", "64");
    let error = r.error.expect("alloc 64 MiB fails");
    assert_eq!(error.kind, ErrorKind::OutOfMemory);
    assert!(error.message.contains("16 pages"), "{}", error.message);
    // Without the limit it works.
    let r = call(&session("chaos", defaults()), "alloc", "64");
    assert_ok(&r);
    assert_eq!(output(&r), "allocated 64 MiB");
}

#[test]
fn fuel_runs_out_and_is_reported() {
    let s = session(
        "chaos",
        SandboxOptions {
            fuel_limit: Some(1_000_000),
            ..defaults()
        },
    );
    let r = call(&s, "spin", "");
    let error = r.error.expect("spin runs out of fuel");
    assert_eq!(error.kind, ErrorKind::OutOfFuel);
    assert!(error.message.contains("1000000"), "{}", error.message);

    let s = session(
        "hello",
        SandboxOptions {
            fuel_limit: Some(10_000_000),
            ..defaults()
        },
    );
    let r = call(&s, "count_vowels", "hello");
    assert_ok(&r);
    let used = r.fuel_consumed.expect("fuel is reported");
    assert!(used > 0 && used < 10_000_000, "{used}");
    assert_eq!(
        call(&session("hello", defaults()), "greet", "x").fuel_consumed,
        None
    );
}

#[test]
fn traps_are_reported_with_their_backtrace() {
    let s = session("chaos", defaults());
    for (function, needle) in [
        ("trap", "unreachable"),
        ("panic", "unreachable"),
        ("stack_overflow", ""),
    ] {
        let r = call(&s, function, "");
        let error = r.error.unwrap_or_else(|| panic!("{function} must fail"));
        assert_eq!(error.kind, ErrorKind::Trap, "{function}: {}", error.message);
        assert!(
            error.message.contains(needle),
            "{function}: {}",
            error.message
        );
        assert!(!error.frames.is_empty(), "{function}: a backtrace");
    }
}

#[test]
fn error_return_carries_the_plugin_message() {
    let r = call(&session("chaos", defaults()), "error_return", "");
    let error = r.error.unwrap();
    assert_eq!(error.kind, ErrorKind::PluginError);
    assert_eq!(
        error.message,
        "chaos: the plugin reported an error on purpose"
    );
}

#[test]
fn huge_output_and_log_flood() {
    let s = session("chaos", defaults());
    let r = call(&s, "huge_output", "3");
    assert_ok(&r);
    assert_eq!(r.output.len(), 3 * 1024 * 1024);
    let r = call(&s, "log_flood", "5000");
    assert_ok(&r);
    assert_eq!(r.logs.len(), 5000);
    assert_eq!(r.logs[4999].message, "log_flood line 4999");
    assert_eq!(r.logs_dropped, 0);
}

#[test]
fn loops_run_in_the_worker_with_stats() {
    let s = session("hello", defaults());
    let r = s.call_blocking(CallRequest {
        function: "greet".into(),
        input: b"loop".to_vec().into(),
        loops: 200,
        ..CallRequest::default()
    });
    assert_ok(&r);
    let stats = r.stats.clone().expect("stats");
    assert_eq!(stats.calls, 200);
    assert!(
        stats.min_us <= stats.median_us
            && stats.median_us <= stats.p95_us
            && stats.p95_us <= stats.max_us
    );
    assert_eq!(output(&r), "Hello, loop!");
}

#[test]
fn load_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    // Malformed bytes.
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0\x99garbage").unwrap();
    let (plugin, _) = LoadedPlugin::from_path(&junk).unwrap();
    let e = Session::new(plugin, defaults(), worker()).unwrap_err();
    assert!(matches!(e, LoadError::InvalidWasm { .. }), "{e}");
    assert!(e.to_string().contains("junk.wasm"), "{e}");
    // Not wasm, not JSON.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let e = LoadedPlugin::from_path(&text).unwrap_err();
    assert!(
        e.to_string()
            .contains("neither a WebAssembly module nor an Extism manifest"),
        "{e}"
    );

    // A valid module that is no plugin: its only export takes parameters.
    let add = wasm_file(
        &dir,
        "add.wasm",
        r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#,
    );
    let (plugin, _) = LoadedPlugin::from_path(&add).unwrap();
    let s = Session::new(plugin, defaults(), worker()).unwrap();
    let e = s.check_call("add").unwrap_err();
    assert!(e.to_string().contains("(i32, i32) -> i32"), "{e}");
    let r = call(&s, "add", "");
    assert_eq!(r.error_kind(), Some(ErrorKind::Load));

    // A missing function lists the exported ones.
    let s = session("hello", defaults());
    let e = s.check_call("handle_evnt").unwrap_err().to_string();
    assert!(
        e.contains("`handle_evnt` is not exported by hello.wasm"),
        "{e}"
    );
    assert!(
        e.contains("count_vowels, echo, greet, handle_event, handle_event_v2"),
        "{e}"
    );

    // An import nobody provides.
    let needy = wasm_file(
        &dir,
        "needy.wasm",
        r#"(module (import "env" "mystery" (func)) (func (export "run")))"#,
    );
    let (plugin, _) = LoadedPlugin::from_path(&needy).unwrap();
    let s = Session::new(plugin, defaults(), worker()).unwrap();
    let e = s.check_call("run").unwrap_err().to_string();
    assert!(e.contains("env::mystery"), "{e}");

    // WASI imports with WASI off.
    let e = session("wasi-demo", defaults())
        .check_call("print")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("wasi_snapshot_preview1::") && e.contains("turn WASI on"),
        "{e}"
    );
}

#[test]
fn manifest_round_trips_and_checks_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let (plugin, _) = LoadedPlugin::from_path(&sample("hello")).unwrap();
    let options = SandboxOptions {
        allowed_hosts: vec!["*.example.com".into()],
        memory_max_pages: Some(64),
        timeout_ms: Some(1500),
        config: [("vowels".to_string(), "xyz".to_string())].into(),
        ..defaults()
    };
    for embed in [false, true] {
        let manifest = plugin.to_manifest(&options, embed);
        let path = dir.path().join(format!("manifest-{embed}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
        let (again, read_options) = LoadedPlugin::from_path(&path).unwrap();
        assert_eq!(read_options.as_ref(), Some(&options));
        assert_eq!(again.main().sha256, plugin.main().sha256);
        assert_eq!(
            again.to_manifest(&options, embed),
            manifest,
            "embed={embed}"
        );
        // And it runs, with the manifest's config.
        let s = Session::new(again, read_options.unwrap(), worker()).unwrap();
        assert_eq!(
            output(&call(&s, "count_vowels", "xyz")),
            r#"{"count":3,"total":3,"vowels":"xyz"}"#
        );
    }

    let mut manifest = plugin.to_manifest(&options, false);
    let wrong = "0".repeat(64);
    manifest.wasm[0].meta_mut().hash = Some(wrong.clone());
    let path = dir.path().join("tampered.json");
    std::fs::write(&path, serde_json::to_string(&manifest).unwrap()).unwrap();
    let e = LoadedPlugin::from_path(&path).unwrap_err().to_string();
    assert!(
        e.contains("hash mismatch") && e.contains(&wrong) && e.contains(&plugin.main().sha256),
        "{e}"
    );
}

#[test]
fn manifest_paths_resolve_relative_to_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample("hello"), dir.path().join("hello.wasm")).unwrap();
    let path = dir.path().join("m.json");
    std::fs::write(&path, r#"{"wasm": [{"path": "hello.wasm"}], "memory": {"max_pages": 40}, "allowed_paths": {"ro:/tmp": "/tmp"}}"#).unwrap();
    let (plugin, options) = LoadedPlugin::from_path(&path).unwrap();
    let options = options.unwrap();
    assert_eq!(options.memory_max_pages, Some(40));
    assert_eq!(
        options.allowed_paths,
        [AllowedPath {
            host: "/tmp".into(),
            guest: "/tmp".into(),
            read_only: true
        }]
    );
    assert!(plugin.from_manifest);

    std::fs::write(&path, r#"{"wasm": [{"path": "missing.wasm"}]}"#).unwrap();
    let e = LoadedPlugin::from_path(&path).unwrap_err().to_string();
    assert!(e.contains("missing.wasm"), "{e}");
    std::fs::write(&path, r#"{"wasm": [], "bogus": 1}"#).unwrap();
    let e = LoadedPlugin::from_path(&path).unwrap_err().to_string();
    assert!(e.contains("m.json") && e.contains("bogus"), "{e}");
}

#[test]
fn inspection_of_the_samples() {
    let bytes = std::fs::read(sample("host-demo")).unwrap();
    let i = Inspection::of("host-demo.wasm", &bytes).unwrap();
    assert_eq!(
        i.callable_functions(),
        ["kv_roundtrip", "log_levels", "secret_length"]
    );
    let mut user: Vec<_> = i.imports_by_module()["extism:host/user"]
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    user.sort_unstable();
    assert_eq!(user, ["get_secret", "kv_get", "kv_set", "log_info"]);
    let host = extism_playground::runner::HostRegistry::builtin();
    let linkage = |wasi| Linkage {
        wasi,
        linked_modules: &[],
        host: &host,
    };
    assert!(i.unsatisfied_imports(&linkage(false)).is_empty());
    assert!(!i.needs_wasi);
    assert!(i.producers.contains_key("language"), "{:?}", i.producers);
    assert_eq!(i.sha256.len(), 64);

    let wasi = Inspection::of("w", &std::fs::read(sample("wasi-demo")).unwrap()).unwrap();
    assert!(wasi.needs_wasi);
    assert!(!wasi.unsatisfied_imports(&linkage(false)).is_empty());
    assert!(wasi.unsatisfied_imports(&linkage(true)).is_empty());
}

#[test]
fn manifest_modules_can_come_from_a_url() {
    let bytes = std::fs::read(sample("hello")).unwrap();
    let sha = extism_playground::platform::digest::sha256_hex(&bytes);
    let url = format!("{}/hello.wasm", common::serve_bytes(bytes));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("remote.json");
    std::fs::write(
        &path,
        format!(r#"{{"wasm": [{{"url": "{url}", "hash": "{sha}"}}]}}"#),
    )
    .unwrap();
    // Read on its own, a manifest's URL module is never fetched: only through a review.
    let e = LoadedPlugin::from_path(&path).unwrap_err().to_string();
    assert!(e.contains("not allowed, so nothing was sent"), "{e}");
    let opened = |path: &std::path::Path| {
        extism_playground::open::read(&extism_playground::open::Source::Path(path.to_path_buf()))
            .unwrap()
            .resolve(
                extism_playground::trust::Decision::Allow,
                None,
                &extism_playground::registry::Settings::default(),
            )
    };
    let plugin = opened(&path).unwrap().plugin;
    assert_eq!(plugin.main().sha256, sha);
    let s = Session::new(plugin, SandboxOptions::default(), worker()).unwrap();
    assert_eq!(output(&call(&s, "greet", "remote")), "Hello, remote!");
    // An unreachable URL names it.
    std::fs::write(
        &path,
        r#"{"wasm": [{"url": "http://127.0.0.1:1/nothing.wasm"}]}"#,
    )
    .unwrap();
    let e = opened(&path).unwrap_err().to_string();
    assert!(
        e.contains("cannot download the module from http://127.0.0.1:1/nothing.wasm"),
        "{e}"
    );
}

#[test]
fn fast_compile_runs_plugins_from_other_toolchains_the_same() {
    // Unoptimized Cranelift with single-pass register allocation must not change what a
    // plugin does: the js-pdk (QuickJS) fixture and the hello sample give the same output
    // both ways.
    for fast_compile in [false, true] {
        let options = SandboxOptions {
            wasi: true,
            fast_compile,
            ..defaults()
        };
        let s = common::session_with(
            &common::fixture("js-xtp-fruit"),
            &[
                common::flag("eatAFruit=value:true"),
                common::flag("kv_read=kv-get"),
                common::flag("kv_write=rhai:tests/fixtures/kv_write.rhai"),
            ],
            options.clone(),
        );
        let report = common::call(&s, "referenceTypes", "apple");
        common::assert_ok(&report);
        assert!(
            common::output(&report).contains("\"ghost\":\"inky\""),
            "fast_compile {fast_compile}: {}",
            common::output(&report)
        );
        let s = common::session("hello", options);
        let report = common::call(&s, "count_vowels", "Hello, fast world");
        common::assert_ok(&report);
        assert!(
            common::output(&report).starts_with(r#"{"count":4"#),
            "fast_compile {fast_compile}: {}",
            common::output(&report)
        );
    }
}

/// A caller woken by a call's `done` finds the result on that wake-up: the window repaints on
/// it and takes the result in the same frame (woken before, the frame found nothing).
#[test]
fn a_call_says_it_is_done_only_once_its_result_can_be_taken() {
    let s = session("hello", defaults());
    for n in 0..20 {
        let (tx, rx) = std::sync::mpsc::channel();
        let call = s.call_then(
            CallRequest {
                function: "count_vowels".into(),
                input: std::sync::Arc::new(b"aeiou".to_vec()),
                ..CallRequest::default()
            },
            |report| report.is_ok(),
            move || {
                let _ = tx.send(());
            },
        );
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the call says it is done");
        assert_eq!(
            call.ready(),
            Some(&true),
            "call {n}: done before its result"
        );
    }
}
