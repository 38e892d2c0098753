//! The process's allocator: the system's, counting the bytes each thread holds, so code the
//! app runs on a plugin's behalf (host function scripts) can be held to a byte budget however
//! it holds them: strings, blobs, maps, closures' captures, kv entries and log lines alike.
//!
//! Each thread keeps one signed count: bytes it allocated less bytes it freed (memory freed on
//! another thread than the one that allocated it moves the counts apart; a budget reads the
//! change of its own thread's count over a stretch of work, where that does not happen).
//! [`thread_net_bytes`] reads it. Wasm linear memory is not counted (wasmtime maps it itself);
//! plugins are bounded by their memory limit instead.
//!
//! Allowed `unsafe`: a [`GlobalAlloc`] is an unsafe trait; each method passes its arguments on
//! to the system allocator unchanged and only counts.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting.
pub struct Counting;

thread_local! {
    /// Bytes this thread allocated, less bytes it freed. `const`-initialized with no
    /// destructor: reading it never allocates, and it can be read while the thread ends.
    static NET: Cell<isize> = const { Cell::new(0) };
}

#[inline]
fn count(delta: isize) {
    // After the thread's locals are gone (as it exits) there is nothing left to count for.
    let _ = NET.try_with(|net| net.set(net.get().wrapping_add(delta)));
}

#[expect(
    clippy::cast_possible_wrap,
    reason = "allocations are smaller than isize::MAX"
)]
#[inline]
fn signed(size: usize) -> isize {
    size as isize
}

// SAFETY: every method forwards to `System` with the same arguments and returns its result.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(signed(layout.size()));
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(signed(layout.size()));
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, which is `System`'s.
        unsafe { System.dealloc(ptr, layout) };
        count(-signed(layout.size()));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`, with `new_size` as the caller guarantees it.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(signed(new_size) - signed(layout.size()));
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes the calling thread has allocated less those it has freed, since it started.
pub fn thread_net_bytes() -> isize {
    NET.try_with(Cell::get).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threads_count_follows_what_it_holds() {
        let before = thread_net_bytes();
        let held = vec![0u8; 10 * 1024 * 1024];
        let holding = thread_net_bytes() - before;
        assert!(holding >= 10 * 1024 * 1024, "{holding}");
        drop(held);
        let after = thread_net_bytes() - before;
        assert!(after < 1024 * 1024, "{after}");
        // Another thread's allocations are its own.
        let other = std::thread::Builder::new()
            .name("alloc-test".to_string())
            .spawn(|| {
                let start = thread_net_bytes();
                let v = vec![1u8; 4 * 1024 * 1024];
                let grew = thread_net_bytes() - start;
                drop(v);
                grew
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(other >= 4 * 1024 * 1024);
        assert!(thread_net_bytes() - before < 1024 * 1024);
    }
}
