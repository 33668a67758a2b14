//! The per-request work that is not I/O: encode the next request (one SET, or a GET of one
//! or more keys), read the meaning of its response, and account it. Each protocol has its
//! file with both halves (`ascii`, `meta`, `binary`); [`reply`] holds what they share (matching values
//! to the requested keys, verification, expiry checks); [`by_server`] splits a request over a
//! pool's servers (`--distribution`). Pure and allocation-free, so it is
//! tested without a socket (see the tests, which count allocations).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
pub(crate) use shardslap_config::Protocol;
use shardslap_proto::ProtoError;
use shardslap_proto::MAX_KEY_LEN;
use shardslap_report::ShardStats;
use shardslap_workload::{CharBlock, Op, OpKind, Window};

mod ascii;
mod binary;
mod by_server;
mod meta;
mod reply;

pub(crate) use by_server::ByServer;
pub(crate) use reply::{Expect, Reply};

/// What one response meant, extracted while its bytes are still borrowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The reply answered the request (a value list for a GET, a storage reply for a SET).
    pub(crate) answered: bool,
    /// SET: the server stored the item.
    pub(crate) stored: bool,
    /// GET: keys not returned.
    pub(crate) misses: u64,
    pub(crate) verify_misses: u64,
    pub(crate) verify_failed: u64,
    pub(crate) expired_get: u64,
    pub(crate) unexpired_unget: u64,
    /// The server answered with an error, or with a value nobody asked for.
    pub(crate) server_error: bool,
}

/// One request as it goes out: what it is and what it weighs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    pub(crate) kind: OpKind,
    /// Keys in the request: 1 for a SET, 1..=`-d` for a GET.
    pub(crate) keys: u64,
    /// Request bytes handed to the socket.
    pub(crate) written: u64,
    /// Key + value bytes of a SET (memaslap's object_bytes); 0 for a GET.
    pub(crate) object_bytes: u64,
}

/// Appends `ops` — one SET, or one or more GETs sent as one (multi-)get — to `send_buf`
/// (requests of a pipeline go back to back).
pub(crate) fn encode(
    protocol: Protocol,
    ops: &[Op],
    window: &Window,
    block: &CharBlock,
    key_buf: &mut [u8; MAX_KEY_LEN],
    send_buf: &mut BytesMut,
) -> Sent {
    let start_len = send_buf.len();
    let kind = ops.first().map_or(OpKind::Get, |op| op.kind);
    debug_assert!(
        ops.iter().all(|op| op.kind == kind),
        "a request mixes GET and SET"
    );
    let object_bytes = match protocol {
        Protocol::Ascii => ascii::encode(kind, ops, window, block, key_buf, send_buf),
        Protocol::Meta => meta::encode(kind, ops, window, block, key_buf, send_buf),
        Protocol::Binary => binary::encode(kind, ops, window, block, key_buf, send_buf),
    };
    Sent {
        kind,
        keys: ops.len() as u64,
        written: (send_buf.len() - start_len) as u64,
        object_bytes,
    }
}

/// The SETs of `ops`, each handed to `put` as (key, value, exptime) — the protocols differ
/// only in how they write one; returns their key + value bytes (memaslap's object_bytes).
fn encode_sets(
    ops: &[Op],
    window: &Window,
    block: &CharBlock,
    key_buf: &mut [u8; MAX_KEY_LEN],
    mut put: impl FnMut(&[u8], &[u8], u32),
) -> u64 {
    let mut object_bytes = 0;
    for op in ops {
        let key_len = window.write_key(op.slot, block, key_buf);
        let value = window.value(op.slot, block);
        put(&key_buf[..key_len], value, window.exptime(op.slot));
        object_bytes += (key_len + value.len()) as u64;
    }
    object_bytes
}

