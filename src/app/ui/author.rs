//! The author's loop in the window: the New plugin dialog (name, folder, template, WASI, and a
//! highlighted preview of every file it will write) and the Build tab (cargo's output as it
//! comes, each `file:line` a link to the source view, Stop).

use egui::{Color32, RichText, Ui};

use super::super::App;
use super::super::action::Action;
use super::super::command::{Command, DialogPurpose, Postmortem};
use super::code::{self, Language};
use crate::build::Level;
use crate::starter::{self, Spec, Template};
use crate::workbench;

/// What is typed in the New plugin dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPluginDraft {
    pub name: String,
    pub folder: String,
    pub template: Template,
    pub wasi: bool,
    /// The file shown in the preview.
    pub preview: usize,
}

impl NewPluginDraft {
    pub fn new() -> Self {
        let folder = crate::platform::dirs::home()
            .or_else(|| std::env::current_dir().ok())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Self {
            name: "my-plugin".to_string(),
            folder,
            template: Template::default(),
            wasi: false,
            preview: 0,
        }
    }

    fn spec(&self, app: &App) -> Spec {
        Spec {
            name: self.name.trim().to_string(),
            template: self.template,
            wasi: self.wasi,
            host: app.workbench.host_registry().functions().to_vec(),
        }
    }
}

pub(super) fn new_plugin_window(app: &mut App, ctx: &egui::Context) {
    let Some(mut draft) = app.view.new_plugin.take() else {
        return;
    };
    let spec = draft.spec(app);
    let mut open = true;
    let mut create = false;
    let mut browse = false;
    egui::Window::new("New plugin")
        .open(&mut open)
        .default_size([720.0, 560.0])
        .resizable(true)
        .show(ctx, |ui| {
            browse = form(ui, &mut draft);
            let problem = starter::check_name(spec.name.as_str())
                .err()
                .map(|e| e.to_string())
                .or_else(|| {
                    draft
                        .folder
                        .trim()
                        .is_empty()
                        .then(|| "choose the folder the crate goes in".to_string())
                });
            let dir = expand_home(draft.folder.trim()).join(&spec.name);
            ui.horizontal_wrapped(|ui| match &problem {
                Some(problem) => {
                    ui.colored_label(ui.visuals().error_fg_color, problem);
                }
                None => {
                    ui.weak(format!(
                        "Writes {} and builds it with cargo build --release --target {}; it opens when built.",
                        dir.display(),
                        starter::target(spec.wasi)
                    ));
                }
            });
            let host = spec.host.len();
            ui.weak(format!(
                "src/host.rs declares the {host} host function(s) this window offers now (built-ins and your own)."
            ));
            ui.horizontal(|ui| {
                let busy = app.workbench.is_building();
                let response = ui
                    .add_enabled(problem.is_none() && !busy, egui::Button::new("Create and build"))
                    .on_disabled_hover_text(if busy {
                        "a build is running"
                    } else {
                        "fix the name or folder first"
                    });
                create = response.clicked();
            });
            ui.separator();
            let files = starter::files(&spec);
            draft.preview = draft.preview.min(files.len() - 1);
            ui.horizontal_wrapped(|ui| {
                for (i, (name, _)) in files.iter().enumerate() {
                    ui.selectable_value(&mut draft.preview, i, *name);
                }
            });
            let (name, text) = &files[draft.preview];
            egui::ScrollArea::both()
                .id_salt("new_plugin_preview")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    code::view(ui, text, Language::of_path(std::path::Path::new(name)));
                });
        });
    if browse {
        app.send(Command::Dialog(DialogPurpose::PickNewPluginFolder));
    }
    if create {
        app.send(workbench::Command::NewPlugin {
            parent: expand_home(draft.folder.trim()),
            spec,
        });
        app.result_tab = super::super::state::ResultTab::Build;
        // Kept: if the crate cannot be written (the folder is taken, say), New plugin… opens
        // again with what was typed.
        app.view.new_plugin_last = Some(draft);
        return;
    }
    if open {
        app.view.new_plugin = Some(draft);
    }
}

/// A folder as typed, with a leading `~` read as the home folder (as a shell would).
fn expand_home(folder: &str) -> std::path::PathBuf {
    let home = crate::platform::dirs::home;
    match folder.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '\\']) => match home() {
            Some(home) => home.join(rest.trim_start_matches(['/', '\\'])),
            None => std::path::PathBuf::from(folder),
        },
        _ => std::path::PathBuf::from(folder),
    }
}

/// The name, folder, template and target fields; returns whether Browse… was clicked.
fn form(ui: &mut Ui, draft: &mut NewPluginDraft) -> bool {
    let mut browse = false;
    egui::Grid::new("new_plugin_grid")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Name");
            ui.add(egui::TextEdit::singleline(&mut draft.name).desired_width(240.0))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Folder");
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut draft.folder).desired_width(380.0))
                    .labelled_by(label.id);
                browse = ui.button("Browse…").clicked();
            });
            ui.end_row();
            ui.label("Template");
            ui.vertical(|ui| {
                for template in Template::ALL {
                    ui.radio_value(&mut draft.template, template, template.label());
                }
            });
            ui.end_row();
            ui.label("Target");
            ui.checkbox(&mut draft.wasi, "WASI (wasm32-wasip1)")
                .on_hover_text("Off: wasm32-unknown-unknown, the smallest sandbox");
            ui.end_row();
        });
    browse
}

/// The Build tab: the command, how it is going, and cargo's output.
pub(super) fn build_tab(app: &mut App, ui: &mut Ui) {
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
