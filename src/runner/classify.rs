//! Sorting a failed call into an [`ErrorKind`] with a message a person can act on. extism tells
//! most failures apart only by their text; every text matched here is a constant below, and the
//! tests provoke each failure with a real extism call, so an extism upgrade that changes one of
//! them fails a test instead of silently filing errors under the wrong kind.

use super::report::{CallError, ErrorKind};

/// extism's whole error when its timer or a cancel interrupts a call.
const TIMEOUT: &str = "timeout";
/// The root cause extism's memory limiter gives when a plugin grows past its maximum.
const OUT_OF_MEMORY: &str = "oom";
/// In the chain of an error when wasmtime's fuel runs out.
const OUT_OF_FUEL: &str = "plugin ran out of fuel";
/// Starts the message wasmtime gives when a WASI module calls `proc_exit`.
const WASI_EXIT: &str = "Exited with i32 exit status";
/// In the chain of an error when the module trapped (the trap and its wasm backtrace).
const TRAP_MARKERS: [&str; 2] = ["wasm trap", "wasm backtrace"];
/// Starts the context wasmtime adds with the backtrace as text; the report carries the
/// frames themselves (`backtrace::frames`), so the message leaves it out.
const BACKTRACE_CONTEXT: &str = "error while executing at wasm backtrace";
/// Starts the context wasmtime adds when it captured a coredump (listing the store's parts);
/// the coredump itself comes with the report.
const COREDUMP_CONTEXT: &str = "wasm coredump generated";
/// Starts extism's error when a function returned a non-zero code without setting an error
/// message (`Plugin::call`; `call_get_error_code` lets such a call pass).
const NON_ZERO_RETURN: &str = "Returned non-zero exit code: ";
/// The return code of a guest that aborted (128 + SIGABRT, as WASI libc reports an abort).
const ABORT_CODE: i32 = 134;

/// The limits a call ran under, named in the messages.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Limits {
    pub timeout_ms: Option<u64>,
    pub memory_max_pages: Option<u32>,
    pub fuel_limit: Option<u64>,
}

