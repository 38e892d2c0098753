//! Plugins from OCI registries: pulled by tag or digest (with progress, a timeout and
//! cancellation), kept by digest in the user's cache, and pushed as CNCF Wasm artifacts. A
//! pulled plugin is pinned: its manifest digest and layer digest travel with it into sessions and
//! bundles, so a replay never depends on where a tag points today. Knows nothing of the window.
//!
//! - `reference`: `oci://HOST[:PORT]/REPO[:TAG][@sha256:…]`.
//! - [`layout`]: which layer is the plugin, for the three layouts read.
//! - [`cache`]: blobs by digest on disk; tags as last resolved.
//! - [`auth`]: which credentials a registry gets, and how to say which were tried.
//!
//! Pulls and tag checks speak HTTP through [`http`], which bounds every answer it reads whole
//! (manifests, indexes, tag lists, token replies, error bodies); layers stream within the layer
//! limit. Pushes are oci-client's. Both run on one small tokio runtime. Registries on this
//! machine (`localhost`, loopback addresses) and hosts named insecure are spoken to over plain
//! HTTP, every other over HTTPS (rustls with ring, the system's roots).

pub mod auth;
pub mod cache;
mod http;
pub mod layout;
mod reference;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{OciDescriptor, OciImageIndex, OciImageManifest};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use auth::Login;
pub use cache::Cache;
pub use reference::{Reference, ReferenceError, SCHEME, digest_hex, is_reference};

use crate::platform::digest::sha256_hex;

/// How long a registry may stay silent (connecting, or between bytes) before a pull fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest plugin layer pulled unless asked otherwise.
pub const DEFAULT_MAX_LAYER_BYTES: u64 = 512 * 1024 * 1024;

/// Manifest media types asked for.
const ACCEPTED_MANIFESTS: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// How registries are reached: what the command line's flags or the window set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Hosts (`HOST` or `HOST:PORT`) spoken to over plain HTTP though not on this machine.
    pub insecure: Vec<String>,
    /// Logins for this run, each for its registry, used before docker's credentials.
    pub logins: Vec<Login>,
    pub timeout: Duration,
    pub max_layer_bytes: u64,
    pub cache: Cache,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            insecure: Vec::new(),
            logins: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            max_layer_bytes: DEFAULT_MAX_LAYER_BYTES,
            cache: Cache::user(),
        }
    }
}

impl Settings {
    /// Whether `reference`'s registry is spoken to over plain HTTP.
    pub fn plain_http(&self, reference: &Reference) -> bool {
        reference.is_loopback()
            || self.insecure.iter().any(|h| {
                let h = h.trim().to_ascii_lowercase();
                h == reference.registry || h == reference.host()
            })
    }
}

/// A pull or push in progress, shared with whoever shows it: bytes so far, bytes expected, and
/// a flag that stops it.
#[derive(Default)]
pub struct Transfer {
    received: AtomicU64,
    expected: AtomicU64,
    cancelled: AtomicBool,
    wake: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (received, expected) = self.progress();
        f.debug_struct("Transfer")
            .field("received", &received)
            .field("expected", &expected)
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl Transfer {
    /// A transfer that calls `wake` whenever it moves (the window repaints).
    pub fn with_wake(wake: impl Fn() + Send + Sync + 'static) -> Self {
        let transfer = Self::default();
        let _ = transfer.wake.set(Box::new(wake));
        transfer
    }

    /// Bytes received, and bytes expected when known.
    pub fn progress(&self) -> (u64, Option<u64>) {
        let expected = self.expected.load(Ordering::Relaxed);
        (
            self.received.load(Ordering::Relaxed),
            (expected > 0).then_some(expected),
        )
    }

    /// Asks the transfer to stop; it ends with [`RegistryError::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    fn moved(&self, received: u64, expected: Option<u64>) {
        self.received.store(received, Ordering::Relaxed);
        if let Some(expected) = expected {
            self.expected.store(expected, Ordering::Relaxed);
        }
        if let Some(wake) = self.wake.get() {
            wake();
        }
    }
}

/// What identifies a pulled plugin for good: the reference it was opened by, the manifest's
/// digest, the layer's, and when it was pulled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// As the user named it (by tag, by digest, or both).
    pub reference: String,
    /// The manifest's digest (`sha256:…`).
    pub digest: String,
    /// The plugin layer's digest.
    pub layer: String,
    pub media_type: String,
    /// Seconds since the Unix epoch.
    pub pulled_at: u64,
}

