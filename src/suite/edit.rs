//! Writing tests into suite files from the window: a call that ran becomes a `[[test]]` at the
//! end of the file, the rest of the file (comments, order, formatting) kept as it was, and the
//! file replaced atomically. A new file starts with a `[plugin]` table naming the module
//! relative to it, with the sandbox options that differ from the defaults.

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, value};

use crate::bundle::{self, ExpectedOutcome};
use crate::runner::SandboxOptions;

/// Why a test could not be added.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path} is not valid TOML ({message}); fix it, or pick another file")]
    Toml { path: PathBuf, message: String },
    #[error(
        "{path} is not a test suite (it has no [plugin] table); pick a suite, or a new file name"
    )]
    NotASuite { path: PathBuf },
    #[error("{0}")]
    Unwritable(String),
    #[error("cannot save {path}: {cause} (the file is unchanged)")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// A call to add as a test.
#[derive(Clone, Debug)]
pub struct NewTest<'a> {
    /// The name wanted; made unique in the file with a number.
    pub name: &'a str,
    pub function: &'a str,
    pub input: &'a [u8],
    pub expected: &'a ExpectedOutcome,
}

/// Appends `test` to the suite at `path` (created with a `[plugin]` table for `plugin` and
/// `options` when it does not exist). Returns the name the test got.
pub fn append_test(
    path: &Path,
    plugin: &Path,
    options: &SandboxOptions,
    test: &NewTest<'_>,
) -> Result<String, EditError> {
    let mut doc = if path.exists() {
        let existing = std::fs::read_to_string(path).map_err(|cause| EditError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        let doc: DocumentMut =
            existing
                .parse()
                .map_err(|e: toml_edit::TomlError| EditError::Toml {
                    path: path.to_path_buf(),
                    message: e.message().to_string(),
                })?;
        if !doc.get("plugin").is_some_and(Item::is_table) {
            return Err(EditError::NotASuite {
                path: path.to_path_buf(),
            });
        }
        doc
    } else {
        new_suite(path, plugin, options)
    };
    let taken: Vec<String> = doc
        .get("test")
        .and_then(Item::as_array_of_tables)
        .map(|tests| {
            tests
                .iter()
                .filter_map(|t| t.get("name").and_then(Item::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let name = unique(test.name, &taken);
    let mut step = Table::new();
    step.insert("call", value(test.function));
    let input = std::str::from_utf8(test.input).map_err(|_| {
        EditError::Unwritable(
            "the input is binary, which a suite cannot hold as text; save a bundle instead (File → Save as bundle)".to_string(),
        )
    })?;
    if !input.is_empty() {
        step.insert("input", value(input));
    }
    match test.expected {
        ExpectedOutcome::Output(bytes) => {
            let output = std::str::from_utf8(bytes).map_err(|_| {
                EditError::Unwritable(
                    "the output is binary, which a suite cannot expect as text; save a bundle instead (File → Save as bundle)".to_string(),
                )
            })?;
            // JSON is compared as JSON: key order and spacing may change between builds.
            match serde_json::from_str::<serde_json::Value>(output) {
                Ok(json) if json.is_object() || json.is_array() => {
                    step.insert("expect_json", value(output));
                }
                _ => {
                    step.insert("expect_output", value(output));
                }
            }
        }
        ExpectedOutcome::Json(json) => {
            step.insert("expect_json", value(json.to_string()));
        }
        ExpectedOutcome::OutputMatch(pattern) => {
            step.insert("expect_match", value(pattern.as_str()));
        }
        ExpectedOutcome::Error(kind) => {
            step.insert("expect_error", value(kind.as_str()));
        }
        ExpectedOutcome::ErrorMatch { kind, pattern } => {
            if let Some(kind) = kind {
                step.insert("expect_error", value(kind.as_str()));
            }
            step.insert("expect_error_match", value(pattern.as_str()));
        }
    }
    let mut steps = ArrayOfTables::new();
    steps.push(step);
    let mut entry = Table::new();
    entry.insert("name", value(name.as_str()));
    entry.insert("step", Item::ArrayOfTables(steps));
    match doc.get_mut("test") {
        Some(Item::ArrayOfTables(tests)) => tests.push(entry),
        Some(_) => {
            return Err(EditError::Unwritable(format!(
                "{}: `test` is not a list of [[test]] tables; fix the file first",
                path.display()
            )));
        }
        None => {
            let mut tests = ArrayOfTables::new();
            tests.push(entry);
            doc.insert("test", Item::ArrayOfTables(tests));
        }
    }
    bundle::write_atomically(path, doc.to_string().as_bytes()).map_err(|cause| {
        EditError::Write {
            path: path.to_path_buf(),
            cause,
        }
    })?;
    Ok(name)
}

/// `wanted`, or `wanted (2)`, `wanted (3)`, … the first not in `taken`.
fn unique(wanted: &str, taken: &[String]) -> String {
    let wanted = if wanted.trim().is_empty() {
        "test"
    } else {
        wanted.trim()
    };
    if !taken.iter().any(|t| t == wanted) {
        return wanted.to_string();
    }
    // Of len + 1 numbers, one is free.
    (2..=taken.len() + 2)
        .map(|n| format!("{wanted} ({n})"))
        .find(|name| !taken.contains(name))
        .expect("some number is free")
}

/// A new suite for `plugin`: its path relative to the suite's folder when it is below it (or
/// reachable with `..`), and the options that differ from the defaults.
fn new_suite(path: &Path, plugin: &Path, options: &SandboxOptions) -> DocumentMut {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(
        "# A test suite for extism-playground: `extism-playground test THIS_FILE`.\n# Paths are relative to this file.\n",
    );
    let mut table = Table::new();
    table.insert("wasm", value(relative(plugin, dir)));
    if options.wasi {
        table.insert("wasi", value(true));
    }
    if !options.config.is_empty() {
        let mut config = InlineTable::new();
        for (k, v) in &options.config {
            config.insert(k, v.as_str().into());
        }
        table.insert("config", value(config));
    }
    if !options.allowed_hosts.is_empty() {
        let hosts: Array = options.allowed_hosts.iter().map(String::as_str).collect();
        table.insert("allow_hosts", value(hosts));
    }
    if !options.allowed_paths.is_empty() {
        let paths: Array = options
            .allowed_paths
            .iter()
            .map(|p| {
                let host = relative(&p.host, dir);
                format!("{}{host}:{}", if p.read_only { "ro:" } else { "" }, p.guest)
            })
            .collect();
        table.insert("allow_paths", value(paths));
    }
    if let Some(pages) = options.memory_max_pages {
        table.insert("memory_max", value(i64::from(pages)));
    }
    for (key, number) in [
        ("timeout_ms", options.timeout_ms),
        ("fuel", options.fuel_limit),
        ("http_response_max", options.http_response_max_bytes),
        ("var_max", options.var_max_bytes),
    ] {
        if let Some(n) = number.and_then(|n| i64::try_from(n).ok()) {
            table.insert(key, value(n));
        }
    }
    doc.insert("plugin", Item::Table(table));
    doc
}

/// `path` relative to `dir` when both are absolute (with `..` as needed), else as it is; with
/// forward slashes, so the file reads the same on every OS.
fn relative(path: &Path, dir: &Path) -> String {
    let (Ok(path), Ok(dir)) = (std::path::absolute(path), std::path::absolute(dir)) else {
        return path.display().to_string();
    };
    let ours: Vec<_> = path.components().collect();
    let base: Vec<_> = dir.components().collect();
    let common = ours.iter().zip(&base).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return path.display().to_string();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); base.len() - common];
    parts.extend(
        ours[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_unique() {
        let taken = vec!["greet".to_string(), "greet (2)".to_string()];
        assert_eq!(unique("greet", &taken), "greet (3)");
        assert_eq!(unique("count", &taken), "count");
        assert_eq!(unique("  ", &[]), "test");
    }

    #[test]
    fn paths_are_relative_to_the_suite() {
        assert_eq!(
            relative(Path::new("/a/b/target/p.wasm"), Path::new("/a/b/tests")),
            "../target/p.wasm"
        );
        assert_eq!(
            relative(Path::new("/a/b/tests/p.wasm"), Path::new("/a/b/tests")),
            "p.wasm"
        );
    }

    #[test]
    fn an_appended_test_keeps_the_file_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suite.toml");
        let original = "# my suite\n[plugin]\nwasm = \"p.wasm\" # the build\n\n[[test]]\nname = \"first\"\n  [[test.step]]\n  call = \"f\"\n";
        std::fs::write(&path, original).unwrap();
        let expected = ExpectedOutcome::Output(br#"{"b":1,"a":"x"}"#.to_vec());
        let name = append_test(
            &path,
            Path::new("p.wasm"),
            &SandboxOptions::default(),
            &NewTest {
                name: "first",
                function: "g",
                input: b"line \"1\"\nline 2",
                expected: &expected,
            },
        )
        .unwrap();
        assert_eq!(name, "first (2)");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(original), "{text}");
        let file = super::super::file::parse(&text, &path).unwrap();
        assert_eq!(file.tests.len(), 2);
        let step = &file.tests[1].steps[0];
        assert_eq!(step.call, "g");
        assert_eq!(step.input.as_deref(), Some("line \"1\"\nline 2"));
        assert!(
            step.expect_json.is_some(),
            "JSON outputs are compared as JSON"
        );
    }

    #[test]
    fn a_new_suite_names_the_plugin_and_its_options() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tests").join("new.toml");
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        let options = SandboxOptions {
            wasi: true,
            timeout_ms: Some(500),
            config: [("vowels".to_string(), "aeiouy".to_string())].into(),
            ..SandboxOptions::default()
        };
        append_test(
            &path,
            &dir.path().join("build").join("p.wasm"),
            &options,
            &NewTest {
                name: "kaboom",
                function: "f",
                input: b"",
                expected: &ExpectedOutcome::Error(crate::runner::ErrorKind::Trap),
            },
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let file = super::super::file::parse(&text, &path).unwrap();
        assert_eq!(file.plugin.wasm, "../build/p.wasm");
        assert_eq!(file.plugin.wasi, Some(true));
        assert_eq!(file.plugin.timeout_ms, Some(500));
        assert_eq!(
            file.tests[0].steps[0].expect_error,
            Some(crate::runner::ErrorKind::Trap)
        );
    }
}
