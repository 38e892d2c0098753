//! Files from others cannot open holes in the sandbox without consent: hostile bundles and
//! manifests refused by the command line with every grant listed, run with `--trust`, run
//! without their grants with `--no-grants`; the same decisions in the workbench; trusted files
//! (saved here, or remembered) asking nothing; and the property that whatever a loader accepts is
//! either inside the file's folder or listed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::model::{run, settle, workbench};
use crate::common::{
    self, NOTES, SECRET, Strangers, assert_exit, p, run_bin, stderr, stdout, stdout_json,
};
use extism_playground::open::{self, Setup};
use extism_playground::runner::HostData;
use extism_playground::trust::{Decision, Grant};
use extism_playground::workbench::{
    Answer, Command, Notice, PluginSlot, RunBlocker, Source, Workbench,
};

/// `replay --json` of `bundle` with `flags`.
fn replay(bundle: &Path, flags: &[&str]) -> std::process::Output {
    let mut args = vec!["replay", p(bundle), "--json"];
    args.extend_from_slice(flags);
    run_bin(&args, b"")
}

/// A hostile bundle, what its refusal must list, and what a granted run reads.
struct Case {
    name: &'static str,
    bundle: PathBuf,
    listed: Vec<String>,
    reads: &'static str,
}

fn hostile_cases(s: &Strangers) -> Vec<Case> {
    let private = s.private.display().to_string();
    let case_dir = s.case.display().to_string();
    let root = s.root.path().canonicalize().unwrap().display().to_string();
    let mut cases = vec![
        Case {
            name: "an absolute path outside the file's folder",
            bundle: s.bundle(
                "absolute.json",
                &[(&format!("ro:{private}"), "/data")],
                &[],
                "/data/secret.txt",
            ),
            listed: vec![format!("read-only path {private} -> /data")],
            reads: SECRET,
        },
        Case {
            name: "a ../ escape",
            bundle: s.bundle(
                "dotdot.json",
                &[("ro:data/../../private", "/data")],
                &[],
                "/data/secret.txt",
            ),
            listed: vec![format!("read-only path {private} -> /data")],
            reads: SECRET,
        },
        Case {
            name: "read-write access to the folder above (a home folder)",
            bundle: s.bundle(
                "rw-home.json",
                &[(&root, "/home")],
                &[],
                "/home/private/secret.txt",
            ),
            listed: vec![format!("read-write path {root} -> /home")],
            reads: SECRET,
        },
        Case {
            name: "any host, beside a read-only subfolder",
            bundle: s.bundle(
                "star.json",
                &[("ro:data", "/data")],
                &["*"],
                "/data/notes.txt",
            ),
            listed: vec![
                format!("read-only path {case_dir}/data -> /data"),
                "host * (any host)".to_string(),
            ],
            reads: NOTES,
        },
        Case {
            name: "the file's own folder",
            bundle: s.bundle(
                "own-dir.json",
                &[("ro:.", "/case")],
                &[],
                "/case/data/notes.txt",
            ),
            listed: vec![format!("read-only path {case_dir} -> /case")],
            reads: NOTES,
        },
        Case {
            name: "a hidden subfolder",
            bundle: s.bundle("hidden.json", &[("ro:.ssh", "/ssh")], &[], "/ssh/key"),
            listed: vec![format!("read-only path {case_dir}/.ssh -> /ssh")],
            reads: "ssh key",
        },
    ];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&s.private, s.case.join("innocent")).unwrap();
        cases.push(Case {
            name: "a symlink out of the folder",
            bundle: s.bundle(
                "symlink.json",
                &[("ro:innocent", "/data")],
                &[],
                "/data/secret.txt",
            ),
            listed: vec![format!("read-only path {private} -> /data")],
            reads: SECRET,
        });
    }
    cases
}

