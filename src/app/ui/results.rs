//! The results of the last call: the outcome (ok, or the error kind with its full message,
//! copyable), then tabs for the output (text, pretty JSON, hex; virtualized, with copy and
//! save), the log table, the host-call trace, and timing with a history plot.

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::super::action::Action;
use super::super::state::ResultTab;
use super::super::{App, OutputView};
use super::widgets::{bytes, ms, printable};
use crate::runner::{LogLevel, LogSource};
use crate::workbench::view::RunView;
use crate::workbench::{RunSlot, RunSummary};

const ROW_HEIGHT: f32 = 18.0;
/// Characters of one output line shown; the rest is in Copy/Save.
const MAX_LINE_CHARS: usize = 2000;

pub(super) fn show(app: &mut App, ui: &mut Ui) {
    outcome(app, ui);
    if !app.workbench.is_running() {
        super::compare::expected_banner(app, ui);
        super::compare::reload_banner(app, ui);
    }
    ui.separator();
    // The Build tab is offered for a plugin built from a crate here (or while a build runs);
    // a Build tab remembered from another plugin falls back to the output.
    let build_offered =
        app.workbench.build_job().is_some() || app.workbench.build_crate().is_some();
    if app.result_tab == ResultTab::Build && !build_offered {
        app.result_tab = ResultTab::Output;
    }
    ui.horizontal(|ui| {
        let last = app.workbench.last();
        let logs = last.map_or(0, |l| l.report.logs.len());
        let calls = last.map_or(0, |l| l.report.host_calls.len());
        let tab = &mut app.result_tab;
        ui.selectable_value(tab, ResultTab::Output, "Output");
        ui.selectable_value(tab, ResultTab::Logs, format!("Logs ({logs})"));
        ui.selectable_value(tab, ResultTab::HostCalls, format!("Host calls ({calls})"));
        ui.selectable_value(tab, ResultTab::Timing, "Timing");
        ui.selectable_value(tab, ResultTab::History, "History");
        let steps = app.workbench.scenario_view().map(|s| s.steps.len());
        let title = steps.map_or_else(
            || "Scenario".to_string(),
            |n| format!("Scenario ({n} steps)"),
        );
        ui.selectable_value(tab, ResultTab::Scenario, title);
        if build_offered {
            let title = if app.workbench.is_building() {
                "Build (running)"
            } else {
                "Build"
            };
            ui.selectable_value(tab, ResultTab::Build, title);
        }
    });
    ui.separator();
    match app.result_tab {
        ResultTab::Output => output(app, ui),
        ResultTab::Logs => logs(app, ui),
        ResultTab::HostCalls => host_calls(app, ui),
        ResultTab::Timing => {
            egui::ScrollArea::vertical()
                .id_salt("timing_scroll")
                .auto_shrink([false, false])
                .show(ui, |ui| timing(app, ui));
        }
        ResultTab::History => super::compare::history(app, ui),
        ResultTab::Scenario => super::scenario::show(app, ui),
        ResultTab::Build => super::build_tab::show(app, ui),
    }
}

/// The number, function and outcome cells of a history row (`outcome` in the outcome's color).
pub(super) fn run_cells(ui: &mut Ui, run: &RunSummary, outcome: String) {
    ui.label(run.number.to_string());
    ui.label(RichText::new(&run.function).monospace());
    if run.ok {
        ui.colored_label(ok_color(ui), outcome);
    } else {
        ui.colored_label(ui.visuals().error_fg_color, outcome);
    }
}

pub(super) fn ok_color(ui: &Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(110, 200, 120)
    } else {
        Color32::from_rgb(20, 130, 40)
    }
}

