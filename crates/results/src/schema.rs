//! Typed mirror of a run result file (`schema_version` 1, `docs/json.md`).
//!
//! Every object keeps the fields it does not know in `extra`, so a file
//! written by a newer shardslap (fields may be added within version 1)
//! deserializes and serializes back without loss. Counters are a map, so
//! counters added later are carried (and summed by `merge`) too.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shardslap_report::decode_hdr;

use crate::error::ResultsError;

/// Fields an object holds beyond the ones this build knows, kept verbatim.
pub type Extra = Map<String, Value>;

/// A counters object: counter name → count (`docs/json.md`, counters).
pub type Counters = BTreeMap<String, u64>;

/// One run's result file, or several runs merged by [`crate::merge()`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultFile {
    /// Layout version: 2 (1 is read too).
    pub schema_version: u32,
    /// The effective settings. Its layout belongs to the CLI; `merge`
    /// compares a few of its keys and keeps the first input's.
    pub config: Value,
    /// Timing and placement.
    pub run: RunSection,
    /// All shards merged.
    pub totals: OpsObject,
    /// All shards' counters summed.
    pub counters: Counters,
    /// One entry per shard, in shard order.
    pub shards: Vec<ShardEntry>,
    /// One point per reporting period, in time order. Empty in the file when the series was
    /// streamed (`timeseries_file`); [`crate::load()`] reads it in from there.
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

/// An ops object: GET, SET and both together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpsObject {
    /// GET requests.
    pub get: OpEntry,
    /// SET requests.
    pub set: OpEntry,
    /// Every request.
    pub total: OpEntry,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl OpsObject {
    /// The entry for `op`.
    #[must_use]
    pub fn op(&self, op: OpKind) -> &OpEntry {
        match op {
            OpKind::Get => &self.get,
            OpKind::Set => &self.set,
            OpKind::Total => &self.total,
        }
    }

    /// The entry for `op`, mutably.
    pub fn op_mut(&mut self, op: OpKind) -> &mut OpEntry {
        match op {
            OpKind::Get => &mut self.get,
            OpKind::Set => &mut self.set,
            OpKind::Total => &mut self.total,
        }
    }
}

/// One operation type's statistics over a whole run (or shard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpEntry {
    /// Latency events (completed requests).
    pub ops: u64,
    /// `ops / run.duration_s`.
    pub tps: f64,
    /// Keys not returned.
    pub misses: u64,
    /// Latency statistics, µs.
    pub latency_us: LatencyUs,
    /// memaslap's log2 histogram (65 buckets).
    pub log2_dist: Vec<u64>,
    /// The nanosecond HdrHistogram, V2 + base64 (`null` only if it could
    /// not be serialized).
    pub hdr: Option<String>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl OpEntry {
    /// The decoded `hdr` histogram (nanoseconds).
    ///
    /// # Errors
    ///
    /// [`ResultsError::NoHdr`] if the field is `null`, [`ResultsError::Hdr`]
    /// if it does not decode; `file` and `at` name it in the message.
    pub fn histogram(&self, file: &str, at: &str) -> Result<Histogram<u64>, ResultsError> {
        decode_field(self.hdr.as_deref(), file, at)
    }
}

