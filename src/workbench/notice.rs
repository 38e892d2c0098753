//! What the last command led to, as data: the status bar's line is one of these, worded by the
//! window (`app::words`). Tests match on the variants, so a message can be reworded without
//! touching them, and each says which situation it means.

use std::path::PathBuf;
use std::sync::Arc;

use crate::bundle::{BundleError, ExpectedOutcome};
use crate::open::{OpenError, Source};
use crate::platform::files::ReadError;
use crate::registry::ReferenceError;
use crate::runner::host::DefProblem;
use crate::runner::report::ErrorKind;
use crate::starter::StarterError;
use crate::suite::edit::EditError;
use crate::trust::store::TrustError;

use super::registry::NewerVerdict;
use super::runs::FreshReason;
use super::view::JsonError;

/// A line for the status bar: what happened, with what it happened to.
#[derive(Clone, Debug)]
pub enum Notice {
    // ---- opening ----
    /// A plugin is being read, pulled or downloaded.
    Opening {
        label: String,
        stage: OpeningStage,
    },
    /// A file asks for grants: the consent panel asks the user.
    AsksForAccess {
        label: String,
    },
    /// The user cancelled the consent question.
    NothingGranted {
        label: String,
    },
    /// "Allow and remember" could not write the trust list; the file was allowed this time.
    NotRemembered(Arc<TrustError>),
    /// A file's trust was revoked.
    Revoked,
    RevokeFailed(Arc<TrustError>),
    /// A module download is redirected to another origin; nothing was sent there yet.
    RedirectAsked {
        url: String,
        origin: String,
    },
    /// The user did not follow the redirect.
    RedirectRefused {
        label: String,
        origin: String,
    },
    /// The open plugin's file changed and could not be loaded: the previous version stays.
    ReloadFailed {
        label: String,
        error: Arc<OpenError>,
    },
    /// The plugin the app last had open could not be opened: the hello sample opened instead.
    RestoreFailed(Arc<OpenError>),
    /// The plugin the user opened could not be opened.
    OpenFailed {
        source: Source,
        error: Arc<OpenError>,
    },
    /// Something about the file just opened the user should know (e.g. a pulled plugin's
    /// note), said by the layer that opened it.
    OpenedWithNote(String),
    /// A plugin opened as the user asked.
    Opened(Opened),
    /// The open plugin was read again.
    Reloaded {
        name: String,
        automatic: bool,
        /// The function selected before, when the new version no longer exports it.
        gone: Option<String>,
    },
    /// Reload of a built-in sample.
    NothingToReload,

    // ---- host functions ----
    /// A definition the user just made cannot stand for the import it names.
    HostFnProblem(Box<DefProblem>),
    /// A definition the user just made is in use (`module::name`).
    HostFnDefined(String),

    // ---- calls ----
    CannotRun(RunBlocker),
    /// A call on a plugin that has since been replaced ended; its result was dropped.
    CallDiscarded {
        function: String,
    },
    /// A call ended.
    Called(Called),
    /// Reset instance.
    InstanceDiscarded,
    /// Format: the input is not JSON.
    CannotFormat(Arc<serde_json::Error>),
    /// Record expected.
    ExpectedRecorded(ExpectedOutcome),

    // ---- scenarios ----
    /// "Make a scenario" with no run picked.
    NoRunsPicked,
    /// Runs of another plugin were picked (their numbers).
    RunsOfAnotherPlugin(Vec<u64>),
    ScenarioMade {
        runs: usize,
        /// How many had outputs too long to keep, and expect nothing.
        cut: usize,
    },
    CannotRunScenario(RunBlocker),
    ScenarioRunning {
        steps: usize,
    },
    /// A scenario run on a plugin since replaced ended; its results were dropped.
    ScenarioDiscarded,
    ScenarioEnded {
        matched: usize,
        total: usize,
        /// The first step (from 0) whose outcome differs from what it expects.
        first_difference: Option<usize>,
        stopped: bool,
    },
    /// Step N (from 0) is in the editor.
    StepInEditor(usize),

