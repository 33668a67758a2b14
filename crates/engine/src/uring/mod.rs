//! The data path's own io_uring: set up for one thread (`SINGLE_ISSUER | DEFER_TASKRUN`), so a
//! completion is posted only when the driver asks for it, in its own `io_uring_enter`, and never
//! runs as task work inside the server's `send`. The only user of the `io-uring` crate.
//!
//! Receives come in two kinds: a one-shot receive into the connection's own buffer, armed again
//! after each arrival, or one multishot receive per connection that stays armed, each arrival
//! landing in a buffer the ring provides ([`provided`]).
//!
//! A submission carries a [`Token`]: which connection it belongs to and which operation it is,
//! packed into the 64-bit user data, so a completion is routed without any lookup table.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use io_uring::{cqueue, squeue, types, IoUring};

pub(crate) mod provided;

pub(crate) use provided::{buffer_len_for, ProvidedBuffers, MIN_BUFFER_LEN};

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
    /// The provided buffer a multishot receive put the bytes in.
    pub(crate) buffer: Option<u16>,
    /// The operation goes on (a multishot receive stays armed): more completions follow.
    pub(crate) more: bool,
}

/// How long a wait may go on gathering completions once the first is there: it returns when
/// `completions` have been posted or `within` has passed since it began, whichever is first,
/// and never before one completion (or its timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gather {
    pub(crate) completions: usize,
    pub(crate) within: Duration,
}

/// How submissions name a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocketName {
    /// Its slot in the ring's registered file table: the kernel takes no reference to the
    /// file per operation (perf: `fget` and its release were about 1% of the client's cycles).
    Registered(u32),
    /// Its descriptor, where the ring has no table or the table refused it.
    Descriptor(RawFd),
}

/// A connection's socket and how the ring names it.
#[derive(Debug)]
pub(crate) struct Socket {
    fd: OwnedFd,
    name: SocketName,
}

impl Socket {
    pub(crate) fn name(&self) -> SocketName {
        self.name
    }

    /// The descriptor, for the calls that are not the ring's (`shutdown`).
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Builds an operation on `$socket` (a [`SocketName`]), binding `$target` to the io-uring
/// crate's name for it in `$build`: the crate's two target types have no common public trait.
macro_rules! on_socket {
    ($socket:expr, $target:ident => $build:expr) => {
        match $socket {
            $crate::uring::SocketName::Registered(slot) => {
                let $target = io_uring::types::Fixed(slot);
                $build
            }
            $crate::uring::SocketName::Descriptor(fd) => {
                let $target = io_uring::types::Fd(fd);
                $build
            }
        }
    };
}
pub(crate) use on_socket;

/// Whether the ring has a registered file table, one slot per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileTable {
    Registered,
    /// The kernel refused it (a descriptor limit below the connection count, say): every
    /// socket is named by its descriptor.
    Unavailable,
}

