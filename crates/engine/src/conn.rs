//! One connection: the per-request hot path.
//!
//! A connection owns its socket, a send buffer and a receive buffer allocated once, its item
//! window and its RNG. Each request is encoded into the reused send buffer, written, and its
//! response parsed in place from the receive buffer; statistics go into the shard's
//! [`ShardState`] in one borrow per request. Nothing here allocates in steady state (the
//! receive buffer grows only when a value larger than any before arrives).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use shardslap_proto::ascii::{self, Response, StorageCommand};
use shardslap_proto::ProtoError;
use shardslap_workload::{Op, OpKind, Window, MAX_KEY_LEN};

use crate::shard::ShardState;

/// Initial receive buffer: room for a default 1 KiB value many times over.
const RECV_BUF_INITIAL: usize = 16 << 10;

/// Why a connection stopped before the run did.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnError {
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("connection to {addr} lost: {source}")]
    Io { addr: SocketAddr, source: io::Error },
    #[error("{addr} closed the connection")]
    Closed { addr: SocketAddr },
    #[error("{addr} sent a reply shardslap cannot parse: {source}")]
    Protocol {
        addr: SocketAddr,
        source: ProtoError,
    },
}

/// What one response meant, extracted while its bytes are still borrowed.
#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    /// The reply answered the request (a value list for a GET, a storage reply for a SET).
    answered: bool,
    /// SET: the server said STORED.
    stored: bool,
    /// GET: keys not returned.
    misses: u64,
    verify_miss: bool,
    verify_failed: bool,
    expired_get: bool,
    unexpired_unget: bool,
    /// The server answered with an error line.
    server_error: bool,
}

/// A live connection and everything it owns.
#[derive(Debug)]
pub(crate) struct Conn {
    addr: SocketAddr,
    stream: TcpStream,
    send_buf: BytesMut,
    recv_buf: Vec<u8>,
    /// Bytes of `recv_buf` holding received, not yet consumed data.
    filled: usize,
    key_buf: [u8; MAX_KEY_LEN],
    window: Window,
    rng: fastrand::Rng,
    /// Requests this connection may still issue in `-x` mode.
    budget: Option<u64>,
}

