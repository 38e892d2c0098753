//! Writing tests into suite files from the window: a call that ran becomes a `[[test]]` at the
//! end of the file, the rest of the file (comments, order, formatting) kept as it was, and the
//! file replaced atomically. A new file starts with a `[plugin]` table naming the module
//! relative to it, with the sandbox options that differ from the defaults, the host functions
//! the plugin needs and the kv store the run started from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, value};

use crate::bundle::ExpectedOutcome;
use crate::runner::SandboxOptions;
use crate::runner::host::define::MockLoadError;
use crate::runner::host::{Behaviour, Bytes, HostFnDef};

/// Why a test could not be added.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Read(#[from] crate::platform::files::ReadError),
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

/// What a new suite's `[plugin]` table is made of: the plugin that ran and how it ran.
#[derive(Clone, Copy, Debug)]
pub struct SuitePlugin<'a> {
    /// The module file.
    pub wasm: &'a Path,
    pub options: &'a SandboxOptions,
    /// The user's definitions the plugin is linked with.
    pub host_functions: &'a [HostFnDef],
    /// The kv store the run started from: every test of the suite starts from it.
    pub kv: &'a BTreeMap<String, Bytes>,
}

/// What adding a test did.
#[derive(Clone, Debug, Default)]
pub struct Added {
    /// The name the test got.
    pub name: String,
    /// Files written beside the suite (scripts and mock-host plugins it names).
    pub written: Vec<PathBuf>,
    /// What the suite could not hold, or where it differs from the run, for the person to see.
    pub notes: Vec<Note>,
    /// The suite's text, as written.
    pub text: String,
    /// Its text before, when it existed.
    pub before: Option<String>,
}

/// Something the suite could not hold, or where it differs from the run that made the test.
#[derive(Clone, Debug)]
pub enum Note {
    /// A host function the suite's `host_functions` cannot define; it was left out.
    HostFunction(SpecError),
    /// A kv value that is not text, which a suite's kv table cannot hold; it was left out.
    BinaryKv { key: String },
    /// The suite runs the module it names (`named`, as written), not `wasm`, which made the run.
    OtherPlugin { named: String, wasm: PathBuf },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HostFunction(e) => e.fmt(f),
            Self::BinaryKv { key } => write!(
                f,
                "the kv value {key:?} is binary, which a suite's kv table cannot hold; it was left out"
            ),
            Self::OtherPlugin { named, wasm } => write!(
                f,
                "the suite runs {named}, not {} which made this run; `test --plugin {}` runs the suite against the latter",
                wasm.display(),
                wasm.display()
            ),
        }
    }
}

/// A host function definition a suite's `host_functions` cannot say.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SpecError {
    /// It calls an export not named like the import.
    #[error(
        "{function} calls the export {export:?} of its mock-host plugin, which a suite's host_functions cannot say; define it in the suite by hand"
    )]
    OtherExport { function: String, export: String },
    /// Its mock-host plugin has no file and was not loaded (`cause` says why, when known).
    #[error(
        "the mock-host plugin of {function} is not loaded ({}), so the suite cannot name it; define it in the suite by hand",
        .cause.as_ref().map_or_else(|| "no file".to_string(), ToString::to_string)
    )]
    MockNotLoaded {
        function: String,
        cause: Option<Arc<MockLoadError>>,
    },
}

/// A definition as a suite's `host_functions` holds it: the `NAME` and `SPEC` of
/// `--host-fn NAME=SPEC`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HostFunctionSpec {
    name: String,
    spec: String,
}

/// Appends `test` to the suite at `path` (created with a `[plugin]` table for `plugin` when it
/// does not exist).
pub fn append_test(
    path: &Path,
    plugin: &SuitePlugin<'_>,
    test: &NewTest<'_>,
) -> Result<Added, EditError> {
    let mut added = Added::default();
    let mut doc = if path.exists() {
        let existing =
            crate::platform::files::read_text(path, crate::platform::files::FileKind::Suite)?;
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
        if let Some(note) = other_plugin(&doc, path, plugin.wasm) {
            added.notes.push(note);
        }
        added.before = Some(existing);
        doc
    } else {
        let (doc, pending) = new_suite(path, plugin, &mut added.notes);
        // The files the new suite names go first: a suite never names a file that is not there.
        for (file, bytes) in pending {
            crate::platform::files::write_atomically(&file, &bytes).map_err(|cause| {
                EditError::Write {
                    path: file.clone(),
                    cause,
                }
            })?;
            added.written.push(file);
        }
        doc
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
    let step = step_table(test)?;
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
    let written = doc.to_string();
    crate::platform::files::write_atomically(path, written.as_bytes()).map_err(|cause| {
        EditError::Write {
            path: path.to_path_buf(),
            cause,
        }
    })?;
    added.name = name;
    added.text = written;
    Ok(added)
}

/// The `[[test.step]]` table of `test`: its call, input and expectation.
fn step_table(test: &NewTest<'_>) -> Result<Table, EditError> {
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
    Ok(step)
}

/// A note when the existing suite at `path` names another module than `wasm`.
fn other_plugin(doc: &DocumentMut, path: &Path, wasm: &Path) -> Option<Note> {
    let named = doc.get("plugin")?.get("wasm")?.as_str()?;
    let dir = suite_dir(path);
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    };
    (!same(&dir.join(named), wasm)).then(|| Note::OtherPlugin {
        named: named.to_string(),
        wasm: wasm.to_path_buf(),
    })
}

