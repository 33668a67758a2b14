//! The run's result file: the [`Report`] as a [`ResultFile`] of the schema
//! (`shardslap-schema`, `docs/json.md`), which serde writes. The one writer of run files;
//! the readers (`merge`, `plot`) parse the same struct.
//!
//! Stage: rendering, after the run; histograms are handed over as they are (the schema
//! encodes them as it serializes).

use shardslap_schema::{
    per_sec, CounterMap, Extra, LatencyUs, OpEntry, OpsObject, PointOp, RateSection, ResultFile,
    RunSection, ShardEntry, TimePointEntry, WarmupSection, SCHEMA_VERSION,
};

use crate::latency::{LatencyStats, PERCENTILES};
use crate::report::{LatencySummary, Report, TimePoint};
use crate::stats::{Counters, OpStats, ShardStats};
use crate::text::{hit_ratio, RateCheck};

impl From<&Report> for ResultFile {
    fn from(report: &Report) -> Self {
        result_file(report)
    }
}

/// The report as its result file.
#[must_use]
pub fn result_file(report: &Report) -> ResultFile {
    let secs = report.duration.as_secs_f64();
    ResultFile {
        schema_version: SCHEMA_VERSION,
        config: report.info.config.clone(),
        run: RunSection {
            duration_s: secs,
            started_at: report.started_at_unix_s,
            cores: report.info.cores.clone(),
            host: Some(report.info.host.clone()),
            data_path: Some(report.info.data_path.clone()),
            hit_ratio: Some(hit_ratio(&report.totals.counters)),
            shards: report.shards.len(),
            interrupted: report.interrupted.clone(),
            warmup: report.warmup.map(|w| WarmupSection {
                sets: w.sets,
                duration_s: w.duration.as_secs_f64(),
                extra: Extra::new(),
            }),
            extra: Extra::new(),
        },
        totals: ops_object(&report.totals.ops, secs),
        service: (report.totals.service.total_count() > 0)
            .then(|| ops_object(&report.totals.service, secs)),
        rate: RateCheck::of(report)
            .map(|rate| RateSection::of(rate.requested_per_sec, rate.achieved_per_sec)),
        counters: counter_map(&report.totals.counters),
        shards: report.shards.iter().map(|s| shard_entry(s, secs)).collect(),
        timeseries: timeseries(&report.timeseries),
        timeseries_file: None,
        sources: None,
        extra: Extra::new(),
    }
}

/// The counters as the file's map, every counter by its field name.
#[must_use]
pub fn counter_map(counters: &Counters) -> CounterMap {
    counters
        .named()
        .into_iter()
        .map(|(name, count)| (name.to_owned(), count))
        .collect()
}

fn shard_entry(s: &ShardStats, secs: f64) -> ShardEntry {
    ShardEntry {
        shard: s.shard,
        cpu: s.cpu,
        totals: ops_object(&s.ops, secs),
        counters: counter_map(&s.counters),
        source: None,
        extra: Extra::new(),
    }
}

fn ops_object(ops: &OpStats, secs: f64) -> OpsObject {
    OpsObject {
        get: op_entry(&ops.get, secs),
        set: op_entry(&ops.set, secs),
        total: op_entry(&ops.total(), secs),
        extra: Extra::new(),
    }
}

fn op_entry(s: &LatencyStats, secs: f64) -> OpEntry {
    let mut latency_us = LatencyUs {
        min: s.min_ns() as f64 / 1000.0,
        max: s.max_ns() as f64 / 1000.0,
        mean: s.mean_us_f64(),
        stddev: s.stddev_us_f64(),
        geo_mean: s.geo_mean_us(),
        ..LatencyUs::default()
    };
    for p in &PERCENTILES {
        latency_us.set_percentile(p.key, s.percentile_us(p.quantile));
    }
    OpEntry {
        ops: s.count(),
        tps: per_sec(s.count(), secs),
        misses: s.misses(),
        latency_us,
        log2_dist: s.log2_dist().to_vec(),
        hdr: Some(s.histogram().clone()),
        extra: Extra::new(),
    }
}

fn timeseries(points: &[TimePoint]) -> Vec<TimePointEntry> {
    let ends: Vec<f64> = points.iter().map(|p| p.t_s).collect();
    let partial_tail = shardslap_schema::is_partial_tail(&ends);
    let mut prev_t_s = 0.0;
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let entry = time_point_entry(p, prev_t_s, partial_tail && i + 1 == points.len());
            prev_t_s = p.t_s;
            entry
        })
        .collect()
}

/// One time-series point as the file's `timeseries` holds it: `prev_t_s` is the previous
/// point's `t_s` (0 for the first), which the rates divide the period by; `partial` marks a
/// short last point ([`shardslap_schema::is_partial_tail`]). What [`result_file`] embeds,
/// and what a streamed time series (`--timeseries`) writes one per line.
#[must_use]
pub fn time_point_entry(point: &TimePoint, prev_t_s: f64, partial: bool) -> TimePointEntry {
    let period_s = point.t_s - prev_t_s;
    TimePointEntry {
        t_s: point.t_s,
        get: point_op(&point.ops.get, period_s),
        set: point_op(&point.ops.set, period_s),
        total: point_op(&point.ops.total, period_s),
        shard_ops: point.shard_ops.clone(),
        partial,
        extra: Extra::new(),
    }
}

