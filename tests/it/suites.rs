//! Test suites and multi-step scenarios, through the binary as CI runs them: every expect kind,
//! state across steps (vars, instance state of a third-party MCP plugin, the host's kv store),
//! broken suites, shards, JUnit, `--plugin`, consent, bundles as suites, and `replay` of
//! scenarios.

use crate::common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::common::{assert_exit, p, run_bin, sample, stderr, stdout, stdout_json};
use proptest::prelude::*;

/// Writes `text` to `dir/name` and returns the path.
/// Writes the suite `name` in `dir`. A plugin the suite header names by its absolute path
/// (see [`suite_header`]) is copied beside it and named by its file name: a plugin outside a
/// suite's folder is a grant that needs consent, which these tests are not about.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut text = text.to_string();
    if let Some(line) = text.lines().find(|l| l.starts_with("wasm = \"/")) {
        let named: String = serde_json::from_str(line.trim_start_matches("wasm = ")).unwrap();
        let module = Path::new(&named);
        let beside = path.parent().unwrap().join(module.file_name().unwrap());
        std::fs::copy(module, &beside).unwrap();
        let file_name = module.file_name().unwrap().to_str().unwrap();
        text = text.replace(line, &format!("wasm = {file_name:?}"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `test` with `args` and `--json`; returns the exit code and the parsed report.
fn test_json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["test", "--json"];
    all.extend_from_slice(args);
    let out = run_bin(&all, b"");
    (out.status.code(), stdout_json(&out))
}

/// `name -> passed` of every test in a JSON report.
fn verdicts(report: &serde_json::Value) -> Vec<(String, bool)> {
    report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["tests"].as_array().unwrap().iter())
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["passed"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn suite_header(wasm: &Path) -> String {
    format!("[plugin]\nwasm = {:?}\n", wasm.display().to_string())
}

const HELLO_EXPECTATIONS: &str = r#"
[plugin]
wasm = "hello.wasm"
config = { vowels = "aeiouy" }

[[test]]
name = "exact output"
  [[test.step]]
  call = "greet"
  input = "Ada"
  expect_output = "Hello, Ada!"

[[test]]
name = "input from a file"
  [[test.step]]
  call = "greet"
  input_file = "name.txt"
  expect_output = "Hello, file input!"

[[test]]
name = "json ignores key order"
  [[test.step]]
  call = "count_vowels"
  input = "yay"
  expect_json = '{"vowels": "aeiouy", "total": 3, "count": 3}'

[[test]]
name = "json as a table"
  [[test.step]]
  call = "count_vowels"
  input = "a"
  expect_json = { count = 1, total = 1, vowels = "aeiouy" }

[[test]]
name = "regex"
  [[test.step]]
  call = "greet"
  input = "Grace"
  expect_match = "^Hello, G.+!$"

[[test]]
name = "no expectation passes when the call succeeds"
  [[test.step]]
  call = "greet"

[[test]]
name = "wrong output"
  [[test.step]]
  call = "greet"
  input = "Ada"
  expect_output = "Hello, Bob!"

[[test]]
name = "wrong json"
  [[test.step]]
  call = "count_vowels"
  input = "yay"
  expect_json = '{"count": 2, "total": 3, "vowels": "aeiouy"}'

[[test]]
name = "no match"
  [[test.step]]
  call = "greet"
  input = "Ada"
  expect_match = "Goodbye"

[[test]]
name = "expects an error, gets an output"
  [[test.step]]
  call = "greet"
  expect_error = "trap"
"#;

const CHAOS_EXPECTATIONS: &str = r#"
[plugin]
wasm = "chaos.wasm"
timeout_ms = 300

[[test]]
name = "error kind"
  [[test.step]]
  call = "trap"
  expect_error = "trap"

[[test]]
name = "timeout"
  [[test.step]]
  call = "spin"
  expect_error = "timeout"

[[test]]
name = "error message"
  [[test.step]]
  call = "error_return"
  expect_error_match = "(?i)error"

[[test]]
name = "error kind and message"
  [[test.step]]
  call = "error_return"
  expect_error = "plugin_error"
  expect_error_match = "^this message matches nothing$"

[[test]]
name = "an unexpected error fails"
  [[test.step]]
  call = "trap"
"#;

#[test]
fn every_expect_kind_passes_when_met_and_fails_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample("hello"), dir.path().join("hello.wasm")).unwrap();
    std::fs::copy(sample("chaos"), dir.path().join("chaos.wasm")).unwrap();
    write(dir.path(), "name.txt", "file input");
    let hello_suite = write(dir.path(), "hello.toml", HELLO_EXPECTATIONS);
    let chaos_suite = write(dir.path(), "chaos.toml", CHAOS_EXPECTATIONS);
    let (code, report) = test_json(&[p(&hello_suite), p(&chaos_suite)]);
    assert_eq!(code, Some(1), "{report:#}");
    let got: Vec<(String, bool)> = verdicts(&report);
    let want = [
        ("exact output", true),
        ("input from a file", true),
        ("json ignores key order", true),
        ("json as a table", true),
        ("regex", true),
        ("no expectation passes when the call succeeds", true),
        ("wrong output", false),
        ("wrong json", false),
        ("no match", false),
        ("expects an error, gets an output", false),
        ("error kind", true),
        ("timeout", true),
        ("error message", true),
        ("error kind and message", false),
        ("an unexpected error fails", false),
    ];
    let want: Vec<(String, bool)> = want.iter().map(|(n, ok)| ((*n).to_string(), *ok)).collect();
    assert_eq!(got, want);
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(9), Some(6))
    );

    // The text report says which step, what was expected and what came, with a diff.
    let out = run_bin(&["test", p(&hello_suite), "--jobs", "1"], b"");
    let text = stdout(&out);
    assert_exit(&out, 1);
    assert!(text.contains("  ok      exact output ("), "{text}");
    assert!(text.contains("  FAILED  wrong output ("), "{text}");
    assert!(
        text.contains("step 1 of 1 (greet): the output differs from the expected output:"),
        "{text}"
    );
    assert!(
        text.contains("-Hello, Bob!") && text.contains("+Hello, Ada!"),
        "{text}"
    );
    assert!(
        text.contains("-  \"count\": 2,") && text.contains("+  \"count\": 3,"),
        "{text}"
    );
    assert!(
        text.contains("the output has no match for /Goodbye/; it was:"),
        "{text}"
    );
    assert!(
        text.contains("expected a trap error, got an output of 8 bytes"),
        "{text}"
    );
    assert!(
        text.contains("test result: FAILED. 6 passed; 4 failed"),
        "{text}"
    );
}