/// The folder a suite's relative paths start from.
fn suite_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
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

/// A file to write beside a new suite: its path and contents.
type Pending = (PathBuf, Vec<u8>);

/// A new suite for `plugin`: its path relative to the suite's folder when it is below it (or
/// reachable with `..`), the options that differ from the defaults, its host functions and
/// kv store. Returns the files the suite names that must be written beside it.
fn new_suite(
    path: &Path,
    plugin: &SuitePlugin<'_>,
    notes: &mut Vec<Note>,
) -> (DocumentMut, Vec<Pending>) {
    let options = plugin.options;
    let dir = suite_dir(path);
    let mut pending = Vec::new();
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(
        "# A test suite for extism-playground: `extism-playground test THIS_FILE`.\n# Paths are relative to this file.\n",
    );
    let mut table = Table::new();
    table.insert("wasm", value(relative(plugin.wasm, dir)));
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
    let mut functions = InlineTable::new();
    for def in plugin.host_functions.iter().filter(|d| d.enabled) {
        match host_function_spec(def, path, &mut pending) {
            Ok(HostFunctionSpec { name, spec }) => {
                functions.insert(&name, spec.as_str().into());
            }
            Err(why) => notes.push(Note::HostFunction(why)),
        }
    }
    if !functions.is_empty() {
        table.insert("host_functions", value(functions));
    }
    let mut kv = InlineTable::new();
    for (key, bytes) in plugin.kv {
        match bytes.as_text() {
            Some(text) => {
                kv.insert(key, text.into());
            }
            None => notes.push(Note::BinaryKv { key: key.clone() }),
        }
    }
    if !kv.is_empty() {
        table.insert("kv", value(kv));
    }
    doc.insert("plugin", Item::Table(table));
    (doc, pending)
}

/// The `host_functions` key and value that define `def` in the suite at `suite`; a script or
/// mock-host plugin that has no file the suite can name is queued to be written beside it.
fn host_function_spec(
    def: &HostFnDef,
    suite: &Path,
    pending: &mut Vec<Pending>,
) -> Result<HostFunctionSpec, SpecError> {
    let dir = suite_dir(suite);
    let stem = suite
        .file_stem()
        .map_or_else(|| "suite".to_string(), |s| s.to_string_lossy().into_owned());
    let beside = |ending: &str| dir.join(format!("{stem}.{}.{ending}", safe_name(&def.name)));
    let mut named = def.clone();
    match &mut named.behaviour {
        Behaviour::Rhai { script, file } => {
            let existing = file.as_deref().filter(|f| f.is_absolute() && f.is_file());
            let target = match existing {
                Some(f)
                    if crate::platform::files::read_text(
                        f,
                        crate::platform::files::FileKind::Script,
                    )
                    .is_ok_and(|s| s == *script) =>
                {
                    f.to_path_buf()
                }
                _ => queue(pending, beside("rhai"), script.as_bytes()),
            };
            *file = Some(PathBuf::from(relative(&target, dir)));
        }
        Behaviour::Wasm(mock) => {
            if mock.export.as_deref().is_some_and(|e| e != def.name) {
                return Err(SpecError::OtherExport {
                    function: def.qualified(),
                    export: mock.export.clone().unwrap_or_default(),
                });
            }
            let existing = mock
                .file
                .as_deref()
                .filter(|f| f.is_absolute() && f.is_file());
            let target = match (existing, &mock.loaded) {
                (Some(f), _) => f.to_path_buf(),
                (None, Some(bytes)) => queue(pending, beside("wasm"), bytes),
                (None, None) => {
                    return Err(SpecError::MockNotLoaded {
                        function: def.qualified(),
                        cause: mock.load_error.clone(),
                    });
                }
            };
            mock.file = Some(PathBuf::from(relative(&target, dir)));
        }
        Behaviour::Value { .. }
        | Behaviour::Template { .. }
        | Behaviour::KvGet
        | Behaviour::KvSet
        | Behaviour::Fail { .. } => {}
    }
    let flag = named.to_flag();
    let (name, spec) = flag
        .split_once('=')
        .expect("to_flag writes NAME=SPEC and names hold no '='");
    Ok(HostFunctionSpec {
        name: name.to_string(),
        spec: spec.to_string(),
    })
}

