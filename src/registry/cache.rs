//! Pulled content kept by digest in the user's cache directory (`$EXTISM_PLAYGROUND_CACHE_DIR`
//! when set), so a digest opened once opens again without the network. Blobs (manifests and
//! layers alike) live under `blobs/sha256/HEX`, written atomically and checked against their
//! digest on every read: a file damaged on disk is dropped and fetched again, never used. The
//! tags seen (`HOST/REPO:TAG` → digest, and when) are kept in `tags.json`, so an offline open of
//! a tag can say what it last pointed to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::platform::digest::sha256_hex;

/// Overrides where the cache lives (tests, portable installs).
pub const CACHE_DIR_ENV: &str = "EXTISM_PLAYGROUND_CACHE_DIR";

/// A content-addressed store of pulled blobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
}

/// What a tag pointed to when it was last resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    pub digest: String,
    /// Seconds since the Unix epoch.
    pub resolved_at: u64,
}

/// Why the cache could not be written.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot write the registry cache at {path}: {cause}; free some space, or set {CACHE_DIR_ENV} to a writable folder"
)]
pub struct CacheError {
    pub path: PathBuf,
    pub cause: std::io::Error,
}

impl Cache {
    /// The user's cache.
    pub fn user() -> Self {
        let root = std::env::var_os(CACHE_DIR_ENV)
            .map(PathBuf::from)
            .or_else(|| crate::platform::dirs::cache().map(|dir| dir.join("oci")))
            .unwrap_or_else(|| {
                std::env::temp_dir()
                    .join("extism-playground-cache")
                    .join("oci")
            });
        Self::at(root)
    }

    /// A cache in `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` is kept; only digests name files.
    fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        let digest = digest.to_ascii_lowercase();
        super::digest_hex(&digest).map(|hex| self.root.join("blobs").join("sha256").join(hex))
    }

    /// When the blob `digest` was cached (seconds since the Unix epoch).
    pub fn stored_at(&self, digest: &str) -> Option<u64> {
        std::fs::metadata(self.blob_path(digest)?)
            .ok()?
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs())
    }

    /// The blob with `digest`, if it is here and intact (a damaged one is removed).
    pub fn get(&self, digest: &str) -> Option<Vec<u8>> {
        let path = self.blob_path(digest)?;
        // Bounded like plugins (a layer over the limit is pulled again, not read from here).
        let bytes =
            crate::platform::files::read(&path, crate::platform::files::FileKind::Plugin).ok()?;
        if format!("sha256:{}", sha256_hex(&bytes)) == digest.to_ascii_lowercase() {
            Some(bytes)
        } else {
            tracing::warn!(
                "dropping {} from the registry cache: its content does not match its digest",
                path.display()
            );
            let _ = std::fs::remove_file(&path);
            None
        }
    }

    /// Whether the blob with `digest` is here (not checked).
    pub fn has(&self, digest: &str) -> bool {
        self.blob_path(digest).is_some_and(|p| p.is_file())
    }

    /// Keeps `bytes` as the blob `digest`. The caller has checked that they match.
    pub fn put(&self, digest: &str, bytes: &[u8]) -> Result<(), CacheError> {
        let Some(path) = self.blob_path(digest) else {
            return Ok(());
        };
        write_atomically(&path, bytes)
    }

    fn tags_path(&self) -> PathBuf {
        self.root.join("tags.json")
    }

    fn tags(&self) -> BTreeMap<String, TagRecord> {
        crate::platform::files::read(&self.tags_path(), crate::platform::files::FileKind::AppData)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// What the tag `key` (`HOST/REPO:TAG`) pointed to when last resolved here.
    pub fn tag(&self, key: &str) -> Option<TagRecord> {
        self.tags().remove(key)
    }

    /// Records that the tag `key` points to `digest` now. (Threads of this process take turns;
    /// processes may race, and then the last one's record stands, whole.)
    pub fn remember_tag(
        &self,
        key: &str,
        digest: &str,
        resolved_at: u64,
    ) -> Result<(), CacheError> {
        static TAGS: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = TAGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut tags = self.tags();
        tags.insert(
            key.to_string(),
            TagRecord {
                digest: digest.to_string(),
                resolved_at,
            },
        );
        let json = serde_json::to_vec_pretty(&tags).expect("tag records serialize");
        write_atomically(&self.tags_path(), &json)
    }

    /// How many blobs and bytes the cache holds.
    pub fn usage(&self) -> (usize, u64) {
        std::fs::read_dir(self.root.join("blobs").join("sha256"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .filter(std::fs::Metadata::is_file)
                    .fold((0, 0), |(n, size), m| (n + 1, size + m.len()))
            })
            .unwrap_or_default()
    }

    /// Forgets every blob and tag.
    pub fn clear(&self) -> Result<(), CacheError> {
        match std::fs::remove_dir_all(&self.root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(cause) => Err(CacheError {
                path: self.root.clone(),
                cause,
            }),
        }
    }
}

/// Writes `bytes` to `path` atomically, creating its folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let fail = |cause| CacheError {
        path: path.to_path_buf(),
        cause,
    };
    let dir = path.parent().expect("cache paths have a folder");
    std::fs::create_dir_all(dir).map_err(fail)?;
    crate::platform::files::write_atomically(path, bytes).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_come_back_only_when_intact() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        let bytes = b"plugin bytes".to_vec();
        let digest = format!("sha256:{}", sha256_hex(&bytes));
        assert_eq!(cache.get(&digest), None);
        cache.put(&digest, &bytes).unwrap();
        assert_eq!(cache.get(&digest), Some(bytes.clone()));
        assert_eq!(cache.usage(), (1, bytes.len() as u64));

        // Damaged on disk: dropped, not served.
        let path = cache.blob_path(&digest).unwrap();
        std::fs::write(&path, b"plugin bytez").unwrap();
        assert_eq!(cache.get(&digest), None);
        assert!(!path.exists());

        assert_eq!(
            cache.get("sha256:../../etc/passwd"),
            None,
            "only digests name files"
        );
        assert_eq!(cache.get("md5:abc"), None);
    }

    #[test]
    fn tags_remember_their_last_digest() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().join("nested"));
        assert_eq!(cache.tag("h/r:t"), None);
        cache.remember_tag("h/r:t", "sha256:aa", 5).unwrap();
        cache.remember_tag("h/r:u", "sha256:bb", 6).unwrap();
        cache.remember_tag("h/r:t", "sha256:cc", 7).unwrap();
        assert_eq!(
            cache.tag("h/r:t"),
            Some(TagRecord {
                digest: "sha256:cc".into(),
                resolved_at: 7
            })
        );
        assert_eq!(cache.tag("h/r:u").unwrap().digest, "sha256:bb");
        cache.clear().unwrap();
        assert_eq!(cache.tag("h/r:u"), None);
    }
}
