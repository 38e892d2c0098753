//! Understanding a failed call: the backtrace's frames under the error (each at its source
//! line when the module has DWARF; a click opens the file read-only around the line, or offers
//! to map a path built elsewhere to a local folder), the trap's coredump (frames, globals,
//! memory in hex), and the limit finder's window.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use egui::{Color32, RichText, Ui};

use super::super::App;
use super::super::action::Action;
use super::super::command::{Command, DialogPurpose, Postmortem};
use crate::runner::coredump::Coredump;
use crate::runner::report::{CallError, Frame};
use crate::workbench;
use crate::workbench::sources::{SourceUnreadable, SourceView};

const ROW_HEIGHT: f32 = 16.0;
/// Longer source locations lose their start (the file name and line matter most).
const MAX_LOCATION_CHARS: usize = 72;

/// `text` with its start cut to fit `max` characters.
fn elide_start(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let tail: String = text.chars().skip(count - (max - 1)).collect();
    format!("…{tail}")
}
const HEX_ROW_BYTES: usize = 16;

/// Queues a post-mortem command among the window's others.
fn push(commands: &mut Vec<Command>, command: Postmortem) {
    commands.push(command.into());
}

/// Frames from the standard library, the toolchain's runtime or a dependency in the cargo
/// registry: shown dimmed, so the plugin's own frames stand out.
pub(crate) fn is_library(frame: &Frame) -> bool {
    frame.file.as_deref().is_some_and(|f| {
        f.starts_with("/rustc/")
            || f.contains("/.cargo/registry/")
            || f.starts_with("~/.cargo/")
            || f.contains("/tinygo/src/")
            || f.contains("/wasi-libc/")
    })
}

/// The frames of `error`, under its message.
pub(super) fn frames(app: &mut App, ui: &mut Ui, error: &CallError) {
    if error.frames.is_empty() {
        return;
    }
    let first_own = error
        .frames
        .iter()
        .position(|f| f.file.is_some() && !is_library(f));
    ui.horizontal(|ui| {
        ui.label(RichText::new("Backtrace").strong());
        ui.weak(format!(
            "{} frames, innermost first{}",
            error.frames.len() + error.frames_omitted,
            if first_own.is_some() {
                "; ▶ marks the first in the plugin's own code"
            } else {
                ""
            }
        ));
    });
    if let Some(hint) = &error.hint {
        ui.colored_label(ui.visuals().warn_fg_color, hint);
    }
    egui::ScrollArea::vertical()
        .id_salt("frames_scroll")
        .max_height(170.0)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("frames_grid")
                .num_columns(3)
                .striped(true)
                .spacing([10.0, 2.0])
                .show(ui, |ui| {
                    for (i, frame) in error.frames.iter().enumerate() {
                        if error.frames_omitted > 0 && i == crate::runner::backtrace::KEEP_INNER {
                            ui.label("");
                            ui.weak(format!("… {} frames left out …", error.frames_omitted));
                            ui.end_row();
                        }
                        frame_row(app, ui, i, frame, first_own == Some(i));
                        ui.end_row();
                    }
                });
        });
}

