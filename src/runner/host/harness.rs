//! The `xtp:test/harness` host functions: what an xtp-test plugin imports to drive the plugin
//! under test and to report assertions. [`HARNESS`] is the one table of them (names,
//! signatures, what each does): the loader checks a test plugin's imports against it
//! ([`import_problems`]) and the worker links it ([`link`]).
//!
//! A test plugin is an Extism plugin exporting `test`; the worker calls it once per run, with
//! the plugin under test compiled beside it (once per load) and instantiated afresh for the run.
//! Every offset is an Extism memory block of the *test* plugin; offset 0 is empty bytes; every
//! block the harness returns is new, and the test plugin owns it. What the xtp CLI's own runner
//! does is not written down where these choices had to be made; this host's choices are:
//!
//! - `call(name, input) -> output`: calls the plugin under test on its current instance (its
//!   state carries over between calls until a `reset`) and returns its output (0 when empty).
//!   A call that fails (not exported, a plugin error, a trap, a timeout, a host function of the
//!   plugin under test that failed) does not trap the test plugin: the harness records a failed
//!   assertion named `call NAME` (in the current group) whose message says why, logs it, and
//!   returns 0. After anything but a plain plugin error the instance is replaced by a fresh one,
//!   since its state cannot be trusted.
//! - `time(name, input) -> ns`: the same call, output dropped; returns the nanoseconds spent in
//!   the plugin call (extism copying the input in included, copying the output out not). A failure is recorded as
//!   `time NAME` and returns 0.
//! - `assert(name, value, reason)`: records an assertion in the current group: passed when
//!   `value` is not 0. The reason is kept either way (reports show it for failures).
//! - `group(name)`: assertions from here on belong to `name`, until the next `group`, the next
//!   `reset`, or the end of the run. The guest libraries call `reset` before and after a group's
//!   body, so assertions made after a group are not filed under it.
//! - `reset()`: gives the plugin under test the world the run started with: a fresh instance
//!   (vars, globals, memory and WASI state cleared), fresh mock-host plugins, and the kv store as
//!   the run began. Also ends the current group.
//! - `mock_input() -> bytes`: the mock input given for the run (a new block on every call), or
//!   0 when none was given (an empty input is also 0: the guest cannot tell them apart).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use extism::{CurrentPlugin, Function, UserData, Val};

use super::bytes::{Bytes, summary_of};
use super::script::Control;
use super::{HostContext, WasmType};
use crate::runner::classify::{Limits, classify};
use crate::runner::inspect::{Inspection, ItemKind, Signature};
use crate::runner::report::{Assertion, CallError, ErrorKind, LogLevel, LogSource};

/// The import module of the harness.
pub const XTP_HARNESS: &str = "xtp:test/harness";

/// How many characters of an argument a host-call record keeps.
const ARG_SUMMARY_CHARS: usize = 60;

/// The harness functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HarnessFn {
    Call,
    Time,
    Assert,
    Group,
    Reset,
    MockInput,
}

/// One row of the harness table.
#[derive(Debug)]
pub struct HarnessSpec {
    pub function: HarnessFn,
    pub name: &'static str,
    pub params: &'static [WasmType],
    pub results: &'static [WasmType],
    /// One line for people.
    pub description: &'static str,
}

impl HarnessSpec {
    /// The signature in the form inspections show.
    pub fn signature(&self) -> Signature {
        super::signature_of(self.params, self.results)
    }
}

use WasmType::I64;

/// Every function of `xtp:test/harness`. Offsets are `i64`s, as the guest libraries declare
/// them.
pub const HARNESS: &[HarnessSpec] = &[
    HarnessSpec {
        function: HarnessFn::Call,
        name: "call",
        params: &[I64, I64],
        results: &[I64],
        description: "call(name, input) -> output: calls the plugin under test",
    },
    HarnessSpec {
        function: HarnessFn::Time,
        name: "time",
        params: &[I64, I64],
        results: &[I64],
        description: "time(name, input) -> ns: calls the plugin under test and returns how long it took",
    },
    HarnessSpec {
        function: HarnessFn::Assert,
        name: "assert",
        params: &[I64, I64, I64],
        results: &[],
        description: "assert(name, value, reason): records an assertion, passed when value is not 0",
    },
    HarnessSpec {
        function: HarnessFn::Group,
        name: "group",
        params: &[I64],
        results: &[],
        description: "group(name): files the assertions that follow under this group",
    },
    HarnessSpec {
        function: HarnessFn::Reset,
        name: "reset",
        params: &[],
        results: &[],
        description: "reset(): a fresh instance of the plugin under test (and of its mock hosts, and the kv store as the run began)",
    },
    HarnessSpec {
        function: HarnessFn::MockInput,
        name: "mock_input",
        params: &[],
        results: &[I64],
        description: "mock_input() -> bytes: the run's mock input, or 0 when none was given",
    },
];

