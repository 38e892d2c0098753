//! Host functions: the one table of what this host offers plugins ([`HostRegistry`]: module,
//! name, signature, description, implementation), the data the built-in ones serve
//! ([`HostData`]), and the linker side that turns the table into extism functions and records
//! every call a plugin makes to them. The linker, the inspection (is an import satisfied?), the
//! export generator and the window's host panel all read the same registry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use extism::{CurrentPlugin, Function, UserData, Val};
use serde::{Deserialize, Serialize};

use super::capture::Recorder;
use super::inspect::{EXTISM_USER, Signature};
use super::report::{LogLevel, LogSource};

/// How many characters of an argument a host-call record keeps.
const ARG_SUMMARY_CHARS: usize = 60;

/// A WebAssembly value type in a host function's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WasmType {
    I32,
    I64,
    F32,
    F64,
}

impl WasmType {
    /// The type's name in the text format (`i64`), as signatures show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
        }
    }

    fn to_extism(self) -> extism::ValType {
        match self {
            Self::I32 => extism::ValType::I32,
            Self::I64 => extism::ValType::I64,
            Self::F32 => extism::ValType::F32,
            Self::F64 => extism::ValType::F64,
        }
    }
}

/// The host functions built into the playground.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    LogInfo,
    KvGet,
    KvSet,
    GetSecret,
}

/// One row of the built-in table.
struct BuiltinSpec {
    builtin: Builtin,
    name: &'static str,
    params: &'static [WasmType],
    results: &'static [WasmType],
    description: &'static str,
}

/// Every built-in host function, offered in `extism:host/user`. Arguments and results are
/// Extism memory offsets (`i64`) of the bytes they carry.
const BUILTINS: &[BuiltinSpec] = &[
    BuiltinSpec {
        builtin: Builtin::GetSecret,
        name: "get_secret",
        params: &[WasmType::I64],
        results: &[WasmType::I64],
        description: "get_secret(name) -> value: a secret from the Secrets list (an error when it is not set)",
    },
    BuiltinSpec {
        builtin: Builtin::KvGet,
        name: "kv_get",
        params: &[WasmType::I64],
        results: &[WasmType::I64],
        description: "kv_get(key) -> value: reads the kv store (empty when the key is missing)",
    },
    BuiltinSpec {
        builtin: Builtin::KvSet,
        name: "kv_set",
        params: &[WasmType::I64, WasmType::I64],
        results: &[],
        description: "kv_set(key, value): writes the kv store",
    },
    BuiltinSpec {
        builtin: Builtin::LogInfo,
        name: "log_info",
        params: &[WasmType::I64],
        results: &[],
        description: "log_info(message): logs the message at info, from the host",
    },
];

impl Builtin {
    fn spec(self) -> &'static BuiltinSpec {
        BUILTINS
            .iter()
            .find(|s| s.builtin == self)
            .expect("every builtin has a row in BUILTINS")
    }

    /// The import name plugins use.
    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

/// What a host function does when a plugin calls it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Implementation {
    /// One of the playground's own functions.
    Builtin(Builtin),
}

/// One host function a plugin can import.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostFunction {
    /// The import module, e.g. `extism:host/user`.
    pub module: String,
    pub name: String,
    pub params: Vec<WasmType>,
    pub results: Vec<WasmType>,
    /// One line for people: what it takes, returns and does.
    pub description: String,
    pub implementation: Implementation,
}

impl HostFunction {
    /// The signature in the form inspections show, to compare with an import's.
    pub fn signature(&self) -> Signature {
        Signature {
            params: self.params.iter().map(|t| t.as_str().to_string()).collect(),
            results: self
                .results
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
        }
    }
}

/// Every host function this host offers, unique by module and name, sorted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostRegistry {
    functions: Vec<HostFunction>,
}

impl Default for HostRegistry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl HostRegistry {
    /// The playground's built-in functions.
    pub fn builtin() -> Self {
        let mut registry = Self {
            functions: Vec::new(),
        };
        for spec in BUILTINS {
            registry.insert(HostFunction {
                module: EXTISM_USER.to_string(),
                name: spec.name.to_string(),
                params: spec.params.to_vec(),
                results: spec.results.to_vec(),
                description: spec.description.to_string(),
                implementation: Implementation::Builtin(spec.builtin),
            });
        }
        registry
    }

