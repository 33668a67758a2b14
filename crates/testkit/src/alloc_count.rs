//! [`CountingAllocator`]: the system allocator, counting allocations, for the tests that
//! prove a path allocates nothing per request. A test binary installs it with
//! `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;` and reads
//! [`thread_allocations`] (its own thread only, so other test threads do not disturb the
//! count) or [`process_allocations`] (every thread, for a whole run with its executors).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// Allocations made by this thread.
    static THREAD: Cell<u64> = const { Cell::new(0) };
}

/// Allocations made by every thread of the process.
static PROCESS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting every `alloc` and `realloc`.
#[derive(Debug, Clone, Copy)]
pub struct CountingAllocator;

impl CountingAllocator {
    fn count() {
        PROCESS.fetch_add(1, Ordering::Relaxed);
        // `try_with`: a thread being torn down has no thread-local left, and may allocate.
        let _ = THREAD.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every call is passed to the system allocator unchanged; we only count.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::count();
        // SAFETY: the caller upholds `alloc`'s contract, which we forward.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract, which we forward.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::count();
        // SAFETY: the caller upholds `realloc`'s contract, which we forward.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations the calling thread has made so far (with [`CountingAllocator`] installed).
#[must_use]
pub fn thread_allocations() -> u64 {
    THREAD.with(Cell::get)
}

/// Allocations every thread of the process has made so far (with [`CountingAllocator`]
/// installed).
#[must_use]
pub fn process_allocations() -> u64 {
    PROCESS.load(Ordering::Relaxed)
}
