//! Hot reload's watcher: the operating system says when one of the open plugin's files changes
//! (`inotify`, `FSEvents`, `ReadDirectoryChangesW` through `notify`), so a window with a plugin open
//! does no work at all until something happens.
//!
//! Editors and `cargo` write a file in several steps (truncate and write, write a temporary and
//! rename it, unlink and hard-link), so a file's own watch would be lost on the first rename:
//! the watcher watches the folders that hold the files, keeps the events that name them, and
//! reports once the folder has been quiet for [`QUIET`]. The workbench then compares the
//! files' stamps, so a touch that changed nothing reloads nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use super::Waker;

/// How long the files must be left alone before a change is reported: long enough to take a
/// build's or an editor's several writes as one, short enough that a reload feels immediate.
pub const QUIET: Duration = Duration::from_millis(40);

/// Watches a plugin's files until dropped.
pub struct Watcher {
    /// Dropping it ends the OS watch, which ends the debouncing thread.
    _watcher: notify::RecommendedWatcher,
    changed: Arc<AtomicBool>,
}

/// Why the files cannot be watched (hot reload then looks at them on a timer).
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path} for changes: {source}")]
pub struct WatchError {
    path: PathBuf,
    #[source]
    source: notify::Error,
}

impl Watcher {
    /// Starts watching `files`; `wake` is called (from the watcher's thread) once per burst of
    /// changes to them.
    pub fn start(files: &[PathBuf], wake: Waker) -> Result<Self, WatchError> {
        let targets: BTreeSet<PathBuf> = files.iter().map(|f| absolute(f)).collect();
        let folders: BTreeSet<PathBuf> = targets
            .iter()
            .filter_map(|t| t.parent().map(Path::to_path_buf))
            .collect();
        let (events, received) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(events).map_err(|source| WatchError {
            path: files.first().cloned().unwrap_or_default(),
            source,
        })?;
        for folder in &folders {
            watcher
                .watch(folder, RecursiveMode::NonRecursive)
                .map_err(|source| WatchError {
                    path: folder.clone(),
                    source,
                })?;
        }
        let changed = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&changed);
        std::thread::Builder::new()
            .name("hot-reload".into())
            .spawn(move || debounce(&received, &targets, &flag, &wake))
            .expect("the hot reload thread starts");
        Ok(Self {
            _watcher: watcher,
            changed,
        })
    }

    /// Whether the files changed since the last call (and clears it).
    pub fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::AcqRel)
    }

    /// Whether a change is waiting to be taken (left for later while a call runs).
    pub fn has_changed(&self) -> bool {
        self.changed.load(Ordering::Acquire)
    }
}

/// The watcher thread: waits for an event naming one of `targets`, then for [`QUIET`] with no
/// more of them, then raises `changed` and wakes the window. Ends when the watcher is dropped.
fn debounce(
    events: &mpsc::Receiver<notify::Result<notify::Event>>,
    targets: &BTreeSet<PathBuf>,
    changed: &AtomicBool,
    wake: &Waker,
) {
    let concerns = |event: &notify::Result<notify::Event>| match event {
        Ok(event) => {
            !event.kind.is_access() && event.paths.iter().any(|p| targets.contains(p.as_path()))
        }
        // An overflowed queue may have lost ours: look at the files.
        Err(_) => true,
    };
    while let Ok(event) = events.recv() {
        if !concerns(&event) {
            continue;
        }
        // Other files of the folder (a build's intermediate files) do not delay the report.
        let mut quiet_at = Instant::now() + QUIET;
        loop {
            match events.recv_timeout(quiet_at.saturating_duration_since(Instant::now())) {
                Ok(event) if concerns(&event) => quiet_at = Instant::now() + QUIET,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        changed.store(true, Ordering::Release);
        wake();
    }
}

/// `path` made absolute against the current folder (events name absolute paths).
fn absolute(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    // Events name the folder as the OS resolved it: resolve the folder's links too.
    match (joined.parent(), joined.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map_or_else(|_| joined.clone(), |p| p.join(name)),
        _ => joined,
    }
}
