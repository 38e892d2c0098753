//! Property tests of the loaders (bundles, manifests, suites, host function definitions,
//! registry references): whatever a file says, loading it never panics, and never reads a path
//! it was not given. The files name paths in a canary folder (absolute, relative, through `..`)
//! beside devices and nonsense; the kernel (inotify) reports every open or read in that
//! folder, so a loader that reads what a file names before consent fails here.

use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use extism_playground::bundle::Bundle;
use extism_playground::open;
use extism_playground::registry::Reference;
use extism_playground::runner::host::define;
use extism_playground::suite::file as suite_file;
use extism_playground::workbench::Source;
use proptest::prelude::*;
use rustix::fs::inotify;

/// A folder whose files no loader may open, watched by inotify.
struct Canary {
    _root: tempfile::TempDir,
    /// Where the given files are written.
    given: PathBuf,
    /// The watched folder.
    dir: PathBuf,
    watch: rustix::fd::OwnedFd,
}

impl Canary {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let given = root.path().join("given");
        let dir = root.path().join("canary");
        std::fs::create_dir_all(&given).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "secret.txt",
            "module.wasm",
            "script.rhai",
            "input.json",
            "mock.wasm",
        ] {
            std::fs::write(dir.join(name), b"\0asm\x01\0\0\0 secret").unwrap();
        }
        let watch =
            inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC).unwrap();
        inotify::add_watch(
            &watch,
            &dir,
            inotify::WatchFlags::OPEN | inotify::WatchFlags::ACCESS,
        )
        .unwrap();
        Self {
            _root: root,
            given,
            dir,
            watch,
        }
    }

    /// Paths a hostile file might name: the canary's files, absolute and relative to the given
    /// file's folder, the canary folder itself, a device, and nothing much.
    fn paths(&self) -> Vec<String> {
        let abs = |name: &str| self.dir.join(name).display().to_string();
        vec![
            abs("secret.txt"),
            abs("module.wasm"),
            abs("script.rhai"),
            abs("input.json"),
            abs("mock.wasm"),
            self.dir.display().to_string(),
            "../canary/secret.txt".to_string(),
            "../canary/module.wasm".to_string(),
            "../canary".to_string(),
            "/dev/zero".to_string(),
            String::new(),
            "ro:../canary".to_string(),
        ]
    }

    /// The names of what was opened or read in the canary folder since the last look.
    fn touched(&self) -> Vec<String> {
        let mut buf = [MaybeUninit::uninit(); 4096];
        let mut reader = inotify::Reader::new(&self.watch, &mut buf);
        let mut touched = Vec::new();
        loop {
            match reader.next() {
                Ok(event) => touched.push(event.file_name().map_or_else(
                    || "(the folder)".to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )),
                Err(rustix::io::Errno::WOULDBLOCK) => break,
                Err(e) => panic!("inotify: {e}"),
            }
        }
        touched
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.given.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

fn canary() -> &'static std::sync::Mutex<Canary> {
    static CANARY: std::sync::OnceLock<std::sync::Mutex<Canary>> = std::sync::OnceLock::new();
    CANARY.get_or_init(|| std::sync::Mutex::new(Canary::new()))
}

/// A bundle naming `p` wherever a bundle names a file.
fn bundle_doc(p: &[String], pick: &[usize], version: u8) -> Vec<u8> {
    let at = |i: usize| p[pick[i % pick.len()] % p.len()].clone();
    serde_json::to_vec(&serde_json::json!({
        "format": "extism-playground-bundle",
        "version": version,
        "manifest": {
            "wasm": [{"path": at(0)}, {"path": at(1), "name": "dep"}],
            "allowed_paths": {at(2): "/data", at(3): "/other"},
            "allowed_hosts": ["*"],
        },
        "wasi": true,
        "function": "f",
        "input": {"text": "x"},
        "host_functions": [
            {"name": "a", "behaviour": "rhai", "file": at(4)},
            {"name": "b", "behaviour": "wasm", "file": at(5), "sha256": "00"},
        ],
        "steps": [{"function": "g", "input_file": at(6)}],
    }))
    .unwrap()
}

