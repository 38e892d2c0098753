//! Repro bundles: one versioned JSON file that captures a scenario completely, so a tenant's
//! problem can be replayed by anyone, headless too. The plugin and its sandbox are a standard
//! Extism manifest (modules by path + sha256, or embedded with their sha256); beside it our
//! extras (WASI, fuel, keep-state), the host data, the function, the input, and optionally the
//! expected outcome. Saving is atomic.
//!
//! - [`diff`]: line diffs of outputs, for replay verdicts and side-by-side views.
//! - [`export`]: Go and Rust host code that runs the same scenario with the Extism SDKs.

pub mod diff;
pub mod export;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::runner::host::define::LoadFrom;
use crate::runner::host::{Behaviour, HostFnDef};
use crate::runner::{
    AllowedPath, CallReport, ErrorKind, HostData, LoadError, LoadedPlugin, SandboxOptions,
};

/// The `format` every bundle declares.
pub const FORMAT: &str = "extism-playground-bundle";
/// The newest bundle version this build reads and writes. Version 2 added `host_functions`
/// (version 1 bundles read as having none); version 3 replaced the one call (`function`,
/// `input`, `input_mode`, `expected`) with `steps`, and older bundles read as a scenario of that
/// one step; version 4 added `registry` (where pulled modules came from), and is written only
/// by bundles that have it, so the rest stay readable by builds that read version 3.
pub const VERSION: u32 = 4;
/// The version written by bundles without registry pins.
const VERSION_WITHOUT_REGISTRY: u32 = 3;

/// Why a bundle could not be read, resolved or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Read(#[from] crate::platform::files::ReadError),
    #[error(
        "{name} is not valid JSON (line {line}, column {column}: {message}); it may be truncated or not a bundle"
    )]
    NotJson {
        name: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{name} is not an extism-playground bundle (its \"format\" is not \"{FORMAT}\")")]
    NotABundle { name: String },
    #[error(
        "{name} is a version {version} bundle, newer than this extism-playground reads (up to {VERSION}); update extism-playground"
    )]
    FutureVersion { name: String, version: u64 },
    #[error("{name} is not a valid bundle: {detail}")]
    Invalid { name: String, detail: String },
    /// Its calls are not all ones this build can make and check.
    #[error("{name} is not a valid bundle: {cause}")]
    Steps { name: String, cause: StepsError },
    #[error("{name} is not a valid bundle: the coredump {cause}")]
    Coredump { name: String, cause: PayloadError },
    #[error("the plugin in {name} cannot be loaded: {cause}")]
    Plugin { name: String, cause: LoadError },
    #[error("cannot save the bundle to {path}: {cause} (any previous file there is unchanged)")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// Bytes as JSON: text when they are UTF-8, base64 otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

impl Payload {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self {
                text: Some(text.to_string()),
                base64: None,
            },
            Err(_) => Self {
                text: None,
                base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            },
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, PayloadError> {
        match (&self.text, &self.base64) {
            (Some(text), None) => Ok(text.clone().into_bytes()),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|cause| PayloadError::Base64 { cause }),
            (None, None) => Ok(Vec::new()),
            (Some(_), Some(_)) => Err(PayloadError::Both),
        }
    }
}

/// Why a [`Payload`] holds no bytes; its Display follows the payload's name ("input has both…").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("invalid base64: {cause}")]
    Base64 { cause: base64::DecodeError },
    #[error("has both \"text\" and \"base64\"; keep one")]
    Both,
}

/// What is wrong with how a file writes what a call must produce.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ExpectedError {
    #[error(
        "\"expected\" needs exactly one of \"output\", \"json\" and \"output_match\", or \"error_kind\" and/or \"error_match\""
    )]
    NotOne,
    #[error("expected output {cause}")]
    Output { cause: PayloadError },
    #[error(transparent)]
    Pattern(#[from] PatternError),
}

/// A regular expression this build cannot run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{pattern:?} is not a valid regular expression: {cause}")]
pub struct PatternError {
    pub pattern: String,
    pub cause: regex::Error,
}

/// What is wrong with one call as a file writes it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StepError {
    #[error("input {cause}")]
    Input { cause: PayloadError },
    #[error(transparent)]
    Expected(#[from] ExpectedError),
}

