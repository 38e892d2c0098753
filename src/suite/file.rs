//! Suite files read into [`Suite`]s. A suite is TOML (see the README's "Test suites"): a
//! `[plugin]` table (the module, its sandbox, its host functions and starting host data) and
//! `[[test]]` entries, each with `[[test.step]]` calls and what they must produce. A bundle runs
//! as a suite of one test. Every path a suite names is relative to the suite file; what it grants
//! the plugin (hosts, paths outside its folder) goes through the same review and consent as any
//! file from someone else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Suite, Test};
use crate::bundle::{self, ExpectedOutcome, Step};
use crate::open::{self, Opened, Setup, Source};
use crate::platform::digest::sha256_hex;
use crate::platform::files::{self, FileKind};
use crate::runner::host::define::{self, HostFnDef};
use crate::runner::inspect::{EXTISM_USER, WASI_P1};
use crate::runner::{AllowedPath, ErrorKind, HostData, HostRegistry, SandboxOptions};
use crate::trust::{Decision, Review, TrustStore, review};

/// Why a suite could not be loaded. Each says which file, which key and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error(transparent)]
    Read(#[from] crate::platform::files::ReadError),
    #[error("{path} does not exist; name a suite file (.toml), a bundle or a folder of them")]
    Missing { path: PathBuf },
    #[error(
        "{path} holds no test suites: a suite is a .toml file with a [plugin] table and [[test]] entries; bundles (.json) run too"
    )]
    Empty { path: PathBuf },
    #[error("{path} is not a valid suite: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{path}: {key}: {detail}")]
    Key {
        path: PathBuf,
        key: String,
        detail: String,
    },
    #[error(
        "{path} grants its plugin access that needs your consent:\n{listing}run with --trust to allow it, or --no-grants to run without it"
    )]
    Consent { path: PathBuf, listing: String },
    #[error(
        "{path} was run without its grants, so its {role} {file} (outside the suite's folder) was not read; run with --trust to allow it, or move the file beside the suite"
    )]
    Withheld {
        path: PathBuf,
        role: &'static str,
        file: PathBuf,
    },
    #[error(
        "{path} names its plugin in a registry ({reference}), and was run without its grants, so nothing was pulled; run with --trust to allow it"
    )]
    PullWithheld { path: PathBuf, reference: String },
    #[error("{0}")]
    Open(String),
}

/// How to decide what a suite asks of the sandbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Consent {
    /// Refuse a suite whose grants need consent (unless this app saved it or the user trusts it).
    #[default]
    Ask,
    /// Allow every grant (`--trust`).
    Trust,
    /// Run without the grants that need consent (`--no-grants`).
    WithoutGrants,
}

/// How suites are loaded.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Run against this plugin instead of the one the suite names (`--plugin`).
    pub plugin: Option<PathBuf>,
    pub consent: Consent,
    /// Origins a module download may be redirected to besides its own (`--allow-redirect`).
    pub redirects: Vec<String>,
    /// How `oci://` plugins and modules are pulled.
    pub registry: crate::registry::Settings,
}

/// The file format, as written. Unknown keys are refused (a misspelt key would otherwise be
/// silently ignored and a test pass for the wrong reason).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    pub plugin: PluginTable,
    #[serde(default, rename = "test")]
    pub tests: Vec<TestTable>,
}

/// `[plugin]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginTable {
    /// A .wasm module or an Extism manifest, relative to the suite file; or a registry
    /// reference (`oci://HOST/REPO:TAG`, best pinned `@sha256:…`).
    pub wasm: String,
    pub wasi: Option<bool>,
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// `[ro:]HOST[:GUEST]`, as `--allow-path` takes them; HOST relative to the suite file.
    #[serde(default)]
    pub allow_paths: Vec<String>,
    /// Linear memory limit, in 64 KiB pages.
    pub memory_max: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub fuel: Option<u64>,
    pub http_response_max: Option<u64>,
    pub var_max: Option<u64>,
    /// `NAME = SPEC`, as `--host-fn NAME=SPEC` takes them.
    #[serde(default)]
    pub host_functions: BTreeMap<String, String>,
    /// The kv store every test starts with.
    #[serde(default)]
    pub kv: BTreeMap<String, String>,
    /// Secrets `get_secret` serves.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// `[[test]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestTable {
    pub name: String,
    #[serde(default)]
    pub fresh_instance: bool,
    #[serde(default, rename = "step")]
    pub steps: Vec<StepTable>,
}

