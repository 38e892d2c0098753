//! A real OCI registry for the tests: Debian's `docker-registry` (the CNCF distribution
//! server) on 127.0.0.1, with its storage in a temporary folder, optionally behind htpasswd
//! basic auth. Stopped when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REGISTRY: &str = "docker-registry";
const INSTALL: &str = "sudo apt-get install docker-registry apache2-utils (Debian/Ubuntu)";

/// A registry server for one test.
pub struct Registry {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub host: String,
    pub storage: tempfile::TempDir,
    /// The server's configuration (and htpasswd file), kept while it runs.
    _config: tempfile::TempDir,
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Registry {
    /// An open registry, or `None` (after saying so) when `docker-registry` is not installed.
    #[track_caller]
    pub fn start() -> Option<Self> {
        if !super::require(REGISTRY, installed(REGISTRY), INSTALL) {
            return None;
        }
        Some(Self::spawn(None))
    }

    /// A registry that requires `user`/`password` (htpasswd, bcrypt), or `None` when
    /// `docker-registry` or `htpasswd` is missing.
    #[track_caller]
    pub fn start_with_login(user: &str, password: &str) -> Option<Self> {
        if !super::require(REGISTRY, installed(REGISTRY), INSTALL)
            || !super::require("htpasswd", installed("htpasswd"), INSTALL)
        {
            return None;
        }
        Some(Self::spawn(Some((user, password))))
    }

    fn spawn(login: Option<(&str, &str)>) -> Self {
        let storage = tempfile::tempdir().unwrap();
        let config = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let auth = match login {
            Some((user, password)) => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("htpasswd runs");
                assert!(out.status.success(), "htpasswd failed");
                let file = config.path().join("htpasswd");
                std::fs::write(&file, out.stdout).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: playground-tests\n    path: {}\n",
                    file.display()
                )
            }
            None => String::new(),
        };
        let yml = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{auth}",
            storage.path().display()
        );
        let file = config.path().join("config.yml");
        std::fs::write(&file, yml).unwrap();
        let child = Command::new(REGISTRY)
            .arg("serve")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let registry = Self {
            child: Some(child),
            host,
            storage,
            _config: config,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("http://{}/v2/", self.host);
        while Instant::now() < deadline {
            // Any HTTP answer (200, or 401 behind auth) means it is serving.
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(2)))
                .build()
                .into();
            if agent.get(&url).call().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not start on {} within 20 s", self.host);
    }

    /// `oci://HOST:PORT/{path}`.
    pub fn reference(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.host)
    }

    /// Where the registry keeps the blob `digest` on disk.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.storage
            .path()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Stops the server (the storage stays until the value is dropped).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}
