//! The sandbox a plugin runs in: WASI, network and filesystem holes, memory, time and fuel
//! bounds, and config. Defaults deny: no hosts, no paths.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::LoadError;

/// Bytes in one WebAssembly memory page.
pub const PAGE_BYTES: u64 = 64 * 1024;

/// Everything a user can set about a plugin's sandbox.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SandboxOptions {
    /// Link WASI preview 1 (`wasi_snapshot_preview1`).
    pub wasi: bool,
    /// Hosts the plugin may reach with `http_request`; globs such as `*.example.com`.
    pub allowed_hosts: Vec<String>,
    /// Host directories mapped into the guest.
    pub allowed_paths: Vec<AllowedPath>,
    /// Maximum linear memory, in 64 KiB pages.
    pub memory_max_pages: Option<u32>,
    /// Maximum HTTP response body the host accepts for the plugin.
    pub http_response_max_bytes: Option<u64>,
    /// Maximum size of one Extism var.
    pub var_max_bytes: Option<u64>,
    /// Wall-clock limit of one call.
    pub timeout_ms: Option<u64>,
    /// Fuel (roughly, wasm instructions) one call may use.
    pub fuel_limit: Option<u64>,
    /// Values the plugin reads with `config::get`.
    pub config: BTreeMap<String, String>,
    /// Not a sandbox bound but how the engine compiles: Cranelift without optimizations and
    /// with its single-pass register allocator. About half the compile time of a large
    /// plugin, slower calls (see BENCHMARKS.md): for iterating, not for measuring.
    pub fast_compile: bool,
}

/// A host directory opened to the guest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct AllowedPath {
    /// Directory on this machine.
    pub host: PathBuf,
    /// Where the guest sees it, e.g. `/data`.
    pub guest: String,
    pub read_only: bool,
}

impl Default for AllowedPath {
    fn default() -> Self {
        Self {
            host: PathBuf::new(),
            guest: "/data".to_string(),
            read_only: false,
        }
    }
}

impl AllowedPath {
    /// Splits a key of extism's manifest `allowed_paths` into (read-only, host path): the
    /// inverse of [`Self::manifest_key`].
    pub fn split_manifest_key(key: &str) -> (bool, &str) {
        match key.strip_prefix("ro:") {
            Some(host) => (true, host),
            None => (false, key),
        }
    }

    /// The key extism's manifest uses for the host side: the path, `ro:`-prefixed if read-only.
    pub fn manifest_key(&self) -> String {
        let host = self.host.display();
        if self.read_only {
            format!("ro:{host}")
        } else {
            host.to_string()
        }
    }
}

impl std::str::FromStr for AllowedPath {
    type Err = LoadError;

    /// Parses `[ro:]HOST[:GUEST]`; the guest path defaults to the host path (a Windows one
    /// without its drive, with `/` separators: `C:\data` is seen at `/data`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (read_only, rest) = Self::split_manifest_key(s);
        // Split at the last ':' that starts an absolute guest path, so Windows drive letters
        // (C:\dir) stay in the host part.
        let (host, guest) = match rest.rsplit_once(':') {
            // Not at a drive letter's colon (`C:/data`): a one-letter host is a drive (a
            // one-letter folder is written `./a:/data`).
            Some((host, guest))
                if guest.starts_with('/')
                    && !host.is_empty()
                    && !(host.len() == 1 && host.as_bytes()[0].is_ascii_alphabetic()) =>
            {
                (host, guest.to_string())
            }
            _ => (rest, crate::platform::paths::default_guest(rest)),
        };
        if host.is_empty() {
            return Err(LoadError::InvalidOption(format!(
                "allowed path {s:?} has no host directory; use [ro:]HOST[:GUEST], e.g. ./data:/data"
            )));
        }
        Ok(Self {
            host: PathBuf::from(host),
            guest,
            read_only,
        })
    }
}

