//! Binary codec tests: exact request bytes, every status at every fragmentation, garbage, and
//! property round trips through a test-only request parser and response builder.

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::error::{ProtoError, MAX_RESPONSE_VALUE_LEN};
use crate::test_util::check_stream;

/// Owned copy of a [`BinaryResponse`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    opcode: u8,
    status: Status,
    opaque: u32,
    cas: u64,
    extras: Vec<u8>,
    key: Vec<u8>,
    value: Vec<u8>,
}

impl Owned {
    fn new(opcode: Opcode, status: Status, opaque: u32, cas: u64) -> Self {
        Self {
            opcode: opcode.as_u8(),
            status,
            opaque,
            cas,
            extras: Vec::new(),
            key: Vec::new(),
            value: Vec::new(),
        }
    }

    fn extras(mut self, extras: &[u8]) -> Self {
        self.extras = extras.to_vec();
        self
    }

    fn key(mut self, key: &[u8]) -> Self {
        self.key = key.to_vec();
        self
    }

    fn value(mut self, value: &[u8]) -> Self {
        self.value = value.to_vec();
        self
    }

    /// Test-only server: the wire bytes of this response.
    fn to_wire(&self) -> Vec<u8> {
        let body_len = (self.extras.len() + self.key.len() + self.value.len()) as u32;
        let mut out = vec![RESPONSE_MAGIC, self.opcode];
        out.extend_from_slice(&(self.key.len() as u16).to_be_bytes());
        out.push(self.extras.len() as u8);
        out.push(0);
        out.extend_from_slice(&self.status.as_u16().to_be_bytes());
        out.extend_from_slice(&body_len.to_be_bytes());
        out.extend_from_slice(&self.opaque.to_be_bytes());
        out.extend_from_slice(&self.cas.to_be_bytes());
        out.extend_from_slice(&self.extras);
        out.extend_from_slice(&self.key);
        out.extend_from_slice(&self.value);
        out
    }
}

fn owned(r: &BinaryResponse<'_>) -> Owned {
    Owned {
        opcode: r.opcode,
        status: r.status,
        opaque: r.opaque,
        cas: r.cas,
        extras: r.extras.to_vec(),
        key: r.key.to_vec(),
        value: r.value.to_vec(),
    }
}

fn decode_owned(buf: &[u8]) -> Result<Option<(Owned, usize)>, ProtoError> {
    decode(buf).map(|found| found.map(|(r, n)| (owned(&r), n)))
}

fn check_one(expected: Owned) {
    let wire = expected.to_wire();
    check_stream(&wire, decode_owned, &[(expected, wire.len())], None);
}

/// A request as the test-only server parses it.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    opcode: u8,
    opaque: u32,
    cas: u64,
    extras: Vec<u8>,
    key: Vec<u8>,
    value: Vec<u8>,
}

/// Test-only server: parses exactly one request, checking the fixed header fields.
fn parse_request(wire: &[u8]) -> Request {
    assert_eq!(wire[0], REQUEST_MAGIC);
    let key_len = usize::from(u16::from_be_bytes([wire[2], wire[3]]));
    let extras_len = usize::from(wire[4]);
    assert_eq!(wire[5], 0, "datatype");
    assert_eq!(&wire[6..8], &[0, 0], "vbucket");
    let body_len = u32::from_be_bytes(wire[8..12].try_into().unwrap()) as usize;
    assert_eq!(
        wire.len(),
        HEADER_LEN + body_len,
        "one request, body length right"
    );
    let body = &wire[HEADER_LEN..];
    Request {
        opcode: wire[1],
        opaque: u32::from_be_bytes(wire[12..16].try_into().unwrap()),
        cas: u64::from_be_bytes(wire[16..24].try_into().unwrap()),
        extras: body[..extras_len].to_vec(),
        key: body[extras_len..extras_len + key_len].to_vec(),
        value: body[extras_len + key_len..].to_vec(),
    }
}

fn encoded(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut buf = BytesMut::new();
    f(&mut buf);
    buf.to_vec()
}

// ---- encoders: exact bytes ----

