//! Comparing outputs: the verdict against the expected outcome, the history of runs with two
//! picked for a side-by-side diff, and the Export host code window.

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::super::App;
use super::super::command::Command;
use crate::bundle::diff::{self, Line};
use crate::bundle::{self as bundles, ExpectedOutcome, Verdict};

const ROW_HEIGHT: f32 = 18.0;
/// Outputs bigger than this are not diffed in the window (it would stall a frame).
const MAX_SIDE_BY_SIDE_BYTES: usize = 4 * 1024 * 1024;

/// Under the outcome: whether the last run matches the expected outcome, if one is recorded.
pub(super) fn expected_banner(app: &mut App, ui: &mut Ui) {
    if app.state.expected.is_none() {
        return;
    }
    let (Some(view), Some(last)) = (&mut app.verdict, &app.last) else {
        ui.weak("An expected outcome is recorded; run to compare.");
        return;
    };
    let matched = view.matched;
    let mut clear = false;
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
        clear = ui.small_button("Clear expected").clicked();
    });
    if !matched {
        let expected = app.state.expected.as_ref().expect("checked above");
        egui::CollapsingHeader::new("Expected vs actual")
            .id_salt("expected_diff")
            .default_open(true)
            .show(ui, |ui| match (expected, &last.report.error) {
                (ExpectedOutcome::Output(want), None)
                    if want.len().max(last.report.output.len()) > MAX_SIDE_BY_SIDE_BYTES =>
                {
                    ui.label(format!(
                        "The outputs differ ({} expected, {} actual): too large to compare side by side here; save the output to compare it.",
                        super::widgets::bytes(want.len() as u64),
                        super::widgets::bytes(last.report.output.len() as u64)
                    ));
                }
                (ExpectedOutcome::Output(want), None) => {
                    let rows = view
                        .rows
                        .get_or_insert_with(|| rows_of(want, &last.report.output));
                    side_by_side(
                        ui,
                        "expected_vs_actual",
                        ("expected", "actual"),
                        rows,
                        180.0,
                    );
                }
                _ => {
                    if let Verdict::Mismatch(text) = bundles::verdict(expected, &last.report) {
                        ui.label(text);
                    }
                }
            });
    }
    if clear {
        app.send(Command::ClearExpected);
    }
}

/// The side-by-side rows of two outputs.
pub(crate) fn rows_of(left: &[u8], right: &[u8]) -> Vec<DiffRow> {
    paired_rows(&diff::lines(
        &diff::normalize(left),
        &diff::normalize(right),
    ))
}

/// Two outputs side by side, the differing lines marked.
pub(super) fn side_by_side(
    ui: &mut Ui,
    id: &str,
    titles: (&str, &str),
    rows: &[DiffRow],
    max_height: f32,
) {
    let changed = rows
        .iter()
        .filter(|(l, r)| l.as_ref().is_some_and(|c| c.1) || r.as_ref().is_some_and(|c| c.1))
        .count();
    ui.weak(if changed == 0 {
        "No differing lines".to_string()
    } else {
        format!("{changed} differing lines")
    });
    let (left, right) = titles;
    let removed_bg = Color32::from_rgba_unmultiplied(200, 60, 60, 60);
    let added_bg = Color32::from_rgba_unmultiplied(60, 180, 80, 60);
    let cell = |ui: &mut Ui, text: Option<&str>, bg: Option<Color32>| {
        if let Some(bg) = bg {
            ui.painter().rect_filled(ui.max_rect(), 0.0, bg);
        }
        ui.label(RichText::new(super::widgets::printable(text.unwrap_or(""))).monospace());
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
                let (left, right) = &rows[row.index()];
                let bg = |changed: bool, color: Color32| changed.then_some(color);
                row.col(|ui| match left {
                    Some((t, changed)) => {
                        let text = if *changed {
                            format!("- {t}")
                        } else {
                            t.clone()
                        };
                        cell(ui, Some(&text), bg(*changed, removed_bg));
                    }
                    None => cell(ui, None, None),
                });
                row.col(|ui| match right {
                    Some((t, changed)) => {
                        let text = if *changed {
                            format!("+ {t}")
                        } else {
                            t.clone()
                        };
                        cell(ui, Some(&text), bg(*changed, added_bg));
                    }
                    None => cell(ui, None, None),
                });
            });
        });
}

