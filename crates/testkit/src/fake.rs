//! A misbehaving memcached: a loopback TCP proxy in front of a real server that injects one
//! fault on cue (a corrupted value, a stall, garbage, a connection closed mid-reply), for the
//! failures a real memcached cannot produce when a test wants them.
//!
//! [`FakeServer`] owns an accept thread and, per client connection, one upstream connection
//! and two pump threads: client → server bytes go through verbatim, server → client bytes go
//! through a framer that cuts the stream into complete ASCII responses, so faults can be
//! placed by response number. All counts are over the whole fake, across its connections.
//! Binary-protocol traffic is not framed: a connection whose replies do not parse as ASCII
//! responses falls back to plain pass-through (and is no longer counted).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long [`FakeServer`]'s drop waits for its threads before leaving them behind.
const JOIN_TIMEOUT: Duration = Duration::from_secs(1);
/// Bytes read from a socket at a time.
const CHUNK_BYTES: usize = 16 * 1024;
/// A response line longer than this without `\r\n` means the stream is not ASCII protocol.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Granularity of the waits that must notice a drop (stalls).
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// The one fault a [`FakeServer`] injects. Response and value numbers count over the whole
/// fake, across all its connections, in the order the framer completes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Pass everything through untouched.
    None,
    /// Flip the first data byte of the `nth` (1-based) `VALUE <key> <flags> <bytes>` block
    /// the server sends (each block of a multi-get counts; empty values are not counted).
    /// The replacement byte differs from the original and stays printable if it was.
    CorruptValue {
        /// Which value block to corrupt, 1-based.
        nth: u64,
    },
    /// Hold response number `after_responses + 1` and every server → client byte on every
    /// connection for `stall` (sockets stay open), then resume normally. Once.
    Stall {
        /// Complete responses forwarded before the stall starts.
        after_responses: u64,
        /// How long nothing reaches any client.
        stall: Duration,
    },
    /// Send `bytes` instead of response number `after_responses + 1`, which is swallowed.
    /// Once.
    Garbage {
        /// Complete responses forwarded untouched first.
        after_responses: u64,
        /// What the client receives in place of the real response.
        bytes: Vec<u8>,
    },
    /// Send only the first half of response number `after_responses + 1`, then close that
    /// client's connection (and its upstream one). Once.
    CloseMidResponse {
        /// Complete responses forwarded untouched first.
        after_responses: u64,
    },
}

/// A fault-injecting proxy on `127.0.0.1:PORT` in front of a real memcached; stops its
/// threads and closes every socket on drop (within about a second).
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .field("fault", &self.shared.fault)
            .field("injected", &self.injected())
            .finish()
    }
}

