//! The sample plugins built into the binary (from `assets/samples`), each with an example input
//! per function and the sandbox options it needs, so every sample runs on the first click.

use std::path::PathBuf;

use crate::bundle::InputMode;
use crate::runner::host::{ArgKind, Behaviour, HostFnDef, MockSource};
use crate::runner::{AllowedPath, LoadedPlugin, SandboxOptions};

/// A function of a sample with its example input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleFunction {
    pub name: &'static str,
    pub input: &'static str,
    /// How the window edits it.
    pub mode: InputMode,
    pub description: &'static str,
}

/// A built-in sample plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub name: &'static str,
    pub description: &'static str,
    pub wasm: &'static [u8],
    pub functions: &'static [SampleFunction],
}

const fn f(
    name: &'static str,
    input: &'static str,
    mode: InputMode,
    description: &'static str,
) -> SampleFunction {
    SampleFunction {
        name,
        input,
        mode,
        description,
    }
}

use InputMode::{Json, Raw as Text};

/// Every sample, in menu order. `hello` opens on first launch.
pub const SAMPLES: &[Sample] = &[
    Sample {
        name: "hello",
        description: "Pure functions of their input: the first thing to run",
        wasm: include_bytes!("../assets/samples/hello.wasm"),
        functions: &[
            f(
                "count_vowels",
                "Hello, Extism playground!",
                Text,
                "Counts vowels; config `vowels` overrides the set",
            ),
            f("greet", "Ada", Text, "Hello, <input>!"),
            f(
                "handle_event",
                "{\n  \"user_id\": 42,\n  \"event\": \"signup\"\n}",
                Json,
                "Handles a SaaS event",
            ),
            f(
                "handle_event_v2",
                "{\n  \"user_id\": 42,\n  \"event\": \"signup\",\n  \"priority\": \"high\"\n}",
                Json,
                "The versioned successor of handle_event",
            ),
            f(
                "echo",
                "any bytes come back unchanged",
                Text,
                "Returns its input",
            ),
        ],
    },
    Sample {
        name: "host-demo",
        description: "Host functions: log_info, kv_get/kv_set, get_secret",
        wasm: include_bytes!("../assets/samples/host-demo.wasm"),
        functions: &[
            f(
                "log_levels",
                "hello logs",
                Text,
                "One PDK log per level and a log_info host call",
            ),
            f(
                "kv_roundtrip",
                "{\n  \"key\": \"greeting\",\n  \"value\": \"hi there\"\n}",
                Json,
                "Reads, writes and re-reads the host's kv store",
            ),
            f(
                "secret_length",
                "api_key",
                Text,
                "Length of a secret from get_secret",
            ),
        ],
    },
    Sample {
        name: "http-demo",
        description: "Outbound HTTP, allowed only to allowed hosts",
        wasm: include_bytes!("../assets/samples/http-demo.wasm"),
        functions: &[f(
            "http_get",
            "https://example.com/",
            Text,
            "GETs a URL and returns the body",
        )],
    },
    Sample {
        name: "wasi-demo",
        description: "WASI: files under an allowed path, stdout and stderr",
        wasm: include_bytes!("../assets/samples/wasi-demo.wasm"),
        functions: &[
            f(
                "write_read",
                "written by the playground",
                Text,
                "Writes /data/playground.txt and reads it back",
            ),
            f(
                "read_file",
                "/data/playground.txt",
                Text,
                "Reads the file at a guest path",
            ),
            f(
                "print",
                "hello from WASI",
                Text,
                "Prints to stdout and stderr",
            ),
            f("exit_with", "3", Text, "Exits through WASI proc_exit"),
        ],
    },
    Sample {
        name: "counter",
        description: "Instance state kept across calls until reset",
        wasm: include_bytes!("../assets/samples/counter.wasm"),
        functions: &[
            f("increment", "", Text, "Adds one and returns the count"),
            f("reset", "", Text, "Sets the count to zero"),
        ],
    },
    Sample {
        name: "tenant-app",
        description: "A tenant's plugin importing its host's own functions, mocked here",
        wasm: include_bytes!("../assets/samples/tenant-app.wasm"),
        functions: &[
            f(
                "greet_user",
                "{\n  \"user_id\": \"u-42\"\n}",
                Json,
                "Asks acme:tenant::get_user (a mock-host plugin) and audits",
            ),
            f(
                "quote",
                "{\n  \"sku\": \"pro-seat\",\n  \"quantity\": 3\n}",
                Json,
                "Asks acme:billing::price_cents (a Rhai script; a number argument and result)",
            ),
        ],
    },
    Sample {
        name: "mock-host",
        description: "A mock-host plugin: stands in for tenant-app's host",
        wasm: include_bytes!("../assets/samples/mock-host.wasm"),
        functions: &[
            f("get_user", "u-42", Text, "The user with this id, as JSON"),
            f("audit", "greeted u-42", Text, "Logs the message"),
            f("trap", "", Text, "Traps, as a broken mock would"),
        ],
    },
    Sample {
        name: "chaos",
        description: "Misbehaviour on purpose: spins, traps, floods, exhausts memory",
        wasm: include_bytes!("../assets/samples/chaos.wasm"),
        functions: &[
            f(
                "spin",
                "",
                Text,
                "Never returns: stopped by the timeout, fuel or Stop",
            ),
            f("alloc", "8", Text, "Allocates N MiB"),
            f("trap", "", Text, "Executes unreachable"),
            f("panic", "", Text, "A Rust panic"),
            f("stack_overflow", "", Text, "Unbounded recursion"),
            f("huge_output", "8", Text, "Returns N MiB"),
            f("log_flood", "100000", Text, "Logs N lines"),
            f("error_return", "", Text, "Returns an Extism error"),
        ],
    },
    Sample {
        name: "debug-demo",
        description: "Built with line tables: a trap shows its source lines (Rust)",
        wasm: include_bytes!("../assets/samples/debug-demo.wasm"),
        functions: &[
            f(
                "checkout",
                "{\n  \"items\": [\n    {\"name\": \"tea\", \"cents\": 350, \"quantity\": 2}\n  ],\n  \"discount_percent\": 150\n}",
                Json,
                "Traps on a discount over 100% (set it to 10 to pass)",
            ),
            f(
                "average",
                "{\n  \"items\": []\n}",
                Json,
                "Panics on an empty order (divides by zero)",
            ),
        ],
    },
];

