//! The host function editor: the window that defines (or edits) what a host function the
//! plugin imports does. It shows the import's signature, a behaviour picker, the text, script
//! or mock-host plugin the behaviour needs, how each `i64` is carried, and the fit check
//! (script errors at line and column) live, before anything is linked.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Color32, RichText, Ui};

use super::super::App;
use crate::app::command::{Command, DialogPurpose};
use crate::runner::host::{ArgKind, Behaviour, Bytes, HostFnDef, MockSource, define};
use crate::runner::inspect::Signature;
use crate::workbench;

/// The behaviours, in picker order, with what each does.
const BEHAVIOURS: &[(&str, &str)] = &[
    (
        "value",
        "Returns fixed bytes (text or JSON; base64:... for binary)",
    ),
    (
        "template",
        "Returns text with {0}, {1}... replaced by the arguments",
    ),
    ("kv-get", "Reads the kv store: argument 0 is the key"),
    (
        "kv-set",
        "Writes the kv store: argument 0 is the key, argument 1 the value",
    ),
    ("fail", "Returns an error with this message"),
    (
        "rhai",
        "A Rhai script defining a function named like the import",
    ),
    (
        "wasm",
        "A mock-host plugin exporting a function named like the import",
    ),
];

/// A definition being edited.
#[derive(Clone, Debug, PartialEq)]
pub struct MockDraft {
    pub module: String,
    pub name: String,
    /// The import's signature.
    pub signature: Signature,
    /// One of [`BEHAVIOURS`].
    pub behaviour: &'static str,
    /// The value, template or failure message.
    pub text: String,
    pub script: String,
    /// The mock-host plugin's file.
    pub file: String,
    /// The mock-host plugin's export to call, when not named like the import.
    pub export: String,
    pub params: Vec<ArgKind>,
    pub result: Option<ArgKind>,
    /// Whether the definition is on (kept from the one being edited).
    pub enabled: bool,
    /// The mock-host plugin of the definition being edited, used while the file field is
    /// left as it was (it may be embedded, with no file at all).
    pub existing_mock: Option<MockSource>,
    /// The last check and what it was made of, so a frame does not read and parse a
    /// mock-host plugin again when nothing changed.
    checked: Checked,
}

/// The last check of a draft and the key of what it was made of: a cache, so it takes no part
/// in comparing drafts.
#[derive(Clone, Debug, Default)]
struct Checked(Option<(u64, Result<HostFnDef, DraftProblem>)>);

impl PartialEq for Checked {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Why the draft is not a definition that can be saved yet.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DraftProblem {
    #[error("choose the mock-host plugin's .wasm file")]
    NoMockFile,
    #[error(transparent)]
    MockUnreadable(Arc<define::DefineError>),
    #[error(transparent)]
    DoesNotFit(define::FitError),
    #[error("not checked yet")]
    NotChecked,
}

impl MockDraft {
    /// A new definition for the import `module::name`, starting from `existing` if there is one.
    pub fn new(
        module: &str,
        name: &str,
        signature: Signature,
        existing: Option<&HostFnDef>,
    ) -> Self {
        let default_kind = |t: &String| {
            if t == "i64" {
                ArgKind::Bytes
            } else {
                ArgKind::Num
            }
        };
        let mut draft = Self {
            module: module.to_string(),
            name: name.to_string(),
            params: signature.params.iter().map(default_kind).collect(),
            result: signature.results.first().map(default_kind),
            signature,
            behaviour: "value",
            text: String::new(),
            script: String::new(),
            file: String::new(),
            export: String::new(),
            enabled: true,
            existing_mock: None,
            checked: Checked::default(),
        };
        draft.script = draft.script_skeleton();
        let Some(def) = existing else {
            return draft;
        };
        draft.enabled = def.enabled;
        if let Some(params) = &def.params
            && params.len() == draft.params.len()
        {
            draft.params.clone_from(params);
        }
        if def.result.is_some() && draft.result.is_some() {
            draft.result = def.result;
        }
        draft.behaviour = BEHAVIOURS
            .iter()
            .map(|(k, _)| *k)
            .find(|k| *k == def.behaviour.kind())
            .unwrap_or("value");
        match &def.behaviour {
            Behaviour::Value { value } => draft.text = value.to_editable(),
            Behaviour::Template { template } => draft.text.clone_from(template),
            Behaviour::Fail { message } => draft.text.clone_from(message),
            Behaviour::Rhai { script, .. } => draft.script.clone_from(script),
            Behaviour::Wasm(mock) => {
                draft.file = mock
                    .file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default();
                draft.export = mock.export.clone().unwrap_or_default();
                draft.existing_mock = Some(mock.clone());
            }
            Behaviour::KvGet | Behaviour::KvSet => {}
        }
        draft
    }