/// What is wrong with a bundle's calls.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StepsError {
    /// The one call of a bundle from before version 3.
    #[error(transparent)]
    Single(#[from] StepError),
    /// Step `number` (from 1) of `steps`.
    #[error("step {number}: {cause}")]
    Step { number: usize, cause: StepError },
    #[error(
        "it has both \"steps\" and a single call (\"function\", \"input\", \"expected\"); keep \"steps\""
    )]
    Both,
    #[error("it has no calls: add \"steps\" (each with a \"function\")")]
    None,
}

/// What a replay must produce, as the file spells it: exactly one of `output`, `json` and
/// `output_match`, or `error_kind` and/or `error_match`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// These exact bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Payload>,
    /// JSON equal to this (key order ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    /// An output in which this regular expression finds a match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_match: Option<String>,
    /// A failure of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// A failure whose message this regular expression finds a match in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_match: Option<String>,
}

impl Expected {
    /// How a file writes `outcome`.
    pub fn of(outcome: &ExpectedOutcome) -> Self {
        match outcome {
            ExpectedOutcome::Output(bytes) => Self {
                output: Some(Payload::from_bytes(bytes)),
                ..Self::default()
            },
            ExpectedOutcome::Json(value) => Self {
                json: Some(value.clone()),
                ..Self::default()
            },
            ExpectedOutcome::OutputMatch(pattern) => Self {
                output_match: Some(pattern.clone()),
                ..Self::default()
            },
            ExpectedOutcome::Error(kind) => Self {
                error_kind: Some(*kind),
                ..Self::default()
            },
            ExpectedOutcome::ErrorMatch { kind, pattern } => Self {
                error_kind: *kind,
                error_match: Some(pattern.clone()),
                ..Self::default()
            },
        }
    }

    /// The outcome the file means, or what is wrong with how it says it.
    pub fn to_outcome(&self) -> Result<ExpectedOutcome, ExpectedError> {
        let outputs = [
            self.output.is_some(),
            self.json.is_some(),
            self.output_match.is_some(),
        ]
        .iter()
        .filter(|set| **set)
        .count();
        let errors = self.error_kind.is_some() || self.error_match.is_some();
        if outputs + usize::from(errors) != 1 {
            return Err(ExpectedError::NotOne);
        }
        if let Some(out) = &self.output {
            return out
                .to_bytes()
                .map(ExpectedOutcome::Output)
                .map_err(|cause| ExpectedError::Output { cause });
        }
        if let Some(json) = &self.json {
            return Ok(ExpectedOutcome::Json(json.clone()));
        }
        if let Some(pattern) = &self.output_match {
            check_pattern(pattern)?;
            return Ok(ExpectedOutcome::OutputMatch(pattern.clone()));
        }
        match (&self.error_kind, &self.error_match) {
            (kind, Some(pattern)) => {
                check_pattern(pattern)?;
                Ok(ExpectedOutcome::ErrorMatch {
                    kind: *kind,
                    pattern: pattern.clone(),
                })
            }
            (Some(kind), None) => Ok(ExpectedOutcome::Error(*kind)),
            (None, None) => unreachable!("counted above"),
        }
    }
}

/// Checks that `pattern` is a regular expression this build can run, saying why not.
pub fn check_pattern(pattern: &str) -> Result<(), PatternError> {
    regex::Regex::new(pattern)
        .map(|_| ())
        .map_err(|cause| PatternError {
            pattern: pattern.to_string(),
            cause,
        })
}

/// One call of a scenario as a file writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleStep {
    pub function: String,
    #[serde(default)]
    pub input: Payload,
    /// How the window edits the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<InputMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
}

/// The file format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub created_by: String,
    /// The plugin and its sandbox, as a standard Extism manifest.
    pub manifest: extism::Manifest,
    #[serde(default)]
    pub wasi: bool,
    #[serde(default)]
    pub fuel_limit: Option<u64>,
    /// Whether the steps share one instance (and a single call may run on a warm one); when
    /// false, every step gets a fresh instance.
    #[serde(default = "default_true")]
    pub keep_state: bool,
    #[serde(default)]
    pub host: HostData,
    /// The user-defined host functions (scripts inline; mock-host plugins embedded in bundles,
    /// by path in sessions, each with its sha256).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_functions: Vec<HostFnDef>,
    /// The calls, in order (version 3 on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<BundleStep>,
    /// The one call of a version 1 or 2 bundle (read as a one-step scenario; never written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Payload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<InputMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    /// The wasm coredump of a trap, base64, only when whoever saved the bundle asked for it:
    /// it holds the plugin's memory (its input, what it read, maybe secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coredump: Option<Payload>,
    /// Where modules pulled from a registry came from: the reference, its manifest and layer
    /// digests, and when it was pulled (version 4 on). Their bytes are in `manifest` (embedded,
    /// or in a session by the reference pinned to its digest), so a replay never depends on
    /// where a tag points today.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry: Vec<ModulePin>,
}

