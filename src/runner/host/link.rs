//! The worker's side of host functions: the registry turned into extism functions that read
//! their arguments (bytes from Extism memory or plain numbers, as the registry says), run their
//! implementation against the shared [`HostContext`], write the result back, and record the
//! call. A failing host function leaves the reason in the context, so the call's report names
//! the function and says why instead of showing wasmtime's trap text.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use extism::{CurrentPlugin, Function, UserData, Val};

use std::fmt::Write as _;

use super::bytes::Bytes;
use super::define::{Piece, template_pieces};
use super::script::{HostValue, ScriptFailure, Scripts};
use super::{
    ArgKind, Builtin, HostData, HostFunction, HostRegistry, Implementation, Number, NumberError,
    WasmType,
};
use crate::runner::capture::Recorder;
use crate::runner::inspect::EXTISM_USER;
use crate::runner::report::{ErrorKind, LogLevel, LogSource};

/// How many characters of an argument a host-call record keeps.
const ARG_SUMMARY_CHARS: usize = 60;

/// Why a host function failed, as the call's report gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostFailure {
    pub kind: ErrorKind,
    pub message: String,
}

/// What the host functions share: their data, the recorder of the current call, and the
/// user-defined machinery (scripts, mock-host plugins).
pub(crate) struct HostContext {
    pub data: HostData,
    /// What `data.kv` holds, as its limit counts it (see [`super::kv_set`]); kept up to date
    /// by whoever changes it.
    pub kv_bytes: usize,
    pub recorder: Arc<Recorder>,
    pub scripts: Option<Scripts>,
    /// Mock-host plugin instances, by sha256.
    pub mocks: HashMap<String, extism::Plugin>,
    /// The first host-function failure of the current call.
    pub failure: Option<HostFailure>,
    /// What each user-defined function returned last in the current call, by `module::name`
    /// (numbers as decimal text).
    pub results: BTreeMap<String, Bytes>,
    /// The xtp test run in progress, when the plugin called is an xtp-test plugin.
    pub xtp: Option<super::harness::XtpRun>,
    /// Set when a host function panicked: what it shares (the kv store lent to a script, the
    /// script engine's state) cannot be trusted, so the worker ends after the call's report.
    pub panicked: bool,
}

impl HostContext {
    pub fn new(recorder: Arc<Recorder>) -> Self {
        Self {
            data: HostData::default(),
            kv_bytes: 0,
            recorder,
            scripts: None,
            mocks: HashMap::new(),
            failure: None,
            results: BTreeMap::new(),
            xtp: None,
            panicked: false,
        }
    }
}

/// A linked function's names, made once at link time rather than on every call.
struct Names {
    /// `module::name`.
    qualified: String,
    /// What a record shows: `name` in `extism:host/user`, `module::name` elsewhere.
    shown: String,
}

impl Names {
    fn of(function: &HostFunction) -> Self {
        let qualified = format!("{}::{}", function.module, function.name);
        let shown = if function.module == EXTISM_USER {
            function.name.clone()
        } else {
            qualified.clone()
        };
        Self { qualified, shown }
    }
}

impl HostValue {
    fn summary(&self) -> String {
        match self {
            Self::Bytes(b) => super::bytes::summary_of(b, ARG_SUMMARY_CHARS),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Nothing => "nothing".to_string(),
        }
    }

    /// The value as text: bytes as UTF-8, numbers in decimal.
    fn text(&self) -> String {
        match self {
            Self::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Nothing => String::new(),
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Bytes(b) => b,
            other => other.text().into_bytes(),
        }
    }
}

fn read_arg(
    plugin: &mut CurrentPlugin,
    val: &Val,
    kind: ArgKind,
) -> Result<HostValue, extism::Error> {
    Ok(match (kind, val) {
        (ArgKind::Bytes, _) => {
            let bytes: &[u8] = plugin.memory_get_val(val)?;
            HostValue::Bytes(bytes.to_vec())
        }
        (ArgKind::Num, Val::I32(i)) => HostValue::Int(i64::from(*i)),
        (ArgKind::Num, Val::I64(i)) => HostValue::Int(*i),
        (ArgKind::Num, Val::F32(bits)) => HostValue::Float(f64::from(f32::from_bits(*bits))),
        (ArgKind::Num, Val::F64(bits)) => HostValue::Float(f64::from_bits(*bits)),
        (ArgKind::Num, other) => {
            return Err(extism::Error::msg(format!(
                "unsupported argument {other:?}"
            )));
        }
    })
}

/// Turns `value` into a wasm value of the number type `ty`.
fn number(value: &HostValue, ty: WasmType) -> Result<Val, NumberError> {
    Ok(match super::number(value, ty)? {
        Number::I32(i) => Val::I32(i),
        Number::I64(i) => Val::I64(i),
        Number::F32(f) => Val::F32(f.to_bits()),
        Number::F64(f) => Val::F64(f.to_bits()),
    })
}

