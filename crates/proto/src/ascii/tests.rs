//! ASCII codec tests: exact encoder bytes, every response kind and garbage case at every
//! fragmentation, and property round trips through a test-only server.

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::error::{LineSnippet, ProtoError, MAX_KEY_LEN, MAX_LINE_LEN, MAX_RESPONSE_VALUE_LEN};
use crate::test_util::{check_stream, same_error};

/// An owned `VALUE` block: key, flags, cas, data.
type Item = (Vec<u8>, u32, Option<u64>, Vec<u8>);

/// An owned copy of a [`Response`], so expected values can be written down and compared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Values(Vec<Item>),
    Stored,
    NotStored,
    Exists,
    NotFound,
    Deleted,
    Touched,
    Ok,
    Number(u64),
    Version(Vec<u8>),
    Stats(Vec<(Vec<u8>, Vec<u8>)>),
    Error,
    ClientError(Vec<u8>),
    ServerError(Vec<u8>),
    Meta(MetaKind, Option<Vec<u8>>, Vec<u8>),
}

fn owned(response: &Response<'_>) -> Owned {
    match *response {
        Response::Values(values) => {
            let list: Vec<_> = values
                .iter()
                .map(|v| (v.key.to_vec(), v.flags, v.cas, v.data.to_vec()))
                .collect();
            assert_eq!(values.len(), list.len());
            assert_eq!(values.is_empty(), list.is_empty());
            let total: usize = list.iter().map(|v| v.3.len()).sum();
            assert_eq!(values.total_data_len(), total);
            Owned::Values(list)
        }
        Response::Stored => Owned::Stored,
        Response::NotStored => Owned::NotStored,
        Response::Exists => Owned::Exists,
        Response::NotFound => Owned::NotFound,
        Response::Deleted => Owned::Deleted,
        Response::Touched => Owned::Touched,
        Response::Ok => Owned::Ok,
        Response::Number(n) => Owned::Number(n),
        Response::Version(v) => Owned::Version(v.to_vec()),
        Response::Stats(stats) => {
            let list: Vec<_> = stats
                .iter()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect();
            assert_eq!(stats.len(), list.len());
            Owned::Stats(list)
        }
        Response::Error => Owned::Error,
        Response::ClientError(m) => Owned::ClientError(m.to_vec()),
        Response::ServerError(m) => Owned::ServerError(m.to_vec()),
        Response::Meta(m) => Owned::Meta(m.kind, m.data.map(<[u8]>::to_vec), m.flags.to_vec()),
    }
}

fn decode_owned(buf: &[u8]) -> Result<Option<(Owned, usize)>, ProtoError> {
    decode(buf).map(|found| found.map(|(r, n)| (owned(&r), n)))
}

fn val(key: &str, flags: u32, cas: Option<u64>, data: &[u8]) -> Item {
    (key.as_bytes().to_vec(), flags, cas, data.to_vec())
}

/// One response, alone in the input, at every fragmentation.
fn check_one(input: &[u8], expected: Owned) {
    check_stream(input, decode_owned, &[(expected, input.len())], None);
}

/// Garbage: `error` must be reported exactly when byte `at` arrives, at every fragmentation.
fn check_garbage(input: &[u8], error: ProtoError, at: usize) {
    check_stream::<Owned, _>(input, decode_owned, &[], Some((error, at)));
}

fn unknown(line: &[u8]) -> ProtoError {
    ProtoError::UnknownResponse {
        line: LineSnippet::new(line),
    }
}

fn encoded(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut buf = BytesMut::new();
    f(&mut buf);
    buf.to_vec()
}

// ---- encoders: exact bytes ----

#[test]
fn encode_get_and_gets() {
    assert_eq!(encoded(|b| encode_get(b, b"foo")), b"get foo\r\n");
    assert_eq!(encoded(|b| encode_gets(b, b"foo")), b"gets foo\r\n");
}

