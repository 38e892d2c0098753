//! Repro bundles: save from the CLI and replay with exact exit codes, verdicts and diffs,
//! tampered and corrupt files, atomic saves, round trips of the format, and the exported host
//! code.

use crate::common;

use std::path::{Path, PathBuf};

use crate::common::{assert_exit, p, run_bin, run_json, sample, stderr, stdout};
use extism_playground::bundle::{
    self, Bundle, BundleError, ExpectedOutcome, InputMode, Scenario, Step, Verdict,
};
use extism_playground::runner::{
    AllowedPath, CallReport, ErrorKind, HostData, HostRegistry, Inspection, LoadedPlugin,
    SandboxOptions,
};

fn s(name: &str) -> String {
    sample(name).display().to_string()
}

/// Saves a bundle of a call through the CLI.
fn saved(dir: &Path, args: &[&str]) -> PathBuf {
    let path = dir.join("case.bundle.json");
    let mut all: Vec<&str> = vec!["call"];
    all.extend(args);
    all.extend(["--save-bundle", p(&path)]);
    let out = run_bin(&all, b"");
    assert!(path.exists(), "no bundle written: {}", stderr(&out));
    path
}

fn edit(path: &Path, f: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    f(&mut v);
    let out = path.with_file_name("edited.json");
    std::fs::write(&out, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    out
}

#[test]
fn cli_save_then_replay_matches() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved(
        dir.path(),
        &[&s("hello"), "count_vowels", "-i", "hello world"],
    );
    // Self-contained: it replays after the original plugin is gone from view.
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(text.contains("\"data\""), "plugin embedded");
    let out = run_bin(&["replay", p(&bundle)], b"");
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "match: count_vowels produced the expected output (43 bytes)\n"
    );

    // Host data and options travel too: a secret and a config value.
    let bundle = saved(
        dir.path(),
        &[
            &s("host-demo"),
            "secret_length",
            "-i",
            "token",
            "--secret",
            "token=abc",
            "--config",
            "x=y",
        ],
    );
    let v = run_json(&["replay", p(&bundle), "--json"], 0);
    assert_eq!(v["matched"], true);
    assert_eq!(v["report"]["output"], r#"{"name":"token","length":3}"#);
}

#[test]
fn an_expected_error_kind_replays() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved(dir.path(), &[&s("chaos"), "spin", "--timeout", "200"]);
    let out = run_bin(&["replay", p(&bundle)], b"");
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("produced the expected timeout error"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_changed_expected_output_fails_with_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved(
        dir.path(),
        &[&s("hello"), "count_vowels", "-i", "hello world"],
    );
    let changed = edit(&bundle, |v| {
        v["steps"][0]["expected"]["output"]["text"] =
            r#"{"count":4,"total":4,"vowels":"aeiouAEIOU"}"#.into();
    });
    let out = run_bin(&["replay", p(&changed)], b"");
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.starts_with("mismatch: the output differs"), "{text}");
    assert!(
        text.contains("\n-  \"count\": 4,\n") && text.contains("\n+  \"count\": 3,\n"),
        "{text}"
    );

    let error_expected = edit(&bundle, |v| {
        v["steps"][0]["expected"] = serde_json::json!({"error_kind": "trap"});
    });
    let out = run_bin(&["replay", p(&error_expected)], b"");
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("expected a trap error, got an output"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_tampered_plugin_hash_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved(dir.path(), &[&s("hello"), "greet", "-i", "x"]);
    let wrong = "ab".repeat(32);
    let tampered = edit(&bundle, |v| {
        v["manifest"]["wasm"][0]["hash"] = wrong.clone().into();
    });
    let out = run_bin(&["replay", p(&tampered)], b"");
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("hash mismatch") && err.contains(&wrong),
        "{err}"
    );
    // A changed module under a kept hash is caught the same way.
    let swapped = edit(&bundle, |v| {
        let other = serde_json::to_value(
            LoadedPlugin::from_path(&sample("counter"))
                .unwrap()
                .0
                .to_manifest(&SandboxOptions::default(), true),
        )
        .unwrap();
        v["manifest"]["wasm"][0]["data"] = other["wasm"][0]["data"].clone();
    });
    assert_eq!(
        run_bin(&["replay", p(&swapped)], b"").status.code(),
        Some(2)
    );
}

