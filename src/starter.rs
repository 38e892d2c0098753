//! New plugin: the starter kits File → New plugin… writes. A kit is a Rust crate on
//! `extism-pdk` that builds for `wasm32-unknown-unknown` (or `wasm32-wasip1` with WASI), with a
//! README giving the commands to build and test it and a suite file whose test passes on the
//! first build. Every host function the workbench offers (the built-ins and the user's mocks)
//! is declared in `src/host.rs` with its real signature, so the new plugin can call the host the
//! playground stands in for. No UI here: the window and the tests call [`create`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::runner::host::define::ArgKind;
use crate::runner::host::{HostFunction, WasmType};

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

/// The kit's files, relative to its folder.
pub fn files(spec: &Spec) -> Vec<(&'static str, String)> {
    vec![
        ("Cargo.toml", cargo_toml(spec)),
        ("src/lib.rs", lib_rs(spec.template)),
        ("src/host.rs", host_rs(&spec.host)),
        ("README.md", readme(spec)),
        ("suite.toml", suite(spec)),
        (".gitignore", "/target\n".to_string()),
    ]
}

fn cargo_toml(spec: &Spec) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
extism-pdk = "1.4"
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

# Line tables stay in the module: when it traps, the playground shows the source line.
[profile.release]
debug = "line-tables-only"

# A crate of its own, even when created inside another workspace.
[workspace]
"#,
        name = spec.name
    )
}

fn lib_rs(template: Template) -> String {
    let body = match template {
        Template::JsonEvents => JSON_EVENTS,
        Template::MinimalText => MINIMAL_TEXT,
    };
    format!(
        "//! An Extism plugin. Build it with `cargo build --release --target …` (see README.md);\n\
         //! the host functions it may call are declared in `host.rs`.\n\n\
         pub mod host;\n\n{body}"
    )
}

const JSON_EVENTS: &str = r#"use extism_pdk::{plugin_fn, FnResult, Json};
use serde::{Deserialize, Serialize};

/// An event as the host sends it.
#[derive(Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// What version 1 of the event ABI answers.
#[derive(Serialize)]
pub struct ReplyV1 {
    pub handled: bool,
}

/// Version 2 also says which event it handled and what it made of it.
#[derive(Serialize)]
pub struct ReplyV2 {
    pub handled: bool,
    pub kind: String,
    pub summary: String,
}

/// Version 1 of the event ABI: hosts that speak it call this.
#[plugin_fn]
pub fn handle_event_v1(Json(event): Json<Event>) -> FnResult<Json<ReplyV1>> {
    Ok(Json(ReplyV1 {
        handled: !event.kind.is_empty(),
    }))
}

/// Version 2 of the event ABI: newer hosts call this; keep v1 for the hosts that do not.
#[plugin_fn]
pub fn handle_event_v2(Json(event): Json<Event>) -> FnResult<Json<ReplyV2>> {
    extism_pdk::info!("handling {}", event.kind);
    let fields = event.data.as_object().map_or(0, |o| o.len());
    Ok(Json(ReplyV2 {
        handled: !event.kind.is_empty(),
        summary: format!("{} with {fields} field(s)", event.kind),
        kind: event.kind,
    }))
}
"#;

const MINIMAL_TEXT: &str = r#"use extism_pdk::{plugin_fn, FnResult};

/// Greets whoever the input names.
#[plugin_fn]
pub fn greet(name: String) -> FnResult<String> {
    Ok(format!("Hello, {name}!"))
}
"#;

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

