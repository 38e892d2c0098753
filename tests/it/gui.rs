//! The real `App` driven through `egui_kittest`: clicks, typing and shortcuts on the widgets a
//! person uses, with plugin calls running in real worker processes. The accessibility check stays
//! on (every `run()` checks that each input has a name).

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use extism_playground::app::{App, AppOptions};
use extism_playground::runner::{ErrorKind, Phase};
use extism_playground::workbench::{self, RunSlot};

use crate::common;
use crate::common::window::{
    self, button_disabled, menu_item, open_sample, replace_text, settled, step_until, widget_tree,
    window, window_from, window_opening, window_starting, window_trusting, window_with,
};

const RUN: &str = "▶ Run";

/// Whether a call is running and has reached the plugin (its phase is Calling).
fn calling(app: &App) -> bool {
    matches!(app.workbench().run_slot(), RunSlot::Running(r) if r.call.phase() == Phase::Calling)
}

/// Clicks Run and waits for the report.
fn run_and_wait(h: &mut Harness<'_, App>) {
    h.get_by_role_and_label(Role::Button, RUN).click();
    h.run_steps(2);
    step_until(h, "the call to finish", |app| {
        !app.is_running() && app.last_report().is_some()
    });
}

fn output(h: &Harness<'_, App>) -> String {
    String::from_utf8_lossy(&h.state().last_report().expect("a report").output).into_owned()
}

/// Replaces the input editor's text.
fn type_input(h: &mut Harness<'_, App>, text: &str) {
    h.get_by_role_and_label(Role::MultilineTextInput, "Input")
        .click();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run();
    h.get_by_role_and_label(Role::MultilineTextInput, "Input")
        .type_text(text);
    h.run();
}

#[test]
fn first_launch_runs_count_vowels_with_one_click() {
    let mut h = window();
    h.run();
    assert_eq!(h.state().state().function, "count_vowels");
    run_and_wait(&mut h);
    let expected = r#"{"count":7,"total":7,"vowels":"aeiouAEIOU"}"#;
    assert_eq!(output(&h), expected);
    // The output is on screen (JSON, so pretty-printed), and the outcome says ok.
    h.get_by_label_contains("\"count\": 7,");
    h.get_by_label_contains("✔ ok");
    h.get_by_role_and_label(Role::Button, "Text").click();
    h.run();
    h.get_by_label(expected);
}

#[test]
fn ctrl_enter_runs_from_the_editor() {
    let mut h = window();
    h.run();
    h.get_by_role_and_label(Role::MultilineTextInput, "Input")
        .click();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_steps(2);
    step_until(&mut h, "the call", |app| {
        app.last_report().is_some() && !app.is_running()
    });
    assert!(output(&h).starts_with(r#"{"count":7"#), "{}", output(&h));
    // The shortcut ran instead of inserting a newline.
    assert!(!h.state().state().input.text.contains('\n'));
}

#[test]
fn pick_another_function_and_type_input() {
    let mut h = window();
    h.run();
    h.get_by_label("greet").click();
    h.run();
    assert_eq!(h.state().state().function, "greet");
    type_input(&mut h, "Ada Lovelace");
    run_and_wait(&mut h);
    assert_eq!(output(&h), "Hello, Ada Lovelace!");
    // Going back to count_vowels restores its input: nothing typed is lost.
    h.get_by_label("count_vowels").click();
    h.run();
    assert_eq!(h.state().state().input.text, "Hello, Extism playground!");
    h.get_by_label("greet").click();
    h.run();
    assert_eq!(h.state().state().input.text, "Ada Lovelace");
}

#[test]
fn invalid_json_is_explained_and_raw_mode_still_runs() {
    let mut h = window();
    h.run();
    h.get_by_label("handle_event").click();
    h.run();
    type_input(&mut h, "{\"user_id\": 42,");
    h.get_by_label_contains("Invalid JSON at line 1, column 15");
    assert!(button_disabled(&h, RUN), "Run waits for valid JSON");

    h.get_all_by_label("Raw").next().unwrap().click();
    h.run();
    assert!(h.query_by_label_contains("Invalid JSON").is_none());
    run_and_wait(&mut h);
    // The plugin got the broken JSON and said so.
    let report = h.state().last_report().unwrap();
    assert_eq!(report.error_kind(), Some(ErrorKind::PluginError));
    h.get_by_label_contains("✖ plugin_error");

    // Valid JSON in JSON mode runs and Format pretty-prints it.
    // The input editor's mode (the output view has a JSON tab too).
    h.get_all_by_label("JSON").next().unwrap().click();
    h.run();
    type_input(&mut h, r#"{"user_id":7,"event":"login"}"#);
    h.get_by_label("Format JSON").click();
    h.run();
    assert!(h.state().state().input.text.contains("\n  \"user_id\": 7"));
    run_and_wait(&mut h);
    assert_eq!(
        output(&h),
        r#"{"status":"success","message":"Processing login for user 7"}"#
    );
}

#[test]
fn stop_ends_a_spinning_plugin_and_the_ui_stays_responsive() {
    let mut h = window();
    h.run();
    open_sample(&mut h, "chaos");
    assert_eq!(h.state().state().function, "spin");
    h.get_by_role_and_label(Role::Button, RUN).click();
    h.run_steps(2);
    step_until(&mut h, "spin to reach the plugin", calling);
    // While it spins, frames keep coming and typing works.
    h.step();
    assert!(
        h.get_all_by_label_contains("Running spin…").count() >= 1,
        "the toolbar says what runs"
    );
    h.get_by_role_and_label(Role::MultilineTextInput, "Input")
        .click();
    h.step();
    h.get_by_role_and_label(Role::MultilineTextInput, "Input")
        .type_text("typed while running");
    h.step();
    assert!(h.state().state().input.text.contains("typed while running"));

    h.get_by_role_and_label(Role::Button, "⏹ Stop").click();
    h.step();
    step_until(&mut h, "the stop", |app| !app.is_running());
    assert_eq!(
        h.state().last_report().unwrap().error_kind(),
        Some(ErrorKind::Cancelled)
    );
    h.get_by_label_contains("✖ cancelled");
    // And the next run works.
    h.get_by_label("error_return").click();
    h.run();
    run_and_wait(&mut h);
    assert_eq!(
        h.state().last_report().unwrap().error_kind(),
        Some(ErrorKind::PluginError)
    );
}

#[test]
fn host_demo_logs_appear_in_the_log_table() {
    let mut h = window();
    h.run();
    open_sample(&mut h, "host-demo");
    assert_eq!(h.state().state().function, "log_levels");
    run_and_wait(&mut h);
    h.get_by_label("Logs (6)").click();
    h.run();
    h.get_by_label("info from host-demo: hello logs");
    h.get_by_label("host log_info from host-demo: hello logs");
    // Filtering by level hides the lower ones.
    h.get_by_label("Level").click();
    h.run();
    h.get_by_label("warn and above").click();
    h.run();
    assert!(
        h.query_by_label("info from host-demo: hello logs")
            .is_none()
    );
    h.get_by_label("warn from host-demo: hello logs");
    h.get_by_label_contains("2 of 6 lines");
    // The host call is traced.
    h.get_by_label("Host calls (1)").click();
    h.run();
    h.get_by_label("log_info");
}

#[test]
fn wasi_and_an_allowed_path_make_write_read_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = window();
    h.run();
    open_sample(&mut h, "wasi-demo");
    // Start from a closed sandbox: no WASI, no paths.
    h.get_by_role_and_label(Role::CheckBox, "WASI").click();
    h.run();
    h.get_by_label("✖").click();
    h.run();
    assert!(!h.state().state().options.wasi);
    assert!(h.state().state().options.allowed_paths.is_empty());
    h.get_by_label_contains("This plugin cannot run yet");
    run_and_wait(&mut h);
    assert_eq!(
        h.state().last_report().unwrap().error_kind(),
        Some(ErrorKind::Load)
    );

    h.get_by_role_and_label(Role::CheckBox, "WASI").click();
    h.run();
    run_and_wait(&mut h);
    // No allowed path yet: the plugin's own write fails and it returns the error.
    let error = h.state().last_report().unwrap().error.clone().unwrap();
    assert_eq!(error.kind, ErrorKind::PluginError, "{}", error.message);

    h.get_by_label("Add path").click();
    h.run();
    h.get_by_role_and_label(Role::TextInput, "Host dir").click();
    h.run();
    h.get_by_role_and_label(Role::TextInput, "Host dir")
        .type_text(&dir.path().display().to_string());
    h.run();
    run_and_wait(&mut h);
    assert_eq!(output(&h), "written by the playground");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("playground.txt")).unwrap(),
        "written by the playground"
    );
}