/// The `latency_us` object; every value in µs, 0 when there were no events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyUs {
    /// Smallest latency (exact).
    pub min: f64,
    /// Largest latency (exact).
    pub max: f64,
    /// Mean latency (exact).
    pub mean: f64,
    /// Sample standard deviation over whole-µs latencies.
    pub stddev: f64,
    /// memaslap's geometric mean over whole-µs latencies.
    pub geo_mean: f64,
    /// Median, from the HdrHistogram.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// 99.99th percentile.
    pub p9999: f64,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl LatencyUs {
    /// Sets the percentile whose JSON key is `key` (`p50`, `p999`, ...);
    /// a key without a field of its own goes into `extra`.
    pub fn set_percentile(&mut self, key: &str, value_us: f64) {
        let field = match key {
            "p50" => &mut self.p50,
            "p90" => &mut self.p90,
            "p99" => &mut self.p99,
            "p999" => &mut self.p999,
            "p9999" => &mut self.p9999,
            _ => {
                self.extra.insert(key.to_owned(), Value::from(value_us));
                return;
            }
        };
        *field = value_us;
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
    pub counters: Counters,
    /// Index into the file's `sources` (merged files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<usize>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

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
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TimePointEntry {
    /// The entry for `op`.
    #[must_use]
    pub fn op(&self, op: OpKind) -> &PointOp {
        match op {
            OpKind::Get => &self.get,
            OpKind::Set => &self.set,
            OpKind::Total => &self.total,
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
    /// The period's histogram, encoded like [`OpEntry::hdr`]; absent in
    /// files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr: Option<String>,
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

/// An operation type: the keys of an ops object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `get`.
    Get,
    /// `set`.
    Set,
    /// `total`.
    Total,
}

impl OpKind {
    /// All three, in the order the outputs list them.
    pub const ALL: [OpKind; 3] = [OpKind::Get, OpKind::Set, OpKind::Total];

    /// The JSON key: `get`, `set` or `total`.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            OpKind::Get => "get",
            OpKind::Set => "set",
            OpKind::Total => "total",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for OpKind {
    type Err = ResultsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpKind::ALL
            .into_iter()
            .find(|op| op.key() == s)
            .ok_or_else(|| ResultsError::UnknownOp { op: s.to_owned() })
    }
}

impl ResultFile {
    /// The run's whole-run histogram for `op` (nanoseconds), decoded from
    /// `totals.<op>.hdr`; for a latency spectrum plot, say.
    ///
    /// # Errors
    ///
    /// [`ResultsError::NoHdr`] if the field is `null`, [`ResultsError::Hdr`]
    /// if it does not decode.
    pub fn op_hdr(&self, op: OpKind) -> Result<Histogram<u64>, ResultsError> {
        let at = format!("totals.{op}.hdr");
        self.totals.op(op).histogram("result", &at)
    }

    /// The time series without a partial tail: the last point is left out when it covers
    /// less than the periods before it ([`shardslap_report::is_partial_tail`]; files written
    /// since mark it `"partial": true`), so a plot does not draw a few milliseconds of
    /// in-flight requests as a whole period.
    #[must_use]
    pub fn full_periods(&self) -> &[TimePointEntry] {
        let ends: Vec<f64> = self.timeseries.iter().map(|p| p.t_s).collect();
        let marked = self
            .timeseries
            .last()
            .is_some_and(|p| p.extra.get("partial") == Some(&serde_json::Value::Bool(true)));
        if marked || shardslap_report::is_partial_tail(&ends) {
            &self.timeseries[..self.timeseries.len() - 1]
        } else {
            &self.timeseries
        }
    }
}

/// Decodes an `hdr` field, naming `file` and `at` in any error.
pub(crate) fn decode_field(
    hdr: Option<&str>,
    file: &str,
    at: &str,
) -> Result<Histogram<u64>, ResultsError> {
    let hdr = hdr.ok_or_else(|| ResultsError::NoHdr {
        file: file.to_owned(),
        at: at.to_owned(),
    })?;
    decode_hdr(hdr).map_err(|source| ResultsError::Hdr {
        file: file.to_owned(),
        at: at.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use shardslap_report::{render_json, Warmup};

    use super::*;
    use crate::test_support::{config, point, report, samples};

    fn full_report() -> shardslap_report::Report {
        let s = samples(11, 2_000, false);
        let mut r = report(
            "bench-1",
            config("a:1", 3),
            &[2, 3],
            &s,
            Duration::from_millis(2_500),
            1.7e9,
        );
        r.warmup = Some(Warmup {
            sets: 10,
            duration: Duration::from_millis(5),
        });
        r.interrupted = Some("interrupted by SIGINT".into());
        r.timeseries = vec![
            point(1.0, &[&s[..400], &s[400..800]]),
            point(2.0, &[&s[800..1200], &s[1200..1600]]),
            point(2.5, &[&s[1600..1800], &s[1800..]]),
        ];
        r
    }

    #[test]
    fn render_json_round_trips_without_loss() {
        let original = render_json(&full_report());
        let file: ResultFile = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(serde_json::to_value(&file).unwrap(), original);
        // Through text too, as files are read.
        let text = serde_json::to_string_pretty(&original).unwrap();
        let file: ResultFile = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_value(&file).unwrap(), original);
        assert_eq!(file.run.host.as_deref(), Some("bench-1"));
        assert!(file.timeseries[0].total.hdr.is_some());
        assert!(file.timeseries[0].get.hdr.is_none());
    }

    #[test]
    fn unknown_fields_are_kept() {
        let mut v = render_json(&full_report());
        v["future_top"] = serde_json::json!({ "x": [1, 2] });
        v["run"]["future_run"] = "yes".into();
        v["totals"]["get"]["latency_us"]["p99999"] = 123.5.into();
        v["shards"][1]["future_shard"] = 7.into();
        v["timeseries"][0]["total"]["p90_us"] = 1.5.into();
        v["counters"]["future_counter"] = 3.into();
        let file: ResultFile = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(file.extra["future_top"]["x"][1], 2);
        assert_eq!(file.totals.get.latency_us.extra["p99999"], 123.5);
        assert_eq!(file.counters["future_counter"], 3);
        assert_eq!(serde_json::to_value(&file).unwrap(), v);
    }

    #[test]
    fn older_files_without_host_or_point_hdr_parse() {
        let mut v = render_json(&full_report());
        v["run"].as_object_mut().unwrap().remove("host");
        for p in v["timeseries"].as_array_mut().unwrap() {
            for op in ["get", "set", "total"] {
                p[op].as_object_mut().unwrap().remove("hdr");
            }
        }
        let file: ResultFile = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(file.run.host, None);
        assert_eq!(file.timeseries[1].set.hdr, None);
        assert_eq!(serde_json::to_value(&file).unwrap(), v);
    }

    #[test]
    fn op_hdr_decodes_the_totals_histogram() {
        let r = full_report();
        let file: ResultFile = serde_json::from_value(render_json(&r)).unwrap();
        for (op, stats) in [
            (OpKind::Get, &r.totals.ops.get),
            (OpKind::Set, &r.totals.ops.set),
            (OpKind::Total, &r.totals.ops.total),
        ] {
            assert_eq!(&file.op_hdr(op).unwrap(), stats.histogram(), "{op}");
        }
        let mut file = file;
        file.totals.set.hdr = None;
        let err = file.op_hdr(OpKind::Set).unwrap_err().to_string();
        assert!(err.contains("totals.set.hdr has no hdr histogram"), "{err}");
        file.totals.get.hdr = Some("garbage!".into());
        assert!(matches!(
            file.op_hdr(OpKind::Get),
            Err(ResultsError::Hdr { .. })
        ));
    }

    #[test]
    fn op_kind_parses_its_keys() {
        for op in OpKind::ALL {
            assert_eq!(op.key().parse::<OpKind>().unwrap(), op);
        }
        let err = "delete".parse::<OpKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown operation \"delete\": use get, set or total"
        );
    }
}
