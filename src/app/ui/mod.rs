//! Layout of the window: menu bar, status bar, the plugin/sandbox/host side panel, and the
//! central area with the toolbar, the input editor and the results. One file per panel.

mod compare;
pub(crate) use compare::DiffRow;
mod host_panel;
mod input_panel;
mod json_highlight;
mod plugin_panel;
mod results;
mod sandbox_panel;
pub(crate) mod widgets;

use egui::{RichText, Ui};

use super::App;
use super::command::{Action, Command};
use super::state::{PluginRef, ThemeChoice};
use crate::samples::SAMPLES;

/// Text being typed into "add" rows of the side panel, not yet committed to the state.
#[derive(Default)]
pub(crate) struct PanelDrafts {
    pub host: String,
    /// Key and value being typed for a new config entry, kv entry and secret.
    pub config: (String, String),
    pub kv: (String, String),
    pub secret: (String, String),
}

/// Lays out the whole window.
pub(crate) fn show(app: &mut App, ui: &mut Ui) {
    egui::Panel::top("menu_bar").show(ui, |ui| menu_bar(app, ui));
    egui::Panel::bottom("status_bar").show(ui, |ui| status_bar(app, ui));
    egui::Panel::left("side_panel")
        .resizable(true)
        .default_size(340.0)
        .min_size(260.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    plugin_panel::show(app, ui);
                    ui.add_space(4.0);
                    sandbox_panel::show(app, ui);
                    ui.add_space(4.0);
                    host_panel::show(app, ui);
                });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        toolbar(app, ui);
        ui.separator();
        egui::Panel::top("input_panel")
            .resizable(true)
            .default_size(220.0)
            .min_size(90.0)
            .show(ui, |ui| input_panel::show(app, ui));
        egui::CentralPanel::default().show(ui, |ui| results::show(app, ui));
    });
    compare::export_window(app, ui.ctx());
    drop_overlay(ui);
}

fn menu_bar(app: &mut App, ui: &mut Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_menu(app, ui));
        ui.menu_button("Samples", |ui| {
            for sample in SAMPLES {
                ui.horizontal(|ui| {
                    let button = egui::Button::new(sample.name).min_size(egui::vec2(90.0, 0.0));
                    if ui.add(button).on_hover_text(sample.description).clicked() {
                        app.send(Command::OpenSample(sample.name));
                        ui.close();
                    }
                    ui.weak(sample.description);
                });
            }
        });
        ui.menu_button("Run", |ui| run_menu(app, ui));
        ui.menu_button("View", |ui| view_menu(app, ui));
        theme_switch(app, ui);
    });
}

