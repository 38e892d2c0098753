//! xtp-test plugins run offline. An xtp-test plugin is an Extism plugin that exports `test`
//! and imports `xtp:test/harness`; through the harness it calls the plugin under test and
//! reports assertions. This module loads a test plugin and checks it fits the harness, runs it
//! once against a plugin under test on a worker session of its own, and turns what it asserted
//! into the reporters' model ([`Outcome`]). The harness itself runs in the worker, beside the
//! plugins; its semantics (call errors, groups, reset, mock input) are written down in
//! `crate::runner::host::harness`.
//!
//! How a run is reported:
//! - one testcase per assertion, named by the assertion's name, its class the group it was made
//!   in (the test plugin's file outside any group); a failed assertion is a failed testcase
//!   whose failure is the reason the test plugin gave;
//! - a call of the plugin under test that failed is a failed testcase `call NAME` (or
//!   `time NAME`) saying why;
//! - when the `test` export itself fails (a trap, an error, a non-zero return) that is one
//!   more failed testcase, `test`, saying why; the assertions made before it are kept;
//! - a testcase's duration is the time since the previous assertion (or since the run began):
//!   the work that led to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::report::{Case, CaseDetail, Failure, Outcome, SuiteDetail, SuiteOutcome};
use crate::runner::host::harness::{self, XTP_HARNESS};
use crate::runner::{
    Assertion, CallReport, CallRequest, Canceller, ErrorKind, HostData, Inspection, LoadError,
    LoadedPlugin, LogLevel, PluginUnderTest, SandboxOptions, Session, WorkerConfig,
};

/// The export the harness calls.
pub const TEST_EXPORT: &str = "test";

/// Why a test plugin cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum XtpError {
    #[error("{} does not exist; name the xtp-test plugin (.wasm) to run", path.display())]
    Missing { path: PathBuf },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(
        "{} is not a WebAssembly module; an xtp-test plugin is given as its .wasm (a manifest's modules are not followed here)",
        path.display()
    )]
    NotAModule { path: PathBuf },
    #[error(
        "{name} exports no `{TEST_EXPORT}` function, so it is not an xtp-test plugin (those export \
         `{TEST_EXPORT}` and import {XTP_HARNESS}); it exports: {exported}. Give the test plugin \
         first and the plugin under test second"
    )]
    NoTestExport { name: String, exported: String },
    #[error(
        "{name} cannot be linked with this host's {XTP_HARNESS}:\n{}",
        problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
    )]
    Harness { name: String, problems: Vec<String> },
}

/// A test plugin ready to run against a plugin under test.
#[derive(Clone, Debug)]
pub struct XtpSuite {
    /// The test plugin's file, as given.
    pub path: PathBuf,
    pub test: LoadedPlugin,
    pub inspection: Inspection,
    /// The test plugin's own sandbox: WASI (`TinyGo` and JS test plugins need it), nothing else,
    /// and the time limit of the whole run.
    pub options: SandboxOptions,
    pub under_test: PluginUnderTest,
}

/// Reads the test plugin at `path` and checks it exports `test` and imports only what the
/// harness offers.
pub fn load_test_plugin(path: &Path) -> Result<(LoadedPlugin, Inspection), XtpError> {
    if !path.exists() {
        return Err(XtpError::Missing {
            path: path.to_path_buf(),
        });
    }
    // A module only: a manifest's modules could be read from anywhere, with no review here.
    let bytes = crate::platform::files::read(path, crate::platform::files::FileKind::Plugin)
        .map_err(LoadError::from)?;
    if !crate::runner::source::is_wasm(&bytes) {
        return Err(XtpError::NotAModule {
            path: path.to_path_buf(),
        });
    }
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let test = LoadedPlugin::from_wasm_bytes(&name, bytes)?;
    let inspection = Inspection::of(&test.display_name, &test.main().bytes)?;
    if !inspection
        .export(TEST_EXPORT)
        .is_some_and(|export| export.callable)
    {
        let callable = inspection.callable_functions();
        return Err(XtpError::NoTestExport {
            name: test.display_name.clone(),
            exported: if callable.is_empty() {
                "nothing callable".to_string()
            } else {
                callable.join(", ")
            },
        });
    }
    let problems = harness::import_problems(&inspection);
    if !problems.is_empty() {
        return Err(XtpError::Harness {
            name: test.display_name.clone(),
            problems,
        });
    }
    Ok((test, inspection))
}

