//! The user's folders, as each OS names them (through the `directories` crate; the data folder
//! is eframe's `storage_dir`, where the window's own state is kept):
//!
//! | | Linux | macOS | Windows |
//! |---|---|---|---|
//! | [`home`] | `$HOME` | `$HOME` | `%USERPROFILE%` |
//! | [`cache`] | `~/.cache/extism-playground` | `~/Library/Caches/extism-playground` | `%LOCALAPPDATA%\extism-playground\cache` |
//! | [`data`] | `~/.local/share/extism-playground` | `~/Library/Application Support/extism-playground` | `%APPDATA%\extism-playground\data` |
//!
//! Callers that let an environment variable override a folder check it first.

use std::path::PathBuf;

/// The id the window's own storage uses (eframe's `app_name`), and the folders' name.
pub const APP_ID: &str = "extism-playground";

/// The user's home folder.
pub fn home() -> Option<PathBuf> {
    directories::UserDirs::new().map(|d| d.home_dir().to_path_buf())
}

/// The app's cache folder (pulled plugins and other things that can be fetched again).
pub fn cache() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", APP_ID).map(|d| d.cache_dir().to_path_buf())
}

/// The app's data folder, beside the window's saved state (what the user trusted, mock hosts).
pub fn data() -> Option<PathBuf> {
    eframe::storage_dir(APP_ID)
}

/// Environment variable naming the app's data folder instead of the platform's.
pub const DATA_DIR_ENV: &str = "EXTISM_PLAYGROUND_DATA_DIR";

/// The app's data folder as the app uses it: `$EXTISM_PLAYGROUND_DATA_DIR` when set, else
/// [`data`].
pub fn app_data() -> Option<PathBuf> {
    std::env::var_os(DATA_DIR_ENV)
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folders_are_the_apps_own() {
        assert!(home().is_some_and(|h| h.is_absolute()));
        let cache = cache().expect("a cache folder");
        let data = data().expect("a data folder");
        for dir in [&cache, &data] {
            assert!(dir.is_absolute(), "{}", dir.display());
            assert!(
                dir.components().any(|c| c.as_os_str() == APP_ID),
                "{} is the app's own",
                dir.display()
            );
        }
        assert_ne!(cache, data);
    }
}