#[test]
fn timing_shows_after_a_run() {
    let mut h = window();
    h.run();
    run_and_wait(&mut h);
    run_and_wait(&mut h);
    h.get_by_label("Timing").click();
    h.run();
    h.get_by_label("Load + compile");
    h.get_by_label("— (plugin already loaded)");
    h.get_by_label("— (warm instance reused)");
    let call_ms = h.state().last_report().unwrap().timings.call_ms;
    assert!(
        h.get_all_by_label(&format!("{call_ms:.3} ms")).count() >= 2,
        "in the timing grid and the history"
    );
    h.get_by_label("Recent runs: call time (ms)");
    // Beside it, the peak memory of each run.
    h.get_by_label("Recent runs: peak memory (pages)");
    assert!(
        h.state()
            .workbench()
            .history()
            .runs()
            .all(|r| r.peak_pages.is_some())
    );
}

#[test]
fn a_plugin_file_opens_from_the_command_line_and_hot_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.wasm");
    std::fs::copy(common::sample("counter"), &path).unwrap();
    let mut h = window_opening(Some(path.clone()));
    h.run();
    assert_eq!(h.state().state().function, "increment");
    run_and_wait(&mut h);
    assert_eq!(output(&h), r#"{"count":1}"#);
    // Watching the file costs no frames: once settled, nothing asks for a repaint.
    h.run();
    assert!(
        !h.ctx.has_requested_repaint(),
        "an idle window with a watched plugin asked for a repaint"
    );
    // The author rebuilds: a different module appears at the same path.
    std::fs::copy(common::sample("hello"), &path).unwrap();
    step_until(&mut h, "hot reload", |app| {
        app.state().function == "count_vowels"
    });
    // It re-runs on its own (re-run on reload is on): the new function, the current input.
    step_until(&mut h, "the re-run", |app| {
        !app.is_running() && app.workbench().history().runs().len() == 2
    });
    assert!(output(&h).starts_with(r#"{"count":"#), "{}", output(&h));
    h.get_by_label_contains("there was no earlier run of this function");
}

#[test]
fn a_rebuilt_plugin_reruns_and_shows_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.wasm");
    let write = |text: &str| {
        std::fs::write(&path, wat::parse_str(common::greeting_wat(text)).unwrap()).unwrap();
    };
    write("line one\nline two");
    let mut h = window_opening(Some(path.clone()));
    h.run();
    run_and_wait(&mut h);
    write("line one\nline 2");
    step_until(&mut h, "the re-run", |app| {
        !app.is_running() && app.workbench().history().runs().len() == 2
    });
    h.run_steps(2);
    h.get_by_label_contains("The reload changed the result: run #1");
    h.get_by_label("- line two");
    h.get_by_label("+ line 2");
}

#[test]
fn changing_an_option_rebuilds_the_instance() {
    let mut h = window();
    h.run();
    run_and_wait(&mut h);
    run_and_wait(&mut h);
    assert!(
        output(&h).contains(r#""total":14"#),
        "warm instance accumulates: {}",
        output(&h)
    );
    h.get_by_label("Timeout").click();
    h.run();
    h.get_by_label_contains("Options changed");
    run_and_wait(&mut h);
    assert!(
        output(&h).contains(r#""total":7"#),
        "a new instance starts over: {}",
        output(&h)
    );
    h.get_by_label_contains("new instance (the sandbox options changed)");
}

/// Saves a self-contained bundle as File, Save as bundle does once its dialog answers.
fn save_bundle(h: &mut Harness<'_, App>, path: &std::path::Path) {
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::SaveSession {
            path: path.to_path_buf(),
            embed: true,
        });
    h.run();
    h.get_by_label_contains("Saved the bundle");
}

/// eframe storage in memory, to restart the app within a test.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// A new window started from what another saved in `storage`.
fn window_restored(storage: MemoryStorage) -> Harness<'static, App> {
    let storage: &'static MemoryStorage = Box::leak(Box::new(storage));
    let mut h = window_from(window::options(), Some(storage));
    settled(&mut h);
    h
}

#[test]
fn plugin_options_function_and_input_survive_a_restart() {
    let mut h = window();
    h.run();
    open_sample(&mut h, "wasi-demo");
    h.get_by_label("print").click();
    h.run();
    type_input(&mut h, "kept across restarts");
    h.get_by_label("Timeout").click();
    h.run();
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let before = h.state().state().clone();

    let mut h = window_restored(storage);
    h.run();
    let after = h.state().state();
    assert_eq!(after.plugin, before.plugin);
    assert_eq!(after.function, "print");
    assert_eq!(after.input.text, "kept across restarts");
    assert_eq!(after.options, before.options);
    assert!(after.options.wasi && after.options.timeout_ms.is_some());
    // And it is ready to run.
    run_and_wait(&mut h);
    assert_eq!(output(&h), "printed 20 bytes");
}

/// A Build tab remembered from a plugin built here is not shown for one that has no crate: the
/// window opens on the output instead of an empty build log.
#[test]
fn a_remembered_build_tab_falls_back_to_the_output() {
    let mut h = window();
    h.run();
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved = storage.0.get_mut(eframe::APP_KEY).expect("saved state");
    assert!(saved.contains(r#""result_tab":Output"#), "{saved}");
    *saved = saved.replace(r#""result_tab":Output"#, r#""result_tab":Build"#);
    let mut h = window_restored(storage);
    h.run();
    assert!(
        h.query_by_label_contains("Nothing built yet").is_none(),
        "no build log for a plugin without a crate"
    );
    run_and_wait(&mut h);
    assert!(!output(&h).is_empty(), "the output shows");
}

#[test]
fn session_round_trip_through_a_bundle_with_expected_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = window();
    h.run();
    open_sample(&mut h, "host-demo");
    h.get_by_label("secret_length").click();
    h.run();
    h.get_by_label("Fuel").click();
    h.run();
    run_and_wait(&mut h);
    let first_output = output(&h);
    // Record the outcome from the Run menu.
    menu_item(&mut h, "Run", "Record expected output");
    h.get_by_label_contains("Recorded the expected outcome");
    run_and_wait(&mut h);
    h.get_by_label("✔ matches the expected outcome");

    // Save (the dialog's answer is a path; save it directly) and reopen in a new window.
    let path = dir.path().join("kv.session.json");
    save_bundle(&mut h, &path);
    let before = h.state().state().clone();
    let mut h = window_opening(Some(path.clone()));
    h.run();
    let after = h.state().state();
    assert_eq!(after.function, "secret_length");
    // Secret values were not saved: in a new window the name is there, empty, to fill in.
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("playground-demo-key")
    );
    assert_eq!(after.host.secrets["api_key"], "");
    let mut host = after.host.clone();
    host.secrets
        .insert("api_key".into(), "playground-demo-key".into());
    h.state_mut()
        .workbench_mut()
        .apply(extism_playground::workbench::Command::SetHostData(host));
    let after = h.state().state();
    assert_eq!(after.options, before.options);
    assert_eq!(after.input, before.input);
    assert_eq!(after.host.kv, before.host.kv);
    assert_eq!(after.expected, before.expected);
    assert_eq!(after.session_path.as_deref(), Some(path.as_path()));
    run_and_wait(&mut h);
    assert_eq!(output(&h), first_output);
    h.get_by_label("✔ matches the expected outcome");

    // A different input no longer matches, and the difference is shown side by side.
    h.get_all_by_label("Raw").next().unwrap().click();
    h.run();
    type_input(&mut h, "unknown_secret");
    run_and_wait(&mut h);
    h.get_by_label("✖ differs from the expected outcome");
    h.get_by_label_contains("bytes, got a host_function error");

    // The same file replays headless, given the secret it left out.
    let out = common::run_bin(&["replay", path.to_str().unwrap()], b"");
    common::assert_exit(&out, 1);
    assert!(
        common::stdout(&out).contains(r#"secret "api_key" is not set"#),
        "{}",
        common::stdout(&out)
    );
    let out = common::run_bin(
        &[
            "replay",
            path.to_str().unwrap(),
            "--secret",
            "api_key=playground-demo-key",
        ],
        b"",
    );
    common::assert_exit(&out, 0);
}

#[test]
fn history_compares_two_runs_side_by_side() {
    let mut h = window();
    h.run();
    run_and_wait(&mut h);
    run_and_wait(&mut h);
    h.get_by_label("History").click();
    h.run();
    h.get_by_label("Compare run 1 as A").click();
    h.run();
    h.get_by_label("Compare run 2 as B").click();
    h.run();
    h.get_by_label("A: run 1 (count_vowels)");
    h.get_by_label("-   \"total\": 7,");
    h.get_by_label("+   \"total\": 14,");
}

#[test]
fn export_host_code_window_shows_go_and_rust() {
    let mut h = window();
    h.run();
    menu_item(&mut h, "File", "Export host code…");
    h.get_by_label("Go (go-sdk)");
    assert!(
        h.get_by_label("Generated host code (read-only)")
            .value()
            .unwrap()
            .contains("extism.NewPlugin(ctx, manifest, config, hostFunctions)")
    );
    h.get_by_label("Rust (extism crate)").click();
    h.run();
    assert!(
        h.get_by_label("Generated host code (read-only)")
            .value()
            .unwrap()
            .contains("PluginBuilder::new(manifest)")
    );
}

#[test]
fn bench_mode_shows_stats_and_stops_mid_run() {
    let mut h = window();
    h.run();
    h.get_by_label("greet").click();
    h.run();
    // A short bench: 500 calls.
    h.get_by_role_and_label(Role::SpinButton, "Bench").click();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_role_and_label(Role::SpinButton, "Bench")
        .type_text("500");
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(h.state().state().bench_loops, 500);
    h.get_by_role_and_label(Role::Button, "Bench").click();
    h.run_steps(2);
    step_until(&mut h, "the bench", |app| {
        !app.is_running() && app.last_report().is_some()
    });
    let stats = h
        .state()
        .last_report()
        .unwrap()
        .stats
        .clone()
        .expect("bench stats");
    assert_eq!(stats.calls, 500);
    h.get_by_label("Timing").click();
    h.run();
    h.get_by_label("Bench: 500 calls on the warm instance");
    h.get_by_label("Calls per second");

    // A long bench stops when asked, with the calls made so far.
    h.get_by_role_and_label(Role::SpinButton, "Bench").click();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_role_and_label(Role::SpinButton, "Bench")
        .type_text("10000000");
    h.key_press(Key::Enter);
    h.run();
    h.get_by_role_and_label(Role::Button, "Bench").click();
    h.step();
    step_until(
        &mut h,
        "the bench to make its first calls",
        |app| matches!(app.workbench().run_slot(), RunSlot::Running(r) if r.call.calls_done() > 0),
    );
    h.step();
    assert!(
        h.get_all_by_label_contains(" of 10000000 calls…").count() >= 1,
        "the toolbar counts the calls made"
    );
    h.get_by_role_and_label(Role::Button, "⏹ Stop").click();
    h.step();
    step_until(&mut h, "the stop", |app| !app.is_running());
    let report = h.state().last_report().unwrap();
    assert_eq!(report.error_kind(), Some(ErrorKind::Cancelled));
    let calls = report.stats.as_ref().expect("partial stats").calls;
    assert!(calls > 0 && calls < 10_000_000, "{calls}");
}

/// A file dropped on the window, as the windowing integration hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropping_a_plugin_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dropped.wasm");
    std::fs::copy(common::sample("counter"), &path).unwrap();
    let mut h = window();
    h.run();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(path.clone())));
    h.step();
    settled(&mut h);
    assert_eq!(h.state().state().plugin, workbench::PluginRef::File(path));
    assert_eq!(h.state().state().function, "increment");
    h.get_by_label_contains("Opened dropped.wasm");
    run_and_wait(&mut h);
    assert_eq!(output(&h), r#"{"count":1}"#);
}

#[test]
fn opening_another_plugin_mid_call_drops_the_old_result() {
    let mut h = window();
    h.run();
    open_sample(&mut h, "chaos");
    h.get_by_role_and_label(Role::Button, RUN).click();
    h.run_steps(2);
    step_until(&mut h, "spin to start", App::is_running);
    // Open hello while chaos spins: the spin is stopped and its result never shows as hello's.
    h.step();
    h.get_by_label("Samples").click();
    h.step();
    h.step();
    h.get_by_role_and_label(Role::Button, "hello").click();
    h.step();
    step_until(&mut h, "the old call to end", |app| !app.is_running());
    assert!(
        h.state().last_report().is_none(),
        "the spin's result must not be shown for hello"
    );
    h.get_by_label_contains("its result was discarded");
    run_and_wait(&mut h);
    assert!(output(&h).starts_with(r#"{"count":7"#));
}

#[test]
fn a_large_or_binary_input_is_what_runs_and_what_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = window();
    h.run();
    h.get_by_label("echo").click();
    h.run();
    let input: Vec<u8> = (0..=255u8).cycle().take(3 * 1024 * 1024).collect();
    h.state_mut()
        .workbench_mut()
        .set_large_input("blob.bin", input.clone());
    h.run();
    h.get_by_label_contains("from blob.bin");
    run_and_wait(&mut h);
    assert_eq!(
        h.state().last_report().unwrap().output,
        input,
        "sent byte for byte"
    );
    let path = dir.path().join("blob.bundle.json");
    save_bundle(&mut h, &path);
    let scenario = extism_playground::bundle::load(&path).unwrap();
    assert_eq!(
        scenario.first().input,
        input,
        "the bundle keeps the input that ran"
    );
    // Reopened, the binary input is again sent as it is.
    let mut h = window_opening(Some(path));
    h.run();
    run_and_wait(&mut h);
    assert_eq!(h.state().last_report().unwrap().output, input);
}

#[test]
fn hot_reload_watches_the_modules_a_manifest_names() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("plugin.wasm");
    std::fs::copy(common::sample("counter"), &module).unwrap();
    let manifest = dir.path().join("plugin.json");
    std::fs::write(&manifest, r#"{"wasm": [{"path": "plugin.wasm"}]}"#).unwrap();
    let mut h = window_opening(Some(manifest));
    h.run();
    assert_eq!(h.state().state().function, "increment");
    // The author rebuilds the module; the manifest itself does not change.
    std::fs::copy(common::sample("hello"), &module).unwrap();
    step_until(&mut h, "hot reload", |app| {
        app.state().function == "count_vowels"
    });
    h.get_by_label_contains("changed on disk, reloaded");
}

#[test]
fn a_manifest_with_a_url_module_opens_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    // A server that never answers: the window keeps drawing and says what it is doing.
    let stalled = dir.path().join("stalled.json");
    std::fs::write(
        &stalled,
        format!(
            r#"{{"wasm": [{{"url": "{}/hello.wasm"}}]}}"#,
            common::serve_silent().0
        ),
    )
    .unwrap();
    let mut h = window_starting(Some(stalled), common::trust_store());
    // The download is a grant like any other: shown, and nothing sent before Allow.
    step_until(&mut h, "the question", |app| {
        app.workbench().asking().is_some()
    });
    h.get_by_label_contains("downloads a module (a plain GET)");
    h.get_by_label("Allow").click();
    for _ in 0..10 {
        let started = Instant::now();
        h.step();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a frame waited for the download"
        );
    }
    h.get_by_label_contains("downloading its modules");

    // A server that answers: the plugin opens.
    let manifest = common::remote_manifest(dir.path(), "counter");
    let mut h = window_opening(Some(manifest));
    step_until(&mut h, "the question", |app| {
        app.workbench().asking().is_some()
    });
    h.get_by_label("Allow").click();
    step_until(&mut h, "the download", |app| {
        app.state().function == "increment"
    });
    h.get_by_label_contains("Opened");
    run_and_wait(&mut h);
    assert_eq!(output(&h), r#"{"count":1}"#);
}

#[test]
fn json_output_shows_as_json_and_a_picked_view_sticks() {
    let mut h = window();
    h.run();
    h.get_by_label("handle_event").click();
    h.run();
    run_and_wait(&mut h);
    // JSON output: pretty JSON by default.
    h.get_by_label_contains("\"status\": \"success\",");
    // The user picks Hex: it stays Hex for the next run of another function.
    h.get_by_role_and_label(Role::Button, "Hex").click();
    h.run();
    h.get_by_label_contains("00000000  7b 22 73 74");
    h.get_by_label("handle_event_v2").click();
    h.run();
    run_and_wait(&mut h);
    h.get_by_label_contains("00000000  7b 22 73 74");
    assert!(h.query_by_label_contains("\"version\": 2,").is_none());
}

/// Appends a `producers` custom section naming each `(field, tool, version)`.
fn with_producers(mut wasm: Vec<u8>, entries: &[(&str, &str, &str)]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = u8::try_from(n & 0x7f).expect("seven bits");
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn string(s: &str, out: &mut Vec<u8>) {
        leb(s.len(), out);
        out.extend_from_slice(s.as_bytes());
    }
    let mut body = Vec::new();
    string("producers", &mut body);
    leb(entries.len(), &mut body);
    for (field, tool, version) in entries {
        string(field, &mut body);
        leb(1, &mut body);
        string(tool, &mut body);
        string(version, &mut body);
    }
    wasm.push(0);
    leb(body.len(), &mut wasm);
    wasm.extend(body);
    wasm
}

#[test]
fn a_long_toolchain_line_leaves_the_side_panel_its_width() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long-producers.wasm");
    let wasm =
        wat::parse_str(r#"(module (func (export "run") (result i32) i32.const 0))"#).unwrap();
    let long = "clang version 18.1.2-wasi-sdk (https://github.com/llvm/llvm-project 26a1d6601d727a96f4301d0d8647b5a42760ae0c)";
    let wasm = with_producers(
        wasm,
        &[
            ("language", "C11", ""),
            ("processed-by", long, ""),
            (
                "sdk",
                "tinygo 0.34.0 with a very long build description that goes on",
                "x",
            ),
        ],
    );
    std::fs::write(&path, wasm).unwrap();
    let mut h = window_opening(Some(path));
    h.run();
    h.get_by_label_contains("processed-by: clang version 18.1.2");
    // The toolbar sits right of the side panel; with the panel at its width it starts well
    // before the middle of the 1280-px window, and its last button is on screen.
    let run_x = h
        .get_by_role_and_label(Role::Button, RUN)
        .accesskit_node()
        .bounding_box()
        .expect("the Run button is laid out")
        .x0;
    assert!(
        run_x < 640.0,
        "the side panel grew: Run starts at x = {run_x}"
    );
    let reset = h
        .get_by_role_and_label(Role::Button, "Reset instance")
        .accesskit_node()
        .bounding_box()
        .unwrap();
    assert!(reset.x1 <= 1280.0, "the toolbar is cut off: {reset:?}");
}

#[test]
fn toolchain_internals_are_folded_and_not_picked() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::js_shaped_module(&dir);
    let mut h = window_opening(Some(path));
    h.run();
    assert_eq!(h.state().state().function, "greet");
    h.get_by_label("Toolchain internals · 4");
    assert!(
        h.query_by_label("__arg_start").is_none(),
        "internals stay folded until asked for"
    );
    h.get_by_label("Toolchain internals · 4").click();
    h.run();
    h.get_by_label("__arg_start").click();
    h.run();
    assert_eq!(h.state().state().function, "__arg_start");
}

