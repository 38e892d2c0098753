//! Finding a backtrace frame's source file on this machine. DWARF names files as they were on
//! the machine that built the plugin: absolute there (`/home/ci/src/lib.rs`,
//! `D:\work\main.go`), relative to the build's root (`sample-plugins/…`), or under a remapped
//! home (`~/.cargo/…`). A file is looked for through the user's path maps first (a prefix as
//! built → a local folder), then as it is, then relative to the plugin's folder and its
//! parents, the working directory, and this app's own source tree (where its samples were
//! built).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A path prefix as the plugin was built, and the local folder it stands for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceMap {
    /// The prefix as DWARF names it (`D:\dylibso\go-sdk`, `/home/ci/build`).
    pub from: String,
    pub to: PathBuf,
}

/// `/`-separated, without a trailing separator: how prefixes are compared, whatever the
/// separators of the machine that built the plugin.
fn normalized(path: &str) -> String {
    path.replace('\\', "/").trim_end_matches('/').to_string()
}

/// The rest of `file` after the prefix `from`, if `file` is under it (whole components only).
fn strip_prefix<'a>(file: &'a str, from: &str) -> Option<&'a str> {
    let from = normalized(from);
    if from.is_empty() {
        return None;
    }
    let rest = file.get(from.len()..)?;
    let head = normalized(file.get(..from.len())?);
    (head.eq_ignore_ascii_case(&from) || head == from)
        .then_some(rest)
        .filter(|rest| rest.is_empty() || rest.starts_with(['/', '\\']))
        .map(|rest| rest.trim_start_matches(['/', '\\']))
}

/// `rest` (with either separator) under `base`.
fn join(base: &Path, rest: &str) -> PathBuf {
    rest.split(['/', '\\'])
        .filter(|part| !part.is_empty())
        .fold(base.to_path_buf(), |path, part| path.join(part))
}

/// Where `file` is on this machine, if anywhere. Only source files are looked at (by their
/// extension, and that of what a link leads to): the names come from the plugin, which could
/// name `~/.ssh/id_rsa` as a frame's file to have it shown.
pub fn resolve(file: &str, maps: &[SourceMap], plugin_dir: Option<&Path>) -> Option<PathBuf> {
    candidates(file, maps, plugin_dir).into_iter().find(|path| {
        is_source(path)
            && path.is_file()
            && std::fs::canonicalize(path).is_ok_and(|real| is_source(&real))
    })
}

/// The extensions of the languages plugins are written in (and of their headers).
const SOURCE_EXTENSIONS: &[&str] = &[
    "rs", "go", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "hxx", "zig", "ts", "tsx", "js", "mjs",
    "cjs", "jsx", "as", "swift", "kt", "java", "cs", "fs", "py", "hs", "ml", "nim", "odin", "v",
    "d", "gr", "wat", "wast", "s", "asm", "inc", "m", "mm",
];

/// Whether `path` names a source file, by its extension.
fn is_source(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| SOURCE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Every place `file` is looked for, in order.
fn candidates(file: &str, maps: &[SourceMap], plugin_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    // The longest matching prefix first.
    let mut maps: Vec<&SourceMap> = maps.iter().collect();
    maps.sort_by_key(|m| std::cmp::Reverse(normalized(&m.from).len()));
    for map in maps {
        if let Some(rest) = strip_prefix(file, &map.from) {
            out.push(join(&map.to, rest));
        }
    }
    if let Some(rest) = file.strip_prefix("~/")
        && let Some(home) = crate::platform::dirs::home()
    {
        out.push(join(&home, rest));
    }
    let path = Path::new(file);
    if path.is_absolute() {
        out.push(path.to_path_buf());
    } else if !looks_foreign_absolute(file) {
        let mut bases: Vec<PathBuf> = plugin_dir
            .map(|dir| dir.ancestors().map(Path::to_path_buf).collect())
            .unwrap_or_default();
        if let Ok(cwd) = std::env::current_dir() {
            bases.push(cwd);
        }
        bases.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        out.extend(bases.iter().map(|base| join(base, file)));
    }
    out
}

/// A path absolute on another OS: a drive letter or a UNC path on unix, a `/` path on Windows.
fn looks_foreign_absolute(file: &str) -> bool {
    crate::platform::paths::is_windows_absolute(file) || file.starts_with('/')
}

/// A default prefix to map for `file`: its folder as built (the user shortens it to the
/// project's root before choosing the local folder).
pub fn suggested_prefix(file: &str) -> String {
    let cut = file.rfind(['/', '\\']).unwrap_or(0);
    file[..cut].to_string()
}

/// A read-only view of a source file around one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceView {
    pub path: PathBuf,
    /// As the frame named it.
    pub built_as: String,
    pub line: u32,
    pub column: Option<u32>,
    text: std::sync::Arc<String>,
    /// Where each line starts in `text` (found once: the view lays out visible lines only).
    line_starts: std::sync::Arc<Vec<usize>>,
}

/// A frame's source file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {built_as}: {source}")]
pub struct SourceUnreadable {
    /// The file as the module names it.
    pub built_as: String,
    #[source]
    pub source: crate::platform::files::ReadError,
}

