//! The window's words for what the workbench reports: every [`Notice`] (the status bar), why
//! Run or Build cannot start, why a plugin did not open, and what "Check for newer" found. The
//! model hands over data; this is the one place that turns it into sentences.

use std::fmt::Write as _;

use crate::bundle::ExpectedOutcome;
use crate::open::{OpenError, Source};
use crate::workbench::notice::{Called, NewInstance, NoSuiteFile, Opened, OpeningStage, TestAdded};
use crate::workbench::registry::NewerVerdict;
use crate::workbench::{BuildBlocker, FreshReason, Notice, RunBlocker};

/// The status bar's line for `notice`.
#[allow(clippy::too_many_lines)] // one arm per notice, each a sentence
pub fn notice(notice: &Notice) -> String {
    match notice {
        Notice::Opening { label, stage } => match stage {
            OpeningStage::Reading => format!("Opening {label}…"),
            OpeningStage::Pulling => format!("Pulling {label}…"),
            OpeningStage::Downloading => format!("Opening {label}: downloading its modules…"),
        },
        Notice::AsksForAccess { label } => {
            format!("{label} asks for access to this machine: allow it, or open it without grants")
        }
        Notice::NothingGranted { label } => format!("Did not open {label}: nothing was granted"),
        Notice::NotRemembered(e) => format!("{e} (the file is allowed this time)"),
        Notice::Revoked => "The file is no longer trusted: opening it asks again".to_string(),
        Notice::RevokeFailed(e) => e.to_string(),
        Notice::RedirectAsked { url, origin } => format!(
            "{url} redirects to {origin}, another origin; nothing was sent there: follow it, or cancel"
        ),
        Notice::RedirectRefused { label, origin } => format!(
            "Did not open {label}: its module's redirect to {origin} was not followed, and nothing was sent there"
        ),
        Notice::ReloadFailed { label, error } => format!(
            "{label} changed but could not be loaded ({error}); keeping the previous version"
        ),
        Notice::RestoreFailed(error) => {
            format!("The last plugin could not be opened ({error}); opened the hello sample")
        }
        Notice::OpenFailed { source, error } => open_failure(source, error),
        Notice::OpenedWithNote(note) => note.clone(),
        Notice::Opened(opened) => self::opened(opened),
        Notice::Reloaded {
            name,
            automatic,
            gone,
        } => {
            let how = if *automatic {
                "changed on disk, reloaded"
            } else {
                "reloaded"
            };
            match gone {
                Some(function) => format!("{name} {how}; `{function}` is gone"),
                None => format!("{name} {how}"),
            }
        }
        Notice::NothingToReload => "Samples are built in; there is nothing to reload".to_string(),
        Notice::HostFnProblem(problem) => problem.to_string(),
        Notice::HostFnDefined(qualified) => format!("{qualified} is defined"),
        Notice::CannotRun(blocker) => format!("Cannot run: {}", run_blocker(blocker)),
        Notice::CallDiscarded { function } => {
            format!("The call of {function} on the previous plugin ended; its result was discarded")
        }
        Notice::Called(called) => self::called(called),
        Notice::InstanceDiscarded => {
            "The instance was discarded; the next run starts fresh".to_string()
        }
        Notice::CannotFormat(e) => format!("Cannot format: the input is not JSON ({e})"),
        Notice::ExpectedRecorded(expected) => {
            let what = match expected {
                ExpectedOutcome::Output(bytes) => format!("{} bytes of output", bytes.len()),
                other => other.describe(),
            };
            format!("Recorded the expected outcome: {what}")
        }
        Notice::NoRunsPicked => "Pick the runs to make a scenario of (the ✔ column)".to_string(),
        Notice::RunsOfAnotherPlugin(runs) => {
            let runs: Vec<String> = runs.iter().map(u64::to_string).collect();
            format!(
                "Runs {} were of another plugin: a scenario is made of the open plugin's runs only",
                runs.join(", ")
            )
        }
        Notice::ScenarioMade { runs, cut } => {
            let made = format!(
                "Made a scenario of {runs} runs: Run all replays them in order on one instance"
            );
            if *cut > 0 {
                format!("{made}; {cut} had outputs too long to keep, and expect nothing")
            } else {
                made
            }
        }
        Notice::CannotRunScenario(blocker) => {
            format!("Cannot run the scenario: {}", run_blocker(blocker))
        }
        Notice::ScenarioRunning { steps } => format!("Running the scenario's {steps} steps…"),
        Notice::ScenarioDiscarded => {
            "The scenario's run on the previous plugin ended; its results were discarded"
                .to_string()
        }
        Notice::ScenarioEnded {
            matched,
            total,
            first_difference,
            stopped,
        } => match (first_difference, stopped) {
            (_, true) => format!("Scenario stopped: {matched} steps matched before the stop"),
            (None, false) => format!("Scenario: all {total} steps match"),
            (Some(i), false) => format!(
                "Scenario: {matched} of {total} steps match; the first that differs is step {}",
                i + 1
            ),
        },
        Notice::StepInEditor(index) => format!(
            "Step {} is in the editor: Run calls it on its own",
            index + 1
        ),
        Notice::LoadingInput(path) => format!("Loading the input from {}…", path.display()),
        Notice::InputNotLoaded(e) => format!("{e}; the input was not changed"),
        Notice::InputLoaded(path) => format!("Input loaded from {}", path.display()),
        Notice::LargeInputLoaded { bytes, name } => {
            format!("Input: {bytes} bytes from {name}, sent byte for byte (not editable here)")
        }
        Notice::NoOutputYet => "There is no output to save yet: run first".to_string(),
        Notice::OutputSaved { bytes, path } => {
            format!("Saved {bytes} bytes to {}", path.display())
        }
        Notice::OutputNotSaved { path, error } => format!(
            "Cannot save {}: {error}; the output is kept, save it to another folder or name",
            path.display()
        ),
        Notice::NoCoredump => "There is no coredump: the last run did not trap".to_string(),
        Notice::CoredumpSaved { bytes, path } => format!(
            "Saved the coredump to {} ({bytes} bytes; it holds the plugin's memory, so it may hold secrets)",
            path.display()
        ),
        Notice::CoredumpNotSaved { path, error } => format!(
            "Cannot save the coredump to {}: {error}; save it to another folder or name",
            path.display()
        ),
        Notice::SessionSaved {
            path,
            embed,
            secrets_left_out,
            with_coredump,
        } => {
            let what = if *embed {
                "bundle (plugin embedded)"
            } else {
                "session"
            };
            let mut text = format!("Saved the {what} to {}", path.display());
            if *secrets_left_out {
                text.push_str(" (secret values left out: replay with --secret NAME=VALUE, or turn on File, Include secret values)");
            }
            if *with_coredump {
                text.push_str("; it carries the trap's coredump, which holds the plugin's memory");
            }
            text
        }
        Notice::SessionNotSaved(e) => e.to_string(),
        Notice::NoPluginToExport => "No plugin is open: open one, then export".to_string(),
        Notice::ManifestExported(path) => {
            format!("Exported the Extism manifest to {}", path.display())
        }
        Notice::ManifestNotExported { path, error } => format!(
            "Cannot write {}: {error}; pick another folder or name",
            path.display()
        ),
        Notice::NoRunForSuite => "Run first: the last run is what goes into the suite".to_string(),
        Notice::NoFileForSuite(why) => capitalized(no_suite_file(*why)),
        Notice::TestAdded(added) => test_added(added),
        Notice::TestNotAdded(e) => e.to_string(),
        Notice::SuiteTestOpened {
            test,
            suite,
            step,
            steps,
        } => format!(
            "Opened the test \"{test}\" of {suite}: its step {} is in the editor; Run all (Scenario tab) replays its {steps} steps",
            step + 1
        ),
        Notice::CannotBuild(blocker) => format!("Cannot build: {}", build_blocker(*blocker)),
        Notice::Building { command_line } => format!("Building: {command_line}…"),
        Notice::NotCreated(e) => format!("Could not create the plugin: {e}"),
        Notice::BadParent { parent, error } => {
            format!("Could not create the plugin: {}: {error}", parent.display())
        }
        Notice::CreateWhileBuilding => {
            "Cannot create the plugin now: a build is running".to_string()
        }
        Notice::Created { dir } => format!(
            "Created {}; building it (the first build fetches and compiles extism-pdk)…",
            dir.display()
        ),
        Notice::Built { seconds, then } => match then {
            Some(then) => format!("Built in {seconds:.1} s; {}", self::notice(then)),
            None => format!("Built in {seconds:.1} s"),
        },
        Notice::BuildFailed {
            errors,
            advice,
            first_error,
            kept,
        } => {
            let first = advice
                .as_ref()
                .or(first_error.as_ref())
                .map_or_else(String::new, |first| format!(": {first}"));
            let kept = if *kept {
                "; the previous module stays loaded"
            } else {
                ""
            };
            format!("Build failed ({errors} error(s){first}){kept}. See the Build tab.")
        }
        Notice::BuildStopped => "Build stopped".to_string(),
        Notice::BuildAborted(why) => format!("Build did not finish: {why}"),
        Notice::BuiltNotLoaded { artifact } => format!(
            "{} is built; another plugin is open now, so it was not loaded (open it to use it)",
            artifact.display()
        ),
        Notice::BadReference(e) => e.to_string(),
        Notice::LoginForgotten { registry } => format!(
            "Forgot the login for {registry}: docker's credentials (or none) are used from now on"
        ),
        Notice::NotPulled => "The open plugin was not pulled from a registry".to_string(),
        Notice::PulledByDigest => {
            "The open plugin was opened by digest, not by a tag: there is nothing newer to check"
                .to_string()
        }
        Notice::NewerChecked(verdict) => newer(verdict),
    }
}

