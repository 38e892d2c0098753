//! Host code for a scenario: a Go program (extism go-sdk) and a Rust program (the extism crate)
//! that load the same module with the same manifest and options, provide the host functions the
//! plugin imports (names and signatures from the host registry, bodies per implementation), and
//! call the same function with the same input.

use std::fmt::Write as _;

use crate::runner::host::{Builtin, HostFunction, HostRegistry, Implementation, WasmType};
use crate::runner::inspect::{EXTISM_USER, Inspection};
use crate::runner::source::ModuleOrigin;

use super::Scenario;

/// What the generated code is made from: the scenario, its module's inspection, and the host
/// functions the session links.
#[derive(Clone, Copy, Debug)]
pub struct Export<'a> {
    pub scenario: &'a Scenario,
    pub inspection: &'a Inspection,
    pub host: &'a HostRegistry,
}

impl Export<'_> {
    /// The registry's functions the plugin imports, in registry order.
    fn imported_host_functions(&self) -> Vec<&HostFunction> {
        self.host
            .functions()
            .iter()
            .filter(|f| {
                self.inspection
                    .imports
                    .iter()
                    .any(|i| i.module == f.module && i.name == f.name)
            })
            .collect()
    }
}

/// A module file the generated code loads.
struct ModuleFile {
    /// The path (or URL) the code names.
    path: String,
    /// The module's link name, for all but `main`.
    name: Option<String>,
    sha256: String,
    /// Why the file is not where the plugin came from, if it is not.
    note: Option<&'static str>,
}

/// Where the generated code finds each module.
fn module_files(scenario: &Scenario) -> Vec<ModuleFile> {
    scenario
        .plugin
        .modules
        .iter()
        .map(|m| {
            let (path, note) = match &m.origin {
                ModuleOrigin::File(p) => (p.display().to_string(), None),
                ModuleOrigin::Url(u) => (u.clone(), Some("fetched from this URL")),
                ModuleOrigin::Data => {
                    // One file per embedded module, named after the plugin (and module name).
                    let stem = scenario
                        .plugin
                        .display_name
                        .trim_end_matches(".json")
                        .trim_end_matches(".wasm");
                    let file = match (&m.name, scenario.plugin.modules.len()) {
                        (Some(name), n) if n > 1 => format!("{stem}-{name}.wasm"),
                        _ => format!("{stem}.wasm"),
                    };
                    (
                        file,
                        Some("the module was embedded in the bundle; save its bytes to this file"),
                    )
                }
            };
            ModuleFile {
                path,
                name: m.name.clone(),
                sha256: m.sha256.clone(),
                note,
            }
        })
        .collect()
}

/// The Rust SDK's name for a value type.
fn rust_type(t: WasmType) -> &'static str {
    match t {
        WasmType::I64 => "PTR",
        WasmType::I32 => "extism::ValType::I32",
        WasmType::F32 => "extism::ValType::F32",
        WasmType::F64 => "extism::ValType::F64",
    }
}

/// The go-sdk's name for a value type.
fn go_type(t: WasmType) -> &'static str {
    match t {
        WasmType::I64 => "extism.ValueTypePTR",
        WasmType::I32 => "extism.ValueTypeI32",
        WasmType::F32 => "extism.ValueTypeF32",
        WasmType::F64 => "extism.ValueTypeF64",
    }
}

/// An integer literal with `_` separators, as clippy likes them.
fn rust_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