#[test]
fn the_sandbox_panel_says_where_the_options_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("first-time.wasm");
    std::fs::copy(common::sample("hello"), &path).unwrap();
    let mut h = window();
    h.run();
    open_sample(&mut h, "wasi-demo");
    h.get_by_label("The options this sample needs");
    // Opening a plugin never seen before: a closed sandbox, not wasi-demo's WASI and /data.
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::Open(workbench::Source::Path(path)));
    settled(&mut h);
    h.get_by_label_contains("opened for the first time: closed sandbox");
    assert!(!h.state().state().options.wasi);
    assert_eq!(
        h.get_by_role_and_label(Role::CheckBox, "WASI")
            .accesskit_node()
            .toggled(),
        Some(egui::accesskit::Toggled::False)
    );
}

#[test]
fn a_bundle_from_someone_else_asks_before_the_first_run_and_runs_without_its_grants() {
    let s = common::Strangers::new();
    let private = s.private.display().to_string();
    let bundle = s.bundle(
        "tenant.bundle.json",
        &[(&format!("ro:{private}"), "/data")],
        &["*"],
        "/data/secret.txt",
    );
    let mut h = window_opening(Some(bundle));
    h.run();
    // The question comes first, listing each grant; nothing can run yet.
    h.get_by_label("tenant.bundle.json asks for access to this machine");
    h.get_by_label(&private);
    h.get_by_label("any host on the internet");
    assert!(button_disabled(&h, RUN));
    assert!(h.state().last_report().is_none());
    h.get_by_role_and_label(Role::Button, "Open without grants")
        .click();
    h.step();
    settled(&mut h);
    assert!(h.state().workbench().asking().is_none());
    h.get_by_label_contains("Opened without tenant.bundle.json's grants");
    assert!(h.state().state().options.allowed_paths.is_empty());
    run_and_wait(&mut h);
    let report = h.state().last_report().unwrap();
    let error = report.error.as_ref().expect("the read is denied");
    assert!(
        error.message.contains("cannot read /data/secret.txt"),
        "{}",
        error.message
    );
    // The failure names what was withheld.
    h.get_by_label_contains(&format!("Denied: read-only path {private} -> /data"));
}

