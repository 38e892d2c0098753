//! Test helpers shared by the integration tests: sample paths, a session factory bound to the
//! built binary as worker, tiny HTTP servers on 127.0.0.1, and running the binary itself (with
//! its exit code asserted and its JSON read).

pub mod model;
pub mod registry;
pub mod window;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use extism_playground::runner::host::HostFnDef;
use extism_playground::runner::{
    CallReport, CallRequest, HostRegistry, Inspection, LoadedPlugin, SandboxOptions, Session,
    WorkerConfig,
};

/// The built binary, which is also the worker.
pub const BIN: &str = env!("CARGO_BIN_EXE_extism-playground");

/// Path of a plugin others wrote (`tests/fixtures/thirdparty/NAME.wasm`).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/thirdparty")
        .join(format!("{name}.wasm"))
}

/// A `--host-fn` definition, its files relative to the repository.
pub fn flag(text: &str) -> HostFnDef {
    HostFnDef::parse_flag(text, std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect(text)
}

/// A session on `path` linking `defs`; panics if a definition does not fit.
pub fn session_with(
    path: &std::path::Path,
    defs: &[HostFnDef],
    options: SandboxOptions,
) -> Session {
    let (plugin, _) = LoadedPlugin::from_path(path).unwrap();
    let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes).unwrap();
    let (host, problems) = HostRegistry::with_definitions(defs, &inspection.imports);
    assert!(problems.is_empty(), "{problems:?}");
    Session::inspected(plugin, inspection, options, host, worker())
}

/// Path of a committed sample plugin.
pub fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/samples")
        .join(format!("{name}.wasm"))
}

pub fn worker() -> WorkerConfig {
    WorkerConfig::with_exe(BIN)
}

/// A session on a sample with these options.
pub fn session(name: &str, options: SandboxOptions) -> Session {
    let (plugin, _) = LoadedPlugin::from_path(&sample(name)).expect("sample loads");
    Session::new(plugin, options, worker()).expect("session")
}

/// Calls `function` with `input` and waits.
pub fn call(session: &Session, function: &str, input: &str) -> CallReport {
    session.call_blocking(CallRequest {
        function: function.to_string(),
        input: input.as_bytes().to_vec().into(),
        ..CallRequest::default()
    })
}

pub fn output(report: &CallReport) -> String {
    String::from_utf8_lossy(&report.output).into_owned()
}

/// Asserts the call succeeded, showing the error if not.
#[track_caller]
pub fn assert_ok(report: &CallReport) {
    assert!(report.is_ok(), "call failed: {:?}", report.error);
}

/// The data directory the tests' processes share (trusted files), instead of the user's.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-data")
}

/// The trust store of [`data_dir`], as the binary run by [`bin`] sees it.
pub fn trust_store() -> extism_playground::trust::TrustStore {
    extism_playground::trust::TrustStore::at(&data_dir())
}

/// A command running the binary with the tests' data directory.
pub fn bin() -> Command {
    let mut command = Command::new(BIN);
    command.env(extism_playground::trust::store::DATA_DIR_ENV, data_dir());
    command
}

/// Runs the binary with `args`, feeding `stdin`.
pub fn run_bin(args: &[&str], stdin: &[u8]) -> Output {
    let mut command = bin();
    command.args(args);
    run_with(&mut command, stdin)
}

/// Runs `command`, feeding `stdin`, and collects its output.
pub fn run_with(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("binary finishes")
}

/// A path as a command-line argument (the tests' paths are UTF-8).
pub fn p(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the process exited with `code`, showing what it printed if not.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

/// The JSON the process printed; fails showing what it printed when that is not JSON.
#[track_caller]
pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(out),
            stderr(out)
        )
    })
}

/// Runs the binary with `args` (nothing on stdin), asserts it exited with `code`, and returns
/// the JSON it printed.
#[track_caller]
pub fn run_json(args: &[&str], code: i32) -> serde_json::Value {
    let out = run_bin(args, b"");
    assert_exit(&out, code);
    stdout_json(&out)
}

/// Sandbox options with WASI on and everything else at its default.
pub fn wasi_options() -> SandboxOptions {
    SandboxOptions {
        wasi: true,
        ..SandboxOptions::default()
    }
}

