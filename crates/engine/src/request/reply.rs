//! What the protocols share in reading a response: the progress through it, and what it meant
//! for the request's keys.
//!
//! A response may arrive in pieces; [`Reply`] remembers how far parsing got, so a binary
//! multi-get (one frame per hit, then the NOOP's frame) is read frame by frame as bytes come
//! in. Returned values are matched to the requested keys in order — memcached answers a
//! multi-get in request order and omits misses — so every key is exactly a hit or a miss.

use shardslap_proto::ProtoError;
use shardslap_workload::{CharBlock, Op, OpKind, Window};

use super::{unix_secs, Outcome, Protocol};

/// Seconds after its SET when an expiring item (exptime 60) must be gone: a hit later than
/// this is an `expired_get` (memaslap's ±5 s tolerance).
const EXPIRED_AFTER_SECS: u64 = 65;
/// Seconds after its SET when an expiring item must still be there: a miss earlier than this
/// is an `unexpired_unget`.
const UNEXPIRED_BEFORE_SECS: u64 = 55;

/// Progress through one response.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    /// Requested keys already resolved as hit or miss.
    pub(super) matched: usize,
    /// Bytes of the response already parsed (binary frames).
    pub(super) parsed: usize,
    pub(super) outcome: Outcome,
}

impl Reply {
    /// What the response meant; complete once [`parse`] returned its length.
    pub(crate) fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// What the response answers, and where the expected values come from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect<'a> {
    pub(crate) protocol: Protocol,
    pub(crate) ops: &'a [Op],
    pub(crate) window: &'a Window,
    pub(crate) block: &'a CharBlock,
}

pub(super) fn kind(expect: Expect<'_>) -> OpKind {
    expect.ops.first().map_or(OpKind::Get, |op| op.kind)
}

/// A returned value: the requested keys before it were misses, the one it names a hit.
pub(super) fn on_value(
    expect: Expect<'_>,
    reply: &mut Reply,
    key: &[u8],
    data: &[u8],
    on_verify_failure: &mut impl FnMut(&[u8], &[u8], &[u8]),
) {
    while let Some(&op) = expect.ops.get(reply.matched) {
        reply.matched += 1;
        if expect.window.key_is(op.slot, expect.block, key) {
            on_hit(expect, op, key, data, reply, on_verify_failure);
            return;
        }
        on_miss(expect, op, &mut reply.outcome);
    }
    // A value for a key not requested (or out of order): the stream is not what we sent.
    reply.outcome.server_error = true;
}

/// Parses a response made of several replies (binary frames; meta lines), one at a time as
/// bytes come in: `take` decodes and interprets the next reply at the start of its bytes and
/// says how long it was and whether it was the response's last (`None`: not all there yet).
/// `Ok(Some(len))` once the whole response is parsed.
pub(super) fn parse_replies(
    buf: &[u8],
    reply: &mut Reply,
    mut take: impl FnMut(&[u8], &mut Reply) -> Result<Option<(usize, bool)>, ProtoError>,
) -> Result<Option<usize>, ProtoError> {
    loop {
        let Some((len, last)) = take(&buf[reply.parsed..], reply)? else {
            return Ok(None);
        };
        reply.parsed += len;
        if last {
            return Ok(Some(reply.parsed));
        }
    }
}

/// The keys not returned by the end of the response are misses.
pub(super) fn finish_get(expect: Expect<'_>, reply: &mut Reply) {
    for &op in &expect.ops[reply.matched.min(expect.ops.len())..] {
        on_miss(expect, op, &mut reply.outcome);
    }
    reply.matched = expect.ops.len();
}

pub(super) fn on_hit(
    expect: Expect<'_>,
    op: Op,
    key: &[u8],
    data: &[u8],
    reply: &mut Reply,
    on_verify_failure: &mut impl FnMut(&[u8], &[u8], &[u8]),
) {
    let outcome = &mut reply.outcome;
    if let Some(age_secs) = expiring_age_secs(expect, op) {
        // Expiring items are checked for presence only, not for content.
        outcome.expired_get += u64::from(age_secs > EXPIRED_AFTER_SECS);
    } else if op.verify {
        let expected = expect.window.value(op.slot, expect.block);
        if data != expected {
            outcome.verify_failed += 1;
            on_verify_failure(key, expected, data);
        }
    }
}

fn on_miss(expect: Expect<'_>, op: Op, outcome: &mut Outcome) {
    outcome.misses += 1;
    if let Some(age_secs) = expiring_age_secs(expect, op) {
        outcome.unexpired_unget += u64::from(age_secs < UNEXPIRED_BEFORE_SECS);
    } else if op.verify {
        outcome.verify_misses += 1;
    }
}

/// For an item stored with an expiry (`-e`), seconds since its SET; `None` otherwise.
fn expiring_age_secs(expect: Expect<'_>, op: Op) -> Option<u64> {
    (expect.window.exptime(op.slot) != 0)
        .then(|| unix_secs().saturating_sub(expect.window.set_time_secs(op.slot)))
}
