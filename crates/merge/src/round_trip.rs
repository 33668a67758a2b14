//! The result file written by the report crate, read back through the schema: nothing is
//! lost, unknown fields survive, older layouts parse. Here because the fixtures
//! (`test_support`) build real reports.

use std::time::Duration;

use serde_json::Value;
use shardslap_report::{result_file, Warmup};
use shardslap_schema::{OpName, ResultFile};

use crate::test_support::{config, point, report, samples};

/// The report as the JSON value its file holds.
fn file_json(report: &shardslap_report::Report) -> Value {
    serde_json::to_value(result_file(report)).unwrap()
}

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
fn the_written_file_round_trips_without_loss() {
    let original = file_json(&full_report());
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
    let mut v = file_json(&full_report());
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
    let mut v = file_json(&full_report());
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
    let file: ResultFile = serde_json::from_value(file_json(&r)).unwrap();
    let total = r.totals.ops.total();
    for (op, stats) in [
        (OpName::Get, &r.totals.ops.get),
        (OpName::Set, &r.totals.ops.set),
        (OpName::Total, &total),
    ] {
        assert_eq!(file.op_hdr(op).unwrap(), stats.histogram(), "{op}");
    }
    let mut file = file;
    file.totals.set.hdr = None;
    assert!(file.op_hdr(OpName::Set).is_none());
    // A field that does not decode fails the parse, naming why.
    let mut v = file_json(&r);
    v["totals"]["get"]["hdr"] = "garbage!".into();
    let err = serde_json::from_value::<ResultFile>(v)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not standard base64"), "{err}");
}

/// A run file written by the shardslap before the writer was the schema (main at 97a43d9:
/// `shardslap -s 127.0.0.1:PORT -T 1 -c 4 -t 1s -S 1s --json`, against memcached 1.6).
const V2_RUN: &str = include_str!("../tests/fixtures/v2_run.json");
/// The same run repeated with `--seed 7`.
const V2_RUN_B: &str = include_str!("../tests/fixtures/v2_run_b.json");

/// Whether `a` and `b` have the same object keys everywhere both have an object (arrays by
/// their first element; the `config` section is the config crate's and not compared here),
/// naming the first place they do not.
fn same_shape(a: &Value, b: &Value, at: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let kx: Vec<&String> = x.keys().collect();
            let ky: Vec<&String> = y.keys().collect();
            if kx != ky {
                return Err(format!("{at}: {kx:?} vs {ky:?}"));
            }
            for (k, v) in x {
                if at.is_empty() && k == "config" {
                    continue;
                }
                same_shape(v, &y[k], &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) => match (x.first(), y.first()) {
            (Some(x), Some(y)) => same_shape(x, y, &format!("{at}[0]")),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

#[test]
fn a_file_from_the_json_writer_before_the_schema_reads_and_writes_back_unchanged() {
    let original: Value = serde_json::from_str(V2_RUN).unwrap();
    let file: ResultFile = serde_json::from_str(V2_RUN).unwrap();
    assert_eq!(serde_json::to_value(&file).unwrap(), original);
    assert_eq!(file.run.data_path.as_deref(), Some("ring"));
    assert!(file.run.hit_ratio.is_some());
    assert_eq!(
        file.totals.total.hdr.as_ref().unwrap().len(),
        file.totals.total.ops
    );
    // Today's writer gives the layout the old one did: the same keys at every level.
    same_shape(&original, &file_json(&full_report()), "").unwrap();
}

#[test]
fn files_from_the_json_writer_before_the_schema_merge() {
    let a: ResultFile = serde_json::from_str(V2_RUN).unwrap();
    let b: ResultFile = serde_json::from_str(V2_RUN_B).unwrap();
    assert_ne!(a.config["seed"], b.config["seed"]);
    let merged = crate::merge(&[
        ("a.json".to_owned(), a.clone()),
        ("b.json".to_owned(), b.clone()),
    ])
    .unwrap();
    assert_eq!(
        merged.totals.total.ops,
        a.totals.total.ops + b.totals.total.ops
    );
    assert_eq!(merged.shards.len(), a.shards.len() + b.shards.len());
    assert_eq!(
        merged.counters["cmd_get"],
        a.counters["cmd_get"] + b.counters["cmd_get"]
    );
    let mut both = a.totals.total.hdr.clone().unwrap();
    both.add(b.totals.total.hdr.as_ref().unwrap()).unwrap();
    assert_eq!(merged.totals.total.hdr.as_ref(), Some(&both));
    assert_eq!(merged.sources.as_ref().map(Vec::len), Some(2));
    // The merged file reads back as it was written.
    let text = serde_json::to_string(&merged).unwrap();
    assert_eq!(serde_json::from_str::<ResultFile>(&text).unwrap(), merged);
}
