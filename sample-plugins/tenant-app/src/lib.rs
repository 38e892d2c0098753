//! `tenant-app`: stands for a SaaS tenant's plugin that calls its host's own host functions,
//! imported from two custom modules rather than `extism:host/user`:
//! `acme:tenant` (`get_user`, `audit`: Extism memory offsets in and out) and `acme:billing`
//! (`price_cents`: an offset and a plain number in, a plain number out). `mock-host` can stand
//! in for `acme:tenant`.

use extism_pdk::{Error, FnResult, Json, Memory, host_fn, plugin_fn};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

// `host_fn` takes the import module as its argument. Every argument is copied into Extism memory
// and passed as an offset; a result is read back from the offset the host returns.
#[host_fn("acme:tenant")]
extern "ExtismHost" {
    fn get_user(user_id: String) -> Vec<u8>;
    fn audit(message: String);
}

// `host_fn` turns every argument and the result into an offset, so an import that mixes an
// offset with plain numbers is declared by hand.
#[link(wasm_import_module = "acme:billing")]
unsafe extern "C" {
    /// `sku` is the offset of a UTF-8 block; `quantity` and the result (cents) are plain numbers.
    fn price_cents(sku: u64, quantity: i32) -> i64;
}

/// The largest quantity `quote` accepts.
const MAX_QUANTITY: i64 = 10_000;

/// Parses the JSON input, naming the expected shape when it does not fit.
fn parse_input<T: DeserializeOwned>(input: &str, example: &str) -> Result<T, Error> {
    serde_json::from_str(input)
        .map_err(|e| Error::msg(format!("expected input like {example}: {e}")))
}

#[derive(Deserialize)]
struct GreetRequest {
    user_id: String,
}

#[derive(Deserialize)]
struct User {
    id: String,
    name: String,
    plan: String,
}

/// Checks the host's answer to `get_user`: JSON for the user that was asked for.
fn parse_user(user_id: &str, answer: &[u8]) -> Result<User, Error> {
    if answer.is_empty() {
        return Err(Error::msg(format!(
            "host get_user returned nothing for {user_id}"
        )));
    }
    let user: User = serde_json::from_slice(answer).map_err(|e| {
        Error::msg(format!(
            "host get_user returned invalid JSON for {user_id}: {e}"
        ))
    })?;
    if user.id != user_id {
        return Err(Error::msg(format!(
            "host get_user returned user {} when asked for {user_id}",
            user.id
        )));
    }
    Ok(user)
}

/// Looks the user up through the host and greets them by name and plan:
/// `{"user_id":"u-42"}` gives `Hello, Ada! You are on the pro plan.`
#[plugin_fn]
pub fn greet_user(input: String) -> FnResult<String> {
    let req: GreetRequest = parse_input(&input, r#"{"user_id":"u-42"}"#)?;
    let user_id = req.user_id.trim();
    if user_id.is_empty() {
        return Err(Error::msg("user_id is empty").into());
    }
    let answer = unsafe { get_user(user_id.to_string())? };
    let user = parse_user(user_id, &answer)?;
    unsafe { audit(format!("greeted {user_id}"))? };
    Ok(format!(
        "Hello, {}! You are on the {} plan.",
        user.name, user.plan
    ))
}

#[derive(Deserialize)]
struct QuoteRequest {
    sku: String,
    // Wider than the import's i32 so an out-of-range quantity gets our own error.
    quantity: i64,
}

#[derive(Serialize)]
struct Quote {
    sku: String,
    quantity: i32,
    total_cents: i64,
}

/// Asks the host for the price: the SKU goes in a memory block of our own, freed after the call.
fn host_price(sku: &str, quantity: i32) -> Result<i64, Error> {
    let block = Memory::from_bytes(sku)?;
    let cents = unsafe { price_cents(block.offset(), quantity) };
    block.free();
    Ok(cents)
}

/// Prices `quantity` of `sku` through `acme:billing`:
/// `{"sku":"pro-seat","quantity":3}` gives `{"sku":"pro-seat","quantity":3,"total_cents":N}`.
#[plugin_fn]
pub fn quote(input: String) -> FnResult<Json<Quote>> {
    let req: QuoteRequest = parse_input(&input, r#"{"sku":"pro-seat","quantity":3}"#)?;
    if req.sku.trim().is_empty() {
        return Err(Error::msg("sku is empty").into());
    }
    if !(1..=MAX_QUANTITY).contains(&req.quantity) {
        return Err(Error::msg(format!(
            "quantity must be from 1 to {MAX_QUANTITY}, got {}",
            req.quantity
        ))
        .into());
    }
    let quantity = req.quantity as i32;
    let total_cents = host_price(&req.sku, quantity)?;
    if total_cents < 0 {
        return Err(Error::msg("host returned a negative price").into());
    }
    unsafe { audit(format!("quoted {quantity} x {}", req.sku))? };
    Ok(Json(Quote {
        sku: req.sku,
        quantity,
        total_cents,
    }))
}
