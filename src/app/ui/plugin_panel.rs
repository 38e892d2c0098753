//! The open plugin: file, size, hash, toolchain, hot reload; its exports (callable ones pick the
//! function) and imports, each marked satisfied or not, with what to do about it.

use egui::{Color32, RichText, Ui};

use super::super::App;
use super::super::command::Command;
use super::super::state::PluginRef;
use super::widgets::{bytes, section};
use crate::runner::Inspection;
use crate::runner::inspect::ImportGroup;

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    section(ui, "Plugin", true, |ui| plugin_info(app, ui));
    let Some(loaded) = &app.loaded else { return };
    let inspection = loaded.inspection.clone();
    let linked = loaded.plugin.linked_module_names();
    let unsatisfied = inspection.unsatisfied_imports(app.state.options.wasi, &linked);
    if !unsatisfied.is_empty() {
        explain_unsatisfied(app, ui, &unsatisfied);
    }
    section(ui, "Exports", true, |ui| exports(app, ui, &inspection));
    section(ui, "Imports", false, |ui| {
        imports(app, ui, &inspection, &linked);
    });
}

fn plugin_info(app: &mut App, ui: &mut Ui) {
    if let Some(error) = &app.load_error {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("Could not open: {error}"),
        );
    }
    let Some(loaded) = &app.loaded else {
        ui.label("Open a .wasm module or an Extism manifest (File, Open plugin, or drop it on the window).");
        return;
    };
    let i = &loaded.inspection;
    egui::Grid::new("plugin_info")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            ui.label("File");
            ui.label(RichText::new(&loaded.plugin.display_name).strong());
            ui.end_row();
            if let PluginRef::File(path) = &app.state.plugin {
                ui.label("Path");
                ui.label(RichText::new(path.display().to_string()).small())
                    .on_hover_text(path.display().to_string());
                ui.end_row();
            }
            ui.label("Size");
            ui.label(bytes(i.size_bytes));
            ui.end_row();
            ui.label("sha256");
            ui.horizontal(|ui| {
                ui.label(RichText::new(&i.sha256[..16]).monospace())
                    .on_hover_text(&i.sha256);
                if ui
                    .small_button("Copy")
                    .on_hover_text("Copy the full sha256")
                    .clicked()
                {
                    ui.ctx().copy_text(i.sha256.clone());
                }
            });
            ui.end_row();
            if let Some(toolchain) = i.toolchain_summary() {
                ui.label("Toolchain");
                ui.label(RichText::new(toolchain).small());
                ui.end_row();
            }
            for m in &i.memories {
                ui.label("Memory");
                let max = m
                    .max_pages
                    .map_or_else(|| "no max".to_string(), |p| format!("max {p} pages"));
                ui.label(format!("{} pages initial, {max}", m.initial_pages));
                ui.end_row();
            }
            ui.label("WASI");
            ui.label(if i.needs_wasi { "needed" } else { "not needed" });
            ui.end_row();
            if loaded.plugin.modules.len() > 1 {
                ui.label("Modules");
                ui.label(format!(
                    "{} (linked: {})",
                    loaded.plugin.modules.len(),
                    loaded.plugin.linked_module_names().join(", ")
                ));
                ui.end_row();
            }
        });
    if matches!(app.state.plugin, PluginRef::File(_)) {
        ui.checkbox(&mut app.state.hot_reload, "Hot reload")
            .on_hover_text(
                "Reload the plugin when its file changes on disk (e.g. after a rebuild)",
            );
    }
}

fn exports(app: &mut App, ui: &mut Ui, inspection: &Inspection) {
    let mut exports: Vec<_> = inspection.exports.iter().collect();
    exports.sort_by(|a, b| (!a.callable, &a.name).cmp(&(!b.callable, &b.name)));
    for export in exports {
        let sig = export.signature.as_ref().map_or_else(
            || format!("{:?}", export.kind).to_lowercase(),
            ToString::to_string,
        );
        if export.callable {
            let selected = export.name == app.state.function;
            let response = ui
                .selectable_label(selected, RichText::new(&export.name).monospace())
                .on_hover_text(format!("{sig}\nClick to call this function"));
            if response.clicked() {
                app.send(Command::SelectFunction(export.name.clone()));
            }
        } else {
            ui.add_enabled(
                false,
                egui::Label::new(
                    RichText::new(format!("{}  {sig}", export.name))
                        .monospace()
                        .weak(),
                ),
            )
            .on_disabled_hover_text(
                "Not an Extism plugin function: those take no parameters and return i32 or nothing",
            );
        }
    }
}

fn imports(app: &mut App, ui: &mut Ui, inspection: &Inspection, linked: &[String]) {
    let wasi = app.state.options.wasi;
    if inspection.imports.is_empty() {
        ui.weak("No imports");
    }
    for (module, imports) in inspection.imports_by_module() {
        let group = imports.first().map_or(ImportGroup::Other, |i| i.group);
        let title = match group {
            ImportGroup::ExtismEnv => format!("{module} (Extism kernel)"),
            ImportGroup::ExtismUser => format!("{module} (host functions)"),
            ImportGroup::Wasi => format!("{module} (WASI)"),
            ImportGroup::Other => module.to_string(),
        };
        egui::CollapsingHeader::new(format!("{title} · {}", imports.len()))
            .id_salt(("imports", module))
            .default_open(group != ImportGroup::ExtismEnv)
            .show(ui, |ui| {
                for import in imports {
                    let problem = Inspection::import_problem(import, wasi, linked);
                    let sig = import
                        .signature
                        .as_ref()
                        .map_or_else(String::new, ToString::to_string);
                    let (mark, color) = if problem.is_some() {
                        ("✗", ui.visuals().error_fg_color)
                    } else {
                        ("✓", Color32::from_rgb(80, 170, 90))
                    };
                    ui.horizontal(|ui| {
                        ui.colored_label(color, mark);
                        let label = ui.label(RichText::new(&import.name).monospace());
                        label.on_hover_text(match &problem {
                            Some(p) => format!("{sig}\nCannot be satisfied: {p}"),
                            None => format!("{sig}\nProvided by this host"),
                        });
                    });
                }
            });
    }
}

/// Says, before Run, which imports cannot be satisfied and how to fix it.
fn explain_unsatisfied(
    app: &mut App,
    ui: &mut Ui,
    unsatisfied: &[crate::runner::inspect::Unsatisfied],
) {
    egui::Frame::group(ui.style())
        .fill(ui.visuals().extreme_bg_color)
        .show(ui, |ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "This plugin cannot run yet: {} import(s) unsatisfied",
                    unsatisfied.len()
                ),
            );
            for u in unsatisfied.iter().take(6) {
                ui.label(RichText::new(u.to_string()).small());
            }
            if unsatisfied.len() > 6 {
                ui.weak(format!("… and {} more", unsatisfied.len() - 6));
            }
            if unsatisfied
                .iter()
                .all(|u| u.module == crate::runner::inspect::WASI_P1)
                && ui.button("Turn WASI on").clicked()
            {
                app.send(Command::EnableWasi);
            }
        });
}
