//! The crate's one error type: a result file that cannot be read, parsed
//! or merged. Every message is one line and names the file (its path, or
//! the label the caller gave it).

use shardslap_schema::SchemaError;

/// Why a result file could not be loaded, or a set of them not merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The path, as given.
        file: String,
        /// The OS's reason.
        source: std::io::Error,
    },
    /// The file is not JSON (the reason names line and column).
    #[error("{file} is not JSON: {source}")]
    Json {
        /// The path, as given.
        file: String,
        /// The parser's reason, with line and column.
        source: serde_json::Error,
    },
    /// `schema_version` is missing or not one this build reads.
    #[error(
        "{file} has schema_version {found}, but this build reads only {oldest} to {supported}; \
         use the shardslap that wrote it"
    )]
    SchemaVersion {
        /// The path or label.
        file: String,
        /// What the file holds, as JSON (`missing` if absent).
        found: String,
        /// The oldest version this build reads.
        oldest: u32,
        /// The newest version this build reads (and the one it writes).
        supported: u32,
    },
    /// The file is some other kind of result (e.g. a sweep), not a run.
    #[error("{file} is a {kind} result, not a run result")]
    NotARun {
        /// The path.
        file: String,
        /// Its top-level `kind`.
        kind: String,
    },
    /// The file is not a sweep result.
    #[error("{file} is not a sweep result (its kind is {kind})")]
    NotASweep {
        /// The path.
        file: String,
        /// Its top-level `kind`, as JSON (`missing` if absent).
        kind: String,
    },
    /// The file's top-level `kind` is none this build knows.
    #[error("{file} has kind {kind}, which this build does not know (it reads runs and sweeps)")]
    UnknownKind {
        /// The path.
        file: String,
        /// Its top-level `kind`, as JSON.
        kind: String,
    },
    /// The JSON does not have the documented layout (a missing field, a
    /// string where a number belongs, ...).
    #[error("{file} is not a shardslap {what} result: {source}")]
    Layout {
        /// The path.
        file: String,
        /// `run` or `sweep`.
        what: &'static str,
        /// The deserializer's reason.
        source: serde_json::Error,
    },
    /// `merge` was given nothing.
    #[error("nothing to merge: give at least one result file")]
    NoInputs,
    /// Two files measured different workloads, so their numbers do not add.
    #[error(
        "cannot merge {other} with {first}: config.{key} differs ({first_value} vs \
         {other_value}); merge only runs of the same workload"
    )]
    WorkloadMismatch {
        /// Label of the first input.
        first: String,
        /// Label of the input that differs.
        other: String,
        /// The first differing key, as a path inside `config`.
        key: String,
        /// The first input's value there, as compact JSON (shortened).
        first_value: String,
        /// The other input's value there.
        other_value: String,
    },
    /// A value that makes the file unmergeable (a non-finite time, a
    /// `shard_ops` of the wrong length, ...).
    #[error("{file}: {at} {problem}")]
    Malformed {
        /// The label.
        file: String,
        /// Where, e.g. `timeseries[3].shard_ops`.
        at: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An `hdr` field needed for an exact merge or a plot is `null` or absent.
    #[error("{file}: {at} has no hdr histogram, so its percentiles cannot be merged exactly")]
    NoHdr {
        /// The label or path.
        file: String,
        /// Where, e.g. `totals.get.hdr`.
        at: String,
    },
    /// The config section's workload settings are not of the documented types.
    #[error("{file}: config {source}")]
    Config {
        /// The label.
        file: String,
        /// The deserializer's reason.
        source: serde_json::Error,
    },
    /// A schema value (an operation name, ...) is not one of the file format's.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}