#[test]
fn steps_share_an_instance_and_each_test_starts_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let suite = format!(
        r#"{}
[[test]]
name = "a running total across steps"
  [[test.step]]
  call = "count_vowels"
  input = "aaa"
  expect_match = '"total":3'
  [[test.step]]
  call = "count_vowels"
  input = "bbba"
  expect_match = '"count":1,"total":4'

[[test]]
name = "the next test starts from zero"
  [[test.step]]
  call = "count_vowels"
  input = "a"
  expect_match = '"total":1'

[[test]]
name = "fresh instance per step"
fresh_instance = true
  [[test.step]]
  call = "count_vowels"
  input = "aa"
  expect_match = '"total":2'
  [[test.step]]
  call = "count_vowels"
  input = "a"
  expect_match = '"total":1'
"#,
        suite_header(&sample("hello"))
    );
    let path = write(dir.path(), "state.toml", &suite);
    for jobs in ["1", "3"] {
        let (code, report) = test_json(&[p(&path), "--jobs", jobs]);
        assert_eq!(code, Some(0), "jobs {jobs}: {report:#}");
        assert!(verdicts(&report).iter().all(|(_, ok)| *ok));
    }
}

/// A public MCP plugin (hyper-mcp's tool-list-changed example, Rust) keeps the tools it adds in
/// its instance and tells its host through an imported function: the case the suite format was
/// written for.
#[test]
fn a_third_party_mcp_plugin_adds_tools_across_steps() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture("rust-hypermcp-tool-list-changed"),
        dir.path().join("plugin.wasm"),
    )
    .unwrap();
    write(
        dir.path(),
        "case2.json",
        r#"{"params":{"name":"add_tool","arguments":{}}}"#,
    );
    let suite = r#"
[plugin]
wasm = "plugin.wasm"
host_functions = { "notify_tool_list_changed" = "value:", "host::to_upper" = "value:x" }

[[test]]
name = "adding two tools"
fresh_instance = false
  [[test.step]]
  call = "call"
  input = '{"params":{"name":"add_tool","arguments":{}}}'
  expect_output = '{"content":[{"text":"{\"message\":\"Successfully added tool_1\",\"tool_count\":1}","type":"text"}],"isError":false}'
  [[test.step]]
  call = "call"
  input_file = "case2.json"
  expect_json = '{"isError": false, "content": [{"type": "text", "text": "{\"message\":\"Successfully added tool_2\",\"tool_count\":2}"}]}'
  [[test.step]]
  call = "describe"
  expect_match = 'tool_2'
  [[test.step]]
  call = "call"
  input = '{"params":{"name":"tool_1","arguments":{}}}'
  expect_match = 'Called dynamically created tool: tool_1'

