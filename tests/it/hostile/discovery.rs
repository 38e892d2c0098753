//! `test FOLDER` searches the folder without following links to folders (so a loop or a link
//! out cannot lead it), reads no FIFO or device, stops at a depth and a number of entries, and
//! says what it skipped. Cases: a link to `/dev/zero` named like a suite, a FIFO suite, `loop ->
//! .`, two loops into each other, a link out of the folder, a folder nested deeper than the
//! search goes; each run ends in time, runs the one real suite once, and names each skip.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use super::{Case, fifo, run, s};
use crate::common;

/// A passing suite at `dir/NAME` testing `hello`.
fn suite(dir: &Path, name: &str) {
    // Beside it: a plugin outside the suite's folder would need consent.
    std::fs::copy(common::sample("hello"), dir.join("hello.wasm")).unwrap();
    std::fs::write(
        dir.join(name),
        "[plugin]\nwasm = \"hello.wasm\"\n[[test]]\nname = \"vowels\"\n[[test.step]]\ncall = \"count_vowels\"\ninput = \"aeiou\"\nexpect_match = 'count.:5'\n",
    )
    .unwrap();
}

/// Runs `test DIR` and checks the one suite ran once and passed.
fn test_folder(dir: &Path) -> Option<super::Ran> {
    let ran = run(&Case::new(&["test", &s(dir)]).within(Duration::from_mins(1)))?;
    assert!(
        ran.stderr.contains("running 1 of 1 tests from 1 suites"),
        "{ran:#?}"
    );
    assert_eq!(ran.code, Some(0), "{ran:#?}");
    Some(ran)
}

#[test]
fn links_to_devices_fifos_and_loops_are_skipped_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    suite(root, "real.toml");
    symlink("/dev/zero", root.join("zero.toml")).unwrap();
    fifo(&root.join("pipe.toml"));
    fifo(&root.join("pipe.json"));
    symlink(".", root.join("loop")).unwrap();
    std::fs::create_dir(root.join("a")).unwrap();
    symlink("..", root.join("a/up")).unwrap();
    symlink("/", root.join("everything")).unwrap();
    let Some(ran) = test_folder(root) else {
        return;
    };
    for said in [
        format!(
            "note: skipped {}: not a regular file but a character device",
            s(&root.join("zero.toml"))
        ),
        format!(
            "note: skipped {}: not a regular file but a FIFO (named pipe)",
            s(&root.join("pipe.toml"))
        ),
        format!(
            "note: skipped {}: not a regular file but a FIFO (named pipe)",
            s(&root.join("pipe.json"))
        ),
        format!(
            "note: skipped {}: a link to a folder, not followed",
            s(&root.join("loop"))
        ),
        format!(
            "note: skipped {}: a link to a folder, not followed",
            s(&root.join("a/up"))
        ),
        format!(
            "note: skipped {}: a link to a folder, not followed",
            s(&root.join("everything"))
        ),
    ] {
        assert!(ran.stderr.contains(&said), "{said:?} not in {ran:#?}");
    }
}

#[test]
fn a_search_stops_at_its_depth_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    suite(root, "real.toml");
    let mut deep = root.to_path_buf();
    for level in 0..20 {
        deep = deep.join(format!("d{level}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    // Below the depth the search goes: not found, and said.
    suite(&deep, "deep.toml");
    let Some(ran) = test_folder(root) else {
        return;
    };
    let mut skipped = root.to_path_buf();
    for level in 0..17 {
        skipped = skipped.join(format!("d{level}"));
    }
    let said = format!("note: skipped {}: more than 16 folders deep", s(&skipped));
    assert!(ran.stderr.contains(&said), "{said:?} not in {ran:#?}");
}

#[test]
fn a_search_stops_after_its_number_of_entries_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // More entries than a search looks at, beside a suite (found or not, as the folder lists
    // its entries: the search stops either way, and says where).
    suite(root, "a-real.toml");
    let many = root.join("many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..20_001 {
        std::fs::File::create(many.join(format!("f{i:05}.txt"))).unwrap();
    }
    let Some(ran) = run(&Case::new(&["test", &s(root)]).within(Duration::from_mins(1))) else {
        return;
    };
    let said = format!(
        "note: stopped searching at {}: the search looked at 20000 entries",
        s(&many)
    );
    assert!(ran.stderr.contains(&said), "{said:?} not in {ran:#?}");
    assert!(
        (ran.code == Some(0) && ran.stderr.contains("running 1 of 1 tests from 1 suites"))
            || (ran.code == Some(2) && ran.stderr.contains("holds no test suites")),
        "{ran:#?}"
    );
}