#[test]
fn corrupt_truncated_foreign_and_future_files_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved(dir.path(), &[&s("hello"), "greet", "-i", "x"]);
    let text = std::fs::read_to_string(&bundle).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated.json",
            text[..text.len() / 2].to_string(),
            "is not valid JSON",
        ),
        (
            "garbage.json",
            "\u{0}\u{1}binary garbage".to_string(),
            "is not valid JSON",
        ),
        (
            "manifest.json",
            r#"{"wasm": [{"path": "x.wasm"}]}"#.to_string(),
            "is not an extism-playground bundle",
        ),
        (
            "future.json",
            text.replace("\"version\": 3", "\"version\": 42"),
            "version 42 bundle, newer than this extism-playground reads",
        ),
        (
            "zero.json",
            text.replace("\"version\": 3", "\"version\": 0"),
            "\"version\" must be a whole number from 1",
        ),
        (
            "typo.json",
            text.replace("\"function\"", "\"funtcion\""),
            "is not a valid bundle",
        ),
    ];
    for (name, contents, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        let out = run_bin(&["replay", p(&path)], b"");
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains(needle), "{name}: {}", stderr(&out));
    }
    let out = run_bin(&["replay", "/no/such/bundle.json"], b"");
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("cannot read the bundle /no/such/bundle.json"));
}

#[test]
fn steps_that_cannot_be_read_say_which_and_why() {
    use extism_playground::bundle::{ExpectedError, PayloadError, StepError, StepsError};
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved(dir.path(), &[&s("hello"), "greet", "-i", "x"]);
    let with_steps = |steps: serde_json::Value| {
        let path = edit(&bundle, |v| v["steps"] = steps);
        match bundle::load(&path) {
            Err(BundleError::Steps { cause, .. }) => cause,
            other => panic!("not a steps error: {other:?}"),
        }
    };
    let ok = serde_json::json!({"function": "greet"});
    assert!(matches!(
        with_steps(serde_json::json!([ok, {"function": "greet", "input": {"base64": "!!"}}])),
        StepsError::Step {
            number: 2,
            cause: StepError::Input {
                cause: PayloadError::Base64 { .. }
            }
        }
    ));
    assert!(matches!(
        with_steps(
            serde_json::json!([{"function": "greet", "input": {"text": "a", "base64": "YQ=="}}])
        ),
        StepsError::Step {
            number: 1,
            cause: StepError::Input {
                cause: PayloadError::Both
            }
        }
    ));
    assert!(matches!(
        with_steps(
            serde_json::json!([{"function": "greet", "expected": {"output": {"text": "a"}, "json": 1}}])
        ),
        StepsError::Step {
            cause: StepError::Expected(ExpectedError::NotOne),
            ..
        }
    ));
    let pattern = with_steps(serde_json::json!([
        ok,
        ok,
        {"function": "greet", "expected": {"error_match": "("}}
    ]));
    assert!(
        matches!(
            &pattern,
            StepsError::Step {
                number: 3,
                cause: StepError::Expected(ExpectedError::Pattern(e)),
            } if e.pattern == "("
        ),
        "{pattern:?}"
    );
    assert!(matches!(
        with_steps(serde_json::json!([])),
        StepsError::None
    ));
    // As the window and `replay` word it, once.
    let path = edit(&bundle, |v| {
        v["steps"] = serde_json::json!([ok, {"function": "greet", "input": {"text": "a", "base64": "YQ=="}}]);
    });
    let out = run_bin(&["replay", p(&path)], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "error: {} is not a valid bundle: step 2: input has both \"text\" and \"base64\"; keep one",
            path.display()
        )
    );
}

fn scenario(name: &str) -> Scenario {
    let (plugin, _) = LoadedPlugin::from_path(&sample(name)).unwrap();
    Scenario {
        plugin,
        options: SandboxOptions::default(),
        keep_state: true,
        host: HostData::default(),
        host_functions: Vec::new(),
        steps: vec![Step {
            function: "greet".into(),
            input: b"x".to_vec(),
            input_mode: Some(InputMode::Raw),
            expected: None,
        }],
    }
}

