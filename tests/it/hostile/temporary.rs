//! Temporary files cannot be turned against the user: coredump folders are made new, private
//! and with unpredictable names (a link planted in the temporary folder is never followed),
//! and go when the worker does; a save writes through an exclusive temporary file beside its
//! target; and what a killed process left behind is removed on the next start, while what a
//! live process is writing is not.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use extism_playground::platform::files::PrivateDir;

use super::{Case, run, s};
use crate::common;

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_trap_with_a_coredump_touches_nothing_planted_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "the user's file").unwrap();
    // Links where a predictable name could have pointed the coredump.
    for name in [
        "extism-playground-1-0.coredump",
        "extism-playground-worker-1.coredump",
        "plugin.coredump",
    ] {
        std::os::unix::fs::symlink(&victim, tmp.path().join(name)).unwrap();
    }
    let before = names(tmp.path());
    // The kernel says what is made in the temporary folder meanwhile.
    let watch = rustix::fs::inotify::init(
        rustix::fs::inotify::CreateFlags::NONBLOCK | rustix::fs::inotify::CreateFlags::CLOEXEC,
    )
    .unwrap();
    rustix::fs::inotify::add_watch(&watch, tmp.path(), rustix::fs::inotify::WatchFlags::CREATE)
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let dump = out.path().join("trap.coredump");
    let Some(ran) = run(&Case::new(&[
        "call",
        &s(&common::sample("chaos")),
        "trap",
        "--coredump",
        &s(&dump),
    ])
    .env("TMPDIR", s(tmp.path()))
    .within(Duration::from_secs(30))) else {
        return;
    };
    assert_eq!(ran.code, Some(1), "{ran:#?}");
    assert!(
        std::fs::metadata(&dump).unwrap().len() > 0,
        "the coredump was written where asked"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "the user's file");
    assert_eq!(
        names(tmp.path()),
        before,
        "nothing left in the temporary folder"
    );
    // What was made there: the worker's private folder, named unpredictably (96 random bits).
    let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
    let mut events = rustix::fs::inotify::Reader::new(&watch, &mut buf);
    let mut made = Vec::new();
    while let Ok(event) = events.next() {
        if let Some(name) = event.file_name() {
            made.push(name.to_string_lossy().into_owned());
        }
    }
    assert!(
        !made.is_empty(),
        "the worker made its coredump folder there"
    );
    for name in &made {
        let random = name
            .strip_prefix("extism-playground-worker-")
            .and_then(|rest| rest.strip_suffix(".extism-playground-tmp"));
        assert!(
            random.is_some_and(|r| r.len() == 24 && r.bytes().all(|b| b.is_ascii_hexdigit())),
            "{name} is not a private folder with an unpredictable name"
        );
    }
}

#[test]
fn a_private_folder_never_follows_a_link_planted_in_it() {
    let victim_dir = tempfile::tempdir().unwrap();
    let victim = victim_dir.path().join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    let private = PrivateDir::new("hostile-test").unwrap();
    std::os::unix::fs::symlink(&victim, private.path().join("plugin.coredump")).unwrap();
    let error = private.create_file("plugin.coredump").unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    // Names cannot be guessed from one another.
    let other = PrivateDir::new("hostile-test").unwrap();
    assert_ne!(private.path(), other.path());
    let path = private.path().to_path_buf();
    drop(private);
    assert!(!path.exists());
    assert!(
        victim.exists(),
        "removing the folder removed no link target"
    );
}

/// Lists `temporary` as being written by a process, as a save does: an entry in the data
/// folder's `pending-writes` naming it.
fn listing(data: &Path, name: &str, temporary: &Path) -> std::path::PathBuf {
    let dir = data.join("pending-writes");
    std::fs::create_dir_all(&dir).unwrap();
    let entry = dir.join(name);
    std::fs::File::create(&entry)
        .unwrap()
        .write_all(temporary.as_os_str().as_encoded_bytes())
        .unwrap();
    entry
}

#[test]
fn leftovers_of_a_killed_save_go_on_the_next_start_and_nothing_else_does() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // A save that was killed: its temporary file and its listing, unlocked.
    let dead = work
        .path()
        .join(".out.json.0123456789abcdef01234567.extism-playground-tmp");
    std::fs::write(&dead, vec![0u8; 1024 * 1024]).unwrap();
    let dead_entry = listing(data.path(), "dead", &dead);
    // A listing naming a file that is not a temporary of this app's.
    let user_file = work.path().join("report.json");
    std::fs::write(&user_file, "keep").unwrap();
    let forged_entry = listing(data.path(), "forged", &user_file);
    // A save under way in another process: its listing is locked.
    let live = work
        .path()
        .join(".b.json.aaaaaaaaaaaaaaaaaaaaaaaa.extism-playground-tmp");
    std::fs::write(&live, "being written").unwrap();
    let live_entry = listing(data.path(), "live", &live);
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(&live_entry)
        .unwrap();
    lock.lock().unwrap();

    let Some(ran) = run(&Case::new(&["--version"]).env(
        extism_playground::trust::store::DATA_DIR_ENV,
        s(data.path()),
    )) else {
        return;
    };
    assert_eq!(ran.code, Some(0), "{ran:#?}");
    assert!(!dead.exists(), "the killed save's temporary file is gone");
    assert!(!dead_entry.exists() && !forged_entry.exists());
    assert_eq!(std::fs::read_to_string(&user_file).unwrap(), "keep");
    assert!(
        live.exists() && live_entry.exists(),
        "a live save is left alone"
    );
    drop(lock);
}

#[test]
fn a_save_leaves_only_the_file_saved() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("case.json");
    let Some(ran) = run(&Case::new(&[
        "call",
        &s(&common::sample("hello")),
        "count_vowels",
        "-i",
        "aeiou",
        "--save-bundle",
        &s(&bundle),
    ])
    .env(
        extism_playground::trust::store::DATA_DIR_ENV,
        s(data.path()),
    )) else {
        return;
    };
    assert_eq!(ran.code, Some(0), "{ran:#?}");
    assert_eq!(names(out.path()), ["case.json"]);
    let pending = data.path().join("pending-writes");
    assert!(
        !pending.exists() || names(&pending).is_empty(),
        "no listing is left: {:?}",
        names(&pending)
    );
}