/// Replaces `{N}` in `template` with argument N as text.
/// A field past the last argument stays as written.
pub(crate) fn render(template: &str, args: &[HostValue]) -> String {
    let mut out = String::with_capacity(template.len());
    for piece in template_pieces(template) {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Arg(n) => match args.get(n) {
                Some(arg) => out.push_str(&arg.text()),
                None => {
                    let _ = write!(out, "{{{n}}}");
                }
            },
        }
    }
    out
}

/// A built-in's answer.
fn run_builtin(
    builtin: Builtin,
    ctx: &mut HostContext,
    args: &[HostValue],
) -> Result<(HostValue, String), HostFailure> {
    let arg = |i: usize| args.get(i).map(HostValue::text).unwrap_or_default();
    match builtin {
        Builtin::LogInfo => {
            ctx.recorder.log(LogLevel::Info, LogSource::Host, &arg(0));
            Ok((HostValue::Nothing, "ok".to_string()))
        }
        Builtin::KvGet => Ok(match ctx.data.kv.get(&arg(0)) {
            Some(v) => (HostValue::Bytes(v.0.clone()), v.summary(ARG_SUMMARY_CHARS)),
            None => (HostValue::Bytes(Vec::new()), "missing (empty)".to_string()),
        }),
        Builtin::KvSet => {
            let value = args
                .get(1)
                .cloned()
                .map(HostValue::into_bytes)
                .unwrap_or_default();
            super::kv_set(&mut ctx.data.kv, &mut ctx.kv_bytes, arg(0), value).map_err(|full| {
                HostFailure {
                    kind: ErrorKind::HostFunction,
                    message: format!("host function kv_set failed: {full}"),
                }
            })?;
            Ok((HostValue::Nothing, "ok".to_string()))
        }
        Builtin::GetSecret => {
            let name = arg(0);
            // A name without a value (as bundles saved without secret values carry) is not set.
            match ctx.data.secrets.get(&name).filter(|v| !v.is_empty()) {
                // The value itself is never recorded.
                Some(v) => Ok((
                    HostValue::Bytes(v.clone().into_bytes()),
                    format!("{} chars", v.chars().count()),
                )),
                None => Err(HostFailure {
                    kind: ErrorKind::HostFunction,
                    message: format!(
                        "secret {name:?} is not set; add it in the Secrets list of the host \
                         functions panel (CLI: --secret {name}=VALUE)"
                    ),
                }),
            }
        }
    }
}

/// Calls the Rhai function standing for `function`, lending it the kv store; its log lines
/// go to the call's log.
fn run_script(
    function: &HostFunction,
    qualified: &str,
    ctx: &mut HostContext,
    args: Vec<HostValue>,
) -> Result<HostValue, HostFailure> {
    let failed = |message: String| HostFailure {
        kind: ErrorKind::HostFunction,
        message: format!("host function {qualified} failed: {message}"),
    };
    let HostContext {
        scripts,
        data,
        kv_bytes,
        recorder,
        ..
    } = ctx;
    let Some(scripts) = scripts.as_ref() else {
        return Err(failed("its script is not loaded".to_string()));
    };
    let (result, logs) = scripts.call(qualified, &function.name, args, &mut data.kv);
    *kv_bytes = super::kv_bytes(&data.kv);
    for line in logs {
        recorder.log(LogLevel::Info, LogSource::Host, &line);
    }
    result.map_err(|failure| match failure {
        ScriptFailure::Stopped => HostFailure {
            kind: ErrorKind::Cancelled,
            message: format!("the call was stopped while the script of {qualified} ran"),
        },
        ScriptFailure::TimedOut => HostFailure {
            kind: ErrorKind::Timeout,
            message: format!(
                "the call ran past its timeout in the script of {qualified}, which was ended; \
                 raise the timeout or make the script faster"
            ),
        },
        ScriptFailure::Error(e) => failed(match e.line {
            Some(_) => format!("its Rhai script failed at {e}"),
            None => format!("its Rhai script failed: {e}"),
        }),
    })
}

