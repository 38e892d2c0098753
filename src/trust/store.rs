//! The files trusted on this machine: those this app saved itself, and those the user chose to
//! trust ("Allow and remember"). Trust binds to the file's bytes (sha256) and to what its grants
//! resolve to here ([`Review::fingerprint`]: paths after symlinks, hosts, requests); a file
//! saved here is trusted only where it was saved. A copy moved elsewhere, or a folder re-linked
//! under it, asks again. One small JSON file in the app's data directory,
//! shared by the window and the command line; every change re-reads it and writes it
//! atomically, so two processes lose at most a concurrent change, never the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::Review;

/// The id the window's own storage uses (eframe's `app_name`).
pub use crate::platform::dirs::APP_ID;
/// Environment variable naming the data directory instead of the platform's.
pub use crate::platform::dirs::DATA_DIR_ENV;
const FILE_NAME: &str = "trusted-files.json";
/// The folder, in the data directory, of mock-host plugins kept by sha256.
const MOCK_HOSTS: &str = "mock-hosts";

/// The app's data directory: `$EXTISM_PLAYGROUND_DATA_DIR` when set, else beside the window's
/// saved state.
pub fn data_dir() -> Option<PathBuf> {
    crate::platform::dirs::app_data()
}

/// Where mock-host plugins already loaded are kept, by sha256, so a definition saved with the
/// window finds its module again without reading any other file.
pub fn mock_host_cache() -> Option<PathBuf> {
    data_dir().map(|d| d.join(MOCK_HOSTS))
}
/// How many saved files are remembered; the oldest are forgotten first.
const MAX_SAVED: usize = 2000;

/// Why a file is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    /// This app saved it on this machine (and it has not changed since).
    Saved,
    /// The user chose "Allow and remember" for it.
    Remembered,
}

/// A file this app saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedFile {
    pub path: PathBuf,
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// What its grants resolved to where it was saved ([`Review::fingerprint`]). An entry
    /// written before trust bound to it has none, and trusts nothing.
    #[serde(default)]
    pub resolved: Option<Vec<String>>,
}

/// A file the user trusts, with what it was granted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedFile {
    pub path: PathBuf,
    pub at: u64,
    /// The grants as they were shown.
    pub grants: Vec<String>,
    /// What they resolved to when trust was given ([`Review::fingerprint`]).
    #[serde(default)]
    pub resolved: Option<Vec<String>>,
}

/// The contents of the trust file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrustList {
    /// Files this app saved, by sha256.
    pub saved: BTreeMap<String, SavedFile>,
    /// Files the user trusts, by sha256.
    pub remembered: BTreeMap<String, RememberedFile>,
}