#[test]
fn hostile_bundles_are_refused_listing_every_grant_and_run_with_trust() {
    let s = Strangers::new();
    for case in hostile_cases(&s) {
        let out = replay(&case.bundle, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", case.name);
        assert!(
            err.contains("--trust")
                && err.contains("--no-grants")
                && err.contains("nothing was run"),
            "{}: {err}",
            case.name
        );
        for grant in &case.listed {
            assert!(
                err.contains(grant),
                "{}: {grant:?} not listed in {err}",
                case.name
            );
        }
        assert!(!stdout(&out).contains(case.reads), "{}", case.name);

        let out = replay(&case.bundle, &["--trust"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            case.name,
            stderr(&out)
        );
        assert_eq!(
            stdout_json(&out)["report"]["output"],
            case.reads,
            "{}",
            case.name
        );
    }
}

#[test]
fn without_grants_the_plugin_runs_and_is_denied() {
    let s = Strangers::new();
    for case in hostile_cases(&s) {
        let out = replay(&case.bundle, &["--no-grants"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            case.name,
            stderr(&out)
        );
        let report = stdout_json(&out);
        let message = report["report"]["error"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains("cannot read /"),
            "{}: {message}",
            case.name
        );
        assert!(!stdout(&out).contains(case.reads), "{}", case.name);
    }
}

#[test]
fn a_read_only_subfolder_of_the_bundles_folder_needs_no_consent() {
    let s = Strangers::new();
    let bundle = s.bundle("data.json", &[("ro:data", "/data")], &[], "/data/notes.txt");
    let out = replay(&bundle, &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["report"]["output"], NOTES);
    // Not read-write, though.
    let bundle = s.bundle("data-rw.json", &[("data", "/data")], &[], "/data/notes.txt");
    assert_eq!(replay(&bundle, &[]).status.code(), Some(2));
}

#[test]
fn a_module_outside_the_folder_is_listed_and_not_read_without_grants() {
    let s = Strangers::new();
    let module = s.private.join("plugin.wasm");
    std::fs::copy(common::sample("wasi-demo"), &module).unwrap();
    let bundle = s.bundle_with(
        "outside-module.json",
        extism::Wasm::file(&module),
        &[("ro:data", "/data")],
        &[],
        "/data/notes.txt",
    );
    let out = replay(&bundle, &[]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("file {} (module", module.display())),
        "{err}"
    );
    assert!(
        !err.contains("/data"),
        "the exempt subfolder is not asked about: {err}"
    );

    let out = replay(&bundle, &["--no-grants"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("was not read"), "{}", stderr(&out));

    let out = replay(&bundle, &["--trust"]);
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["report"]["output"], NOTES);
}

#[test]
fn a_future_version_bundle_is_refused_as_before_never_partly_trusted() {
    let s = Strangers::new();
    let bundle = s.bundle(
        "future.json",
        &[(&format!("ro:{}", s.private.display()), "/data")],
        &[],
        "/data/secret.txt",
    );
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    value["version"] = 99.into();
    std::fs::write(&bundle, value.to_string()).unwrap();
    for flags in [&[][..], &["--trust"], &["--no-grants"]] {
        let out = replay(&bundle, flags);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains("newer than this"), "{}", stderr(&out));
        assert!(!stdout(&out).contains(SECRET));
    }
}

#[test]
fn a_manifests_paths_are_all_grants_relative_to_the_working_directory() {
    let s = Strangers::new();
    let manifest = s.case.join("manifest.json");
    // The module beside it: one outside its folder would be a grant of its own.
    std::fs::copy(common::sample("wasi-demo"), s.case.join("wasi-demo.wasm")).unwrap();
    std::fs::write(
        &manifest,
        serde_json::json!({
            "wasm": [{"path": "wasi-demo.wasm"}],
            "allowed_paths": {"ro:data": "/data"},
        })
        .to_string(),
    )
    .unwrap();
    let call = |flags: &[&str]| {
        common::bin()
            .args([
                "call",
                p(&manifest),
                "read_file",
                "-i",
                "/data/notes.txt",
                "--wasi",
            ])
            .args(flags)
            .current_dir(&s.case)
            .output()
            .unwrap()
    };
    let out = call(&[]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "read-only path {}/data -> /data",
            s.case.display()
        )) && err.contains("(a manifest)"),
        "{err}"
    );
    let out = call(&["--trust"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), NOTES);
    let out = call(&["--no-grants"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("cannot read /data/notes.txt"),
        "{}",
        stderr(&out)
    );
    // The user's own flags are theirs: no consent needed.
    let out = common::bin()
        .args([
            "call",
            &common::sample("wasi-demo").display().to_string(),
            "read_file",
        ])
        .args([
            "-i",
            "/data/notes.txt",
            "--wasi",
            "--allow-path",
            "ro:data:/data",
        ])
        .current_dir(&s.case)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    // --trust and --no-grants contradict each other.
    assert_eq!(call(&["--trust", "--no-grants"]).status.code(), Some(2));
}

