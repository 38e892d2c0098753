//! The real binary: `call` and `inspect`, their output, JSON reports and exact exit codes.

use crate::common::{
    assert_exit, run_bin, run_json, sample, serve_http, stderr, stdout, stdout_json,
};

fn s(name: &str) -> String {
    sample(name).display().to_string()
}

#[test]
fn call_prints_raw_output_and_exits_zero() {
    let out = run_bin(
        &[
            "call",
            &s("hello"),
            "count_vowels",
            "--input",
            "hello world",
        ],
        b"",
    );
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        r#"{"count":3,"total":3,"vowels":"aeiouAEIOU"}"#
    );
}

#[test]
fn input_from_stdin_and_file_and_config() {
    let out = run_bin(&["call", &s("hello"), "greet", "--stdin"], b"from stdin");
    assert_eq!(stdout(&out), "Hello, from stdin!");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.txt");
    std::fs::write(&file, "file").unwrap();
    let out = run_bin(
        &[
            "call",
            &s("hello"),
            "greet",
            "--input-file",
            file.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(stdout(&out), "Hello, file!");
    let out = run_bin(
        &[
            "call",
            &s("hello"),
            "count_vowels",
            "-i",
            "xyz",
            "--config",
            "vowels=y",
        ],
        b"",
    );
    assert_eq!(stdout(&out), r#"{"count":1,"total":1,"vowels":"y"}"#);
    let out = run_bin(
        &[
            "call",
            &s("hello"),
            "count_vowels",
            "-i",
            "xyz",
            "--set-config",
            r#"{"vowels": "xz"}"#,
        ],
        b"",
    );
    assert_eq!(stdout(&out), r#"{"count":2,"total":2,"vowels":"xz"}"#);
}

#[test]
fn json_report_has_the_documented_shape() {
    let v = run_json(
        &[
            "call",
            &s("host-demo"),
            "log_levels",
            "-i",
            "j",
            "--json",
            "--log-level",
            "debug",
        ],
        0,
    );
    assert_eq!(v["ok"], true);
    assert_eq!(v["output"], "logged 5 PDK lines and 1 host line");
    assert!(v["error"].is_null());
    for key in ["load_ms", "instantiate_ms", "call_ms"] {
        assert!(
            v["timings"][key].as_f64().is_some_and(|t| t >= 0.0),
            "{key}: {v}"
        );
    }
    let logs = v["logs"].as_array().unwrap();
    // debug and above: 4 PDK lines plus the host's.
    assert_eq!(logs.len(), 5, "{logs:?}");
    assert_eq!(logs[0]["level"], "debug");
    assert_eq!(logs[0]["source"], "pdk");
    assert_eq!(logs[4]["source"], "host");
    assert_eq!(v["host_calls"][0]["function"], "log_info");
    assert!(v["fuel_consumed"].is_null());
    assert!(v.get("stats").is_none());
}

#[test]
fn logs_go_to_stderr() {
    let out = run_bin(&["call", &s("host-demo"), "log_levels", "-i", "q"], b"");
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "logged 5 PDK lines and 1 host line");
    let err = stderr(&out);
    assert!(err.contains("[warn pdk] warn from host-demo: q"), "{err}");
    assert!(
        err.contains("[info host] host log_info from host-demo: q"),
        "{err}"
    );
    assert!(
        !err.contains("debug from host-demo"),
        "info is the default level: {err}"
    );
}

#[test]
fn spin_times_out_with_exit_one() {
    let out = run_bin(&["call", &s("chaos"), "spin", "--timeout", "300"], b"");
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("error (timeout): the call ran past the 300 ms timeout"),
        "{}",
        stderr(&out)
    );
    let out = run_bin(
        &["call", &s("chaos"), "spin", "--timeout", "300", "--json"],
        b"",
    );
    let v = stdout_json(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["kind"], "timeout");
}

#[test]
fn memory_max_gives_out_of_memory() {
    let v = run_json(
        &[
            "call",
            &s("chaos"),
            "alloc",
            "-i",
            "64",
            "--memory-max",
            "16",
            "--json",
        ],
        1,
    );
    assert_eq!(v["error"]["kind"], "out_of_memory");
}

#[test]
fn every_failure_kind_maps_to_exit_one() {
    for (function, input, kind, extra) in [
        ("trap", "", "trap", vec![]),
        ("error_return", "", "plugin_error", vec![]),
        ("spin", "", "out_of_fuel", vec!["--fuel", "100000"]),
    ] {
        let mut args = vec!["call", "", function, "-i", input, "--json"];
        let path = s("chaos");
        args[1] = &path;
        args.extend(extra);
        let out = run_bin(&args, b"");
        assert_eq!(out.status.code(), Some(1), "{function}");
        let v = stdout_json(&out);
        assert_eq!(v["error"]["kind"], kind, "{function}: {v}");
    }
    let v = run_json(
        &[
            "call",
            &s("wasi-demo"),
            "exit_with",
            "-i",
            "4",
            "--wasi",
            "--json",
        ],
        1,
    );
    assert_eq!(v["error"]["kind"], "exit");
    assert_eq!(v["error"]["exit_code"], 4);
}

#[test]
fn http_allow_host() {
    let base = serve_http("from the test server", 1);
    let out = run_bin(&["call", &s("http-demo"), "http_get", "-i", &base], b"");
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("127.0.0.1") && stderr(&out).contains("not allowed"),
        "{}",
        stderr(&out)
    );
    let out = run_bin(
        &[
            "call",
            &s("http-demo"),
            "http_get",
            "-i",
            &base,
            "--allow-host",
            "127.0.0.1",
        ],
        b"",
    );
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "from the test server");
}