    /// What the check depends on, hashed.
    fn key(&self) -> u64 {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            self.behaviour,
            &self.text,
            &self.script,
            &self.file,
            &self.export,
            &self.params,
            self.result,
        )
            .hash(&mut h);
        h.finish()
    }

    /// A script that defines the function with one parameter per argument.
    fn script_skeleton(&self) -> String {
        let params: Vec<String> = (0..self.params.len()).map(|i| format!("arg{i}")).collect();
        let body = match (self.result, self.params.first()) {
            (None, _) => "    log(\"called\");".to_string(),
            (Some(ArgKind::Num), _) => "    0".to_string(),
            (Some(ArgKind::Bytes), Some(ArgKind::Bytes)) => "    arg0".to_string(),
            (Some(ArgKind::Bytes), _) => "    \"\"".to_string(),
        };
        format!("fn {}({}) {{\n{body}\n}}\n", self.name, params.join(", "))
    }

    /// The definition the draft describes, or why it cannot be one yet.
    pub fn to_def(&self) -> Result<HostFnDef, DraftProblem> {
        let behaviour = match self.behaviour {
            "value" => Behaviour::Value {
                value: Bytes::from_editable(&self.text),
            },
            "template" => Behaviour::Template {
                template: self.text.clone(),
            },
            "kv-get" => Behaviour::KvGet,
            "kv-set" => Behaviour::KvSet,
            "fail" => Behaviour::Fail {
                message: self.text.clone(),
            },
            "rhai" => Behaviour::Rhai {
                script: self.script.clone(),
                file: None,
            },
            _ => {
                let file = self.file.trim();
                let unchanged = self.existing_mock.as_ref().filter(|m| {
                    m.loaded.is_some()
                        && file
                            == m.file
                                .as_ref()
                                .map(|f| f.display().to_string())
                                .unwrap_or_default()
                });
                let mut mock = match unchanged {
                    Some(mock) => mock.clone(),
                    None if file.is_empty() => {
                        return Err(DraftProblem::NoMockFile);
                    }
                    None => MockSource::read(&PathBuf::from(file))
                        .map_err(|e| DraftProblem::MockUnreadable(Arc::new(e)))?,
                };
                let export = self.export.trim();
                mock.export =
                    (!export.is_empty() && export != self.name).then(|| export.to_string());
                Behaviour::Wasm(mock)
            }
        };
        let default_kind = |t: &String| {
            if t == "i64" {
                ArgKind::Bytes
            } else {
                ArgKind::Num
            }
        };
        let defaults: Vec<ArgKind> = self.signature.params.iter().map(default_kind).collect();
        let mut def = HostFnDef::new(&self.module, &self.name, behaviour);
        def.enabled = self.enabled;
        def.params = (self.params != defaults).then(|| self.params.clone());
        def.result = (self.result != self.signature.results.first().map(default_kind))
            .then_some(self.result)
            .flatten();
        define::fit(&def, &self.signature).map_err(DraftProblem::DoesNotFit)?;
        Ok(def)
    }
}

