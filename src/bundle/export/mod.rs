//! Host code for a scenario: a Go program (extism go-sdk) and a Rust program (the extism crate)
//! that load the same module with the same manifest and options, provide the host functions the
//! plugin imports (names and signatures from the host registry, bodies per implementation), and
//! call the same function with the same input.
//!
//! This module decides what both programs hold: the session's manifest and calls, and each host
//! function with its signature and what its body does. `go` and `rust` (one submodule per
//! language) turn that into each language's context, with the body as a list of typed steps,
//! and render the templates under `assets/templates/host/go` and `host/rust`
//! ([`crate::templates`]), which hold the code's text.
//!
//! User-defined host functions keep their import's signature. Value, template, kv and fail
//! bodies do what the playground does (`runner::host::link`); a Rhai script or a mock-host
//! plugin cannot come along, so those functions return what they returned in the last run
//! ([`Export::host_results`]), and say so.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::runner::host::script::HostValue;
use crate::runner::host::{
    self, ArgKind, Builtin, Bytes, HostFunction, HostRegistry, Implementation, Number, WasmType,
    define,
};
use crate::runner::inspect::Inspection;
use crate::runner::source::ModuleOrigin;

use super::Scenario;

mod go;
mod rust;

pub use go::go;
pub use rust::rust;
pub(crate) use rust::snake_ident;

/// What the generated code is made from: the scenario, its module's inspection, and the host
/// functions the session links.
#[derive(Clone, Copy, Debug)]
pub struct Export<'a> {
    pub scenario: &'a Scenario,
    pub inspection: &'a Inspection,
    pub host: &'a HostRegistry,
    /// What each user-defined host function returned in the last run, by `module::name`
    /// (numbers as decimal text): the bodies of exported rhai and wasm mocks.
    pub host_results: &'a BTreeMap<String, Bytes>,
}

impl Export<'_> {
    /// The registry's functions the plugin imports, in registry order.
    fn imported_host_functions(&self) -> Vec<&HostFunction> {
        self.host
            .functions()
            .iter()
            .filter(|f| {
                self.inspection
                    .imports
                    .iter()
                    .any(|i| i.module == f.module && i.name == f.name)
            })
            .collect()
    }

    /// What `function` returned in the last run, if a run recorded it.
    fn last_result(&self, function: &HostFunction) -> Option<&Bytes> {
        self.host_results.get(&qualified(function))
    }
}

/// The host programs exported for one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPrograms {
    /// `main.go`, for extism's go-sdk.
    pub go: String,
    /// `main.rs`, for the extism crate.
    pub rust: String,
}

/// What both programs say of the session: its plugin's modules, the manifest's options, the
/// kv store's contents and the calls.
#[derive(Serialize)]
struct Session<'a> {
    /// The plugin's name for people.
    plugin: &'a str,
    modules: Vec<ModuleFile>,
    wasi: bool,
    allowed_hosts: &'a [String],
    allowed_paths: Vec<PathGrant<'a>>,
    config: Vec<Entry<'a>>,
    memory_max_pages: Option<u32>,
    http_response_max_bytes: Option<u64>,
    var_max_bytes: Option<u64>,
    timeout_ms: Option<u64>,
    fuel_limit: Option<u64>,
    /// The kv store's contents, where a host function the plugin imports uses it.
    kv: Option<Vec<KvEntry<'a>>>,
    keep_state: bool,
    steps: Vec<Call<'a>>,
}

impl<'a> Session<'a> {
    fn of(scenario: &'a Scenario, host: &[&HostFunction]) -> Self {
        let o = &scenario.options;
        Self {
            plugin: &scenario.plugin.display_name,
            modules: module_files(scenario),
            wasi: o.wasi,
            allowed_hosts: &o.allowed_hosts,
            allowed_paths: o
                .allowed_paths
                .iter()
                .map(|p| PathGrant {
                    host: p.host.display().to_string(),
                    key: p.manifest_key(),
                    guest: &p.guest,
                })
                .collect(),
            config: o
                .config
                .iter()
                .map(|(key, value)| Entry { key, value })
                .collect(),
            memory_max_pages: o.memory_max_pages,
            http_response_max_bytes: o.http_response_max_bytes,
            var_max_bytes: o.var_max_bytes,
            timeout_ms: o.timeout_ms,
            fuel_limit: o.fuel_limit,
            kv: host.iter().any(|f| kv_function(f)).then(|| {
                scenario
                    .host
                    .kv
                    .iter()
                    .map(|(key, value)| KvEntry {
                        key,
                        text: value.as_text(),
                        bytes: &value.0,
                    })
                    .collect()
            }),
            keep_state: scenario.keep_state,
            steps: scenario
                .steps
                .iter()
                .map(|s| Call {
                    function: &s.function,
                    text: std::str::from_utf8(&s.input).ok(),
                    input: &s.input,
                })
                .collect(),
        }
    }
}

