//! Linear memories the worker makes for wasmtime, so a call's memory is read from the instance
//! itself: extism 1.30 keeps its store private and installs its own resource limiter, but it
//! passes our `wasmtime::Config` through, and a `MemoryCreator` set there allocates every linear
//! memory of the plugin's instances. Each memory reports its size to a [`Gauge`] as it grows;
//! the [`MemoryWatch`] knows which gauge is the main module's memory.
//!
//! Allowed `unsafe` (with `platform::alloc` and the Windows part of `platform::console`; see
//! ARCHITECTURE.md): the memory is a virtual-memory reservation made
//! with `mmap`, as wasmtime's own allocator makes it (the reservation plus an unmapped guard
//! region, so wasmtime's elided bounds checks stay sound), and opened page by page with
//! `mprotect` as it grows. Unix only; elsewhere no creator is installed and calls report no
//! memory figures (`platform::MEMORY_FIGURES` says why, and the window shows it).

#![allow(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::inspect::MemoryInfo;
use super::report::MemoryFigures;

/// Bytes in a wasm page.
const WASM_PAGE: usize = 64 * 1024;

/// The size of one linear memory, as it grows.
#[derive(Debug)]
pub(crate) struct Gauge {
    /// The size when it was created.
    created: usize,
    bytes: AtomicUsize,
    /// The largest size since the last [`MemoryWatch::begin_call`].
    peak: AtomicUsize,
}

#[cfg_attr(
    not(unix),
    allow(dead_code, reason = "made and fed by the unix memory creator only")
)]
impl Gauge {
    fn new(bytes: usize) -> Self {
        Self {
            created: bytes,
            bytes: AtomicUsize::new(bytes),
            peak: AtomicUsize::new(bytes),
        }
    }

    fn set(&self, bytes: usize) {
        self.bytes.store(bytes, Ordering::SeqCst);
        self.peak.fetch_max(bytes, Ordering::SeqCst);
    }
}

/// The wasm type of the main module's own memory: memories of this type that are created are
/// the main module's (the extism kernel's memory, which may have the same type, is created
/// earlier, when extism links an instance; the main module's when it instantiates it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(unix),
    allow(dead_code, reason = "compared by the unix memory creator only")
)]
struct MainType {
    min_pages: u64,
    max_pages: Option<u64>,
}

#[derive(Debug, Default)]
struct WatchState {
    #[cfg_attr(
        not(unix),
        allow(dead_code, reason = "read by the unix memory creator only")
    )]
    main: Option<MainType>,
    /// The main module's memory in the current instance, once created.
    current: Mutex<Option<Arc<Gauge>>>,
    /// Its size when the call in progress began, if it existed then.
    before: AtomicUsize,
    had_before: std::sync::atomic::AtomicBool,
}

/// Which memory is the main module's, and its figures around a call.
#[derive(Clone, Debug, Default)]
pub(crate) struct MemoryWatch {
    state: Arc<WatchState>,
}

impl MemoryWatch {
    /// A watch for a plugin whose main module defines `memories` (from its inspection); a
    /// module whose memory is imported has none of its own to watch.
    pub(crate) fn new(memories: &[MemoryInfo]) -> Self {
        let main = memories.iter().find(|m| !m.imported).map(|m| MainType {
            min_pages: m.initial_pages,
            max_pages: m.max_pages,
        });
        Self {
            state: Arc::new(WatchState {
                main,
                ..WatchState::default()
            }),
        }
    }

