//! Reads a module without running it: size, hash, exports with signatures (and which are callable
//! as Extism functions), imports grouped by module with whether this host can satisfy them,
//! memory, and the producers section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wasmparser::{CompositeInnerType, KnownCustom, Parser, Payload, TypeRef, ValType};

use super::error::LoadError;
use super::host::HostRegistry;
use super::host::harness::XTP_HARNESS;
use crate::platform::digest::sha256_hex;

/// The Extism kernel and PDK functions extism links under `extism:host/env`.
const EXTISM_ENV_FUNCTIONS: &[&str] = &[
    "alloc",
    "config_get",
    "error_get",
    "error_set",
    "free",
    "get_log_level",
    "http_headers",
    "http_request",
    "http_status_code",
    "input_length",
    "input_load_u64",
    "input_load_u8",
    "input_offset",
    "input_set",
    "length",
    "length_unsafe",
    "load_u64",
    "load_u8",
    "log_debug",
    "log_error",
    "log_info",
    "log_trace",
    "log_warn",
    "memory_bytes",
    "output_length",
    "output_offset",
    "output_set",
    "reset",
    "store_u64",
    "store_u8",
    "var_get",
    "var_set",
];

pub const EXTISM_ENV: &str = "extism:host/env";
pub const EXTISM_USER: &str = "extism:host/user";
pub const WASI_P1: &str = "wasi_snapshot_preview1";

/// A function signature, e.g. `(i64, i64) -> i64`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub params: Vec<String>,
    pub results: Vec<String>,
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({})", self.params.join(", "))?;
        match self.results.as_slice() {
            [] => Ok(()),
            [one] => write!(f, " -> {one}"),
            many => write!(f, " -> ({})", many.join(", ")),
        }
    }
}

/// What kind of thing an import or export is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Func,
    Table,
    Memory,
    Global,
    Tag,
}

impl ItemKind {
    /// The kind's name as people and the text format spell it (`func`, `memory`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Func => "func",
            Self::Table => "table",
            Self::Memory => "memory",
            Self::Global => "global",
            Self::Tag => "tag",
        }
    }
}

/// One export of the module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub name: String,
    pub kind: ItemKind,
    /// For functions.
    pub signature: Option<Signature>,
    /// Callable as an Extism plugin function: `() -> i32` or `() -> ()`.
    pub callable: bool,
}

/// Which part of the host an import is meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportGroup {
    ExtismEnv,
    ExtismUser,
    Wasi,
    Other,
}

impl ImportGroup {
    fn of(module: &str) -> Self {
        match module {
            EXTISM_ENV => Self::ExtismEnv,
            EXTISM_USER => Self::ExtismUser,
            WASI_P1 => Self::Wasi,
            _ => Self::Other,
        }
    }
}

/// One import of the module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ItemKind,
    pub signature: Option<Signature>,
    pub group: ImportGroup,
}

/// Declared linear memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryInfo {
    pub initial_pages: u64,
    pub max_pages: Option<u64>,
    pub imported: bool,
}

/// What a module is, read without running it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub size_bytes: u64,
    pub sha256: String,
    pub exports: Vec<Export>,
    pub imports: Vec<Import>,
    /// Imports anything from WASI preview 1.
    pub needs_wasi: bool,
    pub memories: Vec<MemoryInfo>,
    /// The producers section: field (`language`, `processed-by`, `sdk`) → `name version` list.
    pub producers: BTreeMap<String, Vec<String>>,
    /// The module carries DWARF line tables (`.debug_line`), so a trap can name source lines.
    #[serde(default)]
    pub has_debug_lines: bool,
}

/// An import this host cannot provide, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsatisfied {
    pub module: String,
    pub name: String,
    pub reason: String,
}

impl std::fmt::Display for Unsatisfied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{} ({})", self.module, self.name, self.reason)
    }
}

fn val_type(v: ValType) -> String {
    match v {
        ValType::I32 => "i32".into(),
        ValType::I64 => "i64".into(),
        ValType::F32 => "f32".into(),
        ValType::F64 => "f64".into(),
        ValType::V128 => "v128".into(),
        ValType::Ref(r) => format!("{r}"),
    }
}