/// `[[test.step]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTable {
    pub call: String,
    pub input: Option<String>,
    pub input_file: Option<String>,
    pub expect_output: Option<String>,
    /// JSON text, or a TOML table or array that is read as JSON.
    pub expect_json: Option<toml::Value>,
    pub expect_match: Option<String>,
    pub expect_error: Option<ErrorKind>,
    pub expect_error_match: Option<String>,
}

/// Reads the TOML of a suite (no other file is read). Errors name the line, the key and what
/// is expected there.
pub fn parse(text: &str, path: &Path) -> Result<SuiteFile, SuiteError> {
    toml::from_str(text).map_err(|e| SuiteError::Toml {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })
}

/// Whether TOML text is meant as a suite: it has a `[plugin]` table and `[[test]]` entries
/// (so a `Cargo.toml` is not one). Text that is not TOML counts when it mentions either, so
/// a broken suite is reported rather than skipped.
pub fn looks_like_suite(text: &str) -> bool {
    match text.parse::<toml::Table>() {
        Ok(table) => {
            table.get("plugin").is_some_and(toml::Value::is_table) && table.contains_key("test")
        }
        Err(_) => text.contains("[plugin]") || text.contains("[[test]]"),
    }
}

/// How deep a folder search goes below the folder named.
const MAX_SEARCH_DEPTH: usize = 16;
/// How many entries a folder search looks at, in all, before it stops.
const MAX_SEARCH_ENTRIES: usize = 20_000;

/// What a folder search found: the files to run (and errors in place of paths that name
/// nothing to run), and what it passed over that someone could have meant, with why.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<Result<PathBuf, SuiteError>>,
    pub skipped: Vec<Skipped>,
}

/// Something a folder search did not follow or read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub why: SkipReason,
}

/// Why a folder search passed something over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// A link to a folder: never followed, so a loop or a link out cannot lead the search.
    LinkedFolder,
    /// A `.toml` or `.json` that is not a regular file (a FIFO, a device, a socket).
    NotRegular(&'static str),
    /// Deeper than the search goes.
    TooDeep,
    /// The search looked at as many entries as it may; the rest of the folder was not.
    TooManyEntries,
    /// A folder that cannot be listed, or a candidate that cannot be read (why).
    Unreadable(String),
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.why {
            SkipReason::LinkedFolder => write!(
                f,
                "skipped {path}: a link to a folder, not followed (name the folder itself to search it)"
            ),
            SkipReason::NotRegular(what) => {
                write!(f, "skipped {path}: not a regular file but {what}")
            }
            SkipReason::TooDeep => write!(
                f,
                "skipped {path}: more than {MAX_SEARCH_DEPTH} folders deep (name it to search it)"
            ),
            SkipReason::TooManyEntries => write!(
                f,
                "stopped searching at {path}: the search looked at {MAX_SEARCH_ENTRIES} entries; name the folders that hold the suites"
            ),
            SkipReason::Unreadable(why) => write!(f, "skipped {path}: {why}"),
        }
    }
}

/// The files to run for `paths`: suite files and bundles as given, and in folders (searched
/// recursively, hidden folders and `target` skipped) every `.toml` that is a suite and every
/// `.json` that is a bundle, in name order. A path that does not exist or a folder with none is
/// an error in place. The search follows no link to a folder, reads only regular files (through
/// the bounded reader), and stops at a depth and a number of entries, saying what it skipped.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut out = Discovered::default();
    for path in paths {
        if path.is_dir() {
            let mut search = Search {
                found: Vec::new(),
                skipped: &mut out.skipped,
                entries: 0,
            };
            search.folder(path, 0);
            let mut found = search.found;
            found.sort();
            if found.is_empty() {
                out.files
                    .push(Err(SuiteError::Empty { path: path.clone() }));
            }
            out.files.extend(found.into_iter().map(Ok));
        } else if path.exists() {
            out.files.push(Ok(path.clone()));
        } else {
            out.files
                .push(Err(SuiteError::Missing { path: path.clone() }));
        }
    }
    out
}