#[test]
fn encode_multi_get_joins_keys_on_one_line() {
    let keys: [&[u8]; 3] = [b"a", b"bb", b"ccc"];
    let mut buf = BytesMut::new();
    assert_eq!(encode_multi_get(&mut buf, keys), 3);
    assert_eq!(&buf[..], b"get a bb ccc\r\n");
    buf.clear();
    assert_eq!(encode_multi_gets(&mut buf, keys.iter().copied()), 3);
    assert_eq!(&buf[..], b"gets a bb ccc\r\n");
    buf.clear();
    assert_eq!(encode_multi_get(&mut buf, std::iter::empty()), 0);
    assert!(buf.is_empty(), "no keys, no request");
}

#[test]
fn encode_storage_commands() {
    let cases = [
        (StorageCommand::Set, &b"set"[..]),
        (StorageCommand::Add, b"add"),
        (StorageCommand::Replace, b"replace"),
        (StorageCommand::Append, b"append"),
        (StorageCommand::Prepend, b"prepend"),
    ];
    for (cmd, verb) in cases {
        let got = encoded(|b| encode_storage(b, cmd, b"k", 7, 300, b"hello", false));
        assert_eq!(got, [verb, b" k 7 300 5\r\nhello\r\n"].concat());
    }
    let got = encoded(|b| encode_storage(b, StorageCommand::Set, b"k", u32::MAX, 0, b"", true));
    assert_eq!(got, b"set k 4294967295 0 0 noreply\r\n\r\n");
}

proptest! {
    /// The lengths asked before encoding (a UDP request must fit one datagram) are what
    /// encoding writes.
    #[test]
    fn request_lengths_match_what_is_encoded(
        keys in 0usize..8,
        key_len in 1usize..=MAX_KEY_LEN,
        flags in any::<u32>(),
        exptime in any::<u32>(),
        value_len in 0usize..3000,
        noreply in any::<bool>(),
    ) {
        let key = vec![b'k'; key_len];
        let get = encoded(|b| {
            encode_multi_get(b, std::iter::repeat(&key[..]).take(keys));
        });
        prop_assert_eq!(multi_get_len(keys, key_len), get.len());
        let value = vec![b'v'; value_len];
        let set = encoded(|b| {
            encode_storage(b, StorageCommand::Set, &key, flags, exptime, &value, noreply);
        });
        let len = storage_len(StorageCommand::Set, key_len, flags, exptime, value_len, noreply);
        prop_assert_eq!(len, set.len());
    }
}

#[test]
fn encode_cas_command() {
    let got = encoded(|b| encode_cas(b, b"k", 1, 2, b"xy", 12345, false));
    assert_eq!(got, b"cas k 1 2 2 12345\r\nxy\r\n");
    let got = encoded(|b| encode_cas(b, b"k", 1, 2, b"xy", 9, true));
    assert_eq!(got, b"cas k 1 2 2 9 noreply\r\nxy\r\n");
}

#[test]
fn encode_delete_incr_decr_touch() {
    assert_eq!(encoded(|b| encode_delete(b, b"k", false)), b"delete k\r\n");
    assert_eq!(
        encoded(|b| encode_delete(b, b"k", true)),
        b"delete k noreply\r\n"
    );
    assert_eq!(encoded(|b| encode_incr(b, b"n", 1, false)), b"incr n 1\r\n");
    assert_eq!(
        encoded(|b| encode_incr(b, b"n", u64::MAX, true)),
        b"incr n 18446744073709551615 noreply\r\n"
    );
    assert_eq!(
        encoded(|b| encode_decr(b, b"n", 10, false)),
        b"decr n 10\r\n"
    );
    assert_eq!(
        encoded(|b| encode_touch(b, b"k", 60, false)),
        b"touch k 60\r\n"
    );
    assert_eq!(
        encoded(|b| encode_touch(b, b"k", 0, true)),
        b"touch k 0 noreply\r\n"
    );
}

