//! The codecs against a real memcached 1.6: what we encode, it understands; what it answers,
//! we decode — over TCP (ASCII, meta, binary) and UDP (multi-datagram reassembly).

#![allow(clippy::unwrap_used)] // Test helpers: a failure should panic with its cause.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use bytes::BytesMut;
use shardslap_proto::ascii::{self, MetaKind, Response, StorageCommand};
use shardslap_proto::binary::{self, Opcode, Status};
use shardslap_proto::udp::{FrameHeader, Reassembler};
use shardslap_testkit::{MemcachedServer, ServerOptions};

const IO_TIMEOUT: Duration = Duration::from_secs(5);

fn connect(server: &MemcachedServer) -> TcpStream {
    let conn = TcpStream::connect(server.addr()).unwrap();
    conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    conn
}

/// Sends `request` and reads until `decode` yields a whole response; returns the raw bytes of
/// that response (so the test can decode it again and borrow from it).
fn exchange<D>(conn: &mut TcpStream, request: &[u8], complete: D) -> Vec<u8>
where
    D: Fn(&[u8]) -> Option<usize>,
{
    conn.write_all(request).unwrap();
    let mut received = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(len) = complete(&received) {
            assert_eq!(len, received.len(), "nothing but the one response arrived");
            return received;
        }
        let n = conn.read(&mut chunk).unwrap();
        assert!(n > 0, "memcached closed the connection");
        received.extend_from_slice(&chunk[..n]);
    }
}

fn ascii_exchange(conn: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    exchange(conn, request, |bytes| {
        ascii::decode(bytes).unwrap().map(|(_, len)| len)
    })
}

fn binary_exchange(conn: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    exchange(conn, request, |bytes| {
        binary::decode(bytes).unwrap().map(|(_, len)| len)
    })
}

fn ascii_set(conn: &mut TcpStream, key: &[u8], flags: u32, value: &[u8]) {
    let mut buf = BytesMut::new();
    ascii::encode_storage(&mut buf, StorageCommand::Set, key, flags, 0, value, false);
    let reply = ascii_exchange(conn, &buf);
    assert!(matches!(
        ascii::decode(&reply).unwrap().unwrap().0,
        Response::Stored
    ));
}

#[test]
fn ascii_set_then_get_returns_the_same_bytes() {
    let server = MemcachedServer::start();
    let mut conn = connect(&server);
    let value: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect(); // binary-safe bytes
    ascii_set(&mut conn, b"roundtrip:key", 42, &value);

    let mut buf = BytesMut::new();
    ascii::encode_get(&mut buf, b"roundtrip:key");
    let reply = ascii_exchange(&mut conn, &buf);
    let Response::Values(values) = ascii::decode(&reply).unwrap().unwrap().0 else {
        panic!("not a value list: {:?}", String::from_utf8_lossy(&reply));
    };
    assert_eq!(values.len(), 1);
    let got = values.iter().next().unwrap();
    assert_eq!(got.key, b"roundtrip:key");
    assert_eq!(got.flags, 42);
    assert_eq!(got.data, &value[..]);
    assert_eq!(got.cas, None);

    let before = server.stats();
    let mut buf = BytesMut::new();
    ascii::encode_gets(&mut buf, b"roundtrip:key");
    let reply = ascii_exchange(&mut conn, &buf);
    let Response::Values(values) = ascii::decode(&reply).unwrap().unwrap().0 else {
        panic!("gets did not return values");
    };
    assert!(
        values.iter().next().unwrap().cas.is_some(),
        "gets carries a cas"
    );
    assert_eq!(server.stats().since(&before).get_hits, 1);
}

#[test]
fn ascii_get_miss_is_an_empty_value_list() {
    let server = MemcachedServer::start();
    let mut conn = connect(&server);
    let before = server.stats();
    let mut buf = BytesMut::new();
    ascii::encode_get(&mut buf, b"never:stored");
    let reply = ascii_exchange(&mut conn, &buf);
    let Response::Values(values) = ascii::decode(&reply).unwrap().unwrap().0 else {
        panic!("a miss is END");
    };
    assert!(values.is_empty());
    assert_eq!(server.stats().since(&before).get_misses, 1);
}

