//! Entry point: parse the command line, then run a headless command, a worker, or the window.

use std::process::ExitCode;

use clap::Parser as _;
use extism_playground::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Worker) => extism_playground::runner::worker::serve(),
        Some(command) => extism_playground::cli::run(command),
        None => {
            // TODO(gui): the window lands with the desktop issue; until then, explain usage.
            let _ = <Cli as clap::CommandFactory>::command().print_help();
            ExitCode::from(extism_playground::cli::EXIT_USAGE)
        }
    }
}
