//! [`KeyCounter`]: a TCP proxy in front of a real memcached that counts, per key, the GETs
//! that pass it (text protocol) — what the server was asked for, measured on the wire and not
//! by the client under test.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// GETs per key, as the proxy saw them.
type Counts = Arc<Mutex<HashMap<Vec<u8>, u64>>>;

/// A counting proxy; stops accepting on drop (open relays end with their sockets).
#[derive(Debug)]
pub struct KeyCounter {
    addr: SocketAddr,
    counts: Counts,
    stopping: Arc<AtomicBool>,
}

impl KeyCounter {
    /// Starts the proxy on a free loopback port, relaying to `upstream`.
    pub fn start(upstream: SocketAddr) -> KeyCounter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let counts: Counts = Arc::default();
        let stopping = Arc::new(AtomicBool::new(false));
        let (counts_in, stopping_in) = (counts.clone(), stopping.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if stopping_in.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                relay(client, server, counts_in.clone());
            }
        });
        KeyCounter {
            addr,
            counts,
            stopping,
        }
    }

    /// `host:port` to give shardslap's `-s`.
    pub fn addr_string(&self) -> String {
        self.addr.to_string()
    }

    /// GETs per key so far.
    pub fn counts(&self) -> HashMap<Vec<u8>, u64> {
        self.counts.lock().unwrap().clone()
    }
}

impl Drop for KeyCounter {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Copies replies back as they come, and requests forward while counting their GET keys.
fn relay(client: TcpStream, server: TcpStream, counts: Counts) {
    let (mut client_rx, mut server_tx) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut server_rx, mut client_tx) = (server, client);
    thread::spawn(move || {
        let mut buf = [0u8; 16 << 10];
        while let Ok(n @ 1..) = server_rx.read(&mut buf) {
            if client_tx.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = client_tx.shutdown(Shutdown::Both);
    });
    thread::spawn(move || {
        let mut parser = RequestParser::default();
        let mut buf = [0u8; 16 << 10];
        while let Ok(n @ 1..) = client_rx.read(&mut buf) {
            parser.feed(&buf[..n], &counts);
            if server_tx.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = server_tx.shutdown(Shutdown::Both);
    });
}

/// Splits a text-protocol request stream into command lines, skipping storage data blocks.
#[derive(Debug, Default)]
struct RequestParser {
    line: Vec<u8>,
    /// Data bytes (with their `\r\n`) of a storage command still to pass.
    skip: usize,
}

impl RequestParser {
    fn feed(&mut self, mut bytes: &[u8], counts: &Counts) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
                self.line.extend_from_slice(bytes);
                return;
            };
            self.line.extend_from_slice(&bytes[..=end]);
            bytes = &bytes[end + 1..];
            let line = std::mem::take(&mut self.line);
            let mut words = line.trim_ascii().split(|&b| b == b' ');
            match words.next() {
                Some(b"get" | b"gets") => {
                    let mut counts = counts.lock().unwrap();
                    for key in words.filter(|w| !w.is_empty()) {
                        *counts.entry(key.to_vec()).or_default() += 1;
                    }
                }
                Some(b"set" | b"add" | b"replace" | b"append" | b"prepend" | b"cas") => {
                    let len = words.nth(3).and_then(|w| std::str::from_utf8(w).ok());
                    self.skip = len.and_then(|w| w.parse::<usize>().ok()).unwrap_or(0) + 2;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gets_are_counted_per_key_and_set_data_is_skipped_in_any_fragments() {
        let stream = b"set k1 0 0 5\r\nget x\r\nget k1 k2\r\nget k1\r\nset k2 0 0 3\r\nabc\r\n";
        // The SET's data here reads "get x": it must not be counted.
        for size in [1, 2, 7, stream.len()] {
            let counts = Counts::default();
            let mut parser = RequestParser::default();
            for chunk in stream.chunks(size) {
                parser.feed(chunk, &counts);
            }
            let counts = counts.lock().unwrap();
            assert_eq!(counts.get(&b"k1".to_vec()), Some(&2), "fragments of {size}");
            assert_eq!(counts.get(&b"k2".to_vec()), Some(&1));
            assert_eq!(counts.get(&b"x".to_vec()), None);
        }
    }
}
