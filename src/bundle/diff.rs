//! Line diffs of two outputs: JSON outputs are pretty-printed first so a changed field shows as
//! one changed line. Used for replay verdicts (unified text) and the side-by-side view.

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Same(String),
    /// Only in the first (expected / left) text.
    Removed(String),
    /// Only in the second (actual / right) text.
    Added(String),
}

/// Lines compared with a full LCS up to this many (per side, after trimming the common start
/// and end); beyond that the middle is shown as removed-then-added.
const MAX_LCS_LINES: usize = 1500;

/// Text for diffing: pretty JSON when the bytes are JSON, else lossy UTF-8.
pub fn normalize(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned())
}

/// The line diff of `a` and `b`.
pub fn lines(a: &str, b: &str) -> Vec<Line> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut out: Vec<Line> = a[..prefix]
        .iter()
        .map(|l| Line::Same((*l).to_string()))
        .collect();
    if am.len() <= MAX_LCS_LINES && bm.len() <= MAX_LCS_LINES {
        out.extend(lcs(am, bm));
    } else {
        out.extend(am.iter().map(|l| Line::Removed((*l).to_string())));
        out.extend(bm.iter().map(|l| Line::Added((*l).to_string())));
    }
    out.extend(
        a[a.len() - suffix..]
            .iter()
            .map(|l| Line::Same((*l).to_string())),
    );
    out
}

fn lcs(a: &[&str], b: &[&str]) -> Vec<Line> {
    // table[i][j]: LCS length of a[i..] and b[j..].
    let mut table = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i][j] = if a[i] == b[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Line::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            out.push(Line::Removed(a[i].to_string()));
            i += 1;
        } else {
            out.push(Line::Added(b[j].to_string()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| Line::Removed((*l).to_string())));
    out.extend(b[j..].iter().map(|l| Line::Added((*l).to_string())));
    out
}

/// A unified-style diff of two outputs (`-` expected, `+` actual) with 3 lines of context.
pub fn unified(expected: &[u8], actual: &[u8]) -> String {
    let diff = lines(&normalize(expected), &normalize(actual));
    // Lines within 3 of a change are shown: one pass to mark them, not a search per line.
    let mut shown = vec![false; diff.len()];
    let mut any_change = false;
    for (i, line) in diff.iter().enumerate() {
        if !matches!(line, Line::Same(_)) {
            any_change = true;
            for flag in &mut shown[i.saturating_sub(3)..(i + 4).min(diff.len())] {
                *flag = true;
            }
        }
    }
    let mut out = String::from("--- expected\n+++ actual\n");
    let mut skipped = false;
    for (i, line) in diff.iter().enumerate() {
        if !shown[i] {
            skipped = true;
            continue;
        }
        if skipped {
            out.push_str("  …\n");
            skipped = false;
        }
        let (mark, text) = match line {
            Line::Same(t) => (' ', t),
            Line::Removed(t) => ('-', t),
            Line::Added(t) => ('+', t),
        };
        out.push(mark);
        out.push(' ');
        out.push_str(text);
        out.push('\n');
    }
    if !any_change {
        // Same lines, different bytes: whitespace or line endings.
        out.push_str("  (the outputs differ only in whitespace or line endings)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_changed_line() {
        let d = lines("a\nb\nc\nd", "a\nB\nc\nd\ne");
        assert_eq!(
            d,
            [
                Line::Same("a".into()),
                Line::Removed("b".into()),
                Line::Added("B".into()),
                Line::Same("c".into()),
                Line::Same("d".into()),
                Line::Added("e".into()),
            ]
        );
    }

    #[test]
    fn json_is_compared_field_by_field() {
        let text = unified(br#"{"count":3,"total":3}"#, br#"{"count":3,"total":6}"#);
        assert!(text.contains("-   \"total\": 3"), "{text}");
        assert!(text.contains("+   \"total\": 6"), "{text}");
        assert!(text.contains("    \"count\": 3"), "{text}");
    }

    #[test]
    fn whitespace_only_differences_are_named() {
        assert!(unified(b"x\n", b"x\r\n").contains("whitespace"));
    }
}
