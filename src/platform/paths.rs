//! Paths that travel between machines: a bundle or manifest written on Windows and opened on
//! Linux (or the other way round), and the `--allow-path` a user types. Pure text rules, the
//! same on every host, so Linux tests prove the Windows cases too.

/// A Windows absolute path: a drive letter (`C:\data`, `C:/data`) or a UNC path
/// (`\\server\share`).
pub fn is_windows_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    let drive =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    drive || path.starts_with(r"\\")
}

/// The OS a path was written on, when it is absolute there but means nothing here: a Windows
/// path read off Windows. (A `/path` read on Windows is valid there: rooted on the current
/// drive.)
pub fn written_elsewhere(path: &str) -> Option<&'static str> {
    (!cfg!(windows) && is_windows_absolute(path)).then_some("Windows")
}

/// Where the guest sees a host folder given without a guest path: the same path on unix
/// (`/srv/data` → `/srv/data`); a Windows path without its drive and with `/` separators
/// (`C:\data\in` → `/data/in`, `\\server\share\x` → `/server/share/x`), since guest paths are
/// always `/` paths.
pub fn default_guest(host: &str) -> String {
    if !is_windows_absolute(host) {
        return host.to_string();
    }
    let rest = if host.starts_with(r"\\") {
        host.trim_start_matches('\\')
    } else {
        &host[2..]
    };
    let parts: Vec<&str> = rest.split(['\\', '/']).filter(|p| !p.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_paths_are_recognised_on_every_host() {
        for path in [r"C:\data", "c:/data", r"D:\", r"\\server\share\plugins"] {
            assert!(is_windows_absolute(path), "{path}");
        }
        for path in ["/data", "data", "C:", "C:data", r"data\x", "ro:/x", ""] {
            assert!(!is_windows_absolute(path), "{path}");
        }
        let expected = if cfg!(windows) { None } else { Some("Windows") };
        assert_eq!(written_elsewhere(r"C:\plugins\a.wasm"), expected);
        assert_eq!(written_elsewhere("/plugins/a.wasm"), None);
        assert_eq!(written_elsewhere("plugins/a.wasm"), None);
    }

    #[test]
    fn default_guest_paths_are_slash_paths() {
        assert_eq!(default_guest("/srv/data"), "/srv/data");
        assert_eq!(default_guest(r"C:\data"), "/data");
        assert_eq!(default_guest(r"C:\data\in\"), "/data/in");
        assert_eq!(default_guest("C:/Users/me/data"), "/Users/me/data");
        assert_eq!(default_guest(r"D:\"), "/");
        assert_eq!(default_guest(r"\\server\share\x"), "/server/share/x");
    }
}