/// The sample called `name`.
pub fn find(name: &str) -> Option<&'static Sample> {
    SAMPLES.iter().find(|s| s.name == name)
}

impl Sample {
    /// The plugin, read from the embedded bytes.
    pub fn plugin(&self) -> LoadedPlugin {
        LoadedPlugin::from_wasm_bytes(&format!("{}.wasm", self.name), self.wasm.to_vec())
            .expect("embedded samples are valid modules")
    }

    /// The example for `function`, if it is one of this sample's.
    pub fn function(&self, function: &str) -> Option<&'static SampleFunction> {
        self.functions.iter().find(|f| f.name == function)
    }

    /// The kv store and secrets the sample starts with (its own: no other plugin sees them).
    pub fn host_data(&self) -> crate::runner::HostData {
        match self.name {
            "host-demo" => crate::runner::HostData {
                kv: [("greeting".to_string(), "hello from the host".into())].into(),
                secrets: [("api_key".to_string(), "playground-demo-key".to_string())].into(),
            },
            _ => crate::runner::HostData::default(),
        }
    }

    /// The host functions this sample's imports need, defined as mocks.
    pub fn host_functions(&self) -> Vec<HostFnDef> {
        match self.name {
            "tenant-app" => {
                let mock = include_bytes!("../assets/samples/mock-host.wasm");
                let script = include_str!("../assets/samples/tenant-host.rhai");
                let rhai = || Behaviour::Rhai {
                    script: script.to_string(),
                    file: Some(PathBuf::from("tenant-host.rhai")),
                };
                let mut price = HostFnDef::new("acme:billing", "price_cents", rhai());
                price.result = Some(ArgKind::Num);
                vec![
                    HostFnDef::new(
                        "acme:tenant",
                        "get_user",
                        Behaviour::Wasm(MockSource {
                            file_name: Some("mock-host.wasm".to_string()),
                            sha256: crate::platform::digest::sha256_hex(mock),
                            loaded: Some(std::sync::Arc::new(mock.to_vec())),
                            ..MockSource::default()
                        }),
                    ),
                    HostFnDef::new("acme:tenant", "audit", rhai()),
                    price,
                ]
            }
            _ => Vec::new(),
        }
    }

    /// The options this sample needs to run its examples.
    pub fn options(&self) -> SandboxOptions {
        match self.name {
            "http-demo" => SandboxOptions {
                allowed_hosts: vec!["example.com".to_string()],
                timeout_ms: Some(10_000),
                ..SandboxOptions::default()
            },
            "wasi-demo" => SandboxOptions {
                wasi: true,
                allowed_paths: vec![AllowedPath {
                    host: wasi_demo_dir(),
                    guest: "/data".to_string(),
                    read_only: false,
                }],
                ..SandboxOptions::default()
            },
            // A timeout so `spin` stops by itself; a memory limit so `alloc` can hit it.
            "chaos" => SandboxOptions {
                timeout_ms: Some(2_000),
                memory_max_pages: Some(4096),
                ..SandboxOptions::default()
            },
            _ => SandboxOptions::default(),
        }
    }
}

/// The host directory `wasi-demo` gets as `/data` (created on demand).
pub fn wasi_demo_dir() -> PathBuf {
    let dir = std::env::temp_dir()
        .join("extism-playground")
        .join("wasi-demo-data");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Inspection;

    #[test]
    fn every_example_names_a_callable_export() {
        for sample in SAMPLES {
            let plugin = sample.plugin();
            let inspection = Inspection::of(sample.name, &plugin.main().bytes).unwrap();
            let callable = inspection.callable_functions();
            for function in sample.functions {
                assert!(
                    callable.contains(&function.name),
                    "{}::{}",
                    sample.name,
                    function.name
                );
                if function.mode == InputMode::Json {
                    serde_json::from_str::<serde_json::Value>(function.input).unwrap();
                }
            }
            assert_eq!(
                callable.len(),
                sample.functions.len(),
                "{}: every function has an example",
                sample.name
            );
            assert!(sample.options().validate().is_ok(), "{}", sample.name);
        }
    }
}