/// The editor window, while one is open.
pub(super) fn window(app: &mut App, ctx: &egui::Context) {
    let Some(mut draft) = app.view.mock_editor.take() else {
        return;
    };
    let mut open = true;
    let mut close = false;
    egui::Window::new(format!("Host function {}", draft.name))
        .open(&mut open)
        .default_width(520.0)
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(ctx.content_rect().center_top() + egui::vec2(0.0, 60.0))
        .collapsible(false)
        .show(ctx, |ui| {
            close = body(app, ui, &mut draft);
        });
    if open && !close {
        app.view.mock_editor = Some(draft);
    }
}

/// The editor's contents; true when it should close.
fn body(app: &mut App, ui: &mut Ui, draft: &mut MockDraft) -> bool {
    ui.label(
        RichText::new(format!(
            "{}::{} {}",
            draft.module, draft.name, draft.signature
        ))
        .monospace()
        .strong(),
    );
    kinds(ui, draft);
    ui.separator();
    egui::ComboBox::from_label("Behaviour")
        .selected_text(draft.behaviour)
        .show_ui(ui, |ui| {
            for (kind, help) in BEHAVIOURS {
                ui.selectable_value(&mut draft.behaviour, kind, *kind)
                    .on_hover_text(*help);
            }
        });
    if let Some((_, help)) = BEHAVIOURS.iter().find(|(k, _)| *k == draft.behaviour) {
        ui.weak(*help);
    }
    behaviour_fields(app, ui, draft);
    ui.separator();
    let key = draft.key();
    if draft.checked.0.as_ref().is_none_or(|(k, _)| *k != key) {
        draft.checked = Checked(Some((key, draft.to_def())));
    }
    let checked = draft
        .checked
        .0
        .as_ref()
        .map_or(Err(DraftProblem::NotChecked), |(_, c)| c.clone());
    match &checked {
        Ok(_) => {
            ui.colored_label(Color32::from_rgb(80, 170, 90), "✔ fits the import");
        }
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("✖ {e}"));
        }
    }
    let mut close = false;
    ui.horizontal(|ui| {
        if ui
            .add_enabled(checked.is_ok(), egui::Button::new("Save"))
            .on_disabled_hover_text("Fix what the check above says first")
            .clicked()
            && let Ok(def) = checked
        {
            app.send(workbench::Command::DefineHostFn(Box::new(def)));
            close = true;
        }
        if ui.button("Cancel").clicked() {
            close = true;
        }
    });
    close
}

