//! A `memcached` child process on a free loopback port, killed on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::stats::{parse_stats, StatsSnapshot};

/// How long a starting server has to accept a connection.
const READY_TIMEOUT: Duration = Duration::from_secs(5);
/// Ports tried before giving up (a free port can be taken between probe and bind).
const START_ATTEMPTS: usize = 5;

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Also listen on UDP, on the same port number as TCP (memaslap needs them equal).
    pub udp: bool,
    /// Item memory in MiB (`-m`).
    pub memory_mb: u32,
    /// Worker threads (`-t`).
    pub threads: u32,
    /// Extra command-line arguments.
    pub extra_args: Vec<String>,
    /// Also listen for TLS (`-Z`) on a port of its own ([`MemcachedServer::tls_addr_string`]);
    /// the plain port stays for `stats`.
    pub tls: Option<ServerTls>,
}

/// A TLS listener's certificate and key, and whom it asks for a client certificate.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// The server's certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// Require a client certificate signed by this CA (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            udp: false,
            memory_mb: 64,
            threads: 1,
            extra_args: Vec::new(),
            tls: None,
        }
    }
}

/// A running memcached on 127.0.0.1; killed and reaped on drop.
#[derive(Debug)]
pub struct MemcachedServer {
    child: Option<Child>,
    port: u16,
    /// The TLS listener's port, with [`ServerOptions::tls`].
    tls_port: Option<u16>,
    options: ServerOptions,
}

impl MemcachedServer {
    /// Starts a TCP-only memcached with default options.
    pub fn start() -> Self {
        Self::start_with(ServerOptions::default())
    }

    /// Starts memcached with `options`, waiting until it accepts connections.
    pub fn start_with(options: ServerOptions) -> Self {
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port(options.udp);
            let tls_port = options.tls.as_ref().map(|_| free_port(false));
            let mut server = MemcachedServer {
                child: None,
                port,
                tls_port,
                options: options.clone(),
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("could not start memcached after {START_ATTEMPTS} attempts: {last_error}");
    }

    /// Starts the process again on the same port (after [`MemcachedServer::kill`]), e.g. to
    /// test reconnects. Its statistics start from zero.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return,
                // The old socket may linger for a moment; the port is ours, so retry.
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("could not restart memcached on port {}: {e}", self.port),
            }
        }
    }

    /// Kills the process (it may be restarted with [`MemcachedServer::restart`]).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The TCP port (UDP uses the same number when enabled).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TCP address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `127.0.0.1:PORT`, as `-s` takes it.
    pub fn addr_string(&self) -> String {
        self.addr().to_string()
    }

    /// `127.0.0.1:PORT` of the TLS listener, as `-s` takes it.
    ///
    /// # Panics
    /// For a server started without [`ServerOptions::tls`].
    pub fn tls_addr_string(&self) -> String {
        let port = self.tls_port.expect("this memcached has no TLS listener");
        SocketAddr::from(([127, 0, 0, 1], port)).to_string()
    }

    /// Sends `stats` on a fresh connection and parses the reply.
    pub fn stats(&self) -> StatsSnapshot {
        let request = b"stats\r\n";
        let reply = self.roundtrip(request, b"END\r\n");
        let text = String::from_utf8(reply).expect("stats reply is not UTF-8");
        let mut snapshot = parse_stats(&text);
        snapshot.request_len = request.len() as u64;
        snapshot
    }

    /// Every key the server holds, from `lru_crawler metadump all` (memcached 1.6), with the
    /// dump's URL-encoding undone.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let reply = self.roundtrip(b"lru_crawler metadump all\r\n", b"END\r\n");
        let text = String::from_utf8(reply).expect("metadump reply is not UTF-8");
        text.lines()
            .filter_map(|line| line.strip_prefix("key="))
            .map(|rest| url_decode(rest.split(' ').next().unwrap_or("")))
            .collect()
    }

    /// Sends raw bytes on a fresh connection and reads until the reply ends with `terminator`.
    pub fn roundtrip(&self, request: &[u8], terminator: &[u8]) -> Vec<u8> {
        let mut conn = TcpStream::connect_timeout(&self.addr(), READY_TIMEOUT)
            .unwrap_or_else(|e| panic!("cannot connect to memcached at {}: {e}", self.addr()));
        conn.set_read_timeout(Some(READY_TIMEOUT)).unwrap();
        conn.write_all(request).unwrap();
        read_reply(&mut conn, terminator)
            .unwrap_or_else(|e| panic!("reading from memcached at {}: {e}", self.addr()))
    }

    fn spawn(&mut self) -> Result<(), String> {
        let binary = memcached_binary();
        let port = self.port.to_string();
        let mut cmd = Command::new(&binary);
        let listen = match (&self.options.tls, self.tls_port) {
            (Some(tls), Some(tls_port)) => {
                let mut ssl = format!(
                    "ssl_chain_cert={},ssl_key={}",
                    tls.cert.display(),
                    tls.key.display()
                );
                if let Some(ca) = &tls.client_ca {
                    // ssl_verify_mode 2: a client must present a certificate the CA signed.
                    ssl.push_str(&format!(",ssl_ca_cert={},ssl_verify_mode=2", ca.display()));
                }
                cmd.args(["-Z", "-o", &ssl]);
                format!("notls:127.0.0.1:{port},127.0.0.1:{tls_port}")
            }
            _ => "127.0.0.1".to_owned(),
        };
        cmd.args(["-l", &listen, "-p", &port])
            .args(["-U", if self.options.udp { &port } else { "0" }])
            .args(["-t", &self.options.threads.to_string()])
            .args(["-m", &self.options.memory_mb.to_string()])
            .args(&self.options.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // memcached refuses to run as root unless told which user to be.
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            cmd.args(["-u", "root"]);
        }
        let mut child = cmd.spawn().map_err(|e| {
            format!(
                "cannot run {}: {e} (install memcached: `apt-get install memcached`, \
                 or run scripts/test.sh which does it, or set SHARDSLAP_MEMCACHED)",
                binary.display()
            )
        })?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Err(format!("memcached exited with {status}: {}", stderr.trim()));
            }
            // Ready once the memcached answering on the port is this child: a connect alone
            // could reach another listener that took the port after the probe, while this
            // child, failing to bind, has not exited yet.
            if let Some(pid) = answering_pid(self.addr()) {
                if pid == child.id() && child.try_wait().map_err(|e| e.to_string())?.is_none() {
                    self.child = Some(child);
                    return Ok(());
                }
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "port {} is held by another memcached (pid {pid})",
                    self.port
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "memcached on port {} did not answer in 5 s",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for MemcachedServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads from `conn` until the reply ends with `terminator`.
fn read_reply(conn: &mut TcpStream, terminator: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut reply = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while !reply.ends_with(terminator) {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "memcached closed the connection mid-reply",
            ));
        }
        reply.extend_from_slice(&chunk[..n]);
    }
    Ok(reply)
}