/// The names the harness offers, for messages.
fn offered() -> String {
    HARNESS
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the plugin inspected is an xtp-test plugin: it imports from `xtp:test/harness`, so
/// it runs against a plugin under test, not on its own.
pub fn imports_harness(inspection: &Inspection) -> bool {
    inspection.imports.iter().any(|i| i.module == XTP_HARNESS)
}

/// Why each of `inspection`'s imports from `xtp:test/harness` cannot be linked, one line each
/// (empty when all can).
pub fn import_problems(inspection: &Inspection) -> Vec<String> {
    inspection
        .imports
        .iter()
        .filter(|i| i.module == XTP_HARNESS)
        .filter_map(|import| {
            let Some(spec) = HARNESS.iter().find(|s| s.name == import.name) else {
                return Some(format!(
                    "{XTP_HARNESS}::{}: the harness has no such function (it offers {})",
                    import.name,
                    offered()
                ));
            };
            let expected = spec.signature();
            let actual = import
                .signature
                .as_ref()
                .filter(|_| import.kind == ItemKind::Func);
            if actual == Some(&expected) {
                return None;
            }
            let actual = actual.map_or_else(
                || format!("a {}", import.kind.as_str()),
                ToString::to_string,
            );
            Some(
                if spec.function == HarnessFn::Assert && actual == "(i64, i64)" {
                    format!(
                        "{XTP_HARNESS}::assert is imported as (i64, i64): the test plugin was built \
                         with an xtp-test library from before assertions carried a reason \
                         (xtp-test-rust before 0.0.1-rc4, xtp-test-js before its PR #5); rebuild it \
                         with a current xtp-test, whose assert is {expected}"
                    )
                } else {
                    format!(
                        "{XTP_HARNESS}::{} is imported as {actual}, but the harness's is {expected}",
                        spec.name
                    )
                },
            )
        })
        .collect()
}

/// The plugin under test as the worker keeps it between runs: compiled once per load.
pub(crate) struct UnderTest {
    /// Its name, for messages.
    pub label: String,
    /// The functions it exports that can be called.
    pub callable: Vec<String>,
    pub compiled: extism::CompiledPlugin,
    pub limits: Limits,
    pub mock_input: Option<Vec<u8>>,
}

/// A run of `test` in progress: the instance under test and what the harness collected.
pub(crate) struct XtpRun {
    under_test: Arc<UnderTest>,
    /// The mock-host plugins of the plugin under test, compiled: `reset` instantiates them anew.
    mocks: Arc<Vec<(String, extism::CompiledPlugin)>>,
    /// `None` while a call has it, or when the last reset could not make one.
    target: Option<extism::Plugin>,
    /// Why there is no instance, when a reset could not make one.
    target_error: Option<String>,
    /// The kv store as the run began.
    initial_kv: BTreeMap<String, Bytes>,
    group: Option<String>,
    assertions: Vec<Assertion>,
    started: Instant,
    /// The worker's stop flag (a stopped call is not a timeout).
    control: Arc<Control>,
    /// Where the worker finds the instance under test's cancel handle, to stop it on Stop.
    cancel: Arc<Mutex<Option<extism::CancelHandle>>>,
}

impl XtpRun {
    pub fn new(
        under_test: Arc<UnderTest>,
        mocks: Arc<Vec<(String, extism::CompiledPlugin)>>,
        initial_kv: BTreeMap<String, Bytes>,
        control: Arc<Control>,
        cancel: Arc<Mutex<Option<extism::CancelHandle>>>,
    ) -> Self {
        Self {
            under_test,
            mocks,
            target: None,
            target_error: None,
            initial_kv,
            group: None,
            assertions: Vec::new(),
            started: Instant::now(),
            control,
            cancel,
        }
    }

    /// The assertions made so far, handed over.
    pub fn take_assertions(&mut self) -> Vec<Assertion> {
        std::mem::take(&mut self.assertions)
    }

    fn record(&mut self, name: String, passed: bool, message: String) {
        self.assertions.push(Assertion {
            group: self.group.clone(),
            name,
            passed,
            message,
            offset_us: u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX),
        });
    }
}

