//! Registries in the window: the Open from registry dialog (a reference, plain HTTP for hosts
//! without TLS, an optional login kept in memory only, the references opened before), the
//! pull's progress with Stop, and what the plugin panel says of a pulled plugin: its tag, its
//! digest, when it was pulled, and whether the tag has moved since.

use egui::{RichText, Ui};

use super::super::App;
use super::super::action::Action;
use super::widgets::{bytes, long_value};
use crate::registry::{Pin, Reference, Transfer};
use crate::workbench::{self, registry::NewerCheck};

/// The Open from registry dialog, while it is open.
#[derive(Clone, Default)]
pub struct RegistryDraft {
    pub reference: String,
    pub plain_http: bool,
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for RegistryDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryDraft")
            .field("reference", &self.reference)
            .field("plain_http", &self.plain_http)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl RegistryDraft {
    /// A dialog filled with the reference last typed (one that failed comes back to be
    /// corrected), else the last one opened, else nothing; its plain-HTTP choice as remembered.
    pub fn new(workbench: &crate::workbench::Workbench) -> Self {
        let state = workbench.state();
        let reference = workbench
            .registry_attempt()
            .or_else(|| state.recent_references.first().map(String::as_str))
            .unwrap_or_default()
            .to_string();
        Self {
            plain_http: remembered_plain_http(&reference, &state.insecure_registries),
            reference,
            ..Self::default()
        }
    }
}

/// Whether `reference`'s host was chosen to be reached over plain HTTP.
fn remembered_plain_http(reference: &str, insecure: &[String]) -> bool {
    reference
        .trim()
        .parse::<Reference>()
        .is_ok_and(|r| insecure.iter().any(|h| *h == r.registry || h == r.host()))
}

/// The Open from registry dialog.
pub(crate) fn dialog_window(app: &mut App, ctx: &egui::Context) {
    let Some(mut draft) = app.view.registry_dialog.take() else {
        return;
    };
    let mut open = true;
    let mut cancel = false;
    let mut submit = false;
    let mut forget = None;
    let recent = app.workbench.state().recent_references.clone();
    let insecure = app.workbench.state().insecure_registries.clone();
    egui::Window::new("Open from registry")
        .open(&mut open)
        .collapsible(false)
        .resizable(true)
        .default_width(520.0)
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(ctx.content_rect().center_top() + egui::vec2(0.0, 80.0))
        .show(ctx, |ui| {
            ui.label("A plugin published to an OCI registry, by tag or pinned by digest:");
            let label = ui.label("Reference");
            let response = ui
                .add(
                    egui::TextEdit::singleline(&mut draft.reference)
                        .hint_text("oci://registry.example.com/team/plugin:1.4")
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            let parsed = draft.reference.trim().parse::<Reference>();
            if response.changed() && parsed.is_ok() {
                draft.plain_http = remembered_plain_http(&draft.reference, &insecure);
            }
            match &parsed {
                Err(e) if !draft.reference.trim().is_empty() => {
                    ui.add(
                        egui::Label::new(
                            RichText::new(e.to_string())
                                .small()
                                .color(ui.visuals().error_fg_color),
                        )
                        .wrap(),
                    );
                }
                Ok(r) if r.is_loopback() => {
                    ui.weak("A registry on this machine: reached over plain HTTP.");
                }
                Ok(_) => {
                    ui.checkbox(&mut draft.plain_http, "Plain HTTP (a registry without TLS)")
                        .on_hover_text("Like --insecure-registry: remembered for this host");
                }
                Err(_) => {}
            }
            ui.add_space(4.0);
            if let Ok(r) = &parsed
                && let Some(user) = app.workbench.registry_login_user(&r.registry)
                && kept_login(ui, &r.registry, user)
            {
                forget = Some(r.registry.clone());
            }
            login(ui, &mut draft);
            recent_references(ui, &mut draft, &recent, &insecure);
            ui.separator();
            ui.horizontal(|ui| {
                let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                let ok = parsed.is_ok();
                if ui
                    .add_enabled(ok, egui::Button::new("Open"))
                    .on_disabled_hover_text("Type a reference: oci://HOST[:PORT]/REPO:TAG")
                    .clicked()
                    || (enter && ok)
                {
                    submit = true;
                }
                if ui.button("Cancel").clicked() {
                    cancel = true;
                }
            });
        });
    if let Some(registry) = forget {
        app.send(workbench::Command::ForgetRegistryLogin(registry));
    }
    if submit {
        let login = (!draft.user.trim().is_empty()).then(|| crate::registry::Login {
            // The workbench binds it to the reference's registry.
            registries: Vec::new(),
            user: draft.user.trim().to_string(),
            password: draft.password.clone(),
        });
        app.send(workbench::Command::OpenFromRegistry {
            reference: draft.reference.trim().to_string(),
            login,
            plain_http: Some(draft.plain_http),
        });
        return;
    }
    if open && !cancel {
        app.view.registry_dialog = Some(draft);
    }
}

/// Says a login for `registry` is kept for this session; true when the user asks to forget it.
fn kept_login(ui: &mut Ui, registry: &str, user: &str) -> bool {
    ui.horizontal(|ui| {
        ui.label(format!(
            "Logged in to {registry} as {user} for this session"
        ));
        ui.small_button("Forget")
            .on_hover_text("Forget this login: docker's credentials (or none) are used")
            .clicked()
    })
    .inner
}

/// The optional login: user and password (or token), kept in memory only.
fn login(ui: &mut Ui, draft: &mut RegistryDraft) {
    egui::CollapsingHeader::new("Login")
        .default_open(!draft.user.is_empty())
        .show(ui, |ui| {
            ui.weak("Leave empty to use docker's credentials (~/.docker/config.json and its credential helpers), or none. Kept in memory only, never saved.");
            egui::Grid::new("registry_login").num_columns(2).show(ui, |ui| {
                let label = ui.label("User");
                ui.add(egui::TextEdit::singleline(&mut draft.user))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Password or token");
                ui.add(egui::TextEdit::singleline(&mut draft.password).password(true))
                    .labelled_by(label.id);
                ui.end_row();
            });
        });
}

/// The references opened before; clicking one fills the field.
fn recent_references(
    ui: &mut Ui,
    draft: &mut RegistryDraft,
    recent: &[String],
    insecure: &[String],
) {
    if recent.is_empty() {
        return;
    }
    ui.add_space(4.0);
    ui.label("Opened before");
    for reference in recent {
        if ui
            .selectable_label(
                draft.reference.trim() == reference,
                RichText::new(reference).monospace().small(),
            )
            .on_hover_text("Use this reference")
            .clicked()
        {
            draft.reference.clone_from(reference);
            draft.plain_http = remembered_plain_http(reference, insecure);
        }
    }
}

/// A pull in progress: bytes so far against the layer's size, and Stop.
pub(super) fn pull_progress(app: &mut App, ui: &mut Ui, transfer: &Transfer) {
    let (received, expected) = transfer.progress();
    match expected {
        Some(total) if total > 0 => {
            #[expect(clippy::cast_precision_loss, reason = "a progress fraction")]
            let fraction = received as f32 / total as f32;
            ui.add(
                egui::ProgressBar::new(fraction.clamp(0.0, 1.0)).text(format!(
                    "{} of {}",
                    bytes(received),
                    bytes(total)
                )),
            );
        }
        _ => {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new());
                ui.label(if received > 0 {
                    format!("{} received", bytes(received))
                } else {
                    "Asking the registry…".to_string()
                });
            });
        }
    }
    if transfer.is_cancelled() {
        ui.weak("Stopping…");
    } else {
        Action::Stop.button(ui, app, Some(RichText::new("Stop")));
    }
}

