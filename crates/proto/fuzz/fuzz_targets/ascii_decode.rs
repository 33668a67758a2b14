//! Fuzz target: `ascii::decode` on arbitrary bytes, walked response by response like a caller.
//!
//! Checks: no panic; a reported length is within the input; decoding exactly that prefix gives
//! the same response; one byte less is incomplete; the iterators agree with the counts; an error
//! is already an error or still incomplete one byte earlier (never a response).

#![no_main]

use libfuzzer_sys::fuzz_target;
use shardslap_proto::ascii::{decode, Response};
use shardslap_proto::ProtoError;

/// Errors are equal up to how much of a bad line had arrived (see the crate's tests).
fn same_error(a: &ProtoError, b: &ProtoError) -> bool {
    match (a, b) {
        (ProtoError::UnknownResponse { line: a }, ProtoError::UnknownResponse { line: b }) => {
            a.as_bytes().starts_with(b.as_bytes()) || b.as_bytes().starts_with(a.as_bytes())
        }
        _ => a == b,
    }
}

fn check_consistent(response: &Response<'_>) {
    match response {
        Response::Values(values) => {
            let mut count = 0;
            let mut total = 0;
            for value in values.iter() {
                assert!(!value.key.is_empty());
                count += 1;
                total += value.data.len();
            }
            assert_eq!(count, values.len());
            assert_eq!(total, values.total_data_len());
        }
        Response::Stats(stats) => assert_eq!(stats.iter().count(), stats.len()),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    loop {
        match decode(rest) {
            Ok(Some((response, len))) => {
                assert!(len > 0 && len <= rest.len(), "len {len} of {}", rest.len());
                assert_eq!(decode(&rest[..len]), Ok(Some((response, len))));
                assert_eq!(decode(&rest[..len - 1]), Ok(None));
                check_consistent(&response);
                rest = &rest[len..];
            }
            Ok(None) => break,
            Err(err) => {
                match decode(&rest[..rest.len().saturating_sub(1)]) {
                    Ok(None) => {}
                    Err(earlier) => assert!(same_error(&earlier, &err), "{earlier:?} then {err:?}"),
                    Ok(Some(found)) => panic!("{found:?} became {err:?} with one more byte"),
                }
                break;
            }
        }
    }
});
