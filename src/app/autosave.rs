//! The window's state on disk, kept current as the user works: the input, the options and the
//! window's choices are written within [`SAVE_DELAY`] of a change, atomically (a new file
//! beside the old, flushed to the disk, then renamed over it), on a thread of their own. A kill
//! at any moment leaves the previous state or the new one, whole.
//!
//! After each frame the window hands over what it would save; it is compared with what was
//! saved last (by hash). A change asks for one repaint at its deadline, nothing else: an idle
//! window draws no frames and saves nothing. Closing the window saves what is left at once.
//!
//! The state lives in its own file (`window-state.json` in the app's data folder), not in
//! eframe's storage, which eframe writes in place about every 30 s; a save of that older kind
//! is read once when there is no file of ours yet.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use super::state::AppState;

/// How long a change may wait before it is saved (from the first change not yet saved, so
/// typing without a pause still saves this often).
pub const SAVE_DELAY: f64 = 1.5;

/// The file's name in the app's data folder.
pub const FILE_NAME: &str = "window-state.json";

/// Why the saved state could not be read. The file is moved aside to `kept` (so the next save
/// does not replace what it holds), unless even that failed.
#[derive(Debug, thiserror::Error)]
#[error(
    "the window's saved state could not be read ({detail}); {}",
    match .kept {
        Some(kept) => format!("it was kept as {}", kept.display()),
        None => format!("it is at {}", .path.display()),
    }
)]
pub struct LoadError {
    pub path: PathBuf,
    pub detail: String,
    pub kept: Option<PathBuf>,
}

/// The state file: read once as the window opens, written as it changes.
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The user's: in the app's data folder (`$EXTISM_PLAYGROUND_DATA_DIR` when set).
    pub fn user() -> Option<Self> {
        crate::platform::dirs::app_data().map(|dir| Self::at(dir.join(FILE_NAME)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state; `None` when nothing was saved yet. A file that does not parse is moved
    /// aside (nothing the user typed is thrown away) and said so.
    pub fn load(&self) -> Result<Option<AppState>, LoadError> {
        let read =
            crate::platform::files::read(&self.path, crate::platform::files::FileKind::WindowState);
        let detail = match read {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(state) => return Ok(Some(state)),
                Err(e) => e.to_string(),
            },
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => e.to_string(),
        };
        let kept = self.path.with_extension("json.unreadable");
        Err(LoadError {
            path: self.path.clone(),
            detail,
            kept: std::fs::rename(&self.path, &kept).is_ok().then_some(kept),
        })
    }

    /// Writes `bytes` (a serialized [`AppState`]) in place of the saved state, atomically and
    /// durably.
    pub fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::platform::files::write_durably(&self.path, bytes)
    }
}

/// What the window's state is, serialized, with its hash.
struct Snapshot {
    bytes: Vec<u8>,
    hash: u64,
}

impl Snapshot {
    /// `None` if it cannot be serialized (it is plain data: that would be a bug); nothing is
    /// written then, least of all an empty file over a good one.
    fn of(state: &impl serde::Serialize) -> Option<Self> {
        let bytes = serde_json::to_vec(state).ok()?;
        Some(Self {
            hash: hash(&bytes),
            bytes,
        })
    }
}

fn hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Keeps the state file current (see the module's docs).
pub struct Autosave {
    file: Option<StateFile>,
    /// The hash of what the file holds (or is being written with).
    saved: Option<u64>,
    /// When (egui time, seconds) a change not saved yet was first seen.
    changed_at: Option<f64>,
    writing: Option<JoinHandle<std::io::Result<()>>>,
    /// Why the last save failed, until one works.
    problem: Option<String>,
}

/// What [`Autosave::after_frame`] wants of the window.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// Nothing: the state is saved (or there is no file).
    Idle,
    /// A frame after this long, to save a change then.
    RepaintAfter(std::time::Duration),
}

impl Autosave {
    /// Saves into `file` (`None`: nothing is saved, as in most tests); `loaded` is what it held.
    pub fn new(file: Option<StateFile>, loaded: Option<&AppState>) -> Self {
        Self {
            file,
            saved: loaded.and_then(Snapshot::of).map(|snapshot| snapshot.hash),
            changed_at: None,
            writing: None,
            problem: None,
        }
    }

    pub fn file(&self) -> Option<&StateFile> {
        self.file.as_ref()
    }

    /// Why the last save failed, until one works.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Whether everything seen has been written (or is being written).
    pub fn is_saved(&self) -> bool {
        self.changed_at.is_none()
    }

    /// After a frame at `now` (egui time, seconds): notes whether `state` changed, starts a save
    /// when one is due, and says when to come back.
    pub fn after_frame(&mut self, now: f64, state: &impl serde::Serialize) -> Next {
        self.reap();
        let Some(file) = &self.file else {
            return Next::Idle;
        };
        let Some(snapshot) = Snapshot::of(state) else {
            self.problem = Some("the window's state cannot be saved: it does not serialize".into());
            return Next::Idle;
        };
        if self.saved == Some(snapshot.hash) {
            self.changed_at = None;
            return Next::Idle;
        }
        let since = *self.changed_at.get_or_insert(now);
        let waited = now - since;
        if waited < SAVE_DELAY {
            return Next::RepaintAfter(std::time::Duration::from_secs_f64(SAVE_DELAY - waited));
        }
        if self.writing.is_some() {
            // The last save is still being written: look again shortly.
            return Next::RepaintAfter(std::time::Duration::from_millis(100));
        }
        let file = file.clone();
        let bytes = snapshot.bytes;
        match std::thread::Builder::new()
            .name("save-window-state".into())
            .spawn(move || file.write(&bytes))
        {
            Ok(handle) => {
                self.writing = Some(handle);
                self.saved = Some(snapshot.hash);
                self.changed_at = None;
                Next::Idle
            }
            Err(e) => {
                self.problem = Some(format!("cannot start saving the window's state: {e}"));
                self.changed_at = Some(now);
                Next::RepaintAfter(std::time::Duration::from_secs_f64(SAVE_DELAY))
            }
        }
    }

