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