impl SandboxOptions {
    /// Checks what can be checked before loading: directories exist, numbers are sensible.
    pub fn validate(&self) -> Result<(), LoadError> {
        for path in &self.allowed_paths {
            if let Some(os) =
                crate::platform::paths::written_elsewhere(&path.host.to_string_lossy())
            {
                return Err(LoadError::InvalidOption(format!(
                    "allowed path {} is a {os} path, which means nothing here; pick a folder on this machine for {}",
                    path.host.display(),
                    path.guest
                )));
            }
            if !path.host.is_dir() {
                return Err(LoadError::InvalidOption(format!(
                    "allowed path {} is not a directory on this machine; create it or pick another",
                    path.host.display()
                )));
            }
            if !path.guest.starts_with('/') {
                return Err(LoadError::InvalidOption(format!(
                    "guest path {:?} for {} must be absolute, e.g. /data",
                    path.guest,
                    path.host.display()
                )));
            }
        }
        if self.memory_max_pages == Some(0) {
            return Err(LoadError::InvalidOption(
                "memory max of 0 pages leaves no room for any module; leave it empty for no limit"
                    .to_string(),
            ));
        }
        if self.timeout_ms == Some(0) {
            return Err(LoadError::InvalidOption(
                "a timeout of 0 ms stops every call at once; leave it empty for no timeout"
                    .to_string(),
            ));
        }
        for host in &self.allowed_hosts {
            if host.trim().is_empty() {
                return Err(LoadError::InvalidOption(
                    "an allowed host is empty; remove it or enter a host name or glob".to_string(),
                ));
            }
        }
        Ok(())
    }

    /// Memory max in MiB, for display.
    pub fn memory_max_mib(&self) -> Option<f64> {
        #[expect(clippy::cast_precision_loss)]
        self.memory_max_pages
            .map(|pages| (u64::from(pages) * PAGE_BYTES) as f64 / (1024.0 * 1024.0))
    }

    /// Writes these options into an extism manifest (its module list is left alone).
    pub fn apply_to_manifest(&self, manifest: &mut extism::Manifest) {
        manifest.memory.max_pages = self.memory_max_pages;
        manifest.memory.max_http_response_bytes = self.http_response_max_bytes;
        manifest.memory.max_var_bytes = self.var_max_bytes;
        manifest.config = self.config.clone();
        manifest.allowed_hosts = if self.allowed_hosts.is_empty() {
            None
        } else {
            Some(self.allowed_hosts.clone())
        };
        manifest.allowed_paths = if self.allowed_paths.is_empty() {
            None
        } else {
            Some(
                self.allowed_paths
                    .iter()
                    .map(|p| (p.manifest_key(), PathBuf::from(&p.guest)))
                    .collect(),
            )
        };
        manifest.timeout_ms = self.timeout_ms;
    }

