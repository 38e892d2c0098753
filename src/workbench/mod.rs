//! The model under the window: [`Workbench`] coordinates the plugin slot, the saved state and
//! the sub-models that own the rest (ARCHITECTURE.md has the table). Plain Rust with no UI: the
//! window reads it and sends it [`Command`]s, and the tests drive it the same way. This file is
//! the only `impl Workbench`: it applies commands, polls every background job in one place
//! ([`Workbench::poll`]), and puts what sub-models report ([`Notice`]s) in the status bar.
//!
//! - [`command`](Command): what the window asks.
//! - `slot`: the plugin slot and the stages of an open (read, asked about, resolved, ready).
//! - [`notice`]: what the last command led to, as data (the window words it).
//! - `runs` ([`Runs`]): the call in flight, the history, the verdict.
//! - [`input`]: a large input, an input file being read, the JSON check.
//! - [`scenario`]: a scenario and its replay.
//! - [`build`]: Build of the open plugin's crate and New plugin's kit.
//! - [`registry`]: logins, registry settings, Check for newer.
//! - [`host`]: the host functions the plugin links.
//! - [`testing`], [`limits`]: the Tests window's runs and the limit finder.
//! - `files`: writes to files (output, coredump, sessions and bundles, manifests, suites).
//! - [`state`]: what persists between runs of the app.
//! - [`view`]: what the results area shows of a finished call, computed once per report.
//! - [`sources`]: where a backtrace frame's source file is on this machine.
//! - [`watch`]: hot reload's file watcher (events from the OS, debounced).

pub mod build;
mod command;
mod files;
pub mod host;
pub mod input;
pub mod limits;
pub mod notice;
pub mod registry;
mod runs;
pub mod scenario;
mod slot;
pub mod sources;
pub mod state;
pub mod testing;
pub mod view;
pub mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::platform::job::Job;

pub use crate::bundle::InputMode;
use crate::bundle::diff::DiffRow;
use crate::bundle::{ExpectedOutcome, Scenario, Step};
use crate::open;
pub use crate::open::{OpenError, Opened, PluginRef, Setup, Source, WatchedFile};
use crate::runner::host::{Behaviour, DefProblem, HostFnDef, define};
use crate::runner::{
    CallRequest, HostRegistry, LoadError, LogLevel, SandboxOptions, Session, WorkerConfig,
};
use crate::samples;
use crate::trust::{Decision, FileGrants, Trust, TrustList, TrustStore};
pub use command::{Answer, Command, LimitCommand};
pub use notice::{BuildBlocker, Notice, RunBlocker};
pub use runs::{
    FreshReason, History, ReloadChange, RunSlot, RunSummary, Running, Runs, VerdictView,
};
pub use slot::{
    Asking, Intent, Opening, OptionsOrigin, PluginSlot, Ready, RedirectQuestion, Watch,
};
use slot::{Decided, Stage};
pub use state::{InputDraft, WorkbenchState};
pub use testing::{SuiteRunEnded, TestCommand, Testing};
use view::{JsonError, RunView};

/// How often hot reload looks at the plugin's files when the OS cannot tell it (the watcher
/// could not start).
pub const RELOAD_CHECK: Duration = Duration::from_millis(500);
pub use crate::platform::job::Waker;
pub use input::{LARGE_INPUT_BYTES, LargeInput};

/// The workbench: everything the window shows and does, without the window.
pub struct Workbench {
    state: WorkbenchState,
    worker: WorkerConfig,
    /// The host functions the open plugin links, and the definitions that did not fit.
    host: host::HostLinks,
    /// The files trusted on this machine.
    trust: TrustStore,
    /// Whether the open file is from someone else and carries its own secrets: it gets only
    /// those and the ones entered for it.
    foreign_secrets: bool,
    plugin: PluginSlot,
    /// The call in flight, the last one and its verdict, the history.
    runs: Runs,
    /// The trap's coredump the open bundle carries.
    opened_coredump: Option<Arc<Vec<u8>>>,
    status: Option<Notice>,
    /// The scenario open (several calls), with its last run.
    scenario: Option<scenario::ScenarioView>,
    /// Bumped whenever another plugin (or version of it) is installed; a result of a call on
    /// an older one is discarded.
    generation: u64,
    /// Bumped on every change to what a run or an export would do.
    revision: u64,
    /// How hot reload learns that the open plugin's files changed.
    watch: Watch,
    /// The last build of the plugin's crate (running or finished).
    builds: build::Builds,
    /// Logins and settings for registries, and the last "Check for newer".
    registries: registry::Registries,
    /// What goes with the editor's text: a large input, a file being read, the JSON check.
    input: input::Input,
    /// The Tests window's suite and xtp-test runs.
    testing: Testing,
    /// The limit finder's search, while its window is open.
    limits: Option<limits::LimitJob>,
    wake: Waker,
    /// Origins the user let a file's module downloads be redirected to, this session.
    redirects: Vec<(Source, String)>,
    /// A redirect waiting for the user's answer.
    redirect_question: Option<RedirectQuestion>,
    /// The file being opened again to follow a redirect, with what was decided of its grants
    /// (not asked again while they stay within it).
    following: Option<(Source, Decided)>,
}

impl Workbench {
    /// A workbench over `state` (as saved), with no plugin open yet: call [`Self::restore`]
    /// or [`Self::open`].
    pub fn new(mut state: WorkbenchState, worker: WorkerConfig, wake: Waker) -> Self {
        state.migrate();
        load_kept_definitions(&mut state.host_functions);
        Self {
            state,
            worker,
            host: host::HostLinks::default(),
            trust: TrustStore::user(),
            foreign_secrets: false,
            plugin: PluginSlot::Empty,
            runs: Runs::default(),
            status: None,
            input: input::Input::default(),
            opened_coredump: None,
            scenario: None,
            generation: 0,
            revision: 0,
            watch: Watch::Off,
            builds: build::Builds::default(),
            testing: Testing::default(),
            limits: None,
            wake,
            registries: registry::Registries::default(),
            redirects: Vec::new(),
            redirect_question: None,
            following: None,
        }
    }

    /// Keeps trust in `store` instead of the user's data directory.
    #[must_use]
    pub fn with_trust_store(mut self, store: TrustStore) -> Self {
        self.trust = store;
        self
    }

    // ---- reading ----

    pub fn state(&self) -> &WorkbenchState {
        &self.state
    }

    pub fn plugin(&self) -> &PluginSlot {
        &self.plugin
    }

    /// The host functions offered now: the built-ins and the user's definitions.
    pub fn host_registry(&self) -> &HostRegistry {
        self.host.registry()
    }

    /// How plugin workers are started (the Tests window runs suites with the same).
    pub fn worker(&self) -> &WorkerConfig {
        &self.worker
    }

    /// The open plugin, if one is ready.
    pub fn ready(&self) -> Option<&Ready> {
        match &self.plugin {
            PluginSlot::Ready(ready) => Some(ready),
            PluginSlot::Opening(opening) => opening.previous.as_deref(),
            PluginSlot::Asking(asking) => asking.previous.as_deref(),
            PluginSlot::Empty | PluginSlot::Failed { .. } => None,
        }
    }

    /// The file waiting for the user's consent, if one is.
    pub fn asking(&self) -> Option<&Asking> {
        match &self.plugin {
            PluginSlot::Asking(asking) => Some(asking),
            PluginSlot::Empty
            | PluginSlot::Opening(_)
            | PluginSlot::Ready(_)
            | PluginSlot::Failed { .. } => None,
        }
    }

    /// The files trusted on this machine, as stored now.
    pub fn trusted_files(&self) -> TrustList {
        self.trust.list()
    }

