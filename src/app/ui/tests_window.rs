//! The Tests windows: the open suite's tests with their status, Run all or one in the
//! background (progress, Stop), a failing test's reason, and a way to open it in the
//! workbench; and the xtp window, an xtp-test plugin's run against the open plugin with one
//! row per assertion.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::super::App;
use super::super::command::Command;
use super::results::{level_color, ok_color};
use crate::suite::Suite;
use crate::suite::job::{OpenSuite, TestStatus, XtpJob};
use crate::suite::report::{SuiteDetail, SuiteOutcome, failure_text};
use crate::workbench::{self, TestCommand};

const ROW_HEIGHT: f32 = 22.0;

pub(super) fn show(app: &mut App, ctx: &egui::Context) {
    // First shown at the bottom right, over the results, clear of the toolbar and the editor.
    let screen = ctx.content_rect();
    let size = egui::vec2(620.0, 420.0);
    let place = screen.right_bottom() - size - egui::vec2(16.0, 40.0);
    if let Some(loading) = app.workbench.testing().loading() {
        let asked = file_window(ctx, "Tests", loading, place, size, |ui, _| {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new());
                ui.label(format!("Loading {}…", loading.display()));
            });
        });
        return finish(app, asked, Command::from(TestCommand::Close));
    }
    let Some(suite) = app.workbench.testing().suite() else {
        return;
    };
    // How the last run ended, worded here.
    let note = app
        .workbench
        .testing()
        .ended()
        .map(|e| format!("Done: {} passed, {} failed", e.passed, e.failed));
    let note = note.as_deref();
    let asked = file_window(ctx, "Tests", &suite.path, place, size, |ui, commands| {
        body(ui, suite, note, commands);
    });
    finish(app, asked, Command::from(TestCommand::Close));
}

/// What a window's body asked for this frame, and whether the window is still open.
struct Asked {
    commands: Vec<Command>,
    open: bool,
}

/// A closable window titled `prefix: FILE NAME`, first placed at `place` with `size`.
fn file_window(
    ctx: &egui::Context,
    prefix: &str,
    path: &std::path::Path,
    place: egui::Pos2,
    size: egui::Vec2,
    body: impl FnOnce(&mut Ui, &mut Vec<Command>),
) -> Asked {
    let title = path.file_name().map_or_else(
        || prefix.to_string(),
        |n| format!("{prefix}: {}", n.to_string_lossy()),
    );
    let mut open = true;
    let mut commands = Vec::new();
    egui::Window::new(title)
        .id(egui::Id::unique(prefix))
        .open(&mut open)
        .default_size(size)
        .default_pos(place)
        .show(ctx, |ui| body(ui, &mut commands));
    Asked { commands, open }
}

/// Sends what a window asked for, and `close` when it was closed.
fn finish(app: &mut App, asked: Asked, close: Command) {
    for command in asked.commands {
        app.send(command);
    }
    if !asked.open {
        app.send(close);
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
            commands.push(Command::from(TestCommand::OpenSuite {
                path: suite.path.clone(),
                trust: false,
            }));
        }
    });
    if let Some(source) = &suite.source {
        suite_source(ui, source);
    }
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
                    .on_hover_text("Grants what is listed above: the hosts and paths its plugin gets while its tests run, and the files and downloads it names (as `test --trust`)")
                    .clicked()
            {
                commands.push(Command::from(TestCommand::OpenSuite {
                    path: suite.path.clone(),
                    trust: true,
                }));
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
                commands.push(TestCommand::Stop.into());
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
                commands.push(TestCommand::Run(None).into());
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
                            commands.push(TestCommand::Run(Some(t)).into());
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
                            commands.push(Command::from(workbench::Command::OpenSuiteTest {
                                test: t,
                                step: failed_step.unwrap_or(0),
                            }));
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
                    .show(ui, |ui| super::widgets::reason(ui, &why));
            }
        });
}

pub(super) fn show_xtp(app: &mut App, ctx: &egui::Context) {
    if app.workbench.testing().xtp().is_none() {
        return;
    }
    let can_run = super::super::action::Action::RunXtp.availability(app);
    let Some(job) = app.workbench.testing().xtp() else {
        return;
    };
    // First shown at the bottom left, so it and the Tests window can be open side by side.
    let screen = ctx.content_rect();
    let size = egui::vec2(560.0, 400.0);
    let place = egui::pos2(screen.left() + 16.0, screen.bottom() - size.y - 40.0);
    let asked = file_window(ctx, "xtp test", &job.path, place, size, |ui, commands| {
        xtp_body(ui, job, can_run, commands);
    });
    finish(app, asked, Command::from(TestCommand::CloseXtp));
}

