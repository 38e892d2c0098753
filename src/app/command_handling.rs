//! The one place the window's commands are applied, plus the per-frame work that is not
//! layout: polling the workbench, file dialogs (shown on a thread; the path picked is sent as
//! the command [`DialogPurpose::answer`] makes of it), dropped files and keyboard shortcuts.

use std::path::PathBuf;
use std::time::Duration;

use crate::platform::job::Job;

use super::action::Action;
use super::command::{Command, DialogKind, DialogPurpose, Postmortem};
use super::{App, Dialog};
use crate::workbench::{self, Source};

/// How often the window repaints while a call runs (for the elapsed time).
const RUNNING_REPAINT: Duration = Duration::from_millis(100);

impl App {
    /// Collects what finished since the last frame.
    pub(crate) fn poll(&mut self, ctx: &egui::Context) {
        if let Some(after) = self.workbench.poll() {
            ctx.request_repaint_after(after);
        }
        self.poll_dialog();
        let dropped: Option<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .find(|p| !p.as_os_str().is_empty())
        });
        if let Some(path) = dropped {
            self.send(workbench::Command::Open(Source::Path(path)));
        }
        if self.workbench.is_running() {
            ctx.request_repaint_after(RUNNING_REPAINT);
        }
        self.follow_build();
    }

    /// When a build ends, shows what matters next: the Build tab when it failed, the output
    /// (of the re-run) when it worked.
    fn follow_build(&mut self) {
        let Some(job) = self.workbench.build_job() else {
            return;
        };
        if job.is_running() {
            if self.view.build_followed < job.number && self.view.build_shown < job.number {
                self.view.build_shown = job.number;
                self.result_tab = super::state::ResultTab::Build;
            }
            return;
        }
        if self.view.build_followed >= job.number {
            return;
        }
        self.view.build_followed = job.number;
        self.result_tab = match job.build.outcome() {
            Some(crate::build::Outcome::Succeeded { .. }) => super::state::ResultTab::Output,
            _ => super::state::ResultTab::Build,
        };
    }

    /// Keyboard shortcuts, consumed before widgets see the keys (so Ctrl+Enter in the input
    /// editor runs instead of inserting a newline). An unavailable action leaves its key to
    /// the widgets (Escape is Stop only while something runs).
    pub(crate) fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        for action in Action::with_shortcuts() {
            let Some(shortcut) = action.shortcut() else {
                continue;
            };
            if action.availability(self).is_err() {
                continue;
            }
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
                self.send(action.command());
            }
        }
    }

    /// Opens the Open from registry dialog, filled with the last reference opened.
    fn show_registry_dialog(&mut self) {
        self.view.registry_dialog = Some(super::ui::RegistryDraft::new(&self.workbench));
    }

    /// Carries out one command.
    pub(crate) fn run_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::Workbench(command) => {
                let revoked = matches!(command, workbench::Command::Revoke(_));
                let opens_test = matches!(command, workbench::Command::OpenSuiteTest { .. });
                let added_to = match &command {
                    workbench::Command::AddRunToSuite(path) => Some(path.clone()),
                    _ => None,
                };
                self.workbench.apply(command);
                if revoked && self.view.trusted.is_some() {
                    self.view.trusted = Some(self.workbench.trusted_files());
                }
                // A test opened from the Tests window shows as the scenario it is.
                if opens_test {
                    self.result_tab = super::state::ResultTab::Scenario;
                }
                // The suite open in the Tests window shows the new test.
                if let Some(path) = added_to
                    && self
                        .workbench
                        .testing()
                        .suite()
                        .is_some_and(|s| s.path == path && !s.is_running())
                {
                    self.send(Command::from(workbench::TestCommand::OpenSuite {
                        path,
                        trust: false,
                    }));
                }
            }
            Command::Dialog(purpose) => self.open_dialog(ctx, purpose),
            Command::SaveSession => match self.workbench.state().session_path.clone() {
                Some(path) => self
                    .workbench
                    .apply(workbench::Command::SaveSession { path, embed: false }),
                None => self.open_dialog(ctx, DialogPurpose::SaveSession { embed: false }),
            },
            Command::CopyOutput => {
                if let Some(last) = self.workbench.last() {
                    ctx.copy_text(String::from_utf8_lossy(&last.report.output).into_owned());
                }
            }
            Command::CopyError => self.copy_error(ctx),
            Command::Postmortem(command) => self.run_postmortem_command(command),
            Command::ShowExportCode => self.view.show_export = true,
            Command::ShowTrustedFiles => self.view.trusted = Some(self.workbench.trusted_files()),
            Command::ShowRegistryDialog => self.show_registry_dialog(),
            Command::NewPlugin(command) => self.view.new_plugin.apply(command),
            Command::PickedMockHost(path) => {
                if let Some(draft) = &mut self.view.mock_editor {
                    draft.file = path.display().to_string();
                }
            }
            Command::Build => {
                self.result_tab = super::state::ResultTab::Build;
                self.workbench.apply(workbench::Command::Build);
            }
            Command::SetTheme(choice) => {
                self.theme = choice;
                ctx.set_theme(choice.preference());
            }
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    /// Shows the file dialog `purpose` needs on its own thread; its answer arrives in a later
    /// frame. One dialog at a time. A dialog that cannot be shown (no portal and no zenity:
    /// rfd logs why and answers nothing, or panics) answers nothing, as if cancelled, so the
    /// drafts keep what was typed.
    fn open_dialog(&mut self, ctx: &egui::Context, purpose: DialogPurpose) {
        if self.view.dialog.is_some() {
            return;
        }
        let kind = purpose.kind(|ending| self.workbench.suggested_name(ending));
        let ctx = ctx.clone();
        let job = Job::spawn(
            "file-dialog",
            std::sync::Arc::new(move || ctx.request_repaint()),
            move |_| {
                std::panic::catch_unwind(move || show_file_dialog(kind)).unwrap_or_else(|_| {
                    tracing::warn!("the file dialog failed; nothing was picked");
                    None
                })
            },
        );
        self.view.dialog = Some(Dialog { job, purpose });
    }

    /// Sends what a finished file dialog's path is for; a cancelled or failed dialog changes
    /// nothing.
    fn poll_dialog(&mut self) {
        let Some(dialog) = self.view.dialog.take() else {
            return;
        };
        match dialog.job.finish() {
            Ok(Some(path)) => self.send(dialog.purpose.answer(path)),
            Ok(None) => {}
            Err(job) => {
                self.view.dialog = Some(Dialog {
                    job,
                    purpose: dialog.purpose,
                });
            }
        }
    }

    /// Copies the last error with its whole symbolized backtrace and hint.
    fn copy_error(&self, ctx: &egui::Context) {
        if let Some(error) = self.workbench.last().and_then(|l| l.report.error.as_ref()) {
            ctx.copy_text(format!("{}: {}", error.kind, error.with_backtrace()));
        }
    }

    /// The commands of post-mortems: the limit finder, the coredump, source views and maps.
    fn run_postmortem_command(&mut self, command: Postmortem) {
        match command {
            Postmortem::ShowCoredump => {
                self.view.postmortem.coredump = self
                    .workbench
                    .coredump()
                    .map(super::ui::CoredumpView::parse);
            }
            Postmortem::OpenSource { file, line, column } => match self.resolved_source(&file) {
                Some(path) => {
                    self.view.postmortem.source_scroll = Some(line);
                    self.view.postmortem.source = Some(
                        crate::workbench::sources::SourceView::open(path, &file, line, column),
                    );
                }
                None => {
                    self.view.postmortem.source_map =
                        Some(super::ui::SourceMapDraft::for_file(&file, line, column));
                }
            },
            Postmortem::AddSourceMap { from, to } => {
                let mut maps = self.workbench.state().source_maps.clone();
                maps.retain(|m| m.from != from);
                maps.push(crate::workbench::sources::SourceMap { from, to });
                self.workbench
                    .apply(workbench::Command::SetSourceMaps(maps));
                self.view.postmortem.resolved.clear();
            }
            Postmortem::PickedSourceFolder(path) => {
                if let Some(draft) = &mut self.view.postmortem.source_map {
                    draft.to = path.display().to_string();
                }
            }
            Postmortem::RemoveSourceMap(index) => {
                let mut maps = self.workbench.state().source_maps.clone();
                if index < maps.len() {
                    maps.remove(index);
                }
                self.workbench
                    .apply(workbench::Command::SetSourceMaps(maps));
                self.view.postmortem.resolved.clear();
            }
        }
    }

    /// Where a frame's source file is here, remembered per file until the maps change (the
    /// frames list asks every frame it is drawn).
    pub(crate) fn resolved_source(&mut self, file: &str) -> Option<std::path::PathBuf> {
        // Relative paths resolve from the plugin's folder: the same name may be another file
        // for another plugin.
        let key = format!("{}\0{file}", self.workbench.state().plugin.key());
        if let Some(found) = self.view.postmortem.resolved.get(&key) {
            return found.clone();
        }
        let found = self.workbench.resolve_source(file);
        self.view.postmortem.resolved.insert(key, found.clone());
        found
    }
}

/// Shows a file dialog of `kind` and waits for the path picked (`None`: cancelled, or no
/// dialog could be shown).
fn show_file_dialog(kind: DialogKind) -> Option<PathBuf> {
    match kind {
        DialogKind::Open(filters) => {
            let mut dialog = rfd::FileDialog::new();
            for (name, extensions) in filters {
                dialog = dialog.add_filter(*name, extensions);
            }
            dialog.pick_file()
        }
        DialogKind::Save { suggested, json } => {
            let mut dialog = rfd::FileDialog::new().set_file_name(suggested);
            if json {
                dialog = dialog.add_filter("JSON", &["json"]);
            }
            dialog.save_file()
        }
        DialogKind::PickFolder => rfd::FileDialog::new().pick_folder(),
    }
}