    /// Where trust is kept.
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust
    }

    /// Whether the open file is from someone else, with only the secrets it carries and those
    /// entered for it.
    pub fn foreign_secrets(&self) -> bool {
        self.foreign_secrets
    }

    /// The open plugin's session.
    pub fn session(&self) -> Option<&Session> {
        self.ready().map(|r| &r.session)
    }

    /// The open plugin as the plugin under test of an xtp-test plugin: its sandbox options and
    /// host functions, and the input (when not empty) as what the harness's `mock_input`
    /// returns.
    pub fn plugin_under_test(&self) -> Option<crate::runner::PluginUnderTest> {
        let session = self.session()?;
        let input = self.input_bytes();
        Some(crate::runner::PluginUnderTest {
            plugin: session.plugin().clone(),
            inspection: session.inspection().clone(),
            options: (*session.options()).clone(),
            host: (*session.host_functions()).clone(),
            mock_input: (!input.is_empty()).then(|| input.to_vec()),
        })
    }

    /// The host functions the open plugin is linked with.
    pub fn host_functions(&self) -> &HostRegistry {
        self.host.registry()
    }

    /// The user's definitions that cannot stand for the imports they name, and why.
    pub fn host_problems(&self) -> &[DefProblem] {
        self.host.problems()
    }

    /// The problem of the definition for `module::name`, if it has one.
    pub fn host_problem(&self, module: &str, name: &str) -> Option<&DefProblem> {
        self.host.problem(module, name)
    }

    pub fn run_slot(&self) -> &RunSlot {
        self.runs.slot()
    }

    pub fn is_running(&self) -> bool {
        self.runs.is_running()
    }

    /// The last finished call.
    pub fn last(&self) -> Option<&RunView> {
        self.runs.last()
    }

    pub fn last_mut(&mut self) -> Option<&mut RunView> {
        self.runs.last_mut()
    }

    pub fn history(&self) -> &History {
        self.runs.history()
    }

    /// What the last reload changed, once its re-run finished (until the next run).
    pub fn reload_change(&self) -> Option<&ReloadChange> {
        self.runs.reload_change()
    }

    /// Whether the last run matches the expected outcome, if both exist.
    pub fn verdict(&self) -> Option<&VerdictView> {
        self.runs.verdict()
    }

    /// The expected and actual outputs side by side (built once per verdict), when the
    /// expected outcome is an output and the last run produced one.
    pub fn verdict_rows(&mut self) -> Option<&[DiffRow]> {
        self.runs.verdict_rows(self.state.expected.as_ref())
    }

    /// What the last command led to, for the status bar.
    pub fn status(&self) -> Option<&Notice> {
        self.status.as_ref()
    }

    pub fn fresh_reason(&self) -> Option<FreshReason> {
        self.runs.fresh_reason()
    }

    pub fn large_input(&self) -> Option<&LargeInput> {
        self.input.large()
    }

    /// Changes with every edit to what a run or an export would do: a key for caches of
    /// things derived from the scenario.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The text being edited as input. Call [`Self::input_edited`] after changing it.
    pub fn input_text_mut(&mut self) -> &mut String {
        &mut self.state.input.text
    }

    /// Says the input text was edited: its JSON check is redone, and caches keyed on the
    /// revision are stale.
    pub fn input_edited(&mut self) {
        self.revision += 1;
        self.recheck_input();
    }

    fn recheck_input(&mut self) {
        self.input.recheck(&self.state.input);
    }

    /// Why the input is not valid JSON, when the editor is in JSON mode and it is not.
    pub fn input_error(&self) -> Option<&JsonError> {
        self.input.error()
    }

    /// Whether an input file is being read.
    pub fn is_loading_input(&self) -> bool {
        self.input.is_loading()
    }

    fn load_input(&mut self, path: &std::path::Path) {
        let notice = self.input.load(path, Arc::clone(&self.wake));
        self.say(notice);
    }

    fn poll_input_load(&mut self) {
        if let Some(notice) = self.input.poll(&mut self.state.input) {
            self.revision += 1;
            self.say(notice);
        }
    }

    /// Why Run is not possible now, if it is not.
    pub fn run_blocker(&self) -> Option<RunBlocker> {
        if self.is_running() {
            return Some(RunBlocker::CallRunning);
        }
        if self
            .scenario
            .as_ref()
            .is_some_and(scenario::ScenarioView::is_running)
        {
            return Some(RunBlocker::ScenarioRunning);
        }
        let ready = match &self.plugin {
            PluginSlot::Ready(ready) => ready,
            PluginSlot::Opening(opening) => {
                return Some(RunBlocker::StillOpening {
                    label: opening.source.label(),
                });
            }
            PluginSlot::Asking(asking) => {
                return Some(RunBlocker::Asking {
                    label: asking.source.label(),
                });
            }
            PluginSlot::Empty | PluginSlot::Failed { .. } => return Some(RunBlocker::NoPlugin),
        };
        if crate::runner::host::harness::imports_harness(ready.session.inspection()) {
            return Some(RunBlocker::TestPlugin);
        }
        if !ready
            .session
            .inspection()
            .callable_functions()
            .contains(&self.state.function.as_str())
        {
            return Some(RunBlocker::NoFunction);
        }
        if let Some(error) = self.input_error() {
            return Some(RunBlocker::InvalidJson(error.clone()));
        }
        None
    }

    /// The trap's coredump to show: the last run's, else the one the open bundle carries.
    pub fn coredump(&self) -> Option<&Arc<Vec<u8>>> {
        self.last()
            .and_then(|l| l.report.coredump.as_ref())
            .or(self.opened_coredump.as_ref())
    }

    /// Where a frame's source `file` is on this machine (see [`sources::resolve`]).
    pub fn resolve_source(&self, file: &str) -> Option<PathBuf> {
        let plugin_dir = self
            .ready()
            .and_then(|r| r.origin.path())
            .and_then(std::path::Path::parent);
        sources::resolve(file, &self.state.source_maps, plugin_dir)
    }

    /// The Tests window's jobs.
    pub fn testing(&self) -> &Testing {
        &self.testing
    }

    /// The limit finder's search, while its window is open.
    pub fn limit_search(&self) -> Option<&limits::LimitJob> {
        self.limits.as_ref()
    }

    fn apply_test_command(&mut self, command: TestCommand) {
        match command {
            TestCommand::OpenSuite { path, trust } => {
                let registry = self.registry_settings();
                self.testing.open_suite(&path, trust, registry, &self.wake);
            }
            TestCommand::Run(only) => self.testing.run(only, self.worker.clone(), &self.wake),
            TestCommand::Stop => self.testing.stop(),
            TestCommand::Close => self.testing.close(),
            TestCommand::RunXtp(path) => {
                let under_test = self.plugin_under_test();
                self.testing
                    .run_xtp(&path, under_test, self.worker.clone(), &self.wake);
            }
            TestCommand::StopXtp => self.testing.stop_xtp(),
            TestCommand::CloseXtp => self.testing.close_xtp(),
        }
    }

    /// Opens test `test` of the suite open in the Tests window, at step `step`.
    fn open_test_of_open_suite(&mut self, test: usize, step: usize) {
        if let Some(Ok(suite)) = self.testing.suite().map(|s| &s.loaded) {
            let suite = suite.clone();
            self.open_suite_test(&suite, test, step);
        }
    }

    fn apply_limit_command(&mut self, command: LimitCommand) {
        match command {
            LimitCommand::Find => self.limits = self.find_limits(),
            LimitCommand::Stop => {
                if let Some(job) = &self.limits {
                    job.stop();
                }
            }
            LimitCommand::Close => {
                if let Some(job) = self.limits.take() {
                    job.stop();
                }
            }
            LimitCommand::Apply => self.apply_limits(),
        }
    }

    /// Sets the sandbox's memory max and timeout to what the limit finder suggests.
    fn apply_limits(&mut self) {
        let Some(Ok(found)) = self.limits.as_ref().and_then(|j| j.result()) else {
            return;
        };
        let mut options = self.state.options.clone();
        options.memory_max_pages = found.suggested_pages().and_then(|p| u32::try_from(p).ok());
        options.timeout_ms = Some(found.limits.timeout_ms);
        self.set_options(options);
    }

    /// Starts the limit finder for the current function and input (on a session of its own,
    /// so the plugin's own stays as it is); `None` when no plugin is ready.
    fn find_limits(&self) -> Option<limits::LimitJob> {
        let ready = self.ready()?;
        let request = crate::runner::CallRequest {
            function: self.state.function.clone(),
            input: self.input_bytes(),
            host: self.state.host.clone(),
            ..crate::runner::CallRequest::default()
        };
        Some(limits::LimitJob::start(
            &ready.session,
            request,
            Arc::clone(&self.wake),
        ))
    }

    /// The bytes the next run sends: a large input loaded from a file, or the editor's text.
    pub fn input_bytes(&self) -> Arc<Vec<u8>> {
        self.input.bytes(&self.state.input)
    }

    /// Everything needed to replay what the workbench holds now.
    pub fn scenario(&self) -> Option<Scenario> {
        let session = self.session()?;
        if let Some(view) = &self.scenario {
            // A scenario open: its steps, as they are (the editor is for trying one call).
            return Some(Scenario {
                plugin: session.plugin().clone(),
                options: self.state.options.clone(),
                keep_state: view.keep_state,
                host: view.host.clone(),
                host_functions: self.state.host_functions.clone(),
                steps: view.steps.clone(),
            });
        }
        Some(Scenario {
            plugin: session.plugin().clone(),
            options: self.state.options.clone(),
            keep_state: self.state.keep_state,
            host: self.state.host.clone(),
            host_functions: self.state.host_functions.clone(),
            steps: vec![Step {
                function: self.state.function.clone(),
                input: self.input_bytes().as_ref().clone(),
                input_mode: Some(self.state.input.mode),
                expected: self.state.expected.clone(),
            }],
        })
    }

    /// Go and Rust host programs for the current scenario.
    pub fn export_code(&self) -> Option<crate::bundle::export::HostPrograms> {
        let session = self.session()?;
        let scenario = self.scenario()?;
        let host_results = self
            .last()
            .map(|run| run.report.host_results.clone())
            .unwrap_or_default();
        let export = crate::bundle::export::Export {
            scenario: &scenario,
            inspection: session.inspection(),
            host: &session.host_functions(),
            host_results: &host_results,
        };
        Some(crate::bundle::export::HostPrograms {
            go: crate::bundle::export::go(&export),
            rust: crate::bundle::export::rust(&export),
        })
    }

    /// A name to suggest when saving: plugin and function, then `ending`, e.g.
    /// `hello-greet.session.json` for `.session.json`.
    pub fn suggested_name(&self, ending: &str) -> String {
        let stem = self.session().map_or("plugin", |s| {
            s.plugin()
                .display_name
                .trim_end_matches(".wasm")
                .trim_end_matches(".json")
        });
        format!("{stem}-{}{ending}", self.state.function)
    }

    // ---- acting ----

    /// Applies one command.
    #[expect(clippy::too_many_lines, reason = "one arm per command")]
    pub fn apply(&mut self, command: Command) {
        self.revision += 1;
        match command {
            Command::Open(source) => self.open(source, Intent::Fresh),
            Command::OpenFromRegistry {
                reference,
                login,
                plain_http,
            } => self.open_from_registry(&reference, login, plain_http),
            Command::CheckForNewer => self.check_for_newer(),
            Command::ForgetRegistryLogin(registry) => {
                let notice = self.registries.forget(&registry);
                self.say(notice);
            }
            Command::Reload => self.reload(false),
            Command::Build => self.build(),
            Command::NewPlugin { parent, spec } => self.new_plugin(&parent, &spec),
            Command::Run => self.run(1),
            Command::RunBench => self.run(self.state.bench_loops.max(2)),
            Command::Stop => {
                self.cancel_open();
                self.runs.stop();
                self.stop_scenario();
            }
            Command::StopBuild => self.builds.stop(),
            Command::ResetInstance => self.reset_instance(),
            Command::SelectFunction(function) => self.select_function(&function),
            Command::SetInputMode(mode) => self.state.input.mode = mode,
            Command::FormatInput => self.format_input(),
            Command::LoadInput(path) => self.load_input(&path),
            Command::ClearLargeInput => self.input.clear_large(),
            Command::SaveOutput(path) => self.save_output(&path),
            Command::ClearLogs => {
                if let Some(last) = self.runs.last_mut() {
                    last.clear_logs();
                }
            }
            Command::SetOptions(options) => self.set_options(options),
            Command::EnableWasi => {
                let options = SandboxOptions {
                    wasi: true,
                    ..self.state.options.clone()
                };
                self.set_options(options);
            }
            Command::SetAllowedPathHost { index, host } => {
                let mut options = self.state.options.clone();
                if let Some(entry) = options.allowed_paths.get_mut(index) {
                    entry.host = host;
                    self.set_options(options);
                }
            }
            Command::SetHostData(host) => self.state.host = host,
            Command::DefineHostFn(def) => {
                let name = def.qualified();
                self.edit_host_functions(|defs| define::upsert(defs, *def));
                self.say(self.host.verdict(&name));
            }
            Command::RemoveHostFn { module, name } => self.edit_host_functions(|defs| {
                defs.retain(|d| !(d.module == module && d.name == name));
            }),
            Command::EnableHostFn {
                module,
                name,
                enabled,
            } => self.edit_host_functions(|defs| {
                for d in defs
                    .iter_mut()
                    .filter(|d| d.module == module && d.name == name)
                {
                    d.enabled = enabled;
                }
            }),
            Command::SetKeepState(on) => self.state.keep_state = on,
            Command::SetRerunOnReload(on) => self.state.rerun_on_reload = on,
            Command::SetHotReload(on) => {
                self.state.hot_reload = on;
                self.rewatch();
            }
            Command::SetBundleSecrets(on) => self.state.bundle_secrets = on,
            Command::SetBenchLoops(loops) => self.state.bench_loops = loops,
            Command::RecordExpected => self.record_expected(),
            Command::ClearExpected => {
                self.state.expected = None;
                self.refresh_verdict();
            }
            Command::SaveSession { path, embed } => self.save_session(&path, embed),
            Command::ExportManifest(path) => self.export_manifest(&path),
            Command::Answer(answer) => self.answer(answer),
            Command::FollowRedirect(follow) => self.follow_redirect(follow),
            Command::ScenarioFromRuns(numbers) => self.scenario_from_history(&numbers),
            Command::RunScenario => self.run_scenario(),
            Command::EditScenarioStep(index) => self.edit_scenario_step(index),
            Command::CloseScenario => self.close_scenario(),
            Command::SetSourceMaps(maps) => self.state.source_maps = maps,
            Command::SetBundleCoredump(on) => self.state.bundle_coredump = on,
            Command::SaveCoredump(path) => {
                let notice = files::save_coredump(self.coredump(), &path);
                self.say(notice);
            }
            Command::AddRunToSuite(path) => self.add_run_to_suite(&path),
            Command::Revoke(sha256) => self.revoke(&sha256),
            Command::Tests(command) => self.apply_test_command(command),
            Command::OpenSuiteTest { test, step } => self.open_test_of_open_suite(test, step),
            Command::Limits(command) => self.apply_limit_command(command),
        }
        self.recheck_input();
    }

    /// Collects what finished in the background and checks for changed plugin files. Returns
    /// when it wants to be called again even if nothing else happens.
    pub fn poll(&mut self) -> Option<Duration> {
        self.poll_opening();
        self.poll_input_load();
        self.poll_newer();
        self.poll_run();
        self.poll_scenario();
        self.poll_build();
        self.testing.poll();
        self.check_hot_reload()
    }

    /// Puts `notice` in the status bar.
    fn say(&mut self, notice: Notice) {
        self.status = Some(notice);
    }

    /// The crate the open plugin was built from, if it sits in a crate's target folder
    /// (found when it was opened).
    pub fn build_crate(&self) -> Option<&crate::build::Crate> {
        self.ready()?.build_crate.as_ref()
    }

    /// The last build (running or finished).
    pub fn build_job(&self) -> Option<&build::BuildJob> {
        self.builds.job()
    }

    /// Whether a build is running.
    pub fn is_building(&self) -> bool {
        self.builds.is_running()
    }

    /// Why Build cannot start now, if it cannot.
    pub fn build_blocker(&self) -> Option<BuildBlocker> {
        self.builds.blocker(self.build_crate())
    }

    /// Builds the open plugin's crate; its module loads when the build succeeds.
    fn build(&mut self) {
        if let Some(why) = self.build_blocker() {
            return self.say(Notice::CannotBuild(why));
        }
        let krate = self
            .build_crate()
            .expect("checked by build_blocker")
            .clone();
        let wake = Arc::clone(&self.wake);
        let notice = self.builds.start(krate, build::AfterBuild::Reload, wake);
        self.say(notice);
    }

    /// Writes a starter kit into `parent` and builds it; its module opens when it is built.
    fn new_plugin(&mut self, parent: &std::path::Path, spec: &crate::starter::Spec) {
        let wake = Arc::clone(&self.wake);
        let notice = self.builds.create(parent, spec, wake);
        self.say(notice);
    }

    /// Acts on a build that just ended: its module opens, or the status says why not.
    fn poll_build(&mut self) {
        let Some(ended) = self.builds.poll(self.ready().is_some()) else {
            return;
        };
        let (after, artifact, seconds) = match ended {
            build::BuildEnded::Succeeded {
                after,
                artifact,
                seconds,
            } => (after, artifact, seconds),
            build::BuildEnded::Not(notice) => return self.say(notice),
        };
        match after {
            build::AfterBuild::Reload => {
                let still_open = self
                    .ready()
                    .and_then(|r| r.origin.path())
                    .is_some_and(|p| build::same_file(p, &artifact));
                if still_open {
                    self.open(Source::Path(artifact), Intent::Reload { automatic: false });
                } else {
                    // Another plugin was opened while it built: leave that one alone.
                    self.say(Notice::BuiltNotLoaded { artifact });
                }
            }
            build::AfterBuild::OpenNew(template) => {
                // Read in the background: the example is selected once it is installed.
                self.builds.expect_example(artifact.clone(), template);
                self.open(Source::Path(artifact), Intent::Fresh);
            }
        }
        let then = self.status.take().map(Box::new);
        self.say(Notice::Built { seconds, then });
    }

    /// Selects the new plugin's example, when the plugin just installed is its module.
    fn select_example(&mut self) {
        let opened = self
            .ready()
            .and_then(|r| r.origin.path())
            .map(PathBuf::from);
        if let Some((function, input)) = self.builds.example(opened.as_deref()) {
            self.state.function = function;
            self.state.input = input;
        }
    }

    /// The scenario open in the workbench, if any.
    pub fn scenario_view(&self) -> Option<&scenario::ScenarioView> {
        self.scenario.as_ref()
    }

    /// Makes `steps` the open scenario, its first step starting from the host data now.
    fn set_scenario(&mut self, name: String, steps: Vec<Step>, keep_state: bool) {
        let host = self.state.host.clone();
        self.scenario = Some(scenario::ScenarioView::new(name, steps, keep_state, host));
        self.revision += 1;
    }

    /// Makes a scenario of the history's runs `numbers`.
    fn scenario_from_history(&mut self, numbers: &[u64]) {
        let runs: Vec<_> = numbers
            .iter()
            .filter_map(|n| self.history().get(*n))
            .collect();
        match scenario::ScenarioView::from_runs(
            runs,
            &self.state.plugin.key(),
            &self.state.host.secrets,
        ) {
            Ok((view, made)) => {
                self.scenario = Some(view);
                self.revision += 1;
                self.say(made);
            }
            Err(why) => self.say(why),
        }
    }

    /// Replays every step of the open scenario, in the background.
    fn run_scenario(&mut self) {
        if self.is_running() {
            return self.say(Notice::CannotRunScenario(RunBlocker::CallRunning));
        }
        let Some(session) = self.session().cloned() else {
            return self.say(Notice::CannotRunScenario(RunBlocker::NoPlugin));
        };
        let (generation, wake) = (self.generation, Arc::clone(&self.wake));
        if let Some(view) = &mut self.scenario {
            let notice = view.start(session, generation, wake);
            self.say(notice);
        }
    }

    fn stop_scenario(&self) {
        if let Some(view) = &self.scenario {
            view.stop();
        }
    }

    fn poll_scenario(&mut self) {
        let generation = self.generation;
        if let Some(notice) = self
            .scenario
            .as_mut()
            .and_then(|view| view.poll(generation))
        {
            self.say(notice);
        }
    }

    /// Loads step `index` of the scenario into the editor (function, input, expected).
    fn edit_scenario_step(&mut self, index: usize) {
        let Some(step) = self
            .scenario
            .as_ref()
            .and_then(|v| v.steps.get(index))
            .cloned()
        else {
            return;
        };
        self.load_step(step);
        self.say(Notice::StepInEditor(index));
    }

    /// Closes the scenario: the workbench is back to single calls.
    fn close_scenario(&mut self) {
        self.stop_scenario();
        self.scenario = None;
        self.revision += 1;
    }

    /// Opens `text` (an `oci://` reference) with this login (kept in memory only); `plain_http`
    /// says whether its host is reached over plain HTTP from now on (`None`: as before).
    fn open_from_registry(
        &mut self,
        text: &str,
        login: Option<crate::registry::Login>,
        plain_http: Option<bool>,
    ) {
        let reference = match self.registries.attempt(text, login) {
            Ok(reference) => reference,
            Err(e) => return self.say(Notice::BadReference(Arc::new(e))),
        };
        let insecure = &mut self.state.insecure_registries;
        if plain_http == Some(true)
            && !reference.is_loopback()
            && !insecure.contains(&reference.registry)
        {
            insecure.push(reference.registry.clone());
        }
        if plain_http == Some(false) {
            insecure.retain(|h| *h != reference.registry && *h != reference.host());
        }
        self.open(Source::Registry(reference), Intent::Fresh);
    }

    /// The reference last given to Open from registry, as typed.
    pub fn registry_attempt(&self) -> Option<&str> {
        self.registries.last_attempt()
    }

    /// The user name of the login given in the window for `registry`, if any.
    pub fn registry_login_user(&self, registry: &str) -> Option<&str> {
        self.registries.login_user(registry)
    }

    /// Keeps pulled registry content in `cache` instead of the user's cache directory.
    #[must_use]
    pub fn with_registry_cache(mut self, cache: crate::registry::Cache) -> Self {
        self.registries.set_cache(cache);
        self
    }

    /// Reaches registries as `settings` say (the app's flags) before the window's own logins
    /// and plain-HTTP hosts.
    pub fn set_registry_settings(&mut self, settings: crate::registry::Settings) {
        self.registries.set_base(settings);
    }

    /// How pulls made from the window reach registries now: the settings the app started with
    /// (its flags) with the window's plain-HTTP hosts and logins.
    pub fn registry_settings(&self) -> crate::registry::Settings {
        self.registries.settings(&self.state.insecure_registries)
    }

    /// Stops a pull in progress (the previous plugin stays open).
    fn cancel_open(&self) {
        if let PluginSlot::Opening(opening) = &self.plugin
            && let Some(transfer) = &opening.transfer
        {
            transfer.cancel();
        }
    }

    /// Whether a plugin is being pulled from a registry (Stop stops it).
    pub fn is_pulling(&self) -> bool {
        matches!(&self.plugin, PluginSlot::Opening(o) if o.transfer.is_some())
    }

    /// Asks the registry where the open plugin's tag points now.
    fn check_for_newer(&mut self) {
        let Some(pin) = self
            .session()
            .and_then(|s| s.plugin().registry_pin().cloned())
        else {
            return self.say(Notice::NotPulled);
        };
        let Some(tag) = pin.tag_reference() else {
            return self.say(Notice::PulledByDigest);
        };
        let settings = self.registry_settings();
        let wake = Arc::clone(&self.wake);
        self.registries.check_for_newer(tag, settings, wake);
    }

    fn poll_newer(&mut self) {
        if !matches!(self.newer(), Some(registry::NewerCheck::Checking { .. })) {
            return;
        }
        let open = self
            .session()
            .and_then(|s| s.plugin().registry_pin().map(|p| p.digest.clone()))
            .unwrap_or_default();
        if let Some(notice) = self.registries.poll(open) {
            self.say(notice);
        }
    }

    /// The last "Check for newer", or the one in progress.
    pub fn newer(&self) -> Option<&registry::NewerCheck> {
        self.registries.newer()
    }

    /// Saves the last run's whole output.
    fn save_output(&mut self, path: &std::path::Path) {
        let notice = files::save_output(self.last(), path);
        self.say(notice);
    }

    /// Saves the current scenario: a session (the plugin by path) or, with `embed`, a
    /// self-contained bundle. Secret values are included only when the user said so.
    fn save_session(&mut self, path: &std::path::Path, embed: bool) {
        let with_coredump = embed && self.state.bundle_coredump && self.coredump().is_some();
        let save = files::Save {
            scenario: self.scenario(),
            embed,
            secrets: self.state.bundle_secrets,
            coredump: self.coredump().filter(|_| self.state.bundle_coredump),
        };
        match files::save_session(save, path, &self.trust) {
            Ok(()) => {
                // Reopened in this run, it finds the secrets it was saved without again.
                let secrets = self.state.host.secrets.clone();
                self.state
                    .set_secrets_aside_for(&PluginRef::Bundle(path.to_path_buf()), secrets);
                self.state.session_path = Some(path.to_path_buf());
                self.state.remember_session(path.to_path_buf());
                self.say(Notice::SessionSaved {
                    path: path.to_path_buf(),
                    embed,
                    secrets_left_out: !self.state.bundle_secrets
                        && !self.state.host.secrets.is_empty(),
                    with_coredump,
                });
            }
            Err(e) => self.say(Notice::SessionNotSaved(Arc::new(e))),
        }
    }

    /// Writes the plugin and its options as a plain Extism manifest.
    fn export_manifest(&mut self, path: &std::path::Path) {
        let notice = files::export_manifest(self.session(), &self.state.options, path, &self.trust);
        self.say(notice);
    }

    /// The module file a suite of the open plugin would name, or why there is none.
    pub fn suite_plugin_file(&self) -> Result<&std::path::Path, notice::NoSuiteFile> {
        let session = self.session().ok_or(notice::NoSuiteFile::NoPlugin)?;
        match &session.plugin().main().origin {
            crate::runner::source::ModuleOrigin::File(file) => Ok(file),
            _ => Err(notice::NoSuiteFile::NotAFile),
        }
    }

    /// Appends the last run to the suite file at `path` as a test.
    fn add_run_to_suite(&mut self, path: &std::path::Path) {
        // The history holds what the last run was given (the editor may have moved on since).
        let (Some(last), Some(run)) = (self.last(), self.history().runs().next_back()) else {
            return self.say(Notice::NoRunForSuite);
        };
        let wasm = match self.suite_plugin_file() {
            Ok(wasm) => wasm,
            Err(why) => return self.say(Notice::NoFileForSuite(why)),
        };
        // The definitions the plugin is linked with (fitted to its imports), not every one.
        let linked = self.host_functions();
        let host_functions: Vec<_> = self
            .state
            .host_functions
            .iter()
            .filter(|d| {
                linked
                    .get(&d.module, &d.name)
                    .is_some_and(|f| d.enabled && f.implementation.is_user_defined())
            })
            .cloned()
            .collect();
        let for_suite = files::RunForSuite {
            last,
            run,
            wasm,
            options: &self.state.options,
            host_functions: &host_functions,
        };
        let notice = files::add_run_to_suite(&for_suite, path, &self.trust);
        self.say(notice);
    }

    /// Opens test `test` of `suite`: its plugin with the suite's options, host data and host
    /// functions; its steps as the scenario; and its first failing step (else its first) in the
    /// editor.
    pub fn open_suite_test(&mut self, suite: &crate::suite::Suite, test: usize, step: usize) {
        let Some(case) = suite.tests.get(test) else {
            return;
        };
        let scenario = Scenario {
            plugin: suite.plugin.clone(),
            options: suite.options.clone(),
            keep_state: !case.fresh_instance,
            host: suite.host.clone(),
            host_functions: suite.host_functions.clone(),
            steps: case.steps.clone(),
        };
        let origin = match &suite.plugin.main().origin {
            crate::runner::source::ModuleOrigin::File(file) => PluginRef::File(file.clone()),
            _ => PluginRef::File(suite.path.clone()),
        };
        let opened = Opened {
            origin,
            plugin: suite.plugin.clone(),
            inspection: suite.inspection.clone(),
            setup: Setup::Scenario(Box::new(scenario)),
            watched: Vec::new(),
            grants: None,
            coredump: None,
            note: None,
        };
        self.install(opened, Intent::Fresh);
        // Named after the test, even with one step.
        self.set_scenario(case.name.clone(), case.steps.clone(), !case.fresh_instance);
        self.edit_scenario_step(step.min(case.steps.len().saturating_sub(1)));
        self.say(Notice::SuiteTestOpened {
            test: case.name.clone(),
            suite: suite.name(),
            step,
            steps: case.steps.len(),
        });
    }

    /// Calls the selected function with the input, `loops` times (more than one: a bench).
    fn run(&mut self, loops: u32) {
        if let Some(reason) = self.run_blocker() {
            return self.say(Notice::CannotRun(reason));
        }
        let PluginSlot::Ready(ready) = &self.plugin else {
            return;
        };
        let request = CallRequest {
            function: self.state.function.clone(),
            input: self.input_bytes(),
            host: self.state.host.clone(),
            // A single run keeps everything (the log table filters what it shows). A bench keeps
            // info and above: recording trace slows every call of the loop.
            log_level: if loops > 1 {
                LogLevel::Info
            } else {
                LogLevel::Trace
            },
            fresh_instance: !self.state.keep_state && loops <= 1,
            loops,
            // A trap's coredump comes back for Save coredump… (it is dropped with older runs).
            coredump: true,
        };
        let start = runs::Start {
            session: &ready.session,
            request,
            generation: self.generation,
            kv_before: Arc::new(self.state.host.kv.clone()),
        };
        let wake = Arc::clone(&self.wake);
        self.runs.start(start, wake);
    }

    /// Takes in a finished call: the kv store it left, and what the status bar says.
    fn poll_run(&mut self) {
        let Some(ended) = self.runs.poll(
            self.generation,
            || self.state.plugin.key(),
            self.state.expected.as_ref(),
        ) else {
            return;
        };
        if let Some(kv) = ended.kv_after {
            self.state.host.kv = kv;
        }
        self.say(ended.notice);
    }

    fn refresh_verdict(&mut self) {
        self.runs.refresh_verdict(self.state.expected.as_ref());
    }

    /// Opens the plugin the saved state names, falling back to the hello sample (and saying
    /// why) when it cannot be opened.
    pub fn restore(&mut self) {
        let source = match &self.state.plugin {
            PluginRef::Sample(name) => Source::sample(name).unwrap_or_else(hello),
            PluginRef::File(path) | PluginRef::Bundle(path) => Source::Path(path.clone()),
            PluginRef::Registry(reference) => {
                reference.parse().map_or_else(|_| hello(), Source::Registry)
            }
        };
        self.open(source, Intent::Restore);
    }

    /// Opens `source` for `intent`: read (a file on a background thread), decide what it asks
    /// for, resolve (in the background when it may block), install.
    pub fn open(&mut self, source: Source, intent: Intent) {
        if let Source::Path(path) = &source {
            let path = path.clone();
            let job = Job::spawn("read-plugin", Arc::clone(&self.wake), move |_| {
                open::read(&Source::Path(path)).map(|read| Stage::Read(Box::new(read)))
            });
            if intent == Intent::Fresh {
                self.say(Notice::Opening {
                    label: source.label(),
                    stage: notice::OpeningStage::Reading,
                });
            }
            return self.opening(source, intent, job, None, None);
        }
        // A sample or a reference: nothing to read from disk.
        match open::read(&source) {
            Ok(read) => self.decide(source, intent, read),
            Err(e) => self.open_failed(source, intent, e),
        }
    }

    /// Decides what a read source asks of the sandbox (from the trust list, the grants a reload
    /// keeps, or by asking the user), then resolves it.
    fn decide(&mut self, source: Source, intent: Intent, read: open::Read) {
        let Some(review) = read.review() else {
            return self.resolve(source, intent, read, Decision::Allow, None);
        };
        // Opened again to follow a redirect: what was decided holds while it asks for no more.
        if let Some((followed, decided)) = self.following.take()
            && followed == source
            && decided
                .review
                .as_ref()
                .is_some_and(|before| review.within(before))
        {
            return self.resolve(source, intent, read, decided.decision, decided.trust);
        }
        let trust = self.trust.trust(review);
        if !review.needs_consent() || trust.is_some() {
            return self.resolve(source, intent, read, Decision::Allow, trust);
        }
        // A reload that asks for nothing new keeps what was decided for the file.
        if matches!(intent, Intent::Reload { .. })
            && let Some(previous) = self.ready().and_then(|r| r.grants.as_ref())
            && review.within(&previous.review)
        {
            let decision = previous.decision;
            return self.resolve(source, intent, read, decision, None);
        }
        self.say(Notice::AsksForAccess {
            label: source.label(),
        });
        let previous = self.plugin.take_ready();
        self.plugin = PluginSlot::Asking(Box::new(Asking {
            source,
            intent,
            read,
            previous,
        }));
    }

    /// Applies the user's answer to the file that asked.
    fn answer(&mut self, answer: Answer) {
        if !matches!(self.plugin, PluginSlot::Asking(_)) {
            return;
        }
        let PluginSlot::Asking(asking) = std::mem::replace(&mut self.plugin, PluginSlot::Empty)
        else {
            return;
        };
        let Asking {
            source,
            intent,
            read,
            previous,
        } = *asking;
        self.plugin = previous.map_or(PluginSlot::Empty, PluginSlot::Ready);
        let decision = match answer {
            Answer::Allow => Decision::Allow,
            Answer::AllowAndRemember => {
                if let Some(review) = read.review()
                    && let Err(e) = self.trust.remember(review)
                {
                    self.say(Notice::NotRemembered(Arc::new(e)));
                }
                Decision::Allow
            }
            Answer::WithoutGrants => Decision::WithoutGrants,
            Answer::Cancel => {
                if intent == Intent::Restore {
                    self.open(hello(), Intent::Fresh);
                }
                return self.say(Notice::NothingGranted {
                    label: source.label(),
                });
            }
        };
        self.resolve(source, intent, read, decision, None);
    }

    fn revoke(&mut self, sha256: &str) {
        match self.trust.revoke(sha256) {
            Ok(()) => self.say(Notice::Revoked),
            Err(e) => self.say(Notice::RevokeFailed(Arc::new(e))),
        }
    }

    /// Resolves a read source with its grants decided (in the background when it may block),
    /// then installs it.
    fn resolve(
        &mut self,
        source: Source,
        intent: Intent,
        read: open::Read,
        decision: Decision,
        trust: Option<Trust>,
    ) {
        if !read.may_block() {
            match read.resolve(decision, trust, &self.registry_settings()) {
                Ok(opened) => self.install(opened, intent),
                Err(e) => self.open_failed(source, intent, e),
            }
            return;
        }
        let decided = Decided {
            decision,
            trust,
            review: read.review().cloned(),
        };
        let wake = Arc::clone(&self.wake);
        let read = {
            let wake = Arc::clone(&self.wake);
            read.with_wake(move || wake()).with_redirects(
                self.redirects
                    .iter()
                    .filter(|(of, _)| *of == source)
                    .map(|(_, origin)| origin.clone()),
            )
        };
        let transfer = read.transfer();
        let downloads = read.downloads();
        let settings = self.registry_settings();
        let job = Job::spawn("open-plugin", wake, move |_| {
            read.resolve(decision, trust, &settings)
                .map(|opened| Stage::Opened(Box::new(opened)))
        });
        let stage = if transfer.is_some() {
            Some(notice::OpeningStage::Pulling)
        } else if downloads {
            Some(notice::OpeningStage::Downloading)
        } else {
            (intent == Intent::Fresh).then_some(notice::OpeningStage::Reading)
        };
        if let Some(stage) = stage {
            self.say(Notice::Opening {
                label: source.label(),
                stage,
            });
        }
        self.opening(source, intent, job, transfer, Some(decided));
    }

    /// Puts `job` (reading or resolving `source`) in the plugin slot; the plugin open now
    /// stays shown meanwhile, and comes back if it fails.
    fn opening(
        &mut self,
        source: Source,
        intent: Intent,
        job: Job<Result<Stage, OpenError>>,
        transfer: Option<Arc<crate::registry::Transfer>>,
        decided: Option<Decided>,
    ) {
        let previous = self.plugin.take_ready();
        self.plugin = PluginSlot::Opening(Box::new(Opening {
            source,
            intent,
            job,
            transfer,
            previous,
            decided,
        }));
    }

    fn poll_opening(&mut self) {
        let finished = matches!(&self.plugin, PluginSlot::Opening(o) if !o.job.is_running());
        if !finished {
            return;
        }
        let PluginSlot::Opening(opening) = std::mem::replace(&mut self.plugin, PluginSlot::Empty)
        else {
            return;
        };
        let Opening {
            source,
            intent,
            job,
            previous,
            decided,
            ..
        } = *opening;
        self.plugin = previous.map_or(PluginSlot::Empty, PluginSlot::Ready);
        let Ok(stage) = job.finish() else {
            unreachable!("the job ended: checked above")
        };
        match stage {
            Ok(Stage::Read(read)) => self.decide(source, intent, *read),
            Ok(Stage::Opened(opened)) => self.install(*opened, intent),
            Err(OpenError::Load(LoadError::Redirected { url, to, origin }))
                if !matches!(intent, Intent::Reload { .. }) =>
            {
                self.say(Notice::RedirectAsked {
                    url: url.clone(),
                    origin: origin.clone(),
                });
                self.redirect_question = Some(RedirectQuestion {
                    source,
                    intent,
                    url,
                    to,
                    origin,
                    decided,
                });
            }
            Err(e) => self.open_failed(source, intent, e),
        }
    }

    /// The redirect waiting for the user's answer, if any.
    pub fn redirect_question(&self) -> Option<&RedirectQuestion> {
        self.redirect_question.as_ref()
    }

    /// Follows (opening the file again, its grants as decided) or drops the redirect asked
    /// about.
    fn follow_redirect(&mut self, follow: bool) {
        let Some(question) = self.redirect_question.take() else {
            return;
        };
        if !follow {
            return self.say(Notice::RedirectRefused {
                label: question.source.label(),
                origin: question.origin,
            });
        }
        let allowed = (question.source.clone(), question.origin.clone());
        if !self.redirects.contains(&allowed) {
            self.redirects.push(allowed);
        }
        if let Some(decided) = question.decided {
            self.following = Some((question.source.clone(), decided));
        }
        self.open(question.source, question.intent);
    }

    /// Says why `source` could not be opened; what stays open depends on `intent`.
    fn open_failed(&mut self, source: Source, intent: Intent, error: OpenError) {
        let error = Arc::new(error);
        match intent {
            Intent::Reload { .. } => {
                // Keep the working version; take the files' stamps as seen, so a half-written
                // file is not retried every tick.
                if let PluginSlot::Ready(ready) = &mut self.plugin {
                    for file in &mut ready.watched {
                        file.restamp();
                    }
                }
                self.say(Notice::ReloadFailed {
                    label: source.label(),
                    error,
                });
            }
            Intent::Restore => {
                self.open(hello(), Intent::Fresh);
                self.say(Notice::RestoreFailed(error));
            }
            Intent::Fresh => {
                self.say(Notice::OpenFailed {
                    source: source.clone(),
                    error: Arc::clone(&error),
                });
                match &mut self.plugin {
                    PluginSlot::Ready(ready) => ready.open_error = Some(error),
                    PluginSlot::Empty
                    | PluginSlot::Opening(_)
                    | PluginSlot::Asking(_)
                    | PluginSlot::Failed { .. } => {
                        self.plugin = PluginSlot::Failed { source, error };
                    }
                }
            }
        }
    }

    /// Makes `opened` the open plugin: its session, and the options, function and input
    /// `intent` calls for.
    fn install(&mut self, opened: Opened, intent: Intent) {
        let Opened {
            origin,
            plugin,
            inspection,
            setup,
            watched,
            grants,
            coredump,
            note,
        } = opened;
        self.opened_coredump = coredump;
        self.registries.forget_newer();
        if self.ready().is_some() && (intent == Intent::Fresh || self.state.plugin != origin) {
            // Leaving a plugin (or starting it over): remember what it used.
            self.state.remember_current();
        }
        let previous_function = self.state.function.clone();
        let was_own = self
            .ready()
            .and_then(|r| r.grants.as_deref())
            .is_some_and(FileGrants::is_own);
        self.switch_to(origin.clone(), &setup);
        if matches!(intent, Intent::Reload { .. }) && was_own {
            self.reloaded_own(grants.as_ref(), &setup);
        }
        match &origin {
            PluginRef::File(path) => self.state.remember_file(path.clone()),
            PluginRef::Bundle(path) => {
                self.state.session_path = Some(path.clone());
                self.state.remember_session(path.clone());
            }
            PluginRef::Registry(_) => {
                if intent == Intent::Fresh
                    && let Some(pin) = plugin.registry_pin()
                {
                    self.state.remember_reference(pin.reference.clone());
                }
            }
            PluginRef::Sample(_) => {}
        }
        let remembered = self.state.memory().cloned().unwrap_or_default();
        let options_origin = match intent {
            Intent::Restore | Intent::Reload { .. } => {
                // Options kept from before lose what the file was opened without this time.
                if let Some(grants) = &grants
                    && grants.decision == Decision::WithoutGrants
                {
                    grants.review.strip(&mut self.state.options);
                }
                OptionsOrigin::Kept
            }
            Intent::Fresh => {
                let (options, origin) =
                    fresh_options(&setup, remembered.options, inspection.needs_wasi);
                self.state.options = options;
                origin
            }
        };
        // A call still running belongs to the previous plugin: stop it; its result is dropped.
        self.runs.stop();
        let session = Session::inspected(
            plugin,
            inspection,
            self.state.options.clone(),
            self.host.registry().clone(),
            self.worker.clone(),
        );
        let build_crate = origin.path().and_then(crate::build::Crate::of_module);
        self.plugin = PluginSlot::Ready(Box::new(Ready {
            build_crate,
            origin,
            session,
            watched,
            options_origin,
            open_error: None,
            grants: grants.map(Arc::new),
        }));
        self.generation += 1;
        self.runs.forget_last();
        self.rewatch();
        let sample = match &setup {
            Setup::Sample(sample) => Some(*sample),
            _ => None,
        };
        self.select_for(intent, setup, remembered.function, &previous_function);
        self.select_example();
        if let Some(sample) = sample {
            self.define_sample_mocks(sample);
        }
        self.rebuild_host();
        self.recheck_input();
        self.refresh_verdict();
        if let Some(note) = note {
            self.say(Notice::OpenedWithNote(note));
        }
        if matches!(intent, Intent::Reload { .. }) {
            self.rerun_after_reload();
        }
    }

    /// Makes `origin` the open plugin in the state. Host data belongs to its plugin: one left
    /// keeps its own for when it comes back, and one opened takes its own (a sample's, or none).
    fn switch_to(&mut self, origin: PluginRef, setup: &Setup) {
        if self.state.plugin == origin {
            return;
        }
        self.state.set_host_aside();
        self.state.plugin = origin;
        self.state.take_host(|| match setup {
            Setup::Sample(sample) => (sample.host_data(), Vec::new()),
            _ => Default::default(),
        });
        load_kept_definitions(&mut self.state.host_functions);
        self.foreign_secrets = false;
    }

    /// After a reload of a file saved here: one that changed on disk into someone else's (no
    /// longer trusted as ours) keeps none of the secrets entered for it, only those it carries.
    fn reloaded_own(&mut self, grants: Option<&FileGrants>, setup: &Setup) {
        if !grants.is_some_and(FileGrants::is_own)
            && let Setup::Scenario(scenario) = setup
        {
            self.state.host.secrets.clone_from(&scenario.host.secrets);
            self.foreign_secrets = true;
        }
    }

    /// Runs the current function again on the reloaded plugin (when the user wants that and
    /// nothing stands in the way), to be compared with the last run of it.
    fn rerun_after_reload(&mut self) {
        if !self.state.rerun_on_reload || self.scenario.is_some() || self.run_blocker().is_some() {
            return;
        }
        self.runs.rerun(&self.state.function, &self.input_bytes());
        self.run(1);
    }

    /// Gives a sample's imports the mocks it comes with, unless the user defined them (and
    /// the definition still works).
    fn define_sample_mocks(&mut self, sample: &samples::Sample) {
        for def in sample.host_functions() {
            let usable = self.state.host_functions.iter().any(|d| {
                d.module == def.module
                    && d.name == def.name
                    && !matches!(&d.behaviour, Behaviour::Wasm(m) if m.loaded.is_none())
            });
            if !usable {
                define::upsert(&mut self.state.host_functions, def);
            }
        }
    }

    /// Fits the user's definitions to the open plugin's imports and links the result from the
    /// next call on.
    fn rebuild_host(&mut self) {
        // A session is a handle: the clone shares the plugin open.
        let session = self.session().cloned();
        let imports = session.as_ref().map(|s| s.inspection().imports.as_slice());
        self.host.rebuild(&self.state.host_functions, imports);
        if let Some(session) = session
            && session.set_host_functions(self.host.registry().clone())
        {
            self.revision += 1;
        }
    }

    /// Applies a change to the user's host function definitions.
    fn edit_host_functions(&mut self, edit: impl FnOnce(&mut Vec<HostFnDef>)) {
        edit(&mut self.state.host_functions);
        self.rebuild_host();
    }

    /// After an install: the function, input and expected outcome `intent` calls for, and a
    /// status line saying what happened.
    fn select_for(
        &mut self,
        intent: Intent,
        setup: Setup,
        remembered: Option<String>,
        previous_function: &str,
    ) {
        let Some(session) = self.session() else {
            return;
        };
        let name = session.plugin().display_name.clone();
        let inspection = session.inspection();
        let callable: Vec<String> = inspection
            .callable_functions()
            .iter()
            .map(|f| (*f).to_string())
            .collect();
        let default_function = inspection.default_function().map(str::to_string);
        let usable = |f: &str| callable.iter().any(|c| c == f);
        // `preferred` if the plugin has it, else its first entry point.
        let pick = |preferred: Option<String>| {
            preferred
                .filter(|f| usable(f))
                .or_else(|| default_function.clone())
                .unwrap_or_default()
        };
        match (intent, setup) {
            (Intent::Fresh, Setup::Scenario(scenario)) => {
                let own = self
                    .ready()
                    .and_then(|r| r.grants.as_deref())
                    .is_some_and(FileGrants::is_own);
                self.take_scenario(*scenario, own);
                let from = self
                    .state
                    .plugin
                    .path()
                    .map_or_else(|| name.clone(), |p| p.display().to_string());
                self.say(Notice::Opened(notice::Opened::Scenario {
                    from,
                    steps: self.scenario.as_ref().map(|view| view.steps.len()),
                    function: self.state.function.clone(),
                    coredump: self.opened_coredump.is_some(),
                }));
            }
            (Intent::Fresh, setup) => {
                // The function used last, else a sample's first example, else the first entry
                // point.
                let (example, opened) = match setup {
                    Setup::Sample(sample) => (
                        sample.functions.first().map(|f| f.name.to_string()),
                        notice::Opened::Sample {
                            name: sample.name.to_string(),
                            description: sample.description.to_string(),
                        },
                    ),
                    Setup::Module | Setup::Manifest(_) | Setup::Scenario(_) => {
                        (None, notice::Opened::Plugin { name })
                    }
                };
                let function = pick(remembered.filter(|f| usable(f)).or(example));
                self.scenario = None;
                self.select(&function);
                self.state.expected = None;
                self.input.clear_large();
                self.say(Notice::Opened(opened));
            }
            (Intent::Restore, setup) => {
                // A saved scenario comes back with the window (the editor keeps what it had).
                if let Setup::Scenario(scenario) = setup
                    && scenario.steps.len() > 1
                {
                    let name = self
                        .state
                        .plugin
                        .path()
                        .and_then(|p| p.file_name())
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                    self.set_scenario(name, scenario.steps, scenario.keep_state);
                }
                if !usable(&self.state.function) {
                    let function = pick(None);
                    self.select(&function);
                }
            }
            (Intent::Reload { automatic }, _) => {
                self.runs.fresh_because(FreshReason::Reloaded);
                let gone = !usable(previous_function);
                if gone {
                    let function = pick(None);
                    self.select(&function);
                }
                self.say(Notice::Reloaded {
                    name,
                    automatic,
                    gone: gone.then(|| previous_function.to_string()),
                });
            }
        }
    }

    /// Makes `function` the selected one, with its saved input (nothing is stashed: the
    /// caller already remembered what it leaves).
    fn select(&mut self, function: &str) {
        self.state.function = function.to_string();
        self.state.input = self.draft_for(function);
    }

    /// Takes a session's or bundle's options, host data, function, input and expected outcome.
    /// (The options were taken when the session was made.) A file this app saved (`own`) may
    /// use the secrets entered for it here for the names it leaves empty; a file from anyone
    /// else gets only the values it carries.
    fn take_scenario(&mut self, scenario: Scenario, own: bool) {
        self.state.keep_state = scenario.keep_state;
        self.state.host.kv = scenario.host.kv;
        // The file's definitions stand, as it was saved.
        self.state.host_functions = scenario.host_functions;
        if own {
            // Secrets saved without values stay unset (get_secret says so, and the name shows
            // for the user to fill in), unless one was entered for this file in this run.
            for (name, value) in scenario.host.secrets {
                if value.is_empty() {
                    self.state.host.secrets.entry(name).or_default();
                } else {
                    self.state.host.secrets.insert(name, value);
                }
            }
        } else {
            self.state.host.secrets = scenario.host.secrets;
        }
        self.foreign_secrets = !own;
        self.scenario = None;
        if scenario.steps.len() > 1 {
            let name = self
                .state
                .plugin
                .path()
                .and_then(|p| p.file_name())
                .map_or_else(
                    || "the file's scenario".to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
            self.set_scenario(name, scenario.steps.clone(), scenario.keep_state);
        }
        let step = scenario
            .steps
            .into_iter()
            .next()
            .expect("a scenario has a step");
        self.load_step(step);
    }

    /// Puts a step's function, input and expected outcome in the editor.
    fn load_step(&mut self, step: crate::bundle::Step) {
        self.state.function = step.function;
        self.revision += 1;
        self.input.place(
            &mut self.state.input,
            "the bundle's input",
            step.input,
            step.input_mode,
        );
        self.state.expected = step.expected;
    }

    /// Reads the open plugin's file again.
    fn reload(&mut self, automatic: bool) {
        let Some(path) = self
            .ready()
            .and_then(|r| r.origin.path())
            .map(PathBuf::from)
        else {
            self.say(Notice::NothingToReload);
            return;
        };
        self.open(Source::Path(path), Intent::Reload { automatic });
    }

    /// Watches the open plugin's files, when hot reload is on and it has files.
    fn rewatch(&mut self) {
        self.watch = Watch::Off;
        let files: Vec<PathBuf> = match self.ready() {
            Some(ready) if self.state.hot_reload => {
                ready.watched.iter().map(|w| w.path.clone()).collect()
            }
            _ => return,
        };
        if files.is_empty() {
            return;
        }
        self.watch = match watch::Watcher::start(&files, Arc::clone(&self.wake)) {
            Ok(watcher) => Watch::Events(watcher),
            Err(e) => {
                tracing::warn!("{e}; hot reload looks at the files every {RELOAD_CHECK:?} instead");
                Watch::Polling {
                    next: Instant::now() + RELOAD_CHECK,
                    why: e.to_string(),
                }
            }
        };
    }

    /// Reloads the plugin if its files changed (not while a call runs: the change waits for
    /// it). Returns when it wants to be asked again: only when the OS cannot tell it.
    fn check_hot_reload(&mut self) -> Option<Duration> {
        // A build reloads when it ends (a change seen while it runs waits for that).
        let idle = !self.is_running()
            && !self
                .ready()
                .and_then(|r| r.origin.path())
                .is_some_and(|module| self.builds.is_building(module))
            && matches!(self.plugin, PluginSlot::Ready(_));
        let now = Instant::now();
        if let Watch::Events(watcher) = &self.watch
            && watcher.take_lost()
        {
            // Its folder went away (`cargo clean`): watch again, or poll until it is back.
            self.rewatch();
        }
        let (look, again) = match &mut self.watch {
            Watch::Off => return None,
            Watch::Events(watcher) => (idle && watcher.take_changed(), None),
            Watch::Polling { next, .. } => {
                if now < *next {
                    return Some(*next - now);
                }
                *next = now + RELOAD_CHECK;
                (idle, Some(RELOAD_CHECK))
            }
        };
        if look
            && self
                .ready()
                .is_some_and(|r| r.watched.iter().any(WatchedFile::changed))
        {
            self.reload(true);
        }
        again
    }

    /// How hot reload watches the open plugin (for the plugin panel).
    pub fn watch(&self) -> &Watch {
        &self.watch
    }

    /// Uses `options` from the next run on.
    fn set_options(&mut self, options: SandboxOptions) {
        self.state.options = options;
        if let Some(session) = self.session()
            && session.set_options(self.state.options.clone())
        {
            self.runs.fresh_because(FreshReason::OptionsChanged);
        }
    }

    fn reset_instance(&mut self) {
        if let Some(session) = self.session() {
            session.reset();
        }
        self.runs.fresh_because(FreshReason::ResetByYou);
        self.say(Notice::InstanceDiscarded);
    }

    /// The saved input of `function` for the open plugin, or the sample's example, or empty.
    fn draft_for(&self, function: &str) -> InputDraft {
        if let Some(draft) = self.state.memory().and_then(|m| m.inputs.get(function)) {
            return draft.clone();
        }
        let example = match &self.state.plugin {
            PluginRef::Sample(name) => samples::find(name).and_then(|s| s.function(function)),
            PluginRef::File(_) | PluginRef::Bundle(_) | PluginRef::Registry(_) => None,
        };
        example.map_or_else(InputDraft::default, |example| InputDraft {
            text: example.input.to_string(),
            mode: example.mode,
        })
    }

    fn select_function(&mut self, function: &str) {
        if function == self.state.function {
            return;
        }
        self.state.remember_current();
        self.select(function);
    }

    fn format_input(&mut self) {
        match serde_json::from_str::<serde_json::Value>(&self.state.input.text) {
            Ok(value) => {
                if let Ok(pretty) = serde_json::to_string_pretty(&value) {
                    self.state.input.text = pretty;
                    self.state.input.mode = InputMode::Json;
                }
            }
            Err(e) => self.say(Notice::CannotFormat(Arc::new(e))),
        }
    }

    /// Uses `bytes` as the input, outside the text editor (as Load input does for big or
    /// binary files).
    pub fn set_large_input(&mut self, name: &str, bytes: Vec<u8>) {
        self.revision += 1;
        self.input.set_large(name, bytes);
    }

    fn record_expected(&mut self) {
        let Some(last) = self.runs.last() else { return };
        let expected = ExpectedOutcome::of(&last.report);
        self.state.expected = Some(expected.clone());
        self.refresh_verdict();
        self.say(Notice::ExpectedRecorded(expected));
    }

    /// The state to save, with the open plugin's memory brought up to date.
    pub fn state_to_save(&mut self) -> &WorkbenchState {
        self.state.remember_current();
        &self.state
    }
}

