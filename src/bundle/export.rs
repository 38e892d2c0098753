//! Host code for a scenario: a Go program (extism go-sdk) and a Rust program (the extism crate)
//! that load the same module with the same manifest and options, provide the host functions the
//! plugin imports (names and signatures from the host registry, bodies per implementation), and
//! call the same function with the same input.
//!
//! This module decides what the programs hold and hands it as data to the templates under
//! `assets/templates/host` (one folder per language, rendered by [`crate::templates`]): the
//! session's manifest and calls, and each host function with its signature and its body as a
//! list of steps ([`GoStep`], [`RustStep`]). The templates hold the code's text.
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
use crate::runner::inspect::{EXTISM_USER, Inspection};
use crate::runner::source::ModuleOrigin;
use crate::templates;

use super::Scenario;

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
    /// Why the bytes are not one, as the playground words it (`runner::host::number`).
    why: String,
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

/// Words Rust reserves, which a function cannot be named.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// `name` as a `snake_case` Rust identifier: `hostGreenMessage` gives `host_green_message`, other
/// characters than letters and digits become `_`.
pub(crate) fn snake_ident(name: &str) -> String {
    let mut out = String::new();
    let mut after_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if after_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            after_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            after_lower = true;
        } else {
            out.push('_');
            after_lower = false;
        }
    }
    if out.is_empty()
        || out.starts_with(|c: char| c.is_ascii_digit())
        || out.bytes().all(|b| b == b'_')
    {
        out.insert_str(0, "f_");
    }
    if RUST_KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// The Rust fn of each function: built-ins keep their names (`host_fn!` names them), user
