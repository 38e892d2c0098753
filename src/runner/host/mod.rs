//! Host functions: the one table of what this host offers plugins ([`HostRegistry`]: module,
//! name, signature, how each value is carried, description, implementation), the data the
//! kv and secret functions serve ([`HostData`]), and the user's own definitions fitted into the
//! table beside the built-ins. The linker, the inspection (is an import satisfied?), the export
//! generator and the window's host panel all read the same registry.
//!
//! - [`bytes`]: values stored as text when they are text, base64 otherwise.
//! - [`define`]: user definitions, the `--host-fn` syntax, and fitting them to an import.
//! - [`harness`]: the `xtp:test/harness` functions an xtp-test plugin imports to drive the
//!   plugin under test (a table of their own: they serve test plugins, not plugins).
//! - [`script`]: the Rhai sandbox.
//! - `link` (private): the worker's side: extism functions that carry values in and out,
//!   run an implementation and record the call.

pub mod bytes;
pub mod define;
pub mod harness;
mod link;
pub mod script;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::platform::files::size_text;

pub use bytes::Bytes;
pub use define::{ArgKind, Behaviour, HostFnDef, MockSource};
pub(crate) use link::{HostContext, HostFailure, link, panic_text};

use super::inspect::{EXTISM_USER, Import, ItemKind, Signature};

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

    pub(crate) fn to_extism(self) -> extism::ValType {
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

/// A mock-host plugin's export, as linked: its bytes travel to the worker beside the
/// registry, not inside it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MockPlugin {
    /// The file name, for messages.
    pub label: String,
    pub sha256: String,
    pub export: String,
    #[serde(skip)]
    pub bytes: Arc<Vec<u8>>,
}

impl PartialEq for MockPlugin {
    fn eq(&self, other: &Self) -> bool {
        (&self.sha256, &self.export, &self.label) == (&other.sha256, &other.export, &other.label)
    }
}

impl Eq for MockPlugin {}

impl std::hash::Hash for MockPlugin {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.sha256, &self.export, &self.label).hash(state);
    }
}

/// What a host function does when a plugin calls it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Implementation {
    /// One of the playground's own functions.
    Builtin(Builtin),
    /// Returns these bytes.
    Value(Bytes),
    /// Returns the text with `{N}` replaced by argument N.
    Template(String),
    KvGet,
    KvSet,
    /// Returns an error with this message.
    Fail(String),
    /// Calls the function of this Rhai script named like the import.
    Rhai(String),
    /// Calls a mock-host plugin.
    Wasm(MockPlugin),
}

impl Implementation {
    /// Whether the user defined it (anything but a built-in).
    pub fn is_user_defined(&self) -> bool {
        !matches!(self, Self::Builtin(_))
    }
}

/// One host function a plugin can import.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostFunction {
    /// The import module, e.g. `extism:host/user`.
    pub module: String,
    pub name: String,
    pub params: Vec<WasmType>,
    pub results: Vec<WasmType>,
    /// How each parameter is carried.
    pub kinds: Vec<ArgKind>,
    /// How the result is carried, if there is one.
    pub result_kind: Option<ArgKind>,
    /// One line for people: what it takes, returns and does.
    pub description: String,
    pub implementation: Implementation,
}

impl HostFunction {
    /// The signature in the form inspections show, to compare with an import's.
    pub fn signature(&self) -> Signature {
        signature_of(&self.params, &self.results)
    }
}