    /// Adds `function`, replacing one with the same module and name.
    pub fn insert(&mut self, function: HostFunction) {
        match self
            .functions
            .binary_search_by(|f| (&f.module, &f.name).cmp(&(&function.module, &function.name)))
        {
            Ok(i) => self.functions[i] = function,
            Err(i) => self.functions.insert(i, function),
        }
    }

    /// Every function, sorted by module and name.
    pub fn functions(&self) -> &[HostFunction] {
        &self.functions
    }

    /// The function a plugin imports as `module::name`, if this host offers it.
    pub fn get(&self, module: &str, name: &str) -> Option<&HostFunction> {
        self.functions
            .iter()
            .find(|f| f.module == module && f.name == name)
    }

    /// The modules host functions are offered in, sorted.
    pub fn modules(&self) -> Vec<&str> {
        let mut modules: Vec<&str> = self.functions.iter().map(|f| f.module.as_str()).collect();
        modules.dedup();
        modules
    }

    /// The names offered in `module`, sorted.
    pub fn names_in(&self, module: &str) -> Vec<&str> {
        self.functions
            .iter()
            .filter(|f| f.module == module)
            .map(|f| f.name.as_str())
            .collect()
    }
}

/// The data the built-in host functions serve: a key-value store plugins read and write, and
/// secrets the user provides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct HostData {
    pub kv: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
}

/// What the host functions share: their data and the recorder of the current call.
pub(crate) struct HostContext {
    pub data: HostData,
    pub recorder: Arc<Recorder>,
}

/// A printable summary of an argument: the start of it, escaped, with its length if cut.
fn summarize(s: &str) -> String {
    let count = s.chars().count();
    if count <= ARG_SUMMARY_CHARS {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(ARG_SUMMARY_CHARS).collect();
        format!("{head:?}… ({count} chars)")
    }
}

