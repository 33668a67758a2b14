//! The per-request work that is not I/O: encode the next operation, read the meaning of its
//! response, and account it. Pure and allocation-free, so it is tested without a socket
//! (see the tests below, which count allocations).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use shardslap_proto::ascii::{self, Response, StorageCommand};
use shardslap_report::ShardStats;
use shardslap_workload::{CharBlock, Op, OpKind, Window, MAX_KEY_LEN};

/// What one response meant, extracted while its bytes are still borrowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The reply answered the request (a value list for a GET, a storage reply for a SET).
    pub(crate) answered: bool,
    /// SET: the server said STORED.
    pub(crate) stored: bool,
    /// GET: keys not returned.
    pub(crate) misses: u64,
    pub(crate) verify_miss: bool,
    pub(crate) verify_failed: bool,
    pub(crate) expired_get: bool,
    pub(crate) unexpired_unget: bool,
    /// The server answered with an error line.
    pub(crate) server_error: bool,
}

/// One request as it goes out: what it is and what it weighs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    pub(crate) op: Op,
    /// Request bytes handed to the socket.
    pub(crate) written: u64,
    /// Key + value bytes of a SET (memaslap's object_bytes); 0 for a GET.
    pub(crate) object_bytes: u64,
}

/// Encodes `op` into `send_buf` (cleared first).
pub(crate) fn encode(
    op: Op,
    window: &Window,
    block: &CharBlock,
    key_buf: &mut [u8; MAX_KEY_LEN],
    send_buf: &mut BytesMut,
) -> Sent {
    send_buf.clear();
    let key_len = window.write_key(op.slot, block, key_buf);
    let key = &key_buf[..key_len];
    let object_bytes = match op.kind {
        OpKind::Get => {
            ascii::encode_get(send_buf, key);
            0
        }
        OpKind::Set => {
            let value = window.value(op.slot, block);
            let exptime = window.exptime(op.slot);
            ascii::encode_storage(send_buf, StorageCommand::Set, key, 0, exptime, value, false);
            (key_len + value.len()) as u64
        }
    };
    Sent {
        op,
        written: send_buf.len() as u64,
        object_bytes,
    }
}

/// Reads a response's meaning for `op` while its bytes are borrowed. `on_verify_failure`
/// gets (key, expected, received) for a verified GET whose data differs.
pub(crate) fn interpret(
    response: &Response<'_>,
    op: Op,
    window: &Window,
    block: &CharBlock,
    mut on_verify_failure: impl FnMut(&[u8], &[u8], &[u8]),
) -> Outcome {
    let mut outcome = Outcome::default();
    match (op.kind, response) {
        (OpKind::Get, Response::Values(values)) => {
            outcome.answered = true;
            let first = values.iter().next();
            outcome.misses = u64::from(first.is_none());
            let expiring = window.exptime(op.slot) != 0;
            // Expiring items are checked for presence only (below), not for content.
            if op.verify && !expiring {
                match first {
                    None => outcome.verify_miss = true,
                    Some(value) => {
                        let expected = window.value(op.slot, block);
                        if value.data != expected {
                            outcome.verify_failed = true;
                            on_verify_failure(value.key, expected, value.data);
                        }
                    }
                }
            }
            if expiring {
                let age_secs = unix_secs().saturating_sub(window.set_time_secs(op.slot));
                outcome.expired_get = first.is_some() && age_secs > 65;
                outcome.unexpired_unget = first.is_none() && age_secs < 55;
            }
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
    outcome
}

/// Records a completed request in `stats` and tells the window how a SET went.
/// `latency_ns` is `None` for warm-up requests, which never enter latency statistics.
pub(crate) fn account(
    stats: &mut ShardStats,
    window: &mut Window,
    sent: Sent,
    outcome: Outcome,
    read: u64,
    latency_ns: Option<u64>,
) {
    let counters = &mut stats.counters;
    counters.written_bytes += sent.written;
    counters.read_bytes += read;
    counters.errors += u64::from(outcome.server_error);
    if !outcome.answered {
        return;
    }
    let slot = sent.op.slot;
    match sent.op.kind {
        OpKind::Get => {
            counters.cmd_get += 1;
            counters.get_misses += outcome.misses;
            counters.verify_misses += u64::from(outcome.verify_miss);
            counters.verify_failed += u64::from(outcome.verify_failed);
            counters.expired_get += u64::from(outcome.expired_get);
            counters.unexpired_unget += u64::from(outcome.unexpired_unget);
            if let Some(latency_ns) = latency_ns {
                stats.ops.record_get(latency_ns, outcome.misses);
            }
        }
        OpKind::Set => {
            counters.cmd_set += 1;
            counters.object_bytes += sent.object_bytes;
            match latency_ns {
                Some(latency_ns) => {
                    stats.ops.record_set(latency_ns);
                    window.on_set_done(slot, outcome.stored, unix_secs());
                }
                None => {
                    counters.warmup_sets += 1;
                    // Warm-up SETs fill the window but are not part of the set/get interleave.
                    window.on_warmup_set_done(slot, outcome.stored, unix_secs());
                }
            }
        }
    }
}

/// Records a request that got no answer because the connection failed.
pub(crate) fn account_failure(stats: &mut ShardStats, sent: Sent, read: u64) {
    let counters = &mut stats.counters;
    counters.written_bytes += sent.written;
    counters.read_bytes += read;
    counters.errors += 1;
    counters.disconnects += 1;
}

/// Wall-clock seconds, for expire verification (items carry their SET time).
fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
