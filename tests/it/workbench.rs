//! The workbench model without a window: driven with commands, read through its state, with
//! plugin calls running in real worker processes. Open, run, fail, reload, option changes,
//! reset, sessions and bundles, per-plugin memory, and open failures.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use crate::common::model::{poll_until, run, said, settle, workbench};
use extism_playground::bundle::{ExpectedOutcome, InputMode};
use extism_playground::platform::files::ReadError;
use extism_playground::runner::{CallReport, ErrorKind, LoadError, SandboxOptions};
use extism_playground::workbench::notice::{Called, NewInstance, OpeningStage, TestAdded};
use extism_playground::workbench::{
    Command, FreshReason, Intent, Notice, OpenError, OptionsOrigin, PluginRef, PluginSlot,
    RunBlocker, Source, Watch, Workbench, WorkbenchState,
};

fn sample(name: &str) -> Source {
    Source::sample(name).expect("a built-in sample")
}

fn output(report: &CallReport) -> String {
    String::from_utf8_lossy(&report.output).into_owned()
}

fn set_input(wb: &mut Workbench, text: &str) {
    *wb.input_text_mut() = text.to_string();
    wb.input_edited();
}

fn copy_sample(dir: &Path, name: &str, to: &str) -> std::path::PathBuf {
    let path = dir.join(to);
    std::fs::copy(common::sample(name), &path).unwrap();
    path
}

#[test]
fn a_sample_opens_ready_to_run_and_runs() {
    let mut wb = workbench();
    wb.restore();
    settle(&mut wb);
    assert!(matches!(wb.plugin(), PluginSlot::Ready(_)));
    assert_eq!(wb.state().function, "count_vowels");
    let report = run(&mut wb);
    assert_eq!(
        output(&report),
        r#"{"count":7,"total":7,"vowels":"aeiouAEIOU"}"#
    );
    assert_eq!(wb.history().runs().len(), 1);
    assert!(
        matches!(wb.status(), Some(Notice::Called(Called { function, error: None, .. })) if function == "count_vowels"),
        "{}",
        said(&wb)
    );
}

#[test]
fn failures_are_reported_and_a_broken_instance_is_replaced() {
    let mut wb = workbench();
    wb.apply(Command::Open(sample("chaos")));
    settle(&mut wb);
    wb.apply(Command::SelectFunction("error_return".into()));
    let report = run(&mut wb);
    assert_eq!(report.error_kind(), Some(ErrorKind::PluginError));
    assert_eq!(wb.fresh_reason(), None, "a clean error keeps the instance");

    wb.apply(Command::SelectFunction("trap".into()));
    let report = run(&mut wb);
    assert_eq!(report.error_kind(), Some(ErrorKind::Trap));
    assert_eq!(wb.fresh_reason(), Some(FreshReason::PreviousCallFailed));
    assert!(
        matches!(
            wb.status(),
            Some(Notice::Called(Called {
                error: Some(ErrorKind::Trap),
                discarded: true,
                ..
            }))
        ),
        "{}",
        said(&wb)
    );
    wb.apply(Command::SelectFunction("error_return".into()));
    let report = run(&mut wb);
    assert!(report.new_instance);
    assert!(
        new_instance_because(&wb, FreshReason::PreviousCallFailed),
        "{}",
        said(&wb)
    );
}