fn outcome(app: &mut App, ui: &mut Ui) {
    if let RunSlot::Running(running) = app.workbench.run_slot() {
        let text = super::running_text(running);
        ui.horizontal(|ui| {
            ui.add(egui::Spinner::new());
            ui.label(text);
        });
        return;
    }
    let Some(last) = app.workbench.last() else {
        ui.weak("Run the function to see its output, logs and timing here.");
        return;
    };
    let report = &last.report;
    match &report.error {
        None => {
            ui.horizontal(|ui| {
                ui.colored_label(ok_color(ui), RichText::new("✔ ok").strong());
                ui.label(format!(
                    "{} · call {} · {} output · {} log lines",
                    report.function,
                    ms(report.timings.call_ms),
                    bytes(report.output.len() as u64),
                    report.logs.len()
                ));
            });
        }
        Some(error) => {
            let kind = error.kind;
            // Owned: the buttons below borrow the app.
            let error = error.clone();
            let message = error.message.clone();
            let summary = format!(
                "{} failed after {}",
                report.function,
                ms(report.timings.call_ms)
            );
            ui.horizontal(|ui| {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    RichText::new(format!("✖ {kind}")).strong(),
                );
                ui.label(summary);
                Action::CopyError.button(ui, app, None);
                super::postmortem::coredump_buttons(app, ui);
            });
            egui::ScrollArea::vertical()
                .id_salt("error_scroll")
                .max_height(70.0)
                .show(ui, |ui| {
                    ui.add(
                        egui::TextEdit::multiline(&mut message.as_str())
                            .id_salt("error_message")
                            .code_editor()
                            .desired_width(f32::INFINITY)
                            .desired_rows(2),
                    )
                    .on_hover_text("The full error message (selectable)");
                });
            super::postmortem::frames(app, ui, &error);
            withheld_hint(app, ui);
        }
    }
}

/// After a failure of a plugin opened without its file's grants: what was withheld, since the
/// failure may come from it.
fn withheld_hint(app: &App, ui: &mut Ui) {
    let Some(grants) = app.workbench.ready().and_then(|r| r.grants.as_ref()) else {
        return;
    };
    let withheld = grants.withheld();
    if withheld.is_empty() {
        return;
    }
    let list = withheld
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    ui.add(
        egui::Label::new(
            RichText::new(format!(
                "This plugin runs without what {} asked for, which may be why it failed. Denied: {list}",
                grants.review.file_name()
            ))
            .color(ui.visuals().warn_fg_color),
        )
        .wrap(),
    );
}

fn output(app: &mut App, ui: &mut Ui) {
    let Some(last) = app.workbench.last() else {
        return;
    };
    let total = last.report.output.len();
    let is_json = last.pretty_json().is_some();
    // Until the user picks, JSON when the output is JSON.
    let shown = match app.view.output_view {
        OutputView::Auto if is_json => OutputView::Json,
        OutputView::Auto => OutputView::Text,
        picked => picked,
    };
    ui.horizontal(|ui| {
        for (view, label) in [
            (OutputView::Text, "Text"),
            (OutputView::Json, "JSON"),
            (OutputView::Hex, "Hex"),
        ] {
            if ui.selectable_label(shown == view, label).clicked() {
                app.view.output_view = view;
            }
        }
        ui.separator();
        ui.weak(bytes(total as u64));
        Action::CopyOutput.button(ui, app, Some(RichText::new("Copy")));
        Action::SaveOutput.button(ui, app, Some(RichText::new("Save…")));
    });
    let Some(last) = app.workbench.last() else {
        return;
    };
    if total == 0 {
        ui.weak("(no output)");
        return;
    }
    match shown {
        OutputView::Text | OutputView::Auto => text_rows(ui, last),
        OutputView::Json => json_rows(ui, last),
        OutputView::Hex => hex_rows(ui, last),
    }
}

fn clipped_line(line: &str) -> String {
    if line.chars().count() > MAX_LINE_CHARS {
        let head: String = line.chars().take(MAX_LINE_CHARS).collect();
        format!("{head} … (line cut; Copy or Save for all of it)")
    } else {
        line.to_string()
    }
}

fn text_rows(ui: &mut Ui, last: &RunView) {
    let output = &last.report.output;
    if last.output_lines_cut {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "Showing the first lines only: Save for the full output.",
        );
    }
    egui::ScrollArea::both()
        .id_salt("output_text")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, last.output_lines.len(), |ui, rows| {
            for row in rows {
                let line = String::from_utf8_lossy(&output[last.output_lines[row].clone()]);
                ui.label(RichText::new(clipped_line(&printable(&line))).monospace());
            }
        });
}

fn json_rows(ui: &mut Ui, last: &RunView) {
    let Some(pretty) = last.pretty_json() else {
        ui.weak("The output is not JSON; see Text or Hex.");
        return;
    };
    egui::ScrollArea::both()
        .id_salt("output_json")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, pretty.lines.len(), |ui, rows| {
            for row in rows {
                let line = &pretty.text[pretty.lines[row].clone()];
                let job = super::json_highlight::layout_job(ui, line);
                ui.label(job);
            }
        });
}

