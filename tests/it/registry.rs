//! Plugins from OCI registries, against a real registry server (Debian's `docker-registry`,
//! the CNCF distribution server) on 127.0.0.1: push with `push`, pull with `call`, `inspect`,
//! manifests, suites and bundles; tags that move, digest pins, the cache offline, basic auth
//! (flags, docker's config file, a credential helper), the other artifact layouts, and what
//! each failure says. Without `docker-registry` these tests say they were skipped (and fail
//! where `EXTISM_PLAYGROUND_NO_SKIP` is set, as in CI).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use crate::common::registry::Registry;
use crate::common::{assert_exit, sample, stderr, stdout};
use extism_playground::registry::{self, Blob, Cache, Reference, Settings, layout};

/// The binary with an isolated cache and docker config, and these args.
fn run(cache: &Path, docker: &Path, args: &[&str], stdin: &[u8]) -> Output {
    common::run_with(
        common::bin()
            .env(registry::cache::CACHE_DIR_ENV, cache)
            .env("DOCKER_CONFIG", docker)
            .args(args),
        stdin,
    )
}

/// The digest of the hello sample's bytes: its layer's, pushed as a Wasm artifact.
fn hello_layer() -> String {
    let wasm = std::fs::read(sample("hello")).unwrap();
    format!(
        "sha256:{}",
        extism_playground::platform::digest::sha256_hex(&wasm)
    )
}

/// A test's own cache and (empty) docker config.
struct Env {
    cache: tempfile::TempDir,
    docker: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            cache: tempfile::tempdir().unwrap(),
            docker: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        run(self.cache.path(), self.docker.path(), args, b"")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        run(self.cache.path(), self.docker.path(), args, stdin)
    }

    /// `push FILE REFERENCE`; the reference pinned to its digest.
    #[track_caller]
    fn push(&self, file: &Path, reference: &str) -> String {
        let out = self.run(&["push", &file.display().to_string(), reference]);
        assert!(out.status.success(), "push failed: {}", stderr(&out));
        stdout(&out).trim().to_string()
    }

    /// The blobs the cache holds.
    fn cached(&self) -> usize {
        Cache::at(self.cache.path()).usage().0
    }
}