#[test]
fn an_option_change_reaches_the_session_and_starts_a_new_instance() {
    let mut wb = workbench();
    wb.restore();
    settle(&mut wb);
    run(&mut wb);
    let warm = run(&mut wb);
    assert!(output(&warm).contains(r#""total":14"#), "{}", output(&warm));
    let options = SandboxOptions {
        timeout_ms: Some(5_000),
        ..wb.state().options.clone()
    };
    wb.apply(Command::SetOptions(options.clone()));
    assert_eq!(wb.fresh_reason(), Some(FreshReason::OptionsChanged));
    assert_eq!(*wb.session().unwrap().options(), options);
    let fresh = run(&mut wb);
    assert!(
        output(&fresh).contains(r#""total":7"#),
        "{}",
        output(&fresh)
    );
    assert!(
        new_instance_because(&wb, FreshReason::OptionsChanged),
        "{}",
        said(&wb)
    );
    // Setting the same options again changes nothing.
    wb.apply(Command::SetOptions(options));
    assert_eq!(wb.fresh_reason(), None);
}

#[test]
fn reset_discards_the_instance_without_waiting() {
    let mut wb = workbench();
    wb.apply(Command::Open(sample("counter")));
    settle(&mut wb);
    run(&mut wb);
    assert_eq!(output(&run(&mut wb)), r#"{"count":2}"#);
    wb.apply(Command::ResetInstance);
    assert_eq!(wb.fresh_reason(), Some(FreshReason::ResetByYou));
    assert_eq!(output(&run(&mut wb)), r#"{"count":1}"#);
    assert!(
        new_instance_because(&wb, FreshReason::ResetByYou),
        "{}",
        said(&wb)
    );
}

#[test]
fn reset_during_a_call_applies_to_the_next_one() {
    let mut wb = workbench();
    wb.apply(Command::Open(sample("chaos")));
    settle(&mut wb);
    wb.apply(Command::Run);
    poll_until(&mut wb, "spin to start", |wb| {
        matches!(wb.run_slot(), extism_playground::workbench::RunSlot::Running(r)
            if r.call.phase() == extism_playground::runner::Phase::Calling)
    });
    wb.apply(Command::ResetInstance);
    assert!(wb.is_running(), "reset does not wait for the call");
    wb.apply(Command::Stop);
    poll_until(&mut wb, "the stop", |wb| !wb.is_running());
    assert_eq!(
        wb.last().unwrap().report.error_kind(),
        Some(ErrorKind::Cancelled)
    );
}

#[test]
fn reload_keeps_options_and_input_and_names_a_vanished_function() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_sample(dir.path(), "counter", "plugin.wasm");
    let mut wb = workbench();
    // This test runs by hand after each reload (re-run on reload has its own test).
    wb.apply(Command::SetRerunOnReload(false));
    wb.apply(Command::Open(Source::Path(path.clone())));
    settle(&mut wb);
    assert_eq!(wb.state().function, "increment");
    let options = SandboxOptions {
        fuel_limit: Some(50_000_000),
        ..SandboxOptions::default()
    };
    wb.apply(Command::SetOptions(options.clone()));
    assert_eq!(output(&run(&mut wb)), r#"{"count":1}"#);

    // The author rebuilds: hello appears where counter was.
    copy_sample(dir.path(), "hello", "plugin.wasm");
    wb.apply(Command::Reload);
    settle(&mut wb);
    assert_eq!(wb.state().function, "count_vowels");
    assert_eq!(wb.state().options, options, "options survive a reload");
    assert!(
        matches!(wb.status(), Some(Notice::Reloaded { gone: Some(gone), .. }) if gone == "increment"),
        "{}",
        said(&wb)
    );
    assert_eq!(wb.fresh_reason(), Some(FreshReason::Reloaded));
    wb.apply(Command::SetInputMode(InputMode::Raw));
    set_input(&mut wb, "aaa");
    let report = run(&mut wb);
    assert!(
        output(&report).starts_with(r#"{"count":3"#),
        "{}",
        output(&report)
    );
    assert!(
        report.fuel_consumed.is_some(),
        "the fuel limit still applies"
    );

    // A broken rebuild keeps the working version.
    std::fs::write(&path, b"\0asm\x01\0\0\0garbage").unwrap();
    wb.apply(Command::Reload);
    settle(&mut wb);
    assert!(
        matches!(wb.status(), Some(Notice::ReloadFailed { .. })),
        "{}",
        said(&wb)
    );
    let report = run(&mut wb);
    assert!(report.is_ok(), "{:?}", report.error);
}

#[test]
fn hot_reload_notices_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_sample(dir.path(), "counter", "plugin.wasm");
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(path)));
    settle(&mut wb);
    assert!(
        matches!(wb.watch(), Watch::Events(_)),
        "the OS reports changes to the file"
    );
    assert_eq!(
        wb.poll(),
        None,
        "an idle watched plugin asks for no polling"
    );
    copy_sample(dir.path(), "hello", "plugin.wasm");
    poll_until(&mut wb, "hot reload", |wb| {
        wb.state().function == "count_vowels"
    });
    assert!(
        matches!(
            wb.status(),
            Some(Notice::Reloaded {
                automatic: true,
                ..
            })
        ),
        "{}",
        said(&wb)
    );
    wb.apply(Command::SetHotReload(false));
    assert!(matches!(wb.watch(), Watch::Off));
}

#[test]
fn a_rebuild_written_in_steps_reloads_once_and_reruns_against_the_last_run() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = wat::parse_str(common::greeting_wat("version one")).unwrap();
    let v2 = wat::parse_str(common::greeting_wat("version two")).unwrap();
    let path = dir.path().join("plugin.wasm");
    std::fs::write(&path, &v1).unwrap();
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(path.clone())));
    settle(&mut wb);
    wb.apply(Command::SetInputMode(InputMode::Raw));
    assert_eq!(output(&run(&mut wb)), "version one");
    assert!(
        wb.reload_change().is_none(),
        "a run by hand compares nothing"
    );

    // A build writes the module in several steps: truncated, half, whole.
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&path).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        file.write_all(&v2[..v2.len() / 2]).unwrap();
        file.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        file.write_all(&v2[v2.len() / 2..]).unwrap();
    }
    poll_until(&mut wb, "the re-run after the reload", |wb| {
        wb.history().runs().len() == 2 && !wb.is_running()
    });
    assert_eq!(output(&wb.last().unwrap().report), "version two");
    let change = wb.reload_change().expect("the re-run is compared");
    assert_eq!(
        (change.before, change.after, change.same),
        (Some(1), 2, false)
    );
    let changed: Vec<_> = change.rows.iter().filter(|r| r.is_changed()).collect();
    assert_eq!(changed.len(), 1, "{:?}", change.rows);
    assert_eq!(changed[0].left.as_ref().unwrap().text, "version one");
    assert_eq!(changed[0].right.as_ref().unwrap().text, "version two");

    // Nothing more comes of that burst of writes: one reload, one re-run.
    let quiet_until = std::time::Instant::now() + std::time::Duration::from_millis(300);
    while std::time::Instant::now() < quiet_until {
        let _ = wb.poll();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(wb.history().runs().len(), 2, "the burst reloaded once");

    // The same build written again reloads and re-runs: the same output, said as such.
    std::fs::write(&path, &v2).unwrap();
    poll_until(&mut wb, "the re-run of the same build", |wb| {
        wb.history().runs().len() == 3 && !wb.is_running()
    });
    let change = wb.reload_change().unwrap();
    assert_eq!(
        (change.before, change.after, change.same),
        (Some(2), 3, true)
    );

    // A run by hand ends the comparison; with re-run off a reload only reloads.
    let _ = run(&mut wb);
    assert!(wb.reload_change().is_none());
    wb.apply(Command::SetRerunOnReload(false));
    std::fs::write(&path, &v1).unwrap();
    poll_until(&mut wb, "the reload", |wb| {
        matches!(
            wb.status(),
            Some(Notice::Reloaded {
                automatic: true,
                ..
            })
        )
    });
    assert!(!wb.is_running(), "nothing runs with re-run off");
    assert_eq!(wb.history().runs().len(), 4);
}