    // ---- files ----
    LoadingInput(PathBuf),
    InputNotLoaded(Arc<ReadError>),
    InputLoaded(PathBuf),
    /// An input too large or binary for the editor, sent byte for byte.
    LargeInputLoaded {
        bytes: usize,
        name: String,
    },
    NoOutputYet,
    OutputSaved {
        bytes: usize,
        path: PathBuf,
    },
    OutputNotSaved {
        path: PathBuf,
        error: Arc<std::io::Error>,
    },
    NoCoredump,
    CoredumpSaved {
        bytes: usize,
        path: PathBuf,
    },
    CoredumpNotSaved {
        path: PathBuf,
        error: Arc<std::io::Error>,
    },
    SessionSaved {
        path: PathBuf,
        /// A bundle (the plugin embedded) rather than a session.
        embed: bool,
        secrets_left_out: bool,
        with_coredump: bool,
    },
    SessionNotSaved(Arc<BundleError>),
    NoPluginToExport,
    ManifestExported(PathBuf),
    ManifestNotExported {
        path: PathBuf,
        error: Arc<std::io::Error>,
    },
    /// Add to suite before any run.
    NoRunForSuite,
    /// Add to suite when there is no module file for the suite to name.
    NoFileForSuite(NoSuiteFile),
    TestAdded(TestAdded),
    TestNotAdded(Arc<EditError>),
    SuiteTestOpened {
        test: String,
        suite: String,
        /// From 0.
        step: usize,
        steps: usize,
    },

    // ---- building ----
    CannotBuild(BuildBlocker),
    Building {
        command_line: String,
    },
    NotCreated(Arc<StarterError>),
    /// New plugin's folder could not be made absolute.
    BadParent {
        parent: PathBuf,
        error: Arc<std::io::Error>,
    },
    CreateWhileBuilding,
    Created {
        dir: PathBuf,
    },
    /// A build succeeded, and then what loading its module led to.
    Built {
        seconds: f64,
        then: Option<Box<Notice>>,
    },
    BuildFailed {
        errors: usize,
        /// What to do about it, when the output says (e.g. a target to install).
        advice: Option<String>,
        /// The compiler's first error, when there is no advice.
        first_error: Option<String>,
        /// The module open before stays loaded.
        kept: bool,
    },
    BuildStopped,
    BuildAborted(String),
    /// The build of a plugin that is no longer open finished.
    BuiltNotLoaded {
        artifact: PathBuf,
    },

    // ---- registries ----
    BadReference(Arc<ReferenceError>),
    LoginForgotten {
        registry: String,
    },
    NotPulled,
    PulledByDigest,
    NewerChecked(Box<NewerVerdict>),
}

/// How far an open has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpeningStage {
    Reading,
    Pulling,
    Downloading,
}

/// What a fresh open put in the editor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// A session or bundle: its scenario (`steps`, when several) or its one call.
    Scenario {
        from: String,
        steps: Option<usize>,
        function: String,
        /// It carries a trap's coredump.
        coredump: bool,
    },
    Sample {
        name: String,
        description: String,
    },
    Plugin {
        name: String,
    },
}

/// How a call ended, with what the status bar says of its instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Called {
    pub function: String,
    /// `None` when it succeeded.
    pub error: Option<ErrorKind>,
    /// Why it ran on a new instance, when it did.
    pub instance: Option<NewInstance>,
    /// Its instance was dropped after the failure.
    pub discarded: bool,
}

/// Why a call ran on a new instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewInstance {
    Because(FreshReason),
    /// The plugin was compiled for this call.
    Compiled,
    First,
}

/// A test added to a suite file.
#[derive(Clone, Debug)]
pub struct TestAdded {
    pub name: String,
    pub suite: PathBuf,
    /// The run was on a warm instance (the test starts on a fresh one).
    pub warm: bool,
    /// Files written beside the suite.
    pub written: Vec<PathBuf>,
    /// What the suite could not hold, or where it differs from the run.
    pub notes: Vec<crate::suite::edit::Note>,
}