/// One folder search under way.
struct Search<'a> {
    found: Vec<PathBuf>,
    skipped: &'a mut Vec<Skipped>,
    entries: usize,
}

impl Search<'_> {
    fn skip(&mut self, path: PathBuf, why: SkipReason) {
        self.skipped.push(Skipped { path, why });
    }

    fn folder(&mut self, dir: &Path, depth: usize) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                return self.skip(
                    dir.to_path_buf(),
                    SkipReason::Unreadable(format!("the folder cannot be listed ({e})")),
                );
            }
        };
        // Counted as they are listed (a folder of millions of entries is never held whole);
        // what is found is sorted at the end.
        for entry in entries.flatten() {
            self.entries += 1;
            if self.entries > MAX_SEARCH_ENTRIES {
                return self.skip(dir.to_path_buf(), SkipReason::TooManyEntries);
            }
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            // The entry itself, not what a link points to.
            let Ok(own) = entry.file_type() else {
                continue;
            };
            if own.is_dir() {
                if name == "target" || name == "node_modules" {
                    continue;
                }
                if depth + 1 > MAX_SEARCH_DEPTH {
                    self.skip(path, SkipReason::TooDeep);
                } else {
                    self.folder(&path, depth + 1);
                }
                if self.entries > MAX_SEARCH_ENTRIES {
                    return;
                }
                continue;
            }
            // A link is followed to a file only (and only a regular one is read).
            if own.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                self.skip(path, SkipReason::LinkedFolder);
                continue;
            }
            let kind = match path.extension().and_then(|e| e.to_str()) {
                Some("toml") => FileKind::Suite,
                Some("json") => FileKind::Plugin,
                _ => continue,
            };
            let bytes = match files::read(&path, kind) {
                Ok(bytes) => bytes,
                Err(files::ReadError::NotRegular { what, .. }) => {
                    self.skip(path, SkipReason::NotRegular(what));
                    continue;
                }
                Err(e) => {
                    self.skip(path, SkipReason::Unreadable(e.to_string()));
                    continue;
                }
            };
            let wanted = match kind {
                FileKind::Suite => std::str::from_utf8(&bytes).is_ok_and(looks_like_suite),
                _ => serde_json::from_slice::<serde_json::Value>(&bytes)
                    .is_ok_and(|v| bundle::declares_bundle(&v)),
            };
            if wanted {
                self.found.push(path);
            }
        }
    }
}