#[test]
fn ascii_multi_get_of_100_keys_with_some_missing() {
    let server = MemcachedServer::start();
    let mut conn = connect(&server);
    let keys: Vec<Vec<u8>> = (0..100)
        .map(|i| format!("multi:{i:03}").into_bytes())
        .collect();
    // Store every third key, with a value that names it.
    for key in keys.iter().step_by(3) {
        ascii_set(&mut conn, key, 7, &[key.as_slice(), b"=value"].concat());
    }
    let before = server.stats();
    let mut buf = BytesMut::new();
    ascii::encode_multi_get(&mut buf, keys.iter().map(Vec::as_slice));
    let reply = ascii_exchange(&mut conn, &buf);
    let Response::Values(values) = ascii::decode(&reply).unwrap().unwrap().0 else {
        panic!("multi-get did not return a value list");
    };
    let stored: Vec<&Vec<u8>> = keys.iter().step_by(3).collect();
    assert_eq!(values.len(), stored.len());
    for (value, key) in values.iter().zip(&stored) {
        assert_eq!(value.key, key.as_slice());
        assert_eq!(value.data, [key.as_slice(), b"=value"].concat());
    }
    let delta = server.stats().since(&before);
    assert_eq!(delta.cmd_get, 100);
    assert_eq!(delta.get_hits, stored.len() as u64);
    assert_eq!(delta.get_misses, (100 - stored.len()) as u64);
}

