//! The command line: flags parsed into a validated call, then run headless over the runner;
//! bundles saved and replayed. Plugin output goes to stdout as raw bytes, logs and errors to
//! stderr. Exit codes: 0 success (or a replay that matches), 1 the plugin failed (or a replay
//! that does not match), 2 usage or load error, or a file whose grants need consent (`--trust`,
//! `--no-grants`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::bundle::{self, Bundle, ExpectedOutcome, Scenario, Step, Verdict};
use crate::open::{self, Opened, Setup, Source};
use crate::runner::host::harness::XTP_HARNESS;
use crate::runner::host::{Behaviour, HostFnDef, MockSource, define};
use crate::runner::inspect::Linkage;
use crate::runner::report::{CallError, HostCall, MemoryFigures, Timings};
use crate::runner::{
    AllowedPath, CallReport, CallRequest, ErrorKind, HostData, HostRegistry, Inspection,
    LoadedPlugin, LogEntry, LogLevel, PluginUnderTest, SandboxOptions, Session, WorkerConfig,
    unsatisfied_imports,
};
use crate::trust::{Decision, Review, TrustStore};

/// Exit code: the plugin failed.
pub const EXIT_PLUGIN_FAILED: u8 = 1;
/// Exit code: bad usage, or the plugin could not be loaded.
pub const EXIT_USAGE: u8 = 2;

/// A bench for Extism WebAssembly plugins. With no command, opens the window.
#[derive(Debug, Parser)]
#[command(
    name = "extism-playground",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// A .wasm module, Extism manifest, session or bundle to open in the window (a test suite,
    /// .toml, opens in its Tests window), or a registry reference (`oci://HOST/REPO:TAG`).
    pub open: Option<PathBuf>,

    /// How the window reaches registries (its Open from registry dialog adds to these).
    #[command(flatten, next_help_heading = "Registries")]
    pub registry: RegistryArgs,
}

impl Cli {
    /// How the window reaches registries, as its flags say.
    pub fn registry_settings(&self) -> anyhow::Result<crate::registry::Settings> {
        let named = self.open.as_deref().and_then(reference_of);
        self.registry.settings(named.as_ref())
    }
}

/// How registries are reached, for plugins named `oci://HOST[:PORT]/REPO:TAG` or
/// `oci://HOST/REPO@sha256:…`. Without a login, docker's credentials for the registry are used
/// (`~/.docker/config.json` and its credential helpers), else none.
#[derive(Debug, Default, PartialEq, Eq, Args)]
pub struct RegistryArgs {
    /// A registry user name; the password (or token) is read from stdin. It is sent only to
    /// the registry of the reference on the command line, and to those named with
    /// --registry-host: never to a registry a file names.
    #[arg(long, value_name = "NAME", requires = "registry_password_stdin")]
    pub registry_user: Option<String>,
    /// Send the --registry-user login to this registry (HOST or HOST:PORT) too, e.g. one a
    /// manifest or suite pulls from. Repeatable.
    #[arg(
        long = "registry-host",
        value_name = "HOST",
        requires = "registry_user"
    )]
    pub registry_hosts: Vec<String>,
    /// Read the registry password for --registry-user from stdin.
    #[arg(long, requires = "registry_user")]
    pub registry_password_stdin: bool,
    /// Reach this registry (HOST or HOST:PORT) over plain HTTP instead of HTTPS; localhost and
    /// loopback addresses always are. Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
    /// How long a registry may stay silent (connecting, or between bytes), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub registry_timeout: u64,
    /// The largest plugin layer pulled, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::registry::DEFAULT_MAX_LAYER_BYTES)]
    pub max_layer_size: u64,
}