#[test]
fn encode_get_family_exact_bytes() {
    for opcode in [Opcode::Get, Opcode::GetQ, Opcode::GetK, Opcode::GetKQ] {
        let got = encoded(|b| encode_get(b, opcode, b"foo", 0x0102_0304));
        let mut want = vec![
            0x80,
            opcode.as_u8(),
            0,
            3,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            3,
            1,
            2,
            3,
            4,
        ];
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(b"foo");
        assert_eq!(got, want, "{opcode:?}");
    }
}

#[test]
fn encode_storage_exact_bytes() {
    let got = encoded(|b| encode_storage(b, Opcode::Set, b"k", 0xdead_beef, 60, b"vv", 7, 9));
    let want = [
        &[0x80, 0x01, 0, 1, 8, 0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 9][..],
        &7u64.to_be_bytes(),
        &[0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 60],
        b"k",
        b"vv",
    ]
    .concat();
    assert_eq!(got, want);
    for opcode in [Opcode::Add, Opcode::Replace] {
        let got = encoded(|b| encode_storage(b, opcode, b"k", 0, 0, b"", 0, 0));
        assert_eq!(got[1], opcode.as_u8());
        assert_eq!(got.len(), HEADER_LEN + 8 + 1);
    }
}

#[test]
fn encode_delete_touch_noop_version_exact_bytes() {
    let header = |opcode: u8, key_len: u8, extras_len: u8, body_len: u8, opaque: u8| {
        let mut h = vec![
            0x80, opcode, 0, key_len, extras_len, 0, 0, 0, 0, 0, 0, body_len,
        ];
        h.extend_from_slice(&[0, 0, 0, opaque]);
        h.extend_from_slice(&[0; 8]);
        h
    };
    assert_eq!(
        encoded(|b| encode_delete(b, b"abc", 5)),
        [header(0x04, 3, 0, 3, 5), b"abc".to_vec()].concat()
    );
    assert_eq!(
        encoded(|b| encode_touch(b, b"k", 300, 6)),
        [
            header(0x1c, 1, 4, 5, 6),
            300u32.to_be_bytes().to_vec(),
            b"k".to_vec()
        ]
        .concat()
    );
    assert_eq!(encoded(|b| encode_noop(b, 7)), header(0x0a, 0, 0, 0, 7));
    assert_eq!(encoded(|b| encode_version(b, 8)), header(0x0b, 0, 0, 0, 8));
}

#[test]
fn encode_incr_decr_extras() {
    for opcode in [Opcode::Increment, Opcode::Decrement] {
        let wire = encoded(|b| encode_incr_decr(b, opcode, b"n", 5, 100, 0xffff_ffff, 42));
        let request = parse_request(&wire);
        assert_eq!(request.opcode, opcode.as_u8());
        assert_eq!(request.opaque, 42);
        let extras = [&5u64.to_be_bytes()[..], &100u64.to_be_bytes(), &[0xff; 4]].concat();
        assert_eq!(request.extras, extras);
        assert_eq!(request.key, b"n");
        assert!(request.value.is_empty());
    }
}

#[test]
fn opcode_and_status_conversions() {
    let all = [
        Opcode::Get,
        Opcode::Set,
        Opcode::Add,
        Opcode::Replace,
        Opcode::Delete,
        Opcode::Increment,
        Opcode::Decrement,
        Opcode::GetQ,
        Opcode::Noop,
        Opcode::Version,
        Opcode::GetK,
        Opcode::GetKQ,
        Opcode::Touch,
    ];
    for opcode in all {
        assert_eq!(Opcode::try_from(u8::from(opcode)), Ok(opcode));
    }
    let known = (0..=255u8).filter(|b| Opcode::try_from(*b).is_ok()).count();
    assert_eq!(known, all.len());
    assert_eq!(
        Opcode::try_from(0x07),
        Err(ProtoError::UnknownOpcode { opcode: 0x07 })
    );
    for code in 0..=0x100u16 {
        assert_eq!(Status::from_u16(code).as_u16(), code);
    }
    assert_eq!(Status::from(0x0081), Status::UnknownCommand);
    assert!(Status::KeyNotFound.is_miss());
    assert!(
        !Status::NoError.is_miss() && !Status::KeyExists.is_miss() && !Status::Other(1).is_miss()
    );
}

// ---- decoder: every status at every fragmentation ----