#[test]
fn encode_version_and_stats() {
    assert_eq!(encoded(encode_version), b"version\r\n");
    assert_eq!(encoded(|b| encode_stats(b, None)), b"stats\r\n");
    assert_eq!(
        encoded(|b| encode_stats(b, Some(b"settings"))),
        b"stats settings\r\n"
    );
}

#[test]
fn encode_meta_commands() {
    assert_eq!(
        encoded(|b| encode_mg(b, b"k", b"v f t k")),
        b"mg k v f t k\r\n"
    );
    assert_eq!(encoded(|b| encode_mg(b, b"k", b"")), b"mg k\r\n");
    assert_eq!(
        encoded(|b| encode_ms(b, b"k", b"abc", b"T60 F5")),
        b"ms k 3 T60 F5\r\nabc\r\n"
    );
    assert_eq!(encoded(|b| encode_ms(b, b"k", b"", b"")), b"ms k 0\r\n\r\n");
    assert_eq!(
        encoded(|b| encode_ms_item(b, b"k", b"abc", 5, 60)),
        b"ms k 3 T60 F5\r\nabc\r\n"
    );
    assert_eq!(
        encoded(|b| encode_ms_item(b, b"k", b"", 0, 0)),
        b"ms k 0 T0 F0\r\n\r\n"
    );
    assert_eq!(encoded(|b| encode_md(b, b"k", b"q")), b"md k q\r\n");
    assert_eq!(encoded(|b| encode_md(b, b"k", b"")), b"md k\r\n");
    assert_eq!(encoded(encode_mn), b"mn\r\n");
}

#[test]
fn encoders_append_to_existing_content() {
    let mut buf = BytesMut::from(&b"xx"[..]);
    encode_get(&mut buf, b"a");
    encode_mn(&mut buf);
    assert_eq!(&buf[..], b"xxget a\r\nmn\r\n");
}

#[test]
fn key_validity() {
    assert!(is_valid_key(b"foo:bar-1"));
    assert!(is_valid_key(&[b'k'; MAX_KEY_LEN]));
    assert!(!is_valid_key(&[b'k'; MAX_KEY_LEN + 1]));
    assert!(!is_valid_key(b""));
    assert!(!is_valid_key(b"a b"));
    assert!(!is_valid_key(b"a\r\n"));
    assert!(!is_valid_key(b"a\x7f"));
}

// ---- decoder: every response kind at every fragmentation ----

#[test]
fn single_value() {
    check_one(
        b"VALUE foo 5 3\r\nbar\r\nEND\r\n",
        Owned::Values(vec![val("foo", 5, None, b"bar")]),
    );
}

#[test]
fn multiple_values_without_cas() {
    let input = b"VALUE a 0 1\r\n1\r\nVALUE bb 4294967295 2\r\n22\r\nVALUE ccc 3 0\r\n\r\nEND\r\n";
    let expected = vec![
        val("a", 0, None, b"1"),
        val("bb", u32::MAX, None, b"22"),
        val("ccc", 3, None, b""),
    ];
    check_one(input, Owned::Values(expected));
}

#[test]
fn multiple_values_with_cas() {
    let input = b"VALUE a 1 2 100\r\nxy\r\nVALUE b 2 3 18446744073709551615\r\nxyz\r\nEND\r\n";
    let expected = vec![
        val("a", 1, Some(100), b"xy"),
        val("b", 2, Some(u64::MAX), b"xyz"),
    ];
    check_one(input, Owned::Values(expected));
}

#[test]
fn empty_end_is_a_miss() {
    check_one(b"END\r\n", Owned::Values(vec![]));
    let (response, len) = decode(b"END\r\n").unwrap().unwrap();
    let Response::Values(values) = response else {
        panic!("{response:?}");
    };
    assert!(values.is_empty());
    assert_eq!((values.count(), values.total_data_len(), len), (0, 0, 5));
}

