//! `replay`: a bundle or session run again and compared with what it expected.

use std::process::ExitCode;

use serde::Serialize;

use crate::bundle::Verdict;
use crate::open::{self, Opened, Setup};
use crate::runner::{ErrorKind, HostRegistry, Session, WorkerConfig};

use super::args::ReplayArgs;
use super::plugin::decide;
use super::report::{JsonReport, print_logs};
use super::{EXIT_PLUGIN_FAILED, EXIT_USAGE, key_value, usage_error};

/// The `--json` result of `replay`.
#[derive(Serialize)]
pub(super) struct JsonReplay<'a> {
    /// Whether every step matched.
    matched: bool,
    /// Why the first step that differs did not match (a diff for outputs).
    mismatch: Option<&'a str>,
    /// The report of the first step that differs, else of the last step.
    report: JsonReport<'a>,
    steps: Vec<JsonReplayStep<'a>>,
}

#[derive(Serialize)]
pub(super) struct JsonReplayStep<'a> {
    function: &'a str,
    matched: bool,
    mismatch: Option<String>,
    report: JsonReport<'a>,
}

#[allow(clippy::too_many_lines)] // one sequence: open, check, run, tell; split, it reads worse
pub(super) fn replay(args: &ReplayArgs) -> ExitCode {
    // Anything that is not a bundle this build reads is explained as such, before any review.
    let opened = open::read_bundle(&args.bundle)
        .map_err(anyhow::Error::new)
        .and_then(|read| decide(read, &args.consent, &crate::registry::Settings::default()));
    let Opened {
        plugin,
        inspection,
        setup,
        ..
    } = match opened {
        Ok(opened) => opened,
        Err(e) => return usage_error(&e),
    };
    let Setup::Scenario(mut scenario) = setup else {
        unreachable!("a file that parses as a bundle opens as a scenario")
    };
    for s in &args.secrets {
        match key_value(s, "--secret") {
            Ok((k, v)) => {
                scenario.host.secrets.insert(k, v);
            }
            Err(e) => return usage_error(&e),
        }
    }
    let (host, problems) =
        HostRegistry::with_definitions(&scenario.host_functions, &inspection.imports);
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        return usage_error(&anyhow::anyhow!(
            "the bundle's host function definitions do not fit its plugin:\n{}",
            lines.join("\n")
        ));
    }
    let session = match WorkerConfig::current_exe()
        .map(|worker| {
            let worker = WorkerConfig {
                coredumps: false,
                ..worker
            };
            Session::inspected(plugin, inspection, scenario.options.clone(), host, worker)
        })
        .map_err(anyhow::Error::new)
        .and_then(|session| {
            // Every step's function, before anything runs: a bundle naming a function its
            // plugin does not export cannot be replayed as written.
            let many = scenario.steps.len() > 1;
            for (i, step) in scenario.steps.iter().enumerate() {
                session.check_call(&step.function).map_err(|e| {
                    let e = anyhow::Error::new(e);
                    if many {
                        e.context(format!("step {} of {}", i + 1, scenario.steps.len()))
                    } else {
                        e
                    }
                })?;
            }
            Ok(session)
        }) {
        Ok(session) => session,
        Err(e) => return usage_error(&e),
    };
    let test = crate::suite::Test {
        name: args.bundle.display().to_string(),
        fresh_instance: !scenario.keep_state,
        steps: scenario.steps.clone(),
    };
    let stop = crate::runner::Canceller::default();
    let results = crate::suite::run_steps(&session, &scenario.host, &test, false, &stop).steps;
    let first_failure = results.iter().position(|r| !r.passed());
    let many = results.len() > 1;
    if args.json {
        let steps: Vec<JsonReplayStep> = results
            .iter()
            .zip(&test.steps)
            .map(|(r, step)| JsonReplayStep {
                function: &step.function,
                matched: r.passed(),
                mismatch: r.failure(),
                report: JsonReport::of(&r.report),
            })
            .collect();
        let shown = first_failure.unwrap_or(results.len() - 1);
        let mismatch = first_failure.and_then(|i| results[i].failure());
        let result = JsonReplay {
            matched: first_failure.is_none(),
            mismatch: mismatch.as_deref(),
            report: JsonReport::of(&results[shown].report),
            steps,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&result).unwrap_or_default()
        );
    } else {
        for (i, (result, step)) in results.iter().zip(&test.steps).enumerate() {
            if many {
                println!("step {} of {} ({}):", i + 1, results.len(), step.function);
            }
            print_logs(&result.report);
            let report = &result.report;
            match &result.verdict {
                Some(Verdict::Match) => println!(
                    "match: {} produced the expected {}",
                    step.function,
                    match report.error_kind() {
                        Some(kind) => format!("{kind} error"),
                        None => format!("output ({} bytes)", report.output.len()),
                    }
                ),
                Some(Verdict::Mismatch(why)) => println!("mismatch: {why}"),
                None => {
                    println!(
                        "{} ran; the bundle records no expected output to compare",
                        step.function
                    );
                    if let Some(error) = &report.error {
                        println!("error ({}): {}", error.kind, error.message);
                    }
                }
            }
        }
        if many {
            match first_failure {
                None => println!("all {} steps match", results.len()),
                Some(i) => println!(
                    "{} of {} steps match; the first that differs is step {} ({})",
                    results.iter().filter(|r| r.passed()).count(),
                    results.len(),
                    i + 1,
                    test.steps[i].function
                ),
            }
        }
    }
    let unloadable = results.iter().any(|r| {
        r.report.error_kind() == Some(ErrorKind::Load)
            && !r.verdict.as_ref().is_some_and(|v| *v == Verdict::Match)
    });
    if unloadable {
        // The plugin could not be loaded or called at all: that is the bundle's problem, not a
        // mismatch.
        return ExitCode::from(EXIT_USAGE);
    }
    if first_failure.is_some() {
        ExitCode::from(EXIT_PLUGIN_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
