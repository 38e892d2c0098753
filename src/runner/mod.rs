//! The plugin runner: everything about loading, sandboxing, inspecting and calling Extism plugins,
//! with no knowledge of any user interface. The GUI (`crate::app`) and the CLI (`crate::cli`) are
//! two front ends over it.
//!
//! - [`source`]: where a plugin comes from (a .wasm file, bytes, an Extism manifest) and the
//!   manifest JSON that goes back out.
//! - [`options`]: the sandbox options a user sets.
//! - [`inspect`]: what a module exports and imports, read without running it.
//! - [`host`]: the host functions offered to plugins and the data they serve.
//! - [`session`]: the caller's side: a loaded plugin with its options, and calls on it.
//! - [`worker`]: the child process that actually runs plugin code.
//! - [`report`]: what one call did.

mod capture;
pub mod error;
pub mod host;
pub mod inspect;
pub mod options;
mod protocol;
pub mod report;
pub mod session;
pub mod source;
pub mod worker;

pub use error::{LoadError, Result};
pub use host::HostData;
pub use inspect::Inspection;
pub use options::{AllowedPath, SandboxOptions};
pub use report::{CallReport, ErrorKind, LogEntry, LogLevel, LogSource};
pub use session::{CallHandle, CallRequest, Canceller, Session, WorkerConfig};
pub use source::{LoadedPlugin, PluginModule};