#[test]
fn value_data_is_binary_safe() {
    // The data holds what looks like lines: it is skipped by length, never scanned.
    let data = b"\r\nEND\r\nVALUE x 0 1\r\n\0\xff";
    let mut input = b"VALUE k 9 22\r\n".to_vec();
    input.extend_from_slice(data);
    input.extend_from_slice(b"\r\nEND\r\n");
    check_one(&input, Owned::Values(vec![val("k", 9, None, data)]));
}

#[test]
fn bare_newlines_are_accepted() {
    check_one(
        b"VALUE k 0 2\nab\nEND\n",
        Owned::Values(vec![val("k", 0, None, b"ab")]),
    );
    check_one(b"STORED\n", Owned::Stored);
    check_one(
        b"STAT a 1\nEND\n",
        Owned::Stats(vec![(b"a".to_vec(), b"1".to_vec())]),
    );
}

#[test]
fn storage_and_simple_replies() {
    let cases = [
        (&b"STORED\r\n"[..], Owned::Stored),
        (b"NOT_STORED\r\n", Owned::NotStored),
        (b"EXISTS\r\n", Owned::Exists),
        (b"NOT_FOUND\r\n", Owned::NotFound),
        (b"DELETED\r\n", Owned::Deleted),
        (b"TOUCHED\r\n", Owned::Touched),
        (b"OK\r\n", Owned::Ok),
        (b"ERROR\r\n", Owned::Error),
        (b"ERROR unknown command\r\n", Owned::Error),
    ];
    for (input, expected) in cases {
        check_one(input, expected);
    }
}

#[test]
fn incr_decr_numbers() {
    check_one(b"0\r\n", Owned::Number(0));
    check_one(b"42\r\n", Owned::Number(42));
    check_one(b"18446744073709551615\r\n", Owned::Number(u64::MAX));
}

#[test]
fn version_reply() {
    check_one(b"VERSION 1.6.21\r\n", Owned::Version(b"1.6.21".to_vec()));
}

#[test]
fn client_and_server_errors() {
    check_one(
        b"CLIENT_ERROR bad data chunk\r\n",
        Owned::ClientError(b"bad data chunk".to_vec()),
    );
    check_one(b"CLIENT_ERROR\r\n", Owned::ClientError(Vec::new()));
    check_one(
        b"SERVER_ERROR out of memory storing object\r\n",
        Owned::ServerError(b"out of memory storing object".to_vec()),
    );
}

#[test]
fn stats_reply() {
    let input = b"STAT pid 1234\r\nSTAT version 1.6.21\r\nSTAT rusage_user 0.123 extra words\r\nSTAT empty\r\nEND\r\n";
    let pairs = vec![
        (b"pid".to_vec(), b"1234".to_vec()),
        (b"version".to_vec(), b"1.6.21".to_vec()),
        (b"rusage_user".to_vec(), b"0.123 extra words".to_vec()),
        (b"empty".to_vec(), Vec::new()),
    ];
    check_one(input, Owned::Stats(pairs));
    let Response::Stats(stats) = decode(input).unwrap().unwrap().0 else {
        panic!("not stats");
    };
    assert_eq!(stats.get(b"version"), Some(&b"1.6.21"[..]));
    assert_eq!(stats.get(b"nope"), None);
}

#[test]
fn meta_replies() {
    let cases: Vec<(&[u8], Owned)> = vec![
        (
            b"VA 3 f5 t-1\r\nabc\r\n",
            Owned::Meta(MetaKind::Va, Some(b"abc".to_vec()), b"f5 t-1".to_vec()),
        ),
        (
            b"VA 0\r\n\r\n",
            Owned::Meta(MetaKind::Va, Some(Vec::new()), Vec::new()),
        ),
        (b"HD\r\n", Owned::Meta(MetaKind::Hd, None, Vec::new())),
        (
            b"HD f0 c7\r\n",
            Owned::Meta(MetaKind::Hd, None, b"f0 c7".to_vec()),
        ),
        (b"EN\r\n", Owned::Meta(MetaKind::En, None, Vec::new())),
        (b"NF\r\n", Owned::Meta(MetaKind::Nf, None, Vec::new())),
        (b"NS\r\n", Owned::Meta(MetaKind::Ns, None, Vec::new())),
        (b"EX\r\n", Owned::Meta(MetaKind::Ex, None, Vec::new())),
        (b"MN\r\n", Owned::Meta(MetaKind::Mn, None, Vec::new())),
    ];
    for (input, expected) in cases {
        check_one(input, expected);
    }
}

