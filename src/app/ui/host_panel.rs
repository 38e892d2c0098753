//! The host functions this host offers (read from the host registry: module, name, signature,
//! what each does) and the data the built-in ones serve: the kv store (`kv_get`/`kv_set`,
//! updated after every call) and secrets (`get_secret`, kept in memory only).

use egui::{RichText, Ui};

use super::super::App;
use super::MockDraft;
use super::widgets::{MapLabels, map_editor, section};
use crate::runner::host::Bytes;
use crate::workbench;

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    section(ui, "Host functions", false, |ui| {
        registry(app, ui);
        definitions(app, ui);
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

/// The user's own definitions: each with its behaviour, whether it is in use, and actions.
fn definitions(app: &mut App, ui: &mut Ui) {
    let defs = app.workbench.state().host_functions.clone();
    if defs.is_empty() {
        ui.weak("No host functions of your own yet: use Mock… on an import the plugin needs.");
        ui.add_space(4.0);
        return;
    }
    ui.label(RichText::new("Your definitions").strong())
        .on_hover_text(
            "Host functions you defined; they stand beside the built-ins and may replace one",
        );
    // The session is shared (a cheap clone), so its imports are read in place.
    let session = app.workbench.session().cloned();
    let imports = session
        .as_ref()
        .map_or(&[][..], |s| &s.inspection().imports[..]);
    for def in defs {
        let import = imports
            .iter()
            .find(|i| i.module == def.module && i.name == def.name);
        let problem = app
            .workbench
            .host_problem(&def.module, &def.name)
            .map(|p| p.reason.clone());
        ui.horizontal(|ui| {
            let mut enabled = def.enabled;
            if ui
                .checkbox(&mut enabled, "")
                .on_hover_text("Off: kept, but not linked")
                .changed()
            {
                app.send(workbench::Command::EnableHostFn {
                    module: def.module.clone(),
                    name: def.name.clone(),
                    enabled,
                });
            }
            // Buttons from the right, so the name takes what is left and truncates instead of
            // widening the panel.
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .small_button("Remove")
                    .on_hover_text("Remove this definition")
                    .clicked()
                {
                    app.send(workbench::Command::RemoveHostFn {
                        module: def.module.clone(),
                        name: def.name.clone(),
                    });
                }
                if let Some(import) = &import
                    && let Some(signature) = import.signature.clone()
                    && ui.small_button("Edit…").clicked()
                {
                    app.view.mock_editor = Some(MockDraft::new(
                        &def.module,
                        &def.name,
                        signature,
                        Some(&def),
                    ));
                }
                ui.add(
                    egui::Label::new(
                        RichText::new(format!("{} · {}", def.qualified(), def.behaviour.kind()))
                            .monospace(),
                    )
                    .truncate(),
                )
                .on_hover_text(format!("{}\n{}", def.qualified(), def.describe()));
            });
        });
        if let Some(reason) = problem {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("does not fit: {reason}"),
            );
        } else if import.is_none() {
            ui.weak("not imported by this plugin");
        }
    }
    ui.add_space(4.0);
}

fn kv(app: &mut App, ui: &mut Ui, kv: &mut std::collections::BTreeMap<String, Bytes>) -> bool {
    ui.label(RichText::new("KV store").strong()).on_hover_text(
        "What kv_get reads and kv_set writes; plugins' writes show up here after each call. \
         Text shows as text; other bytes as base64: (type base64:... to enter binary)",
    );
    let labels = MapLabels {
        entry: "kv",
        add: "Add entry",
        password: false,
    };
    let mut shown: std::collections::BTreeMap<String, String> = kv
        .iter()
        .map(|(k, v)| (k.clone(), v.to_editable()))
        .collect();
    let mut changed = map_editor(ui, &mut shown, &mut app.view.drafts.kv, &labels);
    if changed {
        *kv = shown
            .into_iter()
            .map(|(k, v)| (k, Bytes::from_editable(&v)))
            .collect();
    }
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
    if app.workbench.foreign_secrets() {
        ui.add(
            egui::Label::new(
                RichText::new(
                    "This file is from someone else: it gets only the secret values it carries and those you enter here, never another plugin's.",
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
