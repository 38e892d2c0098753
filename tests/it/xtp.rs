//! xtp-test plugins run offline through the binary (`test --xtp TEST.wasm PLUGIN.wasm`): the
//! `xtp-hello-test` sample (built with the xtp-test crate) against `hello`, its reports as text,
//! JSON and JUnit, mock input, and failing runs; test plugins written here in WAT for each part
//! of the harness (groups, reset, call errors, timeouts, a `test` that fails or traps, an old
//! harness ABI); the plugin under test's own imports (mock host, host functions, WASI); and a
//! `TinyGo` test plugin written by others (xtp-test-go) against its target.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::common::{assert_exit, p, run_bin, sample, stderr, stdout, stdout_json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs `test --xtp` with `args` and `--json`; returns the exit code and the parsed report.
fn xtp_json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["test", "--json", "--xtp"];
    all.extend_from_slice(args);
    let out = run_bin(&all, b"");
    (out.status.code(), stdout_json(&out))
}

/// The cases of the first suite of a JSON report: (group, name, passed, message).
fn cases(report: &serde_json::Value) -> Vec<(Option<String>, String, bool, String)> {
    report["suites"][0]["tests"]
        .as_array()
        .unwrap_or_else(|| panic!("no suite: {report:#}"))
        .iter()
        .map(|t| {
            (
                t["group"].as_str().map(str::to_string),
                t["name"].as_str().unwrap().to_string(),
                t["passed"].as_bool().unwrap(),
                t["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// One thing a WAT test plugin does in its `test` export, in order.
enum Op<'a> {
    /// `call(function, input)`, then asserts under `name` that the output is `expect`.
    CallExpect {
        name: &'a str,
        function: &'a str,
        input: &'a str,
        expect: &'a str,
    },
    /// `time(function, input)`, the result dropped.
    Time {
        function: &'a str,
        input: &'a str,
    },
    Assert {
        name: &'a str,
        passed: bool,
        reason: &'a str,
    },
    Group(&'a str),
    Reset,
    /// Asserts under `name` that `mock_input()` is `expect` (0 counts as empty).
    MockInput {
        name: &'a str,
        expect: &'a str,
    },
    /// `test` returns this code here.
    Return(i32),
    Trap,
    Spin,
}

/// Strings laid out in a module's memory, as WAT data.
#[derive(Default)]
struct Data {
    bytes: Vec<u8>,
}

const DATA_BASE: usize = 1024;

impl Data {
    /// `(i32.const PTR) (i32.const LEN)` of `text`, placed in the data.
    fn place(&mut self, text: &str) -> String {
        let ptr = DATA_BASE + self.bytes.len();
        self.bytes.extend_from_slice(text.as_bytes());
        format!("(i32.const {ptr}) (i32.const {})", text.len())
    }

    /// An Extism block holding `text`.
    fn block(&mut self, text: &str) -> String {
        format!("(call $s {})", self.place(text))
    }

    fn segment(&self) -> String {
        let escaped = self.bytes.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "\\{b:02x}");
            s
        });
        format!("(data (i32.const {DATA_BASE}) \"{escaped}\")")
    }
}

/// The helpers every WAT module here uses: `$s` copies bytes of this module's memory into a new
/// Extism block; `$eq` says whether a block holds given bytes.
const HELPERS: &str = r#"
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (memory (export "memory") 1)
  (func $s (param $ptr i32) (param $len i32) (result i64)
    (local $off i64) (local $i i32)
    (if (i32.eqz (local.get $len)) (then (return (i64.const 0))))
    (local.set $off (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (call $store_u8
        (i64.add (local.get $off) (i64.extend_i32_u (local.get $i)))
        (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $off))
  (func $eq (param $off i64) (param $ptr i32) (param $len i32) (result i32)
    (local $i i32)
    (if (i64.eqz (local.get $off)) (then (return (i32.eqz (local.get $len)))))
    (if (i64.ne (call $length (local.get $off)) (i64.extend_i32_u (local.get $len)))
      (then (return (i32.const 0))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (if (i32.ne
            (call $load_u8 (i64.add (local.get $off) (i64.extend_i32_u (local.get $i))))
            (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.const 1))
"#;

/// The harness imports as the current guest libraries declare them.
const HARNESS_IMPORTS: &str = r#"
  (import "xtp:test/harness" "call" (func $call (param i64 i64) (result i64)))
  (import "xtp:test/harness" "time" (func $time (param i64 i64) (result i64)))
  (import "xtp:test/harness" "assert" (func $assert (param i64 i64 i64)))
  (import "xtp:test/harness" "group" (func $group (param i64)))
  (import "xtp:test/harness" "reset" (func $reset))
  (import "xtp:test/harness" "mock_input" (func $mock_input (result i64)))
"#;

/// The text of a test plugin doing `ops`, then returning 0.
fn test_plugin_wat(ops: &[Op]) -> String {
    let mut data = Data::default();
    let mut body = String::new();
    for op in ops {
        let code = match op {
            Op::CallExpect {
                name,
                function,
                input,
                expect,
            } => {
                let call = format!(
                    "(local.set $out (call $call {} {}))",
                    data.block(function),
                    data.block(input)
                );
                let check = format!(
                    "(call $assert {} (i64.extend_i32_u (call $eq (local.get $out) {})) {})",
                    data.block(name),
                    data.place(expect),
                    data.block(&format!("expected {expect}"))
                );
                format!("{call}\n{check}")
            }
            Op::Time { function, input } => format!(
                "(drop (call $time {} {}))",
                data.block(function),
                data.block(input)
            ),
            Op::Assert {
                name,
                passed,
                reason,
            } => format!(
                "(call $assert {} (i64.const {}) {})",
                data.block(name),
                i64::from(*passed),
                data.block(reason)
            ),
            Op::Group(name) => format!("(call $group {})", data.block(name)),
            Op::Reset => "(call $reset)".to_string(),
            Op::MockInput { name, expect } => format!(
                "(call $assert {} (i64.extend_i32_u (call $eq (call $mock_input) {})) {})",
                data.block(name),
                data.place(expect),
                data.block(&format!("expected mock input {expect:?}"))
            ),
            Op::Return(code) => format!("(return (i32.const {code}))"),
            Op::Trap => "unreachable".to_string(),
            Op::Spin => "(loop $forever (br $forever))".to_string(),
        };
        body.push_str(&code);
        body.push('\n');
    }
    format!(
        "(module {HARNESS_IMPORTS} {HELPERS} {}\n(func (export \"test\") (result i32) (local $out i64)\n{body} (i32.const 0)))",
        data.segment()
    )
}

/// Writes the test plugin doing `ops` to `dir/name`.
fn test_plugin(dir: &Path, name: &str, ops: &[Op]) -> PathBuf {
    write_wat(dir, name, &test_plugin_wat(ops))
}

fn write_wat(dir: &Path, name: &str, wat: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, wat::parse_str(wat).expect("the WAT is valid")).unwrap();
    path
}

/// A plugin whose exports each output a fixed text.
fn fixed_plugin(dir: &Path, name: &str, exports: &[(&str, &str)]) -> PathBuf {
    let mut data = Data::default();
    let mut funcs = String::new();
    for (export, output) in exports {
        let _ = writeln!(
            funcs,
            "(func (export {export:?}) (result i32) (call $output_set {} (i64.const {})) (i32.const 0))",
            data.block(output),
            output.len()
        );
    }
    let wat = format!(
        "(module (import \"extism:host/env\" \"output_set\" (func $output_set (param i64 i64))) {HELPERS} {} {funcs})",
        data.segment()
    );
    write_wat(dir, name, &wat)
}

fn hello_test() -> PathBuf {
    sample("xtp-hello-test")
}

/// The assertions `xtp-hello-test` makes against `hello`, in order: (group, name).
const HELLO_ASSERTIONS: [(Option<&str>, &str); 9] = [
    (None, "greets the mock input"),
    (
        Some("count_vowels keeps a running total"),
        "counts the vowels of hello world",
    ),
    (
        Some("count_vowels keeps a running total"),
        "the first total is the first count",
    ),
    (
        Some("count_vowels keeps a running total"),
        "the second total adds the second count",
    ),
    (None, "reset clears the running total"),
    (Some("greet"), "keeps UTF-8"),
    (Some("greet"), "greets an empty name"),
    (Some("greet"), "takes measurable time"),
    (Some("greet"), "answers within a second"),
];

#[test]
fn the_sample_test_plugin_passes_against_hello() {
    let out = run_bin(
        &["test", "--xtp", p(&hello_test()), p(&sample("hello"))],
        b"",
    );
    let text = stdout(&out);
    assert_exit(&out, 0);
    assert!(
        text.starts_with(&format!("{} (hello.wasm)\n", p(&hello_test()))),
        "{text}"
    );
    for (group, name) in HELLO_ASSERTIONS {
        let shown = match group {
            Some(group) => format!("  ok      {group} › {name} ("),
            None => format!("  ok      {name} ("),
        };
        assert!(text.contains(&shown), "{shown:?} in\n{text}");
    }
    assert!(
        text.ends_with("\ntest result: ok. 9 passed; 0 failed\n"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("running xtp-hello-test.wasm against hello.wasm"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_has_one_test_per_assertion_with_its_group_and_message() {
    let (code, report) = xtp_json(&[p(&hello_test()), p(&sample("hello"))]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(9), Some(0))
    );
    let suite = &report["suites"][0];
    assert_eq!(suite["file"], p(&hello_test()));
    assert_eq!(suite["plugin"], "hello.wasm");
    assert_eq!(suite["test_export"]["ok"], true);
    assert!(suite["test_export"]["error"].is_null());
    let got = cases(&report);
    let shape: Vec<(Option<&str>, &str)> = got
        .iter()
        .map(|(g, n, _, _)| (g.as_deref(), n.as_str()))
        .collect();
    assert_eq!(shape, HELLO_ASSERTIONS);
    assert!(got.iter().all(|(_, _, passed, _)| *passed));
    // The reason is kept for passing assertions too.
    assert_eq!(got[0].3, r#"Expected "Hello, World!" == "Hello, World!""#);
    let first = &suite["tests"][0];
    assert!(first["failure"].is_null() && first["duration_ms"].as_f64().is_some());
}

#[test]
fn junit_has_one_testcase_per_assertion_classed_by_group() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("xtp.xml");
    let out = run_bin(
        &[
            "test",
            "--xtp",
            p(&hello_test()),
            p(&sample("hello")),
            "--junit",
            p(&xml),
        ],
        b"",
    );
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(&xml).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&text).unwrap();
    assert_eq!(report.test_suites.len(), 1, "{text}");
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), p(&hello_test()));
    assert_eq!((suite.tests, suite.failures, suite.errors), (9, 0, 0));
    let got: Vec<(&str, &str)> = suite
        .test_cases
        .iter()
        .map(|c| {
            (
                c.classname.as_ref().map_or("", |n| n.as_str()),
                c.name.as_str(),
            )
        })
        .collect();
    let file = hello_test();
    let want: Vec<(&str, &str)> = HELLO_ASSERTIONS
        .iter()
        .map(|(group, name)| (group.unwrap_or(p(&file)), *name))
        .collect();
    assert_eq!(got, want);
    assert!(suite.test_cases.iter().all(|c| c.assertions == Some(1)));
}

#[test]
fn mock_input_comes_from_data_or_a_file() {
    let (code, report) = xtp_json(&[
        p(&hello_test()),
        p(&sample("hello")),
        "--mock-input-data",
        "Ada",
    ]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(
        cases(&report)[0].3,
        r#"Expected "Hello, Ada!" == "Hello, Ada!""#
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("name.txt");
    std::fs::write(&file, "Grace").unwrap();
    let (code, report) = xtp_json(&[
        p(&hello_test()),
        p(&sample("hello")),
        "--mock-input-file",
        p(&file),
    ]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(
        cases(&report)[0].3,
        r#"Expected "Hello, Grace!" == "Hello, Grace!""#
    );

    // With none given, `mock_input` returns 0, which the guest reads as absent (or empty).
    let test = test_plugin(
        dir.path(),
        "mock.wasm",
        &[Op::MockInput {
            name: "no mock input",
            expect: "",
        }],
    );
    let (code, report) = xtp_json(&[p(&test), p(&sample("hello"))]);
    assert_eq!(code, Some(0), "{report:#}");
    let (code, report) = xtp_json(&[p(&test), p(&sample("hello")), "--mock-input-data", "x"]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(cases(&report)[0].3, "expected mock input \"\"");
}

/// The sample test run against a stand-in that answers wrongly: each assertion it breaks is a
/// failed testcase with the test plugin's reason, and the run exits 1.
#[test]
fn failing_assertions_are_failed_testcases_with_their_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let impostor = fixed_plugin(
        dir.path(),
        "impostor.wasm",
        &[
            ("greet", "Hi!"),
            ("count_vowels", r#"{"count":3,"total":3}"#),
        ],
    );
    let xml = dir.path().join("failing.xml");
    let out = run_bin(
        &[
            "test",
            "--xtp",
            p(&hello_test()),
            p(&impostor),
            "--junit",
            p(&xml),
        ],
        b"",
    );
    let text = stdout(&out);
    assert_exit(&out, 1);
    assert!(
        text.contains("  FAILED  greets the mock input (",)
            && text.contains("          Expected \"Hi!\" == \"Hello, World!\"\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  ok      count_vowels keeps a running total › the first total is the first count ("
        ),
        "{text}"
    );
    assert!(
        text.contains("  FAILED  count_vowels keeps a running total › the second total adds the second count ("),
        "{text}"
    );
    assert!(
        text.ends_with("\ntest result: FAILED. 4 passed; 5 failed\n"),
        "{text}"
    );

    let report =
        quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&xml).unwrap()).unwrap();
    let suite = &report.test_suites[0];
    assert_eq!((suite.tests, suite.failures), (9, 5));
    let failed = &suite.test_cases[0];
    assert_eq!(failed.name.as_str(), "greets the mock input");
    let quick_junit::TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &failed.status
    else {
        panic!("a failed assertion is a failure");
    };
    assert_eq!(
        message.as_ref().map(quick_junit::XmlString::as_str),
        Some(r#"Expected "Hi!" == "Hello, World!""#)
    );
    assert!(description.is_some());
}

/// `count_vowels`' running total lives in an Extism var: it grows across calls, and `reset`
/// starts a fresh instance whose total starts over. A group lasts until the next reset.
#[test]
fn state_carries_over_until_reset_and_groups_end_at_reset() {
    let dir = tempfile::tempdir().unwrap();
    let count = |name, total| Op::CallExpect {
        name,
        function: "count_vowels",
        input: "a",
        expect: match total {
            1 => r#"{"count":1,"total":1,"vowels":"aeiouAEIOU"}"#,
            2 => r#"{"count":1,"total":2,"vowels":"aeiouAEIOU"}"#,
            3 => r#"{"count":1,"total":3,"vowels":"aeiouAEIOU"}"#,
            _ => unreachable!(),
        },
    };
    let test = test_plugin(
        dir.path(),
        "state.wasm",
        &[
            Op::Group("running total"),
            count("first", 1),
            count("second", 2),
            Op::Reset,
            count("after reset", 1),
            Op::Group("second group"),
            count("kept within a group", 2),
            Op::Group("third group"),
            count("a group does not reset", 3),
        ],
    );
    let (code, report) = xtp_json(&[p(&test), p(&sample("hello"))]);
    let got: Vec<(Option<String>, String, bool)> = cases(&report)
        .into_iter()
        .map(|(g, n, passed, _)| (g, n, passed))
        .collect();
    let group = |g: &str| Some(g.to_string());
    assert_eq!(
        got,
        [
            (group("running total"), "first".to_string(), true),
            (group("running total"), "second".to_string(), true),
            (None, "after reset".to_string(), true),
            (
                group("second group"),
                "kept within a group".to_string(),
                true
            ),
            (
                group("third group"),
                "a group does not reset".to_string(),
                true
            ),
        ]
    );
    assert_eq!(code, Some(0), "{report:#}");
}

/// A call of the plugin under test that fails does not stop the test plugin: it is a failed
/// testcase `call NAME` saying why, and the run goes on.
#[test]
fn a_failed_call_is_a_failed_testcase_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let test = test_plugin(
        dir.path(),
        "calls.wasm",
        &[
            Op::CallExpect {
                name: "no output",
                function: "huge_output",
                input: "0",
                expect: "",
            },
            Op::Group("errors"),
            Op::CallExpect {
                name: "not exported",
                function: "nope",
                input: "",
                expect: "",
            },
            Op::CallExpect {
                name: "plugin error",
                function: "error_return",
                input: "",
                expect: "",
            },
            Op::Time {
                function: "trap",
                input: "",
            },
            Op::CallExpect {
                name: "spins",
                function: "spin",
                input: "",
                expect: "",
            },
            Op::Reset,
            Op::Assert {
                name: "still running",
                passed: true,
                reason: "",
            },
        ],
    );
    let (code, report) = xtp_json(&[p(&test), p(&sample("chaos")), "--timeout", "300"]);
    assert_eq!(code, Some(1), "{report:#}");
    let got = cases(&report);
    let names: Vec<(&str, bool)> = got
        .iter()
        .map(|(_, n, passed, _)| (n.as_str(), *passed))
        .collect();
    // A failed call returns 0 to the test plugin, which reads it as empty output.
    assert_eq!(
        names,
        [
            ("no output", true),
            ("call nope", false),
            ("not exported", true),
            ("call error_return", false),
            ("plugin error", true),
            ("time trap", false),
            ("call spin", false),
            ("spins", true),
            ("still running", true),
        ]
    );
    let message = |name: &str| {
        got.iter()
            .find(|(_, n, _, _)| n == name)
            .map(|(group, _, _, m)| (group.clone(), m.clone()))
            .unwrap()
    };
    let (group, nope) = message("call nope");
    assert_eq!(group.as_deref(), Some("errors"));
    assert!(
        nope.starts_with(
            "the call failed (load): function `nope` is not exported by chaos.wasm; exported: "
        ),
        "{nope}"
    );
    assert!(
        message("call error_return")
            .1
            .starts_with("the call failed (plugin_error): ")
    );
    assert!(
        message("time trap")
            .1
            .starts_with("the call failed (trap): ")
    );
    assert!(
        message("call spin").1.contains("300 ms timeout"),
        "{}",
        message("call spin").1
    );
}

#[test]
fn a_test_export_that_fails_is_a_failed_testcase_after_the_assertions_it_made() {
    let dir = tempfile::tempdir().unwrap();
    for (name, end, why) in [
        (
            "returns.wasm",
            Op::Return(1),
            "the test export failed (plugin_error): the function returned 1 without an error message",
        ),
        ("traps.wasm", Op::Trap, "the test export failed (trap): "),
    ] {
        let made = Op::Assert {
            name: "made before",
            passed: true,
            reason: "fine",
        };
        let plugin = test_plugin(dir.path(), name, &[Op::Reset, made, end]);
        let run = run_bin(&["test", "--xtp", p(&plugin), p(&sample("hello"))], b"");
        let text = stdout(&run);
        assert_eq!(run.status.code(), Some(1), "{name}: {text}");
        assert!(text.contains("  ok      made before ("), "{text}");
        assert!(text.contains("  FAILED  test ("), "{text}");
        assert!(text.contains(&format!("          {why}")), "{name}: {text}");
        assert!(
            text.ends_with("test result: FAILED. 1 passed; 1 failed\n"),
            "{text}"
        );
        let (_, report) = xtp_json(&[p(&plugin), p(&sample("hello"))]);
        assert_eq!(report["suites"][0]["test_export"]["ok"], false);
    }
}

#[test]
fn a_test_plugin_that_runs_too_long_is_stopped_by_test_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let test = test_plugin(dir.path(), "spins.wasm", &[Op::Spin]);
    let started = std::time::Instant::now();
    let (code, report) = xtp_json(&[p(&test), p(&sample("hello")), "--test-timeout", "300"]);
    assert_eq!(code, Some(1), "{report:#}");
    let error = &report["suites"][0]["test_export"]["error"];
    assert_eq!(error["kind"], "timeout", "{report:#}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(cases(&report)[0].1, "test");
}

#[test]
fn what_cannot_be_loaded_exits_2_saying_what_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wasm");
    let hello = sample("hello");
    let legacy = write_wat(
        dir.path(),
        "legacy.wasm",
        &test_plugin_wat(&[]).replace(
            r#""assert" (func $assert (param i64 i64 i64))"#,
            r#""assert" (func $assert (param i64 i64))"#,
        ),
    );
    for (args, file, says) in [
        (
            vec![p(&missing), p(&hello)],
            p(&missing),
            "does not exist; name the xtp-test plugin (.wasm) to run",
        ),
        (
            vec![p(&hello_test()), p(&missing)],
            p(&missing),
            "does not exist; name the plugin under test (a .wasm or Extism manifest) after the test plugin",
        ),
        (
            vec![p(&hello), p(&hello_test())],
            p(&hello),
            "hello.wasm exports no `test` function, so it is not an xtp-test plugin",
        ),
        (
            vec![p(&legacy), p(&hello)],
            p(&legacy),
            "xtp:test/harness::assert is imported as (i64, i64): the test plugin was built with an xtp-test library from before assertions carried a reason",
        ),
    ] {
        let mut all = vec!["test", "--xtp"];
        all.extend(args);
        let out = run_bin(&all, b"");
        let text = stdout(&out);
        assert_exit(&out, 2);
        assert!(
            text.contains(&format!("{file}: could not be loaded\n")),
            "{text}"
        );
        assert!(text.contains(says), "{says:?} in\n{text}");
        assert!(text.ends_with("1 file could not be loaded\n"), "{text}");
    }

    // A test plugin called as a plugin says what it is and how to run it.
    let out = run_bin(&["call", p(&hello_test()), "test"], b"");
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "xtp-hello-test.wasm is an xtp-test plugin (it imports xtp:test/harness): run it against the plugin it tests with `extism-playground test --xtp {} PLUGIN.wasm`",
            p(&hello_test())
        )),
        "{}",
        stderr(&out)
    );

    // The flags that set up a plugin under test mean nothing without --xtp.
    let out = run_bin(&["test", p(&hello), "--mock-host", p(&hello)], b"");
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("set up the plugin under test of an --xtp run"),
        "{}",
        stderr(&out)
    );
    // And --xtp takes none of the suite-only flags.
    let out = run_bin(
        &[
            "test",
            "--xtp",
            p(&hello_test()),
            p(&hello),
            "--filter",
            "x",
        ],
        b"",
    );
    assert_exit(&out, 2);
}

/// The plugin under test's own imports are satisfied as `call` satisfies them: a mock-host
/// plugin and `--host-fn` definitions (tenant-app imports its host's functions); an import
/// nothing defines stops the run before it starts, naming the flag that would define it.
#[test]
fn the_plugin_under_test_links_its_mock_host_and_host_functions() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = test_plugin(
        dir.path(),
        "tenant.wasm",
        &[Op::CallExpect {
            name: "greets a user the host knows",
            function: "greet_user",
            input: r#"{"user_id":"u-42"}"#,
            expect: "Hello, Ada! You are on the pro plan.",
        }],
    );
    let tenant = sample("tenant-app");
    let refused = run_bin(&["test", "--xtp", p(&plugin), p(&tenant)], b"");
    let text = stdout(&refused);
    assert_exit(&refused, 2);
    assert!(
        text.contains("tenant-app.wasm imports host functions nothing defines")
            && text.contains("define it with: --host-fn"),
        "{text}"
    );

    let mock = sample("mock-host");
    let price = format!(
        "acme:billing::price_cents->num=rhai:{}",
        p(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/samples/tenant-host.rhai"))
    );
    let (code, report) = xtp_json(&[
        p(&plugin),
        p(&tenant),
        "--mock-host",
        p(&mock),
        "--host-fn",
        &price,
    ]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(cases(&report).len(), 1);
    // What the mock host logged belongs to the run.
    let logs = report["suites"][0]["logs"].as_array().unwrap();
    assert!(
        logs.iter()
            .any(|l| l["message"].as_str().unwrap().contains("greeted u-42")),
        "{logs:?}"
    );
}

/// A test plugin written by others: xtp-test-go's backtest (`TinyGo`, needs WASI, exports
/// `test () -> ()`) drives its target, a `TinyGo` transform that keeps the running maximum price
/// in its instance, over rows of mock input (date, price, volume, expected maximum).
#[test]
fn a_tinygo_test_plugin_runs_against_its_target() {
    let backtest = crate::common::fixture("go-xtp-backtest");
    let target = crate::common::fixture("go-xtp-max-transform");
    let rows = fixture("xtp/backtest.csv");

    // Its target imports WASI: without it, it is named and so is the way to turn it on.
    let out = run_bin(&["test", "--xtp", p(&backtest), p(&target)], b"");
    assert_exit(&out, 2);
    assert!(stdout(&out).contains("WASI is off"), "{}", stdout(&out));

    let (code, report) = xtp_json(&[
        p(&backtest),
        p(&target),
        "--wasi",
        "--mock-input-file",
        p(&rows),
    ]);
    assert_eq!(code, Some(0), "{report:#}");
    let got = cases(&report);
    let lines = std::fs::read_to_string(&rows).unwrap().lines().count();
    assert_eq!(got.len(), lines, "{report:#}");
    assert!(
        got.iter()
            .all(|(group, _, passed, _)| { *passed && group.as_deref() == Some("series-1") })
    );
    // The running maximum: the fourth row's price is lower than the third's.
    assert_eq!(got[3].1, "max(..., 2.5000) = 2.7500");

    // Without mock input it has nothing to check, and says so.
    let out = run_bin(&["test", "--xtp", p(&backtest), p(&target), "--wasi"], b"");
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("note: go-xtp-backtest.wasm made no assertions"),
        "{}",
        stdout(&out)
    );
}

/// The plugin under test's host functions run with its settings, not the test plugin's: a
/// script reads the plugin under test's `--config`, and a script that never returns stops at
/// the plugin under test's `--timeout` (the test plugin has no time limit here), so the call
/// fails as a testcase and the run goes on.
#[test]
fn host_functions_of_the_plugin_under_test_use_its_config_and_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = test_plugin(
        dir.path(),
        "quotes.wasm",
        &[
            Op::CallExpect {
                name: "priced from the config",
                function: "quote",
                input: r#"{"sku":"pro-seat","quantity":3}"#,
                expect: r#"{"sku":"pro-seat","quantity":3,"total_cents":21}"#,
            },
            Op::CallExpect {
                name: "a runaway price",
                function: "quote",
                input: r#"{"sku":"forever","quantity":1}"#,
                expect: "",
            },
            Op::Assert {
                name: "still running",
                passed: true,
                reason: "",
            },
        ],
    );
    let script = dir.path().join("billing.rhai");
    std::fs::write(
        &script,
        r#"
fn price_cents(sku, quantity) {
    if sku.as_string() == "forever" { loop { } }
    parse_int(config("unit_cents")) * quantity
}
fn audit(message) { }
"#,
    )
    .unwrap();
    let price = format!("acme:billing::price_cents->num=rhai:{}", p(&script));
    let audit = format!("acme:tenant::audit=rhai:{}", p(&script));
    let (code, report) = xtp_json(&[
        p(&plugin),
        p(&sample("tenant-app")),
        "--mock-host",
        p(&sample("mock-host")),
        "--host-fn",
        &price,
        "--host-fn",
        &audit,
        "--config",
        "unit_cents=7",
        "--timeout",
        "300",
    ]);
    assert_eq!(code, Some(1), "{report:#}");
    let got = cases(&report);
    let by_name = |name: &str| {
        got.iter()
            .find(|(_, n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no case {name}: {report:#}"))
    };
    assert!(by_name("priced from the config").2, "{report:#}");
    let failed_call = by_name("call quote");
    assert!(!failed_call.2);
    assert!(
        failed_call.3.contains("timed out") || failed_call.3.contains("timeout"),
        "{report:#}"
    );
    assert!(by_name("still running").2, "{report:#}");
}
