//! Which layer of an OCI manifest is the plugin, and its module bytes. Three layouts are read:
//! the CNCF Wasm artifact (config `application/vnd.wasm.config.v0+json`, one
//! `application/wasm` layer), the older `application/vnd.wasm.content.layer.v1+wasm` layer
//! (whatever the config), and a container image whose single layer is a tar (gzipped or not)
//! holding one `.wasm` file. Anything else is refused with the media types it has.

use std::fmt::Write as _;
use std::io::Read as _;

use oci_client::manifest::OciImageManifest;

/// The config media type of a CNCF Wasm artifact.
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
/// The layer media type of a CNCF Wasm artifact.
pub const WASM_LAYER: &str = "application/wasm";
/// The layer media type of the older Wasm-to-OCI layout.
pub const WASM_CONTENT_LAYER: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// Layer media types of container images (tar, maybe gzipped).
const IMAGE_LAYERS: [&str; 4] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
];

/// How the plugin is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The layer is the module (CNCF Wasm artifact, or the older content layer).
    Module,
    /// The layer is a tar (maybe gzipped) holding the module.
    ImageTar,
}

/// The layer that holds the plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    pub index: usize,
    pub layout: Layout,
}

/// What an artifact holds when it holds no plugin: its config's and layers' media types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAPlugin {
    pub config: String,
    pub layers: Vec<String>,
    /// Why these media types do not make a plugin.
    pub why: &'static str,
}

/// Picks the layer holding the plugin.
pub fn choose(manifest: &OciImageManifest) -> Result<Chosen, NotAPlugin> {
    let types: Vec<&str> = manifest
        .layers
        .iter()
        .map(|l| l.media_type.as_str())
        .collect();
    let refuse = |why| NotAPlugin {
        config: manifest.config.media_type.clone(),
        layers: types.iter().map(ToString::to_string).collect(),
        why,
    };
    let of = |wanted: &str| {
        types
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == wanted)
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
    };
    // A Wasm layer, whatever the config says (oras pushes files with an empty config).
    for wanted in [WASM_LAYER, WASM_CONTENT_LAYER] {
        match of(wanted).as_slice() {
            [] => {}
            [index] => {
                return Ok(Chosen {
                    index: *index,
                    layout: Layout::Module,
                });
            }
            _ => {
                return Err(refuse(
                    "it has several Wasm layers, and a plugin is one module",
                ));
            }
        }
    }
    match types.as_slice() {
        [only] if IMAGE_LAYERS.contains(only) => Ok(Chosen {
            index: 0,
            layout: Layout::ImageTar,
        }),
        [] => Err(refuse("it has no layers")),
        _ if types.iter().all(|t| IMAGE_LAYERS.contains(t)) => Err(refuse(
            "it is a container image of several layers; only a single-layer image holding one .wasm file is read",
        )),
        _ => Err(refuse("none of its layers is a Wasm module")),
    }
}

/// Why a layer's bytes are not a module.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("its image layer is not a readable tar archive ({0})")]
    NotATar(String),
    #[error("its image layer holds no .wasm file{}", listing(.0))]
    NoWasm(Vec<String>),
    #[error("its image layer holds several .wasm files ({}); push the one plugin as a Wasm artifact", .0.join(", "))]
    SeveralWasm(Vec<String>),
    #[error(
        "its image layer's {name} is {size} bytes, over the limit of {limit}; allow more with --max-layer-size BYTES if you expect a plugin that large"
    )]
    TooLarge { name: String, size: u64, limit: u64 },
    #[error(
        "its image layer unpacks to more than {limit} bytes; allow more with --max-layer-size BYTES if you expect a plugin that large"
    )]
    Unpacks { limit: u64 },
}

fn listing(files: &[String]) -> String {
    const SHOWN: usize = 8;
    if files.is_empty() {
        return " (it is empty)".to_string();
    }
    let more = files.len().saturating_sub(SHOWN);
    let mut shown = files
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        let _ = write!(shown, " and {more} more");
    }
    format!(" (it has {shown})")
}