fn hex_rows(ui: &mut Ui, last: &RunView) {
    use std::fmt::Write as _;
    let output = &last.report.output;
    let rows_total = output.len().div_ceil(16);
    egui::ScrollArea::both()
        .id_salt("output_hex")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, rows_total, |ui, rows| {
            for row in rows {
                let chunk = &output[row * 16..(row * 16 + 16).min(output.len())];
                let mut line = format!("{:08x}  ", row * 16);
                for (i, b) in chunk.iter().enumerate() {
                    let _ = write!(line, "{b:02x}{}", if i == 7 { "  " } else { " " });
                }
                let pad = 16 - chunk.len();
                line.push_str(&"   ".repeat(pad));
                if pad > 8 {
                    line.push(' ');
                }
                line.push(' ');
                line.extend(chunk.iter().map(|b| {
                    if b.is_ascii_graphic() || *b == b' ' {
                        *b as char
                    } else {
                        '.'
                    }
                }));
                ui.label(RichText::new(line).monospace());
            }
        });
}

pub(super) fn level_color(ui: &Ui, level: LogLevel) -> Color32 {
    match level {
        LogLevel::Trace | LogLevel::Debug => ui.visuals().weak_text_color(),
        LogLevel::Info => ui.visuals().text_color(),
        LogLevel::Warn => ui.visuals().warn_fg_color,
        LogLevel::Error => ui.visuals().error_fg_color,
    }
}

fn logs(app: &mut App, ui: &mut Ui) {
    ui.horizontal(|ui| {
        let filter = &mut app.log_filter;
        egui::ComboBox::from_label("Level")
            .selected_text(format!("{} and above", filter.min_level))
            .show_ui(ui, |ui| {
                for level in LogLevel::ALL {
                    ui.selectable_value(&mut filter.min_level, level, format!("{level} and above"));
                }
            });
        let label = ui.label("Filter");
        ui.add(
            egui::TextEdit::singleline(&mut filter.text)
                .hint_text("text in the message")
                .desired_width(180.0),
        )
        .labelled_by(label.id);
        Action::ClearLogs.button(ui, app, Some(RichText::new("Clear")));
    });
    let filter = app.log_filter.clone();
    let Some(last) = app.workbench.last_mut() else {
        ui.weak("No call yet.");
        return;
    };
    let dropped = last.report.logs_dropped;
    let rows = last.log_rows(&filter).to_vec();
    let logs = &last.report.logs;
    ui.weak(format!(
        "{} of {} lines{}",
        rows.len(),
        logs.len(),
        if dropped > 0 {
            format!(
                " · {dropped} more were dropped (the runner keeps {})",
                logs.len()
            )
        } else {
            String::new()
        }
    ));
    TableBuilder::new(ui)
        .id_salt("log_table")
        .striped(true)
        .resizable(true)
        .column(Column::initial(80.0).at_least(60.0))
        .column(Column::initial(50.0))
        .column(Column::initial(56.0))
        .column(Column::remainder().clip(true))
        .header(ROW_HEIGHT, |mut header| {
            header.col(|ui| {
                ui.strong("time");
            });
            header.col(|ui| {
                ui.strong("level");
            });
            header.col(|ui| {
                ui.strong("source");
            });
            header.col(|ui| {
                ui.strong("message");
            });
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, rows.len(), |mut row| {
                let log = &logs[rows[row.index()]];
                row.col(|ui| {
                    #[expect(clippy::cast_precision_loss, reason = "display only")]
                    ui.label(
                        RichText::new(format!("+{:.3} ms", log.offset_us as f64 / 1000.0))
                            .monospace(),
                    );
                });
                row.col(|ui| {
                    ui.colored_label(level_color(ui, log.level), log.level.as_str());
                });
                row.col(|ui| {
                    let color = match log.source {
                        LogSource::Stdout | LogSource::Stderr => ui.visuals().hyperlink_color,
                        LogSource::Host => ok_color(ui),
                        LogSource::Pdk => ui.visuals().text_color(),
                    };
                    ui.colored_label(color, log.source.as_str());
                });
                row.col(|ui| {
                    let one_line = clipped_line(&printable(&log.message.replace('\n', " \\n ")));
                    ui.label(RichText::new(one_line).monospace())
                        .on_hover_text(printable(&log.message));
                });
            });
        });
}

