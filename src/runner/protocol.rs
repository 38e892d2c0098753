//! The wire between a session and its worker process: frames of a length-prefixed JSON header
//! followed by a length-prefixed raw payload (module bytes, call input, call output), so large
//! payloads are never encoded.

use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::host::{HostData, HostRegistry};
use super::report::{CallReport, LogLevel};

/// Largest header accepted; a bigger one means the stream is corrupt.
const MAX_HEADER_BYTES: u32 = 512 * 1024 * 1024;
/// Largest payload accepted (input, output, modules).
const MAX_PAYLOAD_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// What to load: the manifest's options (its module list empty), each module's name and
/// length, the host functions to link, and the sha256 and length of each mock-host plugin they
/// call (the module bytes follow as the payload, in order, then the mock-host plugins'). For an
/// xtp-test plugin, also the plugin it drives (whose mock-host plugins are among `mocks`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LoadRequest {
    pub manifest: extism::Manifest,
    pub modules: Vec<(Option<String>, u64)>,
    pub wasi: bool,
    pub fuel_limit: Option<u64>,
    pub host: HostRegistry,
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
}

/// The plugin an xtp-test plugin drives through `xtp:test/harness`: loaded like a plugin of its
/// own (manifest options, modules, WASI, fuel, host functions). Its module bytes follow the
/// mock-host plugins' in the payload, then the mock input's.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UnderTestLoad {
    /// Its name, for messages.
    pub label: String,
    /// The functions it exports that can be called, for messages.
    pub callable: Vec<String>,
    pub manifest: extism::Manifest,
    pub modules: Vec<(Option<String>, u64)>,
    pub wasi: bool,
    pub fuel_limit: Option<u64>,
    pub host: HostRegistry,
    /// The length of the mock input, when one was given.
    pub mock_input: Option<u64>,
}

/// One call (or loop of calls); the input follows as the payload.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CallSpec {
    pub function: String,
    pub host: HostData,
    pub log_level: LogLevel,
    pub fresh_instance: bool,
    pub loops: u32,
    /// Send the coredump of a trap back after the output.
    #[serde(default)]
    pub coredump: bool,
}

/// Session → worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    Load(Box<LoadRequest>),
    Call(CallSpec),
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

/// Writes one frame.
pub(crate) fn write_frame<T: Serialize>(
    w: &mut impl Write,
    header: &T,
    payload: &[u8],
) -> io::Result<()> {
    let header = serde_json::to_vec(header).map_err(io::Error::other)?;
    let header_len = u32::try_from(header.len()).map_err(io::Error::other)?;
    w.write_all(&header_len.to_le_bytes())?;
    w.write_all(&header)?;
    w.write_all(&(payload.len() as u64).to_le_bytes())?;
    w.write_all(payload)?;
    w.flush()
}

/// Reads one frame; `None` at a clean end of stream.
pub(crate) fn read_frame<T: DeserializeOwned>(
    r: &mut impl Read,
) -> io::Result<Option<(T, Vec<u8>)>> {
    let mut len4 = [0u8; 4];
    match r.read_exact(&mut len4) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let header_len = u32::from_le_bytes(len4);
    if header_len > MAX_HEADER_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame header too large",
        ));
    }
    let mut header = vec![0u8; header_len as usize];
    r.read_exact(&mut header)?;
    let mut len8 = [0u8; 8];
    r.read_exact(&mut len8)?;
    let payload_len = u64::from_le_bytes(len8);
    if payload_len > MAX_PAYLOAD_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame payload too large",
        ));
    }
    // Exactly the announced size: a 64 MiB output costs 64 MiB here, not a doubling buffer.
    let mut payload = vec![0u8; usize::try_from(payload_len).map_err(io::Error::other)?];
    r.read_exact(&mut payload)?;
    let header = serde_json::from_slice(&header)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(Some((header, payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn truncated_frame_is_an_error() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &ToWorker::Cancel, b"abcdef").unwrap();
        buf.truncate(buf.len() - 2);
        assert!(read_frame::<ToWorker>(&mut &buf[..]).is_err());
    }
}
