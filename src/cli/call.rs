//! `call`: one call (or a loop, or a limit search) with its report, and the bundle it saves.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::bundle::{self, Bundle, ExpectedOutcome, Scenario, Step};
use crate::open::{self};
use crate::runner::host::HostFnDef;
use crate::runner::{CallReport, CallRequest, ErrorKind, Session};
use crate::trust::TrustStore;

use super::args::CallArgs;
use super::plugin::{Prepared, prepare};
use super::report::print_report;
use super::{EXIT_PLUGIN_FAILED, EXIT_USAGE, exit_code};

pub(super) fn call(args: &CallArgs) -> ExitCode {
    let (mut report, prepared) = match prepare(args) {
        Ok(prepared) => {
            let report = prepared.session.call_blocking(prepared.request.clone());
            (report, Some(prepared))
        }
        Err(e) => (
            CallReport::failed(&args.function, ErrorKind::Load, format!("{e:#}")),
            None,
        ),
    };
    let limits = match (&prepared, args.find_limits) {
        (
            Some(Prepared {
                session, request, ..
            }),
            true,
        ) => match find_limits(session, request, args.json) {
            Ok(found) => Some(found),
            Err(code) => return code,
        },
        _ => None,
    };
    let coredump = report.coredump.take();
    let pin = prepared
        .as_ref()
        .and_then(|p| p.session.plugin().registry_pin().cloned());
    print_report(
        &report,
        args.json,
        limits.as_ref().map(|f| &f.limits),
        pin.as_ref(),
    );
    if let Some(found) = &limits
        && !args.json
    {
        eprint!("\n{}", found.summary());
    }
    if let Some(path) = &args.coredump {
        match &coredump {
            Some(bytes) => {
                if let Err(e) = crate::platform::files::write_private(path, bytes.as_slice()) {
                    eprintln!(
                        "error: cannot write the coredump to {}: {e}",
                        path.display()
                    );
                    return ExitCode::from(EXIT_USAGE);
                }
                eprintln!(
                    "wrote the coredump to {} ({} bytes; it holds the plugin's memory, so it may hold secrets)",
                    path.display(),
                    bytes.len()
                );
            }
            None if report.is_ok() => eprintln!("no coredump: the call did not trap"),
            None => eprintln!("no coredump: wasmtime writes one only when the plugin's code traps"),
        }
    }
    if let (
        Some(path),
        Some(Prepared {
            session,
            request,
            host_functions: defs,
        }),
    ) = (&args.save_bundle, &prepared)
    {
        let dump = coredump.as_deref().filter(|_| args.bundle_coredump);
        if let Err(e) = save_call_bundle(path, session, request, defs, &report, dump) {
            eprintln!("error: {e:#}");
            return ExitCode::from(EXIT_USAGE);
        }
        let with = match (args.bundle_coredump, dump.is_some()) {
            (true, true) => " with the trap's coredump (it holds the plugin's memory)",
            (true, false) => " (no coredump: the call did not trap)",
            _ => "",
        };
        eprintln!("saved a bundle of this call to {}{with}", path.display());
    }
    exit_code(&report)
}

/// `call --find-limits`: the search, with one progress line per probe on stderr.
pub(super) fn find_limits(
    session: &Session,
    request: &CallRequest,
    json: bool,
) -> Result<crate::runner::limits::Found, ExitCode> {
    let stop = crate::runner::session::Canceller::default();
    let mut progress = |probe: crate::runner::limits::Probe| {
        if !json {
            eprintln!("probe {}: {}", probe.done, probe.last);
        }
    };
    crate::runner::limits::find(session, request, &stop, &mut progress).map_err(|e| {
        eprintln!("error: cannot find limits: {e}");
        ExitCode::from(EXIT_PLUGIN_FAILED)
    })
}

/// Saves a self-contained bundle whose expected outcome is what this call did.
pub(super) fn save_call_bundle(
    path: &std::path::Path,
    session: &Session,
    request: &CallRequest,
    host_functions: &[HostFnDef],
    report: &CallReport,
    coredump: Option<&Vec<u8>>,
) -> anyhow::Result<()> {
    let scenario = Scenario {
        plugin: session.plugin().clone(),
        options: session.options().as_ref().clone(),
        keep_state: true,
        host: request.host.clone(),
        host_functions: host_functions.to_vec(),
        steps: vec![Step {
            function: request.function.clone(),
            input: request.input.as_ref().clone(),
            input_mode: None,
            expected: Some(ExpectedOutcome::of(report)),
        }],
    };
    // The secrets were given on this command line for this call: keep them so it replays.
    let mut file = Bundle::new(&scenario, true, true);
    if let Some(dump) = coredump {
        file = file.with_coredump(dump);
    }
    let bytes = bundle::save(path, file)?;
    // This app wrote it here: replaying it here asks nothing (while its grants resolve the same).
    let review = open::saved_review(path, &bytes)
        .with_context(|| format!("{} cannot be reviewed after saving", path.display()))?;
    TrustStore::user().record_saved(&review)?;
    Ok(())
}
