//! shardslap-report: statistics and rendering.
//!
//! Owns the per-shard statistics ([`ShardStats`]: memaslap's latency
//! accumulators plus an HdrHistogram, and plain counters), which merge by
//! value in any order, and every output: memaslap's text layout byte for
//! byte ([`text`]), a percentile table, and the run's result file
//! ([`result_file()`]: the schema's `ResultFile`, which serde writes). Pure: it returns
//! strings and values and does no I/O.
//!
//! Data flow: shards fill [`ShardStats`] → [`merge_all`] → [`Report`] →
//! [`render_final`] / [`result_file()`] → JSON.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod latency;
pub mod report;
pub mod result_file;
pub mod run_info;
pub mod stats;
pub mod text;

pub use latency::{
    add_histogram, empty_histogram, hdr_percentile_us, log2_bucket, LatencyStats, Percentile,
    LOG2_BUCKETS, PERCENTILES,
};
pub use report::{
    LatencySummary, OpSummary, Report, TimePoint, Warmup, DEFAULT_PERIOD, PERIOD_HDR_SIGFIG,
};
pub use result_file::{counter_map, result_file, time_point_entry};
pub use run_info::RunInfo;
pub use stats::{merge_all, Counters, OpStats, ShardStats};
pub use text::{render_banner, render_final, render_period, FinalLayout, PeriodTables};

/// Fixtures for tests, here and in the crates that read what the report writes (feature
/// `test-support`).
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