/// Argument `i` read as text from Extism memory.
fn text_arg(plugin: &mut CurrentPlugin, inputs: &[Val], i: usize) -> Result<String, extism::Error> {
    let val = inputs
        .get(i)
        .ok_or_else(|| extism::Error::msg(format!("argument {i} is missing")))?;
    let bytes: &[u8] = plugin.memory_get_val(val)?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// What a host function returns and the summary its record shows.
struct Answer {
    value: Option<String>,
    summary: String,
}

impl Answer {
    fn nothing() -> Self {
        Self {
            value: None,
            summary: "ok".to_string(),
        }
    }
}

/// Runs a built-in on its arguments against the shared context.
fn run_builtin(
    builtin: Builtin,
    ctx: &mut HostContext,
    args: &[String],
) -> Result<Answer, extism::Error> {
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    match builtin {
        Builtin::LogInfo => {
            ctx.recorder.log(LogLevel::Info, LogSource::Host, arg(0));
            Ok(Answer::nothing())
        }
        Builtin::KvGet => Ok(match ctx.data.kv.get(arg(0)) {
            Some(v) => Answer {
                value: Some(v.clone()),
                summary: summarize(v),
            },
            None => Answer {
                value: Some(String::new()),
                summary: "missing (empty string)".to_string(),
            },
        }),
        Builtin::KvSet => {
            ctx.data.kv.insert(arg(0).to_string(), arg(1).to_string());
            Ok(Answer::nothing())
        }
        Builtin::GetSecret => {
            let name = arg(0);
            // A name without a value (as bundles saved without secret values carry) is not set.
            match ctx.data.secrets.get(name).filter(|v| !v.is_empty()) {
                // The value itself is never recorded.
                Some(v) => Ok(Answer {
                    value: Some(v.clone()),
                    summary: format!("{} chars", v.chars().count()),
                }),
                None => Err(extism::Error::msg(format!(
                    "secret {name:?} is not set; add it in the Secrets list of the host functions \
                     panel (CLI: --secret {name}=VALUE)"
                ))),
            }
        }
    }
}

/// Calls `function` for a plugin: reads its arguments, runs its implementation, writes its
/// result, and records the call with its outcome.
fn dispatch(
    function: &HostFunction,
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
    ctx: &UserData<HostContext>,
) -> Result<(), extism::Error> {
    let args = (0..inputs.len())
        .map(|i| text_arg(plugin, inputs, i))
        .collect::<Result<Vec<_>, _>>()?;
    let shown = args
        .iter()
        .map(|a| summarize(a))
        .collect::<Vec<_>>()
        .join(", ");
    let ctx = ctx.get()?;
    let mut ctx = ctx
        .lock()
        .map_err(|_| extism::Error::msg("host state is poisoned"))?;
    let started = Instant::now();
    let answer = match &function.implementation {
        Implementation::Builtin(builtin) => run_builtin(*builtin, &mut ctx, &args),
    };
    let summary = match &answer {
        Ok(answer) => answer.summary.clone(),
        Err(e) => format!("error: {e}"),
    };
    ctx.recorder
        .host_call(&function.name, &shown, &summary, started);
    drop(ctx);
    if let (Some(value), Some(out)) = (answer?.value, outputs.first_mut()) {
        plugin.memory_set_val(out, value)?;
    }
    Ok(())
}

/// The registry's functions as extism functions bound to `ctx`, for the linker.
pub(crate) fn link(registry: &HostRegistry, ctx: &UserData<HostContext>) -> Vec<Function> {
    registry
        .functions()
        .iter()
        .map(|function| {
            let owned = function.clone();
            Function::new(
                function.name.clone(),
                function.params.iter().map(|t| t.to_extism()),
                function.results.iter().map(|t| t.to_extism()),
                ctx.clone(),
                move |plugin: &mut CurrentPlugin,
                      inputs: &[Val],
                      outputs: &mut [Val],
                      ctx: UserData<HostContext>| {
                    dispatch(&owned, plugin, inputs, outputs, &ctx)
                },
            )
            .with_namespace(&function.module)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_short_and_escaped() {
        assert_eq!(summarize("a\"b"), r#""a\"b""#);
        let long = "x".repeat(100);
        let s = summarize(&long);
        assert!(s.ends_with("(100 chars)"), "{s}");
        assert!(s.len() < 80, "{s}");
    }

    #[test]
    fn the_builtin_registry_has_one_row_per_builtin() {
        let registry = HostRegistry::builtin();
        let names = registry.names_in(EXTISM_USER);
        assert_eq!(names, ["get_secret", "kv_get", "kv_set", "log_info"]);
        for builtin in [
            Builtin::LogInfo,
            Builtin::KvGet,
            Builtin::KvSet,
            Builtin::GetSecret,
        ] {
            let f = registry.get(EXTISM_USER, builtin.name()).unwrap();
            assert_eq!(f.implementation, Implementation::Builtin(builtin));
        }
        assert_eq!(
            registry
                .get(EXTISM_USER, "kv_set")
                .unwrap()
                .signature()
                .to_string(),
            "(i64, i64)"
        );
        assert_eq!(registry.modules(), [EXTISM_USER]);
    }

    #[test]
    fn insert_replaces_by_module_and_name_and_keeps_order() {
        let mut registry = HostRegistry::builtin();
        let mut custom = registry.get(EXTISM_USER, "kv_get").unwrap().clone();
        custom.description = "mine".into();
        registry.insert(custom);
        assert_eq!(registry.functions().len(), BUILTINS.len());
        assert_eq!(
            registry.get(EXTISM_USER, "kv_get").unwrap().description,
            "mine"
        );
        let mut other = custom_fn("acme:host", "notify");
        registry.insert(other.clone());
        other.name = "alert".into();
        registry.insert(other);
        assert_eq!(registry.modules(), ["acme:host", EXTISM_USER]);
        assert_eq!(registry.names_in("acme:host"), ["alert", "notify"]);
    }

    fn custom_fn(module: &str, name: &str) -> HostFunction {
        HostFunction {
            module: module.into(),
            name: name.into(),
            params: vec![],
            results: vec![],
            description: String::new(),
            implementation: Implementation::Builtin(Builtin::LogInfo),
        }
    }
}