impl XtpSuite {
    /// The test plugin read from `path` (see [`load_test_plugin`]) against `under_test`.
    /// `timeout_ms` limits the whole run (each call of the plugin under test has its own limit,
    /// in its options).
    pub fn new(
        path: &Path,
        test: LoadedPlugin,
        inspection: Inspection,
        under_test: PluginUnderTest,
        timeout_ms: Option<u64>,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            test,
            inspection,
            options: SandboxOptions {
                wasi: true,
                timeout_ms,
                ..SandboxOptions::default()
            },
            under_test,
        }
    }

    /// The test plugin's file as reports show it.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// A session of the test plugin driving the plugin under test, on a worker of its own.
    pub fn session(&self, worker: WorkerConfig) -> Session {
        Session::xtp(
            self.test.clone(),
            self.inspection.clone(),
            self.options.clone(),
            self.under_test.clone(),
            worker,
        )
    }
}

/// What one run of a test plugin did.
#[derive(Clone, Debug)]
pub struct XtpResult {
    /// The call of `test`: its outcome, logs, host calls (the harness's among them) and
    /// assertions.
    pub report: CallReport,
    pub duration: Duration,
}

/// Runs `suite`'s test plugin once, from fresh instances, keeping logs at `log_level` and
/// above; `stop` ends it early (the `test` export then fails as stopped, keeping the
/// assertions made before).
pub fn run(
    suite: &XtpSuite,
    worker: WorkerConfig,
    log_level: LogLevel,
    stop: &Canceller,
) -> XtpResult {
    let session = suite.session(worker);
    let started = Instant::now();
    let report = session.call_stoppable(
        CallRequest {
            function: TEST_EXPORT.to_string(),
            input: Arc::new(Vec::new()),
            host: HostData::default(),
            log_level,
            fresh_instance: true,
            loops: 1,
            coredump: false,
        },
        stop,
    );
    XtpResult {
        report,
        duration: started.elapsed(),
    }
}

impl XtpResult {
    /// The run as the reporters read it: one case per assertion, one more when `test` failed;
    /// a run that could not start (the plugins could not be loaded in the worker) is a load
    /// error instead.
    pub fn outcome(&self, suite: &XtpSuite) -> Outcome {
        let error = self.report.error.as_ref();
        if let Some(error) = error.filter(|e| e.kind == ErrorKind::Load)
            && self.report.assertions.is_empty()
        {
            return Outcome {
                suites: Vec::new(),
                load_errors: vec![(suite.path.clone(), error.message.clone())],
            };
        }
        let mut cases = Vec::with_capacity(self.report.assertions.len() + 1);
        let mut previous_us = 0;
        for assertion in &self.report.assertions {
            let since = assertion.offset_us.saturating_sub(previous_us);
            previous_us = assertion.offset_us;
            cases.push(case_of(assertion, Duration::from_micros(since)));
        }
        if let Some(error) = error {
            let text = format!(
                "the {TEST_EXPORT} export failed ({}): {}",
                error.kind, error.message
            );
            cases.push(Case {
                name: TEST_EXPORT.to_string(),
                group: None,
                passed: false,
                duration: self
                    .duration
                    .saturating_sub(Duration::from_micros(previous_us)),
                failure: Some(Failure {
                    text: text.clone(),
                    step: None,
                }),
                assertions: 0,
                detail: CaseDetail::Assertion { message: text },
            });
        }
        let mut notes = Vec::new();
        if cases.is_empty() {
            notes.push(format!("{} made no assertions", suite.test.display_name));
        }
        Outcome {
            suites: vec![SuiteOutcome {
                name: suite.name(),
                plugin: suite.under_test.plugin.display_name.clone(),
                notes,
                detail: SuiteDetail::Xtp {
                    error: error.cloned(),
                    duration: self.duration,
                    logs: self.report.logs.clone(),
                },
                cases,
            }],
            load_errors: Vec::new(),
        }
    }
}

