//! Where a plugin comes from: a .wasm file, bytes, a registry, or an Extism manifest JSON (whose
//! modules may be files, inline data, URLs or `oci://` references), with the manifest's hashes
//! checked. And the manifest JSON that
//! goes back out, so a plugin plus options round-trips through the standard schema.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::platform::digest::sha256_hex;

use super::error::LoadError;
use super::options::SandboxOptions;
use crate::platform::files::{FileKind, read};

/// The name extism gives the module whose exports are called.
const MAIN_MODULE: &str = "main";

/// How long a manifest's URL module may take to download.
const DOWNLOAD_TIMEOUT_S: u64 = 30;

/// Where a module's bytes came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleOrigin {
    File(PathBuf),
    Data,
    Url(String),
    /// Pulled from an OCI registry, pinned by digest.
    Registry(Box<crate::registry::Pin>),
}

/// One WebAssembly module of a plugin, with its bytes in memory.
#[derive(Clone, Debug)]
pub struct PluginModule {
    /// The module name for linking (`None` means `main`).
    pub name: Option<String>,
    pub bytes: Arc<Vec<u8>>,
    /// Lowercase hex sha256 of `bytes`.
    pub sha256: String,
    pub origin: ModuleOrigin,
}

impl PluginModule {
    fn new(name: Option<String>, bytes: Vec<u8>, origin: ModuleOrigin) -> Self {
        let sha256 = sha256_hex(&bytes);
        Self::hashed(name, bytes, sha256, origin)
    }

    /// A module whose sha256 is already known (checked by whoever got the bytes).
    fn hashed(name: Option<String>, bytes: Vec<u8>, sha256: String, origin: ModuleOrigin) -> Self {
        Self {
            name,
            sha256,
            bytes: Arc::new(bytes),
            origin,
        }
    }

    fn link_name(&self) -> &str {
        self.name.as_deref().unwrap_or(MAIN_MODULE)
    }
}

/// How the URL and `oci://` modules of a manifest are fetched: only those `allowed` (what the
/// user consented to), `oci://` ones with these settings, reporting through (and stoppable by)
/// this transfer. Without a `Fetch`, no module is fetched at all.
#[derive(Clone, Copy)]
pub struct Fetch<'a> {
    pub settings: &'a crate::registry::Settings,
    pub transfer: &'a crate::registry::Transfer,
    pub allowed: &'a Allowed,
}

/// The requests a file's modules may make: what the user consented to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowed {
    /// URL modules, exactly as they would be requested.
    pub downloads: Vec<Request>,
    /// `oci://` references.
    pub pulls: Vec<String>,
    /// Origins (`scheme://host[:port]`) a download may be redirected to besides its own.
    pub redirects: Vec<String>,
}

/// A request a file makes the app send to download a module: exactly what would go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    /// Upper case; `GET` when the file names none.
    pub method: String,
    /// As the file writes them, sorted by name.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Whether it is a plain GET with no headers of the file's.
    pub fn is_plain_get(&self) -> bool {
        self.method == "GET" && self.headers.is_empty()
    }

    /// The request of a manifest's URL module.
    pub fn of(req: &extism_manifest::HttpRequest) -> Self {
        let mut headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        headers.sort();
        Self {
            url: req.url.clone(),
            method: req
                .method
                .as_deref()
                .map_or_else(|| "GET".to_string(), str::to_ascii_uppercase),
            headers,
        }
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.url)?;
        if !self.headers.is_empty() {
            let headers: Vec<String> = self
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            write!(f, " with headers {}", headers.join("; "))?;
        }
        Ok(())
    }
}

