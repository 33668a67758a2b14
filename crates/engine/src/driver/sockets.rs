//! The driver's sockets: each connection's connect, receive, send, failure and close through
//! the ring, with the server refusals a connection can meet at its start.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Instant;

use io_uring::{opcode, squeue};

use super::concurrency::Phase;
use super::connection::{AfterClose, LinkState, Retry};
use super::requests::Lent;
use super::{
    Driver, Stage, RECONNECT_BACKOFF_MAX, RECONNECT_BACKOFF_MIN, RECVSEND_POLL_FIRST,
    RECV_MULTISHOT,
};
use crate::link::LinkError;
use crate::request::{self, Failure, Sent};
use crate::shard::ShardMsg;
use crate::uring::{on_socket, provided, Completion, OpTag, Socket, Token};

/// Where the bytes of one arrival went (see [`Driver::place_arrival`]).
enum Placed {
    /// Left in the provided buffer they landed in, to be parsed there.
    InProvidedBuffer(Lent),
    /// In the connection's receive buffer (copied there, or received there, or decrypted).
    InConnection,
    /// They failed the connection (a TLS error); nothing more to do with them.
    Failed,
}

impl Driver {
    /// Opens a socket for `connection` and queues its connect.
    pub(super) fn start_connect(&mut self, connection: usize, now: Instant) {
        let addr = self.connections[connection].addr;
        let family = if addr.is_ipv6() {
            libc::AF_INET6
        } else {
            libc::AF_INET
        };
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            self.connect_failed(connection, io::Error::last_os_error(), now);
            return;
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let fd = with_nodelay(unsafe { OwnedFd::from_raw_fd(fd) });
        let socket = self.ring.adopt(connection, fd);
        let sockaddr = &self.sockaddrs[connection];
        let (storage, len) = ((&raw const sockaddr.storage).cast(), sockaddr.len);
        let entry =
            on_socket!(socket.name(), target => opcode::Connect::new(target, storage, len)).build();
        let conn = &mut self.connections[connection];
        conn.socket = Some(socket);
        conn.state = LinkState::Connecting {
            deadline: now + self.settings.behaviour.timeout,
        };
        conn.pending.connect = true;
        // SAFETY: the address lives in `sockaddrs`, which is never moved or freed while the
        // driver lives, and the socket stays open until the connect's completion is reaped.
        self.push(entry, connection, OpTag::Connect);
    }

    pub(super) fn on_connect_done(&mut self, connection: usize, result: i32, now: Instant) {
        let conn = &mut self.connections[connection];
        conn.pending.connect = false;
        match conn.state {
            // EISCONN: a kernel that reports a connect finished behind its back.
            LinkState::Connecting { .. } if result >= 0 || result == -libc::EISCONN => {
                if let Some(tls) = &self.tls {
                    let deadline = now + self.settings.behaviour.timeout;
                    match tls.session(conn.addr) {
                        Ok(session) => {
                            conn.start_tls(session, deadline);
                            self.arm_recv(connection);
                            self.mark_dirty(connection); // The ClientHello goes out.
                        }
                        Err(err) => self.handshake_failed(connection, err.to_string(), now),
                    }
                    return;
                }
                self.link_up(connection, now);
            }
            LinkState::Connecting { .. } => {
                conn.state = LinkState::Down;
                self.close_socket(connection);
                self.connect_failed(connection, io::Error::from_raw_os_error(-result), now);
            }
            LinkState::Closing { .. } => self.finish_close_if_idle(connection, now),
            LinkState::Handshaking { .. } | LinkState::Up | LinkState::Down => {}
        }
    }

    /// The connection is ready for requests: its socket is connected (and, with TLS, the
    /// handshake is done).
    pub(super) fn link_up(&mut self, connection: usize, now: Instant) {
        let conn = &mut self.connections[connection];
        let handshaken = matches!(conn.state, LinkState::Handshaking { .. });
        conn.state = LinkState::Up;
        {
            let index = conn.concurrency;
            let slot = self.concurrencies[index].shard;
            if let Some(retry) = conn.retry.take() {
                let state = &self.shards[slot].state;
                state
                    .notes
                    .reconnect(conn.addr, now.saturating_duration_since(retry.lost_at));
                state.stats.borrow_mut().counters.reconnects += 1;
            }
            conn.lost_reason = None;
            if !handshaken {
                self.arm_recv(connection); // (A handshake's receive is armed already.)
            }
            let all_up = self.links[index]
                .connections
                .iter()
                .all(|&c| self.connections[c].is_up());
            if all_up && self.concurrencies[index].phase == Phase::Connecting {
                self.concurrencies[index].connected();
                let conc = &self.concurrencies[index];
                self.shards[conc.shard].warmup_total += conc.window.warmup_len() as u64;
            }
            self.queue(index);
            self.note_progress(index);
        }
    }