#[test]
fn a_session_round_trips_and_a_restore_keeps_what_was_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.bundle.json");
    let mut wb = workbench();
    wb.apply(Command::Open(sample("hello")));
    settle(&mut wb);
    wb.apply(Command::SelectFunction("greet".into()));
    set_input(&mut wb, "bundle");
    let options = SandboxOptions {
        memory_max_pages: Some(64),
        ..wb.state().options.clone()
    };
    wb.apply(Command::SetOptions(options.clone()));
    run(&mut wb);
    wb.apply(Command::RecordExpected);
    assert_eq!(
        wb.state().expected,
        Some(ExpectedOutcome::Output(b"Hello, bundle!".to_vec()))
    );
    wb.apply(Command::SaveSession {
        path: path.clone(),
        embed: true,
    });
    assert!(
        matches!(wb.status(), Some(Notice::SessionSaved { embed: true, .. })),
        "{}",
        said(&wb)
    );

    // A new workbench opens it fresh: everything comes back, ready to run and matching.
    let mut other = workbench();
    other.apply(Command::Open(Source::Path(path.clone())));
    settle(&mut other);
    assert_eq!(other.state().plugin, PluginRef::Bundle(path.clone()));
    assert_eq!(other.state().function, "greet");
    assert_eq!(other.state().input.text, "bundle");
    assert_eq!(other.state().options, options);
    assert_eq!(
        other.ready().unwrap().options_origin,
        OptionsOrigin::Scenario
    );
    run(&mut other);
    assert!(other.verdict().unwrap().matched);

    // Restoring (the app starting with it) keeps the saved state instead: only the plugin is
    // read again from the bundle.
    let mut saved = other.state().clone();
    saved.input.text = "typed after opening".into();
    let mut restored = Workbench::new(saved, common::worker(), Arc::new(|| {}))
        .with_trust_store(common::trust_store());
    restored.restore();
    settle(&mut restored);
    assert_eq!(restored.state().input.text, "typed after opening");
    assert_eq!(restored.state().function, "greet");
    assert!(matches!(restored.plugin(), PluginSlot::Ready(_)));
}