/// functions get their name in `snake_case`, with the module in front when that is taken.
fn rust_idents(host: &[&HostFunction]) -> Vec<String> {
    // `main`, the helper, and the locals of `main` (which would shadow a fn of the same name).
    let mut taken: BTreeSet<String> = [
        "main",
        "parse_number",
        "kv",
        "manifest",
        "plugin",
        "input",
        "output",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for f in host {
        if matches!(f.implementation, Implementation::Builtin(_)) {
            taken.insert(f.name.clone());
        }
    }
    host.iter()
        .map(|f| {
            if matches!(f.implementation, Implementation::Builtin(_)) {
                return f.name.clone();
            }
            let mut ident = snake_ident(&f.name);
            if taken.contains(&ident) {
                ident = format!("{}_{ident}", snake_ident(&f.module).trim_end_matches('_'));
            }
            let base = ident.clone();
            let mut n = 2;
            while taken.contains(&ident) {
                ident = format!("{base}_{n}");
                n += 1;
            }
            taken.insert(ident.clone());
            ident
        })
        .collect()
}

/// One step of a user-defined function's body in Go (`host/go/main.go.j2` writes each).
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum GoStep {
    /// `var` is argument `index`, a block of Extism memory, as a string.
    ReadString { var: String, index: usize },
    /// `var` is argument `index`, a number of type `ty`, in decimal.
    FormatNumber {
        var: String,
        index: usize,
        ty: WasmType,
    },
    /// `result` is the template's pieces joined (`argN` for argument N).
    Concat { parts: Vec<Piece> },
    /// Returns the string `expr` as a block of memory.
    WriteText { expr: &'static str },
    /// Returns the number of type `ty` that the string `expr` spells, or panics.
    ParseText { expr: &'static str, ty: WasmType },
    /// Returns `text` as a block of memory.
    WriteString { text: String },
    /// Returns `bytes` (not UTF-8) as a block of memory.
    WriteBytes { bytes: Vec<u8> },
    /// Returns a number.
    ReturnNumber { number: Literal },
    /// Fails the call (the go-sdk fails a call whose host function panics).
    Panic { message: String },
    /// Stores `value` under `key` in the kv store.
    KvStore,
    /// Marks the constant that follows as one to fill in.
    Todo,
}

/// The Go body of a user-defined function: steps, and the packages they need.
struct GoBody<'a> {
    function: &'a HostFunction,
    steps: Vec<GoStep>,
    imports: &'a mut BTreeSet<&'static str>,
}

impl<'a> GoBody<'a> {
    /// The body of `function`, a user-defined function; `last` is what it returned in the last
    /// run. What the body uses joins `imports`.
    fn of(
        function: &'a HostFunction,
        last: Option<&Bytes>,
        imports: &'a mut BTreeSet<&'static str>,
    ) -> Vec<GoStep> {
        let mut body = Self {
            function,
            steps: Vec::new(),
            imports,
        };
        let f = function;
        match &f.implementation {
            Implementation::Builtin(_) => {}
            Implementation::Value(value) => body.constant_result(value),
            Implementation::Template(template) => {
                // Without a result the text goes nowhere.
                if f.result_kind.is_some() {
                    let parts = template_pieces(template, f.params.len());
                    for i in template_args(&parts) {
                        body.arg(i, format!("arg{i}"));
                    }
                    body.steps.push(GoStep::Concat { parts });
                    body.text_result("result");
                }
            }
            Implementation::KvGet => {
                body.arg(0, "key".into());
                body.text_result("kv[key]");
            }
            Implementation::KvSet => {
                body.arg(0, "key".into());
                body.arg(1, "value".into());
                body.steps.push(GoStep::KvStore);
                body.constant_result(&nothing(f));
            }
            Implementation::Fail(message) => body.steps.push(GoStep::Panic {
                message: format!("host function {} failed: {message}", qualified(f)),
            }),
            Implementation::Rhai(_) | Implementation::Wasm(_) => match last {
                Some(value) => body.constant_result(value),
                None if f.result_kind.is_some() => {
                    body.steps.push(GoStep::Todo);
                    body.constant_result(&nothing(f));
                }
                None => {}
            },
        }
        body.steps
    }

    /// Sets `var` to argument `i` as a string: a block's bytes, or a number in decimal.
    fn arg(&mut self, index: usize, var: String) {
        let f = self.function;
        self.steps.push(match (f.kinds[index], f.params[index]) {
            (ArgKind::Bytes, _) => GoStep::ReadString { var, index },
            (ArgKind::Num, ty) => {
                self.imports.insert("strconv");
                GoStep::FormatNumber { var, index, ty }
            }
        });
    }

    /// Returns the string `expr` (the number it spells, for a number result).
    fn text_result(&mut self, expr: &'static str) {
        let f = self.function;
        match (f.result_kind, f.results.first()) {
            (Some(ArgKind::Bytes), _) => self.steps.push(GoStep::WriteText { expr }),
            (Some(ArgKind::Num), Some(ty)) => {
                self.imports.extend(["strconv", "strings"]);
                self.steps.push(GoStep::ParseText { expr, ty: *ty });
            }
            _ => {}
        }
    }

    /// Returns `bytes` (the number they spell, for a number result), as the playground does.
    fn constant_result(&mut self, bytes: &Bytes) {
        let f = self.function;
        match (f.result_kind, f.results.first()) {
            (Some(ArgKind::Bytes), _) => self.steps.push(match bytes.as_text() {
                Some(text) => GoStep::WriteString {
                    text: text.to_string(),
                },
                None => GoStep::WriteBytes {
                    bytes: bytes.0.clone(),
                },
            }),
            (Some(ArgKind::Num), Some(ty)) => self.steps.push(match number(f, bytes, *ty) {
                Ok(n) => {
                    if go_needs_math(n) {
                        self.imports.insert("math");
                    }
                    GoStep::ReturnNumber { number: n.into() }
                }
                Err(e) => GoStep::Panic {
                    message: e.to_string(),
                },
            }),
            _ => {}
        }
    }
}

/// A host function as `host/go/main.go.j2` writes it.
#[derive(Serialize)]
struct GoFunction<'a> {
    name: &'a str,
    /// `module::name`, for messages.
    qualified: String,
    /// The import module, unless it is the one the go-sdk assumes (`extism:host/user`).
    namespace: Option<&'a str>,
    /// The built-in whose body the template has, if it is one.
    builtin: Option<&'static str>,
    /// What a user-defined function does, one line each.
    comment: Vec<String>,
    body: Vec<GoStep>,
    params: Vec<Slot>,
    results: Vec<Slot>,
}

/// The context of `host/go/main.go.j2`.
#[derive(Serialize)]
struct GoProgram<'a> {
    #[serde(flatten)]
    session: Session<'a>,
    /// The standard packages it imports, sorted.
    imports: BTreeSet<&'static str>,
    functions: Vec<GoFunction<'a>>,
}

