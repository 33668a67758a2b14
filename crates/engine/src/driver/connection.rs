//! One TCP connection on the ring's data path: its receive buffer, its two send buffers and the
//! requests it has in flight, in the order the server will answer them. Pure bookkeeping: the
//! driver hands its buffers to the ring and tells it what the ring did; this file splits the
//! received bytes into replies, front request first, and never touches a socket.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use shardslap_proto::ProtoError;
use shardslap_workload::Op;

use super::tls::TlsLayer;
use crate::request::{Reply, Sent};

/// Initial receive buffer per request in flight: room for a default 1 KiB value a few times
/// over; it doubles whenever one reply needs more.
const RECV_BUF_PER_REQUEST: usize = 4 << 10;
/// Largest initial receive buffer, however deep the pipeline.
const RECV_BUF_INITIAL_MAX: usize = 64 << 10;
/// Initial capacity of each send buffer.
const SEND_BUF_INITIAL: usize = 2 << 10;

/// A request handed to this connection and not yet answered.
#[derive(Debug)]
pub(crate) struct InFlight {
    /// The concurrency it belongs to.
    pub(crate) concurrency: usize,
    pub(crate) sent: Sent,
    /// Operations of the request (the first `keys` of the connection's op queue).
    keys: usize,
    /// `-P`: when it was due; its latency counts from then.
    pub(crate) due: Option<Instant>,
    /// When it was handed to the ring (its response timeout counts from then).
    pub(crate) handed: Option<Instant>,
    /// Warm-up requests are counted but not measured.
    pub(crate) measured: bool,
    /// How far parsing its reply got.
    reply: Reply,
}

impl InFlight {
    /// Where its latency starts: when it was due (`-P`), else when it reached the ring.
    pub(crate) fn latency_start(&self) -> Option<Instant> {
        self.due.or(self.handed)
    }

    /// What its reply meant (complete once [`Connection::next_reply`] returned it).
    pub(crate) fn outcome(&self) -> crate::request::Outcome {
        self.reply.outcome()
    }
}

/// Where the connection's socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkState {
    /// A connect is in flight; it fails at `deadline`.
    Connecting { deadline: Instant },
    /// Connected, the TLS handshake under way (`--tls`); it fails at `deadline`.
    Handshaking { deadline: Instant },
    /// Connected: requests may go out.
    Up,
    /// Being shut down; the socket is closed once the ring has no operation of it left,
    /// then `next` happens.
    Closing { next: AfterClose },
    /// No socket; with a retry scheduled (`-R`) it reconnects at `retry.next_attempt`.
    Down,
}

/// What follows a close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterClose {
    /// Reconnect at once (a stalled or desynchronised stream; the server may be fine).
    Recycle,
    /// Stay down until the retry schedule says (`-R`), or for good.
    StayDown,
    /// The connect did not finish in time: it failed.
    ConnectTimedOut,
    /// The TLS handshake failed (why is in [`Connection::setup_failure`]).
    HandshakeFailed,
}

/// Reconnect bookkeeping of a lost connection (`-R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retry {
    pub(crate) lost_at: Instant,
    pub(crate) next_attempt: Instant,
    pub(crate) backoff: Duration,
}

/// Which of the connection's operations the ring still holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) connect: bool,
    pub(crate) send: bool,
    pub(crate) recv: bool,
}

impl Pending {
    pub(crate) fn any(self) -> bool {
        self.connect || self.send || self.recv
    }
}

