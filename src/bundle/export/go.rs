//! The Go program for the extism go-sdk: each host function's body as [`GoStep`]s, the
//! packages they need, and `assets/templates/host/go/main.go.j2` rendered with them.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::runner::host::{ArgKind, Builtin, Bytes, HostFunction, Implementation, WasmType};
use crate::runner::inspect::EXTISM_USER;
use crate::templates;

use super::{
    Export, Literal, Piece, Session, Slot, builtin_name, go_needs_math, nothing, number, qualified,
    slots, template_args, template_pieces, user_comment,
};

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