[[test]]
name = "a new test has no tools yet"
  [[test.step]]
  call = "describe"
  expect_match = 'add_tool'
  [[test.step]]
  call = "call"
  input = '{"params":{"name":"add_tool","arguments":{}}}'
  expect_match = 'tool_count\\":1'
"#;
    let path = write(dir.path(), "mcp.toml", suite);
    let out = run_bin(&["test", p(&path)], b"");
    let text = stdout(&out);
    assert_exit(&out, 0);
    assert!(text.contains("ok      adding two tools"), "{text}");
    // The definition for a function this plugin does not import is ignored, and said so.
    assert!(text.contains("they are ignored: host::to_upper"), "{text}");

    // Without a definition for its import, the suite cannot load: exit 2, saying what to add.
    let bare = write(
        dir.path(),
        "bare.toml",
        &suite.replace(
            "host_functions = { \"notify_tool_list_changed\" = \"value:\", \"host::to_upper\" = \"value:x\" }\n",
            "",
        ),
    );
    let out = run_bin(&["test", p(&bare)], b"");
    let text = stdout(&out);
    assert_exit(&out, 2);
    assert!(text.contains("bare.toml: could not be loaded"), "{text}");
    assert!(text.contains("plugin.host_functions"), "{text}");
    assert!(
        text.contains(r#"host_functions = { "notify_tool_list_changed" = "value:" }"#),
        "{text}"
    );
}

#[test]
fn the_kv_store_carries_across_steps_and_each_test_starts_from_the_suites() {
    let dir = tempfile::tempdir().unwrap();
    let suite = format!(
        r#"{}kv = {{ greeting = "hello" }}

[[test]]
name = "writes are seen by the next step"
  [[test.step]]
  call = "kv_roundtrip"
  input = '{{"key": "greeting", "value": "hi"}}'
  expect_json = '{{"key": "greeting", "previous": "hello", "value": "hi"}}'
  [[test.step]]
  call = "kv_roundtrip"
  input = '{{"key": "greeting", "value": "hey"}}'
  expect_json = '{{"key": "greeting", "previous": "hi", "value": "hey"}}'

[[test]]
name = "the next test starts from the suite's kv"
  [[test.step]]
  call = "kv_roundtrip"
  input = '{{"key": "greeting", "value": "yo"}}'
  expect_match = '"previous":"hello"'
"#,
        suite_header(&sample("host-demo"))
    );
    let path = write(dir.path(), "kv.toml", &suite);
    let (code, report) = test_json(&[p(&path), "--jobs", "1"]);
    assert_eq!(code, Some(0), "{report:#}");
}

#[test]
fn broken_suites_are_explained_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.toml",
        &format!(
            "{}\n[[test]]\nname = \"greets\"\n[[test.step]]\ncall = \"greet\"\ninput = \"x\"\nexpect_output = \"Hello, x!\"\n",
            suite_header(&sample("hello"))
        ),
    );
    let hello = suite_header(&sample("hello"));
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "bad-toml.toml",
            format!("{hello}\n[[test]\nname = \"x\"\n"),
            vec!["bad-toml.toml is not a valid suite", "line 4"],
        ),
        (
            "unknown-key.toml",
            format!("{hello}timeout = 5\n[[test]]\nname = \"x\"\n[[test.step]]\ncall = \"greet\"\n"),
            vec!["unknown field `timeout`", "timeout_ms", "line 3"],
        ),
        (
            "missing-wasm.toml",
            "[plugin]\nwasm = \"nowhere.wasm\"\n[[test]]\nname = \"x\"\n[[test.step]]\ncall = \"greet\"\n".to_string(),
            vec!["plugin.wasm", "nowhere.wasm does not exist", "relative to the suite file"],
        ),
        (
            "missing-input.toml",
            format!("{hello}[[test]]\nname = \"x\"\n[[test.step]]\ncall = \"greet\"\ninput_file = \"gone.json\"\n"),
            vec!["test[0] (\"x\").step[0].input_file", "gone.json"],
        ),
        (
            "bad-regex.toml",
            format!("{hello}[[test]]\nname = \"x\"\n[[test.step]]\ncall = \"greet\"\nexpect_match = \"(\"\n"),
            vec!["expect_match", "not a valid regular expression"],
        ),
        (
            "bad-kind.toml",
            format!("{hello}[[test]]\nname = \"x\"\n[[test.step]]\ncall = \"greet\"\nexpect_error = \"explosion\"\n"),
            vec!["unknown variant `explosion`", "timeout"],
        ),
        (
            "needs-wasi.toml",
            format!(
                "{}[[test]]\nname = \"x\"\n[[test.step]]\ncall = \"count_vowels\"\n",
                suite_header(&common::fixture("c-count-vowels-hostfn"))
            ),
            vec!["plugin.wasi", "set wasi = true in [plugin]"],
        ),
        (
            "no-steps.toml",
            format!("{hello}[[test]]\nname = \"x\"\n"),
            vec!["has no steps", "[[test.step]]"],
        ),
    ];
    for (name, text, needles) in &cases {
        let broken = write(dir.path(), name, text);
        let out = run_bin(&["test", p(&good), p(&broken)], b"");
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {text}");
        assert!(
            text.contains("ok      greets"),
            "{name}: the good suite still ran: {text}"
        );
        assert!(
            text.contains(&format!("{name}: could not be loaded")),
            "{text}"
        );
        for needle in needles {
            assert!(text.contains(needle), "{name}: {needle:?} in {text}");
        }
    }
    // A path that is not there, and a folder with no suites.
    let empty = tempfile::tempdir().unwrap();
    write(empty.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    let out = run_bin(&["test", "/no/such/suite.toml", p(empty.path())], b"");
    let text = stdout(&out);
    assert_exit(&out, 2);
    assert!(
        text.contains("/no/such/suite.toml does not exist"),
        "{text}"
    );
    assert!(text.contains("holds no test suites"), "{text}");
}

