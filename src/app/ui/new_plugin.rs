//! The New plugin dialog, all of its window side: what is typed (name, folder, template,
//! WASI), the window with a highlighted preview of every file the kit will write, why Create
//! and build is greyed, and what its commands do. The rest of the window reaches it through
//! [`NewPluginCommand`] (applied by [`NewPluginDialog::apply`]) and draws it with [`window`].
//! Writing the crate and building it is the workbench's (`workbench::Command::NewPlugin`).

use std::path::PathBuf;

use egui::Ui;

use super::super::App;
use super::super::command::{Command, DialogPurpose};
use super::super::state::ResultTab;
use super::code::{self, Language};
use crate::starter::{self, Spec, Template};
use crate::workbench;

/// What the rest of the window asks of the New plugin dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewPluginCommand {
    /// Open it, with what it last created from (or the defaults).
    Show,
    /// Put the folder picked with Browse… in the Folder field (nothing if the dialog closed
    /// meanwhile).
    Folder(PathBuf),
}

/// The dialog's state: the draft while it is open, and the draft it last created from.
#[derive(Debug, Default)]
pub struct NewPluginDialog {
    open: Option<Draft>,
    /// Kept after Create and build: if the crate cannot be written (the folder is taken, say),
    /// New plugin… opens again with what was typed.
    last: Option<Draft>,
}

impl NewPluginDialog {
    /// Carries out one of the dialog's commands.
    pub fn apply(&mut self, command: NewPluginCommand) {
        match command {
            NewPluginCommand::Show => {
                self.open = Some(self.last.clone().unwrap_or_else(Draft::new));
            }
            NewPluginCommand::Folder(path) => {
                if let Some(draft) = &mut self.open {
                    draft.folder = path.display().to_string();
                }
            }
        }
    }
}

/// What is typed in the dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Draft {
    name: String,
    folder: String,
    template: Template,
    wasi: bool,
    /// The file shown in the preview.
    preview: usize,
}

impl Draft {
    /// `my-plugin` in the home folder (or the current one), from the default template.
    fn new() -> Self {
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

    /// The kit to write, declaring the host functions the window offers now.
    fn spec(&self, app: &App) -> Spec {
        Spec {
            name: self.name.trim().to_string(),
            template: self.template,
            wasi: self.wasi,
            host: app.workbench.host_registry().functions().to_vec(),
        }
    }

    /// The folder the crate's folder goes in, as typed with `~` expanded.
    fn parent(&self) -> PathBuf {
        expand_home(self.folder.trim())
    }

    /// Why the kit cannot be created as typed, in the dialog's words.
    fn problem(&self, spec: &Spec) -> Option<String> {
        starter::check_name(spec.name.as_str())
            .err()
            .map(|e| e.to_string())
            .or_else(|| {
                self.folder
                    .trim()
                    .is_empty()
                    .then(|| "choose the folder the crate goes in".to_string())
            })
    }
}

/// The dialog, while it is open: Browse… asks for a folder, Create and build sends the kit to
/// the workbench and shows the Build tab.
pub(super) fn window(app: &mut App, ctx: &egui::Context) {
    let Some(mut draft) = app.view.new_plugin.open.take() else {
        return;
    };
    let spec = draft.spec(app);
    let building = app.workbench.is_building();
    let mut open = true;
    let mut create = false;
    let mut browse = false;
    egui::Window::new("New plugin")
        .open(&mut open)
        .default_size([720.0, 560.0])
        .resizable(true)
        .show(ctx, |ui| {
            browse = form(ui, &mut draft);
            create = summary(ui, &draft, &spec, building);
            ui.separator();
            preview(ui, &mut draft, &spec);
        });
    if browse {
        app.send(Command::Dialog(DialogPurpose::PickNewPluginFolder));
    }
    if create {
        app.send(workbench::Command::NewPlugin {
            parent: draft.parent(),
            spec,
        });
        app.result_tab = ResultTab::Build;
        app.view.new_plugin.last = Some(draft);
        return;
    }
    if open {
        app.view.new_plugin.open = Some(draft);
    }
}

/// What Create and build will do (or why it cannot) and the button; returns whether it was
/// clicked.
fn summary(ui: &mut Ui, draft: &Draft, spec: &Spec, building: bool) -> bool {
    let problem = draft.problem(spec);
    let dir = draft.parent().join(&spec.name);
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
        ui.add_enabled(
            problem.is_none() && !building,
            egui::Button::new("Create and build"),
        )
        .on_disabled_hover_text(if building {
            "a build is running"
        } else {
            "fix the name or folder first"
        })
        .clicked()
    })
    .inner
}

/// A tab per file the kit writes, and the picked one highlighted.
fn preview(ui: &mut Ui, draft: &mut Draft, spec: &Spec) {
    let files = starter::files(spec);
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
}

/// A folder as typed, with a leading `~` read as the home folder (as a shell would).
fn expand_home(folder: &str) -> PathBuf {
    let home = crate::platform::dirs::home;
    match folder.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '\\']) => match home() {
            Some(home) => home.join(rest.trim_start_matches(['/', '\\'])),
            None => PathBuf::from(folder),
        },
        _ => PathBuf::from(folder),
    }
}

/// The name, folder, template and target fields; returns whether Browse… was clicked.
fn form(ui: &mut Ui, draft: &mut Draft) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picked_folder_fills_the_open_draft_and_the_last_draft_comes_back() {
        let mut dialog = NewPluginDialog::default();
        // Picked after the dialog closed: nothing to fill, nothing opens.
        dialog.apply(NewPluginCommand::Folder(PathBuf::from("/elsewhere")));
        assert_eq!(dialog.open, None);
        dialog.apply(NewPluginCommand::Show);
        assert_eq!(dialog.open, Some(Draft::new()));
        dialog.open.as_mut().unwrap().name = "typed".to_string();
        dialog.apply(NewPluginCommand::Folder(PathBuf::from("/picked")));
        let draft = dialog.open.take().unwrap();
        assert_eq!(
            (draft.name.as_str(), draft.folder.as_str()),
            ("typed", "/picked")
        );
        // Created from: the next Show starts from it.
        dialog.last = Some(draft.clone());
        dialog.apply(NewPluginCommand::Show);
        assert_eq!(dialog.open, Some(draft));
    }

    #[test]
    fn a_leading_tilde_is_the_home_folder() {
        let Some(home) = crate::platform::dirs::home() else {
            return;
        };
        assert_eq!(expand_home("~"), home);
        assert_eq!(expand_home("~/code"), home.join("code"));
        assert_eq!(expand_home("~other/code"), PathBuf::from("~other/code"));
    }
}
