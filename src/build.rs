//! Building a plugin crate from the window: which crate an open module was built from, and
//! `cargo build` run in the background with its output streamed line by line, each `file:line`
//! of a diagnostic found so the window can open it. No UI here.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::platform::job::Job;

/// A crate to build, and where its module lands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crate {
    /// The folder with the `Cargo.toml` (a package or a workspace).
    pub dir: PathBuf,
    pub target: String,
    /// The cargo profile (`release`, `dev`, or a custom one).
    pub profile: String,
    /// The folder cargo builds into (`DIR/target` unless the module was elsewhere).
    pub target_dir: PathBuf,
    /// The module the build makes (the open plugin's file).
    pub artifact: PathBuf,
}

impl Crate {
    /// The crate `module` was built from, when it sits where cargo puts a wasm build:
    /// `DIR/target/TRIPLE/PROFILE/NAME.wasm` with a `DIR/Cargo.toml`.
    pub fn of_module(module: &Path) -> Option<Self> {
        let module = std::path::absolute(module).ok()?;
        let profile_dir = module.parent()?;
        let triple_dir = profile_dir.parent()?;
        let target_dir = triple_dir.parent()?;
        let triple = triple_dir.file_name()?.to_str()?;
        if !triple.starts_with("wasm32-") || module.extension()? != "wasm" {
            return None;
        }
        let dir = target_dir.parent()?;
        if !dir.join("Cargo.toml").is_file() {
            return None;
        }
        let profile = match profile_dir.file_name()?.to_str()? {
            "debug" => "dev".to_string(),
            other => other.to_string(),
        };
        Some(Self {
            dir: dir.to_path_buf(),
            target: triple.to_string(),
            profile,
            target_dir: target_dir.to_path_buf(),
            artifact: module,
        })
    }

    /// The command line, as shown to the user.
    pub fn command_line(&self) -> String {
        format!("cargo {}", self.args().join(" "))
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["build".to_string()];
        match self.profile.as_str() {
            "release" => args.push("--release".into()),
            "dev" => {}
            other => {
                args.push("--profile".into());
                args.push(other.into());
            }
        }
        args.push("--target".into());
        args.push(self.target.clone());
        args
    }
}

/// How bad a line of the build's output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Other,
}

/// A place in a source file a diagnostic points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// As cargo printed it (relative to the crate's folder, usually).
    pub file: String,
    /// Where it is on this machine.
    pub path: PathBuf,
    pub line: u32,
    pub column: Option<u32>,
}

/// One line of the build's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub level: Level,
    pub location: Option<Location>,
}

impl Line {
    /// Reads what a line of cargo's (human) output says, with paths relative to `dir`.
    pub fn parse(text: &str, dir: &Path) -> Self {
        let trimmed = text.trim_start();
        let level = if trimmed.starts_with("error") {
            Level::Error
        } else if trimmed.starts_with("warning") {
            Level::Warning
        } else {
            Level::Other
        };
        // ` --> src/lib.rs:12:5` (rustc), or `src/lib.rs:12:5: error…` (short format).
        let place = trimmed
            .strip_prefix("--> ")
            .or_else(|| trimmed.strip_prefix("::: "))
            .map(str::trim)
            .or_else(|| {
                trimmed
                    .split_once(": ")
                    .map(|(place, _)| place)
                    .filter(|p| p.contains(".rs:"))
            });
        Self {
            text: text.to_string(),
            level,
            location: place.and_then(|p| location(p, dir)),
        }
    }
}

/// `FILE:LINE[:COLUMN]`, the file resolved against `dir`.
fn location(place: &str, dir: &Path) -> Option<Location> {
    let mut parts = place.rsplitn(3, ':');
    let last = parts.next()?;
    let middle = parts.next()?;
    let (file, line, column) = match parts.next() {
        Some(file) => (file, middle.parse().ok()?, last.parse().ok()),
        None => (middle, last.parse().ok()?, None),
    };
    if file.is_empty() || file.starts_with('<') {
        return None;
    }
    let path = if Path::new(file).is_absolute() {
        PathBuf::from(file)
    } else {
        dir.join(file)
    };
    Some(Location {
        file: file.to_string(),
        path,
        line,
        column,
    })
}