/// The signature of a function with these types, in the form inspections show.
pub(crate) fn signature_of(params: &[WasmType], results: &[WasmType]) -> Signature {
    let names = |types: &[WasmType]| types.iter().map(|t| t.as_str().to_string()).collect();
    Signature {
        params: names(params),
        results: names(results),
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
                kinds: vec![ArgKind::Bytes; spec.params.len()],
                result_kind: spec.results.first().map(|_| ArgKind::Bytes),
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

    /// The built-ins with the user's definitions `defs` fitted to the function imports they
    /// name in `imports` (a definition may replace a built-in). Definitions for functions the
    /// plugin does not import, and disabled ones, are left out; those that cannot fit their
    /// import are left out and listed with the reason.
    pub fn with_definitions(defs: &[HostFnDef], imports: &[Import]) -> (Self, Vec<DefProblem>) {
        let mut registry = Self::builtin();
        let mut problems = Vec::new();
        for def in defs.iter().filter(|d| d.enabled) {
            let Some(import) = imports
                .iter()
                .find(|i| i.kind == ItemKind::Func && i.module == def.module && i.name == def.name)
            else {
                continue;
            };
            let signature = import.signature.clone().unwrap_or_default();
            match define::fit(def, &signature) {
                Ok(function) => registry.insert(function),
                Err(reason) => problems.push(DefProblem {
                    module: def.module.clone(),
                    name: def.name.clone(),
                    signature,
                    reason,
                }),
            }
        }
        (registry, problems)
    }

    /// The mock-host plugins the functions call, once each.
    pub fn mock_plugins(&self) -> Vec<&MockPlugin> {
        let mut mocks: Vec<&MockPlugin> = Vec::new();
        for f in &self.functions {
            if let Implementation::Wasm(mock) = &f.implementation
                && !mocks.iter().any(|m| m.sha256 == mock.sha256)
            {
                mocks.push(mock);
            }
        }
        mocks
    }

    /// Gives every mock-host plugin of the registry its bytes from `modules` (sha256, bytes),
    /// as the worker receives them.
    pub(crate) fn attach_mock_bytes(&mut self, modules: &[(String, Arc<Vec<u8>>)]) {
        for f in &mut self.functions {
            if let Implementation::Wasm(mock) = &mut f.implementation
                && let Some((_, bytes)) = modules.iter().find(|(sha, _)| *sha == mock.sha256)
            {
                mock.bytes = Arc::clone(bytes);
            }
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

/// A number a host function returns, in the type its import declares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
}

/// Why a host function's value is not a number of the type its import returns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("nothing was returned")]
    Nothing,
    /// `text` (trimmed) reads as no number at all.
    #[error("{text:?} is not a number")]
    NotANumber { text: String },
    /// An integer outside the i32 range, for an i32 result.
    #[error("{text} does not fit an i32")]
    OutOfRange { text: String },
    /// A fraction, for an i64 result.
    #[error("{text} is not an integer")]
    NotAnInteger { text: String },
}

/// `value` as a number of type `ty` (bytes are read as decimal text), or why it is not one:
/// how the worker makes a number result, and how exported host code writes it.
#[expect(
    clippy::cast_possible_truncation,
    reason = "an f32 result is asked for"
)]
#[expect(
    clippy::cast_precision_loss,
    reason = "an integer given for a float result"
)]
pub fn number(value: &script::HostValue, ty: WasmType) -> Result<Number, NumberError> {
    use script::HostValue;
    let text = match value {
        HostValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        HostValue::Int(i) => i.to_string(),
        HostValue::Float(f) => f.to_string(),
        HostValue::Nothing => return Err(NumberError::Nothing),
    };
    let (int, float) = match value {
        HostValue::Int(i) => (Some(*i), *i as f64),
        HostValue::Float(f) => (None, *f),
        _ => {
            let t = text.trim();
            match (t.parse::<i64>(), t.parse::<f64>()) {
                (Ok(i), _) => (Some(i), i as f64),
                (Err(_), Ok(f)) => (None, f),
                _ => {
                    return Err(NumberError::NotANumber {
                        text: t.to_string(),
                    });
                }
            }
        }
    };
    Ok(match ty {
        WasmType::I32 => Number::I32(
            int.and_then(|i| i32::try_from(i).ok())
                .ok_or(NumberError::OutOfRange { text })?,
        ),
        WasmType::I64 => Number::I64(int.ok_or(NumberError::NotAnInteger { text })?),
        WasmType::F32 => Number::F32(float as f32),
        WasmType::F64 => Number::F64(float),
    })
}

/// A definition that cannot stand for the import it names, and why.
#[derive(Clone, Debug)]
pub struct DefProblem {
    pub module: String,
    pub name: String,
    /// The import's signature.
    pub signature: Signature,
    pub reason: define::FitError,
}

impl std::fmt::Display for DefProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}::{} {} cannot be defined that way: {}",
            self.module, self.name, self.signature, self.reason
        )
    }
}

/// The most the kv store holds: keys and values, and [`KV_ENTRY_BYTES`] per entry.
pub const MAX_KV_BYTES: usize = 256 * 1024 * 1024;
/// What an entry of the kv store costs beside its key and value.
const KV_ENTRY_BYTES: usize = 64;

/// What the kv store holds, as [`MAX_KV_BYTES`] counts it.
pub(crate) fn kv_bytes(kv: &BTreeMap<String, Bytes>) -> usize {
    kv.iter()
        .map(|(k, v)| KV_ENTRY_BYTES + k.len() + v.0.len())
        .sum()
}

/// A `kv_set` the kv store has no room for: it would then hold more than [`MAX_KV_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "kv_set of {} ({}) would make the kv store {}; it holds at most {}",
    bytes::summary_of(.key.as_bytes(), 40),
    size_text(*.value_bytes),
    size_text(*.after_bytes),
    size_text(MAX_KV_BYTES as u64)
)]
pub struct KvFull {
    pub key: String,
    /// The size of the value it was asked to store.
    pub value_bytes: u64,
    /// What the store would have held after it.
    pub after_bytes: u64,
}

/// Sets `key` to `value` in `kv`, whose size so far is `total` (kept up to date), unless the
/// store would then hold more than [`MAX_KV_BYTES`]: that is refused, saying so.
pub(crate) fn kv_set(
    kv: &mut BTreeMap<String, Bytes>,
    total: &mut usize,
    key: String,
    value: Vec<u8>,
) -> Result<(), KvFull> {
    let old = kv
        .get(&key)
        .map_or(0, |v| KV_ENTRY_BYTES + key.len() + v.0.len());
    let new = KV_ENTRY_BYTES + key.len() + value.len();
    let after = total.saturating_sub(old) + new;
    if after > MAX_KV_BYTES {
        return Err(KvFull {
            key,
            value_bytes: value.len() as u64,
            after_bytes: after as u64,
        });
    }
    *total = after;
    kv.insert(key, Bytes(value));
    Ok(())
}

/// The data the built-in host functions serve: a key-value store plugins read and write, and
/// secrets the user provides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct HostData {
    pub kv: BTreeMap<String, Bytes>,
    pub secrets: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
            kinds: vec![],
            result_kind: None,
            description: String::new(),
            implementation: Implementation::Builtin(Builtin::LogInfo),
        }
    }
}