impl Pin {
    /// The sha256 of the module itself, when the layer is the module (not an archive holding
    /// it): the layer's digest, which the pull checked the bytes against.
    pub fn module_sha256(&self) -> Option<&str> {
        let layer_is_module =
            self.media_type == layout::WASM_LAYER || self.media_type == layout::WASM_CONTENT_LAYER;
        layer_is_module.then(|| digest_hex(&self.layer)).flatten()
    }

    /// The reference pinned to the digest: opening it gives these bytes, whatever the tag says
    /// now (`oci://HOST/REPO:TAG@sha256:…`).
    pub fn pinned_reference(&self) -> String {
        self.reference.parse::<Reference>().map_or_else(
            |_| self.reference.clone(),
            |r| r.pinned(&self.digest).to_string(),
        )
    }

    /// The reference as named, without the digest, when it names a tag.
    pub fn tag_reference(&self) -> Option<Reference> {
        self.reference.parse::<Reference>().ok()?.unpinned()
    }
}

/// A plugin module pulled (or found in the cache).
#[derive(Clone, Debug)]
pub struct Pulled {
    pub pin: Pin,
    pub module: Vec<u8>,
    /// Whether no byte came over the network.
    pub from_cache: bool,
    /// Something the user should know (e.g. the registry was unreachable and the tag's last
    /// known digest was used).
    pub note: Option<String>,
}

/// A plugin pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pushed {
    /// `oci://HOST/REPO:TAG@sha256:…`.
    pub reference: String,
    pub digest: String,
    pub layer: String,
    pub size: u64,
}

/// What failed with a registry, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(
        "cannot find the registry host {host}: the name does not resolve ({detail}); check the spelling and your network"
    )]
    UnknownHost { host: String, detail: String },
    #[error("cannot reach the registry at {registry}: {detail}; {hint}")]
    Unreachable {
        registry: String,
        detail: String,
        hint: String,
    },
    #[error(
        "the registry at {registry} did not answer within {} s; try again, or allow longer with --registry-timeout SECONDS",
        timeout.as_secs_f64()
    )]
    Stalled { registry: String, timeout: Duration },
    #[error(
        "the registry at {registry} refused {action} {repository} ({status}); tried {tried}. Log in with `docker login {registry}`, or pass --registry-user NAME --registry-password-stdin (in the window: Open from registry, user and password)"
    )]
    Denied {
        registry: String,
        repository: String,
        action: &'static str,
        status: String,
        tried: String,
    },
    #[error("{registry}/{repository} has no tag {tag:?}{}", known_tags(.tags))]
    TagNotFound {
        registry: String,
        repository: String,
        tag: String,
        tags: Vec<String>,
    },
    #[error(
        "{registry}/{repository} has no manifest with the digest {digest}; check the digest, or open the plugin by tag"
    )]
    DigestNotFound {
        registry: String,
        repository: String,
        digest: String,
    },
    #[error(
        "{registry}/{repository} lists the layer {digest} in its manifest but does not have it; the registry's storage is incomplete: push the plugin again"
    )]
    LayerNotFound {
        registry: String,
        repository: String,
        digest: String,
    },
    #[error("{registry} has no repository {repository}; check its name")]
    RepositoryNotFound {
        registry: String,
        repository: String,
    },
    #[error(
        "the registry sent {what} whose sha256 is {actual}, not the {expected} it was asked for: its storage may be damaged, or something between here and it changed the bytes; nothing was cached or run"
    )]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error(
        "the plugin layer of {reference} is {size} bytes, over the limit of {limit}; allow more with --max-layer-size BYTES if you expect a plugin that large"
    )]
    TooLarge {
        reference: String,
        size: u64,
        limit: u64,
    },
    #[error(
        "{reference} is not a Wasm plugin: {why} (config {config}; layers: {}). Expected a CNCF Wasm artifact (layer application/wasm), a layer application/vnd.wasm.content.layer.v1+wasm, or a single-layer image holding one .wasm",
        if .layers.is_empty() { "none".to_string() } else { .layers.join(", ") }
    )]
    NotAPlugin {
        reference: String,
        why: String,
        config: String,
        layers: Vec<String>,
    },
    #[error("{reference}: {detail}")]
    BadContent { reference: String, detail: String },
    #[error(
        "the registry at {registry} sent {what} of more than {}, the most this app reads of one; nothing was kept. A registry serving a plugin sends far less: check the reference and the registry",
        crate::platform::files::size_text(*.limit)
    )]
    AnswerTooLarge {
        registry: String,
        what: &'static str,
        limit: u64,
    },
    #[error("stopped: the transfer from {registry} was cancelled")]
    Cancelled { registry: String },
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error("the registry at {registry} failed: {detail}")]
    Other { registry: String, detail: String },
    /// The thread that does the network I/O could not be started.
    #[error("the registry at {registry} failed: cannot start the network runtime: {cause}")]
    NoRuntime {
        registry: String,
        cause: Arc<std::io::Error>,
    },
}

