//! The plugin runner: everything about loading, sandboxing, inspecting and calling Extism plugins,
//! with no knowledge of any user interface. The window (`crate::app` over `crate::workbench`)
//! and the CLI (`crate::cli`) are front ends over it.
//!
//! - [`source`]: where a plugin comes from (a .wasm file, bytes, an Extism manifest) and the
//!   manifest JSON that goes back out.
//! - [`options`]: the sandbox options a user sets.
//! - [`inspect`]: what a module exports and imports, read without running it.
//! - [`host`]: the one table of host functions offered to plugins, and the data they serve.
//! - [`session`]: the caller's side: a plugin with its options, and calls on it.
//! - [`worker`]: the child process that actually runs plugin code.
//! - [`report`]: what one call did.
//! - [`backtrace`]: a failed call's frames, at the source line when the module has DWARF.
//! - [`coredump`]: reading the wasm coredump of a trap (frames, globals, memory).
//! - [`limits`]: the smallest memory and fuel a call needs, found by probing.
//! - `memory` (private, the one `unsafe` module): linear memories that report their size.
//! - [`error`]: what stops a plugin from loading or a call from being made.
//! - `classify` (private): extism's errors sorted into [`ErrorKind`]s.
//! - `protocol` (private): the frames between a session and its worker.
//! - `channel` (private): the stream those frames travel on, which no other process can take
//!   (a socket pair on Unix, a token-checked loopback connection on Windows).
//! - `capture` (private): the worker's collection of logs and host calls, and the markers
//!   around each call's WASI output.
//! - `output` (private): the session's reading of that output from the worker's stdout and
//!   stderr.

pub mod backtrace;
mod capture;
mod channel;
mod classify;
pub mod coredump;
pub mod error;
pub mod host;
pub mod inspect;
pub mod limits;
mod memory;
pub mod options;
mod output;
mod protocol;
pub mod report;
pub mod session;
pub mod source;
pub mod worker;

pub use error::{LoadError, Result};
pub use host::{HostData, HostRegistry};
pub use inspect::Inspection;
pub use options::{AllowedPath, SandboxOptions};
pub use report::{Assertion, CallReport, ErrorKind, LogEntry, LogLevel, LogSource};
pub use session::{
    Call, CallRequest, Canceller, Phase, PluginUnderTest, Session, WorkerConfig,
    unsatisfied_imports,
};
pub use source::{LoadedPlugin, PluginModule};
