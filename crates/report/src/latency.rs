//! One latency accumulator: memaslap's exact fields (for its Avg/Std/Geo
//! and log2 table) beside an HdrHistogram (for percentiles and JSON).
//!
//! Stage: filled per connection or shard on the hot path, merged by value at
//! period boundaries and at the end, read by `text` and `json`.

use std::fmt;

use hdrhistogram::Histogram;

/// Lowest latency the HdrHistogram tells apart, in nanoseconds.
pub const HDR_LOWEST_NS: u64 = 1;
/// Highest latency the HdrHistogram tracks (60 s); larger values saturate.
pub const HDR_HIGHEST_NS: u64 = 60_000_000_000;
/// Significant decimal digits kept by the HdrHistogram.
pub const HDR_SIGFIG: u8 = 3;
/// Number of memaslap log2 buckets (`dist[65]`).
pub const LOG2_BUCKETS: usize = 65;

/// Fixed-point scale of the Σ ln t accumulator. Integer sums make merging
/// exact and order-independent (float sums are not associative); the
/// rounding error is below 2^-41 per event.
const LN_FIXED_SCALE: f64 = (1u64 << 40) as f64;

/// One entry of the percentile table shared by the text and JSON outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentile {
    /// Column label in the text table, e.g. `p99.9`.
    pub label: &'static str,
    /// Key in the JSON `latency_us` object, e.g. `p999`.
    pub key: &'static str,
    /// Quantile in `[0, 1]`.
    pub quantile: f64,
}

/// The percentiles every output reports, in column order.
pub static PERCENTILES: [Percentile; 5] = [
    Percentile {
        label: "p50",
        key: "p50",
        quantile: 0.5,
    },
    Percentile {
        label: "p90",
        key: "p90",
        quantile: 0.9,
    },
    Percentile {
        label: "p99",
        key: "p99",
        quantile: 0.99,
    },
    Percentile {
        label: "p99.9",
        key: "p999",
        quantile: 0.999,
    },
    Percentile {
        label: "p99.99",
        key: "p9999",
        quantile: 0.9999,
    },
];

/// memaslap's log2 bucket of a latency in µs: the smallest `b` with
/// `2^b >= t_us`, so 0 and 1 → 0, 2 → 1, 3..=4 → 2, 5..=8 → 3.
#[must_use]
pub fn log2_bucket(t_us: u64) -> usize {
    // 64 - leading_zeros(t - 1) is ⌈log2 t⌉ for t >= 2, and 0 for t <= 1.
    (u64::BITS - t_us.saturating_sub(1).leading_zeros()) as usize
}

/// Latency accumulator for one operation type (Get, Set or Total).
///
/// memaslap's fields are kept in µs, derived per event as
/// `latency_ns / 1000`; the HdrHistogram keeps nanoseconds. Every sum is an
/// integer, so [`merge`](Self::merge) gives identical results in any order.
#[derive(Clone, PartialEq)]
pub struct LatencyStats {
    /// Latency events (memaslap's n = Σ dist).
    count: u64,
    /// T = Σ t_us.
    sum_us: u64,
    /// Q = Σ t_us², exact.
    sum_sq_us: u128,
    /// L = Σ ln t_us over t_us > 0, times `LN_FIXED_SCALE`.
    sum_ln_fixed: u128,
    /// Σ latency_ns, for the untruncated JSON mean.
    sum_ns: u128,
    /// Smallest latency; `u64::MAX` while empty.
    min_ns: u64,
    /// Largest latency; 0 while empty.
    max_ns: u64,
    /// Misses, counted apart from events (a multi-get is one event but
    /// misses per key).
    misses: u64,
    /// memaslap's log2 histogram of t_us, see [`log2_bucket`].
    dist: [u64; LOG2_BUCKETS],
    /// Latency in ns, bounds `HDR_LOWEST_NS..=HDR_HIGHEST_NS`, saturating. Made on the
    /// first record or merge: the crate zero-fills (so makes resident) all of its ~220 KiB
    /// at creation, and most accumulators of a run (warm-up, the final remainder, a fresh
    /// period's) stay empty for long or for good.
    hdr: Option<Histogram<u64>>,
}

