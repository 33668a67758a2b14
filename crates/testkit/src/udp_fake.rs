//! A lossy UDP path to a real memcached: [`UdpDropProxy`] relays memcached's UDP protocol and
//! drops every Nth reply datagram that belongs to a GET reply, the loss loopback never produces
//! on its own.
//!
//! The proxy owns one front socket (`127.0.0.1:PORT`, UDP) and, per client address, one upstream
//! socket connected to the server and a thread relaying that client's replies back, so each
//! reply reaches the client that asked. Requests go through untouched. A TCP listener on the
//! same port number accepts and closes connections: enough for a client that probe-connects
//! over TCP before using UDP (shardslap's preflight), but TCP traffic is not relayed (use
//! [`crate::FakeServer`] for that).

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// memcached's UDP frame header: request id, sequence, total datagrams, reserved (u16 each).
const FRAME_HEADER_LEN: usize = 8;
/// Largest datagram relayed, in bytes (the UDP payload limit).
const MAX_DATAGRAM_BYTES: usize = 65_536;
/// How often blocked threads look at the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Ports tried for a UDP port whose TCP twin is free too.
const BIND_ATTEMPTS: usize = 50;

/// A UDP relay on `127.0.0.1:PORT` in front of a real memcached's UDP port that drops every
/// `drop_every`-th reply datagram belonging to a GET reply; stops its threads on drop.
///
/// A GET reply is a message whose first datagram's payload starts with `VALUE` or `END`; its
/// later datagrams (same client, same request id) belong to it too. Other replies (`STORED`,
/// errors) are never dropped. The count runs over the whole proxy, across clients.
pub struct UdpDropProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for UdpDropProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpDropProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .field("drop_every", &self.shared.drop_every)
            .field("get_datagrams", &self.get_datagrams())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl UdpDropProxy {
    /// Listens on a free loopback port (UDP, and TCP on the same number) and relays datagrams
    /// to `upstream`, a memcached UDP address. `drop_every` = N drops GET-reply datagrams
    /// N, 2N, 3N, … (0 drops nothing). Panics if it cannot listen.
    pub fn start(upstream: SocketAddr, drop_every: u64) -> UdpDropProxy {
        let (front, tcp) = bind_pair();
        let addr = front
            .local_addr()
            .unwrap_or_else(|e| panic!("UDP proxy has no local address: {e}"));
        front
            .set_read_timeout(Some(POLL_INTERVAL))
            .unwrap_or_else(|e| panic!("UDP proxy cannot set a read timeout: {e}"));
        tcp.set_nonblocking(true)
            .unwrap_or_else(|e| panic!("UDP proxy cannot make its TCP listener non-blocking: {e}"));
        let shared = Arc::new(Shared {
            upstream,
            drop_every,
            front,
            stop: AtomicBool::new(false),
            get_datagrams: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            relays: Mutex::new(Vec::new()),
        });
        let spawn = |name: String, job: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(job)
                .unwrap_or_else(|e| panic!("UDP proxy cannot spawn a thread: {e}"))
        };
        let requests_shared = Arc::clone(&shared);
        let tcp_shared = Arc::clone(&shared);
        let threads = vec![
            spawn(
                format!("udp-proxy-{}", addr.port()),
                Box::new(move || relay_requests(&requests_shared)),
            ),
            spawn(
                format!("udp-proxy-tcp-{}", addr.port()),
                Box::new(move || accept_and_close(&tcp, &tcp_shared)),
            ),
        ];
        UdpDropProxy {
            addr,
            shared,
            threads,
        }
    }

    /// The address clients send to (UDP) or probe-connect to (TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`, as `-s` takes it.
    pub fn addr_string(&self) -> String {
        self.addr.to_string()
    }

    /// GET-reply datagrams seen from the server so far, dropped ones included.
    pub fn get_datagrams(&self) -> u64 {
        self.shared.get_datagrams.load(Ordering::SeqCst)
    }

    /// GET-reply datagrams dropped so far.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::SeqCst)
    }
}