fn go_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// A Rust program for the extism crate.
#[expect(clippy::too_many_lines, reason = "a template reads best top to bottom")]
pub fn rust(export: &Export<'_>) -> String {
    let scenario = export.scenario;
    let o = &scenario.options;
    let host = export.imported_host_functions();
    let uses_kv = host.iter().any(|f| {
        matches!(
            f.implementation,
            Implementation::Builtin(Builtin::KvGet | Builtin::KvSet)
        )
    });
    let mut s = String::new();
    let _ = writeln!(
        s,
        "//! Calls `{}` of {} with the manifest, options and input of an",
        scenario.function, scenario.plugin.display_name
    );
    let _ = writeln!(
        s,
        "//! extism-playground session. Cargo.toml: extism = \"~1.30\""
    );
    let _ = writeln!(s);
    if !host.is_empty() {
        let _ = writeln!(s, "use std::collections::BTreeMap;");
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "use extism::{{Manifest, PluginBuilder, Wasm{}}};",
        if host.is_empty() {
            ""
        } else {
            ", PTR, UserData, host_fn"
        }
    );
    let _ = writeln!(s);
    for function in &host {
        let body = match function.implementation {
            Implementation::Builtin(Builtin::LogInfo) => {
                "host_fn!(log_info(message: String) {\n    println!(\"[host log_info] {message}\");\n    Ok(())\n});\n"
            }
            Implementation::Builtin(Builtin::KvGet) => {
                "host_fn!(kv_get(kv: BTreeMap<String, String>; key: String) -> String {\n    let kv = kv.get()?;\n    let kv = kv.lock().map_err(|_| extism::Error::msg(\"kv store poisoned\"))?;\n    Ok(kv.get(&key).cloned().unwrap_or_default())\n});\n"
            }
            Implementation::Builtin(Builtin::KvSet) => {
                "host_fn!(kv_set(kv: BTreeMap<String, String>; key: String, value: String) {\n    let kv = kv.get()?;\n    kv.lock().map_err(|_| extism::Error::msg(\"kv store poisoned\"))?.insert(key, value);\n    Ok(())\n});\n"
            }
            Implementation::Builtin(Builtin::GetSecret) => {
                "// Secrets come from the environment: get_secret(\"api_key\") reads SECRET_API_KEY.\nhost_fn!(get_secret(name: String) -> String {\n    let var = format!(\"SECRET_{}\", name.to_uppercase());\n    std::env::var(&var).map_err(|_| extism::Error::msg(format!(\"secret {name:?} is not set; set {var}\")))\n});\n"
            }
        };
        let _ = writeln!(s, "{body}");
    }
    let _ = writeln!(s, "fn main() -> Result<(), extism::Error> {{");
    let _ = writeln!(s, "    let manifest = Manifest::new([");
    for module in module_files(scenario) {
        if let Some(note) = module.note {
            let _ = writeln!(s, "        // {note}");
        }
        let mut wasm = format!("Wasm::file({})", rust_str(&module.path));
        if let Some(name) = &module.name {
            let _ = write!(wasm, ".with_name({})", rust_str(name));
        }
        let _ = writeln!(s, "        {wasm}.with_hash({}),", rust_str(&module.sha256));
    }
    let _ = write!(s, "    ])");
    for h in &o.allowed_hosts {
        let _ = write!(s, "\n    .with_allowed_host({})", rust_str(h));
    }
    for p in &o.allowed_paths {
        let _ = write!(
            s,
            "\n    .with_allowed_path({}.to_string(), {})",
            rust_str(&p.manifest_key()),
            rust_str(&p.guest)
        );
    }
    for (k, v) in &o.config {
        let _ = write!(
            s,
            "\n    .with_config_key({}, {})",
            rust_str(k),
            rust_str(v)
        );
    }
    if let Some(pages) = o.memory_max_pages {
        let _ = write!(s, "\n    .with_memory_max({pages})");
    }
    if let Some(ms) = o.timeout_ms {
        let duration = if ms.is_multiple_of(1000) {
            format!("from_secs({})", rust_int(ms / 1000))
        } else {
            format!("from_millis({})", rust_int(ms))
        };
        let _ = write!(s, "\n    .with_timeout(std::time::Duration::{duration})");
    }
    let _ = writeln!(s, ";");
    if o.http_response_max_bytes.is_some() || o.var_max_bytes.is_some() {
        let _ = writeln!(s, "    let mut manifest = manifest;");
        if let Some(b) = o.http_response_max_bytes {
            let _ = writeln!(
                s,
                "    manifest.memory.max_http_response_bytes = Some({b});"
            );
        }
        if let Some(b) = o.var_max_bytes {
            let _ = writeln!(s, "    manifest.memory.max_var_bytes = Some({b});");
        }
    }
    if uses_kv {
        let _ = writeln!(s, "    let kv = UserData::new(BTreeMap::from([");
        for (k, v) in &scenario.host.kv {
            let _ = writeln!(
                s,
                "        ({}.to_string(), {}.to_string()),",
                rust_str(k),
                rust_str(v)
            );
        }
        let _ = writeln!(s, "    ]));");
    }
    let _ = write!(
        s,
        "    let mut plugin = PluginBuilder::new(manifest)\n        .with_wasi({})",
        o.wasi
    );
    if let Some(fuel) = o.fuel_limit {
        let _ = write!(s, "\n        .with_fuel_limit({})", rust_int(fuel));
    }
    for function in &host {
        let data = match function.implementation {
            Implementation::Builtin(Builtin::KvGet | Builtin::KvSet) => "kv.clone()",
            Implementation::Builtin(Builtin::LogInfo | Builtin::GetSecret) => "UserData::new(())",
        };
        let types = |types: &[WasmType]| {
            let names: Vec<&str> = types.iter().map(|t| rust_type(*t)).collect();
            format!("[{}]", names.join(", "))
        };
        // extism puts host functions in extism:host/user unless told otherwise.
        let namespace = if function.module == EXTISM_USER {
            String::new()
        } else {
            format!("_in_namespace({}, ", rust_str(&function.module))
        };
        let _ = write!(
            s,
            "\n        .with_function{}{}, {}, {}, {data}, {})",
            if namespace.is_empty() {
                "("
            } else {
                &namespace
            },
            rust_str(&function.name),
            types(&function.params),
            types(&function.results),
            function.name
        );
    }
    let _ = writeln!(s, "\n        .build()?;");
    let input = match std::str::from_utf8(&scenario.input) {
        Ok(text) => format!("{}.as_bytes()", rust_str(text)),
        Err(_) => format!("&{:?}[..]", scenario.input),
    };
    let _ = writeln!(s, "    let input: &[u8] = {input};");
    let _ = writeln!(
        s,
        "    let output = plugin.call::<&[u8], &[u8]>({}, input)?;",
        rust_str(&scenario.function)
    );
    let _ = writeln!(
        s,
        "    println!(\"{{}}\", String::from_utf8_lossy(output));"
    );
    let _ = writeln!(s, "    Ok(())");
    let _ = writeln!(s, "}}");
    s
}

