//! Layout of the window: menu bar, status bar, the plugin/sandbox/host side panel, and the
//! central area with the toolbar, the input editor and the results. One file per panel or
//! dialog (a dialog's file owns its draft and what its commands do, as `new_plugin` does);
//! every menu item and toolbar button comes from the [`Action`] table.

mod build_tab;
mod code;
mod compare;
mod consent;
mod host_panel;
mod input_panel;
mod json_highlight;
mod mock_editor;
mod new_plugin;
mod plugin_panel;
mod postmortem;
mod registry;
mod results;
mod sandbox_panel;
mod scenario;
mod tests_window;
pub(crate) mod widgets;

use egui::{RichText, Ui};

pub(crate) use mock_editor::MockDraft;
pub(crate) use new_plugin::{NewPluginCommand, NewPluginDialog};
pub(crate) use postmortem::{CoredumpView, PostmortemWindows, SourceMapDraft};
pub(crate) use registry::RegistryDraft;

use super::App;
use super::action::Action;
use super::state::ThemeChoice;
use crate::runner::Phase;
use crate::samples::SAMPLES;
use crate::workbench::{self, PluginSlot, RunSlot};

/// The side panel's width limits: it never grows with its content (long values wrap or are
/// cut with a tooltip), so the centre keeps its room.
const SIDE_PANEL_MIN: f32 = 260.0;
const SIDE_PANEL_DEFAULT: f32 = 340.0;
const SIDE_PANEL_MAX: f32 = 560.0;

/// The two JSON highlighters side by side, for `cargo bench --bench ui` (which keeps the
/// hand-written one only while it is the faster on large inputs).
#[doc(hidden)]
pub mod bench_support {
    use egui::text::LayoutJob;

    /// The hand-written JSON highlighter the input editor and output view use.
    pub fn json_by_hand(text: &str) -> LayoutJob {
        super::json_highlight::highlight(&egui::FontId::monospace(13.0), true, text)
    }

    /// syntect's JSON grammar through `egui_extras`, as the code views highlight.
    pub fn json_by_syntect(ctx: &egui::Context, text: &str) -> LayoutJob {
        let style = ctx.global_style();
        let theme = egui_extras::syntax_highlighting::CodeTheme::from_style(&style);
        egui_extras::syntax_highlighting::highlight_with(
            ctx,
            &style,
            &theme,
            text,
            "JSON",
            super::code::settings(),
        )
    }
}

/// Lays out the whole window.
pub(crate) fn show(app: &mut App, ui: &mut Ui) {
    egui::Panel::top("menu_bar").show(ui, |ui| menu_bar(app, ui));
    egui::Panel::bottom("status_bar").show(ui, |ui| status_bar(app, ui));
    egui::Panel::left("side_panel")
        .resizable(true)
        .default_size(SIDE_PANEL_DEFAULT)
        .size_range(SIDE_PANEL_MIN..=SIDE_PANEL_MAX)
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
    consent::trusted_files_window(app, ui.ctx());
    consent::consent_modal(app, ui.ctx());
    consent::redirect_modal(app, ui.ctx());
    mock_editor::window(app, ui.ctx());
    tests_window::show(app, ui.ctx());
    tests_window::show_xtp(app, ui.ctx());
    postmortem::source_window(app, ui.ctx());
    postmortem::source_map_window(app, ui.ctx());
    postmortem::coredump_window(app, ui.ctx());
    postmortem::limits_window(app, ui.ctx());
    registry::dialog_window(app, ui.ctx());
    new_plugin::window(app, ui.ctx());
    drop_overlay(ui);
}

fn menu_bar(app: &mut App, ui: &mut Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_menu(app, ui));
        ui.menu_button("Samples", |ui| {
            for sample in SAMPLES {
                ui.horizontal(|ui| {
                    ui.set_min_width(90.0);
                    Action::OpenSample(sample).menu_item(ui, app);
                    ui.weak(sample.description);
                });
            }
        });
        ui.menu_button("Run", |ui| run_menu(app, ui));
        ui.menu_button("Tests", |ui| {
            Action::OpenSuite.menu_item(ui, app);
            Action::AddRunToSuite.menu_item(ui, app);
            ui.separator();
            Action::RunXtp.menu_item(ui, app);
        });
        ui.menu_button("View", |ui| view_menu(app, ui));
        theme_switch(app, ui);
    });
}

