//! The one factory for the real `App` under `egui_kittest`, the waits every window test uses,
//! and the gestures they repeat (a menu item, a sample, retyping a field, whether a button is
//! greyed). A wait that runs out fails naming what it waited for, with the status bar's text,
//! the build output when a build ran, and every widget on screen; with `--features snapshots`
//! it also saves a picture of the window (that needs a GPU adapter, a software one will do).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use extism_playground::app::{App, AppOptions};
use extism_playground::trust::TrustStore;
use extism_playground::workbench::PluginSlot;

/// How long a wait in the window lasts before it fails, unless it says otherwise.
pub const WAIT: Duration = Duration::from_secs(30);

/// The options every window test starts from: the built binary as worker and a trust store of
/// the test's own.
pub fn options() -> AppOptions {
    AppOptions {
        trust: super::trust_store(),
        ..AppOptions::new(super::worker())
    }
}

/// The window as a person first sees it, with what it opened on start read.
pub fn window() -> Harness<'static, App> {
    window_opening(None)
}

/// The window started on `open` (as from the command line), with it read.
pub fn window_opening(open: Option<PathBuf>) -> Harness<'static, App> {
    window_trusting(open, super::trust_store())
}

/// The window started on `open` with the trust store `trust`, with `open` read.
pub fn window_trusting(open: Option<PathBuf>, trust: TrustStore) -> Harness<'static, App> {
    let mut h = window_starting(open, trust);
    // What it opens as it starts is read in the background.
    settled(&mut h);
    h
}

/// The window as it starts opening `open` (read in the background, not waited for).
pub fn window_starting(open: Option<PathBuf>, trust: TrustStore) -> Harness<'static, App> {
    window_with(AppOptions {
        open,
        trust,
        ..options()
    })
}

/// The window started with `options`, as the first frame leaves it.
pub fn window_with(options: AppOptions) -> Harness<'static, App> {
    window_from(options, None)
}

/// The window started with `options`, reading what an earlier window saved in `storage`.
pub fn window_from(
    options: AppOptions,
    storage: Option<&'static dyn eframe::Storage>,
) -> Harness<'static, App> {
    Harness::builder()
        .with_size([1280.0, 900.0])
        .build_eframe(move |cc| {
            if let Some(storage) = storage {
                cc.storage = Some(storage);
            }
            App::new(cc, options)
        })
}

/// Opens the menu `menu` and clicks its item `item`.
pub fn menu_item(h: &mut Harness<'_, App>, menu: &str, item: &str) {
    h.get_by_role_and_label(Role::Button, menu).click();
    h.run();
    h.get_by_role_and_label(Role::Button, item).click();
    h.run();
}

/// Opens the built-in sample `name` from the Samples menu (samples open at once).
pub fn open_sample(h: &mut Harness<'_, App>, name: &str) {
    h.get_by_label("Samples").click();
    h.run();
    h.get_by_role_and_label(Role::Button, name).click();
    h.run();
}

/// Replaces the text of the editor field named `label` (one line or several).
pub fn replace_text(h: &mut Harness<'_, App>, label: &str, text: &str) {
    let role = if h.query_by_role_and_label(Role::TextInput, label).is_some() {
        Role::TextInput
    } else {
        Role::MultilineTextInput
    };
    h.get_by_role_and_label(role, label).click();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run();
    if text.is_empty() {
        h.key_press(Key::Backspace);
    } else {
        h.get_by_role_and_label(role, label).type_text(text);
    }
    h.run();
}

/// Whether the button labelled `label` is greyed out (fails if there is no such button).
#[track_caller]
pub fn button_disabled(h: &Harness<'_, App>, label: &str) -> bool {
    h.get_by_role_and_label(Role::Button, label)
        .accesskit_node()
        .is_disabled()
}

/// Steps frames until `done` holds; after [`WAIT`], fails naming `what`.
#[track_caller]
pub fn step_until(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    step_until_within(h, what, WAIT, done);
}

