//! The Rust program for the extism crate: each host function's fn (its name, the parameters
//! it uses, its body as [`RustStep`]s), the program's imports, and
//! `assets/templates/host/rust/main.rs.j2` rendered with them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::runner::host::{ArgKind, Bytes, HostFunction, Implementation, WasmType};
use crate::runner::inspect::EXTISM_USER;
use crate::templates;

use super::{
    Export, Literal, Piece, Session, Slot, builtin_name, kv_function, nothing, number, qualified,
    slots, template_args, template_pieces, user_comment,
};

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
    use crate::runner::host::Builtin;

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
