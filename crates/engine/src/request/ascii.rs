//! memcached's text protocol: `set` and (multi-)`get` requests, and what their responses mean.

use bytes::{BufMut, BytesMut};
use shardslap_proto::ascii::{self as text, Response, StorageCommand};
use shardslap_proto::ProtoError;
use shardslap_proto::MAX_KEY_LEN;
use shardslap_workload::{CharBlock, Op, OpKind, Window};

use super::encode_sets;
use super::reply::{finish_get, kind, on_value, Expect, Reply};

/// Appends the text request for `ops` (all of `kind`); returns the SET's key + value bytes.
pub(super) fn encode(
    kind: OpKind,
    ops: &[Op],
    window: &Window,
    block: &CharBlock,
    key_buf: &mut [u8; MAX_KEY_LEN],
    send_buf: &mut BytesMut,
) -> u64 {
    match kind {
        OpKind::Set => encode_sets(ops, window, block, key_buf, |key, value, exptime| {
            text::encode_storage(send_buf, StorageCommand::Set, key, 0, exptime, value, false);
        }),
        OpKind::Get => {
            // `get k1 k2 … kn\r\n`: one line however many keys.
            send_buf.put_slice(b"get");
            for op in ops {
                let (prefix, suffix) = window.key_parts(op.slot, block);
                send_buf.put_u8(b' ');
                send_buf.put_slice(&prefix);
                send_buf.put_slice(suffix);
            }
            send_buf.put_slice(b"\r\n");
            0
        }
    }
}

/// Parses one text response; see [`super::parse`].
pub(super) fn parse(
    expect: Expect<'_>,
    buf: &[u8],
    reply: &mut Reply,
    on_verify_failure: &mut impl FnMut(&[u8], &[u8], &[u8]),
) -> Result<Option<usize>, ProtoError> {
    let Some((response, len)) = text::decode(buf)? else {
        return Ok(None);
    };
    interpret(expect, &response, reply, on_verify_failure);
    Ok(Some(len))
}

fn interpret(
    expect: Expect<'_>,
    response: &Response<'_>,
    reply: &mut Reply,
    on_verify_failure: &mut impl FnMut(&[u8], &[u8], &[u8]),
) {
    let outcome = &mut reply.outcome;
    match (kind(expect), response) {
        (OpKind::Get, Response::Values(values)) => {
            outcome.answered = true;
            for value in values {
                on_value(expect, reply, value.key, value.data, on_verify_failure);
            }
            finish_get(expect, reply);
        }
        (OpKind::Set, Response::Stored) => {
            outcome.answered = true;
            outcome.stored = true;
        }
        (OpKind::Set, Response::NotStored | Response::Exists | Response::NotFound) => {
            outcome.answered = true;
        }
        (OpKind::Set, Response::ServerError(_)) => {
            // memcached counts a SET it refused for lack of memory.
            outcome.answered = true;
            outcome.server_error = true;
        }
        _ => outcome.server_error = true,
    }
}
