//! What a file asks of this machine, reviewed before anything of it is read, fetched or run:
//! every allowed path (normalized: relative to the file or the working directory, `..` and
//! symlinks resolved), every allowed host, every file it makes the app read outside its folder
//! (modules, mock hosts, scripts, inputs), every request it makes the app send (URL modules with
//! their method and headers) and every registry it makes the app pull from. The review decides
//! which of these need the user's consent and which are exempt; trust binds to what they
//! resolve to here ([`Review::fingerprint`]), not only to the file's bytes.

use std::fmt;
use std::path::{Component, Path, PathBuf};

pub use crate::runner::source::Request;
use crate::runner::{AllowedPath, SandboxOptions};

/// What kind of file asks: decides what a relative path means and whether anything is exempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A session or bundle of this app: relative paths are relative to the file, and read-only
    /// subfolders of its own folder need no consent.
    Bundle,
    /// A plain Extism manifest: relative paths keep extism's meaning (the working directory),
    /// and every path is a grant.
    Manifest,
    /// A test suite (TOML): like a bundle, relative to the file, read-only subfolders exempt.
    Suite,
}

impl FileKind {
    /// How the file is named in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Bundle => "bundle",
            Self::Manifest => "manifest",
            Self::Suite => "test suite",
        }
    }
}

/// What is at a granted path on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathState {
    Directory,
    Missing,
    NotADirectory,
}

impl PathState {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Directory => "exists",
            Self::Missing => "does not exist",
            Self::NotADirectory => "is not a directory",
        }
    }
}

/// A host directory a file opens to its plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathGrant {
    /// As the file writes it (without `ro:`).
    pub written: String,
    /// The directory it means on this machine, normalized.
    pub host: PathBuf,
    /// Where the guest sees it.
    pub guest: String,
    pub read_only: bool,
    pub state: PathState,
}

impl PathGrant {
    /// The allowed path this grant opens.
    pub fn allowed_path(&self) -> AllowedPath {
        AllowedPath {
            host: self.host.clone(),
            guest: self.guest.clone(),
            read_only: self.read_only,
        }
    }

    pub fn mode(&self) -> &'static str {
        if self.read_only {
            "read-only"
        } else {
            "read-write"
        }
    }
}

/// One thing a file asks for that reaches beyond the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A host directory mapped into the guest.
    Path(PathGrant),
    /// A host the plugin may send HTTP requests to (a glob).
    Host(String),
    /// A file outside the file's folder that the app would read for the plugin.
    File { path: PathBuf, role: &'static str },
    /// A request the app would send to download a module (a manifest's URL module).
    Download(Request),
    /// A registry the app would pull a module from (anonymously, or with the user's docker
    /// login for that registry: a login given for another registry is never sent there).
    Pull { reference: String, registry: String },
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => write!(
                f,
                "{} path {} -> {} ({})",
                p.mode(),
                p.host.display(),
                p.guest,
                p.state.describe()
            ),
            Self::Host(host) if host.trim() == "*" => write!(f, "host * (any host)"),
            Self::Host(host) => write!(f, "host {host}"),
            Self::File { path, role } => {
                write!(
                    f,
                    "file {} ({role}, outside the file's folder)",
                    path.display()
                )
            }
            Self::Download(request) if request.is_plain_get() => {
                write!(f, "download a module: {request} (a plain GET)")
            }
            Self::Download(request) => write!(f, "download a module: {request}"),
            Self::Pull {
                reference,
                registry,
            } => {
                write!(
                    f,
                    "pull a module from the registry {registry}: {reference} (anonymously, or with your docker login for it)"
                )
            }
        }
    }
}

