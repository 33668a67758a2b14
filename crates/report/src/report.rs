//! The finished run: settings, merged and per-shard statistics, timing and
//! the per-period time series.
//!
//! Stage: built by the caller after every shard has returned, then handed
//! to `text::render_final` and `result_file::result_file`.

use std::time::Duration;

use hdrhistogram::Histogram;
use shardslap_schema::CompactHistogram;

use crate::latency::{add_histogram, empty_histogram, LatencyStats};
use crate::run_info::RunInfo;
use crate::stats::{merge_all, OpStats, ShardStats};

/// Everything the final outputs show.
#[derive(Debug, Clone)]
pub struct Report {
    /// The run's settings.
    pub info: RunInfo,
    /// All shards merged (see [`merge_all`]).
    pub totals: ShardStats,
    /// Each shard's own statistics, in shard order.
    pub shards: Vec<ShardStats>,
    /// Measured run time, warm-up excluded.
    pub duration: Duration,
    /// Wall-clock start of the measured run, in Unix seconds.
    pub started_at_unix_s: f64,
    /// The warm-up phase, if one ran.
    pub warmup: Option<Warmup>,
    /// One point per reporting period, in time order.
    pub timeseries: Vec<TimePoint>,
    /// Why the run ended early (e.g. `interrupted by SIGINT`), if it did.
    pub interrupted: Option<String>,
}

impl Report {
    /// A report whose `totals` are `shards` merged, with no warm-up, time
    /// series or interruption.
    #[must_use]
    pub fn from_shards(
        info: RunInfo,
        shards: Vec<ShardStats>,
        duration: Duration,
        started_at_unix_s: f64,
    ) -> Self {
        Self {
            info,
            totals: merge_all(&shards),
            shards,
            duration,
            started_at_unix_s,
            warmup: None,
            timeseries: Vec::new(),
            interrupted: None,
        }
    }
}

/// The warm-up phase (SETs that fill the windows before a get-only run).
/// Its SETs are not in the latency statistics or the run time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warmup {
    /// SETs issued.
    pub sets: u64,
    /// How long it took.
    pub duration: Duration,
}

/// One reporting period of the time series.
#[derive(Debug, Clone, PartialEq)]
pub struct TimePoint {
    /// End of the period, in seconds since the measured run started. The
    /// period's length is the gap to the previous point (or to 0).
    pub t_s: f64,
    /// The period's operations, summarised: a few numbers and the period's
    /// histogram at two digits (so runs from several hosts merge exactly, period by period).
    pub ops: OpSummary,
    /// Requests each shard completed in the period, in shard order.
    pub shard_ops: Vec<u64>,
}

/// Summary of one period's [`OpStats`] delta.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpSummary {
    /// GET requests.
    pub get: LatencySummary,
    /// SET requests.
    pub set: LatencySummary,
    /// All requests.
    pub total: LatencySummary,
}

impl From<&OpStats> for OpSummary {
    /// Only `total` keeps its period histogram: it is what merged plots over
    /// time use, and one histogram per point keeps a long run's time series
    /// to about a kilobyte a period.
    fn from(ops: &OpStats) -> Self {
        Self {
            get: LatencySummary::numbers(&ops.get),
            set: LatencySummary::numbers(&ops.set),
            total: LatencySummary::from(&ops.total()),
        }
    }
}

/// The length of a time-series period when `-S` does not set one. The engine cuts periods
/// with it; a result without `stat_freq_secs` was measured with it.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(1);

/// Significant digits of a time-series point's histogram: merged period
/// percentiles are within 1%, which a plot over time cannot show, and the
/// encoding is a fraction of a full-precision one (whose totals keep 3).
pub const PERIOD_HDR_SIGFIG: u8 = 2;

/// `hist` re-recorded at [`PERIOD_HDR_SIGFIG`] digits.
fn coarse_histogram(hist: &Histogram<u64>) -> Histogram<u64> {
    let mut coarse = empty_histogram(PERIOD_HDR_SIGFIG);
    add_histogram(&mut coarse, hist);
    coarse
}

/// What a time-series point keeps per operation type: a few numbers and
/// the period's histogram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencySummary {
    /// Latency events.
    pub ops: u64,
    /// Missed keys.
    pub misses: u64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile latency, µs.
    pub p99_us: f64,
    /// 99.9th percentile latency, µs.
    pub p999_us: f64,
    /// Largest latency, µs.
    pub max_us: f64,
    /// The period's HdrHistogram at [`PERIOD_HDR_SIGFIG`] significant
    /// digits, for `total` only (`None` for get and set, or if it cannot be serialized). It
    /// lets runs from several hosts merge period by period. Kept compressed: a few hundred
    /// bytes, where the histogram itself is a 30 KiB counts array (an hour of one-second
    /// points would hold 110 MB).
    pub hdr: Option<CompactHistogram>,
}

impl LatencySummary {
    /// The numbers of `s`, without its histogram.
    fn numbers(s: &LatencyStats) -> Self {
        Self {
            ops: s.count(),
            misses: s.misses(),
            p50_us: s.percentile_us(0.5),
            p99_us: s.percentile_us(0.99),
            p999_us: s.percentile_us(0.999),
            max_us: s.max_ns() as f64 / 1000.0,
            hdr: None,
        }
    }
}

impl From<&LatencyStats> for LatencySummary {
    fn from(s: &LatencyStats) -> Self {
        Self {
            hdr: CompactHistogram::encode(&coarse_histogram(s.histogram())).ok(),
            ..Self::numbers(s)
        }
    }
}