/// Reads an HTTP request's head (up to the empty line).
fn read_request_head(stream: &std::net::TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        if line == "\r\n" {
            break;
        }
        line.clear();
    }
}

/// An HTTP server on 127.0.0.1 that answers every request with `body`, for `requests`
/// requests, on a named thread. Returns the base URL.
pub fn serve_http(body: &'static str, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("test-http".into())
        .spawn(move || {
            for stream in listener.incoming().take(requests) {
                let Ok(mut stream) = stream else { continue };
                read_request_head(&stream);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        })
        .unwrap();
    format!("http://{addr}")
}

/// An HTTP server on 127.0.0.1 that answers one request with `body` (binary), on a named
/// thread. Returns the base URL.
pub fn serve_bytes(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("test-http-bytes".into())
        .spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                read_request_head(&stream);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        })
        .unwrap();
    format!("http://{addr}")
}

/// An HTTP server on 127.0.0.1 that answers every request with a 302 to `to`. Returns its base
/// URL.
pub fn serve_redirect(to: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("test-http-redirect".into())
        .spawn(move || {
            for mut stream in listener.incoming().flatten() {
                read_request_head(&stream);
                let _ = write!(
                    stream,
                    "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        })
        .unwrap();
    format!("http://{addr}")
}

/// An HTTP server on 127.0.0.1 that accepts one connection and never answers (until the test
/// process ends). Returns the base URL and a receiver that gets a message once a request has
/// arrived (the client is then inside its request, waiting).
pub fn serve_silent() -> (String, std::sync::mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (reached, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("test-silent-http".into())
        .spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                read_request_head(&stream);
                let _ = reached.send(());
                let mut buf = [0u8; 1024];
                // Hold the connection open, reading and ignoring whatever arrives.
                while stream.read(&mut buf).is_ok_and(|n| n > 0) {}
            }
        })
        .unwrap();
    (format!("http://{addr}"), rx)
}

/// A server on 127.0.0.1 that accepts every connection and never answers (until the test
/// process ends), e.g. a registry that hangs. Returns its `HOST:PORT`.
pub fn serve_nothing() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::Builder::new()
        .name("test-silent-server".into())
        .spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        })
        .unwrap();
    host
}

/// Writes `wat` text as a .wasm file in `dir`.
pub fn wasm_file(dir: &tempfile::TempDir, name: &str, wat: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, wat::parse_str(wat).expect("valid wat")).unwrap();
    path
}

/// The text of a plugin whose `greet` outputs `text`.
pub fn greeting_wat(text: &str) -> String {
    let len = text.len();
    let data: String = text.bytes().fold(String::new(), |mut out, b| {
        let _ = std::fmt::Write::write_fmt(&mut out, format_args!("\\{b:02x}"));
        out
    });
    format!(
        r#"(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{data}")
  (func (export "greet") (result i32) (local $off i64) (local $i i32)
    (local.set $off (call $alloc (i64.const {len})))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const {len})))
      (call $store_u8 (i64.add (local.get $off) (i64.extend_i32_u (local.get $i)))
        (i32.load8_u (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $output_set (local.get $off) (i64.const {len}))
    (i32.const 0)))"#
    )
}

/// A module with the export shape of a js-pdk plugin: `QuickJS` glue (`__arg_start`,
/// `__invoke*`, `__invokeHostFunc_*`) beside the plugin's own `greet`.
pub fn js_shaped_module(dir: &tempfile::TempDir) -> PathBuf {
    wasm_file(
        dir,
        "js-shaped.wasm",
        r#"(module
            (func (export "__arg_start") (result i32) i32.const 0)
            (func (export "__invoke_i32") (result i32) i32.const 0)
            (func (export "__invokeHostFunc_0_1") (result i32) i32.const 0)
            (func (export "__invoke") (param i32))
            (func (export "greet") (result i32) i32.const 0))"#,
    )
}

/// A manifest in `dir` whose one module is the `sample` served over HTTP on 127.0.0.1.
pub fn remote_manifest(dir: &std::path::Path, sample_name: &str) -> PathBuf {
    let bytes = std::fs::read(sample(sample_name)).unwrap();
    let manifest = dir.join(format!("{sample_name}-remote.json"));
    std::fs::write(
        &manifest,
        format!(
            r#"{{"wasm": [{{"url": "{}/{sample_name}.wasm"}}]}}"#,
            serve_bytes(bytes)
        ),
    )
    .unwrap();
    manifest
}

