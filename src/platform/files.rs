//! Files, read and written the one way the app allows:
//!
//! - **Reading what a file or flag names** ([`read`], [`read_text`]): regular files only (a
//!   device, FIFO, socket or folder is refused before it is opened, and again by the handle
//!   that was opened, so a swap in between is caught), each [`FileKind`] with a size limit the
//!   error states, and never more than that limit read, however the file grows meanwhile. On
//!   unix the file is opened non-blocking, so even a FIFO swapped in cannot hang the reader.
//! - **Writing a whole file** ([`write_atomically`]): into an exclusive temporary file beside
//!   it (created new, never through a link, with an unpredictable name), then renamed over it.
//!   A save killed midway leaves its temporary file listed in the app's data folder, and the
//!   next start removes it ([`remove_leftovers`]).
//! - **Private files** ([`PrivateDir`]): a folder only its owner may enter, made new with an
//!   unpredictable name in the temporary folder, for what others must not read (a trap's
//!   coredump carries the plugin's memory, and so any secret it was given). On Windows the
//!   user's temporary folder (`%LOCALAPPDATA%\Temp`) already grants the user, SYSTEM and
//!   Administrators only.

use std::fs::File;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};

/// What a file is read as: each kind has its own size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A plugin: a .wasm module, or a manifest, session or bundle (which may embed modules).
    Plugin,
    /// A session or bundle read as one (by `replay`).
    Bundle,
    /// A call's input.
    Input,
    /// A test suite (TOML).
    Suite,
    /// A Rhai script of a host function.
    Script,
    /// A `--host-fns` file of host function definitions.
    Definitions,
    /// A mock-host plugin.
    MockHost,
    /// A source file a trap's frame points at.
    Source,
    /// The app's own files: the trusted files, the registry cache's records, docker's config.
    AppData,
    /// A trap's coredump (as large as the plugin's memory).
    Coredump,
    /// The window's saved state (the inputs of every plugin it remembers).
    WindowState,
}

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

impl FileKind {
    /// The largest file of this kind read.
    pub const fn limit_bytes(self) -> u64 {
        match self {
            Self::Plugin | Self::Bundle | Self::Input => GIB,
            Self::Definitions | Self::MockHost | Self::WindowState => 256 * MIB,
            Self::Suite | Self::Script | Self::Source | Self::AppData => 16 * MIB,
            Self::Coredump => 5 * GIB,
        }
    }

    /// What files of this kind are called, in the plural (errors say "plugins are limited to").
    pub const fn plural(self) -> &'static str {
        match self {
            Self::Plugin => "plugins",
            Self::Bundle => "bundles",
            Self::Input => "input files",
            Self::Suite => "suite files",
            Self::Script => "Rhai scripts",
            Self::Definitions => "host function definitions",
            Self::MockHost => "mock-host plugins",
            Self::Source => "source files shown",
            Self::AppData => "the app's own files",
            Self::Coredump => "coredumps",
            Self::WindowState => "saved window states",
        }
    }

    /// What a file of this kind is called before its path where that helps ("the bundle").
    const fn article(self) -> &'static str {
        match self {
            Self::Bundle => "the bundle ",
            Self::Input => "the input file ",
            Self::Script => "the Rhai script ",
            Self::Suite => "the suite ",
            Self::Plugin
            | Self::Definitions
            | Self::MockHost
            | Self::Source
            | Self::AppData
            | Self::Coredump
            | Self::WindowState => "",
        }
    }
}

/// Why a file named by a file or flag was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(
        "{} is not a regular file but {what}; {} are read only from regular files",
        .path.display(),
        .kind.plural()
    )]
    NotRegular {
        path: PathBuf,
        kind: FileKind,
        what: &'static str,
    },
    #[error(
        "{} is {}; {} are limited to {}",
        .path.display(),
        size_text(*.size),
        .kind.plural(),
        size_text(.kind.limit_bytes())
    )]
    TooLarge {
        path: PathBuf,
        kind: FileKind,
        size: u64,
    },
    #[error("{} is not UTF-8 text; {} are UTF-8 text", .path.display(), .kind.plural())]
    NotText { path: PathBuf, kind: FileKind },
    #[error("cannot read {}{}: {cause}", .kind.article(), .path.display())]
    Io {
        path: PathBuf,
        kind: FileKind,
        cause: std::io::Error,
    },
}

