//! Large values travel between the app and its worker as bytes, not escaped into the frame's
//! JSON: a 90 MB kv value of control characters (each six bytes once escaped in JSON: 540 MB,
//! more than a frame's header may be) makes the round trip through the host and back in the
//! report, and the output is kept, within a memory bound; a value over the kv store's limit is
//! refused with a message naming it. A worker started by hand (its stdin not the app's socket)
//! says so and exits.

use std::time::Duration;

use super::{Case, MIB, run, s};
use crate::common;

/// A plugin (in WAT) that puts its input in the kv store under `k` with the built-in
/// `kv_set`, reads it back with `kv_get` and returns it: the value travels to the host, back,
/// and in the report's kv store after the call.
const KV_ECHO: &str = r#"(module
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/user" "kv_set" (func $kv_set (param i64 i64)))
  (import "extism:host/user" "kv_get" (func $kv_get (param i64) (result i64)))
  (func (export "echo") (result i32)
    (local $key i64) (local $value i64)
    (local.set $key (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $key) (i32.const 107))
    (call $kv_set (local.get $key) (call $input_offset))
    (local.set $value (call $kv_get (local.get $key)))
    (call $output_set (local.get $value) (call $length (local.get $value)))
    (i32.const 0)))"#;

/// `call host-demo kv_roundtrip` with a value of `len` characters `v` (from an input file).
fn roundtrip(dir: &std::path::Path, len: usize) -> Case {
    let input = dir.join("input.json");
    std::fs::write(
        &input,
        format!(r#"{{"key": "big", "value": "{}"}}"#, "v".repeat(len)),
    )
    .unwrap();
    Case::new(&[
        "call",
        &s(&common::sample("host-demo")),
        "kv_roundtrip",
        "--input-file",
        &s(&input),
    ])
    .within(Duration::from_mins(2))
}

#[test]
fn a_90_mb_kv_value_makes_the_round_trip_and_the_output_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("kv-echo.wasm");
    std::fs::write(&plugin, wat::parse_str(KV_ECHO).unwrap()).unwrap();
    // Control characters: valid UTF-8 text, each escaped as six bytes in JSON.
    let len = 90 * 1000 * 1000;
    let input = dir.path().join("input.bin");
    std::fs::write(&input, vec![1u8; len]).unwrap();
    let Some(ran) = run(
        &Case::new(&["call", &s(&plugin), "echo", "--input-file", &s(&input)])
            .memory(2048 * MIB)
            .within(Duration::from_mins(2)),
    ) else {
        return;
    };
    assert_eq!(
        ran.code,
        Some(0),
        "{}",
        &ran.stderr[..ran.stderr.len().min(2000)]
    );
    assert_eq!(ran.stdout.len(), len, "the output is kept");
    assert!(ran.stdout.bytes().all(|b| b == 1));
}

#[test]
fn a_value_over_the_kv_limit_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(ran) = run(&roundtrip(dir.path(), 300 * 1024 * 1024).memory(3072 * MIB)) else {
        return;
    };
    ran.expect(
        1,
        &[
            "host function kv_set failed: kv_set of \"big\" (300 MiB) would make the kv store 300 MiB; it holds at most 256 MiB",
        ],
    );
}

/// The worker's channel is a socket the app hands it as stdin: started by hand (stdin a pipe,
/// a file, or a socket that sends no token) it says so and exits 3, reading nothing else.
#[test]
fn a_worker_started_by_hand_says_it_is_the_apps_and_exits() {
    use std::io::Write as _;
    use std::process::Stdio;
    let by_hand = |stdin: Stdio| {
        std::process::Command::new(common::BIN)
            .arg("__worker")
            .stdin(stdin)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    let piped = {
        let mut child = std::process::Command::new(common::BIN)
            .arg("__worker")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"127.0.0.1:1 0123456789abcdef0123456789abcdef\n")
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    (&ours).write_all(b"not a token\n").unwrap();
    let wrong_token = by_hand(Stdio::from(std::os::fd::OwnedFd::from(theirs)));
    for (what, out, says) in [
        ("a pipe", piped, "its stdin is not a socket"),
        (
            "nothing",
            by_hand(Stdio::null()),
            "its stdin is not a socket",
        ),
        (
            "a socket without a token",
            wrong_token,
            "the first line is not a token",
        ),
    ] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{what}: {stderr}");
        assert!(
            stderr.contains(says) && stderr.contains("started by the app, not by hand"),
            "{what}: {stderr}"
        );
    }
}
