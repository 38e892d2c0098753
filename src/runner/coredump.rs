//! Reading a wasm coredump (the tool-conventions format wasmtime writes when a call traps):
//! its stack frames, and per instance the module, the globals' values and the linear memories
//! rebuilt from their data segments. wasmtime 43 does not record locals, so there are none.

use wasmparser::{KnownCustom, Operator, Parser, Payload};

/// What a coredump holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coredump {
    /// The name the runtime gave the process (`extism`).
    pub process: String,
    /// The trapping thread's frames, innermost first.
    pub frames: Vec<CoreFrame>,
    pub instances: Vec<CoreInstance>,
}

/// One frame of the coredump's stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreFrame {
    /// The frame's instance, an index into [`Coredump::instances`].
    pub instance: usize,
    /// The module of the frame's instance.
    pub module: String,
    pub func_index: u32,
    /// The instruction's offset in the function's body.
    pub code_offset: u32,
}

/// One instance: its module, globals and memories.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoreInstance {
    pub module: String,
    /// Global values, by their index in the instance, as text (`i32 1048576`).
    pub globals: Vec<String>,
    pub memories: Vec<CoreMemory>,
}

/// One linear memory's contents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreMemory {
    /// The memory's size in 64 KiB pages when the call trapped.
    pub pages: u64,
    /// Its bytes (zeros where the coredump left runs of zeros out).
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum CoredumpError {
    #[error("not a wasm coredump: {0}")]
    Invalid(String),
    #[error("not a wasm coredump: it has no `core` section")]
    NoCoreSection,
    #[error("the coredump's memory of {pages} pages is larger than this tool opens (4 GiB)")]
    TooLarge { pages: u64 },
}

fn invalid(e: impl std::fmt::Display) -> CoredumpError {
    CoredumpError::Invalid(e.to_string())
}

/// The largest memory opened: 4 GiB, a 32-bit memory's whole range.
const MAX_PAGES: u64 = 65_536;

impl Coredump {
    /// The instance the trapping code ran in (that of the innermost frame): extism also keeps
    /// an instance of the main module for linking, which never runs.
    pub fn trapped_instance(&self) -> Option<&CoreInstance> {
        self.instances.get(self.frames.first()?.instance)
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, CoredumpError> {
        let mut raw = Sections::default();
        for payload in Parser::new(0).parse_all(bytes) {
            raw.read(payload.map_err(invalid)?)?;
        }
        let Sections {
            process,
            modules,
            instances: raw_instances,
            frames: raw_frames,
            memories,
            globals,
        } = raw;
        let process = process.ok_or(CoredumpError::NoCoreSection)?;
        let module_name = |index: u32| {
            modules
                .get(index as usize)
                .cloned()
                .unwrap_or_else(|| format!("module {index}"))
        };
        let instance_modules: Vec<String> = raw_instances
            .iter()
            .map(|i| module_name(i.module_index))
            .collect();
        let frames = raw_frames
            .iter()
            .map(|f| CoreFrame {
                instance: f.instanceidx as usize,
                module: instance_modules
                    .get(f.instanceidx as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("instance {}", f.instanceidx)),
                func_index: f.funcidx,
                code_offset: f.codeoffset,
            })
            .collect();
        let instances = raw_instances
            .iter()
            .zip(instance_modules)
            .map(|(raw, module)| CoreInstance {
                module,
                globals: raw
                    .globals
                    .iter()
                    .map(|g| {
                        globals
                            .get(*g as usize)
                            .cloned()
                            .unwrap_or_else(|| "?".to_string())
                    })
                    .collect(),
                memories: raw
                    .memories
                    .iter()
                    .filter_map(|m| memories.get(*m as usize).cloned())
                    .collect(),
            })
            .collect();
        Ok(Self {
            process,
            frames,
            instances,
        })
    }
}

/// The sections of a coredump, as read.
#[derive(Default)]
struct Sections {
    process: Option<String>,
    modules: Vec<String>,
    instances: Vec<wasmparser::CoreDumpInstance>,
    frames: Vec<wasmparser::CoreDumpStackFrame>,
    memories: Vec<CoreMemory>,
    globals: Vec<String>,
}

impl Sections {
    fn read(&mut self, payload: Payload<'_>) -> Result<(), CoredumpError> {
        match payload {
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(invalid)?;
                    if memory.initial > MAX_PAGES {
                        return Err(CoredumpError::TooLarge {
                            pages: memory.initial,
                        });
                    }
                    let len = usize::try_from(memory.initial * 65_536).map_err(invalid)?;
                    self.memories.push(CoreMemory {
                        pages: memory.initial,
                        bytes: vec![0; len],
                    });
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global.map_err(invalid)?;
                    self.globals.push(const_text(&global.init_expr));
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    self.place(data.map_err(invalid)?)?;
                }
            }
            Payload::CustomSection(reader) => match reader.as_known() {
                KnownCustom::CoreDump(core) => self.process = Some(core.name.to_string()),
                KnownCustom::CoreDumpModules(section) => {
                    self.modules = section.modules.into_iter().map(str::to_string).collect();
                }
                KnownCustom::CoreDumpInstances(section) => self.instances = section.instances,
                KnownCustom::CoreDumpStack(section) => self.frames = section.frames,
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }

