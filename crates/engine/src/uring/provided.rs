//! Receive buffers the ring provides (a registered buffer ring, Linux 5.19): a multishot
//! receive stays armed on each connection, and every arrival lands in whichever buffer is
//! next in the ring; the completion names it. The driver copies the bytes into the
//! connection and gives the buffer back in the same turn, so a few buffers per connection
//! are plenty.
//!
//! The buffer ring is memory shared with the kernel: the driver writes entries and then the
//! tail, the kernel takes entries from its own head.

use std::alloc::{self, Layout};
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::IoUring;

/// The buffer group the driver's receives select from (the ring registers only this one).
pub(crate) const GROUP: u16 = 0;
/// Buffers per connection: one the kernel may be filling, one the driver may be reading.
const BUFFERS_PER_CONNECTION: usize = 2;
const MIN_BUFFERS: usize = 8;
/// The kernel's limit on a buffer ring's entries.
const MAX_BUFFERS: usize = 1 << 15;
/// A ring's buffers take at most this much address space; beyond it, fewer buffers (a
/// receive finding none ends its multishot, and the driver arms it again).
const MAX_TOTAL_BYTES: usize = 64 << 20;
/// Bounds of one buffer: a reply longer than a buffer arrives over several completions.
pub(crate) const MIN_BUFFER_LEN: usize = 4 << 10;
pub(crate) const MAX_BUFFER_LEN: usize = 64 << 10;
/// The buffer ring's entries must start on a page.
const PAGE: usize = 4096;

/// The ring's provided buffers: their memory, and the ring of entries that hands them to
/// the kernel.
pub(crate) struct ProvidedBuffers {
    entries: NonNull<BufRingEntry>,
    entries_layout: Layout,
    /// Entries minus one (their count is a power of two).
    mask: u16,
    /// Where the next given-back buffer goes; published to the kernel after each.
    tail: u16,
    buffer_len: usize,
    memory: Box<[u8]>,
}

impl std::fmt::Debug for ProvidedBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvidedBuffers")
            .field("count", &(usize::from(self.mask) + 1))
            .field("buffer_len", &self.buffer_len)
            .finish_non_exhaustive()
    }
}

/// How many buffers of `buffer_len` bytes a ring for `connections` provides.
fn buffer_count(connections: usize, buffer_len: usize) -> usize {
    let wanted = connections
        .saturating_mul(BUFFERS_PER_CONNECTION)
        .clamp(MIN_BUFFERS, MAX_BUFFERS)
        .next_power_of_two();
    let affordable = (MAX_TOTAL_BYTES / buffer_len.max(1)).max(MIN_BUFFERS);
    // The largest power of two within both.
    let limit = wanted.min(affordable);
    1 << (usize::BITS - 1 - limit.leading_zeros())
}

/// The buffer length for replies of up to `reply_len` bytes: a power of two within
/// [`MIN_BUFFER_LEN`]..=[`MAX_BUFFER_LEN`] (a longer reply takes several buffers).
pub(crate) fn buffer_len_for(reply_len: usize) -> usize {
    reply_len
        .clamp(MIN_BUFFER_LEN, MAX_BUFFER_LEN)
        .next_power_of_two()
}

