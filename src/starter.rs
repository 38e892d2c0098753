//! New plugin: the starter kits File → New plugin… writes. A kit is a Rust crate on
//! `extism-pdk` that builds for `wasm32-unknown-unknown` (or `wasm32-wasip1` with WASI), with a
//! README giving the commands to build and test it and a suite file whose test passes on the
//! first build. Every host function the workbench offers (the built-ins and the user's mocks)
//! is declared in `src/host.rs` with its real signature, so the new plugin can call the host the
//! playground stands in for. The files' text is in `assets/templates/starter/rust`, one
//! template per file; this module decides what fills them in (the names, the target, each host
//! function's declaration). No UI here: the window and the tests call [`create`].

use std::path::{Path, PathBuf};

use crate::runner::host::define::ArgKind;
use crate::runner::host::{HostFunction, WasmType};
use crate::templates;

/// What the new plugin does to start with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Template {
    /// `handle_event_v1` and `handle_event_v2`: JSON in, JSON out, one export per version of
    /// the host's ABI.
    #[default]
    JsonEvents,
    /// `greet`: text in, text out.
    MinimalText,
}

impl Template {
    pub const ALL: [Self; 2] = [Self::JsonEvents, Self::MinimalText];

    pub fn label(self) -> &'static str {
        match self {
            Self::JsonEvents => "JSON event handler (handle_event_v1, handle_event_v2)",
            Self::MinimalText => "Minimal text function (greet)",
        }
    }

    /// The export the suite calls and the window selects first, with an input for it.
    pub fn example(self) -> (&'static str, &'static str) {
        match self {
            Self::JsonEvents => (
                "handle_event_v2",
                r#"{"type": "order.created", "data": {"id": 42}}"#,
            ),
            Self::MinimalText => ("greet", "Ada"),
        }
    }
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The crate's name (`my-plugin`).
    pub name: String,
    pub template: Template,
    /// Build for `wasm32-wasip1` instead of `wasm32-unknown-unknown`.
    pub wasi: bool,
    /// The host functions to declare.
    pub host: Vec<HostFunction>,
}

/// A crate written to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub dir: PathBuf,
    /// The cargo target it builds for.
    pub target: &'static str,
    /// Where `cargo build --release --target …` puts the module.
    pub artifact: PathBuf,
    pub suite: PathBuf,
}

/// Why a kit could not be written.
#[derive(Debug, thiserror::Error)]
pub enum StarterError {
    #[error(
        "`{0}` is not a crate name: use lowercase letters, digits, `-` and `_`, starting with a letter (e.g. `my-plugin`)"
    )]
    BadName(String),
    #[error("{0} already exists and is not empty: pick an empty folder, or another name")]
    NotEmpty(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The cargo target a kit builds for.
pub fn target(wasi: bool) -> &'static str {
    if wasi {
        "wasm32-wasip1"
    } else {
        "wasm32-unknown-unknown"
    }
}

/// Checks a crate name.
pub fn check_name(name: &str) -> Result<(), StarterError> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(StarterError::BadName(name.to_string()))
    }
}

/// Writes the kit for `spec` into `parent/NAME` (created; it must not hold anything yet).
pub fn create(parent: &Path, spec: &Spec) -> Result<Created, StarterError> {
    check_name(&spec.name)?;
    let dir = parent.join(&spec.name);
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(StarterError::NotEmpty(dir));
    }
    for (relative, text) in files(spec) {
        let path = dir.join(relative);
        let write = || {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            crate::platform::files::write_atomically(&path, text.as_bytes())
        };
        write().map_err(|source| StarterError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(created(&dir, spec))
}

/// Where the kit for `spec` in `dir` builds to.
pub fn created(dir: &Path, spec: &Spec) -> Created {
    let target = target(spec.wasi);
    Created {
        dir: dir.to_path_buf(),
        target,
        artifact: dir
            .join("target")
            .join(target)
            .join("release")
            .join(format!("{}.wasm", spec.name.replace('-', "_"))),
        suite: dir.join("suite.toml"),
    }
}

/// The kit's files, relative to its folder, each with the template under
/// `assets/templates/starter/rust` that writes it.
const KIT: &[(&str, &str)] = &[
    ("Cargo.toml", "starter/rust/Cargo.toml.j2"),
    ("src/lib.rs", "starter/rust/lib.rs.j2"),
    ("src/host.rs", "starter/rust/host.rs.j2"),
    ("README.md", "starter/rust/README.md.j2"),
    ("suite.toml", "starter/rust/suite.toml.j2"),
    (".gitignore", "starter/rust/gitignore.j2"),
];

/// What the kit's templates are filled in with.
#[derive(serde::Serialize)]
struct Kit<'a> {
    /// The crate's name.
    name: &'a str,
    template: Template,
    wasi: bool,
    /// The cargo target it builds for.
    target: &'static str,
    /// Where the built module lands, relative to the crate, with `/`s.
    artifact: String,
    /// The export the suite and the README call, and an input for it.
    function: &'static str,
    input: &'static str,
    /// The host functions `src/host.rs` declares, by import module.
    modules: Vec<HostModule<'a>>,
}