/// One TCP connection of a concurrency.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) addr: SocketAddr,
    /// The concurrency that owns it.
    pub(crate) concurrency: usize,
    pub(crate) state: LinkState,
    pub(crate) pending: Pending,
    /// The socket, while there is one; closed through the ring ([`crate::uring::Ring::close`]).
    pub(crate) socket: Option<crate::uring::Socket>,
    pub(crate) retry: Option<Retry>,
    /// Why a recycled connection was lost: the concurrency's fault if it cannot reconnect.
    pub(crate) lost_reason: Option<String>,
    /// Why the TLS handshake failed, until the close that follows is done.
    pub(crate) setup_failure: Option<String>,
    /// `--tls`: the session between the ring's ciphertext and these buffers' plaintext.
    tls: Option<Box<TlsLayer>>,
    /// Plaintext request bytes encrypted since the driver last asked ([`Self::take_encrypted`]).
    encrypted: u64,
    /// Received, not yet consumed bytes are `recv_buf[parsed..filled]`; the consumed front is
    /// dropped once per receive, not once per reply.
    recv_buf: Vec<u8>,
    parsed: usize,
    filled: usize,
    /// The last time the ring moved bytes of this connection either way (a response timeout
    /// needs `--timeout` without any progress, as a socket's read timeout does).
    last_progress: Option<Instant>,
    /// A reply was parsed since the socket connected.
    answered: bool,
    /// Requests being encoded this turn, not yet handed to the ring.
    out: BytesMut,
    /// The bytes of the send in flight; `sending[sent_len..]` is still to go.
    sending: BytesMut,
    sent_len: usize,
    /// Requests in `out`: the newest of `queue`, not yet handed to the ring.
    unsent_requests: usize,
    queue: VecDeque<InFlight>,
    /// Operations of the queued requests, back to back in queue order.
    ops: VecDeque<Op>,
}

impl Connection {
    /// A connection (without a socket yet) able to hold `pipeline` requests of up to
    /// `keys_per_request` operations without allocating.
    pub(crate) fn new(
        addr: SocketAddr,
        concurrency: usize,
        pipeline: usize,
        keys_per_request: usize,
    ) -> Connection {
        Connection {
            addr,
            concurrency,
            state: LinkState::Down,
            pending: Pending::default(),
            socket: None,
            retry: None,
            lost_reason: None,
            setup_failure: None,
            tls: None,
            encrypted: 0,
            recv_buf: vec![0; (RECV_BUF_PER_REQUEST * pipeline.max(1)).min(RECV_BUF_INITIAL_MAX)],
            parsed: 0,
            filled: 0,
            last_progress: None,
            answered: false,
            out: BytesMut::with_capacity(SEND_BUF_INITIAL),
            sending: BytesMut::with_capacity(SEND_BUF_INITIAL),
            sent_len: 0,
            unsent_requests: 0,
            queue: VecDeque::with_capacity(pipeline.max(1)),
            ops: VecDeque::with_capacity(pipeline.max(1) * keys_per_request.max(1)),
        }
    }

    /// Whether requests may be routed to it.
    pub(crate) fn is_up(&self) -> bool {
        self.state == LinkState::Up
    }

    /// Requests handed to it and not yet answered.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Completions the ring owes it that may come with nothing more from the driver: its
    /// connect, its send, and its receive while it awaits answers (an idle connection's
    /// receive completes only if the server speaks unasked).
    pub(crate) fn expected_completions(&self) -> usize {
        usize::from(self.pending.connect)
            + usize::from(self.pending.send)
            + usize::from(self.pending.recv && !self.queue.is_empty())
    }

    /// Since when it has waited for an answer without progress: the later of its oldest
    /// request's hand-off to the ring and the last bytes moved; `None` with nothing awaited.
    pub(crate) fn waiting_since(&self) -> Option<Instant> {
        let handed = self.queue.front().and_then(|request| request.handed)?;
        Some(
            self.last_progress
                .map_or(handed, |progress| progress.max(handed)),
        )
    }

    /// The ring moved bytes of this connection at `now`.
    pub(crate) fn progressed(&mut self, now: Instant) {
        self.last_progress = Some(now);
    }

    /// The buffer the next request is encoded into.
    pub(crate) fn out_buf(&mut self) -> &mut BytesMut {
        &mut self.out
    }

    /// Adds the request just encoded into [`Self::out_buf`] (its operations `ops`).
    pub(crate) fn push_request(
        &mut self,
        concurrency: usize,
        ops: &[Op],
        sent: Sent,
        due: Option<Instant>,
        measured: bool,
    ) {
        self.ops.extend(ops.iter().copied());
        self.queue.push_back(InFlight {
            concurrency,
            sent,
            keys: ops.len(),
            due,
            handed: None,
            measured,
            reply: Reply::default(),
        });
        self.unsent_requests += 1;
    }