/// A module pulled from a registry, as a bundle records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModulePin {
    /// The module's link name; absent for the main module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(flatten)]
    pub pin: crate::registry::Pin,
}

fn default_true() -> bool {
    true
}

/// How the window's editor treats the input text. (Saves of the window made before bundles
/// existed spell the variants `Json` and `Raw`; both spellings read.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMode {
    /// Validated and highlighted as JSON.
    #[default]
    #[serde(alias = "Json")]
    Json,
    /// Sent as typed.
    #[serde(alias = "Raw")]
    Raw,
}

/// What a call should produce, in memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExpectedOutcome {
    /// These exact bytes.
    Output(Vec<u8>),
    /// An output that is JSON equal to this (object key order ignored).
    Json(serde_json::Value),
    /// An output (read as UTF-8, invalid bytes replaced) with a match for this regex.
    OutputMatch(String),
    /// A failure of this kind.
    Error(ErrorKind),
    /// A failure whose message has a match for this regex (and of this kind, when given).
    ErrorMatch {
        kind: Option<ErrorKind>,
        pattern: String,
    },
}

impl ExpectedOutcome {
    /// What `report` produced, exactly.
    pub fn of(report: &CallReport) -> Self {
        match report.error_kind() {
            Some(kind) => Self::Error(kind),
            None => Self::Output(report.output.clone()),
        }
    }

    /// Whether `report` produced this outcome (compares in place: no copy of the output).
    pub fn matches(&self, report: &CallReport) -> bool {
        match (self, &report.error) {
            (Self::Output(want), None) => &report.output == want,
            (Self::Json(want), None) => serde_json::from_slice::<serde_json::Value>(&report.output)
                .is_ok_and(|v| &v == want),
            (Self::OutputMatch(pattern), None) => {
                finds(pattern, &String::from_utf8_lossy(&report.output))
            }
            (Self::Error(kind), Some(error)) => error.kind == *kind,
            (Self::ErrorMatch { kind, pattern }, Some(error)) => {
                kind.is_none_or(|k| k == error.kind) && finds(pattern, &error.message)
            }
            _ => false,
        }
    }

    /// Whether this expects a failure.
    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error(_) | Self::ErrorMatch { .. })
    }

    /// What is expected, in a few words ("an output", "a timeout error", ...).
    pub fn describe(&self) -> String {
        match self {
            Self::Output(bytes) => format!("an output of {} bytes", bytes.len()),
            Self::Json(_) => "a JSON output".to_string(),
            Self::OutputMatch(pattern) => format!("an output matching /{pattern}/"),
            Self::Error(kind) => format!("a {kind} error"),
            Self::ErrorMatch {
                kind: Some(kind),
                pattern,
            } => format!("a {kind} error matching /{pattern}/"),
            Self::ErrorMatch {
                kind: None,
                pattern,
            } => format!("an error matching /{pattern}/"),
        }
    }
}

/// Whether `pattern` finds a match in `text` (a pattern that does not compile finds nothing;
/// loaders check patterns before anything runs).
fn finds(pattern: &str, text: &str) -> bool {
    regex::Regex::new(pattern).is_ok_and(|re| re.is_match(text))
}

/// One call of a scenario, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub function: String,
    pub input: Vec<u8>,
    pub input_mode: Option<InputMode>,
    pub expected: Option<ExpectedOutcome>,
}

impl Step {
    /// A call of `function` with `input`, expecting nothing in particular.
    pub fn call(function: impl Into<String>, input: impl Into<Vec<u8>>) -> Self {
        Self {
            function: function.into(),
            input: input.into(),
            input_mode: None,
            expected: None,
        }
    }

    /// How a file writes this step.
    pub fn to_file(&self) -> BundleStep {
        BundleStep {
            function: self.function.clone(),
            input: Payload::from_bytes(&self.input),
            input_mode: self.input_mode,
            expected: self.expected.as_ref().map(Expected::of),
        }
    }

    /// The step a file means.
    pub fn from_file(step: &BundleStep) -> Result<Self, StepError> {
        Ok(Self {
            function: step.function.clone(),
            input: step
                .input
                .to_bytes()
                .map_err(|cause| StepError::Input { cause })?,
            input_mode: step.input_mode,
            expected: step
                .expected
                .as_ref()
                .map(Expected::to_outcome)
                .transpose()?,
        })
    }
}

