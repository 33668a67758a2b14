//! One connection: the per-request hot path.
//!
//! A connection owns its socket, a send buffer and a receive buffer allocated once, its item
//! window and its RNG. Each request is encoded into the reused send buffer, written, and its
//! response parsed in place from the receive buffer; statistics go into the shard's
//! [`ShardState`] in one borrow per request. Nothing here allocates in steady state (the
//! receive buffer grows only when a value larger than any before arrives).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use shardslap_proto::{ascii, ProtoError};
use shardslap_workload::{Op, Window, MAX_KEY_LEN};

use crate::request::{self, Outcome};
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
            self.request(op, state, false).await?;
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
            self.request(op, state, true).await?;
            glommio::yield_if_needed().await;
        }
    }

    /// One request: encode, send, wait for the whole response, account it. Latency runs from
    /// handing the request to the socket to parsing its full response (`measured` only).
    async fn request(
        &mut self,
        op: Op,
        state: &ShardState,
        measured: bool,
    ) -> Result<(), ConnError> {
        let sent = request::encode(
            op,
            &self.window,
            &state.block,
            &mut self.key_buf,
            &mut self.send_buf,
        );
        let started = Instant::now();
        let result = self.exchange(op, state).await;
        let latency_ns = measured.then_some(duration_ns(started.elapsed()));
        let mut stats = state.stats.borrow_mut();
        match result {
            Ok((outcome, read)) => {
                request::account(
                    &mut stats,
                    &mut self.window,
                    sent,
                    outcome,
                    read,
                    latency_ns,
                );
                Ok(())
            }
            Err((err, read)) => {
                request::account_failure(&mut stats, sent, read);
                Err(err)
            }
        }
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
                    let outcome =
                        request::interpret(&response, op, &self.window, &state.block, |k, e, r| {
                            state.report_verify_failure(k, e, r)
                        });
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

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
