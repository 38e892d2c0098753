//! The plugin a command names: opened through [`crate::open`] with its grants decided by
//! `--trust`/`--no-grants`, its sandbox and host functions taken from the file and the flags.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::open::{self, Opened, Setup, Source};
use crate::runner::host::harness::XTP_HARNESS;
use crate::runner::host::{Behaviour, HostFnDef, MockSource, define};
use crate::runner::{
    CallRequest, HostData, HostRegistry, Inspection, SandboxOptions, Session, WorkerConfig,
    unsatisfied_imports,
};
use crate::trust::{Decision, TrustStore};

use super::args::{CallArgs, ConsentArgs, ConsentNeeded, HostFnArgs};
use super::{key_value, reference_of};

/// Opens `path` through the window's pipeline, with its grants decided by `consent`: a file
/// that asks for nothing, or that this app saved, or that the user trusts in the window, opens
/// as it is; any other that asks is refused unless `--trust` or `--no-grants` says what to do.
pub fn open_file(
    path: &Path,
    consent: &ConsentArgs,
    registry: &crate::registry::Settings,
) -> anyhow::Result<Opened> {
    let opened = decide(open::read(&Source::from_arg(path)?)?, consent, registry)?;
    if let Some(note) = &opened.note {
        eprintln!("warning: {note}");
    }
    if let Some(pin) = opened.plugin.registry_pin() {
        eprintln!(
            "plugin: {} (layer {}, pulled {})",
            pin.pinned_reference(),
            pin.layer,
            crate::clock::rfc3339(pin.pulled_at)
        );
    }
    Ok(opened)
}

/// Resolves `read` with its grants decided by `consent` (see [`open_file`]), pulling with
/// `registry`'s settings.
pub(super) fn decide(
    read: open::Read,
    consent: &ConsentArgs,
    registry: &crate::registry::Settings,
) -> anyhow::Result<Opened> {
    let read = read.with_redirects(consent.redirects()?);
    let (decision, trust) = match read.review() {
        None => (Decision::Allow, None),
        Some(review) => {
            let trust = TrustStore::user().trust(review);
            if !review.needs_consent() || trust.is_some() || consent.trust {
                (Decision::Allow, trust)
            } else if consent.no_grants {
                (Decision::WithoutGrants, None)
            } else {
                return Err(ConsentNeeded(Box::new(review.clone())).into());
            }
        }
    };
    Ok(read.resolve(decision, trust, registry)?)
}

/// The flags, validated into what the runner needs.
pub(super) struct CallPlan {
    pub(super) opened: Opened,
    pub(super) options: SandboxOptions,
    pub(super) request: CallRequest,
    pub(super) host: HostRegistry,
    pub(super) host_functions: Vec<HostFnDef>,
}

/// The host function definitions a call links: those of the bundle it opens, then `--host-fns`
/// files, then `--host-fn` flags (a later one replaces an earlier one for the same import),
/// then `--mock-host` for what is still unsatisfied.
pub(super) fn host_definitions(
    args: &HostFnArgs,
    opened: &Opened,
    options: &SandboxOptions,
    consent: &ConsentArgs,
) -> anyhow::Result<(HostRegistry, Vec<HostFnDef>)> {
    let mut defs = match &opened.setup {
        Setup::Scenario(scenario) => scenario.host_functions.clone(),
        _ => Vec::new(),
    };
    for file in &args.host_fns {
        for def in define::read_definitions(file, consent.trust)? {
            define::upsert(&mut defs, def);
        }
    }
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    for flag in &args.host_fn {
        define::upsert(&mut defs, HostFnDef::parse_flag(flag, &cwd)?);
    }
    if let Some(path) = &args.mock_host {
        let mock = MockSource::read(path)?;
        let bytes = mock.loaded.clone().unwrap_or_default();
        let exports = Inspection::of(&mock.label(), &bytes)?;
        let (registry, _) = HostRegistry::with_definitions(&defs, &opened.inspection.imports);
        for missing in unsatisfied_imports(
            &opened.plugin,
            &opened.inspection,
            options.wasi,
            &registry,
            None,
        ) {
            if exports.export(&missing.name).is_some_and(|e| e.callable) {
                defs.push(HostFnDef::new(
                    &missing.module,
                    &missing.name,
                    Behaviour::Wasm(mock.clone()),
                ));
            }
        }
    }
    let (registry, problems) = HostRegistry::with_definitions(&defs, &opened.inspection.imports);
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        bail!(
            "host function definitions do not fit what {} imports:\n{}",
            opened.plugin.display_name,
            lines.join("\n")
        );
    }
    let missing: Vec<String> = unsatisfied_imports(
        &opened.plugin,
        &opened.inspection,
        options.wasi,
        &registry,
        None,
    )
    .iter()
    .filter_map(|u| {
        let import = opened
            .inspection
            .imports
            .iter()
            .find(|i| i.module == u.module && i.name == u.name)?;
        suggested_flag(import).map(|flag| format!("  {u}\n    define it with: {flag}"))
    })
    .collect();
    if !missing.is_empty() {
        bail!(
            "{} imports host functions nothing defines:\n{}",
            opened.plugin.display_name,
            missing.join("\n")
        );
    }
    Ok((registry, defs))
}