impl LatencyStats {
    /// An empty accumulator. Allocates nothing: the histogram (~220 KiB) is
    /// made when the first latency is recorded or merged.
    #[must_use]
    pub fn new() -> Self {
        Self {
            count: 0,
            sum_us: 0,
            sum_sq_us: 0,
            sum_ln_fixed: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
            misses: 0,
            dist: [0; LOG2_BUCKETS],
            hdr: None,
        }
    }

    /// Records one completed request that took `latency_ns`. Values above
    /// 60 s saturate in the histogram only. Allocates only the first time.
    pub fn record(&mut self, latency_ns: u64) {
        let t_us = latency_ns / 1000;
        self.count += 1;
        self.sum_us += t_us;
        self.sum_sq_us += u128::from(t_us) * u128::from(t_us);
        if t_us > 0 {
            self.sum_ln_fixed += u128::from(ln_fixed(t_us));
        }
        self.sum_ns += u128::from(latency_ns);
        self.min_ns = self.min_ns.min(latency_ns);
        self.max_ns = self.max_ns.max(latency_ns);
        self.dist[log2_bucket(t_us)] += 1;
        self.hdr
            .get_or_insert_with(new_histogram)
            .saturating_record(latency_ns);
    }

    /// Adds `misses` missed keys (not events).
    pub fn record_miss(&mut self, misses: u64) {
        self.misses += misses;
    }

    /// Adds everything `other` recorded into `self`.
    pub fn merge(&mut self, other: &Self) {
        // Exhaustive destructuring: a new field fails to compile until it is
        // merged here.
        let Self {
            count,
            sum_us,
            sum_sq_us,
            sum_ln_fixed,
            sum_ns,
            min_ns,
            max_ns,
            misses,
            dist,
            hdr,
        } = other;
        self.count += count;
        self.sum_us += sum_us;
        self.sum_sq_us += sum_sq_us;
        self.sum_ln_fixed += sum_ln_fixed;
        self.sum_ns += sum_ns;
        self.min_ns = self.min_ns.min(*min_ns);
        self.max_ns = self.max_ns.max(*max_ns);
        self.misses += misses;
        for (mine, theirs) in self.dist.iter_mut().zip(dist) {
            *mine += theirs;
        }
        if let Some(hdr) = hdr.as_ref().filter(|hdr| !hdr.is_empty()) {
            add_histogram(self.hdr.get_or_insert_with(new_histogram), hdr);
        }
    }

    /// Empties the accumulator; its histogram is made again by the next record.
    pub fn reset(&mut self) {
        let Self {
            count,
            sum_us,
            sum_sq_us,
            sum_ln_fixed,
            sum_ns,
            min_ns,
            max_ns,
            misses,
            dist,
            hdr,
        } = self;
        *count = 0;
        *sum_us = 0;
        *sum_sq_us = 0;
        *sum_ln_fixed = 0;
        *sum_ns = 0;
        *min_ns = u64::MAX;
        *max_ns = 0;
        *misses = 0;
        *dist = [0; LOG2_BUCKETS];
        *hdr = None;
    }

    /// Empties the accumulator but keeps its histogram's storage, so that a period's
    /// statistics handed back to their shard record the next period without allocating
    /// (a fresh histogram every period is ~220 KiB made and freed across threads, which
    /// the allocator does not return evenly: RSS swung by megabytes in a long run).
    pub fn recycle(&mut self) {
        let kept = self.hdr.take().map(|mut hdr| {
            hdr.reset();
            hdr
        });
        self.reset();
        self.hdr = kept;
    }