#[test]
fn allow_and_remember_lists_the_file_under_trusted_files_until_revoked() {
    let s = common::Strangers::new();
    let bundle = s.bundle(
        "remember-me.json",
        &[(&format!("ro:{}", s.private.display()), "/data")],
        &[],
        "/data/secret.txt",
    );
    let trust = tempfile::tempdir().unwrap();
    let mut h = window_trusting(
        Some(bundle.clone()),
        extism_playground::trust::TrustStore::at(trust.path()),
    );
    h.run();
    h.get_by_role_and_label(Role::Button, "Allow and remember")
        .click();
    h.step();
    settled(&mut h);
    run_and_wait(&mut h);
    assert_eq!(output(&h), common::SECRET);
    // Opened again: no question.
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::Open(workbench::Source::Path(
            bundle.clone(),
        )));
    settled(&mut h);
    assert!(h.state().workbench().asking().is_none());
    h.get_by_label_contains("granted by remember-me.json");

    menu_item(&mut h, "File", "Trusted files…");
    h.get_by_label("Remembered by you");
    h.get_by_label_contains(&format!(
        "read-only path {} -> /data (exists)",
        s.private.display()
    ));
    h.get_by_role_and_label(Role::Button, "Revoke").click();
    h.run();
    assert!(
        h.query_by_role_and_label(Role::Button, "Revoke").is_none(),
        "the list is read again after revoking"
    );
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::Open(workbench::Source::Path(bundle)));
    settled(&mut h);
    assert!(h.state().workbench().asking().is_some(), "asked again");
}

/// The first button labelled `label` (several imports each have one).
fn click_first(h: &mut Harness<'_, App>, label: &str) {
    h.get_all_by_role_and_label(Role::Button, label)
        .next()
        .unwrap_or_else(|| panic!("no {label} button; widgets:\n{}", widget_tree(h)))
        .click();
    h.run();
}