    /// The bytes of the next send, when no send is in flight and requests wait: moves them
    /// into the send buffer, marks the send pending and stamps its requests as handed to the
    /// ring at `now`. The returned
    /// pointer stays valid until [`Self::on_sent`] says the send is complete.
    pub(crate) fn next_send(&mut self, now: Instant) -> Option<(*const u8, u32)> {
        if self.pending.send {
            return None;
        }
        let up = self.state == LinkState::Up;
        if let Some(tls) = self.tls.as_deref_mut() {
            // Requests become ciphertext here: this is where they are handed over.
            let handshaking = matches!(self.state, LinkState::Handshaking { .. });
            if up && !self.out.is_empty() {
                if tls.encrypt(&self.out).is_err() {
                    return None; // A closed session: the receive side reports why.
                }
                self.encrypted += self.out.len() as u64;
                self.out.clear();
                stamp_unsent(&mut self.queue, &mut self.unsent_requests, now);
            } else if !up && !handshaking {
                return None;
            }
            tls.take_ciphertext(&mut self.sending);
            if self.sending.is_empty() {
                return None;
            }
        } else {
            if self.out.is_empty() || !up {
                return None;
            }
            std::mem::swap(&mut self.out, &mut self.sending);
            self.out.clear();
            stamp_unsent(&mut self.queue, &mut self.unsent_requests, now);
        }
        self.pending.send = true;
        self.sent_len = 0;
        Some(self.remaining_send())
    }

    /// Starts `--tls` on a connection whose socket just connected: its handshake begins
    /// with the next send.
    pub(crate) fn start_tls(&mut self, session: rustls::ClientConnection, deadline: Instant) {
        self.tls = Some(Box::new(TlsLayer::new(session)));
        self.state = LinkState::Handshaking { deadline };
    }

    /// Whether the connection speaks TLS (its byte counts are of plaintext, as the server's).
    pub(crate) fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Handshaking, whether the handshake is over and its last flight has left: the
    /// connection may go up. (Requests wait for that, so no server sees application data
    /// in the same read as the client's Finished, and a request's latency never includes
    /// the handshake.)
    pub(crate) fn handshake_flight_sent(&self) -> bool {
        matches!(self.state, LinkState::Handshaking { .. })
            && !self.pending.send
            && self
                .tls
                .as_deref()
                .is_some_and(|tls| !tls.is_handshaking() && !tls.wants_send())
    }

    /// With TLS, whether ciphertext waits to be sent (a handshake flight, say).
    pub(crate) fn wants_send(&self) -> bool {
        self.tls.as_deref().is_some_and(TlsLayer::wants_send)
    }

    /// Plaintext request bytes encrypted since the last call: what the server will count as
    /// read.
    pub(crate) fn take_encrypted(&mut self) -> u64 {
        std::mem::take(&mut self.encrypted)
    }

    fn remaining_send(&self) -> (*const u8, u32) {
        let rest = &self.sending[self.sent_len..];
        let len = u32::try_from(rest.len()).unwrap_or(u32::MAX);
        (rest.as_ptr(), len)
    }

    /// The send in flight moved `written` bytes: the rest of it to send (still pending), if
    /// any.
    pub(crate) fn on_sent(&mut self, written: usize) -> Option<(*const u8, u32)> {
        self.sent_len += written;
        if self.sent_len < self.sending.len() {
            return Some(self.remaining_send());
        }
        self.pending.send = false;
        self.sending.clear();
        None
    }

    /// Received bytes that no request sent so far can account for (none is awaiting an
    /// answer): a server speaking first, such as memcached refusing a connection over its
    /// limit.
    pub(crate) fn unsolicited(&self) -> Option<&[u8]> {
        let awaiting = self
            .queue
            .front()
            .is_some_and(|request| request.handed.is_some());
        let received = &self.recv_buf[self.parsed..self.filled];
        (!awaiting && !received.is_empty()).then_some(received)
    }

    /// The first bytes of a connection that has not yet had a reply parsed (a refusal can
    /// overtake the first request).
    pub(crate) fn first_bytes(&self) -> Option<&[u8]> {
        (!self.answered).then(|| &self.recv_buf[self.parsed..self.filled])
    }

    /// Where the ring may write received bytes: after what is buffered, growing the buffer
    /// when it is full. Valid until the receive's completion.
    pub(crate) fn recv_target(&mut self) -> (*mut u8, u32) {
        self.drop_parsed();
        if let Some(tls) = self.tls.as_deref_mut() {
            return tls.recv_target();
        }
        if self.filled == self.recv_buf.len() {
            let grown = self.recv_buf.len() * 2;
            self.recv_buf.resize(grown, 0);
        }
        let rest = &mut self.recv_buf[self.filled..];
        let len = u32::try_from(rest.len()).unwrap_or(u32::MAX);
        (rest.as_mut_ptr(), len)
    }

