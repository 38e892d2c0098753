//! Per-frame work that is not layout: applying commands (the one place that changes state on
//! the UI's behalf), collecting finished calls and dialogs, hot reload, dropped files.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use poll_promise::Promise;

use super::command::{Action, Command};
use super::state::{InputDraft, InputMode, PluginRef};
use super::view::{self, RunView};
use super::{
    App, Dialog, DialogPurpose, FileStamp, HISTORY_LEN, HISTORY_OUTPUT_BYTES, Loaded, RunSummary,
    Running, Status,
};
use crate::runner::{
    CallReport, CallRequest, ErrorKind, Inspection, LoadedPlugin, LogLevel, Session,
};
use crate::samples;

/// How often hot reload looks at the plugin file.
const RELOAD_CHECK: Duration = Duration::from_millis(500);
/// How often the window repaints while a call runs (for the elapsed time).
const RUNNING_REPAINT: Duration = Duration::from_millis(100);

impl App {
    /// Collects what finished since the last frame.
    pub(crate) fn poll(&mut self, ctx: &egui::Context) {
        self.poll_running();
        self.poll_dialog();
        self.poll_opening(ctx);
        self.check_hot_reload(ctx);
        self.invalidate_stale_session();
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            self.send(Command::OpenPath(path));
        }
        if self.running.is_some() {
            ctx.request_repaint_after(RUNNING_REPAINT);
        }
    }

    /// Keyboard shortcuts, consumed before widgets see the keys (so Ctrl+Enter in the input
    /// editor runs instead of inserting a newline).
    pub(crate) fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        for action in Action::ALL {
            let Some(shortcut) = action.shortcut() else {
                continue;
            };
            // Escape means Stop only while something runs; otherwise it stays egui's.
            if action == Action::Stop && self.running.is_none() {
                continue;
            }
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
                self.send(action.command());
            }
        }
    }

    /// Carries out one command.
    pub(crate) fn apply(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::OpenDialog => {
                self.open_dialog(
                    ctx,
                    DialogPurpose::OpenPlugin,
                    &[("Plugins", &["wasm", "json"])],
                );
            }
            Command::OpenPath(path) => self.open_path(&path, true),
            Command::OpenSample(name) => self.open_sample(name, true),
            Command::Reload => self.reload(false),
            Command::Run => self.run(ctx, 1),
            Command::RunBench => self.run(ctx, self.state.bench_loops.max(2)),
            Command::ClearLargeInput => self.large_input = None,
            Command::Stop => {
                if let Some(running) = &mut self.running {
                    running.canceller.cancel();
                    running.stop_requested = true;
                }
            }
            Command::ResetInstance => {
                if let Some(session) = &self.session
                    && self.running.is_none()
                {
                    session.reset();
                }
                self.session = None;
                self.reset_reason = Some("reset by you".to_string());
                self.set_status(
                    "The instance was discarded; the next run starts fresh",
                    false,
                );
            }
            Command::SelectFunction(function) => self.select_function(&function),
            Command::FormatInput => self.format_input(),
            Command::LoadInputDialog => self.open_dialog(ctx, DialogPurpose::LoadInput, &[]),
            Command::SaveOutputDialog => {
                if let Some(last) = &self.last {
                    let bytes = Arc::new(last.report.output.clone());
                    let name = format!("{}-output.bin", last.report.function);
                    let promise = spawn_dialog(ctx, move || {
                        rfd::FileDialog::new().set_file_name(&name).save_file()
                    });
                    self.dialog = Some(Dialog {
                        promise,
                        purpose: DialogPurpose::SaveOutput(bytes),
                    });
                }
            }
            Command::CopyOutput => {
                if let Some(last) = &self.last {
                    ctx.copy_text(String::from_utf8_lossy(&last.report.output).into_owned());
                    self.set_status("Output copied", false);
                }
            }
            Command::CopyError => {
                if let Some(error) = self.last.as_ref().and_then(|l| l.report.error.as_ref()) {
                    ctx.copy_text(format!("{}: {}", error.kind, error.message));
                    self.set_status("Error copied", false);
                }
            }
            Command::ClearLogs => {
                if let Some(last) = &mut self.last {
                    last.clear_logs();
                }
            }
            Command::EnableWasi => self.state.options.wasi = true,
            Command::PickAllowedPathDir(index) => {
                let promise = spawn_dialog(ctx, || rfd::FileDialog::new().pick_folder());
                self.dialog = Some(Dialog {
                    promise,
                    purpose: DialogPurpose::PickDir(index),
                });
            }
            other => self.apply_session_command(ctx, &other),
        }
    }

    pub(crate) fn set_status(&mut self, text: impl Into<String>, is_error: bool) {
        self.status = Some(Status {
            text: text.into(),
            is_error,
        });
    }

    pub(crate) fn open_dialog(
        &mut self,
        ctx: &egui::Context,
        purpose: DialogPurpose,
        filters: &[(&str, &[&str])],
    ) {
        if self.dialog.is_some() {
            return;
        }
        let filters: Vec<(String, Vec<String>)> = filters
            .iter()
            .map(|(name, exts)| {
                (
                    (*name).to_string(),
                    exts.iter().map(|e| (*e).to_string()).collect(),
                )
            })
            .collect();
        let promise = spawn_dialog(ctx, move || {
            let mut dialog = rfd::FileDialog::new();
            for (name, exts) in &filters {
                dialog = dialog.add_filter(name, exts);
            }
            dialog.pick_file()
        });
        self.dialog = Some(Dialog { promise, purpose });
    }

    /// Asks where to save, then `purpose` decides what is written.
    pub(crate) fn save_dialog(
        &mut self,
        ctx: &egui::Context,
        purpose: DialogPurpose,
        file_name: String,
    ) {
        if self.dialog.is_some() {
            return;
        }
        let promise = spawn_dialog(ctx, move || {
            rfd::FileDialog::new()
                .set_file_name(&file_name)
                .add_filter("JSON", &["json"])
                .save_file()
        });
        self.dialog = Some(Dialog { promise, purpose });
    }

    fn poll_dialog(&mut self) {
        if self
            .dialog
            .as_ref()
            .is_none_or(|d| d.promise.ready().is_none())
        {
            return;
        }
        let Some(Dialog { promise, purpose }) = self.dialog.take() else {
            return;
        };
        let Ok(Some(path)) = promise.try_take() else {
            return;
        };
        match purpose {
            DialogPurpose::OpenPlugin => self.open_path(&path, true),
            DialogPurpose::LoadInput => {
                match std::fs::read(&path) {
                    Ok(bytes) => {
                        let name = path.file_name().map_or_else(
                            || path.display().to_string(),
                            |n| n.to_string_lossy().into_owned(),
                        );
                        if bytes.len() >= super::LARGE_INPUT_BYTES
                            || std::str::from_utf8(&bytes).is_err()
                        {
                            let size = crate::app::ui::widgets::bytes(bytes.len() as u64);
                            self.set_large_input(&name, bytes);
                            self.set_status(format!("Input: {size} from {name}, sent byte for byte (not editable here)"), false);
                        } else {
                            let text = String::from_utf8_lossy(&bytes).into_owned();
                            let mode = if crate::app::view::check_json(&text).is_ok() {
                                InputMode::Json
                            } else {
                                InputMode::Raw
                            };
                            self.large_input = None;
                            self.state.input = InputDraft { text, mode };
                            self.input_check = None;
                            self.set_status(format!("Input loaded from {}", path.display()), false);
                        }
                    }
                    Err(e) => self.set_status(
                        format!("Cannot read {}: {e}; check the file and its permissions, then load it again", path.display()),
                        true,
                    ),
                }
            }
            DialogPurpose::SaveOutput(bytes) => {
                match crate::bundle::write_atomically(&path, &bytes) {
                    Ok(()) => self.set_status(
                        format!("Saved {} bytes to {}", bytes.len(), path.display()),
                        false,
                    ),
                    Err(e) => self.set_status(
                    format!("Cannot save {}: {e}; the output is kept, save it to another folder or name", path.display()),
                    true,
                ),
                }
            }
            DialogPurpose::PickDir(index) => {
                if let Some(entry) = self.state.options.allowed_paths.get_mut(index) {
                    entry.host = path;
                }
            }
            other => self.finish_session_dialog(&other, &path),
        }
    }

    /// Opens the plugin the state names (on start).
    pub(crate) fn restore_plugin(&mut self) {
        match self.state.plugin.clone() {
            PluginRef::Sample(name) => {
                let name = samples::find(&name).map_or("hello", |s| s.name);
                self.open_sample(name, false);
            }
            PluginRef::Bundle(path) => {
                self.open_bundle(&path, false);
                if self.loaded.is_none() {
                    let reason = self.load_error.clone().unwrap_or_default();
                    self.open_sample("hello", true);
                    self.set_status(format!("The last session could not be opened ({reason}); opened the hello sample"), true);
                }
            }
            PluginRef::File(path) => {
                self.open_path(&path, false);
                if self.loaded.is_none() {
                    // The file is gone: fall back to the first sample, but say why.
                    let reason = self.load_error.clone().unwrap_or_default();
                    self.open_sample("hello", true);
                    self.set_status(format!("The last plugin could not be opened ({reason}); opened the hello sample"), true);
                }
            }
        }
    }

    /// Opens a sample. With `fresh`, its options and example input replace the current ones.
    pub(crate) fn open_sample(&mut self, name: &'static str, fresh: bool) {
        let Some(sample) = samples::find(name) else {
            return;
        };
        let plugin = sample.plugin();
        let inspection =
            Inspection::of(&plugin.display_name, &plugin.main().bytes).expect("samples inspect");
        self.stash_input();
        self.state.plugin = PluginRef::Sample(name.to_string());
        self.install(Loaded {
            plugin,
            inspection,
            stamps: Vec::new(),
        });
        if fresh {
            self.state.options = sample.options();
            let first = &sample.functions[0];
            self.state.function = first.name.to_string();
            self.state.input = self.draft_for(first.name);
            self.input_check = None;
            self.set_status(
                format!("Opened the {name} sample: {}", sample.description),
                false,
            );
        }
    }

    /// Opens a .wasm or manifest file. With `fresh`, a manifest's options replace the current
    /// ones.
    pub(crate) fn open_path(&mut self, path: &std::path::Path, fresh: bool) {
        // Read once: the bytes tell a bundle, a manifest to download and a plugin apart.
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(cause) => {
                let error = crate::runner::LoadError::Read {
                    path: path.to_path_buf(),
                    cause,
                };
                self.finish_open(path, Err(error.to_string()), fresh);
                return;
            }
        };
        if crate::bundle::is_bundle(&bytes) {
            self.open_loaded_bundle(path, crate::bundle::load_bytes(path, &bytes), true);
        } else if manifest_downloads(&bytes) {
            self.open_in_background(path, bytes, fresh);
        } else {
            let result = read_plugin(path, bytes).map_err(|e| e.to_string());
            self.finish_open(path, result, fresh);
        }
    }

    /// Reads a plugin whose manifest names modules to download on a named thread: downloading
    /// can take seconds. The status bar says so meanwhile.
    fn open_in_background(&mut self, path: &std::path::Path, bytes: Vec<u8>, fresh: bool) {
        let owned = path.to_path_buf();
        let promise = Promise::spawn_thread("open-plugin", move || {
            read_plugin(&owned, bytes).map_err(|e| e.to_string())
        });
        self.opening = Some(super::Opening {
            promise,
            path: path.to_path_buf(),
            fresh,
        });
        self.set_status(
            format!("Opening {}: downloading its modules…", path.display()),
            false,
        );
    }

    /// Installs a plugin read from `path`, or says why it could not be.
    fn finish_open(
        &mut self,
        path: &std::path::Path,
        result: Result<OpenedPlugin, String>,
        fresh: bool,
    ) {
        match result {
            Ok((plugin, manifest_options, inspection)) => {
                self.stash_input();
                let name = plugin.display_name.clone();
                self.state.plugin = PluginRef::File(path.to_path_buf());
                self.state.remember_file(path.to_path_buf());
                if fresh {
                    if let Some(options) = manifest_options {
                        self.state.options = options;
                    }
                    // WASI modules need WASI; say so by turning it on rather than failing.
                    if inspection.needs_wasi {
                        self.state.options.wasi = true;
                    }
                }
                let stamps = super::watch_stamps(path, &plugin);
                self.install(Loaded {
                    plugin,
                    inspection,
                    stamps,
                });
                self.set_status(format!("Opened {name}"), false);
            }
            Err(message) => {
                self.load_error = Some(message.clone());
                self.set_status(
                    format!("Could not open {}: {message}", path.display()),
                    true,
                );
            }
        }
    }

    fn poll_opening(&mut self, ctx: &egui::Context) {
        let Some(opening) = self.opening.take() else {
            return;
        };
        match opening.promise.try_take() {
            Ok(result) => self.finish_open(&opening.path.clone(), result, opening.fresh),
            Err(promise) => {
                ctx.request_repaint_after(Duration::from_millis(100));
                self.opening = Some(super::Opening { promise, ..opening });
            }
        }
    }

    /// Makes `loaded` the open plugin and picks a function it exports.
    pub(crate) fn install(&mut self, loaded: Loaded) {
        let callable: Vec<String> = loaded
            .inspection
            .callable_functions()
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        self.loaded = Some(loaded);
        self.load_error = None;
        self.session = None;
        self.reset_reason = None;
        self.last = None;
        self.verdict = None;
        self.export_cache = None;
        self.generation += 1;
        // A call still running belongs to the previous plugin: stop it; its result is dropped.
        if let Some(running) = &mut self.running {
            running.canceller.cancel();
            running.stop_requested = true;
        }
        let key = self.state.plugin.key();
        let new_plugin = self.loaded_key.as_ref() != Some(&key);
        self.loaded_key = Some(key);
        if !callable.contains(&self.state.function)
            && let Some(first) = callable.first()
        {
            self.state.function.clone_from(first);
            self.state.input = self.draft_for(first);
            self.input_check = None;
        } else if new_plugin
            && let Some(draft) = self.state.drafts.get(&self.draft_key(&self.state.function))
        {
            // This plugin's own saved input for the function, not the previous plugin's.
            self.state.input = draft.clone();
            self.input_check = None;
        }
        self.next_reload_check = Some(Instant::now() + RELOAD_CHECK);
    }

    fn reload(&mut self, automatic: bool) {
        let PluginRef::File(path) = self.state.plugin.clone() else {
            self.set_status("Samples are built in; there is nothing to reload", false);
            return;
        };
        let bytes = std::fs::read(&path).map_err(|cause| crate::runner::LoadError::Read {
            path: path.clone(),
            cause,
        });
        if let Ok(bytes) = &bytes
            && manifest_downloads(bytes)
        {
            self.open_in_background(&path, bytes.clone(), false);
            return;
        }
        match bytes
            .and_then(|bytes| LoadedPlugin::from_file_bytes(&path, bytes))
            .and_then(|(plugin, _)| {
                let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
                Ok((plugin, inspection))
            }) {
            Ok((plugin, inspection)) => {
                let name = plugin.display_name.clone();
                let function = self.state.function.clone();
                let stamps = super::watch_stamps(&path, &plugin);
                self.install(Loaded {
                    plugin,
                    inspection,
                    stamps,
                });
                self.reset_reason = Some("the plugin was reloaded".to_string());
                let how = if automatic {
                    "changed on disk, reloaded"
                } else {
                    "reloaded"
                };
                let kept = if self.state.function == function {
                    String::new()
                } else {
                    format!("; `{function}` is gone")
                };
                self.set_status(format!("{name} {how}{kept}"), false);
            }
            Err(e) => {
                // Keep the working version; remember the stamp so a half-written file is not
                // retried every tick.
                if let Some(loaded) = &mut self.loaded {
                    for (file, stamp) in &mut loaded.stamps {
                        *stamp = FileStamp::of(file);
                    }
                }
                self.set_status(
                    format!(
                        "{} changed but could not be loaded ({e}); keeping the previous version",
                        path.display()
                    ),
                    true,
                );
            }
        }
    }

    fn check_hot_reload(&mut self, ctx: &egui::Context) {
        let watching = matches!(self.state.plugin, PluginRef::File(_));
        if !watching || !self.state.hot_reload || self.running.is_some() {
            return;
        }
        ctx.request_repaint_after(RELOAD_CHECK);
        let now = Instant::now();
        if self.next_reload_check.is_some_and(|t| now < t) {
            return;
        }
        self.next_reload_check = Some(now + RELOAD_CHECK);
        let Some(loaded) = &self.loaded else { return };
        let changed = loaded
            .stamps
            .iter()
            .any(|(file, stamp)| FileStamp::of(file).is_some_and(|now| Some(now) != *stamp));
        if changed {
            self.reload(true);
        }
    }

    /// Options changed since the session was made: the next run rebuilds the plugin.
    fn invalidate_stale_session(&mut self) {
        if self.running.is_some() {
            return;
        }
        if let Some(session) = &self.session
            && session.options() != &self.state.options
        {
            self.session = None;
            self.reset_reason = Some("the sandbox options changed".to_string());
        }
    }

    pub(crate) fn draft_key(&self, function: &str) -> String {
        format!("{}::{function}", self.state.plugin.key())
    }

    /// Saves the current input as the draft of the current function.
    pub(crate) fn stash_input(&mut self) {
        let key = self.draft_key(&self.state.function);
        self.state.drafts.insert(key, self.state.input.clone());
    }

    /// The saved draft of `function`, or the sample's example, or empty.
    fn draft_for(&self, function: &str) -> InputDraft {
        if let Some(draft) = self.state.drafts.get(&self.draft_key(function)) {
            return draft.clone();
        }
        let example = match &self.state.plugin {
            PluginRef::Sample(name) => samples::find(name).and_then(|s| s.function(function)),
            PluginRef::File(_) | PluginRef::Bundle(_) => None,
        };
        match example {
            Some(example) => InputDraft {
                text: example.input.to_string(),
                mode: match example.kind {
                    samples::InputKind::Json => InputMode::Json,
                    samples::InputKind::Text => InputMode::Raw,
                },
            },
            None => InputDraft::default(),
        }
    }

    fn select_function(&mut self, function: &str) {
        if function == self.state.function {
            return;
        }
        self.stash_input();
        self.state.function = function.to_string();
        self.state.input = self.draft_for(function);
        self.input_check = None;
    }

    fn format_input(&mut self) {
        match serde_json::from_str::<serde_json::Value>(&self.state.input.text) {
            Ok(value) => {
                if let Ok(pretty) = serde_json::to_string_pretty(&value) {
                    self.state.input.text = pretty;
                    self.state.input.mode = InputMode::Json;
                    self.input_check = None;
                }
            }
            Err(e) => self.set_status(format!("Cannot format: the input is not JSON ({e})"), true),
        }
    }

    /// The JSON check of the current input (cached until the text changes).
    pub(crate) fn input_error(&mut self) -> Option<view::JsonError> {
        if self.state.input.mode != InputMode::Json {
            return None;
        }
        let text = &self.state.input.text;
        self.input_check
            .get_or_insert_with(|| view::check_json(text))
            .clone()
            .err()
    }

    /// Why Run is not possible now, if it is not.
    pub(crate) fn run_blocker(&mut self) -> Option<String> {
        if self.running.is_some() {
            return Some("a call is running".to_string());
        }
        let Some(loaded) = &self.loaded else {
            return Some("open a plugin first".to_string());
        };
        if !loaded
            .inspection
            .callable_functions()
            .contains(&self.state.function.as_str())
        {
            return Some("pick a function the plugin exports".to_string());
        }
        if self.large_input.is_none()
            && let Some(error) = self.input_error()
        {
            return Some(format!(
                "the input is not valid JSON ({error}); fix it or switch the editor to Raw"
            ));
        }
        None
    }

    /// The bytes the next run sends: a large input loaded from a file, or the editor's text.
    pub(crate) fn input_bytes(&self) -> Arc<Vec<u8>> {
        match &self.large_input {
            Some(large) => Arc::clone(&large.bytes),
            None => Arc::new(self.state.input.text.clone().into_bytes()),
        }
    }

    fn run(&mut self, ctx: &egui::Context, loops: u32) {
        if let Some(reason) = self.run_blocker() {
            self.set_status(format!("Cannot run: {reason}"), true);
            return;
        }
        let Some(loaded) = &self.loaded else { return };
        let function = self.state.function.clone();
        if self.session.is_none() {
            match Session::new(
                loaded.plugin.clone(),
                self.state.options.clone(),
                self.worker.clone(),
            ) {
                Ok(session) => self.session = Some(session),
                Err(e) => {
                    let report = CallReport::failed(&function, ErrorKind::Load, e.to_string());
                    self.finish(RunView::new(report));
                    return;
                }
            }
        }
        let session = self.session.as_ref().expect("session was just ensured");
        let request = CallRequest {
            function: function.clone(),
            input: self.input_bytes(),
            host: self.state.host.clone(),
            // A single run keeps everything (the log table filters what it shows). A bench keeps
            // info and above: recording trace slows every call of the loop.
            log_level: if loops > 1 {
                LogLevel::Info
            } else {
                LogLevel::Trace
            },
            fresh_instance: !self.state.keep_state && loops <= 1,
            loops,
        };
        let handle = session.call(request);
        let canceller = handle.canceller();
        let repaint = ctx.clone();
        // The view (line index of a 64 MiB output, say) is built here, off the UI thread.
        let promise = Promise::spawn_thread("call-wait", move || {
            let view = RunView::new(handle.wait());
            repaint.request_repaint();
            view
        });
        self.running = Some(Running {
            promise,
            generation: self.generation,
            canceller,
            started: Instant::now(),
            function,
            stop_requested: false,
        });
    }

    fn poll_running(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        match running.promise.try_take() {
            Ok(view) if running.generation == self.generation => self.finish(view),
            Ok(view) => {
                let function = view.report.function;
                self.set_status(format!("The call of {function} on the previous plugin ended; its result was discarded"), false);
            }
            Err(promise) => self.running = Some(Running { promise, ..running }),
        }
    }

    /// Takes in a finished call.
    fn finish(&mut self, view: RunView) {
        let report = &view.report;
        if let Some(kv) = &report.kv_after {
            self.state.host.kv.clone_from(kv);
        }
        self.runs += 1;
        let outcome = report
            .error_kind()
            .map_or_else(|| "ok".to_string(), |k| k.to_string());
        let kept = report.output.len().min(HISTORY_OUTPUT_BYTES);
        self.history.push_back(RunSummary {
            number: self.runs,
            output: Arc::new(report.output[..kept].to_vec()),
            output_cut: kept < report.output.len(),
            function: report.function.clone(),
            outcome: outcome.clone(),
            ok: report.is_ok(),
            call_ms: report.timings.call_ms,
            load_ms: report.timings.load_ms,
            instantiate_ms: report.timings.instantiate_ms,
            fuel: report.fuel_consumed,
        });
        while self.history.len() > HISTORY_LEN {
            self.history.pop_front();
        }
        let mut notes = Vec::new();
        if report.new_instance {
            match self.reset_reason.take() {
                Some(reason) => notes.push(format!("new instance ({reason})")),
                None if report.timings.load_ms > 0.0 => {
                    notes.push("plugin compiled, new instance".to_string());
                }
                None => notes.push("new instance".to_string()),
            }
        }
        if report
            .error
            .as_ref()
            .is_some_and(|e| e.kind != ErrorKind::PluginError && e.kind != ErrorKind::Load)
        {
            notes.push("the instance was discarded after this failure".to_string());
            self.reset_reason = Some("the previous call failed".to_string());
        }
        let text = format!(
            "{}: {outcome}{}",
            report.function,
            if notes.is_empty() {
                String::new()
            } else {
                format!(" · {}", notes.join(" · "))
            }
        );
        self.set_status(text, !report.is_ok());
        self.last = Some(view);
        self.refresh_verdict();
    }
}