impl ReadError {
    /// The file that was not read.
    pub fn path(&self) -> &Path {
        match self {
            Self::NotRegular { path, .. }
            | Self::TooLarge { path, .. }
            | Self::NotText { path, .. }
            | Self::Io { path, .. } => path,
        }
    }

    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A size for people: `100 bytes`, `12 KiB`, `3.1 GiB`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    #[expect(clippy::cast_precision_loss, reason = "one decimal is shown")]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0} {}", UNITS[unit])
    } else {
        format!("{rounded:.1} {}", UNITS[unit])
    }
}

/// What a file that is not a regular file is, for errors.
fn file_type_text(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a device or pipe"
}

/// Fails unless `meta` is a regular file within `kind`'s limit.
fn check(path: &Path, kind: FileKind, meta: &std::fs::Metadata) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind,
            what: file_type_text(meta),
        });
    }
    if meta.len() > kind.limit_bytes() {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            kind,
            size: meta.len(),
        });
    }
    Ok(())
}

/// Opens `path` for reading without waiting on it (unix: `O_NONBLOCK`, and no controlling
/// terminal): what is opened is checked before a byte is read.
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY;
        options.custom_flags(flags.bits().cast_signed());
    }
    options.open(path)
}

/// Reads the file at `path` as a `kind`: a regular file of at most its limit (see the module
/// documentation). Runs on the caller's thread: the window calls it from background jobs only.
pub fn read(path: &Path, kind: FileKind) -> Result<Vec<u8>, ReadError> {
    let io = |cause| ReadError::Io {
        path: path.to_path_buf(),
        kind,
        cause,
    };
    check(path, kind, &std::fs::metadata(path).map_err(io)?)?;
    let file = open_for_reading(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    check(path, kind, &meta)?;
    let limit = kind.limit_bytes();
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    (&file)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        // It grew while it was read.
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            kind,
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Reads `reader` to its end, or `None` as soon as it gives more than `limit` bytes: never
/// more than `limit + 1` bytes are held (the buffer grows to at most that, not to the next
/// power of two), so an endless stream (a pipe, `/dev/zero`) costs the limit at most.
pub fn read_to_limit(reader: impl Read, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut reader = reader.take(limit.saturating_add(1));
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if bytes.capacity() - bytes.len() < n {
            let grown = bytes.capacity().saturating_mul(2).max(1 << 20);
            bytes.reserve_exact(grown.min(cap).max(bytes.len() + n) - bytes.len());
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// [`read`], as UTF-8 text.
pub fn read_text(path: &Path, kind: FileKind) -> Result<String, ReadError> {
    String::from_utf8(read(path, kind)?).map_err(|_| ReadError::NotText {
        path: path.to_path_buf(),
        kind,
    })
}

/// How temporary files and folders of this app end their names; only names like this are
/// ever removed as leftovers.
const TEMP_SUFFIX: &str = ".extism-playground-tmp";
/// The folder of the app's data folder that lists temporary files being written.
const PENDING: &str = "pending-writes";
/// How old an empty listing must be to count as left behind.
const LISTING_GRACE: std::time::Duration = std::time::Duration::from_hours(1);

/// 96 random bits, as lowercase hex: what makes a temporary name unpredictable.
fn random_name() -> String {
    use std::fmt::Write as _;
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness from the OS: still unique in this process and this instant.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let unique = nanos ^ u128::from(std::process::id()) << 64;
        bytes.copy_from_slice(&unique.to_le_bytes()[..12]);
    }
    bytes.iter().fold(String::with_capacity(24), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A temporary path listed in the data folder while it may exist: if the process dies before
/// the listing is dropped, the next start removes the path. The listing is locked by its
/// process, so a start never removes what a live process is writing.
#[derive(Debug)]
struct Listed {
    entry: Option<(PathBuf, File)>,
}

impl Listed {
    fn new(temporary: &Path) -> Self {
        let entry = super::dirs::app_data().and_then(|data| {
            let dir = data.join(PENDING);
            std::fs::create_dir_all(&dir).ok()?;
            let entry = dir.join(random_name());
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&entry)
                .ok()?;
            file.lock().ok()?;
            let absolute = std::path::absolute(temporary).ok()?;
            file.write_all(absolute.as_os_str().as_encoded_bytes())
                .ok()?;
            Some((entry, file))
        });
        Self { entry }
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        if let Some((entry, file)) = self.entry.take() {
            // Unlocked first (Windows cannot remove a file that is open): a start that finds
            // it in between removes a temporary path that is gone already.
            drop(file);
            let _ = std::fs::remove_file(entry);
        }
    }
}

/// Removes what saves and sessions of processes that died left behind: each listed temporary
/// file or folder whose process is gone (its listing no longer locked), when its name is one
/// this app gives. Quick when there is nothing to do; the window and the command line call it
/// as they start.
pub fn remove_leftovers() {
    let Some(dir) = super::dirs::app_data().map(|d| d.join(PENDING)) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(mut file) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        else {
            continue;
        };
        if file.try_lock().is_err() {
            // Its process is still writing.
            continue;
        }
        let mut listed = Vec::new();
        if (&mut file)
            .take(64 * 1024)
            .read_to_end(&mut listed)
            .is_err()
        {
            continue;
        }
        if listed.is_empty() {
            // A listing is made, then locked, then written: an empty one may be a save
            // starting right now. Only an old one is a leftover.
            let old = file
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > LISTING_GRACE));
            if !old {
                continue;
            }
        } else if let Some(leftover) = leftover_path(&listed) {
            remove_leftover(&leftover);
        }
        drop(file);
        let _ = std::fs::remove_file(&path);
    }
}

/// The path a listing names, if it is one of this app's temporary names.
fn leftover_path(listed: &[u8]) -> Option<PathBuf> {
    let text = std::str::from_utf8(listed).ok()?;
    let path = PathBuf::from(text);
    let name = path.file_name()?.to_str()?;
    (path.is_absolute() && name.ends_with(TEMP_SUFFIX)).then_some(path)
}

fn remove_leftover(path: &Path) {
    // Never through a link: only a file or folder of that name itself.
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {
            let _ = std::fs::remove_file(path);
        }
        Ok(meta) if meta.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        _ => {}
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, then renames it over `path`: a
/// failed write never destroys an existing file, and a reader never sees half of one. The
/// temporary file is created new (`O_EXCL`: never through a link planted there) with an
/// unpredictable name, and listed until it is renamed (see [`remove_leftovers`]). A file that
/// was there keeps its permissions; a new one gets a new file's (`0666` less the umask on
/// unix).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_through_temporary(path, bytes, false, false)
}

/// [`write_atomically`], with the new bytes on the disk before they replace the old: for the
/// window's state, saved as the user works, which must survive the machine stopping too.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_through_temporary(path, bytes, false, true)
}

