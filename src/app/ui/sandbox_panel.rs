//! The sandbox options: WASI, allowed hosts and paths, memory, timeout, fuel, HTTP and var
//! limits, config. Edits take effect on the next run (the plugin is rebuilt).

use egui::{RichText, Ui};

use super::super::App;
use super::super::command::Command;
use super::widgets::{MapLabels, map_editor, optional_u64, section};
use crate::runner::AllowedPath;

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    section(ui, "Sandbox", true, |ui| {
        if app.reset_reason.as_deref() == Some("the sandbox options changed") {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Options changed: the next run rebuilds the plugin with a new instance.",
            );
        }
        ui.checkbox(&mut app.state.options.wasi, "WASI")
            .on_hover_text("Link WASI preview 1 (files, stdout/stderr, clocks, random)");
        allowed_hosts(app, ui);
        allowed_paths(app, ui);
        limits(app, ui);
        config(app, ui);
    });
}

fn allowed_hosts(app: &mut App, ui: &mut Ui) {
    ui.label(RichText::new("Allowed hosts").strong())
        .on_hover_text(
            "Hosts the plugin may reach with HTTP; globs like *.example.com. None: no network.",
        );
    let mut remove = None;
    for (i, host) in app.state.options.allowed_hosts.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(host)
                    .hint_text("host or glob")
                    .desired_width(200.0),
            );
            if ui
                .small_button("✖")
                .on_hover_text("Remove this host")
                .clicked()
            {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        app.state.options.allowed_hosts.remove(i);
    }
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut app.drafts.host)
                .hint_text("add a host, e.g. api.example.com")
                .desired_width(200.0),
        );
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let add = ui
            .add_enabled(
                !app.drafts.host.trim().is_empty(),
                egui::Button::new("Add host"),
            )
            .clicked();
        if (add || enter) && !app.drafts.host.trim().is_empty() {
            let host = std::mem::take(&mut app.drafts.host).trim().to_string();
            if !app.state.options.allowed_hosts.contains(&host) {
                app.state.options.allowed_hosts.push(host);
            }
        }
    });
}

fn allowed_paths(app: &mut App, ui: &mut Ui) {
    ui.label(RichText::new("Allowed paths").strong())
        .on_hover_text("Host directories mapped into the guest (needs WASI)");
    let mut remove = None;
    let mut pick = None;
    for (i, path) in app.state.options.allowed_paths.iter_mut().enumerate() {
        ui.push_id(("allowed_path", i), |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("Host dir");
                let mut host = path.host.display().to_string();
                let field = ui
                    .add(
                        egui::TextEdit::singleline(&mut host)
                            .hint_text("/path/on/this/machine")
                            .desired_width(170.0),
                    )
                    .labelled_by(label.id);
                if field.changed() {
                    path.host = host.into();
                }
                if ui
                    .small_button("📁")
                    .on_hover_text("Pick the host directory")
                    .clicked()
                {
                    pick = Some(i);
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("Guest path");
                ui.add(
                    egui::TextEdit::singleline(&mut path.guest)
                        .hint_text("/data")
                        .desired_width(90.0),
                )
                .labelled_by(label.id);
                ui.checkbox(&mut path.read_only, "read-only");
                if !path.host.as_os_str().is_empty() && !path.host.is_dir() {
                    ui.colored_label(ui.visuals().warn_fg_color, "not a directory");
                }
                if ui
                    .small_button("✖")
                    .on_hover_text("Remove this path")
                    .clicked()
                {
                    remove = Some(i);
                }
            });
        });
    }
    if let Some(i) = remove {
        app.state.options.allowed_paths.remove(i);
    }
    if let Some(i) = pick {
        app.send(Command::PickAllowedPathDir(i));
    }
    if ui
        .button("Add path")
        .on_hover_text("Map a host directory into the guest")
        .clicked()
    {
        app.state.options.allowed_paths.push(AllowedPath::default());
    }
}

fn limits(app: &mut App, ui: &mut Ui) {
    ui.label(RichText::new("Limits").strong());
    let options = &mut app.state.options;
    let mut pages = options.memory_max_pages.map(u64::from);
    if optional_u64(
        ui,
        "Memory max",
        "pages",
        &mut pages,
        256,
        "Maximum linear memory in 64 KiB pages",
    ) {
        options.memory_max_pages = pages.map(|p| u32::try_from(p).unwrap_or(u32::MAX));
    }
    if let Some(mib) = options.memory_max_mib() {
        ui.weak(format!("    = {mib:.2} MiB"));
    }
    optional_u64(
        ui,
        "Timeout",
        "ms",
        &mut options.timeout_ms,
        1000,
        "Wall-clock limit of one call",
    );
    optional_u64(
        ui,
        "Fuel",
        "units",
        &mut options.fuel_limit,
        10_000_000,
        "Roughly, wasm instructions one call may run",
    );
    optional_u64(
        ui,
        "HTTP response max",
        "bytes",
        &mut options.http_response_max_bytes,
        1024 * 1024,
        "Largest HTTP response body the host accepts",
    );
    optional_u64(
        ui,
        "Var max",
        "bytes",
        &mut options.var_max_bytes,
        1024 * 1024,
        "Largest Extism var",
    );
}

fn config(app: &mut App, ui: &mut Ui) {
    ui.label(RichText::new("Config").strong())
        .on_hover_text("Values the plugin reads with config::get");
    let labels = MapLabels {
        entry: "config",
        add: "Add config",
        password: false,
    };
    map_editor(
        ui,
        &mut app.state.options.config,
        &mut app.drafts.config,
        &labels,
    );
}