    /// Latency events recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Misses recorded with [`record_miss`](Self::record_miss).
    #[must_use]
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// Smallest latency in ns; 0 when empty.
    #[must_use]
    pub fn min_ns(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min_ns
        }
    }

    /// Largest latency in ns; 0 when empty.
    #[must_use]
    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// memaslap's Min in whole µs; 0 when empty.
    #[must_use]
    pub fn min_us(&self) -> u64 {
        self.min_ns() / 1000
    }

    /// memaslap's Max in whole µs; 0 when empty.
    #[must_use]
    pub fn max_us(&self) -> u64 {
        self.max_ns / 1000
    }

    /// memaslap's Avg: ⌊T/n⌋ in whole µs; 0 when empty.
    #[must_use]
    pub fn mean_us(&self) -> u64 {
        self.sum_us.checked_div(self.count).unwrap_or(0)
    }

    /// The exact mean in µs, from untruncated nanoseconds; 0 when empty.
    #[must_use]
    pub fn mean_us_f64(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum_ns as f64 / self.count as f64 / 1000.0
    }

    /// memaslap's Std in µs: √((Q − n·Avg²)/(n−1)) with the truncated Avg
    /// of [`mean_us`](Self::mean_us); 0 when n ≤ 1.
    #[must_use]
    pub fn stddev_us(&self) -> f64 {
        if self.count <= 1 {
            return 0.0;
        }
        let n = u128::from(self.count);
        let avg = u128::from(self.mean_us());
        // Avg ≤ T/n, so Q ≥ n·Avg²; exact in integers.
        let spread = self.sum_sq_us.saturating_sub(n * avg * avg);
        (spread as f64 / (n - 1) as f64).sqrt()
    }

    /// The sample standard deviation in µs around the untruncated mean
    /// T/n (not memaslap's formula); 0 when n ≤ 1.
    #[must_use]
    pub fn stddev_us_f64(&self) -> f64 {
        if self.count <= 1 {
            return 0.0;
        }
        let n = self.count as f64;
        let sum = self.sum_us as f64;
        let spread = self.sum_sq_us as f64 - sum * sum / n;
        (spread.max(0.0) / (n - 1.0)).sqrt()
    }

    /// memaslap's Geo: exp(Σ ln t_us / n) in µs (events with t_us = 0 add
    /// nothing to the sum but count in n); 0 when empty.
    #[must_use]
    pub fn geo_mean_us(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        (self.sum_ln_fixed as f64 / LN_FIXED_SCALE / self.count as f64).exp()
    }

    /// The latency at quantile `q` (clamped to `[0, 1]`) in µs, from the
    /// HdrHistogram (3 significant digits: the highest value equivalent to
    /// the sample, so up to 0.1% above it), kept within the exact recorded
    /// min..=max so p99.99 never exceeds the max; 0 when empty.
    #[must_use]
    pub fn percentile_us(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        hdr_percentile_us(self.histogram(), q, self.min_ns, self.max_ns)
    }

    /// memaslap's log2 histogram: bucket `b` counts events with t_us in
    /// (2^(b−1), 2^b], bucket 0 counts t_us ≤ 1.
    #[must_use]
    pub fn log2_dist(&self) -> &[u64; LOG2_BUCKETS] {
        &self.dist
    }

    /// The latency histogram in nanoseconds (an empty one while nothing was recorded).
    #[must_use]
    pub fn histogram(&self) -> &Histogram<u64> {
        static EMPTY: std::sync::OnceLock<Histogram<u64>> = std::sync::OnceLock::new();
        self.hdr
            .as_ref()
            .unwrap_or_else(|| EMPTY.get_or_init(new_histogram))
    }
}

impl Default for LatencyStats {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LatencyStats {
    // Summarised: the histogram's ~27k counters would swamp test output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyStats")
            .field("count", &self.count)
            .field("sum_us", &self.sum_us)
            .field("sum_sq_us", &self.sum_sq_us)
            .field("sum_ln_fixed", &self.sum_ln_fixed)
            .field("sum_ns", &self.sum_ns)
            .field("min_ns", &self.min_ns())
            .field("max_ns", &self.max_ns)
            .field("misses", &self.misses)
            .field("hdr_len", &self.hdr.as_ref().map_or(0, Histogram::len))
            .finish_non_exhaustive()
    }
}

/// The latency at quantile `q` (clamped to `[0, 1]`) of `hist` (in ns), in
/// µs, as every output defines a percentile: the highest value equivalent
/// to the sample (so up to 0.1% above it), kept within `min_ns..=max_ns`,
/// the exact recorded extremes. [`LatencyStats::percentile_us`] uses it;
/// so can anything that rebuilds percentiles from decoded `hdr` fields.
/// The caller handles the empty case (every output reports 0).
#[must_use]
pub fn hdr_percentile_us(hist: &Histogram<u64>, q: f64, min_ns: u64, max_ns: u64) -> f64 {
    let ns = hist.value_at_quantile(q.clamp(0.0, 1.0));
    // max-then-min rather than clamp: clamp panics if min_ns > max_ns,
    // which input read from a file can make happen.
    ns.max(min_ns).min(max_ns) as f64 / 1000.0
}