fn known_tags(tags: &[String]) -> String {
    const SHOWN: usize = 10;
    if tags.is_empty() {
        return "; check the tag".to_string();
    }
    let mut shown = tags.iter().rev().take(SHOWN).cloned().collect::<Vec<_>>();
    shown.reverse();
    let more = tags.len().saturating_sub(SHOWN);
    format!(
        "; its tags are {}{}",
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

impl RegistryError {
    /// Whether the registry could not be reached at all (so a cached answer may stand in).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Self::UnknownHost { .. } | Self::Unreachable { .. } | Self::Stalled { .. }
        )
    }
}

/// The client for `reference`'s registry with these credentials. Clients are kept for the
/// life of the process, one per protocol, timeout and credentials (oci-client keeps the first
/// credentials it is given for a registry): making one loads the system's certificate roots,
/// which costs more than a small pull, and a kept one reuses its connections.
fn client(
    reference: &Reference,
    settings: &Settings,
    auth: &oci_client::secrets::RegistryAuth,
) -> oci_client::Client {
    use std::hash::{Hash as _, Hasher as _};
    static CLIENTS: OnceLock<std::sync::Mutex<std::collections::HashMap<u64, oci_client::Client>>> =
        OnceLock::new();
    install_crypto_provider();
    let plain_http = settings.plain_http(reference);
    let mut key = std::collections::hash_map::DefaultHasher::new();
    plain_http.hash(&mut key);
    settings.timeout.hash(&mut key);
    match auth {
        oci_client::secrets::RegistryAuth::Anonymous => 0u8.hash(&mut key),
        oci_client::secrets::RegistryAuth::Basic(user, password) => {
            (1u8, user, password).hash(&mut key);
        }
        oci_client::secrets::RegistryAuth::Bearer(token) => (2u8, token).hash(&mut key),
    }
    let key = key.finish();
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    clients
        .entry(key)
        .or_insert_with(|| {
            oci_client::Client::new(ClientConfig {
                protocol: if plain_http {
                    ClientProtocol::Http
                } else {
                    ClientProtocol::Https
                },
                read_timeout: Some(settings.timeout),
                connect_timeout: Some(settings.timeout),
                // A plugin index names the Wasm platform; else its only entry is taken.
                platform_resolver: Some(Box::new(wasm_platform)),
                user_agent: concat!("extism-playground/", env!("CARGO_PKG_VERSION")),
                ..ClientConfig::default()
            })
        })
        .clone()
}

/// Makes ring rustls's provider for the process (once; another part of the process may have
/// installed one already, and either serves).
fn install_crypto_provider() {
    static PROVIDER: OnceLock<()> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn wasm_platform(entries: &[oci_client::manifest::ImageIndexEntry]) -> Option<String> {
    entries
        .iter()
        .find(|e| {
            e.platform.as_ref().is_some_and(|p| {
                p.architecture.to_string() == "wasm" || p.os.to_string().starts_with("wasi")
            })
        })
        .or_else(|| (entries.len() == 1).then(|| &entries[0]))
        .map(|e| e.digest.clone())
}

/// Runs `work` on the process's network runtime (one I/O thread, started on first use), until
/// it ends or `transfer` is cancelled. Any thread may call it.
fn run<T>(
    registry: &str,
    transfer: &Transfer,
    work: impl Future<Output = Result<T, RegistryError>>,
) -> Result<T, RegistryError> {
    // Shared by every caller, so is its failure: an `io::Error` is not `Clone`.
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, Arc<std::io::Error>>> =
        OnceLock::new();
    let runtime = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("registry-io")
                .enable_all()
                .build()
                .map_err(Arc::new)
        })
        .as_ref()
        .map_err(|cause| RegistryError::NoRuntime {
            registry: registry.to_string(),
            cause: Arc::clone(cause),
        })?;
    runtime.block_on(async {
        tokio::select! {
            result = work => result,
            () = async {
                while !transfer.is_cancelled() {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            } => Err(RegistryError::Cancelled { registry: registry.to_string() }),
        }
    })
}

