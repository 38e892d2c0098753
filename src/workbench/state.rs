//! What the workbench persists between runs of the app, as one `#[serde(default)]` struct so
//! adding a field never breaks an old save: the open plugin, its options, function, input, kv
//! store and host functions (secrets are never saved), what every other plugin used last, and
//! the user's standing choices. Host data belongs to its plugin: opening another puts the open
//! one's aside in its memory and takes the other's.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::bundle::{ExpectedOutcome, InputMode};
use crate::open::PluginRef;
use crate::runner::{HostData, SandboxOptions};

/// How many recent files the File menu keeps.
pub const MAX_RECENT: usize = 10;
/// How many plugins' options, functions and inputs are remembered.
pub const MAX_REMEMBERED_PLUGINS: usize = 64;

/// An input being edited, kept per function so switching loses nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InputDraft {
    pub text: String,
    pub mode: InputMode,
}

/// What one plugin used last: restored when it is opened again.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginMemory {
    pub options: Option<SandboxOptions>,
    pub function: Option<String>,
    /// The input of each function, by function name.
    pub inputs: BTreeMap<String, InputDraft>,
    /// Higher is more recent; the least recent plugins are forgotten first.
    pub last_used: u64,
    /// Its kv store, when it had one set aside.
    pub kv: Option<BTreeMap<String, crate::runner::host::Bytes>>,
    /// Its host function definitions, when set aside.
    pub host_functions: Option<Vec<crate::runner::host::HostFnDef>>,
    /// Its secrets: kept in memory only, never saved.
    #[serde(skip)]
    pub secrets: Option<BTreeMap<String, String>>,
}

/// The persisted state of the workbench.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent switches the user sets, persisted as they are"
)]
pub struct WorkbenchState {
    pub plugin: PluginRef,
    pub options: SandboxOptions,
    pub function: String,
    pub input: InputDraft,
    /// What each plugin used last, by [`PluginRef::key`].
    pub plugins: BTreeMap<String, PluginMemory>,
    /// Inputs of saves made before `plugins` existed, keyed `plugin key::function`; moved into
    /// `plugins` on load.
    #[serde(skip_serializing)]
    pub drafts: BTreeMap<String, InputDraft>,
    /// The open plugin's kv store is kept; its secrets are not (see `host_without_secrets`).
    #[serde(with = "host_without_secrets")]
    pub host: HostData,
    /// The open plugin's host function definitions (mock-host plugins by path or by sha256 in
    /// the app's own store; found again on start).
    pub host_functions: Vec<crate::runner::host::HostFnDef>,
    /// Keep the instance warm across calls (false: a fresh instance per call).
    pub keep_state: bool,
    /// Reload the plugin when its file changes on disk.
    pub hot_reload: bool,
    /// After a reload, run the current function with the current input and compare the output
    /// with the run before it.
    pub rerun_on_reload: bool,
    pub recent_files: Vec<PathBuf>,
    pub recent_sessions: Vec<PathBuf>,
    /// Registry references opened, most recent first (as typed: by tag or digest).
    pub recent_references: Vec<String>,
    /// Registry hosts the user chose to reach over plain HTTP (besides this machine's).
    pub insecure_registries: Vec<String>,
    /// What the current scenario should produce (recorded from a run or read from a bundle).
    pub expected: Option<ExpectedOutcome>,
    /// The session file this state was last saved to or opened from.
    pub session_path: Option<PathBuf>,
    /// Whether saved sessions and bundles carry secret values (off: names only).
    pub bundle_secrets: bool,
    /// How many calls a bench run makes.
    pub bench_loops: u32,
    /// Where source files named by backtraces are on this machine (a prefix as built → a
    /// local folder).
    pub source_maps: Vec<super::sources::SourceMap>,
    /// Whether bundles saved carry the last trap's coredump (it holds the plugin's memory).
    pub bundle_coredump: bool,
}

