//! extism-playground: a desktop bench for Extism WebAssembly plugins.
//!
//! - [`runner`]: loading, sandboxing, inspecting and calling plugins (no UI).
//! - [`cli`]: the headless command line over the runner.
//! - [`app`]: the desktop window over the runner.
//! - [`samples`]: the sample plugins built into the binary.
//! - [`bundle`]: repro bundles: save, share and replay a scenario.

pub mod app;
pub mod bundle;
pub mod cli;
pub mod runner;
pub mod samples;