#[test]
fn meta_return_flags_are_found_by_letter() {
    let Some((Response::Meta(meta), _)) = decode(b"VA 3 f5 t-1 kfoo q\r\nabc\r\n").unwrap() else {
        panic!("not a meta reply");
    };
    assert_eq!(meta.flag(b'k'), Some(&b"foo"[..]));
    assert_eq!(meta.flag(b't'), Some(&b"-1"[..]));
    assert_eq!(meta.flag(b'q'), Some(&b""[..]));
    assert_eq!(meta.flag(b'c'), None);
    let Some((Response::Meta(bare), _)) = decode(b"HD\r\n").unwrap() else {
        panic!("not a meta reply");
    };
    assert_eq!(bare.flag(b'k'), None);
}

#[test]
fn back_to_back_responses() {
    let parts: Vec<(&[u8], Owned)> = vec![
        (b"STORED\r\n", Owned::Stored),
        (
            b"VALUE k 1 2\r\nab\r\nEND\r\n",
            Owned::Values(vec![val("k", 1, None, b"ab")]),
        ),
        (b"END\r\n", Owned::Values(vec![])),
        (b"7\r\n", Owned::Number(7)),
        (
            b"VA 1 k\r\nz\r\n",
            Owned::Meta(MetaKind::Va, Some(b"z".to_vec()), b"k".to_vec()),
        ),
        (
            b"STAT a b\r\nEND\r\n",
            Owned::Stats(vec![(b"a".to_vec(), b"b".to_vec())]),
        ),
        (b"MN\r\n", Owned::Meta(MetaKind::Mn, None, Vec::new())),
    ];
    let input: Vec<u8> = parts
        .iter()
        .flat_map(|(bytes, _)| bytes.iter().copied())
        .collect();
    let expected: Vec<(Owned, usize)> = parts.into_iter().map(|(b, o)| (o, b.len())).collect();
    check_stream(&input, decode_owned, &expected, None);
}

#[test]
fn decode_reports_only_the_first_response_length() {
    let input = b"STORED\r\nSTORED\r\n";
    assert_eq!(decode(input), Ok(Some((Response::Stored, 8))));
    assert_eq!(decode(&input[..0]), Ok(None));
}

#[test]
fn values_into_iterator_and_exact_size() {
    let input = b"VALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n";
    let Response::Values(values) = decode(input).unwrap().unwrap().0 else {
        panic!("not values");
    };
    let mut iter = values.iter();
    assert_eq!(iter.len(), 2);
    iter.next();
    assert_eq!(iter.len(), 1);
    let keys: Vec<&[u8]> = values.into_iter().map(|v| v.key).collect();
    assert_eq!(keys, [&b"a"[..], b"b"]);
}

// ---- decoder: garbage is a typed error, as early as it is detectable ----

#[test]
fn unknown_line_is_detected_at_the_first_impossible_byte() {
    check_garbage(b"HELLO\r\n", unknown(b"HELLO"), 2);
    check_garbage(b"+OK\r\n", unknown(b"+OK"), 1);
    check_garbage(b"ENDX\r\n", unknown(b"ENDX"), 4);
    check_garbage(b"STORED \r\n", unknown(b"STORED "), 7);
    check_garbage(b"END\r\r\n", unknown(b"END\r\r"), 5);
    check_garbage(b"\r\n", unknown(b"\r"), 1);
    check_garbage(b"\n", unknown(b""), 1);
    check_garbage(b"12a\r\n", unknown(b"12a"), 3);
    check_garbage(
        b"18446744073709551616\r\n",
        unknown(b"18446744073709551616"),
        20,
    );
}