impl Inspection {
    /// Parses a module. `name` labels errors.
    #[expect(
        clippy::too_many_lines,
        reason = "one pass over the sections reads best as one match"
    )]
    pub fn of(name: &str, bytes: &[u8]) -> Result<Self, LoadError> {
        let invalid = |e: wasmparser::BinaryReaderError| LoadError::InvalidWasm {
            name: name.to_string(),
            detail: e.to_string(),
        };
        let mut out = Self {
            size_bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
            ..Self::default()
        };
        // Function types by type index (None for non-function types), and the type index of
        // every function in the function index space (imports first).
        let mut types: Vec<Option<Signature>> = Vec::new();
        let mut func_types: Vec<u32> = Vec::new();
        let mut raw_exports = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(invalid)? {
                Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                    return Err(LoadError::InvalidWasm {
                        name: name.to_string(),
                        detail: "it is a WebAssembly component; Extism runs core modules"
                            .to_string(),
                    });
                }
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for sub in group.map_err(invalid)?.into_types() {
                            types.push(match &sub.composite_type.inner {
                                CompositeInnerType::Func(f) => Some(Signature {
                                    params: f.params().iter().copied().map(val_type).collect(),
                                    results: f.results().iter().copied().map(val_type).collect(),
                                }),
                                _ => None,
                            });
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(invalid)?;
                        let (kind, signature) = match import.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                func_types.push(t);
                                (ItemKind::Func, types.get(t as usize).cloned().flatten())
                            }
                            TypeRef::Table(_) => (ItemKind::Table, None),
                            TypeRef::Memory(m) => {
                                out.memories.push(MemoryInfo {
                                    initial_pages: m.initial,
                                    max_pages: m.maximum,
                                    imported: true,
                                });
                                (ItemKind::Memory, None)
                            }
                            TypeRef::Global(_) => (ItemKind::Global, None),
                            TypeRef::Tag(_) => (ItemKind::Tag, None),
                        };
                        out.imports.push(Import {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                            kind,
                            signature,
                            group: ImportGroup::of(import.module),
                        });
                    }
                }
                Payload::FunctionSection(reader) => {
                    for t in reader {
                        func_types.push(t.map_err(invalid)?);
                    }
                }
                Payload::MemorySection(reader) => {
                    for m in reader {
                        let m = m.map_err(invalid)?;
                        out.memories.push(MemoryInfo {
                            initial_pages: m.initial,
                            max_pages: m.maximum,
                            imported: false,
                        });
                    }
                }
                Payload::ExportSection(reader) => {
                    for e in reader {
                        let e = e.map_err(invalid)?;
                        raw_exports.push((e.name.to_string(), e.kind, e.index));
                    }
                }
                Payload::CustomSection(reader) => {
                    if reader.name() == ".debug_line" {
                        out.has_debug_lines = true;
                    }
                    if let KnownCustom::Producers(producers) = reader.as_known() {
                        for field in producers.into_iter().flatten() {
                            let values = field
                                .values
                                .into_iter()
                                .flatten()
                                .map(|v| format!("{} {}", v.name, v.version).trim().to_string())
                                .collect();
                            out.producers.insert(field.name.to_string(), values);
                        }
                    }
                }
                _ => {}
            }
        }
        for (name, kind, index) in raw_exports {
            let (kind, signature) = match kind {
                wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => (
                    ItemKind::Func,
                    func_types
                        .get(index as usize)
                        .and_then(|t| types.get(*t as usize).cloned().flatten()),
                ),
                wasmparser::ExternalKind::Table => (ItemKind::Table, None),
                wasmparser::ExternalKind::Memory => (ItemKind::Memory, None),
                wasmparser::ExternalKind::Global => (ItemKind::Global, None),
                wasmparser::ExternalKind::Tag => (ItemKind::Tag, None),
            };
            let callable = signature.as_ref().is_some_and(|s| {
                s.params.is_empty() && (s.results.is_empty() || s.results == ["i32"])
            });
            out.exports.push(Export {
                name,
                kind,
                signature,
                callable,
            });
        }
        out.needs_wasi = out.imports.iter().any(|i| i.group == ImportGroup::Wasi);
        Ok(out)
    }

    /// Whether it imports any WASI module (`wasi_snapshot_preview1`, `wasi_unstable`, …).
    pub fn imports_wasi(&self) -> bool {
        self.imports.iter().any(|i| i.module.starts_with("wasi_"))
    }

    /// Names of the functions callable as Extism plugin functions, sorted: entry points and
    /// toolchain internals alike (see [`Self::entry_points`]).
    pub fn callable_functions(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .exports
            .iter()
            .filter(|e| e.callable)
            .map(|e| e.name.as_str())
            .filter(|n| !is_runtime_export(n))
            .collect();
        names.sort_unstable();
        names
    }

    /// The callable functions that look like the plugin's own entry points, sorted: not
    /// `_`-prefixed and not a known toolchain internal (`malloc`, `asyncify_*`, …). When a
    /// module has no such function but `_start` (a WASI command), that is its entry point.
    pub fn entry_points(&self) -> Vec<&str> {
        let callable = self.callable_functions();
        let entries: Vec<&str> = callable
            .iter()
            .copied()
            .filter(|n| !is_toolchain_internal(n))
            .collect();
        if entries.is_empty() && callable.contains(&"_start") {
            return vec!["_start"];
        }
        entries
    }

    /// The callable functions a toolchain added (`__arg_start`, `__invoke*`, `_start`,
    /// `malloc`, `asyncify_*`, …), sorted: callable, but rarely what a user means to call.
    pub fn toolchain_internals(&self) -> Vec<&str> {
        let entries = self.entry_points();
        self.callable_functions()
            .into_iter()
            .filter(|n| !entries.contains(n))
            .collect()
    }

    /// The function to select when nothing else says which: the first entry point, else the
    /// first callable function.
    pub fn default_function(&self) -> Option<&str> {
        let entries = self.entry_points();
        match entries.first() {
            Some(first) => Some(first),
            None => self.callable_functions().first().copied(),
        }
    }

    /// Imports grouped by module, sorted, for display.
    pub fn imports_by_module(&self) -> BTreeMap<&str, Vec<&Import>> {
        let mut groups: BTreeMap<&str, Vec<&Import>> = BTreeMap::new();
        for import in &self.imports {
            groups
                .entry(import.module.as_str())
                .or_default()
                .push(import);
        }
        groups
    }

    /// Whether `import` can be provided under `linkage`: the reason if not.
    pub fn import_problem(import: &Import, linkage: &Linkage<'_>) -> Option<String> {
        if linkage.linked_modules.iter().any(|m| m == &import.module) {
            return None;
        }
        match import.group {
            ImportGroup::ExtismEnv => (!EXTISM_ENV_FUNCTIONS.contains(&import.name.as_str()))
                .then(|| "extism:host/env has no such function".to_string()),
            ImportGroup::Wasi => (!linkage.wasi).then(|| "WASI is off; turn WASI on".to_string()),
            ImportGroup::Other if import.module == XTP_HARNESS => Some(
                "xtp's test harness: linked when this test plugin runs with `test --xtp`"
                    .to_string(),
            ),
            ImportGroup::ExtismUser | ImportGroup::Other => {
                host_function_problem(import, linkage.host)
            }
        }
    }

    /// Every import that cannot be provided under `linkage`.
    pub fn unsatisfied_imports(&self, linkage: &Linkage<'_>) -> Vec<Unsatisfied> {
        self.imports
            .iter()
            .filter_map(|import| {
                Self::import_problem(import, linkage).map(|reason| Unsatisfied {
                    module: import.module.clone(),
                    name: import.name.clone(),
                    reason,
                })
            })
            .collect()
    }

    /// The export called `name`, if any.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }

    /// The producers section as one line, e.g. `language: Rust; processed-by: rustc 1.95.0`.
    pub fn toolchain_summary(&self) -> Option<String> {
        (!self.producers.is_empty()).then(|| {
            self.producers
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// Exports that toolchains add and that must not be called as plugin functions at all (extism
/// runs the initializers itself).
fn is_runtime_export(name: &str) -> bool {
    matches!(name, "_initialize" | "__wasm_call_ctors" | "hs_init")
}

/// Exports a toolchain adds beside the plugin's own functions: anything `_`-prefixed (js-pdk's
/// `__arg_*` and `__invoke*`, WASI's `_start`), allocator entry points, and Binaryen's asyncify
/// machinery (`TinyGo` builds).
pub fn is_toolchain_internal(name: &str) -> bool {
    name.starts_with('_')
        || name.starts_with("asyncify_")
        || matches!(
            name,
            "malloc" | "free" | "calloc" | "realloc" | "cabi_realloc" | "hs_exit"
        )
}

/// Why a plugin's import of a host function cannot be provided by `host`, if it cannot.
fn host_function_problem(import: &Import, host: &HostRegistry) -> Option<String> {
    let Some(offered) = host.get(&import.module, &import.name) else {
        let offered = host.names_in(&import.module);
        return Some(if offered.is_empty() {
            let mut modules = vec![EXTISM_ENV, WASI_P1];
            modules.extend(host.modules());
            modules.sort_unstable();
            format!(
                "no module named {:?} is provided (only {})",
                import.module,
                modules.join(", ")
            )
        } else {
            format!(
                "this host offers only {} in {}",
                offered.join(", "),
                import.module
            )
        });
    };
    let expected = offered.signature();
    (import.signature.as_ref() != Some(&expected)).then(|| {
        format!(
            "the host's {} has the signature {expected}, the plugin expects {}",
            import.name,
            import
                .signature
                .as_ref()
                .map_or_else(|| "a non-function".to_string(), ToString::to_string)
        )
    })
}

/// What a plugin is linked against: whether WASI is on, the names its other modules are
/// linked under, and the host functions offered.
#[derive(Clone, Copy, Debug)]
pub struct Linkage<'a> {
    pub wasi: bool,
    pub linked_modules: &'a [String],
    pub host: &'a HostRegistry,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module_with_exports(names: &[&str]) -> Inspection {
        let exports: Vec<String> = names
            .iter()
            .map(|n| format!("(func (export \"{n}\") (result i32) i32.const 0)"))
            .collect();
        let exports = exports.concat();
        let wasm = wat::parse_str(format!("(module {exports})")).unwrap();
        Inspection::of("test.wasm", &wasm).unwrap()
    }

    #[test]
    fn js_pdk_internals_are_not_the_default_function() {
        // The shape of a js-pdk module: its own exports beside the QuickJS glue.
        let i = module_with_exports(&[
            "__arg_start",
            "__arg_i32",
            "__invoke",
            "__invoke_i32",
            "__invokeHostFunc_0_1",
            "greet",
            "count_vowels",
        ]);
        assert_eq!(i.entry_points(), ["count_vowels", "greet"]);
        assert_eq!(i.default_function(), Some("count_vowels"));
        assert_eq!(i.toolchain_internals().len(), 5);
    }

    #[test]
    fn tinygo_internals_are_not_the_default_function() {
        let i = module_with_exports(&[
            "_start",
            "asyncify_start_unwind",
            "asyncify_stop_rewind",
            "malloc",
            "free",
            "calloc",
            "realloc",
            "say_hello",
        ]);
        assert_eq!(i.entry_points(), ["say_hello"]);
        assert_eq!(i.default_function(), Some("say_hello"));
    }

    #[test]
    fn start_is_the_entry_point_only_when_it_is_the_only_one() {
        let i = module_with_exports(&["_start", "malloc"]);
        assert_eq!(i.entry_points(), ["_start"]);
        assert_eq!(i.default_function(), Some("_start"));
        assert_eq!(i.toolchain_internals(), ["malloc"]);
        let i = module_with_exports(&["__only_internal"]);
        assert!(i.entry_points().is_empty());
        assert_eq!(i.default_function(), Some("__only_internal"));
    }

    #[test]
    fn imports_are_checked_against_the_registry() {
        let wasm = wat::parse_str(
            r#"(module
                (import "extism:host/user" "kv_get" (func (param i64) (result i64)))
                (import "extism:host/user" "kv_set" (func (param i64)))
                (import "extism:host/user" "get_user" (func (param i64) (result i64)))
                (import "acme" "notify" (func))
                (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))))"#,
        )
        .unwrap();
        let i = Inspection::of("needy.wasm", &wasm).unwrap();
        let host = HostRegistry::builtin();
        let linkage = Linkage {
            wasi: false,
            linked_modules: &[],
            host: &host,
        };
        let problems: Vec<String> = i
            .unsatisfied_imports(&linkage)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "extism:host/user::kv_set (the host's kv_set has the signature (i64, i64), the plugin expects (i64))",
                "extism:host/user::get_user (this host offers only get_secret, kv_get, kv_set, log_info in extism:host/user)",
                "acme::notify (no module named \"acme\" is provided (only extism:host/env, extism:host/user, wasi_snapshot_preview1))",
                "wasi_snapshot_preview1::fd_write (WASI is off; turn WASI on)",
            ]
        );
        let linkage = Linkage {
            wasi: true,
            linked_modules: &["acme".to_string()],
            host: &host,
        };
        assert_eq!(i.unsatisfied_imports(&linkage).len(), 2);
    }
}
