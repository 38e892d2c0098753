//! Repro bundles: save from the CLI and replay with exact exit codes, verdicts and diffs,
//! tampered and corrupt files, atomic saves, round trips of the format, and the exported host
//! code.

mod common;

use std::path::{Path, PathBuf};

use common::{run_bin, sample, stderr, stdout};
use extism_playground::bundle::{
    self, Bundle, BundleError, ExpectedOutcome, InputMode, Scenario, Verdict,
};
use extism_playground::runner::{
    AllowedPath, CallReport, ErrorKind, HostData, HostRegistry, Inspection, LoadedPlugin,
    SandboxOptions,
};

fn s(name: &str) -> String {
    sample(name).display().to_string()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
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
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
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
    let out = run_bin(&["replay", p(&bundle), "--json"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["matched"], true);
    assert_eq!(v["report"]["output"], r#"{"name":"token","length":3}"#);
}

#[test]
fn an_expected_error_kind_replays() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = saved(dir.path(), &[&s("chaos"), "spin", "--timeout", "200"]);
    let out = run_bin(&["replay", p(&bundle)], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
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
        v["expected"]["output"]["text"] = r#"{"count":4,"total":4,"vowels":"aeiouAEIOU"}"#.into();
    });
    let out = run_bin(&["replay", p(&changed)], b"");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("mismatch: the output differs"), "{text}");
    assert!(
        text.contains("\n-  \"count\": 4,\n") && text.contains("\n+  \"count\": 3,\n"),
        "{text}"
    );

    let error_expected = edit(&bundle, |v| {
        v["expected"] = serde_json::json!({"error_kind": "trap"});
    });
    let out = run_bin(&["replay", p(&error_expected)], b"");
    assert_eq!(out.status.code(), Some(1));
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
    assert_eq!(out.status.code(), Some(2));
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
            text.replace("\"version\": 1", "\"version\": 42"),
            "version 42 bundle, newer than this extism-playground reads",
        ),
        (
            "zero.json",
            text.replace("\"version\": 1", "\"version\": 0"),
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
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read the bundle /no/such/bundle.json"));
}

fn scenario(name: &str) -> Scenario {
    let (plugin, _) = LoadedPlugin::from_path(&sample(name)).unwrap();
    Scenario {
        plugin,
        options: SandboxOptions::default(),
        keep_state: true,
        host: HostData::default(),
        function: "greet".into(),
        input: b"x".to_vec(),
        input_mode: Some(InputMode::Raw),
        expected: None,
    }
}

#[test]
fn saving_is_atomic_and_never_destroys_the_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    std::fs::write(&path, "previous contents").unwrap();
    // Make the temporary file impossible to write: a directory squats on its name.
    std::fs::create_dir(
        dir.path()
            .join(format!(".session.json.tmp-{}", std::process::id())),
    )
    .unwrap();
    let err = bundle::save(&path, Bundle::new(&scenario("hello"), true, false)).unwrap_err();
    assert!(matches!(err, BundleError::Write { .. }));
    assert!(
        err.to_string()
            .contains("any previous file there is unchanged"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous contents");

    // Over a directory the rename fails and the directory stays.
    let target = dir.path().join("a-dir");
    std::fs::create_dir(&target).unwrap();
    assert!(bundle::save(&target, Bundle::new(&scenario("hello"), true, false)).is_err());
    assert!(target.is_dir());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temporary files left behind"
    );
}

#[test]
fn the_format_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut original = scenario("host-demo");
    original.function = "kv_roundtrip".into();
    original.input = br#"{"key":"k","value":"v"}"#.to_vec();
    original.input_mode = Some(InputMode::Json);
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
    };
    original.host = HostData {
        kv: [("k".to_string(), "old".to_string())].into(),
        secrets: [("api_key".to_string(), "s3cret".to_string())].into(),
    };
    original.expected = Some(ExpectedOutcome::Output(vec![0xff, 0x00, 0x10]));
    for embed in [true, false] {
        let path = dir.path().join(format!("b-{embed}.json"));
        bundle::save(&path, Bundle::new(&original, embed, true)).unwrap();
        let back = bundle::load(&path).unwrap();
        assert_eq!(back.options, original.options);
        assert_eq!(back.host, original.host);
        assert_eq!(
            (back.function.as_str(), back.keep_state),
            ("kv_roundtrip", false)
        );
        assert_eq!(back.input, original.input);
        assert_eq!(back.input_mode, Some(InputMode::Json));
        assert_eq!(
            back.expected, original.expected,
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
        },
        keep_state: true,
        host: HostData {
            kv: [("greeting".to_string(), "hello".to_string())].into(),
            secrets: std::collections::BTreeMap::default(),
        },
        function: "kv_roundtrip".into(),
        input: br#"{"key": "greeting", "value": "hi \"there\""}"#.to_vec(),
        input_mode: Some(InputMode::Json),
        expected: None,
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
        "regenerate with UPDATE_EXAMPLES=1 cargo test --test bundle"
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

#[test]
fn exported_rust_runs_the_scenario() {
    // A clean environment: the variables cargo sets for tests would make this nested cargo
    // rebuild (and invalidate) the outer build.
    let mut cargo = std::process::Command::new(env!("CARGO"));
    cargo.env_clear();
    for (key, value) in std::env::vars_os() {
        let keep = matches!(
            key.to_str(),
            Some("PATH" | "HOME" | "CARGO_HOME" | "RUSTUP_HOME" | "RUSTUP_TOOLCHAIN" | "TMPDIR")
        );
        if keep {
            cargo.env(key, value);
        }
    }
    let out = cargo
        .args(["run", "--quiet", "--example", "exported_host"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
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

mod fuzz {
    //! Property tests of the loaders: whatever the bytes, they return an error or a value and
    //! never panic. Run more cases with `PROPTEST_CASES=100000` cargo test --test bundle fuzz.
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
    assert_eq!(out.status.code(), Some(2));
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
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