    /// The TLS handshake of `connection` failed: it closes, then fails as a connect does.
    pub(super) fn handshake_failed(&mut self, connection: usize, reason: String, now: Instant) {
        self.connections[connection].setup_failure = Some(reason);
        self.begin_close(connection, AfterClose::HandshakeFailed, now);
    }

    /// A connect failed: a reconnect with `-R` tries again later (backing off); otherwise
    /// the concurrency ends.
    pub(super) fn connect_failed(&mut self, connection: usize, err: io::Error, now: Instant) {
        let error = LinkError::Connect {
            addr: self.connections[connection].addr,
            reason: crate::preflight::connect_reason(&err, self.settings.behaviour.timeout),
        };
        self.setup_failed(connection, error, now);
    }

    /// A connection could not be set up (connect or TLS handshake): as [`Self::connect_failed`].
    pub(super) fn setup_failed(&mut self, connection: usize, error: LinkError, now: Instant) {
        let reconnect = self.settings.behaviour.reconnect;
        self.close_socket(connection);
        let conn = &mut self.connections[connection];
        conn.state = LinkState::Down;
        let index = conn.concurrency;
        match conn.retry.as_mut() {
            Some(retry) => {
                retry.next_attempt = now + retry.backoff;
                retry.backoff = (retry.backoff * 2).min(RECONNECT_BACKOFF_MAX);
                if !reconnect {
                    // A recycle's reconnect failed: the concurrency ends with the fault that
                    // made it recycle.
                    let reason = conn.lost_reason.take().unwrap_or_else(|| error.to_string());
                    self.fault(index, reason);
                }
            }
            None => self.fault(index, error.to_string()),
        }
    }

    /// Arms the connection's receive: one multishot receive for the connection's life where
    /// the ring provides buffers (not with TLS), else a one-shot receive into its own buffer.
    pub(super) fn arm_recv(&mut self, connection: usize) {
        let multishot =
            self.ring.provided_buffers().is_some() && !self.connections[connection].is_tls();
        let conn = &mut self.connections[connection];
        let Some(socket) = conn.socket.as_ref().map(Socket::name) else {
            return;
        };
        conn.pending.recv = true;
        // The socket was just drained (or just connected): poll before the first attempt
        // instead of trying a receive that would only fail.
        let entry = if multishot {
            on_socket!(socket, target => opcode::Recv::new(target, std::ptr::null_mut(), 0))
                .ioprio(RECVSEND_POLL_FIRST | RECV_MULTISHOT)
                .buf_group(provided::GROUP)
                .build()
                .flags(squeue::Flags::BUFFER_SELECT)
        } else {
            let (buf, len) = conn.recv_target();
            on_socket!(socket, target => opcode::Recv::new(target, buf, len))
                .ioprio(RECVSEND_POLL_FIRST)
                .build()
        };
        // SAFETY: a one-shot receive writes into the connection's buffer, which it neither
        // moves nor resizes while `pending.recv` is set; a multishot one into the ring's
        // provided buffers, which outlive the ring's operations. The socket stays open until
        // the last completion is reaped.
        self.push(entry, connection, OpTag::Recv);
    }

    pub(super) fn on_recv_done(&mut self, connection: usize, completion: Completion, now: Instant) {
        self.on_received(connection, completion, now);
        if let Some(bid) = completion.buffer {
            // Its bytes are handled (parsed, or kept in the connection): the next arrival may
            // take it, whatever became of the connection.
            self.ring.give_back_buffer(bid);
        }
    }