#[test]
fn mock_an_import_from_its_editor_and_the_run_blocker_goes() {
    let path = common::sample("tenant-app");
    let mut h = window_opening(Some(path));
    h.run();
    h.get_by_label_contains("3 import(s) unsatisfied");
    // acme:tenant::audit comes first: it has no result, so a value is accepted and ignored.
    click_first(&mut h, "Mock…");
    h.get_by_label_contains("acme:tenant::audit (i64)");
    h.get_by_label_contains("✔ fits the import");
    h.get_by_role_and_label(Role::Button, "Save").click();
    h.run();
    h.get_by_label_contains("2 import(s) unsatisfied");
    // get_user: a template echoing the id into a user.
    click_first(&mut h, "Mock…");
    h.get_by_label_contains("acme:tenant::get_user (i64) -> i64");
    h.get_by_label("Behaviour").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "template").click();
    h.run();
    h.get_by_role_and_label(Role::MultilineTextInput, "Template")
        .type_text(r#"{"id": "{0}", "name": "Mo", "plan": "gold"}"#);
    h.run();
    h.get_by_role_and_label(Role::Button, "Save").click();
    h.run();
    // price_cents: a Rhai script with a number argument and result; a typo is caught with
    // its line before anything is linked, and the fixed script saves.
    click_first(&mut h, "Mock…");
    h.get_by_label_contains("acme:billing::price_cents (i64, i32) -> i64");
    h.get_by_label("Behaviour").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "rhai").click();
    h.run();
    // The i64 result is a number here, not bytes.
    h.get_by_role_and_label(Role::ComboBox, "result").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "num").click();
    h.run();
    let script = Role::MultilineTextInput;
    h.get_by_role_and_label(script, "Rhai script").click();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run();
    h.get_by_role_and_label(script, "Rhai script")
        .type_text("fn price_cents(sku, n) {\n  let x = ;\n}");
    h.run();
    h.get_by_label_contains("line 2, column");
    assert!(button_disabled(&h, "Save"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run();
    h.get_by_role_and_label(script, "Rhai script")
        .type_text("fn price_cents(sku, n) { n * 700 }");
    h.run();
    h.get_by_label_contains("✔ fits the import");
    h.get_by_role_and_label(Role::Button, "Save").click();
    h.run();
    assert!(h.query_by_label_contains("unsatisfied").is_none());
    assert_eq!(h.state().workbench().state().host_functions.len(), 3);

    h.get_by_label("quote").click();
    h.run();
    type_input(&mut h, r#"{"sku": "pro-seat", "quantity": 2}"#);
    run_and_wait(&mut h);
    assert_eq!(
        output(&h),
        r#"{"sku":"pro-seat","quantity":2,"total_cents":1400}"#
    );
    // Host calls lists the mocked calls with their arguments and results.
    h.get_by_role_and_label(Role::Button, "Host calls (2)")
        .click();
    h.run();
    h.get_by_label_contains("acme:billing::price_cents");
    h.get_by_label("1400");
}

#[test]
fn the_tenant_sample_opens_working_and_its_definitions_can_be_edited_and_removed() {
    let mut h = window();
    h.run();
    open_sample(&mut h, "tenant-app");
    assert!(h.query_by_label_contains("unsatisfied").is_none());
    run_and_wait(&mut h);
    assert_eq!(output(&h), "Hello, Ada! You are on the pro plan.");
    // The audit script's log line shows, from the host.
    h.get_by_role_and_label(Role::Button, "Logs (1)").click();
    h.run();
    h.get_by_label_contains("audit #1: greeted u-42");
    // The host panel lists the definitions; removing one brings the blocker back.
    h.get_by_label("Host functions").click();
    h.run();
    h.get_by_label_contains("acme:tenant::get_user · wasm");
    // The sample's mock is embedded: its editor opens with it, checked, ready to save.
    h.query_all_by_role_and_label(Role::Button, "Edit…")
        .next()
        .expect("an Edit… button")
        .scroll_to_me();
    h.run();
    click_first(&mut h, "Edit…");
    h.get_by_label("Host function get_user");
    h.get_by_label_contains("✔ fits the import");
    h.get_by_role_and_label(Role::Button, "Save").click();
    h.run();
    assert!(h.query_by_label_contains("unsatisfied").is_none());
    // The host panel sits low in the side panel: bring the button into view first.
    h.get_all_by_role_and_label(Role::Button, "Remove")
        .next()
        .expect("a Remove button")
        .scroll_to_me();
    h.run();
    click_first(&mut h, "Remove");
    h.get_by_label_contains("1 import(s) unsatisfied");
    assert!(
        h.state()
            .workbench()
            .state()
            .host_functions
            .iter()
            .all(|d| d.name != "get_user")
    );
}

/// Opens the host function editor of `acme:IMPORT` (from its Mock… or Edit… button) and picks
/// `behaviour`.
fn edit_import(h: &mut Harness<'_, App>, import: &str, behaviour: &str) {
    let name = import.rsplit("::").next().unwrap();
    let title = format!("Host function {name}");
    if h.query_by_label("Imports").is_some()
        && h.query_all_by_role_and_label(Role::Button, "Edit…")
            .next()
            .is_none()
    {
        h.get_by_label("Imports").click();
        h.run();
    }
    let mut found = false;
    'buttons: for button in ["Mock…", "Edit…"] {
        let count = h.query_all_by_role_and_label(Role::Button, button).count();
        for i in 0..count {
            h.query_all_by_role_and_label(Role::Button, button)
                .nth(i)
                .unwrap()
                .click();
            h.run();
            if h.query_by_label(&title).is_some() {
                found = true;
                break 'buttons;
            }
            if h.query_by_role_and_label(Role::Button, "Cancel").is_some() {
                h.get_by_role_and_label(Role::Button, "Cancel").click();
                h.run();
            }
        }
    }
    assert!(found, "no editor for {import}:\n{}", widget_tree(h));
    h.get_by_label("Behaviour").click();
    h.run();
    h.get_by_role_and_label(Role::Button, behaviour).click();
    h.run();
}

/// Asserts the last run failed with a message containing `text`, and the results show it.
#[track_caller]
fn assert_error_shown(h: &Harness<'_, App>, text: &str) {
    let message = h
        .state()
        .last_report()
        .and_then(|r| r.error.as_ref())
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(message.contains(text), "{text:?} not in {message:?}");
    h.get_by_label_contains("✖ ");
}

fn save_editor(h: &mut Harness<'_, App>) {
    h.get_by_label_contains("✔ fits the import");
    h.get_by_role_and_label(Role::Button, "Save").click();
    h.run();
}

#[test]
fn each_behaviour_from_the_editor_fails_and_stops_as_it_should() {
    let mut h = window_opening(Some(common::sample("tenant-app")));
    h.run();
    type_input(&mut h, r#"{"user_id": "u-42"}"#);
    // kv-set cannot stand for audit(message): one argument, no value. Save stays off.
    edit_import(&mut h, "tenant::audit", "kv-set");
    h.get_by_label_contains("kv-set needs the key and the value");
    assert!(button_disabled(&h, "Save"));
    h.get_by_label("Behaviour").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "fail").click();
    h.run();
    replace_text(&mut h, "Message", "audit service down");
    save_editor(&mut h);
    // price_cents: a fixed number.
    edit_import(&mut h, "billing::price_cents", "value");
    replace_text(&mut h, "Value", "5");
    save_editor(&mut h);
    // get_user: the mock-host plugin, its trapping export.
    edit_import(&mut h, "tenant::get_user", "wasm");
    let mock = common::sample("mock-host");
    replace_text(&mut h, "Mock-host plugin", mock.to_str().unwrap());
    replace_text(&mut h, "Export", "trap");
    save_editor(&mut h);
    assert!(h.query_by_label_contains("unsatisfied").is_none());

    run_and_wait(&mut h);
    let error = h.state().last_report().unwrap().error.clone().unwrap();
    assert_eq!(error.kind, ErrorKind::HostFunction);
    assert_error_shown(&h, "mock-host plugin mock-host.wasm failed in trap");

    // The mock's own get_user answers; then audit fails, naming itself.
    edit_import(&mut h, "tenant::get_user", "wasm");
    replace_text(&mut h, "Export", "");
    save_editor(&mut h);
    run_and_wait(&mut h);
    assert_error_shown(
        &h,
        "host function acme:tenant::audit failed: audit service down",
    );

    // kv-get: the kv store has no "u-42", so get_user answers nothing, and the plugin says so.
    edit_import(&mut h, "tenant::get_user", "kv-get");
    save_editor(&mut h);
    run_and_wait(&mut h);
    assert_error_shown(&h, "get_user returned nothing");

    // A Rhai runtime error says where.
    edit_import(&mut h, "tenant::get_user", "rhai");
    replace_text(
        &mut h,
        "Rhai script",
        "fn get_user(id) {\n  id.no_such_method()\n}",
    );
    save_editor(&mut h);
    run_and_wait(&mut h);
    assert_error_shown(&h, "its Rhai script failed at line 2");

    // A looping script: Stop ends it, and the next run works.
    edit_import(&mut h, "tenant::get_user", "rhai");
    replace_text(&mut h, "Rhai script", "fn get_user(id) { loop { } }");
    save_editor(&mut h);
    h.get_by_role_and_label(Role::Button, RUN).click();
    h.run_steps(2);
    step_until(&mut h, "the script to spin", calling);
    std::thread::sleep(Duration::from_millis(100));
    h.step();
    h.get_by_role_and_label(Role::Button, "⏹ Stop").click();
    h.run_steps(3);
    step_until(&mut h, "the stop", |app| !app.is_running());
    assert_eq!(
        h.state().last_report().unwrap().error_kind(),
        Some(ErrorKind::Cancelled),
        "{:?}",
        h.state().last_report().unwrap().error
    );
}

#[test]
fn runs_picked_in_history_replay_as_a_scenario_marking_the_first_difference() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = window();
    h.run();
    // Two runs on one instance (the running total grows), then one on a fresh instance.
    run_and_wait(&mut h);
    run_and_wait(&mut h);
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::ResetInstance);
    run_and_wait(&mut h);
    h.get_by_label("History").click();
    h.run();
    for run in 1..=3 {
        h.get_by_label(&format!("Make run {run} a step of a scenario"))
            .click();
        h.run();
    }
    h.get_by_label("Make a scenario of 3 runs").click();
    h.run();
    h.get_by_label("Scenario (3 steps)");
    h.get_by_label("runs 1, 2, 3: 3 steps");
    h.get_by_label("▶ Run all steps").click();
    h.run_steps(2);
    step_until(&mut h, "the scenario to finish", |app| {
        app.workbench()
            .scenario_view()
            .is_some_and(|s| s.results().is_some())
    });
    // Replayed on one instance, the third run's total is no longer what it was after the reset.
    assert_eq!(h.query_all_by_label("✔ matches").count(), 2);
    h.get_by_label("✖ first difference");
    h.get_by_label("Step 3 (count_vowels): what differs");
    h.get_by_label("-   \"total\": 7,");
    h.get_by_label("+   \"total\": 21,");
    h.get_by_label_contains("2 of 3 steps match; the first that differs is step 3");

    // Saved, it replays headless with the same verdict, and opens again as the scenario.
    let path = dir.path().join("three.session.json");
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::SaveSession {
            path: path.clone(),
            embed: false,
        });
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["steps"].as_array().unwrap().len(), 3);
    let out = common::run_bin(&["replay", path.to_str().unwrap()], b"");
    common::assert_exit(&out, 1);
    assert!(
        common::stdout(&out).contains("the first that differs is step 3 (count_vowels)"),
        "{}",
        common::stdout(&out)
    );
    let mut h = window_opening(Some(path));
    h.run();
    h.get_by_label("Scenario (3 steps)").click();
    h.run();
    h.get_by_label("three.session.json: 3 steps");
    // A step goes to the editor to be run on its own.
    assert_eq!(h.query_all_by_label("Edit").count(), 3);
    h.get_all_by_label("Edit").nth(1).unwrap().click();
    h.run();
    h.get_by_label_contains("Step 2 is in the editor");
}

