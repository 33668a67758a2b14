//! One socket of a concurrency and the exchange of one request over it: TCP (a byte stream
//! with a receive buffer) or UDP (one datagram out, a response reassembled from datagrams).
//!
//! A link never interprets a response itself: the caller passes a parser that says how many
//! bytes a complete response takes. A link that failed is [`Link::is_up`] `false` until
//! [`Link::reconnect`] succeeds.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpStream, UdpSocket};
use shardslap_config::SocketKind;
use shardslap_proto::udp::{FrameHeader, Reassembler};
use shardslap_proto::ProtoError;
use shardslap_report::Counters;

/// Initial TCP receive buffer: room for a default 1 KiB value many times over.
const RECV_BUF_INITIAL: usize = 16 << 10;
/// Largest datagram memcached sends is 1400 bytes; this leaves room for any peer.
const DATAGRAM_BUF_LEN: usize = 64 << 10;
/// Socket receive buffer asked for UDP links, so a burst of response datagrams is not
/// dropped by the kernel while the executor is busy elsewhere.
const UDP_RCVBUF_BYTES: libc::c_int = 4 << 20;

/// Why an exchange or a connect failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LinkError {
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("connection to {addr} lost: {source}")]
    Io { addr: SocketAddr, source: io::Error },
    #[error("{addr} did not answer within {timeout:?}")]
    Timeout { addr: SocketAddr, timeout: Duration },
    #[error("TLS with {addr}: {reason}")]
    Tls { addr: SocketAddr, reason: String },
    #[error("{addr} closed the connection")]
    Closed { addr: SocketAddr },
    #[error("{addr} sent a reply shardslap cannot parse: {source}")]
    Protocol {
        addr: SocketAddr,
        source: ProtoError,
    },
    /// The server answered the connection itself with a refusal, before any request.
    #[error("{addr} refused the connection: \"{reply}\"{hint}")]
    Refused {
        addr: SocketAddr,
        /// The server's line, as sent.
        reply: String,
        /// What to do about it, when shardslap knows.
        hint: &'static str,
    },
    /// A UDP response did not complete in time; `missing` datagrams never came.
    #[error("{addr}: UDP response timed out with {missing} datagram(s) missing")]
    UdpTimeout { addr: SocketAddr, missing: u64 },
}

impl LinkError {
    /// Counts a fault that ended an exchange in `counters` and says whether the connection
    /// should be recycled at once: a timeout or a reply out of step leaves the server fine but
    /// the stream unusable, while the other faults are the connection's own loss.
    pub(crate) fn count_and_recycle(&self, counters: &mut Counters) -> bool {
        match self {
            LinkError::Timeout { .. } => {
                counters.timeouts += 1;
                true
            }
            LinkError::Protocol { .. } => {
                counters.protocol_errors += 1;
                true
            }
            _ => false,
        }
    }
}

/// Bytes and datagrams one exchange moved, for the counters.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Traffic {
    /// Request bytes handed to the socket (UDP: with the frame header, as memcached counts).
    pub(crate) written: u64,
    /// Response bytes received (UDP: whole datagrams, frame headers included).
    pub(crate) read: u64,
    /// UDP datagrams that arrived out of sequence or belonged to an earlier request.
    pub(crate) disorder: u64,
}

/// The socket of a link with its transport-specific buffers.
#[derive(Debug)]
enum Socket {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

/// One socket to one server.
#[derive(Debug)]
pub(crate) struct Link {
    addr: SocketAddr,
    transport: SocketKind,
    timeout: Duration,
    socket: Option<Socket>,
    /// TCP: received, not yet consumed bytes are `recv_buf[..filled]`. UDP: one datagram.
    recv_buf: Vec<u8>,
    filled: usize,
    /// UDP: frame header + request, built per request in a reused buffer.
    frame_buf: Vec<u8>,
    /// UDP: the messages of the current response so far, in arrival order.
    response_buf: Vec<u8>,
    reassembler: Reassembler,
    next_request_id: u16,
}

impl Link {
    /// Opens a link to `addr`; `timeout` bounds the connect and every wait for a response.
    pub(crate) async fn connect(
        addr: SocketAddr,
        transport: SocketKind,
        timeout: Duration,
    ) -> Result<Link, LinkError> {
        let recv_len = match transport {
            SocketKind::Tcp => RECV_BUF_INITIAL,
            SocketKind::Udp => DATAGRAM_BUF_LEN,
        };
        let mut link = Link {
            addr,
            transport,
            timeout,
            socket: None,
            recv_buf: vec![0; recv_len],
            filled: 0,
            frame_buf: Vec::new(),
            response_buf: Vec::new(),
            reassembler: Reassembler::default(),
            next_request_id: 0,
        };
        link.reconnect().await?;
        Ok(link)
    }