    /// Moves the unparsed bytes to the front of the receive buffer (once per arrival, not once
    /// per reply).
    fn drop_parsed(&mut self) {
        if self.parsed > 0 {
            self.recv_buf.copy_within(self.parsed..self.filled, 0);
            self.filled -= self.parsed;
            self.parsed = 0;
        }
    }

    /// Appends `bytes` that a multishot receive put in a provided buffer (never with TLS,
    /// whose ciphertext has a buffer of its own), growing the receive buffer as needed.
    pub(crate) fn append_received(&mut self, bytes: &[u8]) {
        debug_assert!(self.tls.is_none(), "TLS receives one-shot");
        self.drop_parsed();
        let end = self.filled + bytes.len();
        if end > self.recv_buf.len() {
            let grown = end.max(self.recv_buf.len() * 2);
            self.recv_buf.resize(grown, 0);
        }
        self.recv_buf[self.filled..end].copy_from_slice(bytes);
        self.filled = end;
    }

    /// The ring wrote `len` bytes at [`Self::recv_target`]; returns the plaintext bytes they
    /// made (with TLS, what is left of them once decrypted).
    ///
    /// # Errors
    /// With TLS, the session's: a bad record, an alert, a refused certificate.
    pub(crate) fn on_received(&mut self, len: usize) -> Result<usize, rustls::Error> {
        match self.tls.as_deref_mut() {
            Some(tls) => tls.absorb(len, &mut self.recv_buf, &mut self.filled),
            None => {
                self.filled = (self.filled + len).min(self.recv_buf.len());
                Ok(len)
            }
        }
    }

    /// Parses the oldest request's reply from the received bytes. When it is complete, the
    /// request leaves the queue: it is returned, with its operations in `ops` (cleared
    /// first). `parse` gets the request's operations, its reply progress and the bytes, and
    /// returns the reply's length once it is whole.
    ///
    /// # Errors
    /// The bytes are not a reply to that request, or came before it was sent.
    pub(crate) fn next_reply(
        &mut self,
        ops: &mut Vec<Op>,
        parse: impl FnOnce(&[Op], &mut Reply, &[u8]) -> Result<Option<usize>, ProtoError>,
    ) -> Result<Option<InFlight>, ProtoError> {
        let received = &self.recv_buf[self.parsed..self.filled];
        let Some((request, len)) =
            take_front(&mut self.queue, &mut self.ops, received, ops, parse)?
        else {
            return Ok(None);
        };
        self.answered = true;
        self.parsed = (self.parsed + len).min(self.filled);
        if self.parsed == self.filled {
            (self.parsed, self.filled) = (0, 0); // The common case: nothing behind the reply.
        }
        Ok(Some(request))
    }

    /// Whether bytes that just arrived may be parsed where they landed (a provided buffer)
    /// with [`Self::next_reply_in`]: nothing is buffered ahead of them, a sent request awaits
    /// them, and the connection has been answered before (so they cannot be a refusal).
    pub(crate) fn can_parse_in_place(&self) -> bool {
        self.parsed == self.filled
            && self.answered
            && self.tls.is_none()
            && self
                .queue
                .front()
                .is_some_and(|request| request.handed.is_some())
    }

    /// [`Self::next_reply`] from `bytes[*taken..]`, bytes outside the connection (see
    /// [`Self::can_parse_in_place`]); a whole reply advances `taken` past itself. Bytes left
    /// over are the caller's to [`append`](Self::append_received).
    ///
    /// # Errors
    /// As [`Self::next_reply`].
    pub(crate) fn next_reply_in(
        &mut self,
        bytes: &[u8],
        taken: &mut usize,
        ops: &mut Vec<Op>,
        parse: impl FnOnce(&[Op], &mut Reply, &[u8]) -> Result<Option<usize>, ProtoError>,
    ) -> Result<Option<InFlight>, ProtoError> {
        debug_assert_eq!(self.parsed, self.filled, "bytes are buffered ahead");
        let rest = &bytes[*taken..];
        let Some((request, len)) = take_front(&mut self.queue, &mut self.ops, rest, ops, parse)?
        else {
            return Ok(None);
        };
        self.answered = true;
        *taken += len.min(rest.len());
        Ok(Some(request))
    }

