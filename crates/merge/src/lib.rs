//! shardslap-merge: reading result files and merging runs.
//!
//! [`load()`]s the files `shardslap-schema` describes (a run's
//! [`shardslap_schema::ResultFile`], a sweep's [`shardslap_schema::SweepFile`]) and makes
//! the exact [`merge()`] of runs made at the same time on several hosts into one result of
//! the same schema.
//!
//! Serves the CLI's `merge` and `plot` subcommands. Pure apart from
//! [`load()`], [`load_sweep`] and [`load_any`], which read one file each.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod error;
pub mod load;
pub mod merge;

pub use error::MergeError;
pub use load::{load, load_any, load_sweep, AnyResult};
pub use merge::{merge, time_gaps, TimeGap};

#[cfg(test)]
mod round_trip;
#[cfg(test)]
mod test_support;
