//! Aligning and merging the time series of runs from several hosts.
//!
//! Each point is placed by its absolute end (the run's `started_at` +
//! `t_s`) on a grid of period `P` laid from the merged start: bucket
//! k = round(end / P), at `t_s` = k·P. Rounding absorbs the small start
//! offsets between hosts. The last bucket keeps the real end of its
//! latest point instead, so a final partial period keeps its true length.
//! Two points of one run never share a bucket unless the later one ends
//! at or before the earlier one's grid line: a run's final partial point
//! (which may end just past its last full point's grid line) gets the
//! next bucket.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Map;
use shardslap_report::hdr_percentile_us;
use shardslap_schema::{
    is_partial_tail, CompactHistogram, OpName, PointOp, ResultFile, TimePointEntry,
};

use super::ops::{per_sec, sum_histograms, us_to_ns, HdrPart};
use crate::error::MergeError;

/// One input point: its input's index and label, its index in that
/// input's `timeseries`, and the point.
#[derive(Debug, Clone, Copy)]
struct Member<'a> {
    input: usize,
    file: &'a str,
    index: usize,
    point: &'a TimePointEntry,
}

/// The points that fall in one grid bucket.
#[derive(Debug, Default)]
struct Bucket<'a> {
    members: Vec<Member<'a>>,
    /// Latest real end among `members`, seconds since the merged start.
    last_end_s: f64,
}

/// Merges the inputs' time series onto the grid of `period_s` from
/// `start` (Unix seconds). `shard_ops` concatenate in input order, each
/// input contributing as many entries as it has shards (zeros where it has
/// no point in a bucket).
///
/// # Errors
///
/// [`MergeError::Malformed`] for a non-finite `t_s` or a `shard_ops` whose
/// length is not its input's shard count, and the histogram errors of
/// [`merge_point_op`].
pub(crate) fn merge_timeseries(
    inputs: &[(String, ResultFile)],
    start: f64,
    period_s: f64,
) -> Result<Vec<TimePointEntry>, MergeError> {
    // Grid times go through whole nanoseconds as the engine's do (period ×
    // n as a Duration), so a single run's t_s come back bit for bit.
    let period_ns = (period_s * 1e9).round() as u64;
    let grid_s = |k: u64| Duration::from_nanos(k.saturating_mul(period_ns)).as_secs_f64();

    let widths: Vec<usize> = inputs.iter().map(|(_, f)| f.shards.len()).collect();
    let mut buckets: BTreeMap<u64, Bucket<'_>> = BTreeMap::new();
    for (input, (file, result)) in inputs.iter().enumerate() {
        let offset_s = result.run.started_at - start;
        let mut prev_k: Option<u64> = None;
        for (index, point) in result.timeseries.iter().enumerate() {
            let malformed = |problem: String| MergeError::Malformed {
                file: file.clone(),
                at: format!("timeseries[{index}]"),
                problem,
            };
            if !point.t_s.is_finite() {
                return Err(malformed(format!("has t_s {}", point.t_s)));
            }
            if point.shard_ops.len() != widths[input] {
                return Err(malformed(format!(
                    "has {} shard_ops, but the file has {} shards",
                    point.shard_ops.len(),
                    widths[input]
                )));
            }
            // Offsets first: the earliest run's t_s then stay exact.
            let end_s = offset_s + point.t_s;
            // `as` saturates; k ≥ 1 keeps every period's length positive.
            let mut k = ((end_s / period_s).round() as u64).max(1);
            if let Some(prev) = prev_k.filter(|&prev| k <= prev) {
                k = if end_s > grid_s(prev) { prev + 1 } else { prev };
            }
            prev_k = Some(k);
            let bucket = buckets.entry(k).or_default();
            bucket.last_end_s = if bucket.members.is_empty() {
                end_s
            } else {
                bucket.last_end_s.max(end_s)
            };
            bucket.members.push(Member {
                input,
                file,
                index,
                point,
            });
        }
    }

    let bases: Vec<usize> = widths
        .iter()
        .scan(0, |next, w| {
            let base = *next;
            *next += w;
            Some(base)
        })
        .collect();
    let total_width: usize = widths.iter().sum();
    let last_k = buckets.keys().next_back().copied();
    let mut prev_t_s = 0.0;
    let mut out = Vec::with_capacity(buckets.len());
    for (k, bucket) in buckets {
        let t_s = if Some(k) == last_k && bucket.last_end_s > prev_t_s {
            bucket.last_end_s
        } else {
            grid_s(k)
        };
        let length_s = t_s - prev_t_s;
        prev_t_s = t_s;
        let mut shard_ops = vec![0u64; total_width];
        for m in &bucket.members {
            let slots = &mut shard_ops[bases[m.input]..bases[m.input] + widths[m.input]];
            for (slot, v) in slots.iter_mut().zip(&m.point.shard_ops) {
                *slot = slot.saturating_add(*v);
            }
        }
        let merge = |op: OpName| merge_point_op(&bucket.members, op, length_s);
        out.push(TimePointEntry {
            t_s,
            get: merge(OpName::Get)?,
            set: merge(OpName::Set)?,
            total: merge(OpName::Total)?,
            shard_ops,
            partial: false,
            extra: Map::new(),
        });
    }
    // Marked as a run's own file marks it: a merged tail is as short as its inputs' tails.
    let ends: Vec<f64> = out.iter().map(|p| p.t_s).collect();
    if is_partial_tail(&ends) {
        if let Some(last) = out.last_mut() {
            last.partial = true;
        }
    }
    Ok(out)
}