    fn on_received(&mut self, connection: usize, completion: Completion, now: Instant) {
        let result = completion.result;
        let conn = &mut self.connections[connection];
        // A multishot receive stays armed until a completion without `more` ends it.
        conn.pending.recv = completion.more;
        if result > 0 && !conn.is_tls() {
            // What the server wrote, whatever becomes of the connection.
            let slot = self.concurrencies[conn.concurrency].shard;
            let counters = &mut self.shards[slot].state.stats.borrow_mut().counters;
            counters.read_bytes += result as u64;
        }
        if let LinkState::Handshaking { .. } = conn.state {
            self.on_handshake_recv(connection, result, now);
            return;
        }
        if conn.state != LinkState::Up {
            self.finish_close_if_idle(connection, now);
            return;
        }
        let addr = conn.addr;
        match result {
            len if len > 0 => {
                let lent =
                    match self.place_arrival(connection, completion.buffer, len as usize, now) {
                        Placed::InProvidedBuffer(lent) => Some(lent),
                        Placed::InConnection => None,
                        Placed::Failed => return,
                    };
                self.connections[connection].progressed(now);
                self.take_replies(connection, lent, now);
                let conn = &self.connections[connection];
                if conn.is_up() && !conn.pending.recv {
                    self.arm_recv(connection);
                }
            }
            0 => self.fail(connection, LinkError::Closed { addr }, now),
            // Every provided buffer was taken, which ends a multishot receive; buffers go
            // back as their completions are handled, so it is armed again.
            errno if errno == -libc::ENOBUFS && !conn.pending.recv => self.arm_recv(connection),
            errno => {
                let source = io::Error::from_raw_os_error(-errno);
                self.fail(connection, LinkError::Io { addr, source }, now);
            }
        }
    }

    /// Puts `len` bytes that arrived on an up connection (in the provided buffer `buffer`,
    /// or in its own receive buffer) where its replies will be parsed from.
    fn place_arrival(
        &mut self,
        connection: usize,
        buffer: Option<u16>,
        len: usize,
        now: Instant,
    ) -> Placed {
        let conn = &mut self.connections[connection];
        match buffer {
            // The common case: parsed where it landed, nothing copied.
            Some(bid) if conn.can_parse_in_place() => {
                return Placed::InProvidedBuffer(Lent { bid, len });
            }
            Some(bid) => {
                if let Some(buffers) = self.ring.provided_buffers() {
                    conn.append_received(buffers.bytes(bid, len));
                }
                return Placed::InConnection;
            }
            None => {}
        }
        match conn.on_received(len) {
            Ok(plain) if conn.is_tls() => {
                // The server counts the plaintext it wrote, not the records.
                let slot = self.concurrencies[conn.concurrency].shard;
                let wants_send = conn.wants_send();
                self.shards[slot]
                    .state
                    .stats
                    .borrow_mut()
                    .counters
                    .read_bytes += plain as u64;
                if wants_send {
                    self.mark_dirty(connection);
                }
            }
            Ok(_) => {}
            Err(err) => {
                let (addr, reason) = (conn.addr, err.to_string());
                self.fail(connection, LinkError::Tls { addr, reason }, now);
                return Placed::Failed;
            }
        }
        Placed::InConnection
    }

    /// Handshake bytes arrived (or the socket ended) on a connection that is handshaking.
    pub(super) fn on_handshake_recv(&mut self, connection: usize, result: i32, now: Instant) {
        let conn = &mut self.connections[connection];
        let failure = match result {
            len if len > 0 => match conn.on_received(len as usize) {
                Ok(_) => None,
                Err(err) => Some(format!("TLS handshake failed: {err}")),
            },
            0 => Some("the server closed the connection during the TLS handshake".to_owned()),
            errno => Some(io::Error::from_raw_os_error(-errno).to_string()),
        };
        if let Some(reason) = failure {
            self.handshake_failed(connection, reason, now);
            return;
        }
        if conn.handshake_flight_sent() {
            self.link_up(connection, now);
        } else if conn.wants_send() {
            // Its last flight goes first; the connection is up once the kernel has it.
            self.mark_dirty(connection);
        }
        self.arm_recv(connection);
    }