/// Steps frames until `done` holds; after `limit` (a build takes longer than a call), fails
/// naming `what`, with what the window showed.
#[track_caller]
pub fn step_until_within(
    h: &mut Harness<'_, App>,
    what: &str,
    limit: Duration,
    done: impl Fn(&App) -> bool,
) {
    let started = Instant::now();
    while !done(h.state()) {
        if started.elapsed() > limit {
            let snapshot = snapshot(h, what);
            let build = build_output(h.state());
            let build = if build.is_empty() {
                build
            } else {
                format!("\nbuild output:\n{build}")
            };
            panic!(
                "timed out after {limit:?} waiting for {what}; status: {:?}{build}\n{snapshot}\
                 widgets on screen:\n{}",
                h.state()
                    .workbench()
                    .status()
                    .map(extism_playground::app::words::notice),
                widget_tree(h)
            );
        }
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    // Settle (and check accessibility) unless a call keeps the spinner going.
    if !h.state().is_running() {
        h.run();
    }
}

/// Steps until what the window was asked to open (a plugin, an input file, a suite) is read
/// and installed or refused: files are read in the background.
#[track_caller]
pub fn settled(h: &mut Harness<'_, App>) {
    step_until(h, "the file to be read", |app| {
        !matches!(app.workbench().plugin(), PluginSlot::Opening(_))
            && !app.workbench().is_loading_input()
            && !app.is_loading_suite()
    });
}

/// The build's output, one line each, when a build ran; empty otherwise.
pub fn build_output(app: &App) -> String {
    app.workbench()
        .build_job()
        .map(|job| {
            let lines: Vec<String> = job.build.lines().iter().map(|l| l.text.clone()).collect();
            lines.join("\n")
        })
        .unwrap_or_default()
}

/// Renders the window to `target/tmp/test-snapshots/` and says where; or says why it could
/// not (no GPU adapter, not even a software one: `apt-get install mesa-vulkan-drivers`).
#[cfg(feature = "snapshots")]
fn snapshot(h: &mut Harness<'_, App>, what: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-snapshots");
    let name: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.join(format!("{name}.png"));
    // The renderer is created on first use and panics without an adapter.
    let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.render()));
    match rendered {
        Ok(Ok(image)) => match std::fs::create_dir_all(&dir)
            .and_then(|()| image.save(&path).map_err(std::io::Error::other))
        {
            Ok(()) => format!("snapshot of the window: {}\n", path.display()),
            Err(e) => format!("no snapshot: cannot write {}: {e}\n", path.display()),
        },
        Ok(Err(e)) => format!("no snapshot: {e}\n"),
        Err(_) => "no snapshot: no GPU adapter to render with (apt-get install \
                   mesa-vulkan-drivers)\n"
            .to_string(),
    }
}

/// Without the `snapshots` feature no renderer is built: the widget tree says what was shown.
#[cfg(not(feature = "snapshots"))]
fn snapshot(_: &mut Harness<'_, App>, _: &str) -> String {
    String::new()
}

/// Every node of the accessibility tree, one per line, indented by depth.
pub fn widget_tree(h: &Harness<'_, App>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let depth_of = |node: &egui_kittest::Node<'_>| {
        std::iter::successors(node.parent(), egui_kittest::kittest::NodeT::parent).count()
    };
    for node in h.root().children_recursive() {
        let ak = node.accesskit_node();
        let label = ak.label().unwrap_or_default();
        let value = ak.value().unwrap_or_default();
        if label.is_empty() && value.is_empty() {
            continue;
        }
        let value = if value.is_empty() {
            String::new()
        } else {
            format!(" = {value:?}")
        };
        let _ = writeln!(
            out,
            "{}{:?} {label:?}{value}",
            "  ".repeat(depth_of(&node)),
            ak.role()
        );
    }
    out
}
