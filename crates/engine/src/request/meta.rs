//! memcached's meta protocol (`--protocol meta`): `ms` sets, `mg` gets, quiet multi-gets ended
//! by `mn`, and what their replies mean.
//!
//! A GET asks for the value, the client flags and the remaining TTL (`v f t`), as a production
//! meta client does. A multi-get sends one quiet `mg … k q` per key (a miss stays silent, a hit
//! names its key) and an `mn`, whose `MN` reply ends the batch — the meta twin of the binary
//! protocol's GETKQ + NOOP. memcached counts each `mg` in `cmd_get` and as a hit or a miss,
//! each `ms` in `cmd_set`, exactly like the classic commands.

use bytes::BytesMut;
use shardslap_proto::ascii::{self as text, MetaKind, Response};
use shardslap_proto::ProtoError;
use shardslap_proto::MAX_KEY_LEN;
use shardslap_workload::{CharBlock, Op, OpKind, Window};

use super::encode_sets;
use super::reply::{finish_get, kind, on_hit, on_value, parse_replies, Expect, Reply};

/// Return flags of a single GET: value, client flags, remaining TTL.
const GET_FLAGS: &[u8] = b"v f t";
/// A multi-get's GETs also return their key (`k`) and say nothing on a miss (`q`).
const QUIET_GET_FLAGS: &[u8] = b"v f t k q";

/// Appends the meta request for `ops` (all of `kind`); returns the SET's key + value bytes.
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
            text::encode_ms_item(send_buf, key, value, 0, exptime);
        }),
        OpKind::Get if ops.len() == 1 => {
            let key_len = window.write_key(ops[0].slot, block, key_buf);
            text::encode_mg(send_buf, &key_buf[..key_len], GET_FLAGS);
            0
        }
        OpKind::Get => {
            for op in ops {
                let key_len = window.write_key(op.slot, block, key_buf);
                text::encode_mg(send_buf, &key_buf[..key_len], QUIET_GET_FLAGS);
            }
            text::encode_mn(send_buf);
            0
        }
    }
}

/// Parses a meta response reply by reply (a multi-get is one `VA` per hit, then `MN`); see
/// [`super::parse`].
pub(super) fn parse(
    expect: Expect<'_>,
    buf: &[u8],
    reply: &mut Reply,
    key_buf: &mut [u8; MAX_KEY_LEN],
    on_verify_failure: &mut impl FnMut(&[u8], &[u8], &[u8]),
) -> Result<Option<usize>, ProtoError> {
    parse_replies(buf, reply, |bytes, reply| {
        let Some((response, len)) = text::decode(bytes)? else {
            return Ok(None);
        };
        let last = interpret(expect, &response, reply, key_buf, on_verify_failure);
        Ok(Some((len, last)))
    })
}

/// Takes one reply; true when it was the last of the response.
fn interpret(
    expect: Expect<'_>,
    response: &Response<'_>,
    reply: &mut Reply,
    key_buf: &mut [u8; MAX_KEY_LEN],
    on_verify_failure: &mut impl FnMut(&[u8], &[u8], &[u8]),
) -> bool {
    let meta = match response {
        Response::Meta(meta) => Some(meta),
        _ => None,
    };
    let outcome = &mut reply.outcome;
    match kind(expect) {
        OpKind::Set => {
            match (meta.map(|m| m.kind), response) {
                (Some(MetaKind::Hd), _) => {
                    outcome.answered = true;
                    outcome.stored = true;
                }
                (Some(MetaKind::Ns | MetaKind::Ex | MetaKind::Nf), _) => outcome.answered = true,
                // memcached counts a SET it refused for lack of memory.
                (None, Response::ServerError(_)) => {
                    outcome.answered = true;
                    outcome.server_error = true;
                }
                _ => outcome.server_error = true,
            }
            true
        }
        OpKind::Get if expect.ops.len() == 1 => {
            match meta.map(|m| (m.kind, m.data)) {
                Some((MetaKind::Va, Some(data))) => {
                    outcome.answered = true;
                    // A plain `mg` reply does not name its key: it answers the one requested.
                    let op = expect.ops[0];
                    let key_len = expect.window.write_key(op.slot, expect.block, key_buf);
                    reply.matched = 1;
                    on_hit(
                        expect,
                        op,
                        &key_buf[..key_len],
                        data,
                        reply,
                        on_verify_failure,
                    );
                }
                Some((MetaKind::En, _)) => {
                    outcome.answered = true;
                    finish_get(expect, reply);
                }
                _ => outcome.server_error = true,
            }
            true
        }
        OpKind::Get => match meta.map(|m| (m.kind, m.data, m.flag(b'k'))) {
            Some((MetaKind::Mn, _, _)) => {
                outcome.answered = true;
                finish_get(expect, reply);
                true
            }
            Some((MetaKind::Va, Some(data), Some(key))) => {
                on_value(expect, reply, key, data, on_verify_failure);
                false
            }
            // Quiet gets stay silent on a miss; anything else is an error for that key, and
            // the batch still ends at `MN`.
            _ => {
                outcome.server_error = true;
                false
            }
        },
    }
}
