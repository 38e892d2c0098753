//! The one way a plugin gets into the workbench, the command line and test suites. A
//! [`Source`] is read ([`read`]: local bytes and their JSON, each once, and what the file asks
//! of the sandbox reviewed; always quick), then, once the grants are decided, resolved
//! ([`Read::resolve`]: modules downloaded when a manifest names URLs, pulled with the
//! registry settings the caller passes, the main module inspected once) into an [`Opened`]
//! plugin. Nothing a file asks for is read or granted before that decision.
//! Samples, .wasm files, manifests (modules by path, inline data, URL or `oci://` reference),
//! registry references, sessions, bundles and hot reloads all take this path.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::bundle::{self, Bundle, BundleError, Scenario};
use crate::platform::digest::sha256_hex;
use crate::platform::files::{self, FileKind};
use crate::runner::source::{ModuleOrigin, is_wasm};
use crate::runner::{Inspection, LoadError, LoadedPlugin, SandboxOptions};
use crate::samples::{self, Sample};
use crate::trust::{Decision, FileGrants, Review, Trust, review};

/// Where a plugin comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A built-in sample.
    Sample(&'static Sample),
    /// A file: a .wasm module, an Extism manifest, a session or a bundle (its bytes say which).
    Path(PathBuf),
    /// A plugin in an OCI registry.
    Registry(crate::registry::Reference),
}

impl Source {
    /// The sample called `name`, if there is one.
    pub fn sample(name: &str) -> Option<Self> {
        samples::find(name).map(Self::Sample)
    }

    /// How the source is named to people.
    pub fn label(&self) -> String {
        match self {
            Self::Sample(sample) => format!("the {} sample", sample.name),
            Self::Path(path) => path.display().to_string(),
            Self::Registry(reference) => reference.to_string(),
        }
    }

    /// What a command-line argument names: a registry reference (`oci://…`) or a file.
    pub fn from_arg(arg: &Path) -> Result<Self, OpenError> {
        match arg.to_str() {
            Some(text) if crate::registry::is_reference(text) => Ok(Self::Registry(
                text.parse()
                    .map_err(crate::registry::RegistryError::from)
                    .map_err(LoadError::from)?,
            )),
            _ => Ok(Self::Path(arg.to_path_buf())),
        }
    }
}

/// Which plugin is open, as remembered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PluginRef {
    /// A built-in sample, by name.
    Sample(String),
    /// A .wasm or manifest file.
    File(PathBuf),
    /// The plugin inside a session or bundle file.
    Bundle(PathBuf),
    /// A plugin pulled from a registry, by its reference pinned to the digest pulled
    /// (`oci://HOST/REPO:TAG@sha256:…`): the app starts with the same bytes, from the cache.
    Registry(String),
}

impl Default for PluginRef {
    fn default() -> Self {
        Self::Sample("hello".to_string())
    }
}

impl PluginRef {
    /// The key this plugin's memory is kept under.
    pub fn key(&self) -> String {
        match self {
            Self::Sample(name) => format!("sample:{name}"),
            Self::File(path) => format!("file:{}", path.display()),
            Self::Bundle(path) => format!("bundle:{}", path.display()),
            // Per repository: a new tag or digest of the same plugin keeps what was set for it.
            Self::Registry(reference) => match reference.parse::<crate::registry::Reference>() {
                Ok(r) => format!("oci:{}/{}", r.registry, r.repository),
                Err(_) => format!("oci:{reference}"),
            },
        }
    }

    /// The file it was opened from, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Sample(_) | Self::Registry(_) => None,
            Self::File(path) | Self::Bundle(path) => Some(path),
        }
    }
}

/// Why a source could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(
        "{file} was opened without its grants, so its {role} {path} (outside the file's folder) was not read; open it again and allow its grants to use it"
    )]
    Withheld {
        file: String,
        role: &'static str,
        path: PathBuf,
    },
}

/// What a file or sample says about the scenario around its plugin.
#[derive(Clone, Debug)]
pub enum Setup {
    /// A bare module says nothing.
    Module,
    /// A manifest carries sandbox options.
    Manifest(SandboxOptions),
    /// A sample has the options it needs and example inputs.
    Sample(&'static Sample),
    /// A session or bundle carries everything: options, host data, function, input, expected.
    Scenario(Box<Scenario>),
}

/// What identifies a version of a file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub modified: Option<SystemTime>,
    pub len: u64,
}

impl FileStamp {
    /// The stamp of `path` now, if it can be read.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

/// A file hot reload watches, with the stamp it had when the plugin was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchedFile {
    pub path: PathBuf,
    pub stamp: Option<FileStamp>,
}

