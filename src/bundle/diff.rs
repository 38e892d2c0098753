//! Line diffs of two outputs, computed by the `similar` crate. JSON outputs are pretty-printed
//! first, so a changed field shows as one changed line. Two shapes: unified text (replay
//! verdicts, the CLI) and side-by-side rows that pair each changed line with its replacement
//! (the window).

use std::fmt::Write as _;
use std::time::Duration;

use similar::{ChangeTag, TextDiff};

/// How long one diff may search for the smallest edit before settling for a larger one, so a
/// pathological pair of outputs never stalls the caller.
const DIFF_DEADLINE: Duration = Duration::from_millis(300);

/// Text for diffing: pretty JSON when the bytes are JSON, else lossy UTF-8.
pub fn normalize(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned())
}

fn diff<'a>(left: &'a str, right: &'a str) -> TextDiff<'a, 'a, str> {
    TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(left, right)
}

/// One side of a side-by-side row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffCell {
    /// The line, without its line break.
    pub text: String,
    /// Whether the line is only on this side.
    pub changed: bool,
}

/// One row of a side-by-side diff: the left (expected, or run A) and right (actual, or run B)
/// line; `None` leaves that side blank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    pub left: Option<DiffCell>,
    pub right: Option<DiffCell>,
}

impl DiffRow {
    /// Whether either side changed.
    pub fn is_changed(&self) -> bool {
        [&self.left, &self.right]
            .into_iter()
            .flatten()
            .any(|cell| cell.changed)
    }
}

/// The side-by-side rows of two outputs: unchanged lines side by side, and each run of removed
/// lines paired with the run of added lines that replaces it.
pub fn side_by_side(left: &[u8], right: &[u8]) -> Vec<DiffRow> {
    // Every line ends in a newline, so a last line without one still equals its twin.
    let terminated = |bytes: &[u8]| {
        let mut text = normalize(bytes);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text
    };
    let (left, right) = (terminated(left), terminated(right));
    let diff = diff(&left, &right);
    let cell = |text: &str, changed| DiffCell {
        text: text.trim_end_matches(['\n', '\r']).to_string(),
        changed,
    };
    let mut rows = Vec::new();
    let mut removed: Vec<DiffCell> = Vec::new();
    let mut added: Vec<DiffCell> = Vec::new();
    let flush =
        |rows: &mut Vec<DiffRow>, removed: &mut Vec<DiffCell>, added: &mut Vec<DiffCell>| {
            let n = removed.len().max(added.len());
            let mut removed = removed.drain(..);
            let mut added = added.drain(..);
            for _ in 0..n {
                rows.push(DiffRow {
                    left: removed.next(),
                    right: added.next(),
                });
            }
        };
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => {
                flush(&mut rows, &mut removed, &mut added);
                rows.push(DiffRow {
                    left: Some(cell(change.value(), false)),
                    right: Some(cell(change.value(), false)),
                });
            }
            ChangeTag::Delete => removed.push(cell(change.value(), true)),
            ChangeTag::Insert => added.push(cell(change.value(), true)),
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

/// A unified diff of two outputs (`-` expected, `+` actual) with 3 lines of context.
pub fn unified(expected: &[u8], actual: &[u8]) -> String {
    let (expected, actual) = (normalize(expected), normalize(actual));
    let mut out = diff(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string();
    if expected.lines().eq(actual.lines()) {
        // Same lines, different bytes: whitespace or line endings.
        out.push_str("(the outputs differ only in whitespace or line endings)\n");
    }
    out
}

/// `value` pretty-printed with every object's keys sorted, so two values equal but for key
/// order print the same.
pub fn canonical_json(value: &serde_json::Value) -> String {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                serde_json::Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    serde_json::to_string_pretty(&sorted(value)).unwrap_or_default()
}

/// The start of an output for a message: up to 40 lines or 4 KiB, saying what was left out.
pub fn excerpt(bytes: &[u8]) -> String {
    const MAX_LINES: usize = 40;
    const MAX_BYTES: usize = 4096;
    let text = normalize(bytes);
    let mut out = String::new();
    for (shown, line) in text.lines().enumerate() {
        if shown == MAX_LINES || out.len() + line.len() > MAX_BYTES {
            let rest = text.len().saturating_sub(out.len());
            let _ = writeln!(out, "… ({rest} more bytes)");
            return out;
        }
        out.push_str(line);
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("(empty)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_pair_with_their_replacements() {
        fn text(c: Option<&DiffCell>) -> Option<(&str, bool)> {
            c.map(|c| (c.text.as_str(), c.changed))
        }
        let rows = side_by_side(b"a\nb\nc", b"a\nB\nc\nd");
        let shown: Vec<_> = rows
            .iter()
            .map(|r| (text(r.left.as_ref()), text(r.right.as_ref())))
            .collect();
        assert_eq!(
            shown,
            [
                (Some(("a", false)), Some(("a", false))),
                (Some(("b", true)), Some(("B", true))),
                (Some(("c", false)), Some(("c", false))),
                (None, Some(("d", true))),
            ]
        );
        assert_eq!(rows.iter().filter(|r| r.is_changed()).count(), 2);
    }

    #[test]
    fn json_is_compared_field_by_field() {
        let text = unified(br#"{"count":3,"total":3}"#, br#"{"count":3,"total":6}"#);
        assert!(text.starts_with("--- expected\n+++ actual\n"), "{text}");
        assert!(text.contains("\n-  \"total\": 3\n"), "{text}");
        assert!(text.contains("\n+  \"total\": 6\n"), "{text}");
        assert!(text.contains("\n   \"count\": 3,\n"), "{text}");
    }

    #[test]
    fn canonical_json_ignores_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":{"c":3,"d":2},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert!(canonical_json(&a).find("\"a\"") < canonical_json(&a).find("\"b\""));
    }

    #[test]
    fn excerpts_stop_at_forty_lines() {
        let long: String = (0..100)
            .flat_map(|i| ["line ".to_string(), format!("{i}\n")])
            .collect();
        let shown = excerpt(long.as_bytes());
        assert!(
            shown.contains("line 39\n") && !shown.contains("line 40\n"),
            "{shown}"
        );
        assert!(shown.ends_with("more bytes)\n"), "{shown}");
        assert_eq!(excerpt(b""), "(empty)\n");
    }

    #[test]
    fn whitespace_only_differences_are_named() {
        assert!(unified(b"x\n", b"x\r\n").contains("whitespace"));
        assert!(!unified(b"x\n", b"y\n").contains("whitespace"));
    }
}
