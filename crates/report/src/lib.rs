//! shardslap-report: statistics and rendering.
//!
//! Owns the per-shard statistics ([`ShardStats`]: memaslap's latency
//! accumulators plus an HdrHistogram, and plain counters), which merge by
//! value in any order, and every output: memaslap's text layout byte for
//! byte ([`text`]), a percentile table, and a versioned JSON document
//! ([`json`]). Pure: it returns strings and values and does no I/O.
//!
//! Data flow: shards fill [`ShardStats`] → [`merge_all`] → [`Report`] →
//! [`render_final`] / [`render_json`].

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod error;
pub mod json;
pub mod latency;
pub mod report;
pub mod run_info;
pub mod stats;
pub mod text;

pub use error::ReportError;
pub use json::{
    decode_hdr, encode_hdr, is_partial_tail, render_json, render_point, SCHEMA_VERSION,
};
pub use latency::{
    add_histogram, empty_histogram, hdr_percentile_us, log2_bucket, LatencyStats, Percentile,
    LOG2_BUCKETS, PERCENTILES,
};
pub use report::{
    LatencySummary, OpSummary, Report, TimePoint, Warmup, DEFAULT_PERIOD, PERIOD_HDR_SIGFIG,
};
pub use run_info::RunInfo;
pub use stats::{merge_all, Counters, OpStats, ShardStats};
pub use text::{render_banner, render_final, render_period, FinalLayout, PeriodTables};

/// Fixtures for tests here and in the crates downstream (feature `test-support`).
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