/// A `--host-fn` flag that satisfies `import` (a host function import the registry lacks).
pub(super) fn suggested_flag(import: &crate::runner::inspect::Import) -> Option<String> {
    define::suggestion(import).map(|s| {
        format!(
            "--host-fn '{}={}'  (signature {})",
            s.name, s.spec, s.signature
        )
    })
}

/// The sandbox options an opened file carries (none for a plain module).
pub(super) fn file_options(opened: &Opened) -> SandboxOptions {
    match &opened.setup {
        Setup::Manifest(options) => options.clone(),
        Setup::Scenario(scenario) => scenario.options.clone(),
        Setup::Module | Setup::Sample(_) => SandboxOptions::default(),
    }
}

pub(super) fn plan(args: &CallArgs) -> anyhow::Result<CallPlan> {
    if args.stdin && args.registry.registry_password_stdin {
        bail!(
            "--stdin and --registry-password-stdin both read stdin; pass the input with --input or --input-file"
        );
    }
    let registry = args.registry.settings(reference_of(&args.wasm).as_ref())?;
    let opened = open_file(&args.wasm, &args.consent, &registry)?;
    if crate::runner::host::harness::imports_harness(&opened.inspection) {
        bail!(
            "{} is an xtp-test plugin (it imports {XTP_HARNESS}): run it against the plugin it tests with `extism-playground test --xtp {} PLUGIN.wasm`",
            opened.plugin.display_name,
            args.wasm.display()
        );
    }
    let options = args.sandbox.apply(file_options(&opened))?;

    let input = if let Some(text) = &args.input {
        text.clone().into_bytes()
    } else if let Some(path) = &args.input_file {
        crate::platform::files::read(path, crate::platform::files::FileKind::Input)?
    } else if args.stdin {
        // Held to the input files' limit: a pipe that never ends is refused, not kept.
        let limit = crate::platform::files::FileKind::Input.limit_bytes();
        match crate::platform::files::read_to_limit(std::io::stdin().lock(), limit)
            .context("cannot read input from stdin")?
        {
            Some(bytes) => bytes,
            None => bail!(
                "the input on stdin is more than {}, the most a call's input may be; give less",
                crate::platform::files::size_text(limit)
            ),
        }
    } else {
        Vec::new()
    };
    let mut host = HostData::default();
    for s in &args.secrets {
        let (k, v) = key_value(s, "--secret")?;
        host.secrets.insert(k, v);
    }
    for s in &args.kv {
        let (k, v) = key_value(s, "--kv")?;
        host.kv.insert(k, v.into());
    }
    if args.loops == 0 {
        bail!("--loop must be at least 1");
    }
    let (host_registry, host_functions) =
        host_definitions(&args.host_functions, &opened, &options, &args.consent)?;
    if args.loops > 1 && args.save_bundle.is_some() {
        bail!(
            "--save-bundle records one call and replay makes one call; drop --loop to save a bundle"
        );
    }
    Ok(CallPlan {
        opened,
        options,
        host: host_registry,
        host_functions,
        request: CallRequest {
            function: args.function.clone(),
            input: input.into(),
            host,
            log_level: args.log_level,
            fresh_instance: false,
            loops: args.loops,
            coredump: args.coredump.is_some() || args.bundle_coredump,
        },
    })
}

/// A call ready to make: the session, the request, and the host function definitions the
/// session links (a saved bundle carries them).
pub(super) struct Prepared {
    pub(super) session: Session,
    pub(super) request: CallRequest,
    pub(super) host_functions: Vec<HostFnDef>,
}

/// The session and request `call`'s flags describe, checked.
pub(super) fn prepare(args: &CallArgs) -> anyhow::Result<Prepared> {
    let CallPlan {
        opened,
        options,
        request,
        host,
        host_functions,
    } = plan(args)?;
    let session = Session::inspected(
        opened.plugin,
        opened.inspection,
        options,
        host,
        WorkerConfig {
            // A trap's coredump costs as much memory again as the plugin's: only when asked.
            coredumps: request.coredump,
            ..WorkerConfig::current_exe()?
        },
    );
    session.check_call(&request.function)?;
    Ok(Prepared {
        session,
        request,
        host_functions,
    })
}