#[test]
fn each_plugin_keeps_its_own_options_function_and_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_sample(dir.path(), "hello", "mine.wasm");
    let mut wb = workbench();
    wb.apply(Command::Open(sample("wasi-demo")));
    settle(&mut wb);
    assert!(wb.state().options.wasi);
    assert_eq!(wb.ready().unwrap().options_origin, OptionsOrigin::Sample);

    // A plugin never opened before starts closed: WASI does not carry over.
    wb.apply(Command::Open(Source::Path(path.clone())));
    settle(&mut wb);
    assert!(!wb.state().options.wasi, "{:?}", wb.state().options);
    assert!(wb.state().options.allowed_paths.is_empty());
    assert_eq!(wb.ready().unwrap().options_origin, OptionsOrigin::Defaults);
    wb.apply(Command::SelectFunction("greet".into()));
    set_input(&mut wb, "mine");
    let mine = SandboxOptions {
        timeout_ms: Some(1234),
        ..SandboxOptions::default()
    };
    wb.apply(Command::SetOptions(mine.clone()));

    // Back to wasi-demo: its own options; then back to mine.wasm: its own.
    wb.apply(Command::Open(sample("wasi-demo")));
    settle(&mut wb);
    assert!(wb.state().options.wasi);
    assert_eq!(
        wb.ready().unwrap().options_origin,
        OptionsOrigin::Remembered
    );
    wb.apply(Command::Open(Source::Path(path)));
    settle(&mut wb);
    assert_eq!(wb.state().options, mine);
    assert_eq!(wb.state().function, "greet");
    assert_eq!(wb.state().input.text, "mine");
    assert_eq!(
        wb.ready().unwrap().options_origin,
        OptionsOrigin::Remembered
    );
}

#[test]
fn a_wasi_module_opened_for_the_first_time_gets_wasi() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_sample(dir.path(), "wasi-demo", "w.wasm");
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(path)));
    settle(&mut wb);
    assert!(wb.state().options.wasi);
    wb.apply(Command::SelectFunction("print".into()));
    wb.apply(Command::SetInputMode(InputMode::Raw));
    set_input(&mut wb, "hi");
    let report = run(&mut wb);
    assert_eq!(output(&report), "printed 2 bytes");
}

#[test]
fn toolchain_internals_are_not_picked_as_the_function() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::js_shaped_module(&dir);
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(path)));
    settle(&mut wb);
    assert_eq!(wb.state().function, "greet");
}

#[test]
fn a_failed_open_keeps_the_open_plugin_or_says_why_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wasm");
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(missing.clone())));
    settle(&mut wb);
    let PluginSlot::Failed { error, .. } = wb.plugin() else {
        panic!("nothing was open: the slot says it failed");
    };
    assert!(
        matches!(
            &**error,
            OpenError::Load(LoadError::Read(ReadError::Io { path, .. })) if *path == missing
        ),
        "{error}"
    );
    assert_eq!(wb.run_blocker(), Some(RunBlocker::NoPlugin));

    wb.apply(Command::Open(sample("hello")));

    settle(&mut wb);
    wb.apply(Command::Open(Source::Path(missing)));
    settle(&mut wb);
    let ready = wb.ready().expect("hello stays open");
    assert_eq!(ready.origin, PluginRef::Sample("hello".into()));
    assert!(
        ready
            .open_error
            .as_deref()
            .is_some_and(|e| e.to_string().contains("missing.wasm"))
    );
    assert!(
        matches!(wb.status(), Some(Notice::OpenFailed { .. })),
        "{}",
        said(&wb)
    );
    assert!(run(&mut wb).is_ok());
}