#[test]
fn saving_is_atomic_and_never_destroys_the_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    // Over a directory the rename fails: the directory stays, the error says what to do, and
    // no temporary file is left behind.
    let target = dir.path().join("a-dir");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("inside.txt"), "previous contents").unwrap();
    let err = bundle::save(&target, Bundle::new(&scenario("hello"), true, false)).unwrap_err();
    assert!(matches!(err, BundleError::Write { .. }));
    assert!(
        err.to_string()
            .contains("any previous file there is unchanged"),
        "{err}"
    );
    assert!(target.is_dir());
    assert_eq!(
        std::fs::read_to_string(target.join("inside.txt")).unwrap(),
        "previous contents"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary files left behind"
    );
    // A save over a file replaces it whole.
    let path = dir.path().join("session.json");
    std::fs::write(&path, "previous contents").unwrap();
    bundle::save(&path, Bundle::new(&scenario("hello"), true, false)).unwrap();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("extism-playground-bundle")
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn the_format_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut original = scenario("host-demo");
    original.steps[0].function = "kv_roundtrip".into();
    original.steps[0].input = br#"{"key":"k","value":"v"}"#.to_vec();
    original.steps[0].input_mode = Some(InputMode::Json);
    original.keep_state = false;
    original.options = SandboxOptions {
        wasi: true,
        allowed_hosts: vec!["*.example.com".into()],
        allowed_paths: vec![AllowedPath {
            host: data.path().to_path_buf(),
            guest: "/data".into(),
            read_only: true,
        }],
        memory_max_pages: Some(64),
        http_response_max_bytes: Some(4096),
        var_max_bytes: Some(128),
        timeout_ms: Some(1500),
        fuel_limit: Some(99_000_000),
        config: [("a".to_string(), "b".to_string())].into(),
        // How this machine compiles is not part of a repro: bundles do not carry it.
        fast_compile: false,
    };
    original.host = HostData {
        kv: [("k".to_string(), "old".into())].into(),
        secrets: [("api_key".to_string(), "s3cret".to_string())].into(),
    };
    original.steps[0].expected = Some(ExpectedOutcome::Output(vec![0xff, 0x00, 0x10]));
    for embed in [true, false] {
        let path = dir.path().join(format!("b-{embed}.json"));
        bundle::save(&path, Bundle::new(&original, embed, true)).unwrap();
        let back = bundle::load(&path).unwrap();
        assert_eq!(back.options, original.options);
        assert_eq!(back.host, original.host);
        assert_eq!(
            (back.first().function.as_str(), back.keep_state),
            ("kv_roundtrip", false)
        );
        assert_eq!(back.first().input, original.first().input);
        assert_eq!(back.first().input_mode, Some(InputMode::Json));
        assert_eq!(
            back.first().expected,
            original.first().expected,
            "binary outputs go through base64"
        );
        assert_eq!(back.plugin.main().sha256, original.plugin.main().sha256);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().contains("\"data\""),
            embed
        );
    }
    // Without include_secrets only the names are kept.
    let path = dir.path().join("nosecrets.json");
    bundle::save(&path, Bundle::new(&original, true, false)).unwrap();
    assert!(!std::fs::read_to_string(&path).unwrap().contains("s3cret"));
    assert_eq!(bundle::load(&path).unwrap().host.secrets["api_key"], "");
}

#[test]
fn verdicts_compare_outputs_and_error_kinds() {
    let ok = CallReport {
        output: b"{\"a\":1}".to_vec(),
        ..CallReport::default()
    };
    let failed = CallReport::failed("f", ErrorKind::Timeout, "slow");
    assert_eq!(
        bundle::verdict(&ExpectedOutcome::Output(b"{\"a\":1}".to_vec()), &ok),
        Verdict::Match
    );
    assert_eq!(
        bundle::verdict(&ExpectedOutcome::Error(ErrorKind::Timeout), &failed),
        Verdict::Match
    );
    let Verdict::Mismatch(text) =
        bundle::verdict(&ExpectedOutcome::Output(b"{\"a\":2}".to_vec()), &ok)
    else {
        panic!()
    };
    assert!(
        text.contains("\n-  \"a\": 2\n") && text.contains("\n+  \"a\": 1\n"),
        "{text}"
    );
    let Verdict::Mismatch(text) =
        bundle::verdict(&ExpectedOutcome::Error(ErrorKind::Trap), &failed)
    else {
        panic!()
    };
    assert!(
        text.contains("expected a trap error, got a timeout error: slow"),
        "{text}"
    );
}