/// How a build ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded {
        duration_ms: f64,
    },
    /// cargo exited with an error; `errors` counts the error lines.
    Failed {
        errors: usize,
        code: Option<i32>,
    },
    Stopped,
    /// cargo could not be started, or was ended from outside (what happened).
    Aborted(String),
}

/// A build running in the background. Dropping it stops it.
pub struct Build {
    pub krate: Crate,
    pub started: Instant,
    lines: Arc<Mutex<Vec<Line>>>,
    child: Arc<Mutex<Option<Child>>>,
    outcome: Job<Outcome>,
}

impl Build {
    /// Starts `cargo build` for `krate`; `wake` is called for new output and at the end.
    pub fn start(krate: Crate, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let child_slot = Arc::new(Mutex::new(None));
        let started = Instant::now();
        let mut command = Command::new(cargo());
        command
            .args(krate.args())
            .arg("--target-dir")
            .arg(&krate.target_dir)
            .current_dir(&krate.dir)
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_TERM_PROGRESS_WHEN", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // In a group of its own, so Stop reaches the compilers it runs.
        crate::platform::process::own_group(&mut command);
        let outcome = match command.spawn() {
            Err(e) => Job::done(Outcome::Aborted(format!(
                "cannot run cargo ({e}): install Rust from https://rustup.rs, or set CARGO to cargo's path"
            ))),
            Ok(mut child) => {
                let stderr = child.stderr.take().expect("stderr is piped");
                *child_slot.lock().expect("not poisoned") = Some(child);
                let (lines, child_slot) = (Arc::clone(&lines), Arc::clone(&child_slot));
                let dir = krate.dir.clone();
                let on_line = Arc::clone(&wake);
                Job::spawn("cargo-build", wake, move |stopped| {
                    for text in BufReader::new(stderr).lines().map_while(Result::ok) {
                        lines
                            .lock()
                            .expect("not poisoned")
                            .push(Line::parse(&text, &dir));
                        on_line();
                    }
                    // Taken out first: Stop must not wait on the lock while cargo exits.
                    let child = child_slot.lock().expect("not poisoned").take();
                    let status = child.map(|mut c| c.wait());
                    if stopped.is_cancelled() {
                        Outcome::Stopped
                    } else {
                        match status {
                            Some(Ok(status)) if status.success() => Outcome::Succeeded {
                                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                            },
                            Some(Ok(status)) if status.code().is_none() => Outcome::Aborted(
                                format!("cargo was ended from outside the playground ({status})"),
                            ),
                            Some(Ok(status)) => Outcome::Failed {
                                errors: lines
                                    .lock()
                                    .expect("not poisoned")
                                    .iter()
                                    .filter(|l| is_error_message(&l.text))
                                    .count(),
                                code: status.code(),
                            },
                            Some(Err(e)) => Outcome::Aborted(format!("cargo vanished: {e}")),
                            None => Outcome::Stopped,
                        }
                    }
                })
            }
        };
        Self {
            krate,
            started,
            lines,
            child: child_slot,
            outcome,
        }
    }

    /// The output so far.
    pub fn lines(&self) -> std::sync::MutexGuard<'_, Vec<Line>> {
        self.lines.lock().expect("not poisoned")
    }

    /// cargo's process id, while it runs.
    pub fn process_id(&self) -> Option<u32> {
        self.child
            .lock()
            .expect("not poisoned")
            .as_ref()
            .map(Child::id)
    }

    /// How it ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.result()
    }

    /// Stops cargo and the compilers it started.
    pub fn stop(&self) {
        self.outcome.stop();
        if let Some(child) = self.child.lock().expect("not poisoned").as_mut() {
            crate::platform::process::kill_tree(child);
        }
    }
}

