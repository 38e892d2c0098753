//! The consent step: a modal listing what a file asks of this machine before anything of it is
//! read or run, with Allow, Allow and remember, Open without grants and Cancel; and the
//! Trusted files window, where remembered files are revoked.

use egui::{Color32, RichText, Ui};

use super::super::App;
use crate::trust::{FileKind, Grant, PathState, Review};
use crate::workbench::{self, Answer};

/// Shows the question while a file waits for the user's answer.
pub(super) fn consent_modal(app: &mut App, ctx: &egui::Context) {
    let Some(asking) = app.workbench.asking() else {
        return;
    };
    let review = asking.review();
    let mut answer = None;
    let response = egui::Modal::new(egui::Id::unique("consent_modal")).show(ctx, |ui| {
        ui.set_max_width(620.0);
        ui.heading(format!(
            "{} asks for access to this machine",
            review.file_name()
        ));
        ui.add_space(4.0);
        ui.label(format!(
            "This {} opens holes in the sandbox for its plugin, or makes this app read or fetch something. Nothing of it has been read, fetched, granted or run yet.",
            review.kind.noun()
        ));
        ui.add_space(6.0);
        grants_list(ui, review);
        ui.add_space(6.0);
        if review.kind == FileKind::Bundle {
            ui.weak(
                "No other plugin's secrets, kv data or host functions are given to it: it gets only what it carries, and what you enter for it.",
            );
        }
        ui.horizontal(|ui| {
            ui.weak("File");
            ui.label(RichText::new(review.file.display().to_string()).small());
        });
        ui.horizontal(|ui| {
            ui.weak("sha256");
            ui.label(RichText::new(&review.sha256[..16.min(review.sha256.len())]).monospace())
                .on_hover_text(&review.sha256);
        });
        ui.separator();
        ui.horizontal(|ui| {
            if ui
                .button("Allow")
                .on_hover_text("Grant all of the above, this time only")
                .clicked()
            {
                answer = Some(Answer::Allow);
            }
            if ui
                .button("Allow and remember")
                .on_hover_text(
                    "Grant them and trust this exact file from now on, here and on the command line, while its bytes and what its grants resolve to stay the same; revoke it in File, Trusted files",
                )
                .clicked()
            {
                answer = Some(Answer::AllowAndRemember);
            }
            if ui
                .button("Open without grants")
                .on_hover_text("Open it with all of the above removed, to see what fails")
                .clicked()
            {
                answer = Some(Answer::WithoutGrants);
            }
            if ui.button("Cancel").on_hover_text("Do not open it").clicked() {
                answer = Some(Answer::Cancel);
            }
        });
    });
    if answer.is_none() && response.should_close() {
        answer = Some(Answer::Cancel);
    }
    if let Some(answer) = answer {
        app.send(workbench::Command::Answer(answer));
    }
}

/// Asks whether to follow a module download's redirect to another origin (nothing was sent
/// there yet).
pub(super) fn redirect_modal(app: &mut App, ctx: &egui::Context) {
    let Some(question) = app.workbench.redirect_question() else {
        return;
    };
    let mut answer = None;
    let response = egui::Modal::new(egui::Id::unique("redirect_modal")).show(ctx, |ui| {
        ui.set_max_width(620.0);
        ui.heading("Follow a redirect to another origin?");
        ui.add_space(4.0);
        ui.label(format!(
            "{} downloads a module from the URL below. The server there redirects it to another origin, which the file did not name. Nothing has been sent there yet.",
            question.source.label()
        ));
        ui.add_space(6.0);
        egui::Grid::new("redirect_grid")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                ui.weak("The file names");
                ui.label(RichText::new(&question.url).monospace());
                ui.end_row();
                ui.weak("Redirected to");
                ui.label(RichText::new(&question.to).monospace());
                ui.end_row();
                ui.weak("Origin");
                ui.label(
                    RichText::new(&question.origin)
                        .monospace()
                        .color(ui.visuals().warn_fg_color),
                );
                ui.end_row();
            });
        ui.separator();
        ui.horizontal(|ui| {
            if ui
                .button(format!("Follow to {}", question.origin))
                .on_hover_text("Send the request there too, for this file, this session (its method goes with it; the file's headers go only to its own origin)")
                .clicked()
            {
                answer = Some(true);
            }
            if ui.button("Cancel").on_hover_text("Do not open it").clicked() {
                answer = Some(false);
            }
        });
    });
    if answer.is_none() && response.should_close() {
        answer = Some(false);
    }
    if let Some(follow) = answer {
        app.send(workbench::Command::FollowRedirect(follow));
    }
}

