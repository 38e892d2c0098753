//! `test`: suites and bundles run as CI runs them, and xtp-test plugins against plugins.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

use crate::runner::{PluginUnderTest, WorkerConfig};

use super::args::{HostFnArgs, SandboxArgs, TestArgs};
use super::plugin::{file_options, host_definitions, open_file};
use super::report::print_logs;
use super::{EXIT_USAGE, reference_of, usage_error};

pub(super) fn test(args: &TestArgs) -> ExitCode {
    use crate::suite::{self, Selection, file, report};
    use std::fmt::Write as _;
    let worker = match WorkerConfig::current_exe() {
        Ok(worker) => WorkerConfig {
            coredumps: false,
            ..worker
        },
        Err(e) => return usage_error(&anyhow::Error::new(e)),
    };
    let named = match (&args.xtp, args.paths.as_slice()) {
        (Some(_), [only]) => reference_of(only),
        _ => None,
    };
    let registry = match args.registry.settings(named.as_ref()) {
        Ok(settings) => settings,
        Err(e) => return usage_error(&e),
    };
    if let Some(test) = &args.xtp {
        return test_xtp(args, test, &worker, &registry);
    }
    if args.sandbox != SandboxArgs::default() || args.host_functions != HostFnArgs::default() {
        return usage_error(&anyhow::anyhow!(
            "the sandbox and host function flags (--wasi, --config, --timeout, --host-fn, \
             --mock-host, …) set up the plugin under test of an --xtp run; a suite names its \
             plugin's sandbox and host functions in its file"
        ));
    }
    let redirects = match args.consent.redirects() {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let options = file::LoadOptions {
        plugin: args.plugin.clone(),
        redirects,
        registry,
        consent: if args.consent.trust {
            file::Consent::Trust
        } else if args.consent.no_grants {
            file::Consent::WithoutGrants
        } else {
            file::Consent::Ask
        },
    };
    let mut summary = report::Summary::default();
    let discovered = file::discover(&args.paths);
    for skipped in &discovered.skipped {
        eprintln!("note: {skipped}");
    }
    for found in discovered.files {
        let loaded = found
            .map_err(|e| (None, e))
            .and_then(|path| file::load(&path, &options).map_err(|e| (Some(path), e)));
        match loaded {
            Ok(suite) => summary.suites.push(suite),
            Err((path, e)) => {
                let path = match (&e, path) {
                    (file::SuiteError::Missing { path } | file::SuiteError::Empty { path }, _) => {
                        path.clone()
                    }
                    (_, Some(path)) => path,
                    (_, None) => PathBuf::new(),
                };
                summary.load_errors.push((path, e.to_string()));
            }
        }
    }
    let picked = Selection {
        filter: args.filter.clone(),
        shard: args.shard,
    }
    .pick(&summary.suites);
    let jobs = args.jobs.map_or_else(suite::default_jobs, usize::from);
    if !args.json {
        let total: usize = summary.suites.iter().map(|s| s.tests.len()).sum();
        let mut line = format!(
            "running {} of {} tests from {} suites on {} jobs",
            picked.len(),
            total,
            summary.suites.len(),
            jobs.min(picked.len().max(1))
        );
        if let Some(shard) = args.shard {
            let _ = write!(line, " (shard {}/{})", shard.index, shard.count);
        }
        if let Some(filter) = &args.filter {
            let _ = write!(line, " (names containing {filter:?})");
        }
        eprintln!("{line}");
    }
    let stop = crate::runner::Canceller::default();
    summary.results = suite::run(&summary.suites, &picked, jobs, &worker, &stop, &|_| {});
    report_outcome(&summary.outcome(), args)
}

/// `test --xtp TEST.wasm PLUGIN…`: the test plugin run against each plugin in turn.
pub(super) fn test_xtp(
    args: &TestArgs,
    test: &Path,
    worker: &WorkerConfig,
    registry: &crate::registry::Settings,
) -> ExitCode {
    use crate::suite::report::Outcome;
    use crate::suite::xtp::{self, XtpSuite};
    let mut outcome = Outcome::default();
    let (plugin, inspection) = match xtp::load_test_plugin(test) {
        Ok(loaded) => loaded,
        Err(e) => {
            outcome
                .load_errors
                .push((test.to_path_buf(), e.to_string()));
            return report_outcome(&outcome, args);
        }
    };
    let log_level = args.log_level.unwrap_or_default();
    for path in &args.paths {
        let suite = match plugin_under_test(args, path, registry) {
            Ok(under_test) => XtpSuite::new(
                test,
                plugin.clone(),
                inspection.clone(),
                under_test,
                args.test_timeout,
            ),
            Err(e) => {
                outcome.load_errors.push((path.clone(), format!("{e:#}")));
                continue;
            }
        };
        if !args.json {
            eprintln!(
                "running {} against {}",
                suite.test.display_name, suite.under_test.plugin.display_name
            );
        }
        let result = xtp::run(
            &suite,
            worker.clone(),
            log_level,
            &crate::runner::Canceller::default(),
        );
        if !args.json {
            print_logs(&result.report);
        }
        outcome.append(result.outcome(&suite));
    }
    report_outcome(&outcome, args)
}

/// The plugin under test at `path` for `test --xtp`: its sandbox (the file's, with the flags
/// over it), its host functions, the mock input, and every import checked.
pub(super) fn plugin_under_test(
    args: &TestArgs,
    path: &Path,
    registry: &crate::registry::Settings,
) -> anyhow::Result<PluginUnderTest> {
    if !path.exists() && !path.to_str().is_some_and(crate::registry::is_reference) {
        bail!(
            "{} does not exist; name the plugin under test (a .wasm or Extism manifest) after the test plugin",
            path.display()
        );
    }
    let opened = open_file(path, &args.consent, registry)?;
    let options = args.sandbox.apply(file_options(&opened))?;
    let (host, _) = host_definitions(&args.host_functions, &opened, &options, &args.consent)?;
    let mock_input = match (&args.mock_input_data, &args.mock_input_file) {
        (Some(text), _) => Some(text.clone().into_bytes()),
        (None, Some(file)) => Some(crate::platform::files::read(
            file,
            crate::platform::files::FileKind::Input,
        )?),
        (None, None) => None,
    };
    let under_test = PluginUnderTest {
        plugin: opened.plugin,
        inspection: opened.inspection,
        options,
        host,
        mock_input,
    };
    under_test.check()?;
    Ok(under_test)
}

/// Prints a test run's outcome (JSON or text), writes its JUnit report when asked, and returns
/// the exit code.
pub(super) fn report_outcome(outcome: &crate::suite::report::Outcome, args: &TestArgs) -> ExitCode {
    use crate::suite::report;
    if args.json {
        println!("{}", report::json(outcome));
    } else {
        print!("{}", report::text(outcome));
    }
    if let Some(path) = &args.junit
        && let Err(e) =
            crate::platform::files::write_atomically(path, report::junit(outcome).as_bytes())
    {
        eprintln!(
            "error: cannot write the JUnit report to {}: {e}",
            path.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    ExitCode::from(outcome.exit_code())
}
