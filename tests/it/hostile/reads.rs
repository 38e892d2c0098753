//! Every file a file or flag names goes through one bounded reader: regular files only (a
//! device, FIFO or folder is refused before anything is read, so nothing hangs), each kind
//! within its size limit, the limit in the error. Cases: a manifest's module, a bundle's
//! module, a suite's plugin and input file, Rhai and mock files named by flags, suites and
//! definitions files, input files, and the opened file itself; as devices, FIFOs, folders and
//! files larger than their limit (sparse, so they take no disk).

use std::path::Path;
use std::time::Duration;

use super::{Case, MIB, fifo, run, s, sparse};
use crate::common;

/// What the reader says of `/dev/zero` for a kind of file.
fn device(kind: &str) -> String {
    format!(
        "/dev/zero is not a regular file but a character device; {kind} are read only from regular files"
    )
}

/// A manifest at `dir/m.json` whose module is `module`.
fn manifest(dir: &Path, module: &str) -> String {
    let path = dir.join("m.json");
    std::fs::write(&path, format!(r#"{{"wasm": [{{"path": "{module}"}}]}}"#)).unwrap();
    s(&path)
}

/// A bundle at `dir/b.json` running `hello`'s `count_vowels` from the module at `module`
/// (relative to the bundle).
fn bundle(dir: &Path, module: &str) -> String {
    let path = dir.join("b.json");
    let json = serde_json::json!({
        "format": "extism-playground-bundle",
        "version": 1,
        "manifest": {"wasm": [{"path": module}]},
        "function": "count_vowels",
        "input": {"text": "aeiou"},
        "input_mode": "raw",
    });
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    s(&path)
}

#[test]
fn a_manifest_module_that_is_a_device_is_refused_by_call_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), "/dev/zero");
    for args in [
        vec!["call", &m, "greet", "--trust"],
        vec!["inspect", &m, "--trust"],
    ] {
        let Some(ran) = run(&Case::new(&args).within(Duration::from_secs(20))) else {
            return;
        };
        ran.expect(2, &[&device("plugins")]);
    }
}

#[test]
fn a_module_or_plugin_that_is_a_fifo_is_refused_without_waiting_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("plugin.wasm");
    fifo(&pipe);
    let fifo_says = format!(
        "{} is not a regular file but a FIFO (named pipe); plugins are read only from regular files",
        s(&pipe)
    );
    // The bundle names it inside its own folder (no consent asked): replay must not hang.
    let b = bundle(dir.path(), "plugin.wasm");
    let quick = Duration::from_secs(20);
    for args in [
        vec!["replay".to_string(), b.clone()],
        vec!["call".to_string(), s(&pipe), "f".to_string()],
        vec!["inspect".to_string(), s(&pipe)],
    ] {
        let Some(ran) = run(&Case::new(&args).within(quick)) else {
            return;
        };
        ran.expect(2, &[&fifo_says]);
    }
}

#[test]
fn a_plugin_larger_than_the_limit_is_refused_with_its_size_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.wasm");
    sparse(&big, 3_328_599_654);
    let says = format!("{} is 3.1 GiB; plugins are limited to 1 GiB", s(&big));
    let Some(ran) = run(&Case::new(&["inspect", &s(&big)]).memory(512 * MIB)) else {
        return;
    };
    ran.expect(2, &[&says]);
    let m = manifest(dir.path(), "big.wasm");
    let Some(ran) = run(&Case::new(&["call", &m, "f", "--trust"]).memory(512 * MIB)) else {
        return;
    };
    ran.expect(2, &[&says]);
    // A folder in its place says so.
    let folder = dir.path().join("folder.wasm");
    std::fs::create_dir(&folder).unwrap();
    let Some(ran) = run(&Case::new(&["inspect", &s(&folder)])) else {
        return;
    };
    ran.expect(
        2,
        &[&format!(
            "{} is not a regular file but a folder",
            s(&folder)
        )],
    );
}

#[test]
fn input_files_named_by_flags_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let hello = s(&common::sample("hello"));
    let big = dir.path().join("input.bin");
    sparse(&big, 2 * 1024 * MIB);
    for (flag, file, says) in [
        (
            "--input-file",
            "/dev/zero".to_string(),
            device("input files"),
        ),
        (
            "--input-file",
            s(&big),
            format!("{} is 2 GiB; input files are limited to 1 GiB", s(&big)),
        ),
    ] {
        let Some(ran) = run(&Case::new(&["call", &hello, "count_vowels", flag, &file])) else {
            return;
        };
        ran.expect(2, &[&says]);
    }
}

#[test]
fn an_endless_stdin_is_refused_at_the_input_limit() {
    let hello = s(&common::sample("hello"));
    let Some(ran) = run(&Case::new(&["call", &hello, "count_vowels", "--stdin"])
        .stdin_from(Path::new("/dev/zero"))
        .memory(1536 * MIB))
    else {
        return;
    };
    ran.expect(
        2,
        &["the input on stdin is more than 1 GiB, the most a call's input may be"],
    );
}