impl Grant {
    /// What the grant resolves to on this machine, without what may change on its own (whether
    /// a folder exists yet): what trust binds to.
    fn key(&self) -> String {
        match self {
            Self::Path(p) => format!("path {} {} -> {}", p.mode(), p.host.display(), p.guest),
            Self::Host(host) => format!("host {}", host.trim()),
            Self::File { path, role } => format!("file {} as {role}", path.display()),
            Self::Download(request) => format!("download {request}"),
            Self::Pull { reference, .. } => format!("pull {reference}"),
        }
    }
}

/// What the user decided about a file's grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Grant them all.
    Allow,
    /// Open with them removed (exempt paths stay).
    WithoutGrants,
}

/// Everything a file asks for, sorted into what needs consent and what does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    /// The file, as opened.
    pub file: PathBuf,
    pub kind: FileKind,
    /// Lowercase hex sha256 of the file's bytes: what trust is remembered by.
    pub sha256: String,
    /// What needs the user's consent.
    pub grants: Vec<Grant>,
    /// Read-only subfolders of the file's own folder (in a file granting no hosts): allowed
    /// without asking.
    pub exempt: Vec<PathGrant>,
    /// Files inside its folder it makes the app read (resolved), with their role: asked about
    /// by no one, but part of what trust binds to (the same file elsewhere reads other files).
    pub inside: Vec<(PathBuf, &'static str)>,
}

impl Review {
    /// Whether anything needs the user's consent.
    pub fn needs_consent(&self) -> bool {
        !self.grants.is_empty()
    }