#[test]
fn get_hit_with_flags() {
    let hit = Owned::new(Opcode::Get, Status::NoError, 11, 99)
        .extras(&0x0000_abcdu32.to_be_bytes())
        .value(b"hello");
    check_one(hit.clone());
    let wire = hit.to_wire();
    let (response, _) = decode(&wire).unwrap().unwrap();
    assert_eq!(response.flags(), Some(0xabcd));
    assert!(response.is_hit() && !response.is_miss());
    assert_eq!(response.opcode(), Ok(Opcode::Get));
}

#[test]
fn get_miss_with_not_found_body_is_a_miss_not_a_hit() {
    let miss = Owned::new(Opcode::Get, Status::KeyNotFound, 12, 0).value(b"Not found");
    check_one(miss.clone());
    let wire = miss.to_wire();
    let (response, len) = decode(&wire).unwrap().unwrap();
    assert_eq!(len, HEADER_LEN + 9);
    assert!(!response.is_hit(), "a body is not a hit (memaslap's bug)");
    assert!(response.is_miss());
    assert_eq!(response.flags(), None);
}

#[test]
fn getk_hit_carries_the_key() {
    check_one(
        Owned::new(Opcode::GetK, Status::NoError, 1, 5)
            .extras(&[0, 0, 0, 1])
            .key(b"the-key")
            .value(b"v"),
    );
}

#[test]
fn every_status_decodes() {
    let statuses = [
        (Status::NoError, &b""[..]),
        (Status::KeyNotFound, b"Not found"),
        (Status::KeyExists, b"Data exists for key."),
        (Status::ValueTooLarge, b"Too large."),
        (Status::InvalidArguments, b"Invalid arguments"),
        (Status::ItemNotStored, b"Not stored."),
        (
            Status::NonNumeric,
            b"Non-numeric server-side value for incr or decr",
        ),
        (Status::UnknownCommand, b"Unknown command"),
        (Status::OutOfMemory, b"Out of memory"),
        (Status::Other(0x0020), b"Auth error"),
    ];
    for (status, body) in statuses {
        check_one(Owned::new(Opcode::Set, status, 3, 0).value(body));
    }
}

#[test]
fn incr_noop_and_version_replies() {
    check_one(Owned::new(Opcode::Increment, Status::NoError, 4, 8).value(&43u64.to_be_bytes()));
    check_one(Owned::new(Opcode::Noop, Status::NoError, 5, 0));
    check_one(Owned::new(Opcode::Version, Status::NoError, 6, 0).value(b"1.6.21"));
}

#[test]
fn back_to_back_responses() {
    let parts = [
        Owned::new(Opcode::Set, Status::NoError, 1, 77),
        Owned::new(Opcode::Get, Status::KeyNotFound, 2, 0).value(b"Not found"),
        Owned::new(Opcode::Get, Status::NoError, 3, 78)
            .extras(&[0, 0, 0, 0])
            .value(&[7u8; 300]),
        Owned::new(Opcode::Noop, Status::NoError, 4, 0),
    ];
    let input: Vec<u8> = parts.iter().flat_map(Owned::to_wire).collect();
    let expected: Vec<(Owned, usize)> = parts
        .iter()
        .map(|p| (p.clone(), p.to_wire().len()))
        .collect();
    check_stream(&input, decode_owned, &expected, None);
}

// ---- decoder: garbage ----

#[test]
fn bad_magic_is_detected_at_the_first_byte() {
    check_stream::<Owned, _>(
        b"VALUE k 0 1\r\n",
        decode_owned,
        &[],
        Some((ProtoError::BadMagic { magic: b'V' }, 1)),
    );
    let request = encoded(|b| encode_noop(b, 1));
    check_stream::<Owned, _>(
        &request,
        decode_owned,
        &[],
        Some((ProtoError::BadMagic { magic: 0x80 }, 1)),
    );
    let mut stream = Owned::new(Opcode::Noop, Status::NoError, 1, 0).to_wire();
    stream.extend_from_slice(b"ERROR\r\n");
    check_stream(
        &stream,
        decode_owned,
        &[(Owned::new(Opcode::Noop, Status::NoError, 1, 0), HEADER_LEN)],
        Some((ProtoError::BadMagic { magic: b'E' }, HEADER_LEN + 1)),
    );
}

