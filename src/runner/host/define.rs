//! User-defined host functions: the definitions users write ([`HostFnDef`], stored as JSON in
//! sessions, bundles and `--host-fns` files), the `--host-fn NAME=SPEC` syntax, and fitting a
//! definition to the signature a plugin imports it with ([`fit`]), which decides how each
//! argument and the result are carried (bytes in Extism memory, or plain numbers).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::bytes::{Bytes, base64_opt};
use super::{HostFunction, Implementation, MockPlugin, WasmType, script};
use crate::platform::digest::sha256_hex;
use crate::platform::files::{self, FileKind};
use crate::runner::LoadError;
use crate::runner::inspect::{EXTISM_USER, Inspection, Signature};

/// How an argument or a result is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgKind {
    /// An `i64` offset of a block of Extism memory: the value is its bytes.
    Bytes,
    /// The number itself.
    Num,
}

impl ArgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::Num => "num",
        }
    }

    /// The kind a value of `ty` has unless the user says otherwise: `i64` carries bytes.
    pub fn default_for(ty: WasmType) -> Self {
        if ty == WasmType::I64 {
            Self::Bytes
        } else {
            Self::Num
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "bytes" | "ptr" => Some(Self::Bytes),
            "num" | "number" => Some(Self::Num),
            _ => None,
        }
    }
}

/// A mock-host plugin: an Extism plugin whose export of the same name answers the import.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MockSource {
    /// Where it is read from (relative to the session that stores it); none when it is
    /// embedded or kept by the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Its file name, for messages (kept when the file itself is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    pub sha256: String,
    /// The module itself, in bundles (base64).
    #[serde(skip_serializing_if = "Option::is_none", with = "base64_opt")]
    pub embedded: Option<Vec<u8>>,
    /// The export to call, when it is not named like the import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<String>,
    /// The module as read, once [`HostFnDef::load`] has found it.
    #[serde(skip)]
    pub loaded: Option<Arc<Vec<u8>>>,
    /// Why it could not be loaded, if it could not.
    #[serde(skip)]
    pub load_error: Option<Arc<MockLoadError>>,
}

/// Why a mock-host plugin's module was not found.
#[derive(Debug, thiserror::Error)]
pub enum MockLoadError {
    #[error(transparent)]
    Read(#[from] files::ReadError),
    #[error("it names no file and embeds no module")]
    Nowhere,
    #[error(
        "it has changed since it was saved (sha256 {expected} expected, {found} found); define it \
         again to use the new one"
    )]
    Changed { expected: String, found: String },
}

/// Where a definition's files come from when it is loaded.
#[derive(Clone, Copy, Debug)]
pub struct LoadFrom<'a> {
    /// Relative files are relative to this folder (that of the file storing the definition).
    pub base: &'a Path,
    /// Whether a Rhai script given only by its file is read: yes for the user's own
    /// definitions files; a bundle carries its scripts inline and names no script file.
    pub script_files: bool,
    /// Where mock-host plugins already loaded are kept by sha256 (looked in first, written to).
    pub cache: Option<&'a Path>,
}

impl<'a> LoadFrom<'a> {
    /// The user's own definitions, relative to `base`: script files are read.
    pub fn own(base: &'a Path) -> Self {
        Self {
            base,
            script_files: true,
            cache: None,
        }
    }
}

impl PartialEq for MockSource {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file
            && self.sha256 == other.sha256
            && self.export == other.export
            && self.embedded.is_some() == other.embedded.is_some()
    }
}

impl MockSource {
    /// Reads a mock-host plugin from `path`.
    pub fn read(path: &Path) -> Result<Self, DefineError> {
        let bytes = files::read(path, FileKind::MockHost).map_err(DefineError::from)?;
        Ok(Self {
            // Absolute: the definition is kept and may be used from another directory.
            file: Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())),
            file_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            sha256: sha256_hex(&bytes),
            embedded: None,
            export: None,
            loaded: Some(Arc::new(bytes)),
            load_error: None,
        })
    }

    /// A name for messages: the file name, or the start of the hash.
    pub fn label(&self) -> String {
        self.file
            .as_deref()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .or_else(|| self.file_name.clone())
            .unwrap_or_else(|| format!("sha256 {}", self.sha256.get(..12).unwrap_or(&self.sha256)))
    }

    /// Finds the module: embedded, else kept by the app under its sha256, else its file (a
    /// regular file of reasonable size); checks it against the sha256 it was saved with and
    /// keeps a copy in `from.cache`.
    fn load(&mut self, from: LoadFrom<'_>) -> Result<(), MockLoadError> {
        let cached = from
            .cache
            .filter(|_| is_sha256(&self.sha256))
            .map(|dir| dir.join(format!("{}.wasm", self.sha256)));
        let bytes = if let Some(bytes) = self.embedded.take() {
            // Embedded: no file of the user's is involved, now or when it is kept.
            if self.file_name.is_none() {
                self.file_name = self
                    .file
                    .as_deref()
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy().into_owned());
            }
            self.file = None;
            bytes
        } else if let Some(bytes) = cached
            .as_ref()
            .and_then(|p| files::read(p, FileKind::MockHost).ok())
        {
            bytes
        } else if let Some(f) = &self.file {
            let path = from.base.join(f);
            let bytes = files::read(&path, FileKind::MockHost)?;
            self.file = Some(path);
            bytes
        } else {
            return Err(MockLoadError::Nowhere);
        };
        let sha = sha256_hex(&bytes);
        if !self.sha256.is_empty() && self.sha256 != sha {
            return Err(MockLoadError::Changed {
                expected: self.sha256.clone(),
                found: sha,
            });
        }
        if let Some(dir) = from.cache {
            let path = dir.join(format!("{sha}.wasm"));
            if !path.exists() {
                let _ = std::fs::create_dir_all(dir)
                    .and_then(|()| files::write_atomically(&path, &bytes));
            }
        }
        self.sha256 = sha;
        self.loaded = Some(Arc::new(bytes));
        Ok(())
    }
}