fn opened(opened: &Opened) -> String {
    match opened {
        Opened::Scenario {
            from,
            steps,
            function,
            coredump,
        } => {
            let mut text = match steps {
                Some(steps) => format!(
                    "Opened {from}: a scenario of {steps} steps (the Scenario tab replays them all); step 1 is in the editor"
                ),
                None => format!("Opened {from}: ready to run {function}"),
            };
            if *coredump {
                text.push_str("; it carries a trap's coredump (Run, Coredump… shows it)");
            }
            text
        }
        Opened::Sample { name, description } => format!("Opened the {name} sample: {description}"),
        Opened::Plugin { name } => format!("Opened {name}"),
    }
}

fn called(called: &Called) -> String {
    let mut text = format!(
        "{}: {}",
        called.function,
        called
            .error
            .map_or_else(|| "ok".to_string(), |k| k.to_string())
    );
    match called.instance {
        Some(NewInstance::Because(reason)) => {
            let _ = write!(text, " · new instance ({})", fresh_reason(reason));
        }
        Some(NewInstance::Compiled) => text.push_str(" · plugin compiled, new instance"),
        Some(NewInstance::First) => text.push_str(" · new instance"),
        None => {}
    }
    if called.discarded {
        text.push_str(" · the instance was discarded after this failure");
    }
    text
}

