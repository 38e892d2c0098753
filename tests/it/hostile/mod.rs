//! Hostile inputs, in one place: files, folders, flags, scripts, mock hosts, registries and
//! temporary folders made by someone who wants the app to hang, run out of memory, read or
//! overwrite what it should not, or lose what it has. One module per class of attack, each
//! with several cases; every case that runs the binary runs it through [`run`]: a child process
//! (and its worker) under a memory limit and a deadline, so a regression fails its case and
//! never takes the test run down. Each case asserts the exact refusal or bound.
//!
//! - [`consent`]: what a file asks of the sandbox, and every file it names, needs consent;
//!   trust binds to what its grants resolve to; nothing crosses between plugins.
//! - [`requests`]: nothing is fetched or sent because of a file without consent, and a login
//!   goes only to the registries the user named.
//! - [`reads`]: every file a file or flag names is read through one bounded reader.
//! - [`discovery`]: `test FOLDER` follows no folder link, reads no FIFO, stops at its bounds.
//! - [`scripts`]: Rhai host functions are held to bytes, never block, never hang the worker.
//! - [`mocks`]: mock-host plugins get the call's fuel, memory limit and timeout.
//! - [`registry`]: a registry's answers are bounded before they are read whole.
//! - [`temporary`]: temporary files are exclusive, unpredictable and cleaned up.
//! - [`protocol`]: large values travel between the app and its worker as bytes; a worker
//!   started by hand refuses to run.
//! - [`saves`]: the window's state survives a kill in the middle of a save.
//! - [`stress`]: random walks through the workbench never wait past a bound.
//! - [`loaders`]: property tests: the loaders never panic and read nothing they were not given.

use crate::common;

mod consent;
mod discovery;
mod loaders;
mod mocks;
mod protocol;
mod reads;
mod registry;
mod requests;
mod saves;
mod scripts;
mod stress;
mod temporary;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Mebibytes.
pub const MIB: u64 = 1024 * 1024;

/// How a hostile case runs the binary.
pub struct Case {
    pub args: Vec<String>,
    pub stdin: Vec<u8>,
    /// A file (or device) to read stdin from instead of `stdin`.
    pub stdin_from: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// The most memory the binary and its worker may map writable (`RLIMIT_DATA`, inherited
    /// by the worker): past it an allocation fails, and the case with it.
    pub memory_bytes: u64,
    /// How long it may take; past it the process group is killed and the case fails.
    pub within: Duration,
}

impl Case {
    /// The binary with `args`, 1 GiB of memory and 60 s.
    pub fn new<S: AsRef<str>>(args: &[S]) -> Self {
        Self {
            args: args.iter().map(|a| a.as_ref().to_string()).collect(),
            stdin: Vec::new(),
            stdin_from: None,
            env: Vec::new(),
            memory_bytes: 1024 * MIB,
            within: Duration::from_mins(1),
        }
    }

    #[must_use]
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory_bytes = bytes;
        self
    }

    #[must_use]
    pub fn within(mut self, limit: Duration) -> Self {
        self.within = limit;
        self
    }

    #[must_use]
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    #[must_use]
    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = bytes;
        self
    }

    #[must_use]
    pub fn stdin_from(mut self, path: &Path) -> Self {
        self.stdin_from = Some(path.to_path_buf());
        self
    }
}

/// What a case's process did.
#[derive(Debug)]
pub struct Ran {
    /// Its exit code (`None`: ended by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    #[allow(dead_code, reason = "read in a failing case's report (Debug)")]
    pub took: Duration,
}

impl Ran {
    /// Asserts the exit code and that stderr says each of `says`.
    #[track_caller]
    pub fn expect(&self, code: i32, says: &[&str]) -> &Self {
        assert_eq!(self.code, Some(code), "{self:#?}");
        for text in says {
            assert!(
                self.stderr.contains(text),
                "stderr lacks {text:?}: {self:#?}"
            );
        }
        self
    }
}

/// Whether `prlimit` (util-linux) is here to hold cases to their memory limit; when it is not,
/// the case is skipped (or fails where nothing may be skipped).
fn prlimit() -> bool {
    common::require(
        "prlimit",
        Path::new("/usr/bin/prlimit").exists(),
        "apt-get install util-linux",
    )
}

/// Runs `case`: the binary under `prlimit --data`, in a process group of its own (killed whole
/// past the deadline, so a hang fails the case rather than the run). `None` when the case was
/// skipped.
#[track_caller]
pub fn run(case: &Case) -> Option<Ran> {
    if !prlimit() {
        return None;
    }
    let mut command = Command::new("/usr/bin/prlimit");
    command
        .arg(format!("--data={0}:{0}", case.memory_bytes))
        .arg("--")
        .arg(common::BIN)
        .args(&case.args)
        .env(
            extism_playground::trust::store::DATA_DIR_ENV,
            common::data_dir(),
        )
        .stdin(match &case.stdin_from {
            Some(path) => Stdio::from(std::fs::File::open(path).expect("the stdin source opens")),
            None => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in &case.env {
        command.env(key, value);
    }
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let started = Instant::now();
    let mut child = command.spawn().expect("prlimit starts the binary");
    let stdin = case.stdin.clone();
    let input = child.stdin.take();
    let feeder = std::thread::Builder::new()
        .name("case-stdin".into())
        .spawn(move || {
            if let Some(mut input) = input {
                let _ = std::io::Write::write_all(&mut input, &stdin);
            }
        })
        .unwrap();
    let reader = |mut stream: Box<dyn std::io::Read + Send>| {
        std::thread::Builder::new()
            .name("case-output".into())
            .spawn(move || {
                let mut text = Vec::new();
                let _ = stream.read_to_end(&mut text);
                String::from_utf8_lossy(&text).into_owned()
            })
            .unwrap()
    };
    let stdout = reader(Box::new(child.stdout.take().unwrap()));
    let stderr = reader(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > case.within {
            kill_group(child.id());
            let _ = child.wait();
            panic!(
                "{:?} did not end within {:?} (its process group was killed); stderr: {}",
                case.args,
                case.within,
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = started.elapsed();
    // The worker (same group) is gone with the app, or is ended now.
    kill_group(child.id());
    let _ = feeder.join();
    Some(Ran {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        took,
    })
}

fn kill_group(pid: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid.cast_signed()) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// `call tenant-app greet_user` for user `u-42`, its `acme:tenant::get_user` defined by
/// `get_user` (a `--host-fn` spec), `audit` a no-op and `price_cents` 0, then `flags`.
pub fn greet_user(get_user: &str, flags: &[&str]) -> Case {
    let mut args = vec![
        "call".to_string(),
        s(&common::sample("tenant-app")),
        "greet_user".to_string(),
        "-i".to_string(),
        r#"{"user_id":"u-42"}"#.to_string(),
        "--host-fn".to_string(),
        format!("acme:tenant::get_user={get_user}"),
        "--host-fn".to_string(),
        "acme:tenant::audit=value:".to_string(),
        "--host-fn".to_string(),
        "acme:billing::price_cents=value:0".to_string(),
    ];
    args.extend(flags.iter().map(ToString::to_string));
    Case::new(&args)
}

/// Makes a FIFO (named pipe) at `path`, with `mkfifo`.
pub fn fifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

/// Makes a sparse file of `len` bytes at `path` (it takes no room on disk).
pub fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

pub fn s(path: &Path) -> String {
    path.display().to_string()
}