impl Default for WorkbenchState {
    fn default() -> Self {
        let hello = crate::samples::find("hello").expect("hello sample");
        let example = &hello.functions[0];
        Self {
            plugin: PluginRef::default(),
            options: hello.options(),
            function: example.name.to_string(),
            input: InputDraft {
                text: example.input.to_string(),
                mode: example.mode,
            },
            plugins: BTreeMap::new(),
            drafts: BTreeMap::new(),
            host: hello.host_data(),
            host_functions: Vec::new(),
            keep_state: true,
            hot_reload: true,
            rerun_on_reload: true,
            recent_files: Vec::new(),
            recent_sessions: Vec::new(),
            recent_references: Vec::new(),
            insecure_registries: Vec::new(),
            expected: None,
            session_path: None,
            bundle_secrets: false,
            bench_loops: 1000,
            source_maps: Vec::new(),
            bundle_coredump: false,
        }
    }
}

impl WorkbenchState {
    /// Puts `path` first in the recent sessions.
    pub fn remember_session(&mut self, path: PathBuf) {
        remember(&mut self.recent_sessions, path);
    }

    /// Puts the registry reference `reference` first in the recent references.
    pub fn remember_reference(&mut self, reference: String) {
        remember(&mut self.recent_references, reference);
    }

    /// Puts `path` first in the recent files.
    pub fn remember_file(&mut self, path: PathBuf) {
        remember(&mut self.recent_files, path);
    }

    /// Moves inputs saved in the old `drafts` form into `plugins`.
    pub fn migrate(&mut self) {
        for (key, draft) in std::mem::take(&mut self.drafts) {
            if let Some((plugin, function)) = key.rsplit_once("::") {
                self.plugins
                    .entry(plugin.to_string())
                    .or_default()
                    .inputs
                    .entry(function.to_string())
                    .or_insert(draft);
            }
        }
    }

    /// The memory of the open plugin.
    pub fn memory(&self) -> Option<&PluginMemory> {
        self.plugins.get(&self.plugin.key())
    }

    /// Sets the open plugin's host data and definitions aside in its memory, for when it is
    /// opened again (its secrets in memory only).
    pub fn set_host_aside(&mut self) {
        let host = std::mem::take(&mut self.host);
        let defs = std::mem::take(&mut self.host_functions);
        let memory = self.plugins.entry(self.plugin.key()).or_default();
        memory.kv = Some(host.kv);
        memory.secrets = Some(host.secrets);
        memory.host_functions = Some(defs);
    }

    /// Takes the open plugin's host data and definitions from its memory; what it has none
    /// of set aside comes from `fresh`.
    pub fn take_host(
        &mut self,
        fresh: impl FnOnce() -> (HostData, Vec<crate::runner::host::HostFnDef>),
    ) {
        let memory = self.plugins.entry(self.plugin.key()).or_default();
        let (kv, secrets, defs) = (
            memory.kv.take(),
            memory.secrets.take(),
            memory.host_functions.take(),
        );
        let (fresh_host, fresh_defs) = if kv.is_some() && secrets.is_some() && defs.is_some() {
            Default::default()
        } else {
            fresh()
        };
        self.host = HostData {
            kv: kv.unwrap_or(fresh_host.kv),
            secrets: secrets.unwrap_or(fresh_host.secrets),
        };
        self.host_functions = defs.unwrap_or(fresh_defs);
    }

    /// Gives `plugin` these secrets for when it is opened (a session just saved without their
    /// values: reopened in this run, it finds them again).
    pub fn set_secrets_aside_for(&mut self, plugin: &PluginRef, secrets: BTreeMap<String, String>) {
        self.plugins.entry(plugin.key()).or_default().secrets = Some(secrets);
    }