fn file_menu(app: &mut App, ui: &mut Ui) {
    if let Some(c) = Action::Open.menu_button(ui, true) {
        app.send(c);
    }
    if let Some(c) = Action::OpenSession.menu_button(ui, true) {
        app.send(c);
    }
    let is_file = matches!(app.state.plugin, PluginRef::File(_));
    if let Some(c) = Action::Reload.menu_button(ui, is_file) {
        app.send(c);
    }
    ui.menu_button("Open recent", |ui| {
        if app.state.recent_files.is_empty() {
            ui.weak("No recent files");
        }
        for path in app.state.recent_files.clone() {
            if ui.button(path.display().to_string()).clicked() {
                app.send(Command::OpenPath(path));
                ui.close();
            }
        }
    });
    ui.menu_button("Open recent session", |ui| {
        if app.state.recent_sessions.is_empty() {
            ui.weak("No recent sessions");
        }
        for path in app.state.recent_sessions.clone() {
            if ui.button(path.display().to_string()).clicked() {
                app.send(Command::OpenPath(path));
                ui.close();
            }
        }
    });
    ui.separator();
    let has_plugin = app.loaded.is_some();
    if let Some(c) = Action::SaveSession.menu_button(ui, has_plugin) {
        app.send(c);
    }
    if ui
        .add_enabled(has_plugin, egui::Button::new("Save session as…"))
        .on_hover_text("Save the session to a new file (the plugin by path)")
        .clicked()
    {
        app.send(Command::SaveSessionAs);
        ui.close();
    }
    if ui
        .add_enabled(has_plugin, egui::Button::new("Save as bundle (embed plugin)…"))
        .on_hover_text("A self-contained file: the plugin's bytes inside, for sharing and `extism-playground replay`")
        .clicked()
    {
        app.send(Command::SaveBundleAs);
        ui.close();
    }
    ui.checkbox(
        &mut app.state.bundle_secrets,
        "Include secret values when saving",
    )
    .on_hover_text("Off: sessions and bundles keep secret names with empty values");
    ui.separator();
    if ui
        .button("Import Extism manifest…")
        .on_hover_text("Open an Extism manifest JSON: its modules and options")
        .clicked()
    {
        app.send(Command::OpenDialog);
        ui.close();
    }
    if ui
        .add_enabled(has_plugin, egui::Button::new("Export Extism manifest…"))
        .on_hover_text("The plugin and sandbox options as a manifest for the extism CLI and SDKs")
        .clicked()
    {
        app.send(Command::ExportManifestDialog);
        ui.close();
    }
    if ui
        .add_enabled(has_plugin, egui::Button::new("Export host code…"))
        .on_hover_text("Go and Rust programs that run this scenario with the Extism SDKs")
        .clicked()
    {
        app.send(Command::ShowExportCode);
        ui.close();
    }
    ui.separator();
    if ui.button("Load input from file…").clicked() {
        app.send(Command::LoadInputDialog);
        ui.close();
    }
    let has_output = app.last.is_some();
    if ui
        .add_enabled(has_output, egui::Button::new("Save output…"))
        .clicked()
    {
        app.send(Command::SaveOutputDialog);
        ui.close();
    }
    ui.separator();
    if ui.button("Quit").clicked() {
        ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
    }
}

fn run_menu(app: &mut App, ui: &mut Ui) {
    let can_run = app.running.is_none();
    let has_last = app.last.is_some();
    for action in [
        Action::Run,
        Action::Stop,
        Action::Reset,
        Action::FormatInput,
    ] {
        let enabled = match action {
            Action::Run => can_run,
            Action::Stop => !can_run,
            _ => true,
        };
        if let Some(c) = action.menu_button(ui, enabled) {
            app.send(c);
        }
    }
    ui.separator();
    if ui
        .add_enabled(has_last, egui::Button::new("Record expected output"))
        .on_hover_text(
            "Remember the last run's outcome; later runs and `replay` are checked against it",
        )
        .clicked()
    {
        app.send(Command::RecordExpected);
        ui.close();
    }
    if ui
        .add_enabled(
            app.state.expected.is_some(),
            egui::Button::new("Clear expected output"),
        )
        .clicked()
    {
        app.send(Command::ClearExpected);
        ui.close();
    }
}

fn set_theme(ui: &Ui, choice: ThemeChoice) {
    ui.ctx().set_theme(match choice {
        ThemeChoice::System => egui::ThemePreference::System,
        ThemeChoice::Light => egui::ThemePreference::Light,
        ThemeChoice::Dark => egui::ThemePreference::Dark,
    });
}

fn view_menu(app: &mut App, ui: &mut Ui) {
    for (choice, label) in [
        (ThemeChoice::System, "Follow system theme"),
        (ThemeChoice::Light, "Light"),
        (ThemeChoice::Dark, "Dark"),
    ] {
        if ui
            .radio_value(&mut app.state.theme, choice, label)
            .clicked()
        {
            set_theme(ui, choice);
            ui.close();
        }
    }
}

/// The sun/moon button at the right of the menu bar.
fn theme_switch(app: &mut App, ui: &mut Ui) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        let dark = ui.visuals().dark_mode;
        let (icon, next, hover) = if dark {
            ("☀", ThemeChoice::Light, "Switch to the light theme")
        } else {
            ("🌙", ThemeChoice::Dark, "Switch to the dark theme")
        };
        if ui
            .add(egui::Button::new(icon).frame(false))
            .on_hover_text(hover)
            .clicked()
        {
            app.state.theme = next;
            set_theme(ui, next);
        }
    });
}

