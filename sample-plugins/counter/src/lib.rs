//! `counter`: state in the instance's own linear memory, kept across calls until the instance
//! is reset.

use extism_pdk::{FnResult, Json, plugin_fn};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNT: AtomicU64 = AtomicU64::new(0);

#[derive(Serialize)]
struct Count {
    count: u64,
}

/// Adds one to the counter and returns it.
#[plugin_fn]
pub fn increment(_: ()) -> FnResult<Json<Count>> {
    let count = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    Ok(Json(Count { count }))
}

/// Sets the counter back to zero.
#[plugin_fn]
pub fn reset(_: ()) -> FnResult<Json<Count>> {
    COUNT.store(0, Ordering::Relaxed);
    Ok(Json(Count { count: 0 }))
}