fn frame_row(app: &mut App, ui: &mut Ui, i: usize, frame: &Frame, culprit: bool) {
    let dim = is_library(frame) || frame.file.is_none();
    let mark = if culprit { "▶" } else { " " };
    ui.label(RichText::new(format!("{mark}{i:>2}")).monospace());
    let mut name = RichText::new(frame.function_label()).monospace();
    if culprit {
        name = name.strong();
    } else if dim {
        name = name.weak();
    }
    let inlined = if frame.inlined { " (inlined)" } else { "" };
    ui.label(name).on_hover_text(format!(
        "{}{inlined}\nmodule {}, function index {}{}",
        frame.function_label(),
        frame.module,
        frame.func_index,
        frame
            .module_offset
            .map_or_else(String::new, |o| format!(", offset {o:#x}"))
    ));
    match (frame.location(), &frame.file) {
        (Some(location), Some(file)) => {
            let found = app.resolved_source(file).is_some();
            let shown = elide_start(&location, MAX_LOCATION_CHARS);
            let text = if found {
                RichText::new(shown).monospace()
            } else {
                RichText::new(format!("{shown}  (not on this machine: map…)"))
                    .monospace()
                    .weak()
            };
            let hover = if found {
                format!("{location}\nOpen the file here, read-only, at this line")
            } else {
                format!(
                    "{location}\nThis file is not on this machine (the plugin was built elsewhere): map the folder it was built in to a local one"
                )
            };
            if ui.link(text).on_hover_text(hover).clicked() {
                app.send(Postmortem::OpenSource {
                    file: file.clone(),
                    line: frame.line.unwrap_or(1),
                    column: frame.column,
                });
            }
        }
        _ => {
            ui.weak(
                frame
                    .module_offset
                    .map_or_else(String::new, |o| format!("{}+{o:#x}", frame.module)),
            );
        }
    }
}

/// The post-mortem windows the window has open: the coredump window, the source view (with
/// the line it scrolls to when it opens), the path-map editor, and where frames' source files
/// were found on this machine (by file as built).
#[derive(Default)]
pub struct PostmortemWindows {
    pub coredump: Option<CoredumpView>,
    pub source: Option<Result<SourceView, SourceUnreadable>>,
    pub source_scroll: Option<u32>,
    pub source_map: Option<SourceMapDraft>,
    pub resolved: std::collections::HashMap<String, Option<PathBuf>>,
}

/// The coredump window's contents: the parsed dump (or why it could not be read) and what is
/// selected in it.
pub struct CoredumpView {
    /// The bytes it was read from (to tell when a newer trap brought another).
    pub source: Arc<Vec<u8>>,
    pub dump: Result<Arc<Coredump>, Arc<crate::runner::coredump::CoredumpError>>,
    pub bytes: usize,
    pub instance: usize,
    pub memory: usize,
    /// A hex row to scroll to (set by Go to).
    pub go_to: Option<usize>,
    pub go_to_text: String,
}

impl CoredumpView {
    pub(crate) fn parse(bytes: &Arc<Vec<u8>>) -> Self {
        let dump = Coredump::parse(bytes).map(Arc::new).map_err(Arc::new);
        // Start at the instance that trapped.
        let instance = dump
            .as_ref()
            .ok()
            .and_then(|d| d.frames.first().map(|f| f.instance))
            .unwrap_or(0);
        Self {
            source: Arc::clone(bytes),
            dump,
            bytes: bytes.len(),
            instance,
            memory: 0,
            go_to: None,
            go_to_text: String::new(),
        }
    }
}