/// What a user-defined host function does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "behaviour", rename_all = "kebab-case")]
pub enum Behaviour {
    /// Returns fixed bytes (text, or `{"base64": …}` for binary).
    Value { value: Bytes },
    /// Returns the text with `{0}`, `{1}`… replaced by the arguments.
    Template { template: String },
    /// Reads the kv store: the first argument is the key.
    KvGet,
    /// Writes the kv store: the first argument is the key, the second the value.
    KvSet,
    /// Returns an error with this message.
    Fail { message: String },
    /// A Rhai script defining a function named like the import.
    Rhai {
        #[serde(default)]
        script: String,
        /// The .rhai file it was read from, if any (relative to the file that stores it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<PathBuf>,
    },
    /// A mock-host plugin's export of the same name.
    Wasm(MockSource),
}

impl Behaviour {
    /// The behaviour's name as `--host-fn` and the editor spell it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Value { .. } => "value",
            Self::Template { .. } => "template",
            Self::KvGet => "kv-get",
            Self::KvSet => "kv-set",
            Self::Fail { .. } => "fail",
            Self::Rhai { .. } => "rhai",
            Self::Wasm(_) => "wasm",
        }
    }
}

fn user_module() -> String {
    EXTISM_USER.to_string()
}

fn yes() -> bool {
    true
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_true(b: &bool) -> bool {
    *b
}

/// One user-defined host function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostFnDef {
    /// The import module; `extism:host/user` unless given.
    #[serde(default = "user_module")]
    pub module: String,
    pub name: String,
    /// How each argument is carried, when the defaults (an `i64` is bytes) do not fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<ArgKind>>,
    /// How the result is carried, when the default does not fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ArgKind>,
    /// A disabled definition is kept but not linked.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    #[serde(flatten)]
    pub behaviour: Behaviour,
}

/// Why a definition cannot be read or used.
#[derive(Debug, thiserror::Error)]
pub enum DefineError {
    #[error("--host-fn {text:?}: {detail}")]
    Flag { text: String, detail: String },
    /// A file it names cannot be read: `detail` says which and why.
    #[error("{detail}")]
    File { path: PathBuf, detail: String },
    #[error("{}: {detail}", path.display())]
    Definitions { path: PathBuf, detail: String },
    /// The mock-host plugin of `function` (a definition in the folder `path`) was not found.
    #[error(
        "{}: the mock-host plugin of {function} cannot be loaded: {cause}",
        path.display()
    )]
    Mock {
        path: PathBuf,
        function: String,
        cause: Arc<MockLoadError>,
    },
}

impl From<files::ReadError> for DefineError {
    fn from(e: files::ReadError) -> Self {
        Self::File {
            path: e.path().to_path_buf(),
            detail: e.to_string(),
        }
    }
}

impl HostFnDef {
    /// A definition in `extism:host/user` with default argument kinds.
    pub fn new(module: &str, name: &str, behaviour: Behaviour) -> Self {
        Self {
            module: module.to_string(),
            name: name.to_string(),
            params: None,
            result: None,
            enabled: true,
            behaviour,
        }
    }

    /// `module::name`.
    pub fn qualified(&self) -> String {
        format!("{}::{}", self.module, self.name)
    }