/// A folder the plugin may reach.
#[derive(Serialize)]
struct PathGrant<'a> {
    /// The folder on the host, as given.
    host: String,
    /// The manifest's key for it: `ro:` in front when it is read-only.
    key: String,
    guest: &'a str,
}

/// A config key and its value.
#[derive(Serialize)]
struct Entry<'a> {
    key: &'a str,
    value: &'a str,
}

/// A key of the kv store and its value.
#[derive(Serialize)]
struct KvEntry<'a> {
    key: &'a str,
    /// The value as text, when it is UTF-8.
    text: Option<&'a str>,
    bytes: &'a [u8],
}

/// One call of the scenario.
#[derive(Serialize)]
struct Call<'a> {
    function: &'a str,
    /// The input as text, when it is UTF-8.
    text: Option<&'a str>,
    input: &'a [u8],
}

/// A module file the generated code loads.
#[derive(Serialize)]
struct ModuleFile {
    /// The path (or URL) the code names.
    path: String,
    /// The module's link name, for all but `main`.
    name: Option<String>,
    sha256: String,
    /// Why the file is not where the plugin came from, if it is not.
    note: Option<String>,
}

/// The file the generated code names for a module pulled from a registry.
fn registry_file_name(display_name: &str) -> String {
    let stem: String = display_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{stem}.wasm")
}

/// How to get a pulled module's file, for a comment in the generated code.
fn registry_note(pin: &crate::registry::Pin) -> String {
    format!(
        "pulled from {} (layer {}); save it here with `oras pull`, or from the playground's cache",
        pin.pinned_reference(),
        pin.layer
    )
}

/// Where the generated code finds each module.
fn module_files(scenario: &Scenario) -> Vec<ModuleFile> {
    scenario
        .plugin
        .modules
        .iter()
        .map(|m| {
            let (path, note) = match &m.origin {
                ModuleOrigin::File(p) => (p.display().to_string(), None),
                ModuleOrigin::Url(u) => (u.clone(), Some("fetched from this URL".to_string())),
                ModuleOrigin::Registry(pin) => (
                    // The SDKs read files and URLs, not registries: the code names a file the
                    // user pulls first (the note says how).
                    registry_file_name(&scenario.plugin.display_name),
                    Some(registry_note(pin)),
                ),
                ModuleOrigin::Data => {
                    // One file per embedded module, named after the plugin (and module name).
                    let stem = scenario
                        .plugin
                        .display_name
                        .trim_end_matches(".json")
                        .trim_end_matches(".wasm");
                    let file = match (&m.name, scenario.plugin.modules.len()) {
                        (Some(name), n) if n > 1 => format!("{stem}-{name}.wasm"),
                        _ => format!("{stem}.wasm"),
                    };
                    (
                        file,
                        Some(
                            "the module was embedded in the bundle; save its bytes to this file"
                                .to_string(),
                        ),
                    )
                }
            };
            ModuleFile {
                path,
                name: m.name.clone(),
                sha256: m.sha256.clone(),
                note,
            }
        })
        .collect()
}

/// A value in a host function's signature as both SDKs type it: `PTR` for an `i64` carrying an
/// offset of Extism memory, the number type otherwise.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "UPPERCASE")]
enum Slot {
    Ptr,
    I32,
    I64,
    F32,
    F64,
}

/// The slots of `types` carried as `kinds`.
fn slots(types: &[WasmType], kinds: &[ArgKind]) -> Vec<Slot> {
    types
        .iter()
        .zip(kinds)
        .map(|(t, k)| match (t, k) {
            (WasmType::I64, ArgKind::Bytes) => Slot::Ptr,
            (WasmType::I64, ArgKind::Num) => Slot::I64,
            (WasmType::I32, _) => Slot::I32,
            (WasmType::F32, _) => Slot::F32,
            (WasmType::F64, _) => Slot::F64,
        })
        .collect()
}

