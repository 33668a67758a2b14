//! The `timeseries` array: one point per reporting period, embedded in the result or streamed
//! one per line to a `--timeseries` file.

use serde::{Deserialize, Serialize};

use crate::hdr::CompactHistogram;
use crate::ops::OpName;
use crate::Extra;

/// One reporting period of the `timeseries` array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePointEntry {
    /// End of the period, seconds since `run.started_at`; the period covers
    /// `(previous t_s, t_s]`.
    pub t_s: f64,
    /// GET requests in the period.
    pub get: PointOp,
    /// SET requests in the period.
    pub set: PointOp,
    /// All requests in the period.
    pub total: PointOp,
    /// Requests each shard completed in the period, in shard order.
    pub shard_ops: Vec<u64>,
    /// The last point is shorter than the periods before it ([`is_partial_tail`]); absent
    /// (false) otherwise and in files written before it was added.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TimePointEntry {
    /// The entry for `op`.
    #[must_use]
    pub fn op(&self, op: OpName) -> &PointOp {
        match op {
            OpName::Get => &self.get,
            OpName::Set => &self.set,
            OpName::Total => &self.total,
        }
    }
}

/// One operation type within one period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PointOp {
    /// Latency events.
    pub ops: u64,
    /// `ops / period length`.
    pub tps: f64,
    /// Keys not returned.
    pub misses: u64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// 99.9th percentile, µs.
    pub p999_us: f64,
    /// Largest latency, µs.
    pub max_us: f64,
    /// The period's histogram (two significant digits), encoded like
    /// [`crate::OpEntry::hdr`] and held compressed ([`CompactHistogram`]: a long run has
    /// thousands of points); written for `total` only, absent in files written before it
    /// was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr: Option<CompactHistogram>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Whether the last of the periods ending at `ends_s` (seconds from the start, ascending) is a
/// partial tail: shorter than the full periods before it. It holds what the shards measured
/// after their last full period; at the end of a timed run that is only the requests still in
/// flight (a few milliseconds), so its rate and percentiles are not a period's.
#[must_use]
pub fn is_partial_tail(ends_s: &[f64]) -> bool {
    let lengths: Vec<f64> = std::iter::once(0.0)
        .chain(ends_s.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    match lengths.split_last() {
        Some((last, full)) if !full.is_empty() => {
            let period = full.iter().copied().fold(0.0, f64::max);
            // Whole nanoseconds on both sides: a tolerance far below any period.
            *last < period - 1e-6
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_last_period_is_a_partial_tail() {
        assert!(!is_partial_tail(&[1.0, 2.0, 3.0]));
        assert!(is_partial_tail(&[1.0, 2.0, 2.0019]));
        assert!(is_partial_tail(&[1.0, 1.5]));
        assert!(!is_partial_tail(&[0.4]), "a lone point is the whole run");
        assert!(!is_partial_tail(&[]));
    }
}
