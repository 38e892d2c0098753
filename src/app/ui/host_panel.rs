//! The data host functions serve: the kv store (`kv_get`/`kv_set`, updated after every call)
//! and secrets (`get_secret`, kept in memory only).

use egui::{RichText, Ui};

use super::super::App;
use super::widgets::{MapLabels, map_editor, section};

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    section(ui, "Host functions", false, |ui| {
        ui.label("Offered in extism:host/user: log_info, kv_get, kv_set, get_secret.");
        kv(app, ui);
        secrets(app, ui);
    });
}

fn kv(app: &mut App, ui: &mut Ui) {
    ui.label(RichText::new("KV store").strong()).on_hover_text(
        "What kv_get reads and kv_set writes; plugins' writes show up here after each call",
    );
    let labels = MapLabels {
        entry: "kv",
        add: "Add entry",
        password: false,
    };
    map_editor(ui, &mut app.state.host.kv, &mut app.drafts.kv, &labels);
    if !app.state.host.kv.is_empty() && ui.button("Clear KV store").clicked() {
        app.state.host.kv.clear();
    }
}

fn secrets(app: &mut App, ui: &mut Ui) {
    ui.horizontal(|ui| {
        ui.label(RichText::new("Secrets").strong())
            .on_hover_text("What get_secret returns. Kept in memory only: never saved to disk");
        ui.checkbox(&mut app.show_secrets, "show values");
    });
    let labels = MapLabels {
        entry: "secret",
        add: "Add secret",
        password: !app.show_secrets,
    };
    map_editor(
        ui,
        &mut app.state.host.secrets,
        &mut app.drafts.secret,
        &labels,
    );
}