/// An Extism manifest naming `p` for its modules and paths.
fn manifest_doc(p: &[String], pick: &[usize]) -> Vec<u8> {
    let at = |i: usize| p[pick[i % pick.len()] % p.len()].clone();
    serde_json::to_vec(&serde_json::json!({
        "wasm": [{"path": at(0)}, {"path": at(1), "name": "m2", "hash": "ab"}],
        "allowed_paths": {at(2): "/data"},
        "allowed_hosts": ["example.com"],
        "config": {"k": at(3)},
    }))
    .unwrap()
}

/// A suite naming `p` for its plugin, input file and host function files.
fn suite_doc(p: &[String], pick: &[usize]) -> String {
    let at = |i: usize| p[pick[i % pick.len()] % p.len()].clone();
    format!(
        "[plugin]\nwasm = {:?}\nallow_paths = [{:?}]\nhost_functions = {{ \"a\" = {:?}, \"b\" = {:?} }}\n[[test]]\nname = \"t\"\n[[test.step]]\ncall = \"f\"\ninput_file = {:?}\n",
        at(0),
        format!("ro:{}:/data", at(1)),
        format!("rhai:{}", at(2)),
        format!("wasm:{}", at(3)),
        at(4)
    )
}

/// Host function definitions naming `p` for their files.
fn definitions_doc(p: &[String], pick: &[usize]) -> String {
    let at = |i: usize| p[pick[i % pick.len()] % p.len()].clone();
    serde_json::json!([
        {"name": "a", "behaviour": "rhai", "file": at(0)},
        {"name": "b", "behaviour": "wasm", "file": at(1)},
        {"module": at(2), "name": "c", "behaviour": "value", "value": at(3)},
    ])
    .to_string()
}

/// Flips `flips` bytes of `bytes` and cuts it at `cut` (when shorter).
fn mutate(mut bytes: Vec<u8>, cut: usize, flips: &[(usize, u8)]) -> Vec<u8> {
    for (at, byte) in flips {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = *byte;
        }
    }
    if cut < bytes.len() {
        bytes.truncate(cut);
    }
    bytes
}

/// Runs every loader on `bytes`, given as a file named `name`: none may panic (proptest fails a
/// case that does) or open anything in the canary folder.
fn load_all(canary: &Canary, name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let _ = canary.touched();
    let path = canary.write(name, bytes);
    let text = String::from_utf8_lossy(bytes).into_owned();
    // Reading a file (a manifest, session or bundle; a module otherwise) and reviewing what it
    // asks for reads that file alone.
    let _ = open::read(&Source::Path(path.clone())).map(|read| read.review().cloned());
    let _ = open::read_bundle(&path);
    let _ = Bundle::parse(bytes, name);
    let _ = suite_file::parse(&text, &path);
    let _ = define::parse_definitions(&text);
    let _ = text.parse::<Reference>();
    let touched = canary.touched();
    prop_assert!(
        touched.is_empty(),
        "loading {} read {:?} in the canary folder",
        Path::new(name).display(),
        touched
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn loaders_never_panic_nor_read_a_path_they_were_not_given(
        pick in proptest::collection::vec(0usize..64, 1..8),
        version in 0u8..4,
        cut in 0usize..2000,
        flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..6),
    ) {
        let canary = canary().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let p = canary.paths();
        let docs: [(&str, Vec<u8>); 4] = [
            ("bundle.json", bundle_doc(&p, &pick, version)),
            ("manifest.json", manifest_doc(&p, &pick)),
            ("suite.toml", suite_doc(&p, &pick).into_bytes()),
            ("host.json", definitions_doc(&p, &pick).into_bytes()),
        ];
        for (name, doc) in docs {
            load_all(&canary, name, &doc)?;
            load_all(&canary, name, &mutate(doc, cut, &flips))?;
        }
    }

    #[test]
    fn references_never_panic(text in "(oci://)?[a-zA-Z0-9:/@._\\-]{0,80}") {
        let _ = text.parse::<Reference>();
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_loader(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let canary = canary().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for name in ["x.json", "x.toml", "x.wasm"] {
            load_all(&canary, name, &bytes)?;
        }
    }
}