    /// The definition as `--host-fn` writes it (the file of a rhai or wasm behaviour, not its
    /// contents).
    pub fn to_flag(&self) -> String {
        let mut name = if self.module == EXTISM_USER {
            self.name.clone()
        } else {
            self.qualified()
        };
        if let Some(params) = &self.params {
            let kinds: Vec<&str> = params.iter().map(|k| k.as_str()).collect();
            let _ = write!(name, "({})", kinds.join(","));
        }
        if let Some(result) = self.result {
            let _ = write!(name, "->{}", result.as_str());
        }
        let file = |f: &Option<PathBuf>| {
            f.as_deref()
                .map_or_else(|| "FILE".to_string(), |p| p.display().to_string())
        };
        let spec = match &self.behaviour {
            Behaviour::Value { value } => match value.as_text() {
                Some(text) => format!("value:{text}"),
                None => format!(
                    "bytes:{}",
                    &value.to_editable()[super::bytes::BASE64_PREFIX.len()..]
                ),
            },
            Behaviour::Template { template } => format!("template:{template}"),
            Behaviour::KvGet => "kv-get".to_string(),
            Behaviour::KvSet => "kv-set".to_string(),
            Behaviour::Fail { message } => format!("fail:{message}"),
            Behaviour::Rhai { file: f, .. } => format!("rhai:{}", file(f)),
            Behaviour::Wasm(mock) => format!("wasm:{}", file(&mock.file)),
        };
        format!("{name}={spec}")
    }

    /// Parses `--host-fn NAME=SPEC`; files named in SPEC are read relative to `base`
    /// ([`spec_file`] says which, before anything is read).
    pub fn parse_flag(text: &str, base: &Path) -> Result<Self, DefineError> {
        let flag = |detail: String| DefineError::Flag {
            text: text.to_string(),
            detail,
        };
        let (head, spec) = text
            .split_once('=')
            .ok_or_else(|| flag("expected NAME=SPEC, e.g. get_user=value:{\"id\":1}".into()))?;
        let FlagName {
            module,
            name,
            params,
            result,
        } = parse_name(head.trim()).map_err(|e| flag(e.to_string()))?;
        let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
        let read_text = |arg: &str| -> Result<(String, PathBuf), DefineError> {
            if arg.is_empty() {
                return Err(flag(format!("{kind} needs a file: {kind}:FILE")));
            }
            let path = base.join(arg);
            files::read_text(&path, FileKind::Script)
                .map(|s| (s, path.clone()))
                .map_err(DefineError::from)
        };
        let behaviour = match kind.trim() {
            "value" => Behaviour::Value {
                value: Bytes::from(arg),
            },
            "bytes" => Behaviour::Value {
                value: Bytes::from_editable(&format!("{}{arg}", super::bytes::BASE64_PREFIX)),
            },
            "template" => Behaviour::Template {
                template: arg.to_string(),
            },
            "kv-get" => Behaviour::KvGet,
            "kv-set" => Behaviour::KvSet,
            "fail" => Behaviour::Fail {
                message: arg.to_string(),
            },
            "rhai" => {
                let (script, path) = read_text(arg)?;
                Behaviour::Rhai {
                    script,
                    file: Some(path),
                }
            }
            "wasm" => {
                if arg.is_empty() {
                    return Err(flag("wasm needs a file: wasm:FILE.wasm".into()));
                }
                Behaviour::Wasm(MockSource::read(&base.join(arg))?)
            }
            other => {
                return Err(flag(format!(
                    "unknown behaviour {other:?}; use value:TEXT, bytes:BASE64, template:TEXT, \
                     kv-get, kv-set, fail:MESSAGE, rhai:FILE or wasm:FILE"
                )));
            }
        };
        if let Behaviour::Value { value } = &behaviour
            && kind == "bytes"
            && value.as_text() == Some(&format!("{}{arg}", super::bytes::BASE64_PREFIX))
        {
            return Err(flag(format!("{arg:?} is not valid base64")));
        }
        Ok(Self {
            module,
            name,
            params,
            result,
            enabled: true,
            behaviour,
        })
    }