/// A Go program for the extism go-sdk.
pub fn go(export: &Export<'_>) -> String {
    let host = export.imported_host_functions();
    let mut imports: BTreeSet<&'static str> = ["context", "fmt", "os"].into();
    let functions = host
        .iter()
        .map(|&f| {
            let last = export.last_result(f);
            let (builtin, comment, body) = match f.implementation {
                Implementation::Builtin(b) => {
                    if b == Builtin::GetSecret {
                        imports.insert("strings");
                    }
                    (Some(builtin_name(b)), Vec::new(), Vec::new())
                }
                _ => (
                    None,
                    user_comment(f, last),
                    GoBody::of(f, last, &mut imports),
                ),
            };
            GoFunction {
                name: &f.name,
                qualified: qualified(f),
                // The go-sdk puts host functions in extism:host/user unless told otherwise.
                namespace: (f.module != EXTISM_USER).then_some(f.module.as_str()),
                builtin,
                comment,
                body,
                params: slots(&f.params, &f.kinds),
                results: slots(&f.results, f.result_kind.as_slice()),
            }
        })
        .collect();
    templates::render(
        "host/go/main.go.j2",
        GoProgram {
            session: Session::of(export.scenario, &host),
            imports,
            functions,
        },
    )
}

/// One step of a user-defined function's body in Rust (`host/rust/main.rs.j2` writes each).
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum RustStep {
    /// `let var =` argument `index`: as text (bytes as UTF-8, numbers in decimal), or as bytes
    /// (a number's decimal text).
    LetArg {
        var: String,
        index: usize,
        kind: ArgKind,
        ty: WasmType,
        as_bytes: bool,
    },
    /// `let result =` a template that uses no argument.
    LetText { text: String },
    /// `let result = format!(…)` with this format string.
    LetFormat { format: String },
    /// Returns the text in `var` as a block of memory.
    WriteVar { var: &'static str },
    /// Returns the number of type `ty` that the text in `var` spells (`parse_number`).
    ParseVar { var: &'static str, ty: WasmType },
    /// Returns `text` as a block of memory.
    WriteString { text: String },
    /// Returns `bytes` (not UTF-8) as a block of memory.
    WriteBytes { bytes: Vec<u8> },
    /// Returns a number.
    ReturnNumber { number: Literal },
    /// Reads `key` from the kv store and returns its value.
    KvGet,
    /// Stores `value` under `key` in the kv store.
    KvSet,
    /// Marks the constant that follows as one to fill in.
    Todo,
}

impl RustStep {
    /// Whether its code has a `?`, which makes the fn's `Result` one that can fail.
    fn tries(&self) -> bool {
        match self {
            Self::LetArg { kind, .. } => *kind == ArgKind::Bytes,
            Self::LetText { text: s } | Self::LetFormat { format: s } => s.contains('?'),
            Self::ReturnNumber { .. } | Self::Todo => false,
            Self::WriteVar { .. }
            | Self::ParseVar { .. }
            | Self::WriteString { .. }
            | Self::WriteBytes { .. }
            | Self::KvGet
            | Self::KvSet => true,
        }
    }
}

/// Which of a host fn's parameters its body uses (the others are named `_…`).
#[derive(Default, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one flag per parameter the fn may leave unused"
)]
struct Uses {
    plugin: bool,
    inputs: bool,
    outputs: bool,
    kv: bool,
}

/// The body of a user-defined function in Rust.
#[derive(Default)]
struct RustBody {
    steps: Vec<RustStep>,
    uses: Uses,
    /// The error it ends with, if it fails; `Ok(())` otherwise.
    error: Option<String>,
    /// Whether it calls the generated `parse_number`.
    parses: bool,
}