/// Why a suite cannot name the open plugin's module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoSuiteFile {
    NoPlugin,
    /// A sample, or a module embedded in a bundle: a suite names a `.wasm` file.
    NotAFile,
}

/// Why Build cannot start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildBlocker {
    Building,
    /// The open plugin is not a crate's build output (`DIR/target/wasm32-…/PROFILE/NAME.wasm`
    /// beside `DIR/Cargo.toml`).
    NotACrate,
}

/// Why Run cannot start now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunBlocker {
    CallRunning,
    ScenarioRunning,
    StillOpening {
        label: String,
    },
    Asking {
        label: String,
    },
    NoPlugin,
    /// An xtp-test plugin is open: it is run against another plugin, from the Tests window.
    TestPlugin,
    NoFunction,
    InvalidJson(JsonError),
}

impl Notice {
    /// Whether the status bar shows it as an error.
    pub fn is_error(&self) -> bool {
        match self {
            Self::NotRemembered(_)
            | Self::RevokeFailed(_)
            | Self::ReloadFailed { .. }
            | Self::RestoreFailed(_)
            | Self::OpenFailed { .. }
            | Self::OpenedWithNote(_)
            | Self::HostFnProblem(_)
            | Self::CannotRun(_)
            | Self::CannotFormat(_)
            | Self::NoRunsPicked
            | Self::RunsOfAnotherPlugin(_)
            | Self::CannotRunScenario(_)
            | Self::InputNotLoaded(_)
            | Self::NoOutputYet
            | Self::OutputNotSaved { .. }
            | Self::NoCoredump
            | Self::CoredumpNotSaved { .. }
            | Self::SessionNotSaved(_)
            | Self::NoPluginToExport
            | Self::ManifestNotExported { .. }
            | Self::NoRunForSuite
            | Self::NoFileForSuite(_)
            | Self::TestNotAdded(_)
            | Self::CannotBuild(_)
            | Self::NotCreated(_)
            | Self::BadParent { .. }
            | Self::CreateWhileBuilding
            | Self::BuildFailed { .. }
            | Self::BuildAborted(_)
            | Self::BadReference(_)
            | Self::NotPulled => true,
            Self::Called(called) => called.error.is_some(),
            Self::ScenarioEnded {
                first_difference, ..
            } => first_difference.is_some(),
            Self::Built { then, .. } => then.as_ref().is_some_and(|then| then.is_error()),
            Self::NewerChecked(verdict) => verdict.latest.is_err(),
            Self::Opening { .. }
            | Self::AsksForAccess { .. }
            | Self::NothingGranted { .. }
            | Self::Revoked
            | Self::RedirectAsked { .. }
            | Self::RedirectRefused { .. }
            | Self::Opened(_)
            | Self::Reloaded { .. }
            | Self::NothingToReload
            | Self::HostFnDefined(_)
            | Self::CallDiscarded { .. }
            | Self::InstanceDiscarded
            | Self::ExpectedRecorded(_)
            | Self::ScenarioMade { .. }
            | Self::ScenarioRunning { .. }
            | Self::ScenarioDiscarded
            | Self::StepInEditor(_)
            | Self::LoadingInput(_)
            | Self::InputLoaded(_)
            | Self::LargeInputLoaded { .. }
            | Self::OutputSaved { .. }
            | Self::CoredumpSaved { .. }
            | Self::SessionSaved { .. }
            | Self::ManifestExported(_)
            | Self::TestAdded(_)
            | Self::SuiteTestOpened { .. }
            | Self::Building { .. }
            | Self::Created { .. }
            | Self::BuildStopped
            | Self::BuiltNotLoaded { .. }
            | Self::LoginForgotten { .. }
            | Self::PulledByDigest => false,
        }
    }
}
