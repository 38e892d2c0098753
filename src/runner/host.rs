//! The host functions this playground offers plugins in `extism:host/user` (`log_info`, `kv_get`,
//! `kv_set`, `get_secret`) and the data they serve. Each call a plugin makes to one of them is
//! recorded for the call report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use extism::{CurrentPlugin, Function, PTR, UserData, Val};
use serde::{Deserialize, Serialize};

use super::capture::Recorder;
use super::inspect::{EXTISM_USER, Signature};
use super::report::{LogLevel, LogSource};

/// The functions offered in `extism:host/user`.
pub const HOST_FUNCTIONS: &[&str] = &["get_secret", "kv_get", "kv_set", "log_info"];

/// How many characters of an argument a host-call record keeps.
const ARG_SUMMARY_CHARS: usize = 60;

/// The signature (in wasm types) a plugin must import a host function with.
pub fn signature_of(name: &str) -> Option<Signature> {
    let i64s = |n: usize| vec!["i64".to_string(); n];
    match name {
        "log_info" => Some(Signature {
            params: i64s(1),
            results: vec![],
        }),
        "kv_get" | "get_secret" => Some(Signature {
            params: i64s(1),
            results: i64s(1),
        }),
        "kv_set" => Some(Signature {
            params: i64s(2),
            results: vec![],
        }),
        _ => None,
    }
}

/// The data host functions serve: a key-value store plugins read and write, and secrets the
/// user provides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostData {
    pub kv: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
}

/// What the host functions share: their data and the recorder of the current call.
pub(crate) struct HostContext {
    pub data: HostData,
    pub recorder: Arc<Recorder>,
}

/// A printable summary of an argument: the start of it, escaped, with its length if cut.
fn summarize(s: &str) -> String {
    let count = s.chars().count();
    if count <= ARG_SUMMARY_CHARS {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(ARG_SUMMARY_CHARS).collect();
        format!("{head:?}… ({count} chars)")
    }
}

fn arg(plugin: &mut CurrentPlugin, inputs: &[Val], i: usize) -> Result<String, extism::Error> {
    let bytes: &[u8] = plugin.memory_get_val(&inputs[i])?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Runs `body` as host function `name`, recording the call and its outcome.
fn recorded(
    name: &'static str,
    ctx: &UserData<HostContext>,
    args: &str,
    body: impl FnOnce(&mut HostContext) -> Result<(Option<String>, String), extism::Error>,
) -> Result<Option<String>, extism::Error> {
    let ctx = ctx.get()?;
    let mut ctx = ctx
        .lock()
        .map_err(|_| extism::Error::msg("host state is poisoned"))?;
    let started = Instant::now();
    let result = body(&mut ctx);
    let summary = match &result {
        Ok((_, summary)) => summary.clone(),
        Err(e) => format!("error: {e}"),
    };
    ctx.recorder.host_call(name, args, &summary, started);
    result.map(|(value, _)| value)
}

/// Answers a one-string host function: the value returned and the summary recorded.
type Answer = fn(&mut HostContext, &str) -> Result<(String, String), extism::Error>;

/// A host function taking one string and returning one: `answer` gives the value and the
/// summary recorded for it.
fn string_to_string(name: &'static str, ctx: &UserData<HostContext>, answer: Answer) -> Function {
    Function::new(
        name,
        [PTR],
        [PTR],
        ctx.clone(),
        move |plugin: &mut CurrentPlugin,
              inputs: &[Val],
              out: &mut [Val],
              ctx: UserData<HostContext>| {
            let arg0 = arg(plugin, inputs, 0)?;
            let value = recorded(name, &ctx, &summarize(&arg0), |c| {
                answer(c, &arg0).map(|(v, s)| (Some(v), s))
            })?;
            plugin.memory_set_val(&mut out[0], value.unwrap_or_default())?;
            Ok(())
        },
    )
}

/// The host functions, bound to `ctx`.
pub(crate) fn functions(ctx: &UserData<HostContext>) -> Vec<Function> {
    let log_info = Function::new(
        "log_info",
        [PTR],
        [],
        ctx.clone(),
        |plugin: &mut CurrentPlugin,
         inputs: &[Val],
         _out: &mut [Val],
         ctx: UserData<HostContext>| {
            let message = arg(plugin, inputs, 0)?;
            recorded("log_info", &ctx, &summarize(&message), |c| {
                c.recorder.log(LogLevel::Info, LogSource::Host, &message);
                Ok((None, "ok".to_string()))
            })?;
            Ok(())
        },
    );
    let kv_get = string_to_string("kv_get", ctx, |c, key| {
        Ok(match c.data.kv.get(key) {
            Some(v) => (v.clone(), summarize(v)),
            None => (String::new(), "missing (empty string)".to_string()),
        })
    });
    let kv_set = Function::new(
        "kv_set",
        [PTR, PTR],
        [],
        ctx.clone(),
        |plugin: &mut CurrentPlugin,
         inputs: &[Val],
         _out: &mut [Val],
         ctx: UserData<HostContext>| {
            let key = arg(plugin, inputs, 0)?;
            let value = arg(plugin, inputs, 1)?;
            let args = format!("{}, {}", summarize(&key), summarize(&value));
            recorded("kv_set", &ctx, &args, |c| {
                c.data.kv.insert(key, value);
                Ok((None, "ok".to_string()))
            })?;
            Ok(())
        },
    );
    let get_secret = string_to_string("get_secret", ctx, |c, name| {
        // A name without a value (as bundles saved without secret values carry) is not set.
        match c.data.secrets.get(name).filter(|v| !v.is_empty()) {
            // The value itself is never recorded.
            Some(v) => Ok((v.clone(), format!("{} chars", v.chars().count()))),
            None => Err(extism::Error::msg(format!(
                "secret {name:?} is not set; add it in the Secrets list of the host functions panel \
             (CLI: --secret {name}=VALUE)"
            ))),
        }
    });
    [log_info, kv_get, kv_set, get_secret]
        .into_iter()
        .map(|f| f.with_namespace(EXTISM_USER))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_short_and_escaped() {
        assert_eq!(summarize("a\"b"), r#""a\"b""#);
        let long = "x".repeat(100);
        let s = summarize(&long);
        assert!(s.ends_with("(100 chars)"), "{s}");
        assert!(s.len() < 80, "{s}");
    }

    #[test]
    fn every_host_function_has_a_signature() {
        for name in HOST_FUNCTIONS {
            assert!(signature_of(name).is_some(), "{name}");
        }
        assert!(signature_of("nope").is_none());
    }
}