impl RustBody {
    /// The body of `function`, a user-defined function; `last` is what it returned in the last
    /// run.
    fn of(function: &HostFunction, last: Option<&Bytes>) -> Self {
        let mut body = Self::default();
        let f = function;
        match &f.implementation {
            Implementation::Builtin(_) => {}
            Implementation::Value(value) => body.constant_result(f, value),
            Implementation::Template(template) => {
                // Without a result the text goes nowhere.
                if f.result_kind.is_some() {
                    let pieces = template_pieces(template, f.params.len());
                    let args = template_args(&pieces);
                    for &i in &args {
                        body.arg(f, i, format!("arg{i}"), false);
                    }
                    if args.is_empty() {
                        body.steps.push(RustStep::LetText {
                            text: template.clone(),
                        });
                    } else {
                        let mut format = String::new();
                        for piece in &pieces {
                            match piece {
                                Piece::Text(text) => {
                                    format.push_str(&text.replace('{', "{{").replace('}', "}}"));
                                }
                                Piece::Arg(n) => {
                                    let _ = write!(format, "{{arg{n}}}");
                                }
                            }
                        }
                        body.steps.push(RustStep::LetFormat { format });
                    }
                    body.text_result(f, "result");
                }
            }
            Implementation::KvGet => {
                body.arg(f, 0, "key".into(), false);
                body.uses.kv = true;
                body.uses.plugin = true;
                body.uses.outputs = true;
                body.steps.push(RustStep::KvGet);
            }
            Implementation::KvSet => {
                body.arg(f, 0, "key".into(), false);
                body.arg(f, 1, "value".into(), true);
                body.uses.kv = true;
                body.steps.push(RustStep::KvSet);
                body.constant_result(f, &nothing(f));
            }
            Implementation::Fail(message) => {
                body.error = Some(format!("host function {} failed: {message}", qualified(f)));
            }
            Implementation::Rhai(_) | Implementation::Wasm(_) => match last {
                Some(value) => body.constant_result(f, value),
                None if f.result_kind.is_some() => {
                    body.steps.push(RustStep::Todo);
                    body.constant_result(f, &nothing(f));
                }
                None => {}
            },
        }
        body
    }

    /// `let var =` argument `index`, as text or (`as_bytes`) as bytes.
    fn arg(&mut self, f: &HostFunction, index: usize, var: String, as_bytes: bool) {
        let kind = f.kinds[index];
        if kind == ArgKind::Bytes {
            self.uses.plugin = true;
        }
        self.uses.inputs = true;
        self.steps.push(RustStep::LetArg {
            var,
            index,
            kind,
            ty: f.params[index],
            as_bytes,
        });
    }

    /// Returns `bytes` (the number they spell, for a number result), as the playground does.
    fn constant_result(&mut self, f: &HostFunction, bytes: &Bytes) {
        match (f.result_kind, f.results.first()) {
            (Some(ArgKind::Bytes), _) => {
                self.uses.plugin = true;
                self.uses.outputs = true;
                self.steps.push(match bytes.as_text() {
                    Some(text) => RustStep::WriteString {
                        text: text.to_string(),
                    },
                    None => RustStep::WriteBytes {
                        bytes: bytes.0.clone(),
                    },
                });
            }
            (Some(ArgKind::Num), Some(ty)) => match number(f, bytes, *ty) {
                Ok(n) => {
                    self.uses.outputs = true;
                    self.steps.push(RustStep::ReturnNumber { number: n.into() });
                }
                Err(e) => self.error = Some(e.to_string()),
            },
            _ => {}
        }
    }

    /// Returns the text in the variable `var` (the number it spells, for a number result).
    fn text_result(&mut self, f: &HostFunction, var: &'static str) {
        match (f.result_kind, f.results.first()) {
            (Some(ArgKind::Bytes), _) => {
                self.uses.plugin = true;
                self.uses.outputs = true;
                self.steps.push(RustStep::WriteVar { var });
            }
            (Some(ArgKind::Num), Some(ty)) => {
                self.uses.outputs = true;
                self.parses = true;
                self.steps.push(RustStep::ParseVar { var, ty: *ty });
            }
            _ => {}
        }
    }

    /// The lints the fn's signature trips, which extism's host function signature forces.
    fn allow(&self) -> Vec<&'static str> {
        let mut allow = Vec::new();
        if self.uses.kv {
            allow.push("clippy::needless_pass_by_value");
        }
        if self.error.is_none() && !self.steps.iter().any(RustStep::tries) {
            allow.push("clippy::unnecessary_wraps");
        }
        allow
    }
}

/// A host function as `host/rust/main.rs.j2` writes it.
#[derive(Serialize)]
struct RustFunction<'a> {
    /// The fn's name.
    ident: String,
    /// The import's name.
    name: &'a str,
    /// `module::name`, for messages.
    qualified: String,
    /// The import module, unless it is the one extism assumes (`extism:host/user`).
    namespace: Option<&'a str>,
    /// The built-in whose body the template has, if it is one.
    builtin: Option<&'static str>,
    /// What a user-defined function does, one line each.
    comment: Vec<String>,
    allow: Vec<&'static str>,
    uses: Uses,
    body: Vec<RustStep>,
    error: Option<String>,
    params: Vec<Slot>,
    results: Vec<Slot>,
    /// Whether it is linked with the kv store as its user data.
    shares_kv: bool,
}