#[test]
fn ascii_other_commands_get_their_replies() {
    let server = MemcachedServer::start();
    let mut conn = connect(&server);
    let mut buf = BytesMut::new();
    ascii::encode_storage(
        &mut buf,
        StorageCommand::Add,
        b"counter",
        0,
        0,
        b"10",
        false,
    );
    let reply = ascii_exchange(&mut conn, &buf);
    assert!(matches!(
        ascii::decode(&reply).unwrap().unwrap().0,
        Response::Stored
    ));

    type Case = (fn(&mut BytesMut), fn(&Response<'_>) -> bool);
    let cases: [Case; 5] = [
        (
            |b| ascii::encode_incr(b, b"counter", 5, false),
            |r| matches!(r, Response::Number(15)),
        ),
        (
            |b| ascii::encode_decr(b, b"counter", 3, false),
            |r| matches!(r, Response::Number(12)),
        ),
        (
            |b| ascii::encode_touch(b, b"counter", 100, false),
            |r| matches!(r, Response::Touched),
        ),
        (
            |b| ascii::encode_delete(b, b"counter", false),
            |r| matches!(r, Response::Deleted),
        ),
        (
            |b| ascii::encode_delete(b, b"counter", false),
            |r| matches!(r, Response::NotFound),
        ),
    ];
    for (encode, expected) in cases {
        let mut buf = BytesMut::new();
        encode(&mut buf);
        let reply = ascii_exchange(&mut conn, &buf);
        let response = ascii::decode(&reply).unwrap().unwrap().0;
        assert!(
            expected(&response),
            "{:?} got {response:?}",
            String::from_utf8_lossy(&buf)
        );
    }

    let mut buf = BytesMut::new();
    ascii::encode_version(&mut buf);
    let reply = ascii_exchange(&mut conn, &buf);
    assert!(
        matches!(ascii::decode(&reply).unwrap().unwrap().0, Response::Version(v) if v.starts_with(b"1."))
    );

    let mut buf = BytesMut::new();
    ascii::encode_stats(&mut buf, None);
    let reply = ascii_exchange(&mut conn, &buf);
    let Response::Stats(stats) = ascii::decode(&reply).unwrap().unwrap().0 else {
        panic!("stats reply");
    };
    assert!(stats.iter().any(|(name, _)| name == b"cmd_get"));
}

#[test]
fn meta_set_then_meta_get_and_miss() {
    let server = MemcachedServer::start();
    let mut conn = connect(&server);
    let mut buf = BytesMut::new();
    ascii::encode_ms(&mut buf, b"meta:key", b"meta value", b"F5 T0");
    let reply = ascii_exchange(&mut conn, &buf);
    let Response::Meta(meta) = ascii::decode(&reply).unwrap().unwrap().0 else {
        panic!("ms reply is meta");
    };
    assert_eq!(meta.kind, MetaKind::Hd);

    let mut buf = BytesMut::new();
    ascii::encode_mg(&mut buf, b"meta:key", b"v f");
    let reply = ascii_exchange(&mut conn, &buf);
    let Response::Meta(meta) = ascii::decode(&reply).unwrap().unwrap().0 else {
        panic!("mg reply is meta");
    };
    assert_eq!(meta.kind, MetaKind::Va);
    assert_eq!(meta.data, Some(&b"meta value"[..]));
    assert_eq!(meta.flags, b"f5");

    let mut buf = BytesMut::new();
    ascii::encode_mg(&mut buf, b"meta:absent", b"v");
    let reply = ascii_exchange(&mut conn, &buf);
    let Response::Meta(meta) = ascii::decode(&reply).unwrap().unwrap().0 else {
        panic!("mg miss is meta");
    };
    assert_eq!(meta.kind, MetaKind::En);

    let mut buf = BytesMut::new();
    ascii::encode_md(&mut buf, b"meta:key", b"");
    ascii::encode_mn(&mut buf);
    conn.write_all(&buf).unwrap();
    let reply = exchange(&mut conn, b"", |bytes| {
        let (first, len) = ascii::decode(bytes).unwrap()?;
        assert!(matches!(first, Response::Meta(m) if m.kind == MetaKind::Hd));
        let (second, len2) = ascii::decode(&bytes[len..]).unwrap()?;
        assert!(matches!(second, Response::Meta(m) if m.kind == MetaKind::Mn));
        Some(len + len2)
    });
    assert!(reply.ends_with(b"MN\r\n"));
}

#[test]
fn binary_set_get_hit_and_get_miss() {
    let server = MemcachedServer::start();
    let mut conn = connect(&server);
    let mut buf = BytesMut::new();
    binary::encode_storage(
        &mut buf,
        Opcode::Set,
        b"bin:key",
        9,
        0,
        b"binary value",
        0,
        11,
    );
    let reply = binary_exchange(&mut conn, &buf);
    let (response, _) = binary::decode(&reply).unwrap().unwrap();
    assert_eq!(response.status, Status::NoError);
    assert_eq!(response.opaque, 11);

    let before = server.stats();
    let mut buf = BytesMut::new();
    binary::encode_get(&mut buf, Opcode::Get, b"bin:key", 12);
    let reply = binary_exchange(&mut conn, &buf);
    let (hit, _) = binary::decode(&reply).unwrap().unwrap();
    assert!(hit.is_hit());
    assert_eq!(hit.value, b"binary value");
    assert_eq!(hit.flags(), Some(9));

    let mut buf = BytesMut::new();
    binary::encode_get(&mut buf, Opcode::Get, b"bin:absent", 13);
    let reply = binary_exchange(&mut conn, &buf);
    let (miss, _) = binary::decode(&reply).unwrap().unwrap();
    // memcached answers a miss with status 1 and a "Not found" body: a miss, never a hit.
    assert_eq!(miss.status, Status::KeyNotFound);
    assert!(miss.is_miss() && !miss.is_hit());
    assert_eq!(miss.opaque, 13);

    let delta = server.stats().since(&before);
    assert_eq!((delta.get_hits, delta.get_misses), (1, 1));
}

#[test]
fn binary_quiet_multi_get_ends_with_noop() {
    let server = MemcachedServer::start();
    let mut conn = connect(&server);
    let mut buf = BytesMut::new();
    binary::encode_storage(&mut buf, Opcode::Set, b"q:1", 0, 0, b"one", 0, 0);
    binary_exchange(&mut conn, &buf);
    let mut buf = BytesMut::new();
    binary::encode_get(&mut buf, Opcode::GetKQ, b"q:1", 1);
    binary::encode_get(&mut buf, Opcode::GetKQ, b"q:absent", 2);
    binary::encode_noop(&mut buf, 3);
    // Quiet gets answer only hits; the NOOP closes the batch.
    let reply = exchange(&mut conn, &buf, |bytes| {
        let (first, len) = binary::decode(bytes).unwrap()?;
        assert_eq!(
            (first.key, first.value, first.opaque),
            (&b"q:1"[..], &b"one"[..], 1)
        );
        let (noop, len2) = binary::decode(&bytes[len..]).unwrap()?;
        assert_eq!(noop.opaque, 3);
        Some(len + len2)
    });
    assert!(!reply.is_empty());
}

#[test]
fn udp_get_of_a_5000_byte_value_is_reassembled_from_several_datagrams() {
    let server = MemcachedServer::start_with(ServerOptions {
        udp: true,
        ..ServerOptions::default()
    });
    let mut conn = connect(&server);
    let value: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
    ascii_set(&mut conn, b"udp:big", 0, &value);

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    socket.connect(server.addr()).unwrap();
    let request_id = 0x1234;
    let mut datagram = BytesMut::new();
    FrameHeader::request(request_id).encode(&mut datagram);
    ascii::encode_get(&mut datagram, b"udp:big");
    socket.send(&datagram).unwrap();

    let mut reassembler = Reassembler::new(64, 1 << 20);
    reassembler.begin(request_id);
    let mut buf = [0u8; 2048];
    let mut datagrams = 0;
    let payload = loop {
        let n = socket.recv(&mut buf).unwrap();
        datagrams += 1;
        if let Some(payload) = reassembler.push(&buf[..n]).unwrap() {
            break payload.to_vec();
        }
    };
    assert!(
        datagrams >= 4,
        "5000 bytes need several datagrams, got {datagrams}"
    );
    let (response, len) = ascii::decode(&payload).unwrap().unwrap();
    assert_eq!(len, payload.len());
    let Response::Values(values) = response else {
        panic!("UDP get did not return values");
    };
    assert_eq!(values.iter().next().unwrap().data, &value[..]);
}