    /// Records the open plugin's options, function and input in its memory, and forgets the
    /// least recently used plugins beyond [`MAX_REMEMBERED_PLUGINS`].
    pub fn remember_current(&mut self) {
        let key = self.plugin.key();
        // The most recent already stays as it is: remembering twice changes nothing (the window
        // compares what it would save after every frame).
        let others = self
            .plugins
            .iter()
            .filter(|(k, _)| **k != key)
            .map(|(_, m)| m.last_used)
            .max()
            .unwrap_or(0);
        let memory = self.plugins.entry(key).or_default();
        memory.options = Some(self.options.clone());
        memory.function = Some(self.function.clone());
        memory
            .inputs
            .insert(self.function.clone(), self.input.clone());
        if memory.last_used <= others {
            memory.last_used = others + 1;
        }
        while self.plugins.len() > MAX_REMEMBERED_PLUGINS {
            let oldest = self
                .plugins
                .iter()
                .min_by_key(|(_, m)| m.last_used)
                .map(|(k, _)| k.clone());
            if let Some(key) = oldest {
                self.plugins.remove(&key);
            }
        }
    }
}

fn remember<T: PartialEq>(list: &mut Vec<T>, item: T) {
    list.retain(|p| p != &item);
    list.insert(0, item);
    list.truncate(MAX_RECENT);
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
        let state: WorkbenchState =
            serde_json::from_str(r#"{"function": "greet", "unknown_future_field": 1}"#).unwrap();
        assert_eq!(state.function, "greet");
        assert!(state.keep_state);
    }

    #[test]
    fn old_drafts_move_into_plugin_memory() {
        let mut state: WorkbenchState = serde_json::from_str(
            r#"{"drafts": {"file:/p/a.wasm::run": {"text": "kept", "mode": "Raw"}}}"#,
        )
        .unwrap();
        state.migrate();
        assert_eq!(state.plugins["file:/p/a.wasm"].inputs["run"].text, "kept");
        assert!(state.drafts.is_empty());
        assert!(
            !serde_json::to_string(&state)
                .unwrap()
                .contains("\"drafts\"")
        );
    }

    #[test]
    fn secrets_are_never_saved() {
        let mut state = WorkbenchState::default();
        state
            .host
            .secrets
            .insert("token".into(), "very-secret".into());
        state.host.kv.insert("kept".into(), "kv is kept".into());
        // Those of a plugin set aside are not saved either.
        let other = PluginRef::File("/p/other.wasm".into());
        state.set_secrets_aside_for(&other, [("k".into(), "other-secret".into())].into());
        state.set_host_aside();
        let saved = serde_json::to_string(&state).unwrap();
        assert!(!saved.contains("very-secret"), "{saved}");
        assert!(!saved.contains("other-secret"), "{saved}");
        assert!(saved.contains("kv is kept"), "{saved}");
    }

    #[test]
    fn host_data_stays_with_its_plugin() {
        let mut state = WorkbenchState::default();
        state.host.kv.insert("a".into(), "a's".into());
        state.host.secrets.insert("s".into(), "a's secret".into());
        state.set_host_aside();
        state.plugin = PluginRef::File("/p/b.wasm".into());
        state.take_host(Default::default);
        assert_eq!(state.host, HostData::default());
        state.host.kv.insert("b".into(), "b's".into());
        state.set_host_aside();
        state.plugin = PluginRef::default();
        state.take_host(|| panic!("a has its own"));
        assert_eq!(state.host.kv.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(state.host.secrets["s"], "a's secret");
    }

    #[test]
    fn recent_files_are_unique_and_bounded() {
        let mut state = WorkbenchState::default();
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

    #[test]
    fn plugin_memory_is_bounded_least_recent_first() {
        let mut state = WorkbenchState::default();
        for i in 0..=MAX_REMEMBERED_PLUGINS {
            state.plugin = PluginRef::File(format!("/p/{i}.wasm").into());
            state.remember_current();
        }
        assert_eq!(state.plugins.len(), MAX_REMEMBERED_PLUGINS);
        assert!(!state.plugins.contains_key("file:/p/0.wasm"));
        assert!(
            state
                .plugins
                .contains_key(&format!("file:/p/{MAX_REMEMBERED_PLUGINS}.wasm"))
        );
    }
}