pub(super) fn coredump_window(app: &mut App, ctx: &egui::Context) {
    if app.view.postmortem.coredump.is_none() {
        return;
    }
    let names = frame_names(app);
    let stale = refresh_coredump(app);
    let Some(view) = &mut app.view.postmortem.coredump else {
        return;
    };
    let mut open = true;
    let mut save = false;
    egui::Window::new("Coredump")
        .open(&mut open)
        .default_pos([60.0, 60.0])
        .default_size([720.0, 560.0])
        .resizable(true)
        .show(ctx, |ui| {
            let dump = match &view.dump {
                Ok(dump) => Arc::clone(dump),
                Err(e) => {
                    ui.colored_label(ui.visuals().error_fg_color, e.to_string());
                    return;
                }
            };
            if stale {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "This coredump is from an earlier run: the last one did not trap.",
                );
            }
            ui.horizontal(|ui| {
                ui.label(format!(
                    "{} bytes, written by {} when the call trapped. wasmtime records frames, globals and memories; not locals.",
                    view.bytes, dump.process
                ));
                save = !stale
                    && ui
                    .button("Save coredump…")
                    .on_hover_text("It holds the plugin's memory, so it may hold secrets")
                    .clicked();
            });
            ui.separator();
            core_frames(ui, &dump, &names);
            ui.separator();
            ui.horizontal(|ui| {
                let label = ui.label("Instance");
                egui::ComboBox::from_id_salt("core_instance")
                    .selected_text(instance_label(&dump, view.instance))
                    .show_ui(ui, |ui| {
                        for i in 0..dump.instances.len() {
                            if ui
                                .selectable_label(view.instance == i, instance_label(&dump, i))
                                .clicked()
                            {
                                view.instance = i;
                                view.memory = 0;
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
            let Some(instance) = dump.instances.get(view.instance) else {
                return;
            };
            globals(ui, view, instance);
            if instance.memories.is_empty() {
                ui.weak("This instance has no memory of its own.");
                return;
            }
            ui.horizontal(|ui| {
                for (i, m) in instance.memories.iter().enumerate() {
                    ui.selectable_value(
                        &mut view.memory,
                        i,
                        format!("memory[{i}]: {} pages ({} KiB)", m.pages, m.pages * 64),
                    );
                }
                ui.separator();
                ui.label("Go to offset");
                let response = ui.add(
                    egui::TextEdit::singleline(&mut view.go_to_text)
                        .desired_width(90.0)
                        .hint_text("0x10000"),
                );
                if response.lost_focus() || ui.button("Go").clicked() {
                    view.go_to = parse_offset(&view.go_to_text).map(|o| o / HEX_ROW_BYTES);
                }
            });
            if let Some(memory) = instance.memories.get(view.memory) {
                hex_view(ui, &memory.bytes, view.go_to.take());
            }
        });
    if save {
        app.send(Command::Dialog(DialogPurpose::SaveCoredump));
    }
    if !open {
        app.view.postmortem.coredump = None;
    }
}

/// Shows the newest trap's coredump when a newer trap brought another; true when the last run
/// did not trap (the one shown is from an earlier run).
fn refresh_coredump(app: &mut App) -> bool {
    let current = app.workbench.coredump().cloned();
    if let (Some(view), Some(current)) = (&app.view.postmortem.coredump, &current)
        && !Arc::ptr_eq(&view.source, current)
    {
        app.view.postmortem.coredump = Some(CoredumpView::parse(current));
    }
    current.is_none()
}

/// The call's own frames by function index: they name the coredump's functions (same module,
/// same indices).
fn frame_names(app: &App) -> std::collections::HashMap<u32, String> {
    app.workbench
        .last()
        .and_then(|l| l.report.error.as_ref())
        .map(|e| {
            e.frames
                .iter()
                .filter(|f| !f.inlined)
                .map(|f| {
                    let at = f
                        .location()
                        .map_or_else(String::new, |l| format!(" at {l}"));
                    (f.func_index, format!("{}{at}", f.function_label()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The coredump's frames, named after the call's own frames where they match.
fn core_frames(ui: &mut Ui, dump: &Coredump, names: &std::collections::HashMap<u32, String>) {
    ui.label(RichText::new("Frames (innermost first)").strong());
    egui::Grid::new("core_frames")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for title in ["#", "module", "function", "code offset"] {
                ui.strong(title);
            }
            ui.end_row();
            for (i, f) in dump.frames.iter().enumerate() {
                ui.label(i.to_string());
                ui.label(format!("{} (instance {})", f.module, f.instance));
                let name = names
                    .get(&f.func_index)
                    .map_or_else(String::new, |n| format!("  {n}"));
                ui.monospace(format!("func[{}]{name}", f.func_index));
                ui.monospace(format!("{:#x}", f.code_offset));
                ui.end_row();
            }
        });
}

/// An instance's globals; an i32 that points into the memory shown can be followed.
fn globals(ui: &mut Ui, view: &mut CoredumpView, instance: &crate::runner::coredump::CoreInstance) {
    egui::CollapsingHeader::new(format!("Globals ({})", instance.globals.len()))
        .default_open(true)
        .show(ui, |ui| {
            let memory_len = instance
                .memories
                .get(view.memory)
                .map_or(0, |m| m.bytes.len());
            egui::Grid::new("core_globals")
                .striped(true)
                .show(ui, |ui| {
                    for (i, g) in instance.globals.iter().enumerate() {
                        ui.monospace(format!("global[{i}]"));
                        ui.monospace(g);
                        // An i32 inside the memory may be a pointer (the stack pointer, a
                        // heap base): offer to look there.
                        let pointer = g
                            .strip_prefix("i32 ")
                            .and_then(|v| v.parse::<i64>().ok())
                            .and_then(|v| usize::try_from(v).ok())
                            .filter(|v| *v > 0 && *v < memory_len);
                        if let Some(offset) = pointer {
                            if ui
                                .small_button(format!("show {offset:#x}"))
                                .on_hover_text("Show the memory there")
                                .clicked()
                            {
                                view.go_to = Some(offset / HEX_ROW_BYTES);
                                view.go_to_text = format!("{offset:#x}");
                            }
                        } else {
                            ui.label("");
                        }
                        ui.end_row();
                    }
                });
        });
}

fn instance_label(dump: &Coredump, i: usize) -> String {
    let trapped = dump.frames.first().is_some_and(|f| f.instance == i);
    let module = dump.instances.get(i).map_or("?", |m| m.module.as_str());
    format!(
        "{i}: {module}{}",
        if trapped { " (trapped here)" } else { "" }
    )
}

fn parse_offset(text: &str) -> Option<usize> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => usize::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Memory as hex and text, 16 bytes a row, only the visible rows laid out.
fn hex_view(ui: &mut Ui, bytes: &[u8], go_to_row: Option<usize>) {
    let rows = bytes.len().div_ceil(HEX_ROW_BYTES);
    let mut area = egui::ScrollArea::vertical()
        .id_salt("core_hex")
        .auto_shrink([false, false]);
    if let Some(row) = go_to_row {
        #[expect(
            clippy::cast_precision_loss,
            reason = "row offsets of a 4 GiB memory fit"
        )]
        let offset = row.min(rows.saturating_sub(1)) as f32 * ROW_HEIGHT;
        area = area.vertical_scroll_offset(offset);
    }
    area.show_rows(ui, ROW_HEIGHT, rows, |ui, range| {
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        for row in range {
            let start = row * HEX_ROW_BYTES;
            let chunk = &bytes[start..(start + HEX_ROW_BYTES).min(bytes.len())];
            let mut hex = String::with_capacity(HEX_ROW_BYTES * 3);
            for (i, b) in chunk.iter().enumerate() {
                if i == 8 {
                    hex.push(' ');
                }
                let _ = write!(hex, "{b:02x} ");
            }
            let text: String = chunk
                .iter()
                .map(|b| {
                    if b.is_ascii_graphic() || *b == b' ' {
                        *b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            let line = format!("{start:08x}  {hex:<49} {text}");
            if chunk.iter().all(|b| *b == 0) {
                ui.label(RichText::new(line).monospace().weak());
            } else {
                ui.monospace(line);
            }
        }
    });
}

/// A path prefix being mapped to a local folder, for a frame whose file is not here.
pub struct SourceMapDraft {
    pub file: String,
    pub line: u32,
    pub column: Option<u32>,
    pub from: String,
    pub to: String,
}

impl SourceMapDraft {
    pub(crate) fn for_file(file: &str, line: u32, column: Option<u32>) -> Self {
        Self {
            file: file.to_string(),
            line,
            column,
            from: crate::workbench::sources::suggested_prefix(file),
            to: String::new(),
        }
    }
}

pub(super) fn source_map_window(app: &mut App, ctx: &egui::Context) {
    let maps = app.workbench.state().source_maps.clone();
    let Some(draft) = &mut app.view.postmortem.source_map else {
        return;
    };
    let mut open = true;
    let mut commands = Vec::new();
    egui::Window::new("Map a source folder")
        .open(&mut open)
        .default_width(560.0)
        .show(ctx, |ui| {
            ui.label("The plugin was built elsewhere: its debug info names");
            ui.monospace(&draft.file);
            ui.label("Say which folder on this machine stands for the start of that path (shorten the prefix to the project's root).");
            egui::Grid::new("map_grid").num_columns(2).show(ui, |ui| {
                let label = ui.label("Prefix as built");
                ui.add(egui::TextEdit::singleline(&mut draft.from).desired_width(380.0))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Local folder");
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut draft.to).desired_width(300.0))
                        .labelled_by(label.id);
                    if ui.button("Browse…").clicked() {
                        commands.push(Command::Dialog(DialogPurpose::PickSourceFolder));
                    }
                });
                ui.end_row();
            });
            let rest = draft
                .file
                .get(draft.from.len()..)
                .filter(|_| draft.file.starts_with(draft.from.as_str()));
            let target = rest.map(|_| {
                crate::workbench::sources::resolve(
                    &draft.file,
                    &[crate::workbench::sources::SourceMap {
                        from: draft.from.clone(),
                        to: PathBuf::from(&draft.to),
                    }],
                    None,
                )
            });
            match target {
                None => {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        "The prefix must be the start of the path above.",
                    );
                }
                Some(None) if !draft.to.is_empty() => {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        "No such file under that folder yet (the map is kept anyway).",
                    );
                }
                Some(Some(path)) => {
                    ui.label(format!("found: {}", path.display()));
                }
                Some(None) => {}
            }
            ui.horizontal(|ui| {
                let can = !draft.from.is_empty() && !draft.to.is_empty();
                if ui.add_enabled(can, egui::Button::new("Map and open")).clicked() {
                    push(&mut commands, Postmortem::AddSourceMap {
                        from: draft.from.clone(),
                        to: PathBuf::from(&draft.to),
                    });
                    push(&mut commands, Postmortem::OpenSource {
                        file: draft.file.clone(),
                        line: draft.line,
                        column: draft.column,
                    });
                }
            });
            if !maps.is_empty() {
                ui.separator();
                ui.label(RichText::new("Folders mapped so far").strong());
                egui::Grid::new("maps_grid").striped(true).show(ui, |ui| {
                    for (i, map) in maps.iter().enumerate() {
                        ui.monospace(&map.from);
                        ui.label("is");
                        ui.monospace(map.to.display().to_string());
                        if ui.small_button("Remove").clicked() {
                            push(&mut commands, Postmortem::RemoveSourceMap(i));
                        }
                        ui.end_row();
                    }
                });
            }
        });
    for command in commands {
        if matches!(command, Command::Postmortem(Postmortem::OpenSource { .. })) {
            app.view.postmortem.source_map = None;
        }
        app.send(command);
    }
    if !open {
        app.view.postmortem.source_map = None;
    }
}

pub(super) fn source_window(app: &mut App, ctx: &egui::Context) {
    let Some(source) = &app.view.postmortem.source else {
        return;
    };
    let mut open = true;
    let title = match source {
        Ok(view) => format!(
            "Source: {}",
            view.path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ),
        Err(_) => "Source".to_string(),
    };
    let scroll_to = app.view.postmortem.source_scroll.take();
    // At the right, beside the frames it was opened from (and clear of the coredump window).
    let right = ctx.content_rect().right();
    egui::Window::new(title)
        .id(egui::Id::unique("source_window"))
        .open(&mut open)
        .default_pos([(right - 740.0).max(0.0), 60.0])
        .default_size([720.0, 480.0])
        .resizable(true)
        .show(ctx, |ui| match source {
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
            Ok(view) => source_text(ui, view, scroll_to),
        });
    if !open {
        app.view.postmortem.source = None;
    }
}

fn source_text(ui: &mut Ui, view: &SourceView, scroll_to: Option<u32>) {
    ui.horizontal_wrapped(|ui| {
        ui.monospace(view.path.display().to_string());
        if view.path.to_string_lossy() != view.built_as {
            ui.weak(format!("(built as {})", view.built_as));
        }
    });
    ui.label(format!(
        "Line {}{} (read-only)",
        view.line,
        view.column
            .map_or_else(String::new, |c| format!(", column {c}"))
    ));
    ui.separator();
    let target_line = view.line as usize;
    let mut area = egui::ScrollArea::both()
        .id_salt("source_scroll")
        .auto_shrink([false, false]);
    if let Some(line) = scroll_to {
        #[expect(clippy::cast_precision_loss, reason = "line numbers fit")]
        let offset = (line.saturating_sub(8)) as f32 * ROW_HEIGHT;
        area = area.vertical_scroll_offset(offset);
    }
    let marker = if ui.visuals().dark_mode {
        Color32::from_rgb(90, 40, 40)
    } else {
        Color32::from_rgb(255, 220, 215)
    };
    area.show_rows(ui, ROW_HEIGHT, view.line_count(), |ui, range| {
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        let language = super::code::Language::of_path(&view.path);
        for i in range {
            let number = i + 1;
            let line = |ui: &mut Ui| {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 0.0;
                    let gutter = RichText::new(format!("{number:>5}  ")).monospace();
                    ui.label(if number == target_line {
                        gutter.strong()
                    } else {
                        gutter.weak()
                    });
                    // Each line on its own: a comment spanning lines loses its colour after
                    // the first, which a source view can live with.
                    super::code::view(ui, &view.line_text(i).replace('\t', "    "), language);
                });
            };
            if number == target_line {
                egui::Frame::new().fill(marker).show(ui, line);
            } else {
                line(ui);
            }
        }
    });
}

/// The limit finder's window: probes as they come, Stop, then the result with its snippet.
pub(super) fn limits_window(app: &mut App, ctx: &egui::Context) {
    let Some(job) = app.workbench.limit_search() else {
        return;
    };
    let mut open = true;
    let mut commands: Vec<Command> = Vec::new();
    let probes = job.probes();
    egui::Window::new(format!("Find limits: {}", job.function))
        .id(egui::Id::unique("limits_window"))
        .open(&mut open)
        .default_size([560.0, 420.0])
        .show(ctx, |ui| {
            ui.label(
                "Each probe calls the function with the current input on a fresh instance, under one limit, and compares the outcome with that of a call without limits.",
            );
            ui.separator();
            match job.result() {
                None => {
                    ui.horizontal(|ui| {
                        ui.add(egui::Spinner::new());
                        ui.label(format!(
                            "{} probes · {}",
                            probes.len(),
                            probes.last().map_or("starting", |p| p.last.as_str())
                        ));
                        if ui.button("⏹ Stop").clicked() {
                            commands.push(workbench::Command::Limits(workbench::LimitCommand::Stop).into());
                        }
                    });
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e.to_string());
                }
                Some(Ok(found)) => {
                    let summary = found.summary();
                    ui.add(
                        egui::TextEdit::multiline(&mut summary.as_str())
                            .code_editor()
                            .desired_width(f32::INFINITY),
                    );
                    ui.horizontal(|ui| {
                        if ui
                            .button("Apply memory and timeout to the sandbox")
                            .on_hover_text("Sets the memory max and timeout to the suggested values (with their margins)")
                            .clicked()
                        {
                            commands.push(workbench::Command::Limits(workbench::LimitCommand::Apply).into());
                        }
                        if ui.button("📋 Copy manifest snippet").clicked() {
                            ui.ctx().copy_text(found.manifest_snippet());
                        }
                    });
                }
            }
            egui::CollapsingHeader::new(format!("Probes ({})", probes.len()))
                .id_salt("limit_probes")
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().max_height(200.0).show(ui, |ui| {
                        for p in &probes {
                            ui.monospace(format!("{:>3}  {}", p.done, p.last));
                        }
                    });
                });
        });
    if !open {
        commands.push(workbench::Command::Limits(workbench::LimitCommand::Close).into());
    }
    for command in commands {
        app.send(command);
    }
}

/// The error header's coredump buttons.
pub(super) fn coredump_buttons(app: &mut App, ui: &mut Ui) {
    if app
        .workbench
        .last()
        .is_some_and(|l| l.report.coredump.is_some())
    {
        Action::ShowCoredump.button(ui, app, None);
        Action::SaveCoredump.button(ui, app, None);
    }
}
