//! The command line: flags parsed into a validated call, then run headless over the runner;
//! bundles saved and replayed. Plugin output goes to stdout as raw bytes, logs and errors to
//! stderr. Exit codes: 0 success (or a replay that matches), 1 the plugin failed (or a replay
//! that does not match), 2 usage or load error, or a file whose grants need consent (`--trust`,
//! `--no-grants`).

mod args;
mod call;
mod inspect;
mod plugin;
mod push;
mod replay;
mod report;
mod test;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::runner::{CallReport, ErrorKind};

pub use args::{
    CallArgs, Cli, Command, CompletionsArgs, ConsentArgs, ConsentNeeded, HostFnArgs, InspectArgs,
    PushArgs, RegistryArgs, ReplayArgs, SandboxArgs, TestArgs,
};
use call::call;
use inspect::inspect;
pub use inspect::render_inspection;
pub use plugin::open_file;
use push::push;
use replay::replay;
use test::test;

/// Exit code: the plugin failed.
pub const EXIT_PLUGIN_FAILED: u8 = 1;

/// Exit code: bad usage, or the plugin could not be loaded.
pub const EXIT_USAGE: u8 = 2;

/// Runs a headless command and returns the process exit code.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Call(args) => call(&args),
        Command::Inspect(args) => match inspect(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => usage_error(&e),
        },
        Command::Replay(args) => replay(&args),
        Command::Test(args) => test(&args),
        Command::Push(args) => push(&args),
        Command::Completions(args) => {
            print_completions(args.shell, &mut std::io::stdout());
            ExitCode::SUCCESS
        }
    }
}

/// Writes `shell`'s completion script for this command line to `out`.
pub fn print_completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "extism-playground", out);
}

fn usage_error(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    ExitCode::from(EXIT_USAGE)
}

fn key_value(s: &str, what: &str) -> anyhow::Result<(String, String)> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .with_context(|| format!("{what} {s:?} is not KEY=VALUE"))
}

/// The registry reference `arg` names, if it names one.
fn reference_of(arg: &Path) -> Option<crate::registry::Reference> {
    arg.to_str()
        .filter(|text| crate::registry::is_reference(text))
        .and_then(|text| text.parse().ok())
}

fn exit_code(report: &CallReport) -> ExitCode {
    match report.error_kind() {
        None => ExitCode::SUCCESS,
        Some(ErrorKind::Load) => ExitCode::from(EXIT_USAGE),
        Some(_) => ExitCode::from(EXIT_PLUGIN_FAILED),
    }
}
