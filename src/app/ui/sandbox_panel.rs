//! The sandbox options: WASI, allowed hosts and paths, memory, timeout, fuel, HTTP and var
//! limits, config. The panel edits a copy; when a widget reports a change, the copy goes to the
//! workbench, which hands it to the session (the next run starts on a new instance).

use egui::{RichText, Ui};

use super::super::App;
use super::super::command::{Command, DialogPurpose};
use super::widgets::{MapLabels, map_editor, optional_u64, section};
use crate::runner::{AllowedPath, SandboxOptions};
use crate::trust::{Decision, FileGrants, Grant};
use crate::workbench::{self, FreshReason, OptionsOrigin};

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    section(ui, "Sandbox", true, |ui| {
        origin_note(app, ui);
        let grants = app.workbench.ready().and_then(|r| r.grants.clone());
        if let Some(grants) = &grants {
            withheld_note(app, ui, grants);
        }
        if app.workbench.fresh_reason() == Some(FreshReason::OptionsChanged) {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Options changed: the next run rebuilds the plugin with a new instance.",
            );
        }
        let mut options = app.workbench.state().options.clone();
        let mut changed = ui
            .checkbox(&mut options.wasi, "WASI")
            .on_hover_text("Link WASI preview 1 (files, stdout/stderr, clocks, random)")
            .changed();
        changed |= allowed_hosts(app, ui, &mut options, grants.as_deref());
        changed |= allowed_paths(app, ui, &mut options, grants.as_deref());
        changed |= limits(ui, &mut options);
        changed |= config(app, ui, &mut options);
        changed |= ui
            .checkbox(&mut options.fast_compile, "Fast compile (slower code)")
            .on_hover_text(
                "Compile with Cranelift unoptimized and its single-pass register allocator: a large plugin (a 2 MB js-pdk build) compiles in about half the time, and its calls run slower. For iterating; turn it off to measure.",
            )
            .changed();
        if changed {
            app.send(workbench::Command::SetOptions(options));
        }
    });
}

/// Where the options came from, so options carried over from another plugin never surprise.
fn origin_note(app: &App, ui: &mut Ui) {
    let Some(ready) = app.workbench.ready() else {
        return;
    };
    let name = &ready.session.plugin().display_name;
    let text = match ready.options_origin {
        OptionsOrigin::Kept => return,
        OptionsOrigin::Remembered => format!("Your options from the last time you used {name}"),
        OptionsOrigin::Defaults => {
            if app.workbench.state().options.wasi {
                format!(
                    "Defaults for {name}, opened for the first time: closed, with WASI on because it imports WASI"
                )
            } else {
                format!("Defaults for {name}, opened for the first time: closed sandbox")
            }
        }
        OptionsOrigin::Sample => "The options this sample needs".to_string(),
        OptionsOrigin::Manifest => {
            "From the manifest (WASI and fuel are not part of a manifest)".to_string()
        }
        OptionsOrigin::Scenario => "From the session or bundle".to_string(),
    };
    ui.add(egui::Label::new(RichText::new(text).small().weak()).wrap());
}

/// What the file was opened without, with a way to be asked again.
fn withheld_note(app: &mut App, ui: &mut Ui, grants: &FileGrants) {
    let withheld = grants.withheld();
    if withheld.is_empty() {
        return;
    }
    let warn = ui.visuals().warn_fg_color;
    ui.colored_label(
        warn,
        format!(
            "Opened without {}'s grants; withheld:",
            grants.review.file_name()
        ),
    );
    for grant in withheld {
        ui.add(egui::Label::new(RichText::new(format!("  {grant}")).small()).wrap());
    }
    if ui
        .small_button("Review grants…")
        .on_hover_text("Open the file again and answer again")
        .clicked()
    {
        app.send(workbench::Command::Open(workbench::Source::Path(
            grants.review.file.clone(),
        )));
    }
}

/// A small line under a grant that came from the opened file (under, not beside: the side
/// panel keeps its width).
fn from_file_mark(ui: &mut Ui, grants: &FileGrants, exempt: bool) {
    let hover = if exempt {
        "A read-only subfolder of the file's own folder: allowed without asking"
    } else if grants.trust.is_some() {
        "Granted by a file you trust (File, Trusted files)"
    } else {
        "Granted by you when the file was opened"
    };
    ui.label(
        RichText::new(format!("    granted by {}", grants.review.file_name()))
            .small()
            .color(ui.visuals().warn_fg_color),
    )
    .on_hover_text(hover);
}

fn host_from_file<'a>(grants: Option<&'a FileGrants>, host: &str) -> Option<&'a FileGrants> {
    grants.filter(|g| {
        g.decision == Decision::Allow
            && g.review
                .grants
                .iter()
                .any(|grant| matches!(grant, Grant::Host(h) if h == host))
    })
}