/// One assertion as a case.
fn case_of(assertion: &Assertion, duration: Duration) -> Case {
    Case {
        name: assertion.name.clone(),
        group: assertion.group.clone(),
        passed: assertion.passed,
        duration,
        failure: (!assertion.passed).then(|| Failure {
            text: if assertion.message.trim().is_empty() {
                "the assertion failed (the test plugin gave no reason)".to_string()
            } else {
                assertion.message.clone()
            },
            step: None,
        }),
        assertions: 1,
        detail: CaseDetail::Assertion {
            message: assertion.message.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::HostRegistry;
    use crate::runner::report::CallError;

    fn plugin(name: &str, wat: &str) -> (LoadedPlugin, Inspection) {
        let plugin = LoadedPlugin::from_wasm_bytes(name, wat::parse_str(wat).unwrap()).unwrap();
        let inspection = Inspection::of(name, &plugin.main().bytes).unwrap();
        (plugin, inspection)
    }

    fn suite() -> XtpSuite {
        let (test, inspection) = plugin(
            "t.wasm",
            r#"(module (func (export "test") (result i32) i32.const 0))"#,
        );
        let (under, under_inspection) = plugin(
            "p.wasm",
            r#"(module (func (export "greet") (result i32) i32.const 0))"#,
        );
        XtpSuite::new(
            Path::new("dir/t.wasm"),
            test,
            inspection,
            PluginUnderTest {
                plugin: under,
                inspection: under_inspection,
                options: SandboxOptions::default(),
                host: HostRegistry::builtin(),
                mock_input: None,
            },
            Some(1000),
        )
    }

    fn assertion(group: Option<&str>, name: &str, passed: bool, offset_us: u64) -> Assertion {
        Assertion {
            group: group.map(str::to_string),
            name: name.to_string(),
            passed,
            message: if passed { "fine" } else { "" }.to_string(),
            offset_us,
        }
    }

    #[test]
    fn assertions_become_cases_timed_from_the_one_before() {
        let result = XtpResult {
            report: CallReport {
                assertions: vec![
                    assertion(None, "a", true, 100),
                    assertion(Some("g"), "b", false, 350),
                ],
                error: Some(CallError::new(ErrorKind::Trap, "boom")),
                ..CallReport::default()
            },
            duration: Duration::from_millis(1),
        };
        let outcome = result.outcome(&suite());
        assert!(outcome.load_errors.is_empty());
        let suite = &outcome.suites[0];
        assert_eq!(
            (suite.name.as_str(), suite.plugin.as_str()),
            ("dir/t.wasm", "p.wasm")
        );
        let got: Vec<_> = suite
            .cases
            .iter()
            .map(|c| {
                (
                    c.group.as_deref(),
                    c.name.as_str(),
                    c.passed,
                    c.duration.as_micros(),
                    c.failure.as_ref().map(|f| f.text.as_str()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (None, "a", true, 100, None),
                (
                    Some("g"),
                    "b",
                    false,
                    250,
                    Some("the assertion failed (the test plugin gave no reason)")
                ),
                (
                    None,
                    "test",
                    false,
                    650,
                    Some("the test export failed (trap): boom")
                ),
            ]
        );
        assert_eq!(
            (outcome.passed(), outcome.failed(), outcome.exit_code()),
            (1, 2, 1)
        );
    }

    #[test]
    fn a_run_that_could_not_load_is_a_load_error_and_one_without_assertions_a_note() {
        let suite = suite();
        let failed = XtpResult {
            report: CallReport::failed("test", ErrorKind::Load, "cannot load"),
            duration: Duration::ZERO,
        };
        let outcome = failed.outcome(&suite);
        assert!(outcome.suites.is_empty());
        assert_eq!(
            outcome.load_errors,
            [(PathBuf::from("dir/t.wasm"), "cannot load".to_string())]
        );
        assert_eq!(outcome.exit_code(), 2);

        let empty = XtpResult {
            report: CallReport::default(),
            duration: Duration::ZERO,
        };
        let outcome = empty.outcome(&suite);
        assert_eq!(outcome.suites[0].notes, ["t.wasm made no assertions"]);
        assert_eq!(outcome.exit_code(), 0);
    }
}
