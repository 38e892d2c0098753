//! `mock-host`: an ordinary plugin that stands in for the host of `tenant-app`, after the XTP
//! `--mock-host` convention: the host answers an import by calling the export of the same name,
//! with the import's first argument as input and the output as the result. It covers
//! `acme:tenant` (`get_user`, `audit`); `trap` shows what a mock that fails hard does.

use extism_pdk::{Error, FnResult, Json, info, plugin_fn};
use serde::Serialize;

/// The users the mock knows: id, name, plan.
const USERS: [(&str, &str, &str); 3] = [
    ("u-42", "Ada", "pro"),
    ("u-7", "Grace", "team"),
    ("u-1", "Linus", "free"),
];

#[derive(Serialize)]
struct User {
    id: String,
    name: String,
    plan: String,
}

/// Looks a user id up in the fixed table: `u-42` gives `{"id":"u-42","name":"Ada","plan":"pro"}`.
#[plugin_fn]
pub fn get_user(id: String) -> FnResult<Json<User>> {
    let id = id.trim();
    let (id, name, plan) = USERS
        .iter()
        .find(|(known, _, _)| *known == id)
        .ok_or_else(|| Error::msg(format!("no user with id {id}")))?;
    Ok(Json(User {
        id: id.to_string(),
        name: name.to_string(),
        plan: plan.to_string(),
    }))
}

/// Logs the audit message at info level; no output.
#[plugin_fn]
pub fn audit(message: String) -> FnResult<()> {
    info!("{message}");
    Ok(())
}

/// Executes `unreachable`, for a mock that traps.
#[plugin_fn]
pub fn trap(_: ()) -> FnResult<()> {
    core::arch::wasm32::unreachable()
}
