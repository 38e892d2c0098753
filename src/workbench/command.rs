//! What the window (and the tests) ask of the workbench: a [`Command`] each, applied in one
//! place ([`super::Workbench::apply`]).

use std::path::PathBuf;

use crate::bundle::InputMode;
use crate::open::Source;
use crate::runner::host::HostFnDef;
use crate::runner::{HostData, SandboxOptions};

use super::TestCommand;
use super::sources;

/// A request to the workbench. Each is applied by [`Workbench::apply`].
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Open a plugin, session or bundle as the user asked: what the file says about options,
    /// function and input replaces the current ones.
    Open(Source),
    /// Open a registry reference (as typed) with a login for this run, reaching its host over
    /// plain HTTP when asked.
    OpenFromRegistry {
        reference: String,
        login: Option<crate::registry::Login>,
        plain_http: Option<bool>,
    },
    /// Ask the registry where the open plugin's tag points now.
    CheckForNewer,
    /// Forget the login given in the window for this registry (`HOST[:PORT]`).
    ForgetRegistryLogin(String),
    /// Read the open plugin's file again, keeping options, function and input.
    Reload,
    /// Build the open plugin's crate; the new module loads when it succeeds.
    Build,
    /// Stop the build (cargo and the compilers it started).
    StopBuild,
    /// Write a starter kit into `parent` and build it; its module opens when built.
    NewPlugin {
        parent: PathBuf,
        spec: crate::starter::Spec,
    },
    Run,
    /// Call the function `bench_loops` times on the warm instance.
    RunBench,
    Stop,
    ResetInstance,
    SelectFunction(String),
    SetInputMode(InputMode),
    FormatInput,
    /// Replace the input with a file's contents.
    LoadInput(PathBuf),
    ClearLargeInput,
    SaveOutput(PathBuf),
    ClearLogs,
    SetOptions(SandboxOptions),
    /// Turn WASI on (offered when a plugin needs it).
    EnableWasi,
    /// Point allowed path `index` at a host directory.
    SetAllowedPathHost {
        index: usize,
        host: PathBuf,
    },
    SetHostData(HostData),
    /// Add or replace (same module and name) a user-defined host function.
    DefineHostFn(Box<HostFnDef>),
    RemoveHostFn {
        module: String,
        name: String,
    },
    EnableHostFn {
        module: String,
        name: String,
        enabled: bool,
    },
    SetKeepState(bool),
    SetHotReload(bool),
    SetRerunOnReload(bool),
    SetBundleSecrets(bool),
    SetBenchLoops(u32),
    RecordExpected,
    ClearExpected,
    /// Save a session (`embed: false`: the plugin by path) or a self-contained bundle.
    SaveSession {
        path: PathBuf,
        embed: bool,
    },
    ExportManifest(PathBuf),
    /// Answer the question a file's grants raised (see [`PluginSlot::Asking`]).
    Answer(Answer),
    /// Answer whether to follow a module download's redirect to another origin (see
    /// [`Workbench::redirect_question`]).
    FollowRedirect(bool),
    /// Make a scenario of these runs of the history (by number), in the order they ran.
    ScenarioFromRuns(Vec<u64>),
    /// Replay every step of the open scenario, in the background (Stop stops it).
    RunScenario,
    /// Put step N (from 0) of the open scenario in the editor.
    EditScenarioStep(usize),
    /// Close the scenario: back to single calls.
    CloseScenario,
    /// Where backtraces' source files are on this machine.
    SetSourceMaps(Vec<sources::SourceMap>),
    /// Whether bundles saved carry the last trap's coredump.
    SetBundleCoredump(bool),
    /// Write the trap's coredump (see [`Workbench::coredump`]) to a file.
    SaveCoredump(PathBuf),
    /// Append the last run to the suite file at this path (created when new) as a test.
    AddRunToSuite(PathBuf),
    /// Stop trusting the file with this sha256.
    Revoke(String),
    /// For the Tests window's jobs: suites and xtp-test plugins.
    Tests(TestCommand),
    /// Open test N of the suite open in the Tests window, at step M.
    OpenSuiteTest {
        test: usize,
        step: usize,
    },
    /// For the limit finder.
    Limits(LimitCommand),
}

/// What the limit finder's window asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitCommand {
    /// Start the search for the current function and input.
    Find,
    Stop,
    /// Close its window (stopping the search).
    Close,
    /// Set the sandbox's memory max and timeout to what the search suggests.
    Apply,
}

/// What the user answers when a file asks for grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Grant them this time.
    Allow,
    /// Grant them, and trust this exact file from now on (while its bytes, and what its grants
    /// resolve to, stay the same).
    AllowAndRemember,
    /// Open it with its grants removed, to see what fails.
    WithoutGrants,
    /// Do not open it.
    Cancel,
}