/// The pid the memcached listening at `addr` reports in its `stats`, if one answers there
/// within a moment.
fn answering_pid(addr: SocketAddr) -> Option<u32> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    conn.write_all(b"stats\r\n").ok()?;
    let reply = read_reply(&mut conn, b"END\r\n").ok()?;
    u32::try_from(parse_stats(&String::from_utf8_lossy(&reply)).u64("pid")).ok()
}

/// `$SHARDSLAP_MEMCACHED`, or `memcached` found on `PATH`.
fn memcached_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SHARDSLAP_MEMCACHED") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("memcached"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "memcached is not installed: the integration tests need a real server. \
                 Run scripts/test.sh (it installs memcached) or `apt-get install memcached`, \
                 or point SHARDSLAP_MEMCACHED at a memcached binary"
            )
        })
}

/// Ports handed out so far by this process (see [`free_port`]).
static PORTS_TAKEN: AtomicU32 = AtomicU32::new(0);
/// Test ports come from [PORT_BASE, PORT_BASE + PORT_SPAN), below Linux's ephemeral range
/// (32768+), so no client socket's local port can take one between our probe and
/// memcached's bind.
const PORT_BASE: u32 = 20_000;
const PORT_SPAN: u32 = 12_000;

/// A loopback port free for TCP (and for UDP too when `udp`), never the same twice in one
/// process, so parallel tests cannot race each other for it.
fn free_port(udp: bool) -> u16 {
    let start = std::process::id().wrapping_mul(7919) % PORT_SPAN;
    loop {
        let taken = PORTS_TAKEN.fetch_add(1, Ordering::Relaxed);
        assert!(
            taken < PORT_SPAN,
            "no free loopback port left for memcached"
        );
        let port = u16::try_from(PORT_BASE + (start + taken) % PORT_SPAN).unwrap();
        let tcp_free = TcpListener::bind(("127.0.0.1", port)).is_ok();
        if tcp_free && (!udp || UdpSocket::bind(("127.0.0.1", port)).is_ok()) {
            return port;
        }
    }
}

/// `%XX` escapes back to bytes (metadump URL-encodes keys).
fn url_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_server_is_the_memcached_answering_on_its_port() {
        let server = MemcachedServer::start();
        assert_eq!(answering_pid(server.addr()), server.pid());
        let port = server.port();
        drop(server);
        // Gone, nothing answers there.
        assert_eq!(
            answering_pid(SocketAddr::from(([127, 0, 0, 1], port))),
            None
        );
    }

    #[test]
    fn a_port_another_memcached_holds_is_refused_not_taken_as_ready() {
        let holder = MemcachedServer::start();
        let mut second = MemcachedServer {
            child: None,
            port: holder.port(),
            tls_port: None,
            options: ServerOptions::default(),
        };
        let err = second.spawn().expect_err("the port is held");
        assert!(err.contains("held by another memcached"), "{err}");
        assert!(second.pid().is_none());
        // The holder still serves.
        assert_eq!(answering_pid(holder.addr()), holder.pid());
    }
}
