//! The wire between a session and its worker process: frames of a length-prefixed JSON header
//! followed by length-prefixed raw byte blobs: the payload (module bytes, call input, call
//! output) and every byte value of the header (kv entries, host results), so large data is
//! never encoded.

use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::host::HostRegistry;
use super::options::SandboxOptions;
use super::report::CallReport;
use super::session::CallRequest;
use super::source::LoadedPlugin;

/// Largest header accepted; a bigger one means the stream is corrupt.
const MAX_HEADER_BYTES: u32 = 512 * 1024 * 1024;
/// Largest payload accepted (input, output, modules).
pub(crate) const MAX_PAYLOAD_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// A plugin to compile: its manifest's options (the module list empty: the modules' bytes
/// follow in the payload, in order), each module's name and length, WASI, fuel and the host
/// functions it links.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PluginLoad {
    pub manifest: extism::Manifest,
    pub modules: Vec<(Option<String>, u64)>,
    pub wasi: bool,
    pub fuel_limit: Option<u64>,
    pub host: HostRegistry,
}

impl PluginLoad {
    /// `plugin` under `options`, linking `host`.
    pub fn of(plugin: &LoadedPlugin, options: &SandboxOptions, host: &HostRegistry) -> Self {
        let mut manifest = plugin.to_inline_manifest(options);
        manifest.wasm.clear();
        Self {
            manifest,
            modules: plugin
                .modules
                .iter()
                .map(|m| (m.name.clone(), m.bytes.len() as u64))
                .collect(),
            wasi: options.wasi,
            fuel_limit: options.fuel_limit,
            host: host.clone(),
        }
    }
}

/// What to load: the plugin, and the sha256 and length of each mock-host plugin its host
/// functions call (their bytes follow the plugin's modules in the payload). For an xtp-test
/// plugin, also the plugin it drives (whose mock-host plugins are among `mocks`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LoadRequest {
    pub plugin: PluginLoad,
    #[serde(default)]
    pub mocks: Vec<(String, u64)>,
    #[serde(default)]
    pub under_test: Option<Box<UnderTestLoad>>,
    /// The main module's memories (from its inspection): which memory to report figures of.
    #[serde(default)]
    pub memories: Vec<super::inspect::MemoryInfo>,
    /// Compile for speed of compiling (see `SandboxOptions::fast_compile`).
    #[serde(default)]
    pub fast_compile: bool,
    /// Write a coredump when the plugin traps (wasmtime serializes the plugin's whole memory,
    /// which costs as much again): only for sessions whose calls ask for them.
    #[serde(default)]
    pub coredumps: bool,
}

/// The plugin an xtp-test plugin drives through `xtp:test/harness`: loaded like a plugin of its
/// own. Its module bytes follow the mock-host plugins' in the payload, then the mock input's.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UnderTestLoad {
    /// Its name, for messages.
    pub label: String,
    /// The functions it exports that can be called, for messages.
    pub callable: Vec<String>,
    pub plugin: PluginLoad,
    /// The length of the mock input, when one was given.
    pub mock_input: Option<u64>,
}

/// Session → worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    Load(Box<LoadRequest>),
    /// One call (or loop of calls); the input follows as the payload.
    Call(CallRequest),
    /// Stop the call in progress.
    Cancel,
}

/// Worker → session.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    Loaded {
        load_ms: f64,
    },
    LoadFailed {
        message: String,
    },
    /// The instance is ready and the plugin is being called.
    Calling,
    /// How many calls of a loop have finished (sent about ten times a second during a loop).
    Progress {
        calls_done: u64,
    },
    /// The plugin returned (or was stopped); the report follows. Deadlines stop here, so a big
    /// report is never cut short by them.
    Returned,
    /// The call's output follows as the payload. `printed` is the number of the markers around
    /// the call's WASI output, when it may have printed (see `runner::output`).
    Report {
        report: Box<CallReport>,
        printed: Option<u64>,
    },
}

/// Values that travel beside a frame's header as raw bytes rather than inside its JSON: every
/// [`Bytes`](super::host::Bytes) of at least [`MIN_BLOB_BYTES`] in a header (kv entries, host
/// functions' results, fixed values) is written as `{"blob": N}` while a frame is being
/// written, its bytes as blob `N`, and read back from that blob while a frame is being read.
/// So a 90 MB kv value costs 90 MB on the wire and in memory, not an escaped copy in the JSON
/// (smaller values stay inline: a million tiny kv entries are not a million blobs). Outside a
/// frame (files, the command line's JSON) `Bytes` serialize as they always do, and
/// `{"blob": N}` is refused.
mod blobs {
    use std::cell::RefCell;