/// A Go program for the extism go-sdk.
#[expect(clippy::too_many_lines, reason = "a template reads best top to bottom")]
pub fn go(export: &Export<'_>) -> String {
    let scenario = export.scenario;
    let o = &scenario.options;
    let host = export.imported_host_functions();
    let uses = |builtin: Builtin| {
        host.iter()
            .any(|f| f.implementation == Implementation::Builtin(builtin))
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Calls {} of {} with the manifest, options and input of an",
        scenario.function, scenario.plugin.display_name
    );
    let _ = writeln!(
        s,
        "// extism-playground session. go get github.com/extism/go-sdk"
    );
    let _ = writeln!(
        s,
        "package main\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"os\""
    );
    if uses(Builtin::GetSecret) {
        let _ = writeln!(s, "\t\"strings\"");
    }
    let _ = writeln!(s, "\n\textism \"github.com/extism/go-sdk\"\n)\n");
    let _ = writeln!(s, "func main() {{");
    let _ = writeln!(s, "\tmanifest := extism.Manifest{{");
    let _ = writeln!(s, "\t\tWasm: []extism.Wasm{{");
    for module in module_files(scenario) {
        if let Some(note) = module.note {
            let _ = writeln!(s, "\t\t\t// {note}");
        }
        let name = module
            .name
            .as_ref()
            .map_or_else(String::new, |n| format!(", Name: {}", go_str(n)));
        let _ = writeln!(
            s,
            "\t\t\textism.WasmFile{{Path: {}, Hash: {}{name}}},",
            go_str(&module.path),
            go_str(&module.sha256)
        );
    }
    let _ = writeln!(s, "\t\t}},");
    if o.memory_max_pages.is_some()
        || o.http_response_max_bytes.is_some()
        || o.var_max_bytes.is_some()
    {
        let mut fields = Vec::new();
        if let Some(p) = o.memory_max_pages {
            fields.push(format!("MaxPages: {p}"));
        }
        if let Some(b) = o.http_response_max_bytes {
            fields.push(format!("MaxHttpResponseBytes: {b}"));
        }
        if let Some(b) = o.var_max_bytes {
            fields.push(format!("MaxVarBytes: {b}"));
        }
        let _ = writeln!(
            s,
            "\t\tMemory: &extism.ManifestMemory{{{}}},",
            fields.join(", ")
        );
    }
    if !o.config.is_empty() {
        let _ = writeln!(s, "\t\tConfig: map[string]string{{");
        for (k, v) in &o.config {
            let _ = writeln!(s, "\t\t\t{}: {},", go_str(k), go_str(v));
        }
        let _ = writeln!(s, "\t\t}},");
    }
    if !o.allowed_hosts.is_empty() {
        let hosts: Vec<String> = o.allowed_hosts.iter().map(|h| go_str(h)).collect();
        let _ = writeln!(s, "\t\tAllowedHosts: []string{{{}}},", hosts.join(", "));
    }
    if !o.allowed_paths.is_empty() {
        let _ = writeln!(
            s,
            "\t\t// The go-sdk mounts every path read-write; \"ro:\" is honoured by the Rust SDK."
        );
        let _ = writeln!(s, "\t\tAllowedPaths: map[string]string{{");
        for p in &o.allowed_paths {
            let _ = writeln!(
                s,
                "\t\t\t{}: {},",
                go_str(&p.host.display().to_string()),
                go_str(&p.guest)
            );
        }
        let _ = writeln!(s, "\t\t}},");
    }
    if let Some(ms) = o.timeout_ms {
        let _ = writeln!(s, "\t\tTimeout: {ms}, // milliseconds");
    }
    let _ = writeln!(s, "\t}}\n");
    if o.fuel_limit.is_some() {
        let _ = writeln!(
            s,
            "\t// The session set a fuel limit; the go-sdk (wazero) has no fuel metering."
        );
    }
    let _ = writeln!(s, "\tctx := context.Background()");
    let _ = writeln!(
        s,
        "\tconfig := extism.PluginConfig{{EnableWasi: {}}}",
        o.wasi
    );
    if uses(Builtin::KvGet) || uses(Builtin::KvSet) {
        let _ = writeln!(s, "\tkv := map[string]string{{");
        for (k, v) in &scenario.host.kv {
            let _ = writeln!(s, "\t\t{}: {},", go_str(k), go_str(v));
        }
        let _ = writeln!(s, "\t}}");
    }
    let _ = writeln!(s, "\thostFunctions := []extism.HostFunction{{");
    for function in &host {
        let body = match function.implementation {
            Implementation::Builtin(Builtin::LogInfo) => {
                "\t\t\tmessage, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tfmt.Println(\"[host log_info]\", message)\n"
            }
            Implementation::Builtin(Builtin::KvGet) => {
                "\t\t\tkey, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tstack[0], err = p.WriteString(kv[key])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n"
            }
            Implementation::Builtin(Builtin::KvSet) => {
                "\t\t\tkey, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tvalue, err := p.ReadString(stack[1])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tkv[key] = value\n"
            }
            Implementation::Builtin(Builtin::GetSecret) => {
                "\t\t\tname, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\t// get_secret(\"api_key\") reads SECRET_API_KEY from the environment.\n\t\t\tvalue, ok := os.LookupEnv(\"SECRET_\" + strings.ToUpper(name))\n\t\t\tif !ok {\n\t\t\t\tpanic(fmt.Sprintf(\"secret %q is not set\", name))\n\t\t\t}\n\t\t\tstack[0], err = p.WriteString(value)\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n"
            }
        };
        let types = |types: &[WasmType]| {
            let names: Vec<&str> = types.iter().map(|t| go_type(*t)).collect();
            format!("[]extism.ValueType{{{}}}", names.join(", "))
        };
        let _ = writeln!(
            s,
            "\t\textism.NewHostFunctionWithStack(\n\t\t\t{},\n\t\t\tfunc(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {{\n{body}\t\t\t}},\n\t\t\t{},\n\t\t\t{},\n\t\t),",
            go_str(&function.name),
            types(&function.params),
            types(&function.results)
        );
    }
    let _ = writeln!(s, "\t}}");
    for (i, function) in host.iter().enumerate() {
        // The go-sdk puts host functions in extism:host/user unless told otherwise.
        if function.module != EXTISM_USER {
            let _ = writeln!(
                s,
                "\thostFunctions[{i}].SetNamespace({})",
                go_str(&function.module)
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "\tplugin, err := extism.NewPlugin(ctx, manifest, config, hostFunctions)"
    );
    let _ = writeln!(
        s,
        "\tif err != nil {{\n\t\tfmt.Printf(\"Failed to initialize plugin: %v\\n\", err)\n\t\tos.Exit(1)\n\t}}\n"
    );
    let input = match std::str::from_utf8(&scenario.input) {
        Ok(text) => format!("[]byte({})", go_str(text)),
        Err(_) => format!(
            "[]byte{{{}}}",
            scenario
                .input
                .iter()
                .map(|b| format!("0x{b:02x}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let _ = writeln!(s, "\tinput := {input}");
    let _ = writeln!(
        s,
        "\texit, out, err := plugin.Call({}, input)",
        go_str(&scenario.function)
    );
    let _ = writeln!(
        s,
        "\tif err != nil {{\n\t\tfmt.Println(err)\n\t\tos.Exit(int(exit))\n\t}}\n\tfmt.Println(string(out))\n}}"
    );
    s
}
