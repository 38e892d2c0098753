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
    _os: notify::RecommendedWatcher,
    changed: Arc<AtomicBool>,
    /// A watched folder was removed or moved (`cargo clean`): the watch must start again.
    lost: Arc<AtomicBool>,
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
        // A file that is a link changes where it points: watch both.
        let targets: BTreeSet<PathBuf> = files
            .iter()
            .flat_map(|f| [Some(absolute(f)), f.canonicalize().ok()])
            .flatten()
            .collect();
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
        // Raised from the start: a write between reading the plugin and starting the watch
        // is caught by the first look at the files' stamps.
        let changed = Arc::new(AtomicBool::new(true));
        let lost = Arc::new(AtomicBool::new(false));
        let flags = (Arc::clone(&changed), Arc::clone(&lost));
        std::thread::Builder::new()
            .name("hot-reload".into())
            .spawn(move || {
                let paths = Watched { targets, folders };
                debounce(&received, &paths, &flags.0, &flags.1, &wake);
            })
            .expect("the hot reload thread starts");
        Ok(Self {
            _os: watcher,
            changed,
            lost,
        })
    }

    /// Whether a watched folder went away since the last call (and clears it).
    pub fn take_lost(&self) -> bool {
        self.lost.swap(false, Ordering::AcqRel)
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

/// The files watched and the folders that hold them.
struct Watched {
    targets: BTreeSet<PathBuf>,
    folders: BTreeSet<PathBuf>,
}

impl Watched {
    /// Whether `event` may have changed a watched file.
    fn concerns(&self, event: &notify::Result<notify::Event>) -> bool {
        use notify::EventKind;
        use notify::event::{AccessKind, AccessMode};
        let Ok(event) = event else {
            // An overflowed queue may have lost ours: look at the files.
            return true;
        };
        let counts = match event.kind {
            // A writer closing the file is a change even when no modify event came first.
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            kind => !kind.is_access(),
        };
        counts
            && event
                .paths
                .iter()
                .any(|p| self.targets.contains(p.as_path()) || self.folders.contains(p.as_path()))
    }

    /// Whether `event` removed or moved a watched folder (its watch ends with it).
    fn loses_folder(&self, event: &notify::Result<notify::Event>) -> bool {
        event.as_ref().is_ok_and(|event| {
            (event.kind.is_remove()
                || matches!(
                    event.kind,
                    notify::EventKind::Modify(notify::event::ModifyKind::Name(_))
                ))
                && event
                    .paths
                    .iter()
                    .any(|p| self.folders.contains(p.as_path()))
        })
    }
}

/// The watcher thread: waits for an event that may concern a watched file, then for [`QUIET`]
/// with no more of them, then raises `changed` (and `lost` when a watched folder went away)
/// and wakes the window. Ends when the watcher is dropped.
fn debounce(
    events: &mpsc::Receiver<notify::Result<notify::Event>>,
    watched: &Watched,
    changed: &AtomicBool,
    lost: &AtomicBool,
    wake: &Waker,
) {
    let concerns = |event: &notify::Result<notify::Event>| {
        if watched.loses_folder(event) {
            lost.store(true, Ordering::Release);
        }
        watched.concerns(event)
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
