//! Real result files for the tests: runs built with the report crate's own
//! statistics and JSON writer from known latency samples.

use std::time::Duration;

use serde_json::{json, Value};
use shardslap_report::test_support::sample_info;
use shardslap_report::{result_file, OpStats, OpSummary, Report, RunInfo, ShardStats, TimePoint};

use shardslap_schema::ResultFile;

/// One request: GET (with its missed keys) or SET, and its latency.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sample {
    Get { latency_ns: u64, misses: u64 },
    Set { latency_ns: u64 },
}

impl Sample {
    /// Records into a shard, counters included.
    pub(crate) fn record(self, shard: &mut ShardStats) {
        match self {
            Sample::Get { latency_ns, misses } => {
                shard.ops.record_get(latency_ns, misses);
                shard.counters.cmd_get += 1;
                shard.counters.get_misses += misses;
                shard.counters.read_bytes += 1100;
            }
            Sample::Set { latency_ns } => {
                shard.ops.record_set(latency_ns);
                shard.counters.cmd_set += 1;
                shard.counters.object_bytes += 1088;
            }
        }
        shard.counters.written_bytes += 80;
    }

    /// Records into bare accumulators (the reference "one client" view).
    pub(crate) fn record_ops(self, ops: &mut OpStats) {
        match self {
            Sample::Get { latency_ns, misses } => ops.record_get(latency_ns, misses),
            Sample::Set { latency_ns } => ops.record_set(latency_ns),
        }
    }
}

/// `count` samples from `seed`: 90% GETs, latencies spread log-uniformly
/// from ~5 µs to ~50 ms with nanosecond detail (or whole µs if
/// `whole_us`), a miss every so often.
pub(crate) fn samples(seed: u64, count: usize, whole_us: bool) -> Vec<Sample> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    (0..count)
        .map(|_| {
            let r = next();
            let exponent = (r % 10_000) as f64 / 10_000.0 * 4.0; // 10^0..10^4
            let mut latency_ns = (5_000.0 * 10f64.powf(exponent)) as u64 + (r >> 40) % 1000;
            if whole_us {
                latency_ns -= latency_ns % 1000;
            }
            if (r >> 20) % 10 == 0 {
                Sample::Set { latency_ns }
            } else {
                Sample::Get {
                    latency_ns,
                    misses: u64::from((r >> 30) % 17 == 0),
                }
            }
        })
        .collect()
}

/// The effective config of a run; `servers` and `seed` differ per host,
/// the workload keys do not.
pub(crate) fn config(servers: &str, seed: u64) -> Value {
    json!({
        "servers": [servers],
        "seed": seed,
        "concurrency": 16,
        "workload": {
            "keys": [{ "start": 64, "end": 64, "proportion": 1.0 }],
            "values": [{ "start": 1024, "end": 1024, "proportion": 1.0 }],
            "set_proportion": 0.1,
            "get_proportion": 0.9,
        },
        "window_len": 10240,
        "fixed_value_len": null,
        "verify": 0.0,
        "multi_get_keys": 1,
        "stat_freq_secs": 1.0,
        "exp_verify": 0.0,
        "overwrite": 0.0,
        "udp": false,
        "facebook": false,
        "binary": false,
        "pipeline": 1,
        "rep_write": 0,
        "json": "-",
    })
}

/// A run on `host`: shard `i` pinned to `cpus[i]` records the samples
/// `i, i + n, i + 2n, ...` of `samples`.
pub(crate) fn report(
    host: &str,
    config: Value,
    cpus: &[usize],
    samples: &[Sample],
    duration: Duration,
    started_at_unix_s: f64,
) -> Report {
    let mut shards: Vec<ShardStats> = cpus
        .iter()
        .enumerate()
        .map(|(shard, &cpu)| ShardStats::new(shard, cpu))
        .collect();
    for (i, sample) in samples.iter().enumerate() {
        sample.record(&mut shards[i % cpus.len()]);
    }
    let info = RunInfo {
        servers: "bench".into(),
        threads: cpus.len(),
        concurrency: 16,
        run_time_s: Some(duration.as_secs()),
        config,
        cores: cpus.to_vec(),
        host: host.into(),
        ..sample_info()
    };
    Report::from_shards(info, shards, duration, started_at_unix_s)
}

/// A time-series point for `t_s` whose shard `i` completed `per_shard[i]`.
pub(crate) fn point(t_s: f64, per_shard: &[&[Sample]]) -> TimePoint {
    let mut period = OpStats::default();
    let mut shard_ops = Vec::new();
    for samples in per_shard {
        let mut shard = OpStats::default();
        for s in *samples {
            s.record_ops(&mut shard);
        }
        shard_ops.push(shard.total_count());
        period.merge(&shard);
    }
    TimePoint {
        t_s,
        ops: OpSummary::from(&period),
        shard_ops,
    }
}

/// The report as its JSON file would parse: written to text and read back.
pub(crate) fn parse(report: &Report) -> ResultFile {
    let text = serde_json::to_string(&result_file(report)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `|a − b| ≤ rel · max(|a|, |b|)`.
pub(crate) fn assert_close(a: f64, b: f64, rel: f64, what: &str) {
    let scale = a.abs().max(b.abs());
    assert!(
        (a - b).abs() <= rel * scale,
        "{what}: {a} vs {b} (relative error {})",
        (a - b).abs() / scale
    );
}
