//! Comparing outputs: the verdict against the expected outcome, the history of runs with two
//! picked for a side-by-side diff, and the Export host code window.

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::super::action::Action;
use super::super::{App, ComparedRows, ExportedCode};
use crate::bundle::ExpectedOutcome;
use crate::bundle::diff::{self, DiffCell, DiffRow};

const ROW_HEIGHT: f32 = 18.0;
/// Outputs bigger than this are not diffed in the window (it would stall a frame).
const MAX_SIDE_BY_SIDE_BYTES: usize = 4 * 1024 * 1024;

/// Under the outcome: whether the last run matches the expected outcome, if one is recorded.
pub(super) fn expected_banner(app: &mut App, ui: &mut Ui) {
    let Some(expected) = app.workbench.state().expected.clone() else {
        return;
    };
    let (Some(verdict), Some(last)) = (app.workbench.verdict(), app.workbench.last()) else {
        ui.weak("An expected outcome is recorded; run to compare.");
        return;
    };
    let matched = verdict.matched;
    let actual_len = last.report.output.len();
    let mismatch = (!matched).then(|| crate::bundle::verdict(&expected, &last.report));
    ui.horizontal(|ui| {
        if matched {
            ui.colored_label(
                Color32::from_rgb(80, 170, 90),
                "✔ matches the expected outcome",
            );
        } else {
            ui.colored_label(
                ui.visuals().error_fg_color,
                "✖ differs from the expected outcome",
            );
        }
        Action::ClearExpected.button(ui, app, Some(RichText::new("Clear expected").small()));
    });
    let Some(mismatch) = mismatch else { return };
    egui::CollapsingHeader::new("Expected vs actual")
        .id_salt("expected_diff")
        .default_open(true)
        .show(ui, |ui| match &expected {
            ExpectedOutcome::Output(want)
                if want.len().max(actual_len) > MAX_SIDE_BY_SIDE_BYTES =>
            {
                ui.label(format!(
                    "The outputs differ ({} expected, {} actual): too large to compare side by side here; save the output to compare it.",
                    super::widgets::bytes(want.len() as u64),
                    super::widgets::bytes(actual_len as u64)
                ));
            }
            _ => {
                match app.workbench.verdict_rows() {
                    Some(rows) => {
                        side_by_side(ui, "expected_vs_actual", ("expected", "actual"), rows, 180.0);
                    }
                    None => {
                        if let crate::bundle::Verdict::Mismatch(text) = mismatch {
                            ui.label(text);
                        }
                    }
                }
            }
        });
}

/// After a re-run on reload: what the new build changed, against the run before it.
pub(super) fn reload_banner(app: &mut App, ui: &mut Ui) {
    let Some(change) = app.workbench.reload_change() else {
        return;
    };
    let Some(before) = change.before else {
        ui.weak(format!(
            "Re-ran after the reload (run #{}); there was no earlier run of this function to compare with.",
            change.after
        ));
        return;
    };
    if change.same {
        ui.weak(format!(
            "Re-ran after the reload: run #{} gives the same outcome and output as run #{before}.",
            change.after
        ));
        return;
    }
    egui::CollapsingHeader::new(format!(
        "The reload changed the result: run #{before} vs run #{}",
        change.after
    ))
    .id_salt("reload_diff")
    .default_open(true)
    .show(ui, |ui| {
        side_by_side(
            ui,
            "reload_diff_rows",
            (
                &format!("#{before} (before)"),
                &format!("#{} (after)", change.after),
            ),
            &change.rows,
            180.0,
        );
    });
}

/// Two outputs side by side, the differing lines marked.
pub(super) fn side_by_side(
    ui: &mut Ui,
    id: &str,
    titles: (&str, &str),
    rows: &[DiffRow],
    max_height: f32,
) {
    let changed = rows.iter().filter(|r| r.is_changed()).count();
    ui.weak(if changed == 0 {
        "No differing lines".to_string()
    } else {
        format!("{changed} differing lines")
    });
    let (left, right) = titles;
    let removed_bg = Color32::from_rgba_unmultiplied(200, 60, 60, 60);
    let added_bg = Color32::from_rgba_unmultiplied(60, 180, 80, 60);
    let cell = |ui: &mut Ui, cell: Option<&DiffCell>, mark: &str, bg: Color32| {
        let Some(cell) = cell else {
            ui.label("");
            return;
        };
        let text = if cell.changed {
            ui.painter().rect_filled(ui.max_rect(), 0.0, bg);
            format!("{mark} {}", cell.text)
        } else {
            cell.text.clone()
        };
        ui.label(RichText::new(super::widgets::printable(&text)).monospace());
    };
    TableBuilder::new(ui)
        .id_salt(id)
        .striped(false)
        .max_scroll_height(max_height)
        .column(Column::remainder().clip(true))
        .column(Column::remainder().clip(true))
        .header(ROW_HEIGHT, |mut header| {
            header.col(|ui| {
                ui.strong(left);
            });
            header.col(|ui| {
                ui.strong(right);
            });
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, rows.len(), |mut row| {
                let DiffRow { left, right } = &rows[row.index()];
                row.col(|ui| cell(ui, left.as_ref(), "-", removed_bg));
                row.col(|ui| cell(ui, right.as_ref(), "+", added_bg));
            });
        });
}