    pub(super) fn push_send(&mut self, connection: usize, buf: *const u8, len: u32) {
        let conn = &mut self.connections[connection];
        let Some(socket) = conn.socket.as_ref().map(Socket::name) else {
            conn.pending.send = false; // No socket (cannot happen while up): nothing to send.
            return;
        };
        let entry = on_socket!(socket, target => opcode::Send::new(target, buf, len))
            .flags(libc::MSG_NOSIGNAL)
            .build();
        // SAFETY: the bytes are the connection's send buffer, left untouched while
        // `pending.send` is set; the socket stays open until the completion is reaped.
        self.push(entry, connection, OpTag::Send);
    }

    pub(super) fn on_send_done(&mut self, connection: usize, result: i32, now: Instant) {
        let conn = &mut self.connections[connection];
        let open = matches!(conn.state, LinkState::Up | LinkState::Handshaking { .. });
        if !open || result <= 0 {
            conn.pending.send = false;
        }
        if result > 0 {
            conn.progressed(now);
            if !conn.is_tls() {
                // Request bytes count as written once the kernel took them, as a socket
                // write. (TLS counts its plaintext when it is encrypted: see `flush`.)
                let slot = self.concurrencies[conn.concurrency].shard;
                let counters = &mut self.shards[slot].state.stats.borrow_mut().counters;
                counters.written_bytes += result as u64;
            }
        }
        if !open {
            self.finish_close_if_idle(connection, now);
            return;
        }
        let addr = conn.addr;
        if result <= 0 {
            let source = match result {
                0 => io::Error::from(io::ErrorKind::WriteZero),
                errno => io::Error::from_raw_os_error(-errno),
            };
            if conn.state == LinkState::Up {
                self.fail(connection, LinkError::Io { addr, source }, now);
            } else {
                self.handshake_failed(connection, source.to_string(), now);
            }
            return;
        }
        match conn.on_sent(result as usize) {
            Some((buf, len)) => self.push_send(connection, buf, len),
            None if conn.handshake_flight_sent() => self.link_up(connection, now),
            // Requests encoded while this send was in flight go in the next turn's flush.
            None => self.mark_dirty(connection),
        }
    }

    /// A connection failed: every request it holds is accounted as unanswered, then it is
    /// closed and recycled at once (a stall or a desynchronised stream), reconnected later
    /// with `-R`, or left down and its concurrency ended.
    pub(super) fn fail(&mut self, connection: usize, err: LinkError, now: Instant) {
        if self.connections[connection].state != LinkState::Up {
            return;
        }
        let index = self.connections[connection].concurrency;
        let slot = self.concurrencies[index].shard;
        let recycle =
            err.count_and_recycle(&mut self.shards[slot].state.stats.borrow_mut().counters);
        // The first request gets no answer and the connection is lost once; those behind it
        // in the pipeline are abandoned.
        let mut failure = Failure::Connection;
        while let Some(request) = self.connections[connection].abandon_next(&mut self.ops_buf) {
            let sent = Sent {
                written: 0,
                ..request.sent
            };
            let owner = request.concurrency;
            let conc = &mut self.concurrencies[owner];
            let state = &self.shards[conc.shard].state;
            request::account_failure(
                &mut state.stats.borrow_mut(),
                &mut conc.window,
                &self.ops_buf,
                sent,
                0,
                request.measured,
                failure,
            );
            failure = Failure::Abandoned;
            conc.completed(&self.ops_buf);
        }
        if failure == Failure::Connection {
            // Lost while idle: no request failed, but the connection was lost all the same.
            self.shards[slot]
                .state
                .stats
                .borrow_mut()
                .counters
                .disconnects += 1;
        }
        let conn = &mut self.connections[connection];
        if self.stage == Stage::Running {
            // Before the start a failure ends the run with its own line; notes are noise.
            self.shards[slot].state.notes.disconnect(conn.addr, &err);
        }
        conn.retry = Some(Retry {
            lost_at: now,
            next_attempt: now,
            backoff: RECONNECT_BACKOFF_MIN,
        });
        if recycle {
            conn.lost_reason = Some(err.to_string());
            self.begin_close(connection, AfterClose::Recycle, now);
        } else if let LinkError::Refused { .. } = err {
            // Reconnecting would be refused again (-R or not): the run ends unmeasured.
            conn.retry = None;
            self.begin_close(connection, AfterClose::StayDown, now);
            let _ = self.tx.send(ShardMsg::Refused {
                shard: self.shards[slot].shard,
                reason: err.to_string(),
            });
            self.concurrencies[index].finish();
        } else {
            self.begin_close(connection, AfterClose::StayDown, now);
            if !self.settings.behaviour.reconnect {
                self.fault(index, err.to_string());
            }
        }
        self.queue(index);
        self.note_progress(index);
    }

