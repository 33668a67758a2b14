//! Fuzz target: `udp::Reassembler`.
//!
//! Even first byte: structured. The rest of the input is a payload, cut into datagrams of a
//! fuzzed size, shuffled by a fuzzed seed, with duplicates and stale datagrams mixed in; it must
//! reassemble to exactly the payload.
//! Odd first byte: raw. The input is a list of length-prefixed datagrams (a length byte of 0xff
//! starts a new request instead); no panic, and the counters stay consistent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shardslap_proto::udp::{FrameHeader, Reassembler};

fn datagram(request_id: u16, sequence: u16, total: u16, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        request_id,
        sequence,
        total,
        reserved: 0,
    };
    [&header.to_bytes()[..], payload].concat()
}

fn structured(data: &[u8]) {
    let &[_, chunk, id_hi, id_lo, ref payload @ ..] = data else {
        return;
    };
    let chunk = usize::from(chunk) + 1;
    let request_id = u16::from_be_bytes([id_hi, id_lo]);
    let pieces: Vec<&[u8]> = if payload.is_empty() {
        vec![&[][..]]
    } else {
        payload.chunks(chunk).collect()
    };
    let Ok(total) = u16::try_from(pieces.len()) else {
        return;
    };
    let datagrams: Vec<Vec<u8>> = pieces
        .iter()
        .enumerate()
        .map(|(seq, piece)| datagram(request_id, seq as u16, total, piece))
        .collect();
    let mut order: Vec<usize> = (0..datagrams.len()).collect();
    let mut state = u64::from(request_id) | 1;
    for i in (1..order.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    let mut r = Reassembler::new(1 << 16, 1 << 20);
    r.begin(request_id);
    let mut result = None;
    for (n, &i) in order.iter().enumerate() {
        let stale = datagram(request_id.wrapping_add(1), 0, 1, b"stale");
        assert!(r.push(&stale).is_err());
        if n > 0 {
            assert!(
                r.push(&datagrams[order[n - 1]]).is_err(),
                "duplicate accepted"
            );
        }
        let pushed = r.push(&datagrams[i]).expect("valid datagram refused");
        assert_eq!(pushed.is_some(), n + 1 == order.len());
        if let Some(p) = pushed {
            result = Some(p.to_vec());
        }
    }
    assert_eq!(result.as_deref(), Some(payload));
}

fn raw(data: &[u8]) {
    let &[_, id_hi, id_lo, ref tail @ ..] = data else {
        return;
    };
    let mut rest: &[u8] = tail;
    let mut r = Reassembler::new(64, 4096);
    let mut request_id = u16::from_be_bytes([id_hi, id_lo]);
    r.begin(request_id);
    let mut pushed_bytes = 0usize;
    while let [len, tail @ ..] = rest {
        if *len == 0xff {
            request_id = request_id.wrapping_add(1);
            r.begin(request_id);
            pushed_bytes = 0;
            rest = tail;
            continue;
        }
        let len = usize::from(*len).min(tail.len());
        let (d, tail) = tail.split_at(len);
        rest = tail;
        pushed_bytes += d.len();
        if let Ok(Some(payload)) = r.push(d).map(|p| p.map(<[u8]>::to_vec)) {
            assert!(payload.len() <= pushed_bytes && payload.len() <= 4096);
            assert_eq!(r.response(), Some(&payload[..]));
        }
        assert!(r.received() <= r.expected() || r.expected() == 0 && r.received() == 0);
        assert!(r.missing() <= r.expected());
    }
}

fuzz_target!(|data: &[u8]| {
    match data.first() {
        Some(mode) if mode % 2 == 0 => structured(data),
        Some(_) => raw(data),
        None => {}
    }
});
