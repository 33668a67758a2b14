//! The per-request work that is not I/O: encode the next request (one SET, or a GET of one
//! or more keys), read the meaning of its response ([`reply`]), and account it. Pure and
//! allocation-free, so it is tested without a socket (see the tests, which count allocations).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{BufMut, BytesMut};
use shardslap_proto::ascii::{self, StorageCommand};
use shardslap_proto::binary::{self, Opcode};
use shardslap_report::ShardStats;
use shardslap_workload::{CharBlock, Op, OpKind, Window, MAX_KEY_LEN};

mod reply;

pub(crate) use reply::{parse, Expect, Reply};

/// The wire protocol of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// memcached's text protocol (memaslap's default).
    Ascii,
    /// The binary protocol (`-B`).
    Binary,
}

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
    let mut object_bytes = 0;
    match (kind, protocol) {
        (OpKind::Set, _) => {
            for op in ops {
                let key_len = window.write_key(op.slot, block, key_buf);
                let key = &key_buf[..key_len];
                let value = window.value(op.slot, block);
                let exptime = window.exptime(op.slot);
                match protocol {
                    Protocol::Ascii => ascii::encode_storage(
                        send_buf,
                        StorageCommand::Set,
                        key,
                        0,
                        exptime,
                        value,
                        false,
                    ),
                    Protocol::Binary => {
                        binary::encode_storage(send_buf, Opcode::Set, key, 0, exptime, value, 0, 0)
                    }
                }
                object_bytes += (key_len + value.len()) as u64;
            }
        }
        (OpKind::Get, Protocol::Ascii) => {
            // `get k1 k2 … kn\r\n`: one line however many keys.
            send_buf.put_slice(b"get");
            for op in ops {
                let key_len = window.write_key(op.slot, block, key_buf);
                send_buf.put_u8(b' ');
                send_buf.put_slice(&key_buf[..key_len]);
            }
            send_buf.put_slice(b"\r\n");
        }
        (OpKind::Get, Protocol::Binary) if ops.len() == 1 => {
            let key_len = window.write_key(ops[0].slot, block, key_buf);
            binary::encode_get(send_buf, Opcode::Get, &key_buf[..key_len], 0);
        }
        (OpKind::Get, Protocol::Binary) => {
            // Quiet gets answer only hits; the NOOP's reply marks the end of the batch.
            for (index, op) in ops.iter().enumerate() {
                let key_len = window.write_key(op.slot, block, key_buf);
                binary::encode_get(send_buf, Opcode::GetKQ, &key_buf[..key_len], index as u32);
            }
            binary::encode_noop(send_buf, ops.len() as u32);
        }
    }
    Sent {
        kind,
        keys: ops.len() as u64,
        written: (send_buf.len() - start_len) as u64,
        object_bytes,
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
