//! The open plugin: file, size, hash, toolchain, hot reload; its exports (entry points pick the
//! function; toolchain internals folded away) and imports, each marked provided or not, with
//! what to do about it.

use egui::{Color32, RichText, Ui};

use super::super::App;
use super::super::action::Action;
use super::MockDraft;
use super::widgets::{bytes, long_value, section};
use crate::runner::inspect::{Import, ImportGroup, ItemKind, Linkage};
use crate::runner::{Inspection, Session};
use crate::workbench::{self, PluginSlot};

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    section(ui, "Plugin", true, |ui| plugin_info(app, ui));
    let Some(session) = app.workbench.session().cloned() else {
        return;
    };
    let unsatisfied = session.unsatisfied_imports();
    if !unsatisfied.is_empty() {
        explain_unsatisfied(app, ui, &session, &unsatisfied);
    }
    let inspection = session.inspection();
    section(ui, "Exports", true, |ui| exports(app, ui, inspection));
    section(ui, "Imports", false, |ui| imports(app, ui, &session));
}

/// Whether the user can define `import` as a host function (a function outside the Extism
/// kernel and WASI).
fn definable(import: &Import) -> bool {
    import.kind == ItemKind::Func
        && matches!(import.group, ImportGroup::ExtismUser | ImportGroup::Other)
}

/// A button that opens the host function editor for `import` (`label`: Mock… or Edit…).
fn mock_button(app: &mut App, ui: &mut Ui, import: &Import, label: &str) {
    let Some(signature) = import.signature.clone() else {
        return;
    };
    let hover = format!(
        "Define what {}::{} {signature} does: a value, a template, the kv store, a failure, a Rhai script or a mock-host plugin",
        import.module, import.name
    );
    if ui.small_button(label).on_hover_text(hover).clicked() {
        let existing = app
            .workbench
            .state()
            .host_functions
            .iter()
            .find(|d| d.module == import.module && d.name == import.name)
            .cloned();
        app.view.mock_editor = Some(MockDraft::new(
            &import.module,
            &import.name,
            signature,
            existing.as_ref(),
        ));
    }
}

fn plugin_info(app: &mut App, ui: &mut Ui) {
    let origin_path = app
        .workbench
        .ready()
        .and_then(|r| r.origin.path())
        .map(std::path::Path::to_path_buf);
    let (session, open_error) = match app.workbench.plugin() {
        PluginSlot::Empty => {
            ui.label("Open a .wasm module or an Extism manifest (File, Open plugin, or drop it on the window).");
            return;
        }
        PluginSlot::Opening(opening) => {
            match &opening.transfer {
                Some(transfer) => {
                    let transfer = std::sync::Arc::clone(transfer);
                    ui.add(egui::Label::new(format!("Pulling {}…", opening.source.label())).wrap());
                    super::registry::pull_progress(app, ui, &transfer);
                }
                None => {
                    ui.horizontal(|ui| {
                        ui.add(egui::Spinner::new());
                        ui.add(
                            egui::Label::new(format!("Opening {}…", opening.source.label())).wrap(),
                        );
                    });
                }
            }
            let PluginSlot::Opening(opening) = app.workbench.plugin() else {
                return;
            };
            match &opening.previous {
                Some(previous) => (previous.session.clone(), None),
                None => return,
            }
        }
        PluginSlot::Asking(asking) => {
            ui.add(
                egui::Label::new(format!(
                    "{} asks for access to this machine: answer to open it.",
                    asking.source.label()
                ))
                .wrap(),
            );
            match &asking.previous {
                Some(previous) => (previous.session.clone(), None),
                None => return,
            }
        }
        PluginSlot::Failed { source, error } => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                crate::app::words::open_failure(source, error),
            );
            return;
        }
        PluginSlot::Ready(ready) => (ready.session.clone(), ready.open_error.clone()),
    };
    if let Some(error) = open_error {
        ui.add(
            egui::Label::new(
                RichText::new(format!("Could not open: {error}"))
                    .color(ui.visuals().error_fg_color),
            )
            .wrap(),
        );
    }
    facts(ui, &session, origin_path.as_deref());
    if let Some(pin) = session.plugin().registry_pin() {
        super::registry::pin_info(app, ui, pin);
    }
    if origin_path.is_some() {
        reload_row(app, ui);
    }
}