/// Parses the response at the start of `buf` as far as it goes. `Ok(Some(len))` once the
/// whole response is there (it took `len` bytes); `Ok(None)` when more bytes are needed.
/// `on_verify_failure` gets (key, expected, received) for a verified GET whose data differs.
pub(crate) fn parse(
    expect: Expect<'_>,
    buf: &[u8],
    reply: &mut Reply,
    key_buf: &mut [u8; MAX_KEY_LEN],
    mut on_verify_failure: impl FnMut(&[u8], &[u8], &[u8]),
) -> Result<Option<usize>, ProtoError> {
    match expect.protocol {
        Protocol::Ascii => ascii::parse(expect, buf, reply, &mut on_verify_failure),
        Protocol::Meta => meta::parse(expect, buf, reply, key_buf, &mut on_verify_failure),
        Protocol::Binary => binary::parse(expect, buf, reply, key_buf, &mut on_verify_failure),
    }
}

/// Records a completed request in `stats` and tells the window how its SETs went.
/// `latency_ns` is `None` for warm-up requests, which never enter latency statistics.
pub(crate) fn account(
    stats: &mut ShardStats,
    window: &mut Window,
    ops: &[Op],
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
        release_sets(window, ops, latency_ns.is_some());
        return;
    }
    match sent.kind {
        OpKind::Get => {
            counters.cmd_get += sent.keys;
            counters.get_misses += outcome.misses;
            counters.verify_misses += outcome.verify_misses;
            counters.verify_failed += outcome.verify_failed;
            counters.expired_get += outcome.expired_get;
            counters.unexpired_unget += outcome.unexpired_unget;
            if let Some(latency_ns) = latency_ns {
                stats.ops.record_get(latency_ns, outcome.misses);
            }
        }
        OpKind::Set => {
            counters.cmd_set += sent.keys;
            counters.object_bytes += sent.object_bytes;
            let now = unix_secs();
            match latency_ns {
                Some(latency_ns) => {
                    stats.ops.record_set(latency_ns);
                    for op in ops {
                        window.on_set_done(op.slot, outcome.stored, now);
                    }
                }
                None => {
                    counters.warmup_sets += sent.keys;
                    // Warm-up SETs fill the window but are not part of the set/get interleave.
                    for op in ops {
                        window.on_warmup_set_done(op.slot, outcome.stored, now);
                    }
                }
            }
        }
    }
}

/// Records the service time of a paced request (from reaching the socket), beside the
/// latency [`account`] recorded from its due time.
pub(crate) fn record_service(
    stats: &mut ShardStats,
    kind: OpKind,
    service_ns: u64,
    outcome: Outcome,
) {
    match kind {
        OpKind::Get => stats.service.record_get(service_ns, outcome.misses),
        OpKind::Set => stats.service.record_set(service_ns),
    }
}

/// How a request that got no answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The connection was lost, stalled or desynchronised (and is recycled).
    Connection,
    /// A UDP response did not arrive in time; the socket stays usable.
    UdpTimeout,
    /// Pipelined behind a request whose connection failed: never answered.
    Abandoned,
}

/// Records a request that got no answer. Its SETs count as not stored, so the window stays
/// consistent for a run that goes on (`-R`, UDP).
pub(crate) fn account_failure(
    stats: &mut ShardStats,
    window: &mut Window,
    ops: &[Op],
    sent: Sent,
    read: u64,
    measured: bool,
    failure: Failure,
) {
    let counters = &mut stats.counters;
    counters.written_bytes += sent.written;
    counters.read_bytes += read;
    counters.errors += 1;
    match failure {
        Failure::Connection => counters.disconnects += 1,
        Failure::UdpTimeout => counters.udp_timeouts += 1,
        Failure::Abandoned => {}
    }
    release_sets(window, ops, measured);
}

/// Tells the window that the SETs among `ops` did not store anything (failed or never sent).
pub(crate) fn release_sets(window: &mut Window, ops: &[Op], measured: bool) {
    for op in ops.iter().filter(|op| op.kind == OpKind::Set) {
        if measured {
            window.on_set_done(op.slot, false, 0);
        } else {
            window.on_warmup_set_done(op.slot, false, 0);
        }
    }
}

/// Wall-clock seconds, for expire verification (items carry their SET time).
pub(crate) fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
