//! The machine-readable report (`schema_version` 2, documented in
//! `docs/json.md`) and the base64 compressed V2 HdrHistogram encoding inside it.
//!
//! Stage: rendering; returns a `serde_json::Value`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::error::ReportError;
use crate::latency::{LatencyStats, PERCENTILES};
use crate::report::{LatencySummary, Report, TimePoint};
use crate::stats::{OpStats, ShardStats};

/// Version of the JSON layout; bumped on any incompatible change. 2: `hdr` fields are the
/// standard compressed V2 form (1 had uncompressed V2, which [`decode_hdr`] still reads).
pub const SCHEMA_VERSION: u32 = 2;

/// The report as a JSON value (layout in `docs/json.md`).
///
/// An `hdr` field is `null` if its histogram cannot be serialized (a count
/// above `i64::MAX`, not reachable in practice); everything else always
/// renders.
#[must_use]
pub fn render_json(report: &Report) -> Value {
    let secs = report.duration.as_secs_f64();
    let shards: Vec<Value> = report.shards.iter().map(|s| shard_json(s, secs)).collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "config": report.info.config,
        "run": {
            "duration_s": secs,
            "started_at": report.started_at_unix_s,
            "cores": report.info.cores,
            "host": report.info.host,
            "data_path": report.info.data_path,
            "hit_ratio": crate::text::hit_ratio(&report.totals.counters),
            "shards": report.shards.len(),
            "interrupted": report.interrupted,
            "warmup": report.warmup.map(|w| json!({
                "sets": w.sets,
                "duration_s": w.duration.as_secs_f64(),
            })),
        },
        "totals": ops_json(&report.totals.ops, secs),
        "service": (report.totals.service.total.count() > 0)
            .then(|| ops_json(&report.totals.service, secs)),
        "rate": crate::text::RateCheck::of(report).map(|rate| json!({
            "requested_per_sec": rate.requested_per_sec,
            "achieved_per_sec": rate.achieved_per_sec,
            "met": rate.met,
        })),
        "counters": report.totals.counters,
        "shards": shards,
        "timeseries": timeseries_json(&report.timeseries),
    })
}

/// A histogram as HdrHistogram's standard compressed V2 form (cookie `0x1c849314`, the V2
/// encoding deflated) in standard base64, so it starts `HISTF`: the form of every `hdr` field,
/// and what HdrHistogram's own decoders (Java, Python, JavaScript, HistogramLogAnalyzer) read.
///
/// # Errors
///
/// [`ReportError::HdrEncode`] if the serializer rejects it.
pub fn encode_hdr(hist: &Histogram<u64>) -> Result<String, ReportError> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(hist, &mut bytes)
        .map_err(|source| ReportError::HdrEncode {
            count: hist.len(),
            source,
        })?;
    Ok(STANDARD.encode(bytes))
}

/// The inverse of [`encode_hdr`]: an `hdr` field back into a histogram. Reads the
/// uncompressed V2 form of `schema_version` 1 files too (cookie `0x1c849313`, base64 `HISTE`).
///
/// # Errors
///
/// [`ReportError::Base64`] if `b64` is not standard base64,
/// [`ReportError::HdrDecode`] if the bytes are not a V2 HdrHistogram, compressed or not.
pub fn decode_hdr(b64: &str) -> Result<Histogram<u64>, ReportError> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|source| ReportError::Base64 {
            len: b64.len(),
            source,
        })?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|source| ReportError::HdrDecode {
            len: bytes.len(),
            source,
        })
}

fn shard_json(s: &ShardStats, secs: f64) -> Value {
    json!({
        "shard": s.shard,
        "cpu": s.cpu,
        "totals": ops_json(&s.ops, secs),
        "counters": s.counters,
    })
}

fn ops_json(ops: &OpStats, secs: f64) -> Value {
    json!({
        "get": op_json(&ops.get, secs),
        "set": op_json(&ops.set, secs),
        "total": op_json(&ops.total, secs),
    })
}

fn op_json(s: &LatencyStats, secs: f64) -> Value {
    let mut latency = Map::new();
    latency.insert("min".into(), json!(s.min_ns() as f64 / 1000.0));
    latency.insert("max".into(), json!(s.max_ns() as f64 / 1000.0));
    latency.insert("mean".into(), json!(s.mean_us_f64()));
    latency.insert("stddev".into(), json!(s.stddev_us_f64()));
    latency.insert("geo_mean".into(), json!(s.geo_mean_us()));
    for p in &PERCENTILES {
        latency.insert(p.key.into(), json!(s.percentile_us(p.quantile)));
    }
    json!({
        "ops": s.count(),
        "tps": per_sec(s.count(), secs),
        "misses": s.misses(),
        "latency_us": latency,
        "log2_dist": s.log2_dist().as_slice(),
        "hdr": encode_hdr(s.histogram()).ok(),
    })
}

fn timeseries_json(points: &[TimePoint]) -> Vec<Value> {
    let ends: Vec<f64> = points.iter().map(|p| p.t_s).collect();
    let partial_tail = is_partial_tail(&ends);
    let mut prev_t_s = 0.0;
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let point = render_point(p, prev_t_s, partial_tail && i + 1 == points.len());
            prev_t_s = p.t_s;
            point
        })
        .collect()
}