impl FakeServer {
    /// Listens on a free loopback port and forwards every accepted connection to `upstream`
    /// (one upstream connection per client connection, opened when the client connects; if
    /// that fails the client's connection is closed). Panics if it cannot listen.
    pub fn start(upstream: SocketAddr, fault: Fault) -> FakeServer {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .unwrap_or_else(|e| panic!("fake memcached cannot listen on 127.0.0.1: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("fake memcached has no local address: {e}"));
        let shared = Arc::new(Shared {
            upstream,
            fault,
            responses: AtomicU64::new(0),
            values: AtomicU64::new(0),
            injected: AtomicU64::new(0),
            stall_until: Mutex::new(None),
            conns: Mutex::new(Conns::default()),
            pumps: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread = std::thread::Builder::new()
            .name(format!("fake-accept-{}", addr.port()))
            .spawn(move || accept_loop(&listener, &accept_shared))
            .unwrap_or_else(|e| panic!("fake memcached cannot spawn its accept thread: {e}"));
        FakeServer {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        }
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`, as `-s` takes it.
    pub fn addr_string(&self) -> String {
        self.addr.to_string()
    }

    /// How many faults were injected so far (0 or 1: every fault fires at most once).
    pub fn injected(&self) -> u64 {
        self.shared.injected.load(Ordering::SeqCst)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        {
            let mut conns = lock(&self.shared.conns);
            conns.stopping = true;
            for (_, client, upstream) in conns.open.drain(..) {
                let _ = client.shutdown(Shutdown::Both);
                let _ = upstream.shutdown(Shutdown::Both);
            }
        }
        // Wake the accept thread, which sees `stopping` and returns.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        let deadline = Instant::now() + JOIN_TIMEOUT;
        if let Some(handle) = self.accept_thread.take() {
            join_by(handle, deadline);
        }
        let pumps = std::mem::take(&mut *lock(&self.shared.pumps));
        for handle in pumps {
            join_by(handle, deadline);
        }
    }
}

/// State the accept thread and every pump share.
#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    fault: Fault,
    /// Complete responses framed so far (the last one's 1-based number).
    responses: AtomicU64,
    /// Non-empty `VALUE` data blocks framed so far.
    values: AtomicU64,
    injected: AtomicU64,
    /// While set and in the future, no pump writes to its client.
    stall_until: Mutex<Option<Instant>>,
    conns: Mutex<Conns>,
    pumps: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn stopping(&self) -> bool {
        lock(&self.conns).stopping
    }

    fn forget(&self, id: u64) {
        lock(&self.conns)
            .open
            .retain(|(open_id, _, _)| *open_id != id);
    }

    /// Blocks while a stall is in effect (or until the fake is dropped).
    fn wait_out_stall(&self) {
        loop {
            let until = *lock(&self.stall_until);
            let now = Instant::now();
            match until {
                Some(until) if now < until && !self.stopping() => {
                    std::thread::sleep((until - now).min(POLL_INTERVAL));
                }
                _ => return,
            }
        }
    }
}

/// Open connections (clones kept for shutdown on drop) and the stop flag, under one lock so
/// no connection can be registered after drop has closed the others.
#[derive(Debug, Default)]
struct Conns {
    stopping: bool,
    next_id: u64,
    open: Vec<(u64, TcpStream, TcpStream)>,
}

/// What the server → client pump does with one complete response.
enum Action<'a> {
    Forward(&'a [u8]),
    Replace(&'a [u8]),
    Truncate(&'a [u8]),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Joins `handle` if it finishes before `deadline`; otherwise leaves it running.
fn join_by(handle: JoinHandle<()>, deadline: Instant) {
    while !handle.is_finished() && Instant::now() < deadline {
        std::thread::sleep(POLL_INTERVAL);
    }
    if handle.is_finished() {
        let _ = handle.join();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopping() {
            return;
        }
        let Ok(client) = client else { continue };
        let upstream = match TcpStream::connect_timeout(&shared.upstream, Duration::from_secs(2)) {
            Ok(upstream) => upstream,
            Err(e) => {
                eprintln!(
                    "fake memcached: cannot connect to upstream {}: {e}; closing the client",
                    shared.upstream
                );
                continue;
            }
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        if let Err(e) = spawn_pumps(client, upstream, shared) {
            eprintln!("fake memcached: cannot start a connection's pumps: {e}");
        }
    }
}

fn spawn_pumps(
    client: TcpStream,
    upstream: TcpStream,
    shared: &Arc<Shared>,
) -> std::io::Result<()> {
    let id = {
        let mut conns = lock(&shared.conns);
        if conns.stopping {
            return Ok(());
        }
        let id = conns.next_id;
        conns.next_id += 1;
        conns
            .open
            .push((id, client.try_clone()?, upstream.try_clone()?));
        id
    };
    let to_client = (upstream.try_clone()?, client.try_clone()?);
    let to_server = (client, upstream);
    let down_shared = Arc::clone(shared);
    let down = std::thread::Builder::new()
        .name(format!("fake-s2c-{id}"))
        .spawn(move || {
            let (upstream, client) = to_client;
            pump_to_client(&upstream, &client, &down_shared);
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
            down_shared.forget(id);
        })?;
    let up = std::thread::Builder::new()
        .name(format!("fake-c2s-{id}"))
        .spawn(move || {
            let (client, upstream) = to_server;
            pump_to_server(&client, &upstream);
        })?;
    let mut pumps = lock(&shared.pumps);
    // Reap the pumps of connections that have ended so the list stays short.
    let mut kept = Vec::with_capacity(pumps.len() + 2);
    for handle in pumps.drain(..) {
        if handle.is_finished() {
            let _ = handle.join();
        } else {
            kept.push(handle);
        }
    }
    kept.push(down);
    kept.push(up);
    *pumps = kept;
    Ok(())
}

/// Client → server, verbatim. A client half-close is passed on as a half-close.
fn pump_to_server(mut client: &TcpStream, mut upstream: &TcpStream) {
    let mut chunk = vec![0u8; CHUNK_BYTES];
    loop {
        match client.read(&mut chunk) {
            Ok(0) => {
                let _ = upstream.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                if upstream.write_all(&chunk[..n]).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
}

/// Server → client, one complete response at a time, with the fault applied. Returns when
/// either side closes, on error, or after a [`Fault::CloseMidResponse`].
fn pump_to_client(mut upstream: &TcpStream, mut client: &TcpStream, shared: &Shared) {
    let mut chunk = vec![0u8; CHUNK_BYTES];
    let mut pending: Vec<u8> = Vec::new();
    let mut framed = true;
    loop {
        let n = match upstream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if !framed {
            shared.wait_out_stall();
            if client.write_all(&chunk[..n]).is_err() {
                return;
            }
            continue;
        }
        pending.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        loop {
            match frame(&pending[start..]) {
                Framing::Incomplete => break,
                Framing::Malformed => {
                    framed = false;
                    shared.wait_out_stall();
                    if client.write_all(&pending[start..]).is_err() {
                        return;
                    }
                    start = pending.len();
                    break;
                }
                Framing::Complete { len, values } => {
                    let response = &mut pending[start..start + len];
                    start += len;
                    let action = apply_fault(response, &values, shared);
                    shared.wait_out_stall();
                    let (bytes, close) = match action {
                        Action::Forward(bytes) | Action::Replace(bytes) => (bytes, false),
                        Action::Truncate(bytes) => (bytes, true),
                    };
                    if client.write_all(bytes).is_err() || close {
                        return;
                    }
                }
            }
        }
        pending.drain(..start);
    }
    // Upstream closed: pass on whatever was left (a partial response) before closing.
    if !pending.is_empty() {
        shared.wait_out_stall();
        let _ = client.write_all(&pending);
    }
}

/// Numbers `response` and its values, corrupts a value in place if it is the one, and says
/// what to send instead of (or as) the response.
fn apply_fault<'a>(
    response: &'a mut [u8],
    values: &[Range<usize>],
    shared: &'a Shared,
) -> Action<'a> {
    let number = shared.responses.fetch_add(1, Ordering::SeqCst) + 1;
    for data in values.iter().filter(|data| !data.is_empty()) {
        let value_number = shared.values.fetch_add(1, Ordering::SeqCst) + 1;
        if shared.fault == (Fault::CorruptValue { nth: value_number }) {
            response[data.start] = corrupt_byte(response[data.start]);
            shared.injected.fetch_add(1, Ordering::SeqCst);
        }
    }
    match &shared.fault {
        Fault::Stall {
            after_responses,
            stall,
        } if number == after_responses + 1 => {
            *lock(&shared.stall_until) = Some(Instant::now() + *stall);
            shared.injected.fetch_add(1, Ordering::SeqCst);
            Action::Forward(response)
        }
        Fault::Garbage {
            after_responses,
            bytes,
        } if number == after_responses + 1 => {
            shared.injected.fetch_add(1, Ordering::SeqCst);
            Action::Replace(bytes)
        }
        Fault::CloseMidResponse { after_responses } if number == after_responses + 1 => {
            shared.injected.fetch_add(1, Ordering::SeqCst);
            let half = response.len() / 2;
            Action::Truncate(&response[..half])
        }
        _ => Action::Forward(response),
    }
}

/// A byte different from `byte`, printable when `byte` is.
fn corrupt_byte(byte: u8) -> u8 {
    let printable = |b: u8| (0x20..=0x7e).contains(&b);
    let flipped = byte ^ 0x01;
    if printable(byte) && !printable(flipped) {
        byte ^ 0x02
    } else {
        flipped
    }
}

/// Where the first ASCII response in a buffer ends.
#[derive(Debug, PartialEq, Eq)]
enum Framing {
    /// More bytes are needed.
    Incomplete,
    /// Not ASCII memcached protocol.
    Malformed,
    /// The first `len` bytes are one response; `values` are its `VALUE` data blocks.
    Complete {
        len: usize,
        values: Vec<Range<usize>>,
    },
}

/// Frames the response at the start of `buf`: a run of `VALUE k f n [cas]\r\n<n bytes>\r\n`
/// blocks (or `STAT` lines) ended by the next other line (`END`), or else one line.
fn frame(buf: &[u8]) -> Framing {
    let mut pos = 0;
    let mut values = Vec::new();
    loop {
        let rest = &buf[pos..];
        let Some(line_len) = rest.windows(2).position(|w| w == b"\r\n") else {
            return if rest.len() > MAX_LINE_BYTES {
                Framing::Malformed
            } else {
                Framing::Incomplete
            };
        };
        let line = &rest[..line_len];
        let next = pos + line_len + 2;
        if line.starts_with(b"VALUE ") {
            let Some(value_len) = value_len(line) else {
                return Framing::Malformed;
            };
            let data_end = next + value_len;
            if buf.len() < data_end + 2 {
                return Framing::Incomplete;
            }
            if &buf[data_end..data_end + 2] != b"\r\n" {
                return Framing::Malformed;
            }
            values.push(next..data_end);
            pos = data_end + 2;
        } else if line.starts_with(b"STAT ") {
            pos = next;
        } else if line.is_empty() || !line.iter().all(|b| (0x20..=0x7e).contains(b)) {
            return Framing::Malformed;
        } else {
            return Framing::Complete { len: next, values };
        }
    }
}

/// The `<bytes>` field of a `VALUE <key> <flags> <bytes> [<cas>]` line.
fn value_len(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    let mut fields = text.split(' ');
    fields.nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemcachedServer;

    const IO_TIMEOUT: Duration = Duration::from_secs(5);

    fn connect(fake: &FakeServer) -> TcpStream {
        let conn = TcpStream::connect_timeout(&fake.addr(), IO_TIMEOUT).unwrap();
        conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        conn
    }

    /// Sends `request` and reads until the reply ends with `terminator`.
    fn roundtrip(conn: &mut TcpStream, request: &[u8], terminator: &[u8]) -> Vec<u8> {
        conn.write_all(request).unwrap();
        read_until(conn, terminator)
    }

    fn read_until(conn: &mut TcpStream, terminator: &[u8]) -> Vec<u8> {
        let mut reply = Vec::new();
        let mut chunk = [0u8; 4096];
        while !reply.ends_with(terminator) {
            let n = conn.read(&mut chunk).unwrap();
            assert!(
                n > 0,
                "closed mid-reply after {:?}",
                String::from_utf8_lossy(&reply)
            );
            reply.extend_from_slice(&chunk[..n]);
        }
        reply
    }

    fn read_to_eof(conn: &mut TcpStream) -> Vec<u8> {
        let mut reply = Vec::new();
        conn.read_to_end(&mut reply).unwrap();
        reply
    }

    fn set(conn: &mut TcpStream, key: &str, value: &str) {
        let request = format!("set {key} 0 0 {}\r\n{value}\r\n", value.len());
        assert_eq!(roundtrip(conn, request.as_bytes(), b"\r\n"), b"STORED\r\n");
    }

    fn get_reply(key: &str, value: &str) -> Vec<u8> {
        format!("VALUE {key} 0 {}\r\n{value}\r\nEND\r\n", value.len()).into_bytes()
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // a list of one data range is meant
    fn frame_finds_response_ends_at_every_split() {
        let cases: [(&[u8], Vec<Range<usize>>); 6] = [
            (b"STORED\r\n", vec![]),
            (b"END\r\n", vec![]),
            (b"42\r\n", vec![]),
            (b"SERVER_ERROR out of memory\r\n", vec![]),
            (b"VALUE k 0 5\r\nhe\r\no\r\nEND\r\n", vec![13..18]),
            (
                b"VALUE a 1 2 77\r\nxy\r\nVALUE bb 0 0\r\n\r\nEND\r\n",
                vec![16..18, 34..34],
            ),
        ];
        for (response, values) in cases {
            for split in 0..response.len() {
                assert_eq!(frame(&response[..split]), Framing::Incomplete, "{split}");
            }
            let mut two = response.to_vec();
            two.extend_from_slice(b"STORED\r\n");
            let expected = Framing::Complete {
                len: response.len(),
                values,
            };
            assert_eq!(frame(&two), expected);
        }
        assert_eq!(frame(b"STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n"), {
            Framing::Complete {
                len: 32,
                values: vec![],
            }
        });
        assert_eq!(frame(b"VALUE k 0 x\r\n"), Framing::Malformed);
        assert_eq!(frame(b"VALUE k 0 1\r\nab\r\n"), Framing::Malformed);
        assert_eq!(frame(b"\x81\x00\x00\r\n"), Framing::Malformed);
    }

    #[test]
    fn corrupt_byte_differs_and_stays_printable() {
        for byte in 0..=u8::MAX {
            let corrupted = corrupt_byte(byte);
            assert_ne!(corrupted, byte);
            if (0x20..=0x7e).contains(&byte) {
                assert!((0x20..=0x7e).contains(&corrupted), "{byte:#x}");
            }
        }
    }

    #[test]
    fn none_passes_set_and_get_through() {
        let server = MemcachedServer::start();
        let fake = FakeServer::start(server.addr(), Fault::None);
        assert!(fake.addr_string().starts_with("127.0.0.1:"));
        let mut conn = connect(&fake);
        set(&mut conn, "k", "hello");
        assert_eq!(
            roundtrip(&mut conn, b"get k\r\n", b"END\r\n"),
            get_reply("k", "hello")
        );
        assert_eq!(
            roundtrip(&mut conn, b"get nope\r\n", b"END\r\n"),
            b"END\r\n"
        );
        set(&mut conn, "k2", "world");
        assert_eq!(
            roundtrip(&mut conn, b"get k k2\r\n", b"END\r\n"),
            b"VALUE k 0 5\r\nhello\r\nVALUE k2 0 5\r\nworld\r\nEND\r\n"
        );
        assert_eq!(
            roundtrip(&mut conn, b"delete k\r\n", b"\r\n"),
            b"DELETED\r\n"
        );
        assert_eq!(fake.injected(), 0);
    }

    #[test]
    fn corrupt_value_flips_one_byte_of_the_nth_value_only() {
        let server = MemcachedServer::start();
        let fake = FakeServer::start(server.addr(), Fault::CorruptValue { nth: 2 });
        let mut conn = connect(&fake);
        let value = "abcdefgh";
        set(&mut conn, "k", value);
        let replies: Vec<Vec<u8>> = (0..3)
            .map(|_| roundtrip(&mut conn, b"get k\r\n", b"END\r\n"))
            .collect();
        let expected = get_reply("k", value);
        assert_eq!(replies[0], expected);
        assert_eq!(replies[2], expected);
        assert_eq!(replies[1].len(), expected.len());
        let differing = replies[1]
            .iter()
            .zip(&expected)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(differing, 1, "{:?}", String::from_utf8_lossy(&replies[1]));
        assert_eq!(fake.injected(), 1);
    }

    #[test]
    fn corrupt_value_counts_each_block_of_a_multi_get() {
        let server = MemcachedServer::start();
        let fake = FakeServer::start(server.addr(), Fault::CorruptValue { nth: 2 });
        let mut conn = connect(&fake);
        set(&mut conn, "a", "aaaa");
        set(&mut conn, "b", "bbbb");
        let reply = roundtrip(&mut conn, b"get a b\r\n", b"END\r\n");
        assert_eq!(
            reply,
            b"VALUE a 0 4\r\naaaa\r\nVALUE b 0 4\r\ncbbb\r\nEND\r\n"
        );
        assert_eq!(fake.injected(), 1);
    }

    #[test]
    fn garbage_replaces_one_response_counted_across_connections() {
        let server = MemcachedServer::start();
        let garbage = b"BOGUS 1 2 3\r\n".to_vec();
        let fault = Fault::Garbage {
            after_responses: 1,
            bytes: garbage.clone(),
        };
        let fake = FakeServer::start(server.addr(), fault);
        let mut first = connect(&fake);
        let mut second = connect(&fake);
        set(&mut first, "k", "hello");
        assert_eq!(roundtrip(&mut second, b"get k\r\n", b"\r\n"), garbage);
        // The swallowed reply must not leak into the next one.
        assert_eq!(
            roundtrip(&mut second, b"get nope\r\n", b"END\r\n"),
            b"END\r\n"
        );
        assert_eq!(
            roundtrip(&mut first, b"get k\r\n", b"END\r\n"),
            get_reply("k", "hello")
        );
        assert_eq!(fake.injected(), 1);
    }

    #[test]
    fn close_mid_response_sends_half_then_eof() {
        let server = MemcachedServer::start();
        let fault = Fault::CloseMidResponse { after_responses: 1 };
        let fake = FakeServer::start(server.addr(), fault);
        let mut conn = connect(&fake);
        set(&mut conn, "k", "hello");
        conn.write_all(b"get k\r\n").unwrap();
        let full = get_reply("k", "hello");
        assert_eq!(read_to_eof(&mut conn), &full[..full.len() / 2]);
        assert_eq!(fake.injected(), 1);
        // Later connections work normally.
        let mut again = connect(&fake);
        assert_eq!(roundtrip(&mut again, b"get k\r\n", b"END\r\n"), full);
        assert_eq!(fake.injected(), 1);
    }

    #[test]
    fn stall_delays_the_next_reply() {
        let server = MemcachedServer::start();
        let fault = Fault::Stall {
            after_responses: 1,
            stall: Duration::from_millis(300),
        };
        let fake = FakeServer::start(server.addr(), fault);
        let mut conn = connect(&fake);
        let started = Instant::now();
        set(&mut conn, "k", "hello");
        assert!(started.elapsed() < Duration::from_millis(250));
        let started = Instant::now();
        assert_eq!(
            roundtrip(&mut conn, b"get k\r\n", b"END\r\n"),
            get_reply("k", "hello")
        );
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(fake.injected(), 1);
        let started = Instant::now();
        assert_eq!(
            roundtrip(&mut conn, b"get k\r\n", b"END\r\n"),
            get_reply("k", "hello")
        );
        assert!(started.elapsed() < Duration::from_millis(250));
        assert_eq!(fake.injected(), 1);
    }

    #[test]
    fn drop_closes_open_connections_promptly() {
        let server = MemcachedServer::start();
        let fake = FakeServer::start(server.addr(), Fault::None);
        let mut conn = connect(&fake);
        set(&mut conn, "k", "hello");
        let started = Instant::now();
        drop(fake);
        assert!(started.elapsed() < Duration::from_millis(1500));
        assert_eq!(read_to_eof(&mut conn), b"");
    }
}
