//! Fuzz target: `binary::decode` on arbitrary bytes, walked response by response like a caller.
//!
//! Checks: no panic; a reported length is within the input and at least a header; decoding
//! exactly that prefix gives the same response; one byte less is incomplete; the body slices add
//! up; hit and miss are exclusive; an error one byte earlier is the same error or incomplete.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shardslap_proto::binary::{decode, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    loop {
        match decode(rest) {
            Ok(Some((response, len))) => {
                assert!(
                    (HEADER_LEN..=rest.len()).contains(&len),
                    "len {len} of {}",
                    rest.len()
                );
                assert_eq!(decode(&rest[..len]), Ok(Some((response, len))));
                assert_eq!(decode(&rest[..len - 1]), Ok(None));
                let body = response.extras.len() + response.key.len() + response.value.len();
                assert_eq!(HEADER_LEN + body, len);
                assert!(!(response.is_hit() && response.is_miss()));
                if let Some(flags) = response.flags() {
                    assert_eq!(flags.to_be_bytes(), response.extras);
                }
                rest = &rest[len..];
            }
            Ok(None) => break,
            Err(err) => {
                match decode(&rest[..rest.len().saturating_sub(1)]) {
                    Ok(None) => {}
                    Err(earlier) => assert_eq!(earlier, err),
                    Ok(Some(found)) => panic!("{found:?} became {err:?} with one more byte"),
                }
                break;
            }
        }
    }
});