impl Drop for UdpDropProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Only the request thread adds relays: once it is joined the list is complete.
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
        let relays = std::mem::take(
            &mut *self
                .shared
                .relays
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for handle in relays {
            let _ = handle.join();
        }
    }
}

/// State every proxy thread shares.
#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    drop_every: u64,
    /// The socket clients talk to; relays send replies from it.
    front: UdpSocket,
    stop: AtomicBool,
    get_datagrams: AtomicU64,
    dropped: AtomicU64,
    /// One reply relay per client.
    relays: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Counts one GET-reply datagram; true when it is one to drop.
    fn should_drop(&self) -> bool {
        let number = self.get_datagrams.fetch_add(1, Ordering::SeqCst) + 1;
        let drop = self.drop_every > 0 && number % self.drop_every == 0;
        if drop {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
        drop
    }
}

/// A UDP socket on a free loopback port and a TCP listener on the same port number.
fn bind_pair() -> (UdpSocket, TcpListener) {
    let mut last_error = None;
    for _ in 0..BIND_ATTEMPTS {
        let udp = UdpSocket::bind(("127.0.0.1", 0))
            .unwrap_or_else(|e| panic!("UDP proxy cannot bind a UDP socket on 127.0.0.1: {e}"));
        let port = udp
            .local_addr()
            .unwrap_or_else(|e| panic!("UDP proxy has no local address: {e}"))
            .port();
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(tcp) => return (udp, tcp),
            Err(e) => last_error = Some(e),
        }
    }
    panic!("UDP proxy found no port free for both UDP and TCP: {last_error:?}");
}

/// Client → server: forwards each datagram through that client's upstream socket, creating
/// the socket and its reply relay on the client's first datagram.
fn relay_requests(shared: &Arc<Shared>) {
    let mut upstreams: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut buf = vec![0u8; MAX_DATAGRAM_BYTES];
    while !shared.stopping() {
        let (len, client) = match shared.front.recv_from(&mut buf) {
            Ok(received) => received,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // A send to a client that has gone can surface here as ECONNREFUSED: ignore it.
            Err(_) => continue,
        };
        let upstream = match upstreams.get(&client) {
            Some(upstream) => Arc::clone(upstream),
            None => match open_upstream(shared, client) {
                Ok(upstream) => {
                    upstreams.insert(client, Arc::clone(&upstream));
                    upstream
                }
                Err(e) => {
                    eprintln!("UDP proxy: cannot open an upstream socket for {client}: {e}");
                    continue;
                }
            },
        };
        // Lost on error, like any datagram.
        let _ = upstream.send(&buf[..len]);
    }
}

/// A socket connected to the server for `client`, and the thread relaying its replies.
fn open_upstream(shared: &Arc<Shared>, client: SocketAddr) -> std::io::Result<Arc<UdpSocket>> {
    let socket = UdpSocket::bind(("127.0.0.1", 0))?;
    socket.connect(shared.upstream)?;
    socket.set_read_timeout(Some(POLL_INTERVAL))?;
    let socket = Arc::new(socket);
    let relay_socket = Arc::clone(&socket);
    let relay_shared = Arc::clone(shared);
    let handle = std::thread::Builder::new()
        .name(format!("udp-proxy-reply-{}", client.port()))
        .spawn(move || relay_replies(&relay_socket, client, &relay_shared))?;
    shared
        .relays
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(handle);
    Ok(socket)
}

/// Server → one client: relays every reply datagram except the GET-reply ones picked to drop.
fn relay_replies(upstream: &UdpSocket, client: SocketAddr, shared: &Shared) {
    let mut buf = vec![0u8; MAX_DATAGRAM_BYTES];
    let mut classifier = GetReplyClassifier::default();
    while !shared.stopping() {
        let len = match upstream.recv(&mut buf) {
            Ok(len) => len,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => continue,
        };
        let datagram = &buf[..len];
        if classifier.is_get_reply(datagram) && shared.should_drop() {
            continue;
        }
        let _ = shared.front.send_to(datagram, client);
    }
}