/// A scenario ready to run: the plugin read into memory and everything around it.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub plugin: LoadedPlugin,
    pub options: SandboxOptions,
    pub keep_state: bool,
    pub host: HostData,
    /// User-defined host functions, ready to link.
    pub host_functions: Vec<HostFnDef>,
    /// The calls, in order: at least one.
    pub steps: Vec<Step>,
}

/// Whether a replay matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Match,
    /// A readable account of the difference.
    Mismatch(String),
}

impl Scenario {
    /// The first call (every scenario has one): what the window's editor shows.
    pub fn first(&self) -> &Step {
        &self.steps[0]
    }
}

/// Compares a call's report with an expected outcome.
pub fn verdict(expected: &ExpectedOutcome, report: &CallReport) -> Verdict {
    if expected.matches(report) {
        return Verdict::Match;
    }
    if let Some(error) = &report.error {
        let got = format!("a {} error: {}", error.kind, error.message);
        return Verdict::Mismatch(format!("expected {}, got {got}", expected.describe()));
    }
    let got = &report.output;
    match expected {
        ExpectedOutcome::Output(want) => Verdict::Mismatch(format!(
            "the output differs from the expected output:\n{}",
            diff::unified(want, got)
        )),
        ExpectedOutcome::Json(want) => match serde_json::from_slice::<serde_json::Value>(got) {
            Ok(value) => Verdict::Mismatch(format!(
                "the output is not JSON equal to the expected JSON (keys sorted below):\n{}",
                diff::unified(
                    diff::canonical_json(want).as_bytes(),
                    diff::canonical_json(&value).as_bytes()
                )
            )),
            Err(e) => Verdict::Mismatch(format!(
                "expected a JSON output, got {} bytes that are not JSON ({e}):\n{}",
                got.len(),
                diff::unified(diff::canonical_json(want).as_bytes(), got)
            )),
        },
        ExpectedOutcome::OutputMatch(pattern) => Verdict::Mismatch(format!(
            "the output has no match for /{pattern}/; it was:\n{}",
            diff::excerpt(got)
        )),
        ExpectedOutcome::Error(_) | ExpectedOutcome::ErrorMatch { .. } => {
            Verdict::Mismatch(format!(
                "expected {}, got an output of {} bytes",
                expected.describe(),
                got.len()
            ))
        }
    }
}

impl Bundle {
    /// A bundle of `scenario`. With `embed`, module bytes are inlined so the file stands alone;
    /// without `include_secrets`, secret names are kept with empty values.
    pub fn new(scenario: &Scenario, embed: bool, include_secrets: bool) -> Self {
        // Relative host directories would mean something else wherever the bundle is replayed.
        let mut options = scenario.options.clone();
        for path in &mut options.allowed_paths {
            if let Ok(absolute) = std::path::absolute(&path.host) {
                path.host = absolute;
            }
        }
        let mut host = scenario.host.clone();
        if !include_secrets {
            for value in host.secrets.values_mut() {
                value.clear();
            }
        }
        let registry: Vec<ModulePin> = scenario
            .plugin
            .registry_pins()
            .into_iter()
            .map(|(module, pin)| ModulePin { module, pin })
            .collect();
        Self {
            format: FORMAT.to_string(),
            version: if registry.is_empty() {
                VERSION_WITHOUT_REGISTRY
            } else {
                VERSION
            },
            created_by: format!("extism-playground {}", env!("CARGO_PKG_VERSION")),
            manifest: scenario.plugin.to_manifest(&options, embed),
            wasi: options.wasi,
            fuel_limit: options.fuel_limit,
            keep_state: scenario.keep_state,
            host,
            host_functions: scenario
                .host_functions
                .iter()
                .cloned()
                .map(|mut def| {
                    // The script is inline: its file is named for people, never by its path.
                    if let Behaviour::Rhai { script, file } = &mut def.behaviour
                        && !script.is_empty()
                    {
                        *file = file.as_deref().and_then(Path::file_name).map(PathBuf::from);
                    }
                    if let Behaviour::Wasm(mock) = &mut def.behaviour {
                        // A session names a mock by its file; one with no file (a sample's,
                        // or one a bundle embedded) is embedded there too.
                        let has_file = mock.file.as_deref().is_some_and(Path::is_file);
                        mock.embedded = (embed || !has_file)
                            .then(|| mock.loaded.as_ref().map(|b| b.as_ref().clone()))
                            .flatten();
                        if mock.embedded.is_some() {
                            if mock.file_name.is_none() {
                                mock.file_name = Some(mock.label());
                            }
                            mock.file = None;
                        } else if let Some(file) = &mut mock.file
                            && let Ok(absolute) = std::path::absolute(&*file)
                        {
                            *file = absolute;
                        }
                    }
                    def
                })
                .collect(),
            steps: scenario.steps.iter().map(Step::to_file).collect(),
            function: None,
            input: None,
            input_mode: None,
            expected: None,
            coredump: None,
            registry,
        }
    }

