//! Host code for a scenario: a Go program (extism go-sdk) and a Rust program (the extism crate)
//! that load the same module with the same manifest and options, provide the host functions the
//! plugin imports (names and signatures from the host registry, bodies per implementation), and
//! call the same function with the same input.
//!
//! User-defined host functions keep their import's signature. Value, template, kv and fail
//! bodies do what the playground does (`runner::host::link`); a Rhai script or a mock-host
//! plugin cannot come along, so those functions return what they returned in the last run
//! ([`Export::host_results`]), and say so.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::runner::host::script::HostValue;
use crate::runner::host::{
    self, ArgKind, Builtin, Bytes, HostFunction, HostRegistry, Implementation, Number, WasmType,
    define,
};
use crate::runner::inspect::{EXTISM_USER, Inspection};
use crate::runner::source::ModuleOrigin;

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
        self.host_results
            .get(&format!("{}::{}", function.module, function.name))
    }
}

/// A module file the generated code loads.
/// The host programs exported for one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPrograms {
    /// `main.go`, for extism's go-sdk.
    pub go: String,
    /// `main.rs`, for the extism crate.
    pub rust: String,
}

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

/// The Rust SDK's name for a value type carried as `kind`.
fn rust_type(t: WasmType, kind: ArgKind) -> &'static str {
    match (t, kind) {
        (WasmType::I64, ArgKind::Bytes) => "PTR",
        (WasmType::I64, ArgKind::Num) => "extism::ValType::I64",
        (WasmType::I32, _) => "extism::ValType::I32",
        (WasmType::F32, _) => "extism::ValType::F32",
        (WasmType::F64, _) => "extism::ValType::F64",
    }
}

/// The go-sdk's name for a value type carried as `kind`.
fn go_type(t: WasmType, kind: ArgKind) -> &'static str {
    match (t, kind) {
        (WasmType::I64, ArgKind::Bytes) => "extism.ValueTypePTR",
        (WasmType::I64, ArgKind::Num) => "extism.ValueTypeI64",
        (WasmType::I32, _) => "extism.ValueTypeI32",
        (WasmType::F32, _) => "extism.ValueTypeF32",
        (WasmType::F64, _) => "extism.ValueTypeF64",
    }
}

/// An integer literal with `_` separators, as clippy likes them.
fn rust_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// A signed integer literal with `_` separators.
fn rust_signed(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", rust_int(n.unsigned_abs()))
}

fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

fn go_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// Bytes as a list of hex literals, `0xff, 0x00`.
fn hex_list(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:02x}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Go expression of type `string` holding `bytes`: a literal for text, a conversion of a
/// byte-array literal otherwise.
fn go_bytes_string(bytes: &Bytes) -> String {
    match bytes.as_text() {
        Some(text) => go_str(text),
        None => format!("string([]byte{{{}}})", hex_list(&bytes.0)),
    }
}

/// Indents every non-empty line of `text` with `prefix`.
fn indent(text: &str, prefix: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if !line.is_empty() {
            out.push_str(prefix);
        }
        out.push_str(line);
        out.push('\n');
    }
    out
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
#[derive(Debug, PartialEq)]
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

/// `bytes` read as the number type `ty` exactly as the playground reads a number result.
fn number(bytes: &Bytes, ty: WasmType) -> Result<Number, host::NumberError> {
    host::number(&HostValue::Bytes(bytes.0.clone()), ty)
}

/// The error the playground gives when a result is not the number the import returns.
fn not_a_number(function: &HostFunction, ty: WasmType, why: &host::NumberError) -> String {
    format!(
        "host function {}: the import returns a number ({}): {why}",
        qualified(function),
        ty.as_str()
    )
}

/// A Rust float literal (or constant) of type `ty` (`f32` or `f64`).
fn rust_float(value: f64, debug: &str, ty: &str) -> String {
    if value.is_nan() {
        format!("{ty}::NAN")
    } else if value.is_infinite() {
        format!("{ty}::{}INFINITY", if value < 0.0 { "NEG_" } else { "" })
    } else {
        format!("{debug}_{ty}")
    }
}

/// A Rust `Val` of `n`.
fn rust_number(n: Number) -> String {
    match n {
        Number::I32(i) => format!("Val::I32({})", rust_signed(i64::from(i))),
        Number::I64(i) => format!("Val::I64({})", rust_signed(i)),
        Number::F32(f) => format!(
            "Val::from({})",
            rust_float(f64::from(f), &format!("{f:?}"), "f32")
        ),
        Number::F64(f) => format!("Val::from({})", rust_float(f, &format!("{f:?}"), "f64")),
    }
}

/// A Go float constant (or `math` call) of type `ty` (`float32` or `float64`).
fn go_float(value: f64, debug: &str, ty: &str, imports: &mut BTreeSet<&'static str>) -> String {
    let special = if value.is_nan() {
        "math.NaN()"
    } else if value.is_infinite() {
        if value < 0.0 {
            "math.Inf(-1)"
        } else {
            "math.Inf(1)"
        }
    } else {
        return debug.to_string();
    };
    imports.insert("math");
    if ty == "float32" {
        format!("float32({special})")
    } else {
        special.to_string()
    }
}