#[test]
fn the_tests_window_runs_a_suite_and_opens_a_failing_test_in_the_workbench() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(common::sample("hello"), dir.path().join("hello.wasm")).unwrap();
    let suite = dir.path().join("hello.toml");
    std::fs::write(
        &suite,
        r#"# Kept as written: comments and order survive an added test.
[plugin]
wasm = "hello.wasm"

[[test]]
name = "greets"
  [[test.step]]
  call = "greet"
  input = "Ada"
  expect_output = "Hello, Ada!"

[[test]]
name = "keeps a total"
  [[test.step]]
  call = "count_vowels"
  input = "aaa"
  [[test.step]]
  call = "count_vowels"
  input = "a"
  expect_match = '"total":5'
"#,
    )
    .unwrap();
    let mut h = window();
    h.run();
    h.state_mut().open_test_suite(suite.clone());
    h.step();
    settled(&mut h);
    h.get_by_label("2 tests on hello.wasm");
    h.get_by_label("▶ Run all").click();
    h.run_steps(2);
    step_until(&mut h, "the suite's run to finish", |app| {
        app.test_suite()
            .is_some_and(|s| !s.is_running() && s.tally() == (1, 1))
    });
    h.get_by_label("✔ passed");
    h.get_by_label("✖ failed");
    h.get_by_label("Done: 1 passed, 1 failed");
    h.get_by_label_contains(
        "step 2 of 2 (count_vowels): the output has no match for /\"total\":5/",
    );

    // The failing test opens in the workbench: its plugin, its steps as the scenario, the
    // failing step in the editor.
    h.get_by_label("Open failing step").click();
    h.run();
    assert_eq!(h.state().state().function, "count_vowels");
    assert_eq!(h.state().state().input.text, "a");
    h.get_by_label("keeps a total: 2 steps");
    h.get_by_label("▶ Run all steps").click();
    h.run_steps(2);
    step_until(&mut h, "the test's scenario to finish", |app| {
        app.workbench()
            .scenario_view()
            .is_some_and(|s| s.results().is_some())
    });
    h.get_by_label("✖ first difference");

    // A run added to the suite becomes its third test, the file otherwise as it was. (On a
    // fresh instance: a test starts on one.)
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::ResetInstance);
    run_and_wait(&mut h);
    // Typing after the run does not change what the run was given: the test holds the run's
    // input.
    h.get_by_role_and_label(Role::MultilineTextInput, "Input")
        .click();
    h.step();
    h.get_by_role_and_label(Role::MultilineTextInput, "Input")
        .type_text("zzz");
    h.step();
    assert!(h.state().state().input.text.contains("zzz"));
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::AddRunToSuite(suite.clone()));
    h.run();
    h.get_by_label_contains("Added the test \"count_vowels");
    let text = std::fs::read_to_string(&suite).unwrap();
    assert!(text.starts_with("# Kept as written"), "{text}");
    assert!(
        text.ends_with(
            "input = \"a\"\nexpect_json = '{\"count\":1,\"total\":1,\"vowels\":\"aeiouAEIOU\"}'\n"
        ),
        "the run's input and output: {text}"
    );
    let out = common::run_bin(&["test", suite.to_str().unwrap(), "--json"], b"");
    let report: serde_json::Value = serde_json::from_str(&common::stdout(&out)).unwrap();
    let tests = report["suites"][0]["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3, "{report:#}");
    assert_eq!(
        tests[2]["passed"], true,
        "the added run passes as a test: {report:#}"
    );
}

#[test]
fn a_download_redirected_elsewhere_is_asked_about_in_a_dialog_and_followed() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = common::serve_bytes(std::fs::read(common::sample("hello")).unwrap());
    let home = common::serve_redirect(format!("{elsewhere}/hello.wasm"));
    let manifest = dir.path().join("away.json");
    std::fs::write(
        &manifest,
        format!(r#"{{"wasm": [{{"url": "{home}/hello.wasm"}}]}}"#),
    )
    .unwrap();
    let mut h = window_starting(Some(manifest), common::trust_store());
    step_until(&mut h, "the question", |app| {
        app.workbench().asking().is_some()
    });
    h.get_by_label("Allow").click();
    step_until(&mut h, "the redirect question", |app| {
        app.workbench().redirect_question().is_some()
    });
    h.run();
    h.get_by_label("Follow a redirect to another origin?");
    h.get_by_label(&format!("{elsewhere}/hello.wasm"));
    h.get_by_label(&format!("Follow to {elsewhere}")).click();
    step_until(&mut h, "the plugin", |app| {
        app.workbench().session().is_some()
    });
    assert!(
        h.state().workbench().asking().is_none(),
        "the grants are asked once"
    );
}

#[test]
fn stop_ends_a_suite_run_that_would_never_finish() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("spin.toml");
    // The plugin beside the suite: one outside its folder would need consent first.
    std::fs::copy(common::sample("chaos"), dir.path().join("chaos.wasm")).unwrap();
    let mut text = "[plugin]\nwasm = \"chaos.wasm\"\n".to_string();
    for i in 0..4 {
        let _ = write!(
            text,
            "[[test]]\nname = \"spins {i}\"\n[[test.step]]\ncall = \"spin\"\n"
        );
    }
    std::fs::write(&suite, text).unwrap();
    let mut h = window();
    h.run();
    h.state_mut().open_test_suite(suite);
    h.step();
    settled(&mut h);
    h.get_by_label("▶ Run all").click();
    h.run_steps(3);
    h.get_by_label_contains("of 4");
    h.get_by_label("⏹ Stop").click();
    h.run_steps(2);
    step_until(&mut h, "the stopped run to end", |app| {
        app.test_suite().is_some_and(|s| !s.is_running())
    });
    assert_eq!(h.query_all_by_label("stopped").count(), 4);
    // Nothing passed or failed: a stopped test says nothing about the plugin.
    assert_eq!(h.state().test_suite().unwrap().tally(), (0, 0));
}

#[test]
fn an_xtp_test_plugin_runs_against_the_open_plugin_with_one_row_per_assertion() {
    let mut h = window();
    h.run();
    // The input is what the harness's mock_input returns: the sample greets it.
    type_input(&mut h, "Ada");
    h.get_by_label("Tests").click();
    h.run();
    assert!(
        !h.get_by_label("Run an xtp-test plugin against this plugin…")
            .accesskit_node()
            .is_disabled()
    );
    h.key_press(Key::Escape);
    h.run();

    let xtp_test = common::sample("xtp-hello-test");
    h.state_mut().run_xtp_test(xtp_test.clone());
    h.run_steps(2);
    step_until(&mut h, "the xtp run to finish", |app| {
        app.xtp_run().is_some_and(|x| !x.is_running())
    });
    h.run();
    h.get_by_label("xtp test: xtp-hello-test.wasm");
    h.get_by_label("mock_input returns the input editor's 3 bytes");
    h.get_by_label("✔ 9 passed, 0 failed");
    h.get_by_label("greets the mock input");
    assert_eq!(
        h.query_all_by_label("count_vowels keeps a running total")
            .count(),
        3,
        "the group shown on each of its assertions"
    );

    // Against a plugin that lacks what it calls, the calls fail as testcases, with why.
    open_sample(&mut h, "counter");
    h.get_by_label("▶ Run again").click();
    h.run_steps(2);
    step_until(&mut h, "the second xtp run to finish", |app| {
        app.xtp_run()
            .is_some_and(|x| !x.is_running() && x.against == "counter.wasm")
    });
    h.run();
    let outcome = h.state().xtp_run().unwrap().outcome().unwrap();
    let call_greet = outcome.suites[0]
        .cases
        .iter()
        .find(|c| c.name == "call greet")
        .unwrap_or_else(|| panic!("a failed call of greet: {outcome:?}"));
    let why = call_greet.failure.as_ref().unwrap().text.clone();
    assert!(why.contains("greet"), "{why}");
    assert!(h.query_all_by_label_contains("✖ call greet").count() > 0);
    assert!(
        h.query_all_by_label(&why).count() > 0,
        "the reason is shown: {why}"
    );

    // Something that is not an xtp-test plugin says so instead of running.
    h.state_mut().run_xtp_test(common::sample("hello"));
    h.run_steps(2);
    step_until(&mut h, "the refused run to end", |app| {
        app.xtp_run()
            .is_some_and(|x| !x.is_running() && x.path.ends_with("hello.wasm"))
    });
    h.run();
    h.get_by_label_contains("exports no `test` function, so it is not an xtp-test plugin");

    // Opened as the plugin itself, a test plugin cannot run; Run says what to do instead.
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::Open(workbench::Source::Path(xtp_test)));
    step_until(&mut h, "the test plugin to open", |app| {
        app.workbench().run_blocker() == Some(workbench::RunBlocker::TestPlugin)
    });
    h.run();
    assert!(button_disabled(&h, RUN));
}