    /// The server this link talks to.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the link has a usable socket.
    pub(crate) fn is_up(&self) -> bool {
        self.socket.is_some()
    }

    /// Drops the socket (after a failure); the link is down until [`Self::reconnect`].
    pub(crate) fn close(&mut self) {
        self.socket = None;
        self.filled = 0;
        self.reassembler.abandon();
    }

    /// Opens a fresh socket, discarding whatever the old one had buffered.
    pub(crate) async fn reconnect(&mut self) -> Result<(), LinkError> {
        self.close();
        let (addr, timeout) = (self.addr, self.timeout);
        let to_connect_error = |err: io::Error| LinkError::Connect {
            addr,
            reason: crate::preflight::connect_reason(&err, timeout),
        };
        let socket = match self.transport {
            SocketKind::Tcp => {
                let stream = TcpStream::connect_timeout(addr, timeout)
                    .await
                    .map_err(|err| to_connect_error(err.into()))?;
                let setup = |stream: &TcpStream| -> glommio::Result<(), ()> {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(timeout))?;
                    stream.set_write_timeout(Some(timeout))
                };
                setup(&stream).map_err(|err| to_connect_error(err.into()))?;
                Socket::Tcp(stream)
            }
            SocketKind::Udp => {
                let local: SocketAddr = if addr.is_ipv6() {
                    "[::]:0".parse().unwrap_or(addr)
                } else {
                    SocketAddr::from(([0, 0, 0, 0], 0))
                };
                let setup = async {
                    let socket = UdpSocket::bind(local)?;
                    socket.connect(addr).await?;
                    socket.set_read_timeout(Some(timeout))?;
                    Ok::<UdpSocket, glommio::GlommioError<()>>(socket)
                };
                let socket = setup.await.map_err(|err| to_connect_error(err.into()))?;
                set_rcvbuf(&socket, UDP_RCVBUF_BYTES);
                Socket::Udp(socket)
            }
        };
        self.socket = Some(socket);
        Ok(())
    }

    /// Hands `request` (one or several pipelined requests) to the socket.
    pub(crate) async fn send(
        &mut self,
        request: &[u8],
        traffic: &mut Traffic,
    ) -> Result<(), LinkError> {
        let result = match self.socket.take() {
            None => return Err(LinkError::Closed { addr: self.addr }),
            Some(Socket::Tcp(mut stream)) => {
                let result = stream
                    .write_all(request)
                    .await
                    .map_err(|e| self.io_error(e));
                self.socket = Some(Socket::Tcp(stream));
                result.map(|()| request.len())
            }
            Some(Socket::Udp(socket)) => {
                let result = self.send_datagram(&socket, request).await;
                self.socket = Some(Socket::Udp(socket));
                result
            }
        };
        traffic.written += result? as u64;
        Ok(())
    }

    /// Receives until `parse` says the next whole response is there. `parse` gets the
    /// response bytes so far and returns the complete response's length.
    pub(crate) async fn receive(
        &mut self,
        traffic: &mut Traffic,
        parse: impl FnMut(&[u8]) -> Result<Option<usize>, ProtoError>,
    ) -> Result<(), LinkError> {
        match self.socket.take() {
            None => Err(LinkError::Closed { addr: self.addr }),
            Some(Socket::Tcp(mut stream)) => {
                let result = self.receive_tcp(&mut stream, traffic, parse).await;
                self.socket = Some(Socket::Tcp(stream));
                result
            }
            Some(Socket::Udp(socket)) => {
                let result = self.receive_udp(&socket, traffic, parse).await;
                self.socket = Some(Socket::Udp(socket));
                result
            }
        }
    }

    async fn receive_tcp(
        &mut self,
        stream: &mut TcpStream,
        traffic: &mut Traffic,
        mut parse: impl FnMut(&[u8]) -> Result<Option<usize>, ProtoError>,
    ) -> Result<(), LinkError> {
        let addr = self.addr;
        loop {
            match parse(&self.recv_buf[..self.filled]) {
                Ok(Some(len)) => {
                    self.consume(len);
                    return Ok(());
                }
                Ok(None) => {}
                Err(source) => return Err(LinkError::Protocol { addr, source }),
            }
            if self.filled == self.recv_buf.len() {
                let grown = self.recv_buf.len() * 2;
                self.recv_buf.resize(grown, 0);
            }
            match stream.read(&mut self.recv_buf[self.filled..]).await {
                Ok(0) => return Err(LinkError::Closed { addr }),
                Ok(n) => {
                    self.filled += n;
                    traffic.read += n as u64;
                }
                Err(source) => return Err(self.io_error(source)),
            }
        }
    }