/// Where a pulled plugin came from, and Check for newer.
pub(super) fn pin_info(app: &mut App, ui: &mut Ui, pin: &Pin) {
    let reference = pin.reference.parse::<Reference>().ok();
    if let Some(r) = &reference {
        long_value(
            ui,
            "Registry",
            RichText::new(format!("{}/{}", r.registry, r.repository)).small(),
        );
        if let Some(tag) = &r.tag {
            long_value(ui, "Tag", RichText::new(tag).monospace());
        }
    }
    ui.horizontal(|ui| {
        ui.label("Digest");
        ui.label(RichText::new(short_digest(&pin.digest)).monospace())
            .on_hover_text(format!(
                "The manifest's digest: opening {} gives these bytes, whatever the tag says later",
                pin.pinned_reference()
            ));
        if ui
            .small_button("Copy")
            .on_hover_text("Copy the reference pinned to this digest")
            .clicked()
        {
            ui.ctx().copy_text(pin.pinned_reference());
        }
    });
    ui.horizontal(|ui| {
        ui.label("Pulled");
        ui.label(crate::clock::format_time(pin.pulled_at))
            .on_hover_text(format!("Layer {} ({})", pin.layer, pin.media_type));
    });
    match app.workbench.newer() {
        Some(NewerCheck::Checking { .. }) => {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new());
                ui.label("Asking the registry where the tag points…");
            });
        }
        Some(NewerCheck::Done(verdict)) => {
            let text = crate::app::words::newer(verdict);
            match verdict.moved() {
                Some(true) => {
                    ui.add(
                        egui::Label::new(RichText::new(text).color(ui.visuals().warn_fg_color))
                            .wrap(),
                    );
                    let tag = verdict.tag.clone();
                    if ui
                        .button("Open the newer plugin")
                        .on_hover_text(format!("Pull {tag} as it is now"))
                        .clicked()
                    {
                        app.send(workbench::Command::OpenFromRegistry {
                            reference: tag.to_string(),
                            login: None,
                            plain_http: None,
                        });
                    }
                }
                Some(false) => {
                    ui.add(egui::Label::new(RichText::new(text).small()).wrap());
                }
                None => {
                    ui.add(
                        egui::Label::new(
                            RichText::new(text)
                                .small()
                                .color(ui.visuals().error_fg_color),
                        )
                        .wrap(),
                    );
                }
            }
        }
        None => {}
    }
    Action::CheckForNewer.button(ui, app, Some(RichText::new("Check for newer").small()));
}

/// `sha256:` and the first 12 hex digits.
fn short_digest(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}
