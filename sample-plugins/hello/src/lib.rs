//! `hello`: the first-launch sample. Pure functions of their input (plus the `vowels` config key
//! and a running total kept in an Extism var), so it runs under the tightest sandbox.

use extism_pdk::{FnResult, Json, config, plugin_fn, var};
use serde::{Deserialize, Serialize};

const DEFAULT_VOWELS: &str = "aeiouAEIOU";

#[derive(Serialize)]
struct VowelCount {
    count: u64,
    total: u64,
    vowels: String,
}

/// Counts the vowels in the input text. The config key `vowels` overrides the vowel set; `total`
/// accumulates across calls on the same instance.
#[plugin_fn]
pub fn count_vowels(input: String) -> FnResult<Json<VowelCount>> {
    let vowels = config::get("vowels")?.unwrap_or_else(|| DEFAULT_VOWELS.to_string());
    let count = input.chars().filter(|c| vowels.contains(*c)).count() as u64;
    let previous: u64 = var::get("total")?
        .and_then(|bytes: Vec<u8>| String::from_utf8(bytes).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let total = previous + count;
    var::set("total", total.to_string())?;
    Ok(Json(VowelCount {
        count,
        total,
        vowels,
    }))
}

/// Greets the input: `Hello, <input>!`.
#[plugin_fn]
pub fn greet(name: String) -> FnResult<String> {
    Ok(format!("Hello, {name}!"))
}

/// Returns the input unchanged (used to measure raw payload throughput).
#[plugin_fn]
pub fn echo(input: Vec<u8>) -> FnResult<Vec<u8>> {
    Ok(input)
}

#[derive(Deserialize)]
struct Event {
    user_id: u32,
    event: String,
}

#[derive(Serialize)]
struct EventResult {
    status: &'static str,
    message: String,
}

/// Handles a SaaS event: `{"user_id": 42, "event": "signup"}`.
#[plugin_fn]
pub fn handle_event(Json(event): Json<Event>) -> FnResult<Json<EventResult>> {
    Ok(Json(EventResult {
        status: "success",
        message: format!("Processing {} for user {}", event.event, event.user_id),
    }))
}

#[derive(Deserialize)]
struct EventV2 {
    user_id: u32,
    event: String,
    #[serde(default)]
    priority: Option<String>,
}

#[derive(Serialize)]
struct EventResultV2 {
    status: &'static str,
    message: String,
    version: u32,
    priority: String,
}

/// The versioned successor of `handle_event`: accepts an optional `priority` and reports the
/// handler `version` and the priority it used.
#[plugin_fn]
pub fn handle_event_v2(Json(event): Json<EventV2>) -> FnResult<Json<EventResultV2>> {
    Ok(Json(EventResultV2 {
        status: "success",
        message: format!("Processing {} for user {}", event.event, event.user_id),
        version: 2,
        priority: event.priority.unwrap_or_else(|| "normal".to_string()),
    }))
}