/// Loads the suite or bundle at `path`.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Suite, SuiteError> {
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    let kind = if is_toml {
        FileKind::Suite
    } else {
        FileKind::Plugin
    };
    let bytes = files::read(path, kind)?;
    if !is_toml
        && serde_json::from_slice::<serde_json::Value>(&bytes)
            .is_ok_and(|v| bundle::declares_bundle(&v))
    {
        return load_bundle(path, options);
    }
    if !is_toml {
        return Err(SuiteError::Toml {
            path: path.to_path_buf(),
            message:
                "it is neither a suite (.toml) nor a bundle; a suite file's name ends in .toml"
                    .to_string(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| SuiteError::Toml {
        path: path.to_path_buf(),
        message: "it is not UTF-8 text".to_string(),
    })?;
    let file = parse(&text, path)?;
    resolve(&file, path, &sha256_hex(text.as_bytes()), options)
}

/// Decides a review by `consent`: files this app saved or the user trusts ask nothing.
fn decide(review: &Review, consent: Consent) -> Result<Decision, SuiteError> {
    if !review.needs_consent() || TrustStore::user().trust(review).is_some() {
        return Ok(Decision::Allow);
    }
    match consent {
        Consent::Trust => Ok(Decision::Allow),
        Consent::WithoutGrants => Ok(Decision::WithoutGrants),
        Consent::Ask => Err(SuiteError::Consent {
            path: review.file.clone(),
            listing: review.listing(),
        }),
    }
}

/// Opens a plugin file (a module or a manifest; a manifest's own grants reviewed like the
/// suite's).
fn open_plugin(file: &Path, options: &LoadOptions) -> Result<Opened, SuiteError> {
    let source = Source::from_arg(file).map_err(|e| SuiteError::Open(e.to_string()))?;
    let read = open::read(&source)
        .map_err(|e| SuiteError::Open(e.to_string()))?
        .with_redirects(options.redirects.iter().cloned());
    let decision = match read.review() {
        Some(review) => decide(review, options.consent)?,
        None => Decision::Allow,
    };
    let opened = read
        .resolve(decision, None, &options.registry)
        .map_err(|e| SuiteError::Open(e.to_string()))?;
    if matches!(opened.setup, Setup::Scenario(_)) {
        return Err(SuiteError::Open(format!(
            "{} is a bundle, not a plugin; run the bundle itself with `test`, or name its .wasm",
            file.display()
        )));
    }
    Ok(opened)
}

/// Reviews the suite `text`, as it would be at `path` (one this app just wrote: reviewed from
/// what it wrote, not read back).
pub fn review_text(path: &Path, text: &str) -> Result<Review, SuiteError> {
    let file = parse(text, path)?;
    reviewed(
        &file,
        path,
        &sha256_hex(text.as_bytes()),
        &LoadOptions::default(),
    )
}

/// What the suite at `path` grants (relative to it) and every file and registry it names,
/// reviewed.
fn reviewed(
    file: &SuiteFile,
    path: &Path,
    sha256: &str,
    options: &LoadOptions,
) -> Result<Review, SuiteError> {
    let key = |key: &str, detail: String| SuiteError::Key {
        path: path.to_path_buf(),
        key: key.to_string(),
        detail,
    };
    let p = &file.plugin;
    // A name is parsed with its spec as `NAME=SPEC`: a `=` in it would move where the spec
    // starts, past what the review reads.
    if let Some(name) = p.host_functions.keys().find(|n| n.contains('=')) {
        return Err(key(
            &format!("plugin.host_functions.{name:?}"),
            "an import name has no `=`; name the import, and give its behaviour as the value"
                .to_string(),
        ));
    }
    // What the suite grants, reviewed before anything is read for the plugin.
    let mut granted = SandboxOptions {
        allowed_hosts: p.allow_hosts.clone(),
        ..SandboxOptions::default()
    };
    for (i, text) in p.allow_paths.iter().enumerate() {
        let allowed = text
            .parse::<AllowedPath>()
            .map_err(|e| key(&format!("plugin.allow_paths[{i}]"), e.to_string()))?;
        granted.allowed_paths.push(allowed);
    }
    let mut manifest = extism::Manifest::default();
    granted.apply_to_manifest(&mut manifest);
    let mut review = review::review_suite(&manifest, path, sha256.to_string());
    // Every file it names, and its registry plugin, before any of them is read or pulled.
    if options.plugin.is_none() {
        if crate::registry::is_reference(&p.wasm) {
            review.name_url(&extism_manifest::HttpRequest {
                url: p.wasm.clone(),
                headers: std::collections::BTreeMap::default(),
                method: None,
            });
        } else {
            review.name_file(Path::new(&p.wasm), "plugin");
        }
    }
    for spec in p.host_functions.values() {
        if let Some((role, named)) = define::spec_file(spec) {
            review.name_file(Path::new(named), role);
        }
    }
    for step in file.tests.iter().flat_map(|t| &t.steps) {
        if let Some(input) = &step.input_file {
            review.name_file(Path::new(input), "input file");
        }
    }
    Ok(review)
}

/// Fails when a suite run without its grants needs one of them to run at all: a file outside
/// its folder, or a pull of its plugin (`wasm`).
fn refuse_withheld(review: &Review, wasm: &str) -> Result<(), SuiteError> {
    if let Some((file, role)) = review.outside_files().next() {
        return Err(SuiteError::Withheld {
            path: review.file.clone(),
            role,
            file: file.to_path_buf(),
        });
    }
    if !review.pulls(Decision::Allow).is_empty() {
        return Err(SuiteError::PullWithheld {
            path: review.file.clone(),
            reference: wasm.to_string(),
        });
    }
    Ok(())
}

/// Resolves a parsed suite at `path` (`sha256` of its text, for trust): reads its plugin and
/// input files, reviews its grants, fits its host functions.
pub fn resolve(
    file: &SuiteFile,
    path: &Path,
    sha256: &str,
    options: &LoadOptions,
) -> Result<Suite, SuiteError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let key = |key: &str, detail: String| SuiteError::Key {
        path: path.to_path_buf(),
        key: key.to_string(),
        detail,
    };
    let p = &file.plugin;

    let review = reviewed(file, path, sha256, options)?;
    let decision = decide(&review, options.consent)?;
    if decision == Decision::WithoutGrants {
        refuse_withheld(&review, &p.wasm)?;
    }

    let wasm = options.plugin.clone().unwrap_or_else(|| {
        if crate::registry::is_reference(&p.wasm) {
            PathBuf::from(&p.wasm)
        } else {
            dir.join(&p.wasm)
        }
    });
    let is_reference = wasm.to_str().is_some_and(crate::registry::is_reference);
    if !is_reference && !wasm.exists() {
        return Err(key(
            "plugin.wasm",
            format!(
                "{} does not exist; the path is relative to the suite file (build the plugin first, or fix the path)",
                wasm.display()
            ),
        ));
    }
    let opened = open_plugin(&wasm, options)?;
    let mut sandbox = match &opened.setup {
        Setup::Manifest(options) => options.clone(),
        _ => SandboxOptions::default(),
    };
    let suite_paths = review.allowed_paths(decision);
    let suite_hosts = review.allowed_hosts(decision);
    sandbox.allowed_paths.extend(suite_paths);
    sandbox.allowed_hosts.extend(suite_hosts);
    if let Some(wasi) = p.wasi {
        sandbox.wasi = wasi;
    }
    for (name, value) in &p.config {
        let text = match value {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        sandbox.config.insert(name.clone(), text);
    }
    sandbox.memory_max_pages = p.memory_max.or(sandbox.memory_max_pages);
    sandbox.timeout_ms = p.timeout_ms.or(sandbox.timeout_ms);
    sandbox.fuel_limit = p.fuel.or(sandbox.fuel_limit);
    sandbox.http_response_max_bytes = p.http_response_max.or(sandbox.http_response_max_bytes);
    sandbox.var_max_bytes = p.var_max.or(sandbox.var_max_bytes);
    sandbox
        .validate()
        .map_err(|e| key("plugin", e.to_string()))?;

    let mut defs = Vec::new();
    for (name, spec) in &p.host_functions {
        let def = HostFnDef::parse_flag(&format!("{name}={spec}"), dir)
            .map_err(|e| key(&format!("plugin.host_functions.{name:?}"), e.to_string()))?;
        define::upsert(&mut defs, def);
    }
    let (registry, ignored, host_functions) = fit_host_functions(path, &opened, &sandbox, defs)?;

    let mut host = HostData::default();
    for (k, v) in &p.kv {
        host.kv.insert(k.clone(), v.clone().into());
    }
    host.secrets.clone_from(&p.secrets);

    let tests = tests_of(&file.tests, dir).map_err(|(k, detail)| key(&k, detail))?;
    Ok(Suite {
        path: path.to_path_buf(),
        plugin: opened.plugin,
        inspection: opened.inspection,
        options: sandbox,
        host,
        registry,
        host_functions,
        ignored_host_functions: ignored,
        tests,
    })
}

/// The tests of a suite from their tables (`input_file`s relative to `dir`): `Err((key, what is
/// wrong))`.
fn tests_of(tables: &[TestTable], dir: &Path) -> Result<Vec<Test>, (String, String)> {
    let mut tests: Vec<Test> = Vec::with_capacity(tables.len());
    for (t, table) in tables.iter().enumerate() {
        let at = format!("test[{t}] ({:?})", table.name);
        if table.name.trim().is_empty() {
            return Err((
                format!("test[{t}].name"),
                "give the test a name".to_string(),
            ));
        }
        if tests.iter().any(|other| other.name == table.name) {
            return Err((
                format!("{at}.name"),
                "another test has this name; names identify tests in reports and --filter, so make it unique".to_string(),
            ));
        }
        if table.steps.is_empty() {
            return Err((
                at,
                "it has no steps: add [[test.step]] with call = \"FUNCTION\"".to_string(),
            ));
        }
        let mut steps = Vec::with_capacity(table.steps.len());
        for (s, step) in table.steps.iter().enumerate() {
            let here = format!("{at}.step[{s}]");
            steps.push(step_of(step, dir).map_err(|(k, detail)| (format!("{here}.{k}"), detail))?);
        }
        tests.push(Test {
            name: table.name.clone(),
            fresh_instance: table.fresh_instance,
            steps,
        });
    }
    if tests.is_empty() {
        return Err((
            "test".to_string(),
            "the suite has no tests: add a [[test]] with a name and [[test.step]] entries"
                .to_string(),
        ));
    }
    Ok(tests)
}

/// One step read from its table: `Err((key, what is wrong))`.
fn step_of(step: &StepTable, dir: &Path) -> Result<Step, (&'static str, String)> {
    if step.call.trim().is_empty() {
        return Err(("call", "name the function to call".to_string()));
    }
    let input = match (&step.input, &step.input_file) {
        (Some(_), Some(_)) => {
            return Err((
                "input_file",
                "give input or input_file, not both".to_string(),
            ));
        }
        (Some(text), None) => text.clone().into_bytes(),
        (None, Some(file)) => {
            let full = dir.join(file);
            files::read(&full, FileKind::Input).map_err(|e| {
                (
                    "input_file",
                    format!("{e} (the path is relative to the suite file)"),
                )
            })?
        }
        (None, None) => Vec::new(),
    };
    let mut expected: Vec<(&'static str, ExpectedOutcome)> = Vec::new();
    if let Some(text) = &step.expect_output {
        expected.push((
            "expect_output",
            ExpectedOutcome::Output(text.clone().into_bytes()),
        ));
    }
    if let Some(value) = &step.expect_json {
        let json = match value {
            toml::Value::String(text) => serde_json::from_str(text).map_err(|e| {
                ("expect_json", format!("is not JSON ({e}); write the JSON in single quotes, e.g. '{{\"ok\": true}}'"))
            })?,
            other => serde_json::to_value(other).map_err(|e| ("expect_json", e.to_string()))?,
        };
        expected.push(("expect_json", ExpectedOutcome::Json(json)));
    }
    if let Some(pattern) = &step.expect_match {
        bundle::check_pattern(pattern).map_err(|e| ("expect_match", e.to_string()))?;
        expected.push((
            "expect_match",
            ExpectedOutcome::OutputMatch(pattern.clone()),
        ));
    }
    match (&step.expect_error, &step.expect_error_match) {
        (kind, Some(pattern)) => {
            bundle::check_pattern(pattern).map_err(|e| ("expect_error_match", e.to_string()))?;
            expected.push((
                "expect_error_match",
                ExpectedOutcome::ErrorMatch {
                    kind: *kind,
                    pattern: pattern.clone(),
                },
            ));
        }
        (Some(kind), None) => expected.push(("expect_error", ExpectedOutcome::Error(*kind))),
        (None, None) => {}
    }
    if expected.len() > 1 {
        let keys: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
        return Err((
            expected[1].0,
            format!(
                "a step expects one outcome, this one has {}; keep one (expect_error and expect_error_match may go together)",
                keys.join(" and ")
            ),
        ));
    }
    Ok(Step {
        function: step.call.clone(),
        input,
        input_mode: None,
        expected: expected.pop().map(|(_, e)| e),
    })
}

/// The registry for `opened` with the suite's definitions: those for functions the plugin does
/// not import are left out (and returned, to say so); one that does not fit its import, or an
/// import nothing defines, is an error naming the key to add or fix.
fn fit_host_functions(
    path: &Path,
    opened: &Opened,
    sandbox: &SandboxOptions,
    defs: Vec<HostFnDef>,
) -> Result<(HostRegistry, Vec<String>, Vec<HostFnDef>), SuiteError> {
    let imports = &opened.inspection.imports;
    let (used, unused): (Vec<HostFnDef>, Vec<HostFnDef>) = defs.into_iter().partition(|d| {
        imports
            .iter()
            .any(|i| i.module == d.module && i.name == d.name)
    });
    // Named as the suite names them (`name` for extism:host/user, else `module::name`).
    let ignored = unused
        .iter()
        .map(|d| {
            if d.module == EXTISM_USER {
                d.name.clone()
            } else {
                d.qualified()
            }
        })
        .collect();
    let (registry, problems) = HostRegistry::with_definitions(&used, imports);
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        return Err(SuiteError::Key {
            path: path.to_path_buf(),
            key: "plugin.host_functions".to_string(),
            detail: format!(
                "definitions that do not fit what {} imports:\n{}",
                opened.plugin.display_name,
                lines.join("\n")
            ),
        });
    }
    let unsatisfied = crate::runner::unsatisfied_imports(
        &opened.plugin,
        &opened.inspection,
        sandbox.wasi,
        &registry,
        None,
    );
    let wasi: Vec<String> = unsatisfied
        .iter()
        .filter(|u| u.module == WASI_P1)
        .map(|u| u.name.clone())
        .collect();
    if !wasi.is_empty() && !sandbox.wasi {
        return Err(SuiteError::Key {
            path: path.to_path_buf(),
            key: "plugin.wasi".to_string(),
            detail: format!(
                "{} imports WASI ({}); set wasi = true in [plugin]",
                opened.plugin.display_name,
                wasi.join(", ")
            ),
        });
    }
    let missing: Vec<String> = unsatisfied
        .iter()
        .map(|u| {
            let import = imports.iter().find(|i| i.module == u.module && i.name == u.name);
            match import.and_then(define::suggestion) {
                Some(s) => format!(
                    "  {u}\n    define it in [plugin]: host_functions = {{ {:?} = {:?} }}  (signature {})",
                    s.name, s.spec, s.signature
                ),
                None => format!("  {u}"),
            }
        })
        .collect();
    if !missing.is_empty() {
        return Err(SuiteError::Key {
            path: path.to_path_buf(),
            key: "plugin.host_functions".to_string(),
            detail: format!(
                "{} imports what the suite does not provide:\n{}",
                opened.plugin.display_name,
                missing.join("\n")
            ),
        });
    }
    Ok((registry, ignored, used))
}

/// A bundle as a suite of one test, named after the file.
fn load_bundle(path: &Path, options: &LoadOptions) -> Result<Suite, SuiteError> {
    let read = open::read_bundle(path)
        .map_err(|e| SuiteError::Open(e.to_string()))?
        .with_redirects(options.redirects.iter().cloned());
    let decision = match read.review() {
        Some(review) => decide(review, options.consent)?,
        None => Decision::Allow,
    };
    let mut opened = read
        .resolve(decision, None, &options.registry)
        .map_err(|e| SuiteError::Open(e.to_string()))?;
    let Setup::Scenario(scenario) = std::mem::replace(&mut opened.setup, Setup::Module) else {
        unreachable!("a bundle opens as a scenario")
    };
    if let Some(plugin) = &options.plugin {
        let other = open_plugin(plugin, options)?;
        opened.plugin = other.plugin;
        opened.inspection = other.inspection;
    }
    let (registry, ignored, host_functions) = fit_host_functions(
        path,
        &opened,
        &scenario.options,
        scenario.host_functions.clone(),
    )?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Suite {
        path: path.to_path_buf(),
        plugin: opened.plugin,
        inspection: opened.inspection,
        options: scenario.options.clone(),
        host: scenario.host.clone(),
        registry,
        host_functions,
        ignored_host_functions: ignored,
        tests: vec![Test {
            name,
            fresh_instance: !scenario.keep_state,
            steps: scenario.steps,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_manifests_are_not_suites() {
        assert!(!looks_like_suite(
            "[package]\nname = \"x\"\n[dependencies]\n"
        ));
        assert!(looks_like_suite(
            "[plugin]\nwasm = \"a.wasm\"\n[[test]]\nname = \"t\"\n"
        ));
        // Broken, but plainly meant as a suite: reported, not skipped.
        assert!(looks_like_suite("[plugin]\nwasm = \n"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = parse(
            "[plugin]\nwasm = \"a.wasm\"\ntimeout = 5\n",
            Path::new("s.toml"),
        )
        .expect_err("an unknown key is refused");
        let text = e.to_string();
        assert!(
            text.contains("timeout") && text.contains("timeout_ms"),
            "{text}"
        );
        assert!(text.contains("line 3"), "{text}");
    }

    #[test]
    fn a_step_expects_one_outcome() {
        let step = StepTable {
            call: "f".into(),
            input: None,
            input_file: None,
            expect_output: Some("x".into()),
            expect_json: None,
            expect_match: Some("x".into()),
            expect_error: None,
            expect_error_match: None,
        };
        let (key, detail) = step_of(&step, Path::new(".")).unwrap_err();
        assert_eq!(key, "expect_match");
        assert!(
            detail.contains("expect_output and expect_match"),
            "{detail}"
        );
    }
}