fn test_added(added: &TestAdded) -> String {
    let suite = added.suite.display();
    let mut text = format!(
        "Added the test \"{}\" to {suite}: `extism-playground test {suite}` runs it",
        added.name
    );
    if added.warm {
        text.push_str(" (this run was on a warm instance; the test starts on a fresh one, so if earlier calls shaped the output, add them as steps or make a scenario of them in History)");
    }
    if !added.written.is_empty() {
        let files: Vec<String> = added
            .written
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        text.push_str("; wrote ");
        text.push_str(&files.join(", "));
        text.push_str(" beside it");
    }
    for note in &added.notes {
        let _ = write!(text, "; note: {note}");
    }
    text
}

/// Why a call runs on a new instance, as a clause.
pub fn fresh_reason(reason: FreshReason) -> &'static str {
    match reason {
        FreshReason::ResetByYou => "reset by you",
        FreshReason::OptionsChanged => "the sandbox options changed",
        FreshReason::Reloaded => "the plugin was reloaded",
        FreshReason::PreviousCallFailed => "the previous call failed",
    }
}

/// Why Run cannot start, as a clause ("Cannot run: …").
pub fn run_blocker(blocker: &RunBlocker) -> String {
    match blocker {
        RunBlocker::CallRunning => "a call is running".to_string(),
        RunBlocker::ScenarioRunning => "the scenario is running".to_string(),
        RunBlocker::StillOpening { label } => format!("{label} is still opening"),
        RunBlocker::Asking { label } => {
            format!("{label} asks for access: allow it or open it without grants first")
        }
        RunBlocker::NoPlugin => "open a plugin first".to_string(),
        RunBlocker::TestPlugin => format!(
            "this is an xtp-test plugin (it imports {}): open the plugin it tests, then Tests → Run an xtp-test plugin against this plugin…",
            crate::runner::host::harness::XTP_HARNESS
        ),
        RunBlocker::NoFunction => "pick a function the plugin exports".to_string(),
        RunBlocker::InvalidJson(error) => {
            format!("the input is not valid JSON ({error}); fix it or switch the editor to Raw")
        }
    }
}

/// Why Build cannot start, as a clause ("Cannot build: …").
pub fn build_blocker(blocker: BuildBlocker) -> &'static str {
    match blocker {
        BuildBlocker::Building => "a build is running",
        BuildBlocker::NotACrate => {
            "the open plugin is not a crate's build output (DIR/target/wasm32-…/PROFILE/NAME.wasm beside DIR/Cargo.toml); File → New plugin… makes one"
        }
    }
}

/// Why a suite cannot name the open plugin's module, as a clause.
pub fn no_suite_file(why: NoSuiteFile) -> &'static str {
    match why {
        NoSuiteFile::NoPlugin => "open a plugin first",
        NoSuiteFile::NotAFile => {
            "the plugin has no file of its own (a sample, or embedded in a bundle), and a suite names its .wasm file: open the .wasm, then add the run"
        }
    }
}

/// Why `source` did not open.
pub fn open_failure(source: &Source, error: &OpenError) -> String {
    let label = source.label();
    let error = error.to_string();
    if error.starts_with(&label) {
        format!("Could not open: {error}")
    } else {
        format!("Could not open {label}: {error}")
    }
}

/// What "Check for newer" found, in one line.
pub fn newer(verdict: &NewerVerdict) -> String {
    match (&verdict.latest, verdict.moved()) {
        (Ok(latest), Some(true)) => format!(
            "{} moved: it now points to {latest} (open: {}); open it to pull the newer plugin",
            verdict.tag, verdict.open
        ),
        (Ok(_), _) => format!(
            "{} still points to the plugin open ({})",
            verdict.tag, verdict.open
        ),
        (Err(e), _) => format!("Could not check {}: {e}", verdict.tag),
    }
}

fn capitalized(clause: &str) -> String {
    let mut chars = clause.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
