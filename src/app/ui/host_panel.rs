//! The host functions this host offers (read from the host registry: module, name, signature,
//! what each does) and the data the built-in ones serve: the kv store (`kv_get`/`kv_set`,
//! updated after every call) and secrets (`get_secret`, kept in memory only).

use egui::{RichText, Ui};

use super::super::App;
use super::widgets::{MapLabels, map_editor, section};
use crate::workbench;

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    section(ui, "Host functions", false, |ui| {
        registry(app, ui);
        let mut host = app.workbench.state().host.clone();
        let mut changed = kv(app, ui, &mut host.kv);
        changed |= secrets(app, ui, &mut host.secrets);
        if changed {
            app.send(workbench::Command::SetHostData(host));
        }
    });
}

fn registry(app: &App, ui: &mut Ui) {
    let registry = app.workbench.host_functions();
    for module in registry.modules() {
        ui.label(RichText::new(module).monospace().strong());
        for function in registry.functions().iter().filter(|f| f.module == module) {
            ui.horizontal(|ui| {
                ui.add(
                    egui::Label::new(
                        RichText::new(format!("{} {}", function.name, function.signature()))
                            .monospace(),
                    )
                    .truncate(),
                )
                .on_hover_text(&function.description);
            });
        }
    }
    ui.add_space(4.0);
}

fn kv(app: &mut App, ui: &mut Ui, kv: &mut std::collections::BTreeMap<String, String>) -> bool {
    ui.label(RichText::new("KV store").strong()).on_hover_text(
        "What kv_get reads and kv_set writes; plugins' writes show up here after each call",
    );
    let labels = MapLabels {
        entry: "kv",
        add: "Add entry",
        password: false,
    };
    let mut changed = map_editor(ui, kv, &mut app.view.drafts.kv, &labels);
    if !kv.is_empty() && ui.button("Clear KV store").clicked() {
        kv.clear();
        changed = true;
    }
    changed
}

fn secrets(
    app: &mut App,
    ui: &mut Ui,
    secrets: &mut std::collections::BTreeMap<String, String>,
) -> bool {
    ui.horizontal(|ui| {
        ui.label(RichText::new("Secrets").strong())
            .on_hover_text("What get_secret returns. Kept in memory only: never saved to disk");
        ui.checkbox(&mut app.view.show_secrets, "show values");
    });
    if app.workbench.secrets_withheld() {
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Your stored secrets are put aside for this file from someone else: it gets only the values it carries and those you enter here. They come back when you open another plugin.",
                )
                .small()
                .weak(),
            )
            .wrap(),
        );
    }
    let labels = MapLabels {
        entry: "secret",
        add: "Add secret",
        password: !app.view.show_secrets,
    };
    map_editor(ui, secrets, &mut app.view.drafts.secret, &labels)
}
