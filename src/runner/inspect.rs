//! Reads a module without running it: size, hash, exports with signatures (and which are callable
//! as Extism functions), imports grouped by module with whether this host can satisfy them,
//! memory, and the producers section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wasmparser::{CompositeInnerType, KnownCustom, Parser, Payload, TypeRef, ValType};

use super::error::LoadError;
use super::host;
use super::source::sha256_hex;

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

    /// Names of the functions callable as Extism plugin functions, sorted.
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

    /// Whether this host can provide `import`: the reason if not.
    pub fn import_problem(
        import: &Import,
        wasi: bool,
        linked_modules: &[String],
    ) -> Option<String> {
        if linked_modules.iter().any(|m| m == &import.module) {
            return None;
        }
        match import.group {
            ImportGroup::ExtismEnv => (!EXTISM_ENV_FUNCTIONS.contains(&import.name.as_str()))
                .then(|| "extism:host/env has no such function".to_string()),
            ImportGroup::ExtismUser => match host::signature_of(&import.name) {
                None => Some(format!(
                    "this host offers only {} in extism:host/user",
                    host::HOST_FUNCTIONS.join(", ")
                )),
                Some(expected) if import.signature.as_ref() != Some(&expected) => Some(format!(
                    "the host's {} has the signature {expected}, the plugin expects {}",
                    import.name,
                    import
                        .signature
                        .as_ref()
                        .map_or_else(|| "a non-function".to_string(), ToString::to_string)
                )),
                Some(_) => None,
            },
            ImportGroup::Wasi => (!wasi).then(|| "WASI is off; turn WASI on".to_string()),
            ImportGroup::Other => Some(format!(
                "no module named {:?} is provided (only extism:host/env, extism:host/user and \
                 wasi_snapshot_preview1)",
                import.module
            )),
        }
    }

    /// Every import this host cannot provide with these settings.
    pub fn unsatisfied_imports(&self, wasi: bool, linked_modules: &[String]) -> Vec<Unsatisfied> {
        self.imports
            .iter()
            .filter_map(|import| {
                Self::import_problem(import, wasi, linked_modules).map(|reason| Unsatisfied {
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

/// Exports that toolchains add and that are not meant to be called as plugin functions.
fn is_runtime_export(name: &str) -> bool {
    matches!(name, "_initialize" | "__wasm_call_ctors" | "hs_init")
}