/// `src/host.rs`: one declaration per host function, grouped by import module.
fn host_rs(host: &[HostFunction]) -> String {
    let mut out = String::from(
        "//! The host functions this plugin's host offers, as the playground declares them.\n\
         //! Functions that take and return Extism memory are wrapped by `#[host_fn]` (text in,\n\
         //! text out: change `String` to `Vec<u8>` or `Json<T>` for other payloads); the others\n\
         //! are raw imports with their WebAssembly types. A function the plugin never calls is\n\
         //! not imported, so declaring them all costs nothing.\n\
         #![allow(dead_code)]\n\n\
         use extism_pdk::*;\n",
    );
    let mut functions: Vec<&HostFunction> = host.iter().collect();
    functions.sort_by(|a, b| (&a.module, &a.name).cmp(&(&b.module, &b.name)));
    // Each function's Rust name, and whether `#[host_fn]` wraps it (it also defines
    // `NAME_impl`, so that name is taken too). Names are unique across modules.
    let mut taken = std::collections::BTreeSet::new();
    let mut decided: Vec<(&HostFunction, String, bool)> = Vec::new();
    for f in &functions {
        let impl_name = format!("{}_impl", f.name);
        let wrap = memory_only(f)
            && is_plain_ident(&f.name)
            && !f.name.ends_with("_impl")
            && !taken.contains(&f.name)
            && !taken.contains(&impl_name);
        if wrap {
            taken.insert(f.name.clone());
            taken.insert(impl_name);
            decided.push((f, f.name.clone(), true));
            continue;
        }
        let mut ident = if is_plain_ident(&f.name) {
            f.name.clone()
        } else {
            crate::bundle::export::snake_ident(&f.name)
        };
        while !is_plain_ident(&ident) || taken.contains(&ident) {
            ident.push('_');
        }
        taken.insert(ident.clone());
        decided.push((f, ident, false));
    }
    let mut modules: Vec<&str> = functions.iter().map(|f| f.module.as_str()).collect();
    modules.dedup();
    for module in modules {
        let in_module = || decided.iter().filter(|(f, _, _)| f.module == module);
        if in_module().any(|(_, _, wrap)| *wrap) {
            let _ = writeln!(out, "\n#[host_fn({module:?})]\nextern \"ExtismHost\" {{");
            for (f, ident, _) in in_module().filter(|(_, _, wrap)| *wrap) {
                let params: Vec<String> = (0..f.params.len())
                    .map(|i| format!("arg{i}: String"))
                    .collect();
                let result = if f.results.is_empty() {
                    ""
                } else {
                    " -> String"
                };
                doc(&mut out, &f.description);
                let _ = writeln!(out, "    pub fn {ident}({}){result};", params.join(", "));
            }
            out.push_str("}\n");
        }
        if in_module().any(|(_, _, wrap)| !*wrap) {
            let _ = writeln!(
                out,
                "\n#[link(wasm_import_module = {module:?})]\nextern \"C\" {{"
            );
            for (f, ident, _) in in_module().filter(|(_, _, wrap)| !*wrap) {
                let params: Vec<String> = f
                    .params
                    .iter()
                    .zip(f.kinds.iter().chain(std::iter::repeat(&ArgKind::Num)))
                    .enumerate()
                    .map(|(i, (t, k))| format!("arg{i}: {}", raw_type(*t, *k)))
                    .collect();
                let result = f.results.first().map_or_else(String::new, |t| {
                    format!(
                        " -> {}",
                        raw_type(*t, f.result_kind.unwrap_or(ArgKind::Num))
                    )
                });
                doc(&mut out, &f.description);
                if memory_only(f) {
                    out.push_str("    /// (u64: the offset of a block of Extism memory)\n");
                }
                let _ = writeln!(
                    out,
                    "    #[link_name = {:?}]\n    pub fn {ident}({}){result};",
                    f.name,
                    params.join(", ")
                );
            }
            out.push_str("}\n");
        }
    }
    out
}

/// A doc comment of `text`, one `///` line per line of it.
fn doc(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "    /// {}", line.trim_end_matches('\r'));
    }
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

fn readme(spec: &Spec) -> String {
    let target = target(spec.wasi);
    let created = created(Path::new("."), spec);
    let artifact = created
        .artifact
        .strip_prefix(".")
        .unwrap_or(&created.artifact)
        .display()
        .to_string()
        .replace('\\', "/");
    let (function, input) = spec.template.example();
    format!(
        "# {name}\n\n\
         An Extism plugin in Rust, made by extism-playground's File → New plugin….\n\n\
         ```sh\n\
         cargo build --release --target {target}\n\
         extism-playground test suite.toml\n\
         ```\n\n\
         The first builds `{artifact}` (add the target once with `rustup target add {target}`);\n\
         the second runs the tests in `suite.toml` against it. (With `CARGO_TARGET_DIR` set,\n\
         add `--target-dir target`, so the module lands where the suite looks.) In the\n\
         playground, open the module and press Ctrl+B to build: the new module loads and\n\
         `{function}` runs again with the same input, showing what the change did.\n\n\
         Try it by hand: `extism-playground call {artifact} {function} --input '{input}'{wasi}`.\n\n\
         `src/host.rs` declares the host functions the playground offered when this crate was\n\
         made; call them as `unsafe {{ host::log_info(\"…\".into())? }}`.\n",
        name = spec.name,
        wasi = if spec.wasi { " --wasi" } else { "" },
    )
}

fn suite(spec: &Spec) -> String {
    let created = created(Path::new(""), spec);
    let wasm = created.artifact.display().to_string().replace('\\', "/");
    let test = match spec.template {
        Template::JsonEvents => {
            r#"[[test]]
name = "v2 summarizes an event"
  [[test.step]]
  call = "handle_event_v2"
  input = '{"type": "order.created", "data": {"id": 42}}'
  expect_json = '{"handled": true, "kind": "order.created", "summary": "order.created with 1 field(s)"}'
  [[test.step]]
  call = "handle_event_v1"
  input = '{"type": "order.created"}'
  expect_json = '{"handled": true}'
"#
        }
        Template::MinimalText => {
            r#"[[test]]
name = "greets by name"
  [[test.step]]
  call = "greet"
  input = "Ada"
  expect_output = "Hello, Ada!"
"#
        }
    };
    format!(
        "# Tests for {name}: `extism-playground test suite.toml` after `cargo build --release --target {target}`.\n\
         [plugin]\n\
         wasm = \"{wasm}\"\n\
         wasi = {wasi}\n\n{test}",
        name = spec.name,
        target = created.target,
        wasi = spec.wasi,
    )
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