/// A built-in's name, as the templates know its body.
fn builtin_name(builtin: Builtin) -> &'static str {
    match builtin {
        Builtin::LogInfo => "log_info",
        Builtin::KvGet => "kv_get",
        Builtin::KvSet => "kv_set",
        Builtin::GetSecret => "get_secret",
    }
}

/// `module::name`, as messages name a host function.
fn qualified(function: &HostFunction) -> String {
    format!("{}::{}", function.module, function.name)
}

/// The import as the playground carries it, e.g. `acme:billing::price_cents(bytes, i32) -> i64`:
/// `bytes` for an offset of Extism memory, the number type for a plain number.
fn carried_signature(function: &HostFunction) -> String {
    let carried = |kind: ArgKind, t: WasmType| match kind {
        ArgKind::Bytes => "bytes",
        ArgKind::Num => t.as_str(),
    };
    let params: Vec<&str> = function
        .kinds
        .iter()
        .zip(&function.params)
        .map(|(k, t)| carried(*k, *t))
        .collect();
    let mut out = format!("{}({})", qualified(function), params.join(", "));
    if let (Some(kind), Some(t)) = (function.result_kind, function.results.first()) {
        let _ = write!(out, " -> {}", carried(kind, *t));
    }
    out
}

/// What a user-defined function's generated body does, for the comment above it.
fn user_comment(function: &HostFunction, last: Option<&Bytes>) -> Vec<String> {
    let mut lines = vec![carried_signature(function)];
    let answered_by = match &function.implementation {
        Implementation::Builtin(_) => return lines,
        Implementation::Value(value) => {
            lines.push(match function.result_kind {
                Some(ArgKind::Num) => {
                    format!("Returns {}.", String::from_utf8_lossy(&value.0).trim())
                }
                Some(ArgKind::Bytes) => format!("Returns {}.", value.summary(60)),
                None => "Returns nothing: the import has no result.".to_string(),
            });
            return lines;
        }
        Implementation::Template(template) => {
            lines.push(format!(
                "Returns the template {template:?} with {{N}} replaced by argument N."
            ));
            return lines;
        }
        Implementation::KvGet => {
            lines.push(
                "Reads the kv store: argument 0 is the key (a missing key reads as empty).".into(),
            );
            return lines;
        }
        Implementation::KvSet => {
            lines.push("Writes the kv store: argument 0 is the key, argument 1 the value.".into());
            return lines;
        }
        Implementation::Fail(message) => {
            lines.push(format!("Fails with {message:?}."));
            return lines;
        }
        Implementation::Rhai(_) => "a Rhai script answers this call; the script".to_string(),
        Implementation::Wasm(mock) => format!(
            "`{}` of the mock-host plugin {} answers this call; the plugin",
            mock.export, mock.label
        ),
    };
    lines.push(format!(
        "In the playground {answered_by} does not come along."
    ));
    lines.push(match (function.result_kind, last) {
        (None, _) => "The import returns nothing, so this does nothing.".to_string(),
        (Some(_), Some(value)) => format!(
            "This returns what it returned in the last run: {}.",
            value.summary(60)
        ),
        (Some(kind), None) => format!(
            "No run recorded a result, so this returns {}: fill in what it should return.",
            match kind {
                ArgKind::Bytes => "empty bytes",
                ArgKind::Num => "0",
            }
        ),
    });
    lines
}

/// A piece of a template: literal text, or argument N.
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
enum Piece {
    Text(String),
    Arg(usize),
}

/// Splits `template` as the playground renders it (`define::template_pieces`): `{N}` with N
/// below `args` is argument N, every other brace is literal; neighbouring text is joined.
fn template_pieces(template: &str, args: usize) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    for piece in define::template_pieces(template) {
        match piece {
            define::Piece::Arg(n) if n < args => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Arg(n));
            }
            define::Piece::Arg(n) => {
                let _ = write!(text, "{{{n}}}");
            }
            define::Piece::Text(t) => text.push_str(t),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// The arguments a template uses, each once, in order.
fn template_args(pieces: &[Piece]) -> Vec<usize> {
    let used: BTreeSet<usize> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Arg(n) => Some(*n),
            Piece::Text(_) => None,
        })
        .collect();
    used.into_iter().collect()
}

/// A constant result is not the number its import returns: the playground fails the call
/// with this, and so does the generated code.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("host function {function}: the import returns a number ({}): {why}", .ty.as_str())]
struct NotANumber {
    /// The function, as `module::name`.
    function: String,
    /// The number type the import returns.
    ty: WasmType,
    /// Why the bytes are not one, as the playground reads them (`runner::host::number`).
    why: host::NumberError,
}

