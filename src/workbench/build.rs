//! The author's loop in the workbench: New plugin (a starter kit written and built), Build of
//! the open plugin's crate, and what follows a build: the new module loaded (and re-run), or
//! the previous one kept when the build failed. [`Builds`] owns the build; the workbench opens
//! what it built.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::build::{Build, Crate, Outcome};
use crate::starter::{self, Spec, Template};

use super::{BuildBlocker, InputDraft, InputMode, Notice, Waker};

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

/// The builds: the last one (running or finished) and the new plugin whose example is
/// selected once its module opens.
#[derive(Default)]
pub struct Builds {
    job: Option<BuildJob>,
    /// A new plugin's module being opened, with its template.
    example_for: Option<(PathBuf, Template)>,
}

/// A build that just ended, and what follows it.
pub enum BuildEnded {
    /// Its module is to be loaded (`after` says how); the status says it was built once that
    /// is under way.
    Succeeded {
        after: AfterBuild,
        artifact: PathBuf,
        seconds: f64,
    },
    /// Failed, stopped or cut short: what the status bar says.
    Not(Notice),
}

impl Builds {
    /// The last build (running or finished).
    pub fn job(&self) -> Option<&BuildJob> {
        self.job.as_ref()
    }

    /// Whether a build is running.
    pub fn is_running(&self) -> bool {
        self.job.as_ref().is_some_and(BuildJob::is_running)
    }

    /// Whether a build of `module` is running.
    pub fn is_building(&self, module: &Path) -> bool {
        self.job
            .as_ref()
            .is_some_and(|job| job.is_running() && same_file(module, &job.build.krate.artifact))
    }

    /// Why a build of `krate` (the open plugin's crate, if it has one) cannot start now.
    pub fn blocker(&self, krate: Option<&Crate>) -> Option<BuildBlocker> {
        if self.is_running() {
            return Some(BuildBlocker::Building);
        }
        if krate.is_none() {
            return Some(BuildBlocker::NotACrate);
        }
        None
    }

    /// Starts building `krate`; `after` says what follows success.
    pub fn start(&mut self, krate: Crate, after: AfterBuild, wake: Waker) -> Notice {
        let notice = Notice::Building {
            command_line: krate.command_line(),
        };
        let number = self.job.as_ref().map_or(1, |b| b.number + 1);
        self.job = Some(BuildJob {
            build: Build::start(krate, Arc::new(move || wake())),
            after,
            handled: false,
            number,
        });
        notice
    }

    /// Stops the running build (cargo and the compilers it started).
    pub fn stop(&self) {
        if let Some(job) = &self.job
            && job.is_running()
        {
            job.build.stop();
        }
    }

    /// Writes a starter kit into `parent` and builds it; its module opens when it is built.
    pub fn create(&mut self, parent: &Path, spec: &Spec, wake: Waker) -> Notice {
        // cargo is started in the crate's folder: every path it gets must be absolute.
        let parent = match std::path::absolute(parent) {
            Ok(parent) => parent,
            Err(error) => {
                return Notice::BadParent {
                    parent: parent.to_path_buf(),
                    error: Arc::new(error),
                };
            }
        };
        if self.is_running() {
            return Notice::CreateWhileBuilding;
        }
        match starter::create(&parent, spec) {
            Ok(created) => {
                let krate = Crate {
                    dir: created.dir.clone(),
                    target: created.target.to_string(),
                    profile: "release".to_string(),
                    target_dir: created.dir.join("target"),
                    artifact: created.artifact,
                };
                let _building = self.start(krate, AfterBuild::OpenNew(spec.template), wake);
                Notice::Created { dir: created.dir }
            }
            Err(e) => Notice::NotCreated(Arc::new(e)),
        }
    }