/// One side of a side-by-side row: the text and whether it changed (`None`: blank).
type Cell = Option<(String, bool)>;

/// One row of a side-by-side diff.
pub(crate) type DiffRow = (Cell, Cell);

/// Diff lines as side-by-side rows: a run of removed lines is paired with the run of added
/// lines after it, so a changed line sits next to its replacement.
fn paired_rows(lines: &[Line]) -> Vec<(Cell, Cell)> {
    let mut rows = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        if let Line::Same(t) = &lines[i] {
            rows.push((Some((t.clone(), false)), Some((t.clone(), false))));
            i += 1;
        } else {
            let removed: Vec<String> = lines[i..]
                .iter()
                .map_while(|l| {
                    if let Line::Removed(t) = l {
                        Some(t.clone())
                    } else {
                        None
                    }
                })
                .collect();
            i += removed.len();
            let added: Vec<String> = lines[i..]
                .iter()
                .map_while(|l| {
                    if let Line::Added(t) = l {
                        Some(t.clone())
                    } else {
                        None
                    }
                })
                .collect();
            i += added.len();
            for k in 0..removed.len().max(added.len()) {
                rows.push((
                    removed.get(k).map(|t| (t.clone(), true)),
                    added.get(k).map(|t| (t.clone(), true)),
                ));
            }
        }
    }
    rows
}

/// The runs of this session; pick two to compare their outputs.
pub(super) fn history(app: &mut App, ui: &mut Ui) {
    if app.history.is_empty() {
        ui.weak("Each run of this session appears here; pick two to compare their outputs side by side.");
        return;
    }
    ui.label("Pick run A and run B to compare their outputs.");
    egui::ScrollArea::vertical()
        .id_salt("history_runs")
        .max_height(170.0)
        .show(ui, |ui| {
            egui::Grid::new("history_pick")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    for title in ["A", "B", "#", "function", "outcome"] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for run in app.history.iter().rev() {
                        ui.radio_value(&mut app.compare.0, Some(run.number), "")
                            .on_hover_text(format!("Compare run {} as A", run.number));
                        ui.radio_value(&mut app.compare.1, Some(run.number), "")
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
    let find = |n: Option<u64>| n.and_then(|n| app.history.iter().find(|r| r.number == n).cloned());
    if let (Some(a), Some(b)) = (find(app.compare.0), find(app.compare.1)) {
        ui.separator();
        let key = (a.number, b.number);
        if app.compare_rows.as_ref().is_none_or(|(k, _)| *k != key) {
            app.compare_rows = Some((key, rows_of(&a.output, &b.output)));
        }
        let rows = &app.compare_rows.as_ref().expect("just built").1;
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
}

/// The Export host code window: Go and Rust programs for this scenario.
pub(super) fn export_window(app: &mut App, ctx: &egui::Context) {
    if !app.show_export {
        return;
    }
    let Some(key) = app.export_key() else {
        app.show_export = false;
        return;
    };
    // Generating parses the module: do it when something changed, not every frame.
    if app.export_cache.as_ref().is_none_or(|(k, _, _)| *k != key) {
        let Some(scenario) = app.scenario() else {
            return;
        };
        app.export_cache = Some((
            key,
            bundles::export::go(&scenario),
            bundles::export::rust(&scenario),
        ));
    }
    let (_, go_code, rust_code) = app.export_cache.clone().expect("just built");
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
            let code = if go {
                go_code.clone()
            } else {
                rust_code.clone()
            };
            ui.horizontal(|ui| {
                if ui.button("Copy code").clicked() {
                    ui.ctx().copy_text(code.clone());
                }
                ui.weak("Loads the same module with the same manifest, options and input.");
            });
            egui::ScrollArea::both()
                .id_salt("export_code")
                .show(ui, |ui| {
                    let mut text = code.as_str();
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .id_salt("export_text")
                            .code_editor()
                            .desired_width(f32::INFINITY),
                    )
                    .on_hover_text("Generated host code (read-only)");
                });
        });
    app.show_export = open;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_pair_with_their_replacements() {
        let lines = diff::lines("a\nb\nc", "a\nB\nc\nd");
        let rows = paired_rows(&lines);
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[1],
            (Some(("b".to_string(), true)), Some(("B".to_string(), true)))
        );
        assert_eq!(rows[3], (None, Some(("d".to_string(), true))));
    }
}