impl WatchedFile {
    fn now(path: PathBuf) -> Self {
        let stamp = FileStamp::of(&path);
        Self { path, stamp }
    }

    /// Whether the file differs from when it was read (a file that cannot be read now, e.g.
    /// half-written, does not count as changed).
    pub fn changed(&self) -> bool {
        FileStamp::of(&self.path).is_some_and(|now| Some(now) != self.stamp)
    }

    /// Takes the file's current stamp as the one it was read with.
    pub fn restamp(&mut self) {
        self.stamp = FileStamp::of(&self.path);
    }
}

/// A plugin read, resolved and inspected: ready to install.
#[derive(Clone, Debug)]
pub struct Opened {
    /// What to remember as the open plugin.
    pub origin: PluginRef,
    pub plugin: LoadedPlugin,
    pub inspection: Inspection,
    pub setup: Setup,
    /// The files hot reload watches: the opened file and every module file it names.
    pub watched: Vec<WatchedFile>,
    /// What the file asked of the sandbox and what was decided (files that can ask only).
    pub grants: Option<FileGrants>,
    /// The trap's coredump a bundle carries.
    pub coredump: Option<Arc<Vec<u8>>>,
    /// Something the user should know about how it was opened (e.g. a registry that could not
    /// be reached, and the cached digest used instead).
    pub note: Option<String>,
}

/// A source read from disk, not yet resolved.
#[derive(Debug)]
pub struct Read {
    what: ReadKind,
    review: Option<Review>,
    /// What resolving pulls from registries reports through (and is stopped by).
    transfer: Arc<crate::registry::Transfer>,
    /// The opened file's stamp, taken before its bytes were read: a write that lands while
    /// it is read or resolved still counts as a change for hot reload.
    stamp: Option<FileStamp>,
    /// Origins the user let downloads be redirected to (besides each module's own).
    redirects: Vec<String>,
}

impl Read {
    fn new(what: ReadKind, review: Option<Review>) -> Self {
        Self {
            what,
            review,
            transfer: Arc::default(),
            stamp: None,
            redirects: Vec::new(),
        }
    }
}