/// Runs `function`'s implementation on `args`.
fn run(
    function: &HostFunction,
    qualified: &str,
    ctx: &mut HostContext,
    args: Vec<HostValue>,
    summarize: bool,
) -> Result<(HostValue, String), HostFailure> {
    let failed = |message: String| HostFailure {
        kind: ErrorKind::HostFunction,
        message: format!("host function {qualified} failed: {message}"),
    };
    let value = match &function.implementation {
        Implementation::Builtin(builtin) => return run_builtin(*builtin, ctx, &args),
        Implementation::Value(value) => HostValue::Bytes(value.0.clone()),
        Implementation::Template(template) => {
            HostValue::Bytes(render(template, &args).into_bytes())
        }
        Implementation::KvGet => {
            let key = args.first().map(HostValue::text).unwrap_or_default();
            HostValue::Bytes(
                ctx.data
                    .kv
                    .get(&key)
                    .map(|v| v.0.clone())
                    .unwrap_or_default(),
            )
        }
        Implementation::KvSet => {
            let key = args.first().map(HostValue::text).unwrap_or_default();
            let value = args
                .get(1)
                .cloned()
                .map(HostValue::into_bytes)
                .unwrap_or_default();
            super::kv_set(&mut ctx.data.kv, &mut ctx.kv_bytes, key, value)
                .map_err(|full| failed(full.to_string()))?;
            match function.result_kind {
                Some(ArgKind::Num) => HostValue::Int(0),
                Some(ArgKind::Bytes) => HostValue::Bytes(Vec::new()),
                None => HostValue::Nothing,
            }
        }
        Implementation::Fail(message) => return Err(failed(message.clone())),
        Implementation::Rhai(_) => run_script(function, qualified, ctx, args)?,
        Implementation::Wasm(mock) => {
            // The first byte argument is the input; with none, the first number, in decimal.
            let input = args
                .iter()
                .zip(&function.kinds)
                .find(|(_, k)| **k == ArgKind::Bytes)
                .map(|(a, _)| a)
                .or_else(|| args.first())
                .map(|a| a.clone().into_bytes())
                .unwrap_or_default();
            let Some(plugin) = ctx.mocks.get_mut(&mock.sha256) else {
                return Err(failed(format!(
                    "the mock-host plugin {} is not loaded",
                    mock.label
                )));
            };
            match plugin.call::<&[u8], Vec<u8>>(&mock.export, &input) {
                Ok(output) => HostValue::Bytes(output),
                Err(e) => {
                    return Err(failed(format!(
                        "the mock-host plugin {} failed in {}: {e:#}",
                        mock.label, mock.export
                    )));
                }
            }
        }
    };
    // What it returned, for exported host code: the last value is kept, its buffer reused.
    let text;
    let returned: &[u8] = match &value {
        HostValue::Bytes(b) => b,
        other => {
            text = other.text();
            text.as_bytes()
        }
    };
    match ctx.results.get_mut(qualified) {
        Some(kept) => {
            kept.0.clear();
            kept.0.extend_from_slice(returned);
        }
        None => {
            ctx.results
                .insert(qualified.to_string(), Bytes(returned.to_vec()));
        }
    }
    let summary = match (summarize, function.result_kind) {
        (false, _) => String::new(),
        (true, Some(_)) => value.summary(),
        (true, None) => "ok".to_string(),
    };
    Ok((value, summary))
}

/// Why a host function's value cannot be its result.
#[derive(Debug, thiserror::Error)]
enum ResultError {
    #[error("it returned nothing, but the import returns bytes (return \"\" for none)")]
    NothingForBytes,
    #[error("cannot write its result to plugin memory: {cause}")]
    Memory { cause: extism::Error },
    #[error("the import returns a number ({}): {cause}", .ty.as_str())]
    Number { ty: WasmType, cause: NumberError },
}

/// Writes `value` as the function's result.
fn write_result(
    function: &HostFunction,
    plugin: &mut CurrentPlugin,
    value: HostValue,
    outputs: &mut [Val],
) -> Result<(), ResultError> {
    let (Some(out), Some(kind), Some(ty)) = (
        outputs.first_mut(),
        function.result_kind,
        function.results.first(),
    ) else {
        return Ok(());
    };
    match kind {
        ArgKind::Bytes => {
            if value == HostValue::Nothing {
                return Err(ResultError::NothingForBytes);
            }
            plugin
                .memory_set_val(out, value.into_bytes())
                .map_err(|cause| ResultError::Memory { cause })
        }
        ArgKind::Num => {
            *out = number(&value, *ty).map_err(|cause| ResultError::Number { ty: *ty, cause })?;
            Ok(())
        }
    }
}