    /// Takes out the oldest request that will get no answer (the connection failed), with its
    /// operations in `ops`.
    pub(crate) fn abandon_next(&mut self, ops: &mut Vec<Op>) -> Option<InFlight> {
        let request = self.queue.pop_front()?;
        ops.clear();
        ops.extend(self.ops.drain(..request.keys));
        Some(request)
    }

    /// Forgets every buffered byte and send (after the socket is gone; no operation of the
    /// ring refers to the buffers any more).
    pub(crate) fn reset_buffers(&mut self) {
        debug_assert!(!self.pending.any(), "the ring still uses the buffers");
        (self.parsed, self.filled) = (0, 0);
        self.last_progress = None;
        self.answered = false;
        self.out.clear();
        self.sending.clear();
        self.sent_len = 0;
        self.unsent_requests = 0;
        self.tls = None;
        self.encrypted = 0;
    }
}

/// Parses the reply of the oldest request in `queue` (its operations first in `op_queue`) from
/// `received`; once whole, takes the request out with its length, its operations in `ops`.
fn take_front(
    queue: &mut VecDeque<InFlight>,
    op_queue: &mut VecDeque<Op>,
    received: &[u8],
    ops: &mut Vec<Op>,
    parse: impl FnOnce(&[Op], &mut Reply, &[u8]) -> Result<Option<usize>, ProtoError>,
) -> Result<Option<(InFlight, usize)>, ProtoError> {
    let Some(front) = queue.front_mut() else {
        return Ok(None);
    };
    let keys = front.keys;
    if front.handed.is_none() {
        // Bytes for a request the server cannot have seen: the stream is not ours.
        return match received.is_empty() {
            true => Ok(None),
            false => Err(ProtoError::UnexpectedData {
                len: received.len(),
            }),
        };
    }
    let front_ops = &op_queue.make_contiguous()[..keys];
    let Some(len) = parse(front_ops, &mut front.reply, received)? else {
        return Ok(None);
    };
    ops.clear();
    ops.extend(op_queue.drain(..keys));
    Ok(queue.pop_front().map(|request| (request, len)))
}