#[test]
fn the_command_line_honours_files_remembered_in_the_window() {
    let s = Strangers::new();
    let bundle = s.bundle(
        "remembered.json",
        &[(&format!("ro:{}", s.private.display()), "/data")],
        &[],
        "/data/secret.txt",
    );
    assert_eq!(replay(&bundle, &[]).status.code(), Some(2));
    // The window's Allow and remember, on the same data directory.
    let mut wb = workbench();
    wb.open(
        Source::Path(bundle.clone()),
        extism_playground::workbench::Intent::Fresh,
    );
    settle(&mut wb);
    assert!(wb.asking().is_some());
    wb.apply(Command::Answer(Answer::AllowAndRemember));
    settle(&mut wb);
    let out = replay(&bundle, &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["report"]["output"], SECRET);
    // Revoked: asked again. A changed file is another file.
    let sha = extism_playground::platform::digest::sha256_hex(&std::fs::read(&bundle).unwrap());
    wb.apply(Command::Revoke(sha));
    assert_eq!(replay(&bundle, &[]).status.code(), Some(2));
}

// ---- the workbench ----

#[test]
fn nothing_is_granted_before_the_user_answers_and_each_answer_does_what_it_says() {
    let s = Strangers::new();
    let bundle = s.bundle(
        "ask.json",
        &[(&format!("ro:{}", s.private.display()), "/data")],
        &["*"],
        "/data/secret.txt",
    );
    let mut wb = workbench();
    wb.restore();
    settle(&mut wb);
    let before = wb.state().clone();
    wb.apply(Command::Open(Source::Path(bundle.clone())));
    settle(&mut wb);
    let asking = wb.asking().expect("the file asks first");
    assert_eq!(asking.review().grants.len(), 2);
    // Nothing of the file was taken: the previous plugin is still the open one, and Run says why
    // it waits.
    assert_eq!(wb.state().options, before.options);
    assert_eq!(wb.state().plugin, before.plugin);
    assert!(matches!(wb.run_blocker(), Some(RunBlocker::Asking { .. })));

    // Cancel: nothing changes.
    wb.apply(Command::Answer(Answer::Cancel));
    settle(&mut wb);
    assert!(matches!(wb.plugin(), PluginSlot::Ready(_)));
    assert_eq!(wb.state().plugin, before.plugin);

    // Without grants: it runs, and is denied.
    wb.apply(Command::Open(Source::Path(bundle.clone())));
    settle(&mut wb);
    wb.apply(Command::Answer(Answer::WithoutGrants));
    settle(&mut wb);
    assert!(wb.state().options.allowed_paths.is_empty());
    assert!(wb.state().options.allowed_hosts.is_empty());
    let grants = wb.ready().unwrap().grants.clone().unwrap();
    assert_eq!(grants.withheld().len(), 2);
    let report = run(&mut wb);
    let error = report.error.expect("denied");
    assert!(
        error.message.contains("cannot read /data/secret.txt"),
        "{}",
        error.message
    );

    // Allow: the reviewed (normalized) grants, and the file reads.
    wb.apply(Command::Open(Source::Path(bundle.clone())));
    settle(&mut wb);
    wb.apply(Command::Answer(Answer::Allow));
    settle(&mut wb);
    assert_eq!(wb.state().options.allowed_paths[0].host, s.private);
    assert_eq!(wb.state().options.allowed_hosts, ["*"]);
    assert_eq!(String::from_utf8_lossy(&run(&mut wb).output), SECRET);
    // Allow is for this time only.
    wb.apply(Command::Open(Source::Path(bundle)));
    settle(&mut wb);
    assert!(wb.asking().is_some());
}