/// Calls `function` for a plugin: reads its arguments, runs its implementation, writes its
/// result, and records the call with its outcome.
fn dispatch(
    function: &HostFunction,
    names: &Names,
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
    ctx: &UserData<HostContext>,
) -> Result<(), extism::Error> {
    let args = inputs
        .iter()
        .zip(&function.kinds)
        .map(|(val, kind)| read_arg(plugin, val, *kind))
        .collect::<Result<Vec<_>, _>>()?;
    let ctx = ctx.get()?;
    let mut ctx = ctx
        .lock()
        .map_err(|_| extism::Error::msg("host state is poisoned"))?;
    // Summaries cost more than a simple mock: made only when the call will be recorded.
    let record = ctx.recorder.wants_host_calls();
    let shown = if record {
        args.iter()
            .map(HostValue::summary)
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        String::new()
    };
    let started = Instant::now();
    // A panic in a host function (the app's code, or a script engine's) ends this host call
    // with an error, and so the plugin's call: never the worker, silently.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::runner::worker::fault_point("host-function");
        run(function, &names.qualified, &mut ctx, args, record)
    }))
    .unwrap_or_else(|panic| {
        ctx.panicked = true;
        Err(HostFailure {
            kind: ErrorKind::HostFunction,
            message: format!(
                "host function {} failed: it panicked ({}); this is a bug of the app, not of \
                 the plugin: please report it",
                names.qualified,
                panic_text(panic.as_ref())
            ),
        })
    });
    let outcome = ran.and_then(|(value, summary)| {
        write_result(function, plugin, value, outputs)
            .map(|()| summary)
            .map_err(|e| HostFailure {
                kind: ErrorKind::HostFunction,
                message: format!("host function {}::{}: {e}", function.module, function.name),
            })
    });
    if record {
        let summary = match &outcome {
            Ok(summary) => summary.clone(),
            Err(failure) => format!("error: {}", failure.message),
        };
        ctx.recorder
            .host_call(&names.shown, shown, summary, started);
    }
    match outcome {
        Ok(_) => Ok(()),
        Err(failure) => {
            let message = failure.message.clone();
            ctx.failure.get_or_insert(failure);
            Err(extism::Error::msg(message))
        }
    }
}

/// What a panic said, when it said it with a string.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

/// The registry's functions as extism functions bound to `ctx`, for the linker.
pub(crate) fn link(registry: &HostRegistry, ctx: &UserData<HostContext>) -> Vec<Function> {
    registry
        .functions()
        .iter()
        .map(|function| {
            let owned = function.clone();
            let names = Names::of(function);
            Function::new(
                function.name.clone(),
                function.params.iter().map(|t| t.to_extism()),
                function.results.iter().map(|t| t.to_extism()),
                ctx.clone(),
                move |plugin: &mut CurrentPlugin,
                      inputs: &[Val],
                      outputs: &mut [Val],
                      ctx: UserData<HostContext>| {
                    dispatch(&owned, &names, plugin, inputs, outputs, &ctx)
                },
            )
            .with_namespace(&function.module)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_replace_arguments_and_keep_other_braces() {
        let args = [HostValue::Bytes(b"Ada".to_vec()), HostValue::Int(3)];
        assert_eq!(
            render(r#"{"name": "{0}", "n": {1}}"#, &args),
            r#"{"name": "Ada", "n": 3}"#
        );
        assert_eq!(render("{2}{}{x", &args), "{2}{}{x");
        assert_eq!(render("🟢:{0}", &args), "🟢:Ada");
    }

    #[test]
    fn numbers_convert_to_the_result_type_or_say_why_not() {
        assert!(matches!(
            number(&HostValue::Int(84), WasmType::I64).unwrap(),
            Val::I64(84)
        ));
        assert!(matches!(
            number(&HostValue::Bytes(b"100.5".to_vec()), WasmType::F32).unwrap(),
            Val::F32(bits) if bits == 100.5f32.to_bits()
        ));
        assert_eq!(
            number(&HostValue::Int(1 << 40), WasmType::I32).unwrap_err(),
            NumberError::OutOfRange {
                text: "1099511627776".into()
            }
        );
        assert_eq!(
            number(&HostValue::Bytes(b" x\n".to_vec()), WasmType::I64).unwrap_err(),
            NumberError::NotANumber { text: "x".into() }
        );
        assert!(matches!(
            number(&HostValue::Float(1.5), WasmType::I64),
            Err(NumberError::NotAnInteger { .. })
        ));
        assert_eq!(
            number(&HostValue::Nothing, WasmType::F64).unwrap_err(),
            NumberError::Nothing
        );
    }

    #[test]
    fn a_result_that_is_not_the_number_says_which_type_and_why() {
        let err = ResultError::Number {
            ty: WasmType::I32,
            cause: NumberError::OutOfRange {
                text: "1099511627776".into(),
            },
        };
        assert_eq!(
            err.to_string(),
            "the import returns a number (i32): 1099511627776 does not fit an i32"
        );
        let err = ResultError::Number {
            ty: WasmType::I64,
            cause: NumberError::NotANumber {
                text: "many".into(),
            },
        };
        assert_eq!(
            err.to_string(),
            "the import returns a number (i64): \"many\" is not a number"
        );
    }
}
