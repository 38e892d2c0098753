//! User-defined host functions, end to end: every behaviour run against plugins written by
//! others (C, `TinyGo`, Rust, js-pdk) and our tenant-app sample, numbers and floats as arguments
//! and results, signature mismatches, Rhai errors and loops (ended by the timeout, by Stop and
//! by the operation limit), a mock-host plugin that traps; then the workbench commands,
//! sessions and bundles (and version 1 bundles), and the CLI flags.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::model::{run, settle, workbench};
use crate::common::{assert_exit, fixture, flag, session_with, wasi_options};
use extism_playground::bundle::{self, Bundle};
use extism_playground::runner::host::define::{FitError, MockLoadError};
use extism_playground::runner::host::{
    ArgKind, Behaviour, Bytes, HostFnDef, MockSource, WasmType, define,
};
use extism_playground::runner::{
    CallReport, CallRequest, ErrorKind, HostRegistry, Inspection, LoadedPlugin, LogSource,
    SandboxOptions, Session,
};
use extism_playground::workbench::{Command, Notice, PluginSlot, Source};
use proptest::prelude::*;

fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/samples")
        .join(name)
}

fn tenant(defs: &[&str]) -> Session {
    let defs: Vec<HostFnDef> = defs.iter().map(|d| flag(d)).collect();
    session_with(&asset("tenant-app.wasm"), &defs, SandboxOptions::default())
}

const MOCK: &str = "acme:tenant::get_user=wasm:assets/samples/mock-host.wasm";
const RHAI_PRICE: &str = "acme:billing::price_cents->num=rhai:assets/samples/tenant-host.rhai";
const RHAI_AUDIT: &str = "acme:tenant::audit=rhai:assets/samples/tenant-host.rhai";

#[track_caller]
fn error_of(report: &CallReport) -> (ErrorKind, String) {
    let e = report.error.as_ref().expect("the call should fail");
    (e.kind, e.message.clone())
}

#[test]
fn template_stands_for_go_host_functions() {
    let s = session_with(
        &fixture("go-host-multiple"),
        &[
            flag("hostGreenMessage=template:🟢:{0}"),
            flag("hostPurpleMessage=template:🟣:{0}"),
        ],
        wasi_options(),
    );
    let report = common::call(&s, "say_green", "hi");
    common::assert_ok(&report);
    assert!(
        common::output(&report).starts_with("🟢:"),
        "{}",
        common::output(&report)
    );
    assert_eq!(report.host_calls[0].function, "hostGreenMessage");
}