/// Files from someone else, laid out as a support engineer receives them: `case/` holds the
/// bundles (with a `data/notes.txt` subfolder and a hidden `.ssh/key`), and `private/secret.txt`
/// sits beside it, where no bundle should reach without consent.
pub struct Strangers {
    pub root: tempfile::TempDir,
    /// The folder the bundles are in (canonical).
    pub case: PathBuf,
    /// A folder outside it (canonical).
    pub private: PathBuf,
    /// Makes every bundle's bytes unique to this run, so no earlier trust applies.
    nonce: String,
}

pub const SECRET: &str = "the tenant's private file";
pub const NOTES: &str = "notes in the bundle's data folder";

impl Strangers {
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let case = root.path().join("case");
        let private = root.path().join("private");
        std::fs::create_dir_all(case.join("data")).unwrap();
        std::fs::create_dir_all(case.join(".ssh")).unwrap();
        std::fs::create_dir_all(&private).unwrap();
        std::fs::write(case.join("data/notes.txt"), NOTES).unwrap();
        std::fs::write(case.join(".ssh/key"), "ssh key").unwrap();
        std::fs::write(private.join("secret.txt"), SECRET).unwrap();
        let nonce = root.path().display().to_string();
        Self {
            case: case.canonicalize().unwrap(),
            private: private.canonicalize().unwrap(),
            root,
            nonce,
        }
    }

    /// Writes `case/NAME`: a bundle calling wasi-demo's `read_file` on `input`, with these
    /// allowed paths (`[ro:]HOST`, guest) and hosts.
    pub fn bundle(
        &self,
        name: &str,
        paths: &[(&str, &str)],
        hosts: &[&str],
        input: &str,
    ) -> PathBuf {
        let wasm = std::fs::read(sample("wasi-demo")).unwrap();
        self.bundle_with(name, extism::Wasm::data(wasm), paths, hosts, input)
    }

    /// Like [`Self::bundle`] with the module given.
    pub fn bundle_with(
        &self,
        name: &str,
        module: extism::Wasm,
        paths: &[(&str, &str)],
        hosts: &[&str],
        input: &str,
    ) -> PathBuf {
        let mut manifest = extism::Manifest::new([module]);
        if !paths.is_empty() {
            manifest.allowed_paths = Some(
                paths
                    .iter()
                    .map(|(host, guest)| ((*host).to_string(), PathBuf::from(guest)))
                    .collect(),
            );
        }
        if !hosts.is_empty() {
            manifest.allowed_hosts = Some(hosts.iter().map(|h| (*h).to_string()).collect());
        }
        let json = serde_json::json!({
            "format": "extism-playground-bundle",
            "version": 1,
            "created_by": format!("someone else ({})", self.nonce),
            "manifest": manifest,
            "wasi": true,
            "function": "read_file",
            "input": {"text": input},
            "input_mode": "raw",
        });
        let path = self.case.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
        path
    }
}

/// Set (to anything) where every system part the tests use is installed, as `.ci/run` does: a
/// test whose part is missing then fails instead of saying it was skipped.
pub const NO_SKIP_ENV: &str = "EXTISM_PLAYGROUND_NO_SKIP";

/// Whether a test that needs `part` can run. When it cannot, says it was skipped and how to
/// install `part` (and returns false), or fails when [`NO_SKIP_ENV`] is set.
#[track_caller]
pub fn require(part: &str, available: bool, install: &str) -> bool {
    if available {
        return true;
    }
    let message = format!("{part} is not installed; install it with: {install}");
    assert!(
        std::env::var_os(NO_SKIP_ENV).is_none(),
        "{message} ({NO_SKIP_ENV} is set, so this test may not be skipped)"
    );
    // Written to the stream itself, not through eprintln!, which the test harness captures
    // (and hides for tests that pass).
    let _ = writeln!(
        std::io::stderr(),
        "skipped {}: {message}",
        std::thread::current().name().unwrap_or("test")
    );
    false
}