/// Sorts extism's error `e` (with the call's return code `rc`) into a kind and a message.
/// `cancelled` says whether the caller asked the call to stop (a cancel and a timeout look the
/// same to extism).
pub(crate) fn classify(e: &extism::Error, rc: i32, cancelled: bool, limits: &Limits) -> CallError {
    let top = e.to_string();
    let root = e.root_cause().to_string();
    let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
    let full = chain.join("\n");
    let message: Vec<&str> = chain
        .iter()
        .filter(|c| !c.starts_with(BACKTRACE_CONTEXT) && !c.starts_with(COREDUMP_CONTEXT))
        .map(String::as_str)
        .collect();
    let message = if message.is_empty() {
        full.clone()
    } else {
        message.join("\n")
    };
    if top == TIMEOUT {
        return if cancelled {
            CallError::new(ErrorKind::Cancelled, "the call was stopped")
        } else {
            let limit = limits
                .timeout_ms
                .map_or_else(|| "its".to_string(), |t| format!("the {t} ms"));
            CallError::new(
                ErrorKind::Timeout,
                format!(
                    "the call ran past {limit} timeout and was interrupted; raise the timeout or make the function faster"
                ),
            )
        };
    }
    if root == OUT_OF_MEMORY {
        let limit = limits.memory_max_pages.map_or_else(
            || "its memory limit".to_string(),
            |p| format!("the limit of {p} pages ({} KiB)", u64::from(p) * 64),
        );
        return CallError::new(
            ErrorKind::OutOfMemory,
            format!(
                "the plugin tried to grow its memory beyond {limit}; raise the memory max or use less memory"
            ),
        );
    }
    if chain.iter().any(|c| c.contains(OUT_OF_FUEL)) {
        let limit = limits
            .fuel_limit
            .map_or_else(String::new, |f| format!(" of {f}"));
        return CallError::new(
            ErrorKind::OutOfFuel,
            format!(
                "the plugin used up its fuel{limit}; raise the fuel limit or do less work per call"
            ),
        );
    }
    if chain.iter().any(|c| c.starts_with(WASI_EXIT)) {
        let mut err = CallError::new(
            ErrorKind::Exit,
            format!("the plugin exited through WASI proc_exit with code {rc}"),
        );
        err.exit_code = Some(rc);
        return err;
    }
    if let Some(code) = top.strip_prefix(NON_ZERO_RETURN) {
        return CallError::new(
            ErrorKind::PluginError,
            format!("the function returned {code} without an error message"),
        );
    }
    if rc == ABORT_CODE || TRAP_MARKERS.iter().any(|m| full.contains(m)) {
        return CallError::new(ErrorKind::Trap, message);
    }
    CallError::new(ErrorKind::PluginError, message)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Calls `function` of the module `wat` built by `build`, expecting a failure.
    fn fail(
        wat: &str,
        function: &str,
        build: impl FnOnce(extism::Manifest) -> extism::PluginBuilder<'static>,
    ) -> (extism::Error, i32) {
        let manifest = extism::Manifest::new([extism::Wasm::data(wat::parse_str(wat).unwrap())]);
        let mut plugin = build(manifest).build().expect("the test module loads");
        plugin
            .call_get_error_code::<&[u8], &[u8]>(function, b"")
            .map(<[u8]>::to_vec)
            .expect_err("the call fails")
    }

    fn plain(manifest: extism::Manifest) -> extism::PluginBuilder<'static> {
        extism::PluginBuilder::new(manifest)
    }

    const SPIN: &str =
        r#"(module (func (export "spin") (result i32) (loop (br 0)) (i32.const 0)))"#;

    #[test]
    fn a_non_zero_return_without_a_message_is_a_plugin_error() {
        let wat = r#"(module (func (export "fail") (result i32) i32.const 3))"#;
        let manifest = extism::Manifest::new([extism::Wasm::data(wat::parse_str(wat).unwrap())]);
        let mut plugin = plain(manifest).build().unwrap();
        // `call_get_error_code` lets it pass; `call` (as xtp test plugins are called) does not.
        assert!(
            plugin
                .call_get_error_code::<&[u8], &[u8]>("fail", b"")
                .is_ok()
        );
        let e = plugin.call::<&[u8], &[u8]>("fail", b"").unwrap_err();
        assert!(
            e.to_string().starts_with(NON_ZERO_RETURN),
            "extism's text changed: {e}"
        );
        let error = classify(&e, -1, false, &Limits::default());
        assert_eq!(error.kind, ErrorKind::PluginError);
        assert_eq!(
            error.message,
            "the function returned 3 without an error message"
        );
    }

    #[test]
    fn a_timeout_is_named_with_its_limit() {
        let (e, rc) = fail(SPIN, "spin", |m| {
            plain(m.with_timeout(Duration::from_millis(30)))
        });
        assert_eq!(e.to_string(), TIMEOUT, "extism's timeout text changed");
        let limits = Limits {
            timeout_ms: Some(30),
            ..Limits::default()
        };
        let error = classify(&e, rc, false, &limits);
        assert_eq!(error.kind, ErrorKind::Timeout);
        assert!(error.message.contains("30 ms"), "{}", error.message);
        // The same error after a Stop is a cancel.
        assert_eq!(classify(&e, rc, true, &limits).kind, ErrorKind::Cancelled);
    }

    #[test]
    fn a_cancel_looks_like_a_timeout_to_extism() {
        let manifest = extism::Manifest::new([extism::Wasm::data(wat::parse_str(SPIN).unwrap())]);
        let mut plugin = plain(manifest).build().unwrap();
        let handle = plugin.cancel_handle();
        let canceller = std::thread::Builder::new()
            .name("test-cancel".into())
            .spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                handle.cancel().unwrap();
            })
            .unwrap();
        let (e, rc) = plugin
            .call_get_error_code::<&[u8], &[u8]>("spin", b"")
            .map(<[u8]>::to_vec)
            .unwrap_err();
        canceller.join().unwrap();
        assert_eq!(e.to_string(), TIMEOUT, "extism's cancel text changed");
        assert_eq!(
            classify(&e, rc, true, &Limits::default()).kind,
            ErrorKind::Cancelled
        );
    }

    #[test]
    fn growing_past_the_memory_max_is_out_of_memory() {
        let wat = r#"(module (memory (export "memory") 1)
            (func (export "grow") (result i32) (drop (memory.grow (i32.const 64))) (i32.const 0)))"#;
        let (e, rc) = fail(wat, "grow", |m| plain(m.with_memory_max(4)));
        assert_eq!(
            e.root_cause().to_string(),
            OUT_OF_MEMORY,
            "extism's out-of-memory text changed: {e:#}"
        );
        let limits = Limits {
            memory_max_pages: Some(4),
            ..Limits::default()
        };
        let error = classify(&e, rc, false, &limits);
        assert_eq!(error.kind, ErrorKind::OutOfMemory);
        assert!(
            error.message.contains("4 pages (256 KiB)"),
            "{}",
            error.message
        );
    }

    #[test]
    fn running_out_of_fuel_is_named_with_its_limit() {
        let (e, rc) = fail(SPIN, "spin", |m| plain(m).with_fuel_limit(10_000));
        assert!(
            e.chain().any(|c| c.to_string().contains(OUT_OF_FUEL)),
            "wasmtime's out-of-fuel text changed: {e:#}"
        );
        let limits = Limits {
            fuel_limit: Some(10_000),
            ..Limits::default()
        };
        let error = classify(&e, rc, false, &limits);
        assert_eq!(error.kind, ErrorKind::OutOfFuel);
        assert!(error.message.contains("of 10000"), "{}", error.message);
    }

    #[test]
    fn proc_exit_is_an_exit_with_its_code() {
        let wat = r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (func (export "quit") (result i32) (call $exit (i32.const 3)) (i32.const 0)))"#;
        let (e, rc) = fail(wat, "quit", |m| plain(m).with_wasi(true));
        assert!(
            e.chain().any(|c| c.to_string().starts_with(WASI_EXIT)),
            "wasmtime's proc_exit text changed: {e:#}"
        );
        let error = classify(&e, rc, false, &Limits::default());
        assert_eq!(error.kind, ErrorKind::Exit);
        assert_eq!(error.exit_code, Some(3));
    }

    #[test]
    fn unreachable_is_a_trap_and_its_message_leaves_the_backtrace_to_the_frames() {
        let wat = r#"(module (func (export "boom") (result i32) unreachable))"#;
        let (e, rc) = fail(wat, "boom", plain);
        let full: Vec<String> = e.chain().map(ToString::to_string).collect();
        assert!(
            TRAP_MARKERS.iter().all(|m| full.join("\n").contains(m)),
            "wasmtime's trap text changed: {full:?}"
        );
        assert!(
            full.iter().any(|c| c.starts_with(BACKTRACE_CONTEXT)),
            "wasmtime's backtrace context changed: {full:?}"
        );
        let error = classify(&e, rc, false, &Limits::default());
        assert_eq!(error.kind, ErrorKind::Trap, "{}", error.message);
        assert_eq!(
            error.message,
            "wasm trap: wasm `unreachable` instruction executed"
        );
    }

    #[test]
    fn an_error_the_plugin_sets_is_a_plugin_error_with_its_text() {
        // Writes "boom" into Extism memory and hands it to error_set, as a PDK does.
        let wat = r#"(module
            (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
            (import "extism:host/env" "store_u8" (func $store (param i64 i32)))
            (import "extism:host/env" "error_set" (func $error (param i64)))
            (func (export "fail") (result i32) (local $p i64)
                (local.set $p (call $alloc (i64.const 4)))
                (call $store (local.get $p) (i32.const 98))
                (call $store (i64.add (local.get $p) (i64.const 1)) (i32.const 111))
                (call $store (i64.add (local.get $p) (i64.const 2)) (i32.const 111))
                (call $store (i64.add (local.get $p) (i64.const 3)) (i32.const 109))
                (call $error (local.get $p))
                (i32.const 1)))"#;
        let (e, rc) = fail(wat, "fail", plain);
        let error = classify(&e, rc, false, &Limits::default());
        assert_eq!(error.kind, ErrorKind::PluginError);
        assert_eq!(error.message, "boom");
    }
}