/// The module inside a layer of layout `layout`; a module inside a tar may be at most `limit`
/// bytes (a small gzip can unpack to far more than it weighs).
pub fn extract(layer: Vec<u8>, layout: Layout, limit: u64) -> Result<Vec<u8>, ExtractError> {
    match layout {
        Layout::Module => Ok(layer),
        Layout::ImageTar => {
            let gzipped = layer.starts_with(&[0x1f, 0x8b]);
            let reader: Box<dyn std::io::Read> = if gzipped {
                Box::new(flate2::read::GzDecoder::new(layer.as_slice()))
            } else {
                Box::new(layer.as_slice())
            };
            module_in_tar(reader, limit)
        }
    }
}

/// A reader that fails once more than `left` bytes have come through: an archive may unpack to
/// far more than it weighs, and nothing past the limit is worth reading.
struct Capped<R> {
    inner: R,
    left: u64,
}

/// The error [`Capped`] ends with.
#[derive(Debug)]
struct OverLimit;

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the archive unpacks to more than the size limit")
    }
}

impl std::error::Error for OverLimit {}

impl<R: std::io::Read> std::io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // Only an error if there is more to come.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(OverLimit)),
            };
        }
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn module_in_tar(reader: impl std::io::Read, limit: u64) -> Result<Vec<u8>, ExtractError> {
    let bad = |e: std::io::Error| {
        if e.get_ref()
            .and_then(|inner| inner.downcast_ref::<OverLimit>())
            .is_some()
        {
            ExtractError::Unpacks { limit }
        } else {
            ExtractError::NotATar(e.to_string())
        }
    };
    let mut archive = tar::Archive::new(Capped {
        inner: reader,
        left: limit,
    });
    let mut files = Vec::new();
    let mut module: Option<Vec<u8>> = None;
    let mut modules = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(bad)?.display().to_string();
        if name.to_ascii_lowercase().ends_with(".wasm") {
            modules.push(name.clone());
            // Only the first is read: a second makes the layer ambiguous anyway.
            if module.is_none() {
                let size = entry.size();
                if size > limit {
                    return Err(ExtractError::TooLarge { name, size, limit });
                }
                let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                entry.take(limit).read_to_end(&mut bytes).map_err(bad)?;
                module = Some(bytes);
            }
        }
        files.push(name);
    }
    match (module, modules.len()) {
        (Some(bytes), 1) => Ok(bytes),
        (Some(_), _) => Err(ExtractError::SeveralWasm(modules)),
        (None, _) => Err(ExtractError::NoWasm(files)),
    }
}

