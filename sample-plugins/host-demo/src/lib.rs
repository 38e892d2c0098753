//! `host-demo`: exercises the host functions the playground offers in `extism:host/user`
//! (`log_info`, `kv_get`, `kv_set`, `get_secret`) and the PDK's own log calls.

use extism_pdk::{FnResult, Json, debug, error, host_fn, info, plugin_fn, trace, warn};
use serde::{Deserialize, Serialize};

#[host_fn]
extern "ExtismHost" {
    fn log_info(message: String);
    fn kv_get(key: String) -> String;
    fn kv_set(key: String, value: String);
    fn get_secret(name: String) -> String;
}

/// Logs one line at each PDK level, then one line through the host's `log_info`.
#[plugin_fn]
pub fn log_levels(input: String) -> FnResult<String> {
    trace!("trace from host-demo: {input}");
    debug!("debug from host-demo: {input}");
    info!("info from host-demo: {input}");
    warn!("warn from host-demo: {input}");
    error!("error from host-demo: {input}");
    unsafe { log_info(format!("host log_info from host-demo: {input}"))? };
    Ok("logged 5 PDK lines and 1 host line".to_string())
}

#[derive(Deserialize)]
struct KvRequest {
    key: String,
    value: String,
}

#[derive(Serialize)]
struct KvResult {
    key: String,
    previous: String,
    value: String,
}

/// Reads `key` from the host's kv store, writes `value`, reads it back:
/// `{"key": "greeting", "value": "hi"}`.
#[plugin_fn]
pub fn kv_roundtrip(Json(req): Json<KvRequest>) -> FnResult<Json<KvResult>> {
    let previous = unsafe { kv_get(req.key.clone())? };
    unsafe { kv_set(req.key.clone(), req.value)? };
    let value = unsafe { kv_get(req.key.clone())? };
    Ok(Json(KvResult {
        key: req.key,
        previous,
        value,
    }))
}

#[derive(Serialize)]
struct SecretLength {
    name: String,
    length: usize,
}

/// Looks up the secret named by the input and reports its length (never the value).
#[plugin_fn]
pub fn secret_length(name: String) -> FnResult<Json<SecretLength>> {
    let name = name.trim().to_string();
    let secret = unsafe { get_secret(name.clone())? };
    Ok(Json(SecretLength {
        name,
        length: secret.chars().count(),
    }))
}