/// An empty histogram with every shardslap histogram's bounds
/// ([`HDR_LOWEST_NS`]..=[`HDR_HIGHEST_NS`]) at `sigfig` significant digits,
/// clamped to what HdrHistogram supports (1..=5).
#[must_use]
pub fn empty_histogram(sigfig: u8) -> Histogram<u64> {
    // Invariant: the constant bounds meet new_with_bounds's preconditions
    // (low >= 1, high >= 2 * low) and sigfig is clamped to 1..=5, so this
    // cannot fail.
    Histogram::new_with_bounds(HDR_LOWEST_NS, HDR_HIGHEST_NS, sigfig.clamp(1, 5))
        .expect("constant histogram bounds are valid")
}

/// Adds `from` into `into`. Where `from` holds values beyond `into`'s
/// bounds (a histogram read from a file), they are re-recorded one by one,
/// saturating as recording does. A finer `from` coarsens exactly into a
/// coarser `into`.
///
/// Into an empty histogram the recorded values are re-recorded too: the crate's `add` would
/// copy the whole counts array (213 KiB at 3 digits), making every page of it resident,
/// where recording touches only the few buckets a run's latencies fall in.
pub fn add_histogram(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    if from.is_empty() {
        return;
    }
    if into.is_empty() || into.add(from).is_err() {
        for v in from.iter_recorded() {
            into.saturating_record_n(v.value_iterated_to(), v.count_at_value());
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    empty_histogram(HDR_SIGFIG)
}

/// `ln t_us` in fixed point, rounded to nearest. Called once per request: adding one half and
/// truncating is `round` for these non-negative values without libm's call, and the result
/// (below 45 × 2^40) fits a u64, whose conversion is one instruction where a u128's is a
/// library call (perf: the two were a third of the record).
fn ln_fixed(t_us: u64) -> u64 {
    // ln t >= 0 for t >= 1, so the float-to-int cast never truncates a sign.
    ((t_us as f64).ln() * LN_FIXED_SCALE + 0.5) as u64
}

/// Raw accumulator values, for tests that rebuild memaslap's printed numbers.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    pub count: u64,
    pub sum_us: u64,
    pub sum_sq_us: u128,
    pub geo_mean_us: f64,
    pub min_us: u64,
    pub max_us: u64,
    pub misses: u64,
    pub dist: [u64; LOG2_BUCKETS],
}

#[cfg(test)]
impl LatencyStats {
    /// Builds an accumulator field by field (the histogram stays empty).
    pub(crate) fn from_moments(m: &Moments) -> Self {
        let ln_sum = m.geo_mean_us.ln() * m.count as f64;
        Self {
            count: m.count,
            sum_us: m.sum_us,
            sum_sq_us: m.sum_sq_us,
            sum_ln_fixed: (ln_sum * LN_FIXED_SCALE).round() as u128,
            sum_ns: u128::from(m.sum_us) * 1000,
            min_ns: m.min_us * 1000,
            max_ns: m.max_us * 1000,
            misses: m.misses,
            dist: m.dist,
            hdr: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_bucket_boundaries() {
        let cases: &[(u64, usize)] = &[
            (0, 0),
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 3),
            (8, 3),
            (9, 4),
            (16, 4),
            (17, 5),
            (1 << 20, 20),
            ((1 << 20) + 1, 21),
            (1 << 63, 63),
            ((1 << 63) + 1, 64),
            (u64::MAX, 64),
        ];
        for &(t_us, bucket) in cases {
            assert_eq!(log2_bucket(t_us), bucket, "t_us = {t_us}");
        }
    }

    #[test]
    fn record_derives_microseconds_by_truncation() {
        let mut s = LatencyStats::new();
        for ns in [999, 1_000, 2_999, 8_000, 8_001] {
            s.record(ns);
        }
        // t_us = 0, 1, 2, 8, 8
        assert_eq!(s.count(), 5);
        assert_eq!(s.min_us(), 0);
        assert_eq!(s.max_us(), 8);
        assert_eq!(s.min_ns(), 999);
        assert_eq!(s.max_ns(), 8_001);
        assert_eq!(s.mean_us(), 19 / 5);
        let dist = s.log2_dist();
        assert_eq!(dist[0], 2);
        assert_eq!(dist[1], 1);
        assert_eq!(dist[3], 2);
        assert_eq!(dist.iter().sum::<u64>(), 5);
        // Geo: ln 1 + ln 2 + 2 ln 8 over n = 5 (t = 0 counts in n only).
        let geo = ((2f64.ln() + 2.0 * 8f64.ln()) / 5.0).exp();
        assert!((s.geo_mean_us() - geo).abs() < 1e-9);
        assert_eq!(s.histogram().len(), 5);
    }

    #[test]
    fn stddev_uses_truncated_average() {
        let mut s = LatencyStats::new();
        for us in [1, 2] {
            s.record(us * 1000);
        }
        // Avg = ⌊3/2⌋ = 1; Q = 5; (5 − 2·1)/1 = 3.
        assert!((s.stddev_us() - 3f64.sqrt()).abs() < 1e-12);
        // Around the true mean 1.5: (5 − 4.5)/1 = 0.5.
        assert!((s.stddev_us_f64() - 0.5f64.sqrt()).abs() < 1e-12);
        assert!((s.mean_us_f64() - 1.5).abs() < 1e-12);
    }

    #[test]
    fn empty_and_single_event_are_zero_not_nan() {
        let mut s = LatencyStats::new();
        assert_eq!((s.min_us(), s.max_us(), s.mean_us()), (0, 0, 0));
        assert_eq!(s.stddev_us(), 0.0);
        assert_eq!(s.geo_mean_us(), 0.0);
        assert_eq!(s.percentile_us(0.99), 0.0);
        s.record(5_000);
        assert_eq!(s.stddev_us(), 0.0);
        assert_eq!(s.stddev_us_f64(), 0.0);
        assert!((s.geo_mean_us() - 5.0).abs() < 1e-9);
    }

    #[test]
    fn zero_and_huge_latencies_do_not_panic() {
        let mut s = LatencyStats::new();
        s.record(0);
        s.record(u64::MAX);
        assert_eq!(s.count(), 2);
        assert_eq!(s.log2_dist()[0], 1);
        assert_eq!(s.max_ns(), u64::MAX);
        assert_eq!(s.histogram().len(), 2);
        assert!(s.percentile_us(1.0) >= 59_000_000.0);
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        let mut s = LatencyStats::new();
        for us in 1..=1000 {
            s.record(us * 1000);
        }
        let p50 = s.percentile_us(0.5);
        let p99 = s.percentile_us(0.99);
        assert!((p50 - 500.0).abs() <= 0.5, "{p50}");
        assert!((p99 - 990.0).abs() <= 1.0, "{p99}");
        assert_eq!(s.percentile_us(2.0), s.percentile_us(1.0));
    }

    #[test]
    fn misses_are_not_events() {
        let mut s = LatencyStats::new();
        s.record(10_000);
        s.record_miss(7);
        assert_eq!((s.count(), s.misses()), (1, 7));
    }

    #[test]
    fn recycle_empties_everything_but_keeps_the_histogram() {
        let mut s = LatencyStats::new();
        s.record(12_345);
        s.record_miss(1);
        s.recycle();
        assert!(s.hdr.as_ref().is_some_and(Histogram::is_empty));
        assert_eq!((s.count(), s.misses(), s.max_ns()), (0, 0, 0));
        assert_eq!(s.log2_dist(), LatencyStats::new().log2_dist());
        // What it reports is what a fresh accumulator reports.
        let mut merged = LatencyStats::new();
        merged.merge(&s);
        assert_eq!(merged, LatencyStats::new());
        s.record(5_000);
        assert_eq!(s.histogram().len(), 1);
    }

    #[test]
    fn reset_empties_everything() {
        let mut s = LatencyStats::new();
        s.record(12_345);
        s.record_miss(1);
        s.reset();
        assert_eq!(s, LatencyStats::new());
    }
}