/// Merges one operation type of the points in a bucket; `tps` divides by
/// `length_s`.
///
/// Counts add and `max_us` is the largest. A single member with events
/// keeps its percentiles and `hdr`. Otherwise, when every member with
/// events has an `hdr`, the histograms add and the percentiles come from
/// the sum (clipped to `max_us`; points carry no minimum, which matters
/// only if every sample exceeded the histogram's 60 s ceiling). If one
/// lacks an `hdr` (files written before points had one), each percentile
/// is the largest of the members': an upper bound, not the true value,
/// and the merged point has no `hdr`.
fn merge_point_op(
    members: &[Member<'_>],
    op: OpName,
    length_s: f64,
) -> Result<PointOp, MergeError> {
    let entries: Vec<(&Member<'_>, &PointOp)> =
        members.iter().map(|m| (m, m.point.op(op))).collect();
    let ops = entries
        .iter()
        .fold(0u64, |n, (_, e)| n.saturating_add(e.ops));
    let misses = entries
        .iter()
        .fold(0u64, |n, (_, e)| n.saturating_add(e.misses));
    let max_us = entries.iter().map(|(_, e)| e.max_us).fold(0.0, f64::max);
    let mut out = PointOp {
        ops,
        tps: per_sec(ops, length_s),
        misses,
        max_us,
        ..PointOp::default()
    };
    let live: Vec<(&Member<'_>, &PointOp)> =
        entries.iter().copied().filter(|(_, e)| e.ops > 0).collect();
    match live.as_slice() {
        [] => {
            // No events: the percentiles stay 0; every member's histogram
            // is empty, so any one of them is the sum.
            if entries.iter().all(|(_, e)| e.hdr.is_some()) {
                out.hdr = entries.first().and_then(|(_, e)| e.hdr.clone());
            }
        }
        [(_, only)] => {
            out.p50_us = only.p50_us;
            out.p99_us = only.p99_us;
            out.p999_us = only.p999_us;
            out.hdr = only.hdr.clone();
        }
        _ if live.iter().all(|(_, e)| e.hdr.is_some()) => {
            // Decoded one bucket at a time: only this bucket's histograms are ever full size.
            let at = |m: &Member<'_>| format!("timeseries[{}].{op}.hdr", m.index);
            let decoded = live
                .iter()
                .map(|(m, e)| {
                    e.hdr
                        .as_ref()
                        .map(CompactHistogram::decode)
                        .transpose()
                        .map_err(|err| MergeError::Malformed {
                            file: m.file.to_owned(),
                            at: at(m),
                            problem: err.to_string(),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let hist = sum_histograms(live.iter().zip(&decoded).map(|((m, e), hdr)| HdrPart {
                file: m.file,
                at: at(m),
                hdr: hdr.as_ref(),
                ops: e.ops,
            }))?;
            let max_ns = us_to_ns(max_us);
            out.p50_us = hdr_percentile_us(&hist, 0.5, 0, max_ns);
            out.p99_us = hdr_percentile_us(&hist, 0.99, 0, max_ns);
            out.p999_us = hdr_percentile_us(&hist, 0.999, 0, max_ns);
            out.hdr = CompactHistogram::encode(&hist).ok();
        }
        _ => {
            let largest =
                |field: fn(&PointOp) -> f64| live.iter().map(|(_, e)| field(e)).fold(0.0, f64::max);
            out.p50_us = largest(|e| e.p50_us);
            out.p99_us = largest(|e| e.p99_us);
            out.p999_us = largest(|e| e.p999_us);
        }
    }
    Ok(out)
}
