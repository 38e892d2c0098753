//! The workbench (the window's model) without a window: one factory, and the waits that poll
//! it until a background job has done what a test waits for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use extism_playground::runner::CallReport;
use extism_playground::workbench::{Command, PluginSlot, Workbench, WorkbenchState};

/// How long a wait on the workbench lasts before it fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// A fresh workbench with the built binary as worker and a trust store of the test's own.
pub fn workbench() -> Workbench {
    Workbench::new(WorkbenchState::default(), super::worker(), Arc::new(|| {}))
        .with_trust_store(super::trust_store())
}

/// Runs the selected function and waits for its report.
#[track_caller]
pub fn run(wb: &mut Workbench) -> CallReport {
    wb.apply(Command::Run);
    assert!(wb.is_running(), "the run did not start: {}", said(wb));
    poll_until(wb, "the call to finish", |wb| !wb.is_running());
    wb.last().expect("a finished call").report.clone()
}

/// The status bar's line as the window words it, for failure messages (tests match on
/// [`Workbench::status`]'s variants).
pub fn said(wb: &Workbench) -> String {
    wb.status()
        .map(extism_playground::app::words::notice)
        .unwrap_or_default()
}

/// Polls the workbench until `done` holds; after [`WAIT`], fails naming `what`, with the
/// status line.
#[track_caller]
pub fn poll_until(wb: &mut Workbench, what: &str, done: impl Fn(&Workbench) -> bool) {
    let started = Instant::now();
    while !done(wb) {
        assert!(
            started.elapsed() < WAIT,
            "timed out after {WAIT:?} waiting for {what}; status: {}",
            said(wb)
        );
        wb.poll();
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Polls until what the workbench was asked to open (or the input file it was asked to load)
/// is read, resolved and installed, or refused: files are read in the background.
#[track_caller]
pub fn settle(wb: &mut Workbench) {
    poll_until(wb, "the plugin to open", |wb| {
        !matches!(wb.plugin(), PluginSlot::Opening(_)) && !wb.is_loading_input()
    });
}