/// A registry reached for one operation: its client, the credentials it gets, and what the
/// operation is (to name it in errors).
struct Connection<'a> {
    reference: &'a Reference,
    settings: &'a Settings,
    credentials: auth::Credentials,
    /// For pushes.
    client: oci_client::Client,
    /// For pulls and tag checks: every answer bounded.
    http: http::Repository,
    action: &'static str,
}

/// What an operation is, as errors say it.
const PULL: &str = "to let this machine pull";
const PUSH: &str = "to let this machine push to";

impl<'a> Connection<'a> {
    fn open(reference: &'a Reference, settings: &'a Settings, action: &'static str) -> Self {
        let credentials = auth::credentials(&reference.registry, &settings.logins);
        let client = client(reference, settings, &credentials.auth);
        let http = http::Repository::new(reference, settings, &credentials.auth);
        Self {
            reference,
            settings,
            credentials,
            client,
            http,
            action,
        }
    }

    fn auth(&self) -> &oci_client::secrets::RegistryAuth {
        &self.credentials.auth
    }

    /// How errors about `reference` (this connection's, or another in the same repository)
    /// are explained.
    fn context<'b>(&'b self, reference: &'b Reference) -> Context<'b> {
        Context {
            reference,
            settings: self.settings,
            tried: &self.credentials.described,
            action: self.action,
        }
    }
}

/// What one request was doing, to name it in errors.
#[derive(Clone, Copy)]
struct Context<'a> {
    reference: &'a Reference,
    settings: &'a Settings,
    tried: &'a str,
    action: &'static str,
}

impl Context<'_> {
    /// Says what an oci-client error means here.
    fn explain(&self, error: OciDistributionError) -> RegistryError {
        let r = self.reference;
        let registry = r.registry.clone();
        let denied = |status: &str| RegistryError::Denied {
            registry: registry.clone(),
            repository: r.repository.clone(),
            action: self.action,
            status: status.to_string(),
            tried: self.tried.to_string(),
        };
        let not_found = || match (&r.digest, &r.tag) {
            (Some(digest), _) => RegistryError::DigestNotFound {
                registry: registry.clone(),
                repository: r.repository.clone(),
                digest: digest.clone(),
            },
            (None, tag) => RegistryError::TagNotFound {
                registry: registry.clone(),
                repository: r.repository.clone(),
                tag: tag.clone().unwrap_or_default(),
                tags: Vec::new(),
            },
        };
        match error {
            OciDistributionError::UnauthorizedError { .. } => denied("401 Unauthorized"),
            OciDistributionError::AuthenticationFailure(detail) => {
                denied(&format!("authentication failed: {}", detail.trim()))
            }
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized))
                {
                    denied("401 Unauthorized")
                } else if codes.iter().any(|c| matches!(c, OciErrorCode::Denied)) {
                    denied("403 Forbidden")
                } else if codes.iter().any(|c| matches!(c, OciErrorCode::NameUnknown)) {
                    RegistryError::RepositoryNotFound {
                        registry,
                        repository: r.repository.clone(),
                    }
                } else if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    not_found()
                } else {
                    RegistryError::Other {
                        registry,
                        detail: envelope.to_string(),
                    }
                }
            }
            OciDistributionError::ServerError { code, message, .. } => match code {
                401 => denied("401 Unauthorized"),
                403 => denied("403 Forbidden"),
                404 => not_found(),
                _ => RegistryError::Other {
                    registry,
                    detail: format!("HTTP {code}: {}", message.trim()),
                },
            },
            OciDistributionError::DigestError(
                oci_client::errors::DigestError::VerificationError { expected, actual },
            ) => RegistryError::DigestMismatch {
                what: "a manifest".to_string(),
                expected,
                actual,
            },
            OciDistributionError::RequestError(e) => self.network(&e),
            OciDistributionError::IoError(e) => self.io(&e),
            other => RegistryError::Other {
                registry,
                detail: other.to_string(),
            },
        }
    }

    fn network(&self, error: &(dyn std::error::Error + 'static)) -> RegistryError {
        let registry = self.reference.registry.clone();
        let chain = error_chain(error);
        let lower = chain.to_ascii_lowercase();
        if lower.contains("timed out") || lower.contains("timeout") {
            return RegistryError::Stalled {
                registry,
                timeout: self.settings.timeout,
            };
        }
        if lower.contains("dns error")
            || lower.contains("failed to lookup")
            || lower.contains("name or service not known")
            || lower.contains("no such host")
        {
            return RegistryError::UnknownHost {
                host: self.reference.host().to_string(),
                detail: chain,
            };
        }
        let plain = self.settings.plain_http(self.reference);
        let hint = if plain {
            "check that the registry is running and the port is right".to_string()
        } else if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("invalid http version")
            || lower.contains("corrupt")
        {
            format!(
                "it did not speak HTTPS with a trusted certificate; if it serves plain HTTP, name it with --insecure-registry {} (in the window: Open from registry, plain HTTP)",
                self.reference.registry
            )
        } else {
            format!(
                "check the host and port, and that it serves HTTPS (for plain HTTP, name it with --insecure-registry {})",
                self.reference.registry
            )
        };
        RegistryError::Unreachable {
            registry,
            detail: chain,
            hint,
        }
    }

    fn io(&self, error: &std::io::Error) -> RegistryError {
        if let Some(inner) = error.get_ref() {
            return self.network(inner);
        }
        self.network(error)
    }
}

