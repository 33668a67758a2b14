//! A run result file (`schema_version` 2, `docs/json.md`): what `shardslap --json` writes,
//! `merge` reads and writes, and `plot` reads.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ops::{OpName, OpsObject};
use crate::timeseries::{is_partial_tail, TimePointEntry};
use crate::Extra;

/// The `schema_version` this build writes for run results (2: `hdr` fields are compressed
/// V2). It reads every version from [`OLDEST_SCHEMA_VERSION`] up to this one.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest `schema_version` this build reads: 1, whose `hdr` fields are uncompressed V2
/// (the histogram decoder reads both forms, so old files still merge).
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

/// Whether this build reads run files of `schema_version` `version`.
#[must_use]
pub fn is_readable_version(version: u32) -> bool {
    (OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&version)
}

/// `kind` of a run result. Run files written so far carry no `kind`; a
/// missing one means a run.
pub const RUN_KIND: &str = "run";

/// A counters object as the file holds it: counter name → count (`docs/json.md`, counters).
/// A map, not the report's `Counters` struct, so counters a newer build adds are carried
/// (and summed by `merge`) too.
pub type CounterMap = BTreeMap<String, u64>;

/// One run's result file, or several runs merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultFile {
    /// Layout version: 2 (1 is read too).
    pub schema_version: u32,
    /// The effective settings, as `shardslap-config` writes them; `merge` compares their
    /// workload ([`crate::WorkloadSettings`]) and keeps the first input's.
    pub config: Value,
    /// Timing and placement.
    pub run: RunSection,
    /// All shards merged.
    pub totals: OpsObject,
    /// Paced runs (`-P`, `--rate`): service time, from the moment each request reached the
    /// socket; `null` in an unpaced run (and absent in files written before it existed).
    #[serde(default)]
    pub service: Option<OpsObject>,
    /// Open loop (`--rate`): the requested rate against the achieved one; `null` otherwise.
    #[serde(default)]
    pub rate: Option<RateSection>,
    /// All shards' counters summed.
    pub counters: CounterMap,
    /// One entry per shard, in shard order.
    pub shards: Vec<ShardEntry>,
    /// One point per reporting period, in time order. Empty in the file when the series was
    /// streamed (`timeseries_file`); loading reads it in from there.
    pub timeseries: Vec<TimePointEntry>,
    /// Where the time series is when the run streamed it to a file (`--timeseries`) past the
    /// size the result embeds; `None` once loaded (the points are then in `timeseries`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeseries_file: Option<TimeseriesFile>,
    /// The runs a merged file was made of, in input order; absent in a
    /// single run's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<Source>>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResultFile {
    /// The run's whole-run histogram for `op` (nanoseconds), `None` if the file's
    /// `totals.<op>.hdr` is `null`.
    #[must_use]
    pub fn op_hdr(&self, op: OpName) -> Option<&Histogram<u64>> {
        self.totals.op(op).hdr.as_ref()
    }

    /// The time series without a partial tail: the last point is left out when it covers
    /// less than the periods before it ([`is_partial_tail`]; files written since mark it
    /// `"partial": true`), so a plot does not draw a few milliseconds of in-flight requests
    /// as a whole period.
    #[must_use]
    pub fn full_periods(&self) -> &[TimePointEntry] {
        let ends: Vec<f64> = self.timeseries.iter().map(|p| p.t_s).collect();
        let marked = self.timeseries.last().is_some_and(|p| p.partial);
        if marked || is_partial_tail(&ends) {
            &self.timeseries[..self.timeseries.len() - 1]
        } else {
            &self.timeseries
        }
    }
}

/// The `timeseries_file` object: a streamed time series the result names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeseriesFile {
    /// The JSON-lines file, relative to the result's folder unless absolute.
    pub path: String,
    /// How many points it holds.
    pub points: u64,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `run` object: timing and placement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSection {
    /// Measured run time in seconds, warm-up excluded; every `totals` and
    /// `shards` `tps` divides by it.
    pub duration_s: f64,
    /// Wall-clock start of the measured run, Unix seconds.
    pub started_at: f64,
    /// OS CPU ids the shards ran on, in shard order.
    pub cores: Vec<usize>,
    /// Host name of the machine (a merged file: the distinct hosts joined
    /// with `,`); absent in files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// How the run's bytes moved: `ring`, `glommio` or `mixed`; absent in files written
    /// before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_path: Option<String>,
    /// The share of GET keys the server returned, 1 with no GET; absent in files written
    /// before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
    /// Number of shards.
    pub shards: usize,
    /// Why the run ended early, or `None` if it ran to completion.
    pub interrupted: Option<String>,
    /// The warm-up phase, if one ran.
    pub warmup: Option<WarmupSection>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `run.warmup` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarmupSection {
    /// SETs issued during warm-up.
    pub sets: u64,
    /// How long the warm-up took, seconds.
    pub duration_s: f64,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `rate` object of an open-loop run (`--rate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateSection {
    /// `--rate`, operations per second.
    pub requested_per_sec: u64,
    /// Measured operations (warm-up excluded) over the run time.
    pub achieved_per_sec: f64,
    /// Within 1% of the request, or above it.
    pub met: bool,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl RateSection {
    /// The check of `achieved_per_sec` against `requested_per_sec`: met within 1%.
    #[must_use]
    pub fn of(requested_per_sec: u64, achieved_per_sec: f64) -> Self {
        Self {
            requested_per_sec,
            achieved_per_sec,
            met: achieved_per_sec >= requested_per_sec as f64 * 0.99,
            extra: Extra::new(),
        }
    }
}

/// One entry of the top-level `shards` array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// 0-based shard index (in a merged file: across all sources).
    pub shard: usize,
    /// OS CPU id the shard ran on (on its source's host).
    pub cpu: usize,
    /// The shard's statistics.
    pub totals: OpsObject,
    /// The shard's counters.
    pub counters: CounterMap,
    /// Index into the file's `sources` (merged files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<usize>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One run inside a merged file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The name the merge was given for it (e.g. its file name).
    pub label: String,
    /// Its `run.started_at`, Unix seconds.
    pub started_at: f64,
    /// Its `run.duration_s`.
    pub duration_s: f64,
    /// Its host name, if its file had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Its number of shards (its shards carry `source` = this entry's index).
    pub shards: usize,
    /// Its `run.cores`.
    pub cores: Vec<usize>,
    /// Its `run.interrupted`.
    pub interrupted: Option<String>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}
