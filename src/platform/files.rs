//! Files that hold what others must not read: a trap's coredump carries the plugin's memory
//! (and so any secret it was given).
//!
//! - Unix: the file is made with mode `0600`.
//! - Windows: files in the user's temporary folder (`%LOCALAPPDATA%\Temp`, where coredumps go)
//!   inherit that folder's access list, which grants the user, SYSTEM and Administrators only.

use std::path::Path;

/// Creates `path` empty (or empties it), readable and writable by its owner only; extism later
/// writes into it as it is, keeping its mode.
pub fn create_private(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = options.open(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_empty_and_the_owners_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.coredump");
        std::fs::write(&path, b"old").unwrap();
        create_private(&path);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        let fresh = dir.path().join("new.coredump");
        create_private(&fresh);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(fresh.is_file());
    }
}