impl RegistryArgs {
    /// How registries are reached, as these flags say (reading the password from stdin when
    /// asked). The login is for the registry of `registry`, when the command names one, and
    /// for the `--registry-host`s; never for a registry only a file names.
    pub fn settings(
        &self,
        registry: Option<&crate::registry::Reference>,
    ) -> anyhow::Result<crate::registry::Settings> {
        let login = match &self.registry_user {
            Some(user) => {
                let mut registries: Vec<String> = registry
                    .map(|r| r.registry.clone())
                    .into_iter()
                    .chain(self.registry_hosts.iter().map(|h| h.trim().to_string()))
                    .collect();
                registries.dedup();
                if registries.is_empty() {
                    bail!(
                        "--registry-user {user} names no registry to log in to: the command names no oci:// reference, and a login is never sent to a registry a file names; add --registry-host HOST for each registry it is for"
                    );
                }
                // A password (or token) is a line: more than 64 KiB is not one.
                let mut password = String::new();
                std::io::stdin()
                    .lock()
                    .take(64 * 1024)
                    .read_to_string(&mut password)
                    .context("cannot read the registry password from stdin")?;
                let password = password.trim_end_matches(['\n', '\r']).to_string();
                if password.is_empty() {
                    bail!(
                        "--registry-password-stdin read an empty password; pipe it in, e.g. `echo \"$TOKEN\" | extism-playground … --registry-user {user} --registry-password-stdin`"
                    );
                }
                Some(crate::registry::Login {
                    registries,
                    user: user.clone(),
                    password,
                })
            }
            None => None,
        };
        Ok(crate::registry::Settings {
            insecure: self.insecure_registries.clone(),
            logins: login.into_iter().collect(),
            timeout: std::time::Duration::from_secs(self.registry_timeout),
            max_layer_bytes: self.max_layer_size,
            cache: crate::registry::Cache::user(),
        })
    }
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The plugin to publish (a .wasm module).
    pub wasm: PathBuf,
    /// Where to publish it: `oci://HOST[:PORT]/REPO:TAG`.
    pub reference: String,
    /// An annotation on the manifest, KEY=VALUE (e.g.
    /// org.opencontainers.image.source=https://…). Repeatable.
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call a plugin function headless and print its output.
    Call(Box<CallArgs>),
    /// Show what a module exports and imports, without running it.
    Inspect(InspectArgs),
    /// Run a saved bundle's steps and check each against what it expects.
    Replay(ReplayArgs),
    /// Run test suites (.toml), bundles, or folders of them; report for people, scripts or CI.
    Test(Box<TestArgs>),
    /// Publish a plugin to an OCI registry as a CNCF Wasm artifact.
    Push(PushArgs),
    /// Print the completion script for a shell, e.g. for bash:
    /// `extism-playground completions bash > ~/.local/share/bash-completion/completions/extism-playground`
    /// (the .deb installs them for bash, zsh and fish).
    Completions(CompletionsArgs),
}

/// How a run answers the grants a manifest or bundle asks for (its allowed paths and hosts, and
/// files outside its folder). Files this app saved here, and files trusted in the window, need
/// neither.
#[derive(Clone, Debug, Default, Args)]
pub struct ConsentArgs {
    /// Grant what the manifest, bundle or suite asks for (paths, hosts, files outside its
    /// folder, module downloads and pulls), as listed when it asks.
    #[arg(long, conflicts_with = "no_grants")]
    pub trust: bool,
    /// Run with the file's grants removed (a bundle's read-only subfolders stay).
    #[arg(long)]
    pub no_grants: bool,
    /// Let a module download be redirected to this origin (`https://HOST[:PORT]`) besides the
    /// URL's own (the file's headers are not sent there); any other redirect stops the
    /// download. Repeatable.
    #[arg(long = "allow-redirect", value_name = "ORIGIN")]
    pub allow_redirects: Vec<String>,
}

impl ConsentArgs {
    /// The origins `--allow-redirect` names, normalized as downloads compare them.
    fn redirects(&self) -> anyhow::Result<Vec<String>> {
        self.allow_redirects
            .iter()
            .map(|text| {
                crate::runner::source::origin(text).with_context(|| {
                    format!("--allow-redirect {text:?} is not an origin; write it as https://HOST[:PORT]")
                })
            })
            .collect()
    }
}

