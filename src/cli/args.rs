//! The command line as clap parses it: every subcommand's flags, and the checks that turn
//! them into settings (registries, consent, the sandbox).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};

use crate::runner::{AllowedPath, LogLevel, SandboxOptions};
use crate::trust::Review;

use super::{key_value, reference_of};

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
    pub(super) fn redirects(&self) -> anyhow::Result<Vec<String>> {
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
    pub(super) fn apply(&self, mut options: SandboxOptions) -> anyhow::Result<SandboxOptions> {
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

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
