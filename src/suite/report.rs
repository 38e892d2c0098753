//! A finished run told three ways: text for people (each failure with its step, expected vs
//! actual and a diff), JSON for scripts, and JUnit XML (one testsuite per file, one testcase
//! per test) for CI systems. The reporters read a small neutral model, [`Outcome`] (suites of
//! cases: name, class, passed, duration, failure text), which a suite run ([`Summary`]) and an
//! xtp-test run (`super::xtp`) both convert into, so each kind of run is told the same way.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use super::{Suite, TestResult};
use crate::runner::LogEntry;
use crate::runner::report::CallError;

/// Everything a run produced: the suites that loaded, the files that did not, and the result
/// of every test that ran (in suite and file order).
#[derive(Debug, Default)]
pub struct Summary {
    pub suites: Vec<Suite>,
    /// Files that could not be loaded, with why.
    pub load_errors: Vec<(PathBuf, String)>,
    pub results: Vec<TestResult>,
}

impl Summary {
    /// The results of suite `s`, in test order.
    fn results_of(&self, s: usize) -> impl Iterator<Item = &TestResult> {
        self.results.iter().filter(move |r| r.suite == s)
    }

    /// The run as the reporters read it: one suite per file that ran tests, one case per test.
    pub fn outcome(&self) -> Outcome {
        let suites = self
            .suites
            .iter()
            .enumerate()
            .filter(|(s, _)| self.results_of(*s).next().is_some())
            .map(|(s, suite)| SuiteOutcome {
                name: suite.name(),
                plugin: suite.plugin.display_name.clone(),
                notes: if suite.ignored_host_functions.is_empty() {
                    Vec::new()
                } else {
                    vec![format!(
                        "{} does not import these host functions the suite defines; they are ignored: {}",
                        suite.plugin.display_name,
                        suite.ignored_host_functions.join(", ")
                    )]
                },
                detail: SuiteDetail::Suite {
                    ignored_host_functions: suite.ignored_host_functions.clone(),
                },
                cases: self.results_of(s).map(|r| case_of(suite, r)).collect(),
            })
            .collect();
        Outcome {
            suites,
            load_errors: self.load_errors.clone(),
        }
    }
}

/// One test of a suite as a case.
fn case_of(suite: &Suite, result: &TestResult) -> Case {
    let test = &suite.tests[result.test];
    let passed = result.passed();
    Case {
        name: test.name.clone(),
        group: None,
        passed,
        duration: result.duration,
        failure: (!passed).then(|| Failure {
            step: Some(
                result
                    .first_failure()
                    .map_or(result.steps.len() + 1, |(i, _)| i + 1),
            ),
            text: failure_text(suite, result),
        }),
        assertions: result.steps.iter().filter(|s| s.verdict.is_some()).count(),
        detail: CaseDetail::Steps(
            result
                .steps
                .iter()
                .zip(&test.steps)
                .map(|(result, step)| StepOutcome {
                    function: step.function.clone(),
                    passed: result.passed(),
                    call_ms: result.report.timings.call_ms,
                    output: std::str::from_utf8(&result.report.output)
                        .ok()
                        .map(str::to_string),
                    error: result.report.error.clone(),
                })
                .collect(),
        ),
    }
}

/// A finished run as the reporters read it: suites of cases, and the files that could not be
/// loaded.
#[derive(Debug, Default)]
pub struct Outcome {
    pub suites: Vec<SuiteOutcome>,
    /// Files that could not be loaded, with why.
    pub load_errors: Vec<(PathBuf, String)>,
}

impl Outcome {
    /// Adds `other`'s suites and load errors after this one's.
    pub fn append(&mut self, other: Self) {
        self.suites.extend(other.suites);
        self.load_errors.extend(other.load_errors);
    }

    pub fn passed(&self) -> usize {
        self.cases().filter(|c| c.passed).count()
    }

    pub fn failed(&self) -> usize {
        self.cases().filter(|c| !c.passed).count()
    }

    fn cases(&self) -> impl Iterator<Item = &Case> {
        self.suites.iter().flat_map(|s| &s.cases)
    }

    /// The process exit code: 2 when anything could not be loaded, else 1 when any case
    /// failed, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.load_errors.is_empty() {
            u8::from(self.failed() > 0)
        } else {
            2
        }
    }
}

/// One suite file, or one xtp-test plugin run against one plugin.
#[derive(Debug)]
pub struct SuiteOutcome {
    /// The file, as given or found (the test plugin's, for an xtp run).
    pub name: String,
    /// The plugin it ran (the plugin under test, for an xtp run).
    pub plugin: String,
    /// Lines the text report shows under the heading, as notes.
    pub notes: Vec<String>,
    pub detail: SuiteDetail,
    pub cases: Vec<Case>,
}