#[test]
fn a_reload_asking_for_something_new_asks_again() {
    let s = Strangers::new();
    let private = format!("ro:{}", s.private.display());
    let bundle = s.bundle(
        "reload.json",
        &[(&private, "/data")],
        &[],
        "/data/secret.txt",
    );
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(bundle.clone())));
    settle(&mut wb);
    wb.apply(Command::Answer(Answer::WithoutGrants));
    settle(&mut wb);
    assert!(matches!(wb.plugin(), PluginSlot::Ready(_)));
    // The same grants: the reload keeps the answer.
    std::fs::write(&bundle, std::fs::read_to_string(&bundle).unwrap() + "\n").unwrap();
    wb.apply(Command::Reload);
    settle(&mut wb);
    assert!(wb.asking().is_none(), "{:?}", wb.status());
    assert!(wb.state().options.allowed_paths.is_empty());
    // A new grant: asked again.
    s.bundle(
        "reload.json",
        &[(&private, "/data")],
        &["evil.example.com"],
        "/data/secret.txt",
    );
    wb.apply(Command::Reload);
    settle(&mut wb);
    assert!(wb.asking().is_some());
}

#[test]
fn files_saved_here_ask_nothing_and_a_strangers_bundle_gets_no_other_plugins_secrets() {
    let s = Strangers::new();
    let dir = tempfile::tempdir().unwrap();
    let mut wb = workbench();
    wb.open(
        Source::sample("host-demo").unwrap(),
        extism_playground::workbench::Intent::Fresh,
    );
    settle(&mut wb);
    let mine = HostData {
        secrets: [("api_key".to_string(), "my own key".to_string())].into(),
        ..HostData::default()
    };
    wb.apply(Command::SetHostData(mine));
    wb.apply(Command::SelectFunction("secret_length".into()));
    wb.apply(Command::SetOptions(
        extism_playground::runner::SandboxOptions {
            allowed_hosts: vec!["127.0.0.1".into()],
            ..Default::default()
        },
    ));
    let own = dir.path().join("mine.session.json");
    wb.apply(Command::SaveSession {
        path: own.clone(),
        embed: true,
    });
    // A file this app saved: opens without asking, and the stored secret fills its empty value.
    wb.apply(Command::Open(Source::Path(own.clone())));
    settle(&mut wb);
    assert!(wb.asking().is_none(), "{:?}", wb.status());
    assert!(!wb.foreign_secrets());
    assert_eq!(
        String::from_utf8_lossy(&run(&mut wb).output),
        r#"{"name":"api_key","length":10}"#
    );

    // The same session from someone else (changed by one byte): asks, and gets no secret.
    let theirs = s.case.join("theirs.session.json");
    std::fs::write(&theirs, std::fs::read_to_string(&own).unwrap() + " ").unwrap();
    wb.apply(Command::Open(Source::Path(theirs)));
    settle(&mut wb);
    wb.apply(Command::Answer(Answer::Allow));
    settle(&mut wb);
    assert!(wb.foreign_secrets());
    assert_eq!(
        wb.state().host.secrets.get("api_key").map(String::as_str),
        Some(""),
        "the name is kept, for the user to fill in"
    );
    let error = run(&mut wb).error.expect("no secret for it");
    assert!(error.message.contains("not set"), "{}", error.message);
    // Opening the plugin they were entered for gives them back; any other has its own.
    wb.apply(Command::Open(Source::sample("hello").unwrap()));
    settle(&mut wb);
    assert!(wb.state().host.secrets.is_empty(), "{:?}", wb.state().host);
    wb.apply(Command::Open(Source::sample("host-demo").unwrap()));
    settle(&mut wb);
    assert_eq!(wb.state().host.secrets["api_key"], "my own key");
}

// ---- every file a suite names is reviewed ----