/// Hot reload, re-run on reload, Reload and Build, for a plugin opened from a file.
fn reload_row(app: &mut App, ui: &mut Ui) {
    ui.horizontal(|ui| {
        let mut hot = app.workbench.state().hot_reload;
        if ui
            .checkbox(&mut hot, "Hot reload")
            .on_hover_text(
                "Reload the plugin when its file changes on disk (e.g. after a rebuild)",
            )
            .changed()
        {
            app.send(workbench::Command::SetHotReload(hot));
        }
        if let workbench::Watch::Polling { why, .. } = app.workbench.watch() {
            ui.weak("(polling)").on_hover_text(format!(
                "{why}. The file is checked every {} ms instead.",
                workbench::RELOAD_CHECK.as_millis()
            ));
        }
        let mut rerun = app.workbench.state().rerun_on_reload;
        if ui
            .checkbox(&mut rerun, "Re-run on reload")
            .on_hover_text(
                "After a reload, run the current function with the current input and show what changed since the run before it",
            )
            .changed()
        {
            app.send(workbench::Command::SetRerunOnReload(rerun));
        }
        Action::Reload.button(ui, app, Some(RichText::new("Reload").small()));
        if app.workbench.build_crate().is_some() {
            Action::Build.button(ui, app, Some(RichText::new("Build").small()));
        }
    });
}