/// What a suite says beyond its cases, by kind of run.
#[derive(Debug)]
pub enum SuiteDetail {
    /// A suite file or bundle.
    Suite {
        /// Host functions it defines that its plugin does not import.
        ignored_host_functions: Vec<String>,
    },
    /// An xtp-test plugin's run.
    Xtp {
        /// How the `test` export ended: `None` when it returned 0.
        error: Option<CallError>,
        /// How long the `test` export ran.
        duration: Duration,
        /// What the test plugin and the plugin under test logged.
        logs: Vec<LogEntry>,
    },
}

/// One testcase: a test of a suite, or an assertion of an xtp run.
#[derive(Debug)]
pub struct Case {
    pub name: String,
    /// The xtp group it was made in: shown before its name, and its JUnit class (else the
    /// suite's name is).
    pub group: Option<String>,
    pub passed: bool,
    pub duration: Duration,
    /// Why it failed.
    pub failure: Option<Failure>,
    /// How many checks it made (JUnit's `assertions`).
    pub assertions: usize,
    pub detail: CaseDetail,
}

/// Why a case failed.
#[derive(Debug)]
pub struct Failure {
    /// For people; the first line is the summary.
    pub text: String,
    /// The step (1-based) a suite test failed at.
    pub step: Option<usize>,
}

/// What a case says beyond its outcome, by kind of run.
#[derive(Debug)]
pub enum CaseDetail {
    /// A suite test's steps, in order.
    Steps(Vec<StepOutcome>),
    /// An xtp assertion (or the `test` export's own failure) and the message it carried.
    Assertion { message: String },
}

/// One step of a suite test.
#[derive(Debug)]
pub struct StepOutcome {
    pub function: String,
    pub passed: bool,
    pub call_ms: f64,
    /// The output as text (when it is UTF-8).
    pub output: Option<String>,
    pub error: Option<CallError>,
}

/// What went wrong in a failed test: "step 2 of 3 (count): …".
pub fn failure_text(suite: &Suite, result: &TestResult) -> String {
    let test = &suite.tests[result.test];
    if result.stopped {
        return format!(
            "stopped after {} of {} steps",
            result.steps.len(),
            test.steps.len()
        );
    }
    match result.first_failure() {
        Some((i, why)) => format!(
            "step {} of {} ({}): {why}",
            i + 1,
            test.steps.len(),
            test.steps[i].function
        ),
        None => String::new(),
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().fold(String::new(), |mut out, line| {
        let _ = writeln!(out, "{by}{line}");
        out
    })
}

/// The report for people.
pub fn text(outcome: &Outcome) -> String {
    let mut out = String::new();
    for suite in &outcome.suites {
        let _ = writeln!(out, "{} ({})", suite.name, suite.plugin);
        for note in &suite.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        for case in &suite.cases {
            let name = match &case.group {
                Some(group) => format!("{group} › {}", case.name),
                None => case.name.clone(),
            };
            if case.passed {
                let _ = writeln!(out, "  ok      {name} ({})", ms(case.duration));
            } else {
                let _ = writeln!(out, "  FAILED  {name} ({})", ms(case.duration));
                let why = case.failure.as_ref().map_or("", |f| f.text.as_str());
                out.push_str(&indent(why, "          "));
            }
        }
    }
    for (path, error) in &outcome.load_errors {
        let _ = writeln!(out, "{}: could not be loaded", path.display());
        out.push_str(&indent(error, "  "));
    }
    let (passed, failed) = (outcome.passed(), outcome.failed());
    let verdict = if outcome.exit_code() == 0 {
        "ok"
    } else {
        "FAILED"
    };
    let _ = write!(
        out,
        "\ntest result: {verdict}. {passed} passed; {failed} failed"
    );
    match outcome.load_errors.len() {
        0 => {}
        1 => out.push_str("; 1 file could not be loaded"),
        n => {
            let _ = write!(out, "; {n} files could not be loaded");
        }
    }
    out.push('\n');
    out
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    passed: usize,
    failed: usize,
    load_errors: Vec<JsonLoadError<'a>>,
    suites: Vec<JsonSuite<'a>>,
}

#[derive(Serialize)]
struct JsonLoadError<'a> {
    file: String,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonSuite<'a> {
    file: &'a str,
    plugin: &'a str,
    #[serde(flatten)]
    detail: JsonSuiteDetail<'a>,
    tests: Vec<JsonTest<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum JsonSuiteDetail<'a> {
    Suite {
        ignored_host_functions: &'a [String],
    },
    Xtp {
        /// How the `test` export ended.
        test_export: JsonTestExport<'a>,
        logs: &'a [LogEntry],
    },
}

