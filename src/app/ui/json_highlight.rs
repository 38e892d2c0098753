//! JSON syntax highlighting for the input editor and the JSON output view: a small tokenizer
//! (keys, strings, numbers, literals, punctuation) turned into an egui `LayoutJob`, cached per
//! text so a frame does not re-tokenize unchanged input.

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId};

/// What a run of JSON text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Token {
    Key,
    String,
    Number,
    Literal,
    Punct,
    Other,
}

/// Splits `text` into highlighted runs (byte ranges), tolerating invalid JSON.
pub fn tokenize(text: &str) -> Vec<(std::ops::Range<usize>, Token)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let token = match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                // A string followed by ':' is a key.
                let rest = &bytes[i..];
                let next = rest.iter().find(|b| !b.is_ascii_whitespace());
                if next == Some(&b':') {
                    Token::Key
                } else {
                    Token::String
                }
            }
            b'-' | b'0'..=b'9' => {
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                Token::Number
            }
            b'{' | b'}' | b'[' | b']' | b':' | b',' => {
                i += 1;
                Token::Punct
            }
            b if b.is_ascii_alphabetic() => {
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                if matches!(&text[start..i], "true" | "false" | "null") {
                    Token::Literal
                } else {
                    Token::Other
                }
            }
            _ => {
                // Whitespace and anything else, up to the next interesting byte; stay on char
                // boundaries.
                i += 1;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b'"' | b'-' | b'0'..=b'9' | b'{' | b'}' | b'[' | b']' | b':' | b','
                    )
                    && !bytes[i].is_ascii_alphabetic()
                {
                    i += 1;
                }
                while !text.is_char_boundary(i) {
                    i += 1;
                }
                Token::Other
            }
        };
        let end = i.min(bytes.len());
        let end = (end..=bytes.len())
            .find(|e| text.is_char_boundary(*e))
            .unwrap_or(bytes.len());
        i = end;
        out.push((start..end, token));
    }
    out
}

fn color(token: Token, dark: bool) -> Color32 {
    match (token, dark) {
        (Token::Key, true) => Color32::from_rgb(130, 180, 255),
        (Token::Key, false) => Color32::from_rgb(20, 80, 180),
        (Token::String, true) => Color32::from_rgb(150, 210, 130),
        (Token::String, false) => Color32::from_rgb(30, 120, 40),
        (Token::Number, true) => Color32::from_rgb(240, 180, 110),
        (Token::Number, false) => Color32::from_rgb(170, 90, 0),
        (Token::Literal, true) => Color32::from_rgb(220, 140, 220),
        (Token::Literal, false) => Color32::from_rgb(140, 40, 150),
        (Token::Punct | Token::Other, true) => Color32::from_gray(200),
        (Token::Punct | Token::Other, false) => Color32::from_gray(50),
    }
}

/// Largest text that is highlighted; bigger inputs are shown plain so typing stays fast.
pub const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;

#[derive(Default)]
struct Highlighter;

impl egui::cache::ComputerMut<(&FontId, bool, &str), LayoutJob> for Highlighter {
    fn compute(&mut self, (font, dark, text): (&FontId, bool, &str)) -> LayoutJob {
        highlight(font, dark, text)
    }
}

/// The highlighted layout of `text`, computed (not cached).
pub fn highlight(font: &FontId, dark: bool, text: &str) -> LayoutJob {
    let mut job = LayoutJob::default();
    for (range, token) in tokenize(text) {
        job.append(
            &text[range],
            0.0,
            TextFormat::simple(font.clone(), color(token, dark)),
        );
    }
    job
}

type HighlightCache = egui::cache::FrameCache<LayoutJob, Highlighter>;

/// The highlighted layout of `text` (cached).
pub fn layout_job(ui: &egui::Ui, text: &str) -> LayoutJob {
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let dark = ui.visuals().dark_mode;
    if text.len() > MAX_HIGHLIGHT_BYTES {
        return LayoutJob::simple(
            text.to_string(),
            font,
            ui.visuals().text_color(),
            f32::INFINITY,
        );
    }
    ui.ctx().memory_mut(|m| {
        m.caches
            .cache::<HighlightCache>()
            .get((&font, dark, text))
            .clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_strings_numbers_literals() {
        let text = r#"{"a": "b", "n": -1.5e3, "t": true, "x": nul}"#;
        let kinds: Vec<(String, Token)> = tokenize(text)
            .into_iter()
            .filter(|(_, t)| *t != Token::Other)
            .map(|(r, t)| (text[r].to_string(), t))
            .collect();
        assert!(kinds.contains(&("\"a\"".into(), Token::Key)));
        assert!(kinds.contains(&("\"b\"".into(), Token::String)));
        assert!(kinds.contains(&("-1.5e3".into(), Token::Number)));
        assert!(kinds.contains(&("true".into(), Token::Literal)));
        assert!(!kinds.iter().any(|(s, _)| s == "nul"));
    }

    #[test]
    fn covers_all_text_even_when_broken() {
        for text in [
            "",
            "{\"unterminated",
            "ünïcödé 👋 {\"k\": \"v\\\"\"}",
            "[1, 2,, ]",
        ] {
            let joined: String = tokenize(text).into_iter().map(|(r, _)| &text[r]).collect();
            assert_eq!(joined, text);
        }
    }
}
