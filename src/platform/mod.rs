//! The ground floor (see ARCHITECTURE.md): everything that differs between Linux, macOS and
//! Windows, behind one API for all three, so the rest of the app has no `cfg` of its own and
//! macOS runs the unix code Linux tests prove; and the helpers every layer needs (the bounded
//! reader, atomic writes, digests).
//!
//! - [`alloc`]: the allocator, counting the bytes each thread holds (script budgets).
//! - [`process`]: starting helper processes (no console windows on Windows, own process group
//!   for cargo) and killing them with everything they started.
//! - [`dirs`]: the user's home, cache and data folders.
//! - [`files`]: reading what files and flags name (bounded), atomic writes with no leftovers,
//!   private folders (a trap's coredump holds the plugin's memory).
//! - [`console`]: the console window a Windows program is given.
//! - [`digest`]: SHA-256 digests as hex, the names of modules, layers and trusted files.
//! - [`paths`]: paths written on another OS (a Windows drive letter read on Linux, say).
//! - [`job`]: the one shape of a background job (a thread, its stop flag, its waker).
//!
//! The protocol channel to the worker keeps its OS differences to itself (`runner::channel`:
//! a socket pair on unix, a token-checked loopback connection on Windows). The one piece still
//! unix-only is the linear-memory watch (`runner::memory`, which maps memory itself); elsewhere
//! calls say that their memory figures are not measured on this OS ([`MEMORY_FIGURES`]).

pub mod alloc;
pub mod console;
pub mod digest;
pub mod dirs;
pub mod files;
pub mod job;
pub mod paths;
pub mod process;

/// Whether calls report their memory figures here; where they do not, this says why.
pub const MEMORY_FIGURES: Result<(), &str> = if cfg!(unix) {
    Ok(())
} else {
    Err("not measured on this OS yet (the memory watch maps memory the unix way)")
};