/// The file beside the suite that will hold `bytes`: one already queued with the same contents
/// (definitions sharing a script or a mock host share its file), else `target`, queued.
fn queue(pending: &mut Vec<Pending>, target: PathBuf, bytes: &[u8]) -> PathBuf {
    if let Some((queued, _)) = pending.iter().find(|(_, b)| b.as_slice() == bytes) {
        return queued.clone();
    }
    pending.push((target.clone(), bytes.to_vec()));
    target
}

/// `name` with only the characters a file name can hold everywhere.
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
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
        let options = SandboxOptions::default();
        let added = append_test(
            &path,
            &SuitePlugin {
                wasm: &dir.path().join("p.wasm"),
                options: &options,
                host_functions: &[],
                kv: &BTreeMap::new(),
            },
            &NewTest {
                name: "first",
                function: "g",
                input: b"line \"1\"\nline 2",
                expected: &expected,
            },
        )
        .unwrap();
        assert_eq!(added.name, "first (2)");
        assert!(added.notes.is_empty(), "{:?}", added.notes);
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
            &SuitePlugin {
                wasm: &dir.path().join("build").join("p.wasm"),
                options: &options,
                host_functions: &[],
                kv: &BTreeMap::new(),
            },
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

    #[test]
    fn a_new_suite_carries_host_functions_and_the_kv_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant.toml");
        let script = "fn to_upper(s) { s.to_upper() }";
        let defs = vec![
            HostFnDef::new(
                "host",
                "to_upper",
                Behaviour::Rhai {
                    script: script.to_string(),
                    file: None,
                },
            ),
            HostFnDef::new(
                crate::runner::inspect::EXTISM_USER,
                "notify",
                Behaviour::Value {
                    value: Bytes::from(""),
                },
            ),
        ];
        let kv: BTreeMap<String, Bytes> = [
            ("count".to_string(), Bytes::from("3")),
            ("blob".to_string(), Bytes::from(vec![0xff, 0x00])),
        ]
        .into();
        let added = append_test(
            &path,
            &SuitePlugin {
                wasm: &dir.path().join("p.wasm"),
                options: &SandboxOptions::default(),
                host_functions: &defs,
                kv: &kv,
            },
            &NewTest {
                name: "t",
                function: "f",
                input: b"x",
                expected: &ExpectedOutcome::Output(b"X".to_vec()),
            },
        )
        .unwrap();
        let script_file = dir.path().join("tenant.to_upper.rhai");
        assert_eq!(added.written, vec![script_file.clone()]);
        assert_eq!(std::fs::read_to_string(&script_file).unwrap(), script);
        assert_eq!(added.notes.len(), 1, "{:?}", added.notes);
        assert!(
            matches!(&added.notes[0], Note::BinaryKv { key } if key == "blob"),
            "{:?}",
            added.notes
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let file = super::super::file::parse(&text, &path).unwrap();
        assert_eq!(
            file.plugin.host_functions,
            BTreeMap::from([
                (
                    "host::to_upper".to_string(),
                    "rhai:tenant.to_upper.rhai".to_string()
                ),
                ("notify".to_string(), "value:".to_string()),
            ])
        );
        assert_eq!(
            file.plugin.kv,
            BTreeMap::from([("count".to_string(), "3".to_string())])
        );
        // Each spec reads back as the definition it was made from.
        for (name, spec) in &file.plugin.host_functions {
            let def = HostFnDef::parse_flag(&format!("{name}={spec}"), dir.path()).unwrap();
            let original = defs.iter().find(|d| d.name == def.name).unwrap();
            assert_eq!(def.module, original.module);
            match (&def.behaviour, &original.behaviour) {
                (Behaviour::Rhai { script: a, .. }, Behaviour::Rhai { script: b, .. }) => {
                    assert_eq!(a, b);
                }
                (a, b) => assert_eq!(a, b),
            }
        }
    }

    #[test]
    fn adding_a_run_of_another_plugin_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suite.toml");
        std::fs::write(&path, "[plugin]\nwasm = \"v1.wasm\"\n").unwrap();
        let options = SandboxOptions::default();
        let add = |wasm: &str| {
            append_test(
                &path,
                &SuitePlugin {
                    wasm: &dir.path().join(wasm),
                    options: &options,
                    host_functions: &[],
                    kv: &BTreeMap::new(),
                },
                &NewTest {
                    name: "t",
                    function: "f",
                    input: b"",
                    expected: &ExpectedOutcome::Output(b"ok".to_vec()),
                },
            )
            .unwrap()
        };
        assert!(add("v1.wasm").notes.is_empty());
        let other = add("v2.wasm");
        assert_eq!(other.name, "t (2)");
        assert!(
            matches!(&other.notes[0], Note::OtherPlugin { named, wasm }
                if named == "v1.wasm" && *wasm == dir.path().join("v2.wasm")),
            "{:?}",
            other.notes
        );
        let v2 = dir.path().join("v2.wasm");
        assert_eq!(
            other.notes[0].to_string(),
            format!(
                "the suite runs v1.wasm, not {} which made this run; `test --plugin {}` runs the suite against the latter",
                v2.display(),
                v2.display()
            )
        );
    }
}