impl Conn {
    /// Connects to `addr` with the run's timeout and sets the socket up for low latency.
    pub(crate) async fn connect(
        addr: SocketAddr,
        timeout: Duration,
        window: Window,
        rng: fastrand::Rng,
        budget: Option<u64>,
    ) -> Result<Conn, ConnError> {
        let to_connect_error = |err: glommio::GlommioError<()>| ConnError::Connect {
            addr,
            reason: crate::preflight::connect_reason(&io::Error::from(err), timeout),
        };
        let stream = TcpStream::connect_timeout(addr, timeout)
            .await
            .map_err(to_connect_error)?;
        let setup = |stream: &TcpStream| -> glommio::Result<(), ()> {
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(timeout))?;
            stream.set_write_timeout(Some(timeout))
        };
        setup(&stream).map_err(to_connect_error)?;
        Ok(Conn {
            addr,
            stream,
            send_buf: BytesMut::with_capacity(4096),
            recv_buf: vec![0; RECV_BUF_INITIAL],
            filled: 0,
            key_buf: [0; MAX_KEY_LEN],
            window,
            rng,
            budget,
        })
    }

    /// Fills the window before the clock starts (get-only mixes): every slot is SET once, in
    /// order. Counted in the counters, never in latency.
    pub(crate) async fn warm_up(&mut self, state: &ShardState) -> Result<(), ConnError> {
        for i in 0..self.window.warmup_len() {
            let op = self.window.warmup_op(i);
            let sent = self.encode(op, state);
            self.exchange_and_account(op, sent, state, None).await?;
        }
        Ok(())
    }

    /// The measured loop: issue requests until the run stops, the budget is spent, or the
    /// connection fails. The in-flight request always completes before returning.
    pub(crate) async fn run(&mut self, state: &ShardState) -> Result<(), ConnError> {
        loop {
            if state.should_stop(Instant::now()) || self.budget == Some(0) {
                return Ok(());
            }
            if let Some(left) = self.budget.as_mut() {
                *left -= 1;
            }
            let op = self.window.next_op(&mut self.rng);
            let sent = self.encode(op, state);
            let started = Instant::now();
            self.exchange_and_account(op, sent, state, Some(started))
                .await?;
            glommio::yield_if_needed().await;
        }
    }

    /// Encodes `op` into the send buffer; returns the object bytes a SET carries (0 for GET).
    fn encode(&mut self, op: Op, state: &ShardState) -> u64 {
        self.send_buf.clear();
        let key_len = self
            .window
            .write_key(op.slot, &state.block, &mut self.key_buf);
        let key = &self.key_buf[..key_len];
        match op.kind {
            OpKind::Get => {
                ascii::encode_get(&mut self.send_buf, key);
                0
            }
            OpKind::Set => {
                let value = self.window.value(op.slot, &state.block);
                let exptime = self.window.exptime(op.slot);
                ascii::encode_storage(
                    &mut self.send_buf,
                    StorageCommand::Set,
                    key,
                    0,
                    exptime,
                    value,
                    false,
                );
                (key_len + value.len()) as u64
            }
        }
    }

    /// Sends the encoded request, waits for its whole response, and records it. `started` is
    /// `None` for warm-up requests, which never enter latency statistics.
    async fn exchange_and_account(
        &mut self,
        op: Op,
        object_bytes: u64,
        state: &ShardState,
        started: Option<Instant>,
    ) -> Result<(), ConnError> {
        let written = self.send_buf.len() as u64;
        let result = self.exchange(op, state).await;
        let finished = Instant::now();
        let mut stats = state.stats.borrow_mut();
        let counters = &mut stats.counters;
        counters.written_bytes += written;
        let (outcome, read) = match result {
            Ok(ok) => ok,
            Err((err, read)) => {
                counters.read_bytes += read;
                counters.errors += 1;
                counters.disconnects += 1;
                return Err(err);
            }
        };
        counters.read_bytes += read;
        counters.errors += u64::from(outcome.server_error);
        if !outcome.answered {
            return Ok(());
        }
        match op.kind {
            OpKind::Get => {
                counters.cmd_get += 1;
                counters.get_misses += outcome.misses;
                counters.verify_misses += u64::from(outcome.verify_miss);
                counters.verify_failed += u64::from(outcome.verify_failed);
                counters.expired_get += u64::from(outcome.expired_get);
                counters.unexpired_unget += u64::from(outcome.unexpired_unget);
                if let Some(started) = started {
                    let latency_ns = duration_ns(finished - started);
                    stats.ops.record_get(latency_ns, outcome.misses);
                }
            }
            OpKind::Set => {
                counters.cmd_set += 1;
                counters.object_bytes += object_bytes;
                let warmup = started.is_none();
                match started {
                    Some(started) => stats.ops.record_set(duration_ns(finished - started)),
                    None => counters.warmup_sets += 1,
                }
                drop(stats);
                if warmup {
                    // Warm-up SETs fill the window but are not part of the set/get interleave.
                    self.window
                        .on_warmup_set_done(op.slot, outcome.stored, unix_secs());
                } else {
                    self.window
                        .on_set_done(op.slot, outcome.stored, unix_secs());
                }
            }
        }
        Ok(())
    }

    /// Writes the request and reads until one whole response is parsed. Returns what it meant
    /// and the bytes read; on failure, the error and the bytes read before it.
    async fn exchange(
        &mut self,
        op: Op,
        state: &ShardState,
    ) -> Result<(Outcome, u64), (ConnError, u64)> {
        let addr = self.addr;
        if let Err(source) = self.stream.write_all(&self.send_buf).await {
            return Err((ConnError::Io { addr, source }, 0));
        }
        let mut read = 0u64;
        loop {
            match ascii::decode(&self.recv_buf[..self.filled]) {
                Ok(Some((response, len))) => {
                    let outcome = interpret(&response, op, &self.window, state);
                    self.consume(len);
                    return Ok((outcome, read));
                }
                Ok(None) => match self.fill().await {
                    Ok(n) => read += n as u64,
                    Err(err) => return Err((err, read)),
                },
                Err(source) => return Err((ConnError::Protocol { addr, source }, read)),
            }
        }
    }

    /// Reads more bytes into the receive buffer, growing it when it is full.
    async fn fill(&mut self) -> Result<usize, ConnError> {
        if self.filled == self.recv_buf.len() {
            let grown = self.recv_buf.len() * 2;
            self.recv_buf.resize(grown, 0);
        }
        let addr = self.addr;
        match self.stream.read(&mut self.recv_buf[self.filled..]).await {
            Ok(0) => Err(ConnError::Closed { addr }),
            Ok(n) => {
                self.filled += n;
                Ok(n)
            }
            Err(source) => Err(ConnError::Io { addr, source }),
        }
    }

    /// Drops the first `len` bytes of the receive buffer.
    fn consume(&mut self, len: usize) {
        if len == self.filled {
            self.filled = 0; // The common case: one response, nothing behind it.
        } else {
            self.recv_buf.copy_within(len..self.filled, 0);
            self.filled -= len;
        }
    }
}

/// Reads a response's meaning for `op` while its bytes are borrowed.
fn interpret(response: &Response<'_>, op: Op, window: &Window, state: &ShardState) -> Outcome {
    let mut outcome = Outcome::default();
    match (op.kind, response) {
        (OpKind::Get, Response::Values(values)) => {
            outcome.answered = true;
            let first = values.iter().next();
            outcome.misses = u64::from(first.is_none());
            let expiring = window.exptime(op.slot) != 0;
            // Expiring items are checked for presence only (below), not for content.
            if op.verify && !expiring {
                match first {
                    None => outcome.verify_miss = true,
                    Some(value) => {
                        let expected = window.value(op.slot, &state.block);
                        if value.data != expected {
                            outcome.verify_failed = true;
                            state.report_verify_failure(value.key, expected, value.data);
                        }
                    }
                }
            }
            if expiring {
                let age_secs = unix_secs().saturating_sub(window.set_time_secs(op.slot));
                outcome.expired_get = first.is_some() && age_secs > 65;
                outcome.unexpired_unget = first.is_none() && age_secs < 55;
            }
        }
        (OpKind::Set, Response::Stored) => {
            outcome.answered = true;
            outcome.stored = true;
        }
        (OpKind::Set, Response::NotStored | Response::Exists | Response::NotFound) => {
            outcome.answered = true;
        }
        (OpKind::Set, Response::ServerError(_)) => {
            // memcached counts a SET it refused for lack of memory.
            outcome.answered = true;
            outcome.server_error = true;
        }
        _ => outcome.server_error = true,
    }
    outcome
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Wall-clock seconds, for expire verification (items carry their SET time).
fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