/// The `unsent` newest requests of `queue` are handed to the ring at `now`.
fn stamp_unsent(queue: &mut VecDeque<InFlight>, unsent: &mut usize, now: Instant) {
    let newest = queue.len() - *unsent;
    *unsent = 0;
    for request in queue.range_mut(newest..) {
        request.handed = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use shardslap_workload::OpKind;

    use super::*;

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 11211))
    }

    fn op(slot: usize) -> Op {
        Op {
            kind: OpKind::Get,
            slot,
            overwrite: false,
            verify: false,
        }
    }

    fn sent(written: u64) -> Sent {
        Sent {
            kind: OpKind::Get,
            keys: 1,
            written,
            object_bytes: 0,
        }
    }

    /// Replies are lines; a request's reply is complete at its first newline.
    fn line_parse(_: &[Op], _: &mut Reply, bytes: &[u8]) -> Result<Option<usize>, ProtoError> {
        Ok(bytes.iter().position(|&b| b == b'\n').map(|i| i + 1))
    }

    fn feed(conn: &mut Connection, bytes: &[u8]) {
        let (ptr, len) = conn.recv_target();
        assert!(bytes.len() <= len as usize);
        // SAFETY: `recv_target` points at `len` writable bytes of the connection's buffer.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
        conn.on_received(bytes.len()).unwrap();
    }

    fn up(pipeline: usize) -> Connection {
        let mut conn = Connection::new(addr(), 0, pipeline, 2);
        conn.state = LinkState::Up;
        conn
    }

    fn request(conn: &mut Connection, slots: &[usize], text: &[u8]) {
        conn.out_buf().extend_from_slice(text);
        let ops: Vec<Op> = slots.iter().map(|&s| op(s)).collect();
        conn.push_request(0, &ops, sent(text.len() as u64), None, true);
    }

    #[test]
    fn replies_split_in_any_fragments_go_to_their_requests_in_order() {
        let stream = b"one\ntwo\nthree\n";
        for fragment in [1, 2, 5, stream.len()] {
            let mut conn = up(4);
            request(&mut conn, &[1], b"get a\r\n");
            request(&mut conn, &[2, 3], b"get b c\r\n");
            request(&mut conn, &[4], b"get d\r\n");
            let now = Instant::now();
            let (_, len) = conn.next_send(now).expect("a send");
            assert_eq!(len, 23);
            assert_eq!(conn.on_sent(23), None);
            let mut done = Vec::new();
            let mut ops = Vec::new();
            for chunk in stream.chunks(fragment) {
                feed(&mut conn, chunk);
                while let Some(request) = conn.next_reply(&mut ops, line_parse).unwrap() {
                    assert_eq!(request.latency_start(), Some(now));
                    done.push(ops.iter().map(|op| op.slot).collect::<Vec<_>>());
                }
            }
            assert_eq!(
                done,
                vec![vec![1], vec![2, 3], vec![4]],
                "fragment {fragment}"
            );
            assert_eq!(conn.queued(), 0);
        }
    }

    #[test]
    fn a_short_send_continues_where_it_stopped_and_requests_wait_their_turn() {
        let mut conn = up(4);
        request(&mut conn, &[1], b"get a\r\n");
        let first = Instant::now();
        assert!(conn.next_send(first).is_some());
        // While that send is in flight, the next request waits in the other buffer.
        request(&mut conn, &[2], b"get b\r\n");
        assert!(conn.next_send(first).is_none());
        let (_, rest) = conn.on_sent(3).expect("the rest");
        assert_eq!(rest, 4);
        assert_eq!(conn.on_sent(4), None);
        let later = first + Duration::from_millis(1);
        let (_, len) = conn.next_send(later).expect("the second send");
        assert_eq!(len, 7);
        assert_eq!(conn.waiting_since(), Some(first));
        let mut ops = Vec::new();
        feed(&mut conn, b"A\n");
        conn.next_reply(&mut ops, line_parse).unwrap().unwrap();
        assert_eq!(conn.waiting_since(), Some(later));
        // Bytes moved after the hand-off push the response timeout back.
        let progress = later + Duration::from_millis(5);
        conn.progressed(progress);
        assert_eq!(conn.waiting_since(), Some(progress));
        let abandoned = conn.abandon_next(&mut ops).expect("one left");
        assert_eq!(abandoned.handed, Some(later));
        assert_eq!(ops, vec![op(2)]);
        assert_eq!(conn.waiting_since(), None, "nothing awaited");
    }

    #[test]
    fn only_a_send_in_flight_and_a_receive_awaiting_answers_are_owed_completions() {
        let mut conn = up(4);
        conn.pending.recv = true;
        assert_eq!(
            conn.expected_completions(),
            0,
            "an idle receive is not owed"
        );
        request(&mut conn, &[1], b"get a\r\n");
        request(&mut conn, &[2], b"get b\r\n");
        assert!(conn.next_send(Instant::now()).is_some());
        assert_eq!(conn.expected_completions(), 2, "the send and the receive");
        assert_eq!(conn.on_sent(14), None);
        assert_eq!(
            conn.expected_completions(),
            1,
            "the receive, once per connection"
        );
        let mut ops = Vec::new();
        feed(&mut conn, b"A\nB\n");
        conn.next_reply(&mut ops, line_parse).unwrap().unwrap();
        conn.next_reply(&mut ops, line_parse).unwrap().unwrap();
        assert_eq!(conn.expected_completions(), 0, "every answer is in");
    }

    #[test]
    fn a_paced_request_counts_latency_from_its_due_time_and_timeout_from_the_ring() {
        let mut conn = up(2);
        let due = Instant::now();
        conn.out_buf().extend_from_slice(b"get a\r\n");
        conn.push_request(0, &[op(1)], sent(7), Some(due), true);
        let handed = due + Duration::from_millis(3);
        conn.next_send(handed);
        assert_eq!(conn.waiting_since(), Some(handed));
        let mut ops = Vec::new();
        conn.on_sent(7);
        feed(&mut conn, b"A\n");
        let request = conn.next_reply(&mut ops, line_parse).unwrap().unwrap();
        assert_eq!(request.latency_start(), Some(due));
    }

    #[test]
    fn bytes_appended_from_provided_buffers_split_into_replies_as_received_ones_do() {
        let stream = b"one\ntwo\nthree\n";
        for fragment in [1, 2, 5, stream.len()] {
            let mut conn = up(4);
            request(&mut conn, &[1], b"get a\r\n");
            request(&mut conn, &[2], b"get b\r\n");
            request(&mut conn, &[3], b"get c\r\n");
            conn.next_send(Instant::now()).expect("a send");
            assert_eq!(conn.on_sent(21), None);
            let mut done = Vec::new();
            let mut ops = Vec::new();
            for chunk in stream.chunks(fragment) {
                conn.append_received(chunk);
                while let Some(request) = conn.next_reply(&mut ops, line_parse).unwrap() {
                    assert!(request.latency_start().is_some());
                    done.push(ops[0].slot);
                }
            }
            assert_eq!(done, vec![1, 2, 3], "fragment {fragment}");
        }
        // A reply longer than the receive buffer grows it, whatever was parsed before.
        let mut conn = up(1);
        request(&mut conn, &[1], b"get a\r\n");
        request(&mut conn, &[2], b"get b\r\n");
        conn.next_send(Instant::now());
        conn.on_sent(14);
        let mut ops = Vec::new();
        conn.append_received(b"short\nlo");
        assert!(conn.next_reply(&mut ops, line_parse).unwrap().is_some());
        let long = vec![b'x'; RECV_BUF_PER_REQUEST * 3];
        conn.append_received(&long);
        assert!(conn.next_reply(&mut ops, line_parse).unwrap().is_none());
        conn.append_received(b"\n");
        assert!(conn.next_reply(&mut ops, line_parse).unwrap().is_some());
        assert_eq!(ops, vec![op(2)]);
    }

    #[test]
    fn lent_bytes_are_parsed_in_place_once_answered_and_the_rest_is_kept() {
        let mut conn = up(4);
        request(&mut conn, &[1], b"get a\r\n");
        assert!(!conn.can_parse_in_place(), "not sent yet");
        conn.next_send(Instant::now()).expect("a send");
        assert_eq!(conn.on_sent(7), None);
        assert!(
            !conn.can_parse_in_place(),
            "a first reply may be a refusal: it is buffered"
        );
        conn.append_received(b"one\n");
        let mut ops = Vec::new();
        conn.next_reply(&mut ops, line_parse)
            .unwrap()
            .expect("first");
        assert!(!conn.can_parse_in_place(), "nothing awaited");
        request(&mut conn, &[2], b"get b\r\n");
        request(&mut conn, &[3], b"get c\r\n");
        conn.next_send(Instant::now()).expect("a send");
        assert!(conn.can_parse_in_place());
        // Two replies in place, then a third cut short: the caller keeps its start.
        let lent = b"two\nthree\nfo";
        let mut taken = 0;
        let done = conn
            .next_reply_in(lent, &mut taken, &mut ops, line_parse)
            .unwrap()
            .expect("second");
        assert_eq!(
            (done.latency_start().is_some(), taken, ops.clone()),
            (true, 4, vec![op(2)])
        );
        conn.next_reply_in(lent, &mut taken, &mut ops, line_parse)
            .unwrap()
            .expect("third");
        assert_eq!((taken - 4, ops.clone()), (6, vec![op(3)]));
        assert!(conn
            .next_reply_in(lent, &mut taken, &mut ops, line_parse)
            .unwrap()
            .is_none());
        conn.append_received(&lent[taken..]);
        assert!(!conn.can_parse_in_place(), "bytes are buffered ahead");
    }

    #[test]
    fn a_reply_larger_than_the_buffer_grows_it() {
        let mut conn = up(1);
        request(&mut conn, &[1], b"get a\r\n");
        conn.next_send(Instant::now());
        conn.on_sent(7);
        let big = vec![b'x'; RECV_BUF_INITIAL_MAX * 3];
        let mut ops = Vec::new();
        for chunk in big.chunks(4096) {
            feed(&mut conn, chunk);
            assert!(conn.next_reply(&mut ops, line_parse).unwrap().is_none());
        }
        feed(&mut conn, b"\n");
        assert!(conn.next_reply(&mut ops, line_parse).unwrap().is_some());
    }

    #[test]
    fn bytes_with_no_request_wait_for_one_but_not_before_it_is_sent() {
        let mut conn = up(1);
        feed(&mut conn, b"stray\n");
        let mut ops = Vec::new();
        assert!(conn.next_reply(&mut ops, line_parse).unwrap().is_none());
        request(&mut conn, &[1], b"get a\r\n");
        assert!(
            conn.next_reply(&mut ops, line_parse).is_err(),
            "not sent yet"
        );
    }
}