    /// The file's name for messages.
    pub fn file_name(&self) -> String {
        self.file.file_name().map_or_else(
            || self.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Whether opening the file reads a file outside its folder, or sends a request.
    pub fn reads_or_fetches(&self) -> bool {
        self.grants.iter().any(|g| {
            matches!(
                g,
                Grant::File { .. } | Grant::Download(_) | Grant::Pull { .. }
            )
        })
    }

    /// What the file's grants and exemptions resolve to here, sorted: trust given to the file
    /// holds only while this stays the same (a copy moved elsewhere, or a folder re-linked,
    /// resolves differently and asks again).
    pub fn fingerprint(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.grants.iter().map(Grant::key).collect();
        keys.extend(
            self.exempt
                .iter()
                .map(|p| format!("exempt {} -> {}", p.host.display(), p.guest)),
        );
        keys.extend(
            self.inside
                .iter()
                .map(|(path, role)| format!("reads {} as {role}", path.display())),
        );
        keys.sort();
        keys.dedup();
        keys
    }

    /// Adds `path` (relative to the file's folder) as a file the app reads for the plugin in
    /// the `role` it has: a grant when it resolves outside that folder (symlinks followed).
    pub fn name_file(&mut self, path: &Path, role: &'static str) {
        let dir = folder_of(&self.file);
        let (full, _) = normalize(path, &dir);
        if strictly_inside(&full, &dir) {
            if !self.inside.iter().any(|(p, r)| *p == full && *r == role) {
                self.inside.push((full, role));
            }
            return;
        }
        let grant = Grant::File { path: full, role };
        if !self.grants.contains(&grant) {
            self.grants.push(grant);
        }
    }

    /// Adds a module the file names by URL: a download, or a pull for an `oci://` reference.
    pub fn name_url(&mut self, req: &extism_manifest::HttpRequest) {
        let grant = if crate::registry::is_reference(&req.url) {
            let registry = req
                .url
                .parse::<crate::registry::Reference>()
                .map_or_else(|_| req.url.clone(), |r| r.registry);
            Grant::Pull {
                reference: req.url.clone(),
                registry,
            }
        } else {
            Grant::Download(Request::of(req))
        };
        if !self.grants.contains(&grant) {
            self.grants.push(grant);
        }
    }

    /// The requests `decision` lets resolving send: none without the grants.
    pub fn downloads(&self, decision: Decision) -> Vec<Request> {
        self.granted(decision)
            .filter_map(|g| match g {
                Grant::Download(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    /// The registry references `decision` lets resolving pull from.
    pub fn pulls(&self, decision: Decision) -> Vec<String> {
        self.granted(decision)
            .filter_map(|g| match g {
                Grant::Pull { reference, .. } => Some(reference.clone()),
                _ => None,
            })
            .collect()
    }

    fn granted(&self, decision: Decision) -> impl Iterator<Item = &Grant> {
        self.grants
            .iter()
            .filter(move |_| decision == Decision::Allow)
    }

    /// The allowed paths that `decision` opens: the exempt ones, and the grants when allowed.
    pub fn allowed_paths(&self, decision: Decision) -> Vec<AllowedPath> {
        let granted = self.granted(decision).filter_map(|g| match g {
            Grant::Path(p) => Some(p),
            _ => None,
        });
        self.exempt
            .iter()
            .chain(granted)
            .map(PathGrant::allowed_path)
            .collect()
    }

    /// The allowed hosts that `decision` opens.
    pub fn allowed_hosts(&self, decision: Decision) -> Vec<String> {
        self.granted(decision)
            .filter_map(|g| match g {
                Grant::Host(h) => Some(h.clone()),
                _ => None,
            })
            .collect()
    }

    /// The files outside the file's folder the app would read for the plugin.
    pub fn outside_files(&self) -> impl Iterator<Item = (&Path, &'static str)> {
        self.grants.iter().filter_map(|g| match g {
            Grant::File { path, role } => Some((path.as_path(), *role)),
            _ => None,
        })
    }

    /// Replaces the allowed paths and hosts of options read from the file with the reviewed
    /// (normalized) ones `decision` opens.
    pub fn apply(&self, decision: Decision, options: &mut SandboxOptions) {
        options.allowed_paths = self.allowed_paths(decision);
        options.allowed_hosts = self.allowed_hosts(decision);
    }

    /// The grants removed from `options` (kept from an earlier opening) when the file is
    /// opened without them.
    pub fn strip(&self, options: &mut SandboxOptions) {
        for grant in &self.grants {
            match grant {
                Grant::Path(p) => options.allowed_paths.retain(|a| a.host != p.host),
                Grant::Host(h) => options.allowed_hosts.retain(|a| a != h),
                Grant::File { .. } | Grant::Download(_) | Grant::Pull { .. } => {}
            }
        }
    }

    /// Whether every grant of `self` is also one of `other`'s (a reload asking for nothing new).
    pub fn within(&self, other: &Self) -> bool {
        self.grants.iter().all(|g| other.grants.contains(g))
    }

    /// The grants, one per line, indented: for the command line.
    pub fn listing(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for grant in &self.grants {
            let _ = writeln!(s, "  {grant}");
        }
        s
    }
}

/// Reviews a session or bundle at `file`: its manifest's paths (relative to the file), hosts
/// and module files.
///
/// `mock_files` are the mock-host plugin files its host function definitions name (not
/// embedded): those outside its folder are grants too.
pub fn review_bundle(
    manifest: &extism::Manifest,
    mock_files: &[&Path],
    file: &Path,
    sha256: String,
) -> Review {
    let dir = folder_of(file);
    let mut review = review_manifest_parts(manifest, file, FileKind::Bundle, &dir, sha256);
    for path in mock_files {
        review.name_file(path, "mock-host plugin");
    }
    review
}

/// Reviews a test suite at `file`: the paths (relative to the file) and hosts it grants its
/// plugin. The files it names (its plugin, inputs, scripts) are added by the caller with
/// [`Review::name_file`], its registry plugin with [`Review::name_url`].
pub fn review_suite(manifest: &extism::Manifest, file: &Path, sha256: String) -> Review {
    review_manifest_parts(manifest, file, FileKind::Suite, &folder_of(file), sha256)
}

/// Reviews a plain Extism manifest at `file`: every path (relative to `working_dir`, as extism
/// reads them) and host is a grant; so are module files outside its folder, and URL modules.
pub fn review_manifest(
    manifest: &extism::Manifest,
    file: &Path,
    working_dir: &Path,
    sha256: String,
) -> Review {
    review_manifest_parts(manifest, file, FileKind::Manifest, working_dir, sha256)
}

/// The review of a manifest's paths and hosts, relative paths against `relative_to`: for a
/// bundle that is its own folder, below which read-only subfolders are exempt.
fn review_manifest_parts(
    manifest: &extism::Manifest,
    file: &Path,
    kind: FileKind,
    relative_to: &Path,
    sha256: String,
) -> Review {
    let hosts: Vec<String> = manifest.allowed_hosts.clone().unwrap_or_default();
    let mut grants = Vec::new();
    let mut exempt = Vec::new();
    for (key, guest) in manifest.allowed_paths.iter().flatten() {
        let (read_only, written) = AllowedPath::split_manifest_key(key);
        let (host, state) = normalize(Path::new(written), relative_to);
        let grant = PathGrant {
            written: written.to_string(),
            host,
            guest: guest.display().to_string(),
            read_only,
            state,
        };
        let is_exempt = kind != FileKind::Manifest
            && hosts.is_empty()
            && grant.read_only
            && grant.state == PathState::Directory
            && plain_subfolder(&grant.host, relative_to);
        if is_exempt {
            exempt.push(grant);
        } else {
            grants.push(Grant::Path(grant));
        }
    }
    grants.extend(hosts.into_iter().map(Grant::Host));
    let mut review = Review {
        file: file.to_path_buf(),
        kind,
        sha256,
        grants,
        exempt,
        inside: Vec::new(),
    };
    // Module files are relative to the file's folder (as this app reads them), whatever kind.
    for wasm in &manifest.wasm {
        match wasm {
            extism::Wasm::File { path, .. } => review.name_file(path, "module"),
            extism::Wasm::Url { req, .. } => review.name_url(req),
            extism::Wasm::Data { .. } => {}
        }
    }
    review
}

/// The folder a file is in, normalized (the working directory for a bare file name).
fn folder_of(file: &Path) -> PathBuf {
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    normalize(parent, &cwd).0
}

/// `path` made absolute against `base`, with symlinks and `..` resolved as the OS would when it
/// exists; when it does not, `..` and `.` are removed by name below its deepest existing
/// ancestor (which is resolved).
pub fn normalize(path: &Path, base: &Path) -> (PathBuf, PathState) {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    if let Ok(real) = std::fs::canonicalize(&joined) {
        let state = if real.is_dir() {
            PathState::Directory
        } else {
            PathState::NotADirectory
        };
        return (real, state);
    }
    let lexical = remove_dots(&joined);
    // Resolve the deepest ancestor that exists, then add the rest by name.
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    while let Some(parent) = existing.parent() {
        if let Some(name) = existing.file_name() {
            rest.push(name.to_os_string());
        }
        existing = parent;
        if let Ok(real) = std::fs::canonicalize(existing) {
            let mut full = real;
            full.extend(rest.iter().rev());
            return (full, PathState::Missing);
        }
    }
    (lexical, PathState::Missing)
}

/// Removes `.` and resolves `..` by name.
fn remove_dots(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether `path` is below `dir` (not `dir` itself).
fn strictly_inside(path: &Path, dir: &Path) -> bool {
    path.strip_prefix(dir)
        .is_ok_and(|rest| rest.components().next().is_some())
}

/// Whether `path` is below `dir` with no component under `dir` hidden (starting with `.`).
fn plain_subfolder(path: &Path, dir: &Path) -> bool {
    let Ok(rest) = path.strip_prefix(dir) else {
        return false;
    };
    rest.components().next().is_some()
        && rest.components().all(|c| match c {
            Component::Normal(name) => !name.to_string_lossy().starts_with('.'),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(paths: &[(&str, &str)], hosts: &[&str]) -> extism::Manifest {
        let mut m = extism::Manifest::new([extism::Wasm::data(b"\0asm".to_vec())]);
        if !paths.is_empty() {
            m.allowed_paths = Some(
                paths
                    .iter()
                    .map(|(k, g)| ((*k).to_string(), PathBuf::from(g)))
                    .collect(),
            );
        }
        if !hosts.is_empty() {
            m.allowed_hosts = Some(hosts.iter().map(|h| (*h).to_string()).collect());
        }
        m
    }

    #[test]
    fn read_only_plain_subfolders_of_a_bundle_are_exempt() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data/inner")).unwrap();
        std::fs::create_dir_all(dir.path().join(".ssh")).unwrap();
        let file = dir.path().join("case.bundle.json");
        let m = manifest(
            &[
                ("ro:data", "/data"),
                ("ro:data/inner", "/inner"),
                ("data", "/rw"),
                ("ro:.ssh", "/ssh"),
                ("ro:.", "/self"),
                ("ro:data/../..", "/up"),
            ],
            &[],
        );
        let review = review_bundle(&m, &[], &file, String::new());
        let exempt: Vec<&str> = review.exempt.iter().map(|p| p.guest.as_str()).collect();
        assert_eq!(exempt, ["/data", "/inner"]);
        assert_eq!(review.grants.len(), 4, "{:#?}", review.grants);
        // A file that grants a host gets no exemption at all.
        let m = manifest(&[("ro:data", "/data")], &["example.com"]);
        let review = review_bundle(&m, &[], &file, String::new());
        assert!(review.exempt.is_empty());
        assert_eq!(review.grants.len(), 2);
    }

    #[test]
    fn manifests_have_no_exemption_and_paths_mean_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        let m = manifest(&[("ro:data", "/data")], &[]);
        let review = review_manifest(&m, &dir.path().join("m.json"), dir.path(), String::new());
        assert!(review.exempt.is_empty());
        let Grant::Path(p) = &review.grants[0] else {
            panic!("{:?}", review.grants)
        };
        assert_eq!(p.host, dir.path().join("data").canonicalize().unwrap());
        assert_eq!(p.state, PathState::Directory);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_folder_are_followed() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("data")).unwrap();
        let m = manifest(&[("ro:data", "/data")], &[]);
        let review = review_bundle(&m, &[], &dir.path().join("b.json"), String::new());
        assert!(review.exempt.is_empty());
        let Grant::Path(p) = &review.grants[0] else {
            panic!()
        };
        assert_eq!(p.host, outside.path().canonicalize().unwrap());
    }

    #[test]
    fn missing_paths_are_normalized_by_name_and_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let (path, state) = normalize(Path::new("a/../b/./c"), dir.path());
        assert_eq!(state, PathState::Missing);
        assert_eq!(path, dir.path().canonicalize().unwrap().join("b/c"));
    }

    #[test]
    fn module_files_outside_the_folder_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = manifest(&[], &[]);
        m.wasm = vec![
            extism::Wasm::file("plugin.wasm"),
            extism::Wasm::file("/elsewhere/lib.wasm"),
            extism::Wasm::url("https://example.com/p.wasm"),
        ];
        let review = review_bundle(&m, &[], &dir.path().join("b.json"), String::new());
        assert_eq!(
            review.grants[0],
            Grant::File {
                path: PathBuf::from("/elsewhere/lib.wasm"),
                role: "module"
            }
        );
        let Grant::Download(request) = &review.grants[1] else {
            panic!("{:?}", review.grants)
        };
        assert!(request.is_plain_get(), "{request}");
        assert_eq!(request.url, "https://example.com/p.wasm");
        assert_eq!(review.grants.len(), 2);
        assert_eq!(review.outside_files().count(), 1);
        // Nothing is downloaded without the grants.
        assert!(review.downloads(Decision::WithoutGrants).is_empty());
        assert_eq!(review.downloads(Decision::Allow).len(), 1);
    }
}