/// `scheme://host[:port]` of `url`, lower case, with the scheme's default port left out.
pub fn origin(url: &str) -> Option<String> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_ascii_lowercase();
    let default = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    Some(match uri.port_u16() {
        Some(port) if Some(port) != default => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// A plugin read into memory: its modules and where it was opened from.
#[derive(Clone, Debug)]
pub struct LoadedPlugin {
    /// A short name for people: the file name, or a given name.
    pub display_name: String,
    /// The file that was opened (a .wasm or a manifest), if any.
    pub path: Option<PathBuf>,
    /// Whether `path` is a manifest.
    pub from_manifest: bool,
    /// All modules, in manifest order.
    pub modules: Vec<PluginModule>,
    /// Index of the module whose functions are called.
    main: usize,
}

/// Fails, naming `name`, unless `bytes` start with the WebAssembly magic.
fn check_wasm(name: &str, bytes: &[u8]) -> Result<(), LoadError> {
    if is_wasm(bytes) {
        return Ok(());
    }
    Err(LoadError::InvalidWasm {
        name: name.to_string(),
        detail: "it does not start with the wasm magic bytes (\\0asm)".to_string(),
    })
}

/// Whether `bytes` start with the WebAssembly magic.
pub fn is_wasm(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0asm")
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

impl LoadedPlugin {
    /// Opens a .wasm module or an Extism manifest JSON file. For a manifest, also returns the
    /// sandbox options it carries.
    pub fn from_path(path: &Path) -> Result<(Self, Option<SandboxOptions>), LoadError> {
        let bytes = read(path, FileKind::Plugin)?;
        Self::from_file_bytes(path, bytes)
    }

    /// Like [`Self::from_path`], for a file already read (relative module paths of a manifest
    /// resolve against `path`'s folder).
    pub fn from_file_bytes(
        path: &Path,
        bytes: Vec<u8>,
    ) -> Result<(Self, Option<SandboxOptions>), LoadError> {
        let name = file_name(path);
        if is_wasm(&bytes) {
            let mut plugin = Self::from_wasm_bytes(&name, bytes)?;
            plugin.path = Some(path.to_path_buf());
            if let Some(module) = plugin.modules.first_mut() {
                module.origin = ModuleOrigin::File(path.to_path_buf());
            }
            return Ok((plugin, None));
        }
        let manifest: extism::Manifest = match serde_json::from_slice(&bytes) {
            Ok(m) => m,
            Err(e) => {
                let looks_like_json =
                    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
                return Err(if looks_like_json {
                    LoadError::InvalidManifest {
                        name,
                        detail: e.to_string(),
                    }
                } else {
                    LoadError::UnknownFormat {
                        name,
                        detail:
                            "it does not start with the wasm magic bytes (\\0asm) and is not JSON"
                                .to_string(),
                    }
                });
            }
        };
        let (plugin, options) = Self::from_manifest_file(path, &manifest)?;
        Ok((plugin, Some(options)))
    }

    /// The plugin of a manifest read from the file at `path` (relative module paths resolve
    /// against its folder), with the manifest's options.
    pub fn from_manifest_file(
        path: &Path,
        manifest: &extism::Manifest,
    ) -> Result<(Self, SandboxOptions), LoadError> {
        Self::from_manifest_file_fetching(path, manifest, None)
    }

    /// [`Self::from_manifest_file`], pulling `oci://` modules through `fetch`.
    pub fn from_manifest_file_fetching(
        path: &Path,
        manifest: &extism::Manifest,
        fetch: Option<Fetch<'_>>,
    ) -> Result<(Self, SandboxOptions), LoadError> {
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        let (mut plugin, options) =
            Self::from_manifest_fetching(manifest, Some(base), &file_name(path), fetch)?;
        plugin.path = Some(path.to_path_buf());
        Ok((plugin, options))
    }

    /// A plugin from the bytes of one module.
    pub fn from_wasm_bytes(name: &str, bytes: Vec<u8>) -> Result<Self, LoadError> {
        check_wasm(name, &bytes)?;
        Ok(Self {
            display_name: name.to_string(),
            path: None,
            from_manifest: false,
            modules: vec![PluginModule::new(None, bytes, ModuleOrigin::Data)],
            main: 0,
        })
    }

    /// Resolves every module of a manifest (relative paths against `base_dir`), checks hashes,
    /// and returns the plugin with the manifest's options.
    pub fn from_manifest(
        manifest: &extism::Manifest,
        base_dir: Option<&Path>,
        name: &str,
    ) -> Result<(Self, SandboxOptions), LoadError> {
        Self::from_manifest_fetching(manifest, base_dir, name, None)
    }

    /// [`Self::from_manifest`], pulling `oci://` modules through `fetch`.
    pub fn from_manifest_fetching(
        manifest: &extism::Manifest,
        base_dir: Option<&Path>,
        name: &str,
        fetch: Option<Fetch<'_>>,
    ) -> Result<(Self, SandboxOptions), LoadError> {
        if manifest.wasm.is_empty() {
            return Err(LoadError::EmptyManifest {
                name: name.to_string(),
            });
        }
        let mut modules = Vec::with_capacity(manifest.wasm.len());
        for wasm in &manifest.wasm {
            let meta = wasm.meta();
            let (bytes, origin) = match wasm {
                extism::Wasm::File { path, .. } => {
                    let text = path.to_string_lossy();
                    if let Some(os) = crate::platform::paths::written_elsewhere(&text) {
                        return Err(LoadError::PathFromElsewhere {
                            name: name.to_string(),
                            file: text
                                .rsplit(['\\', '/'])
                                .next()
                                .unwrap_or_default()
                                .to_string(),
                            path: text.into_owned(),
                            os,
                        });
                    }
                    let full = match base_dir {
                        Some(base) if path.is_relative() => base.join(path),
                        _ => path.clone(),
                    };
                    let bytes = read(&full, FileKind::Plugin)?;
                    (bytes, ModuleOrigin::File(full))
                }
                extism::Wasm::Data { data, .. } => (data.clone(), ModuleOrigin::Data),
                extism::Wasm::Url { req, .. } if crate::registry::is_reference(&req.url) => {
                    let reference: crate::registry::Reference = req
                        .url
                        .parse()
                        .map_err(crate::registry::RegistryError::from)?;
                    let fetch = fetch
                        .filter(|f| f.allowed.pulls.contains(&req.url))
                        .ok_or_else(|| LoadError::NotAllowed {
                            name: name.to_string(),
                            what: format!("a pull of {}", req.url),
                        })?;
                    let pulled = crate::registry::pull(&reference, fetch.settings, fetch.transfer)?;
                    let pin = pulled.pin.clone();
                    (pulled.module, ModuleOrigin::Registry(Box::new(pin)))
                }
                extism::Wasm::Url { req, .. } => {
                    let request = Request::of(req);
                    let fetch = fetch
                        .filter(|f| f.allowed.downloads.contains(&request))
                        .ok_or_else(|| LoadError::NotAllowed {
                            name: name.to_string(),
                            what: request.to_string(),
                        })?;
                    (
                        download(&request, &fetch.allowed.redirects)?,
                        ModuleOrigin::Url(req.url.clone()),
                    )
                }
            };
            let module = PluginModule::new(meta.name.clone(), bytes, origin);
            let label = match &module.origin {
                ModuleOrigin::File(p) => p.display().to_string(),
                ModuleOrigin::Url(u) => u.clone(),
                ModuleOrigin::Registry(pin) => pin.reference.clone(),
                ModuleOrigin::Data => module.link_name().to_string(),
            };
            if let Some(expected) = &meta.hash
                && !expected.eq_ignore_ascii_case(&module.sha256)
            {
                return Err(LoadError::HashMismatch {
                    module: label,
                    expected: expected.clone(),
                    actual: module.sha256,
                });
            }
            if !is_wasm(&module.bytes) {
                return Err(LoadError::InvalidWasm {
                    name: label,
                    detail: "it does not start with the wasm magic bytes (\\0asm)".to_string(),
                });
            }
            modules.push(module);
        }
        let main = modules
            .iter()
            .position(|m| m.link_name() == MAIN_MODULE)
            .unwrap_or(modules.len() - 1);
        let plugin = Self {
            display_name: name.to_string(),
            path: None,
            from_manifest: true,
            modules,
            main,
        };
        Ok((plugin, SandboxOptions::from_manifest(manifest)))
    }

    /// A plugin of the one module pulled from a registry, named after its repository and tag
    /// (or digest).
    pub fn from_pulled(pulled: crate::registry::Pulled) -> Result<Self, LoadError> {
        let crate::registry::Pulled { pin, module, .. } = pulled;
        let name = pin
            .reference
            .parse::<crate::registry::Reference>()
            .map_or_else(|_| pin.reference.clone(), |r| r.short_name());
        check_wasm(&name, &module)?;
        // When the layer is the module, the pull already checked its sha256: not again.
        let sha256 = pin
            .module_sha256()
            .map_or_else(|| sha256_hex(&module), str::to_string);
        let origin = ModuleOrigin::Registry(Box::new(pin));
        Ok(Self {
            display_name: name,
            path: None,
            from_manifest: false,
            modules: vec![PluginModule::hashed(None, module, sha256, origin)],
            main: 0,
        })
    }

    /// Marks the modules these pins name (by link name, `None` for main) as pulled from a
    /// registry: a bundle embeds their bytes and records where they came from beside them.
    pub fn restore_pins(&mut self, pins: &[(Option<String>, crate::registry::Pin)]) {
        for (name, pin) in pins {
            let main = self.main;
            let Some(index) = self
                .modules
                .iter()
                .position(|m| m.name == *name || (name.is_none() && m.link_name() == MAIN_MODULE))
                .or_else(|| name.is_none().then_some(main))
            else {
                continue;
            };
            let module = &mut self.modules[index];
            // A file can claim anything: a pin is kept only when its digests are digests and,
            // where the layer is the module itself, the layer's digest is these bytes'.
            let consistent = crate::registry::digest_hex(&pin.digest).is_some()
                && crate::registry::digest_hex(&pin.layer).is_some()
                && pin.module_sha256().is_none_or(|sha| sha == module.sha256);
            if !consistent {
                tracing::warn!(
                    "ignoring the registry pin of {}: its digests do not match the module",
                    module.link_name()
                );
                continue;
            }
            if matches!(module.origin, ModuleOrigin::Data) {
                module.origin = ModuleOrigin::Registry(Box::new(pin.clone()));
                if index == main
                    && let Ok(reference) = pin.reference.parse::<crate::registry::Reference>()
                {
                    self.display_name = reference.short_name();
                }
            }
        }
    }

    /// Every module pulled from a registry, by link name (`None` for main), with its pin.
    pub fn registry_pins(&self) -> Vec<(Option<String>, crate::registry::Pin)> {
        self.modules
            .iter()
            .enumerate()
            .filter_map(|(i, m)| match &m.origin {
                ModuleOrigin::Registry(pin) => Some((
                    if i == self.main { None } else { m.name.clone() },
                    (**pin).clone(),
                )),
                _ => None,
            })
            .collect()
    }

    /// The registry pin of the main module, when it was pulled from a registry.
    pub fn registry_pin(&self) -> Option<&crate::registry::Pin> {
        match &self.main().origin {
            ModuleOrigin::Registry(pin) => Some(pin),
            _ => None,
        }
    }

    /// The module whose exports are called.
    pub fn main(&self) -> &PluginModule {
        &self.modules[self.main]
    }

    /// Names other modules are linked under (every module but main).
    pub fn linked_module_names(&self) -> Vec<String> {
        self.modules
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != self.main)
            .map(|(_, m)| m.link_name().to_string())
            .collect()
    }

    /// An extism manifest for this plugin and these options. With `embed`, module bytes are
    /// inlined (self-contained); otherwise file modules are referenced by absolute path, URL
    /// modules by URL, and pulled modules by their reference pinned to its digest (which only
    /// this app opens). Every module carries its sha256.
    pub fn to_manifest(&self, options: &SandboxOptions, embed: bool) -> extism::Manifest {
        let wasm = self
            .modules
            .iter()
            .map(|m| {
                let mut wasm = match (&m.origin, embed) {
                    (ModuleOrigin::File(path), false) => extism::Wasm::file(
                        std::path::absolute(path).unwrap_or_else(|_| path.clone()),
                    ),
                    (ModuleOrigin::Url(url), false) => extism::Wasm::url(url.clone()),
                    (ModuleOrigin::Registry(pin), false) => {
                        extism::Wasm::url(pin.pinned_reference())
                    }
                    _ => extism::Wasm::data(m.bytes.as_slice()),
                };
                let meta = wasm.meta_mut();
                meta.name.clone_from(&m.name);
                meta.hash = Some(m.sha256.clone());
                wasm
            })
            .collect();
        let mut manifest = extism::Manifest {
            wasm,
            ..extism::Manifest::default()
        };
        options.apply_to_manifest(&mut manifest);
        manifest
    }

    /// The manifest the worker hands to extism: every module inline, so the worker needs no
    /// file or network access of its own to load it.
    pub(crate) fn to_inline_manifest(&self, options: &SandboxOptions) -> extism::Manifest {
        self.to_manifest(options, true)
    }
}

/// How many redirects a download follows.
const MAX_REDIRECTS: usize = 5;

/// Sends `request` as consented to, following redirects only within its own origin or to the
/// origins in `redirects` (a 303 becomes a GET); a redirect anywhere else is an error that
/// names where it leads, before anything is sent there. The file's headers go only to its own
/// origin: another one allowed gets the request without them.
fn download(request: &Request, redirects: &[String]) -> Result<Vec<u8>, LoadError> {
    let fail = |at: &str, detail: String| LoadError::Download {
        url: request.url.clone(),
        detail: if at == request.url {
            detail
        } else {
            format!("at {at}, where it was redirected: {detail}")
        },
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(DOWNLOAD_TIMEOUT_S)))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let home = origin(&request.url)
        .ok_or_else(|| fail(&request.url, "it is not an http(s) URL".into()))?;
    let mut url = request.url.clone();
    let mut method = request.method.clone();
    for _ in 0..=MAX_REDIRECTS {
        let mut builder = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(&url);
        if origin(&url).as_deref() == Some(home.as_str()) {
            for (k, v) in &request.headers {
                builder = builder.header(k, v);
            }
        }
        let sent = builder.body(()).map_err(|e| fail(&url, e.to_string()))?;
        let mut response = agent.run(sent).map_err(|e| fail(&url, e.to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(ureq::http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| fail(&url, format!("{status} without a Location")))?;
            let next = join_url(&url, location).ok_or_else(|| {
                fail(
                    &url,
                    format!("{status} to {location:?}, which is not a URL"),
                )
            })?;
            let next_origin = origin(&next)
                .ok_or_else(|| fail(&url, format!("{status} to {next}, which is not http(s)")))?;
            if next_origin != home && !redirects.contains(&next_origin) {
                return Err(LoadError::Redirected {
                    url: request.url.clone(),
                    to: next,
                    origin: next_origin,
                });
            }
            if status == ureq::http::StatusCode::SEE_OTHER {
                method = "GET".to_string();
            }
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(fail(&url, format!("the server answered {status}")));
        }
        return response
            .body_mut()
            .with_config()
            .limit(512 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| fail(&url, e.to_string()));
    }
    Err(fail(&url, format!("more than {MAX_REDIRECTS} redirects")))
}

/// `location` (absolute, or relative to `base`) as an absolute URL.
fn join_url(base: &str, location: &str) -> Option<String> {
    if origin(location).is_some() {
        return Some(location.to_string());
    }
    let home = origin(base)?;
    if location.starts_with("//") {
        let scheme = home.split("://").next()?;
        return Some(format!("{scheme}:{location}"));
    }
    if location.starts_with('/') {
        return Some(format!("{home}{location}"));
    }
    // Relative to the base's folder.
    let path_start = base.find("://").map(|i| i + 3)?;
    let after = &base[path_start..];
    let path = after.find('/').map_or("/", |i| &after[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let folder = path.rsplit_once('/').map_or("", |(f, _)| f);
    Some(format!("{home}{folder}/{location}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_redirect_targets() {
        assert_eq!(
            origin("HTTPS://Example.com:443/a").as_deref(),
            Some("https://example.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:5201/x").as_deref(),
            Some("http://127.0.0.1:5201")
        );
        assert_eq!(origin("file:///etc/passwd"), None);
        assert_eq!(
            join_url("http://h:1/a/b.wasm?x", "c.wasm").as_deref(),
            Some("http://h:1/a/c.wasm")
        );
        assert_eq!(
            join_url("http://h:1/a/b", "/z").as_deref(),
            Some("http://h:1/z")
        );
        assert_eq!(
            join_url("https://h/a", "//o/z").as_deref(),
            Some("https://o/z")
        );
        assert_eq!(
            join_url("https://h/a", "http://o:2/z").as_deref(),
            Some("http://o:2/z")
        );
    }

    #[test]
    fn nothing_is_fetched_without_consent() {
        let manifest: extism::Manifest = serde_json::from_str(
            r#"{"wasm": [{"url": "http://127.0.0.1:9/m.wasm", "method": "DELETE"}]}"#,
        )
        .unwrap();
        let error = LoadedPlugin::from_manifest(&manifest, None, "m.json")
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(&error, LoadError::NotAllowed { what, .. } if what == "DELETE http://127.0.0.1:9/m.wasm"),
            "{error}"
        );
    }

    /// A manifest written on Windows names its module by a drive-letter path: off Windows that
    /// is said plainly (not "no such file" under the manifest's folder), with what to do.
    #[test]
    fn a_module_named_by_a_windows_path() {
        let manifest: extism::Manifest =
            serde_json::from_str(r#"{"wasm": [{"path": "C:\\plugins\\tenant.wasm"}]}"#).unwrap();
        let dir = std::env::temp_dir();
        let error = LoadedPlugin::from_manifest_file(&dir.join("tenant.json"), &manifest)
            .map(|_| ())
            .unwrap_err();
        let message = error.to_string();
        if cfg!(windows) {
            // There it is an absolute path, read as it is (and missing).
            assert!(
                matches!(error, LoadError::Read(ref e) if e.path() == Path::new(r"C:\plugins\tenant.wasm")),
                "{message}"
            );
        } else {
            assert!(
                message.contains(r"names its module by a Windows path, C:\plugins\tenant.wasm"),
                "{message}"
            );
            assert!(message.contains(r#"("path": "tenant.wasm")"#), "{message}");
        }
    }
}
