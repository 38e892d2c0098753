//! `wasi-demo` (wasm32-wasip1): filesystem access through a preopened guest directory and
//! output on WASI stdout/stderr.

use extism_pdk::{FnResult, plugin_fn};
use std::io::Write;

/// Writes the input to `/data/playground.txt` and returns what reads back from it.
#[plugin_fn]
pub fn write_read(input: String) -> FnResult<String> {
    let path = "/data/playground.txt";
    std::fs::write(path, input.as_bytes())?;
    Ok(std::fs::read_to_string(path)?)
}

/// Returns the contents of the file named by the input (a guest path, e.g. `/data/notes.txt`);
/// the error names the path, so a missing grant is plain to see.
#[plugin_fn]
pub fn read_file(input: String) -> FnResult<String> {
    let path = input.trim();
    std::fs::read_to_string(path).map_err(|e| {
        extism_pdk::Error::msg(format!(
            "cannot read {path}: {e} (is its folder an allowed path?)"
        ))
        .into()
    })
}

/// Prints the input to stdout and one line to stderr.
#[plugin_fn]
pub fn print(input: String) -> FnResult<String> {
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{input}")?;
    stdout.flush()?;
    eprintln!("wasi-demo wrote {} bytes to stdout", input.len());
    Ok(format!("printed {} bytes", input.len()))
}

/// Exits through WASI `proc_exit` with the code given as input.
#[plugin_fn]
pub fn exit_with(input: String) -> FnResult<String> {
    let code: i32 = input
        .trim()
        .parse()
        .map_err(|_| extism_pdk::Error::msg(format!("expected an exit code, got {input:?}")))?;
    std::process::exit(code)
}