#[test]
fn folders_run_their_suites_and_bundles_and_skip_other_toml() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Cargo.toml", "[package]\nname = \"plugin\"\n");
    write(
        dir.path(),
        "manifest.json",
        &format!(r#"{{"wasm": [{{"path": {:?}}}]}}"#, p(&sample("hello"))),
    );
    let nested = dir.path().join("more");
    std::fs::create_dir(&nested).unwrap();
    write(
        &nested,
        "suite.toml",
        &format!(
            "{}[[test]]\nname = \"from the folder\"\n[[test.step]]\ncall = \"greet\"\ninput = \"y\"\nexpect_output = \"Hello, y!\"\n",
            suite_header(&sample("hello"))
        ),
    );
    let bundle = nested.join("case.bundle.json");
    let out = run_bin(
        &[
            "call",
            p(&sample("hello")),
            "greet",
            "-i",
            "z",
            "--save-bundle",
            p(&bundle),
        ],
        b"",
    );
    assert_exit(&out, 0);
    let (code, report) = test_json(&[p(dir.path())]);
    assert_eq!(code, Some(0), "{report:#}");
    let names: Vec<String> = verdicts(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["case.bundle.json", "from the folder"]);
}

#[test]
fn shards_cover_every_test_exactly_once_and_filters_narrow() {
    let dir = tempfile::tempdir().unwrap();
    let mut suite = suite_header(&sample("hello"));
    for i in 0..11 {
        let _ = write!(
            suite,
            "[[test]]\nname = \"greets {i}\"\n[[test.step]]\ncall = \"greet\"\ninput = \"{i}\"\nexpect_output = \"Hello, {i}!\"\n"
        );
    }
    let a = write(dir.path(), "a.toml", &suite);
    let b = write(dir.path(), "b.toml", &suite.replace("greets", "welcomes"));
    let mut seen: Vec<String> = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let (code, report) = test_json(&[p(&a), p(&b), "--shard", &shard, "--jobs", "2"]);
        assert_eq!(code, Some(0), "{report:#}");
        let names: Vec<String> = verdicts(&report).into_iter().map(|(n, _)| n).collect();
        assert!(names.len() == 7 || names.len() == 8, "{shard}: {names:?}");
        seen.extend(names);
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), 22, "no test ran twice: {seen:?}");
    assert_eq!(unique.len(), 22, "every test ran once");

    let (_, report) = test_json(&[p(&a), p(&b), "--filter", "welcomes 1"]);
    let names: Vec<String> = verdicts(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["welcomes 1", "welcomes 10"]);

    for bad in ["0/3", "4/3", "x"] {
        let out = run_bin(&["test", p(&a), "--shard", bad], b"");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("K/N"), "{}", stderr(&out));
    }
}