    /// Copies an active data segment into the memory it names.
    fn place(&mut self, data: wasmparser::Data<'_>) -> Result<(), CoredumpError> {
        let wasmparser::DataKind::Active {
            memory_index,
            offset_expr,
        } = data.kind
        else {
            return Ok(());
        };
        let offset = const_offset(&offset_expr)
            .ok_or_else(|| invalid("a data segment's offset is not a constant"))?;
        let memory = self
            .memories
            .get_mut(memory_index as usize)
            .ok_or_else(|| invalid("a data segment names no memory"))?;
        let start = usize::try_from(offset).map_err(invalid)?;
        let end = start
            .checked_add(data.data.len())
            .filter(|end| *end <= memory.bytes.len())
            .ok_or_else(|| invalid("a data segment lies outside its memory"))?;
        memory.bytes[start..end].copy_from_slice(data.data);
        Ok(())
    }
}

/// A constant expression's value as text.
fn const_text(expr: &wasmparser::ConstExpr<'_>) -> String {
    let mut reader = expr.get_operators_reader();
    match reader.read() {
        Ok(Operator::I32Const { value }) => format!("i32 {value}"),
        Ok(Operator::I64Const { value }) => format!("i64 {value}"),
        Ok(Operator::F32Const { value }) => format!("f32 {}", f32::from_bits(value.bits())),
        Ok(Operator::F64Const { value }) => format!("f64 {}", f64::from_bits(value.bits())),
        Ok(Operator::V128Const { value }) => format!("v128 {:#034x}", value.i128()),
        Ok(Operator::RefNull { .. }) => "ref.null".to_string(),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("unreadable ({e})"),
    }
}

/// A data segment's offset.
fn const_offset(expr: &wasmparser::ConstExpr<'_>) -> Option<u64> {
    match expr.get_operators_reader().read().ok()? {
        Operator::I32Const { value } => Some(u64::from(value.cast_unsigned())),
        Operator::I64Const { value } => Some(value.cast_unsigned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coredump_of_a_trap_shows_frames_globals_and_memory() {
        // A module that writes a marker into its memory and a global, then traps two calls deep.
        let wat = r#"(module
            (memory (export "memory") 2)
            (global $g (mut i32) (i32.const 0))
            (func $inner (result i32)
                (i32.store (i32.const 70000) (i32.const 0xCAFEBABE))
                (global.set $g (i32.const 77))
                unreachable)
            (func (export "run") (result i32) (call $inner)))"#;
        let path = std::env::temp_dir().join(format!(
            "extism-playground-coredump-test-{}.core",
            std::process::id()
        ));
        let manifest = extism::Manifest::new([extism::Wasm::data(wat::parse_str(wat).unwrap())]);
        let mut plugin = extism::PluginBuilder::new(manifest)
            .with_coredump(&path)
            .build()
            .unwrap();
        plugin.call::<&[u8], &[u8]>("run", b"").unwrap_err();
        let bytes = std::fs::read(&path).expect("extism wrote the coredump");
        let _ = std::fs::remove_file(&path);
        let dump = Coredump::parse(&bytes).unwrap();
        assert_eq!(dump.process, "extism");
        assert!(dump.frames.len() >= 2, "{:?}", dump.frames);
        let main = dump
            .instances
            .iter()
            .find(|i| i.globals.iter().any(|g| g == "i32 77"))
            .expect("the module's instance, with its global set before the trap");
        let memory = &main.memories[0];
        assert_eq!(memory.pages, 2);
        assert_eq!(&memory.bytes[70000..70004], &0xCAFE_BABE_u32.to_le_bytes());
    }

    #[test]
    fn other_bytes_are_not_a_coredump() {
        let plain = wat::parse_str("(module)").unwrap();
        assert!(matches!(
            Coredump::parse(&plain),
            Err(CoredumpError::NoCoreSection)
        ));
        assert!(matches!(
            Coredump::parse(b"not wasm"),
            Err(CoredumpError::Invalid(_))
        ));
    }
}