/// Runs a blocking file dialog on a named thread and wakes the UI when it closes.
fn spawn_dialog(
    ctx: &egui::Context,
    dialog: impl FnOnce() -> Option<PathBuf> + Send + 'static,
) -> Promise<Option<PathBuf>> {
    let ctx = ctx.clone();
    Promise::spawn_thread("file-dialog", move || {
        let path = dialog();
        ctx.request_repaint();
        path
    })
}

/// A plugin read from a file: the plugin, the options its manifest carries, its inspection.
pub(crate) type OpenedPlugin = (
    LoadedPlugin,
    Option<crate::runner::SandboxOptions>,
    Inspection,
);

/// Reads and inspects the plugin read from `path`.
fn read_plugin(
    path: &std::path::Path,
    bytes: Vec<u8>,
) -> Result<OpenedPlugin, crate::runner::LoadError> {
    let (plugin, manifest_options) = LoadedPlugin::from_file_bytes(path, bytes)?;
    let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
    Ok((plugin, manifest_options, inspection))
}

/// Whether file contents `bytes` are a manifest with a module to download.
fn manifest_downloads(bytes: &[u8]) -> bool {
    !crate::runner::source::is_wasm(bytes)
        && serde_json::from_slice::<extism::Manifest>(bytes)
            .is_ok_and(|m| m.wasm.iter().any(|w| matches!(w, extism::Wasm::Url { .. })))
}