    /// Saves `state` now, on this thread, unless it is saved already (the window is closing).
    pub fn flush(&mut self, state: &impl serde::Serialize) {
        let Some(file) = self.file.clone() else {
            return;
        };
        if let Some(handle) = self.writing.take() {
            self.note(handle.join());
        }
        let Some(snapshot) = Snapshot::of(state) else {
            return;
        };
        if self.saved == Some(snapshot.hash) && self.problem.is_none() {
            return;
        }
        let written = file.write(&snapshot.bytes);
        if written.is_ok() {
            self.saved = Some(snapshot.hash);
            self.changed_at = None;
        }
        self.note(Ok(written));
    }

    /// Takes in a save that finished.
    fn reap(&mut self) {
        if self.writing.as_ref().is_some_and(JoinHandle::is_finished)
            && let Some(handle) = self.writing.take()
        {
            self.note(handle.join());
        }
    }

    fn note(&mut self, result: std::thread::Result<std::io::Result<()>>) {
        let path = self
            .file
            .as_ref()
            .map_or_else(String::new, |f| f.path().display().to_string());
        match result {
            Ok(Ok(())) => self.problem = None,
            Ok(Err(e)) => {
                self.problem = Some(format!(
                    "cannot save the window's state to {path}: {e}; it is tried again on the next change"
                ));
                // Saved again on the next change: what the file holds is not known.
                self.saved = None;
            }
            Err(_) => {
                self.problem = Some(format!("saving the window's state to {path} failed"));
                self.saved = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(input: &str) -> AppState {
        let mut state = AppState::default();
        state.workbench.input.text = input.to_string();
        state
    }

    fn wait_saved(autosave: &mut Autosave) {
        while autosave.writing.as_ref().is_some_and(|h| !h.is_finished()) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        autosave.reap();
    }

    #[test]
    fn a_change_is_saved_after_the_delay_and_an_unchanged_state_asks_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::at(dir.path().join(FILE_NAME));
        let loaded = state("before");
        let mut autosave = Autosave::new(Some(file.clone()), Some(&loaded));
        assert_eq!(autosave.after_frame(0.0, &loaded), Next::Idle);
        assert_eq!(autosave.after_frame(100.0, &loaded), Next::Idle);

        let typed = state("typed");
        // One delayed repaint, at the deadline of the first change seen.
        assert_eq!(
            autosave.after_frame(10.0, &typed),
            Next::RepaintAfter(std::time::Duration::from_secs_f64(SAVE_DELAY))
        );
        assert!(!autosave.is_saved());
        assert_eq!(
            autosave.after_frame(11.0, &typed),
            Next::RepaintAfter(std::time::Duration::from_secs_f64(SAVE_DELAY - 1.0))
        );
        assert!(file.load().unwrap().is_none(), "not saved before the delay");
        assert_eq!(autosave.after_frame(10.0 + SAVE_DELAY, &typed), Next::Idle);
        wait_saved(&mut autosave);
        assert_eq!(file.load().unwrap().unwrap().workbench.input.text, "typed");
        assert_eq!(autosave.after_frame(20.0, &typed), Next::Idle);
        assert!(autosave.problem().is_none());
    }

    #[test]
    fn closing_saves_what_is_left_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::at(dir.path().join("nested/state.json"));
        let mut autosave = Autosave::new(Some(file.clone()), None);
        let typed = state("typed just before closing");
        let _ = autosave.after_frame(0.0, &typed);
        autosave.flush(&typed);
        assert_eq!(
            file.load().unwrap().unwrap().workbench.input.text,
            "typed just before closing"
        );
    }

    #[test]
    fn a_failed_save_says_why_and_is_tried_again() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: the rename over it fails.
        let path = dir.path().join(FILE_NAME);
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("x"), "x").unwrap();
        let mut autosave = Autosave::new(Some(StateFile::at(&path)), None);
        let typed = state("typed");
        let _ = autosave.after_frame(0.0, &typed);
        let _ = autosave.after_frame(SAVE_DELAY, &typed);
        wait_saved(&mut autosave);
        let problem = autosave.problem().expect("the save failed").to_string();
        assert!(
            problem.contains("cannot save the window's state"),
            "{problem}"
        );
        // The same state is due again.
        assert_ne!(autosave.after_frame(10.0, &typed), Next::Idle);
    }

    #[test]
    fn an_unreadable_file_is_kept_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::at(dir.path().join(FILE_NAME));
        std::fs::write(file.path(), b"{ not json").unwrap();
        let err = file.load().unwrap_err();
        let kept = err.kept.as_ref().expect("moved aside");
        assert_eq!(std::fs::read(kept).unwrap(), b"{ not json");
        assert!(err.to_string().contains("it was kept as"), "{err}");
        assert!(file.load().unwrap().is_none());
    }
}