    /// Makes the definition ready to link: a rhai script given only by file is read (when
    /// `from` allows it), and a mock-host plugin is found (see [`MockSource`]). A mock that
    /// cannot be found keeps the reason, which its fit reports.
    pub fn load(&mut self, from: LoadFrom<'_>) -> Result<(), DefineError> {
        let qualified = self.qualified();
        let refused = |detail: String| DefineError::Definitions {
            path: from.base.to_path_buf(),
            detail,
        };
        match &mut self.behaviour {
            Behaviour::Rhai {
                script,
                file: Some(f),
            } if script.is_empty() => {
                if !from.script_files {
                    return Err(refused(format!(
                        "the Rhai definition of {qualified} carries no script; a bundle stores \
                         its scripts inline"
                    )));
                }
                let path = from.base.join(&*f);
                *script = files::read_text(&path, FileKind::Script)?;
            }
            Behaviour::Wasm(mock) if mock.loaded.is_none() => {
                if let Err(e) = mock.load(from) {
                    let cause = Arc::new(e);
                    mock.load_error = Some(Arc::clone(&cause));
                    return Err(DefineError::Mock {
                        path: from.base.to_path_buf(),
                        function: qualified,
                        cause,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }
    /// One line for people: what the definition does.
    pub fn describe(&self) -> String {
        match &self.behaviour {
            Behaviour::Value { value } => format!("returns {}", value.summary(40)),
            Behaviour::Template { template } => format!("returns the template {template:?}"),
            Behaviour::KvGet => "reads the kv store (key = argument 0)".to_string(),
            Behaviour::KvSet => {
                "writes the kv store (key = argument 0, value = argument 1)".to_string()
            }
            Behaviour::Fail { message } => format!("fails with {message:?}"),
            Behaviour::Rhai { file, .. } => file.as_deref().map_or_else(
                || "runs a Rhai script".to_string(),
                |f| format!("runs the Rhai script {}", f.display()),
            ),
            Behaviour::Wasm(mock) => format!(
                "calls {} in the mock-host plugin {}",
                mock.export.as_deref().unwrap_or(&self.name),
                mock.label()
            ),
        }
    }
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The head of a `--host-fn` flag, `[module::]name[(kinds)][->kind]`, split.
struct FlagName {
    module: String,
    name: String,
    params: Option<Vec<ArgKind>>,
    result: Option<ArgKind>,
}

/// Why the head of a `--host-fn` flag is not `[module::]name[(kinds)][->kind]`.
#[derive(Debug, thiserror::Error)]
enum NameError {
    #[error("result kind {0:?} is neither bytes nor num")]
    ResultKind(String),
    #[error("argument kinds must end with ')'")]
    Unclosed,
    #[error("argument kind {0:?} is neither bytes nor num")]
    ArgumentKind(String),
    #[error("NAME is empty; write name or module::name")]
    Empty,
    #[error("{0:?} has spaces; an import name has none")]
    Spaces(String),
}

/// Splits `[module::]name[(kinds)][->kind]`.
fn parse_name(head: &str) -> Result<FlagName, NameError> {
    let kind = |text: &str, error: fn(String) -> NameError| {
        ArgKind::parse(text).ok_or_else(|| error(text.trim().to_string()))
    };
    let (rest, result) = match head.rsplit_once("->") {
        Some((rest, result)) => (rest.trim(), Some(kind(result, NameError::ResultKind)?)),
        None => (head, None),
    };
    let (path, params) = match rest.split_once('(') {
        Some((path, kinds)) => {
            let kinds = kinds.strip_suffix(')').ok_or(NameError::Unclosed)?;
            let params = if kinds.trim().is_empty() {
                Vec::new()
            } else {
                kinds
                    .split(',')
                    .map(|k| kind(k, NameError::ArgumentKind))
                    .collect::<Result<_, _>>()?
            };
            (path.trim(), Some(params))
        }
        None => (rest, None),
    };
    let (module, name) = match path.rsplit_once("::") {
        Some((module, name)) => (module.trim().to_string(), name.trim().to_string()),
        None => (EXTISM_USER.to_string(), path.to_string()),
    };
    if name.is_empty() || module.is_empty() {
        return Err(NameError::Empty);
    }
    if name.contains(char::is_whitespace) {
        return Err(NameError::Spaces(name));
    }
    Ok(FlagName {
        module,
        name,
        params,
        result,
    })
}

/// A `--host-fns` file: a list of definitions, alone or under `host_functions`.
#[derive(Deserialize)]
#[serde(untagged)]
enum DefinitionsFile {
    List(Vec<HostFnDef>),
    Wrapped { host_functions: Vec<HostFnDef> },
}

/// Reads a `--host-fns` JSON file; its files are relative to it. A script or mock-host plugin
/// it names outside its own folder (symlinks followed) is read only when `outside` allows it:
/// the file may come from someone else.
pub fn read_definitions(path: &Path, outside: bool) -> Result<Vec<HostFnDef>, DefineError> {
    let text = files::read_text(path, FileKind::Definitions)?;
    let mut defs = parse_definitions(&text).map_err(|e| DefineError::Definitions {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    for def in &mut defs {
        if !outside && let Some((file, role)) = named_outside(def, base) {
            return Err(DefineError::Definitions {
                path: path.to_path_buf(),
                detail: format!(
                    "it names the {role} {}, outside its folder, which is read only with --trust; move it beside the definitions file, or pass --trust",
                    file.display()
                ),
            });
        }
        def.load(LoadFrom::own(base))?;
    }
    Ok(defs)
}

/// The file `def` would read, with what it is, when that resolves outside `base`.
fn named_outside(def: &HostFnDef, base: &Path) -> Option<(PathBuf, &'static str)> {
    let (file, role) = match &def.behaviour {
        Behaviour::Rhai {
            script,
            file: Some(f),
        } if script.is_empty() => (f, "Rhai script"),
        Behaviour::Wasm(mock) if mock.embedded.is_none() => {
            (mock.file.as_ref()?, "mock-host plugin")
        }
        _ => return None,
    };
    let dir = std::fs::canonicalize(base).ok()?;
    let full = base.join(file);
    // A file that does not exist is not read at all: its own error says so.
    let real = std::fs::canonicalize(&full).ok()?;
    (!real.starts_with(&dir)).then_some((real, role))
}

/// JSON text that is not a list of host function definitions.
#[derive(Debug, thiserror::Error)]
#[error(
    "not a list of host function definitions ({}); each needs \"name\" and \"behaviour\" \
     (value, template, kv-get, kv-set, fail, rhai or wasm)",
    .cause.as_ref().map_or_else(|| "not a list of host function definitions".to_string(), ToString::to_string)
)]
pub struct NotDefinitions {
    /// Why it does not read as the list form, the one people write.
    pub cause: Option<serde_json::Error>,
}

/// Parses definitions from JSON text.
pub fn parse_definitions(text: &str) -> Result<Vec<HostFnDef>, NotDefinitions> {
    match serde_json::from_str::<DefinitionsFile>(text) {
        Ok(
            DefinitionsFile::List(defs)
            | DefinitionsFile::Wrapped {
                host_functions: defs,
            },
        ) => Ok(defs),
        // Say what is wrong with the list form, the one people write.
        Err(_) => Err(NotDefinitions {
            cause: serde_json::from_str::<Vec<HostFnDef>>(text).err(),
        }),
    }
}

/// The file a `--host-fn` SPEC names (`rhai:FILE`, `wasm:FILE`), with what it is read as:
/// what a suite's review lists before anything is read.
pub fn spec_file(spec: &str) -> Option<(&'static str, &str)> {
    let (kind, arg) = spec.split_once(':')?;
    let role = match kind.trim() {
        "rhai" => "Rhai script",
        "wasm" => "mock-host plugin",
        _ => return None,
    };
    (!arg.is_empty()).then_some((role, arg))
}

/// A definition that would satisfy `import` (a host function the registry lacks), as the
/// `NAME` and `SPEC` of `--host-fn NAME=SPEC` (the suite file's `host_functions` key and value),
/// with the import's signature to show beside it. `None` for imports nobody defines this way
/// (extism's own, WASI, the xtp test harness, non-functions).
pub fn suggestion(import: &crate::runner::inspect::Import) -> Option<Suggestion> {
    use crate::runner::inspect::{EXTISM_ENV, ItemKind, WASI_P1};
    if import.kind != ItemKind::Func
        || [EXTISM_ENV, WASI_P1, super::harness::XTP_HARNESS].contains(&import.module.as_str())
    {
        return None;
    }
    let signature = import.signature.as_ref()?;
    let name = if import.module == EXTISM_USER {
        import.name.clone()
    } else {
        format!("{}::{}", import.module, import.name)
    };
    let spec = match signature.results.first().map(String::as_str) {
        None => "value:",
        Some("i64") => "value:TEXT",
        Some(_) => "value:0",
    };
    Some(Suggestion {
        name,
        spec: spec.to_string(),
        signature: signature.to_string(),
    })
}

/// See [`suggestion`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub name: String,
    pub spec: String,
    pub signature: String,
}

/// Adds `def` to `defs`, replacing one for the same import.
pub fn upsert(defs: &mut Vec<HostFnDef>, def: HostFnDef) {
    match defs
        .iter_mut()
        .find(|d| d.module == def.module && d.name == def.name)
    {
        Some(existing) => *existing = def,
        None => defs.push(def),
    }
}

fn wasm_type(ty: &str) -> Option<WasmType> {
    match ty {
        "i32" => Some(WasmType::I32),
        "i64" => Some(WasmType::I64),
        "f32" => Some(WasmType::F32),
        "f64" => Some(WasmType::F64),
        _ => None,
    }
}

/// Whether `text` reads as a number of type `ty`.
fn parses_as(text: &str, ty: WasmType) -> bool {
    let text = text.trim();
    match ty {
        WasmType::I32 => text.parse::<i32>().is_ok(),
        WasmType::I64 => text.parse::<i64>().is_ok(),
        WasmType::F32 | WasmType::F64 => text.parse::<f64>().is_ok(),
    }
}

/// Why a definition cannot stand for the import it names: each says what the import is and
/// what the definition would need.
#[derive(Clone, Debug, thiserror::Error)]
pub enum FitError {
    /// A parameter of a type host functions here cannot take (`v128`, a reference).
    #[error("it takes a {ty}, which host functions here cannot")]
    ParamType { ty: String },
    #[error("it returns a {ty}, which host functions here cannot")]
    ResultType { ty: String },
    #[error("it returns {count} values; host functions here return at most one")]
    ManyResults { count: usize },
    #[error(
        "it is declared with {declared} argument kind(s), the import takes {takes}: {signature}"
    )]
    KindCount {
        declared: usize,
        takes: usize,
        signature: Signature,
    },
    #[error(
        "argument {index} is an {}; only an i64 can carry bytes (mark it num)",
        .ty.as_str()
    )]
    BytesArgument { index: usize, ty: WasmType },
    #[error(
        "the result is an {}; only an i64 can carry bytes (mark it num)",
        .ty.as_str()
    )]
    BytesResult { ty: WasmType },
    /// A value behaviour whose value does not read as the number the import returns.
    #[error(
        "the import returns a number ({}) and {} is not one",
        .ty.as_str(),
        .value.summary(30)
    )]
    NotANumber { ty: WasmType, value: Bytes },
    #[error("the template uses {{{field}}} but the import takes {takes} argument(s)")]
    TemplateField { field: usize, takes: usize },
    #[error("kv-get needs the key as argument 0; the import takes none")]
    KvGetWithoutKey,
    #[error(
        "kv-get returns the value's bytes; the import returns {}",
        describe_result(*.kind, .ty.as_ref())
    )]
    KvGetResult {
        kind: Option<ArgKind>,
        ty: Option<WasmType>,
    },
    #[error("kv-set needs the key and the value as arguments 0 and 1; the import takes {takes}")]
    KvSetArguments { takes: usize },
    #[error(transparent)]
    Script(#[from] script::ScriptError),
    #[error(
        "the mock-host plugin {label} is not loaded{}",
        .cause.as_ref().map_or_else(String::new, |e| format!(": {e}"))
    )]
    MockNotLoaded {
        label: String,
        cause: Option<Arc<MockLoadError>>,
    },
    /// The mock-host plugin is not a module this host can inspect.
    #[error(transparent)]
    MockInvalid(Arc<LoadError>),
    #[error(
        "the mock-host plugin {label} exports no function {export:?} (it exports: {})",
        .exports.join(", ")
    )]
    MockExport {
        label: String,
        export: String,
        exports: Vec<String>,
    },
}

