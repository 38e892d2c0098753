//! Source code shown highlighted: `egui_extras`' syntect highlighter with two-face's grammars
//! (syntect's own set has no TOML), loaded once on first use. Used by the Export window (Go,
//! Rust), the Rhai editor, suite TOML, the New plugin preview and the source view.

use std::sync::OnceLock;

use egui::Ui;
use egui_extras::syntax_highlighting::{CodeTheme, SyntectSettings, highlight_with};

/// A language the window shows code in, with the grammar that highlights it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Go,
    Rust,
    Toml,
    Json,
    Markdown,
    /// Rhai has no grammar of its own; Rust's is the closest (`fn`, `let`, `//`, closures).
    Rhai,
    Plain,
}

impl Language {
    /// The grammar's name in the syntax set.
    fn grammar(self) -> &'static str {
        match self {
            Self::Go => "Go",
            Self::Rust | Self::Rhai => "Rust",
            Self::Toml => "TOML",
            Self::Json => "JSON",
            Self::Markdown => "Markdown",
            Self::Plain => "Plain Text",
        }
    }

    /// The language of a file, by its extension.
    pub fn of_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("go") => Self::Go,
            Some("rs") => Self::Rust,
            Some("toml") => Self::Toml,
            Some("json") => Self::Json,
            Some("md") => Self::Markdown,
            Some("rhai") => Self::Rhai,
            _ => Self::Plain,
        }
    }
}

/// The grammars and themes, built once (the highlighter memoizes by their address).
pub fn settings() -> &'static SyntectSettings {
    static SETTINGS: OnceLock<SyntectSettings> = OnceLock::new();
    SETTINGS.get_or_init(|| SyntectSettings {
        ps: two_face::syntax::extra_newlines(),
        ts: syntect::highlighting::ThemeSet::load_defaults(),
    })
}

/// `code` laid out with highlighting (memoized: cheap to call every frame).
pub fn layout(ui: &Ui, code: &str, language: Language) -> egui::text::LayoutJob {
    let theme = CodeTheme::from_style(ui.style());
    highlight_with(
        ui.ctx(),
        ui.style(),
        &theme,
        code,
        language.grammar(),
        settings(),
    )
}

/// Read-only, selectable, highlighted code.
pub fn view(ui: &mut Ui, code: &str, language: Language) -> egui::Response {
    let job = layout(ui, code, language);
    ui.add(egui::Label::new(job).selectable(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_its_grammar() {
        let ps = &settings().ps;
        for language in [
            Language::Go,
            Language::Rust,
            Language::Toml,
            Language::Json,
            Language::Markdown,
            Language::Rhai,
            Language::Plain,
        ] {
            assert!(
                ps.find_syntax_by_name(language.grammar()).is_some(),
                "{language:?}: no grammar named {}",
                language.grammar()
            );
        }
        for theme in ["base16-mocha.dark", "Solarized (light)"] {
            assert!(settings().ts.themes.contains_key(theme), "{theme}");
        }
    }
}