/// The runs of this session; pick two to compare their outputs.
pub(super) fn history(app: &mut App, ui: &mut Ui) {
    let history = app.workbench.history();
    if history.is_empty() {
        ui.weak("Each run of this session appears here; pick two to compare their outputs side by side.");
        return;
    }
    let comparison = &mut app.view.comparison;
    comparison.picked.retain(|n| history.get(*n).is_some());
    let mut make_scenario = false;
    ui.horizontal(|ui| {
        ui.label("Pick run A and run B to compare their outputs; tick runs (✔) to make a scenario of them.");
        let picked = comparison.picked.len();
        let button = egui::Button::new(format!("Make a scenario of {picked} runs"));
        make_scenario = ui
            .add_enabled(picked > 0, button)
            .on_hover_text("The ticked runs become the steps of a scenario, in the order they ran, each expecting the outcome it had: Run all replays them, and Save session keeps them")
            .on_disabled_hover_text("Tick the runs to replay in the ✔ column")
            .clicked();
    });
    egui::ScrollArea::vertical()
        .id_salt("history_runs")
        .max_height(170.0)
        .show(ui, |ui| {
            egui::Grid::new("history_pick")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for title in ["✔", "A", "B", "#", "function", "outcome"] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for run in history.runs().rev() {
                        let mut picked = comparison.picked.contains(&run.number);
                        if ui
                            .checkbox(&mut picked, "")
                            .on_hover_text(format!("Make run {} a step of a scenario", run.number))
                            .changed()
                        {
                            if picked {
                                comparison.picked.insert(run.number);
                            } else {
                                comparison.picked.remove(&run.number);
                            }
                        }
                        ui.radio_value(&mut comparison.a, Some(run.number), "")
                            .on_hover_text(format!("Compare run {} as A", run.number));
                        ui.radio_value(&mut comparison.b, Some(run.number), "")
                            .on_hover_text(format!("Compare run {} as B", run.number));
                        let summary = format!(
                            "{} · {} bytes{}",
                            run.outcome,
                            run.output.len(),
                            if run.output_cut { " (cut)" } else { "" }
                        );
                        super::results::run_cells(ui, run, summary);
                        ui.end_row();
                    }
                });
        });
    if make_scenario {
        let runs: Vec<u64> = comparison.picked.iter().copied().collect();
        comparison.picked.clear();
        app.send(crate::workbench::Command::ScenarioFromRuns(runs));
        app.result_tab = super::super::state::ResultTab::Scenario;
        return;
    }
    let (Some(a), Some(b)) = (
        comparison.a.and_then(|n| history.get(n)),
        comparison.b.and_then(|n| history.get(n)),
    ) else {
        return;
    };
    ui.separator();
    if comparison
        .rows
        .as_ref()
        .is_none_or(|c| (c.a, c.b) != (a.number, b.number))
    {
        comparison.rows = Some(ComparedRows {
            a: a.number,
            b: b.number,
            rows: diff::side_by_side(&a.output, &b.output),
        });
    }
    let rows = &comparison.rows.as_ref().expect("just built").rows;
    side_by_side(
        ui,
        "history_diff",
        (
            &format!("A: run {} ({})", a.number, a.function),
            &format!("B: run {} ({})", b.number, b.function),
        ),
        rows,
        f32::INFINITY,
    );
}

/// The Export host code window: Go and Rust programs for this scenario.
pub(super) fn export_window(app: &mut App, ctx: &egui::Context) {
    if !app.view.show_export {
        return;
    }
    // Generating walks the scenario: do it when something changed, not every frame.
    let revision = app.workbench.revision();
    if app
        .view
        .export
        .as_ref()
        .is_none_or(|e| e.revision != revision)
    {
        let Some(crate::bundle::export::HostPrograms { go, rust }) = app.workbench.export_code()
        else {
            app.view.show_export = false;
            return;
        };
        app.view.export = Some(ExportedCode { revision, go, rust });
    }
    let Some(code) = &app.view.export else { return };
    let mut open = true;
    egui::Window::new("Export host code")
        .open(&mut open)
        .default_size([640.0, 480.0])
        .show(ctx, |ui| {
            let id = ui.make_persistent_id("export_lang");
            let mut go = ui.data(|d| d.get_temp::<bool>(id)).unwrap_or(true);
            ui.horizontal(|ui| {
                ui.selectable_value(&mut go, true, "Go (go-sdk)");
                ui.selectable_value(&mut go, false, "Rust (extism crate)");
            });
            ui.data_mut(|d| d.insert_temp(id, go));
            let (text, language) = if go {
                (&code.go, super::code::Language::Go)
            } else {
                (&code.rust, super::code::Language::Rust)
            };
            ui.horizontal(|ui| {
                if ui.button("Copy code").clicked() {
                    ui.ctx().copy_text(text.clone());
                }
                ui.weak("Loads the same module with the same manifest, options and input.");
            });
            egui::ScrollArea::both()
                .id_salt("export_code")
                .show(ui, |ui| {
                    let mut layouter = |ui: &Ui, buffer: &dyn egui::TextBuffer, wrap_width: f32| {
                        let mut job = super::code::layout(ui, buffer.as_str(), language);
                        job.wrap.max_width = wrap_width;
                        ui.fonts_mut(|f| f.layout_job(job))
                    };
                    ui.add(
                        egui::TextEdit::multiline(&mut text.as_str())
                            .id_salt("export_text")
                            .code_editor()
                            .desired_width(f32::INFINITY)
                            .layouter(&mut layouter),
                    )
                    .on_hover_text("Generated host code (read-only)");
                });
        });
    app.view.show_export = open;
}