fn host_calls(app: &App, ui: &mut Ui) {
    let Some(last) = app.workbench.last() else {
        ui.weak("No call yet.");
        return;
    };
    let calls = &last.report.host_calls;
    if calls.is_empty() {
        ui.weak("This call made no calls to host functions.");
        return;
    }
    TableBuilder::new(ui)
        .id_salt("host_call_table")
        .striped(true)
        .resizable(true)
        .column(Column::initial(80.0))
        .column(Column::initial(170.0))
        .column(Column::initial(260.0).clip(true))
        .column(Column::initial(70.0))
        .column(Column::remainder().clip(true))
        .header(ROW_HEIGHT, |mut header| {
            for title in ["time", "function", "arguments", "took", "result"] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, calls.len(), |mut row| {
                let call = &calls[row.index()];
                row.col(|ui| {
                    #[expect(clippy::cast_precision_loss, reason = "display only")]
                    ui.label(
                        RichText::new(format!("+{:.3} ms", call.offset_us as f64 / 1000.0))
                            .monospace(),
                    );
                });
                row.col(|ui| {
                    ui.label(RichText::new(&call.function).monospace());
                });
                row.col(|ui| {
                    ui.label(RichText::new(&call.args).monospace())
                        .on_hover_text(&call.args);
                });
                row.col(|ui| {
                    ui.label(format!("{} µs", call.duration_us));
                });
                row.col(|ui| {
                    ui.label(&call.result).on_hover_text(&call.result);
                });
            });
        });
}

fn bench_stats(ui: &mut Ui, last: &RunView) {
    let (Some(stats), Some(histogram)) = (&last.report.stats, last.histogram()) else {
        return;
    };
    ui.label(RichText::new(format!("Bench: {} calls on the warm instance", stats.calls)).strong());
    let per_s = if stats.median_us > 0.0 {
        1e6 / stats.median_us
    } else {
        0.0
    };
    egui::Grid::new("bench_grid")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.label("Calls per second");
            ui.label(RichText::new(format!("{per_s:.0} (at the median)")).strong());
            ui.end_row();
            for (name, value) in [
                ("min", stats.min_us),
                ("median", stats.median_us),
                ("p95", stats.p95_us),
                ("max", stats.max_us),
            ] {
                ui.label(name);
                ui.label(format!("{value:.1} µs"));
                ui.end_row();
            }
        });
    let bars: Vec<egui_plot::Bar> = histogram
        .bins
        .iter()
        .map(|(center, count)| {
            #[expect(clippy::cast_precision_loss, reason = "counts are plotted")]
            let height = *count as f64;
            egui_plot::Bar::new(*center, height).width(histogram.bin_width_us * 0.95)
        })
        .collect();
    // Tick labels with as many decimals as the bins need (sub-µs calls are common).
    let decimals = decimals_for(histogram.bin_width_us);
    egui_plot::Plot::new("bench_histogram")
        .height(170.0)
        .allow_scroll(false)
        .x_axis_label("µs per call")
        .y_axis_label("calls")
        .x_axis_formatter(move |mark, _| format!("{:.*}", decimals, mark.value))
        .y_axis_formatter(|mark, _| format!("{:.0}", mark.value))
        .show(ui, |plot| {
            plot.bar_chart(egui_plot::BarChart::new("calls", bars));
        });
    if histogram.beyond > 0 {
        ui.weak(format!(
            "{} slower calls beyond the 99th percentile are not drawn",
            histogram.beyond
        ));
    }
    ui.separator();
}

/// Decimals that tell ticks `step` apart.
fn decimals_for(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else if step >= 0.01 {
        2
    } else {
        3
    }
}