/// A suite in the case folder calling hello's `greet`, with `extra` lines in its step.
fn suite(s: &Strangers, name: &str, plugin_extra: &str, step_extra: &str) -> PathBuf {
    let wasm = s.case.join("hello.wasm");
    if !wasm.exists() {
        std::fs::copy(common::sample("hello"), &wasm).unwrap();
    }
    let path = s.case.join(name);
    std::fs::write(
        &path,
        format!(
            "[plugin]\nwasm = \"hello.wasm\"\n{plugin_extra}\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"greet\"\nexpect_output = \"x\"\n{step_extra}\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_suites_input_file_outside_its_folder_is_listed_and_never_printed_without_consent() {
    let s = Strangers::new();
    let secret = s.private.join("secret.txt");
    for (name, written) in [
        ("dotdot.toml", "../private/secret.txt".to_string()),
        ("absolute.toml", secret.display().to_string()),
    ] {
        let path = suite(&s, name, "", &format!("input_file = {written:?}"));
        let junit = s.root.path().join(format!("{name}.xml"));
        let out = run_bin(&["test", p(&path), "--junit", p(&junit)], b"");
        assert_exit(&out, 2);
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            said.contains(&format!("file {} (input file, outside", secret.display())),
            "{said}"
        );
        assert!(!said.contains(SECRET), "{said}");
        let report = std::fs::read_to_string(&junit).unwrap_or_default();
        assert!(!report.contains(SECRET), "{report}");
        // Without the grants: not read, and it says so.
        let out = run_bin(
            &["test", p(&path), "--no-grants", "--junit", p(&junit)],
            b"",
        );
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains("was not read"), "{said}");
        assert!(!said.contains(SECRET), "{said}");
        let report = std::fs::read_to_string(&junit).unwrap_or_default();
        assert!(!report.contains(SECRET), "{report}");
    }
}

#[test]
fn a_suites_plugin_and_scripts_outside_its_folder_are_listed() {
    let s = Strangers::new();
    let script = s.private.join("evil.rhai");
    std::fs::write(&script, "fn evil(input) { input }").unwrap();
    let path = suite(
        &s,
        "scripts.toml",
        "host_functions = { evil = \"rhai:../private/evil.rhai\" }",
        "",
    );
    let out = run_bin(&["test", p(&path)], b"");
    assert_exit(&out, 2);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains(&format!("file {} (Rhai script", script.display())),
        "{said}"
    );
    let module = s.private.join("other.wasm");
    std::fs::copy(common::sample("hello"), &module).unwrap();
    let path = s.case.join("plugin.toml");
    std::fs::write(
        &path,
        "[plugin]\nwasm = \"../private/other.wasm\"\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"greet\"\n",
    )
    .unwrap();
    let out = run_bin(&["test", p(&path)], b"");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!("file {} (plugin", module.display())),
        "{said}"
    );
    // A `=` in a name would move where its spec starts, past the review: refused.
    let sneaky = suite(
        &s,
        "sneaky.toml",
        "host_functions = { \"f=rhai:d\" = \"/../../private/evil.rhai\" }",
        "",
    );
    let out = run_bin(&["test", p(&sneaky)], b"");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("an import name has no `=`"), "{said}");
    // An xtp test plugin is a module: a manifest's modules (from anywhere) are not followed.
    let manifest = s.case.join("xtp.json");
    std::fs::write(
        &manifest,
        serde_json::json!({"wasm": [{"path": module}]}).to_string(),
    )
    .unwrap();
    let out = run_bin(
        &["test", "--xtp", p(&manifest), p(&common::sample("hello"))],
        b"",
    );
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("is not a WebAssembly module"), "{said}");
    // Inside the folder, none of this is asked.
    let inside = suite(&s, "inside.toml", "", "input = \"x\"");
    let out = run_bin(&["test", p(&inside)], b"");
    assert!(!stderr(&out).contains("consent"), "{}", stderr(&out));
}

#[test]
fn a_definitions_file_reads_no_script_outside_its_folder_without_consent() {
    let s = Strangers::new();
    // Not Rhai: were it read, its parse error could quote it.
    let script = s.private.join("secret.txt");
    let defs = s.case.join("defs.json");
    std::fs::write(
        &defs,
        serde_json::json!([
            {"module": "acme:tenant", "name": "get_user", "behaviour": "rhai", "file": "../private/secret.txt"},
            {"module": "acme:tenant", "name": "audit", "behaviour": "value", "value": ""},
            {"module": "acme:billing", "name": "price_cents", "result": "num", "behaviour": "value", "value": "0"},
        ])
        .to_string(),
    )
    .unwrap();
    let out = run_bin(
        &[
            "call",
            p(&common::sample("tenant-app")),
            "greet_user",
            "--host-fns",
            p(&defs),
        ],
        b"",
    );
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "Rhai script {}, outside its folder",
            script.display()
        )),
        "{said}"
    );
    assert!(!said.contains(SECRET), "{said}");
}