impl SourceView {
    /// Reads `path` (at most 16 MiB; not UTF-8 is shown lossily).
    pub fn open(
        path: PathBuf,
        built_as: &str,
        line: u32,
        column: Option<u32>,
    ) -> Result<Self, SourceUnreadable> {
        let bytes = crate::platform::files::read(&path, crate::platform::files::FileKind::Source)
            .map_err(|source| SourceUnreadable {
            built_as: built_as.to_string(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|start| *start < text.len())
            .collect();
        Ok(Self {
            path,
            built_as: built_as.to_string(),
            line,
            column,
            text: std::sync::Arc::new(text),
            line_starts: std::sync::Arc::new(line_starts),
        })
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Line `index` (from 0), without its line ending; empty past the end.
    pub fn line_text(&self, index: usize) -> &str {
        let Some(&start) = self.line_starts.get(index) else {
            return "";
        };
        let end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_source_files_are_shown_whatever_a_plugin_names() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_rsa");
        std::fs::write(&key, "private key").unwrap();
        let file = key.display().to_string();
        assert_eq!(resolve(&file, &[], None), None);
        let source = dir.path().join("lib.rs");
        std::fs::write(&source, "fn main() {}").unwrap();
        assert_eq!(
            resolve(&source.display().to_string(), &[], None),
            Some(source.clone())
        );
        #[cfg(unix)]
        {
            // A source-looking link to something else is not followed.
            let link = dir.path().join("main.rs");
            std::os::unix::fs::symlink(&key, &link).unwrap();
            assert_eq!(resolve(&link.display().to_string(), &[], None), None);
        }
    }

    #[test]
    fn a_windows_build_path_maps_to_a_local_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("plugins/host")).unwrap();
        std::fs::write(dir.path().join("plugins/host/main.go"), "package main\n").unwrap();
        let file = r"D:\dylibso\go-sdk\plugins\host\main.go";
        assert_eq!(resolve(file, &[], None), None, "not found without a map");
        let maps = [SourceMap {
            from: r"D:\dylibso\go-sdk".into(),
            to: dir.path().to_path_buf(),
        }];
        assert_eq!(
            resolve(file, &maps, None),
            Some(dir.path().join("plugins").join("host").join("main.go"))
        );
        // The prefix may be written with either separator, with a trailing one, in any case.
        let maps = [SourceMap {
            from: "d:/dylibso/go-sdk/".into(),
            to: dir.path().to_path_buf(),
        }];
        assert!(resolve(file, &maps, None).is_some());
        // Only whole components match.
        let maps = [SourceMap {
            from: r"D:\dylibso\go".into(),
            to: dir.path().to_path_buf(),
        }];
        assert_eq!(resolve(file, &maps, None), None);
    }

    #[test]
    fn a_unix_build_path_maps_and_the_longest_prefix_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/src")).unwrap();
        std::fs::write(dir.path().join("a/src/lib.rs"), "//").unwrap();
        let maps = [
            SourceMap {
                from: "/home/ci".into(),
                to: PathBuf::from("/nowhere"),
            },
            SourceMap {
                from: "/home/ci/build".into(),
                to: dir.path().to_path_buf(),
            },
        ];
        assert_eq!(
            resolve("/home/ci/build/a/src/lib.rs", &maps, None),
            Some(dir.path().join("a").join("src").join("lib.rs"))
        );
    }

    #[test]
    fn relative_paths_are_found_from_the_plugin_folder_upwards() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("project/src")).unwrap();
        std::fs::create_dir_all(dir.path().join("project/target/wasm")).unwrap();
        std::fs::write(dir.path().join("project/src/lib.rs"), "//").unwrap();
        let plugin_dir = dir.path().join("project/target/wasm");
        assert_eq!(
            resolve("src/lib.rs", &[], Some(&plugin_dir)),
            Some(dir.path().join("project/src/lib.rs"))
        );
        // This app's own samples resolve from its source tree.
        assert!(resolve("sample-plugins/debug-demo/src/lib.rs", &[], None).is_some());
    }

    #[test]
    fn a_source_view_indexes_its_lines_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.go");
        std::fs::write(&path, "package main\r\n\nfunc main() {}\n").unwrap();
        let view = SourceView::open(path, "main.go", 3, None).unwrap();
        assert_eq!(view.line_count(), 3);
        assert_eq!(view.line_text(0), "package main");
        assert_eq!(view.line_text(1), "");
        assert_eq!(view.line_text(2), "func main() {}");
        assert_eq!(view.line_text(3), "");
    }

    #[test]
    fn foreign_absolute_paths_are_not_joined_to_local_folders() {
        assert!(looks_foreign_absolute(r"C:\data\x.go"));
        assert!(looks_foreign_absolute("D:/x.go"));
        assert!(looks_foreign_absolute(r"\\server\share\x.c"));
        assert!(!looks_foreign_absolute("src/lib.rs"));
        assert_eq!(suggested_prefix(r"D:\a\b\main.go"), r"D:\a\b");
        assert_eq!(suggested_prefix("/home/ci/src/lib.rs"), "/home/ci/src");
    }
}
