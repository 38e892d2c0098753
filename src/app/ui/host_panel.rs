//! The data host functions serve: the kv store (`kv_get`/`kv_set`, updated after every call)
//! and secrets (`get_secret`, kept in memory only).

use egui::{RichText, Ui};

use super::super::App;
use super::widgets::section;

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
    let mut remove = None;
    for (key, value) in &mut app.state.host.kv {
        ui.horizontal(|ui| {
            ui.label(RichText::new(key).monospace());
            ui.add(
                egui::TextEdit::singleline(value)
                    .hint_text(format!("value of {key}"))
                    .desired_width(140.0),
            );
            if ui
                .small_button("✖")
                .on_hover_text(format!("Remove {key}"))
                .clicked()
            {
                remove = Some(key.clone());
            }
        });
    }
    if let Some(key) = remove {
        app.state.host.kv.remove(&key);
    }
    ui.horizontal(|ui| {
        let drafts = &mut app.drafts;
        ui.add(
            egui::TextEdit::singleline(&mut drafts.new_kv_key)
                .hint_text("new kv key")
                .desired_width(90.0),
        );
        ui.add(
            egui::TextEdit::singleline(&mut drafts.new_kv_value)
                .hint_text("kv value")
                .desired_width(110.0),
        );
        if ui
            .add_enabled(
                !drafts.new_kv_key.trim().is_empty(),
                egui::Button::new("Add entry"),
            )
            .clicked()
        {
            let key = std::mem::take(&mut drafts.new_kv_key).trim().to_string();
            app.state
                .host
                .kv
                .insert(key, std::mem::take(&mut drafts.new_kv_value));
        }
    });
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
    let mut remove = None;
    let show = app.show_secrets;
    for (name, value) in &mut app.state.host.secrets {
        ui.horizontal(|ui| {
            ui.label(RichText::new(name).monospace());
            ui.add(
                egui::TextEdit::singleline(value)
                    .password(!show)
                    .hint_text(format!("secret {name}"))
                    .desired_width(140.0),
            );
            if ui
                .small_button("✖")
                .on_hover_text(format!("Remove {name}"))
                .clicked()
            {
                remove = Some(name.clone());
            }
        });
    }
    if let Some(name) = remove {
        app.state.host.secrets.remove(&name);
    }
    ui.horizontal(|ui| {
        let drafts = &mut app.drafts;
        ui.add(
            egui::TextEdit::singleline(&mut drafts.new_secret_name)
                .hint_text("secret name")
                .desired_width(90.0),
        );
        ui.add(
            egui::TextEdit::singleline(&mut drafts.new_secret_value)
                .password(!show)
                .hint_text("secret value")
                .desired_width(110.0),
        );
        if ui
            .add_enabled(
                !drafts.new_secret_name.trim().is_empty(),
                egui::Button::new("Add secret"),
            )
            .clicked()
        {
            let name = std::mem::take(&mut drafts.new_secret_name)
                .trim()
                .to_string();
            app.state
                .host
                .secrets
                .insert(name, std::mem::take(&mut drafts.new_secret_value));
        }
    });
}