#[test]
fn a_long_line_without_newline_is_line_too_long() {
    let mut input = b"VALUE ".to_vec();
    input.resize(5000, b'a');
    check_garbage(
        &input,
        ProtoError::LineTooLong {
            limit: MAX_LINE_LEN,
        },
        MAX_LINE_LEN,
    );
    let mut input = b"SERVER_ERROR ".to_vec();
    input.resize(5000, b'e');
    check_garbage(
        &input,
        ProtoError::LineTooLong {
            limit: MAX_LINE_LEN,
        },
        MAX_LINE_LEN,
    );
    // 5000 bytes of noise are not even a keyword: rejected at the first byte.
    check_garbage(&[b'x'; 5000], unknown(b"x"), 1);
}

#[test]
fn a_long_stats_line_is_line_too_long_too() {
    let mut input = b"STAT a 1\r\nSTAT ".to_vec();
    input.resize(10 + 5000, b'v');
    check_garbage(
        &input,
        ProtoError::LineTooLong {
            limit: MAX_LINE_LEN,
        },
        10 + MAX_LINE_LEN,
    );
}

#[test]
fn bad_data_trailer() {
    let input = b"VALUE foo 0 3\r\nbarX\r\nEND\r\n";
    check_garbage(input, ProtoError::BadDataTrailer { found: b'X' }, 19);
    let input = b"VALUE foo 0 3\r\nbar\rX\nEND\r\n";
    check_garbage(input, ProtoError::BadDataTrailer { found: b'X' }, 20);
    let input = b"VA 2\r\nabc\r\n";
    check_garbage(input, ProtoError::BadDataTrailer { found: b'c' }, 9);
}

#[test]
fn malformed_value_headers() {
    for input in [
        &b"VALUE foo x 3\r\n"[..],
        b"VALUE foo 0\r\n",
        b"VALUE \r\n",
        b"VALUE foo 0 3 4 5\r\n",
        b"VALUE foo 0 3 cas\r\n",
        b"VALUE foo 4294967296 1\r\n",
    ] {
        let line = &input[..input.len() - 2];
        let error = ProtoError::MalformedValueHeader {
            line: LineSnippet::new(line),
        };
        check_garbage(input, error, input.len());
    }
    let input = b"VA x f\r\n";
    let error = ProtoError::MalformedValueHeader {
        line: LineSnippet::new(b"VA x f"),
    };
    check_garbage(input, error, input.len());
}

#[test]
fn value_too_large_is_rejected_at_the_header() {
    let too_big = MAX_RESPONSE_VALUE_LEN as u64 + 1;
    let input = format!("VALUE k 0 {too_big}\r\n");
    let error = ProtoError::ValueTooLarge {
        value_len: too_big,
        limit: MAX_RESPONSE_VALUE_LEN,
    };
    check_garbage(input.as_bytes(), error.clone(), input.len());
    let input = format!("VA {too_big} f\r\n");
    check_garbage(input.as_bytes(), error, input.len());
    let input = b"VALUE k 0 99999999999999999999999\r\n";
    check_garbage(
        input,
        ProtoError::MalformedValueHeader {
            line: LineSnippet::new(&input[..input.len() - 2]),
        },
        input.len(),
    );
}

#[test]
fn wrong_line_inside_a_multi_line_reply() {
    // After a VALUE block only VALUE or END may follow; after STAT only STAT or END.
    check_garbage(b"VALUE k 0 1\r\nx\r\nSTORED\r\n", unknown(b"STORED"), 17);
    check_garbage(b"VALUE k 0 1\r\nx\r\nENDING\r\n", unknown(b"ENDING"), 20);
    check_garbage(b"STAT a 1\r\nVALUE k 0 1\r\n", unknown(b"VALUE k 0 1"), 11);
    check_garbage(b"STAT a 1\r\nEN\r\n", unknown(b"EN"), 13);
}