/// The ring of one executor's driver.
pub(crate) struct Ring {
    // Declared before the buffers it receives into, so it is dropped (and lets go of them)
    // first.
    ring: IoUring,
    /// With them, connections receive through multishot receives.
    provided: Option<ProvidedBuffers>,
    /// The kernel can gather (`IORING_FEAT_MIN_TIMEOUT`, Linux 6.12): see [`Gather`].
    gathers: bool,
    files: FileTable,
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
        let slots = u32::try_from(connections).unwrap_or(u32::MAX);
        let files = match slots {
            // The probe's ring has no connections (and the kernel refuses an empty table).
            0 => FileTable::Unavailable,
            _ => match ring.submitter().register_files_sparse(slots) {
                Ok(()) => FileTable::Registered,
                Err(_) => FileTable::Unavailable,
            },
        };
        Ok(Ring {
            ring,
            provided: None,
            gathers,
            files,
        })
    }

    /// Gives the ring receive buffers of `buffer_len` bytes for its connections: from now on
    /// [`Self::provided_buffers`] has them and receives may be multishot.
    ///
    /// # Errors
    /// The kernel refused them (see [`ProvidedBuffers::register`]); the ring works on
    /// without them.
    pub(crate) fn provide_buffers(
        &mut self,
        connections: usize,
        buffer_len: usize,
    ) -> io::Result<()> {
        self.provided = Some(ProvidedBuffers::register(
            &self.ring,
            connections,
            buffer_len,
        )?);
        Ok(())
    }

    /// The receive buffers the ring provides, if it has them.
    pub(crate) fn provided_buffers(&self) -> Option<&ProvidedBuffers> {
        self.provided.as_ref()
    }

    /// Gives provided buffer `bid` back for a later arrival (once its bytes are handled).
    pub(crate) fn give_back_buffer(&mut self, bid: u16) {
        if let Some(buffers) = self.provided.as_mut() {
            buffers.give_back(bid);
        }
    }

    /// Takes `fd` as the socket of connection `slot` (below the count the ring was made for),
    /// in the registered table if the ring has one and it takes it.
    pub(crate) fn adopt(&mut self, slot: usize, fd: OwnedFd) -> Socket {
        let name = match (self.files, u32::try_from(slot)) {
            (FileTable::Registered, Ok(slot))
                if self
                    .ring
                    .submitter()
                    .register_files_update(slot, &[fd.as_raw_fd()])
                    .is_ok() =>
            {
                SocketName::Registered(slot)
            }
            _ => SocketName::Descriptor(fd.as_raw_fd()),
        };
        Socket { fd, name }
    }

    /// Closes `socket`: clears its slot first, since the table holds the file open too (a
    /// socket left there would never close, and the server would never see it go).
    /// Call only once no operation on it is in flight.
    pub(crate) fn close(&mut self, socket: Socket) {
        if let SocketName::Registered(slot) = socket.name {
            // Failing to clear it (never seen) leaves the slot to the next socket's update,
            // which replaces the file; the descriptor closes here either way.
            let _ = self.ring.submitter().register_files_update(slot, &[-1]);
        }
        drop(socket.fd);
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

    /// Hands the queued submissions to the kernel, then polls without sleeping until a
    /// completion is there or `until` has passed: the wait of a turn whose next deadline is
    /// too near to sleep for (see [`crate::driver`]'s `SPIN_BELOW`). Arming a timer, and
    /// cancelling it when a completion comes first, traps to the hypervisor on a virtual
    /// machine; a short timed wait can cost more than it waits.
    ///
    /// Polls the ring's memory, not the kernel: with `DEFER_TASKRUN` an arrival is task work
    /// the kernel flags in the submission ring (`IORING_SQ_TASKRUN`), and only then does an
    /// `io_uring_enter` run it and post its completion.
    pub(crate) fn submit_and_spin(&mut self, until: Instant) -> io::Result<()> {
        if self.has_work_for_kernel() {
            self.submit()?;
        }
        loop {
            if !self.ring.completion().is_empty() {
                return Ok(());
            }
            if self.has_work_for_kernel() {
                return self.submit();
            }
            if Instant::now() >= until {
                return Ok(());
            }
            std::hint::spin_loop();
        }
    }

    /// Whether an `io_uring_enter` would do anything: submissions are queued, task work is
    /// flagged, or completions wait in the kernel's overflow list.
    fn has_work_for_kernel(&mut self) -> bool {
        let submission = self.ring.submission();
        !submission.is_empty() || submission.taskrun() || submission.cq_overflow()
    }

    /// Moves every posted completion into `out` (cleared first).
    pub(crate) fn reap(&mut self, out: &mut Vec<Completion>) {
        out.clear();
        for cqe in self.ring.completion() {
            if let Some(token) = Token::from_user_data(cqe.user_data()) {
                let flags = cqe.flags();
                out.push(Completion {
                    token,
                    result: cqe.result(),
                    buffer: cqueue::buffer_select(flags),
                    more: cqueue::more(flags),
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

/// Checks, on any thread, that a ring here can provide receive buffers (multishot receives).
///
/// # Errors
/// Why not, as the kernel said it.
pub(crate) fn probe_provided_buffers() -> io::Result<()> {
    Ring::new(0)?.provide_buffers(1, MIN_BUFFER_LEN)
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

    /// A connected pair on loopback: the client's descriptor and the server's end.
    fn connected_pair() -> (OwnedFd, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let client =
            std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server_end, _) = listener.accept().expect("accept");
        server_end
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        (OwnedFd::from(client), server_end)
    }

    /// The peer reads end-of-stream: the socket is really closed, not just forgotten.
    fn assert_closed(mut server_end: std::net::TcpStream) {
        use std::io::Read;
        let mut byte = [0u8; 1];
        let read = server_end
            .read(&mut byte)
            .expect("end of stream, not a timeout");
        assert_eq!(read, 0);
    }

    #[test]
    fn a_socket_in_the_registered_table_really_closes() {
        let mut ring = Ring::new(4).expect("this kernel's io_uring");
        let (client, server_end) = connected_pair();
        let socket = ring.adopt(2, client);
        assert_eq!(socket.name(), SocketName::Registered(2));
        ring.close(socket);
        assert_closed(server_end);
    }

    #[test]
    fn a_socket_the_table_cannot_take_is_named_by_its_descriptor() {
        let mut ring = Ring::new(4).expect("this kernel's io_uring");
        let (client, server_end) = connected_pair();
        let fd = client.as_raw_fd();
        // Slot 100 is past the table's end.
        let socket = ring.adopt(100, client);
        assert_eq!(socket.name(), SocketName::Descriptor(fd));
        ring.close(socket);
        assert_closed(server_end);
    }

    /// Arms a multishot receive on `socket`, selecting from the provided buffers.
    fn arm_multishot(ring: &mut Ring, socket: &Socket) {
        let token = Token {
            connection: 0,
            op: OpTag::Recv,
        };
        let entry = on_socket!(socket.name(), target => io_uring::opcode::Recv::new(target, std::ptr::null_mut(), 0))
            .ioprio(2) // IORING_RECV_MULTISHOT
            .buf_group(provided::GROUP)
            .build()
            .flags(squeue::Flags::BUFFER_SELECT);
        // SAFETY: the receive writes only into the ring's provided buffers.
        unsafe { ring.push(entry, token) }.expect("push");
    }

    /// Waits (up to 5 s) until the ring has at least one completion and returns them all.
    fn wait_completions(ring: &mut Ring) -> Vec<Completion> {
        let mut out = Vec::new();
        ring.submit_and_wait(Duration::from_secs(5), None)
            .expect("wait");
        ring.reap(&mut out);
        assert!(!out.is_empty(), "no completion within 5 s");
        out
    }

    /// A ring with provided buffers for one connection (the minimum of 8, of
    /// [`MIN_BUFFER_LEN`]), and a connected pair whose client end has a multishot receive
    /// armed.
    fn multishot_pair() -> (Ring, Socket, std::net::TcpStream) {
        let mut ring = Ring::new(1).expect("this kernel's io_uring");
        ring.provide_buffers(1, MIN_BUFFER_LEN)
            .expect("provided buffers");
        let (client, server_end) = connected_pair();
        let socket = ring.adopt(0, client);
        arm_multishot(&mut ring, &socket);
        (ring, socket, server_end)
    }

    #[test]
    fn one_multishot_receive_takes_every_arrival_until_the_buffers_run_out() {
        use std::io::Write;
        let (mut ring, socket, mut server_end) = multishot_pair();
        let mut held = Vec::new();
        for arrival in 0..8u8 {
            server_end.write_all(&[b'a' + arrival; 3]).expect("write");
            let done = wait_completions(&mut ring);
            assert_eq!(done.len(), 1, "arrival {arrival}");
            let (result, bid) = (done[0].result, done[0].buffer.expect("a buffer"));
            assert_eq!(result, 3);
            assert!(done[0].more, "still armed after arrival {arrival}");
            let buffers = ring.provided_buffers().expect("buffers");
            assert_eq!(buffers.bytes(bid, 3), &[b'a' + arrival; 3]);
            held.push(bid);
        }
        // None given back: the ninth arrival finds no buffer, and the receive ends.
        server_end.write_all(b"zz").expect("write");
        let done = wait_completions(&mut ring);
        assert_eq!(done[0].result, -libc::ENOBUFS);
        assert!(!done[0].more);
        // Given back, the buffers take the waiting bytes once the receive is armed again.
        for bid in held {
            ring.give_back_buffer(bid);
        }
        arm_multishot(&mut ring, &socket);
        let done = wait_completions(&mut ring);
        let bid = done[0].buffer.expect("a buffer");
        assert_eq!(
            ring.provided_buffers().expect("buffers").bytes(bid, 2),
            b"zz"
        );
        assert!(done[0].more);
        ring.close(socket);
    }

    #[test]
    fn a_spin_ends_at_its_deadline_without_a_completion_and_at_an_arrival_before_it() {
        use std::io::Write;
        let (mut ring, socket, mut server_end) = multishot_pair();
        let mut out = Vec::new();
        // Nothing arrives: the spin ends at its deadline, with nothing to reap.
        let until = Instant::now() + Duration::from_millis(20);
        ring.submit_and_spin(until).expect("spin");
        assert!(Instant::now() >= until);
        ring.reap(&mut out);
        assert!(out.is_empty(), "{out:?}");
        // An arrival ends it long before its deadline, with the completion posted.
        server_end.write_all(b"hi").expect("write");
        let started = Instant::now();
        ring.submit_and_spin(started + Duration::from_secs(5))
            .expect("spin");
        assert!(started.elapsed() < Duration::from_secs(4));
        ring.reap(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].result, 2);
        let bid = out[0].buffer.expect("a buffer");
        assert_eq!(
            ring.provided_buffers().expect("buffers").bytes(bid, 2),
            b"hi"
        );
        ring.close(socket);
    }

    #[test]
    fn a_reply_longer_than_a_buffer_arrives_in_order_over_several() {
        use std::io::Write;
        let (mut ring, socket, mut server_end) = multishot_pair();
        let sent: Vec<u8> = (0..3 * MIN_BUFFER_LEN + 100)
            .map(|i| (i % 251) as u8)
            .collect();
        server_end.write_all(&sent).expect("write");
        let mut received = Vec::new();
        while received.len() < sent.len() {
            for done in wait_completions(&mut ring) {
                assert!(done.result > 0, "{}", done.result);
                let bid = done.buffer.expect("a buffer");
                let buffers = ring.provided_buffers().expect("buffers");
                received.extend_from_slice(buffers.bytes(bid, done.result as usize));
                ring.give_back_buffer(bid);
            }
        }
        assert_eq!(received, sent);
        ring.close(socket);
    }
}