/// A tar of `files` (name, bytes), gzipped when asked: what a single-layer image carrying a
/// plugin looks like (for tests and benches).
pub fn tar_layer(files: &[(&str, &[u8])], gzip: bool) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, *bytes)
            .expect("writing a tar to memory cannot fail");
    }
    let tar = builder
        .into_inner()
        .expect("writing a tar to memory cannot fail");
    if !gzip {
        return tar;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &tar).expect("gzip to memory cannot fail");
    encoder.finish().expect("gzip to memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_client::manifest::OciDescriptor;

    fn manifest(config: &str, layers: &[&str]) -> OciImageManifest {
        OciImageManifest {
            config: OciDescriptor {
                media_type: config.to_string(),
                ..OciDescriptor::default()
            },
            layers: layers
                .iter()
                .map(|t| OciDescriptor {
                    media_type: (*t).to_string(),
                    ..OciDescriptor::default()
                })
                .collect(),
            ..OciImageManifest::default()
        }
    }

    #[test]
    fn the_three_layouts() {
        let module = |index| {
            Ok(Chosen {
                index,
                layout: Layout::Module,
            })
        };
        assert_eq!(choose(&manifest(WASM_CONFIG, &[WASM_LAYER])), module(0));
        assert_eq!(
            choose(&manifest(
                "application/vnd.unknown.config.v1+json",
                &[WASM_CONTENT_LAYER]
            )),
            module(0)
        );
        assert_eq!(
            choose(&manifest(
                "application/vnd.oci.empty.v1+json",
                &["text/plain", WASM_LAYER]
            )),
            module(1)
        );
        assert_eq!(
            choose(&manifest(
                "application/vnd.oci.image.config.v1+json",
                &["application/vnd.oci.image.layer.v1.tar+gzip"]
            )),
            Ok(Chosen {
                index: 0,
                layout: Layout::ImageTar
            })
        );
    }

    #[test]
    fn anything_else_lists_its_media_types() {
        for (config, layers, why) in [
            (
                "application/vnd.oci.image.config.v1+json",
                vec!["text/plain"],
                "none of its layers",
            ),
            (WASM_CONFIG, vec![], "no layers"),
            (
                WASM_CONFIG,
                vec![WASM_LAYER, WASM_LAYER],
                "several Wasm layers",
            ),
            (
                "application/vnd.oci.image.config.v1+json",
                vec![
                    "application/vnd.oci.image.layer.v1.tar",
                    "application/vnd.oci.image.layer.v1.tar",
                ],
                "several layers",
            ),
        ] {
            let e = choose(&manifest(config, &layers)).expect_err(why);
            assert_eq!(e.config, config);
            assert_eq!(e.layers, layers);
            assert!(e.why.contains(why), "{}", e.why);
        }
    }

    #[test]
    fn a_module_comes_out_of_an_image_layer() {
        let wasm = b"\0asm\x01\0\0\0".as_slice();
        for gzip in [false, true] {
            let layer = tar_layer(&[("etc/readme.txt", b"hi"), ("plugin.wasm", wasm)], gzip);
            assert_eq!(
                extract(layer.clone(), Layout::ImageTar, 1 << 20).unwrap(),
                wasm
            );
            // Too small for the archive itself.
            assert!(matches!(
                extract(layer, Layout::ImageTar, 4),
                Err(ExtractError::Unpacks { limit: 4 })
            ));
            // A module over the limit is refused from its header, before its bytes are read.
            let mut big = b"\0asm\x01\0\0\0".to_vec();
            big.resize(4096, 0);
            let layer = tar_layer(&[("etc/readme.txt", b"hi"), ("plugin.wasm", &big)], gzip);
            assert!(matches!(
                extract(layer, Layout::ImageTar, 3072),
                Err(ExtractError::TooLarge {
                    size: 4096,
                    limit: 3072,
                    ..
                })
            ));
        }
        let none = tar_layer(&[("a.txt", b"a")], true);
        assert_eq!(
            extract(none, Layout::ImageTar, 1 << 20)
                .unwrap_err()
                .to_string(),
            "its image layer holds no .wasm file (it has a.txt)"
        );
        // A small gzip that unpacks to far more than the limit stops at the limit.
        let zeros = vec![0u8; 8 << 20];
        let bomb = tar_layer(&[("padding.bin", &zeros), ("plugin.wasm", wasm)], true);
        assert!(bomb.len() < 64 << 10, "{}", bomb.len());
        assert!(matches!(
            extract(bomb, Layout::ImageTar, 1 << 20),
            Err(ExtractError::Unpacks { limit: 1_048_576 })
        ));
        let two = tar_layer(&[("a.wasm", wasm), ("b.wasm", wasm)], false);
        assert!(
            matches!(extract(two, Layout::ImageTar, 1 << 20), Err(ExtractError::SeveralWasm(v)) if v.len() == 2)
        );
        assert!(matches!(
            extract(b"\x1f\x8bnot gzip".to_vec(), Layout::ImageTar, 1 << 20),
            Err(ExtractError::NotATar(_))
        ));
    }
}