fn xtp_body(
    ui: &mut Ui,
    job: &XtpJob,
    can_run: Result<(), crate::app::action::Unavailable>,
    commands: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.weak(job.path.display().to_string());
        ui.label("against");
        ui.strong(&job.against);
    });
    ui.weak(match job.mock_input {
        Some(n) => format!("mock_input returns the input editor's {n} bytes"),
        None => "no mock input: the input editor is empty".to_string(),
    });
    ui.horizontal(|ui| {
        if job.is_running() {
            ui.spinner();
            ui.label("Running…");
            if ui
                .button("⏹ Stop")
                .on_hover_text("Stop the test plugin; the assertions it made are kept")
                .clicked()
            {
                commands.push(TestCommand::StopXtp.into());
            }
        } else {
            if ui
                .add_enabled(can_run.is_ok(), egui::Button::new("▶ Run again"))
                .on_hover_text("Run the test plugin again against the open plugin as it is now (its options, host functions and the input)")
                .on_disabled_hover_text(can_run.err().map(|why| why.to_string()).unwrap_or_default())
                .clicked()
            {
                commands.push(TestCommand::RunXtp(job.path.clone()).into());
            }
            if let Some(outcome) = job.outcome()
                && outcome.load_errors.is_empty()
            {
                let (passed, failed) = (outcome.passed(), outcome.failed());
                let text = format!("{passed} passed, {failed} failed");
                if job.stopped {
                    ui.weak(format!("Stopped: {text} (the last failures are the stop's)"));
                } else if failed == 0 {
                    ui.colored_label(ok_color(ui), format!("✔ {text}"));
                } else {
                    ui.colored_label(ui.visuals().error_fg_color, format!("✖ {text}"));
                }
            }
        }
    });
    let Some(outcome) = job.outcome() else {
        return;
    };
    for (path, why) in &outcome.load_errors {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{} could not be run:", path.display()),
        );
        ui.label(RichText::new(why).monospace());
    }
    for suite in &outcome.suites {
        ui.separator();
        for note in &suite.notes {
            ui.weak(note);
        }
        assertions_table(ui, suite);
        xtp_failures(ui, suite);
        xtp_logs(ui, suite);
    }
}

/// One row per assertion: status, group, name and the time since the one before.
fn assertions_table(ui: &mut Ui, suite: &SuiteOutcome) {
    let ok = ok_color(ui);
    let error = ui.visuals().error_fg_color;
    TableBuilder::new(ui)
        .id_salt("xtp_assertions")
        .striped(true)
        .max_scroll_height(220.0)
        .column(Column::auto().at_least(70.0))
        .column(
            Column::initial(160.0)
                .at_least(40.0)
                .resizable(true)
                .clip(true),
        )
        .column(Column::remainder().clip(true))
        .column(Column::auto())
        .header(ROW_HEIGHT, |mut header| {
            for title in ["status", "group", "assertion", "time"] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, suite.cases.len(), |mut row| {
                let case = &suite.cases[row.index()];
                row.col(|ui| {
                    if case.passed {
                        ui.colored_label(ok, "✔ passed");
                    } else {
                        let why = case.failure.as_ref().map_or("", |f| f.text.as_str());
                        ui.colored_label(error, "✖ failed").on_hover_text(why);
                    }
                });
                row.col(|ui| {
                    let group = case.group.as_deref().unwrap_or("—");
                    ui.add(egui::Label::new(RichText::new(group).weak()).truncate());
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(&case.name).truncate());
                });
                row.col(|ui| {
                    ui.weak(format!("{:.2} ms", case.duration.as_secs_f64() * 1000.0));
                });
            });
        });
}

/// The reasons of the failed assertions (and of the `test` export's own failure).
fn xtp_failures(ui: &mut Ui, suite: &SuiteOutcome) {
    let failed: Vec<_> = suite
        .cases
        .iter()
        .filter_map(|c| c.failure.as_ref().map(|f| (c, f)))
        .collect();
    if failed.is_empty() {
        return;
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("xtp_failures")
        .max_height(160.0)
        .show(ui, |ui| {
            for (i, (case, failure)) in failed.into_iter().enumerate() {
                let name = match &case.group {
                    Some(group) => format!("✖ {group} › {}", case.name),
                    None => format!("✖ {}", case.name),
                };
                egui::CollapsingHeader::new(name)
                    .id_salt(("xtp_failure", i))
                    .default_open(true)
                    .show(ui, |ui| {
                        super::widgets::reason(ui, &failure.text);
                    });
            }
        });
}

/// What the test plugin and the plugin under test logged.
fn xtp_logs(ui: &mut Ui, suite: &SuiteOutcome) {
    let SuiteDetail::Xtp { logs, duration, .. } = &suite.detail else {
        return;
    };
    egui::CollapsingHeader::new(format!(
        "Logs ({}) · test ran {:.1} ms",
        logs.len(),
        duration.as_secs_f64() * 1000.0
    ))
    .id_salt("xtp_logs")
    .show(ui, |ui| {
        egui::ScrollArea::vertical()
            .id_salt("xtp_log_lines")
            .max_height(160.0)
            .show(ui, |ui| {
                for entry in logs {
                    ui.horizontal(|ui| {
                        ui.colored_label(level_color(ui, entry.level), entry.level.as_str());
                        ui.weak(entry.source.as_str());
                        ui.label(RichText::new(&entry.message).monospace());
                    });
                }
            });
    });
}

/// The suite file itself (as loaded), highlighted, under a header (closed at first).
fn suite_source(ui: &mut Ui, text: &str) {
    egui::CollapsingHeader::new("Suite file")
        .id_salt("suite_source")
        .show(ui, |ui| {
            egui::ScrollArea::both()
                .id_salt("suite_source_scroll")
                .max_height(220.0)
                .show(ui, |ui| {
                    super::code::view(ui, text, super::code::Language::Toml);
                });
        });
}