/// `bytes`, the result of `function`, read as the number type `ty` exactly as the playground
/// reads a number result.
fn number(function: &HostFunction, bytes: &Bytes, ty: WasmType) -> Result<Number, NotANumber> {
    host::number(&HostValue::Bytes(bytes.0.clone()), ty).map_err(|why| NotANumber {
        function: qualified(function),
        ty,
        why,
    })
}

/// A number as the templates write it: integers as they are, floats as their `{:?}` (`1.5`,
/// `NaN`, `-inf`), which the `rust_float` and `go_float` filters turn into each language's
/// literal.
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "ty", content = "value", rename_all = "lowercase")]
enum Literal {
    I32(i32),
    I64(i64),
    F32(String),
    F64(String),
}

impl From<Number> for Literal {
    fn from(n: Number) -> Self {
        match n {
            Number::I32(i) => Self::I32(i),
            Number::I64(i) => Self::I64(i),
            Number::F32(f) => Self::F32(format!("{f:?}")),
            Number::F64(f) => Self::F64(format!("{f:?}")),
        }
    }
}

/// Whether Go needs `math` to write `n` (`math.NaN()`, `math.Inf(1)`).
fn go_needs_math(n: Number) -> bool {
    match n {
        Number::I32(_) | Number::I64(_) => false,
        Number::F32(f) => !f.is_finite(),
        Number::F64(f) => !f.is_finite(),
    }
}

/// Whether `function` uses the kv store.
fn kv_function(function: &HostFunction) -> bool {
    matches!(
        function.implementation,
        Implementation::Builtin(Builtin::KvGet | Builtin::KvSet)
            | Implementation::KvGet
            | Implementation::KvSet
    )
}

/// Where the import has a result, what kv-set returns (empty bytes, or 0) and what a function
/// with no recorded result returns until someone fills it in.
fn nothing(function: &HostFunction) -> Bytes {
    match function.result_kind {
        Some(ArgKind::Num) => Bytes::from("0"),
        _ => Bytes::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_pieces_split_as_the_playground_renders() {
        assert_eq!(
            template_pieces(r#"{"name": "{0}", "n": {1}}"#, 2),
            [
                Piece::Text(r#"{"name": ""#.into()),
                Piece::Arg(0),
                Piece::Text(r#"", "n": "#.into()),
                Piece::Arg(1),
                Piece::Text("}".into()),
            ]
        );
        // Past the arguments, empty or not a number: literal.
        assert_eq!(
            template_pieces("{2}{}{x", 2),
            [Piece::Text("{2}{}{x".into())]
        );
        assert_eq!(
            template_pieces("🟢:{0}{0}", 1),
            [Piece::Text("🟢:".into()), Piece::Arg(0), Piece::Arg(0)]
        );
        assert!(template_pieces("", 0).is_empty());
    }

    #[test]
    fn numbers_read_as_the_playground_reads_them() {
        let f = HostFunction {
            module: "acme:billing".into(),
            name: "price_cents".into(),
            params: vec![],
            results: vec![WasmType::I64],
            kinds: vec![],
            result_kind: Some(ArgKind::Num),
            description: String::new(),
            implementation: Implementation::Value(Bytes::from("1")),
        };
        let n = |text: &str, ty| number(&f, &Bytes::from(text), ty);
        assert_eq!(n(" 1200\n", WasmType::I64), Ok(Number::I64(1200)));
        assert_eq!(n("100.5", WasmType::F32), Ok(Number::F32(100.5)));
        assert_eq!(n("3", WasmType::F64), Ok(Number::F64(3.0)));
        let too_big = n("1099511627776", WasmType::I32).unwrap_err();
        assert_eq!(too_big.ty, WasmType::I32);
        assert!(
            matches!(too_big.why, host::NumberError::OutOfRange { .. }),
            "{too_big}"
        );
        assert!(matches!(
            n("1.5", WasmType::I64).unwrap_err().why,
            host::NumberError::NotAnInteger { .. }
        ));
        assert_eq!(
            n("many", WasmType::I64).unwrap_err().to_string(),
            "host function acme:billing::price_cents: the import returns a number (i64): \
             \"many\" is not a number"
        );
        assert_eq!(
            Literal::from(Number::F32(100.5)),
            Literal::F32("100.5".into())
        );
        assert!(go_needs_math(Number::F32(f32::NAN)));
        assert!(!go_needs_math(Number::F64(1e20)));
    }
}