#[test]
fn stop_ends_an_xtp_test_plugin_that_never_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let spin = dir.path().join("spin-test.wasm");
    std::fs::write(
        &spin,
        wat::parse_str(
            r#"(module (func (export "test") (result i32) (loop (br 0)) (i32.const 0)))"#,
        )
        .unwrap(),
    )
    .unwrap();
    let mut h = window();
    h.run();
    h.state_mut().run_xtp_test(spin);
    h.run_steps(2);
    // (A new window is laid out unseen in its first frame.)
    h.run_steps(2);
    if let Some(outcome) = h.state().xtp_run().and_then(|x| x.outcome()) {
        panic!("the run ended by itself: {outcome:?}");
    }
    h.get_by_label("Running…");
    h.get_by_label("⏹ Stop").click();
    h.run_steps(2);
    step_until(&mut h, "the stopped xtp run to end", |app| {
        app.xtp_run().is_some_and(|x| !x.is_running())
    });
    h.run();
    assert!(h.state().xtp_run().unwrap().stopped);
    h.get_by_label_contains("Stopped: 0 passed, 1 failed");
}

/// A test plugin written by others, from the window: xtp-test-go's `TinyGo` backtest against its
/// `TinyGo` target, opened as a user would: the target (WASI on, as it imports it), the rows
/// loaded as input (the mock input), then the test plugin run against it.
#[test]
fn a_tinygo_xtp_test_plugin_runs_from_the_window_against_its_target() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let rows = fixtures.join("xtp/backtest.csv");
    let mut h = window();
    h.run();
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::Open(workbench::Source::Path(
            fixtures.join("thirdparty/go-xtp-max-transform.wasm"),
        )));
    step_until(&mut h, "the TinyGo target to open", |app| {
        app.workbench()
            .session()
            .is_some_and(|s| s.plugin().display_name == "go-xtp-max-transform.wasm")
    });
    h.run();
    // It imports WASI, so the window turned WASI on when it opened.
    assert!(h.state().workbench().state().options.wasi);
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::LoadInput(rows.clone()));
    settled(&mut h);
    h.state_mut()
        .run_xtp_test(fixtures.join("thirdparty/go-xtp-backtest.wasm"));
    h.run_steps(2);
    step_until(&mut h, "the TinyGo backtest to finish", |app| {
        app.xtp_run().is_some_and(|x| !x.is_running())
    });
    h.run();
    let lines = std::fs::read_to_string(&rows).unwrap().lines().count();
    let outcome = h.state().xtp_run().unwrap().outcome().unwrap();
    assert_eq!(
        (outcome.passed(), outcome.failed()),
        (lines, 0),
        "{outcome:?}"
    );
    h.get_by_label(&format!("✔ {lines} passed, 0 failed"));
    assert_eq!(h.query_all_by_label("series-1").count(), lines);
}

#[test]
fn adding_a_run_of_a_sample_to_a_suite_is_greyed_with_why() {
    use extism_playground::app::action::{Action, Unavailable};
    use extism_playground::workbench::notice::NoSuiteFile;
    let mut h = window();
    h.run();
    assert_eq!(
        Action::AddRunToSuite.availability(h.state()),
        Err(Unavailable::Because(
            "run first: the last run becomes the test"
        ))
    );
    run_and_wait(&mut h);
    // A built-in sample has no .wasm file for a suite to name: the item says so before any
    // dialog opens.
    assert_eq!(
        Action::AddRunToSuite.availability(h.state()),
        Err(Unavailable::Suite(NoSuiteFile::NotAFile))
    );
    h.get_by_label("Tests").click();
    h.run();
    assert!(
        h.get_by_label("Add this run to a suite…")
            .accesskit_node()
            .is_disabled()
    );
}

#[test]
fn a_trap_lists_its_frames_and_a_frame_opens_its_source_at_the_line() {
    let mut h = window();
    h.run();
    open_sample(&mut h, "debug-demo");
    assert_eq!(h.state().state().function, "checkout");
    run_and_wait(&mut h);
    let report = h.state().last_report().unwrap();
    assert_eq!(report.error_kind(), Some(ErrorKind::Trap));
    assert!(
        report.coredump.is_some(),
        "the window asks for the coredump"
    );
    // The frames are listed with their functions and source lines; the plugin's own first
    // frame is marked.
    h.get_by_label_contains("Backtrace");
    h.get_by_label("debug_demo::apply_discount");
    // Copy error copies the message with every frame at its line.
    h.get_by_role_and_label(Role::Button, "Copy error").click();
    h.step();
    let copied: Vec<String> = h
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert!(
        copied.iter().any(|t| t.starts_with("trap: wasm trap")
            && t.contains(
                "debug_demo::apply_discount at sample-plugins/debug-demo/src/lib.rs:70:9"
            )),
        "{copied:?}"
    );
    h.run();
    h.get_by_label_contains("▶ 1");
    h.get_by_label("sample-plugins/debug-demo/src/lib.rs:70:9")
        .click();
    h.run();
    h.get_by_label_contains("Line 70, column 9 (read-only)");
    assert!(
        h.get_all_by_label_contains("reject_discount(percent);")
            .count()
            >= 1,
        "the source around the line is shown"
    );
    h.get_by_role_and_label(Role::Button, "Close window")
        .click();
    h.run();
    // The coredump opens with the instance that trapped selected and its memory.
    h.get_by_role_and_label(Role::Button, "Coredump…").click();
    h.run();
    // (extism's linking instance of the module has 17 pages; the one that ran grew to 18.)
    h.get_by_label_contains("memory[0]: 18 pages");
    h.get_by_label_contains(
        "debug_demo::reject_discount at sample-plugins/debug-demo/src/lib.rs:78:5",
    );
    h.get_by_role_and_label(Role::Button, "Close window")
        .click();
    h.run();
    // Timing shows the memory the call left.
    h.get_by_label("Timing").click();
    h.run();
    h.get_by_label("Memory (main module)");
    h.get_by_label_contains("pages before");
}

#[test]
fn find_limits_from_the_run_menu_then_apply_them_and_the_call_still_works() {
    let mut h = window();
    h.run();
    h.get_by_label("Run").click();
    h.run();
    h.get_by_role_and_label(Role::Button, "Find limits…")
        .click();
    h.run_steps(2);
    step_until(&mut h, "the limit search to end", |app| {
        app.limit_search().is_some_and(|j| !j.is_running())
    });
    let found = match h.state().limit_search().unwrap().result() {
        Some(Ok(found)) => found.clone(),
        other => panic!("no limits: {other:?}"),
    };
    assert!(found.outcome.starts_with("ok"), "{}", found.outcome);
    h.get_by_role_and_label(Role::Button, "Apply memory and timeout to the sandbox")
        .click();
    h.run();
    let options = &h.state().state().options;
    assert_eq!(
        options.memory_max_pages.map(u64::from),
        found.suggested_pages()
    );
    assert_eq!(options.timeout_ms, Some(found.limits.timeout_ms));
    run_and_wait(&mut h);
    assert!(h.state().last_report().unwrap().is_ok());
}

