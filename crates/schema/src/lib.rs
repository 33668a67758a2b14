//! shardslap-schema: the result file format (`docs/json.md`), typed.
//!
//! Owns the structs a run result ([`ResultFile`], `schema_version` 2; 1 is read too) and a
//! scaling sweep ([`SweepFile`]) serialize from and parse into: the run writes a
//! [`ResultFile`] (built from its `Report` by `shardslap-report`), `merge` reads and writes
//! them, `plot` reads them. One set of types for both directions, so the writer and the
//! readers cannot drift apart.
//!
//! Every object keeps the fields it does not know in `extra`, so a file written by a newer
//! shardslap (fields may be added within a version) parses and serializes back without loss.
//! Histograms are [`hdrhistogram::Histogram`]s in memory (a time-series point's kept
//! compressed, [`CompactHistogram`]); the `hdr` strings (compressed V2 + base64) exist only in
//! the file ([`hdr`]). Pure: no I/O.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod error;
pub mod hdr;
pub mod ops;
pub mod run;
pub mod sweep;
pub mod timeseries;
pub mod workload;

pub use error::SchemaError;
pub use hdr::{decode_hdr, encode_hdr, CompactHistogram};
pub use ops::{per_sec, LatencyUs, OpEntry, OpName, OpsObject};
pub use run::{
    is_readable_version, CounterMap, RateSection, ResultFile, RunSection, ShardEntry, Source,
    TimeseriesFile, WarmupSection, OLDEST_SCHEMA_VERSION, RUN_KIND, SCHEMA_VERSION,
};
pub use sweep::{SweepFile, SweepMeasurement, SweepStep, SWEEP_KIND, SWEEP_SCHEMA_VERSION};
pub use timeseries::{is_partial_tail, PointOp, TimePointEntry};
pub use workload::{ProtocolName, WorkloadSettings};

/// Fields an object holds beyond the ones this build knows, kept verbatim.
pub type Extra = serde_json::Map<String, serde_json::Value>;