#[test]
fn junit_output_parses_with_one_testsuite_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = format!(
        "{}[[test]]\nname = \"passes\"\n[[test.step]]\ncall = \"greet\"\ninput = \"a\"\nexpect_output = \"Hello, a!\"\n[[test]]\nname = \"fails <&>\"\n[[test.step]]\ncall = \"greet\"\ninput = \"a\"\nexpect_output = \"Hello, b!\"\n",
        suite_header(&sample("hello"))
    );
    let path = write(dir.path(), "greet.toml", &suite);
    let broken = write(dir.path(), "broken.toml", "[plugin]\nwasm = 3\n");
    let xml = dir.path().join("report.xml");
    let out = run_bin(&["test", p(&path), p(&broken), "--junit", p(&xml)], b"");
    assert_exit(&out, 2);
    let text = std::fs::read_to_string(&xml).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&text).unwrap();
    assert_eq!(report.test_suites.len(), 2, "{text}");
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), p(&path));
    assert_eq!((suite.tests, suite.failures, suite.errors), (2, 1, 0));
    let failed = &suite.test_cases[1];
    assert_eq!(failed.name.as_str(), "fails <&>");
    let quick_junit::TestCaseStatus::NonSuccess { description, .. } = &failed.status else {
        panic!("the failing test is a failure: {text}");
    };
    let description = description.as_ref().unwrap().as_str();
    assert!(
        description.contains("\n-Hello, b!\n") && description.contains("\n+Hello, a!\n"),
        "{description}"
    );
    let load = &report.test_suites[1];
    assert_eq!((load.tests, load.errors), (1, 1), "{text}");
}

/// `--plugin` runs a suite against another build: here a C plugin (c-pdk) that counts vowels
/// too and imports a host function the suite defines for it (ignored for hello, which does not
/// import it).
#[test]
fn a_suite_runs_against_another_build_with_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let suite = format!(
        r#"{}wasi = true
host_functions = {{ "hello_world" = "template:{{0}}" }}

[[test]]
name = "counts vowels"
  [[test.step]]
  call = "count_vowels"
  input = "hello world"
  expect_match = '"count": ?3'
"#,
        suite_header(&sample("hello"))
    );
    let path = write(dir.path(), "vowels.toml", &suite);
    let out = run_bin(&["test", p(&path)], b"");
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("they are ignored: hello_world"),
        "{}",
        stdout(&out)
    );
    let c = common::fixture("c-count-vowels-hostfn");
    let out = run_bin(&["test", p(&path), "--plugin", p(&c)], b"");
    let text = stdout(&out);
    assert_exit(&out, 0);
    assert!(text.contains("(c-count-vowels-hostfn.wasm)"), "{text}");
    assert!(!text.contains("ignored"), "{text}");
}

#[test]
fn a_suite_granting_access_needs_trust() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let suite = format!(
        "{}allow_hosts = [\"127.0.0.1\"]\nallow_paths = [\"ro:{}:/data\"]\n[[test]]\nname = \"greets\"\n[[test.step]]\ncall = \"greet\"\ninput = \"t\"\nexpect_output = \"Hello, t!\"\n",
        suite_header(&sample("hello")),
        outside.path().display()
    );
    let path = write(dir.path(), "grants.toml", &suite);
    let out = common::bin().args(["test", p(&path)]).output().unwrap();
    let text = stdout(&out);
    assert_exit(&out, 2);
    assert!(
        text.contains("grants its plugin access that needs your consent"),
        "{text}"
    );
    assert!(
        text.contains("127.0.0.1") && text.contains("--trust"),
        "{text}"
    );
    for flag in ["--trust", "--no-grants"] {
        let out = common::bin()
            .args(["test", p(&path), flag])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", stdout(&out));
    }
    // A read-only subfolder of the suite's own folder, with no hosts, needs nothing.
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let local = write(
        dir.path(),
        "local.toml",
        &suite
            .replace("allow_hosts = [\"127.0.0.1\"]\n", "")
            .replace(&outside.path().display().to_string(), "data"),
    );
    let out = common::bin().args(["test", p(&local)]).output().unwrap();
    assert_exit(&out, 0);
}

/// Saves a one-call bundle of `count_vowels` on hello and returns its path and JSON.
fn saved_bundle(dir: &Path) -> (PathBuf, serde_json::Value) {
    let path = dir.join("case.bundle.json");
    let out = run_bin(
        &[
            "call",
            p(&sample("hello")),
            "count_vowels",
            "-i",
            "aaa",
            "--save-bundle",
            p(&path),
        ],
        b"",
    );
    assert_exit(&out, 0);
    let json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, json)
}