/// Whether `path` came from the file: `Some(true)` exempt, `Some(false)` granted.
fn path_from_file(grants: Option<&FileGrants>, path: &AllowedPath) -> Option<bool> {
    let grants = grants?;
    if grants.review.exempt.iter().any(|p| p.host == path.host) {
        return Some(true);
    }
    let granted = grants.decision == Decision::Allow
        && grants
            .review
            .grants
            .iter()
            .any(|grant| matches!(grant, Grant::Path(p) if p.host == path.host));
    granted.then_some(false)
}

fn allowed_hosts(
    app: &mut App,
    ui: &mut Ui,
    options: &mut SandboxOptions,
    grants: Option<&FileGrants>,
) -> bool {
    let mut changed = false;
    ui.label(RichText::new("Allowed hosts").strong())
        .on_hover_text(
            "Hosts the plugin may reach with HTTP; globs like *.example.com. None: no network.",
        );
    let mut remove = None;
    for (i, host) in options.allowed_hosts.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            changed |= ui
                .add(
                    egui::TextEdit::singleline(host)
                        .hint_text("host or glob")
                        .desired_width(200.0),
                )
                .changed();
            if ui
                .small_button("✖")
                .on_hover_text("Remove this host")
                .clicked()
            {
                remove = Some(i);
            }
        });
        if let Some(grants) = host_from_file(grants, host) {
            from_file_mark(ui, grants, false);
        }
    }
    if let Some(i) = remove {
        options.allowed_hosts.remove(i);
        changed = true;
    }
    let draft = &mut app.view.drafts.host;
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(draft)
                .hint_text("add a host, e.g. api.example.com")
                .desired_width(200.0),
        );
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let add = ui
            .add_enabled(!draft.trim().is_empty(), egui::Button::new("Add host"))
            .clicked();
        if (add || enter) && !draft.trim().is_empty() {
            let host = std::mem::take(draft).trim().to_string();
            if !options.allowed_hosts.contains(&host) {
                options.allowed_hosts.push(host);
                changed = true;
            }
        }
    });
    changed
}

fn allowed_paths(
    app: &mut App,
    ui: &mut Ui,
    options: &mut SandboxOptions,
    grants: Option<&FileGrants>,
) -> bool {
    let mut changed = false;
    ui.label(RichText::new("Allowed paths").strong())
        .on_hover_text("Host directories mapped into the guest (needs WASI)");
    let mut remove = None;
    for (i, path) in options.allowed_paths.iter_mut().enumerate() {
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
                    changed = true;
                }
                if ui
                    .small_button("📁")
                    .on_hover_text("Pick the host directory")
                    .clicked()
                {
                    app.send(Command::Dialog(DialogPurpose::PickAllowedPathDir(i)));
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("Guest path");
                changed |= ui
                    .add(
                        egui::TextEdit::singleline(&mut path.guest)
                            .hint_text("/data")
                            .desired_width(90.0),
                    )
                    .labelled_by(label.id)
                    .changed();
                changed |= ui.checkbox(&mut path.read_only, "read-only").changed();
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
            if let (Some(exempt), Some(grants)) = (path_from_file(grants, path), grants) {
                from_file_mark(ui, grants, exempt);
            }
        });
    }
    if let Some(i) = remove {
        options.allowed_paths.remove(i);
        changed = true;
    }
    if ui
        .button("Add path")
        .on_hover_text("Map a host directory into the guest")
        .clicked()
    {
        options.allowed_paths.push(AllowedPath::default());
        changed = true;
    }
    changed
}

fn limits(ui: &mut Ui, options: &mut SandboxOptions) -> bool {
    ui.label(RichText::new("Limits").strong());
    let mut pages = options.memory_max_pages.map(u64::from);
    let mut changed = optional_u64(
        ui,
        "Memory max",
        "pages",
        &mut pages,
        256,
        "Maximum linear memory in 64 KiB pages",
    );
    if changed {
        options.memory_max_pages = pages.map(|p| u32::try_from(p).unwrap_or(u32::MAX));
    }
    if let Some(mib) = options.memory_max_mib() {
        ui.weak(format!("    = {mib:.2} MiB"));
    }
    changed |= optional_u64(
        ui,
        "Timeout",
        "ms",
        &mut options.timeout_ms,
        1000,
        "Wall-clock limit of one call",
    );
    changed |= optional_u64(
        ui,
        "Fuel",
        "units",
        &mut options.fuel_limit,
        10_000_000,
        "Roughly, wasm instructions one call may run",
    );
    changed |= optional_u64(
        ui,
        "HTTP response max",
        "bytes",
        &mut options.http_response_max_bytes,
        1024 * 1024,
        "Largest HTTP response body the host accepts",
    );
    changed |= optional_u64(
        ui,
        "Var max",
        "bytes",
        &mut options.var_max_bytes,
        1024 * 1024,
        "Largest Extism var",
    );
    changed
}

fn config(app: &mut App, ui: &mut Ui, options: &mut SandboxOptions) -> bool {
    ui.label(RichText::new("Config").strong())
        .on_hover_text("Values the plugin reads with config::get");
    let labels = MapLabels {
        entry: "config",
        add: "Add config",
        password: false,
    };
    map_editor(
        ui,
        &mut options.config,
        &mut app.view.drafts.config,
        &labels,
    )
}