#[test]
fn scripts_mocks_and_definitions_named_by_flags_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = s(&common::sample("tenant-app"));
    let pipe = dir.path().join("pipe.rhai");
    fifo(&pipe);
    let defs = dir.path().join("defs.json");
    std::fs::write(
        &defs,
        r#"[{"module": "acme:tenant", "name": "get_user", "behaviour": "rhai", "file": "/dev/zero"}]"#,
    )
    .unwrap();
    let big_defs = dir.path().join("big-defs.json");
    sparse(&big_defs, 300 * MIB);
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "--host-fn".into(),
                "acme:tenant::get_user=rhai:/dev/zero".into(),
            ],
            device("Rhai scripts"),
        ),
        (
            vec![
                "--host-fn".into(),
                format!("acme:tenant::get_user=rhai:{}", s(&pipe)),
            ],
            format!("{} is not a regular file but a FIFO (named pipe)", s(&pipe)),
        ),
        (
            vec![
                "--host-fn".into(),
                "acme:tenant::get_user=wasm:/dev/zero".into(),
            ],
            device("mock-host plugins"),
        ),
        (
            vec!["--mock-host".into(), "/dev/zero".into()],
            device("mock-host plugins"),
        ),
        // Outside its folder: read only with --trust, and then bounded.
        (
            vec!["--host-fns".into(), s(&defs)],
            "it names the Rhai script /dev/zero, outside its folder".to_string(),
        ),
        (
            vec!["--host-fns".into(), s(&defs), "--trust".into()],
            device("Rhai scripts"),
        ),
        (
            vec!["--host-fns".into(), s(&big_defs)],
            format!(
                "{} is 300 MiB; host function definitions are limited to 256 MiB",
                s(&big_defs)
            ),
        ),
    ];
    for (flags, says) in cases {
        let mut args = vec!["call".to_string(), tenant.clone(), "greet_user".to_string()];
        args.extend(flags);
        let Some(ran) = run(&Case::new(&args).within(Duration::from_secs(20))) else {
            return;
        };
        ran.expect(2, &[&says]);
    }
}

#[test]
fn a_suites_plugin_input_and_script_files_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let hello = s(&common::sample("hello"));
    let pipe = dir.path().join("input.fifo");
    fifo(&pipe);
    let suites = [
        (
            "device-plugin.toml",
            "[plugin]\nwasm = \"/dev/zero\"\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"f\"\n"
                .to_string(),
            device("plugins"),
        ),
        (
            "device-input.toml",
            format!(
                "[plugin]\nwasm = {hello:?}\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"count_vowels\"\ninput_file = \"/dev/zero\"\n"
            ),
            device("input files"),
        ),
        (
            "fifo-input.toml",
            format!(
                "[plugin]\nwasm = {hello:?}\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"count_vowels\"\ninput_file = \"input.fifo\"\n"
            ),
            "input.fifo is not a regular file but a FIFO (named pipe); input files are read only from regular files".to_string(),
        ),
        (
            "device-script.toml",
            format!(
                "[plugin]\nwasm = {:?}\n[plugin.host_functions]\n\"acme:tenant::get_user\" = \"rhai:/dev/zero\"\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"greet_user\"\n",
                s(&common::sample("tenant-app"))
            ),
            device("Rhai scripts"),
        ),
    ];
    for (name, text, says) in suites {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let Some(ran) =
            run(&Case::new(&["test", &s(&path), "--trust"]).within(Duration::from_secs(30)))
        else {
            return;
        };
        assert_eq!(ran.code, Some(2), "{name}: {ran:#?}");
        assert!(
            ran.stderr.contains(&says) || ran.stdout.contains(&says),
            "{name}: {says:?} not said: {ran:#?}"
        );
    }
}

#[test]
fn a_suite_file_that_is_a_device_or_too_large_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    sparse(&big, 20 * MIB);
    for (path, says) in [
        (
            "/dev/zero".to_string(),
            "/dev/zero is not a regular file".to_string(),
        ),
        (
            s(&big),
            format!("{} is 20 MiB; suite files are limited to 16 MiB", s(&big)),
        ),
    ] {
        let Some(ran) = run(&Case::new(&["test", &path])) else {
            return;
        };
        assert_eq!(ran.code, Some(2), "{ran:#?}");
        assert!(
            ran.stderr.contains(&says) || ran.stdout.contains(&says),
            "{says:?}: {ran:#?}"
        );
    }
}

/// The one mechanism, kept: outside `platform::files` (and unit tests) no code of the app
/// reads a whole file or writes one by hand.
#[test]
fn every_file_is_read_and_written_through_the_one_mechanism() {
    fn visit(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("platform/files.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests (at the end of a file) may make their fixtures as they like.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let lines: Vec<&str> = code.lines().collect();
            for (n, line) in lines.iter().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                let by_hand = [
                    "fs::read(",
                    "fs::read_to_string(",
                    "File::open(",
                    "fs::write(",
                    "OpenOptions::new(",
                    "io::copy(",
                ]
                .iter()
                .any(|call| line.contains(call));
                // Reading a stream to its end is bounded by a `take` just before it.
                let unbounded = (line.contains("read_to_end(")
                    || line.contains(".read_to_string("))
                    && !lines[n.saturating_sub(4)..=n]
                        .iter()
                        .any(|l| l.contains(".take("));
                if by_hand || unbounded {
                    found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    let mut found = Vec::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(
        found.is_empty(),
        "read through platform::files::read or write with write_atomically:\n{}",
        found.join("\n")
    );
}