/// Instantiates the plugin under test afresh (and, with `mocks`, its mock-host plugins), as a
/// run starts and on `reset`. A failure is kept: the next call says why.
pub(crate) fn fresh_instance(ctx: &mut HostContext, mocks: bool) {
    let Some(run) = ctx.xtp.as_mut() else { return };
    run.target = None;
    let made = extism::Plugin::new_from_compiled(&run.under_test.compiled);
    match made {
        Ok(plugin) => {
            *run.cancel
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(plugin.cancel_handle());
            ctx.recorder.set_under_test_id(Some(plugin.id.to_string()));
            run.target = Some(plugin);
            run.target_error = None;
        }
        Err(e) => {
            run.target_error = Some(format!(
                "cannot instantiate {}: {e:#}",
                run.under_test.label
            ));
        }
    }
    if !mocks {
        return;
    }
    let mut instances = std::collections::HashMap::new();
    for (sha, compiled) in run.mocks.iter() {
        match extism::Plugin::new_from_compiled(compiled) {
            Ok(mock) => {
                instances.insert(sha.clone(), mock);
            }
            Err(e) => {
                run.target = None;
                run.target_error = Some(format!("cannot instantiate a mock-host plugin: {e:#}"));
            }
        }
    }
    ctx.recorder
        .set_mock_ids(instances.values().map(|m| m.id.to_string()).collect());
    ctx.mocks = instances;
    ctx.data.kv.clone_from(&run.initial_kv);
    ctx.kv_bytes = super::kv_bytes(&ctx.data.kv);
}

/// Runs `f` on the host context and the run in progress.
fn with_run<T>(
    ctx: &UserData<HostContext>,
    f: impl FnOnce(&mut HostContext) -> Result<T, extism::Error>,
) -> Result<T, extism::Error> {
    let ctx = ctx.get()?;
    let mut ctx = ctx
        .lock()
        .map_err(|_| extism::Error::msg("host state is poisoned"))?;
    if ctx.xtp.is_none() {
        return Err(extism::Error::msg(format!(
            "{XTP_HARNESS} is only available while an xtp test runs"
        )));
    }
    f(&mut ctx)
}

fn run_of(ctx: &mut HostContext) -> &mut XtpRun {
    ctx.xtp.as_mut().expect("with_run checked there is a run")
}

/// Calls `name` on the plugin under test, with the host context unlocked meanwhile (its host
/// functions need it). Returns the output or why the call failed, and the time in the call.
fn call_under_test(
    ctx: &UserData<HostContext>,
    name: &str,
    input: &[u8],
) -> Result<(Result<Vec<u8>, CallError>, Duration), extism::Error> {
    let (target, under_test, control) = with_run(ctx, |ctx| {
        let run = run_of(ctx);
        let target = match run.target.take() {
            Some(target) => Ok(target),
            None => Err(run
                .target_error
                .clone()
                .unwrap_or_else(|| format!("{} has no instance", run.under_test.label))),
        };
        Ok((
            target,
            Arc::clone(&run.under_test),
            Arc::clone(&run.control),
        ))
    })?;
    let mut target = match target {
        Ok(target) => target,
        Err(why) => return Ok((Err(CallError::new(ErrorKind::Load, why)), Duration::ZERO)),
    };
    if !under_test.callable.iter().any(|f| f == name) {
        with_run(ctx, |ctx| {
            run_of(ctx).target = Some(target);
            Ok(())
        })?;
        let exported = if under_test.callable.is_empty() {
            "nothing callable".to_string()
        } else {
            under_test.callable.join(", ")
        };
        return Ok((
            Err(CallError::new(
                ErrorKind::Load,
                format!(
                    "function `{name}` is not exported by {}; exported: {exported}",
                    under_test.label
                ),
            )),
            Duration::ZERO,
        ));
    }
    // Host functions of the plugin under test (scripts) stop at its per-call timeout, not the
    // test plugin's; the test plugin's deadline is put back after.
    let deadline = under_test
        .limits
        .timeout_ms
        .map(|t| Instant::now() + Duration::from_millis(t));
    let outer = std::mem::replace(&mut *super::script::lock(&control.deadline), deadline);
    let started = Instant::now();
    let result = target.call_get_error_code::<&[u8], &[u8]>(name, input);
    let elapsed = started.elapsed();
    let result = result.map(<[u8]>::to_vec);
    *super::script::lock(&control.deadline) = outer;
    with_run(ctx, |ctx| {
        let result = result.map_err(|(e, rc)| {
            // A host function of the plugin under test that failed says why better than the
            // trap it caused; it is not the test plugin's failure.
            match ctx.failure.take() {
                Some(failure) => CallError::new(failure.kind, failure.message),
                None => classify(
                    &e,
                    rc,
                    control.cancel.load(std::sync::atomic::Ordering::SeqCst),
                    &under_test.limits,
                ),
            }
        });
        run_of(ctx).target = Some(target);
        if result
            .as_ref()
            .is_err_and(|e| e.kind != ErrorKind::PluginError)
        {
            fresh_instance(ctx, false);
        }
        Ok((result, elapsed))
    })
}