fn digest_of(pinned: &str) -> &str {
    pinned.split_once('@').expect("a pinned reference").1
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

#[track_caller]
fn fails_with(out: &Output, code: i32, says: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    for s in says {
        assert!(err.contains(s), "expected {s:?} in: {err}");
    }
    err
}

#[test]
fn a_pushed_plugin_is_called_by_tag_and_by_digest() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    let reference = reg.reference("tenant/hello:1.0");
    let pinned = env.push(&sample("hello"), &reference);
    assert!(
        pinned.starts_with(&format!("{reference}@sha256:")),
        "{pinned}"
    );

    let out = env.run(&["call", &reference, "greet", "-i", "Ada"]);
    assert_eq!(ok(&out), "Hello, Ada!");
    let err = stderr(&out);
    assert!(err.contains(&pinned), "the pin is reported: {err}");

    // By digest, and with --json carrying the pin.
    let out = env.run(&["call", &pinned, "greet", "-i", "Bo", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(json["output"], "Hello, Bo!");
    assert_eq!(json["registry"]["digest"], digest_of(&pinned));
    assert_eq!(json["registry"]["media_type"], "application/wasm");
    assert_eq!(json["registry"]["layer"], hello_layer());

    // The manifest is a CNCF Wasm artifact.
    let reference: Reference = reference.parse().unwrap();
    let url = format!(
        "http://{}/v2/{}/manifests/1.0",
        reg.host, reference.repository
    );
    let body = ureq::get(&url)
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(manifest["config"]["mediaType"], layout::WASM_CONFIG);
    assert_eq!(manifest["layers"][0]["mediaType"], layout::WASM_LAYER);
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
}

#[test]
fn plugins_written_by_others_round_trip() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    // TinyGo (WASI), C with a host function, and a 1.9 MB js-pdk build.
    let go = env.push(
        &common::fixture("go-xtp-max-transform"),
        &reg.reference("others/go-transform:v1"),
    );
    let out = env.run(&[
        "call",
        &go,
        "transform",
        "--wasi",
        "-i",
        r#"{"key":"k","value":{"date":"2024-01-02T00:00:00Z","price":10.5,"volume":3}}"#,
    ]);
    assert!(ok(&out).contains(r#""price":10.5"#), "{}", stdout(&out));

    let c = env.push(
        &common::fixture("c-count-vowels-hostfn"),
        &reg.reference("others/c-vowels:v1"),
    );
    let out = env.run(&[
        "call",
        &c,
        "count_vowels",
        "--wasi",
        "--host-fn",
        "hello_world=template:{0}",
        "-i",
        "Hello, world!",
    ]);
    assert_eq!(ok(&out), r#"{"count": 3}"#);

    let js = env.push(
        &common::fixture("js-xtp-fruit"),
        &reg.reference("others/js-fruit:v1"),
    );
    let out = env.run(&["inspect", &js, "--json"]);
    let inspection: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let exports: Vec<&str> = inspection["exports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(exports.contains(&"referenceTypes"), "{exports:?}");
}

#[test]
fn a_moved_tag_gives_the_new_plugin_and_a_digest_keeps_the_old() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    let tag = reg.reference("tenant/plugin:stable");
    let first = env.push(&sample("hello"), &tag);
    assert_eq!(
        ok(&env.run(&["call", &tag, "greet", "-i", "x"])),
        "Hello, x!"
    );
    let second = env.push(&sample("counter"), &tag);
    assert_ne!(digest_of(&first), digest_of(&second));
    // The tag moved: it now gives the counter.
    assert_eq!(ok(&env.run(&["call", &tag, "increment"])), r#"{"count":1}"#);
    // The first digest still gives hello (from the cache or the registry alike).
    assert_eq!(
        ok(&env.run(&["call", &first, "greet", "-i", "y"])),
        "Hello, y!"
    );
    let settings = Settings {
        cache: Cache::at(env.cache.path()),
        ..Settings::default()
    };
    let tag: Reference = tag.parse().unwrap();
    assert_eq!(
        registry::resolve(&tag, &settings).unwrap(),
        digest_of(&second),
        "Check for newer sees where the tag points now"
    );
}

#[test]
fn a_cached_digest_opens_offline_and_a_tag_falls_back_to_its_last_digest() {
    let Some(mut reg) = Registry::start() else {
        return;
    };
    let env = Env::new();
    let tag = reg.reference("tenant/offline:1");
    let pinned = env.push(&sample("hello"), &tag);
    ok(&env.run(&["call", &tag, "greet", "-i", "a"]));
    assert_eq!(env.cached(), 2, "the manifest and the layer are cached");
    reg.stop();

    let out = env.run(&["call", &pinned, "greet", "-i", "offline"]);
    assert_eq!(ok(&out), "Hello, offline!");
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));

    let out = env.run(&["call", &tag, "greet", "-i", "by tag"]);
    assert_eq!(ok(&out), "Hello, by tag!");
    assert!(
        stderr(&out).contains("could not be reached") && stderr(&out).contains(digest_of(&pinned)),
        "{}",
        stderr(&out)
    );

    // A tag never pulled here has nothing to fall back to.
    let other = reg.reference("tenant/never:1");
    fails_with(
        &env.run(&["call", &other, "greet"]),
        2,
        &[
            "cannot reach the registry",
            "check that the registry is running",
        ],
    );
}

#[test]
fn basic_auth_from_flags_docker_config_and_a_credential_helper() {
    let Some(reg) = Registry::start_with_login("alice", "s3cret") else {
        return;
    };
    let env = Env::new();
    let tag = reg.reference("private/hello:1");
    // Anonymous: refused, saying what was tried and what to do.
    let out = env.run(&["push", &sample("hello").display().to_string(), &tag]);
    fails_with(
        &out,
        2,
        &["refused", "401", "tried no credentials", "--registry-user"],
    );
    // Wrong password from stdin.
    let out = env.run_with_stdin(
        &[
            "push",
            &sample("hello").display().to_string(),
            &tag,
            "--registry-user",
            "alice",
            "--registry-password-stdin",
        ],
        b"wrong\n",
    );
    fails_with(&out, 2, &["refused", "user alice (given for this run)"]);
    // Right password from stdin.
    let out = env.run_with_stdin(
        &[
            "push",
            &sample("hello").display().to_string(),
            &tag,
            "--registry-user",
            "alice",
            "--registry-password-stdin",
        ],
        b"s3cret\n",
    );
    let pinned = ok(&out).trim().to_string();
    fails_with(&env.run(&["call", &tag, "greet"]), 2, &["refused", "401"]);

    // docker's config file: auths.
    let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alice:s3cret");
    std::fs::write(
        env.docker.path().join("config.json"),
        serde_json::json!({"auths": {reg.host.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    assert_eq!(
        ok(&env.run(&["call", &tag, "greet", "-i", "d"])),
        "Hello, d!"
    );

    // A credential helper named by credHelpers (a fresh cache, so the pull must authenticate).
    let helper_dir = tempfile::tempdir().unwrap();
    let helper = helper_dir.path().join("docker-credential-playgroundtest");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}' \"$server\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        env.docker.path().join("config.json"),
        serde_json::json!({"credHelpers": {reg.host.clone(): "playgroundtest"}}).to_string(),
    )
    .unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        helper_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = common::bin()
        .env(registry::cache::CACHE_DIR_ENV, fresh.path())
        .env("DOCKER_CONFIG", env.docker.path())
        .env("PATH", path)
        .args(["call", &pinned, "greet", "-i", "h"])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "Hello, h!");
}

#[test]
fn a_digest_mismatch_is_refused_and_nothing_is_cached() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    let pinned = env.push(&sample("hello"), &reg.reference("tenant/corrupt:1"));
    // Damage the layer in the registry's own storage (same length, one byte changed).
    let layer = hello_layer();
    let file = reg.blob_file(&layer);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();

    let out = env.run(&["call", &pinned, "greet"]);
    let err = fails_with(&out, 2, &["sha256", &layer, "nothing was cached or run"]);
    assert!(!err.contains("Hello"), "{err}");
    assert_eq!(env.cached(), 0, "nothing is cached: {err}");
}

#[test]
fn missing_tags_digests_and_repositories_are_named() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    env.push(&sample("hello"), &reg.reference("tenant/named:1.0"));
    env.push(&sample("hello"), &reg.reference("tenant/named:1.1"));
    fails_with(
        &env.run(&["call", &reg.reference("tenant/named:2.0"), "greet"]),
        2,
        &["has no tag \"2.0\"", "its tags are 1.0, 1.1"],
    );
    let absent = format!("sha256:{}", "0".repeat(64));
    fails_with(
        &env.run(&[
            "call",
            &reg.reference(&format!("tenant/named@{absent}")),
            "greet",
        ]),
        2,
        &["has no manifest with the digest", &absent],
    );
    fails_with(
        &env.run(&["call", &reg.reference("nobody/here:1"), "greet"]),
        2,
        &["has no repository nobody/here"],
    );
    fails_with(
        &env.run(&["call", "oci://127.0.0.1:1/Bad:tag", "greet"]),
        2,
        &["is not a registry reference", "lowercase"],
    );
    fails_with(
        &env.run(&[
            "push",
            &sample("hello").display().to_string(),
            &reg.reference("tenant/x@sha256:abc"),
        ]),
        2,
        &["sha256 digest"],
    );
}

#[test]
fn an_xtp_test_plugin_runs_against_a_pulled_plugin() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    let pinned = env.push(&sample("hello"), &reg.reference("tenant/xtp:1"));
    let out = env.run(&[
        "test",
        "--xtp",
        &sample("xtp-hello-test").display().to_string(),
        &pinned,
    ]);
    let text = ok(&out);
    assert!(
        text.contains("(xtp:1)"),
        "named after the pulled plugin: {text}"
    );
    assert!(
        text.contains("test result: ok. 9 passed; 0 failed"),
        "{text}"
    );
}

fn settings_for(env: &Env) -> Settings {
    Settings {
        cache: Cache::at(env.cache.path()),
        ..Settings::default()
    }
}

#[test]
fn the_older_wasm_layer_and_single_layer_images_are_read_and_others_refused() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    let settings = settings_for(&env);
    let wasm = std::fs::read(sample("hello")).unwrap();
    let push = |path: &str, layers: Vec<Blob>, config: &str| {
        let reference: Reference = reg.reference(path).parse().unwrap();
        registry::push_artifact(
            &reference,
            &layers,
            &Blob {
                bytes: b"{}".to_vec(),
                media_type: config.to_string(),
            },
            &settings,
            BTreeMap::new(),
        )
        .unwrap()
        .reference
    };
    let old = push(
        "layouts/old:1",
        vec![Blob {
            bytes: wasm.clone(),
            media_type: layout::WASM_CONTENT_LAYER.to_string(),
        }],
        "application/vnd.unknown.config.v1+json",
    );
    assert_eq!(
        ok(&env.run(&["call", &old, "greet", "-i", "o"])),
        "Hello, o!"
    );

    let image = push(
        "layouts/image:1",
        vec![Blob {
            bytes: layout::tar_layer(&[("README", b"hi"), ("app/plugin.wasm", &wasm)], true),
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".to_string(),
        }],
        "application/vnd.oci.image.config.v1+json",
    );
    assert_eq!(
        ok(&env.run(&["call", &image, "greet", "-i", "i"])),
        "Hello, i!"
    );

    let text = push(
        "layouts/text:1",
        vec![Blob {
            bytes: b"not a plugin".to_vec(),
            media_type: "text/plain".to_string(),
        }],
        "application/vnd.oci.image.config.v1+json",
    );
    fails_with(
        &env.run(&["call", &text, "greet"]),
        2,
        &[
            "is not a Wasm plugin",
            "config application/vnd.oci.image.config.v1+json",
            "layers: text/plain",
        ],
    );
}