/// An error and its causes, as one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Pulls the plugin `reference` names: from the cache when it is pinned by a digest already
/// here (no network), else from the registry (its content checked against its digests before
/// anything is kept). A tag whose registry cannot be reached falls back to the digest it last
/// pointed to here, and says so.
pub fn pull(
    reference: &Reference,
    settings: &Settings,
    transfer: &Transfer,
) -> Result<Pulled, RegistryError> {
    if let Some(digest) = &reference.digest
        && let Some(pulled) =
            from_cache(reference, digest, &settings.cache, settings.max_layer_bytes)?
    {
        return Ok(pulled);
    }
    let online = run(
        &reference.registry,
        transfer,
        pull_online(reference, settings, transfer),
    );
    match online {
        Err(e) if e.is_unreachable() && reference.digest.is_none() => {
            let cached = reference
                .tag_key()
                .and_then(|key| settings.cache.tag(&key))
                .map(|record| {
                    from_cache(
                        reference,
                        &record.digest,
                        &settings.cache,
                        settings.max_layer_bytes,
                    )
                    .map(|p| (p, record))
                });
            match cached {
                Some(Ok((Some(mut pulled), record))) => {
                    pulled.note = Some(format!(
                        "the registry could not be reached ({e}); opened {} as cached, the digest {} it pointed to at {}",
                        reference,
                        record.digest,
                        crate::clock::rfc3339(record.resolved_at)
                    ));
                    Ok(pulled)
                }
                _ => Err(e),
            }
        }
        other => other,
    }
}

/// The plugin pinned by `digest`, if its manifest and layer are cached.
fn from_cache(
    reference: &Reference,
    digest: &str,
    cache: &Cache,
    max_layer_bytes: u64,
) -> Result<Option<Pulled>, RegistryError> {
    let Some(mut raw) = cache.get(digest) else {
        return Ok(None);
    };
    // An index pinned by its digest: its Wasm entry's manifest, cached beside it.
    if let ManifestKind::Index(index) = manifest_kind(&raw) {
        let Some(child) = wasm_platform(&index.manifests).and_then(|d| cache.get(&d)) else {
            return Ok(None);
        };
        raw = child;
    }
    let Ok(manifest) = serde_json::from_slice::<OciImageManifest>(&raw) else {
        return Ok(None);
    };
    let Ok(chosen) = layout::choose(&manifest) else {
        return Ok(None);
    };
    let layer = &manifest.layers[chosen.index];
    let Some(bytes) = cache.get(&layer.digest) else {
        return Ok(None);
    };
    let module = layout::extract(bytes, chosen.layout, max_layer_bytes).map_err(|e| {
        RegistryError::BadContent {
            reference: reference.to_string(),
            detail: e.to_string(),
        }
    })?;
    let pulled_at = cache.stored_at(digest).unwrap_or_else(crate::clock::now);
    Ok(Some(Pulled {
        pin: Pin {
            reference: reference.to_string(),
            digest: digest.to_string(),
            layer: layer.digest.clone(),
            media_type: layer.media_type.clone(),
            pulled_at,
        },
        module,
        from_cache: true,
        note: None,
    }))
}

