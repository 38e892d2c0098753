//! The author's loop in the workbench: New plugin (a starter kit written and built), Build of
//! the open plugin's crate, and what follows a build: the new module loaded (and re-run), or
//! the previous one kept when the build failed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::build::{Build, Crate, Outcome};
use crate::starter::{self, Spec, Template};

use super::{BuildBlocker, InputDraft, InputMode, Intent, Notice, Source, Workbench};

/// What to do when a build succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterBuild {
    /// Load the new module in place of the open one (and re-run, when that is on).
    Reload,
    /// Open the module of a new plugin, with its template's example selected.
    OpenNew(Template),
}

/// A build, running or finished, with its output (shown in the Build tab until the next).
pub struct BuildJob {
    pub build: Build,
    pub after: AfterBuild,
    /// Whether what follows its end was done.
    handled: bool,
    /// Counts builds, so the window can tell a new one ended.
    pub number: u64,
}

impl BuildJob {
    /// Whether cargo is still running.
    pub fn is_running(&self) -> bool {
        self.build.outcome().is_none()
    }
}

impl Workbench {
    /// The crate the open plugin was built from, if it sits in a crate's target folder
    /// (found when it was opened).
    pub fn build_crate(&self) -> Option<&Crate> {
        self.ready()?.build_crate.as_ref()
    }

    /// The last build (running or finished).
    pub fn build_job(&self) -> Option<&BuildJob> {
        self.build.as_ref()
    }

    /// Whether a build is running.
    pub fn is_building(&self) -> bool {
        self.build.as_ref().is_some_and(BuildJob::is_running)
    }

    /// Whether a build of the open plugin's own module is running (hot reload waits for it).
    pub(super) fn is_building_open_plugin(&self) -> bool {
        self.build.as_ref().is_some_and(|job| {
            job.is_running()
                && self
                    .ready()
                    .and_then(|r| r.origin.path())
                    .is_some_and(|p| same_file(p, &job.build.krate.artifact))
        })
    }

    /// Why Build cannot start now, if it cannot.
    pub fn build_blocker(&self) -> Option<BuildBlocker> {
        if self.is_building() {
            return Some(BuildBlocker::Building);
        }
        if self.build_crate().is_none() {
            return Some(BuildBlocker::NotACrate);
        }
        None
    }

    pub(super) fn build(&mut self) {
        if let Some(why) = self.build_blocker() {
            return self.say(Notice::CannotBuild(why));
        }
        let krate = self
            .build_crate()
            .expect("checked by build_blocker")
            .clone();
        self.start_build(krate, AfterBuild::Reload);
    }

    fn start_build(&mut self, krate: Crate, after: AfterBuild) {
        self.say(Notice::Building {
            command_line: krate.command_line(),
        });
        let number = self.build.as_ref().map_or(1, |b| b.number + 1);
        let wake = Arc::clone(&self.wake);
        self.build = Some(BuildJob {
            build: Build::start(krate, Arc::new(move || wake())),
            after,
            handled: false,
            number,
        });
    }

    pub(super) fn stop_build(&mut self) {
        if let Some(job) = &self.build
            && job.is_running()
        {
            job.build.stop();
        }
    }

    /// Writes a starter kit into `parent` and builds it; the new module opens when it is built.
    pub(super) fn new_plugin(&mut self, parent: &Path, spec: &Spec) {
        // cargo is started in the crate's folder: every path it gets must be absolute.
        let parent = match std::path::absolute(parent) {
            Ok(parent) => parent,
            Err(error) => {
                return self.say(Notice::BadParent {
                    parent: parent.to_path_buf(),
                    error: Arc::new(error),
                });
            }
        };
        let parent = parent.as_path();
        if self.is_building() {
            return self.say(Notice::CreateWhileBuilding);
        }
        match starter::create(parent, spec) {
            Ok(created) => {
                let krate = Crate {
                    dir: created.dir.clone(),
                    target: created.target.to_string(),
                    profile: "release".to_string(),
                    target_dir: created.dir.join("target"),
                    artifact: created.artifact,
                };
                self.start_build(krate, AfterBuild::OpenNew(spec.template));
                self.say(Notice::Created { dir: created.dir });
            }
            Err(e) => self.say(Notice::NotCreated(Arc::new(e))),
        }
    }

    /// Acts on a build that just ended.
    pub(super) fn poll_build(&mut self) {
        let Some(job) = &mut self.build else { return };
        let Some(outcome) = job.build.outcome().cloned() else {
            return;
        };
        if job.handled {
            return;
        }
        job.handled = true;
        let after = job.after;
        let artifact = job.build.krate.artifact.clone();
        let (first_error, advice) = {
            let lines = job.build.lines();
            (
                lines
                    .iter()
                    .find(|l| crate::build::is_error_message(&l.text))
                    .map(|l| l.text.clone()),
                crate::build::advice(&lines, &job.build.krate.target),
            )
        };
        match outcome {
            Outcome::Succeeded { duration_ms } => {
                self.after_build(after, artifact);
                let then = self.status.take().map(Box::new);
                self.say(Notice::Built {
                    seconds: duration_ms / 1000.0,
                    then,
                });
            }
            Outcome::Failed { errors, .. } => {
                let kept = self.ready().is_some() && after == AfterBuild::Reload;
                self.say(Notice::BuildFailed {
                    errors,
                    first_error: if advice.is_some() { None } else { first_error },
                    advice,
                    kept,
                });
            }
            Outcome::Stopped => self.say(Notice::BuildStopped),
            Outcome::Aborted(why) => self.say(Notice::BuildAborted(why)),
        }
    }

    fn after_build(&mut self, after: AfterBuild, artifact: PathBuf) {
        match after {
            AfterBuild::Reload => {
                let still_open = self
                    .ready()
                    .and_then(|r| r.origin.path())
                    .is_some_and(|p| same_file(p, &artifact));
                if still_open {
                    self.open(Source::Path(artifact), Intent::Reload { automatic: false });
                } else {
                    // Another plugin was opened while it built: leave that one alone.
                    self.say(Notice::BuiltNotLoaded { artifact });
                }
            }
            AfterBuild::OpenNew(template) => {
                // Read in the background: the example is selected once it is installed.
                self.example_for = Some((artifact.clone(), template));
                self.open(Source::Path(artifact), Intent::Fresh);
            }
        }
    }

    /// Selects the template's example, when the plugin just installed is the new plugin's
    /// module it was kept for.
    pub(super) fn select_example(&mut self) {
        let Some((artifact, template)) = self.example_for.take() else {
            return;
        };
        let opened = self
            .ready()
            .and_then(|r| r.origin.path())
            .is_some_and(|p| p == artifact);
        if opened {
            let (function, input) = template.example();
            self.state.function = function.to_string();
            self.state.input = InputDraft {
                text: input.to_string(),
                mode: if input.starts_with('{') {
                    InputMode::Json
                } else {
                    InputMode::Raw
                },
            };
        }
    }
}

/// Whether two paths name the same file (as given, or once resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
        }
}