fn file_menu(app: &mut App, ui: &mut Ui) {
    Action::NewPlugin.menu_item(ui, app);
    ui.separator();
    for action in [
        Action::OpenPlugin,
        Action::OpenFromRegistry,
        Action::OpenSession,
        Action::Reload,
        Action::Build,
        Action::StopBuild,
    ] {
        action.menu_item(ui, app);
    }
    ui.menu_button("Open recent", |ui| {
        let recent = app.workbench.state().recent_files.clone();
        if recent.is_empty() {
            ui.weak("No recent files");
        }
        for path in recent {
            Action::OpenRecent(path).menu_item(ui, app);
        }
    });
    ui.menu_button("Open recent from registry", |ui| {
        let recent = app.workbench.state().recent_references.clone();
        if recent.is_empty() {
            ui.weak("No registry references opened yet");
        }
        for reference in recent {
            Action::OpenRecentReference(reference).menu_item(ui, app);
        }
    });
    ui.menu_button("Open recent session", |ui| {
        let recent = app.workbench.state().recent_sessions.clone();
        if recent.is_empty() {
            ui.weak("No recent sessions");
        }
        for path in recent {
            Action::OpenRecent(path).menu_item(ui, app);
        }
    });
    ui.separator();
    for action in [
        Action::SaveSession,
        Action::SaveSessionAs,
        Action::SaveBundleAs,
    ] {
        action.menu_item(ui, app);
    }
    let mut secrets = app.workbench.state().bundle_secrets;
    if ui
        .checkbox(&mut secrets, "Include secret values when saving")
        .on_hover_text("Off: sessions and bundles keep secret names with empty values")
        .changed()
    {
        app.send(workbench::Command::SetBundleSecrets(secrets));
    }
    let mut coredump = app.workbench.state().bundle_coredump;
    if ui
        .checkbox(&mut coredump, "Include the trap's coredump in bundles")
        .on_hover_text("A bundle then carries the last trap's coredump, for whoever debugs it. It holds the plugin's memory: its input, what it read, maybe secrets.")
        .changed()
    {
        app.send(workbench::Command::SetBundleCoredump(coredump));
    }
    ui.separator();
    for action in [
        Action::ImportManifest,
        Action::ExportManifest,
        Action::ExportHostCode,
    ] {
        action.menu_item(ui, app);
    }
    ui.separator();
    Action::TrustedFiles.menu_item(ui, app);
    ui.separator();
    for action in [Action::LoadInput, Action::SaveOutput] {
        action.menu_item(ui, app);
    }
    ui.separator();
    Action::Quit.menu_item(ui, app);
}

fn run_menu(app: &mut App, ui: &mut Ui) {
    for action in [
        Action::Run,
        Action::Bench,
        Action::Stop,
        Action::Reset,
        Action::FormatInput,
        Action::RunScenario,
    ] {
        action.menu_item(ui, app);
    }
    ui.separator();
    Action::FindLimits.menu_item(ui, app);
    ui.separator();
    for action in [
        Action::RecordExpected,
        Action::ClearExpected,
        Action::CopyOutput,
        Action::CopyError,
        Action::ShowCoredump,
        Action::SaveCoredump,
        Action::ClearLogs,
    ] {
        action.menu_item(ui, app);
    }
}

fn view_menu(app: &mut App, ui: &mut Ui) {
    for choice in [ThemeChoice::System, ThemeChoice::Light, ThemeChoice::Dark] {
        let action = Action::Theme(choice);
        if ui
            .radio(app.theme == choice, action.label())
            .on_hover_text(action.tooltip())
            .clicked()
        {
            app.send(action.command());
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
            app.send(Action::Theme(next).command());
        }
    });
}

fn toolbar(app: &mut App, ui: &mut Ui) {
    ui.horizontal(|ui| {
        function_picker(app, ui);
        ui.separator();
        if let RunSlot::Running(running) = app.workbench.run_slot() {
            ui.add(egui::Spinner::new());
            ui.label(running_text(running));
            let stop = Action::Stop;
            if running.stop_requested {
                ui.add_enabled(false, egui::Button::new(stop.label()));
            } else {
                stop.button(ui, app, None);
            }
        } else {
            Action::Run.button(ui, app, Some(RichText::new(Action::Run.label()).strong()));
            let bench = Action::Bench.button(ui, app, None);
            let mut loops = app.workbench.state().bench_loops;
            if ui
                .add(
                    egui::DragValue::new(&mut loops)
                        .range(2..=10_000_000)
                        .suffix(" calls"),
                )
                .labelled_by(bench.id)
                .changed()
            {
                app.send(workbench::Command::SetBenchLoops(loops));
            }
        }
        ui.separator();
        let mut keep = app.workbench.state().keep_state;
        if ui
            .checkbox(&mut keep, "Keep state")
            .on_hover_text("On: calls share one warm instance, as a long-lived host's do.\nOff: every call gets a fresh instance.")
            .changed()
        {
            app.send(workbench::Command::SetKeepState(keep));
        }
        Action::Reset.button(ui, app, None);
    });
}

