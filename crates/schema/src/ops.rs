//! An ops object (`totals`, a shard's `totals`, `service`): GET, SET and both, each with its
//! counts, latency statistics, log2 histogram and HdrHistogram.

use std::fmt;
use std::str::FromStr;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::SchemaError;
use crate::Extra;

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
    pub fn op(&self, op: OpName) -> &OpEntry {
        match op {
            OpName::Get => &self.get,
            OpName::Set => &self.set,
            OpName::Total => &self.total,
        }
    }

    /// The entry for `op`, mutably.
    pub fn op_mut(&mut self, op: OpName) -> &mut OpEntry {
        match op {
            OpName::Get => &mut self.get,
            OpName::Set => &mut self.set,
            OpName::Total => &mut self.total,
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
    /// The nanosecond HdrHistogram; in the file V2 compressed + base64 (`null` only if it
    /// could not be serialized).
    #[serde(with = "crate::hdr::optional")]
    pub hdr: Option<Histogram<u64>>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
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

/// An operation name: the keys of an ops object and of a time-series point (`get`, `set`,
/// `total`). Not the workload's choice of request (`shardslap_workload::OpKind`), which has
/// no `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpName {
    /// `get`.
    Get,
    /// `set`.
    Set,
    /// `total`.
    Total,
}

impl OpName {
    /// All three, in the order the outputs list them.
    pub const ALL: [OpName; 3] = [OpName::Get, OpName::Set, OpName::Total];

    /// The JSON key: `get`, `set` or `total`.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            OpName::Get => "get",
            OpName::Set => "set",
            OpName::Total => "total",
        }
    }
}

impl fmt::Display for OpName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for OpName {
    type Err = SchemaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpName::ALL
            .into_iter()
            .find(|op| op.key() == s)
            .ok_or_else(|| SchemaError::UnknownOp { op: s.to_owned() })
    }
}

/// `count / secs`, or 0 when `secs` is not positive: every `tps` in a file.
#[must_use]
pub fn per_sec(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_name_parses_its_keys() {
        for op in OpName::ALL {
            assert_eq!(op.key().parse::<OpName>().unwrap(), op);
        }
        let err = "delete".parse::<OpName>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown operation \"delete\": use get, set or total"
        );
    }
}
