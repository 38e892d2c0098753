//! `chaos`: every way a plugin can misbehave, on purpose, so the host's limits and error
//! reporting can be seen and tested.

use extism_pdk::{Error, FnResult, info, plugin_fn};
use std::hint::black_box;

fn parse_count(input: &str, what: &str) -> FnResult<usize> {
    input
        .trim()
        .parse()
        .map_err(|_| Error::msg(format!("expected a number of {what}, got {input:?}")).into())
}

/// Never returns: only a timeout or a cancel stops it.
#[plugin_fn]
pub fn spin(_: ()) -> FnResult<String> {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Allocates (and touches) the number of MiB given as input.
#[plugin_fn]
pub fn alloc(input: String) -> FnResult<String> {
    let mib = parse_count(&input, "MiB")?;
    let mut block = vec![0u8; mib * 1024 * 1024];
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    black_box(&block);
    Ok(format!("allocated {mib} MiB"))
}

/// Executes `unreachable`.
#[plugin_fn]
pub fn trap(_: ()) -> FnResult<String> {
    core::arch::wasm32::unreachable()
}

/// Panics (which aborts the instance).
#[plugin_fn]
pub fn panic(_: ()) -> FnResult<String> {
    panic!("chaos: deliberate panic")
}

#[inline(never)]
#[allow(unconditional_recursion, reason = "it overflows the stack on purpose")]
fn recurse(depth: u64, pad: [u8; 256]) -> u64 {
    let pad = black_box(pad);
    black_box(recurse(depth + 1, pad)) + u64::from(pad[0])
}

/// Recurses until the stack is exhausted.
#[plugin_fn]
pub fn stack_overflow(_: ()) -> FnResult<String> {
    Ok(recurse(0, [1; 256]).to_string())
}

/// Returns the number of MiB given as input, filled with a repeating pattern.
#[plugin_fn]
pub fn huge_output(input: String) -> FnResult<Vec<u8>> {
    let mib = parse_count(&input, "MiB")?;
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_\n";
    let len = mib * 1024 * 1024;
    Ok(line.iter().copied().cycle().take(len).collect())
}

/// Logs the number of lines given as input at info level.
#[plugin_fn]
pub fn log_flood(input: String) -> FnResult<String> {
    let lines = parse_count(&input, "lines")?;
    for i in 0..lines {
        info!("log_flood line {i}");
    }
    Ok(format!("logged {lines} lines"))
}

/// Returns an Extism error with a message.
#[plugin_fn]
pub fn error_return(_: ()) -> FnResult<String> {
    Err(Error::msg("chaos: the plugin reported an error on purpose").into())
}