impl Drop for Build {
    fn drop(&mut self) {
        if self.outcome.is_running() {
            self.stop();
        }
    }
}

/// Whether `text` starts a compiler error (not cargo's summary of them).
pub fn is_error_message(text: &str) -> bool {
    text.starts_with("error[")
        || (text.starts_with("error:")
            && !text.starts_with("error: aborting")
            && !text.starts_with("error: could not compile"))
}

/// cargo as the environment names it (`CARGO` when run under cargo or set by the user), else
/// rustup's own (a window started from a desktop menu often has no `~/.cargo/bin` on `PATH`),
/// else whatever `PATH` finds.
fn cargo() -> std::ffi::OsString {
    if let Some(cargo) = std::env::var_os("CARGO") {
        return cargo;
    }
    let exe = format!("cargo{}", std::env::consts::EXE_SUFFIX);
    let rustup = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| crate::platform::dirs::home().map(|home| home.join(".cargo")))
        .map(|home| home.join("bin").join(&exe));
    let on_path = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(&exe).is_file()));
    match rustup {
        Some(path) if !on_path && path.is_file() => path.into_os_string(),
        _ => exe.into(),
    }
}

/// What to do about a failed build, when its output says (a missing target, say).
pub fn advice(lines: &[Line], target: &str) -> Option<String> {
    let missing_target = lines.iter().any(|l| {
        l.text.contains("can't find crate for `core`")
            || l.text.contains("can't find crate for `std`")
            || l.text.contains("target may not be installed")
    });
    missing_target
        .then(|| format!("the {target} target is not installed: run `rustup target add {target}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_in_a_crates_target_folder_names_its_crate() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("my-plugin");
        let module = root.join("target/wasm32-wasip1/release/my_plugin.wasm");
        std::fs::create_dir_all(module.parent().unwrap()).unwrap();
        std::fs::write(&module, b"").unwrap();
        assert_eq!(Crate::of_module(&module), None, "no Cargo.toml yet");
        std::fs::write(root.join("Cargo.toml"), "").unwrap();
        let krate = Crate::of_module(&module).unwrap();
        assert_eq!(krate.dir, root);
        assert_eq!(krate.target, "wasm32-wasip1");
        assert_eq!(
            krate.command_line(),
            "cargo build --release --target wasm32-wasip1"
        );
        let debug = root.join("target/wasm32-unknown-unknown/debug/my_plugin.wasm");
        std::fs::create_dir_all(debug.parent().unwrap()).unwrap();
        assert_eq!(
            Crate::of_module(&debug).unwrap().command_line(),
            "cargo build --target wasm32-unknown-unknown"
        );
        let custom = root.join("target/wasm32-unknown-unknown/debug-sample/x.wasm");
        assert_eq!(
            Crate::of_module(&custom).unwrap().command_line(),
            "cargo build --profile debug-sample --target wasm32-unknown-unknown"
        );
        assert_eq!(Crate::of_module(&root.join("plugin.wasm")), None);
    }

    #[test]
    fn diagnostics_point_at_their_source() {
        let dir = Path::new("/work/p");
        let arrow = Line::parse("   --> src/lib.rs:12:5", dir);
        assert_eq!(
            arrow.location,
            Some(Location {
                file: "src/lib.rs".into(),
                path: dir.join("src/lib.rs"),
                line: 12,
                column: Some(5),
            })
        );
        let error = Line::parse("error[E0425]: cannot find value `x` in this scope", dir);
        assert_eq!((error.level, error.location), (Level::Error, None));
        let short = Line::parse("src/host.rs:3:1: warning: unused import", dir);
        assert_eq!(short.location.unwrap().line, 3);
        assert_eq!(Line::parse("   Compiling serde v1.0.0", dir).location, None);
        assert_eq!(
            Line::parse("  --> <anon>:1:1", dir).location,
            None,
            "no file to open"
        );
    }
}
