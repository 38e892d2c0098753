//! Everything the window persists between runs, as one `#[serde(default)]` struct so adding a
//! field never breaks an old save. Secrets are deliberately not persisted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::runner::{HostData, LogLevel, SandboxOptions};

/// How many recent files the File menu keeps.
pub const MAX_RECENT: usize = 10;

/// Which plugin is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PluginRef {
    /// A built-in sample, by name.
    Sample(String),
    /// A .wasm or manifest file.
    File(PathBuf),
    /// The plugin inside a session or bundle file.
    Bundle(PathBuf),
}

impl Default for PluginRef {
    fn default() -> Self {
        Self::Sample("hello".to_string())
    }
}

impl PluginRef {
    /// A key for per-plugin drafts.
    pub fn key(&self) -> String {
        match self {
            Self::Sample(name) => format!("sample:{name}"),
            Self::File(path) => format!("file:{}", path.display()),
            Self::Bundle(path) => format!("bundle:{}", path.display()),
        }
    }
}

/// How the input editor treats its text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputMode {
    /// Validated and highlighted as JSON.
    #[default]
    Json,
    /// Sent as typed.
    Raw,
}

/// An input kept per function, so switching functions loses nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InputDraft {
    pub text: String,
    pub mode: InputMode,
}

/// Light, dark, or whatever the system says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

/// How the output is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputView {
    #[default]
    Text,
    Json,
    Hex,
}

/// The tabs of the results area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultTab {
    #[default]
    Output,
    Logs,
    HostCalls,
    Timing,
    History,
}

/// What the log table shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogFilter {
    pub min_level: LogLevel,
    pub text: String,
}

impl Default for LogFilter {
    fn default() -> Self {
        Self {
            min_level: LogLevel::Trace,
            text: String::new(),
        }
    }
}

/// The persisted state of the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    pub plugin: PluginRef,
    pub options: SandboxOptions,
    pub function: String,
    pub input: InputDraft,
    /// Inputs of other functions, keyed by `plugin key::function`.
    pub drafts: BTreeMap<String, InputDraft>,
    /// The kv store is kept; secrets are not (see `Serialize` below).
    #[serde(with = "host_without_secrets")]
    pub host: HostData,
    /// Keep the instance warm across calls (false: a fresh instance per call).
    pub keep_state: bool,
    /// Reload the plugin when its file changes on disk.
    pub hot_reload: bool,
    pub recent_files: Vec<PathBuf>,
    pub theme: ThemeChoice,
    pub log_filter: LogFilter,
    pub output_view: OutputView,
    pub result_tab: ResultTab,
    /// What the current scenario should produce (recorded from a run or read from a bundle).
    pub expected: Option<crate::bundle::ExpectedOutcome>,
    /// The session file this state was last saved to or opened from.
    pub session_path: Option<PathBuf>,
    pub recent_sessions: Vec<PathBuf>,
    /// Whether saved sessions and bundles carry secret values (off: names only).
    pub bundle_secrets: bool,
    /// How many calls a bench run makes.
    pub bench_loops: u32,
}

impl Default for AppState {
    fn default() -> Self {
        let hello = crate::samples::find("hello").expect("hello sample");
        let example = &hello.functions[0];
        Self {
            plugin: PluginRef::default(),
            options: hello.options(),
            function: example.name.to_string(),
            input: InputDraft {
                text: example.input.to_string(),
                mode: InputMode::Raw,
            },
            drafts: BTreeMap::new(),
            host: HostData {
                kv: [("greeting".to_string(), "hello from the host".to_string())].into(),
                secrets: [("api_key".to_string(), "playground-demo-key".to_string())].into(),
            },
            keep_state: true,
            hot_reload: true,
            recent_files: Vec::new(),
            theme: ThemeChoice::System,
            log_filter: LogFilter::default(),
            output_view: OutputView::Text,
            result_tab: ResultTab::Output,
            expected: None,
            session_path: None,
            recent_sessions: Vec::new(),
            bundle_secrets: false,
            bench_loops: 1000,
        }
    }
}

impl AppState {
    /// Puts `path` first in the recent sessions.
    pub fn remember_session(&mut self, path: PathBuf) {
        self.recent_sessions.retain(|p| p != &path);
        self.recent_sessions.insert(0, path);
        self.recent_sessions.truncate(MAX_RECENT);
    }

    /// Puts `path` first in the recent list.
    pub fn remember_file(&mut self, path: PathBuf) {
        self.recent_files.retain(|p| p != &path);
        self.recent_files.insert(0, path);
        self.recent_files.truncate(MAX_RECENT);
    }
}

/// Serializes host data without its secrets; secrets live only in memory.
mod host_without_secrets {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::runner::HostData;

    pub fn serialize<S: Serializer>(host: &HostData, s: S) -> Result<S::Ok, S::Error> {
        HostData {
            kv: host.kv.clone(),
            secrets: std::collections::BTreeMap::default(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HostData, D::Error> {
        let mut host = HostData::deserialize(d)?;
        host.secrets.clear();
        Ok(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_or_partial_saves_load_with_defaults() {
        let state: AppState =
            serde_json::from_str(r#"{"function": "greet", "unknown_future_field": 1}"#).unwrap();
        assert_eq!(state.function, "greet");
        assert!(state.keep_state);
    }

    #[test]
    fn secrets_are_never_saved() {
        let mut state = AppState::default();
        state
            .host
            .secrets
            .insert("token".into(), "very-secret".into());
        let saved = serde_json::to_string(&state).unwrap();
        assert!(!saved.contains("very-secret"), "{saved}");
        assert!(saved.contains("hello from the host"));
    }

    #[test]
    fn recent_files_are_unique_and_bounded() {
        let mut state = AppState::default();
        for i in 0..15 {
            state.remember_file(format!("/p/{i}.wasm").into());
        }
        state.remember_file("/p/3.wasm".into());
        assert_eq!(state.recent_files.len(), MAX_RECENT);
        assert_eq!(state.recent_files[0], PathBuf::from("/p/3.wasm"));
        assert_eq!(
            state
                .recent_files
                .iter()
                .filter(|p| p.ends_with("3.wasm"))
                .count(),
            1
        );
    }
}