#[derive(Debug)]
enum ReadKind {
    Sample(&'static Sample),
    /// A .wasm module (or anything that is neither a module, a manifest nor a bundle:
    /// resolving says what is wrong with it).
    Plugin {
        path: PathBuf,
        bytes: Vec<u8>,
    },
    /// An Extism manifest, parsed once.
    Manifest {
        path: PathBuf,
        manifest: Box<extism::Manifest>,
    },
    /// A session or bundle, parsed once.
    Bundle {
        path: PathBuf,
        bundle: Box<Bundle>,
    },
    /// A registry reference, pulled when resolved.
    Registry(crate::registry::Reference),
}

/// Reads `source`: the file's bytes, once, and its JSON, once (they tell a bundle, a manifest
/// and a module apart), and reviews what a bundle or manifest asks of the sandbox. A bundle
/// this build cannot read fails here, before any review: it is never partly trusted.
pub fn read(source: &Source) -> Result<Read, OpenError> {
    let path = match source {
        Source::Sample(sample) => return Ok(Read::new(ReadKind::Sample(sample), None)),
        Source::Path(path) => path,
        Source::Registry(reference) => {
            return Ok(Read::new(ReadKind::Registry(reference.clone()), None));
        }
    };
    let stamp = FileStamp::of(path);
    let mut read = read_path(path)?;
    read.stamp = stamp;
    Ok(read)
}

/// Reads the file at `path` (see [`read`]).
fn read_path(path: &Path) -> Result<Read, OpenError> {
    let bytes = files::read(path, FileKind::Plugin).map_err(LoadError::from)?;
    read_bytes(path, bytes)
}

/// The file at `path`, whose bytes are `bytes`, read (see [`read`]).
fn read_bytes(path: &Path, bytes: Vec<u8>) -> Result<Read, OpenError> {
    let json = (!is_wasm(&bytes))
        .then(|| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .flatten();
    let Some(json) = json else {
        return Ok(Read::new(
            ReadKind::Plugin {
                path: path.to_path_buf(),
                bytes,
            },
            None,
        ));
    };
    let sha = sha256_hex(&bytes);
    if bundle::declares_bundle(&json) {
        let bundle = Bundle::from_value(json, &path.display().to_string())?;
        return Ok(reviewed_bundle(path, bundle, sha));
    }
    match <extism::Manifest as serde::Deserialize>::deserialize(&json) {
        Ok(manifest) => {
            let cwd = std::env::current_dir().unwrap_or_default();
            let review = review::review_manifest(&manifest, path, &cwd, sha);
            Ok(Read::new(
                ReadKind::Manifest {
                    path: path.to_path_buf(),
                    manifest: Box::new(manifest),
                },
                Some(review),
            ))
        }
        // Resolving it says what is wrong with it as a manifest.
        Err(_) => Ok(Read::new(
            ReadKind::Plugin {
                path: path.to_path_buf(),
                bytes,
            },
            None,
        )),
    }
}

/// Reads the file at `path` as a bundle, failing with the bundle's own errors (unreadable, not
/// JSON, not a bundle, a newer version) for anything else: what `replay` needs.
pub fn read_bundle(path: &Path) -> Result<Read, OpenError> {
    let bytes = files::read(path, FileKind::Bundle).map_err(BundleError::from)?;
    let bundle = Bundle::parse(&bytes, &path.display().to_string())?;
    Ok(reviewed_bundle(path, bundle, sha256_hex(&bytes)))
}

/// The review of a file this app just saved at `path` (a session, bundle or manifest) as the
/// `bytes` it wrote, reviewed as they would be opened there: what trust in it binds to. From
/// the bytes written, never read back (what is there now may be someone else's). `None` for
/// anything else.
pub fn saved_review(path: &Path, bytes: &[u8]) -> Option<Review> {
    read_bytes(path, bytes.to_vec()).ok()?.review
}

fn reviewed_bundle(path: &Path, bundle: Bundle, sha256: String) -> Read {
    let review = review::review_bundle(&bundle.manifest, &bundle.mock_files(), path, sha256);
    Read::new(
        ReadKind::Bundle {
            path: path.to_path_buf(),
            bundle: Box::new(bundle),
        },
        Some(review),
    )
}

/// Whether a manifest names a module in a registry.
fn names_a_registry(manifest: &extism::Manifest) -> bool {
    manifest.wasm.iter().any(
        |m| matches!(m, extism::Wasm::Url { req, .. } if crate::registry::is_reference(&req.url)),
    )
}

/// Whether a manifest names a module by URL.
fn names_a_url(manifest: &extism::Manifest) -> bool {
    manifest
        .wasm
        .iter()
        .any(|m| matches!(m, extism::Wasm::Url { .. }))
}

impl Read {
    /// Whether resolving may take long: it reads files (a module, those a manifest or bundle
    /// names), downloads or pulls. Such a read is resolved on a background thread; only a
    /// sample (in memory already) is not.
    pub fn may_block(&self) -> bool {
        !matches!(self.what, ReadKind::Sample(_))
    }

    /// Whether resolving downloads modules (the manifest or the bundle's names one by URL).
    pub fn downloads(&self) -> bool {
        match &self.what {
            ReadKind::Sample(_) | ReadKind::Plugin { .. } => false,
            ReadKind::Registry(_) => true,
            ReadKind::Manifest { manifest, .. } => names_a_url(manifest),
            ReadKind::Bundle { bundle, .. } => names_a_url(&bundle.manifest),
        }
    }

    /// The pull resolving makes from a registry (its progress, and Stop): for a registry
    /// reference, and for a manifest, session or bundle naming a module by one.
    pub fn transfer(&self) -> Option<Arc<crate::registry::Transfer>> {
        let pulls = match &self.what {
            ReadKind::Registry(_) => true,
            ReadKind::Manifest { manifest, .. } => names_a_registry(manifest),
            ReadKind::Bundle { bundle, .. } => names_a_registry(&bundle.manifest),
            ReadKind::Sample(_) | ReadKind::Plugin { .. } => false,
        };
        pulls.then(|| Arc::clone(&self.transfer))
    }

    /// Gives the pull a way to wake whoever shows its progress.
    #[must_use]
    pub fn with_wake(mut self, wake: impl Fn() + Send + Sync + 'static) -> Self {
        self.transfer = Arc::new(crate::registry::Transfer::with_wake(wake));
        self
    }

    /// What the file asks of the sandbox: for bundles and manifests.
    pub fn review(&self) -> Option<&Review> {
        self.review.as_ref()
    }

    /// Lets downloads be redirected to these origins too (`scheme://host[:port]`), as the
    /// user said.
    #[must_use]
    pub fn with_redirects(mut self, origins: impl IntoIterator<Item = String>) -> Self {
        self.redirects.extend(origins);
        self
    }

    /// Resolves the plugin (downloads, pulls with `registry`'s settings, hash checks) and
    /// inspects its main module. The file's allowed paths and hosts are the reviewed ones
    /// `decision` opens; `trust` says why no one was asked, when no one was.
    pub fn resolve(
        self,
        decision: Decision,
        trust: Option<Trust>,
        registry: &crate::registry::Settings,
    ) -> Result<Opened, OpenError> {
        let review = self.review;
        // Only what the user consented to is fetched: nothing, without the grants.
        let allowed = review
            .as_ref()
            .map(|review| crate::runner::source::Allowed {
                downloads: review.downloads(decision),
                pulls: review.pulls(decision),
                redirects: self.redirects.clone(),
            })
            .unwrap_or_default();
        let fetch = Some(crate::runner::source::Fetch {
            settings: registry,
            transfer: &self.transfer,
            allowed: &allowed,
        });
        let grants = review.map(|review| FileGrants {
            review,
            decision,
            trust,
        });
        // A file outside the file's folder is read only with the grants.
        if let Some(grants) = &grants
            && decision == Decision::WithoutGrants
            && let Some((outside, role)) = grants.review.outside_files().next()
        {
            return Err(OpenError::Withheld {
                file: grants.review.file.display().to_string(),
                role,
                path: outside.to_path_buf(),
            });
        }
        let mut coredump = None;
        let (origin, plugin, setup, path) = match self.what {
            ReadKind::Sample(sample) => {
                let plugin = sample.plugin();
                let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
                return Ok(Opened {
                    origin: PluginRef::Sample(sample.name.to_string()),
                    plugin,
                    inspection,
                    setup: Setup::Sample(sample),
                    watched: Vec::new(),
                    grants: None,
                    coredump: None,
                    note: None,
                });
            }
            ReadKind::Bundle { path, bundle } => {
                let name = path.display().to_string();
                let mut scenario = bundle.resolve_fetching(path.parent(), &name, fetch)?;
                coredump = bundle
                    .coredump_bytes()
                    .map_err(|cause| BundleError::Coredump {
                        name: name.clone(),
                        cause,
                    })?
                    .map(Arc::new);
                if let Some(grants) = &grants {
                    grants.review.apply(decision, &mut scenario.options);
                }
                (
                    PluginRef::Bundle(path.clone()),
                    scenario.plugin.clone(),
                    Setup::Scenario(Box::new(scenario)),
                    path,
                )
            }
            ReadKind::Manifest { path, manifest } => {
                let (plugin, mut options) =
                    LoadedPlugin::from_manifest_file_fetching(&path, &manifest, fetch)?;
                if let Some(grants) = &grants {
                    grants.review.apply(decision, &mut options);
                }
                (
                    PluginRef::File(path.clone()),
                    plugin,
                    Setup::Manifest(options),
                    path,
                )
            }
            ReadKind::Registry(reference) => {
                return pulled(&reference, registry, &self.transfer);
            }
            ReadKind::Plugin { path, bytes } => {
                // A module; or, when it is neither that nor a manifest, the reason why.
                let (plugin, options) = LoadedPlugin::from_file_bytes(&path, bytes)?;
                let setup = options.map_or(Setup::Module, Setup::Manifest);
                (PluginRef::File(path.clone()), plugin, setup, path)
            }
        };
        let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
        let watched = watched_files(&path, &plugin, self.stamp);
        Ok(Opened {
            origin,
            plugin,
            inspection,
            setup,
            watched,
            grants,
            coredump,
            note: None,
        })
    }
}

/// The plugin `reference` names, pulled (or found in the cache).
fn pulled(
    reference: &crate::registry::Reference,
    settings: &crate::registry::Settings,
    transfer: &crate::registry::Transfer,
) -> Result<Opened, OpenError> {
    let pulled = crate::registry::pull(reference, settings, transfer).map_err(LoadError::from)?;
    let note = pulled.note.clone();
    let plugin = LoadedPlugin::from_pulled(pulled)?;
    let inspection = Inspection::of(&plugin.display_name, &plugin.main().bytes)?;
    let pin = plugin.registry_pin().expect("a pulled plugin has its pin");
    Ok(Opened {
        origin: PluginRef::Registry(pin.pinned_reference()),
        plugin,
        inspection,
        setup: Setup::Module,
        watched: Vec::new(),
        grants: None,
        coredump: None,
        note,
    })
}

/// The files hot reload watches for a plugin opened from `path`: the file itself (with the
/// stamp it had before it was read, when known) and every module file it names.
fn watched_files(path: &Path, plugin: &LoadedPlugin, stamp: Option<FileStamp>) -> Vec<WatchedFile> {
    let mut watched = vec![match stamp {
        Some(stamp) => WatchedFile {
            path: path.to_path_buf(),
            stamp: Some(stamp),
        },
        None => WatchedFile::now(path.to_path_buf()),
    }];
    for module in &plugin.modules {
        if let ModuleOrigin::File(p) = &module.origin
            && !watched.iter().any(|w| &w.path == p)
        {
            watched.push(WatchedFile::now(p.clone()));
        }
    }
    watched
}
