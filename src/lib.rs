//! extism-playground: a desktop bench for Extism WebAssembly plugins.
//!
//! - [`runner`]: loading, sandboxing, inspecting and calling plugins (no UI).
//! - [`bundle`]: repro bundles: save, share and replay a scenario; diffs; exported host code.
//! - [`open`]: the one way a plugin is read, reviewed and opened (window, CLI, suites).
//! - [`workbench`]: the model under the window (open plugin, session, runs), with no UI.
//! - [`app`]: the desktop window over the workbench.
//! - [`cli`]: the headless command line over the runner.
//! - [`clock`]: wall-clock time, stored as Unix seconds and written as UTC.
//! - [`samples`]: the sample plugins built into the binary.
//! - [`starter`]: the plugin crates File → New plugin… writes.
//! - [`build`]: `cargo build` of the open plugin's crate, in the background.
//! - [`registry`]: plugins pulled from and pushed to OCI registries, pinned by digest and cached.
//! - [`platform`]: what differs between Linux, macOS and Windows, behind one API.
//! - [`templates`]: the template engine the code generators share (exported host programs,
//!   starter kits), with the templates under `assets/templates` built in.
//! - [`trust`]: consent for what files from others ask of the sandbox.
//! - [`suite`]: test suites (TOML files and bundles) run headless, in parallel, for CI; and
//!   xtp-test plugins run offline against a plugin under test.

pub mod app;
pub mod build;
pub mod bundle;
pub mod cli;
pub mod clock;
pub mod open;
pub mod platform;
pub mod registry;
pub mod runner;
pub mod samples;
pub mod starter;
pub mod suite;
pub mod templates;
pub mod trust;
pub mod workbench;