/// What the module is: file, path, size, hash, toolchain, memory, WASI, modules.
fn facts(ui: &mut Ui, session: &Session, origin_path: Option<&std::path::Path>) {
    let i = session.inspection();
    let plugin = session.plugin();
    // A pulled plugin has no file: it is named after its repository and tag.
    let name = if plugin.registry_pin().is_some() {
        "Name"
    } else {
        "File"
    };
    long_value(ui, name, RichText::new(&plugin.display_name).strong());
    if let Some(path) = &origin_path {
        long_value(
            ui,
            "Path",
            RichText::new(path.display().to_string()).small(),
        );
    }
    ui.horizontal(|ui| {
        ui.label("Size");
        ui.label(bytes(i.size_bytes));
    });
    ui.horizontal(|ui| {
        ui.label("sha256");
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
    if let Some(toolchain) = i.toolchain_summary() {
        long_value(ui, "Toolchain", RichText::new(toolchain).small());
    }
    for m in &i.memories {
        let max = m
            .max_pages
            .map_or_else(|| "no max".to_string(), |p| format!("max {p} pages"));
        long_value(
            ui,
            "Memory",
            RichText::new(format!("{} pages initial, {max}", m.initial_pages)),
        );
    }
    ui.horizontal(|ui| {
        ui.label("WASI");
        ui.label(if i.needs_wasi { "needed" } else { "not needed" });
    });
    ui.horizontal(|ui| {
        ui.label("Debug info");
        if i.has_debug_lines {
            ui.label("source lines").on_hover_text(
                "The module carries DWARF line tables: a trap's frames show file and line",
            );
        } else {
            ui.weak("none").on_hover_text(
                "No DWARF: a trap's frames show function names (or indices), not source lines",
            );
        }
    });
    if plugin.modules.len() > 1 {
        long_value(
            ui,
            "Modules",
            RichText::new(format!(
                "{} (linked: {})",
                plugin.modules.len(),
                plugin.linked_module_names().join(", ")
            )),
        );
    }
}

/// The plugin's entry points, then, folded: what its toolchain added (callable ones can still
/// be picked) and the exports that are not plugin functions.
fn exports(app: &mut App, ui: &mut Ui, inspection: &Inspection) {
    let entries = inspection.entry_points();
    let internals = inspection.toolchain_internals();
    let current = app.workbench.state().function.clone();
    let mut pick = |ui: &mut Ui, name: &str, weak: bool| {
        let sig = inspection
            .export(name)
            .and_then(|e| e.signature.as_ref())
            .map_or_else(String::new, ToString::to_string);
        let mut text = RichText::new(name).monospace();
        if weak {
            text = text.weak();
        }
        let response = ui
            .selectable_label(name == current, text)
            .on_hover_text(format!("{sig}\nClick to call this function"));
        if response.clicked() {
            app.send(workbench::Command::SelectFunction(name.to_string()));
        }
    };
    if entries.is_empty() {
        ui.weak("No plugin functions (none takes no parameters and returns i32 or nothing)");
    }
    for name in &entries {
        pick(ui, name, false);
    }
    let mut others: Vec<_> = inspection.exports.iter().filter(|e| !e.callable).collect();
    others.sort_by(|a, b| a.name.cmp(&b.name));
    let (internal_others, plain_others): (Vec<_>, Vec<_>) = others
        .into_iter()
        .partition(|e| crate::runner::inspect::is_toolchain_internal(&e.name));
    let folded = internals.len() + internal_others.len();
    if folded > 0 {
        egui::CollapsingHeader::new(format!("Toolchain internals · {folded}"))
            .id_salt("toolchain_internals")
            .default_open(internals.contains(&current.as_str()))
            .show(ui, |ui| {
                ui.weak("Added by the plugin's toolchain; rarely what you mean to call.");
                for name in &internals {
                    pick(ui, name, true);
                }
                for export in internal_others {
                    not_callable(ui, export);
                }
            });
    }
    if !plain_others.is_empty() {
        egui::CollapsingHeader::new(format!("Not plugin functions · {}", plain_others.len()))
            .id_salt("other_exports")
            .show(ui, |ui| {
                for export in plain_others {
                    not_callable(ui, export);
                }
            });
    }
}

/// An export that cannot be called as a plugin function, greyed with its kind or signature.
fn not_callable(ui: &mut Ui, export: &crate::runner::inspect::Export) {
    let sig = export
        .signature
        .as_ref()
        .map_or_else(|| export.kind.as_str().to_string(), ToString::to_string);
    ui.add_enabled(
        false,
        egui::Label::new(
            RichText::new(format!("{}  {sig}", export.name))
                .monospace()
                .weak(),
        )
        .truncate(),
    )
    .on_disabled_hover_text(
        "Not an Extism plugin function: those take no parameters and return i32 or nothing",
    );
}

fn imports(app: &mut App, ui: &mut Ui, session: &Session) {
    let inspection = session.inspection();
    let linked = session.plugin().linked_module_names();
    let options = session.options();
    let linkage = Linkage {
        wasi: options.wasi,
        linked_modules: &linked,
        host: &session.host_functions(),
    };
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
                    let problem = Inspection::import_problem(import, &linkage);
                    let sig = import
                        .signature
                        .as_ref()
                        .map_or_else(String::new, ToString::to_string);
                    let (mark, color) = if problem.is_some() {
                        ("✖", ui.visuals().error_fg_color)
                    } else {
                        ("✔", Color32::from_rgb(80, 170, 90))
                    };
                    let user_defined = linkage
                        .host
                        .get(&import.module, &import.name)
                        .is_some_and(|f| f.implementation.is_user_defined());
                    ui.horizontal(|ui| {
                        ui.colored_label(color, mark);
                        ui.add(
                            egui::Label::new(RichText::new(&import.name).monospace()).truncate(),
                        )
                        .on_hover_text(match &problem {
                            Some(p) => format!("{sig}\nCannot be provided: {p}"),
                            None if user_defined => format!("{sig}\nDefined by you"),
                            None => format!("{sig}\nProvided by this host"),
                        });
                        if definable(import) {
                            let label = if user_defined
                                || problem.is_some()
                                    && app
                                        .workbench
                                        .host_problem(&import.module, &import.name)
                                        .is_some()
                            {
                                "Edit…"
                            } else if problem.is_some() {
                                "Mock…"
                            } else {
                                "Override…"
                            };
                            mock_button(app, ui, import, label);
                        }
                    });
                }
            });
    }
}

/// Says, before Run, which imports cannot be provided and how to fix it.
fn explain_unsatisfied(
    app: &mut App,
    ui: &mut Ui,
    session: &Session,
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
                ui.horizontal_wrapped(|ui| {
                    let import = session
                        .inspection()
                        .imports
                        .iter()
                        .find(|i| i.module == u.module && i.name == u.name)
                        .filter(|i| definable(i));
                    if let Some(import) = import {
                        mock_button(app, ui, import, "Mock…");
                    }
                    let problem = app
                        .workbench
                        .host_problem(&u.module, &u.name)
                        .map(|p| format!(" (your definition does not fit: {})", p.reason));
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("{u}{}", problem.unwrap_or_default())).small(),
                        )
                        .wrap(),
                    );
                });
            }
            if unsatisfied.len() > 6 {
                ui.weak(format!("… and {} more", unsatisfied.len() - 6));
            }
            if Action::EnableWasi.availability(app).is_ok()
                && unsatisfied
                    .iter()
                    .all(|u| u.module == crate::runner::inspect::WASI_P1)
            {
                Action::EnableWasi.button(ui, app, None);
            }
        });
}