fn point_op(s: &LatencySummary, period_s: f64) -> PointOp {
    PointOp {
        ops: s.ops,
        tps: per_sec(s.ops, period_s),
        misses: s.misses,
        p50_us: s.p50_us,
        p99_us: s.p99_us,
        p999_us: s.p999_us,
        max_us: s.max_us,
        hdr: s.hdr.clone(),
        extra: Extra::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{json, Value};
    use shardslap_schema::{decode_hdr, is_partial_tail};

    use super::*;
    use crate::report::{OpSummary, Warmup, PERIOD_HDR_SIGFIG};
    use crate::stats::ShardStats;
    use crate::test_support::report;

    /// The report as the JSON its result file serializes to.
    fn file_json(report: &Report) -> Value {
        serde_json::to_value(result_file(report)).unwrap()
    }

    fn two_shard_report() -> Report {
        let mut a = ShardStats::new(0, 2);
        let mut b = ShardStats::new(1, 3);
        for us in 1..=900 {
            a.ops.record_get(us * 1000, u64::from(us % 100 == 0));
        }
        for us in 1..=100 {
            b.ops.record_set(us * 7_000);
        }
        a.counters.cmd_get = 900;
        a.counters.get_misses = 9;
        b.counters.cmd_set = 100;
        let mut r = report(vec![a, b], Duration::from_secs(2));
        r.warmup = Some(Warmup {
            sets: 10,
            duration: Duration::from_millis(500),
        });
        let mut period = OpStats::default();
        period.record_get(2_000, 1);
        period.record_set(4_000);
        r.timeseries = vec![
            TimePoint {
                t_s: 1.0,
                ops: OpSummary::from(&period),
                shard_ops: vec![1, 1],
            },
            TimePoint {
                t_s: 1.5,
                ops: OpSummary::from(&period),
                shard_ops: vec![2, 0],
            },
        ];
        r
    }

    #[test]
    fn a_short_last_point_is_marked_partial() {
        let v = file_json(&two_shard_report());
        let ts = v["timeseries"].as_array().unwrap();
        assert!(ts[0].get("partial").is_none());
        assert_eq!(ts[1]["partial"], true, "0.5 s after 1 s periods");
        assert!(!is_partial_tail(&[1.0, 2.0, 3.0]));
        assert!(is_partial_tail(&[1.0, 2.0, 2.0019]));
        assert!(!is_partial_tail(&[0.4]), "a lone point is the whole run");
        assert!(!is_partial_tail(&[]));
    }

    #[test]
    fn required_keys_present() {
        let v = file_json(&two_shard_report());
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["config"]["servers"], "127.0.0.1:22122");
        let run = &v["run"];
        assert_eq!(run["duration_s"], 2.0);
        assert_eq!(run["started_at"], 1_700_000_000.5);
        assert_eq!(run["cores"], json!([1]));
        assert_eq!(run["shards"], 2);
        assert!(run["interrupted"].is_null());
        assert_eq!(run["warmup"], json!({ "sets": 10, "duration_s": 0.5 }));

        for op in ["get", "set", "total"] {
            let t = &v["totals"][op];
            for key in ["ops", "tps", "misses", "latency_us", "log2_dist", "hdr"] {
                assert!(!t[key].is_null(), "totals.{op}.{key}");
            }
            for key in ["min", "max", "mean", "stddev", "geo_mean"] {
                assert!(
                    t["latency_us"][key].is_number(),
                    "totals.{op}.latency_us.{key}"
                );
            }
            for p in &PERCENTILES {
                assert!(
                    t["latency_us"][p.key].is_number(),
                    "totals.{op}.latency_us.{}",
                    p.key
                );
            }
            assert_eq!(t["log2_dist"].as_array().map(Vec::len), Some(65));
        }
        let get = &v["totals"]["get"];
        assert_eq!(get["ops"], 900);
        assert_eq!(get["tps"], 450.0);
        assert_eq!(get["misses"], 9);
        assert_eq!(get["latency_us"]["min"], 1.0);
        assert_eq!(get["latency_us"]["max"], 900.0);
        assert_eq!(get["latency_us"]["mean"], 450.5);
        assert_eq!(v["totals"]["total"]["ops"], 1000);

        let counters = v["counters"].as_object().unwrap();
        assert_eq!(counters.len(), 20);
        assert_eq!(counters["cmd_get"], 900);
        assert_eq!(counters["cmd_set"], 100);

        let shards = v["shards"].as_array().unwrap();
        assert_eq!(shards.len(), 2);
        assert_eq!(
            (&shards[1]["shard"], &shards[1]["cpu"]),
            (&json!(1), &json!(3))
        );
        assert_eq!(shards[1]["totals"]["set"]["ops"], 100);
        assert_eq!(shards[1]["counters"]["cmd_set"], 100);

        let ts = v["timeseries"].as_array().unwrap();
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[0]["t_s"], 1.0);
        assert_eq!(ts[0]["get"]["tps"], 1.0);
        // The second period lasted 0.5 s.
        assert_eq!(ts[1]["total"]["tps"], 4.0);
        assert_eq!(ts[1]["get"]["misses"], 1);
        assert_eq!(ts[1]["set"]["max_us"], 4.0);
        for key in [
            "ops", "tps", "misses", "p50_us", "p99_us", "p999_us", "max_us",
        ] {
            assert!(ts[0]["total"][key].is_number(), "timeseries.total.{key}");
        }
        assert_eq!(ts[1]["shard_ops"], json!([2, 0]));
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    /// The key sets of docs/json.md, exactly: adding a key is fine but must be
    /// documented there and added here.
    #[test]
    fn schema_key_sets() {
        let v = file_json(&two_shard_report());
        let sorted = |mut k: Vec<&'static str>| {
            k.sort_unstable();
            k
        };
        assert_eq!(
            keys(&v),
            sorted(vec![
                "schema_version",
                "service",
                "rate",
                "config",
                "run",
                "totals",
                "counters",
                "shards",
                "timeseries"
            ])
        );
        assert_eq!(
            keys(&v["run"]),
            sorted(vec![
                "data_path",
                "hit_ratio",
                "duration_s",
                "started_at",
                "cores",
                "host",
                "shards",
                "interrupted",
                "warmup"
            ])
        );
        assert_eq!(keys(&v["totals"]), sorted(vec!["get", "set", "total"]));
        assert_eq!(
            keys(&v["totals"]["get"]),
            sorted(vec![
                "ops",
                "tps",
                "misses",
                "latency_us",
                "log2_dist",
                "hdr"
            ])
        );
        let mut latency = vec!["min", "max", "mean", "stddev", "geo_mean"];
        latency.extend(PERCENTILES.iter().map(|p| p.key));
        assert_eq!(keys(&v["totals"]["get"]["latency_us"]), sorted(latency));
        assert_eq!(
            keys(&v["shards"][0]),
            sorted(vec!["shard", "cpu", "totals", "counters"])
        );
        assert_eq!(
            keys(&v["timeseries"][0]),
            sorted(vec!["t_s", "get", "set", "total", "shard_ops"])
        );
        let point_keys = vec![
            "ops", "tps", "misses", "p50_us", "p99_us", "p999_us", "max_us",
        ];
        for op in ["get", "set"] {
            assert_eq!(keys(&v["timeseries"][0][op]), sorted(point_keys.clone()));
        }
        let mut total_keys = point_keys;
        total_keys.push("hdr");
        assert_eq!(keys(&v["timeseries"][0]["total"]), sorted(total_keys));
        // The total's period histogram is the period's, at two digits.
        let hdr = decode_hdr(v["timeseries"][0]["total"]["hdr"].as_str().unwrap()).unwrap();
        assert_eq!(hdr.len(), 2);
        assert_eq!(hdr.sigfig(), PERIOD_HDR_SIGFIG);
    }

    #[test]
    fn interrupted_reason_is_a_string() {
        let mut r = two_shard_report();
        r.interrupted = Some("interrupted by SIGINT".into());
        let v = file_json(&r);
        assert_eq!(v["run"]["interrupted"], "interrupted by SIGINT");
    }

    #[test]
    fn hdr_round_trips() {
        let r = two_shard_report();
        let v = file_json(&r);
        let total = r.totals.ops.total();
        for (op, stats) in [
            ("get", &r.totals.ops.get),
            ("set", &r.totals.ops.set),
            ("total", &total),
        ] {
            let hist = decode_hdr(v["totals"][op]["hdr"].as_str().unwrap()).unwrap();
            let original = stats.histogram();
            assert_eq!(hist.len(), original.len(), "{op}");
            for p in &PERCENTILES {
                assert_eq!(
                    hist.value_at_quantile(p.quantile),
                    original.value_at_quantile(p.quantile),
                    "{op} {}",
                    p.key
                );
            }
            assert_eq!(&hist, original);
        }
    }

    #[test]
    fn empty_report_is_valid() {
        let r = report(vec![ShardStats::new(0, 0)], Duration::ZERO);
        let v = file_json(&r);
        assert_eq!(v["totals"]["total"]["tps"], 0.0);
        assert_eq!(v["totals"]["get"]["latency_us"]["p99"], 0.0);
        assert!(v["run"]["warmup"].is_null());
        let hist = decode_hdr(v["totals"]["get"]["hdr"].as_str().unwrap()).unwrap();
        assert_eq!(hist.len(), 0);
    }
}