#[derive(Serialize)]
struct JsonTestExport<'a> {
    ok: bool,
    error: Option<&'a CallError>,
    duration_ms: f64,
}

#[derive(Serialize)]
struct JsonTest<'a> {
    name: &'a str,
    passed: bool,
    duration_ms: f64,
    /// Why it failed: the step (1-based, for suite tests) and the account of the difference.
    failure: Option<JsonFailure<'a>>,
    #[serde(flatten)]
    detail: JsonCaseDetail<'a>,
}

#[derive(Serialize)]
struct JsonFailure<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<usize>,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum JsonCaseDetail<'a> {
    Steps {
        steps: Vec<JsonStep<'a>>,
    },
    Assertion {
        group: Option<&'a str>,
        message: &'a str,
    },
}

#[derive(Serialize)]
struct JsonStep<'a> {
    function: &'a str,
    passed: bool,
    call_ms: f64,
    /// The output as text (when it is UTF-8).
    output: Option<&'a str>,
    error: Option<&'a CallError>,
}

fn json_case(case: &Case) -> JsonTest<'_> {
    JsonTest {
        name: &case.name,
        passed: case.passed,
        duration_ms: case.duration.as_secs_f64() * 1000.0,
        failure: case.failure.as_ref().map(|f| JsonFailure {
            step: f.step,
            message: &f.text,
        }),
        detail: match &case.detail {
            CaseDetail::Steps(steps) => JsonCaseDetail::Steps {
                steps: steps
                    .iter()
                    .map(|step| JsonStep {
                        function: &step.function,
                        passed: step.passed,
                        call_ms: step.call_ms,
                        output: step.output.as_deref(),
                        error: step.error.as_ref(),
                    })
                    .collect(),
            },
            CaseDetail::Assertion { message } => JsonCaseDetail::Assertion {
                group: case.group.as_deref(),
                message,
            },
        },
    }
}

/// The report for scripts.
pub fn json(outcome: &Outcome) -> String {
    let suites = outcome
        .suites
        .iter()
        .map(|suite| JsonSuite {
            file: &suite.name,
            plugin: &suite.plugin,
            detail: match &suite.detail {
                SuiteDetail::Suite {
                    ignored_host_functions,
                } => JsonSuiteDetail::Suite {
                    ignored_host_functions,
                },
                SuiteDetail::Xtp {
                    error,
                    duration,
                    logs,
                } => JsonSuiteDetail::Xtp {
                    test_export: JsonTestExport {
                        ok: error.is_none(),
                        error: error.as_ref(),
                        duration_ms: duration.as_secs_f64() * 1000.0,
                    },
                    logs,
                },
            },
            tests: suite.cases.iter().map(json_case).collect(),
        })
        .collect();
    let summary = JsonSummary {
        passed: outcome.passed(),
        failed: outcome.failed(),
        load_errors: outcome
            .load_errors
            .iter()
            .map(|(path, message)| JsonLoadError {
                file: path.display().to_string(),
                message,
            })
            .collect(),
        suites,
    };
    serde_json::to_string_pretty(&summary).expect("the summary serializes")
}

/// The report for CI: JUnit XML, one testsuite per suite, one testcase per case (its class the
/// case's group, else the suite's name).
pub fn junit(outcome: &Outcome) -> String {
    let mut report = Report::new("extism-playground");
    for suite in &outcome.suites {
        let mut junit_suite = TestSuite::new(suite.name.as_str());
        let mut total = Duration::ZERO;
        for case in &suite.cases {
            let status = match (&case.failure, case.passed) {
                (_, true) => TestCaseStatus::success(),
                (failure, false) => {
                    let why = failure.as_ref().map_or("", |f| f.text.as_str());
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message(why.lines().next().unwrap_or_default())
                        .set_description(why);
                    status
                }
            };
            let mut test_case = TestCase::new(case.name.as_str(), status);
            test_case
                .set_classname(case.group.as_deref().unwrap_or(&suite.name))
                .set_time(case.duration)
                .set_assertions(case.assertions);
            total += case.duration;
            junit_suite.add_test_case(test_case);
        }
        junit_suite.set_time(total);
        report.add_test_suite(junit_suite);
    }
    for (path, error) in &outcome.load_errors {
        let name = path.display().to_string();
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message(format!("{name} could not be loaded"))
            .set_description(error.as_str());
        let mut case = TestCase::new("(load the suite)", status);
        case.set_classname(name.as_str());
        let mut junit_suite = TestSuite::new(name);
        junit_suite.add_test_case(case);
        report.add_test_suite(junit_suite);
    }
    report.to_string().expect("JUnit XML serializes")
}