/// A Go stack slot holding `n`.
fn go_number(n: Number, imports: &mut BTreeSet<&'static str>) -> String {
    match n {
        Number::I32(i) => format!("extism.EncodeI32({i})"),
        Number::I64(i) => format!("extism.EncodeI64({i})"),
        Number::F32(f) => format!(
            "extism.EncodeF32({})",
            go_float(f64::from(f), &format!("{f:?}"), "float32", imports)
        ),
        Number::F64(f) => format!(
            "extism.EncodeF64({})",
            go_float(f, &format!("{f:?}"), "float64", imports)
        ),
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

/// The body of a user-defined function in Rust, and which of the fn's parameters it uses.
#[derive(Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one flag per parameter the fn may leave unused"
)]
struct RustBody {
    lines: Vec<String>,
    /// The value it ends with: `Ok(())` unless it fails.
    tail: Option<String>,
    plugin: bool,
    inputs: bool,
    outputs: bool,
    kv: bool,
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
                        let text = body.arg_text(f, i);
                        body.lines.push(format!("let arg{i} = {text};"));
                    }
                    if args.is_empty() {
                        body.lines
                            .push(format!("let result = {};", rust_str(template)));
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
                        body.lines
                            .push(format!("let result = format!({});", rust_str(&format)));
                    }
                    body.text_result(f, "result");
                }
            }
            Implementation::KvGet => {
                let key = body.arg_text(f, 0);
                body.kv = true;
                body.lines.push(format!("let key = {key};"));
                body.lines.push(
                    "let value = {\n    let kv = kv.get()?;\n    let kv = kv.lock().map_err(|_| extism::Error::msg(\"kv store poisoned\"))?;\n    kv.get(&key).cloned().unwrap_or_default()\n};"
                        .to_string(),
                );
                body.plugin = true;
                body.outputs = true;
                body.lines
                    .push("plugin.memory_set_val(&mut outputs[0], value)?;".to_string());
            }
            Implementation::KvSet => {
                let key = body.arg_text(f, 0);
                let value = body.arg_bytes(f, 1);
                body.kv = true;
                body.lines.push(format!("let key = {key};"));
                body.lines.push(format!("let value = {value};"));
                body.lines.push(
                    "let kv = kv.get()?;\nkv.lock().map_err(|_| extism::Error::msg(\"kv store poisoned\"))?.insert(key, value);"
                        .to_string(),
                );
                // Where the import has a result, kv-set returns empty bytes or 0.
                let nothing = match f.result_kind {
                    Some(ArgKind::Num) => Bytes::from("0"),
                    _ => Bytes::default(),
                };
                body.constant_result(f, &nothing);
            }
            Implementation::Fail(message) => {
                body.tail = Some(format!(
                    "Err(extism::Error::msg({}))",
                    rust_str(&format!("host function {} failed: {message}", qualified(f)))
                ));
            }
            Implementation::Rhai(_) | Implementation::Wasm(_) => match last {
                Some(value) => body.constant_result(f, value),
                None if f.result_kind.is_some() => {
                    body.lines.push(
                        "// TODO: no run recorded a result; return what it should.".to_string(),
                    );
                    let zero = match f.result_kind {
                        Some(ArgKind::Num) => Bytes::from("0"),
                        _ => Bytes::default(),
                    };
                    body.constant_result(f, &zero);
                }
                None => {}
            },
        }
        body
    }

    /// Argument `i` as text: bytes as UTF-8, numbers in decimal.
    fn arg_text(&mut self, f: &HostFunction, i: usize) -> String {
        self.inputs = true;
        match (f.kinds[i], f.params[i]) {
            (ArgKind::Bytes, _) => {
                self.plugin = true;
                format!(
                    "String::from_utf8_lossy(plugin.memory_get_val::<&[u8]>(&inputs[{i}])?).into_owned()"
                )
            }
            (ArgKind::Num, WasmType::I32) => format!("inputs[{i}].unwrap_i32().to_string()"),
            (ArgKind::Num, WasmType::I64) => format!("inputs[{i}].unwrap_i64().to_string()"),
            (ArgKind::Num, WasmType::F32) => {
                format!("f64::from(inputs[{i}].unwrap_f32()).to_string()")
            }
            (ArgKind::Num, WasmType::F64) => format!("inputs[{i}].unwrap_f64().to_string()"),
        }
    }

    /// Argument `i` as bytes: a block's bytes, or a number's decimal text.
    fn arg_bytes(&mut self, f: &HostFunction, i: usize) -> String {
        match f.kinds[i] {
            ArgKind::Bytes => {
                self.plugin = true;
                self.inputs = true;
                format!("plugin.memory_get_val::<&[u8]>(&inputs[{i}])?.to_vec()")
            }
            ArgKind::Num => format!("{}.into_bytes()", self.arg_text(f, i)),
        }
    }

    /// Returns `bytes` (the number they spell, for a number result), as the playground does.
    fn constant_result(&mut self, f: &HostFunction, bytes: &Bytes) {
        match (f.result_kind, f.results.first()) {
            (Some(ArgKind::Bytes), _) => {
                self.plugin = true;
                self.outputs = true;
                if let Some(text) = bytes.as_text() {
                    self.lines.push(format!(
                        "plugin.memory_set_val(&mut outputs[0], {})?;",
                        rust_str(text)
                    ));
                } else {
                    self.lines
                        .push(format!("let result: &[u8] = &[{}];", hex_list(&bytes.0)));
                    self.lines
                        .push("plugin.memory_set_val(&mut outputs[0], result)?;".to_string());
                }
            }
            (Some(ArgKind::Num), Some(ty)) => match number(bytes, *ty) {
                Ok(n) => {
                    self.outputs = true;
                    self.lines.push(format!("outputs[0] = {};", rust_number(n)));
                }
                Err(why) => {
                    self.tail = Some(format!(
                        "Err(extism::Error::msg({}))",
                        rust_str(&not_a_number(f, *ty, &why))
                    ));
                }
            },
            _ => {}
        }
    }

    /// Returns the text in the variable `var` (the number it spells, for a number result).
    fn text_result(&mut self, f: &HostFunction, var: &str) {
        match (f.result_kind, f.results.first()) {
            (Some(ArgKind::Bytes), _) => {
                self.plugin = true;
                self.outputs = true;
                self.lines
                    .push(format!("plugin.memory_set_val(&mut outputs[0], {var})?;"));
            }
            (Some(ArgKind::Num), Some(ty)) => {
                self.outputs = true;
                self.parses = true;
                let name = rust_str(&qualified(f));
                self.lines.push(match ty {
                    WasmType::I32 => {
                        format!("outputs[0] = Val::I32(parse_number({name}, &{var})?);")
                    }
                    WasmType::I64 => {
                        format!("outputs[0] = Val::I64(parse_number({name}, &{var})?);")
                    }
                    WasmType::F32 => format!(
                        "outputs[0] = Val::from(parse_number::<f64>({name}, &{var})? as f32);"
                    ),
                    WasmType::F64 => {
                        format!("outputs[0] = Val::from(parse_number::<f64>({name}, &{var})?);")
                    }
                });
            }
            _ => {}
        }
    }

    /// The fn, named `ident`, with `comment` above it.
    fn write(&self, s: &mut String, ident: &str, comment: &[String], kv_type: &str) {
        for line in comment {
            let _ = writeln!(s, "// {line}");
        }
        let unused = |used: bool| if used { "" } else { "_" };
        let data = if self.kv {
            format!("kv: UserData<{kv_type}>")
        } else {
            "_user_data: UserData<()>".to_string()
        };
        // extism calls host functions with this signature, whatever the body needs.
        let mut allow = Vec::new();
        if self.kv {
            allow.push("clippy::needless_pass_by_value");
        }
        if self.tail.is_none() && !self.lines.iter().any(|l| l.contains('?')) {
            allow.push("clippy::unnecessary_wraps");
        }
        if !allow.is_empty() {
            let _ = writeln!(
                s,
                "#[allow({})] // extism's host function signature",
                allow.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "fn {ident}({}plugin: &mut CurrentPlugin, {}inputs: &[Val], {}outputs: &mut [Val], {data}) -> Result<(), extism::Error> {{",
            unused(self.plugin),
            unused(self.inputs),
            unused(self.outputs),
        );
        for line in &self.lines {
            s.push_str(&indent(line, "    "));
        }
        let _ = writeln!(s, "    {}", self.tail.as_deref().unwrap_or("Ok(())"));
        let _ = writeln!(s, "}}\n");
    }
}