/// The image manifest `reference` names (following an index to its Wasm entry), its bytes
/// checked against its digest.
async fn fetch_manifest(connection: &Connection<'_>) -> Result<Fetched, RegistryError> {
    let (http, reference) = (&connection.http, connection.reference);
    let context = connection.context(reference);
    let (raw, digest) = match http
        .manifest(&reference.manifest_name(), &ACCEPTED_MANIFESTS)
        .await
    {
        Ok(found) => found,
        Err(e) => {
            let mut error = context.fail(e);
            if let RegistryError::TagNotFound { tags, .. } = &mut error {
                // Naming the tags there is worth one more request; it also tells a missing
                // tag from a missing repository (the manifest request says "unknown" for both).
                match http.tags().await {
                    Ok(list) => {
                        *tags = list;
                        tags.sort();
                    }
                    Err(e) => {
                        if let missing @ RegistryError::RepositoryNotFound { .. } = context.fail(e)
                        {
                            return Err(missing);
                        }
                    }
                }
            }
            return Err(error);
        }
    };
    let top = verified(raw, digest)?;
    let (raw, digest) = match manifest_kind(&top.0) {
        ManifestKind::Index(index) => {
            let Some(entry) = wasm_platform(&index.manifests) else {
                return Err(RegistryError::NotAPlugin {
                    reference: reference.to_string(),
                    why: "it is an index of several platforms and none is Wasm".to_string(),
                    config: "none (an image index)".to_string(),
                    layers: index
                        .manifests
                        .iter()
                        .map(|m| m.media_type.clone())
                        .collect(),
                });
            };
            let child = reference.pinned(&entry);
            http.manifest(&child.manifest_name(), &ACCEPTED_MANIFESTS)
                .await
                .map_err(|e| connection.context(&child).fail(e))?
        }
        ManifestKind::Image => {
            return Ok(Fetched {
                manifest: top.clone(),
                top,
            });
        }
    };
    Ok(Fetched {
        manifest: verified(raw, digest)?,
        top,
    })
}

/// What a reference resolved to: its own manifest (or index), and the image manifest of the
/// plugin (the same when it is not an index); each as bytes with their digest.
struct Fetched {
    top: (Vec<u8>, String),
    manifest: (Vec<u8>, String),
}

/// `raw` with its digest, once its sha256 is checked against it.
fn verified(raw: impl AsRef<[u8]>, digest: String) -> Result<(Vec<u8>, String), RegistryError> {
    let raw = raw.as_ref();
    let actual = format!("sha256:{}", sha256_hex(raw));
    if actual != digest {
        return Err(RegistryError::DigestMismatch {
            what: "a manifest".to_string(),
            expected: digest,
            actual,
        });
    }
    Ok((raw.to_vec(), digest))
}

async fn pull_online(
    reference: &Reference,
    settings: &Settings,
    transfer: &Transfer,
) -> Result<Pulled, RegistryError> {
    let connection = Connection::open(reference, settings, PULL);
    let fetched = fetch_manifest(&connection).await?;
    let manifest: OciImageManifest =
        serde_json::from_slice(&fetched.manifest.0).map_err(|e| RegistryError::BadContent {
            reference: reference.to_string(),
            detail: format!("its manifest cannot be read ({e})"),
        })?;
    let chosen = layout::choose(&manifest).map_err(|e| RegistryError::NotAPlugin {
        reference: reference.to_string(),
        why: e.why.to_string(),
        config: e.config,
        layers: e.layers,
    })?;
    let layer = manifest.layers[chosen.index].clone();
    let size = u64::try_from(layer.size).unwrap_or(0);
    if size > settings.max_layer_bytes {
        return Err(RegistryError::TooLarge {
            reference: reference.to_string(),
            size,
            limit: settings.max_layer_bytes,
        });
    }
    let bytes = if let Some(bytes) = settings.cache.get(&layer.digest) {
        transfer.moved(size, Some(size));
        bytes
    } else {
        let bytes = download(&connection, &layer, transfer).await?;
        settings.cache.put(&layer.digest, &bytes)?;
        bytes
    };
    let module = layout::extract(bytes, chosen.layout, settings.max_layer_bytes).map_err(|e| {
        RegistryError::BadContent {
            reference: reference.to_string(),
            detail: e.to_string(),
        }
    })?;
    // The image manifest, and the index above it when there is one; the pin is what the
    // reference resolved to (what the tag points at, and what Check for newer compares).
    settings
        .cache
        .put(&fetched.manifest.1, &fetched.manifest.0)?;
    settings.cache.put(&fetched.top.1, &fetched.top.0)?;
    let digest = fetched.top.1;
    let pulled_at = crate::clock::now();
    if let Some(key) = reference.tag_key()
        && reference.digest.is_none()
    {
        settings.cache.remember_tag(&key, &digest, pulled_at)?;
    }
    Ok(Pulled {
        pin: Pin {
            reference: reference.to_string(),
            digest,
            layer: layer.digest,
            media_type: layer.media_type,
            pulled_at,
        },
        module,
        from_cache: false,
        note: None,
    })
}

enum ManifestKind {
    Image,
    Index(OciImageIndex),
}