    /// The creator to set in the plugin's `wasmtime::Config`; `None` where this platform has
    /// none (the plugin then runs on wasmtime's own memories, unwatched).
    #[cfg_attr(
        unix,
        expect(clippy::unnecessary_wraps, reason = "other platforms have none")
    )]
    pub(crate) fn creator(&self) -> Option<Arc<dyn wasmtime::MemoryCreator>> {
        #[cfg(unix)]
        {
            Some(Arc::new(Creator {
                state: Arc::clone(&self.state),
            }))
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    fn current(&self) -> Option<Arc<Gauge>> {
        self.state
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A new instance is being made: its main memory does not exist until extism instantiates
    /// the main module in the first call.
    pub(crate) fn forget(&self) {
        *self
            .state
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Marks the start of a call: its initial size, and the peak counted from here.
    pub(crate) fn begin_call(&self) {
        match self.current() {
            Some(gauge) => {
                let bytes = gauge.bytes.load(Ordering::SeqCst);
                gauge.peak.store(bytes, Ordering::SeqCst);
                self.state.before.store(bytes, Ordering::SeqCst);
                self.state.had_before.store(true, Ordering::SeqCst);
            }
            None => self.state.had_before.store(false, Ordering::SeqCst),
        }
    }

    /// The figures of the call since [`Self::begin_call`]; `None` when the main memory was
    /// never created (the call failed before instantiating) or is not watched.
    pub(crate) fn end_call(&self) -> Option<MemoryFigures> {
        let gauge = self.current()?;
        let initial = if self.state.had_before.load(Ordering::SeqCst) {
            self.state.before.load(Ordering::SeqCst)
        } else {
            gauge.created
        };
        let pages = |bytes: usize| bytes.div_ceil(WASM_PAGE) as u64;
        Some(MemoryFigures {
            initial_pages: pages(initial),
            peak_pages: pages(gauge.peak.load(Ordering::SeqCst)),
            final_pages: pages(gauge.bytes.load(Ordering::SeqCst)),
        })
    }
}

#[cfg(unix)]
struct Creator {
    state: Arc<WatchState>,
}

// SAFETY: every memory this creator returns is a fresh anonymous mapping owned by one `Mapped`:
// zero-filled, `reserved_size_in_bytes` (when given) reserved so it never moves, followed by
// `guard_size_in_bytes` that stay inaccessible, as the trait requires.
#[cfg(unix)]
unsafe impl wasmtime::MemoryCreator for Creator {
    fn new_memory(
        &self,
        ty: wasmtime::MemoryType,
        minimum: usize,
        maximum: Option<usize>,
        reserved_size_in_bytes: Option<usize>,
        guard_size_in_bytes: usize,
    ) -> Result<Box<dyn wasmtime::LinearMemory>, String> {
        let gauge = Arc::new(Gauge::new(minimum));
        let memory = mapped::Mapped::new(
            minimum,
            maximum,
            reserved_size_in_bytes,
            guard_size_in_bytes,
            Arc::clone(&gauge),
        )
        .map_err(|e| format!("cannot reserve the plugin's linear memory: {e}"))?;
        let this_type = MainType {
            min_pages: ty.minimum(),
            max_pages: ty.maximum(),
        };
        if !ty.is_shared() && self.state.main == Some(this_type) {
            *self
                .state
                .current
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(gauge);
        }
        Ok(Box::new(memory))
    }
}

#[cfg(unix)]
mod mapped {
    use std::ffi::c_void;
    use std::ptr::NonNull;
    use std::sync::Arc;

    use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};

    use super::Gauge;

    /// One linear memory: `mapping` bytes of address space from `base`, of which the first
    /// `accessible` are readable and writable; the rest (at least the guard) stays unmapped.
    pub(super) struct Mapped {
        base: NonNull<u8>,
        mapping: usize,
        /// Bytes the memory may grow to without moving.
        reservation: usize,
        guard: usize,
        /// Whether wasmtime relies on the base never moving (it gave a reservation).
        fixed: bool,
        accessible: usize,
        size: usize,
        maximum: Option<usize>,
        gauge: Arc<Gauge>,
    }

    // SAFETY: `Mapped` owns its mapping exclusively; the raw pointer is only an address, and
    // wasmtime synchronizes access to a memory's contents.
    unsafe impl Send for Mapped {}
    // SAFETY: as above; `&Mapped` gives out nothing but the address and sizes.
    unsafe impl Sync for Mapped {}

    fn page_round(bytes: usize) -> Option<usize> {
        let page = rustix::param::page_size();
        bytes.checked_next_multiple_of(page)
    }

    /// Reserves `len` bytes of address space, inaccessible.
    fn reserve(len: usize) -> std::io::Result<NonNull<u8>> {
        // SAFETY: a new anonymous mapping at an address the kernel picks aliases nothing.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                len,
                ProtFlags::empty(),
                MapFlags::PRIVATE,
            )
        }?;
        NonNull::new(ptr.cast::<u8>()).ok_or_else(|| std::io::Error::other("mmap returned null"))
    }

    impl Mapped {
        pub(super) fn new(
            minimum: usize,
            maximum: Option<usize>,
            reserved: Option<usize>,
            guard: usize,
            gauge: Arc<Gauge>,
        ) -> std::io::Result<Self> {
            let too_big =
                || std::io::Error::other("the memory is larger than this machine can map");
            let fixed = reserved.is_some();
            let reservation = match reserved {
                Some(r) => r,
                None => page_round(minimum.max(1)).ok_or_else(too_big)?,
            };
            if minimum > reservation {
                return Err(std::io::Error::other(
                    "the memory's minimum exceeds its reservation",
                ));
            }
            let mapping = reservation.checked_add(guard).ok_or_else(too_big)?;
            let base = reserve(mapping)?;
            let mut memory = Self {
                base,
                mapping,
                reservation,
                guard,
                fixed,
                accessible: 0,
                size: 0,
                maximum,
                gauge,
            };
            memory.open_to(minimum)?;
            memory.size = minimum;
            Ok(memory)
        }

        /// Makes the first `bytes` (page-rounded) readable and writable.
        fn open_to(&mut self, bytes: usize) -> std::io::Result<()> {
            let target = page_round(bytes).ok_or_else(|| std::io::Error::other("size overflow"))?;
            if target <= self.accessible {
                return Ok(());
            }
            debug_assert!(target <= self.reservation);
            // SAFETY: [accessible, target) lies inside this value's own mapping (target is at
            // most the reservation, which the mapping covers); the guard after it is untouched.
            unsafe {
                rustix::mm::mprotect(
                    self.base.as_ptr().add(self.accessible).cast::<c_void>(),
                    target - self.accessible,
                    MprotectFlags::READ | MprotectFlags::WRITE,
                )
            }?;
            self.accessible = target;
            Ok(())
        }

        /// Moves to a larger reservation (only for memories wasmtime allows to move).
        fn relocate(&mut self, new_size: usize) -> std::io::Result<()> {
            let reservation = page_round(new_size.max(self.reservation.saturating_mul(2)))
                .ok_or_else(|| std::io::Error::other("size overflow"))?;
            let mapping = reservation
                .checked_add(self.guard)
                .ok_or_else(|| std::io::Error::other("size overflow"))?;
            let mut moved = Self {
                base: reserve(mapping)?,
                mapping,
                reservation,
                guard: self.guard,
                fixed: false,
                accessible: 0,
                size: self.size,
                maximum: self.maximum,
                gauge: Arc::clone(&self.gauge),
            };
            moved.open_to(new_size)?;
            // SAFETY: both ranges are `size` readable bytes of two distinct mappings.
            unsafe {
                std::ptr::copy_nonoverlapping(self.base.as_ptr(), moved.base.as_ptr(), self.size);
            }
            // The old mapping is unmapped when `moved`'s predecessor (now `moved`) drops.
            std::mem::swap(self, &mut moved);
            Ok(())
        }
    }

    // SAFETY: `as_ptr` is the base of a mapping whose first `byte_size()` bytes are readable
    // and writable; growth within `byte_capacity()` never moves it, and a memory with a
    // reservation never moves at all.
    unsafe impl wasmtime::LinearMemory for Mapped {
        fn byte_size(&self) -> usize {
            self.size
        }

        fn byte_capacity(&self) -> usize {
            self.reservation
        }

        fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
            if self.maximum.is_some_and(|max| new_size > max) {
                return Err(wasmtime::Error::msg(
                    "the memory's maximum size was reached",
                ));
            }
            if new_size > self.reservation {
                if self.fixed {
                    return Err(wasmtime::Error::msg(
                        "the memory's reservation is exhausted",
                    ));
                }
                self.relocate(new_size).map_err(wasmtime::Error::msg)?;
            } else {
                self.open_to(new_size).map_err(wasmtime::Error::msg)?;
            }
            self.size = new_size;
            self.gauge.set(new_size);
            Ok(())
        }

        fn as_ptr(&self) -> *mut u8 {
            self.base.as_ptr()
        }
    }

    impl Drop for Mapped {
        fn drop(&mut self) {
            // SAFETY: the whole mapping was made by `reserve` and is unmapped once, here.
            let _ =
                unsafe { rustix::mm::munmap(self.base.as_ptr().cast::<c_void>(), self.mapping) };
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const PAGE: usize = 64 * 1024;

        #[test]
        fn a_memory_grows_in_place_zero_filled_and_reports_it() {
            let gauge = Arc::new(Gauge::new(PAGE));
            let mut m = Mapped::new(
                PAGE,
                Some(8 * PAGE),
                Some(16 * PAGE),
                PAGE,
                Arc::clone(&gauge),
            )
            .unwrap();
            let base = wasmtime::LinearMemory::as_ptr(&m);
            // SAFETY (test): the first page is accessible.
            unsafe {
                assert_eq!(*base, 0);
                *base.add(PAGE - 1) = 7;
            }
            wasmtime::LinearMemory::grow_to(&mut m, 3 * PAGE).unwrap();
            assert_eq!(
                wasmtime::LinearMemory::as_ptr(&m),
                base,
                "a reserved memory never moves"
            );
            assert_eq!(wasmtime::LinearMemory::byte_size(&m), 3 * PAGE);
            // SAFETY (test): three pages are accessible now.
            unsafe {
                assert_eq!(*base.add(PAGE - 1), 7);
                assert_eq!(*base.add(3 * PAGE - 1), 0);
                *base.add(3 * PAGE - 1) = 9;
            }
            assert_eq!(
                gauge.bytes.load(std::sync::atomic::Ordering::SeqCst),
                3 * PAGE
            );
            // Past the maximum and past the reservation it refuses.
            assert!(wasmtime::LinearMemory::grow_to(&mut m, 9 * PAGE).is_err());
            let mut unbounded =
                Mapped::new(PAGE, None, Some(2 * PAGE), PAGE, Arc::new(Gauge::new(PAGE))).unwrap();
            assert!(wasmtime::LinearMemory::grow_to(&mut unbounded, 3 * PAGE).is_err());
        }

        #[test]
        fn a_memory_without_a_reservation_moves_and_keeps_its_contents() {
            let gauge = Arc::new(Gauge::new(PAGE));
            let mut m = Mapped::new(PAGE, None, None, 0, Arc::clone(&gauge)).unwrap();
            let base = wasmtime::LinearMemory::as_ptr(&m);
            // SAFETY (test): the first page is accessible.
            unsafe { *base.add(10) = 42 };
            wasmtime::LinearMemory::grow_to(&mut m, 5 * PAGE).unwrap();
            let moved = wasmtime::LinearMemory::as_ptr(&m);
            // SAFETY (test): five pages are accessible at the new base.
            unsafe {
                assert_eq!(*moved.add(10), 42);
                assert_eq!(*moved.add(5 * PAGE - 1), 0);
            }
            assert!(wasmtime::LinearMemory::byte_capacity(&m) >= 5 * PAGE);
            assert_eq!(
                gauge.peak.load(std::sync::atomic::Ordering::SeqCst),
                5 * PAGE
            );
        }
    }
}