fn timing(app: &App, ui: &mut Ui) {
    let history = app.workbench.history();
    if let Some(last) = app.workbench.last() {
        bench_stats(ui, last);
        timing_grid(ui, last);
    } else {
        ui.weak("No call yet.");
    }
    if history.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Recent runs: call time (ms)").strong());
    #[expect(clippy::cast_precision_loss, reason = "run numbers are small")]
    let points: Vec<[f64; 2]> = history
        .runs()
        .map(|r| [r.number as f64, r.call_ms])
        .collect();
    let failures: Vec<[f64; 2]> = history
        .runs()
        .filter(|r| !r.ok)
        .map(|r| {
            #[expect(clippy::cast_precision_loss, reason = "run numbers are small")]
            let n = r.number as f64;
            [n, r.call_ms]
        })
        .collect();
    egui_plot::Plot::new("timing_plot")
        .height(140.0)
        .allow_scroll(false)
        .x_axis_label("run")
        .y_axis_label("ms")
        .show(ui, |plot| {
            plot.line(egui_plot::Line::new("call ms", points.clone()));
            plot.points(egui_plot::Points::new("runs", points).radius(3.0));
            if !failures.is_empty() {
                plot.points(
                    egui_plot::Points::new("failed", failures)
                        .radius(4.0)
                        .color(Color32::from_rgb(220, 70, 60)),
                );
            }
        });
    memory_plot(ui, history);
    egui::ScrollArea::vertical()
        .id_salt("history")
        .max_height(160.0)
        .show(ui, |ui| {
            egui::Grid::new("history_grid")
                .striped(true)
                .num_columns(7)
                .show(ui, |ui| {
                    for title in [
                        "#",
                        "function",
                        "outcome",
                        "call",
                        "load / instantiate",
                        "fuel",
                        "peak pages",
                    ] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for run in history.runs().rev().take(50) {
                        run_cells(ui, run, run.outcome.clone());
                        ui.label(ms(run.call_ms));
                        ui.label(format!("{} / {}", ms(run.load_ms), ms(run.instantiate_ms)));
                        ui.label(run.fuel.map_or_else(|| "—".to_string(), |f| f.to_string()));
                        ui.label(
                            run.peak_pages
                                .map_or_else(|| "—".to_string(), |p| p.to_string()),
                        );
                        ui.end_row();
                    }
                });
        });
}

/// Where the last call's time went, its fuel and its memory.
fn timing_grid(ui: &mut Ui, last: &RunView) {
    let t = &last.report.timings;
    egui::Grid::new("timing_grid")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.label("Load + compile");
            ui.label(if t.load_ms > 0.0 {
                ms(t.load_ms)
            } else {
                "— (plugin already loaded)".to_string()
            });
            ui.end_row();
            ui.label("Instantiate");
            ui.label(if last.report.new_instance {
                ms(t.instantiate_ms)
            } else {
                "— (warm instance reused)".to_string()
            });
            ui.end_row();
            ui.label("Call");
            ui.label(RichText::new(ms(t.call_ms)).strong());
            ui.end_row();
            ui.label("Fuel consumed");
            ui.label(
                last.report
                    .fuel_consumed
                    .map_or_else(|| "— (no fuel limit set)".to_string(), |f| f.to_string()),
            );
            ui.end_row();
            ui.label("Memory (main module)");
            ui.label(last.report.memory.map_or_else(
                || match crate::platform::MEMORY_FIGURES {
                    Ok(()) => "— (the module has no memory of its own, or the call did not reach it)"
                        .to_string(),
                    Err(why) => format!("— ({why})"),
                },
                |m| {
                    format!(
                        "{} pages before, {} at the peak, {} after ({} KiB at the peak)",
                        m.initial_pages,
                        m.peak_pages,
                        m.final_pages,
                        m.peak_pages * 64
                    )
                },
            ))
            .on_hover_text("Linear memory in 64 KiB pages before the call, at its peak and after it, read from the instance. Run, Find limits… finds the smallest memory max that keeps this outcome.");
            ui.end_row();
        });
}

/// Each recent run's peak memory, beside the call-time plot.
fn memory_plot(ui: &mut Ui, history: &crate::workbench::History) {
    #[expect(
        clippy::cast_precision_loss,
        reason = "run numbers and page counts are small"
    )]
    let pages: Vec<[f64; 2]> = history
        .runs()
        .filter_map(|r| r.peak_pages.map(|p| [r.number as f64, p as f64]))
        .collect();
    if !pages.is_empty() {
        ui.label(RichText::new("Recent runs: peak memory (pages)").strong());
        egui_plot::Plot::new("memory_plot")
            .height(110.0)
            .allow_scroll(false)
            .x_axis_label("run")
            .y_axis_label("pages")
            .show(ui, |plot| {
                plot.line(egui_plot::Line::new("peak pages", pages.clone()));
                plot.points(egui_plot::Points::new("peak", pages).radius(3.0));
            });
    }
}