    thread_local! {
        /// The blobs of the frame being written on this thread.
        static OUTGOING: RefCell<Option<Vec<Vec<u8>>>> = const { RefCell::new(None) };
        /// The blobs of the frame being read on this thread (taken as they are used).
        static INCOMING: RefCell<Option<Vec<Option<Vec<u8>>>>> = const { RefCell::new(None) };
    }

    /// Runs `f` (which serializes a header) collecting the blobs it stashes.
    pub(super) fn collect<T>(f: impl FnOnce() -> T) -> (T, Vec<Vec<u8>>) {
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                OUTGOING.with(|o| o.borrow_mut().take());
            }
        }
        OUTGOING.with(|o| *o.borrow_mut() = Some(Vec::new()));
        let reset = Reset;
        let value = f();
        let blobs = OUTGOING.with(|o| o.borrow_mut().take()).unwrap_or_default();
        drop(reset);
        (value, blobs)
    }

    /// Runs `f` (which deserializes a header) with `blobs` to take from.
    pub(super) fn provide<T>(blobs: Vec<Vec<u8>>, f: impl FnOnce() -> T) -> T {
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                INCOMING.with(|i| i.borrow_mut().take());
            }
        }
        INCOMING.with(|i| *i.borrow_mut() = Some(blobs.into_iter().map(Some).collect()));
        let reset = Reset;
        let value = f();
        drop(reset);
        value
    }

    /// Puts `bytes` beside the frame being written, if one is and they are large enough to be
    /// worth it: its blob number.
    pub(crate) fn stash(bytes: &[u8]) -> Option<u64> {
        if bytes.len() < super::MIN_BLOB_BYTES {
            return None;
        }
        OUTGOING.with(|o| {
            let mut o = o.borrow_mut();
            let blobs = o.as_mut()?;
            blobs.push(bytes.to_vec());
            Some(blobs.len() as u64)
        })
    }

    /// A value names a blob the frame does not carry (or one already taken).
    #[derive(Debug, thiserror::Error)]
    #[error("blob {0} is not in the frame (or used twice)")]
    pub(crate) struct MissingBlob(u64);

    /// Takes blob `index` of the frame being read: `None` when no frame is being read.
    pub(crate) fn take(index: u64) -> Option<Result<Vec<u8>, MissingBlob>> {
        INCOMING.with(|i| {
            let mut i = i.borrow_mut();
            let blobs = i.as_mut()?;
            Some(
                usize::try_from(index)
                    .ok()
                    // Blob 0 is the payload, never a value.
                    .filter(|n| *n > 0)
                    .and_then(|n| blobs.get_mut(n))
                    .and_then(Option::take)
                    .ok_or(MissingBlob(index)),
            )
        })
    }
}

pub(crate) use blobs::{stash, take as take_blob};

/// Why a frame was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    /// Its payload and blobs together are over what a frame carries.
    #[error(
        "{} to send at once, over the {} a frame carries",
        crate::platform::files::size_text(*.bytes),
        crate::platform::files::size_text(MAX_PAYLOAD_BYTES)
    )]
    TooLarge { bytes: u64 },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes one frame: the header (its [`Bytes`](super::host::Bytes) as blobs), then the
/// payload and the blobs. Nothing is written when the frame would be too large to read back.
pub(crate) fn write_frame<T: Serialize>(
    w: &mut impl Write,
    header: &T,
    payload: &[u8],
) -> Result<(), WriteError> {
    let (header, blobs) = blobs::collect(|| serde_json::to_vec(header));
    let header = header.map_err(io::Error::other)?;
    let header_len = u32::try_from(header.len()).map_err(io::Error::other)?;
    let total = blobs
        .iter()
        .map(|b| b.len() as u64)
        .sum::<u64>()
        .saturating_add(payload.len() as u64);
    if total > MAX_PAYLOAD_BYTES
        || header_len > MAX_HEADER_BYTES
        || blobs.len() >= MAX_BLOBS as usize
    {
        return Err(WriteError::TooLarge {
            bytes: total.saturating_add(u64::from(header_len)),
        });
    }
    let count = u32::try_from(blobs.len() + 1).map_err(io::Error::other)?;
    w.write_all(&header_len.to_le_bytes())?;
    w.write_all(&header)?;
    w.write_all(&count.to_le_bytes())?;
    for blob in std::iter::once(payload).chain(blobs.iter().map(Vec::as_slice)) {
        w.write_all(&(blob.len() as u64).to_le_bytes())?;
        w.write_all(blob)?;
    }
    w.flush()?;
    Ok(())
}