#[test]
fn template_echo_satisfies_the_c_pdk_example() {
    let s = session_with(
        &fixture("c-count-vowels-hostfn"),
        &[flag("hello_world=template:{0}")],
        wasi_options(),
    );
    let report = common::call(&s, "count_vowels", "Hello, world!");
    common::assert_ok(&report);
    assert_eq!(common::output(&report), r#"{"count": 3}"#);
}

#[test]
fn numbers_travel_as_numbers_into_rhai_and_back() {
    // go-sdk's mult takes two plain i64s and returns one: marked num, not memory offsets.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("mult.rhai");
    std::fs::write(&script, "fn mult(a, b) { a * b }").unwrap();
    let def = HostFnDef::parse_flag("mult(num,num)->num=rhai:mult.rhai", dir.path()).unwrap();
    let s = session_with(&fixture("go-host-mult"), &[def], wasi_options());
    let report = common::call(&s, "run_test", "");
    common::assert_ok(&report);
    assert_eq!(common::output(&report), "42 x 2 = 84");
    assert_eq!(report.host_calls[0].args, "42, 2");
    // Left as bytes, the same numbers are read as memory offsets and the call fails.
    let s = session_with(
        &fixture("go-host-mult"),
        &[flag("mult=value:84")],
        wasi_options(),
    );
    assert!(common::call(&s, "run_test", "").error.is_some());
}

#[test]
fn float_results_from_a_value() {
    let s = session_with(
        &fixture("go-float-hostfn"),
        &[
            flag("example::getf64=value:100.5"),
            flag("example::getf32=value:100.5"),
        ],
        wasi_options(),
    );
    let report = common::call(&s, "addf64", "");
    common::assert_ok(&report);
    assert_eq!(report.output, 101.5f64.to_le_bytes());
    let report = common::call(&s, "addf32", "");
    assert_eq!(report.output, 101.5f32.to_le_bytes());
}

#[test]
fn a_function_without_a_result_just_runs_and_its_value_is_ignored() {
    let s = session_with(
        &fixture("rust-hypermcp-tool-list-changed"),
        &[flag("notify_tool_list_changed=value:ignored")],
        SandboxOptions::default(),
    );
    let report = common::call(
        &s,
        "call",
        r#"{"params":{"name":"add_tool","arguments":{}}}"#,
    );
    common::assert_ok(&report);
    assert!(common::output(&report).contains("Successfully added tool_1"));
    assert_eq!(report.host_calls[0].function, "notify_tool_list_changed");
    // The state the call built stays in the instance: the next call sees the new tool.
    let report = common::call(&s, "describe", "");
    assert!(
        common::output(&report).contains("tool_1"),
        "{}",
        common::output(&report)
    );
}

#[test]
fn a_js_pdk_plugin_instantiates_with_its_imports_mocked() {
    let s = session_with(
        &fixture("js-xtp-fruit"),
        &[
            flag("eatAFruit=value:true"),
            flag("kv_read=kv-get"),
            flag("kv_write=rhai:tests/fixtures/kv_write.rhai"),
        ],
        wasi_options(),
    );
    let report = common::call(&s, "referenceTypes", "apple");
    common::assert_ok(&report);
    assert!(common::output(&report).contains("\"ghost\":\"inky\""));
}

#[test]
fn the_mock_host_plugin_and_rhai_run_the_tenant_sample() {
    let s = tenant(&[MOCK, RHAI_AUDIT, RHAI_PRICE]);
    let report = common::call(&s, "greet_user", r#"{"user_id":"u-7"}"#);
    common::assert_ok(&report);
    assert_eq!(
        common::output(&report),
        "Hello, Grace! You are on the team plan."
    );
    let calls: Vec<&str> = report
        .host_calls
        .iter()
        .map(|c| c.function.as_str())
        .collect();
    assert_eq!(calls, ["acme:tenant::get_user", "acme:tenant::audit"]);
    // The script's log() reaches the call's log, from the host.
    assert!(
        report
            .logs
            .iter()
            .any(|l| l.source == LogSource::Host && l.message == "audit #1: greeted u-7")
    );
    // And it kept state in the kv store.
    assert_eq!(
        report.kv_after.as_ref().unwrap()["audit_count"],
        Bytes::from("1")
    );

    let report = common::call(&s, "quote", r#"{"sku":"pro-seat","quantity":12}"#);
    common::assert_ok(&report);
    assert_eq!(
        common::output(&report),
        r#"{"sku":"pro-seat","quantity":12,"total_cents":12960}"#
    );
    assert_eq!(report.host_calls[0].args, "\"pro-seat\", 12");
    assert_eq!(report.host_calls[0].result, "12960");
    assert_eq!(
        report.host_results["acme:billing::price_cents"],
        Bytes::from("12960")
    );
}

#[test]
fn kv_definitions_may_replace_the_builtins() {
    let defs = vec![flag("kv_get=kv-get"), flag("kv_set=kv-set")];
    let s = session_with(
        &common::sample("host-demo"),
        &defs,
        SandboxOptions::default(),
    );
    assert!(
        s.host_functions()
            .get("extism:host/user", "kv_get")
            .unwrap()
            .implementation
            .is_user_defined()
    );
    let report = common::call(&s, "kv_roundtrip", r#"{"key": "k", "value": "v"}"#);
    common::assert_ok(&report);
    assert_eq!(report.kv_after.unwrap()["k"], Bytes::from("v"));
}

#[test]
fn binary_kv_values_survive_a_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("audit.rhai"),
        "fn audit(m) { let b = blob(3, 0); b[0] = 255; b[2] = 7; kv_set(\"bin\", b); }",
    )
    .unwrap();
    let audit = HostFnDef::parse_flag("acme:tenant::audit=rhai:audit.rhai", dir.path()).unwrap();
    let s = session_with(
        &asset("tenant-app.wasm"),
        &[
            flag(MOCK),
            audit,
            flag("acme:billing::price_cents->num=value:1"),
        ],
        SandboxOptions::default(),
    );
    let report = common::call(&s, "greet_user", r#"{"user_id":"u-42"}"#);
    common::assert_ok(&report);
    let kv = report.kv_after.unwrap();
    assert_eq!(kv["bin"], Bytes(vec![255, 0, 7]));
    // Saved and read back as a bundle, the bytes stay bytes (as base64 in the file).
    let json = serde_json::to_string(&kv).unwrap();
    assert!(json.contains(r#""bin":{"base64":"/wAH"}"#), "{json}");
    let back: std::collections::BTreeMap<String, Bytes> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, kv);
}

#[test]
fn fail_names_the_host_function_and_its_message() {
    let s = tenant(&[
        MOCK,
        "acme:tenant::audit=fail:audit service down",
        RHAI_PRICE,
    ]);
    let report = common::call(&s, "greet_user", r#"{"user_id":"u-42"}"#);
    let (kind, message) = error_of(&report);
    assert_eq!(kind, ErrorKind::HostFunction);
    assert!(message.contains("acme:tenant::audit"), "{message}");
    assert!(message.contains("audit service down"), "{message}");
    assert!(report.host_calls[1].result.starts_with("error:"));
}

#[test]
fn a_rhai_runtime_error_says_where() {
    let s = tenant(&[MOCK, RHAI_AUDIT, RHAI_PRICE]);
    let report = common::call(&s, "quote", r#"{"sku":"no-such-sku","quantity":1}"#);
    let (kind, message) = error_of(&report);
    assert_eq!(kind, ErrorKind::HostFunction);
    assert!(message.contains("acme:billing::price_cents"), "{message}");
    assert!(message.contains("line 10"), "{message}");
    assert!(message.contains("unknown sku no-such-sku"), "{message}");
}

#[test]
fn a_rhai_compile_error_is_a_definition_problem_with_line_and_column() {
    let plugin = LoadedPlugin::from_path(&asset("tenant-app.wasm"))
        .unwrap()
        .0;
    let inspection = Inspection::of("tenant-app.wasm", &plugin.main().bytes).unwrap();
    let def = HostFnDef::new(
        "acme:tenant",
        "get_user",
        Behaviour::Rhai {
            script: "fn get_user(id) {\n    let x = ;\n}".into(),
            file: None,
        },
    );
    let (host, problems) = HostRegistry::with_definitions(&[def], &inspection.imports);
    assert!(host.get("acme:tenant", "get_user").is_none());
    assert_eq!(problems.len(), 1);
    assert!(
        matches!(
            &problems[0].reason,
            FitError::Script(e) if e.line == Some(2) && e.column.is_some()
        ),
        "{}",
        problems[0]
    );
}

const SPIN: &str = "acme:tenant::get_user=rhai:tests/fixtures/spin.rhai";

#[test]
fn a_looping_script_is_ended_by_the_timeout() {
    let defs: Vec<HostFnDef> = [SPIN, RHAI_AUDIT, RHAI_PRICE]
        .iter()
        .map(|d| flag(d))
        .collect();
    let s = session_with(
        &asset("tenant-app.wasm"),
        &defs,
        SandboxOptions {
            timeout_ms: Some(300),
            ..SandboxOptions::default()
        },
    );
    let report = common::call(&s, "greet_user", r#"{"user_id":"u-42"}"#);
    let (kind, message) = error_of(&report);
    assert_eq!(kind, ErrorKind::Timeout, "{message}");
    assert!(
        message.contains("script of acme:tenant::get_user"),
        "{message}"
    );
    // The worker survived (the script was ended, not the process): the next call works.
    let report = common::call(&s, "quote", r#"{"sku":"pro-seat","quantity":1}"#);
    common::assert_ok(&report);
}

#[test]
fn a_looping_script_is_ended_by_stop() {
    let s = tenant(&[SPIN, RHAI_AUDIT, RHAI_PRICE]);
    let call = s.call(CallRequest {
        function: "greet_user".into(),
        input: br#"{"user_id":"u-42"}"#.to_vec().into(),
        ..CallRequest::default()
    });
    let started = Instant::now();
    while call.phase() != extism_playground::runner::Phase::Calling {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the call never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    call.cancel();
    let report = call.block_and_take();
    let (kind, message) = error_of(&report);
    assert_eq!(kind, ErrorKind::Cancelled, "{message}");
}

#[test]
fn a_looping_script_is_ended_by_the_operation_limit() {
    // No timeout: the engine's operation limit ends it.
    let s = tenant(&[SPIN, RHAI_AUDIT, RHAI_PRICE]);
    let report = common::call(&s, "greet_user", r#"{"user_id":"u-42"}"#);
    let (kind, message) = error_of(&report);
    assert_eq!(kind, ErrorKind::HostFunction);
    assert!(message.contains("operations (its limit)"), "{message}");
}

#[test]
fn a_mock_host_plugin_that_traps_fails_the_call_with_its_name() {
    let mut def = flag(MOCK);
    if let Behaviour::Wasm(mock) = &mut def.behaviour {
        mock.export = Some("trap".into());
    }
    let defs = vec![def, flag(RHAI_AUDIT), flag(RHAI_PRICE)];
    let s = session_with(&asset("tenant-app.wasm"), &defs, SandboxOptions::default());
    let report = common::call(&s, "greet_user", r#"{"user_id":"u-42"}"#);
    let (kind, message) = error_of(&report);
    assert_eq!(kind, ErrorKind::HostFunction);
    assert!(
        message.contains("mock-host plugin mock-host.wasm failed in trap"),
        "{message}"
    );
    // The mock answers again on the next call.
    let s2 = tenant(&[MOCK, RHAI_AUDIT, RHAI_PRICE]);
    common::assert_ok(&common::call(&s2, "greet_user", r#"{"user_id":"u-42"}"#));
}

#[test]
fn definitions_that_cannot_fit_say_why() {
    type Check = fn(&FitError) -> bool;
    let plugin = LoadedPlugin::from_path(&fixture("go-float-hostfn"))
        .unwrap()
        .0;
    let inspection = Inspection::of("float", &plugin.main().bytes).unwrap();
    let cases: [(&str, Check); 6] = [
        ("example::getf64->bytes=value:1", |e| {
            matches!(e, FitError::BytesResult { ty: WasmType::F64 })
        }),
        ("example::getf64=value:lots", |e| {
            matches!(
                e,
                FitError::NotANumber {
                    ty: WasmType::F64,
                    ..
                }
            )
        }),
        ("example::getf64(num)=value:1", |e| {
            matches!(
                e,
                FitError::KindCount {
                    declared: 1,
                    takes: 0,
                    ..
                }
            )
        }),
        ("example::getf64=kv-get", |e| {
            matches!(e, FitError::KvGetWithoutKey)
        }),
        ("example::getf64=template:{1}", |e| {
            matches!(e, FitError::TemplateField { field: 1, takes: 0 })
        }),
        (
            "example::getf64=wasm:assets/samples/hello.wasm",
            |e| matches!(e, FitError::MockExport { export, .. } if export == "getf64"),
        ),
    ];
    for (text, why) in cases {
        let (_, problems) = HostRegistry::with_definitions(&[flag(text)], &inspection.imports);
        assert_eq!(problems.len(), 1, "{text}");
        assert!(why(&problems[0].reason), "{text}: {}", problems[0]);
    }
    // As the command line and the host panel word one.
    let (_, problems) = HostRegistry::with_definitions(
        &[flag("example::getf64(num)=value:1")],
        &inspection.imports,
    );
    assert_eq!(
        problems[0].to_string(),
        "example::getf64 () -> f64 cannot be defined that way: it is declared with 1 argument \
         kind(s), the import takes 0: () -> f64"
    );
}

// ---- the workbench ----

#[test]
fn the_tenant_sample_opens_with_its_mocks_and_runs() {
    let mut wb = workbench();
    wb.apply(Command::Open(Source::sample("tenant-app").unwrap()));
    settle(&mut wb);
    assert!(matches!(wb.plugin(), PluginSlot::Ready(_)));
    assert!(wb.session().unwrap().unsatisfied_imports().is_empty());
    assert_eq!(wb.state().function, "greet_user");
    let report = run(&mut wb);
    common::assert_ok(&report);
    assert_eq!(
        common::output(&report),
        "Hello, Ada! You are on the pro plan."
    );
    // Removing a mock brings the blocker back; defining it again lifts it.
    wb.apply(Command::RemoveHostFn {
        module: "acme:tenant".into(),
        name: "get_user".into(),
    });
    let unsatisfied = wb.session().unwrap().unsatisfied_imports();
    assert_eq!(unsatisfied.len(), 1);
    assert_eq!(unsatisfied[0].name, "get_user");
    assert!(
        run(&mut wb)
            .error
            .as_ref()
            .unwrap()
            .message
            .contains("get_user")
    );
    wb.apply(Command::DefineHostFn(Box::new(flag(
        r#"acme:tenant::get_user=value:{"name":"Tess","plan":"free"}"#,
    ))));
    assert!(wb.session().unwrap().unsatisfied_imports().is_empty());
    let report = run(&mut wb);
    // tenant-app checks the user it gets is the one it asked for.
    assert!(
        report.error.as_ref().unwrap().message.contains("u-42"),
        "{report:?}"
    );
    // A disabled definition is kept but not linked.
    wb.apply(Command::EnableHostFn {
        module: "acme:tenant".into(),
        name: "get_user".into(),
        enabled: false,
    });
    assert_eq!(wb.session().unwrap().unsatisfied_imports().len(), 1);
    assert!(
        wb.state()
            .host_functions
            .iter()
            .any(|d| d.name == "get_user" && !d.enabled)
    );
    // A definition that does not fit is refused with the reason in the status line.
    wb.apply(Command::DefineHostFn(Box::new(flag(
        "acme:billing::price_cents(bytes,bytes)=value:1",
    ))));
    assert!(
        matches!(wb.status(), Some(Notice::HostFnProblem(p)) if p.name == "price_cents"),
        "{:?}",
        wb.status()
    );
    assert!(wb.status().unwrap().is_error());
    assert!(wb.host_problem("acme:billing", "price_cents").is_some());
}

#[test]
fn sessions_and_bundles_keep_the_definitions_and_replay_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut wb = workbench();
    wb.apply(Command::Open(Source::sample("tenant-app").unwrap()));
    settle(&mut wb);
    wb.apply(Command::SelectFunction("quote".into()));
    *wb.input_text_mut() = r#"{"sku":"team-seat","quantity":2}"#.to_string();
    wb.input_edited();
    common::assert_ok(&run(&mut wb));
    wb.apply(Command::RecordExpected);
    let bundle_path = dir.path().join("tenant.bundle.json");
    wb.apply(Command::SaveSession {
        path: bundle_path.clone(),
        embed: true,
    });
    let text = std::fs::read_to_string(&bundle_path).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(saved["version"], 3);
    let defs = saved["host_functions"].as_array().unwrap();
    assert_eq!(defs.len(), 3);
    let mock = defs.iter().find(|d| d["behaviour"] == "wasm").unwrap();
    assert!(
        mock["embedded"].as_str().unwrap().len() > 1000,
        "the mock is embedded"
    );
    assert_eq!(
        mock["sha256"],
        extism_playground::platform::digest::sha256_hex(
            &std::fs::read(asset("mock-host.wasm")).unwrap()
        )
    );
    assert!(defs.iter().any(|d| {
        d["script"]
            .as_str()
            .is_some_and(|s| s.contains("fn price_cents"))
    }));

    // The bundle opens in a fresh workbench with its definitions and runs the same.
    let mut other = workbench();
    other.apply(Command::Open(Source::Path(bundle_path.clone())));
    settle(&mut other);
    assert!(
        matches!(other.plugin(), PluginSlot::Ready(_)),
        "{:?}",
        other.status()
    );
    assert_eq!(other.state().host_functions.len(), 3);
    let report = run(&mut other);
    assert_eq!(
        common::output(&report),
        r#"{"sku":"team-seat","quantity":2,"total_cents":1800}"#
    );

    // And headless: replay reproduces the tenant's plugin with its mocked host.
    let out = common::run_bin(&["replay", bundle_path.to_str().unwrap()], b"");
    assert_exit(&out, 0);
    assert!(
        common::stdout(&out).starts_with("match:"),
        "{}",
        common::stdout(&out)
    );
}

#[test]
fn a_version_1_bundle_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = std::fs::read(common::sample("hello")).unwrap();
    let v1 = serde_json::json!({
        "format": "extism-playground-bundle",
        "version": 1,
        "manifest": {"wasm": [{"data": base64_of(&wasm)}]},
        "host": {"kv": {"greeting": "hello"}},
        "function": "greet",
        "input": {"text": "Ada"},
        "expected": {"output": {"text": "Hello, Ada!"}}
    });
    let path = dir.path().join("old.bundle.json");
    std::fs::write(&path, serde_json::to_vec(&v1).unwrap()).unwrap();
    let scenario = bundle::load(&path).unwrap();
    assert!(scenario.host_functions.is_empty());
    assert_eq!(scenario.host.kv["greeting"], Bytes::from("hello"));
    let out = common::run_bin(&["replay", path.to_str().unwrap()], b"");
    assert_exit(&out, 0);
    // Saved again, it is written as the current version.
    let saved = Bundle::new(&scenario, true, false);
    assert_eq!(
        saved.version, 3,
        "a bundle without registry pins stays readable by builds that read version 3"
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---- the command line ----

#[test]
fn cli_runs_each_flag_form() {
    let tenant_app = asset("tenant-app.wasm");
    let app = tenant_app.to_str().unwrap();
    let out = common::run_bin(
        &[
            "call",
            app,
            "quote",
            "-i",
            r#"{"sku":"pro-seat","quantity":3}"#,
            "--mock-host",
            "assets/samples/mock-host.wasm",
            "--host-fn",
            RHAI_PRICE,
        ],
        b"",
    );
    assert_exit(&out, 0);
    assert_eq!(
        common::stdout(&out),
        r#"{"sku":"pro-seat","quantity":3,"total_cents":3600}"#
    );
    // --mock-host bound audit too (mock-host exports it), and its log line is the host's.
    assert!(
        common::stderr(&out).contains("[info host] [mock host] quoted 3 x pro-seat"),
        "{}",
        common::stderr(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let defs = dir.path().join("host.json");
    std::fs::write(
        &defs,
        r#"{"host_functions": [
            {"module": "acme:tenant", "name": "get_user", "behaviour": "template",
             "template": "{\"id\": \"{0}\", \"name\": \"Echo\", \"plan\": \"free\"}"},
            {"module": "acme:tenant", "name": "audit", "behaviour": "kv-set", "params": ["bytes"]},
            {"module": "acme:billing", "name": "price_cents", "result": "num", "behaviour": "value", "value": "5"}
        ]}"#,
    )
    .unwrap();
    let out = common::run_bin(
        &[
            "call",
            app,
            "greet_user",
            "-i",
            r#"{"user_id":"u-9"}"#,
            "--host-fns",
            defs.to_str().unwrap(),
        ],
        b"",
    );
    // kv-set needs two arguments; audit takes one: refused before anything runs.
    assert_exit(&out, 2);
    assert!(
        common::stderr(&out).contains("kv-set needs the key and the value"),
        "{}",
        common::stderr(&out)
    );

    let out = common::run_bin(
        &[
            "call",
            app,
            "greet_user",
            "-i",
            r#"{"user_id":"u-9"}"#,
            "--host-fns",
            defs.to_str().unwrap(),
            "--host-fn",
            "acme:tenant::audit=value:",
        ],
        b"",
    );
    assert_exit(&out, 0);
    assert_eq!(
        common::stdout(&out),
        "Hello, Echo! You are on the free plan."
    );
}

#[test]
fn cli_names_each_unsatisfied_import_with_the_flag_that_would_define_it() {
    let out = common::run_bin(
        &[
            "call",
            fixture("go-host-mult").to_str().unwrap(),
            "run_test",
            "--wasi",
        ],
        b"",
    );
    assert_exit(&out, 2);
    let err = common::stderr(&out);
    assert!(err.contains("extism:host/user::mult"), "{err}");
    assert!(err.contains("--host-fn 'mult=value:TEXT'"), "{err}");
    let out = common::run_bin(
        &["call", asset("tenant-app.wasm").to_str().unwrap(), "quote"],
        b"",
    );
    let err = common::stderr(&out);
    assert!(
        err.contains("--host-fn 'acme:billing::price_cents=value:TEXT'"),
        "{err}"
    );
    assert!(
        err.contains("--host-fn 'acme:tenant::audit=value:'"),
        "{err}"
    );
}

#[test]
fn cli_save_bundle_keeps_the_mocks_for_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("call.bundle.json");
    let out = common::run_bin(
        &[
            "call",
            fixture("go-host-mult").to_str().unwrap(),
            "run_test",
            "--wasi",
            "--host-fn",
            "mult(num,num)->num=rhai:tests/fixtures/mult.rhai",
            "--save-bundle",
            path.to_str().unwrap(),
        ],
        b"",
    );
    assert_exit(&out, 0);
    assert_eq!(common::stdout(&out), "42 x 2 = 84");
    let out = common::run_bin(&["replay", path.to_str().unwrap()], b"");
    assert_exit(&out, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_flag_parser_never_panics(text in ".{0,80}") {
        let _ = HostFnDef::parse_flag(&text, Path::new("/nonexistent"));
    }

    #[test]
    fn flag_shaped_text_never_panics(
        module in "[a-z:/]{0,12}",
        name in "[a-zA-Z_]{0,10}",
        kinds in "(\\((bytes|num|x)?(,(bytes|num))*\\))?(->(bytes|num|zz))?",
        spec in "(value|bytes|template|kv-get|kv-set|fail|rhai|wasm|other)(:.{0,20})?",
    ) {
        let text = format!("{module}::{name}{kinds}={spec}");
        if let Ok(def) = HostFnDef::parse_flag(&text, Path::new("/nonexistent")) {
            // What parses describes itself as a flag that parses to the same definition
            // (for the behaviours that carry no file).
            if !matches!(def.behaviour, Behaviour::Rhai { .. } | Behaviour::Wasm(_)) {
                let again = HostFnDef::parse_flag(&def.to_flag(), Path::new("/nonexistent")).unwrap();
                prop_assert_eq!(again, def);
            }
        }
    }

    #[test]
    fn the_definitions_loader_never_panics(text in ".{0,200}") {
        let _ = define::parse_definitions(&text);
    }

    #[test]
    fn json_shaped_definitions_never_panic(
        name in "[a-z]{0,6}",
        behaviour in "(value|template|kv-get|kv-set|fail|rhai|wasm|nope)",
        extra in prop_oneof![
            Just(""),
            Just(r#", "value": "x""#),
            Just(r#", "value": {"base64": "%%"}"#),
            Just(r#", "script": 3"#),
            Just(r#", "params": ["num"]"#),
            Just(r#", "result": "bytes""#),
            Just(r#", "embedded": "AA==", "sha256": "00""#),
            Just(r#", "file": "missing.wasm""#),
        ],
    ) {
        let text = format!(r#"[{{"name": "{name}", "behaviour": "{behaviour}"{extra}}}]"#);
        if let Ok(defs) = define::parse_definitions(&text) {
            for mut def in defs {
                let _ = def.load(define::LoadFrom::own(Path::new("/nonexistent")));
            }
        }
    }
}

#[test]
fn arg_kinds_default_by_type() {
    use extism_playground::runner::host::WasmType;
    assert_eq!(ArgKind::default_for(WasmType::I64), ArgKind::Bytes);
    assert_eq!(ArgKind::default_for(WasmType::I32), ArgKind::Num);
    assert_eq!(ArgKind::default_for(WasmType::F64), ArgKind::Num);
    let mock = MockSource::read(&asset("mock-host.wasm")).unwrap();
    assert_eq!(mock.label(), "mock-host.wasm");
}

#[test]
fn a_bundle_naming_a_mock_host_plugin_outside_its_folder_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    std::fs::create_dir(&case).unwrap();
    let mock = asset("mock-host.wasm");
    let bundle = serde_json::json!({
        "format": "extism-playground-bundle",
        "version": 2,
        "manifest": {"wasm": [{"data": base64_of(&std::fs::read(asset("tenant-app.wasm")).unwrap())}]},
        "host_functions": [
            {"module": "acme:tenant", "name": "get_user", "behaviour": "wasm",
             "file": mock, "sha256": extism_playground::platform::digest::sha256_hex(&std::fs::read(&mock).unwrap())},
            {"module": "acme:tenant", "name": "audit", "behaviour": "value", "value": ""},
            {"module": "acme:billing", "name": "price_cents", "result": "num", "behaviour": "value", "value": "1"}
        ],
        "function": "greet_user",
        "input": {"text": "{\"user_id\": \"u-1\"}"}
    });
    let path = case.join("tenant.bundle.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    let file = path.to_str().unwrap();
    let input = r#"{"user_id": "u-1"}"#;
    let out = common::run_bin(&["call", file, "greet_user", "-i", input], b"");
    assert_exit(&out, 2);
    let err = common::stderr(&out);
    assert!(
        err.contains("mock-host plugin, outside the file's folder"),
        "{err}"
    );
    let out = common::run_bin(
        &["call", file, "greet_user", "-i", input, "--no-grants"],
        b"",
    );
    assert_exit(&out, 2);
    assert!(
        common::stderr(&out).contains("was not read"),
        "{}",
        common::stderr(&out)
    );
    let out = common::run_bin(&["call", file, "greet_user", "-i", input, "--trust"], b"");
    assert_exit(&out, 0);
    assert_eq!(
        common::stdout(&out),
        "Hello, Linus! You are on the free plan."
    );
}

#[test]
fn the_window_state_with_every_behaviour_reads_back_from_ron() {
    // eframe keeps the window's state as RON: a definition RON cannot read back would reset
    // everything the window remembers.
    let mut state = extism_playground::app::state::AppState::default();
    let mut marked = flag("acme:billing::price_cents(bytes,num)->num=value:5");
    marked.enabled = false;
    let mut mock = MockSource::read(&asset("mock-host.wasm")).unwrap();
    mock.export = Some("trap".into());
    state.workbench.host_functions = vec![
        flag("a=value:text"),
        flag("b=bytes:/wAH"),
        flag("c=template:{0} and {1}"),
        flag("d=kv-get"),
        flag("e=kv-set"),
        flag("f=fail:no"),
        flag(RHAI_PRICE),
        HostFnDef::new("acme:tenant", "get_user", Behaviour::Wasm(mock)),
        marked,
    ];
    state
        .workbench
        .host
        .kv
        .insert("bin".into(), Bytes(vec![0, 255]));
    let text = ron::ser::to_string(&state).unwrap();
    let back: extism_playground::app::state::AppState =
        ron::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        back.workbench.host_functions,
        state.workbench.host_functions
    );
    assert_eq!(back.workbench.host.kv, state.workbench.host.kv);
}

/// A version 2 bundle of tenant-app with these definitions.
fn tenant_bundle(dir: &Path, defs: &serde_json::Value) -> PathBuf {
    let bundle = serde_json::json!({
        "format": "extism-playground-bundle",
        "version": 2,
        "manifest": {"wasm": [{"data": base64_of(&std::fs::read(asset("tenant-app.wasm")).unwrap())}]},
        "host_functions": defs,
        "function": "greet_user",
        "input": {"text": "{\"user_id\": \"u-1\"}"}
    });
    let path = dir.join("tenant.bundle.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    path
}

#[test]
fn a_bundle_cannot_read_a_script_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "fn get_user(id) { \"private\" }").unwrap();
    let path = tenant_bundle(
        dir.path(),
        &serde_json::json!([
            {"module": "acme:tenant", "name": "get_user", "behaviour": "rhai", "file": secret},
        ]),
    );
    let out = common::run_bin(&["call", path.to_str().unwrap(), "greet_user"], b"");
    assert_exit(&out, 2);
    assert!(
        common::stderr(&out).contains("carries no script"),
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn an_embedded_mock_never_reads_the_file_it_also_names() {
    let dir = tempfile::tempdir().unwrap();
    let mock = std::fs::read(asset("mock-host.wasm")).unwrap();
    let path = tenant_bundle(
        dir.path(),
        &serde_json::json!([
            {"module": "acme:tenant", "name": "get_user", "behaviour": "wasm",
             "file": "/dev/zero", "embedded": base64_of(&mock)},
        ]),
    );
    let scenario = bundle::load(&path).unwrap();
    let Behaviour::Wasm(loaded) = &scenario.host_functions[0].behaviour else {
        panic!("a wasm definition");
    };
    assert!(loaded.file.is_none(), "{loaded:?}");
    assert_eq!(loaded.label(), "zero");
    assert_eq!(loaded.loaded.as_deref(), Some(&mock));
}

#[test]
fn a_missing_mock_shows_as_its_imports_problem_and_the_rest_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = tenant_bundle(
        dir.path(),
        &serde_json::json!([
            {"module": "acme:tenant", "name": "get_user", "behaviour": "wasm",
             "file": "gone.wasm", "sha256": "00"},
            {"module": "acme:tenant", "name": "audit", "behaviour": "value", "value": ""}
        ]),
    );
    let scenario = bundle::load(&path).unwrap();
    let inspection = Inspection::of("t", &scenario.plugin.main().bytes).unwrap();
    let (_, problems) =
        HostRegistry::with_definitions(&scenario.host_functions, &inspection.imports);
    assert_eq!(problems.len(), 1);
    assert!(
        matches!(
            &problems[0].reason,
            FitError::MockNotLoaded { label, cause: Some(cause) }
                if label == "gone.wasm" && matches!(**cause, MockLoadError::Read(_))
        ),
        "{}",
        problems[0]
    );
}

#[test]
fn a_session_embeds_mocks_that_have_no_file_and_the_users_definitions_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(common::sample("hello"))));
    settle(&mut wb);
    wb.apply(Command::DefineHostFn(Box::new(flag("mine=value:kept"))));
    wb.apply(Command::Open(Source::sample("tenant-app").unwrap()));
    settle(&mut wb);
    assert_eq!(
        wb.state().host_functions.len(),
        3,
        "the sample has its own mocks, not another plugin's definitions"
    );
    // A session (plugin by path) embeds the sample's mock: it has no file to name.
    let session = dir.path().join("tenant.session.json");
    wb.apply(Command::SaveSession {
        path: session.clone(),
        embed: false,
    });
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&session).unwrap()).unwrap();
    let mock = saved["host_functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["behaviour"] == "wasm")
        .unwrap();
    assert!(mock["embedded"].is_string(), "{mock}");
    assert_eq!(mock["file_name"], "mock-host.wasm");
    // Opening the session puts the sample's definitions aside with it; opening the plugin
    // they were defined for brings its own back.
    wb.apply(Command::DefineHostFn(Box::new(flag("mine=value:again"))));
    wb.apply(Command::Open(Source::Path(session)));
    settle(&mut wb);
    assert!(
        matches!(wb.plugin(), PluginSlot::Ready(_)),
        "{:?}",
        wb.status()
    );
    assert_eq!(wb.state().host_functions.len(), 3);
    assert!(wb.session().unwrap().unsatisfied_imports().is_empty());
    common::assert_ok(&run(&mut wb));
    wb.apply(Command::Open(Source::Path(common::sample("hello"))));
    settle(&mut wb);
    assert!(wb.state().host_functions.iter().any(|d| d.name == "mine"));
}