#[test]
fn adding_a_test_to_a_strangers_suite_does_not_make_it_trusted() {
    let s = Strangers::new();
    let path = suite(
        &s,
        "theirs.toml",
        "",
        "input_file = \"../private/secret.txt\"",
    );
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(s.case.join("hello.wasm"))));
    settle(&mut wb);
    let report = run(&mut wb);
    assert!(report.error.is_none(), "{:?}", report.error);
    wb.apply(Command::AddRunToSuite(path.clone()));
    assert!(
        std::fs::read_to_string(&path).unwrap().contains("[[test]]"),
        "{:?}",
        wb.status()
    );
    let out = run_bin(&["test", p(&path)], b"");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "still asks: {said}");
    assert!(!said.contains(SECRET), "{said}");
}

// ---- trust binds to what a file's grants resolve to ----

#[test]
fn a_bundle_saved_here_is_asked_about_again_when_copied_where_its_folder_links_home() {
    let s = Strangers::new();
    let here = s.case.join("mine");
    std::fs::create_dir_all(here.join("data")).unwrap();
    let victim = s.private.join("playground.txt");
    std::fs::write(&victim, SECRET).unwrap();
    // Saved here, with a read-write folder beside it: replays here without asking.
    let bundle = here.join("b.bundle.json");
    let out = common::run_with(
        common::bin().current_dir(&here).args([
            "call",
            p(&common::sample("wasi-demo")),
            "write_read",
            "-i",
            "written by the plugin",
            "--wasi",
            "--allow-path",
            "./data:/data",
            "--save-bundle",
            p(&bundle),
        ]),
        b"",
    );
    assert_exit(&out, 0);
    let out = replay(&bundle, &[]);
    assert_exit(&out, 0);

    // The same bytes where `data` is a link to the victim's folder: asked, nothing written.
    let there = s.case.join("copy");
    std::fs::create_dir_all(&there).unwrap();
    std::os::unix::fs::symlink(&s.private, there.join("data")).unwrap();
    let copy = there.join("b.bundle.json");
    std::fs::copy(&bundle, &copy).unwrap();
    let out = replay(&copy, &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!("read-write path {} -> /data", s.private.display())),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), SECRET);

    // Re-linked in place: asked again too.
    std::fs::rename(here.join("data"), here.join("data.old")).unwrap();
    std::os::unix::fs::symlink(&s.private, here.join("data")).unwrap();
    let out = replay(&bundle, &[]);
    assert_exit(&out, 2);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), SECRET);
}

#[test]
fn trust_remembered_in_the_window_holds_only_while_the_grants_resolve_the_same() {
    let s = Strangers::new();
    std::fs::create_dir_all(s.case.join("work")).unwrap();
    let bundle = s.bundle("remember.json", &[("work", "/data")], &[], "/data/x");
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(bundle.clone())));
    settle(&mut wb);
    wb.apply(Command::Answer(Answer::AllowAndRemember));
    settle(&mut wb);
    assert!(
        matches!(wb.plugin(), PluginSlot::Ready(_)),
        "{:?}",
        wb.status()
    );
    let out = replay(&bundle, &[]);
    assert_ne!(out.status.code(), Some(2), "remembered: {}", stderr(&out));
    std::fs::remove_dir(s.case.join("work")).unwrap();
    std::os::unix::fs::symlink(&s.private, s.case.join("work")).unwrap();
    let out = replay(&bundle, &[]);
    assert_eq!(out.status.code(), Some(2), "re-linked: {}", stdout(&out));
    wb.apply(Command::Open(Source::Path(bundle)));
    settle(&mut wb);
    assert!(wb.asking().is_some(), "{:?}", wb.status());
}

// ---- nothing crosses between plugins ----

