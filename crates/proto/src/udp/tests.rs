//! UDP tests: frame header bytes, reassembly in any order, and every refusal leaving the state
//! intact.

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::ascii;
use crate::error::ProtoError;
use crate::test_util::datagram;

/// Test-only server: `payload` cut into `chunk`-byte datagrams (at least one).
fn split(request_id: u16, payload: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let pieces: Vec<&[u8]> = if payload.is_empty() {
        vec![&[][..]]
    } else {
        payload.chunks(chunk).collect()
    };
    let total = pieces.len() as u16;
    pieces
        .iter()
        .enumerate()
        .map(|(seq, piece)| datagram(request_id, seq as u16, total, piece))
        .collect()
}

#[test]
fn frame_header_bytes_round_trip() {
    let header = FrameHeader {
        request_id: 0x0102,
        sequence: 0x0304,
        total: 0x0506,
        reserved: 0x0708,
    };
    assert_eq!(header.to_bytes(), [1, 2, 3, 4, 5, 6, 7, 8]);
    let mut buf = BytesMut::from(&b"x"[..]);
    header.encode(&mut buf);
    assert_eq!(&buf[..], b"x\x01\x02\x03\x04\x05\x06\x07\x08");
    let mut out = [0u8; FRAME_HEADER_LEN];
    header.write_to(&mut out);
    assert_eq!(out, header.to_bytes());
    let wire = [&header.to_bytes()[..], b"get k\r\n"].concat();
    assert_eq!(FrameHeader::decode(&wire), Ok((header, &b"get k\r\n"[..])));
}

#[test]
fn request_header_has_reserved_zero() {
    assert_eq!(
        FrameHeader::request(0xbeef).to_bytes(),
        [0xbe, 0xef, 0, 0, 0, 1, 0, 0]
    );
}

#[test]
fn short_datagram_is_rejected() {
    assert_eq!(
        FrameHeader::decode(b"1234567"),
        Err(ProtoError::UdpFrameTooShort { len: 7 })
    );
    let mut r = Reassembler::default();
    r.begin(1);
    assert_eq!(r.push(b""), Err(ProtoError::UdpFrameTooShort { len: 0 }));
    assert_eq!(r.received(), 0);
}

#[test]
fn single_datagram_response() {
    let mut r = Reassembler::new(16, 1 << 16);
    r.begin(7);
    assert_eq!(r.expected(), 0);
    let reply = r.push(&datagram(7, 0, 1, b"STORED\r\n")).unwrap();
    assert_eq!(reply, Some(&b"STORED\r\n"[..]));
    assert!(r.is_complete());
    assert_eq!((r.received(), r.expected(), r.missing()), (1, 1, 0));
    assert_eq!(r.response(), Some(&b"STORED\r\n"[..]));
}

#[test]
fn in_order_and_reverse_order_give_the_same_payload() {
    let payload: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let datagrams = split(9, &payload, 1392);
    let mut r = Reassembler::default();
    for order in [datagrams.clone(), datagrams.iter().rev().cloned().collect()] {
        r.begin(9);
        let (last, rest) = order.split_last().unwrap();
        for d in rest {
            assert_eq!(r.push(d), Ok(None));
        }
        assert_eq!(r.missing(), 1);
        assert_eq!(r.push(last).unwrap(), Some(&payload[..]));
    }
}

#[test]
fn foreign_request_id_is_refused_and_state_kept() {
    let mut r = Reassembler::default();
    r.begin(2);
    assert_eq!(r.push(&datagram(2, 1, 2, b"world")), Ok(None));
    assert_eq!(
        r.push(&datagram(1, 0, 2, b"late")),
        Err(ProtoError::ForeignRequestId {
            expected: 2,
            got: 1
        })
    );
    assert_eq!((r.received(), r.expected()), (1, 2));
    assert_eq!(
        r.push(&datagram(2, 0, 2, b"hello ")).unwrap(),
        Some(&b"hello world"[..])
    );
}

#[test]
fn duplicates_are_refused_and_state_kept() {
    let mut r = Reassembler::default();
    r.begin(3);
    let first = datagram(3, 0, 2, b"a");
    assert_eq!(r.push(&first), Ok(None));
    assert_eq!(
        r.push(&first),
        Err(ProtoError::UdpDuplicate {
            request_id: 3,
            sequence: 0
        })
    );
    assert_eq!(r.received(), 1);
    assert_eq!(r.push(&datagram(3, 1, 2, b"b")).unwrap(), Some(&b"ab"[..]));
    // After completion, any datagram of the same request is a duplicate.
    assert_eq!(
        r.push(&first),
        Err(ProtoError::UdpDuplicate {
            request_id: 3,
            sequence: 0
        })
    );
    assert_eq!(r.response(), Some(&b"ab"[..]));
}

#[test]
fn sequence_out_of_range_and_zero_total() {
    let mut r = Reassembler::default();
    r.begin(4);
    assert_eq!(
        r.push(&datagram(4, 2, 2, b"x")),
        Err(ProtoError::UdpSequenceOutOfRange {
            sequence: 2,
            total: 2
        })
    );
    assert_eq!(
        r.push(&datagram(4, 0, 0, b"x")),
        Err(ProtoError::UdpSequenceOutOfRange {
            sequence: 0,
            total: 0
        })
    );
    assert_eq!((r.received(), r.expected()), (0, 0));
    assert_eq!(r.push(&datagram(4, 0, 1, b"ok")).unwrap(), Some(&b"ok"[..]));
}

