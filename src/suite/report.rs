//! A finished run told three ways: text for people (each failure with its step, expected vs
//! actual and a diff), JSON for scripts, and JUnit XML (one testsuite per file, one testcase
//! per test) for CI systems.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use super::{Suite, TestResult};

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
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }

    /// The results of suite `s`, in test order.
    fn results_of(&self, s: usize) -> impl Iterator<Item = &TestResult> {
        self.results.iter().filter(move |r| r.suite == s)
    }

    /// The process exit code: 2 when any file could not be loaded, else 1 when any test
    /// failed, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.load_errors.is_empty() {
            u8::from(self.failed() > 0)
        } else {
            2
        }
    }
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
pub fn text(summary: &Summary) -> String {
    let mut out = String::new();
    for (s, suite) in summary.suites.iter().enumerate() {
        let mut results = summary.results_of(s).peekable();
        if results.peek().is_none() {
            continue;
        }
        let _ = writeln!(out, "{} ({})", suite.name(), suite.plugin.display_name);
        if !suite.ignored_host_functions.is_empty() {
            let _ = writeln!(
                out,
                "  note: {} does not import these host functions the suite defines; they are ignored: {}",
                suite.plugin.display_name,
                suite.ignored_host_functions.join(", ")
            );
        }
        for result in results {
            let name = &suite.tests[result.test].name;
            if result.passed() {
                let _ = writeln!(out, "  ok      {name} ({})", ms(result.duration));
            } else {
                let _ = writeln!(out, "  FAILED  {name} ({})", ms(result.duration));
                out.push_str(&indent(&failure_text(suite, result), "          "));
            }
        }
    }
    for (path, error) in &summary.load_errors {
        let _ = writeln!(out, "{}: could not be loaded", path.display());
        out.push_str(&indent(error, "  "));
    }
    let (passed, failed) = (summary.passed(), summary.failed());
    let verdict = if summary.exit_code() == 0 {
        "ok"
    } else {
        "FAILED"
    };
    let _ = write!(
        out,
        "\ntest result: {verdict}. {passed} passed; {failed} failed"
    );
    match summary.load_errors.len() {
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
    file: String,
    plugin: &'a str,
    ignored_host_functions: &'a [String],
    tests: Vec<JsonTest<'a>>,
}

#[derive(Serialize)]
struct JsonTest<'a> {
    name: &'a str,
    passed: bool,
    duration_ms: f64,
    /// Why it failed: the step (1-based) and the account of the difference.
    failure: Option<JsonFailure>,
    steps: Vec<JsonStep<'a>>,
}

#[derive(Serialize)]
struct JsonFailure {
    step: usize,
    message: String,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    function: &'a str,
    passed: bool,
    call_ms: f64,
    /// The output as text (when it is UTF-8).
    output: Option<&'a str>,
    error: Option<&'a crate::runner::report::CallError>,
}

/// The report for scripts.
pub fn json(summary: &Summary) -> String {
    let suites = summary
        .suites
        .iter()
        .enumerate()
        .filter(|(s, _)| summary.results_of(*s).next().is_some())
        .map(|(s, suite)| JsonSuite {
            file: suite.name(),
            plugin: &suite.plugin.display_name,
            ignored_host_functions: &suite.ignored_host_functions,
            tests: summary
                .results_of(s)
                .map(|r| {
                    let test = &suite.tests[r.test];
                    JsonTest {
                        name: &test.name,
                        passed: r.passed(),
                        duration_ms: r.duration.as_secs_f64() * 1000.0,
                        failure: (!r.passed()).then(|| JsonFailure {
                            step: r.first_failure().map_or(r.steps.len() + 1, |(i, _)| i + 1),
                            message: failure_text(suite, r),
                        }),
                        steps: r
                            .steps
                            .iter()
                            .zip(&test.steps)
                            .map(|(result, step)| JsonStep {
                                function: &step.function,
                                passed: result.passed(),
                                call_ms: result.report.timings.call_ms,
                                output: std::str::from_utf8(&result.report.output).ok(),
                                error: result.report.error.as_ref(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect();
    let summary = JsonSummary {
        passed: summary.passed(),
        failed: summary.failed(),
        load_errors: summary
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

/// The report for CI: JUnit XML.
pub fn junit(summary: &Summary) -> String {
    let mut report = Report::new("extism-playground");
    for (s, suite) in summary.suites.iter().enumerate() {
        let mut results = summary.results_of(s).peekable();
        if results.peek().is_none() {
            continue;
        }
        let mut junit_suite = TestSuite::new(suite.name());
        let mut total = Duration::ZERO;
        for result in results {
            let test = &suite.tests[result.test];
            let status = if result.passed() {
                TestCaseStatus::success()
            } else {
                let why = failure_text(suite, result);
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(why.lines().next().unwrap_or_default())
                    .set_description(why);
                status
            };
            let mut case = TestCase::new(test.name.as_str(), status);
            case.set_classname(suite.name())
                .set_time(result.duration)
                .set_assertions(result.steps.iter().filter(|s| s.verdict.is_some()).count());
            total += result.duration;
            junit_suite.add_test_case(case);
        }
        junit_suite.set_time(total);
        report.add_test_suite(junit_suite);
    }
    for (path, error) in &summary.load_errors {
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