/// The context of `host/rust/main.rs.j2`.
#[derive(Serialize)]
struct RustProgram<'a> {
    #[serde(flatten)]
    session: Session<'a>,
    /// What it imports from the extism crate, sorted.
    uses: BTreeSet<&'static str>,
    /// Whether the kv store holds bytes (else text).
    kv_bytes: bool,
    /// Whether a function calls `parse_number`, which the program then defines.
    parses: bool,
    functions: Vec<RustFunction<'a>>,
}

/// A Rust program for the extism crate.
pub fn rust(export: &Export<'_>) -> String {
    let scenario = export.scenario;
    let host = export.imported_host_functions();
    let idents = rust_idents(&host);
    let user_kv_functions = host.iter().any(|f| {
        matches!(
            f.implementation,
            Implementation::KvGet | Implementation::KvSet
        )
    });
    // kv values are bytes; as text they read better, where nothing needs them as bytes.
    let kv_bytes = user_kv_functions || scenario.host.kv.values().any(|v| v.as_text().is_none());
    let mut parses = false;
    let functions: Vec<RustFunction<'_>> = host
        .iter()
        .zip(idents)
        .map(|(&f, ident)| {
            let (builtin, comment, body) = if let Implementation::Builtin(b) = f.implementation {
                (Some(builtin_name(b)), Vec::new(), RustBody::default())
            } else {
                let last = export.last_result(f);
                (None, user_comment(f, last), RustBody::of(f, last))
            };
            parses |= body.parses;
            RustFunction {
                ident,
                name: &f.name,
                qualified: qualified(f),
                // extism puts host functions in extism:host/user unless told otherwise.
                namespace: (f.module != EXTISM_USER).then_some(f.module.as_str()),
                builtin,
                comment,
                allow: body.allow(),
                uses: body.uses,
                body: body.steps,
                error: body.error,
                params: slots(&f.params, &f.kinds),
                results: slots(&f.results, f.result_kind.as_slice()),
                shares_kv: kv_function(f),
            }
        })
        .collect();
    let mut uses: BTreeSet<&str> = ["Manifest", "PluginBuilder", "Wasm"].into();
    if !functions.is_empty() {
        uses.insert("UserData");
    }
    if functions.iter().any(|f| {
        f.params
            .iter()
            .chain(&f.results)
            .any(|s| matches!(s, Slot::Ptr))
    }) {
        uses.insert("PTR");
    }
    if functions.iter().any(|f| f.builtin.is_some()) {
        uses.insert("host_fn");
    }
    if functions.iter().any(|f| f.builtin.is_none()) {
        uses.extend(["CurrentPlugin", "Val"]);
    }
    templates::render(
        "host/rust/main.rs.j2",
        RustProgram {
            session: Session::of(scenario, &host),
            uses,
            kv_bytes,
            parses,
            functions,
        },
    )
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
        assert!(too_big.why.contains("i32"), "{too_big}");
        assert!(
            n("1.5", WasmType::I64)
                .unwrap_err()
                .why
                .contains("not an integer")
        );
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

    #[test]
    fn rust_names_are_identifiers_unique_in_the_program() {
        assert_eq!(snake_ident("hostGreenMessage"), "host_green_message");
        assert_eq!(snake_ident("get-user.v2"), "get_user_v2");
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(snake_ident("9lives"), "f_9lives");
        assert_eq!(snake_ident("_"), "f__");
        let function = |module: &str, name: &str, implementation| HostFunction {
            module: module.into(),
            name: name.into(),
            params: vec![],
            results: vec![],
            kinds: vec![],
            result_kind: None,
            description: String::new(),
            implementation,
        };
        let fail = || Implementation::Fail("no".into());
        let host = [
            function("acme:a", "log_info", fail()),
            function("acme:b", "get", fail()),
            function("acme:c", "get", fail()),
            function("acme:d", "main", fail()),
            function(
                EXTISM_USER,
                "log_info",
                Implementation::Builtin(Builtin::LogInfo),
            ),
        ];
        let host: Vec<&HostFunction> = host.iter().collect();
        assert_eq!(
            rust_idents(&host),
            [
                "acme_a_log_info",
                "get",
                "acme_c_get",
                "acme_d_main",
                "log_info"
            ]
        );
    }
}