    /// Embeds a trap's coredump (see [`Self::coredump`] for why it is opt-in).
    #[must_use]
    pub fn with_coredump(mut self, bytes: &[u8]) -> Self {
        self.coredump = Some(Payload {
            text: None,
            base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        });
        self
    }

    /// The embedded coredump's bytes, if any.
    pub fn coredump_bytes(&self) -> Result<Option<Vec<u8>>, PayloadError> {
        self.coredump.as_ref().map(Payload::to_bytes).transpose()
    }

    /// Reads a bundle, with a clear error for anything that is not a bundle this build reads.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Self, BundleError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| BundleError::NotJson {
                name: name.to_string(),
                line: e.line(),
                column: e.column(),
                message: e
                    .to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            })?;
        Self::from_value(value, name)
    }

    /// Reads a bundle from JSON already parsed (see [`Self::parse`]).
    pub fn from_value(value: serde_json::Value, name: &str) -> Result<Self, BundleError> {
        if !declares_bundle(&value) {
            return Err(BundleError::NotABundle {
                name: name.to_string(),
            });
        }
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v > u64::from(VERSION) => {
                return Err(BundleError::FutureVersion {
                    name: name.to_string(),
                    version: v,
                });
            }
            Some(v) if v >= 1 => {}
            _ => {
                return Err(BundleError::Invalid {
                    name: name.to_string(),
                    detail: "\"version\" must be a whole number from 1".to_string(),
                });
            }
        }
        serde_json::from_value(value).map_err(|e| BundleError::Invalid {
            name: name.to_string(),
            detail: e.to_string(),
        })
    }

    /// Resolves the plugin (relative paths against `base_dir`, hashes checked) into a scenario.
    pub fn resolve(&self, base_dir: Option<&Path>, name: &str) -> Result<Scenario, BundleError> {
        self.resolve_fetching(base_dir, name, None)
    }

    /// [`Self::resolve`], pulling `oci://` modules (a session's) through `fetch`.
    pub fn resolve_fetching(
        &self,
        base_dir: Option<&Path>,
        name: &str,
        fetch: Option<crate::runner::source::Fetch<'_>>,
    ) -> Result<Scenario, BundleError> {
        let invalid = |detail: String| BundleError::Invalid {
            name: name.to_string(),
            detail,
        };
        let plugin_name = self
            .manifest
            .wasm
            .last()
            .and_then(|w| match w {
                extism::Wasm::File { path, .. } => {
                    path.file_name().map(|n| n.to_string_lossy().into_owned())
                }
                _ => None,
            })
            .unwrap_or_else(|| {
                // Embedded: name it after the bundle file (case.bundle.json -> case.wasm).
                let file = Path::new(name)
                    .file_name()
                    .map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned());
                let stem = file
                    .split('.')
                    .next()
                    .filter(|s| !s.is_empty())
                    .unwrap_or("plugin");
                format!("{stem}.wasm")
            });
        let (mut plugin, mut options) =
            LoadedPlugin::from_manifest_fetching(&self.manifest, base_dir, &plugin_name, fetch)
                .map_err(|cause| BundleError::Plugin {
                    name: name.to_string(),
                    cause,
                })?;
        let pins: Vec<_> = self
            .registry
            .iter()
            .map(|p| (p.module.clone(), p.pin.clone()))
            .collect();
        plugin.restore_pins(&pins);
        options.wasi = self.wasi;
        options.fuel_limit = self.fuel_limit;
        // A bundle's relative host directories are relative to the bundle, not to wherever it
        // is replayed from.
        if let Some(base) = base_dir {
            for path in &mut options.allowed_paths {
                if path.host.is_relative() {
                    path.host = base.join(&path.host);
                }
            }
        }
        let steps = self.steps().map_err(|cause| BundleError::Steps {
            name: name.to_string(),
            cause,
        })?;
        let mut host_functions = self.host_functions.clone();
        let cache = crate::trust::store::mock_host_cache();
        let from = LoadFrom {
            base: base_dir.unwrap_or(Path::new(".")),
            script_files: false,
            cache: cache.as_deref(),
        };
        for def in &mut host_functions {
            match def.load(from) {
                Ok(()) => {}
                // A mock-host plugin that cannot be found keeps its reason: its import shows
                // as not defined, saying why, and the rest of the file opens.
                Err(_) if matches!(&def.behaviour, Behaviour::Wasm(m) if m.load_error.is_some()) => {
                }
                Err(e) => return Err(invalid(e.to_string())),
            }
        }
        Ok(Scenario {
            plugin,
            options,
            keep_state: self.keep_state,
            host: self.host.clone(),
            host_functions,
            steps,
        })
    }

    /// The calls the file holds: its `steps`, or the one call of a bundle from before version 3.
    fn steps(&self) -> Result<Vec<Step>, StepsError> {
        let legacy = self.function.is_some()
            || self.input.is_some()
            || self.input_mode.is_some()
            || self.expected.is_some();
        match (&self.function, self.steps.is_empty()) {
            (Some(function), true) => {
                let step = BundleStep {
                    function: function.clone(),
                    input: self.input.clone().unwrap_or_default(),
                    input_mode: self.input_mode,
                    expected: self.expected.clone(),
                };
                Ok(vec![Step::from_file(&step)?])
            }
            (None, false) if !legacy => self
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    Step::from_file(step).map_err(|cause| StepsError::Step {
                        number: i + 1,
                        cause,
                    })
                })
                .collect(),
            (_, false) => Err(StepsError::Both),
            (None, true) => Err(StepsError::None),
        }
    }

    /// The mock-host plugin files the definitions name and do not embed.
    pub fn mock_files(&self) -> Vec<&Path> {
        self.host_functions
            .iter()
            .filter_map(|d| match &d.behaviour {
                Behaviour::Wasm(mock) if mock.embedded.is_none() => mock.file.as_deref(),
                _ => None,
            })
            .collect()
    }

    /// Stores host directories inside `dir` (where the bundle is saved) relative to it, so the
    /// bundle and its data folders move together and its read-only subfolders need no consent
    /// on another machine.
    #[must_use]
    pub fn with_paths_relative_to(mut self, dir: &Path) -> Self {
        let Ok(dir) = std::fs::canonicalize(dir) else {
            return self;
        };
        if let Some(paths) = &mut self.manifest.allowed_paths {
            *paths = std::mem::take(paths)
                .into_iter()
                .map(|(key, guest)| {
                    let (read_only, host) = AllowedPath::split_manifest_key(&key);
                    let relative = std::fs::canonicalize(host)
                        .ok()
                        .and_then(|real| real.strip_prefix(&dir).ok().map(Path::to_path_buf))
                        .filter(|rest| rest.components().next().is_some());
                    match relative {
                        Some(rest) => {
                            let path = AllowedPath {
                                host: rest,
                                guest: String::new(),
                                read_only,
                            };
                            (path.manifest_key(), guest)
                        }
                        None => (key, guest),
                    }
                })
                .collect();
        }
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("bundles serialize")
    }
}

/// Whether parsed JSON declares itself a bundle (to tell bundles from manifests).
pub fn declares_bundle(value: &serde_json::Value) -> bool {
    value.get("format").and_then(serde_json::Value::as_str) == Some(FORMAT)
}

/// Reads and resolves the bundle at `path` as it is, with no consent asked for its grants: for
/// files this app wrote. Files from others open through [`crate::open`], which reviews them.
pub fn load(path: &Path) -> Result<Scenario, BundleError> {
    let bytes = crate::platform::files::read(path, crate::platform::files::FileKind::Bundle)?;
    let name = path.display().to_string();
    Bundle::parse(&bytes, &name)?.resolve(path.parent(), &name)
}

/// Writes `bundle` to `path` atomically (host directories inside its folder relative to it)
/// and returns the bytes written, for the caller to record as saved by this app.
pub fn save(path: &Path, bundle: Bundle) -> Result<Vec<u8>, BundleError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let json = bundle.with_paths_relative_to(dir).to_json();
    crate::platform::files::write_atomically(path, json.as_bytes()).map_err(|cause| {
        BundleError::Write {
            path: path.to_path_buf(),
            cause,
        }
    })?;
    Ok(json.into_bytes())
}