/// Makes `def` the host function for an import with `signature`, or says why it cannot be.
#[expect(
    clippy::too_many_lines,
    reason = "one check per behaviour, in one place"
)]
pub fn fit(def: &HostFnDef, signature: &Signature) -> Result<HostFunction, FitError> {
    let params = signature
        .params
        .iter()
        .map(|t| wasm_type(t).ok_or_else(|| FitError::ParamType { ty: t.clone() }))
        .collect::<Result<Vec<_>, _>>()?;
    let results = signature
        .results
        .iter()
        .map(|t| wasm_type(t).ok_or_else(|| FitError::ResultType { ty: t.clone() }))
        .collect::<Result<Vec<_>, _>>()?;
    if results.len() > 1 {
        return Err(FitError::ManyResults {
            count: results.len(),
        });
    }
    let kinds = match &def.params {
        Some(kinds) if kinds.len() != params.len() => {
            return Err(FitError::KindCount {
                declared: kinds.len(),
                takes: params.len(),
                signature: signature.clone(),
            });
        }
        Some(kinds) => kinds.clone(),
        None => params.iter().copied().map(ArgKind::default_for).collect(),
    };
    for (i, (kind, ty)) in kinds.iter().zip(&params).enumerate() {
        if *kind == ArgKind::Bytes && *ty != WasmType::I64 {
            return Err(FitError::BytesArgument { index: i, ty: *ty });
        }
    }
    let result_kind = match (results.first(), def.result) {
        (None, _) => None,
        (Some(ty), Some(ArgKind::Bytes)) if *ty != WasmType::I64 => {
            return Err(FitError::BytesResult { ty: *ty });
        }
        (Some(_), Some(kind)) => Some(kind),
        (Some(ty), None) => Some(ArgKind::default_for(*ty)),
    };
    let implementation = match &def.behaviour {
        Behaviour::Value { value } => {
            if let (Some(ArgKind::Num), Some(ty)) = (result_kind, results.first()) {
                let text = value.as_text().unwrap_or_default();
                if !parses_as(text, *ty) {
                    return Err(FitError::NotANumber {
                        ty: *ty,
                        value: value.clone(),
                    });
                }
            }
            Implementation::Value(value.clone())
        }
        Behaviour::Template { template } => {
            for n in template_fields(template) {
                if n >= params.len() {
                    return Err(FitError::TemplateField {
                        field: n,
                        takes: params.len(),
                    });
                }
            }
            Implementation::Template(template.clone())
        }
        Behaviour::KvGet => {
            if params.is_empty() {
                return Err(FitError::KvGetWithoutKey);
            }
            if result_kind != Some(ArgKind::Bytes) {
                return Err(FitError::KvGetResult {
                    kind: result_kind,
                    ty: results.first().copied(),
                });
            }
            Implementation::KvGet
        }
        Behaviour::KvSet => {
            if params.len() < 2 {
                return Err(FitError::KvSetArguments {
                    takes: params.len(),
                });
            }
            Implementation::KvSet
        }
        Behaviour::Fail { message } => Implementation::Fail(message.clone()),
        Behaviour::Rhai { script, .. } => {
            script::check(script, &def.name, params.len())?;
            Implementation::Rhai(script.clone())
        }
        Behaviour::Wasm(mock) => {
            let bytes = mock.loaded.clone().ok_or_else(|| FitError::MockNotLoaded {
                label: mock.label(),
                cause: mock.load_error.clone(),
            })?;
            let export = mock.export.clone().unwrap_or_else(|| def.name.clone());
            let inspection = Inspection::of(&mock.label(), &bytes)
                .map_err(|e| FitError::MockInvalid(Arc::new(e)))?;
            match inspection.export(&export) {
                Some(e) if e.callable => {}
                _ => {
                    return Err(FitError::MockExport {
                        label: mock.label(),
                        export,
                        exports: inspection
                            .entry_points()
                            .into_iter()
                            .map(str::to_string)
                            .collect(),
                    });
                }
            }
            Implementation::Wasm(MockPlugin {
                label: mock.label(),
                sha256: mock.sha256.clone(),
                export,
                bytes,
            })
        }
    };
    Ok(HostFunction {
        module: def.module.clone(),
        name: def.name.clone(),
        params,
        results,
        kinds,
        result_kind,
        description: def.describe(),
        implementation,
    })
}