/// The scenario the committed example is generated from: every option and every host function.
fn export_scenario() -> Scenario {
    let (plugin, _) = LoadedPlugin::from_path(Path::new("assets/samples/host-demo.wasm")).unwrap();
    Scenario {
        plugin,
        options: SandboxOptions {
            wasi: true,
            allowed_hosts: vec!["api.example.com".into()],
            allowed_paths: vec![AllowedPath {
                host: "/tmp".into(),
                guest: "/data".into(),
                read_only: true,
            }],
            memory_max_pages: Some(64),
            http_response_max_bytes: Some(65536),
            var_max_bytes: Some(1024),
            timeout_ms: Some(1000),
            fuel_limit: Some(100_000_000),
            config: [("vowels".to_string(), "aeiou".to_string())].into(),
            fast_compile: false,
        },
        keep_state: true,
        host: HostData {
            kv: [("greeting".to_string(), "hello".into())].into(),
            secrets: std::collections::BTreeMap::default(),
        },
        host_functions: Vec::new(),
        steps: vec![Step {
            function: "kv_roundtrip".into(),
            input: br#"{"key": "greeting", "value": "hi \"there\""}"#.to_vec(),
            input_mode: Some(InputMode::Json),
            expected: None,
        }],
    }
}

/// Host code generated for [`export_scenario`] with the built-in host functions.
fn exported(generate: fn(&bundle::export::Export<'_>) -> String) -> String {
    let scenario = export_scenario();
    let inspection = Inspection::of("host-demo.wasm", &scenario.plugin.main().bytes).unwrap();
    generate(&bundle::export::Export {
        scenario: &scenario,
        inspection: &inspection,
        host: &HostRegistry::builtin(),
        host_results: &std::collections::BTreeMap::new(),
    })
}

#[test]
fn exported_rust_compiles_as_the_committed_example() {
    // `cargo test` builds examples/, so the committed example compiling against the pinned
    // extism proves the generator's output does; this keeps the two identical.
    let generated = exported(bundle::export::rust);
    // The committed file is kept as `cargo fmt` leaves it; format the generated code the same way.
    let formatted = rustfmt(&generated);
    if std::env::var_os("UPDATE_EXAMPLES").is_some() {
        std::fs::write("examples/exported_host.rs", &formatted).unwrap();
    }
    let committed = std::fs::read_to_string("examples/exported_host.rs").unwrap();
    assert_eq!(
        formatted, committed,
        "regenerate with UPDATE_EXAMPLES=1 cargo test --test it bundle::"
    );
    for needle in [
        "with_wasi(true)",
        "with_fuel_limit(100_000_000)",
        "with_allowed_path(\"ro:/tmp\"",
        "with_memory_max(64)",
        "max_http_response_bytes = Some(65536)",
        "host_fn!(get_secret",
        ".with_function(\"kv_set\", [PTR, PTR], []",
    ] {
        assert!(generated.contains(needle), "{needle}");
    }
}

/// `code` as rustfmt formats it (rustfmt comes with the toolchain).
fn rustfmt(code: &str) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("rustfmt runs (rustup component add rustfmt)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the generated code does not parse as Rust"
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `examples/{name}.rs` with cargo and returns what it printed.
fn run_example(name: &str) -> String {
    // A clean environment: the variables cargo sets for tests would make this nested cargo
    // rebuild (and invalidate) the outer build. The target folder is the outer build's, so the
    // example `cargo test` built is reused.
    let mut cargo = std::process::Command::new(env!("CARGO"));
    cargo.env_clear();
    for (key, value) in std::env::vars_os() {
        let keep = matches!(
            key.to_str(),
            Some(
                "PATH"
                    | "HOME"
                    | "CARGO_HOME"
                    | "CARGO_TARGET_DIR"
                    | "RUSTUP_HOME"
                    | "RUSTUP_TOOLCHAIN"
                    | "TMPDIR"
            )
        );
        if keep {
            cargo.env(key, value);
        }
    }
    let out = cargo
        .args(["run", "--quiet", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert_exit(&out, 0);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn exported_rust_runs_the_scenario() {
    assert_eq!(
        run_example("exported_host"),
        "{\"key\":\"greeting\",\"previous\":\"hello\",\"value\":\"hi \\\"there\\\"\"}\n"
    );
}

#[test]
fn exported_go_has_the_right_fields() {
    let go = exported(bundle::export::go);
    for needle in [
        "extism \"github.com/extism/go-sdk\"",
        "extism.WasmFile{Path: \"assets/samples/host-demo.wasm\", Hash: \"",
        "Memory: &extism.ManifestMemory{MaxPages: 64, MaxHttpResponseBytes: 65536, MaxVarBytes: 1024},",
        "\"vowels\": \"aeiou\",",
        "AllowedHosts: []string{\"api.example.com\"},",
        "\"/tmp\": \"/data\",",
        "Timeout: 1000, // milliseconds",
        "config := extism.PluginConfig{EnableWasi: true}",
        "extism.NewHostFunctionWithStack(\n\t\t\t\"kv_set\"",
        "[]extism.ValueType{extism.ValueTypePTR, extism.ValueTypePTR}",
        "plugin.Call(\"kv_roundtrip\", input)",
        "input := []byte(\"{\\\"key\\\": \\\"greeting\\\", \\\"value\\\": \\\"hi \\\\\\\"there\\\\\\\"\\\"}\")",
        "no fuel metering",
    ] {
        assert!(go.contains(needle), "missing {needle:?} in:\n{go}");
    }
    // Balanced braces: a cheap check that the template closed what it opened.
    assert_eq!(go.matches('{').count(), go.matches('}').count());
}

use std::collections::BTreeMap;

use extism_playground::runner::host::{Behaviour, Bytes, HostFnDef, MockSource};

/// Definitions for tenant-app's three imports, as `--host-fn` writes them (files relative to
/// the crate).
fn tenant_defs(flags: &[&str]) -> Vec<HostFnDef> {
    flags
        .iter()
        .map(|f| HostFnDef::parse_flag(f, Path::new(env!("CARGO_MANIFEST_DIR"))).expect(f))
        .collect()
}

/// The script the committed example's `get_user` ran in the playground.
const GET_USER_RHAI: &str =
    r#"fn get_user(id) { `{"id":"${id.as_string()}","name":"Ada","plan":"pro"}` }"#;

/// What that script returned for `u-42` in the last run.
const ADA: &str = r#"{"id":"u-42","name":"Ada","plan":"pro"}"#;

/// Host code for tenant-app quoting a price with user-defined host functions `defs`, and
/// `results` as what they returned in the last run.
fn exported_mock_host(
    generate: fn(&bundle::export::Export<'_>) -> String,
    defs: Vec<HostFnDef>,
    results: &[(&str, &str)],
) -> String {
    let (plugin, _) = LoadedPlugin::from_path(Path::new("assets/samples/tenant-app.wasm")).unwrap();
    let inspection = Inspection::of("tenant-app.wasm", &plugin.main().bytes).unwrap();
    let (host, problems) = HostRegistry::with_definitions(&defs, &inspection.imports);
    assert!(problems.is_empty(), "{problems:?}");
    let scenario = Scenario {
        plugin,
        options: SandboxOptions::default(),
        keep_state: true,
        host: HostData::default(),
        host_functions: defs,
        steps: vec![Step {
            function: "quote".into(),
            input: br#"{"sku":"pro-seat","quantity":3}"#.to_vec(),
            input_mode: Some(InputMode::Json),
            expected: None,
        }],
    };
    let host_results: BTreeMap<String, Bytes> = results
        .iter()
        .map(|(name, value)| ((*name).to_string(), Bytes::from(*value)))
        .collect();
    generate(&bundle::export::Export {
        scenario: &scenario,
        inspection: &inspection,
        host: &host,
        host_results: &host_results,
    })
}

/// The committed example's definitions: a Rhai `get_user` (whose last result is known), the
/// mock-host plugin's `audit`, and a fixed number for `price_cents`.
fn mock_host_defs() -> Vec<HostFnDef> {
    let mut defs = tenant_defs(&["acme:billing::price_cents(bytes,num)->num=value:1200"]);
    defs.push(HostFnDef::new(
        "acme:tenant",
        "get_user",
        Behaviour::Rhai {
            script: GET_USER_RHAI.into(),
            file: None,
        },
    ));
    let mock = MockSource::read(Path::new("assets/samples/mock-host.wasm")).unwrap();
    defs.push(HostFnDef::new(
        "acme:tenant",
        "audit",
        Behaviour::Wasm(mock),
    ));
    defs
}

#[test]
fn exported_mock_host_rust_compiles_as_the_committed_example() {
    // As for examples/exported_host.rs: the committed example compiling proves the generated
    // user host functions do.
    let generated = exported_mock_host(
        bundle::export::rust,
        mock_host_defs(),
        &[("acme:tenant::get_user", ADA)],
    );
    let formatted = rustfmt(&generated);
    if std::env::var_os("UPDATE_EXAMPLES").is_some() {
        std::fs::write("examples/exported_mock_host.rs", &formatted).unwrap();
    }
    let committed = std::fs::read_to_string("examples/exported_mock_host.rs").unwrap();
    assert_eq!(
        formatted, committed,
        "regenerate with UPDATE_EXAMPLES=1 cargo test --test it bundle::"
    );
    for needle in [
        // Each function under its own module, with the import's signature; the number
        // argument and result are plain i32/i64 values, not offsets.
        ".with_function_in_namespace(\"acme:tenant\", \"get_user\", [PTR], [PTR], UserData::new(()), get_user)",
        ".with_function_in_namespace(\"acme:tenant\", \"audit\", [PTR], [], UserData::new(()), audit)",
        ".with_function_in_namespace(\"acme:billing\", \"price_cents\", [PTR, extism::ValType::I32], [extism::ValType::I64], UserData::new(()), price_cents)",
        // value: the number itself.
        "    outputs[0] = Val::I64(1_200);\n",
        // rhai: the last run's result, and a comment that says so.
        "// In the playground a Rhai script answers this call; the script does not come along.\n",
        "// This returns what it returned in the last run: ",
        &format!("plugin.memory_set_val(&mut outputs[0], {ADA:?})?;"),
        // wasm: audit returns nothing.
        "// In the playground `audit` of the mock-host plugin mock-host.wasm answers this call; the plugin does not come along.\n",
        "// The import returns nothing, so this does nothing.\n",
        "use extism::{CurrentPlugin, Manifest, PTR, PluginBuilder, UserData, Val, Wasm};",
    ] {
        assert!(
            generated.contains(needle),
            "missing {needle:?} in:\n{generated}"
        );
    }
    assert!(!generated.contains("host_fn!"), "no built-in is imported");
}

#[test]
fn exported_mock_host_runs_the_scenario() {
    // The value's 1200 comes back as the total; the wasm mock's audit does nothing.
    assert_eq!(
        run_example("exported_mock_host"),
        "{\"sku\":\"pro-seat\",\"quantity\":3,\"total_cents\":1200}\n"
    );
}

#[test]
fn exported_user_host_functions_mirror_the_playground() {
    // Go for the committed example's definitions.
    let go = exported_mock_host(
        bundle::export::go,
        mock_host_defs(),
        &[("acme:tenant::get_user", ADA)],
    );
    for needle in [
        "\thostFunctions[0].SetNamespace(\"acme:billing\")\n",
        "\thostFunctions[1].SetNamespace(\"acme:tenant\")\n",
        "\thostFunctions[2].SetNamespace(\"acme:tenant\")\n",
        "[]extism.ValueType{extism.ValueTypePTR, extism.ValueTypeI32},\n\t\t\t[]extism.ValueType{extism.ValueTypeI64},",
        "\t\t\t\tstack[0] = extism.EncodeI64(1200)\n",
        "\t\t// acme:tenant::get_user(bytes) -> bytes\n\t\t// In the playground a Rhai script answers this call;",
        "// This returns what it returned in the last run: ",
        &format!(
            "offset, err := p.WriteString({})",
            serde_json::to_string(ADA).unwrap()
        ),
        "// The import returns nothing, so this does nothing.",
    ] {
        assert!(go.contains(needle), "missing {needle:?} in:\n{go}");
    }
    assert_eq!(go.matches('{').count(), go.matches('}').count());

    // Without a recorded result, empty bytes and a request to fill it in.
    for code in [
        exported_mock_host(bundle::export::rust, mock_host_defs(), &[]),
        exported_mock_host(bundle::export::go, mock_host_defs(), &[]),
    ] {
        assert!(
            code.contains(
                "// No run recorded a result, so this returns empty bytes: fill in what it should return."
            ),
            "{code}"
        );
        assert!(code.contains("// TODO: no run recorded a result"), "{code}");
    }

    // template, fail and kv-set, exactly as the playground runs them.
    let defs = || {
        tenant_defs(&[
            r#"acme:tenant::get_user=template:{"id":"{0}","name":"Ada","tag":"{x}"}"#,
            "acme:tenant::audit=fail:the audit log is down",
            "acme:billing::price_cents(bytes,num)->num=kv-set",
        ])
    };
    let rust = exported_mock_host(bundle::export::rust, defs(), &[]);
    for needle in [
        // {x} is no argument, so it stays literal, as does every JSON brace.
        "let arg0 = String::from_utf8_lossy(plugin.memory_get_val::<&[u8]>(&inputs[0])?).into_owned();",
        r#"let result = format!("{{\"id\":\"{arg0}\",\"name\":\"Ada\",\"tag\":\"{{x}}\"}}");"#,
        "plugin.memory_set_val(&mut outputs[0], result)?;",
        r#"Err(extism::Error::msg("host function acme:tenant::audit failed: the audit log is down"))"#,
        // kv-set: the key as text, the number in decimal, and 0 as the result.
        "let value = inputs[1].unwrap_i32().to_string().into_bytes();",
        "kv: UserData<BTreeMap<String, Vec<u8>>>",
        "outputs[0] = Val::I64(0);",
        "let kv = UserData::new(BTreeMap::from([",
        "kv.clone(), price_cents)",
    ] {
        assert!(rust.contains(needle), "missing {needle:?} in:\n{rust}");
    }
    let go = exported_mock_host(bundle::export::go, defs(), &[]);
    for needle in [
        "\t\t\t\targ0, err := p.ReadString(stack[0])\n",
        r#"result := "{\"id\":\"" + arg0 + "\",\"name\":\"Ada\",\"tag\":\"{x}\"}""#,
        r#"panic("host function acme:tenant::audit failed: the audit log is down")"#,
        "value := strconv.FormatInt(int64(extism.DecodeI32(stack[1])), 10)",
        "kv[key] = value",
        "\tkv := map[string]string{\n\t}\n",
        "\t\"strconv\"\n",
    ] {
        assert!(go.contains(needle), "missing {needle:?} in:\n{go}");
    }
    assert!(!go.contains("\"strings\""), "unused imports fail Go builds");
    assert_eq!(go.matches('{').count(), go.matches('}').count());

    // A template's text read as a number result, and a rhai number from the last run.
    let rust = exported_mock_host(
        bundle::export::rust,
        tenant_defs(&[
            "acme:billing::price_cents(bytes,num)->num=template:{1}00",
            "acme:tenant::get_user=wasm:assets/samples/mock-host.wasm",
        ]),
        &[],
    );
    for needle in [
        "let arg1 = inputs[1].unwrap_i32().to_string();",
        r#"let result = format!("{arg1}00");"#,
        r#"outputs[0] = Val::I64(parse_number("acme:billing::price_cents", &result)?);"#,
        "fn parse_number<T: std::str::FromStr>(",
        "// In the playground `get_user` of the mock-host plugin mock-host.wasm answers this call;",
    ] {
        assert!(rust.contains(needle), "missing {needle:?} in:\n{rust}");
    }
    let go = exported_mock_host(
        bundle::export::go,
        tenant_defs(&["acme:billing::price_cents(bytes,num)->num=template:{1}00"]),
        &[],
    );
    assert!(
        go.contains("n, err := strconv.ParseInt(text, 10, 64)")
            && go.contains("stack[0] = extism.EncodeI64(n)"),
        "{go}"
    );
}

#[test]
fn exported_user_kv_functions_share_the_built_in_store() {
    // host-demo imports the built-ins; replacing kv_get with a user kv-get keeps one store,
    // holding bytes, for both.
    let mut scenario = export_scenario();
    scenario
        .host
        .kv
        .insert("blob".into(), Bytes(vec![0xff, 0x00]));
    let inspection = Inspection::of("host-demo.wasm", &scenario.plugin.main().bytes).unwrap();
    let defs = vec![HostFnDef::new(
        "extism:host/user",
        "kv_get",
        Behaviour::KvGet,
    )];
    let (host, problems) = HostRegistry::with_definitions(&defs, &inspection.imports);
    assert!(problems.is_empty(), "{problems:?}");
    let export = bundle::export::Export {
        scenario: &scenario,
        inspection: &inspection,
        host: &host,
        host_results: &BTreeMap::new(),
    };
    let rust = bundle::export::rust(&export);
    for needle in [
        "host_fn!(kv_set(kv: BTreeMap<String, Vec<u8>>; key: String, value: Vec<u8>)",
        "fn kv_get(plugin: &mut CurrentPlugin, inputs: &[Val], outputs: &mut [Val], kv: UserData<BTreeMap<String, Vec<u8>>>)",
        "(\"blob\".to_string(), vec![0xff_u8, 0x00]),",
        "(\"greeting\".to_string(), \"hello\".as_bytes().to_vec()),",
        ".with_function(\"kv_get\", [PTR], [PTR], kv.clone(), kv_get)",
        ".with_function(\"kv_set\", [PTR, PTR], [], kv.clone(), kv_set)",
    ] {
        assert!(rust.contains(needle), "missing {needle:?} in:\n{rust}");
    }
    let go = bundle::export::go(&export);
    for needle in [
        "\t\t\"blob\": string([]byte{0xff, 0x00}),\n",
        "\t\t\t\tkey, err := p.ReadString(stack[0])\n",
        "\t\t\t\toffset, err := p.WriteString(kv[key])\n",
    ] {
        assert!(go.contains(needle), "missing {needle:?} in:\n{go}");
    }
}

mod fuzz {
    //! Property tests of the loaders: whatever the bytes, they return an error or a value and
    //! never panic. Run more cases with
    //! `PROPTEST_CASES=100000 cargo test --test it bundle::fuzz`.
    use super::*;
    use proptest::prelude::*;

    fn valid_bundle() -> Vec<u8> {
        Bundle::new(&scenario("hello"), true, false)
            .to_json()
            .into_bytes()
    }

    proptest! {
        #[test]
        fn bundle_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Bundle::parse(&bytes, "fuzz");
        }

        #[test]
        fn mutated_bundles_never_panic(cut in 0usize..4000, flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..8)) {
            let mut bytes = valid_bundle();
            for (at, byte) in flips {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            bytes.truncate(cut.min(bytes.len()).max(bytes.len() / 2));
            if let Ok(b) = Bundle::parse(&bytes, "fuzz") {
                let _ = b.resolve(None, "fuzz");
            }
        }

        #[test]
        fn manifest_loader_never_panics(json in "\\{(\"wasm\":\\[(\\{\"(path|data|url|hash|name)\":\"[a-zA-Z0-9/+=.:]{0,12}\"\\},?){0,3}\\],?)?(\"memory\":\\{\"max_pages\":[0-9]{1,3}\\},?)?(\"allowed_paths\":\\{\"[a-z/:]{0,8}\":\"[a-z/]{0,5}\"\\})?\\}") {
            if let Ok(manifest) = serde_json::from_str::<extism::Manifest>(&json) {
                let _ = LoadedPlugin::from_manifest(&manifest, Some(Path::new("/nonexistent")), "fuzz");
            }
        }
    }
}

#[test]
fn loop_and_save_bundle_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    let out = run_bin(
        &[
            "call",
            &s("counter"),
            "increment",
            "--loop",
            "3",
            "--save-bundle",
            p(&path),
        ],
        b"",
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("drop --loop to save a bundle"),
        "{}",
        stderr(&out)
    );
    assert!(!path.exists());
}

#[test]
fn allowed_paths_are_saved_relative_to_the_bundle_inside_its_folder_else_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let bundle = dir.path().join("w.json");
    let out = common::bin()
        .args([
            "call",
            &s("wasi-demo"),
            "write_read",
            "-i",
            "hi",
            "--wasi",
            "--allow-path",
            "./data:/data",
            "--allow-path",
            &format!("ro:{}:/elsewhere", outside.path().display()),
            "--save-bundle",
            p(&bundle),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let paths = json["manifest"]["allowed_paths"].as_object().unwrap();
    assert_eq!(paths["data"], "/data", "{paths:?}");
    let outside_key = format!("ro:{}", outside.path().canonicalize().unwrap().display());
    assert_eq!(paths[&outside_key], "/elsewhere", "{paths:?}");
    // Relative means relative to the bundle, wherever it is replayed from.
    let scenario = bundle::load(&bundle).unwrap();
    assert_eq!(
        scenario.options.allowed_paths[0]
            .host
            .canonicalize()
            .unwrap(),
        dir.path().join("data").canonicalize().unwrap(),
    );
    // This app saved it, so replaying it asks nothing.
    let out = run_bin(&["replay", p(&bundle)], b"");
    assert_exit(&out, 0);
}