fn manifest_kind(raw: &[u8]) -> ManifestKind {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, rename = "mediaType")]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    let probe: Option<Probe> = serde_json::from_slice(raw).ok();
    let is_index = probe.is_some_and(|p| {
        p.manifests.is_some()
            || p.media_type
                .is_some_and(|t| t.contains("index") || t.contains("list"))
    });
    if is_index && let Ok(index) = serde_json::from_slice::<OciImageIndex>(raw) {
        return ManifestKind::Index(index);
    }
    ManifestKind::Image
}

/// Streams a layer, counting it into `transfer` and checking its sha256 against its digest.
async fn download(
    connection: &Connection<'_>,
    layer: &OciDescriptor,
    transfer: &Transfer,
) -> Result<Vec<u8>, RegistryError> {
    let (settings, context) = (
        connection.settings,
        connection.context(connection.reference),
    );
    let expected_size = u64::try_from(layer.size).ok().filter(|s| *s > 0);
    transfer.moved(0, expected_size);
    let mut response =
        connection
            .http
            .blob(&layer.digest)
            .await
            .map_err(|e| match context.fail(e) {
                // A 404 here is about the layer, not the tag or digest asked for.
                RegistryError::TagNotFound { .. } | RegistryError::DigestNotFound { .. } => {
                    RegistryError::LayerNotFound {
                        registry: context.reference.registry.clone(),
                        repository: context.reference.repository.clone(),
                        digest: layer.digest.clone(),
                    }
                }
                other => other,
            })?;
    let capacity = usize::try_from(expected_size.unwrap_or(0)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity.min(64 * 1024 * 1024));
    let mut hasher = Sha256::new();
    let mismatch = |hasher: Sha256| RegistryError::DigestMismatch {
        what: format!("the plugin layer ({})", layer.media_type),
        expected: layer.digest.clone(),
        actual: format!("sha256:{}", hex(&hasher.finalize())),
    };
    if response
        .content_length()
        .is_some_and(|len| len > settings.max_layer_bytes)
    {
        return Err(RegistryError::TooLarge {
            reference: context.reference.to_string(),
            size: response.content_length().unwrap_or_default(),
            limit: settings.max_layer_bytes,
        });
    }
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(context.network(&e)),
        };
        let received = bytes.len() as u64 + chunk.len() as u64;
        if received > settings.max_layer_bytes {
            return Err(RegistryError::TooLarge {
                reference: context.reference.to_string(),
                size: received,
                limit: settings.max_layer_bytes,
            });
        }
        hasher.update(&chunk);
        bytes.extend_from_slice(&chunk);
        transfer.moved(received, None);
    }
    if format!("sha256:{}", hex(&hasher.clone().finalize())) != layer.digest {
        return Err(mismatch(hasher));
    }
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Where the tag of `reference` points now, asked of the registry (never the cache).
pub fn resolve(reference: &Reference, settings: &Settings) -> Result<String, RegistryError> {
    let transfer = Transfer::default();
    run(&reference.registry, &transfer, async {
        let connection = Connection::open(reference, settings, PULL);
        connection
            .http
            .manifest_digest(&reference.manifest_name(), &ACCEPTED_MANIFESTS)
            .await
            .map_err(|e| connection.context(reference).fail(e))
    })
}

/// The `sha256:` digest at the end of a manifest URL, if it ends with one.
fn digest_in(url: &str) -> Option<String> {
    let last = url.rsplit('/').next()?.to_ascii_lowercase();
    digest_hex(&last).is_some().then_some(last)
}

/// One layer or config of an artifact to push.
#[derive(Clone, Debug)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub media_type: String,
}

/// What a pushed module's config says it runs on (its `os`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleOs {
    /// It imports WASI preview 1: `wasip1`.
    Wasip1,
    /// It imports no WASI: `wasm`.
    Wasm,
}

impl ModuleOs {
    fn name(self) -> &'static str {
        match self {
            Self::Wasip1 => "wasip1",
            Self::Wasm => "wasm",
        }
    }
}

/// Publishes `module` at `reference` (which names a tag) as a CNCF Wasm artifact: config
/// `application/vnd.wasm.config.v0+json` saying it runs on `os`, one `application/wasm` layer.
pub fn push(
    module: &[u8],
    os: ModuleOs,
    reference: &Reference,
    settings: &Settings,
    annotations: BTreeMap<String, String>,
) -> Result<Pushed, RegistryError> {
    let created = crate::clock::rfc3339(crate::clock::now());
    let layer_digest = format!("sha256:{}", sha256_hex(module));
    let config = serde_json::json!({
        "created": created,
        "architecture": "wasm",
        "os": os.name(),
        "layerDigests": [layer_digest],
    });
    let mut annotations = annotations;
    annotations
        .entry("org.opencontainers.image.created".to_string())
        .or_insert(created);
    push_artifact(
        reference,
        &[Blob {
            bytes: module.to_vec(),
            media_type: layout::WASM_LAYER.to_string(),
        }],
        &Blob {
            bytes: serde_json::to_vec(&config).expect("JSON values serialize"),
            media_type: layout::WASM_CONFIG.to_string(),
        },
        settings,
        annotations,
    )
}

