//! The data path's own io_uring: set up for one thread (`SINGLE_ISSUER | DEFER_TASKRUN`), so a
//! completion is posted only when the driver asks for it, in its own `io_uring_enter`, and never
//! runs as task work inside the server's `send`. The only user of the `io-uring` crate.
//!
//! A submission carries a [`Token`]: which connection it belongs to and which operation it is,
//! packed into the 64-bit user data, so a completion is routed without any lookup table.

use std::io;
use std::time::Duration;

use io_uring::{squeue, types, IoUring};

/// Bounds of the submission queue's size; the completion queue is twice as large (the
/// kernel's default). A turn queues about a send and a receive per connection and a full
/// queue is submitted early, so the size bounds only the batch of one `io_uring_enter`; the
/// kernel keeps completions that overflow (`IORING_FEAT_NODROP`).
const MIN_ENTRIES: u32 = 64;
const MAX_ENTRIES: u32 = 4096;

/// The operation a submission performs for its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpTag {
    Connect,
    Send,
    Recv,
    /// A cancellation of the connection's other operations (its own completion is ignored).
    Cancel,
}

/// Which connection and operation a completion belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) connection: u32,
    pub(crate) op: OpTag,
}

impl Token {
    pub(crate) fn to_user_data(self) -> u64 {
        let tag = match self.op {
            OpTag::Connect => 1,
            OpTag::Send => 2,
            OpTag::Recv => 3,
            OpTag::Cancel => 4,
        };
        (u64::from(self.connection) << 8) | tag
    }

    pub(crate) fn from_user_data(data: u64) -> Option<Token> {
        let op = match data & 0xff {
            1 => OpTag::Connect,
            2 => OpTag::Send,
            3 => OpTag::Recv,
            4 => OpTag::Cancel,
            _ => return None,
        };
        let connection = u32::try_from(data >> 8).ok()?;
        Some(Token { connection, op })
    }
}

/// One completion, copied out of the ring so the driver can submit while it handles it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Completion {
    pub(crate) token: Token,
    /// The operation's result: bytes moved, 0, or a negated errno.
    pub(crate) result: i32,
}

/// How long a wait may go on gathering completions once the first is there: it returns when
/// `completions` have been posted or `within` has passed since it began, whichever is first,
/// and never before one completion (or its timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gather {
    pub(crate) completions: usize,
    pub(crate) within: Duration,
}

/// The ring of one executor's driver.
pub(crate) struct Ring {
    ring: IoUring,
    /// The kernel can gather (`IORING_FEAT_MIN_TIMEOUT`, Linux 6.12): see [`Gather`].
    gathers: bool,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring").finish_non_exhaustive()
    }
}

impl Ring {
    /// A ring for the calling thread only, sized for `connections`; it must be created on
    /// the thread that uses it.
    ///
    /// # Errors
    /// The kernel refuses the setup flags (older than 6.1), or io_uring at all, or lacks the
    /// timed wait (`EXT_ARG`, 5.11) the driver's turn depends on.
    pub(crate) fn new(connections: usize) -> io::Result<Ring> {
        let wanted = u32::try_from(connections.saturating_mul(2)).unwrap_or(u32::MAX);
        let entries = wanted.clamp(MIN_ENTRIES, MAX_ENTRIES).next_power_of_two();
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_coop_taskrun()
            .setup_taskrun_flag()
            .setup_submit_all()
            .build(entries)?;
        if !ring.params().is_feature_ext_arg() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the kernel's io_uring has no timed wait (IORING_FEAT_EXT_ARG)",
            ));
        }
        let gathers = ring.params().is_feature_min_timeout();
        Ok(Ring { ring, gathers })
    }

    /// Whether [`Self::submit_and_wait`] can gather completions; without it a wait ends at
    /// the first.
    pub(crate) fn gathers(&self) -> bool {
        self.gathers
    }

    /// Queues `entry` tagged with `token`; a full submission queue is handed to the kernel
    /// first.
    ///
    /// # Safety
    /// Every buffer and address `entry` points to must stay valid, and unmoved, until the
    /// operation's completion has been reaped.
    pub(crate) unsafe fn push(&mut self, entry: squeue::Entry, token: Token) -> io::Result<()> {
        let entry = entry.user_data(token.to_user_data());
        loop {
            // SAFETY: the caller keeps the entry's buffers alive until its completion.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return Ok(());
            }
            self.submit()?;
            if self.ring.submission().is_full() {
                return Err(io::Error::other("the submission queue stays full"));
            }
        }
    }

    /// Hands every queued submission to the kernel without waiting.
    pub(crate) fn submit(&mut self) -> io::Result<()> {
        match retry_interrupted(|| self.ring.submit().map(drop)) {
            // Completions wait to be reaped (a full completion queue): the next wait takes them.
            Err(err) if err.raw_os_error() == Some(libc::EBUSY) => Ok(()),
            other => other,
        }
    }

    /// Hands the queued submissions to the kernel and waits until at least one completion is
    /// there or `timeout` has passed, in one `io_uring_enter`; with `gather` (on a kernel
    /// that [`gathers`](Self::gathers)) it goes on waiting for more as [`Gather`] says.
    pub(crate) fn submit_and_wait(
        &mut self,
        timeout: Duration,
        gather: Option<Gather>,
    ) -> io::Result<()> {
        if !self.ring.completion().is_empty() {
            return self.submit();
        }
        let timespec = types::Timespec::from(timeout);
        let mut args = types::SubmitArgs::new().timespec(&timespec);
        let mut want = 1;
        if let Some(gather) = gather.filter(|_| self.gathers) {
            want = gather.completions.max(1);
            let within = u32::try_from(gather.within.as_micros()).unwrap_or(u32::MAX);
            args = args.min_wait_usec(within);
        }
        match self.ring.submitter().submit_with_args(want, &args) {
            Ok(_) => Ok(()),
            // The deadline came first, a signal arrived, or completions wait to be reaped
            // (EBUSY): in every case the turn goes on.
            Err(err)
                if matches!(
                    err.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// Moves every posted completion into `out` (cleared first).
    pub(crate) fn reap(&mut self, out: &mut Vec<Completion>) {
        out.clear();
        for cqe in self.ring.completion() {
            if let Some(token) = Token::from_user_data(cqe.user_data()) {
                out.push(Completion {
                    token,
                    result: cqe.result(),
                });
            }
        }
    }
}

/// Checks, on any thread, that a ring like the driver's can be set up here.
///
/// # Errors
/// Why not, as the kernel said it.
pub(crate) fn probe() -> io::Result<()> {
    Ring::new(0).map(drop)
}

fn retry_interrupted(mut call: impl FnMut() -> io::Result<()>) -> io::Result<()> {
    loop {
        match call() {
            Err(err) if err.raw_os_error() == Some(libc::EINTR) => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_user_data() {
        for op in [OpTag::Connect, OpTag::Send, OpTag::Recv, OpTag::Cancel] {
            for connection in [0, 1, 255, 256, u32::MAX] {
                let token = Token { connection, op };
                assert_eq!(Token::from_user_data(token.to_user_data()), Some(token));
            }
        }
        assert_eq!(Token::from_user_data(0), None);
        assert_eq!(Token::from_user_data(0x105), None);
    }
}
