//! shardslap-results: reading result files and merging runs.
//!
//! Owns the typed form of a run result ([`ResultFile`], `docs/json.md`)
//! and of a scaling sweep ([`SweepFile`]), [`load()`]ing them, and the exact
//! [`merge()`] of runs made at the same time on several hosts into one
//! result of the same schema. Also the latency spectrum of a histogram
//! ([`percentile_spectrum`]) for plots.
//!
//! Serves the CLI's `merge` and `plot` subcommands. Pure apart from
//! [`load()`], [`load_sweep`] and [`load_any`], which read one file each.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod error;
pub mod load;
pub mod merge;
pub mod schema;
pub mod spectrum;
pub mod sweep;

pub use error::ResultsError;
pub use load::{
    is_readable_version, load, load_any, load_sweep, AnyResult, OLDEST_SCHEMA_VERSION, RUN_KIND,
    SUPPORTED_SCHEMA_VERSION,
};
pub use merge::{merge, time_gaps, TimeGap, WORKLOAD_KEYS};
pub use schema::{
    Counters, Extra, LatencyUs, OpEntry, OpKind, OpsObject, PointOp, ResultFile, RunSection,
    ShardEntry, Source, TimePointEntry, TimeseriesFile, WarmupSection,
};
pub use spectrum::{nines, percentile_spectrum, SpectrumPoint};
pub use sweep::{SweepFile, SweepMeasurement, SweepStep, SWEEP_KIND, SWEEP_SCHEMA_VERSION};

#[cfg(test)]
mod test_support;