/// [`write_atomically`] for what others must not read (a coredump holds the plugin's
/// memory): a new file is readable by its owner only (`0600` on unix).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_through_temporary(path, bytes, true, false)
}

/// The longest part of a file's name a temporary name repeats (names stay under the usual
/// 255-byte limit).
const MAX_NAME_IN_TEMPORARY: usize = 96;

fn write_through_temporary(
    path: &Path,
    bytes: &[u8],
    private: bool,
    durable: bool,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let name = &name[..name.floor_char_boundary(MAX_NAME_IN_TEMPORARY)];
    let temporary = dir.join(format!(".{name}.{}{TEMP_SUFFIX}", random_name()));
    let listed = Listed::new(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let written = options.open(&temporary).and_then(|mut file| {
        #[cfg(unix)]
        if let Ok(existing) = std::fs::metadata(path) {
            file.set_permissions(existing.permissions())?;
        }
        file.write_all(bytes)?;
        if durable {
            file.sync_all()?;
        }
        drop(file);
        std::fs::rename(&temporary, path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    drop(listed);
    written
}

/// The null device opened for reading: what a stdin that must read nothing is pointed at.
#[cfg(unix)]
pub fn null_device() -> std::io::Result<File> {
    File::open("/dev/null")
}

/// Empties the file at `path` in place (it keeps its mode), if it is there.
pub fn empty(path: &Path) {
    if let Ok(file) = std::fs::OpenOptions::new().write(true).open(path) {
        let _ = file.set_len(0);
    }
}

/// A folder only its owner may enter (`0700` on unix), made new in the temporary folder with
/// an unpredictable name, listed until it is removed (on drop) so a process that dies leaves
/// nothing for long (see [`remove_leftovers`]).
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
    /// Held for its drop, after the folder's removal (fields drop after `Drop::drop`).
    _listed: Listed,
}

impl PrivateDir {
    /// Makes the folder, named `extism-playground-{purpose}-…`.
    pub fn new(purpose: &str) -> std::io::Result<Self> {
        let base = std::env::temp_dir();
        #[cfg(unix)]
        let builder = {
            let mut builder = std::fs::DirBuilder::new();
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
        };
        #[cfg(not(unix))]
        let builder = std::fs::DirBuilder::new();
        // mkdir is exclusive: a name someone planted (even a link) fails, and another is tried.
        let mut last = None;
        for _ in 0..8 {
            let path = base.join(format!(
                "extism-playground-{purpose}-{}{TEMP_SUFFIX}",
                random_name()
            ));
            let listed = Listed::new(&path);
            match builder.create(&path) {
                Ok(()) => {
                    return Ok(Self {
                        path,
                        _listed: listed,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the file `name` in the folder, new and readable by its owner only (`0600`).
    pub fn create_file(&self, name: &str) -> std::io::Result<PathBuf> {
        let path = self.path.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&path)?;
        Ok(path)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(100), "100 bytes");
        assert_eq!(size_text(12 * 1024), "12 KiB");
        assert_eq!(size_text(GIB), "1 GiB");
        assert_eq!(size_text(3_328_599_654), "3.1 GiB");
        assert_eq!(size_text(256 * MIB), "256 MiB");
    }

    #[test]
    fn regular_files_are_read_within_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("suite.toml");
        std::fs::write(&small, b"[plugin]").unwrap();
        assert_eq!(read(&small, FileKind::Suite).unwrap(), b"[plugin]");
        assert_eq!(read_text(&small, FileKind::Suite).unwrap(), "[plugin]");

        let big = dir.path().join("big.toml");
        let file = File::create(&big).unwrap();
        file.set_len(FileKind::Suite.limit_bytes() + 1).unwrap();
        let error = read(&big, FileKind::Suite).unwrap_err();
        assert!(
            matches!(error, ReadError::TooLarge { size, .. } if size == 16 * MIB + 1),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "{} is 16 MiB; suite files are limited to 16 MiB",
                big.display()
            )
        );

        let binary = dir.path().join("bin.rhai");
        std::fs::write(&binary, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_text(&binary, FileKind::Script),
            Err(ReadError::NotText { .. })
        ));
        let missing = read(&dir.path().join("nope.wasm"), FileKind::Plugin).unwrap_err();
        assert!(missing.is_not_found(), "{missing}");
        assert!(missing.to_string().starts_with("cannot read "), "{missing}");
    }

    #[test]
    fn streams_are_read_to_a_limit() {
        assert_eq!(
            read_to_limit(&b"twelve bytes"[..], 12).unwrap(),
            Some(b"twelve bytes".to_vec())
        );
        assert_eq!(read_to_limit(&b"twelve bytes"[..], 11).unwrap(), None);
        // An endless stream ends at the limit.
        assert_eq!(read_to_limit(std::io::repeat(7), 3 << 20).unwrap(), None);
    }

    #[test]
    fn folders_and_devices_are_refused_unopened() {
        let dir = tempfile::tempdir().unwrap();
        let error = read(dir.path(), FileKind::Plugin).unwrap_err();
        assert!(
            matches!(
                error,
                ReadError::NotRegular {
                    what: "a folder",
                    ..
                }
            ),
            "{error}"
        );
        #[cfg(unix)]
        {
            let error = read(Path::new("/dev/zero"), FileKind::Plugin).unwrap_err();
            assert_eq!(
                error.to_string(),
                "/dev/zero is not a regular file but a character device; plugins are read \
                 only from regular files"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_file_keeps_its_permissions_and_a_private_one_is_the_owners() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let kept = dir.path().join("kept.json");
        std::fs::write(&kept, b"old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&kept, b"new").unwrap();
        assert_eq!(mode(&kept), 0o640);
        let private = dir.path().join("trap.coredump");
        write_private(&private, b"memory").unwrap();
        assert_eq!(mode(&private), 0o600);
        // A name longer than a temporary name can repeat still saves.
        let long = dir.path().join(format!("{}.json", "n".repeat(240)));
        write_atomically(&long, b"x").unwrap();
        assert_eq!(std::fs::read(&long).unwrap(), b"x");
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        std::fs::write(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.json"]);
        // A folder that cannot hold it: the error, and nothing left.
        let error = write_atomically(&dir.path().join("missing/out.json"), b"x").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn private_folders_are_the_owners_alone_and_go_when_dropped() {
        let dir = PrivateDir::new("test").unwrap();
        let file = dir.create_file("x.coredump").unwrap();
        assert!(file.is_file());
        // Created new: a second time fails rather than opening what is there.
        assert_eq!(
            dir.create_file("x.coredump").unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(dir.path()), 0o700);
            assert_eq!(mode(&file), 0o600);
        }
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn only_the_apps_own_temporary_names_are_leftovers() {
        let ok = format!("/tmp/.a.json.0123{TEMP_SUFFIX}");
        assert_eq!(leftover_path(ok.as_bytes()), Some(PathBuf::from(&ok)));
        assert_eq!(leftover_path(b"/home/user/.bashrc"), None);
        assert_eq!(
            leftover_path(format!("relative{TEMP_SUFFIX}").as_bytes()),
            None
        );
    }
}