#[test]
fn total_mismatch_is_refused_and_state_kept() {
    let mut r = Reassembler::default();
    r.begin(5);
    assert_eq!(r.push(&datagram(5, 0, 3, b"a")), Ok(None));
    assert_eq!(
        r.push(&datagram(5, 1, 4, b"b")),
        Err(ProtoError::UdpTotalMismatch {
            expected: 3,
            got: 4
        })
    );
    assert_eq!(r.push(&datagram(5, 1, 3, b"b")), Ok(None));
    assert_eq!(r.push(&datagram(5, 2, 3, b"c")).unwrap(), Some(&b"abc"[..]));
}

#[test]
fn idle_reassembler_refuses_datagrams() {
    let mut r = Reassembler::default();
    assert_eq!(
        r.push(&datagram(0, 0, 1, b"x")),
        Err(ProtoError::UdpNoRequest { got: 0 })
    );
    r.begin(6);
    assert_eq!(r.push(&datagram(6, 0, 2, b"x")), Ok(None));
    r.abandon();
    assert!(!r.is_complete());
    assert_eq!(
        r.push(&datagram(6, 1, 2, b"y")),
        Err(ProtoError::UdpNoRequest { got: 6 })
    );
    assert_eq!(
        r.missing(),
        1,
        "the abandoned request's loss stays readable"
    );
}

#[test]
fn capacity_limits_are_enforced() {
    let mut r = Reassembler::new(4, 10);
    r.begin(8);
    assert_eq!(
        r.push(&datagram(8, 0, 5, b"x")),
        Err(ProtoError::UdpCapacityExceeded {
            needed: 5,
            capacity: 4,
            unit: "datagrams"
        })
    );
    assert_eq!(r.push(&datagram(8, 0, 2, b"123456")), Ok(None));
    assert_eq!(
        r.push(&datagram(8, 1, 2, b"78901")),
        Err(ProtoError::UdpCapacityExceeded {
            needed: 11,
            capacity: 10,
            unit: "bytes"
        })
    );
    assert_eq!(r.received(), 1);
}

#[test]
fn empty_payload_response() {
    let mut r = Reassembler::default();
    r.begin(10);
    assert_eq!(r.push(&datagram(10, 0, 1, b"")).unwrap(), Some(&b""[..]));
}

#[test]
fn reassembled_multi_get_decodes() {
    let mut reply = Vec::new();
    for i in 0..20 {
        reply.extend_from_slice(format!("VALUE key{i} 0 1000\r\n").as_bytes());
        reply.extend_from_slice(&[b'a' + i as u8; 1000]);
        reply.extend_from_slice(b"\r\n");
    }
    reply.extend_from_slice(b"END\r\n");
    let mut datagrams = split(11, &reply, 1400 - FRAME_HEADER_LEN);
    datagrams.swap(0, 5);
    datagrams.reverse();
    let mut r = Reassembler::default();
    r.begin(11);
    let mut payload = None;
    for d in &datagrams {
        if let Some(p) = r.push(d).unwrap() {
            payload = Some(p.to_vec());
        }
    }
    let payload = payload.unwrap();
    let (response, len) = ascii::decode(&payload).unwrap().unwrap();
    assert_eq!(len, payload.len());
    let ascii::Response::Values(values) = response else {
        panic!("{response:?}");
    };
    assert_eq!(values.len(), 20);
    assert_eq!(values.total_data_len(), 20_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn shuffled_datagrams_reassemble_exactly(
        payload in proptest::collection::vec(any::<u8>(), 0..20_000),
        chunk in 1usize..1400,
        request_id in any::<u16>(),
        seed in any::<u64>(),
        noise in any::<bool>(),
    ) {
        let datagrams = split(request_id, &payload, chunk);
        prop_assume!(datagrams.len() <= DEFAULT_MAX_DATAGRAMS);
        // Shuffle deterministically from `seed` (Fisher-Yates with an LCG).
        let mut order: Vec<usize> = (0..datagrams.len()).collect();
        let mut state = seed | 1;
        for i in (1..order.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut r = Reassembler::default();
        r.begin(request_id);
        let mut result = None;
        for (n, &i) in order.iter().enumerate() {
            if noise {
                // A stale datagram and a duplicate change nothing.
                let stale = datagram(request_id.wrapping_add(1), 0, 1, b"stale");
                prop_assert!(r.push(&stale).is_err());
                if n > 0 {
                    prop_assert!(r.push(&datagrams[order[n - 1]]).is_err());
                }
            }
            let pushed = r.push(&datagrams[i]).unwrap().map(<[u8]>::to_vec);
            prop_assert_eq!(pushed.is_some(), n + 1 == order.len());
            result = result.or(pushed);
        }
        prop_assert_eq!(result, Some(payload));
        prop_assert_eq!(usize::from(r.received()), datagrams.len());
    }

    #[test]
    fn arbitrary_datagrams_never_panic(
        datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20),
        request_id in any::<u16>(),
    ) {
        let mut r = Reassembler::new(8, 256);
        r.begin(request_id);
        for d in &datagrams {
            if let Ok(Some(payload)) = r.push(d) {
                prop_assert!(payload.len() <= 256);
            }
            prop_assert!(r.received() <= r.expected());
        }
    }
}