/// The text, script or file the picked behaviour needs.
fn behaviour_fields(app: &mut App, ui: &mut Ui, draft: &mut MockDraft) {
    match draft.behaviour {
        "value" | "template" | "fail" => {
            let (label, hint) = match draft.behaviour {
                "value" => ("Value", "what it returns"),
                "template" => ("Template", "e.g. Hello, {0}!"),
                _ => ("Message", "the error message"),
            };
            let label = ui.label(label);
            ui.add(
                egui::TextEdit::multiline(&mut draft.text)
                    .id_salt("mock-text")
                    .hint_text(hint)
                    .code_editor()
                    .desired_rows(3)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        }
        "rhai" => {
            let mut layouter = |ui: &Ui, text: &dyn egui::TextBuffer, wrap: f32| {
                let mut job = super::code::layout(ui, text.as_str(), super::code::Language::Rhai);
                job.wrap.max_width = wrap;
                ui.fonts_mut(|f| f.layout_job(job))
            };
            let label = ui.label("Rhai script");
            egui::ScrollArea::vertical()
                .max_height(260.0)
                .show(ui, |ui| {
                    ui.add(
                        egui::TextEdit::multiline(&mut draft.script)
                            .id_salt("mock-script")
                            .code_editor()
                            .desired_rows(10)
                            .desired_width(f32::INFINITY)
                            .layouter(&mut layouter),
                    )
                    .labelled_by(label.id);
                });
            ui.weak("Scripts can call kv_get(key), kv_set(key, value), config(key) and log(text); print and debug go to the log.");
        }
        "wasm" => {
            ui.horizontal(|ui| {
                let label = ui.label("Mock-host plugin");
                ui.add(
                    egui::TextEdit::singleline(&mut draft.file)
                        .id_salt("mock-file")
                        .hint_text(match &draft.existing_mock {
                            Some(m) if m.file.is_none() => format!("{} (embedded)", m.label()),
                            _ => "path to a .wasm mock-host plugin".to_string(),
                        })
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
                if ui.button("Browse…").clicked() {
                    app.send(Command::Dialog(DialogPurpose::PickMockHost));
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("Export");
                ui.add(
                    egui::TextEdit::singleline(&mut draft.export)
                        .id_salt("mock-export")
                        .hint_text(draft.name.as_str())
                        .desired_width(200.0),
                )
                .labelled_by(label.id)
                .on_hover_text(
                    "The mock-host plugin's function to call; empty: the one named like the import",
                );
            });
        }
        _ => {}
    }
}

/// How each `i64` argument and result is carried: bytes (a memory offset) or a number.
fn kinds(ui: &mut Ui, draft: &mut MockDraft) {
    let i64s: Vec<usize> = (0..draft.params.len())
        .filter(|i| draft.signature.params[*i] == "i64")
        .collect();
    let result_i64 = draft.signature.results.first().is_some_and(|t| t == "i64");
    if i64s.is_empty() && !result_i64 {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.weak("i64 carries:").on_hover_text(
            "An i64 is an Extism memory offset (bytes) unless the host treats it as a plain number",
        );
        for i in i64s {
            kind_toggle(ui, &format!("arg {i}"), &mut draft.params[i]);
        }
        if result_i64 && let Some(result) = &mut draft.result {
            kind_toggle(ui, "result", result);
        }
    });
}

fn kind_toggle(ui: &mut Ui, label: &str, kind: &mut ArgKind) {
    let name = ui.label(label);
    let picker = egui::ComboBox::from_id_salt(("kind", label))
        .selected_text(kind.as_str())
        .width(70.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(kind, ArgKind::Bytes, "bytes");
            ui.selectable_value(kind, ArgKind::Num, "num");
        });
    let _ = picker.response.labelled_by(name.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(params: &[&str], results: &[&str]) -> Signature {
        Signature {
            params: params.iter().map(|s| (*s).to_string()).collect(),
            results: results.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn drafts_round_trip_definitions_and_keep_default_kinds_implicit() {
        let mut draft = MockDraft::new("acme", "add", sig(&["i64", "i64"], &["i64"]), None);
        draft.params = vec![ArgKind::Num, ArgKind::Num];
        draft.result = Some(ArgKind::Num);
        draft.behaviour = "rhai";
        draft.script = "fn add(a, b) { a + b }".into();
        let def = draft.to_def().unwrap();
        assert_eq!(def.params, Some(vec![ArgKind::Num, ArgKind::Num]));
        assert_eq!(def.result, Some(ArgKind::Num));
        let again = MockDraft::new("acme", "add", draft.signature.clone(), Some(&def));
        assert_eq!(again, draft);
        let plain = MockDraft::new("acme", "get", sig(&["i64"], &["i64"]), None);
        let def = plain.to_def().unwrap();
        assert_eq!((def.params, def.result), (None, None));
    }

    #[test]
    fn the_skeleton_script_fits_and_errors_say_where() {
        let mut draft = MockDraft::new("m", "f", sig(&["i64", "i32"], &[]), None);
        draft.behaviour = "rhai";
        assert!(draft.to_def().is_ok(), "{}", draft.script);
        draft.script = "fn f(a, b) {\n  let = 1;\n}".into();
        let err = draft.to_def().unwrap_err();
        assert!(
            matches!(err, DraftProblem::DoesNotFit(_)) && err.to_string().contains("line 2"),
            "{err}"
        );
        draft.behaviour = "wasm";
        assert!(matches!(draft.to_def(), Err(DraftProblem::NoMockFile)));
    }
}