#[test]
fn garbage_after_a_good_response() {
    check_stream(
        b"STORED\r\nGARBAGE\r\n",
        decode_owned,
        &[(Owned::Stored, 8)],
        Some((unknown(b"GARBAGE"), 9)),
    );
}

// ---- property round trips through a test-only server ----

/// A parsed storage request, as a server sees it.
#[derive(Debug, PartialEq, Eq)]
struct StorageRequest {
    verb: Vec<u8>,
    key: Vec<u8>,
    flags: u32,
    exptime: u32,
    data: Vec<u8>,
    noreply: bool,
    len: usize,
}

fn utf8(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

/// Test-only server: parses `<verb> <key> <flags> <exptime> <bytes>[ noreply]\r\n<data>\r\n`.
fn server_parse_storage(request: &[u8]) -> StorageRequest {
    let nl = request.windows(2).position(|w| w == b"\r\n").unwrap();
    let tokens: Vec<&[u8]> = request[..nl].split(|&b| b == b' ').collect();
    let len: usize = utf8(tokens[4]).parse().unwrap();
    let data = request[nl + 2..nl + 2 + len].to_vec();
    assert_eq!(&request[nl + 2 + len..], b"\r\n");
    StorageRequest {
        verb: tokens[0].to_vec(),
        key: tokens[1].to_vec(),
        flags: utf8(tokens[2]).parse().unwrap(),
        exptime: utf8(tokens[3]).parse().unwrap(),
        data,
        noreply: tokens.get(5) == Some(&&b"noreply"[..]),
        len: nl + 2 + len + 2,
    }
}

/// Test-only server: the `VALUE` reply for stored items.
fn server_value_reply(items: &[Item]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, flags, cas, data) in items {
        out.extend_from_slice(b"VALUE ");
        out.extend_from_slice(key);
        out.extend_from_slice(format!(" {flags} {}", data.len()).as_bytes());
        if let Some(cas) = cas {
            out.extend_from_slice(format!(" {cas}").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"END\r\n");
    out
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0x21u8..=0x7e, 1..=250)
}

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..=4096)
}