/// The `parse_number` helper of template functions with a number result.
const RUST_PARSE_NUMBER: &str =
    "// Reads a template's text as the number an import returns, as the playground does.
fn parse_number<T: std::str::FromStr>(function: &str, text: &str) -> Result<T, extism::Error> {
    text.trim().parse().map_err(|_| {
        extism::Error::msg(format!(
            \"host function {function}: the import returns a number and {:?} is not one\",
            text.trim()
        ))
    })
}
";

/// A Rust program for the extism crate.
#[expect(clippy::too_many_lines, reason = "a template reads best top to bottom")]
pub fn rust(export: &Export<'_>) -> String {
    let scenario = export.scenario;
    let o = &scenario.options;
    let host = export.imported_host_functions();
    let idents = rust_idents(&host);
    let user_kv_functions = host.iter().any(|f| {
        matches!(
            f.implementation,
            Implementation::KvGet | Implementation::KvSet
        )
    });
    let uses_kv = host.iter().any(|f| kv_function(f));
    // kv values are bytes; as text they read better, where nothing needs them as bytes.
    let kv_bytes = user_kv_functions || scenario.host.kv.values().any(|v| v.as_text().is_none());
    let kv_value = if kv_bytes { "Vec<u8>" } else { "String" };
    let kv_type = format!("BTreeMap<String, {kv_value}>");
    let bodies: Vec<Option<RustBody>> = host
        .iter()
        .map(|f| {
            f.implementation
                .is_user_defined()
                .then(|| RustBody::of(f, export.last_result(f)))
        })
        .collect();

    let mut s = String::new();
    let _ = writeln!(
        s,
        "//! Calls {} of {} with the manifest, options and input of an",
        called(scenario, |f| format!("`{f}`")),
        scenario.plugin.display_name
    );
    let _ = writeln!(
        s,
        "//! extism-playground session. Cargo.toml: extism = \"~1.30\""
    );
    let _ = writeln!(s);
    if uses_kv {
        let _ = writeln!(s, "use std::collections::BTreeMap;");
        let _ = writeln!(s);
    }
    let mut uses: BTreeSet<&str> = ["Manifest", "PluginBuilder", "Wasm"].into();
    if !host.is_empty() {
        uses.insert("UserData");
    }
    if host.iter().any(|f| {
        f.params
            .iter()
            .zip(&f.kinds)
            .chain(f.results.iter().zip(&f.result_kind))
            .any(|(t, k)| rust_type(*t, *k) == "PTR")
    }) {
        uses.insert("PTR");
    }
    if bodies.iter().any(Option::is_none) {
        uses.insert("host_fn");
    }
    if bodies.iter().any(Option::is_some) {
        uses.extend(["CurrentPlugin", "Val"]);
    }
    let _ = writeln!(
        s,
        "use extism::{{{}}};",
        uses.into_iter().collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(s);
    for ((function, body), ident) in host.iter().zip(&bodies).zip(&idents) {
        if let Some(body) = body {
            body.write(
                &mut s,
                ident,
                &user_comment(function, export.last_result(function)),
                &kv_type,
            );
            continue;
        }
        let body = match &function.implementation {
            Implementation::Builtin(Builtin::LogInfo) => {
                "host_fn!(log_info(message: String) {\n    println!(\"[host log_info] {message}\");\n    Ok(())\n});\n".to_string()
            }
            Implementation::Builtin(Builtin::KvGet) => format!(
                "host_fn!(kv_get(kv: {kv_type}; key: String) -> {kv_value} {{\n    let kv = kv.get()?;\n    let kv = kv.lock().map_err(|_| extism::Error::msg(\"kv store poisoned\"))?;\n    Ok(kv.get(&key).cloned().unwrap_or_default())\n}});\n"
            ),
            Implementation::Builtin(Builtin::KvSet) => format!(
                "host_fn!(kv_set(kv: {kv_type}; key: String, value: {kv_value}) {{\n    let kv = kv.get()?;\n    kv.lock().map_err(|_| extism::Error::msg(\"kv store poisoned\"))?.insert(key, value);\n    Ok(())\n}});\n"
            ),
            Implementation::Builtin(Builtin::GetSecret) => {
                "// Secrets come from the environment: get_secret(\"api_key\") reads SECRET_API_KEY.\nhost_fn!(get_secret(name: String) -> String {\n    let var = format!(\"SECRET_{}\", name.to_uppercase());\n    std::env::var(&var).map_err(|_| extism::Error::msg(format!(\"secret {name:?} is not set; set {var}\")))\n});\n".to_string()
            }
            _ => unreachable!("user-defined functions have a body"),
        };
        let _ = writeln!(s, "{body}");
    }
    if bodies.iter().flatten().any(|b| b.parses) {
        let _ = writeln!(s, "{RUST_PARSE_NUMBER}");
    }
    let _ = writeln!(s, "fn main() -> Result<(), extism::Error> {{");
    let _ = writeln!(s, "    let manifest = Manifest::new([");
    for module in module_files(scenario) {
        if let Some(note) = module.note {
            let _ = writeln!(s, "        // {note}");
        }
        let mut wasm = format!("Wasm::file({})", rust_str(&module.path));
        if let Some(name) = &module.name {
            let _ = write!(wasm, ".with_name({})", rust_str(name));
        }
        let _ = writeln!(s, "        {wasm}.with_hash({}),", rust_str(&module.sha256));
    }
    let _ = write!(s, "    ])");
    for h in &o.allowed_hosts {
        let _ = write!(s, "\n    .with_allowed_host({})", rust_str(h));
    }
    for p in &o.allowed_paths {
        let _ = write!(
            s,
            "\n    .with_allowed_path({}.to_string(), {})",
            rust_str(&p.manifest_key()),
            rust_str(&p.guest)
        );
    }
    for (k, v) in &o.config {
        let _ = write!(
            s,
            "\n    .with_config_key({}, {})",
            rust_str(k),
            rust_str(v)
        );
    }
    if let Some(pages) = o.memory_max_pages {
        let _ = write!(s, "\n    .with_memory_max({pages})");
    }
    if let Some(ms) = o.timeout_ms {
        let duration = if ms.is_multiple_of(1000) {
            format!("from_secs({})", rust_int(ms / 1000))
        } else {
            format!("from_millis({})", rust_int(ms))
        };
        let _ = write!(s, "\n    .with_timeout(std::time::Duration::{duration})");
    }
    let _ = writeln!(s, ";");
    if o.http_response_max_bytes.is_some() || o.var_max_bytes.is_some() {
        let _ = writeln!(s, "    let mut manifest = manifest;");
        if let Some(b) = o.http_response_max_bytes {
            let _ = writeln!(
                s,
                "    manifest.memory.max_http_response_bytes = Some({b});"
            );
        }
        if let Some(b) = o.var_max_bytes {
            let _ = writeln!(s, "    manifest.memory.max_var_bytes = Some({b});");
        }
    }
    if uses_kv {
        let _ = writeln!(s, "    let kv = UserData::new(BTreeMap::from([");
        for (k, v) in &scenario.host.kv {
            let value = match (kv_bytes, v.as_text()) {
                (false, _) => format!("{}.to_string()", rust_str(&String::from_utf8_lossy(&v.0))),
                (true, Some(text)) => format!("{}.as_bytes().to_vec()", rust_str(text)),
                // The first element's suffix types the others.
                (true, None) => {
                    format!("vec![{}_u8{}]", &hex_list(&v.0)[..4], &hex_list(&v.0)[4..])
                }
            };
            let _ = writeln!(s, "        ({}.to_string(), {value}),", rust_str(k));
        }
        let _ = writeln!(s, "    ]));");
    }
    let _ = write!(
        s,
        "    let mut plugin = PluginBuilder::new(manifest)\n        .with_wasi({})",
        o.wasi
    );
    if let Some(fuel) = o.fuel_limit {
        let _ = write!(s, "\n        .with_fuel_limit({})", rust_int(fuel));
    }
    for (function, ident) in host.iter().zip(&idents) {
        let data = if kv_function(function) {
            "kv.clone()"
        } else {
            "UserData::new(())"
        };
        let types = |types: &[WasmType], kinds: &[ArgKind]| {
            let names: Vec<&str> = types
                .iter()
                .zip(kinds)
                .map(|(t, k)| rust_type(*t, *k))
                .collect();
            format!("[{}]", names.join(", "))
        };
        // extism puts host functions in extism:host/user unless told otherwise.
        let namespace = if function.module == EXTISM_USER {
            String::new()
        } else {
            format!("_in_namespace({}, ", rust_str(&function.module))
        };
        let _ = write!(
            s,
            "\n        .with_function{}{}, {}, {}, {data}, {ident})",
            if namespace.is_empty() {
                "("
            } else {
                &namespace
            },
            rust_str(&function.name),
            types(&function.params, &function.kinds),
            types(&function.results, function.result_kind.as_slice()),
        );
    }
    let _ = writeln!(s, "\n        .build()?;");
    for (i, step) in scenario.steps.iter().enumerate() {
        // One block per step, so each has its own `input` and `output`.
        let indent = if scenario.steps.len() == 1 {
            "    "
        } else {
            let _ = writeln!(s, "    {{");
            let _ = writeln!(s, "        // Step {} of {}", i + 1, scenario.steps.len());
            if i > 0 && !scenario.keep_state {
                let _ = writeln!(
                    s,
                    "        plugin.reset()?; // the playground gives each step a fresh instance"
                );
            }
            "        "
        };
        let input = match std::str::from_utf8(&step.input) {
            Ok(text) => format!("{}.as_bytes()", rust_str(text)),
            Err(_) => format!("&{:?}[..]", step.input),
        };
        let _ = writeln!(s, "{indent}let input: &[u8] = {input};");
        let _ = writeln!(
            s,
            "{indent}let output = plugin.call::<&[u8], &[u8]>({}, input)?;",
            rust_str(&step.function)
        );
        let _ = writeln!(
            s,
            "{indent}println!(\"{{}}\", String::from_utf8_lossy(output));"
        );
        if scenario.steps.len() > 1 {
            let _ = writeln!(s, "    }}");
        }
    }
    let _ = writeln!(s, "    Ok(())");
    let _ = writeln!(s, "}}");
    s
}

/// Go that panics with `err` if it is set (the go-sdk fails a call whose host function panics).
const GO_CHECK: &str = "if err != nil {\n\tpanic(err)\n}\n";

/// Go that sets `var` to argument `i` as a string: a block's bytes, or a number in decimal.
fn go_arg(f: &HostFunction, i: usize, var: &str, imports: &mut BTreeSet<&'static str>) -> String {
    let number = match (f.kinds[i], f.params[i]) {
        (ArgKind::Bytes, _) => {
            return format!("{var}, err := p.ReadString(stack[{i}])\n{GO_CHECK}");
        }
        (ArgKind::Num, WasmType::I32) => {
            format!("strconv.FormatInt(int64(extism.DecodeI32(stack[{i}])), 10)")
        }
        (ArgKind::Num, WasmType::I64) => format!("strconv.FormatInt(int64(stack[{i}]), 10)"),
        (ArgKind::Num, WasmType::F32) => {
            format!("strconv.FormatFloat(float64(extism.DecodeF32(stack[{i}])), 'f', -1, 64)")
        }
        (ArgKind::Num, WasmType::F64) => {
            format!("strconv.FormatFloat(extism.DecodeF64(stack[{i}]), 'f', -1, 64)")
        }
    };
    imports.insert("strconv");
    format!("{var} := {number}\n")
}

/// Go that returns the string `expr` (the number it spells, for a number result).
fn go_text_result(f: &HostFunction, expr: &str, imports: &mut BTreeSet<&'static str>) -> String {
    match (f.result_kind, f.results.first()) {
        (Some(ArgKind::Bytes), _) => {
            format!("offset, err := p.WriteString({expr})\n{GO_CHECK}stack[0] = offset\n")
        }
        (Some(ArgKind::Num), Some(ty)) => {
            imports.extend(["strconv", "strings"]);
            let (parse, encode) = match ty {
                WasmType::I32 => ("ParseInt(text, 10, 32)", "extism.EncodeI32(int32(n))"),
                WasmType::I64 => ("ParseInt(text, 10, 64)", "extism.EncodeI64(n)"),
                WasmType::F32 => ("ParseFloat(text, 64)", "extism.EncodeF32(float32(n))"),
                WasmType::F64 => ("ParseFloat(text, 64)", "extism.EncodeF64(n)"),
            };
            let message = go_str(&format!(
                "host function {}: the import returns a number ({}) and ",
                qualified(f),
                ty.as_str()
            ));
            format!(
                "text := strings.TrimSpace({expr})\nn, err := strconv.{parse}\nif err != nil {{\n\tpanic({message} + strconv.Quote(text) + \" is not one\")\n}}\nstack[0] = {encode}\n"
            )
        }
        _ => String::new(),
    }
}

/// Go that returns `bytes` (the number they spell, for a number result), as the playground
/// does.
fn go_constant_result(
    f: &HostFunction,
    bytes: &Bytes,
    imports: &mut BTreeSet<&'static str>,
) -> String {
    match (f.result_kind, f.results.first()) {
        (Some(ArgKind::Bytes), _) => {
            let write = match bytes.as_text() {
                Some(text) => format!("p.WriteString({})", go_str(text)),
                None => format!("p.WriteBytes([]byte{{{}}})", hex_list(&bytes.0)),
            };
            format!("offset, err := {write}\n{GO_CHECK}stack[0] = offset\n")
        }
        (Some(ArgKind::Num), Some(ty)) => match number(bytes, *ty) {
            Ok(n) => format!("stack[0] = {}\n", go_number(n, imports)),
            Err(why) => format!("panic({})\n", go_str(&not_a_number(f, *ty, &why))),
        },
        _ => String::new(),
    }
}

/// The body of a user-defined function in Go, unindented; `last` is what it returned in the
/// last run.
fn go_user_body(
    f: &HostFunction,
    last: Option<&Bytes>,
    imports: &mut BTreeSet<&'static str>,
) -> String {
    let mut body = String::new();
    match &f.implementation {
        Implementation::Builtin(_) => {}
        Implementation::Value(value) => body.push_str(&go_constant_result(f, value, imports)),
        Implementation::Template(template) => {
            // Without a result the text goes nowhere.
            if f.result_kind.is_some() {
                let pieces = template_pieces(template, f.params.len());
                for i in template_args(&pieces) {
                    body.push_str(&go_arg(f, i, &format!("arg{i}"), imports));
                }
                let parts: Vec<String> = pieces
                    .iter()
                    .map(|piece| match piece {
                        Piece::Text(text) => go_str(text),
                        Piece::Arg(n) => format!("arg{n}"),
                    })
                    .collect();
                let result = if parts.is_empty() {
                    "\"\"".to_string()
                } else {
                    parts.join(" + ")
                };
                let _ = writeln!(body, "result := {result}");
                body.push_str(&go_text_result(f, "result", imports));
            }
        }
        Implementation::KvGet => {
            body.push_str(&go_arg(f, 0, "key", imports));
            body.push_str(&go_text_result(f, "kv[key]", imports));
        }
        Implementation::KvSet => {
            body.push_str(&go_arg(f, 0, "key", imports));
            body.push_str(&go_arg(f, 1, "value", imports));
            body.push_str("kv[key] = value\n");
            // Where the import has a result, kv-set returns empty bytes or 0.
            let nothing = match f.result_kind {
                Some(ArgKind::Num) => Bytes::from("0"),
                _ => Bytes::default(),
            };
            body.push_str(&go_constant_result(f, &nothing, imports));
        }
        Implementation::Fail(message) => {
            let _ = writeln!(
                body,
                "panic({})",
                go_str(&format!("host function {} failed: {message}", qualified(f)))
            );
        }
        Implementation::Rhai(_) | Implementation::Wasm(_) => match last {
            Some(value) => body.push_str(&go_constant_result(f, value, imports)),
            None if f.result_kind.is_some() => {
                body.push_str("// TODO: no run recorded a result; return what it should.\n");
                let zero = match f.result_kind {
                    Some(ArgKind::Num) => Bytes::from("0"),
                    _ => Bytes::default(),
                };
                body.push_str(&go_constant_result(f, &zero, imports));
            }
            None => {}
        },
    }
    body
}

/// A Go program for the extism go-sdk.
#[expect(clippy::too_many_lines, reason = "a template reads best top to bottom")]
pub fn go(export: &Export<'_>) -> String {
    let scenario = export.scenario;
    let o = &scenario.options;
    let host = export.imported_host_functions();
    let mut imports: BTreeSet<&'static str> = ["context", "fmt", "os"].into();
    // The host functions first: they decide what the program imports.
    let mut functions = String::new();
    for function in &host {
        let body = match function.implementation {
            Implementation::Builtin(Builtin::LogInfo) => {
                "\t\t\tmessage, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tfmt.Println(\"[host log_info]\", message)\n".to_string()
            }
            Implementation::Builtin(Builtin::KvGet) => {
                "\t\t\tkey, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tstack[0], err = p.WriteString(kv[key])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n".to_string()
            }
            Implementation::Builtin(Builtin::KvSet) => {
                "\t\t\tkey, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tvalue, err := p.ReadString(stack[1])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tkv[key] = value\n".to_string()
            }
            Implementation::Builtin(Builtin::GetSecret) => {
                imports.insert("strings");
                "\t\t\tname, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\t// get_secret(\"api_key\") reads SECRET_API_KEY from the environment.\n\t\t\tvalue, ok := os.LookupEnv(\"SECRET_\" + strings.ToUpper(name))\n\t\t\tif !ok {\n\t\t\t\tpanic(fmt.Sprintf(\"secret %q is not set\", name))\n\t\t\t}\n\t\t\tstack[0], err = p.WriteString(value)\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n".to_string()
            }
            _ => {
                let last = export.last_result(function);
                for line in user_comment(function, last) {
                    let _ = writeln!(functions, "\t\t// {line}");
                }
                indent(&go_user_body(function, last, &mut imports), "\t\t\t")
            }
        };
        let types = |types: &[WasmType], kinds: &[ArgKind]| {
            let names: Vec<&str> = types
                .iter()
                .zip(kinds)
                .map(|(t, k)| go_type(*t, *k))
                .collect();
            format!("[]extism.ValueType{{{}}}", names.join(", "))
        };
        let _ = writeln!(
            functions,
            "\t\textism.NewHostFunctionWithStack(\n\t\t\t{},\n\t\t\tfunc(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {{\n{}\t\t\t}},\n\t\t\t{},\n\t\t\t{},\n\t\t),",
            go_str(&function.name),
            indent(&body, "\t"),
            types(&function.params, &function.kinds),
            types(&function.results, function.result_kind.as_slice())
        );
    }

    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Calls {} of {} with the manifest, options and input of an",
        called(scenario, str::to_string),
        scenario.plugin.display_name
    );
    let _ = writeln!(
        s,
        "// extism-playground session. go get github.com/extism/go-sdk"
    );
    let _ = writeln!(s, "package main\n\nimport (");
    for import in &imports {
        let _ = writeln!(s, "\t\"{import}\"");
    }
    let _ = writeln!(s, "\n\textism \"github.com/extism/go-sdk\"\n)\n");
    let _ = writeln!(s, "func main() {{");
    let _ = writeln!(s, "\tmanifest := extism.Manifest{{");
    let _ = writeln!(s, "\t\tWasm: []extism.Wasm{{");
    for module in module_files(scenario) {
        if let Some(note) = module.note {
            let _ = writeln!(s, "\t\t\t// {note}");
        }
        let name = module
            .name
            .as_ref()
            .map_or_else(String::new, |n| format!(", Name: {}", go_str(n)));
        let _ = writeln!(
            s,
            "\t\t\textism.WasmFile{{Path: {}, Hash: {}{name}}},",
            go_str(&module.path),
            go_str(&module.sha256)
        );
    }
    let _ = writeln!(s, "\t\t}},");
    if o.memory_max_pages.is_some()
        || o.http_response_max_bytes.is_some()
        || o.var_max_bytes.is_some()
    {
        let mut fields = Vec::new();
        if let Some(p) = o.memory_max_pages {
            fields.push(format!("MaxPages: {p}"));
        }
        if let Some(b) = o.http_response_max_bytes {
            fields.push(format!("MaxHttpResponseBytes: {b}"));
        }
        if let Some(b) = o.var_max_bytes {
            fields.push(format!("MaxVarBytes: {b}"));
        }
        let _ = writeln!(
            s,
            "\t\tMemory: &extism.ManifestMemory{{{}}},",
            fields.join(", ")
        );
    }
    if !o.config.is_empty() {
        let _ = writeln!(s, "\t\tConfig: map[string]string{{");
        for (k, v) in &o.config {
            let _ = writeln!(s, "\t\t\t{}: {},", go_str(k), go_str(v));
        }
        let _ = writeln!(s, "\t\t}},");
    }
    if !o.allowed_hosts.is_empty() {
        let hosts: Vec<String> = o.allowed_hosts.iter().map(|h| go_str(h)).collect();
        let _ = writeln!(s, "\t\tAllowedHosts: []string{{{}}},", hosts.join(", "));
    }
    if !o.allowed_paths.is_empty() {
        let _ = writeln!(
            s,
            "\t\t// The go-sdk mounts every path read-write; \"ro:\" is honoured by the Rust SDK."
        );
        let _ = writeln!(s, "\t\tAllowedPaths: map[string]string{{");
        for p in &o.allowed_paths {
            let _ = writeln!(
                s,
                "\t\t\t{}: {},",
                go_str(&p.host.display().to_string()),
                go_str(&p.guest)
            );
        }
        let _ = writeln!(s, "\t\t}},");
    }
    if let Some(ms) = o.timeout_ms {
        let _ = writeln!(s, "\t\tTimeout: {ms}, // milliseconds");
    }
    let _ = writeln!(s, "\t}}\n");
    if o.fuel_limit.is_some() {
        let _ = writeln!(
            s,
            "\t// The session set a fuel limit; the go-sdk (wazero) has no fuel metering."
        );
    }
    let _ = writeln!(s, "\tctx := context.Background()");
    let _ = writeln!(
        s,
        "\tconfig := extism.PluginConfig{{EnableWasi: {}}}",
        o.wasi
    );
    if host.iter().any(|f| kv_function(f)) {
        let _ = writeln!(s, "\tkv := map[string]string{{");
        for (k, v) in &scenario.host.kv {
            let _ = writeln!(s, "\t\t{}: {},", go_str(k), go_bytes_string(v));
        }
        let _ = writeln!(s, "\t}}");
    }
    let _ = writeln!(s, "\thostFunctions := []extism.HostFunction{{");
    s.push_str(&functions);
    let _ = writeln!(s, "\t}}");
    for (i, function) in host.iter().enumerate() {
        // The go-sdk puts host functions in extism:host/user unless told otherwise.
        if function.module != EXTISM_USER {
            let _ = writeln!(
                s,
                "\thostFunctions[{i}].SetNamespace({})",
                go_str(&function.module)
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "\tplugin, err := extism.NewPlugin(ctx, manifest, config, hostFunctions)"
    );
    let _ = writeln!(
        s,
        "\tif err != nil {{\n\t\tfmt.Printf(\"Failed to initialize plugin: %v\\n\", err)\n\t\tos.Exit(1)\n\t}}\n"
    );
    for (i, step) in scenario.steps.iter().enumerate() {
        // One block per step, so each has its own `input` and `out`.
        let indent = if scenario.steps.len() == 1 {
            "\t"
        } else {
            let _ = writeln!(s, "\t{{");
            let _ = writeln!(s, "\t\t// Step {} of {}", i + 1, scenario.steps.len());
            if i > 0 && !scenario.keep_state {
                let _ = writeln!(
                    s,
                    "\t\tplugin.Reset() // the playground gives each step a fresh instance"
                );
            }
            "\t\t"
        };
        let input = match std::str::from_utf8(&step.input) {
            Ok(text) => format!("[]byte({})", go_str(text)),
            Err(_) => format!("[]byte{{{}}}", hex_list(&step.input)),
        };
        let _ = writeln!(s, "{indent}input := {input}");
        let _ = writeln!(
            s,
            "{indent}exit, out, err := plugin.Call({}, input)",
            go_str(&step.function)
        );
        let _ = writeln!(
            s,
            "{indent}if err != nil {{\n{indent}\tfmt.Println(err)\n{indent}\tos.Exit(int(exit))\n{indent}}}\n{indent}fmt.Println(string(out))"
        );
        if scenario.steps.len() > 1 {
            let _ = writeln!(s, "\t}}");
        }
    }
    let _ = writeln!(s, "}}");
    s
}

/// The functions a scenario calls, for a comment: "`greet`" or "`add`, then `get`".
fn called(scenario: &Scenario, name: impl Fn(&str) -> String) -> String {
    let names: Vec<String> = scenario.steps.iter().map(|s| name(&s.function)).collect();
    names.join(", then ")
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
        let n = |text: &str, ty| number(&Bytes::from(text), ty);
        assert_eq!(n(" 1200\n", WasmType::I64), Ok(Number::I64(1200)));
        assert_eq!(n("100.5", WasmType::F32), Ok(Number::F32(100.5)));
        assert_eq!(n("3", WasmType::F64), Ok(Number::F64(3.0)));
        assert!(matches!(
            n("1099511627776", WasmType::I32),
            Err(host::NumberError::OutOfRange { .. })
        ));
        assert!(matches!(
            n("1.5", WasmType::I64),
            Err(host::NumberError::NotAnInteger { .. })
        ));
        assert!(matches!(
            n("many", WasmType::I64),
            Err(host::NumberError::NotANumber { .. })
        ));
        assert_eq!(rust_number(Number::I64(-1_500_000)), "Val::I64(-1_500_000)");
        assert_eq!(rust_number(Number::F32(100.5)), "Val::from(100.5_f32)");
        assert_eq!(
            rust_number(Number::F64(f64::NEG_INFINITY)),
            "Val::from(f64::NEG_INFINITY)"
        );
        let mut imports = BTreeSet::new();
        assert_eq!(
            go_number(Number::F64(1e20), &mut imports),
            "extism.EncodeF64(1e20)"
        );
        assert!(imports.is_empty());
        assert_eq!(
            go_number(Number::F32(f32::NAN), &mut imports),
            "extism.EncodeF32(float32(math.NaN()))"
        );
        assert!(imports.contains("math"));
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