#[test]
fn a_layer_missing_from_the_registry_is_named() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    let pinned = env.push(&sample("hello"), &reg.reference("tenant/halfgone:1"));
    let layer = hello_layer();
    std::fs::remove_file(reg.blob_file(&layer)).unwrap();
    fails_with(
        &env.run(&["call", &pinned, "greet"]),
        2,
        &["lists the layer", &layer, "push the plugin again"],
    );
}

#[test]
fn an_unknown_host_is_named() {
    let env = Env::new();
    fails_with(
        &env.run(&[
            "call",
            "oci://no-such-registry.invalid/tenant/plugin:1",
            "greet",
            "--registry-timeout",
            "5",
        ]),
        2,
        &[
            "cannot find the registry host no-such-registry.invalid",
            "check the spelling",
        ],
    );
}

#[test]
fn an_index_is_followed_to_its_wasm_entry_and_pinned_by_its_own_digest() {
    let Some(mut reg) = Registry::start() else {
        return;
    };
    let env = Env::new();
    let child = env.push(&sample("hello"), &reg.reference("tenant/multi:child"));
    let child_digest = digest_of(&child).to_string();
    let manifest_url = format!(
        "http://{}/v2/tenant/multi/manifests/{child_digest}",
        reg.host
    );
    let size = ureq::get(&manifest_url)
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap()
        .len();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": child_digest,
             "size": size, "platform": {"architecture": "wasm", "os": "wasip1"}}
        ]
    })
    .to_string();
    let index_digest = format!(
        "sha256:{}",
        extism_playground::platform::digest::sha256_hex(index.as_bytes())
    );
    ureq::put(format!("http://{}/v2/tenant/multi/manifests/idx", reg.host))
        .header("Content-Type", "application/vnd.oci.image.index.v1+json")
        .send(index.as_bytes())
        .unwrap();

    let tag = reg.reference("tenant/multi:idx");
    let out = env.run(&["call", &tag, "greet", "-i", "i", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(json["output"], "Hello, i!");
    assert_eq!(
        json["registry"]["digest"], index_digest,
        "the digest the tag points at"
    );
    let settings = settings_for(&env);
    assert_eq!(
        registry::resolve(&tag.parse().unwrap(), &settings).unwrap(),
        index_digest,
        "so Check for newer compares like with like"
    );
    reg.stop();
    let pinned = format!("{tag}@{index_digest}");
    assert_eq!(
        ok(&env.run(&["call", &pinned, "greet", "-i", "offline"])),
        "Hello, offline!",
        "the index and its entry are cached"
    );
}

#[test]
fn a_layer_over_the_size_limit_is_not_downloaded() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    let pinned = env.push(&sample("hello"), &reg.reference("tenant/big:1"));
    fails_with(
        &env.run(&["call", &pinned, "greet", "--max-layer-size", "1000"]),
        2,
        &["over the limit of 1000", "--max-layer-size"],
    );
    assert_eq!(env.cached(), 0);
}