/// Every grant with its kind and detail; then what needs no consent.
fn grants_list(ui: &mut Ui, review: &Review) {
    let warn = ui.visuals().warn_fg_color;
    egui::Grid::new("consent_grants")
        .num_columns(3)
        .striped(true)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for grant in &review.grants {
                match grant {
                    Grant::Path(p) => {
                        let kind = if p.read_only {
                            RichText::new("read-only folder")
                        } else {
                            RichText::new("read-write folder").color(warn)
                        };
                        ui.label(kind);
                        ui.label(RichText::new(p.host.display().to_string()).monospace())
                            .on_hover_text(format!("written in the file as {:?}", p.written));
                        let state =
                            RichText::new(format!("-> {} · {}", p.guest, p.state.describe()));
                        ui.label(if p.state == PathState::Directory {
                            state
                        } else {
                            state.color(warn)
                        });
                    }
                    Grant::Host(host) => {
                        ui.label("network host");
                        ui.label(RichText::new(host).monospace());
                        if host.trim() == "*" {
                            ui.label(RichText::new("any host on the internet").color(warn));
                        } else {
                            ui.label("HTTP requests");
                        }
                    }
                    Grant::File { path, role } => {
                        ui.label("file outside its folder");
                        ui.label(RichText::new(path.display().to_string()).monospace());
                        ui.label(format!("read as its {role}"));
                    }
                    Grant::Download(request) => {
                        ui.label("module download");
                        ui.label(RichText::new(&request.url).monospace());
                        if request.is_plain_get() {
                            ui.label("downloads a module (a plain GET)");
                        } else {
                            let sent = std::iter::once(format!("sends {}", request.method))
                                .chain(request.headers.iter().map(|(k, v)| format!("{k}: {v}")))
                                .collect::<Vec<_>>()
                                .join("\n");
                            ui.label(RichText::new(sent).color(warn));
                        }
                    }
                    Grant::Pull {
                        reference,
                        registry,
                    } => {
                        ui.label("registry pull");
                        ui.label(RichText::new(reference).monospace());
                        ui.label(format!("pulls a module from {registry}"))
                            .on_hover_text("Anonymously, or with your docker login for that registry; a login given for another registry is never sent there");
                    }
                }
                ui.end_row();
            }
        });
    if !review.exempt.is_empty() {
        ui.add_space(4.0);
        ui.weak("Allowed without asking (read-only subfolders of the file's own folder):");
        for p in &review.exempt {
            ui.label(
                RichText::new(format!("{} -> {}", p.host.display(), p.guest))
                    .small()
                    .monospace(),
            );
        }
    }
}

/// The files that open without asking, with a way to stop trusting each.
pub(super) fn trusted_files_window(app: &mut App, ctx: &egui::Context) {
    // Taken for the frame (and put back below), not copied: the list can be long.
    let Some(list) = app.view.trusted.take() else {
        return;
    };
    let mut open = true;
    let mut revoke = None;
    egui::Window::new("Trusted files")
        .open(&mut open)
        .default_size([620.0, 420.0])
        .show(ctx, |ui| {
            if let Some(file) = app.workbench.trust_store().file() {
                ui.weak(format!(
                    "Kept in {}; the command line reads the same list.",
                    file.display()
                ));
            }
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.heading("Remembered by you");
                if list.remembered.is_empty() {
                    ui.weak("None. When a file asks for access, Allow and remember lists it here.");
                }
                for (sha, file) in &list.remembered {
                    ui.horizontal(|ui| {
                        if ui
                            .small_button("Revoke")
                            .on_hover_text("Ask again the next time this file is opened")
                            .clicked()
                        {
                            revoke = Some(sha.clone());
                        }
                        entry(ui, &file.path, file.at, sha);
                    });
                    for grant in &file.grants {
                        ui.label(RichText::new(format!("      {grant}")).small());
                    }
                }
                ui.add_space(8.0);
                ui.heading("Saved by this app");
                ui.weak("Sessions, bundles, manifests and suites saved here: trusted where they were saved. One that changes, moves, or whose folders now lead elsewhere asks again.");
                if list.saved.is_empty() {
                    ui.weak("None yet.");
                }
                for (sha, file) in &list.saved {
                    ui.horizontal(|ui| {
                        if ui
                            .small_button("Forget")
                            .on_hover_text("Ask the next time this file is opened")
                            .clicked()
                        {
                            revoke = Some(sha.clone());
                        }
                        entry(ui, &file.path, file.at, sha);
                    });
                }
            });
        });
    if let Some(sha) = revoke {
        app.send(workbench::Command::Revoke(sha));
    }
    if open {
        app.view.trusted = Some(list);
    }
}

fn entry(ui: &mut Ui, path: &std::path::Path, at: u64, sha: &str) {
    ui.label(RichText::new(path.display().to_string()).monospace())
        .on_hover_text(format!("sha256 {sha}"));
    ui.label(
        RichText::new(crate::clock::format_time(at))
            .small()
            .color(Color32::GRAY),
    );
}