#[test]
fn replay_runs_every_step_and_names_the_first_that_differs() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut json) = saved_bundle(dir.path());
    assert_eq!(json["version"], 3);
    assert_eq!(json["steps"].as_array().unwrap().len(), 1);
    let step = |input: &str, total: u32| {
        serde_json::json!({
            "function": "count_vowels",
            "input": {"text": input},
            "expected": {"output_match": format!("\"total\":{total}")}
        })
    };
    json["steps"] = serde_json::json!([step("aaa", 3), step("a", 4), step("ee", 6)]);
    let scenario = dir.path().join("scenario.json");
    std::fs::write(&scenario, json.to_string()).unwrap();
    // Written by hand here, not saved by the app: it asks nothing, so it opens without consent.
    let out = run_bin(&["replay", p(&scenario)], b"");
    let text = stdout(&out);
    assert_exit(&out, 0);
    assert!(
        text.contains("step 3 of 3 (count_vowels):\nmatch"),
        "{text}"
    );
    assert!(text.contains("all 3 steps match"), "{text}");

    // A fresh instance per step breaks the running total from step 2 on.
    json["keep_state"] = false.into();
    std::fs::write(&scenario, json.to_string()).unwrap();
    let out = run_bin(&["replay", p(&scenario)], b"");
    let text = stdout(&out);
    assert_exit(&out, 1);
    assert!(
        text.contains("1 of 3 steps match; the first that differs is step 2 (count_vowels)"),
        "{text}"
    );
    let out = run_bin(&["replay", p(&scenario), "--json"], b"");
    let result = stdout_json(&out);
    assert_eq!(result["matched"], false);
    let matched: Vec<bool> = result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["matched"].as_bool().unwrap())
        .collect();
    assert_eq!(
        matched,
        [true, false, false],
        "every step ran and was reported"
    );
    assert!(
        result["mismatch"]
            .as_str()
            .unwrap()
            .contains("has no match for /\"total\":4/")
    );

    // A step naming a function the plugin does not export: the bundle cannot be replayed as
    // written, so nothing runs (exit 2), and the message names the step and what is exported.
    json["steps"][2]["function"] = "count_vowel".into();
    std::fs::write(&scenario, json.to_string()).unwrap();
    let out = run_bin(&["replay", p(&scenario)], b"");
    assert_exit(&out, 2);
    assert_eq!(stdout(&out), "", "no step ran");
    let error = stderr(&out);
    assert!(
        error.starts_with("error: step 3 of 3: ")
            && error.contains("count_vowel")
            && error.contains("count_vowels"),
        "{error}"
    );
}

#[test]
fn single_call_bundles_of_versions_1_and_2_load_as_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let (_, json) = saved_bundle(dir.path());
    let step = json["steps"][0].clone();
    for version in [1, 2] {
        let mut old = json.clone();
        let map = old.as_object_mut().unwrap();
        map.remove("steps");
        map.insert("version".into(), version.into());
        map.insert("function".into(), step["function"].clone());
        map.insert("input".into(), step["input"].clone());
        map.insert("expected".into(), step["expected"].clone());
        let path = dir.path().join(format!("v{version}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&old).unwrap()).unwrap();
        let out = run_bin(&["replay", p(&path)], b"");
        assert_eq!(out.status.code(), Some(0), "v{version}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "match: count_vowels produced the expected output (43 bytes)\n"
        );
        let scenario = extism_playground::bundle::load(&path).unwrap();
        assert_eq!(scenario.steps.len(), 1);
        // And as a suite of one test.
        let (code, report) = test_json(&[p(&path)]);
        assert_eq!(code, Some(0), "{report:#}");
    }
    // Both shapes at once is refused, saying which to keep.
    let mut both = json.clone();
    both["function"] = "greet".into();
    let path = dir.path().join("both.json");
    std::fs::write(&path, both.to_string()).unwrap();
    let out = run_bin(&["replay", p(&path)], b"");
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("keep \"steps\""), "{}", stderr(&out));
}