#[test]
fn a_silent_registry_times_out() {
    // No registry needed: a server that accepts every connection and never answers.
    let host = common::serve_nothing();
    let env = Env::new();
    let started = std::time::Instant::now();
    fails_with(
        &env.run(&[
            "call",
            &format!("oci://{host}/tenant/slow:1"),
            "greet",
            "--registry-timeout",
            "1",
        ]),
        2,
        &["did not answer within 1 s", "--registry-timeout"],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn bundles_pin_the_digest_and_replay_without_the_registry() {
    let Some(mut reg) = Registry::start() else {
        return;
    };
    let env = Env::new();
    let tag = reg.reference("tenant/bundled:1");
    let pinned = env.push(&sample("hello"), &tag);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("case.bundle.json");
    let out = env.run(&[
        "call",
        &tag,
        "greet",
        "-i",
        "Ada",
        "--save-bundle",
        &bundle.display().to_string(),
    ]);
    ok(&out);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(json["version"], 4);
    assert_eq!(json["registry"][0]["reference"], tag);
    assert_eq!(json["registry"][0]["digest"], digest_of(&pinned));
    assert!(
        json["manifest"]["wasm"][0]["data"].is_string(),
        "the bytes are embedded"
    );

    // The tag moves and the registry goes away: the bundle replays the same plugin.
    env.push(&sample("counter"), &tag);
    reg.stop();
    let empty_cache = tempfile::tempdir().unwrap();
    let out = run(
        empty_cache.path(),
        env.docker.path(),
        &["replay", &bundle.display().to_string()],
        b"",
    );
    ok(&out);

    // Opened, the plugin still says where it came from.
    let opened = extism_playground::cli::open_file(
        &bundle,
        &extism_playground::cli::ConsentArgs::default(),
        &Settings::default(),
    )
    .unwrap();
    let pin = opened.plugin.registry_pin().expect("the pin is restored");
    assert_eq!(pin.digest, digest_of(&pinned));
    assert_eq!(opened.plugin.display_name, "bundled:1");
}

#[test]
fn manifests_and_suites_name_registry_references() {
    let Some(reg) = Registry::start() else { return };
    let env = Env::new();
    let pinned = env.push(&sample("hello"), &reg.reference("tenant/suite:1"));
    let dir = tempfile::tempdir().unwrap();
    let wasm = std::fs::read(sample("hello")).unwrap();
    let manifest = dir.path().join("plugin.json");
    std::fs::write(
        &manifest,
        serde_json::json!({
            "wasm": [{"url": pinned, "hash": extism_playground::platform::digest::sha256_hex(&wasm)}],
            "config": {"vowels": "aeiou"}
        })
        .to_string(),
    )
    .unwrap();
    // A pull a file names is a grant: asked about first, then allowed with --trust.
    let call = |flags: &[&str]| {
        let mut args = vec![
            "call".to_string(),
            manifest.display().to_string(),
            "count_vowels".to_string(),
            "-i".to_string(),
            "aaa".to_string(),
        ];
        args.extend(flags.iter().map(ToString::to_string));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.run(&args)
    };
    fails_with(
        &call(&[]),
        2,
        &[&format!("pull a module from the registry {}", reg.host)],
    );
    assert!(ok(&call(&["--trust"])).contains('3'));

    let suite = dir.path().join("hello.toml");
    std::fs::write(
        &suite,
        format!(
            "[plugin]\nwasm = \"{pinned}\"\n\n[[test]]\nname = \"greets\"\n  [[test.step]]\n  call = \"greet\"\n  input = \"Ada\"\n  expect_output = \"Hello, Ada!\"\n"
        ),
    )
    .unwrap();
    let out = env.run(&["test", &suite.display().to_string()]);
    assert_exit(&out, 2);
    let out = env.run(&["test", &suite.display().to_string(), "--trust"]);
    assert!(ok(&out).contains("1 passed"), "{}", stdout(&out));
}

mod window_model {
    //! The workbench's side: open from a registry, Check for newer, Stop, and a restart that
    //! opens the pinned digest from the cache.

    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::common::model::{poll_until, said, settle};
    use extism_playground::app::words;
    use extism_playground::registry::RegistryError;
    use extism_playground::runner::LoadError;
    use extism_playground::workbench::notice::OpeningStage;
    use extism_playground::workbench::registry::NewerCheck;
    use extism_playground::workbench::{
        Command, Notice, OpenError, PluginRef, PluginSlot, Workbench, WorkbenchState,
    };

    fn workbench(state: WorkbenchState, env: &Env) -> Workbench {
        Workbench::new(state, common::worker(), Arc::new(|| {}))
            .with_trust_store(common::trust_store())
            .with_registry_cache(Cache::at(env.cache.path()))
    }

    fn open(wb: &mut Workbench, reference: &str) {
        wb.apply(Command::OpenFromRegistry {
            reference: reference.to_string(),
            login: None,
            plain_http: None,
        });
        poll_until(wb, "the pull", |wb| !wb.is_pulling());
    }

    /// The registry's answer when the last open failed on it.
    fn registry_error(wb: &Workbench) -> Option<&RegistryError> {
        match wb.status()? {
            Notice::OpenFailed { error, .. } => match &**error {
                OpenError::Load(LoadError::Registry(e)) => Some(e),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn open_check_for_newer_and_restart_offline() {
        let Some(mut reg) = Registry::start() else {
            return;
        };
        let env = Env::new();
        let tag = reg.reference("tenant/window:1.4");
        let first = env.push(&sample("hello"), &tag);
        let mut wb = workbench(WorkbenchState::default(), &env);
        open(&mut wb, &tag);
        let session = wb.session().expect("the plugin is open").clone();
        assert_eq!(session.plugin().display_name, "window:1.4");
        let pin = session.plugin().registry_pin().expect("pinned").clone();
        assert_eq!(pin.digest, digest_of(&first));
        assert_eq!(wb.state().plugin, PluginRef::Registry(first.clone()));
        assert_eq!(wb.state().recent_references, vec![tag.clone()]);

        wb.apply(Command::CheckForNewer);
        poll_until(&mut wb, "the check", |wb| {
            matches!(wb.newer(), Some(NewerCheck::Done(_)))
        });
        let Some(NewerCheck::Done(verdict)) = wb.newer() else {
            unreachable!()
        };
        assert_eq!(verdict.moved(), Some(false), "{}", words::newer(verdict));

        let second = env.push(&sample("counter"), &tag);
        wb.apply(Command::CheckForNewer);
        poll_until(&mut wb, "the second check", |wb| {
            matches!(wb.newer(), Some(NewerCheck::Done(_)))
        });
        let Some(NewerCheck::Done(verdict)) = wb.newer() else {
            unreachable!()
        };
        assert_eq!(verdict.moved(), Some(true));
        assert!(
            words::newer(verdict).contains(digest_of(&second)),
            "{}",
            words::newer(verdict)
        );
        assert!(
            matches!(wb.status(), Some(Notice::NewerChecked(v)) if v.moved() == Some(true)),
            "{}",
            said(&wb)
        );

        // A restart reopens the digest pulled, from the cache, with the registry gone.
        let state = wb.state().clone();
        drop(wb);
        reg.stop();
        let mut wb = workbench(state, &env);
        wb.restore();
        settle(&mut wb);
        poll_until(&mut wb, "the restore", |wb| !wb.is_pulling());
        let session = wb.session().expect("restored").clone();
        assert_eq!(
            session.plugin().registry_pin().unwrap().digest,
            digest_of(&first),
            "the digest that was open, not the tag's new one"
        );
    }

    #[test]
    fn stop_cancels_a_pull_and_keeps_the_plugin_open() {
        // A registry that never answers: the pull waits until Stop.
        let host = common::serve_nothing();
        let env = Env::new();
        let mut wb = workbench(WorkbenchState::default(), &env);
        wb.apply(Command::Open(
            extism_playground::workbench::Source::sample("hello").unwrap(),
        ));
        settle(&mut wb);
        assert!(wb.session().is_some());
        wb.apply(Command::OpenFromRegistry {
            reference: format!("oci://{host}/tenant/slow:1"),
            login: None,
            plain_http: None,
        });
        assert!(wb.is_pulling());
        assert!(
            matches!(
                wb.status(),
                Some(Notice::Opening {
                    stage: OpeningStage::Pulling,
                    ..
                })
            ),
            "{}",
            said(&wb)
        );
        std::thread::sleep(Duration::from_millis(100));
        wb.apply(Command::Stop);
        poll_until(&mut wb, "the stop", |wb| !wb.is_pulling());
        assert!(matches!(wb.plugin(), PluginSlot::Ready(_)));
        assert_eq!(wb.session().unwrap().plugin().display_name, "hello.wasm");
        assert!(
            matches!(registry_error(&wb), Some(RegistryError::Cancelled { .. })),
            "{}",
            said(&wb)
        );
    }

    #[test]
    fn sessions_name_the_pinned_reference_and_bundles_embed_the_pull() {
        let Some(mut reg) = Registry::start() else {
            return;
        };
        let env = Env::new();
        let tag = reg.reference("tenant/saved:2");
        let pinned = env.push(&sample("hello"), &tag);
        let mut wb = workbench(WorkbenchState::default(), &env);
        open(&mut wb, &tag);
        let dir = tempfile::tempdir().unwrap();
        let session = dir.path().join("case.session.json");
        let bundle = dir.path().join("case.bundle.json");
        wb.apply(Command::SaveSession {
            path: session.clone(),
            embed: false,
        });
        wb.apply(Command::SaveSession {
            path: bundle.clone(),
            embed: true,
        });
        let read = |p: &std::path::Path| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
        };
        let wasm = std::fs::read(sample("hello")).unwrap();
        let saved = read(&session);
        assert_eq!(saved["manifest"]["wasm"][0]["url"], pinned);
        assert_eq!(
            saved["manifest"]["wasm"][0]["hash"],
            extism_playground::platform::digest::sha256_hex(&wasm)
        );
        assert_eq!(saved["registry"][0]["digest"], digest_of(&pinned));
        let saved = read(&bundle);
        assert!(saved["manifest"]["wasm"][0]["data"].is_string());
        assert_eq!(saved["registry"][0]["reference"], tag);

        // The session reopens from the cache with the registry gone, pulling through the
        // window's transfer (so its progress shows and Stop works).
        reg.stop();
        wb.apply(Command::Open(extism_playground::workbench::Source::Path(
            session,
        )));
        // Read in the background, then pulled (with the registry gone, from the cache).
        poll_until(&mut wb, "the pull to start", |wb| {
            wb.is_pulling() || !matches!(wb.plugin(), PluginSlot::Opening(_))
        });
        assert!(wb.is_pulling(), "{}", said(&wb));
        poll_until(&mut wb, "the session", |wb| !wb.is_pulling());
        let plugin = wb.session().expect("the session opened").plugin().clone();
        assert_eq!(plugin.registry_pin().unwrap().digest, digest_of(&pinned));
    }

    #[test]
    fn a_window_login_is_kept_for_its_registry_until_forgotten() {
        let Some(reg) = Registry::start_with_login("alice", "s3cret") else {
            return;
        };
        let env = Env::new();
        let tag = reg.reference("private/window:1");
        let login = Settings {
            logins: vec![registry::Login {
                registries: vec![reg.host.clone()],
                user: "alice".into(),
                password: "s3cret".into(),
            }],
            ..settings_for(&env)
        };
        let wasm = std::fs::read(sample("hello")).unwrap();
        registry::push(
            &wasm,
            registry::ModuleOs::Wasm,
            &tag.parse().unwrap(),
            &login,
            BTreeMap::new(),
        )
        .unwrap();

        let mut wb = workbench(WorkbenchState::default(), &env);
        open(&mut wb, &tag);
        assert!(wb.session().is_none(), "refused without a login");
        assert!(
            matches!(registry_error(&wb), Some(RegistryError::Denied { tried, .. }) if tried.contains("no credentials")),
            "{}",
            said(&wb)
        );
        wb.apply(Command::OpenFromRegistry {
            reference: tag.clone(),
            login: Some(registry::Login {
                registries: Vec::new(),
                user: "alice".into(),
                password: "s3cret".into(),
            }),
            plain_http: None,
        });
        poll_until(&mut wb, "the pull", |wb| !wb.is_pulling());
        assert!(wb.session().is_some(), "{}", said(&wb));
        assert_eq!(wb.registry_login_user(&reg.host), Some("alice"));
        assert_eq!(wb.registry_login_user("other.example:5000"), None);
        wb.apply(Command::ForgetRegistryLogin(reg.host.clone()));
        assert_eq!(wb.registry_login_user(&reg.host), None);
        // Forgotten means not sent: the tag is refused again.
        open(&mut wb, &tag);
        assert!(
            matches!(registry_error(&wb), Some(RegistryError::Denied { .. })),
            "{}",
            said(&wb)
        );
    }

    #[test]
    fn a_bad_reference_says_how_to_write_one() {
        let env = Env::new();
        let mut wb = workbench(WorkbenchState::default(), &env);
        wb.apply(Command::OpenFromRegistry {
            reference: "registry.example.com/team/plugin".to_string(),
            login: None,
            plain_http: None,
        });
        assert!(!wb.is_pulling());
        assert!(
            matches!(wb.status(), Some(Notice::BadReference(_))),
            "{}",
            said(&wb)
        );
        // What was typed comes back to the dialog, to be corrected.
        assert_eq!(
            wb.registry_attempt(),
            Some("registry.example.com/team/plugin")
        );
    }
}
