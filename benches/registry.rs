//! Plugins from a registry, side by side with what the extism SDK does for the same bytes: a
//! pull of an uncached 2 MiB plugin from a local registry (manifest, layer, sha256 checks,
//! written to the cache) against one HTTP GET of the same layer (what a manifest's URL module
//! costs the SDK: extism downloads it with ureq); and an open of a digest already cached (no
//! network) against reading the same module from a file (what `Wasm::file` costs the SDK).
//!
//! Needs Debian's `docker-registry` (the CNCF distribution registry); says it was skipped
//! without it. Run with `cargo bench --bench registry`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use extism_playground::registry::{self, Cache, Reference, Settings, Transfer};
use extism_playground::runner::LoadedPlugin;

/// A module of `size` bytes: the hello sample with a custom section of padding.
fn plugin_of(size: usize) -> Vec<u8> {
    let path = format!("{}/assets/samples/hello.wasm", env!("CARGO_MANIFEST_DIR"));
    let mut wasm = std::fs::read(path).expect("the hello sample");
    let name = b"bench-padding";
    let header = 1 + 5 + 1 + name.len();
    let payload = size.saturating_sub(wasm.len() + header);
    let mut section = vec![u8::try_from(name.len()).unwrap()];
    section.extend_from_slice(name);
    section.extend(std::iter::repeat_n(0xa5u8, payload));
    wasm.push(0); // a custom section
    // The section's length as a 5-byte LEB128, so the header size is known up front.
    let mut len = u32::try_from(section.len()).unwrap();
    for i in 0..5 {
        let byte = u8::try_from(len & 0x7f).unwrap();
        len >>= 7;
        wasm.push(if i < 4 { byte | 0x80 } else { byte });
    }
    wasm.extend(section);
    wasm
}

// The tests' registry fixture: Debian's docker-registry on 127.0.0.1, temporary storage.
#[path = "../tests/it/common/registry.rs"]
#[allow(dead_code, reason = "the bench uses part of the tests' fixture")]
mod fixture;

/// What the fixture asks before it starts a registry: a bench without one says it was skipped.
fn require(part: &str, available: bool, install: &str) -> bool {
    if !available {
        println!("registry: skipped ({part} is not installed; install it with: {install})");
    }
    available
}

fn main() {
    let Some(server) = fixture::Registry::start() else {
        return;
    };
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(8));
    let wasm = plugin_of(2 << 20);
    let cache_dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        cache: Cache::at(cache_dir.path()),
        ..Settings::default()
    };
    let tag: Reference = format!("oci://{}/bench/plugin:2mib", server.host)
        .parse()
        .unwrap();
    let pushed = registry::push(
        &wasm,
        registry::ModuleOs::Wasm,
        &tag,
        &settings,
        BTreeMap::new(),
    )
    .expect("push");
    let pinned: Reference = pushed.reference.parse().unwrap();
    let blob_url = format!(
        "http://{}/v2/bench/plugin/blobs/{}",
        server.host, pushed.layer
    );
    let file = cache_dir.path().join("plugin.wasm");
    std::fs::write(&file, &wasm).unwrap();

    let mut group = c.benchmark_group("registry, 2 MiB plugin");
    group.throughput(Throughput::Bytes(wasm.len() as u64));
    group.bench_function(
        "pull uncached: playground (manifest, layer, checks, cache)",
        |b| {
            b.iter_batched(
                || tempfile::tempdir().unwrap(),
                |fresh| {
                    let settings = Settings {
                        cache: Cache::at(fresh.path()),
                        ..Settings::default()
                    };
                    let pulled = registry::pull(&pinned, &settings, &Transfer::default()).unwrap();
                    assert!(!pulled.from_cache);
                    black_box(pulled.module.len());
                    fresh
                },
                criterion::BatchSize::PerIteration,
            );
        },
    );
    group.bench_function(
        "pull uncached: one HTTP GET of the layer (SDK URL module)",
        |b| {
            b.iter(|| {
                let bytes = ureq::get(&blob_url)
                    .call()
                    .unwrap()
                    .body_mut()
                    .with_config()
                    .limit(64 << 20)
                    .read_to_vec()
                    .unwrap();
                black_box(bytes.len());
            });
        },
    );
    group.bench_function(
        "resolve the tag: playground (runtime, client, one HEAD)",
        |b| {
            b.iter(|| black_box(registry::resolve(&tag, &settings).unwrap()));
        },
    );
    // Warm the cache once.
    registry::pull(&pinned, &settings, &Transfer::default()).unwrap();
    group.bench_function("open cached digest: playground (no network)", |b| {
        b.iter(|| {
            let pulled = registry::pull(&pinned, &settings, &Transfer::default()).unwrap();
            assert!(pulled.from_cache);
            black_box(LoadedPlugin::from_pulled(pulled).unwrap());
        });
    });
    group.bench_function("open the same module from a file (SDK Wasm::file)", |b| {
        b.iter(|| black_box(LoadedPlugin::from_path(&file).unwrap()));
    });
    group.finish();
    c.final_summary();
}