#[test]
fn body_shorter_than_extras_and_key_is_detected_at_the_header() {
    let mut wire = Owned::new(Opcode::Get, Status::NoError, 1, 0)
        .extras(&[0; 4])
        .key(b"key")
        .to_wire();
    wire[11] = 6; // body_len 6 < extras 4 + key 3
    let error = ProtoError::BinaryBodyTooShort {
        body_len: 6,
        extras_len: 4,
        key_len: 3,
    };
    check_stream::<Owned, _>(&wire, decode_owned, &[], Some((error, HEADER_LEN)));
}

#[test]
fn huge_body_is_value_too_large_at_the_header() {
    let mut wire = Owned::new(Opcode::Get, Status::NoError, 1, 0).to_wire();
    wire[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    wire.extend_from_slice(&[0; 100]);
    let error = ProtoError::ValueTooLarge {
        value_len: u64::from(u32::MAX),
        limit: MAX_RESPONSE_VALUE_LEN,
    };
    check_stream::<Owned, _>(&wire, decode_owned, &[], Some((error, HEADER_LEN)));
}

// ---- property round trips ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn storage_request_round_trips(
        key in proptest::collection::vec(any::<u8>(), 1..=250),
        value in proptest::collection::vec(any::<u8>(), 0..=4096),
        flags in any::<u32>(),
        exptime in any::<u32>(),
        cas in any::<u64>(),
        opaque in any::<u32>(),
        which in 0usize..3,
    ) {
        let opcode = [Opcode::Set, Opcode::Add, Opcode::Replace][which];
        let mut buf = BytesMut::new();
        encode_storage(&mut buf, opcode, &key, flags, exptime, &value, cas, opaque);
        let request = parse_request(&buf);
        let extras = [flags.to_be_bytes(), exptime.to_be_bytes()].concat();
        prop_assert_eq!(request, Request { opcode: opcode.as_u8(), opaque, cas, extras, key, value });
    }

    #[test]
    fn get_request_then_response_round_trips(
        key in proptest::collection::vec(any::<u8>(), 1..=250),
        value in proptest::collection::vec(any::<u8>(), 0..=4096),
        flags in any::<u32>(),
        cas in any::<u64>(),
        opaque in any::<u32>(),
        hit in any::<bool>(),
        chunk in 1usize..500,
    ) {
        let mut buf = BytesMut::new();
        encode_get(&mut buf, Opcode::GetK, &key, opaque);
        let request = parse_request(&buf);
        prop_assert_eq!((request.opcode, request.opaque, &request.key), (Opcode::GetK.as_u8(), opaque, &key));
        prop_assert!(request.extras.is_empty() && request.value.is_empty());

        // Test-only server: a GetK hit echoes key, flags and value; a miss says "Not found".
        let reply = if hit {
            Owned::new(Opcode::GetK, Status::NoError, request.opaque, cas)
                .extras(&flags.to_be_bytes()).key(&request.key).value(&value)
        } else {
            Owned::new(Opcode::GetK, Status::KeyNotFound, request.opaque, 0).value(b"Not found")
        };
        let wire = reply.to_wire();
        let mut received = Vec::new();
        for piece in wire.chunks(chunk) {
            prop_assert_eq!(decode_owned(&received), Ok(None));
            received.extend_from_slice(piece);
        }
        let (response, len) = decode(&received).unwrap().unwrap();
        prop_assert_eq!(len, wire.len());
        prop_assert_eq!(response.is_hit(), hit);
        prop_assert_eq!(response.is_miss(), !hit);
        prop_assert_eq!(response.opaque, opaque);
        if hit {
            prop_assert_eq!(response.flags(), Some(flags));
            prop_assert_eq!((response.key, response.value, response.cas), (&key[..], &value[..], cas));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        match decode(&input) {
            Ok(Some((_, len))) => prop_assert!((HEADER_LEN..=input.len()).contains(&len)),
            Ok(None) => prop_assert!(input.is_empty() || input.len() < HEADER_LEN || input[0] == RESPONSE_MAGIC),
            Err(_) => {}
        }
    }
}