/// A file's grants need consent and none was given.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} (a {}) asks for access to this machine, and nothing was run:\n{}Grant them with --trust, or run without them with --no-grants.",
    .0.file.display(),
    .0.kind.noun(),
    .0.listing()
)]
pub struct ConsentNeeded(pub Box<Review>);

#[derive(Debug, Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each is a command-line flag of its own"
)]
pub struct CallArgs {
    /// The .wasm module, Extism manifest JSON, or bundle; or a registry reference
    /// (`oci://HOST[:PORT]/REPO:TAG` or `oci://HOST/REPO@sha256:…`).
    pub wasm: PathBuf,
    /// The exported function to call.
    pub function: String,
    /// Input data.
    #[arg(short, long, conflicts_with_all = ["input_file", "stdin"])]
    pub input: Option<String>,
    /// Read input data from a file.
    #[arg(long, conflicts_with = "stdin")]
    pub input_file: Option<PathBuf>,
    /// Read input data from stdin.
    #[arg(long)]
    pub stdin: bool,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Call the function N times on the warm instance and report statistics.
    #[arg(long = "loop", value_name = "N", default_value_t = 1)]
    pub loops: u32,
    /// Lowest log level shown: trace, debug, info, warn, error.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: LogLevel,
    /// A secret for the `get_secret` host function, NAME=VALUE. Repeatable.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
    /// A kv store entry for the `kv_get`/`kv_set` host functions, KEY=VALUE. Repeatable.
    #[arg(long = "kv", value_name = "KEY=VALUE")]
    pub kv: Vec<String>,
    #[command(flatten)]
    pub host_functions: HostFnArgs,
    /// Print one JSON report on stdout instead of the raw output.
    #[arg(long)]
    pub json: bool,
    /// Save the call as a self-contained bundle (plugin embedded, expected output = this
    /// output) for `replay`.
    #[arg(long, value_name = "FILE")]
    pub save_bundle: Option<PathBuf>,
    /// When the call traps, write wasmtime's coredump (frames, globals, memory) to FILE. It
    /// holds the plugin's memory, so it may hold secrets.
    #[arg(long, value_name = "FILE")]
    pub coredump: Option<PathBuf>,
    /// With --save-bundle: embed the trap's coredump in the bundle (it holds the plugin's
    /// memory, so it may hold secrets).
    #[arg(long, requires = "save_bundle")]
    pub bundle_coredump: bool,
    /// Find the smallest memory pages and fuel with which the call gives the same outcome,
    /// and a timeout with a margin; print them with a manifest snippet.
    #[arg(long, conflicts_with_all = ["loops", "save_bundle"])]
    pub find_limits: bool,
    #[command(flatten)]
    pub consent: ConsentArgs,
    #[command(flatten, next_help_heading = "Registries")]
    pub registry: RegistryArgs,
}

/// The plugin's sandbox, as flags (`call`, and the plugin under test of `test --xtp`).
#[derive(Debug, Default, PartialEq, Eq, Args)]
pub struct SandboxArgs {
    /// Enable WASI.
    #[arg(long)]
    pub wasi: bool,
    /// Allow HTTP requests to a host (glob, e.g. *.example.com). Repeatable.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// Map a host directory into the guest: [ro:]HOST[:GUEST]. Repeatable.
    #[arg(long = "allow-path", value_name = "PATH")]
    pub allow_paths: Vec<String>,
    /// A config value, KEY=VALUE. Repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// Config values as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub set_config: Option<String>,
    /// Maximum memory, in 64 KiB pages.
    #[arg(long, value_name = "PAGES")]
    pub memory_max: Option<u32>,
    /// Maximum HTTP response size.
    #[arg(long, value_name = "BYTES")]
    pub http_response_max: Option<u64>,
    /// Maximum size of one Extism var.
    #[arg(long, value_name = "BYTES")]
    pub var_max: Option<u64>,
    /// Timeout of one call, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// Fuel limit of one call.
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,
    /// Compile fast (Cranelift unoptimized, single-pass register allocation): about half the
    /// compile time of a large plugin, slower calls.
    #[arg(long)]
    pub fast_compile: bool,
}