/// Most blobs a frame carries (beside its payload).
const MAX_BLOBS: u32 = 1 << 20;
/// The smallest value sent as a blob: smaller ones cost less inline.
const MIN_BLOB_BYTES: usize = 4096;

/// Reads one frame; `None` at a clean end of stream.
pub(crate) fn read_frame<T: DeserializeOwned>(
    r: &mut impl Read,
) -> io::Result<Option<(T, Vec<u8>)>> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut len4 = [0u8; 4];
    match r.read_exact(&mut len4) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let header_len = u32::from_le_bytes(len4);
    if header_len > MAX_HEADER_BYTES {
        return Err(invalid("frame header too large"));
    }
    let mut header = vec![0u8; header_len as usize];
    r.read_exact(&mut header)?;
    r.read_exact(&mut len4)?;
    let count = u32::from_le_bytes(len4);
    if count == 0 || count > MAX_BLOBS {
        return Err(invalid("frame with a bad blob count"));
    }
    let mut total = 0u64;
    let mut blobs = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let mut len8 = [0u8; 8];
        r.read_exact(&mut len8)?;
        let len = u64::from_le_bytes(len8);
        total = total.saturating_add(len);
        if total > MAX_PAYLOAD_BYTES {
            return Err(invalid("frame payload too large"));
        }
        // Exactly the announced size: a 64 MiB output costs 64 MiB here, not a doubling buffer.
        let mut blob = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
        r.read_exact(&mut blob)?;
        blobs.push(blob);
    }
    let payload = std::mem::take(&mut blobs[0]);
    let header = blobs::provide(blobs, || serde_json::from_slice(&header))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(Some((header, payload)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::HostData;

    #[test]
    fn frames_round_trip_with_binary_payload() {
        let mut buf = Vec::new();
        let payload: Vec<u8> = (0..=255).collect();
        write_frame(&mut buf, &ToWorker::Cancel, &payload).unwrap();
        write_frame(&mut buf, &ToWorker::Cancel, &[]).unwrap();
        let mut r = &buf[..];
        let (first, p): (ToWorker, Vec<u8>) = read_frame(&mut r).unwrap().unwrap();
        assert!(matches!(first, ToWorker::Cancel));
        assert_eq!(p, payload);
        let (second, p): (ToWorker, Vec<u8>) = read_frame(&mut r).unwrap().unwrap();
        assert!(matches!(second, ToWorker::Cancel));
        assert!(p.is_empty());
        assert!(read_frame::<ToWorker>(&mut r).unwrap().is_none());
    }

    /// Byte values travel beside the header, as they are: a large binary kv value is not
    /// escaped into the JSON, and comes back byte for byte.
    #[test]
    fn byte_values_travel_as_blobs() {
        use super::super::host::Bytes;
        let big = vec![0u8; 3 * 1024 * 1024];
        let mut data = HostData::default();
        data.kv.insert("big".into(), Bytes(big.clone()));
        data.kv.insert("text".into(), Bytes::from("héllo"));
        data.kv.insert("binary".into(), Bytes(vec![0, 255, 1]));
        let mut buf = Vec::new();
        write_frame(&mut buf, &data, b"input").unwrap();
        // The header is small: the values are not in it.
        let header_len = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
        assert!(header_len < 200, "{header_len}");
        let (back, payload): (HostData, Vec<u8>) = read_frame(&mut &buf[..]).unwrap().unwrap();
        assert_eq!(payload, b"input");
        assert_eq!(back, data);
        // Outside a frame, a blob reference means nothing.
        assert!(serde_json::from_str::<Bytes>(r#"{"blob": 1}"#).is_err());
        assert_eq!(serde_json::to_string(&Bytes::from("x")).unwrap(), r#""x""#);
    }

    #[test]
    fn truncated_frame_is_an_error() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &ToWorker::Cancel, b"abcdef").unwrap();
        buf.truncate(buf.len() - 2);
        assert!(read_frame::<ToWorker>(&mut &buf[..]).is_err());
    }
}
