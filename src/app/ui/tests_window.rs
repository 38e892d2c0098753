//! The Tests window: the open suite's tests with their status, Run all or one in the
//! background (progress, Stop), a failing test's reason, and a way to open it in the workbench.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::super::App;
use super::super::command::Command;
use super::results::ok_color;
use crate::suite::Suite;
use crate::suite::job::{OpenSuite, TestStatus};
use crate::suite::report::failure_text;

const ROW_HEIGHT: f32 = 22.0;

pub(super) fn show(app: &mut App, ctx: &egui::Context) {
    let Some(suite) = &app.view.suite else {
        return;
    };
    let title = suite.path.file_name().map_or_else(
        || "Tests".to_string(),
        |n| format!("Tests: {}", n.to_string_lossy()),
    );
    let mut open = true;
    let mut commands = Vec::new();
    // First shown at the bottom right, over the results, clear of the toolbar and the editor.
    let screen = ctx.content_rect();
    let size = egui::vec2(620.0, 420.0);
    egui::Window::new(title)
        .id(egui::Id::unique("tests_window"))
        .open(&mut open)
        .default_size(size)
        .default_pos(screen.right_bottom() - size - egui::vec2(16.0, 40.0))
        .show(ctx, |ui| {
            body(ui, suite, app.view.suite_note.as_deref(), &mut commands);
        });
    for command in commands {
        app.send(command);
    }
    if !open {
        app.send(Command::CloseSuite);
    }
}

fn body(ui: &mut Ui, suite: &OpenSuite, note: Option<&str>, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        ui.weak(suite.path.display().to_string());
        if ui
            .small_button("Reload")
            .on_hover_text("Read the suite file again")
            .clicked()
        {
            commands.push(Command::OpenSuite {
                path: suite.path.clone(),
                trust: false,
            });
        }
    });
    let loaded = match &suite.loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                "This suite could not be loaded:",
            );
            ui.label(RichText::new(error.to_string()).monospace());
            if suite.needs_consent()
                && ui
                    .button("Allow its grants and load it")
                    .on_hover_text("Its plugin gets the hosts and paths listed above while its tests run (as `test --trust`)")
                    .clicked()
            {
                commands.push(Command::OpenSuite {
                    path: suite.path.clone(),
                    trust: true,
                });
            }
            return;
        }
    };
    ui.horizontal(|ui| {
        ui.label(format!(
            "{} tests on {}",
            loaded.tests.len(),
            loaded.plugin.display_name
        ));
        if !loaded.ignored_host_functions.is_empty() {
            ui.weak(format!(
                "(not imported, ignored: {})",
                loaded.ignored_host_functions.join(", ")
            ))
            .on_hover_text("The suite defines these host functions; this build of the plugin does not import them");
        }
    });
    ui.horizontal(|ui| {
        if suite.is_running() {
            if ui
                .button("⏹ Stop")
                .on_hover_text(
                    "Stop the run: tests running end as stopped, queued ones do not start",
                )
                .clicked()
            {
                commands.push(Command::StopTests);
            }
            if let Some((done, total)) = suite.progress() {
                #[allow(clippy::cast_precision_loss)] // a count of tests
                let fraction = if total == 0 {
                    1.0
                } else {
                    done as f32 / total as f32
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(200.0)
                        .text(format!("{done} of {total}")),
                );
            }
        } else {
            if ui
                .button("▶ Run all")
                .on_hover_text(
                    "Run every test, in parallel worker processes, each from a fresh instance",
                )
                .clicked()
            {
                commands.push(Command::RunTests(None));
            }
            if let Some(note) = note {
                ui.label(note);
            }
        }
    });
    ui.separator();
    table(ui, suite, loaded, commands);
    failures(ui, suite, loaded);
}

/// One row per test: status, name, steps, Run and Open.
fn table(ui: &mut Ui, suite: &OpenSuite, loaded: &Suite, commands: &mut Vec<Command>) {
    let ok = ok_color(ui);
    let error = ui.visuals().error_fg_color;
    let running = suite.is_running();
    TableBuilder::new(ui)
        .id_salt("suite_tests")
        .striped(true)
        .column(Column::auto().at_least(70.0))
        .column(Column::remainder().clip(true))
        .column(Column::auto())
        .column(Column::auto())
        .header(ROW_HEIGHT, |mut header| {
            for title in ["status", "test", "steps", ""] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, loaded.tests.len(), |mut row| {
                let t = row.index();
                let test = &loaded.tests[t];
                let status = &suite.statuses[t];
                row.col(|ui| match status {
                    TestStatus::NotRun => {
                        ui.weak("not run");
                    }
                    TestStatus::Queued => {
                        ui.spinner();
                    }
                    TestStatus::Done(result) if result.passed() => {
                        ui.colored_label(ok, "✔ passed");
                    }
                    TestStatus::Done(result) if result.stopped => {
                        ui.weak("stopped");
                    }
                    TestStatus::Done(result) => {
                        ui.colored_label(error, "✖ failed")
                            .on_hover_text(failure_text(loaded, result));
                    }
                });
                row.col(|ui| {
                    ui.label(&test.name);
                });
                row.col(|ui| {
                    ui.label(test.steps.len().to_string());
                });
                row.col(|ui| {
                    ui.horizontal(|ui| {
                        if ui
                            .add_enabled(!running, egui::Button::new("Run").small())
                            .on_hover_text(format!("Run \"{}\" alone", test.name))
                            .clicked()
                        {
                            commands.push(Command::RunTests(Some(t)));
                        }
                        let failed_step = match status {
                            TestStatus::Done(result) if !result.passed() => {
                                Some(result.first_failure().map_or(0, |(i, _)| i))
                            }
                            _ => None,
                        };
                        let label = if failed_step.is_some() {
                            "Open failing step"
                        } else {
                            "Open"
                        };
                        if ui
                            .small_button(label)
                            .on_hover_text(format!(
                                "Open \"{}\" in the workbench: its plugin, options and host functions, its steps as the scenario, the failing step in the editor",
                                test.name
                            ))
                            .clicked()
                        {
                            commands.push(Command::OpenTest {
                                test: t,
                                step: failed_step.unwrap_or(0),
                            });
                        }
                    });
                });
            });
        });
}

/// The reasons of the failed tests, below the table.
fn failures(ui: &mut Ui, suite: &OpenSuite, loaded: &Suite) {
    let failures: Vec<(String, String)> = suite
        .statuses
        .iter()
        .enumerate()
        .filter_map(|(t, status)| match status {
            TestStatus::Done(result) if !result.passed() && !result.stopped => {
                Some((loaded.tests[t].name.clone(), failure_text(loaded, result)))
            }
            _ => None,
        })
        .collect();
    if failures.is_empty() {
        return;
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("suite_failures")
        .max_height(200.0)
        .show(ui, |ui| {
            for (name, why) in failures {
                egui::CollapsingHeader::new(format!("✖ {name}"))
                    .id_salt(("failure", &name))
                    .default_open(true)
                    .show(ui, |ui| {
                        ui.label(RichText::new(why).monospace());
                    });
            }
        });
}