impl ProvidedBuffers {
    /// Buffers of `buffer_len` bytes (within [`MIN_BUFFER_LEN`]..=[`MAX_BUFFER_LEN`]) for
    /// `connections`, registered with `ring` as group [`GROUP`]. Their memory is only
    /// reserved: a page becomes resident when a reply first lands in it.
    ///
    /// # Errors
    /// The kernel refuses the buffer ring (older than 5.19, or the locked-memory limit for
    /// its one page of entries), or memory for it.
    pub(crate) fn register(
        ring: &IoUring,
        connections: usize,
        buffer_len: usize,
    ) -> io::Result<ProvidedBuffers> {
        let buffer_len = buffer_len.clamp(MIN_BUFFER_LEN, MAX_BUFFER_LEN);
        let count = buffer_count(connections, buffer_len);
        let entries_len = count * std::mem::size_of::<BufRingEntry>();
        let entries_layout =
            Layout::from_size_align(entries_len.max(PAGE), PAGE).map_err(io::Error::other)?;
        // SAFETY: the layout's size is at least a page.
        let entries = unsafe { alloc::alloc_zeroed(entries_layout) }.cast::<BufRingEntry>();
        let entries =
            NonNull::new(entries).ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
        let mut buffers = ProvidedBuffers {
            entries,
            entries_layout,
            mask: u16::try_from(count - 1).map_err(io::Error::other)?,
            tail: 0,
            buffer_len,
            // Zeroed memory comes from fresh pages, so only the pages replies touch count.
            memory: vec![0; count * buffer_len].into_boxed_slice(),
        };
        let ring_entries = u16::try_from(count).map_err(io::Error::other)?;
        // SAFETY: the entries stay allocated, page aligned, until `buffers` drops, and the
        // `Ring` drops its `IoUring` (which unregisters them) before its provided buffers.
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                entries.as_ptr() as u64,
                ring_entries,
                GROUP,
                0,
            )?;
        }
        for bid in 0..ring_entries {
            buffers.stage(bid);
        }
        buffers.publish();
        Ok(buffers)
    }

    /// The `len` bytes a receive put in buffer `bid`.
    pub(crate) fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid & self.mask) * self.buffer_len;
        &self.memory[start..start + len.min(self.buffer_len)]
    }

    /// Hands buffer `bid` back to the kernel for a later arrival.
    pub(crate) fn give_back(&mut self, bid: u16) {
        self.stage(bid & self.mask);
        self.publish();
    }

    /// Writes the entry for buffer `bid` at the tail (not yet visible to the kernel).
    fn stage(&mut self, bid: u16) {
        let index = usize::from(self.tail & self.mask);
        let addr = self.memory.as_ptr() as u64 + (usize::from(bid) * self.buffer_len) as u64;
        // SAFETY: `index` is below the ring's `mask + 1` entries, which `self` owns; the
        // kernel reads only the entries between its head and the published tail.
        let entry = unsafe { &mut *self.entries.as_ptr().add(index) };
        entry.set_addr(addr);
        entry.set_len(self.buffer_len as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the staged entries visible to the kernel.
    fn publish(&self) {
        // SAFETY: the tail overlays the first entry's reserved field (the kernel's ABI); the
        // release store orders the entries written before it, as liburing's
        // `io_uring_buf_ring_advance` does.
        unsafe {
            let tail = BufRingEntry::tail(self.entries.as_ptr()).cast_mut();
            AtomicU16::from_ptr(tail).store(self.tail, Ordering::Release);
        }
    }
}

impl Drop for ProvidedBuffers {
    fn drop(&mut self) {
        // SAFETY: allocated in `register` with this layout; the kernel let go of it when the
        // ring closed.
        unsafe { alloc::dealloc(self.entries.as_ptr().cast(), self.entries_layout) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_holds_the_longest_reply_within_the_bounds() {
        assert_eq!(buffer_len_for(1100), MIN_BUFFER_LEN);
        assert_eq!(buffer_len_for(5000), 8 << 10);
        assert_eq!(buffer_len_for(16 << 10), 16 << 10);
        assert_eq!(buffer_len_for(1 << 20), MAX_BUFFER_LEN);
    }

    #[test]
    fn two_buffers_per_connection_a_power_of_two_within_the_bounds() {
        assert_eq!(buffer_count(1, MIN_BUFFER_LEN), MIN_BUFFERS);
        assert_eq!(buffer_count(16, MIN_BUFFER_LEN), 32);
        assert_eq!(buffer_count(17, MIN_BUFFER_LEN), 64);
        assert_eq!(
            buffer_count(1 << 20, MIN_BUFFER_LEN),
            MAX_TOTAL_BYTES / MIN_BUFFER_LEN
        );
        // 64 KiB buffers: at most 64 MiB of them.
        assert_eq!(buffer_count(4096, MAX_BUFFER_LEN), 1024);
        assert_eq!(buffer_count(600, 48 << 10), 1024);
    }
}
