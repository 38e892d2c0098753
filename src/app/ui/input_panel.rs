//! The input editor: JSON (validated as you type, with line and column, highlighted, Format) or
//! raw text, and loading input from a file.

use egui::{RichText, Ui};

use super::super::App;
use super::super::command::{Action, Command};
use super::super::state::InputMode;
use super::json_highlight;
use super::widgets::bytes;

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    let heading = ui.horizontal(|ui| {
        let heading = ui.label(RichText::new("Input").strong());
        let before = app.state.input.mode;
        ui.selectable_value(&mut app.state.input.mode, InputMode::Json, "JSON")
            .on_hover_text("Validate and highlight the input as JSON");
        ui.selectable_value(&mut app.state.input.mode, InputMode::Raw, "Raw")
            .on_hover_text("Send the text as typed");
        if before != app.state.input.mode {
            app.input_check = None;
        }
        ui.separator();
        if let Some(c) = Action::FormatInput.button(ui, app.state.input.mode == InputMode::Json) {
            app.send(c);
        }
        if ui
            .button("Load file…")
            .on_hover_text("Replace the input with a file's contents")
            .clicked()
        {
            app.send(Command::LoadInputDialog);
        }
        ui.weak(bytes(app.state.input.text.len() as u64));
        heading.id
    });
    if let Some(large) = &app.large_input {
        let size = bytes(large.bytes.len() as u64);
        let name = large.name.clone();
        let mut clear = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(format!("{size} from {name}")).strong());
            ui.label(
                "Too large to edit here: it is sent as it is. Clear it to type an input again.",
            );
            clear = ui.button("Clear large input").clicked();
        });
        if clear {
            app.send(Command::ClearLargeInput);
        }
        return;
    }
    let error = app.input_error();
    match &error {
        Some(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("Invalid JSON at {e}"))
                .on_hover_text("Fix the JSON, or switch to Raw to send the text as it is");
        }
        None if app.state.input.mode == InputMode::Json => {
            ui.weak("Valid JSON");
        }
        None => {
            ui.weak("Raw text: sent as typed");
        }
    }
    let json = app.state.input.mode == InputMode::Json;
    let mut layouter = |ui: &Ui, text: &dyn egui::TextBuffer, wrap_width: f32| {
        let mut job = if json {
            json_highlight::layout_job(ui, text.as_str())
        } else {
            egui::text::LayoutJob::simple(
                text.as_str().to_string(),
                egui::TextStyle::Monospace.resolve(ui.style()),
                ui.visuals().text_color(),
                f32::INFINITY,
            )
        };
        job.wrap.max_width = wrap_width;
        ui.fonts_mut(|f| f.layout_job(job))
    };
    egui::ScrollArea::vertical()
        .id_salt("input_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let response = ui.add(
                egui::TextEdit::multiline(&mut app.state.input.text)
                    .id_salt("input_editor")
                    .code_editor()
                    .desired_width(f32::INFINITY)
                    .min_size(egui::vec2(0.0, ui.available_height()))
                    .hint_text("Input for the function (Ctrl+Enter runs)")
                    .layouter(&mut layouter),
            );
            let response = response.labelled_by(heading.inner);
            if response.changed() {
                app.input_check = None;
            }
        });
}