/// Publishes an artifact of any layout (what `push` uses, and what tests use to publish the
/// other layouts).
pub fn push_artifact(
    reference: &Reference,
    layers: &[Blob],
    config: &Blob,
    settings: &Settings,
    annotations: BTreeMap<String, String>,
) -> Result<Pushed, RegistryError> {
    let Some(tag) = &reference.tag else {
        return Err(ReferenceError {
            input: reference.to_string(),
            reason: "a push needs a tag to publish under".to_string(),
        }
        .into());
    };
    let layers: Vec<ImageLayer> = layers
        .iter()
        .map(|b| ImageLayer::new(b.bytes.clone(), b.media_type.clone(), None))
        .collect();
    let config = Config::new(config.bytes.clone(), config.media_type.clone(), None);
    let mut manifest = OciImageManifest::build(
        &layers,
        &config,
        (!annotations.is_empty()).then_some(annotations),
    );
    manifest.media_type = Some(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE.to_string());
    let layer = manifest
        .layers
        .first()
        .map(|l| l.digest.clone())
        .unwrap_or_default();
    let size = layers.first().map_or(0, |l| l.data.len() as u64);
    let target = Reference {
        digest: None,
        tag: Some(tag.clone()),
        ..reference.clone()
    };
    let transfer = Transfer::default();
    let digest = run(&reference.registry, &transfer, async {
        let connection = Connection::open(&target, settings, PUSH);
        let context = connection.context(&target);
        let (client, image) = (&connection.client, target.to_client());
        let pushed = client
            .push(&image, &layers, config, connection.auth(), Some(manifest))
            .await
            .map_err(|e| context.explain(e))?;
        // The registry names the manifest it stored by digest; asking the tag again could
        // see someone else's push in between.
        match digest_in(&pushed.manifest_url) {
            Some(digest) => Ok(digest),
            None => connection
                .http
                .manifest_digest(&target.manifest_name(), &ACCEPTED_MANIFESTS)
                .await
                .map_err(|e| context.fail(e)),
        }
    })?;
    Ok(Pushed {
        reference: target.pinned(&digest).to_string(),
        digest,
        layer,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_this_machine_and_named_hosts() {
        let settings = Settings {
            insecure: vec!["registry.lan".into(), "other.lan:5000".into()],
            cache: Cache::at("/nonexistent"),
            ..Settings::default()
        };
        let r = |s: &str| s.parse::<Reference>().unwrap();
        assert!(settings.plain_http(&r("oci://localhost:5000/a")));
        assert!(settings.plain_http(&r("oci://127.0.0.1:5000/a")));
        assert!(settings.plain_http(&r("oci://registry.lan:8080/a")));
        assert!(settings.plain_http(&r("oci://other.lan:5000/a")));
        assert!(!settings.plain_http(&r("oci://other.lan:6000/a")));
        assert!(!settings.plain_http(&r("oci://ghcr.io/a")));
    }

    #[test]
    fn a_cancelled_transfer_stops_waiting() {
        let transfer = Transfer::default();
        transfer.cancel();
        let result: Result<(), _> = run("h", &transfer, std::future::pending());
        assert!(matches!(result, Err(RegistryError::Cancelled { .. })));
    }

    #[test]
    fn pushed_manifests_are_named_by_the_digest_in_their_url() {
        let d = "0123456789abcdef".repeat(4);
        assert_eq!(
            digest_in(&format!("http://h:5000/v2/a/b/manifests/sha256:{d}")),
            Some(format!("sha256:{d}"))
        );
        assert_eq!(digest_in("http://h:5000/v2/a/b/manifests/1.0"), None);
        assert_eq!(digest_in("http://h/v2/a/manifests/sha256:abc"), None);
    }

    #[test]
    fn tag_lists_are_short() {
        let tags: Vec<String> = (0..15).map(|i| format!("v{i}")).collect();
        let text = known_tags(&tags);
        assert!(text.starts_with("; its tags are v5, v6"), "{text}");
        assert!(text.ends_with("v14 and 5 more"), "{text}");
    }
}
