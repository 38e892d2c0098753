//! The author's loop, end to end with real cargo builds: File → New plugin… writes a starter
//! kit, builds it and opens it with its exports; its suite passes headless; a broken edit
//! builds with the compiler's error in the Build tab (a link to the source) while the previous
//! module stays loaded; the fixed edit builds, reloads, re-runs and shows what changed.
//! Needs the wasm targets (`rustup target add wasm32-unknown-unknown wasm32-wasip1`): without
//! them the tests say they were skipped, unless `EXTISM_PLAYGROUND_NO_SKIP` is set.

use std::path::Path;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable as _;
use extism_playground::app::App;
use extism_playground::build::Outcome;
use extism_playground::runner::host::define::ArgKind;
use extism_playground::runner::host::{HostFunction, Implementation, WasmType};
use extism_playground::starter::{self, Spec, StarterError, Template};
use extism_playground::workbench::Notice;

use crate::common;
use crate::common::window::{
    self, build_output, menu_item, replace_text, step_until_within, window_with,
};

/// Whether `target`'s standard library is installed for the toolchain that runs the tests.
fn has_target(target: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    std::process::Command::new(rustc)
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .is_some_and(|dir| Path::new(&dir).join("..").is_dir() && has_std(Path::new(&dir)))
}

fn has_std(libdir: &Path) -> bool {
    std::fs::read_dir(libdir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

fn require_target(target: &str) -> bool {
    common::require(
        &format!("the {target} target"),
        has_target(target),
        &format!("rustup target add {target}"),
    )
}

fn build_done(app: &App, number: u64) -> bool {
    app.workbench()
        .build_job()
        .is_some_and(|j| j.number == number && !j.is_running())
        && !app.workbench().is_running()
}

fn outcome(app: &App) -> Outcome {
    app.workbench()
        .build_job()
        .and_then(|j| j.build.outcome().cloned())
        .expect("a finished build")
}

const BUILD_LIMIT: Duration = Duration::from_mins(10);

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: create, build, test, break, fix"
)]
fn a_new_plugin_is_built_opened_tested_broken_and_fixed_from_the_window() {
    if !require_target("wasm32-unknown-unknown") {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let mut h = window_with(window::options());
    h.run();

    // File → New plugin…: the JSON event handler, into the temporary folder.
    menu_item(&mut h, "File", "New plugin…");
    replace_text(&mut h, "Name", "events-plugin");
    replace_text(&mut h, "Folder", &parent.path().display().to_string());
    h.get_by_label("Create and build").click();
    h.run_steps(2);
    step_until_within(&mut h, "the new plugin's first build", BUILD_LIMIT, |app| {
        build_done(app, 1)
            && app
                .workbench()
                .ready()
                .is_some_and(|r| r.origin.path().is_some())
    });
    assert!(
        matches!(outcome(h.state()), Outcome::Succeeded { .. }),
        "{}",
        build_output(h.state())
    );
    let dir = parent.path().join("events-plugin");
    let module = dir.join("target/wasm32-unknown-unknown/release/events_plugin.wasm");
    assert_eq!(
        h.state().workbench().ready().unwrap().origin.path(),
        Some(module.as_path())
    );
    // Its exports are listed, the v2 handler picked with the template's example input.
    h.get_by_label("handle_event_v1");
    h.get_by_label("handle_event_v2");
    assert_eq!(h.state().state().function, "handle_event_v2");
    h.get_by_role_and_label(Role::Button, "▶ Run").click();
    h.run_steps(2);
    step_until_within(&mut h, "the first run", Duration::from_mins(1), |app| {
        !app.is_running() && app.last_report().is_some()
    });
    let output = String::from_utf8_lossy(&h.state().last_report().unwrap().output).into_owned();
    let json: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(json["summary"], "order.created with 1 field(s)", "{output}");

    // Its suite passes headless, as its README says.
    let out = common::run_bin(
        &["test", &dir.join("suite.toml").display().to_string()],
        b"",
    );
    common::assert_exit(&out, 0);

    // A broken edit: the compiler's error shows in the Build tab, linked to its line, and the
    // module built before stays loaded.
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let broken = source.replace(
        "    let fields = event.data",
        "    let oops: u32 = \"not a number\";\n    let fields = event.data",
    );
    assert_ne!(broken, source, "the template has the line this test edits");
    std::fs::write(&lib, &broken).unwrap();
    let loaded_before = h
        .state()
        .workbench()
        .ready()
        .unwrap()
        .session
        .plugin()
        .main()
        .sha256
        .clone();
    h.key_press_modifiers(Modifiers::COMMAND, Key::B);
    h.run_steps(2);
    step_until_within(&mut h, "the broken build", BUILD_LIMIT, |app| {
        build_done(app, 2)
    });
    assert!(
        matches!(outcome(h.state()), Outcome::Failed { errors: 1, .. }),
        "{:?}",
        outcome(h.state())
    );
    // In the Build tab, and in the status bar's summary.
    assert_eq!(
        h.query_all_by_label_contains("error[E0308]: mismatched types")
            .count(),
        2
    );
    let error_line = broken.lines().position(|l| l.contains("let oops")).unwrap() + 1;
    let link = format!("src/lib.rs:{error_line}:");
    assert!(
        matches!(
            h.state().workbench().status(),
            Some(Notice::BuildFailed {
                errors: 1,
                kept: true,
                ..
            })
        ),
        "{:?}",
        h.state().workbench().status()
    );
    assert_eq!(
        h.state()
            .workbench()
            .ready()
            .unwrap()
            .session
            .plugin()
            .main()
            .sha256,
        loaded_before,
        "the module built before is still the one loaded"
    );
    h.query_all_by_label_contains(&link)
        .next()
        .unwrap_or_else(|| panic!("no line with {link}:\n{}", build_output(h.state())))
        .click();
    h.run_steps(3);
    h.get_by_label_contains("Source: lib.rs");

    // The fix: it builds, reloads, re-runs, and says what the change did.
    let fixed = source.replace("with {fields} field(s)", "carrying {fields} field(s)");
    std::fs::write(&lib, fixed).unwrap();
    h.key_press_modifiers(Modifiers::COMMAND, Key::B);
    h.run_steps(2);
    step_until_within(
        &mut h,
        "the fixed build and its re-run",
        BUILD_LIMIT,
        |app| build_done(app, 3) && app.workbench().reload_change().is_some(),
    );
    let change = h.state().workbench().reload_change().unwrap();
    assert!(!change.same);
    h.get_by_label_contains("The reload changed the result");
    let output = String::from_utf8_lossy(&h.state().last_report().unwrap().output).into_owned();
    assert!(
        output.contains("order.created carrying 1 field(s)"),
        "{output}"
    );
}

#[test]
fn a_wasi_text_kit_builds_headless_and_its_suite_passes() {
    if !require_target("wasm32-wasip1") {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    // The built-ins, and host functions of the kinds tenants' hosts have: numbers, names
    // that are not Rust names, the same name in two modules.
    let mut host = extism_playground::runner::HostRegistry::builtin()
        .functions()
        .to_vec();
    let odd = |module: &str, name: &str, params: Vec<WasmType>, results: Vec<WasmType>| {
        let kinds = params.iter().map(|t| ArgKind::default_for(*t)).collect();
        let result_kind = results.first().map(|t| ArgKind::default_for(*t));
        HostFunction {
            module: module.into(),
            name: name.into(),
            params,
            results,
            kinds,
            result_kind,
            description: "a tenant's function\nwith a second line".into(),
            implementation: Implementation::Fail("mock".into()),
        }
    };
    host.push(odd(
        "acme:billing",
        "price-cents",
        vec![WasmType::I32],
        vec![WasmType::I64],
    ));
    host.push(odd(
        "acme:tenant",
        "get_user",
        vec![WasmType::I64],
        vec![WasmType::I64],
    ));
    host.push(odd("acme:audit", "get_user", vec![WasmType::I64], vec![]));
    host.push(odd(
        "env",
        "type",
        vec![WasmType::F64, WasmType::F32],
        vec![WasmType::F32],
    ));
    let spec = Spec {
        name: "greeter".into(),
        template: Template::MinimalText,
        wasi: true,
        host,
    };
    let created = starter::create(parent.path(), &spec).unwrap();
    // The two commands of its README.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = std::process::Command::new(cargo)
        .args(["build", "--release", "--target", created.target])
        .current_dir(&created.dir)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    common::assert_exit(&build, 0);
    assert!(created.artifact.is_file());
    let out = common::run_bin(&["test", &created.suite.display().to_string()], b"");
    common::assert_exit(&out, 0);
    assert!(
        common::stdout(&out).contains("greets by name"),
        "{}",
        common::stdout(&out)
    );
}

#[test]
fn stop_ends_cargo_and_the_compilers_it_started() {
    if !require_target("wasm32-unknown-unknown") {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let spec = Spec {
        name: "stopped".into(),
        template: Template::JsonEvents,
        wasi: false,
        host: Vec::new(),
    };
    let created = starter::create(parent.path(), &spec).unwrap();
    let krate = extism_playground::build::Crate {
        dir: created.dir.clone(),
        target: created.target.to_string(),
        profile: "release".into(),
        target_dir: created.dir.join("target"),
        artifact: created.artifact.clone(),
    };
    let build = extism_playground::build::Build::start(krate, std::sync::Arc::new(|| {}));
    // Wait until it compiles something (the first build of a kit compiles its dependencies).
    let started = Instant::now();
    while !build.lines().iter().any(|l| l.text.contains("Compiling")) {
        assert!(
            build.outcome().is_none(),
            "it ended before compiling: {:?}",
            build.outcome()
        );
        assert!(
            started.elapsed() < Duration::from_mins(5),
            "cargo printed no Compiling line"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = build.process_id().expect("cargo runs");
    build.stop();
    let stopped = Instant::now();
    while build.outcome().is_none() {
        assert!(
            stopped.elapsed() < Duration::from_secs(20),
            "Stop did not end the build"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(build.outcome(), Some(&Outcome::Stopped));
    assert!(!created.artifact.exists());
    #[cfg(not(target_os = "linux"))]
    let _ = pid;
    #[cfg(target_os = "linux")]
    {
        // Nothing of its process group is left: no rustc compiling on after Stop.
        std::thread::sleep(Duration::from_millis(200));
        let left: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                let fields: Vec<&str> = stat
                    .rsplit_once(')')
                    .map_or("", |(_, rest)| rest)
                    .split_whitespace()
                    .collect();
                // After the name: state, parent, process group.
                fields.get(2) == Some(&pid.to_string().as_str()) && fields.first() != Some(&"Z")
            })
            .collect();
        assert!(left.is_empty(), "still running after Stop: {left:?}");
    }
}

#[test]
fn a_taken_folder_is_refused_and_what_was_typed_comes_back() {
    let parent = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(parent.path().join("taken")).unwrap();
    std::fs::write(parent.path().join("taken/keep.txt"), "mine").unwrap();
    let mut h = window_with(window::options());
    h.run();
    menu_item(&mut h, "File", "New plugin…");
    replace_text(&mut h, "Name", "taken");
    replace_text(&mut h, "Folder", &parent.path().display().to_string());
    h.get_by_label("Create and build").click();
    h.run_steps(2);
    let status = h.state().workbench().status();
    assert!(
        matches!(status, Some(Notice::NotCreated(e)) if matches!(**e, StarterError::NotEmpty(_))),
        "{status:?}"
    );
    // The window says what to do.
    assert!(
        h.query_all_by_label_contains("pick an empty folder, or another name")
            .count()
            > 0
    );
    assert_eq!(
        std::fs::read_to_string(parent.path().join("taken/keep.txt")).unwrap(),
        "mine",
        "nothing of the folder was touched"
    );
    assert!(
        h.state().workbench().build_job().is_none(),
        "nothing was built"
    );
    menu_item(&mut h, "File", "New plugin…");
    h.get_by_role_and_label(Role::TextInput, "Name");
    assert!(
        h.query_all_by_value("taken").next().is_some(),
        "the name typed comes back"
    );
}