/// What the toolbar and the outcome say while a call runs.
pub(super) fn running_text(running: &workbench::Running) -> String {
    let elapsed = running.started.elapsed().as_secs_f64();
    let function = &running.function;
    if running.stop_requested {
        return format!("Stopping {function}… {elapsed:.1} s");
    }
    match running.call.phase() {
        Phase::Loading => format!("Loading the plugin for {function}… {elapsed:.1} s"),
        Phase::Starting => format!("Starting {function}… {elapsed:.1} s"),
        Phase::Calling if running.loops > 1 => format!(
            "Running {function}: {} of {} calls… {elapsed:.1} s",
            running.call.calls_done(),
            running.loops
        ),
        Phase::Calling => format!("Running {function}… {elapsed:.1} s"),
    }
}

/// The function combo box: the plugin's entry points, then its toolchain internals.
fn function_picker(app: &mut App, ui: &mut Ui) {
    let (entries, internals): (Vec<String>, Vec<String>) = app
        .workbench
        .session()
        .map(|s| {
            let i = s.inspection();
            let owned = |v: Vec<&str>| v.into_iter().map(str::to_string).collect();
            (owned(i.entry_points()), owned(i.toolchain_internals()))
        })
        .unwrap_or_default();
    let current = app.workbench.state().function.clone();
    let mut selected = current.clone();
    let label = ui.label("Function");
    let picker = egui::ComboBox::from_id_salt("function_picker")
        .selected_text(RichText::new(&selected).monospace())
        .width(200.0)
        .show_ui(ui, |ui| {
            ui.set_min_width(200.0);
            for f in &entries {
                ui.selectable_value(&mut selected, f.clone(), RichText::new(f).monospace());
            }
            if !internals.is_empty() {
                ui.separator();
                ui.weak("Toolchain internals");
                for f in &internals {
                    ui.selectable_value(
                        &mut selected,
                        f.clone(),
                        RichText::new(f).monospace().weak(),
                    );
                }
            }
        });
    let _ = picker.response.labelled_by(label.id);
    if selected != current {
        app.send(workbench::Command::SelectFunction(selected));
    }
}

fn status_bar(app: &App, ui: &mut Ui) {
    ui.horizontal(|ui| {
        let wb = &app.workbench;
        let plugin = match wb.plugin() {
            PluginSlot::Ready(ready) => ready.session.plugin().display_name.clone(),
            PluginSlot::Opening(opening) => format!("opening {}", opening.source.label()),
            PluginSlot::Asking(asking) => format!("{} asks for access", asking.source.label()),
            PluginSlot::Empty | PluginSlot::Failed { .. } => "no plugin".to_string(),
        };
        ui.label(RichText::new(plugin).strong());
        ui.separator();
        let instance = match (wb.fresh_reason(), wb.session()) {
            _ if wb.is_running() => "call in progress".to_string(),
            (Some(reason), _) => format!(
                "next run: new instance ({})",
                crate::app::words::fresh_reason(reason)
            ),
            (None, Some(session)) if session.next_call_is_fresh() => "not started".to_string(),
            (None, Some(_)) if wb.state().keep_state => "warm instance".to_string(),
            (None, Some(_)) => "fresh instance per call".to_string(),
            (None, None) => "no plugin".to_string(),
        };
        ui.label(instance);
        if let Some(problem) = app.save_problem() {
            ui.separator();
            ui.colored_label(ui.visuals().warn_fg_color, problem);
        }
        if let Some(status) = wb.status() {
            ui.separator();
            let text = RichText::new(crate::app::words::notice(status));
            if status.is_error() {
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
        "Drop a .wasm module, manifest, session or bundle to open it",
        egui::TextStyle::Heading.resolve(ui.style()),
        egui::Color32::WHITE,
    );
}