impl SandboxArgs {
    /// `options` (what the file says) with these flags applied over them.
    fn apply(&self, mut options: SandboxOptions) -> anyhow::Result<SandboxOptions> {
        options.wasi |= self.wasi;
        options
            .allowed_hosts
            .extend(self.allow_hosts.iter().cloned());
        for path in &self.allow_paths {
            options.allowed_paths.push(path.parse::<AllowedPath>()?);
        }
        if let Some(json) = &self.set_config {
            let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(json)
                .with_context(|| format!("--set-config {json:?} is not a JSON object"))?;
            for (k, v) in map {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                options.config.insert(k, v);
            }
        }
        for kv in &self.config {
            let (k, v) = key_value(kv, "--config")?;
            options.config.insert(k, v);
        }
        options.memory_max_pages = self.memory_max.or(options.memory_max_pages);
        options.http_response_max_bytes =
            self.http_response_max.or(options.http_response_max_bytes);
        options.var_max_bytes = self.var_max.or(options.var_max_bytes);
        options.timeout_ms = self.timeout.or(options.timeout_ms);
        options.fuel_limit = self.fuel.or(options.fuel_limit);
        options.fast_compile |= self.fast_compile;
        Ok(options)
    }
}

/// Host functions for the plugin's imports, as flags (`call`, and the plugin under test of
/// `test --xtp`).
#[derive(Debug, Default, PartialEq, Eq, Args)]
pub struct HostFnArgs {
    /// Define a host function the plugin imports: NAME=SPEC. NAME is `name` (in
    /// extism:host/user) or `module::name`, optionally with argument and result kinds, e.g.
    /// `add(num,num)->num`. SPEC is value:TEXT, bytes:BASE64, template:TEXT (`{0}` is argument
    /// 0), kv-get, kv-set, fail:MESSAGE, rhai:FILE or wasm:FILE. Repeatable.
    #[arg(long = "host-fn", value_name = "NAME=SPEC")]
    pub host_fn: Vec<String>,
    /// Host function definitions from a JSON file (the form sessions and bundles store).
    /// Repeatable.
    #[arg(long = "host-fns", value_name = "FILE")]
    pub host_fns: Vec<PathBuf>,
    /// A mock-host plugin: binds every import no other definition satisfies and whose name it
    /// exports.
    #[arg(long = "mock-host", value_name = "FILE.wasm")]
    pub mock_host: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The bundle file.
    pub bundle: PathBuf,
    /// A secret for `get_secret`, NAME=VALUE, for bundles saved without secret values.
    /// Repeatable.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
    /// Print one JSON result on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub consent: ConsentArgs,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Suite files (.toml with [plugin] and [[test]]), bundles, or folders searched for both;
    /// with --xtp, the plugins under test (.wasm or manifest).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Run this xtp-test plugin (it exports `test` and imports xtp:test/harness) against each
    /// PATH: one testcase per assertion it makes.
    #[arg(long, value_name = "TEST.wasm", conflicts_with_all = ["filter", "shard", "plugin", "jobs"])]
    pub xtp: Option<PathBuf>,
    /// With --xtp: what the harness's `mock_input` returns.
    #[arg(
        long,
        value_name = "TEXT",
        requires = "xtp",
        conflicts_with = "mock_input_file"
    )]
    pub mock_input_data: Option<String>,
    /// With --xtp: what the harness's `mock_input` returns, read from a file.
    #[arg(long, value_name = "FILE", requires = "xtp")]
    pub mock_input_file: Option<PathBuf>,
    /// With --xtp: time limit of the whole run of the test plugin, in milliseconds (--timeout
    /// limits each call of the plugin under test).
    #[arg(long, value_name = "MS", requires = "xtp")]
    pub test_timeout: Option<u64>,
    /// With --xtp: lowest level of the run's logs shown (on stderr, or in the JSON): trace,
    /// debug, info (default), warn, error.
    #[arg(long, value_name = "LEVEL", requires = "xtp")]
    pub log_level: Option<LogLevel>,
    /// Also write the results as JUnit XML (one testsuite per file, one testcase per test).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print the results as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Run only the tests whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// How many tests run at once, each set in a worker process of its own [default: the
    /// number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Run only the K-th of N disjoint slices of the tests (K from 1 to N), to split a run
    /// over machines.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::suite::Shard>,
    /// Run every suite against this plugin (a .wasm or manifest) instead of the one it names.
    #[arg(long, value_name = "FILE")]
    pub plugin: Option<PathBuf>,
    #[command(flatten)]
    pub consent: ConsentArgs,
    // Last: a help heading also applies to the flags after it.
    #[command(flatten, next_help_heading = "Registries")]
    pub registry: RegistryArgs,
    #[command(flatten, next_help_heading = "The plugin under test, with --xtp")]
    pub sandbox: SandboxArgs,
    #[command(flatten, next_help_heading = "The plugin under test, with --xtp")]
    pub host_functions: HostFnArgs,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The .wasm module (or Extism manifest JSON), or a registry reference (oci://…).
    pub wasm: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// What a manifest or bundle may make inspect read or fetch (module files outside its
    /// folder, downloads, pulls); the paths and hosts it grants are not needed to inspect.
    #[command(flatten)]
    pub consent: ConsentArgs,
    #[command(flatten, next_help_heading = "Registries")]
    pub registry: RegistryArgs,
}

