//! A mock-host plugin is code from a file too: it runs with the call's fuel, memory limit and
//! timeout. Cases: a mock that loops forever (ended by `--fuel`, by `--timeout`), and one that
//! grows its memory past `--memory-max`; each ends the call with the mock named.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Case, greet_user, run, s};

/// A mock-host plugin exporting `get_user` with `body` (returning i32), written in WAT.
fn mock(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let wasm = wat::parse_str(format!(
        r#"(module (memory (export "memory") 1)
             (func (export "get_user") (result i32) {body}))"#
    ))
    .unwrap();
    std::fs::write(&path, wasm).unwrap();
    path
}

fn greet(mock: &Path, flags: &[&str]) -> Case {
    greet_user(&format!("wasm:{}", s(mock)), flags).within(Duration::from_secs(30))
}

#[test]
fn a_looping_mock_is_ended_by_the_calls_fuel_and_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let spin = mock(dir.path(), "spin.wasm", "(loop $l (br $l)) (i32.const 0)");
    let Some(ran) = run(&greet(&spin, &["--fuel", "5000000"])) else {
        return;
    };
    ran.expect(
        1,
        &["the mock-host plugin spin.wasm failed in get_user", "fuel"],
    );
    let Some(ran) = run(&greet(&spin, &["--timeout", "300"])) else {
        return;
    };
    assert_eq!(ran.code, Some(1), "{ran:#?}");
    assert!(
        ran.stderr.contains("spin.wasm") && ran.stderr.to_lowercase().contains("timeout"),
        "{ran:#?}"
    );
}

#[test]
fn a_mock_growing_past_the_memory_limit_is_refused_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    // Growing past the limit is refused (extism's limiter says "oom"); were it allowed, the
    // mock would answer nothing and the plugin would fail on that instead.
    let grow = mock(
        dir.path(),
        "grow.wasm",
        "(if (i32.eq (memory.grow (i32.const 200)) (i32.const -1)) (then unreachable)) (i32.const 0)",
    );
    let Some(ran) = run(&greet(&grow, &["--memory-max", "100"])) else {
        return;
    };
    ran.expect(
        1,
        &["the mock-host plugin grow.wasm failed in get_user: oom"],
    );
}