fn toolbar(app: &mut App, ui: &mut Ui) {
    ui.horizontal(|ui| {
        let functions: Vec<String> = app
            .loaded
            .as_ref()
            .map(|l| l.inspection.callable_functions().iter().map(|s| (*s).to_string()).collect())
            .unwrap_or_default();
        let mut selected = app.state.function.clone();
        let label = ui.label("Function");
        let picker = egui::ComboBox::from_id_salt("function_picker")
            .selected_text(RichText::new(&selected).monospace())
            .width(200.0)
            .show_ui(ui, |ui| {
                ui.set_min_width(200.0);
                for f in &functions {
                    ui.selectable_value(&mut selected, f.clone(), RichText::new(f).monospace());
                }
            });
        let _ = picker.response.labelled_by(label.id);
        if selected != app.state.function {
            app.send(Command::SelectFunction(selected));
        }
        ui.separator();
        if let Some(running) = &app.running {
            ui.add(egui::Spinner::new());
            let elapsed = running.started.elapsed().as_secs_f64();
            let what = if running.stop_requested { "Stopping" } else { "Running" };
            ui.label(format!("{what} {}… {elapsed:.1} s", running.function));
            if let Some(c) = Action::Stop.button(ui, !running.stop_requested) {
                app.send(c);
            }
        } else {
            let blocker = app.run_blocker();
            let hover = blocker.clone().unwrap_or_else(|| Action::Run.hover_text(ui.ctx()));
            let run = ui
                .add_enabled(blocker.is_none(), egui::Button::new(RichText::new(Action::Run.label()).strong()))
                .on_hover_text(&hover)
                .on_disabled_hover_text(&hover);
            if run.clicked() {
                app.send(Command::Run);
            }
            let bench = ui
                .add_enabled(blocker.is_none(), egui::Button::new("Bench"))
                .on_hover_text("Call the function this many times on the warm instance (inside the worker) and show calls/s, percentiles and a histogram in Timing. Logs are kept at info and above.")
                .on_disabled_hover_text(&hover);
            let loops = ui
                .add(egui::DragValue::new(&mut app.state.bench_loops).range(2..=10_000_000).suffix(" calls"))
                .labelled_by(bench.id);
            let _ = loops;
            if bench.clicked() {
                app.send(Command::RunBench);
            }
        }
        ui.separator();
        ui.checkbox(&mut app.state.keep_state, "Keep state")
            .on_hover_text("On: calls share one warm instance, as a long-lived host's do.\nOff: every call gets a fresh instance.");
        if let Some(c) = Action::Reset.button(ui, true) {
            app.send(c);
        }
    });
}

fn status_bar(app: &App, ui: &mut Ui) {
    ui.horizontal(|ui| {
        let plugin = app
            .loaded
            .as_ref()
            .map_or("no plugin", |l| l.plugin.display_name.as_str());
        ui.label(RichText::new(plugin).strong());
        ui.separator();
        let instance = match (&app.reset_reason, app.session.is_some()) {
            (Some(reason), _) => format!("next run: new instance ({reason})"),
            (None, true) if app.state.keep_state => "warm instance".to_string(),
            (None, true) => "fresh instance per call".to_string(),
            (None, false) => "not started".to_string(),
        };
        ui.label(instance);
        if let Some(status) = &app.status {
            ui.separator();
            let text = RichText::new(&status.text);
            if status.is_error {
                ui.colored_label(ui.visuals().warn_fg_color, text);
            } else {
                ui.label(text);
            }
        }
    });
}

/// A hint while files are dragged over the window.
fn drop_overlay(ui: &Ui) {
    let ctx = ui.ctx();
    if ctx.input(|i| i.raw.hovered_files.is_empty()) {
        return;
    }
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop_overlay"),
    ));
    let rect = ctx.content_rect();
    painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(180));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        "Drop a .wasm module or manifest to open it",
        egui::TextStyle::Heading.resolve(ui.style()),
        egui::Color32::WHITE,
    );
}
