//! Test helpers shared by the decoder tests: feeding input in fragments, the way a receive buffer
//! grows, and checking that each response appears exactly when its last byte arrives.

use std::fmt::Debug;

use crate::error::ProtoError;
use crate::udp::FrameHeader;

/// Chunk sizes every decoder case is fed with; `usize::MAX` means "whole".
pub(crate) const CHUNK_SIZES: [usize; 6] = [usize::MAX, 1, 2, 5, 10, 100];

/// Calls `f(chunk_size, chunks)` for `input` whole and cut into pieces of 1, 2, 5, 10, 100 bytes.
pub(crate) fn for_each_fragmentation(input: &[u8], mut f: impl FnMut(usize, &[&[u8]])) {
    for size in CHUNK_SIZES {
        let chunks: Vec<&[u8]> = input.chunks(size.clamp(1, input.len().max(1))).collect();
        f(size, &chunks);
    }
}

/// Runs a simulated caller over `input` at every fragmentation: after each chunk it decodes as
/// many responses as the accumulated buffer holds, dropping each one's bytes.
///
/// Checks that the responses equal `expected` (owned form, length), that each one appears in the
/// chunk that delivers its last byte (so `Ok(None)` until then), and, with `error = Some((e, at))`,
/// that decoding fails with `e` in the chunk that delivers byte number `at` (1-based) and not
/// before. Without an expected error, all of `input` must be consumed.
pub(crate) fn check_stream<T, D>(
    input: &[u8],
    decode: D,
    expected: &[(T, usize)],
    error: Option<(ProtoError, usize)>,
) where
    T: PartialEq + Debug,
    D: Fn(&[u8]) -> Result<Option<(T, usize)>, ProtoError>,
{
    for_each_fragmentation(input, |size, chunks| {
        let mut buf = Vec::new();
        let mut consumed = 0;
        let mut seen = 0;
        let mut failed = false;
        'chunks: for chunk in chunks {
            let before = buf.len();
            buf.extend_from_slice(chunk);
            loop {
                match decode(&buf[consumed..]) {
                    Ok(Some((response, len))) => {
                        assert!(
                            seen < expected.len(),
                            "size {size}: extra response {response:?}"
                        );
                        assert_eq!(
                            (&response, len),
                            (&expected[seen].0, expected[seen].1),
                            "size {size}: response {seen}"
                        );
                        let end = consumed + len;
                        assert!(
                            before < end,
                            "size {size}: response {seen} (ending at byte {end}) was complete at {before} bytes but not decoded then"
                        );
                        consumed = end;
                        seen += 1;
                    }
                    Ok(None) => break,
                    Err(err) => {
                        let Some((want, at)) = &error else {
                            panic!(
                                "size {size}: unexpected error {err:?} at {} bytes",
                                buf.len()
                            );
                        };
                        assert!(
                            same_error(&err, want),
                            "size {size}: got {err:?}, want {want:?}"
                        );
                        assert!(
                            before < *at && *at <= buf.len(),
                            "size {size}: error {err:?} detected at {} bytes (chunk from {before}), expected at byte {at}",
                            buf.len()
                        );
                        failed = true;
                        break 'chunks;
                    }
                }
            }
        }
        assert_eq!(seen, expected.len(), "size {size}: responses decoded");
        match &error {
            Some((want, _)) => assert!(failed, "size {size}: never reported {want:?}"),
            None => assert_eq!(consumed, input.len(), "size {size}: bytes consumed"),
        }
    });
}

/// Error equality up to how much of a bad line had arrived: an `UnknownResponse` snippet holds the
/// line as far as it was received, so one snippet must be a prefix of the other.
pub(crate) fn same_error(a: &ProtoError, b: &ProtoError) -> bool {
    match (a, b) {
        (ProtoError::UnknownResponse { line: a }, ProtoError::UnknownResponse { line: b }) => {
            a.as_bytes().starts_with(b.as_bytes()) || b.as_bytes().starts_with(a.as_bytes())
        }
        _ => a == b,
    }
}

#[test]
fn fragmentation_covers_every_size_and_reassembles_the_input() {
    let input: Vec<u8> = (0..=255u8).collect();
    let mut sizes = Vec::new();
    for_each_fragmentation(&input, |size, chunks| {
        sizes.push(size);
        assert_eq!(chunks.concat(), input);
        assert!(chunks.iter().all(|c| c.len() <= size));
    });
    assert_eq!(sizes, CHUNK_SIZES);
}

/// Test-only server: one datagram of a UDP response (frame header, then `payload`).
pub(crate) fn datagram(request_id: u16, sequence: u16, total: u16, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        request_id,
        sequence,
        total,
        reserved: 0,
    };
    [&header.to_bytes()[..], payload].concat()
}