#[test]
fn a_restore_of_a_vanished_file_falls_back_to_hello_and_says_so() {
    let state = WorkbenchState {
        plugin: PluginRef::File("/definitely/not/here.wasm".into()),
        function: "whatever".into(),
        ..WorkbenchState::default()
    };
    let mut wb = Workbench::new(state, common::worker(), Arc::new(|| {}))
        .with_trust_store(common::trust_store());
    wb.restore();
    settle(&mut wb);
    assert_eq!(wb.state().plugin, PluginRef::Sample("hello".into()));
    assert_eq!(wb.state().function, "count_vowels");
    assert!(
        matches!(wb.status(), Some(Notice::RestoreFailed(_))),
        "{}",
        said(&wb)
    );
    assert!(wb.status().unwrap().is_error());
}

#[test]
fn a_manifest_that_downloads_opens_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::remote_manifest(dir.path(), "counter");
    let mut wb = workbench();
    wb.apply(Command::Open(sample("hello")));
    settle(&mut wb);
    wb.open(Source::Path(manifest), Intent::Fresh);
    // Read in the background; its download is a grant, asked about before anything is sent.
    poll_until(&mut wb, "the question", |wb| wb.asking().is_some());
    wb.apply(Command::Answer(extism_playground::workbench::Answer::Allow));
    // Then resolved (downloaded) in the background.
    poll_until(&mut wb, "the manifest to be read", |wb| {
        matches!(wb.plugin(), PluginSlot::Opening(_))
            && matches!(
                wb.status(),
                Some(Notice::Opening {
                    stage: OpeningStage::Downloading,
                    ..
                })
            )
    });
    let PluginSlot::Opening(opening) = wb.plugin() else {
        panic!("a download happens in the background");
    };
    assert!(opening.previous.is_some(), "hello stays shown meanwhile");
    assert!(
        matches!(wb.run_blocker(), Some(RunBlocker::StillOpening { .. })),
        "{:?}",
        wb.run_blocker()
    );
    poll_until(&mut wb, "the download", |wb| {
        matches!(wb.plugin(), PluginSlot::Ready(_))
    });
    assert_eq!(wb.state().function, "increment");
    assert_eq!(output(&run(&mut wb)), r#"{"count":1}"#);
}

