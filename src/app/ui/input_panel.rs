//! The input editor: JSON (validated as you type, with line and column, highlighted, Format) or
//! raw text, and input loaded from a file (large or binary files are sent as they are, outside
//! the editor).

use egui::{RichText, Ui};

use super::super::App;
use super::super::action::Action;
use super::json_highlight;
use super::widgets::bytes;
use crate::bundle::InputMode;
use crate::workbench;

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    let mode = app.workbench.state().input.mode;
    let heading = ui.horizontal(|ui| {
        let heading = ui.label(RichText::new("Input").strong());
        for (choice, label, hover) in [
            (
                InputMode::Json,
                "JSON",
                "Validate and highlight the input as JSON",
            ),
            (InputMode::Raw, "Raw", "Send the text as typed"),
        ] {
            if ui
                .selectable_label(mode == choice, label)
                .on_hover_text(hover)
                .clicked()
                && mode != choice
            {
                app.send(workbench::Command::SetInputMode(choice));
            }
        }
        ui.separator();
        Action::FormatInput.button(ui, app, None);
        Action::LoadInput.button(ui, app, Some(RichText::new("Load file…")));
        ui.weak(bytes(app.workbench.state().input.text.len() as u64));
        heading.id
    });
    if let Some(large) = app.workbench.large_input() {
        let size = bytes(large.bytes.len() as u64);
        let name = large.name.clone();
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(format!("{size} from {name}")).strong());
            ui.label(
                "Too large to edit here: it is sent as it is. Clear it to type an input again.",
            );
            Action::ClearLargeInput.button(ui, app, None);
        });
        return;
    }
    match app.workbench.input_error() {
        Some(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("Invalid JSON at {e}"))
                .on_hover_text("Fix the JSON, or switch to Raw to send the text as it is");
        }
        None if mode == InputMode::Json => {
            ui.weak("Valid JSON");
        }
        None => {
            ui.weak("Raw text: sent as typed");
        }
    }
    let json = mode == InputMode::Json;
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
                egui::TextEdit::multiline(app.workbench.input_text_mut())
                    .id_salt("input_editor")
                    .code_editor()
                    .desired_width(f32::INFINITY)
                    .min_size(egui::vec2(0.0, ui.available_height()))
                    .hint_text("Input for the function (Ctrl+Enter runs)")
                    .layouter(&mut layouter),
            );
            if response.labelled_by(heading.inner).changed() {
                app.workbench.input_edited();
            }
        });
}