/// The host functions of one import module, as `src/host.rs` declares them.
#[derive(serde::Serialize)]
struct HostModule<'a> {
    name: &'a str,
    /// Those `#[host_fn]` wraps (memory in, memory out, as `String`s).
    wrapped: Vec<Declaration<'a>>,
    /// The raw imports, with their WebAssembly types.
    raw: Vec<Declaration<'a>>,
}

/// One host function's declaration.
#[derive(serde::Serialize)]
struct Declaration<'a> {
    /// Its Rust name.
    ident: String,
    /// The import's name.
    name: &'a str,
    /// Each argument's Rust type.
    params: Vec<&'static str>,
    result: Option<&'static str>,
    /// Its description, one doc line each.
    doc: Vec<&'a str>,
    /// Whether it takes and returns only Extism memory (said on a raw import).
    memory_only: bool,
}

/// The kit's files, relative to its folder.
pub fn files(spec: &Spec) -> Vec<(&'static str, String)> {
    let (function, input) = spec.template.example();
    let created = created(Path::new(""), spec);
    let kit = Kit {
        name: &spec.name,
        template: spec.template,
        wasi: spec.wasi,
        target: created.target,
        artifact: created.artifact.display().to_string().replace('\\', "/"),
        function,
        input,
        modules: host_modules(&spec.host),
    };
    KIT.iter()
        .map(|(path, template)| (*path, templates::render(template, &kit)))
        .collect()
}

/// The Rust type of a value carried as `kind` in a raw import.
fn raw_type(ty: WasmType, kind: ArgKind) -> &'static str {
    match (ty, kind) {
        (WasmType::I64, ArgKind::Bytes) => "u64",
        (WasmType::I64, ArgKind::Num) => "i64",
        (WasmType::I32, _) => "i32",
        (WasmType::F32, _) => "f32",
        (WasmType::F64, _) => "f64",
    }
}

/// Whether `f` takes and returns only Extism memory, which `#[host_fn]` wraps as `String`s.
fn memory_only(f: &HostFunction) -> bool {
    let carried = |ty: &WasmType, kind: &ArgKind| *ty == WasmType::I64 && *kind == ArgKind::Bytes;
    f.params.iter().zip(&f.kinds).all(|(t, k)| carried(t, k))
        && f.params.len() == f.kinds.len()
        && f.results.len() <= 1
        && f.results
            .first()
            .is_none_or(|t| f.result_kind.is_some_and(|k| carried(t, &k)))
}

/// The declarations of `src/host.rs`: one per host function, grouped by import module, sorted.
fn host_modules(host: &[HostFunction]) -> Vec<HostModule<'_>> {
    let mut functions: Vec<&HostFunction> = host.iter().collect();
    functions.sort_by(|a, b| (&a.module, &a.name).cmp(&(&b.module, &b.name)));
    // Each function's Rust name, and whether `#[host_fn]` wraps it (it also defines
    // `NAME_impl`, so that name is taken too). Names are unique across modules.
    let mut taken = std::collections::BTreeSet::new();
    let mut modules: Vec<HostModule<'_>> = Vec::new();
    for f in functions {
        let impl_name = format!("{}_impl", f.name);
        let wrap = memory_only(f)
            && is_plain_ident(&f.name)
            && !f.name.ends_with("_impl")
            && !taken.contains(&f.name)
            && !taken.contains(&impl_name);
        let doc = f
            .description
            .lines()
            .map(|line| line.trim_end_matches('\r'))
            .collect();
        let declaration = if wrap {
            taken.insert(f.name.clone());
            taken.insert(impl_name);
            Declaration {
                ident: f.name.clone(),
                name: &f.name,
                params: vec!["String"; f.params.len()],
                result: (!f.results.is_empty()).then_some("String"),
                doc,
                memory_only: true,
            }
        } else {
            let mut ident = if is_plain_ident(&f.name) {
                f.name.clone()
            } else {
                crate::bundle::export::snake_ident(&f.name)
            };
            while !is_plain_ident(&ident) || taken.contains(&ident) {
                ident.push('_');
            }
            taken.insert(ident.clone());
            Declaration {
                ident,
                name: &f.name,
                params: f
                    .params
                    .iter()
                    .zip(f.kinds.iter().chain(std::iter::repeat(&ArgKind::Num)))
                    .map(|(t, k)| raw_type(*t, *k))
                    .collect(),
                result: f
                    .results
                    .first()
                    .map(|t| raw_type(*t, f.result_kind.unwrap_or(ArgKind::Num))),
                doc,
                memory_only: memory_only(f),
            }
        };
        if modules.last().is_none_or(|m| m.name != f.module) {
            modules.push(HostModule {
                name: &f.module,
                wrapped: Vec::new(),
                raw: Vec::new(),
            });
        }
        let module = modules.last_mut().expect("pushed above");
        if wrap {
            module.wrapped.push(declaration);
        } else {
            module.raw.push(declaration);
        }
    }
    modules
}