#[test]
fn the_input_mode_and_json_check_follow_commands() {
    let mut wb = workbench();
    wb.apply(Command::Open(sample("hello")));
    settle(&mut wb);
    wb.apply(Command::SelectFunction("handle_event".into()));
    assert_eq!(wb.state().input.mode, InputMode::Json);
    set_input(&mut wb, "{\"user_id\": 42,");
    let error = wb.input_error().expect("broken JSON is caught").to_string();
    assert!(error.starts_with("line 1, column 15"), "{error}");
    assert!(matches!(wb.run_blocker(), Some(RunBlocker::InvalidJson(_))));
    wb.apply(Command::SetInputMode(InputMode::Raw));
    assert!(wb.input_error().is_none());
    assert!(wb.run_blocker().is_none());
    wb.apply(Command::SetInputMode(InputMode::Json));
    set_input(&mut wb, r#"{"user_id":7,"event":"login"}"#);
    wb.apply(Command::FormatInput);
    assert!(wb.state().input.text.contains("\n  \"user_id\": 7"));
}

#[test]
fn a_run_added_to_a_new_suite_carries_its_mocks_and_passes_headless() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_sample(dir.path(), "tenant-app", "tenant-app.wasm");
    let mut wb = workbench();
    // The sample's mocks, defined for the file (definitions belong to their plugin): a
    // mock-host plugin (embedded, no file of its own) and one Rhai script (no file either)
    // for two imports.
    wb.apply(Command::Open(Source::Path(plugin)));
    settle(&mut wb);
    for def in extism_playground::samples::find("tenant-app")
        .unwrap()
        .host_functions()
    {
        wb.apply(Command::DefineHostFn(Box::new(def)));
    }
    wb.apply(Command::SelectFunction("quote".into()));
    set_input(&mut wb, r#"{"sku": "pro-seat", "quantity": 3}"#);
    let report = run(&mut wb);
    assert!(report.error.is_none(), "{:?}", report.error);
    // Typed after the run: not what the test holds.
    set_input(&mut wb, r#"{"sku": "other", "quantity": 1}"#);

    let tests = dir.path().join("tests");
    std::fs::create_dir(&tests).unwrap();
    let suite = tests.join("tenant.toml");
    wb.apply(Command::AddRunToSuite(suite.clone()));
    assert!(
        matches!(wb.status(), Some(Notice::TestAdded(TestAdded { name, .. })) if name == "quote 1"),
        "{}",
        said(&wb)
    );
    let text = std::fs::read_to_string(&suite).unwrap();
    assert!(text.contains("wasm = \"../tenant-app.wasm\""), "{text}");
    assert!(
        text.contains("\"acme:tenant::get_user\" = \"wasm:tenant.get_user.wasm\""),
        "{text}"
    );
    assert!(
        text.contains("\"acme:billing::price_cents->num\" = \"rhai:tenant.audit.rhai\"")
            || text
                .contains("\"acme:billing::price_cents->num\" = \"rhai:tenant.price_cents.rhai\""),
        "{text}"
    );
    assert!(
        text.contains(r#"input = '{"sku": "pro-seat", "quantity": 3}'"#),
        "{text}"
    );
    let scripts = std::fs::read_dir(&tests)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "rhai")
        })
        .count();
    assert_eq!(scripts, 1, "the two definitions share one script file");

    let out = common::run_bin(&["test", suite.to_str().unwrap()], b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    assert!(
        common::stdout(&out).contains("1 passed"),
        "{}",
        common::stdout(&out)
    );
}

#[test]
fn a_c_plugin_run_with_a_script_becomes_a_suite_that_passes() {
    // c-pdk's count_vowels (from the extism repository) calls its host's hello_world; the
    // user stands in for that host with a Rhai echo typed in the window (no file of its own).
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("count-vowels.wasm");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/thirdparty/c-count-vowels-hostfn.wasm"),
        &plugin,
    )
    .unwrap();
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(plugin)));
    settle(&mut wb);
    wb.apply(Command::SetOptions(SandboxOptions {
        wasi: true,
        ..SandboxOptions::default()
    }));
    wb.apply(Command::DefineHostFn(Box::new(
        extism_playground::runner::host::HostFnDef::new(
            "extism:host/user",
            "hello_world",
            extism_playground::runner::host::Behaviour::Rhai {
                script: "fn hello_world(bytes) { bytes }".to_string(),
                file: None,
            },
        ),
    )));
    wb.apply(Command::SelectFunction("count_vowels".into()));
    wb.apply(Command::SetInputMode(InputMode::Raw));
    set_input(&mut wb, "Hello, world!");
    let report = run(&mut wb);
    assert_eq!(output(&report), r#"{"count": 3}"#);

    let suite = dir.path().join("c.toml");
    wb.apply(Command::AddRunToSuite(suite.clone()));
    assert!(
        matches!(
            wb.status(),
            Some(Notice::TestAdded(TestAdded { written, .. }))
                if written.iter().any(|f| f.ends_with("c.hello_world.rhai"))
        ),
        "{}",
        said(&wb)
    );
    let text = std::fs::read_to_string(&suite).unwrap();
    assert!(text.contains("wasi = true"), "{text}");
    assert!(
        text.contains("host_functions = { hello_world = \"rhai:c.hello_world.rhai\" }"),
        "{text}"
    );
    let out = common::run_bin(&["test", suite.to_str().unwrap()], b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
}

#[test]
fn hot_reload_survives_its_folder_being_removed_and_built_again() {
    // `cargo clean` removes the folder the module is in; the next build makes it again.
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    let path = release.join("plugin.wasm");
    std::fs::copy(common::sample("counter"), &path).unwrap();
    let mut wb = workbench();
    wb.apply(Command::SetRerunOnReload(false));
    wb.apply(Command::Open(Source::Path(path.clone())));
    settle(&mut wb);
    assert!(matches!(wb.watch(), Watch::Events(_)));
    std::fs::remove_dir_all(dir.path().join("target")).unwrap();
    poll_until(&mut wb, "the lost watch to be noticed", |wb| {
        matches!(wb.watch(), Watch::Polling { .. })
    });
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(common::sample("hello"), &path).unwrap();
    poll_until(&mut wb, "the rebuilt module to load", |wb| {
        wb.state().function == "count_vowels"
    });
    assert!(
        matches!(wb.watch(), Watch::Events(_)),
        "watching by events again once the module is back"
    );
}

/// Whether the last call ran on a new instance for `reason`, as the status bar says.
fn new_instance_because(wb: &Workbench, reason: FreshReason) -> bool {
    matches!(
        wb.status(),
        Some(Notice::Called(Called {
            instance: Some(NewInstance::Because(because)),
            ..
        })) if *because == reason
    )
}