/// Decodes `input` fed in `chunk`-byte pieces; returns the one response and its length.
fn decode_in_chunks(input: &[u8], chunk: usize) -> (Owned, usize) {
    let mut buf = Vec::new();
    for piece in input.chunks(chunk) {
        assert!(decode_owned(&buf).unwrap().is_none());
        buf.extend_from_slice(piece);
    }
    decode_owned(&buf).unwrap().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn set_then_get_round_trips(
        key in key_strategy(),
        value in value_strategy(),
        flags in any::<u32>(),
        exptime in any::<u32>(),
        cas in proptest::option::of(any::<u64>()),
        noreply in any::<bool>(),
        chunk in 1usize..300,
    ) {
        prop_assert!(is_valid_key(&key));
        let mut buf = BytesMut::new();
        encode_storage(&mut buf, StorageCommand::Set, &key, flags, exptime, &value, noreply);
        let request = server_parse_storage(&buf);
        prop_assert_eq!(request.len, buf.len());
        prop_assert_eq!(&request.verb[..], b"set");
        prop_assert_eq!(&request.key, &key);
        prop_assert_eq!((request.flags, request.exptime, request.noreply), (flags, exptime, noreply));
        prop_assert_eq!(&request.data, &value);

        let item = (request.key, request.flags, cas, request.data);
        let reply = server_value_reply(std::slice::from_ref(&item));
        let (response, len) = decode_in_chunks(&reply, chunk);
        prop_assert_eq!(len, reply.len());
        prop_assert_eq!(response, Owned::Values(vec![item]));
    }

    #[test]
    fn multi_get_round_trips(
        items in proptest::collection::vec(
            (key_strategy(), any::<u32>(), proptest::option::of(any::<u64>()),
             proptest::collection::vec(any::<u8>(), 0..=512)),
            1..8),
        chunk in 1usize..200,
    ) {
        let mut buf = BytesMut::new();
        let written = encode_multi_get(&mut buf, items.iter().map(|i| i.0.as_slice()));
        prop_assert_eq!(written, items.len());
        // Server side: the request is one line of space-separated keys.
        prop_assert!(buf.ends_with(b"\r\n"));
        let line = &buf[..buf.len() - 2];
        let mut tokens = line.split(|&b| b == b' ');
        prop_assert_eq!(tokens.next(), Some(&b"get"[..]));
        let keys: Vec<&[u8]> = tokens.collect();
        let expected_keys: Vec<&[u8]> = items.iter().map(|i| i.0.as_slice()).collect();
        prop_assert_eq!(keys, expected_keys);

        let reply = server_value_reply(&items);
        let (response, len) = decode_in_chunks(&reply, chunk);
        prop_assert_eq!(len, reply.len());
        prop_assert_eq!(response, Owned::Values(items));
    }

    #[test]
    fn meta_set_then_get_round_trips(
        key in key_strategy(),
        value in value_strategy(),
        flags in any::<u32>(),
        chunk in 1usize..300,
    ) {
        let mut buf = BytesMut::new();
        let client_flags = format!("F{flags} T0");
        encode_ms(&mut buf, &key, &value, client_flags.as_bytes());
        // Server side: `ms <key> <datalen> <flags>*\r\n<data>\r\n`.
        let nl = buf.windows(2).position(|w| w == b"\r\n").unwrap();
        let tokens: Vec<&[u8]> = buf[..nl].split(|&b| b == b' ').collect();
        prop_assert_eq!(tokens[0], &b"ms"[..]);
        prop_assert_eq!(tokens[1], &key[..]);
        let len: usize = utf8(tokens[2]).parse().unwrap();
        prop_assert_eq!(&buf[nl + 2..nl + 2 + len], &value[..]);
        prop_assert_eq!(&buf[nl + 2 + len..], &b"\r\n"[..]);

        let mut reply = format!("VA {len} f{flags}\r\n").into_bytes();
        reply.extend_from_slice(&value);
        reply.extend_from_slice(b"\r\n");
        let (response, n) = decode_in_chunks(&reply, chunk);
        prop_assert_eq!(n, reply.len());
        prop_assert_eq!(response, Owned::Meta(MetaKind::Va, Some(value), format!("f{flags}").into_bytes()));
    }

    #[test]
    fn incr_replies_round_trip(n in any::<u64>()) {
        let reply = format!("{n}\r\n");
        prop_assert_eq!(decode(reply.as_bytes()), Ok(Some((Response::Number(n), reply.len()))));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_persist(
        input in proptest::collection::vec(any::<u8>(), 0..300),
        tail in proptest::collection::vec(any::<u8>(), 0..50),
    ) {
        match decode(&input) {
            Ok(Some((_, len))) => prop_assert!(len > 0 && len <= input.len()),
            Ok(None) => {}
            Err(err) => {
                // An error never turns into "wait for more" when more bytes arrive.
                let longer = [&input[..], &tail[..]].concat();
                let again = decode(&longer);
                prop_assert!(matches!(&again, Err(e) if same_error(e, &err)), "{:?} then {:?}", err, again);
            }
        }
    }

    #[test]
    fn valid_stream_prefixes_are_incomplete_not_errors(
        items in proptest::collection::vec(
            (key_strategy(), any::<u32>(), proptest::option::of(any::<u64>()),
             proptest::collection::vec(any::<u8>(), 0..64)),
            0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let reply = server_value_reply(&items);
        let at = cut.index(reply.len());
        prop_assert_eq!(decode(&reply[..at]), Ok(None));
    }
}
