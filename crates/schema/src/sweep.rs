//! The scaling sweep file `shardslap sweep` writes: one step per core
//! count, each with its throughput and client CPU cost, and how well both
//! scale relative to the first step.
//!
//! Layout (`schema_version` 1): `{kind: "sweep", schema_version, config,
//! steps: [step...]}`, each step as [`SweepStep`] serializes. Like run
//! files, every object keeps fields it does not know in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Extra;

/// The top-level `kind` of a sweep file.
pub const SWEEP_KIND: &str = "sweep";

/// A sweep result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    /// Always [`SWEEP_KIND`].
    pub kind: String,
    /// Layout version; 1.
    pub schema_version: u32,
    /// The sweep's settings (layout owned by the CLI).
    pub config: Value,
    /// One step per core count, in the order they ran; the first is the
    /// baseline of every efficiency.
    pub steps: Vec<SweepStep>,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `schema_version` of sweep files: 1 (they hold no histograms, so the run results'
/// move to 2 left them as they were).
pub const SWEEP_SCHEMA_VERSION: u32 = 1;

impl SweepFile {
    /// An empty sweep with `config`.
    #[must_use]
    pub fn new(config: Value) -> Self {
        Self {
            kind: SWEEP_KIND.to_owned(),
            schema_version: SWEEP_SCHEMA_VERSION,
            config,
            steps: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Appends the step measured as `m`, its efficiencies relative to the
    /// first step (or 1, if it is the first), and returns it.
    pub fn push(&mut self, m: SweepMeasurement) -> &SweepStep {
        let step = SweepStep::compute(m, self.steps.first());
        let index = self.steps.len();
        self.steps.push(step);
        &self.steps[index]
    }
}

/// What one sweep step measured: the inputs of [`SweepStep::compute`].
#[derive(Debug, Clone, PartialEq)]
pub struct SweepMeasurement {
    /// OS CPU ids the step's shards ran on.
    pub cores: Vec<usize>,
    /// Shards in the step.
    pub shards: usize,
    /// Concurrencies (connections) in the step.
    pub concurrency: usize,
    /// Measured run time, seconds.
    pub duration_s: f64,
    /// Completed requests (latency events).
    pub ops: u64,
    /// CPU time the client process used during the step (user + system),
    /// seconds.
    pub client_cpu_s: f64,
}

/// One step of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepStep {
    /// OS CPU ids the step's shards ran on.
    pub cores: Vec<usize>,
    /// Shards in the step.
    pub shards: usize,
    /// Concurrencies in the step.
    pub concurrency: usize,
    /// Measured run time, seconds.
    pub duration_s: f64,
    /// Completed requests.
    pub ops: u64,
    /// `ops / duration_s`.
    pub ops_per_s: f64,
    /// Client CPU time, seconds.
    pub client_cpu_s: f64,
    /// `ops / client_cpu_s`: requests per CPU-second.
    pub ops_per_cpu_s: f64,
    /// `ops_per_s / (k × first step's ops_per_s)` with `k` = this step's
    /// core count / the first step's: 1 is linear scaling.
    pub throughput_efficiency: f64,
    /// `ops_per_cpu_s / first step's ops_per_cpu_s`: 1 means each request
    /// costs as much CPU as in the first step.
    pub cpu_efficiency: f64,
    /// Fields this build does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SweepStep {
    /// The step for `m`, with both efficiencies relative to `first` (the
    /// sweep's first step), or relative to itself (so 1) when `first` is
    /// `None`. A ratio with a zero denominator is 0, like every empty
    /// statistic in the result files.
    #[must_use]
    pub fn compute(m: SweepMeasurement, first: Option<&SweepStep>) -> Self {
        let ops_per_s = ratio(m.ops as f64, m.duration_s);
        let ops_per_cpu_s = ratio(m.ops as f64, m.client_cpu_s);
        let (throughput_efficiency, cpu_efficiency) = match first {
            Some(first) => {
                let k = ratio(m.cores.len() as f64, first.cores.len() as f64);
                (
                    ratio(ops_per_s, k * first.ops_per_s),
                    ratio(ops_per_cpu_s, first.ops_per_cpu_s),
                )
            }
            None => (
                ratio(ops_per_s, ops_per_s),
                ratio(ops_per_cpu_s, ops_per_cpu_s),
            ),
        };
        Self {
            cores: m.cores,
            shards: m.shards,
            concurrency: m.concurrency,
            duration_s: m.duration_s,
            ops: m.ops,
            ops_per_s,
            client_cpu_s: m.client_cpu_s,
            ops_per_cpu_s,
            throughput_efficiency,
            cpu_efficiency,
            extra: Map::new(),
        }
    }
}

/// `num / den`, or 0 when `den` is not a positive number.
fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(cores: usize, ops: u64, client_cpu_s: f64) -> SweepMeasurement {
        SweepMeasurement {
            cores: (1..=cores).collect(),
            shards: cores,
            concurrency: 4 * cores,
            duration_s: 2.0,
            ops,
            client_cpu_s,
        }
    }

    #[test]
    fn efficiencies_are_relative_to_the_first_step() {
        let mut sweep = SweepFile::new(serde_json::json!({ "servers": "a:1" }));
        let first = sweep.push(measurement(1, 200_000, 2.0)).clone();
        assert_eq!(first.ops_per_s, 100_000.0);
        assert_eq!(first.ops_per_cpu_s, 100_000.0);
        assert_eq!(
            (first.throughput_efficiency, first.cpu_efficiency),
            (1.0, 1.0)
        );

        // 4 cores, 3.2x the throughput, each request 25% dearer.
        let step = sweep.push(measurement(4, 640_000, 8.0)).clone();
        assert_eq!(step.ops_per_s, 320_000.0);
        assert!((step.throughput_efficiency - 0.8).abs() < 1e-12);
        assert!((step.cpu_efficiency - 0.8).abs() < 1e-12);
        assert_eq!(sweep.steps.len(), 2);
    }

    #[test]
    fn zero_denominators_give_zero() {
        let step = SweepStep::compute(measurement(1, 0, 0.0), None);
        assert_eq!(step.ops_per_s, 0.0);
        assert_eq!(step.ops_per_cpu_s, 0.0);
        assert_eq!(
            (step.throughput_efficiency, step.cpu_efficiency),
            (0.0, 0.0)
        );
        let next = SweepStep::compute(measurement(2, 10, 1.0), Some(&step));
        assert_eq!(
            (next.throughput_efficiency, next.cpu_efficiency),
            (0.0, 0.0)
        );
    }

    #[test]
    fn round_trips_through_json() {
        let mut sweep = SweepFile::new(serde_json::json!({ "time_s": 2 }));
        sweep.push(measurement(1, 1000, 1.5));
        sweep.push(measurement(2, 1900, 3.5));
        let value = serde_json::to_value(&sweep).unwrap();
        assert_eq!(value["kind"], "sweep");
        assert_eq!(value["schema_version"], 1);
        assert_eq!(value["steps"][1]["cores"], serde_json::json!([1, 2]));
        let back: SweepFile = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(back, sweep);
        assert_eq!(serde_json::to_value(&back).unwrap(), value);
    }
}
