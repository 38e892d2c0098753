//! The integration tests, in one binary: each `tests/*.rs` file would link the whole library
//! again (wasmtime, egui, tokio), so every area is a module here and the helpers are shared
//! from [`common`].
//!
//! - [`runner`]: the runner end to end through real worker processes.
//! - [`cli`]: the binary's `call` and `inspect`, with exact exit codes.
//! - [`workbench`]: the window's model driven by commands, without a window.
//! - [`gui`]: the real window driven through `egui_kittest`.
//! - [`host_functions`]: user-defined host functions, mocks and scripts.
//! - [`postmortem`]: traps at their source line, coredumps, the limit finder.
//! - [`bundle`]: repro bundles, replay and the exported host code.
//! - [`suites`]: test suites and scenarios as CI runs them.
//! - [`xtp`]: xtp-test plugins run offline.
//! - [`registry`]: plugins from a real OCI registry on 127.0.0.1.
//! - [`author`]: the author's loop with real cargo builds.
//! - [`install`]: man page, completions, desktop entry and package metadata.
//! - [`layers`]: imports go only down the layers ARCHITECTURE.md lists.
//! - [`hostile`]: files, flags and servers made by someone who wants the app to misbehave.
//!
//! Run one area with `cargo test --test it gui::`, one case by its name.

mod common;

mod author;
mod bundle;
mod cli;
mod gui;
mod host_functions;
#[cfg(unix)]
mod hostile;
mod install;
mod layers;
mod postmortem;
mod registry;
mod runner;
mod suites;
mod workbench;
mod xtp;
