//! Host code for a scenario: a Go program (extism go-sdk) and a Rust program (the extism crate)
//! that load the same module with the same manifest and options, provide the host functions the
//! plugin imports, and call the same function with the same input.

use std::fmt::Write as _;

use crate::runner::inspect::{EXTISM_USER, Inspection};
use crate::runner::source::ModuleOrigin;

use super::Scenario;

/// The host functions the scenario's plugin imports from `extism:host/user`.
fn imported_host_functions(scenario: &Scenario) -> Vec<String> {
    let Ok(inspection) = Inspection::of("plugin", &scenario.plugin.main().bytes) else {
        return Vec::new();
    };
    let mut names: Vec<String> = inspection
        .imports
        .iter()
        .filter(|i| i.module == EXTISM_USER)
        .map(|i| i.name.clone())
        .filter(|n| crate::runner::host::HOST_FUNCTIONS.contains(&n.as_str()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Where the generated code finds each module, with a note when the module was not a file.
fn module_paths(scenario: &Scenario) -> Vec<(String, Option<String>, String, Option<String>)> {
    scenario
        .plugin
        .modules
        .iter()
        .map(|m| {
            let (path, note) = match &m.origin {
                ModuleOrigin::File(p) => (p.display().to_string(), None),
                ModuleOrigin::Url(u) => (u.clone(), Some("fetched from this URL".to_string())),
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
                        Some(
                            "the module was embedded in the bundle; save its bytes to this file"
                                .to_string(),
                        ),
                    )
                }
            };
            (path, m.name.clone(), m.sha256.clone(), note)
        })
        .collect()
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
pub fn rust(scenario: &Scenario) -> String {
    let o = &scenario.options;
    let host = imported_host_functions(scenario);
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
    for name in &host {
        match name.as_str() {
            "log_info" => {
                let _ = writeln!(
                    s,
                    "host_fn!(log_info(message: String) {{\n    println!(\"[host log_info] {{message}}\");\n    Ok(())\n}});\n"
                );
            }
            "kv_get" => {
                let _ = writeln!(
                    s,
                    "host_fn!(kv_get(kv: BTreeMap<String, String>; key: String) -> String {{\n    let kv = kv.get()?;\n    let kv = kv.lock().map_err(|_| extism::Error::msg(\"kv store poisoned\"))?;\n    Ok(kv.get(&key).cloned().unwrap_or_default())\n}});\n"
                );
            }
            "kv_set" => {
                let _ = writeln!(
                    s,
                    "host_fn!(kv_set(kv: BTreeMap<String, String>; key: String, value: String) {{\n    let kv = kv.get()?;\n    kv.lock().map_err(|_| extism::Error::msg(\"kv store poisoned\"))?.insert(key, value);\n    Ok(())\n}});\n"
                );
            }
            "get_secret" => {
                let _ = writeln!(
                    s,
                    "// Secrets come from the environment: get_secret(\"api_key\") reads SECRET_API_KEY.\nhost_fn!(get_secret(name: String) -> String {{\n    let var = format!(\"SECRET_{{}}\", name.to_uppercase());\n    std::env::var(&var).map_err(|_| extism::Error::msg(format!(\"secret {{name:?}} is not set; set {{var}}\")))\n}});\n"
                );
            }
            _ => {}
        }
    }
    let _ = writeln!(s, "fn main() -> Result<(), extism::Error> {{");
    let _ = writeln!(s, "    let manifest = Manifest::new([");
    for (path, name, sha, note) in module_paths(scenario) {
        if let Some(note) = note {
            let _ = writeln!(s, "        // {note}");
        }
        let mut wasm = format!("Wasm::file({})", rust_str(&path));
        if let Some(name) = name {
            let _ = write!(wasm, ".with_name({})", rust_str(&name));
        }
        let _ = writeln!(s, "        {wasm}.with_hash({}),", rust_str(&sha));
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
    if host.iter().any(|h| h.starts_with("kv_")) {
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
    for name in &host {
        let (params, results, data) = match name.as_str() {
            "log_info" => ("[PTR]", "[]", "UserData::new(())"),
            "kv_get" => ("[PTR]", "[PTR]", "kv.clone()"),
            "kv_set" => ("[PTR, PTR]", "[]", "kv.clone()"),
            _ => ("[PTR]", "[PTR]", "UserData::new(())"),
        };
        let _ = write!(
            s,
            "\n        .with_function({}, {params}, {results}, {data}, {name})",
            rust_str(name)
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
pub fn go(scenario: &Scenario) -> String {
    let o = &scenario.options;
    let host = imported_host_functions(scenario);
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
    if host.iter().any(|h| h == "get_secret") {
        let _ = writeln!(s, "\t\"strings\"");
    }
    let _ = writeln!(s, "\n\textism \"github.com/extism/go-sdk\"\n)\n");
    let _ = writeln!(s, "func main() {{");
    let _ = writeln!(s, "\tmanifest := extism.Manifest{{");
    let _ = writeln!(s, "\t\tWasm: []extism.Wasm{{");
    for (path, name, sha, note) in module_paths(scenario) {
        if let Some(note) = note {
            let _ = writeln!(s, "\t\t\t// {note}");
        }
        let name = name.map_or_else(String::new, |n| format!(", Name: {}", go_str(&n)));
        let _ = writeln!(
            s,
            "\t\t\textism.WasmFile{{Path: {}, Hash: {}{name}}},",
            go_str(&path),
            go_str(&sha)
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
    if host.iter().any(|h| h.starts_with("kv_")) {
        let _ = writeln!(s, "\tkv := map[string]string{{");
        for (k, v) in &scenario.host.kv {
            let _ = writeln!(s, "\t\t{}: {},", go_str(k), go_str(v));
        }
        let _ = writeln!(s, "\t}}");
    }
    let _ = writeln!(s, "\thostFunctions := []extism.HostFunction{{");
    for name in &host {
        let body = match name.as_str() {
            "log_info" => {
                "\t\t\tmessage, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tfmt.Println(\"[host log_info]\", message)\n"
            }
            "kv_get" => {
                "\t\t\tkey, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tstack[0], err = p.WriteString(kv[key])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n"
            }
            "kv_set" => {
                "\t\t\tkey, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tvalue, err := p.ReadString(stack[1])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\tkv[key] = value\n"
            }
            _ => {
                "\t\t\tname, err := p.ReadString(stack[0])\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n\t\t\t// get_secret(\"api_key\") reads SECRET_API_KEY from the environment.\n\t\t\tvalue, ok := os.LookupEnv(\"SECRET_\" + strings.ToUpper(name))\n\t\t\tif !ok {\n\t\t\t\tpanic(fmt.Sprintf(\"secret %q is not set\", name))\n\t\t\t}\n\t\t\tstack[0], err = p.WriteString(value)\n\t\t\tif err != nil {\n\t\t\t\tpanic(err)\n\t\t\t}\n"
            }
        };
        let (params, results) = match name.as_str() {
            "log_info" => (
                "[]extism.ValueType{extism.ValueTypePTR}",
                "[]extism.ValueType{}",
            ),
            "kv_set" => (
                "[]extism.ValueType{extism.ValueTypePTR, extism.ValueTypePTR}",
                "[]extism.ValueType{}",
            ),
            _ => (
                "[]extism.ValueType{extism.ValueTypePTR}",
                "[]extism.ValueType{extism.ValueTypePTR}",
            ),
        };
        let _ = writeln!(
            s,
            "\t\textism.NewHostFunctionWithStack(\n\t\t\t{},\n\t\t\tfunc(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {{\n{body}\t\t\t}},\n\t\t\t{params},\n\t\t\t{results},\n\t\t),",
            go_str(name)
        );
    }
    let _ = writeln!(s, "\t}}\n");
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