#[test]
fn limits_and_scripted_host_functions_hold_in_a_suite() {
    let dir = tempfile::tempdir().unwrap();
    let assets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/samples");
    for file in [
        "chaos.wasm",
        "tenant-app.wasm",
        "mock-host.wasm",
        "tenant-host.rhai",
    ] {
        std::fs::copy(assets.join(file), dir.path().join(file)).unwrap();
    }
    let limits = write(
        dir.path(),
        "limits.toml",
        r#"
[plugin]
wasm = "chaos.wasm"
memory_max = 32
fuel = 100000

[[test]]
name = "1 MiB fits in 32 pages"
  [[test.step]]
  call = "alloc"
  input = "1"
  expect_output = "allocated 1 MiB"

[[test]]
name = "8 MiB does not"
  [[test.step]]
  call = "alloc"
  input = "8"
  expect_error = "out_of_memory"

[[test]]
name = "spinning runs out of fuel"
  [[test.step]]
  call = "spin"
  expect_error = "out_of_fuel"
"#,
    );
    let tenant = write(
        dir.path(),
        "tenant.toml",
        r#"
[plugin]
wasm = "tenant-app.wasm"
host_functions = { "acme:billing::price_cents->num" = "rhai:tenant-host.rhai", "acme:tenant::audit" = "rhai:tenant-host.rhai", "acme:tenant::get_user" = "wasm:mock-host.wasm" }

[[test]]
name = "the scripted host prices with its volume discount"
  [[test.step]]
  call = "quote"
  input = '{"sku": "pro-seat", "quantity": 3}'
  expect_json = '{"sku": "pro-seat", "quantity": 3, "total_cents": 3600}'
  [[test.step]]
  call = "quote"
  input = '{"sku": "team-seat", "quantity": 10}'
  expect_json = '{"sku": "team-seat", "quantity": 10, "total_cents": 8100}'

[[test]]
name = "a script's error is the host function's"
  [[test.step]]
  call = "quote"
  input = '{"sku": "gold-seat", "quantity": 1}'
  expect_error = "host_function"
  expect_error_match = "unknown sku gold-seat"
"#,
    );
    let (code, report) = test_json(&[p(&limits), p(&tenant)]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(
        verdicts(&report),
        [
            ("1 MiB fits in 32 pages".to_string(), true),
            ("8 MiB does not".to_string(), true),
            ("spinning runs out of fuel".to_string(), true),
            (
                "the scripted host prices with its volume discount".to_string(),
                true
            ),
            ("a script's error is the host function's".to_string(), true),
        ]
    );

    // One page less than the 1 MiB allocation needs and the first test fails, naming the limit.
    let tight = write(
        dir.path(),
        "tight.toml",
        &std::fs::read_to_string(&limits)
            .unwrap()
            .replace("memory_max = 32", "memory_max = 17"),
    );
    let out = run_bin(&["test", p(&tight), "--filter", "1 MiB"], b"");
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("limit of 17 pages"),
        "{}",
        stdout(&out)
    );
}

/// A folder holding what generated suites name (a plugin, an input file, a Rhai script), so the
/// property below reaches past the file checks into options, host functions and steps.
fn fuzz_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(sample("hello"), dir.path().join("plugin.wasm")).unwrap();
        std::fs::write(dir.path().join("in.json"), "{}").unwrap();
        std::fs::write(dir.path().join("mock.rhai"), "fn f(x) { x }").unwrap();
        dir
    })
    .path()
}

/// A TOML value of any shape a suite key might be given, right or wrong.
fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\"[a-z.:/{}()\\[\\]*]{0,12}\"",
        "'[{}\":a-z0-9]{0,12}'",
        "-?[0-9]{1,12}",
        Just("true".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        "\\[\"[a-z:/.]{0,8}\"\\]",
        "\\{ a = \"[a-z:]{0,6}\" \\}",
        "\"(in.json|plugin.wasm|mock.rhai|missing|\\.\\./x)\"",
    ]
}

/// `[plugin]` keys with values that are often right.
fn plugin_entry() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        3 => Just(("wasm".to_string(), "\"plugin.wasm\"".to_string())),
        3 => "(wasi|memory_max|timeout_ms|fuel|var_max|http_response_max)".prop_map(|k| (k, "4".to_string())),
        3 => Just(("wasi".to_string(), "true".to_string())),
        3 => Just(("config".to_string(), "{ vowels = \"aeiouy\" }".to_string())),
        3 => "\\[\"(ro:)?(\\.|/tmp|in.json|missing)(:/data)?\"\\]".prop_map(|v| ("allow_paths".to_string(), v)),
        3 => Just(("allow_hosts".to_string(), "[\"127.0.0.1\"]".to_string())),
        3 => "\\{ \"(f|x::f|f\\(num\\)->num|acme:tenant::f)\" = \"(value:|rhai:mock.rhai|rhai:missing|template:\\{0\\}|kv-get|fail:no|wasm:plugin.wasm|bogus)\" \\}"
            .prop_map(|v| ("host_functions".to_string(), v)),
        3 => Just(("kv".to_string(), "{ k = \"v\" }".to_string())),
        1 => "(wasm|wasi|config|allow_paths|allow_hosts|memory_max|timeout_ms|fuel|host_functions|kv|secrets|nonsense)"
            .prop_flat_map(|k| any_value().prop_map(move |v| (k.clone(), v))),
    ]
}