/// One time-series point as the JSON's `timeseries` holds it: `prev_t_s` is the previous
/// point's `t_s` (0 for the first), which the rates divide the period by; `partial` marks a
/// short last point ([`is_partial_tail`]). What [`render_json`] embeds, and what a streamed
/// time series (`--timeseries`) writes one per line.
#[must_use]
pub fn render_point(point: &TimePoint, prev_t_s: f64, partial: bool) -> Value {
    let period_s = point.t_s - prev_t_s;
    let mut value = json!({
        "t_s": point.t_s,
        "get": summary_json(&point.ops.get, period_s),
        "set": summary_json(&point.ops.set, period_s),
        "total": summary_json(&point.ops.total, period_s),
        "shard_ops": point.shard_ops,
    });
    if partial {
        value["partial"] = json!(true);
    }
    value
}

/// Whether the last of the periods ending at `ends_s` (seconds from the start, ascending) is a
/// partial tail: shorter than the full periods before it. It holds what the shards measured
/// after their last full period; at the end of a timed run that is only the requests still in
/// flight (a few milliseconds), so its rate and percentiles are not a period's.
#[must_use]
pub fn is_partial_tail(ends_s: &[f64]) -> bool {
    let lengths: Vec<f64> = std::iter::once(0.0)
        .chain(ends_s.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    match lengths.split_last() {
        Some((last, full)) if !full.is_empty() => {
            let period = full.iter().copied().fold(0.0, f64::max);
            // Whole nanoseconds on both sides: a tolerance far below any period.
            *last < period - 1e-6
        }
        _ => false,
    }
}

fn summary_json(s: &LatencySummary, period_s: f64) -> Value {
    let mut summary = json!({
        "ops": s.ops,
        "tps": per_sec(s.ops, period_s),
        "misses": s.misses,
        "p50_us": s.p50_us,
        "p99_us": s.p99_us,
        "p999_us": s.p999_us,
        "max_us": s.max_us,
    });
    if let Some(hdr) = &s.hdr {
        summary["hdr"] = json!(hdr);
    }
    summary
}

fn per_sec(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::{OpSummary, Warmup, PERIOD_HDR_SIGFIG};
    use crate::stats::ShardStats;
    use crate::test_support::report;

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
        let v = render_json(&two_shard_report());
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
        let v = render_json(&two_shard_report());
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

    /// The schema-1 key sets, exactly: adding a key is fine but must be
    /// documented in docs/json.md and added here.
    #[test]
    fn schema_key_sets() {
        let v = render_json(&two_shard_report());
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
        let v = render_json(&r);
        assert_eq!(v["run"]["interrupted"], "interrupted by SIGINT");
    }

    #[test]
    fn hdr_round_trips() {
        let r = two_shard_report();
        let v = render_json(&r);
        for (op, stats) in [
            ("get", &r.totals.ops.get),
            ("set", &r.totals.ops.set),
            ("total", &r.totals.ops.total),
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
        let v = render_json(&r);
        assert_eq!(v["totals"]["total"]["tps"], 0.0);
        assert_eq!(v["totals"]["get"]["latency_us"]["p99"], 0.0);
        assert!(v["run"]["warmup"].is_null());
        let hist = decode_hdr(v["totals"]["get"]["hdr"].as_str().unwrap()).unwrap();
        assert_eq!(hist.len(), 0);
    }

    #[test]
    fn hdr_is_the_standard_compressed_v2_form_and_the_old_form_still_reads() {
        let mut hist = crate::latency::empty_histogram(3);
        for ns in [1_000u64, 20_000, 300_000, 4_000_000] {
            hist.saturating_record(ns);
        }
        let b64 = encode_hdr(&hist).unwrap();
        assert!(b64.starts_with("HISTF"), "{b64}");
        let bytes = STANDARD.decode(&b64).unwrap();
        assert_eq!(
            bytes[..4],
            0x1c84_9314u32.to_be_bytes(),
            "V2 compressed cookie"
        );
        assert_eq!(decode_hdr(&b64).unwrap(), hist);

        // schema_version 1 wrote uncompressed V2 (cookie 0x1c849313, base64 "HISTE").
        let mut old = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(&hist, &mut old)
            .unwrap();
        let old_b64 = STANDARD.encode(&old);
        assert!(old_b64.starts_with("HISTE"), "{old_b64}");
        assert_eq!(decode_hdr(&old_b64).unwrap(), hist);
    }

    #[test]
    fn decode_hdr_rejects_garbage() {
        let err = decode_hdr("not base64!").unwrap_err();
        assert!(matches!(err, ReportError::Base64 { len: 11, .. }), "{err}");
        assert!(err
            .to_string()
            .starts_with("hdr field (11 chars) is not standard base64"));
        let err = decode_hdr("AAAA").unwrap_err();
        assert!(
            matches!(err, ReportError::HdrDecode { len: 3, .. }),
            "{err}"
        );
    }
}
