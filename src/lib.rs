//! extism-playground: a desktop bench for Extism WebAssembly plugins.
//!
//! - [`runner`]: loading, sandboxing, inspecting and calling plugins (no UI).
//! - [`cli`]: the headless command line over the runner.

pub mod cli;
pub mod runner;
