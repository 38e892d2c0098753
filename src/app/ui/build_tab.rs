//! The Build tab: the command, how the build is going (Stop while it runs), and cargo's
//! output as it comes, each `file:line` a link to the source view.

use egui::{Color32, RichText, Ui};

use super::super::App;
use super::super::action::Action;
use super::super::command::Postmortem;
use crate::build::Level;

/// The Build tab: the command, how it is going, and cargo's output.
pub(super) fn show(app: &mut App, ui: &mut Ui) {
    let Some(job) = app.workbench.build_job() else {
        ui.horizontal(|ui| {
            Action::Build.button(ui, app, None);
            if let Some(krate) = app.workbench.build_crate() {
                ui.weak(format!(
                    "{} in {}",
                    krate.command_line(),
                    krate.dir.display()
                ));
            }
        });
        ui.weak("Nothing built yet in this session. Ctrl+B builds the open plugin's crate.");
        return;
    };
    let command_line = job.build.krate.command_line();
    let dir = job.build.krate.dir.display().to_string();
    let running = job.is_running();
    let elapsed = job.build.started.elapsed().as_secs_f64();
    let outcome = job.build.outcome().cloned();
    ui.horizontal(|ui| {
        if running {
            ui.spinner();
            ui.label(format!("Building… {elapsed:.0} s"));
            Action::StopBuild.button(ui, app, None);
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(500));
        } else {
            Action::Build.button(ui, app, None);
            match &outcome {
                Some(crate::build::Outcome::Succeeded { duration_ms }) => {
                    ui.colored_label(
                        Color32::from_rgb(80, 170, 90),
                        format!("Built in {:.1} s", duration_ms / 1000.0),
                    );
                }
                Some(crate::build::Outcome::Failed { errors, .. }) => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("Build failed: {errors} error(s)"),
                    );
                }
                Some(crate::build::Outcome::Stopped) => {
                    ui.weak("Stopped");
                }
                Some(crate::build::Outcome::Aborted(why)) => {
                    ui.colored_label(ui.visuals().error_fg_color, why);
                }
                None => {}
            }
        }
        ui.weak(format!("{command_line} in {dir}"));
    });
    ui.separator();
    let open_source = build_lines(app, ui);
    if let Some(location) = open_source {
        app.send(Postmortem::OpenSource {
            file: location.path.display().to_string(),
            line: location.line,
            column: location.column,
        });
    }
}

/// cargo's output, each diagnostic's place a link; returns the place clicked.
fn build_lines(app: &App, ui: &mut Ui) -> Option<crate::build::Location> {
    let mut open_source = None;
    let job = app.workbench.build_job()?;
    let lines = job.build.lines();
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 2.0;
    egui::ScrollArea::both()
        .id_salt("build_output")
        .auto_shrink([false, false])
        .stick_to_bottom(true)
        .show_rows(ui, row_height, lines.len(), |ui, range| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            for line in &lines[range] {
                let color = match line.level {
                    Level::Error => Some(ui.visuals().error_fg_color),
                    Level::Warning => Some(ui.visuals().warn_fg_color),
                    Level::Other => None,
                };
                let mut text = RichText::new(&line.text).monospace();
                if let Some(color) = color {
                    text = text.color(color);
                }
                match &line.location {
                    Some(location) => {
                        if ui
                            .link(text)
                            .on_hover_text(format!(
                                "Open {} at line {}",
                                location.path.display(),
                                location.line
                            ))
                            .clicked()
                        {
                            open_source = Some(location.clone());
                        }
                    }
                    None => {
                        ui.label(text);
                    }
                }
            }
        });
    open_source
}