    /// Shuts the socket down and cancels what the ring holds of it; the close completes once
    /// the ring has given back every operation.
    pub(super) fn begin_close(&mut self, connection: usize, next: AfterClose, now: Instant) {
        let conn = &mut self.connections[connection];
        conn.state = LinkState::Closing { next };
        if let Some(socket) = &conn.socket {
            // SAFETY: shutdown(2) on a descriptor the connection owns; errors are harmless.
            unsafe { libc::shutdown(socket.raw_fd(), libc::SHUT_RDWR) };
        }
        let pending = conn.pending;
        for (held, op) in [
            (pending.connect, OpTag::Connect),
            (pending.send, OpTag::Send),
            (pending.recv, OpTag::Recv),
        ] {
            if held {
                let target = Token {
                    connection: connection as u32,
                    op,
                };
                let entry = opcode::AsyncCancel::new(target.to_user_data()).build();
                // SAFETY: a cancellation refers to no memory.
                self.push(entry, connection, OpTag::Cancel);
            }
        }
        self.finish_close_if_idle(connection, now);
    }

    pub(super) fn finish_close_if_idle(&mut self, connection: usize, now: Instant) {
        let conn = &mut self.connections[connection];
        let LinkState::Closing { next } = conn.state else {
            return;
        };
        if conn.pending.any() {
            return;
        }
        conn.state = LinkState::Down;
        conn.reset_buffers();
        self.close_socket(connection);
        match next {
            AfterClose::Recycle => self.start_connect(connection, now),
            AfterClose::StayDown => {}
            AfterClose::ConnectTimedOut => {
                self.connect_failed(connection, io::Error::from(io::ErrorKind::TimedOut), now);
            }
            AfterClose::HandshakeFailed => {
                let conn = &mut self.connections[connection];
                let error = LinkError::Tls {
                    addr: conn.addr,
                    reason: conn.setup_failure.take().unwrap_or_default(),
                };
                self.setup_failed(connection, error, now);
            }
        }
    }

    /// Closes the socket of `connection`, if it has one; nothing of it may be in flight.
    pub(super) fn close_socket(&mut self, connection: usize) {
        if let Some(socket) = self.connections[connection].socket.take() {
            self.ring.close(socket);
        }
    }
}

/// memcached's line for a connection over its `-c` limit (it closes the connection after it).
const TOO_MANY_CONNECTIONS: &[u8] = b"ERROR Too many open connections";

/// Which server lines [`refusal`] takes for a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusals {
    /// Any error line: nothing was asked, so nothing else can explain it.
    Any,
    /// Only memcached's connection limit (a first request may already be out, and its own
    /// reply may legitimately be a `SERVER_ERROR`).
    Limit,
}

/// A refusal the server sent at the start of a connection, as the error to fail it with.
pub(super) fn refusal(
    received: &[u8],
    which: Refusals,
) -> Option<impl FnOnce(SocketAddr) -> LinkError> {
    let line = received.split(|&b| b == b'\r' || b == b'\n').next()?;
    let generic = line.starts_with(b"ERROR") || line.starts_with(b"SERVER_ERROR");
    let hint = if line.starts_with(TOO_MANY_CONNECTIONS) {
        " — memcached allows fewer connections than this run opens (its -c, 1024 by default): \
         raise memcached's -c, or lower -c or -n"
    } else if generic && which == Refusals::Any {
        ""
    } else {
        return None; // Not a refusal: parsed (and refused) as the stream it is.
    };
    let reply = String::from_utf8_lossy(&line[..line.len().min(120)]).into_owned();
    Some(move |addr| LinkError::Refused { addr, reply, hint })
}

/// Sends each request at once: a load generator must not wait for Nagle. (std's
/// `set_nodelay` on the socket, which need not be connected yet; best effort, as before a
/// failure here only delays requests.)
fn with_nodelay(fd: OwnedFd) -> OwnedFd {
    let stream = std::net::TcpStream::from(fd);
    let _ = stream.set_nodelay(true);
    stream.into()
}
