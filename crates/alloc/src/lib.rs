//! The memory allocator of every p2plab binary, and how it is set up.
//!
//! A node, real or simulated, allocates a buffer for each message it sends and frees it when
//! the message is read. mimalloc serves that from per-thread free lists in a few
//! instructions, where glibc's allocator walks its arenas.
//!
//! By default mimalloc also *purges*: memory left free for a second goes back to the kernel.
//! A simulated network frees and reuses memory at a high rate, so each purged page came back
//! at its next use as a page fault, and the kernel zeroed it again. A simulated flood over
//! 10,000 Gnutella servents took 171,000 page faults for a 160 MiB peak, and the kernel had
//! 9.8% of its profile, 8.6% clearing pages; with purging off, 290 page faults and 3.5%.
//! [`keep_freed_memory`] turns purging off: the process
//! keeps the most memory it ever used until it exits, which for a simulation or a node of
//! p2plab is the peak it needed anyway.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The allocator type; a binary declares it with
/// `#[global_allocator] static ALLOCATOR: p2plab_alloc::Allocator = p2plab_alloc::Allocator;`.
pub use mimalloc::MiMalloc as Allocator;

/// mimalloc's `mi_option_purge_delay`: its place in `mi_option_e` of `mimalloc.h` (v2 and v3
/// alike). The binding names no constant for it, so the number is written here; a test checks
/// it against the option's default (1,000 ms in v3's `options.c`) and its neighbours'.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's `purge_delay` for "never purge".
const NEVER: std::os::raw::c_long = -1;

/// Keeps freed memory in the process for reuse instead of returning it to the kernel.
/// Call it first thing in `main`.
#[allow(unsafe_code)]
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` takes any option number below `_mi_option_last` and any value;
    // mimalloc reads the option again each time it considers a purge.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, NEVER) }
}

/// The same allocator, counting the bytes the program holds on its heap at each moment.
///
/// A measurement declares it instead of [`Allocator`]
/// (`#[global_allocator] static ALLOCATOR: p2plab_alloc::Counting = p2plab_alloc::Counting;`)
/// and reads [`Counting::live`] before and after building a structure: the difference is what
/// the structure holds, to the byte and the same on every run. A process's resident set would
/// add the allocator's own free pages and whatever else the process did, and vary with both.
/// Counting costs two atomic additions per allocation, so binaries that are not measuring
/// memory use [`Allocator`].
pub struct Counting;

/// Heap bytes allocated and not yet freed, over the whole process.
static LIVE: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    /// Heap bytes the process holds now (as requested: the allocator's rounding up to its
    /// size classes is not counted).
    pub fn live() -> usize {
        LIVE.load(Ordering::Relaxed)
    }
}

// SAFETY: every call goes to mimalloc unchanged, with the caller's own arguments, so its
// guarantees are mimalloc's; the counter only observes sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is the one mimalloc's `alloc` needs.
        let ptr = unsafe { Allocator.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { Allocator.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from mimalloc, with `layout`.
        unsafe { Allocator.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from mimalloc with `layout`; the caller vouches for `new_size`.
        let moved = unsafe { Allocator.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOCATOR: Allocator = Allocator;

    #[allow(unsafe_code)]
    fn option(option: libmimalloc_sys::mi_option_t) -> std::os::raw::c_long {
        // SAFETY: reading an option below `_mi_option_last` has no precondition.
        unsafe { libmimalloc_sys::mi_option_get(option) }
    }

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // `mi_option_purge_delay` defaults to 1,000 ms; its neighbours in v3's list
        // (`deprecated_eager_commit_delay` before, `use_numa_nodes` after) default to 1 and 0,
        // so a shifted number fails here. Unless the environment overrides it.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(option(PURGE_DELAY), 1000);
            assert_eq!(option(PURGE_DELAY - 1), 1);
            assert_eq!(option(PURGE_DELAY + 1), 0);
        }
        keep_freed_memory();
        assert_eq!(option(PURGE_DELAY), NEVER);
    }
}