    /// The build that just ended, once; `kept` says whether a module stays loaded if it
    /// failed.
    pub fn poll(&mut self, kept: bool) -> Option<BuildEnded> {
        let job = self.job.as_mut()?;
        let outcome = job.build.outcome().cloned()?;
        if job.handled {
            return None;
        }
        job.handled = true;
        let after = job.after;
        Some(match outcome {
            Outcome::Succeeded { duration_ms } => BuildEnded::Succeeded {
                after,
                artifact: job.build.krate.artifact.clone(),
                seconds: duration_ms / 1000.0,
            },
            Outcome::Failed { errors, .. } => {
                let lines = job.build.lines();
                let advice = crate::build::advice(&lines, &job.build.krate.target);
                let first_error = advice.is_none().then(|| {
                    lines
                        .iter()
                        .find(|l| crate::build::is_error_message(&l.text))
                        .map(|l| l.text.clone())
                });
                BuildEnded::Not(Notice::BuildFailed {
                    errors,
                    advice,
                    first_error: first_error.flatten(),
                    kept: kept && after == AfterBuild::Reload,
                })
            }
            Outcome::Stopped => BuildEnded::Not(Notice::BuildStopped),
            Outcome::Aborted(why) => BuildEnded::Not(Notice::BuildAborted(why)),
        })
    }

    /// Selects the template's example once `artifact` (a new plugin's module) opens.
    pub fn expect_example(&mut self, artifact: PathBuf, template: Template) {
        self.example_for = Some((artifact, template));
    }

    /// The example's function and input, when `opened` is the new plugin's module it was kept
    /// for (asked once per open).
    pub fn example(&mut self, opened: Option<&Path>) -> Option<(String, InputDraft)> {
        let (artifact, template) = self.example_for.take()?;
        if opened != Some(artifact.as_path()) {
            return None;
        }
        let (function, input) = template.example();
        Some((
            function.to_string(),
            InputDraft {
                text: input.to_string(),
                mode: if input.starts_with('{') {
                    InputMode::Json
                } else {
                    InputMode::Raw
                },
            },
        ))
    }
}

/// Whether two paths name the same file (as given, or once resolved).
pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> Spec {
        Spec {
            name: name.to_string(),
            template: Template::MinimalText,
            wasi: false,
            host: Vec::new(),
        }
    }

    #[test]
    fn a_build_needs_a_crate_and_nothing_running() {
        let builds = Builds::default();
        assert_eq!(builds.blocker(None), Some(BuildBlocker::NotACrate));
        let krate = Crate {
            dir: PathBuf::from("/p"),
            target: "wasm32-unknown-unknown".to_string(),
            profile: "release".to_string(),
            target_dir: PathBuf::from("/p/target"),
            artifact: PathBuf::from("/p/target/p.wasm"),
        };
        assert_eq!(builds.blocker(Some(&krate)), None);
        assert!(!builds.is_running() && builds.job().is_none());
        assert!(!builds.is_building(Path::new("/p/target/p.wasm")));
    }

    #[test]
    fn a_kit_that_cannot_be_written_starts_no_build_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("taken")).unwrap();
        std::fs::write(dir.path().join("taken/file"), "mine").unwrap();
        let mut builds = Builds::default();
        let said = builds.create(dir.path(), &spec("taken"), Arc::new(|| {}));
        assert!(
            matches!(&said, Notice::NotCreated(e) if matches!(**e, starter::StarterError::NotEmpty(_))),
            "{said:?}"
        );
        let said = builds.create(dir.path(), &spec("Not A Name"), Arc::new(|| {}));
        assert!(matches!(said, Notice::NotCreated(_)), "{said:?}");
        assert!(builds.job().is_none(), "no build started");
        assert!(builds.poll(true).is_none());
    }

    #[test]
    fn the_example_is_selected_only_for_the_new_plugins_module_and_once() {
        let mut builds = Builds::default();
        let module = PathBuf::from("/kits/greeter/target/greeter.wasm");
        builds.expect_example(module.clone(), Template::MinimalText);
        assert!(builds.example(Some(Path::new("/elsewhere.wasm"))).is_none());
        // Asked once: another plugin opened first, so the example is dropped.
        assert!(builds.example(Some(&module)).is_none());

        builds.expect_example(module.clone(), Template::JsonEvents);
        let (function, input) = builds.example(Some(&module)).unwrap();
        assert_eq!(function, "handle_event_v2");
        assert_eq!(input.mode, InputMode::Json);
        assert!(builds.example(Some(&module)).is_none());
    }
}
