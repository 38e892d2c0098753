//! Errors from loading a plugin or preparing a call: everything that goes wrong before plugin
//! code runs. Failures of the plugin itself are reported in a [`crate::runner::CallReport`].

use std::path::PathBuf;

/// Result alias for the runner's fallible setup steps.
pub type Result<T, E = LoadError> = std::result::Result<T, E>;

/// Something that stops a plugin from being loaded or a call from being made.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] crate::platform::files::ReadError),

    #[error(
        "{name} names its module by a {os} path, {path}: it was written on {os}. Put the module \
         beside the manifest and name it relatively (\"path\": \"{file}\"), or open the .wasm itself"
    )]
    PathFromElsewhere {
        name: String,
        path: String,
        file: String,
        os: &'static str,
    },

    #[error(
        "{name} is neither a WebAssembly module nor an Extism manifest (JSON): {detail}. \
         Open a .wasm file or a manifest JSON file"
    )]
    UnknownFormat { name: String, detail: String },

    #[error("{name} is not a valid WebAssembly module: {detail}")]
    InvalidWasm { name: String, detail: String },

    #[error("the manifest {name} is not valid: {detail}")]
    InvalidManifest { name: String, detail: String },

    #[error("the manifest {name} names no wasm module; add one under \"wasm\"")]
    EmptyManifest { name: String },

    #[error(
        "hash mismatch for module {module}: the manifest expects sha256 {expected}, \
         but the module's sha256 is {actual}"
    )]
    HashMismatch {
        module: String,
        expected: String,
        actual: String,
    },

    #[error(transparent)]
    Registry(Box<crate::registry::RegistryError>),

    #[error("cannot download the module from {url}: {detail}")]
    Download { url: String, detail: String },

    #[error(
        "{name} names a module to fetch ({what}) that was not allowed, so nothing was sent; \
         allow the file's grants to fetch it (`--trust`, or Allow in the window)"
    )]
    NotAllowed { name: String, what: String },

    #[error(
        "{url} redirects to {to}, another origin than the file names, so nothing was sent there; \
         follow it only if you trust {origin}: `--allow-redirect {origin}` (in the window, allow \
         it when asked), or download the module yourself and name the file"
    )]
    Redirected {
        url: String,
        to: String,
        origin: String,
    },

    #[error("function `{function}` is not exported by {plugin}; exported: {exported}")]
    MissingFunction {
        function: String,
        plugin: String,
        exported: String,
    },

    #[error(
        "`{function}` in {plugin} has the signature {signature}; an Extism plugin function takes \
         no parameters and returns i32 or nothing. Callable: {callable}"
    )]
    NotCallable {
        function: String,
        plugin: String,
        signature: String,
        callable: String,
    },

    #[error("{plugin} imports what this host cannot provide: {}", list.join("; "))]
    UnsatisfiedImports { plugin: String, list: Vec<String> },

    #[error("invalid option: {0}")]
    InvalidOption(String),

    #[error("extism could not load the plugin: {0}")]
    Extism(String),

    #[error("the worker process could not be started from {exe}: {detail}")]
    WorkerStart { exe: PathBuf, detail: String },
}

impl From<crate::registry::RegistryError> for LoadError {
    fn from(error: crate::registry::RegistryError) -> Self {
        Self::Registry(Box::new(error))
    }
}
