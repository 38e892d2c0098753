//! The window's saved state against a kill: the real window (under Xvfb) is killed with
//! `SIGKILL` while it writes its state, and the state it had saved before is there, whole, for
//! the next start; the next start also removes the half-written file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use extism_playground::app::autosave::{FILE_NAME, StateFile};
use extism_playground::app::state::AppState;
use extism_playground::workbench::state::PluginMemory;
use extism_playground::workbench::{InputDraft, InputMode};

use crate::common;

/// Kills what it holds when dropped (a test that fails leaves no window or X server behind).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn xvfb_available() -> bool {
    Command::new("Xvfb")
        .arg("-help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A saved state with many plugins remembered, each with a large input: about 32 MB of JSON,
/// so writing it takes long enough to be killed in the middle.
fn large_state() -> AppState {
    let mut state = AppState::default();
    for n in 0..16 {
        let mut memory = PluginMemory {
            last_used: n,
            ..PluginMemory::default()
        };
        memory.inputs.insert(
            "handle".into(),
            InputDraft {
                text: format!("{n:02}").repeat(1_000_000),
                mode: InputMode::Raw,
            },
        );
        state
            .workbench
            .plugins
            .insert(format!("file:/elsewhere/plugin-{n}.wasm"), memory);
    }
    state
}

/// The app's temporary file for the state, while one is being written.
fn temporary_in(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(&format!(".{FILE_NAME}.")) && n.ends_with(".extism-playground-tmp")
            })
        })
}

/// Starts the window on `data` and kills it the moment its state's temporary file appears.
/// Returns that file.
fn kill_while_saving(data: &Path, home: &Path, display: &str) -> PathBuf {
    let mut window = Killed(
        Command::new(common::BIN)
            .env(extism_playground::trust::store::DATA_DIR_ENV, data)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home)
            .env("DISPLAY", display)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the window starts"),
    );
    // The window opens the hello sample and remembers it beside the others: a change, saved
    // within the save delay.
    let started = Instant::now();
    loop {
        if let Some(temporary) = temporary_in(data) {
            let _ = window.0.kill();
            let _ = window.0.wait();
            return temporary;
        }
        if let Ok(Some(status)) = window.0.try_wait() {
            panic!("the window ended before it saved ({status})");
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the window did not save its state within 90 s of starting"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn a_kill_while_the_window_saves_leaves_the_previous_state_whole() {
    if !common::require(
        "Xvfb (a window to kill)",
        xvfb_available(),
        "apt-get install xvfb libgl1-mesa-dri",
    ) {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = StateFile::at(data.path().join(FILE_NAME));
    let before = serde_json::to_vec(&large_state()).unwrap();
    let display = format!(":{}", 500 + std::process::id() % 400);
    let _xvfb = Killed(
        Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts"),
    );
    std::thread::sleep(Duration::from_secs(1));
    // The kill may land after the rename (then the new state is there, whole); it is tried
    // until one lands in the middle of a save.
    let mut cut_short = 0;
    for _ in 0..4 {
        std::fs::write(file.path(), &before).unwrap();
        let temporary = kill_while_saving(data.path(), home.path(), &display);
        let state = file.load().expect("the state reads back").expect("a state");
        assert!(
            state
                .workbench
                .plugins
                .values()
                .filter_map(|m| m.inputs.get("handle"))
                .filter(|draft| draft.text.len() == 2_000_000)
                .count()
                == 16,
            "every remembered input is whole"
        );
        if temporary.exists() {
            // Killed mid-save: the state saved before is there, byte for byte.
            assert!(
                std::fs::read(file.path()).unwrap() == before,
                "a save cut short changed the state saved before it"
            );
            cut_short += 1;
            // The next start removes what the killed save left.
            let out = Command::new(common::BIN)
                .arg("--version")
                .env(extism_playground::trust::store::DATA_DIR_ENV, data.path())
                .output()
                .unwrap();
            common::assert_exit(&out, 0);
            assert_eq!(
                temporary_in(data.path()),
                None,
                "the half-written file is gone"
            );
            break;
        }
    }
    assert_eq!(
        cut_short, 1,
        "no kill landed in the middle of a save in 4 tries"
    );
}