/// Tells, datagram by datagram, whether a reply belongs to a GET reply: a message starting
/// with `VALUE` or `END`, and the later datagrams of that message (same request id).
#[derive(Debug, Default)]
struct GetReplyClassifier {
    /// Request id of the last message whose first datagram was a GET reply.
    get_request_id: Option<u16>,
}

impl GetReplyClassifier {
    fn is_get_reply(&mut self, datagram: &[u8]) -> bool {
        let Some((header, payload)) = datagram.split_at_checked(FRAME_HEADER_LEN) else {
            return false;
        };
        let request_id = u16::from_be_bytes([header[0], header[1]]);
        let sequence = u16::from_be_bytes([header[2], header[3]]);
        if sequence == 0 {
            let get = payload.starts_with(b"VALUE") || payload.starts_with(b"END");
            self.get_request_id = get.then_some(request_id);
            get
        } else {
            self.get_request_id == Some(request_id)
        }
    }
}

/// Accepts TCP connections and closes them at once, until the proxy stops.
fn accept_and_close(listener: &TcpListener, shared: &Shared) {
    while !shared.stopping() {
        match listener.accept() {
            Ok(_) => {} // Dropping the stream closes it.
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL_INTERVAL),
            Err(_) => std::thread::sleep(POLL_INTERVAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;

    use super::*;
    use crate::{MemcachedServer, ServerOptions};

    const IO_TIMEOUT: Duration = Duration::from_millis(300);

    fn udp_server() -> MemcachedServer {
        MemcachedServer::start_with(ServerOptions {
            udp: true,
            ..ServerOptions::default()
        })
    }

    fn client(proxy: &UdpDropProxy) -> UdpSocket {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).unwrap();
        socket.connect(proxy.addr()).unwrap();
        socket.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        socket
    }

    fn frame(request_id: u16, sequence: u16, total: u16, payload: &[u8]) -> Vec<u8> {
        let mut datagram = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
        for field in [request_id, sequence, total, 0] {
            datagram.extend_from_slice(&field.to_be_bytes());
        }
        datagram.extend_from_slice(payload);
        datagram
    }

    /// Sends one request; returns the reply datagrams until `expected` came or a timeout.
    fn ask(socket: &UdpSocket, request_id: u16, request: &[u8], expected: usize) -> Vec<Vec<u8>> {
        socket.send(&frame(request_id, 0, 1, request)).unwrap();
        let mut replies = Vec::new();
        let mut buf = vec![0u8; MAX_DATAGRAM_BYTES];
        while replies.len() < expected {
            match socket.recv(&mut buf) {
                Ok(len) => replies.push(buf[..len].to_vec()),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) => panic!("receiving from the proxy: {e}"),
            }
        }
        replies
    }

    fn payload(datagram: &[u8]) -> &[u8] {
        &datagram[FRAME_HEADER_LEN..]
    }

    #[test]
    fn classifier_follows_get_replies_across_datagrams() {
        let mut c = GetReplyClassifier::default();
        assert!(c.is_get_reply(&frame(1, 0, 2, b"VALUE k 0 3000\r\nxx")));
        assert!(c.is_get_reply(&frame(1, 1, 2, b"xxxx\r\nEND\r\n")));
        assert!(c.is_get_reply(&frame(2, 0, 1, b"END\r\n")));
        assert!(!c.is_get_reply(&frame(3, 0, 1, b"STORED\r\n")));
        assert!(!c.is_get_reply(&frame(3, 1, 2, b"D\r\n")), "not a GET's");
        assert!(!c.is_get_reply(&frame(2, 1, 2, b"late")), "superseded");
        assert!(!c.is_get_reply(b"short"));
    }

    #[test]
    fn drops_every_nth_get_reply_and_never_a_set_reply() {
        let server = udp_server();
        let proxy = UdpDropProxy::start(server.addr(), 2);
        let socket = client(&proxy);
        let stored = ask(&socket, 1, b"set k 0 0 5\r\nhello\r\n", 1);
        assert_eq!(stored.len(), 1);
        assert_eq!(payload(&stored[0]), b"STORED\r\n");
        let mut answered = Vec::new();
        for request_id in 2..=7u16 {
            let replies = ask(&socket, request_id, b"get k\r\n", 1);
            if let Some(reply) = replies.first() {
                assert_eq!(payload(reply), b"VALUE k 0 5\r\nhello\r\nEND\r\n");
                assert_eq!(reply[..2], request_id.to_be_bytes());
                answered.push(request_id);
            }
        }
        // GET replies 2, 4 and 6 (requests 3, 5, 7) are the dropped ones; misses count too.
        assert_eq!(answered, [2, 4, 6]);
        let miss = ask(&socket, 8, b"get nope\r\n", 1);
        assert_eq!(payload(&miss[0]), b"END\r\n");
        assert_eq!(ask(&socket, 9, b"get nope\r\n", 1), Vec::<Vec<u8>>::new());
        for request_id in 10..14u16 {
            let stored = ask(&socket, request_id, b"set k 0 0 1\r\nx\r\n", 1);
            assert_eq!(stored.len(), 1, "SET replies are never dropped");
        }
        assert_eq!(proxy.get_datagrams(), 8);
        assert_eq!(proxy.dropped(), 4);
        // The server answered every request: the loss is the proxy's alone.
        assert_eq!(server.stats().u64("cmd_get"), 8);
    }

    #[test]
    fn continuation_datagrams_of_a_get_reply_count_and_replies_reach_their_client() {
        let server = udp_server();
        let proxy = UdpDropProxy::start(server.addr(), 3);
        let (a, b) = (client(&proxy), client(&proxy));
        let value = "v".repeat(3000);
        let set = format!("set big 0 0 {}\r\n{value}\r\n", value.len());
        assert_eq!(ask(&a, 1, set.as_bytes(), 1).len(), 1);
        // 3000 bytes take three datagrams (memcached sends at most 1400 bytes of payload):
        // the third, a continuation without `VALUE`, is the one dropped.
        let replies = ask(&b, 7, b"get big\r\n", 3);
        assert_eq!(replies.len(), 2, "one of three dropped");
        for (sequence, reply) in replies.iter().enumerate() {
            assert_eq!(reply[..2], 7u16.to_be_bytes(), "b's request id");
            assert_eq!(reply[2..4], (sequence as u16).to_be_bytes());
            assert_eq!(reply[4..6], 3u16.to_be_bytes(), "three datagrams in all");
        }
        assert!(payload(&replies[0]).starts_with(b"VALUE big 0 3000\r\n"));
        assert_eq!(proxy.dropped(), 1);
        // a's next GET is datagrams 4..6 over the proxy: 6, its last, is dropped.
        assert_eq!(ask(&a, 2, b"get big\r\n", 3).len(), 2);
        assert_eq!((proxy.get_datagrams(), proxy.dropped()), (6, 2));
    }

    #[test]
    fn zero_drops_nothing_and_tcp_probes_connect() {
        let server = udp_server();
        let proxy = UdpDropProxy::start(server.addr(), 0);
        TcpStream::connect_timeout(&proxy.addr(), IO_TIMEOUT).expect("TCP probe");
        let socket = client(&proxy);
        for request_id in 0..5u16 {
            assert_eq!(ask(&socket, request_id, b"get nope\r\n", 1).len(), 1);
        }
        assert_eq!((proxy.get_datagrams(), proxy.dropped()), (5, 0));
    }

    #[test]
    fn drop_stops_promptly() {
        let server = udp_server();
        let proxy = UdpDropProxy::start(server.addr(), 1);
        let socket = client(&proxy);
        assert!(ask(&socket, 1, b"get nope\r\n", 1).is_empty());
        let started = std::time::Instant::now();
        drop(proxy);
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}