#[test]
fn kv_data_secrets_and_host_functions_stay_with_their_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let mut wb = workbench();
    wb.apply(Command::Open(Source::sample("host-demo").unwrap()));
    settle(&mut wb);
    assert!(wb.state().host.kv.contains_key("greeting"));
    assert!(wb.state().host.secrets.contains_key("api_key"));
    let theirs = dir.path().join("counter.wasm");
    std::fs::copy(common::sample("counter"), &theirs).unwrap();
    wb.apply(Command::Open(Source::Path(theirs.clone())));
    settle(&mut wb);
    assert!(wb.state().host.kv.is_empty(), "{:?}", wb.state().host);
    assert!(wb.state().host.secrets.is_empty(), "{:?}", wb.state().host);
    assert!(wb.state().host_functions.is_empty());
    // A suite written for it carries only its data.
    let report = run(&mut wb);
    assert!(report.error.is_none(), "{:?}", report.error);
    let suite = dir.path().join("counter.toml");
    wb.apply(Command::AddRunToSuite(suite.clone()));
    let text = std::fs::read_to_string(&suite).unwrap();
    assert!(!text.contains("greeting"), "{text}");
    assert!(!text.contains("api_key"), "{text}");
    let counter_run = wb.history().runs().last().unwrap().number;
    // Its own data stays with it, and the sample gets its own back.
    let mut host = wb.state().host.clone();
    host.kv.insert("mine".into(), "counter's".into());
    wb.apply(Command::SetHostData(host));
    wb.apply(Command::Open(Source::sample("host-demo").unwrap()));
    settle(&mut wb);
    assert!(!wb.state().host.kv.contains_key("mine"));
    assert!(wb.state().host.kv.contains_key("greeting"));
    // Nor does a scenario of the sample take the other plugin's runs.
    wb.apply(Command::ScenarioFromRuns(vec![counter_run]));
    assert!(
        matches!(wb.status(), Some(Notice::RunsOfAnotherPlugin(runs)) if *runs == [counter_run]),
        "{:?}",
        wb.status()
    );
    wb.apply(Command::Open(Source::Path(theirs)));
    settle(&mut wb);
    assert_eq!(wb.state().host.kv.len(), 1, "{:?}", wb.state().host);
    assert!(wb.state().host.kv.contains_key("mine"));
}

