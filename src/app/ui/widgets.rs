//! Small widgets shared by the panels.

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, RichText, TextStyle, Ui};

use super::super::MapDraft;

/// A labelled editor for an optional limit: a checkbox turns the limit on, a drag value sets it.
/// Returns true when the value changed.
pub fn optional_u64(
    ui: &mut Ui,
    label: &str,
    unit: &str,
    value: &mut Option<u64>,
    default: u64,
    hover: &str,
) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let mut on = value.is_some();
        let checkbox = ui.checkbox(&mut on, label).on_hover_text(hover);
        if checkbox.changed() {
            *value = on.then_some(value.unwrap_or(default));
            changed = true;
        }
        if let Some(v) = value {
            let response = ui
                .add(
                    egui::DragValue::new(v)
                        .range(1..=u64::MAX)
                        .suffix(format!(" {unit}")),
                )
                .labelled_by(checkbox.id);
            changed |= response.changed();
            response.on_hover_text(format!("{label} ({unit})"));
        } else {
            ui.weak("no limit");
        }
    });
    changed
}

/// The words a [`map_editor`] uses.
pub struct MapLabels<'a> {
    /// What an entry is called, for hints and hover texts ("config", "kv", "secret").
    pub entry: &'a str,
    /// The add button's label.
    pub add: &'a str,
    /// Hide values (secrets).
    pub password: bool,
}

/// Edits a string map: each value editable, ✖ removes an entry, and a row adds one from `new`
/// (the key and value being typed). Returns whether the map changed.
pub fn map_editor(
    ui: &mut Ui,
    map: &mut std::collections::BTreeMap<String, String>,
    new: &mut MapDraft,
    labels: &MapLabels<'_>,
) -> bool {
    let mut changed = false;
    let mut remove = None;
    for (key, value) in map.iter_mut() {
        ui.horizontal(|ui| {
            ui.add(egui::Label::new(RichText::new(key).monospace()).truncate());
            changed |= ui
                .add(
                    egui::TextEdit::singleline(value)
                        .password(labels.password)
                        .hint_text(format!("{} {key}", labels.entry))
                        .desired_width(140.0),
                )
                .changed();
            if ui
                .small_button("✖")
                .on_hover_text(format!("Remove {key}"))
                .clicked()
            {
                remove = Some(key.clone());
            }
        });
    }
    if let Some(key) = remove {
        map.remove(&key);
        changed = true;
    }
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut new.key)
                .hint_text(if labels.password { "name" } else { "key" })
                .desired_width(90.0),
        );
        ui.add(
            egui::TextEdit::singleline(&mut new.value)
                .password(labels.password)
                .hint_text("value")
                .desired_width(110.0),
        );
        if ui
            .add_enabled(!new.key.trim().is_empty(), egui::Button::new(labels.add))
            .clicked()
        {
            let key = std::mem::take(&mut new.key).trim().to_string();
            map.insert(key, std::mem::take(&mut new.value));
            changed = true;
        }
    });
    changed
}

/// A label and a value that may be long: the value is cut to the panel's width, the whole of
/// it on hover, so a long toolchain string never widens the panel.
pub fn long_value(ui: &mut Ui, label: &str, value: RichText) {
    ui.horizontal(|ui| {
        ui.label(label);
        let full = value.text().to_string();
        ui.add(egui::Label::new(value).truncate())
            .on_hover_text(full);
    });
}

/// A heading for a side-panel section.
pub fn section(ui: &mut Ui, title: &str, default_open: bool, add: impl FnOnce(&mut Ui)) {
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .default_open(default_open)
        .show(ui, add);
}

/// Text from a plugin made drawable: invalid UTF-8 (U+FFFD) and control characters other than
/// tab become `·`, which every bundled font has.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars()
        .all(|c| c == '\t' || (!c.is_control() && c != '\u{FFFD}'))
    {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c == '\t' || (!c.is_control() && c != '\u{FFFD}') {
                    c
                } else {
                    '·'
                }
            })
            .collect(),
    )
}

/// Human-readable byte count.
pub fn bytes(n: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", f / 1024.0)
    } else {
        format!("{:.1} MiB", f / (1024.0 * 1024.0))
    }
}

/// Milliseconds with µs precision.
pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.3} ms")
    }
}

/// How a line of a failure's reason is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReasonLine {
    Prose,
    Removed,
    Added,
    Hunk,
}

/// Splits a failure's reason into lines (newlines kept) and says how each is shown: lines
/// before the diff's `--- ` header are prose, then `-`, `+` and `@@` lines are the diff's.
fn reason_lines(text: &str) -> Vec<(&str, ReasonLine)> {
    let mut in_diff = false;
    text.split_inclusive('\n')
        .map(|line| {
            in_diff |= line.starts_with("--- ");
            let kind = match line.as_bytes().first() {
                _ if !in_diff => ReasonLine::Prose,
                Some(b'@') => ReasonLine::Hunk,
                Some(b'-') => ReasonLine::Removed,
                Some(b'+') => ReasonLine::Added,
                _ => ReasonLine::Prose,
            };
            (line, kind)
        })
        .collect()
}

/// A failure's reason in monospace, the unified diff in it coloured as the side-by-side views
/// colour theirs: removed (expected) lines red, added (actual) lines green, hunk headers weak.
pub fn reason(ui: &mut Ui, text: &str) {
    let font = TextStyle::Monospace.resolve(ui.style());
    let visuals = ui.visuals();
    let (removed, added) = if visuals.dark_mode {
        (
            Color32::from_rgb(235, 120, 120),
            Color32::from_rgb(120, 210, 130),
        )
    } else {
        (
            Color32::from_rgb(170, 30, 30),
            Color32::from_rgb(20, 120, 40),
        )
    };
    let mut job = LayoutJob::default();
    for (line, kind) in reason_lines(text) {
        let color = match kind {
            ReasonLine::Prose => visuals.text_color(),
            ReasonLine::Removed => removed,
            ReasonLine::Added => added,
            ReasonLine::Hunk => visuals.weak_text_color(),
        };
        job.append(line, 0.0, TextFormat::simple(font.clone(), color));
    }
    ui.label(job);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_replaces_what_fonts_cannot_draw() {
        assert!(matches!(
            printable("plain\ttext"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(printable("a\u{0}b\u{FFFD}c\u{1b}"), "a·b·c·");
    }

    #[test]
    fn reasons_colour_only_the_diff() {
        let text = "step 1: the output differs\n- not a diff line\n--- expected\n+++ actual\n@@ -1 +1 @@\n-a\n+b\n c";
        let kinds: Vec<ReasonLine> = reason_lines(text).into_iter().map(|(_, k)| k).collect();
        assert_eq!(
            kinds,
            [
                ReasonLine::Prose,
                ReasonLine::Prose,
                ReasonLine::Removed,
                ReasonLine::Added,
                ReasonLine::Hunk,
                ReasonLine::Removed,
                ReasonLine::Added,
                ReasonLine::Prose,
            ]
        );
        let joined: String = reason_lines(text).into_iter().map(|(l, _)| l).collect();
        assert_eq!(joined, text, "nothing is lost");
    }
}