/// The options a plugin opened by the user starts with, and where they came from: a session's
/// own; a manifest's (WASI and fuel, which a manifest cannot say, as last used); what the user
/// set for this plugin last time; a sample's; or, for a plugin never seen, a closed sandbox.
/// A module that imports WASI gets WASI on unless someone chose otherwise for it.
fn fresh_options(
    setup: &Setup,
    remembered: Option<SandboxOptions>,
    needs_wasi: bool,
) -> (SandboxOptions, OptionsOrigin) {
    let (mut options, origin) = match (setup, remembered) {
        (Setup::Scenario(scenario), _) => (scenario.options.clone(), OptionsOrigin::Scenario),
        (Setup::Manifest(options), remembered) => {
            let mut options = options.clone();
            if let Some(remembered) = remembered {
                options.wasi = remembered.wasi;
                options.fuel_limit = remembered.fuel_limit;
            }
            (options, OptionsOrigin::Manifest)
        }
        (Setup::Module | Setup::Sample(_), Some(remembered)) => {
            (remembered, OptionsOrigin::Remembered)
        }
        (Setup::Sample(sample), None) => (sample.options(), OptionsOrigin::Sample),
        (Setup::Module, None) => (SandboxOptions::default(), OptionsOrigin::Defaults),
    };
    if needs_wasi && matches!(origin, OptionsOrigin::Defaults | OptionsOrigin::Manifest) {
        options.wasi = true;
    }
    (options, origin)
}

/// Finds the mock-host plugins of definitions kept by path or sha256 again (one that is gone
/// shows as a problem of its definition).
fn load_kept_definitions(defs: &mut [HostFnDef]) {
    let cache = crate::trust::store::mock_host_cache();
    for def in defs {
        if matches!(&def.behaviour, Behaviour::Wasm(m) if m.loaded.is_some()) {
            continue;
        }
        let _ = def.load(define::LoadFrom {
            base: std::path::Path::new("."),
            script_files: false,
            cache: cache.as_deref(),
        });
    }
}

/// The sample every fallback opens.
fn hello() -> Source {
    Source::sample("hello").expect("the hello sample is built in")
}