/// `[[test.step]]` keys with values that are often right.
fn step_entry() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        3 => "\"(count_vowels|greet|missing)\"".prop_map(|v| ("call".to_string(), v)),
        3 => "\"[a-z ]{0,8}\"".prop_map(|v| ("input".to_string(), v)),
        3 => "\"(in.json|missing)\"".prop_map(|v| ("input_file".to_string(), v)),
        3 => "'[{}\":a-z0-9]{0,12}'".prop_map(|v| ("expect_json".to_string(), v)),
        3 => "\"(timeout|trap|plugin_error|load|nonsense)\"".prop_map(|v| ("expect_error".to_string(), v)),
        3 => "\"[a-z(*+\\[]{0,6}\"".prop_map(|v| ("expect_match".to_string(), v)),
        3 => "\"[a-z(*+\\[]{0,6}\"".prop_map(|v| ("expect_error_match".to_string(), v)),
        3 => "\"[a-z]{0,6}\"".prop_map(|v| ("expect_output".to_string(), v)),
        1 => "(call|input|input_file|expect_output|expect_json|expect_match|expect_error|expect_error_match|nonsense)"
            .prop_flat_map(|k| any_value().prop_map(move |v| (k.clone(), v))),
    ]
}

/// A suite's text: mostly well-formed TOML whose keys and values are right or wrong in every
/// combination, now and then broken by a line of anything.
fn suite_text() -> impl Strategy<Value = String> {
    let test = (
        proptest::option::weighted(0.9, "\"[a-z ]{0,6}\""),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(proptest::collection::vec(step_entry(), 0..4), 1..3),
    );
    (
        proptest::collection::vec(plugin_entry(), 0..7),
        proptest::collection::vec(test, 0..4),
        proptest::option::weighted(0.15, ("[0-9]{1,2}", "[ -~]{0,30}")),
    )
        .prop_map(|(plugin, tests, noise)| {
            // Each table starts from its required key; later entries win, so each key appears
            // once (TOML refuses duplicates).
            let table = |first: (&str, &str), entries: Vec<(String, String)>| {
                let mut map =
                    std::collections::BTreeMap::from([(first.0.to_string(), first.1.to_string())]);
                map.extend(entries);
                map.into_iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
            };
            let mut lines = vec!["[plugin]".to_string()];
            lines.extend(table(("wasm", "\"plugin.wasm\""), plugin));
            for (name, fresh, steps) in tests {
                lines.push("[[test]]".to_string());
                lines.extend(name.map(|n| format!("name = {n}")));
                lines.extend(fresh.map(|f| format!("fresh_instance = {f}")));
                for step in steps {
                    lines.push("[[test.step]]".to_string());
                    lines.extend(table(("call", "\"count_vowels\""), step));
                }
            }
            if let Some((at, line)) = noise {
                let at = at.parse::<usize>().unwrap_or(0).min(lines.len());
                lines.insert(at, line);
            }
            lines.join("\n")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever a suite file holds, loading it reports an error or a suite: it never panics.
    /// The files are mostly suites of a real plugin, so the loader gets as far as options,
    /// host functions, consent and steps.
    #[test]
    fn the_suite_loader_never_panics(
        text in suite_text(),
        consent in prop_oneof![
            Just(extism_playground::suite::file::Consent::Ask),
            Just(extism_playground::suite::file::Consent::Trust),
            Just(extism_playground::suite::file::Consent::WithoutGrants),
        ],
    ) {
        let path = fuzz_dir().join("never-panics.toml");
        if let Ok(file) = extism_playground::suite::file::parse(&text, &path) {
            let _ = extism_playground::suite::file::resolve(
                &file,
                &path,
                "0000",
                &extism_playground::suite::file::LoadOptions {
                    plugin: None,
                    consent,
                    redirects: Vec::new(),
                    registry: extism_playground::registry::Settings::default(),
                },
            );
        }
    }
}

#[test]
fn the_fuzzed_suites_start_from_one_that_loads() {
    // The property above is only as deep as its head: that head alone loads.
    let path = fuzz_dir().join("head.toml");
    let text = "[plugin]\nwasm = \"plugin.wasm\"\nhost_functions = { \"f\" = \"rhai:mock.rhai\" }\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"count_vowels\"\ninput_file = \"in.json\"\n";
    let file = extism_playground::suite::file::parse(text, &path).unwrap();
    let suite = extism_playground::suite::file::resolve(
        &file,
        &path,
        "0000",
        &extism_playground::suite::file::LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(suite.tests.len(), 1);
    assert_eq!(
        suite.ignored_host_functions.len(),
        1,
        "f is not imported by hello"
    );
}
