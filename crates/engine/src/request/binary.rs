//! memcached's binary protocol (`-B`): SET, GET and quiet multi-gets, and what their responses
//! mean.

use bytes::BytesMut;
use shardslap_proto::binary::{self as wire, Opcode, Status};
use shardslap_proto::ProtoError;
use shardslap_proto::MAX_KEY_LEN;
use shardslap_workload::{CharBlock, Op, OpKind, Window};

use super::encode_sets;
use super::reply::{finish_get, kind, on_hit, on_value, parse_replies, Expect, Reply};

/// Appends the binary request for `ops` (all of `kind`): a SET, a GET, or quiet GETKQs
/// ended by a NOOP; returns the SET's key + value bytes.
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
            wire::encode_storage(send_buf, Opcode::Set, key, 0, exptime, value, 0, 0);
        }),
        OpKind::Get if ops.len() == 1 => {
            let key_len = window.write_key(ops[0].slot, block, key_buf);
            wire::encode_get(send_buf, Opcode::Get, &key_buf[..key_len], 0);
            0
        }
        OpKind::Get => {
            // Quiet gets answer only hits; the NOOP's reply marks the end of the batch.
            for (index, op) in ops.iter().enumerate() {
                let key_len = window.write_key(op.slot, block, key_buf);
                wire::encode_get(send_buf, Opcode::GetKQ, &key_buf[..key_len], index as u32);
            }
            wire::encode_noop(send_buf, ops.len() as u32);
            0
        }
    }
}

/// Parses a binary response frame by frame (a multi-get is one frame per hit, then the
/// NOOP's); see [`super::parse`].
pub(super) fn parse(
    expect: Expect<'_>,
    buf: &[u8],
    reply: &mut Reply,
    key_buf: &mut [u8; MAX_KEY_LEN],
    on_verify_failure: &mut impl FnMut(&[u8], &[u8], &[u8]),
) -> Result<Option<usize>, ProtoError> {
    parse_replies(buf, reply, |bytes, reply| {
        let Some((frame, len)) = wire::decode(bytes)? else {
            return Ok(None);
        };
        let last = interpret(expect, &frame, reply, key_buf, on_verify_failure);
        Ok(Some((len, last)))
    })
}

/// Takes one binary frame; true when it was the last of the response.
fn interpret(
    expect: Expect<'_>,
    frame: &wire::BinaryResponse<'_>,
    reply: &mut Reply,
    key_buf: &mut [u8; MAX_KEY_LEN],
    on_verify_failure: &mut impl FnMut(&[u8], &[u8], &[u8]),
) -> bool {
    let outcome = &mut reply.outcome;
    match kind(expect) {
        OpKind::Set => {
            match frame.status {
                Status::NoError => {
                    outcome.answered = true;
                    outcome.stored = true;
                }
                Status::KeyExists | Status::ItemNotStored | Status::KeyNotFound => {
                    outcome.answered = true;
                }
                // memcached counts a SET it refused for lack of memory or size.
                Status::OutOfMemory | Status::ValueTooLarge => {
                    outcome.answered = true;
                    outcome.server_error = true;
                }
                _ => outcome.server_error = true,
            }
            true
        }
        OpKind::Get if expect.ops.len() == 1 => {
            match frame.status {
                Status::NoError => {
                    outcome.answered = true;
                    // A plain GET's reply has no key: it answers the one requested.
                    let op = expect.ops[0];
                    let key_len = expect.window.write_key(op.slot, expect.block, key_buf);
                    reply.matched = 1;
                    on_hit(
                        expect,
                        op,
                        &key_buf[..key_len],
                        frame.value,
                        reply,
                        on_verify_failure,
                    );
                }
                Status::KeyNotFound => {
                    outcome.answered = true;
                    finish_get(expect, reply);
                }
                _ => outcome.server_error = true,
            }
            true
        }
        OpKind::Get => {
            if frame.opcode == Opcode::Noop.as_u8() {
                reply.outcome.answered = true;
                finish_get(expect, reply);
                return true;
            }
            if frame.status == Status::NoError {
                on_value(expect, reply, frame.key, frame.value, on_verify_failure);
            } else {
                // Quiet gets stay silent on a miss; anything else is an error for that key.
                reply.outcome.server_error = true;
            }
            false
        }
    }
}