/// Whether `name` can be a Rust fn's name as it is (not a keyword, no odd characters).
fn is_plain_ident(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
        "true", "try", "type", "unsafe", "use", "where", "while", "yield", "abstract", "become",
        "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "Self",
    ];
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
        && !KEYWORDS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::HostRegistry;

    fn spec(template: Template) -> Spec {
        Spec {
            name: "my-plugin".into(),
            template,
            wasi: false,
            host: HostRegistry::builtin().functions().to_vec(),
        }
    }

    /// `src/host.rs` of a kit that declares `host`.
    fn host_rs(host: &[HostFunction]) -> String {
        let spec = Spec {
            host: host.to_vec(),
            ..spec(Template::JsonEvents)
        };
        let (_, text) = files(&spec)
            .into_iter()
            .find(|(path, _)| *path == "src/host.rs")
            .expect("a kit has src/host.rs");
        text
    }

    #[test]
    fn names_are_checked() {
        for good in ["my-plugin", "p", "a_b2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "My", "2x", "a b", "a/b", "é"] {
            assert!(
                matches!(check_name(bad), Err(StarterError::BadName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_builtin_is_declared_with_its_signature() {
        let host = host_rs(&spec(Template::JsonEvents).host);
        assert!(host.contains("#[host_fn(\"extism:host/user\")]"), "{host}");
        for line in [
            "pub fn get_secret(arg0: String) -> String;",
            "pub fn kv_get(arg0: String) -> String;",
            "pub fn kv_set(arg0: String, arg1: String);",
            "pub fn log_info(arg0: String);",
        ] {
            assert!(host.contains(line), "{line} missing from\n{host}");
        }
    }

    #[test]
    fn numbers_and_odd_names_become_raw_imports() {
        let f = HostFunction {
            module: "env".into(),
            name: "add-one".into(),
            params: vec![WasmType::I32, WasmType::I64],
            results: vec![WasmType::F64],
            kinds: vec![ArgKind::Num, ArgKind::Bytes],
            result_kind: Some(ArgKind::Num),
            description: "adds".into(),
            implementation: crate::runner::host::Implementation::Fail("x".into()),
        };
        let host = host_rs(&[f]);
        assert!(
            host.contains("#[link(wasm_import_module = \"env\")]")
                && host.contains("#[link_name = \"add-one\"]")
                && host.contains("pub fn add_one(arg0: i32, arg1: u64) -> f64;"),
            "{host}"
        );
    }

    #[test]
    fn names_never_collide() {
        let f = |module: &str, name: &str| HostFunction {
            module: module.into(),
            name: name.into(),
            params: vec![WasmType::I64],
            results: vec![],
            kinds: vec![ArgKind::Bytes],
            result_kind: None,
            description: "line one\nline two".into(),
            implementation: crate::runner::host::Implementation::Fail("x".into()),
        };
        let host = host_rs(&[
            f("a", "notify"),
            f("b", "notify"),
            f("a", "notify_impl"),
            f("c", "Self"),
        ]);
        assert!(host.contains("pub fn notify(arg0: String);"), "{host}");
        assert!(
            host.contains("#[link_name = \"notify\"]\n    pub fn notify_(arg0: u64);"),
            "{host}"
        );
        assert!(
            host.contains("#[link_name = \"notify_impl\"]\n    pub fn notify_impl_(arg0: u64);"),
            "{host}"
        );
        assert!(
            host.contains("#[link_name = \"Self\"]\n    pub fn self_(arg0: u64);"),
            "{host}"
        );
        assert!(
            host.contains("    /// line one\n    /// line two\n"),
            "{host}"
        );
    }

    #[test]
    fn a_kit_is_written_once_and_says_where_it_builds() {
        let dir = tempfile::tempdir().unwrap();
        let mut wasi = spec(Template::MinimalText);
        wasi.wasi = true;
        let created = create(dir.path(), &wasi).unwrap();
        assert_eq!(created.target, "wasm32-wasip1");
        assert!(
            created
                .artifact
                .ends_with("target/wasm32-wasip1/release/my_plugin.wasm")
        );
        let suite = std::fs::read_to_string(&created.suite).unwrap();
        assert!(
            suite.contains("wasm = \"target/wasm32-wasip1/release/my_plugin.wasm\"")
                && suite.contains("wasi = true"),
            "{suite}"
        );
        assert!(matches!(
            create(dir.path(), &wasi),
            Err(StarterError::NotEmpty(_))
        ));
    }
}