    /// Sends one request as one datagram behind a fresh frame header; returns its length.
    async fn send_datagram(
        &mut self,
        socket: &UdpSocket,
        request: &[u8],
    ) -> Result<usize, LinkError> {
        let request_id = self.next_request_id;
        self.next_request_id = self.next_request_id.wrapping_add(1);
        self.frame_buf.clear();
        self.frame_buf
            .extend_from_slice(&FrameHeader::request(request_id).to_bytes());
        self.frame_buf.extend_from_slice(request);
        self.reassembler.begin(request_id);
        self.response_buf.clear();
        match socket.send(&self.frame_buf).await {
            Ok(_) => Ok(self.frame_buf.len()),
            Err(err) => Err(self.io_error(err.into())),
        }
    }

    async fn receive_udp(
        &mut self,
        socket: &UdpSocket,
        traffic: &mut Traffic,
        mut parse: impl FnMut(&[u8]) -> Result<Option<usize>, ProtoError>,
    ) -> Result<(), LinkError> {
        let addr = self.addr;
        let request_id = self.reassembler.request_id();
        loop {
            let len = match socket.recv(&mut self.recv_buf).await {
                Ok(len) => len,
                Err(err) => {
                    let err = io::Error::from(err);
                    if is_timeout(&err) {
                        let missing = match self.reassembler.expected() {
                            0 => 1, // No datagram of the current message came: one is lost.
                            _ => u64::from(self.reassembler.missing()),
                        };
                        self.reassembler.abandon();
                        return Err(LinkError::UdpTimeout { addr, missing });
                    }
                    return Err(LinkError::Io { addr, source: err });
                }
            };
            let datagram = &self.recv_buf[..len];
            let in_sequence = FrameHeader::decode(datagram).is_ok_and(|(header, _)| {
                header.request_id == request_id && header.sequence == self.reassembler.received()
            });
            traffic.disorder += u64::from(!in_sequence);
            match self.reassembler.push(datagram) {
                Ok(None) => traffic.read += len as u64,
                Ok(Some(message)) => {
                    traffic.read += len as u64;
                    // memcached 1.6 answers a multi-get with one message per value, each
                    // numbered from sequence 0 on its own: collect messages until the text
                    // parses as a whole response.
                    self.response_buf.extend_from_slice(message);
                    match parse(&self.response_buf) {
                        Ok(Some(_)) => return Ok(()),
                        Ok(None) => self.reassembler.begin(request_id),
                        Err(source) => return Err(LinkError::Protocol { addr, source }),
                    }
                }
                // A late datagram of an earlier (timed-out) request, or a duplicate: skip it.
                Err(
                    ProtoError::ForeignRequestId { .. }
                    | ProtoError::UdpNoRequest { .. }
                    | ProtoError::UdpDuplicate { .. },
                ) => {}
                Err(source) => return Err(LinkError::Protocol { addr, source }),
            }
        }
    }

    /// A timeout is its own error (the server stalled); anything else lost the connection.
    fn io_error(&self, source: io::Error) -> LinkError {
        if is_timeout(&source) {
            LinkError::Timeout {
                addr: self.addr,
                timeout: self.timeout,
            }
        } else {
            LinkError::Io {
                addr: self.addr,
                source,
            }
        }
    }

    /// Drops the first `len` bytes of the receive buffer.
    fn consume(&mut self, len: usize) {
        if len >= self.filled {
            self.filled = 0; // The common case: one response, nothing behind it.
        } else {
            self.recv_buf.copy_within(len..self.filled, 0);
            self.filled -= len;
        }
    }
}

fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Best effort: the kernel caps the size at `net.core.rmem_max`, and a smaller buffer only
/// makes drops more likely, which are counted.
fn set_rcvbuf(socket: &UdpSocket, bytes: libc::c_int) {
    // SAFETY: setsockopt reads exactly `size_of::<c_int>()` bytes from a live c_int, on a
    // descriptor the socket owns for the duration of the call.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const bytes).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}