/// Reads the bytes at offset `val` of the test plugin's memory (0 is empty).
fn read(plugin: &mut CurrentPlugin, val: &Val) -> Result<Vec<u8>, extism::Error> {
    let bytes: &[u8] = plugin.memory_get_val(val)?;
    Ok(bytes.to_vec())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A new block holding `bytes` in the test plugin's memory (0 when empty).
fn write(plugin: &mut CurrentPlugin, bytes: &[u8]) -> Result<Val, extism::Error> {
    let handle = plugin.memory_new(bytes)?;
    Ok(plugin.memory_to_val(handle))
}

fn arg(inputs: &[Val], i: usize) -> Result<&Val, extism::Error> {
    inputs
        .get(i)
        .ok_or_else(|| extism::Error::msg("missing argument"))
}

/// Runs one harness function; returns the summaries of its arguments and result for the
/// host-call record.
fn dispatch(
    function: HarnessFn,
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
    ctx: &UserData<HostContext>,
) -> Result<(String, String), extism::Error> {
    let summary = |b: &[u8]| summary_of(b, ARG_SUMMARY_CHARS);
    match function {
        HarnessFn::Call | HarnessFn::Time => {
            let name = text(&read(plugin, arg(inputs, 0)?)?);
            let input = read(plugin, arg(inputs, 1)?)?;
            let args = format!("{}, {}", summary(name.as_bytes()), summary(&input));
            let (result, elapsed) = call_under_test(ctx, &name, &input)?;
            let verb = if function == HarnessFn::Call {
                "call"
            } else {
                "time"
            };
            match result {
                Ok(output) => {
                    let (out, shown) = if function == HarnessFn::Call {
                        (write(plugin, &output)?, summary(&output))
                    } else {
                        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
                        (Val::I64(ns.cast_signed()), format!("{ns} ns"))
                    };
                    if let Some(slot) = outputs.first_mut() {
                        *slot = out;
                    }
                    Ok((args, shown))
                }
                Err(error) => {
                    let message = format!("the call failed ({}): {}", error.kind, error.message);
                    with_run(ctx, |ctx| {
                        ctx.recorder.log(
                            LogLevel::Warn,
                            LogSource::Host,
                            &format!("{verb} {name}: {message}"),
                        );
                        run_of(ctx).record(format!("{verb} {name}"), false, message.clone());
                        Ok(())
                    })?;
                    if let Some(slot) = outputs.first_mut() {
                        *slot = Val::I64(0);
                    }
                    Ok((args, format!("error: {message}")))
                }
            }
        }
        HarnessFn::Assert => {
            let name = text(&read(plugin, arg(inputs, 0)?)?);
            let passed = arg(inputs, 1)?.i64().unwrap_or(0) != 0;
            let reason = text(&read(plugin, arg(inputs, 2)?)?);
            let args = format!(
                "{}, {}, {}",
                summary(name.as_bytes()),
                u8::from(passed),
                summary(reason.as_bytes())
            );
            with_run(ctx, |ctx| {
                run_of(ctx).record(name, passed, reason);
                Ok(())
            })?;
            Ok((args, if passed { "passed" } else { "failed" }.to_string()))
        }
        HarnessFn::Group => {
            let name = text(&read(plugin, arg(inputs, 0)?)?);
            let args = summary(name.as_bytes());
            with_run(ctx, |ctx| {
                run_of(ctx).group = Some(name);
                Ok(())
            })?;
            Ok((args, "ok".to_string()))
        }
        HarnessFn::Reset => {
            let made = with_run(ctx, |ctx| {
                run_of(ctx).group = None;
                fresh_instance(ctx, true);
                Ok(run_of(ctx).target_error.clone())
            })?;
            Ok((
                String::new(),
                made.map_or_else(|| "ok".to_string(), |e| format!("error: {e}")),
            ))
        }
        HarnessFn::MockInput => {
            let input = with_run(ctx, |ctx| Ok(run_of(ctx).under_test.mock_input.clone()))?;
            let (out, shown) = match input {
                Some(bytes) => (write(plugin, &bytes)?, summary(&bytes)),
                None => (Val::I64(0), "none".to_string()),
            };
            if let Some(slot) = outputs.first_mut() {
                *slot = out;
            }
            Ok((String::new(), shown))
        }
    }
}

/// The harness as extism functions bound to `ctx`, for the test plugin's linker. Each call is
/// recorded as a host call of the run.
pub(crate) fn link(ctx: &UserData<HostContext>) -> Vec<Function> {
    HARNESS
        .iter()
        .map(|spec| {
            let function = spec.function;
            let shown = format!("{XTP_HARNESS}::{}", spec.name);
            Function::new(
                spec.name,
                spec.params.iter().map(|t| t.to_extism()),
                spec.results.iter().map(|t| t.to_extism()),
                ctx.clone(),
                move |plugin: &mut CurrentPlugin,
                      inputs: &[Val],
                      outputs: &mut [Val],
                      ctx: UserData<HostContext>| {
                    let started = Instant::now();
                    let outcome = dispatch(function, plugin, inputs, outputs, &ctx);
                    let (args, result) = match &outcome {
                        Ok((args, result)) => (args.clone(), result.clone()),
                        Err(e) => (String::new(), format!("error: {e:#}")),
                    };
                    if let Ok(ctx) = ctx.get()
                        && let Ok(ctx) = ctx.lock()
                        && ctx.recorder.wants_host_calls()
                    {
                        ctx.recorder.host_call(&shown, args, result, started);
                    }
                    outcome.map(|_| ())
                },
            )
            .with_namespace(XTP_HARNESS)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_plugin(imports: &str) -> Inspection {
        let wat = format!(r#"(module {imports} (func (export "test") (result i32) i32.const 0))"#);
        Inspection::of("test.wasm", &wat::parse_str(wat).unwrap()).unwrap()
    }

    #[test]
    fn every_harness_import_of_a_current_test_plugin_fits() {
        let types = |types: &[WasmType]| {
            types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let imports: Vec<String> = HARNESS
            .iter()
            .map(|s| {
                format!(
                    r#"(import "{XTP_HARNESS}" "{}" (func (param {}) (result {})))"#,
                    s.name,
                    types(s.params),
                    types(s.results)
                )
            })
            .collect();
        assert_eq!(
            import_problems(&test_plugin(&imports.concat())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_legacy_assert_and_unknown_functions_are_named() {
        let problems = import_problems(&test_plugin(&format!(
            r#"(import "{XTP_HARNESS}" "assert" (func (param i64 i64)))
               (import "{XTP_HARNESS}" "skip" (func (param i64)))
               (import "{XTP_HARNESS}" "call" (func (param i32 i32) (result i32)))"#
        )));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].contains("rebuild it with a current xtp-test"),
            "{}",
            problems[0]
        );
        assert!(problems[1].contains("no such function") && problems[1].contains("mock_input"));
        assert!(
            problems[2].contains("(i32, i32) -> i32") && problems[2].contains("(i64, i64) -> i64"),
            "{}",
            problems[2]
        );
    }
}