#[test]
fn wasi_allow_path_and_captured_output() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = format!("{}:/data", dir.path().display());
    let out = run_bin(
        &[
            "call",
            &s("wasi-demo"),
            "write_read",
            "-i",
            "persisted",
            "--wasi",
            "--allow-path",
            &mapping,
        ],
        b"",
    );
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "persisted");
    let out = run_bin(
        &["call", &s("wasi-demo"), "write_read", "-i", "x", "--wasi"],
        b"",
    );
    assert_exit(&out, 1);

    let out = run_bin(
        &[
            "call",
            &s("wasi-demo"),
            "print",
            "-i",
            "to stdout",
            "--wasi",
            "--json",
        ],
        b"",
    );
    let v = stdout_json(&out);
    let mut logs: Vec<(String, String)> = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["source"].as_str().unwrap().to_string(),
                l["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Each stream keeps its order; between the two streams, lines are ordered by arrival.
    logs.sort();
    assert_eq!(
        logs,
        [
            (
                "stderr".to_string(),
                "wasi-demo wrote 9 bytes to stdout".to_string()
            ),
            ("stdout".to_string(), "to stdout".to_string()),
        ]
    );
}

#[test]
fn secrets_and_kv_flags() {
    let out = run_bin(
        &[
            "call",
            &s("host-demo"),
            "secret_length",
            "-i",
            "token",
            "--secret",
            "token=abcd",
        ],
        b"",
    );
    assert_eq!(stdout(&out), r#"{"name":"token","length":4}"#);
    let out = run_bin(
        &[
            "call",
            &s("host-demo"),
            "kv_roundtrip",
            "-i",
            r#"{"key":"k","value":"new"}"#,
            "--kv",
            "k=old",
        ],
        b"",
    );
    assert_eq!(
        stdout(&out),
        r#"{"key":"k","previous":"old","value":"new"}"#
    );
}

#[test]
fn loop_reports_stats() {
    let v = run_json(
        &[
            "call",
            &s("hello"),
            "greet",
            "-i",
            "x",
            "--loop",
            "50",
            "--json",
        ],
        0,
    );
    assert_eq!(v["stats"]["calls"], 50);
    for key in ["min_us", "median_us", "p95_us", "max_us"] {
        assert!(v["stats"][key].as_f64().is_some(), "{key}");
    }
    let out = run_bin(
        &["call", &s("hello"), "greet", "-i", "x", "--loop", "20"],
        b"",
    );
    assert!(stderr(&out).contains("20 calls: min"), "{}", stderr(&out));
}

#[test]
fn load_and_usage_errors_exit_two() {
    let out = run_bin(&["call", &s("hello"), "handle_evnt"], b"");
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("`handle_evnt` is not exported by hello.wasm; exported: count_vowels, echo, greet, handle_event, handle_event_v2"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not a module").unwrap();
    let out = run_bin(&["call", junk.to_str().unwrap(), "run"], b"");
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("junk.wasm"), "{}", stderr(&out));

    let out = run_bin(&["call", "/no/such/plugin.wasm", "run"], b"");
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("cannot read /no/such/plugin.wasm"),
        "{}",
        stderr(&out)
    );

    let v = run_json(&["call", &s("wasi-demo"), "print", "--json"], 2);
    assert_eq!(v["error"]["kind"], "load");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("turn WASI on")
    );

    let out = run_bin(&["call", &s("hello")], b"");
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing argument is a usage error"
    );
    let out = run_bin(&["call", &s("hello"), "greet", "--allow-path", "ro:"], b"");
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no host directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn inspect_text_and_json() {
    let out = run_bin(&["inspect", &s("host-demo")], b"");
    assert_exit(&out, 0);
    let text = stdout(&out);
    for needle in [
        "sha256",
        "* log_levels",
        "extism:host/user",
        "get_secret",
        "language: Rust",
        "WASI: not needed",
        "debug info: none",
    ] {
        assert!(text.contains(needle), "{needle} missing in:\n{text}");
    }
    // The debug-built sample carries line tables, and says so.
    let out = run_bin(&["inspect", &s("debug-demo")], b"");
    assert!(stdout(&out).contains("debug info: DWARF line tables"));
    let out = run_bin(&["inspect", &s("wasi-demo"), "--json"], b"");
    let v = stdout_json(&out);
    assert_eq!(v["needs_wasi"], true);
    assert!(
        v["exports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "write_read" && e["callable"] == true)
    );
    let out = run_bin(&["inspect", "/no/such.wasm"], b"");
    assert_exit(&out, 2);
}