#[test]
fn a_frame_of_a_plugin_built_elsewhere_maps_to_a_local_folder() {
    // go-sdk's TinyGo plugin names `D:\dylibso\go-sdk\plugins\host\main.go`; here its source
    // is in a folder of ours.
    let source = tempfile::tempdir().unwrap();
    let lines = (1..=20).fold(String::new(), |mut text, i| {
        use std::fmt::Write as _;
        let _ = writeln!(text, "// line {i}");
        text
    });
    std::fs::write(source.path().join("main.go"), lines).unwrap();
    let fixture = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/thirdparty/go-host-mult.wasm");
    let mut h = window_opening(Some(fixture));
    h.run();
    step_until(&mut h, "the plugin to open", |app| {
        app.workbench().session().is_some()
    });
    {
        let wb = h.state_mut().workbench_mut();
        let def = extism_playground::runner::host::HostFnDef::parse_flag(
            "mult(num,num)->num=fail:no multiplier",
            std::path::Path::new("."),
        )
        .unwrap();
        wb.apply(workbench::Command::DefineHostFn(Box::new(def)));
        let mut options = wb.state().options.clone();
        options.wasi = true;
        wb.apply(workbench::Command::SetOptions(options));
        wb.apply(workbench::Command::SelectFunction("run_test".into()));
    }
    h.run();
    run_and_wait(&mut h);
    h.get_by_label_contains("main.go:15:11  (not on this machine: map…)")
        .click();
    h.run();
    h.get_by_label_contains("Map a source folder");
    h.get_by_role_and_label(Role::TextInput, "Local folder")
        .click();
    h.run();
    h.get_by_role_and_label(Role::TextInput, "Local folder")
        .type_text(source.path().to_str().unwrap());
    h.run();
    h.get_by_role_and_label(Role::Button, "Map and open")
        .click();
    h.run();
    h.get_by_label_contains("Line 15, column 11 (read-only)");
    h.get_by_label_contains("// line 15");
    let maps = &h.state().state().source_maps;
    assert_eq!(maps.len(), 1);
    assert_eq!(maps[0].from, r"D:\dylibso\go-sdk\plugins\host");
    // The frame now shows as found.
    h.get_by_label(r"D:\dylibso\go-sdk\plugins\host\main.go:15:11");
}

#[test]
fn open_from_registry_shows_the_pin_and_checks_for_newer() {
    use extism_playground::registry::{self, Cache, Settings};
    let Some(reg) = common::registry::Registry::start() else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let settings = Settings {
        cache: Cache::at(cache.path()),
        ..Settings::default()
    };
    let reference = reg.reference("gui/hello:1.0");
    let push = |sample: &str| {
        let wasm = std::fs::read(common::sample(sample)).unwrap();
        registry::push(
            &wasm,
            registry::ModuleOs::Wasm,
            &reference.parse().unwrap(),
            &settings,
            std::collections::BTreeMap::new(),
        )
        .unwrap()
    };
    let first = push("hello");
    let cache_dir = cache.path().to_path_buf();
    let mut h = window_with(AppOptions {
        registry: Settings {
            cache: Cache::at(&cache_dir),
            ..Settings::default()
        },
        ..window::options()
    });
    h.run();
    menu_item(&mut h, "File", "Open from registry…");
    h.get_by_role_and_label(Role::TextInput, "Reference")
        .click();
    h.run();
    h.get_by_role_and_label(Role::TextInput, "Reference")
        .type_text(&reference);
    h.run();
    h.get_by_role_and_label(Role::Button, "Open").click();
    h.run_steps(2);
    let pinned_to = |digest: String| {
        move |app: &App| {
            app.workbench()
                .session()
                .and_then(|s| s.plugin().registry_pin().map(|p| p.digest.clone()))
                == Some(digest.clone())
        }
    };
    step_until(&mut h, "the pull", pinned_to(first.digest.clone()));
    assert!(h.query_all_by_label("hello:1.0").next().is_some());
    h.get_by_label(&first.digest[..19]);
    h.get_by_label("greet").click();
    h.run();
    h.get_all_by_label("Raw").next().unwrap().click();
    h.run();
    type_input(&mut h, "Ada");
    run_and_wait(&mut h);
    assert_eq!(output(&h), "Hello, Ada!");

    // The tag moves; Check for newer says so, and opens the newer plugin on request.
    let second = push("counter");
    h.get_by_role_and_label(Role::Button, "Check for newer")
        .click();
    h.run_steps(2);
    step_until(&mut h, "the check", |app| {
        matches!(
            app.workbench().newer(),
            Some(extism_playground::workbench::registry::NewerCheck::Done(_))
        )
    });
    assert!(
        h.query_all_by_label_contains("moved: it now points to")
            .next()
            .is_some()
    );
    h.get_by_role_and_label(Role::Button, "Open the newer plugin")
        .click();
    h.run_steps(2);
    step_until(&mut h, "the newer pull", pinned_to(second.digest.clone()));
}

#[test]
fn stop_in_the_window_cancels_a_pull_that_stalls() {
    // A registry that accepts and never answers.
    let host = common::serve_nothing();
    let mut h = window();
    step_until(&mut h, "the first plugin", |app| {
        app.workbench().session().is_some()
    });
    let before = h
        .state()
        .workbench()
        .session()
        .unwrap()
        .plugin()
        .display_name
        .clone();
    h.state_mut()
        .workbench_mut()
        .apply(workbench::Command::OpenFromRegistry {
            reference: format!("oci://{host}/tenant/slow:1"),
            login: None,
            plain_http: None,
        });
    h.run_steps(3);
    assert!(
        h.query_all_by_label_contains("Pulling oci://")
            .next()
            .is_some()
    );
    h.get_by_label("Asking the registry…");
    h.get_by_role_and_label(Role::Button, "Stop").click();
    h.run_steps(2);
    step_until(&mut h, "the pull to stop", |app| {
        !app.workbench().is_pulling()
    });
    assert_eq!(
        h.state()
            .workbench()
            .session()
            .unwrap()
            .plugin()
            .display_name,
        before,
        "the plugin open before stays open"
    );
    h.run();
    // The status bar says so.
    assert!(
        h.query_all_by_label_contains("cancelled").next().is_some(),
        "{:?}",
        h.state().workbench().status()
    );
}

#[test]
fn fast_compile_is_a_sandbox_choice_that_still_runs() {
    let mut h = window_opening(None);
    h.run();
    h.get_by_label("Fast compile (slower code)").click();
    h.run();
    assert!(h.state().state().options.fast_compile);
    assert_eq!(
        h.state().workbench().fresh_reason(),
        Some(extism_playground::workbench::FreshReason::OptionsChanged),
        "the plugin is compiled again the new way"
    );
    run_and_wait(&mut h);
    assert!(h.state().last_report().unwrap().is_ok());
}

/// The window's frame-after-this request: `Duration::MAX` when it asked for none.
fn repaint_delay(h: &Harness<'_, App>) -> Duration {
    h.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay
}

/// Moves the window's clock on by `seconds` and draws one frame then.
fn advance_clock(h: &mut Harness<'_, App>, seconds: f64) {
    let now = h.ctx.input(|i| i.time);
    h.input_mut().time = Some(now + seconds);
    h.step();
}

#[test]
fn typed_input_is_saved_within_seconds_and_an_idle_window_asks_for_no_frames() {
    use extism_playground::app::autosave::{SAVE_DELAY, StateFile};
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::at(dir.path().join("window-state.json"));
    let window = |file: StateFile| {
        window_with(AppOptions {
            state_file: Some(file),
            ..window::options()
        })
    };
    let mut h = window(file.clone());
    settled(&mut h);
    // What opening changed is saved after the delay; then nothing is left to do, and a frame
    // asks for no other.
    advance_clock(&mut h, SAVE_DELAY + 0.1);
    h.step();
    assert!(h.state().is_saved());
    assert_eq!(
        repaint_delay(&h),
        Duration::MAX,
        "an idle window asks for no frame"
    );

    type_input(&mut h, "typed 12 s before a crash");
    assert!(!h.state().is_saved(), "a change waits for the delay");
    let delay = repaint_delay(&h);
    assert!(
        delay > Duration::ZERO && delay <= Duration::from_secs_f64(SAVE_DELAY),
        "one frame is asked for, at the save's deadline: {delay:?}"
    );
    let on_disk = |file: &StateFile| file.load().unwrap().map(|s| s.workbench.input.text);
    assert_ne!(on_disk(&file).as_deref(), Some("typed 12 s before a crash"));

    advance_clock(&mut h, SAVE_DELAY + 0.1);
    assert!(h.state().is_saved());
    let started = Instant::now();
    while on_disk(&file).as_deref() != Some("typed 12 s before a crash") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the input never reached {}",
            file.path().display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    h.step();
    assert_eq!(
        repaint_delay(&h),
        Duration::MAX,
        "saved: no frame asked for"
    );

    // The window is gone without closing (a kill): a new one has the input back.
    drop(h);
    let mut again = window(file.clone());
    settled(&mut again);
    assert_eq!(
        again.state().state().input.text,
        "typed 12 s before a crash"
    );
    assert!(again.state().save_problem().is_none());
}
