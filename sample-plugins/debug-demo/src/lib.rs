//! `debug-demo`: a small checkout plugin built with line tables (the `debug-sample` profile),
//! so that when it traps the playground can name the function, file and line of every frame.
//! Its bugs are on purpose, each a few calls deep:
//! - `checkout` traps (`unreachable`) when a discount is over 100%;
//! - `average` divides by the number of items and so panics on an empty list;
//! - `checkout` with `"quantity": 0` takes the happy path, to compare with a failing call.

use extism_pdk::{FnResult, Json, plugin_fn};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct Item {
    pub name: String,
    pub cents: u64,
    #[serde(default = "one")]
    pub quantity: u64,
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
pub struct Order {
    pub items: Vec<Item>,
    #[serde(default)]
    pub discount_percent: u64,
}

#[derive(Serialize)]
pub struct Receipt {
    pub lines: Vec<String>,
    pub total_cents: u64,
}

/// Totals an order: `{"items": [{"name": "tea", "cents": 350, "quantity": 2}],
/// "discount_percent": 10}`. A discount over 100 traps in `apply_discount`.
#[plugin_fn]
pub fn checkout(Json(order): Json<Order>) -> FnResult<Json<Receipt>> {
    let lines = order
        .items
        .iter()
        .map(|item| format!("{} x{}: {}", item.name, item.quantity, line_total(item)))
        .collect();
    let total_cents = apply_discount(subtotal(&order.items), order.discount_percent);
    Ok(Json(Receipt { lines, total_cents }))
}

/// The average price of the order's items, in cents. An empty order panics (division by zero).
#[plugin_fn]
pub fn average(Json(order): Json<Order>) -> FnResult<String> {
    Ok(format!("{}", mean_cents(&order.items)))
}

#[inline(never)]
fn line_total(item: &Item) -> u64 {
    item.cents * item.quantity
}

#[inline(never)]
fn subtotal(items: &[Item]) -> u64 {
    items.iter().map(line_total).sum()
}

#[inline(never)]
fn apply_discount(total: u64, percent: u64) -> u64 {
    if percent > 100 {
        // A discount over 100% would pay the customer: stop here, as a bug in a tenant's
        // plugin would.
        reject_discount(percent);
    }
    total - total * percent / 100
}

#[inline(never)]
fn reject_discount(percent: u64) -> ! {
    std::hint::black_box(percent);
    core::arch::wasm32::unreachable()
}

#[inline(never)]
fn mean_cents(items: &[Item]) -> u64 {
    let count = std::hint::black_box(items.len() as u64);
    subtotal(items) / count
}