fn describe_result(kind: Option<ArgKind>, ty: Option<&WasmType>) -> String {
    match (kind, ty) {
        (Some(kind), Some(ty)) => format!("{} ({})", kind.as_str(), ty.as_str()),
        _ => "nothing".to_string(),
    }
}

/// A piece of a template: literal text, or `{N}`, argument N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Arg(usize),
}

/// Splits a template into literal text and `{N}` fields; every other brace is literal (so JSON
/// templates need no escaping). The one reading of the syntax: the fit check, the worker's
/// rendering and exported code all use it.
pub fn template_pieces(template: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let field = after
            .find('}')
            .map(|close| &after[..close])
            .filter(|inside| !inside.is_empty() && inside.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|inside| inside.parse::<usize>().ok().map(|n| (n, inside.len())));
        if let Some((n, len)) = field {
            if open > 0 {
                pieces.push(Piece::Text(&rest[..open]));
            }
            pieces.push(Piece::Arg(n));
            rest = &after[len + 1..];
        } else {
            pieces.push(Piece::Text(&rest[..=open]));
            rest = after;
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    pieces
}

/// The argument numbers a template refers to (`{0}`, `{1}`…).
pub fn template_fields(template: &str) -> Vec<usize> {
    template_pieces(template)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Arg(n) => Some(n),
            Piece::Text(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(params: &[&str], results: &[&str]) -> Signature {
        Signature {
            params: params.iter().map(|s| (*s).to_string()).collect(),
            results: results.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn flags_parse_names_kinds_and_behaviours() {
        let base = Path::new(".");
        let d = HostFnDef::parse_flag("hostGreenMessage=template:🟢:{0}", base).unwrap();
        assert_eq!(d.module, EXTISM_USER);
        assert_eq!(d.name, "hostGreenMessage");
        assert_eq!(
            d.behaviour,
            Behaviour::Template {
                template: "🟢:{0}".into()
            }
        );
        let d =
            HostFnDef::parse_flag("acme:billing::price(bytes,num)->num=value:12", base).unwrap();
        assert_eq!(d.module, "acme:billing");
        assert_eq!(d.name, "price");
        assert_eq!(d.params, Some(vec![ArgKind::Bytes, ArgKind::Num]));
        assert_eq!(d.result, Some(ArgKind::Num));
        let d = HostFnDef::parse_flag("store(bytes,num)=kv-set", base).unwrap();
        assert_eq!(d.result, None);
        assert_eq!(d.behaviour, Behaviour::KvSet);
        let d = HostFnDef::parse_flag("x=value:a=b", base).unwrap();
        assert_eq!(
            d.behaviour,
            Behaviour::Value {
                value: "a=b".into()
            }
        );
        let d = HostFnDef::parse_flag("x=bytes:/wAQ", base).unwrap();
        assert_eq!(
            d.behaviour,
            Behaviour::Value {
                value: Bytes(vec![0xff, 0, 0x10])
            }
        );
        for bad in [
            "novalue",
            "x=frobnicate",
            "x(int)=kv-get",
            "x->str=kv-get",
            "=kv-get",
            "x(bytes=kv-get",
            "x=bytes:%%",
            "x=rhai:",
        ] {
            assert!(HostFnDef::parse_flag(bad, base).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_round_trip_through_to_flag() {
        for text in [
            "get=kv-get",
            "acme::put(bytes,bytes)=kv-set",
            "acme::add(num,num)->num=value:3",
            "oops=fail:no such user",
            "t=template:{0} and {1}",
        ] {
            let d = HostFnDef::parse_flag(text, Path::new(".")).unwrap();
            assert_eq!(d.to_flag(), text);
        }
    }

    #[test]
    fn fitting_checks_kinds_against_the_signature() {
        let value =
            |v: &str| HostFnDef::new(EXTISM_USER, "f", Behaviour::Value { value: v.into() });
        let f = fit(&value("hi"), &sig(&["i64"], &["i64"])).unwrap();
        assert_eq!(f.kinds, [ArgKind::Bytes]);
        assert_eq!(f.result_kind, Some(ArgKind::Bytes));
        let f = fit(&value("100.5"), &sig(&[], &["f64"])).unwrap();
        assert_eq!(f.result_kind, Some(ArgKind::Num));
        assert!(matches!(
            fit(&value("many"), &sig(&[], &["f32"])),
            Err(FitError::NotANumber {
                ty: WasmType::F32,
                ..
            })
        ));
        // No result: a value is accepted and ignored.
        assert!(fit(&value("ignored"), &sig(&[], &[])).is_ok());
        let mut marked = value("7");
        marked.params = Some(vec![ArgKind::Num, ArgKind::Num]);
        marked.result = Some(ArgKind::Num);
        let f = fit(&marked, &sig(&["i64", "i64"], &["i64"])).unwrap();
        assert_eq!(f.kinds, [ArgKind::Num, ArgKind::Num]);
        assert!(matches!(
            fit(&marked, &sig(&["i64"], &["i64"])),
            Err(FitError::KindCount {
                declared: 2,
                takes: 1,
                ..
            })
        ));
        let mut bad = value("1");
        bad.params = Some(vec![ArgKind::Bytes]);
        assert!(matches!(
            fit(&bad, &sig(&["i32"], &[])),
            Err(FitError::BytesArgument {
                index: 0,
                ty: WasmType::I32
            })
        ));
        assert!(matches!(
            fit(&value("x"), &sig(&["v128"], &[])),
            Err(FitError::ParamType { ty }) if ty == "v128"
        ));
    }

    #[test]
    fn behaviours_check_what_they_need() {
        let def = |b: Behaviour| HostFnDef::new(EXTISM_USER, "f", b);
        let t = def(Behaviour::Template {
            template: "{0}-{2}".into(),
        });
        assert!(matches!(
            fit(&t, &sig(&["i64", "i64"], &["i64"])),
            Err(FitError::TemplateField { field: 2, takes: 2 })
        ));
        assert!(fit(&t, &sig(&["i64", "i64", "i32"], &["i64"])).is_ok());
        assert!(matches!(
            fit(&def(Behaviour::KvGet), &sig(&[], &["i64"])),
            Err(FitError::KvGetWithoutKey)
        ));
        assert!(matches!(
            fit(&def(Behaviour::KvGet), &sig(&["i64"], &[])),
            Err(FitError::KvGetResult {
                kind: None,
                ty: None
            })
        ));
        assert!(matches!(
            fit(&def(Behaviour::KvSet), &sig(&["i64"], &[])),
            Err(FitError::KvSetArguments { takes: 1 })
        ));
        assert!(fit(&def(Behaviour::KvSet), &sig(&["i64", "i64"], &[])).is_ok());
        assert!(
            fit(
                &def(Behaviour::Fail {
                    message: "no".into()
                }),
                &sig(&[], &[])
            )
            .is_ok()
        );
    }

    #[test]
    fn template_fields_ignore_json_braces() {
        assert_eq!(template_fields(r#"{"name": "{0}", "n": {1}}"#), [0, 1]);
        assert!(template_fields("{}{x}{").is_empty());
    }

    #[test]
    fn definitions_files_read_both_forms_and_say_what_is_wrong() {
        let list = r#"[{"name": "a", "behaviour": "kv-get"}, {"module": "m", "name": "b", "behaviour": "value", "value": {"base64": "AAE="}}]"#;
        let defs = parse_definitions(list).unwrap();
        assert_eq!(
            defs[1].behaviour,
            Behaviour::Value {
                value: Bytes(vec![0, 1])
            }
        );
        let wrapped = format!(r#"{{"host_functions": {list}}}"#);
        assert_eq!(parse_definitions(&wrapped).unwrap(), defs);
        let err = parse_definitions(r#"[{"name": "a", "behaviour": "teleport"}]"#).unwrap_err();
        assert!(
            err.cause
                .as_ref()
                .is_some_and(|c| c.to_string().contains("teleport")),
            "{err}"
        );
        // A round trip keeps every field.
        let json = serde_json::to_string(&defs).unwrap();
        assert_eq!(parse_definitions(&json).unwrap(), defs);
    }
}