/// Runs a headless command and returns the process exit code.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Call(args) => call(&args),
        Command::Inspect(args) => match inspect(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => usage_error(&e),
        },
        Command::Replay(args) => replay(&args),
        Command::Test(args) => test(&args),
        Command::Push(args) => push(&args),
        Command::Completions(args) => {
            print_completions(args.shell, &mut std::io::stdout());
            ExitCode::SUCCESS
        }
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Writes `shell`'s completion script for this command line to `out`.
pub fn print_completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "extism-playground", out);
}

fn usage_error(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    ExitCode::from(EXIT_USAGE)
}

fn key_value(s: &str, what: &str) -> anyhow::Result<(String, String)> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .with_context(|| format!("{what} {s:?} is not KEY=VALUE"))
}

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
fn decide(
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
struct CallPlan {
    opened: Opened,
    options: SandboxOptions,
    request: CallRequest,
    host: HostRegistry,
    host_functions: Vec<HostFnDef>,
}

/// The host function definitions a call links: those of the bundle it opens, then `--host-fns`
/// files, then `--host-fn` flags (a later one replaces an earlier one for the same import),
/// then `--mock-host` for what is still unsatisfied.
fn host_definitions(
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
fn suggested_flag(import: &crate::runner::inspect::Import) -> Option<String> {
    define::suggestion(import).map(|s| {
        format!(
            "--host-fn '{}={}'  (signature {})",
            s.name, s.spec, s.signature
        )
    })
}

/// The sandbox options an opened file carries (none for a plain module).
fn file_options(opened: &Opened) -> SandboxOptions {
    match &opened.setup {
        Setup::Manifest(options) => options.clone(),
        Setup::Scenario(scenario) => scenario.options.clone(),
        Setup::Module | Setup::Sample(_) => SandboxOptions::default(),
    }
}

fn plan(args: &CallArgs) -> anyhow::Result<CallPlan> {
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

fn call(args: &CallArgs) -> ExitCode {
    let (mut report, session) = match prepare(args) {
        Ok((session, request, defs)) => {
            let report = session.call_blocking(request.clone());
            (report, Some((session, request, defs)))
        }
        Err(e) => (
            CallReport::failed(&args.function, ErrorKind::Load, format!("{e:#}")),
            None,
        ),
    };
    let limits = match (&session, args.find_limits) {
        (Some((session, request, _)), true) => match find_limits(session, request, args.json) {
            Ok(found) => Some(found),
            Err(code) => return code,
        },
        _ => None,
    };
    let coredump = report.coredump.take();
    let pin = session
        .as_ref()
        .and_then(|(session, _, _)| session.plugin().registry_pin().cloned());
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
    if let (Some(path), Some((session, request, defs))) = (&args.save_bundle, &session) {
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

/// The registry reference `arg` names, if it names one.
fn reference_of(arg: &Path) -> Option<crate::registry::Reference> {
    arg.to_str()
        .filter(|text| crate::registry::is_reference(text))
        .and_then(|text| text.parse().ok())
}

/// `push`: publishes a module as a CNCF Wasm artifact and prints the reference pinned to the
/// digest it got (stdout), for scripts to record.
fn push(args: &PushArgs) -> ExitCode {
    match push_module(args) {
        Ok(pushed) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&pushed).expect("push results serialize")
                );
            } else {
                eprintln!(
                    "pushed {} ({} bytes)\n  digest: {}\n  layer:  {}",
                    args.wasm.display(),
                    pushed.size,
                    pushed.digest,
                    pushed.layer
                );
                println!("{}", pushed.reference);
            }
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(&e),
    }
}

fn push_module(args: &PushArgs) -> anyhow::Result<crate::registry::Pushed> {
    let reference: crate::registry::Reference = args.reference.parse()?;
    if reference.tag.is_none() {
        bail!(
            "{} names no tag to publish under; add one, e.g. {}:1.0",
            args.reference,
            args.reference.split('@').next().unwrap_or(&args.reference)
        );
    }
    let bytes = crate::platform::files::read(&args.wasm, crate::platform::files::FileKind::Plugin)?;
    let name = args.wasm.display().to_string();
    let inspection = Inspection::of(&name, &bytes).with_context(|| {
        format!("{name} is not a plugin to push; push a .wasm module (build the plugin first)")
    })?;
    let os = if inspection.imports_wasi() {
        crate::registry::ModuleOs::Wasip1
    } else {
        crate::registry::ModuleOs::Wasm
    };
    let mut annotations = BTreeMap::new();
    for kv in &args.annotations {
        let (k, v) = key_value(kv, "--annotation")?;
        annotations.insert(k, v);
    }
    let settings = args.registry.settings(Some(&reference))?;
    Ok(crate::registry::push(
        &bytes,
        os,
        &reference,
        &settings,
        annotations,
    )?)
}

/// `call --find-limits`: the search, with one progress line per probe on stderr.
fn find_limits(
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

fn exit_code(report: &CallReport) -> ExitCode {
    match report.error_kind() {
        None => ExitCode::SUCCESS,
        Some(ErrorKind::Load) => ExitCode::from(EXIT_USAGE),
        Some(_) => ExitCode::from(EXIT_PLUGIN_FAILED),
    }
}

/// Saves a self-contained bundle whose expected outcome is what this call did.
fn save_call_bundle(
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

/// The `--json` result of `replay`.
#[derive(Serialize)]
struct JsonReplay<'a> {
    /// Whether every step matched.
    matched: bool,
    /// Why the first step that differs did not match (a diff for outputs).
    mismatch: Option<&'a str>,
    /// The report of the first step that differs, else of the last step.
    report: JsonReport<'a>,
    steps: Vec<JsonReplayStep<'a>>,
}

#[derive(Serialize)]
struct JsonReplayStep<'a> {
    function: &'a str,
    matched: bool,
    mismatch: Option<String>,
    report: JsonReport<'a>,
}

#[allow(clippy::too_many_lines)] // one sequence: open, check, run, tell; split, it reads worse
fn replay(args: &ReplayArgs) -> ExitCode {
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
    let (results, _) = crate::suite::run_steps(&session, &scenario.host, &test, false, &stop);
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

fn test(args: &TestArgs) -> ExitCode {
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
fn test_xtp(
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
fn plugin_under_test(
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
fn report_outcome(outcome: &crate::suite::report::Outcome, args: &TestArgs) -> ExitCode {
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

fn prepare(args: &CallArgs) -> anyhow::Result<(Session, CallRequest, Vec<HostFnDef>)> {
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
    Ok((session, request, host_functions))
}

/// The `--json` report.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub ok: bool,
    pub function: &'a str,
    pub output: String,
    pub error: Option<&'a CallError>,
    pub timings: &'a Timings,
    pub logs: &'a [LogEntry],
    pub logs_dropped: u64,
    pub host_calls: &'a [HostCall],
    pub fuel_consumed: Option<u64>,
    /// The main module's memory around the call, in pages.
    pub memory: Option<&'a MemoryFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<JsonStats>,
    /// With `--find-limits`: the smallest limits that keep the outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<crate::runner::limits::Limits>,
    /// Where the plugin was pulled from, when it came from a registry: the reference, the
    /// manifest and layer digests, and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<crate::registry::Pin>,
}

/// Loop statistics without the per-call durations.
#[derive(Serialize)]
pub struct JsonStats {
    pub calls: u64,
    pub min_us: f64,
    pub median_us: f64,
    pub p95_us: f64,
    pub max_us: f64,
}

impl<'a> JsonReport<'a> {
    pub fn of(report: &'a CallReport) -> Self {
        Self {
            ok: report.is_ok(),
            function: &report.function,
            output: String::from_utf8_lossy(&report.output).into_owned(),
            error: report.error.as_ref(),
            timings: &report.timings,
            logs: &report.logs,
            logs_dropped: report.logs_dropped,
            host_calls: &report.host_calls,
            fuel_consumed: report.fuel_consumed,
            memory: report.memory.as_ref(),
            limits: None,
            registry: None,
            stats: report.stats.as_ref().map(|s| JsonStats {
                calls: s.calls,
                min_us: s.min_us,
                median_us: s.median_us,
                p95_us: s.p95_us,
                max_us: s.max_us,
            }),
        }
    }
}

/// The call's logs on stderr, one `[level source] message` line each.
fn print_logs(report: &CallReport) {
    let mut err = std::io::stderr().lock();
    for log in &report.logs {
        let _ = writeln!(
            err,
            "[{} {}] {}",
            log.level,
            log.source.as_str(),
            log.message
        );
    }
    if report.logs_dropped > 0 {
        let _ = writeln!(err, "({} more log lines dropped)", report.logs_dropped);
    }
}

fn print_report(
    report: &CallReport,
    json: bool,
    limits: Option<&crate::runner::limits::Limits>,
    registry: Option<&crate::registry::Pin>,
) {
    if json {
        let mut out = JsonReport::of(report);
        out.limits = limits.copied();
        out.registry = registry.cloned();
        let text = serde_json::to_string_pretty(&out)
            .unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":\"{e}\"}}"));
        println!("{text}");
        return;
    }
    print_logs(report);
    let mut err = std::io::stderr().lock();
    if let Some(stats) = &report.stats {
        let per_s = if stats.median_us > 0.0 {
            1e6 / stats.median_us
        } else {
            0.0
        };
        let _ = writeln!(
            err,
            "{} calls: min {:.1} µs, median {:.1} µs, p95 {:.1} µs, max {:.1} µs ({per_s:.0} calls/s at the median)",
            stats.calls, stats.min_us, stats.median_us, stats.p95_us, stats.max_us
        );
    }
    if let Some(error) = &report.error {
        let _ = writeln!(err, "error ({}): {}", error.kind, error.with_backtrace());
    }
    drop(err);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&report.output);
    if !report.output.is_empty()
        && std::io::IsTerminal::is_terminal(&out)
        && !report.output.ends_with(b"\n")
    {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

fn inspect(args: &InspectArgs) -> anyhow::Result<()> {
    let registry = args.registry.settings(reference_of(&args.wasm).as_ref())?;
    let plugin = match Source::from_arg(&args.wasm)? {
        Source::Registry(reference) => {
            let pulled = crate::registry::pull(
                &reference,
                &registry,
                &crate::registry::Transfer::default(),
            )?;
            if let Some(note) = &pulled.note {
                eprintln!("warning: {note}");
            }
            LoadedPlugin::from_pulled(pulled)?
        }
        source => {
            // Inspecting needs no path or host a file grants, only what it reads and fetches.
            let read = open::read(&source)?;
            let needs = read.review().is_some_and(Review::reads_or_fetches);
            let opened = if needs {
                decide(read, &args.consent, &registry)?
            } else {
                read.resolve(Decision::WithoutGrants, None, &registry)?
            };
            opened.plugin
        }
    };
    let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
        return Ok(());
    }
    print!(
        "{}",
        render_inspection(
            &plugin.display_name,
            &inspection,
            &plugin.linked_module_names(),
            &HostRegistry::builtin(),
        )
    );
    Ok(())
}

/// The text form of `inspect`: imports are checked against `host` with WASI on (the problems
/// listed are those no flag fixes), and what cannot be provided is listed at the end.
pub fn render_inspection(
    name: &str,
    i: &Inspection,
    linked: &[String],
    host: &HostRegistry,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "{name}: {} bytes, sha256 {}", i.size_bytes, i.sha256);
    if let Some(toolchain) = i.toolchain_summary() {
        let _ = writeln!(s, "toolchain: {toolchain}");
    }
    for m in &i.memories {
        let max = m
            .max_pages
            .map_or_else(|| "no max".to_string(), |p| format!("max {p} pages"));
        let _ = writeln!(
            s,
            "memory: {} pages initial ({} KiB), {max}{}",
            m.initial_pages,
            m.initial_pages * 64,
            if m.imported { ", imported" } else { "" }
        );
    }
    let _ = writeln!(
        s,
        "debug info: {}",
        if i.has_debug_lines {
            "DWARF line tables (a trap's frames show file and line)"
        } else {
            "none (a trap's frames show function names, not source lines)"
        }
    );
    let _ = writeln!(
        s,
        "WASI: {}",
        if i.needs_wasi {
            "needed (call with --wasi)"
        } else {
            "not needed"
        }
    );
    let _ = writeln!(
        s,
        "\nexports (* = plugin function, + = callable, added by the toolchain):"
    );
    let entries = i.entry_points();
    let mut exports: Vec<_> = i.exports.iter().collect();
    exports.sort_by_key(|e| (!entries.contains(&e.name.as_str()), !e.callable, &e.name));
    for e in exports {
        let sig = e
            .signature
            .as_ref()
            .map_or_else(|| e.kind.as_str().to_string(), ToString::to_string);
        let mark = if entries.contains(&e.name.as_str()) {
            "*"
        } else if e.callable {
            "+"
        } else {
            " "
        };
        let _ = writeln!(s, "  {mark} {:<28} {sig}", e.name);
    }
    let _ = writeln!(s, "\nimports:");
    if i.imports.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for (module, imports) in i.imports_by_module() {
        let _ = writeln!(s, "  {module}");
        for import in imports {
            let sig = import
                .signature
                .as_ref()
                .map_or_else(|| import.kind.as_str().to_string(), ToString::to_string);
            let linkage = Linkage {
                wasi: true,
                linked_modules: linked,
                host,
            };
            let problem = Inspection::import_problem(import, &linkage)
                .map_or_else(String::new, |p| format!("  ✗ {p}"));
            let _ = writeln!(s, "    {:<28} {sig}{problem}", import.name);
        }
    }
    let unsatisfied = i.unsatisfied_imports(&Linkage {
        wasi: i.needs_wasi,
        linked_modules: linked,
        host,
    });
    if !unsatisfied.is_empty() {
        let _ = writeln!(s, "\nthis host cannot satisfy:");
        for u in unsatisfied {
            let _ = writeln!(s, "  {u}");
        }
    }
    s
}