#[test]
fn a_bundle_keeps_no_absolute_path_of_a_script_it_embeds() {
    let s = Strangers::new();
    let script = s.private.join("get_user.rhai");
    std::fs::write(&script, "fn get_user(input) { \"{}\" }").unwrap();
    let bundle = s.case.join("rhai.bundle.json");
    let out = run_bin(
        &[
            "call",
            p(&common::sample("tenant-app")),
            "greet_user",
            "-i",
            r#"{"user_id":"u-42"}"#,
            "--host-fn",
            &format!("acme:tenant::get_user=rhai:{}", script.display()),
            "--host-fn",
            "acme:tenant::audit=value:",
            "--host-fn",
            "acme:billing::price_cents=value:0",
            "--save-bundle",
            p(&bundle),
        ],
        b"",
    );
    assert!(bundle.exists(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(text.contains("fn get_user"), "the script is inline");
    assert!(!text.contains(&s.private.display().to_string()), "{text}");
    assert!(
        text.contains("\"get_user.rhai\""),
        "named for people: {text}"
    );
}

// ---- every file a loader accepts: inside its folder, or listed ----

mod property {
    use super::*;
    use proptest::prelude::*;

    /// Host paths a bundle might write, hostile or not.
    const WRITTEN: &[&str] = &[
        "data",
        "data/inner",
        "./data",
        "data/..",
        ".",
        "..",
        "../private",
        ".ssh",
        "data/.cache",
        "link",
        "missing",
        "/",
        "PRIVATE",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn every_grant_is_inside_the_folder_or_listed(
            paths in proptest::collection::vec((0..WRITTEN.len(), any::<bool>()), 0..4),
            hosts in proptest::collection::vec(prop_oneof![Just("*"), Just("example.com")], 0..2),
        ) {
            let s = Strangers::new();
            std::fs::create_dir_all(s.case.join("data/inner")).unwrap();
            std::fs::create_dir_all(s.case.join("data/.cache")).unwrap();
            #[cfg(unix)]
            std::os::unix::fs::symlink(&s.private, s.case.join("link")).unwrap();
            let private = s.private.display().to_string();
            let written: Vec<(String, String)> = paths
                .iter()
                .enumerate()
                .map(|(i, (which, ro))| {
                    let host = WRITTEN[*which].replace("PRIVATE", &private);
                    (format!("{}{host}", if *ro { "ro:" } else { "" }), format!("/g{i}"))
                })
                .collect();
            let refs: Vec<(&str, &str)> =
                written.iter().map(|(h, g)| (h.as_str(), g.as_str())).collect();
            let bundle = s.bundle("p.json", &refs, &hosts, "");
            let Ok(read) = open::read(&Source::Path(bundle.clone())) else {
                return Ok(());
            };
            let review = read.review().expect("bundles are reviewed").clone();
            for decision in [Decision::Allow, Decision::WithoutGrants] {
                let read = open::read(&Source::Path(bundle.clone())).unwrap();
                let Ok(opened) = read.resolve(decision, None, &extism_playground::registry::Settings::default()) else { continue };
                let Setup::Scenario(scenario) = opened.setup else { panic!("a bundle") };
                for host in &scenario.options.allowed_hosts {
                    prop_assert!(review.grants.contains(&Grant::Host(host.clone())));
                    prop_assert_eq!(decision, Decision::Allow);
                }
                for path in &scenario.options.allowed_paths {
                    let listed = review
                        .grants
                        .iter()
                        .any(|g| matches!(g, Grant::Path(p) if p.host == path.host));
                    let inside = path.read_only
                        && hosts.is_empty()
                        && path.host.strip_prefix(&s.case).is_ok_and(|rest| {
                            rest.components().next().is_some()
                                && !rest.to_string_lossy().split('/').any(|c| c.starts_with('.'))
                        });
                    prop_assert!(
                        (listed && decision == Decision::Allow) || inside,
                        "{:?} granted without being listed ({:?})",
                        path,
                        written
                    );
                }
            }
        }
    }
}

#[test]
fn a_granted_path_that_does_not_exist_is_listed_as_such_and_then_a_clear_error() {
    let s = Strangers::new();
    let gone = s.root.path().join("gone/../gone-too");
    let bundle = s.bundle(
        "missing.json",
        &[(&format!("ro:{}", gone.display()), "/data")],
        &[],
        "/data/x",
    );
    let out = replay(&bundle, &[]);
    let err = stderr(&out);
    assert_exit(&out, 2);
    let normalized = s.root.path().canonicalize().unwrap().join("gone-too");
    assert!(
        err.contains(&format!(
            "read-only path {} -> /data (does not exist)",
            normalized.display()
        )),
        "{err}"
    );
    let out = replay(&bundle, &["--trust"]);
    assert_exit(&out, 2);
    assert!(
        stdout(&out).contains("is not a directory on this machine")
            || stderr(&out).contains("is not a directory on this machine"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn restarting_with_a_strangers_bundle_open_asks_again() {
    let s = Strangers::new();
    let bundle = s.bundle(
        "restart.json",
        &[(&format!("ro:{}", s.private.display()), "/data")],
        &[],
        "/data/secret.txt",
    );
    let mut wb = workbench();
    wb.apply(Command::Open(Source::Path(bundle)));
    settle(&mut wb);
    wb.apply(Command::Answer(Answer::Allow));
    settle(&mut wb);
    assert_eq!(wb.state().options.allowed_paths.len(), 1);
    let saved = wb.state_to_save().clone();

    // Allow was for that time: the app starting again with it asks again.
    let mut restarted = Workbench::new(saved, common::worker(), Arc::new(|| {}))
        .with_trust_store(common::trust_store());
    restarted.restore();
    settle(&mut restarted);
    assert!(restarted.asking().is_some());
    restarted.apply(Command::Answer(Answer::WithoutGrants));
    settle(&mut restarted);
    assert!(
        restarted.state().options.allowed_paths.is_empty(),
        "the kept options lose the file's grants"
    );
    let error = run(&mut restarted).error.expect("denied");
    assert!(
        error.message.contains("cannot read /data/secret.txt"),
        "{}",
        error.message
    );
}