impl TrustList {
    /// Whether the reviewed file is trusted, and why: the same bytes, whose grants resolve to
    /// what they did when trust was given; for a file saved here, also at the same place.
    pub fn trust(&self, review: &Review) -> Option<Trust> {
        let resolved = Some(review.fingerprint());
        if self
            .remembered
            .get(&review.sha256)
            .is_some_and(|f| f.resolved == resolved)
        {
            return Some(Trust::Remembered);
        }
        let here = absolute(&review.file);
        self.saved
            .get(&review.sha256)
            .filter(|f| f.resolved == resolved && absolute(&f.path) == here)
            .map(|_| Trust::Saved)
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Why the trust file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the trusted files list {path}: {cause}; check the folder's permissions")]
pub struct TrustError {
    path: PathBuf,
    cause: std::io::Error,
}

/// Where trust is kept: a file, or memory only when there is no data directory.
#[derive(Clone, Debug)]
pub struct TrustStore {
    file: Option<PathBuf>,
    memory: Arc<Mutex<TrustList>>,
}

impl TrustStore {
    /// The user's store: in `$EXTISM_PLAYGROUND_DATA_DIR` when set, else beside the window's
    /// saved state (e.g. `~/.local/share/extism-playground`).
    pub fn user() -> Self {
        match data_dir() {
            Some(dir) => Self::at(&dir),
            None => Self::in_memory(),
        }
    }

    /// A store in `dir`.
    pub fn at(dir: &Path) -> Self {
        Self {
            file: Some(dir.join(FILE_NAME)),
            memory: Arc::default(),
        }
    }

    /// A store that forgets everything when the process ends.
    pub fn in_memory() -> Self {
        Self {
            file: None,
            memory: Arc::default(),
        }
    }

    /// The file trust is kept in, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Everything trusted now. A file that cannot be read or parsed trusts nothing (and says
    /// so in the app's log): the safe side.
    pub fn list(&self) -> TrustList {
        let Some(file) = &self.file else {
            return self.memory.lock().map(|m| m.clone()).unwrap_or_default();
        };
        match crate::platform::files::read(file, crate::platform::files::FileKind::AppData) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(
                    "ignoring the unreadable trusted files list {}: {e}",
                    file.display()
                );
                TrustList::default()
            }),
            Err(_) => TrustList::default(),
        }
    }

    /// Whether the reviewed file is trusted (see [`TrustList::trust`]).
    pub fn trust(&self, review: &Review) -> Option<Trust> {
        self.list().trust(review)
    }

    /// Records that this app saved the reviewed file where it is: it opens without asking
    /// there while its grants resolve the same.
    pub fn record_saved(&self, review: &Review) -> Result<(), TrustError> {
        let entry = SavedFile {
            path: absolute(&review.file),
            at: crate::clock::now(),
            resolved: Some(review.fingerprint()),
        };
        self.update(|list| {
            list.saved.insert(review.sha256.clone(), entry);
            while list.saved.len() > MAX_SAVED {
                let oldest = list
                    .saved
                    .iter()
                    .min_by_key(|(_, f)| f.at)
                    .map(|(k, _)| k.clone());
                if let Some(key) = oldest {
                    list.saved.remove(&key);
                }
            }
        })
    }

    /// Trusts the reviewed file from now on.
    pub fn remember(&self, review: &Review) -> Result<(), TrustError> {
        let entry = RememberedFile {
            path: absolute(&review.file),
            at: crate::clock::now(),
            grants: review.grants.iter().map(ToString::to_string).collect(),
            resolved: Some(review.fingerprint()),
        };
        self.update(|list| {
            list.remembered.insert(review.sha256.clone(), entry);
        })
    }

    /// Stops trusting the file with this sha256 (whether saved here or remembered).
    pub fn revoke(&self, sha256: &str) -> Result<(), TrustError> {
        self.update(|list| {
            list.remembered.remove(sha256);
            list.saved.remove(sha256);
        })
    }

    fn update(&self, change: impl FnOnce(&mut TrustList)) -> Result<(), TrustError> {
        let Some(file) = &self.file else {
            if let Ok(mut memory) = self.memory.lock() {
                change(&mut memory);
            }
            return Ok(());
        };
        let mut list = self.list();
        change(&mut list);
        let fail = |cause| TrustError {
            path: file.clone(),
            cause,
        };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let json = serde_json::to_vec_pretty(&list).expect("the trust list serializes");
        crate::platform::files::write_atomically(file, &json).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review_of(file: &Path, paths: &[(&str, &str)]) -> Review {
        let mut m = extism::Manifest::new([extism::Wasm::data(b"\0asm".to_vec())]);
        m.allowed_paths = Some(
            paths
                .iter()
                .map(|(k, g)| ((*k).to_string(), PathBuf::from(g)))
                .collect(),
        );
        super::super::review::review_bundle(&m, &[], file, "abc".to_string())
    }

    #[test]
    fn saved_and_remembered_files_are_trusted_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = TrustStore::at(dir.path());
        let review = review_of(&dir.path().join("s.json"), &[("data", "/data")]);
        assert_eq!(store.trust(&review), None);
        store.record_saved(&review).unwrap();
        assert_eq!(store.trust(&review), Some(Trust::Saved));
        // Another handle on the same folder (the command line) sees it.
        assert_eq!(
            TrustStore::at(dir.path()).trust(&review),
            Some(Trust::Saved)
        );
        store.revoke(&review.sha256).unwrap();
        assert_eq!(store.trust(&review), None);
        store.remember(&review).unwrap();
        assert_eq!(store.trust(&review), Some(Trust::Remembered));
    }

    #[cfg(unix)]
    #[test]
    fn trust_binds_to_what_the_grants_resolve_to_and_where_a_saved_file_is() {
        let dir = tempfile::tempdir().unwrap();
        let store = TrustStore::at(&dir.path().join("store"));
        let here = dir.path().join("here");
        std::fs::create_dir_all(here.join("data")).unwrap();
        let saved = review_of(&here.join("b.json"), &[("data", "/data")]);
        store.record_saved(&saved).unwrap();
        assert_eq!(store.trust(&saved), Some(Trust::Saved));
        // The same bytes copied to a folder where `data` links elsewhere: asked again.
        let there = dir.path().join("there");
        std::fs::create_dir_all(&there).unwrap();
        std::os::unix::fs::symlink(dir.path().join("store"), there.join("data")).unwrap();
        let copy = review_of(&there.join("b.json"), &[("data", "/data")]);
        assert_ne!(copy.fingerprint(), saved.fingerprint());
        assert_eq!(store.trust(&copy), None);
        // Re-linked in place: asked again too.
        std::fs::remove_dir(here.join("data")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("store"), here.join("data")).unwrap();
        assert_eq!(
            store.trust(&review_of(&here.join("b.json"), &[("data", "/data")])),
            None
        );
        // A saved file moved, even with grants that resolve the same (none), asks again.
        let plain = review_of(&here.join("p.json"), &[]);
        store.record_saved(&plain).unwrap();
        assert_eq!(store.trust(&review_of(&there.join("p.json"), &[])), None);
        // A remembered file naming a module beside it: a copy elsewhere reads another module.
        let mut m = extism::Manifest::new([extism::Wasm::file("plugin.wasm")]);
        m.allowed_hosts = Some(vec!["*".to_string()]);
        let at = |dir: &Path| {
            super::super::review::review_manifest(&m, &dir.join("m.json"), dir, "m".to_string())
        };
        store.remember(&at(&here)).unwrap();
        assert_eq!(store.trust(&at(&here)), Some(Trust::Remembered));
        assert_eq!(store.trust(&at(&there)), None);
        // An entry written before trust bound to meaning trusts nothing.
        let old = r#"{"saved": {"abc": {"path": "/x/p.json", "at": 1}}}"#;
        let list: TrustList = serde_json::from_str(old).unwrap();
        assert_eq!(list.trust(&review_of(Path::new("/x/p.json"), &[])), None);
    }

    #[test]
    fn an_unreadable_list_trusts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        assert_eq!(TrustStore::at(dir.path()).list(), TrustList::default());
    }
}
