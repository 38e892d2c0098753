//! The Scenario tab: the steps of the open scenario, Run all with a verdict per step, the first
//! step that differs marked and its difference shown (side by side for outputs).

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::super::App;
use super::super::action::Action;
use super::super::command::{Command, DialogPurpose};
use super::results::ok_color;
use crate::bundle::ExpectedOutcome;
use crate::bundle::diff;
use crate::workbench::Command as Wb;
use crate::workbench::scenario::{ScenarioRun, ScenarioView};

const ROW_HEIGHT: f32 = 20.0;

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    let Some(view) = app.workbench.scenario_view() else {
        ui.weak(
            "A scenario is several calls replayed in order on one instance, each checked against what it expects: for problems that appear only after earlier calls. Make one from runs in History (tick them), or open a session or bundle that holds several steps.",
        );
        return;
    };
    let name = view.name.clone();
    let count = view.steps.len();
    let running = view.is_running();
    let keep_state = view.keep_state;
    ui.horizontal(|ui| {
        ui.strong(format!("{name}: {count} steps"));
        ui.weak(if keep_state {
            "on one instance (the first step on a fresh one)"
        } else {
            "each step on a fresh instance"
        });
    });
    ui.horizontal(|ui| {
        Action::RunScenario.button(ui, app, None);
        if running {
            ui.spinner();
            Action::Stop.button(ui, app, None);
        }
        if ui
            .button("Save scenario…")
            .on_hover_text("Save the scenario as a session (the plugin by path); `extism-playground replay` runs every step")
            .clicked()
        {
            app.send(Command::Dialog(DialogPurpose::SaveSession { embed: false }));
        }
        if ui
            .button("Close scenario")
            .on_hover_text("Back to single calls (the steps are gone unless saved)")
            .clicked()
        {
            app.send(Wb::CloseScenario);
        }
    });
    ui.separator();
    let Some(view) = app.workbench.scenario_view() else {
        return;
    };
    if let Some(i) = steps_table(ui, view) {
        app.send(Wb::EditScenarioStep(i));
        return;
    }
    difference(ui, view);
}

/// The steps with their verdicts; returns the step whose Edit was clicked.
fn steps_table(ui: &mut Ui, view: &ScenarioView) -> Option<usize> {
    let results = view.results();
    let first_difference = view.first_difference();
    let stopped = matches!(view.run, ScenarioRun::Done { stopped: true, .. });
    let mut edit = None;
    let ok = ok_color(ui);
    let error = ui.visuals().error_fg_color;
    TableBuilder::new(ui)
        .id_salt("scenario_steps")
        .striped(true)
        .max_scroll_height(220.0)
        .column(Column::auto())
        .column(Column::auto())
        .column(Column::remainder().at_least(80.0).clip(true))
        .column(Column::initial(240.0).at_least(100.0).clip(true))
        .column(Column::auto().at_least(120.0))
        .column(Column::auto())
        .header(ROW_HEIGHT, |mut header| {
            for title in ["#", "function", "input", "expects", "verdict", ""] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, view.steps.len(), |mut row| {
                let i = row.index();
                let step = &view.steps[i];
                row.col(|ui| {
                    ui.label((i + 1).to_string());
                });
                row.col(|ui| {
                    ui.label(RichText::new(&step.function).monospace());
                });
                row.col(|ui| {
                    let text = String::from_utf8_lossy(&step.input);
                    let short: String = text.chars().take(120).collect();
                    ui.label(RichText::new(super::widgets::printable(&short)).monospace())
                        .on_hover_text(super::widgets::printable(&text));
                });
                row.col(|ui| {
                    ui.label(
                        step.expected
                            .as_ref()
                            .map_or_else(|| "success".to_string(), ExpectedOutcome::describe),
                    );
                });
                row.col(|ui| match results.and_then(|r| r.get(i)) {
                    Some(result) if result.passed() => {
                        ui.colored_label(ok, "✔ matches");
                    }
                    Some(_) if first_difference == Some(i) => {
                        ui.colored_label(error, "✖ first difference");
                    }
                    Some(_) => {
                        ui.colored_label(error, "✖ differs");
                    }
                    None if results.is_some() && stopped => {
                        ui.weak("stopped");
                    }
                    None if results.is_some() => {
                        ui.weak("not run");
                    }
                    None => {
                        ui.weak("—");
                    }
                });
                row.col(|ui| {
                    if ui
                        .small_button("Edit")
                        .on_hover_text("Put this step's function, input and expected outcome in the editor, to run it on its own")
                        .clicked()
                    {
                        edit = Some(i);
                    }
                });
            });
        });
    edit
}

/// What the first step that differs got, against what it expects.
fn difference(ui: &mut Ui, view: &ScenarioView) {
    let Some(i) = view.first_difference() else {
        return;
    };
    let (Some(step), Some(result)) = (view.steps.get(i), view.results().and_then(|r| r.get(i)))
    else {
        return;
    };
    ui.separator();
    ui.strong(format!("Step {} ({}): what differs", i + 1, step.function));
    let report = &result.report;
    match (&step.expected, &report.error) {
        (Some(ExpectedOutcome::Output(want)), None) => {
            let rows = diff::side_by_side(want, &report.output);
            super::compare::side_by_side(
                ui,
                "scenario_diff",
                ("expected", "actual"),
                &rows,
                f32::INFINITY,
            );
        }
        (Some(ExpectedOutcome::Json(want)), None) => {
            let actual = serde_json::from_slice::<serde_json::Value>(&report.output).map_or_else(
                |_| String::from_utf8_lossy(&report.output).into_owned(),
                |v| diff::canonical_json(&v),
            );
            let rows = diff::side_by_side(diff::canonical_json(want).as_bytes(), actual.as_bytes());
            super::compare::side_by_side(
                ui,
                "scenario_diff",
                ("expected (keys sorted)", "actual (keys sorted)"),
                &rows,
                f32::INFINITY,
            );
        }
        _ => {
            egui::ScrollArea::vertical()
                .id_salt("scenario_failure")
                .show(ui, |ui| {
                    ui.label(RichText::new(result.failure().unwrap_or_default()).monospace());
                });
        }
    }
}