    /// Reads the options an extism manifest carries. WASI and fuel are not part of the manifest
    /// schema; they keep their defaults.
    pub fn from_manifest(manifest: &extism::Manifest) -> Self {
        let allowed_paths = manifest
            .allowed_paths
            .iter()
            .flatten()
            .map(|(key, guest)| {
                let (read_only, host) = AllowedPath::split_manifest_key(key);
                AllowedPath {
                    host: PathBuf::from(host),
                    guest: guest.display().to_string(),
                    read_only,
                }
            })
            .collect();
        Self {
            wasi: false,
            allowed_hosts: manifest.allowed_hosts.clone().unwrap_or_default(),
            allowed_paths,
            memory_max_pages: manifest.memory.max_pages,
            http_response_max_bytes: manifest.memory.max_http_response_bytes,
            var_max_bytes: manifest.memory.max_var_bytes,
            timeout_ms: manifest.timeout_ms,
            fuel_limit: None,
            config: manifest.config.clone(),
            fast_compile: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_path_forms() {
        let p: AllowedPath = "ro:/tmp/x:/data".parse().unwrap();
        assert_eq!(
            p,
            AllowedPath {
                host: PathBuf::from("/tmp/x"),
                guest: "/data".into(),
                read_only: true
            }
        );
        let p: AllowedPath = "/tmp/x".parse().unwrap();
        assert_eq!((p.guest.as_str(), p.read_only), ("/tmp/x", false));
        let p: AllowedPath = r"C:\dir:/data".parse().unwrap();
        assert_eq!(
            (p.host, p.guest.as_str()),
            (PathBuf::from(r"C:\dir"), "/data")
        );
        assert!("ro:".parse::<AllowedPath>().is_err());
    }

    /// `--allow-path` as people type it on Windows, parsed the same on every host.
    #[test]
    fn windows_allow_paths() {
        let parse = |s: &str| {
            let p: AllowedPath = s.parse().unwrap();
            (p.host, p.guest, p.read_only)
        };
        assert_eq!(
            parse(r"C:\data"),
            (PathBuf::from(r"C:\data"), "/data".into(), false)
        );
        assert_eq!(
            parse(r"ro:C:\Users\me\in"),
            (
                PathBuf::from(r"C:\Users\me\in"),
                "/Users/me/in".into(),
                true
            )
        );
        assert_eq!(
            parse(r"C:\data:/mnt"),
            (PathBuf::from(r"C:\data"), "/mnt".into(), false)
        );
        assert_eq!(
            parse("C:/data:/mnt"),
            (PathBuf::from("C:/data"), "/mnt".into(), false)
        );
        assert_eq!(
            parse("C:/data"),
            (PathBuf::from("C:/data"), "/data".into(), false)
        );
        assert_eq!(
            parse("ro:d:/in"),
            (PathBuf::from("d:/in"), "/in".into(), true)
        );
        assert_eq!(
            parse(r"ro:\\server\share:/share"),
            (PathBuf::from(r"\\server\share"), "/share".into(), true)
        );
        // Read back from the manifest key it writes.
        let p: AllowedPath = r"ro:D:\x:/x".parse().unwrap();
        assert_eq!(p.manifest_key(), r"ro:D:\x");
        assert_eq!(
            AllowedPath::split_manifest_key(&p.manifest_key()),
            (true, r"D:\x")
        );
    }

    /// A manifest written on Windows: its drive-letter keys read back as they were, and off
    /// Windows the check says where the path came from instead of "not a directory".
    #[test]
    fn drive_letters_in_manifests() {
        let manifest: extism::Manifest = serde_json::from_str(
            r#"{"wasm": [], "allowed_paths": {"ro:C:\\tenant\\in": "/in", "D:\\out": "/out"}}"#,
        )
        .unwrap();
        let options = SandboxOptions::from_manifest(&manifest);
        let mut paths: Vec<_> = options
            .allowed_paths
            .iter()
            .map(|p| (p.host.clone(), p.guest.as_str(), p.read_only))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                (PathBuf::from(r"C:\tenant\in"), "/in", true),
                (PathBuf::from(r"D:\out"), "/out", false),
            ]
        );
        let mut back = extism::Manifest::default();
        options.apply_to_manifest(&mut back);
        assert_eq!(back.allowed_paths, manifest.allowed_paths);
        let message = options.validate().unwrap_err().to_string();
        if cfg!(windows) {
            assert!(message.contains("not a directory"), "{message}");
        } else {
            assert!(message.contains("is a Windows path"), "{message}");
            assert!(
                message.contains("pick a folder on this machine"),
                "{message}"
            );
        }
    }

    #[test]
    fn manifest_round_trip_keeps_options() {
        let options = SandboxOptions {
            allowed_hosts: vec!["*.example.com".into()],
            allowed_paths: vec![AllowedPath {
                host: "/srv/in".into(),
                guest: "/in".into(),
                read_only: true,
            }],
            memory_max_pages: Some(32),
            http_response_max_bytes: Some(1000),
            var_max_bytes: Some(10),
            timeout_ms: Some(250),
            config: [("vowels".to_string(), "xyz".to_string())].into(),
            ..SandboxOptions::default()
        };
        let mut manifest = extism::Manifest::default();
        options.apply_to_manifest(&mut manifest);
        assert_eq!(
            manifest
                .allowed_paths
                .as_ref()
                .unwrap()
                .keys()
                .next()
                .unwrap(),
            "ro:/srv/in"
        );
        assert_eq!(SandboxOptions::from_manifest(&manifest), options);
    }

    #[test]
    fn validation_names_the_problem() {
        let options = SandboxOptions {
            allowed_paths: vec![AllowedPath {
                host: "/definitely/not/here".into(),
                ..AllowedPath::default()
            }],
            ..SandboxOptions::default()
        };
        let message = options.validate().unwrap_err().to_string();
        assert!(message.contains("/definitely/not/here"), "{message}");
        assert!(SandboxOptions::default().validate().is_ok());
    }
}
