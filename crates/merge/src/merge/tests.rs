//! Merges of real runs, checked against one accumulator fed every sample.

use std::time::Duration;

use hdrhistogram::Histogram;
use shardslap_report::{hdr_percentile_us, OpStats, Warmup, PERCENTILES, PERIOD_HDR_SIGFIG};
use shardslap_schema::{decode_hdr, encode_hdr};

use super::*;
use crate::test_support::{assert_close, config, parse, point, report, samples, Sample};
use shardslap_schema::{OpEntry, TimePointEntry};

const T0: f64 = 1_767_225_600.25;

/// The reference: every sample of every run in one accumulator.
fn one_client(runs: &[&[Sample]]) -> OpStats {
    let mut ops = OpStats::default();
    for run in runs {
        for s in *run {
            s.record_ops(&mut ops);
        }
    }
    ops
}

fn two_runs(whole_us: bool) -> (Vec<Sample>, Vec<Sample>, Vec<(String, ResultFile)>) {
    let a = samples(1, 20_000, whole_us);
    let b = samples(2, 30_000, whole_us);
    let mut ra = report(
        "host-a",
        config("10.0.0.1:11211", 7),
        &[1, 2],
        &a,
        Duration::from_secs(10),
        T0,
    );
    ra.warmup = Some(Warmup {
        sets: 500,
        duration: Duration::from_millis(300),
    });
    let mut rb = report(
        "host-b",
        config("10.0.0.2:11211", 8),
        &[0, 1, 2],
        &b,
        Duration::from_millis(10_050),
        T0 + 0.02,
    );
    rb.interrupted = Some("interrupted by SIGINT".into());
    rb.warmup = Some(Warmup {
        sets: 700,
        duration: Duration::from_millis(200),
    });
    let inputs = vec![
        ("a.json".to_owned(), parse(&ra)),
        ("b.json".to_owned(), parse(&rb)),
    ];
    (a, b, inputs)
}

fn check_op(
    merged: &OpEntry,
    parts: [&OpEntry; 2],
    reference: &shardslap_report::LatencyStats,
    stddev_rel: f64,
) {
    let what = |field: &str| format!("{field} (reference {reference:?})");
    assert_eq!(merged.ops, parts[0].ops + parts[1].ops);
    assert_eq!(merged.ops, reference.count());
    assert_eq!(merged.misses, parts[0].misses + parts[1].misses);
    assert_eq!(merged.misses, reference.misses());
    let dist: Vec<u64> = parts[0]
        .log2_dist
        .iter()
        .zip(&parts[1].log2_dist)
        .map(|(x, y)| x + y)
        .collect();
    assert_eq!(merged.log2_dist, dist);
    assert_eq!(merged.log2_dist, reference.log2_dist().to_vec());

    let l = &merged.latency_us;
    assert_eq!(l.min, reference.min_ns() as f64 / 1000.0, "min");
    assert_eq!(l.max, reference.max_ns() as f64 / 1000.0, "max");
    for p in &PERCENTILES {
        let value = serde_json::to_value(l).unwrap()[p.key].as_f64().unwrap();
        assert_eq!(value, reference.percentile_us(p.quantile), "{}", p.key);
    }
    assert_close(l.mean, reference.mean_us_f64(), 1e-9, &what("mean"));
    assert_close(l.geo_mean, reference.geo_mean_us(), 1e-9, &what("geo_mean"));
    assert_close(
        l.stddev,
        reference.stddev_us_f64(),
        stddev_rel,
        &what("stddev"),
    );

    assert_eq!(merged.hdr.as_ref().unwrap(), reference.histogram());
}

/// [`check_op`] for get, set and total.
fn check_ops(merged: &ResultFile, parts: [&ResultFile; 2], reference: &OpStats, tol: f64) {
    for op in OpName::ALL {
        check_op(
            merged.totals.op(op),
            [parts[0].totals.op(op), parts[1].totals.op(op)],
            &reference_op(reference, op),
            tol,
        );
    }
}

#[test]
fn merge_equals_one_client_that_saw_every_request() {
    let (a, b, inputs) = two_runs(false);
    let merged = merge(&inputs).unwrap();
    let reference = one_client(&[&a, &b]);
    let (fa, fb) = (&inputs[0].1, &inputs[1].1);

    // Nanosecond samples: stddev is approximate (see `merge_op`), but by
    // far less than this.
    check_ops(&merged, [fa, fb], &reference, 1e-6);

    // Every counter, whatever its name, is the sum.
    assert_eq!(merged.counters.len(), 20);
    for (name, count) in &merged.counters {
        assert_eq!(*count, fa.counters[name] + fb.counters[name], "{name}");
    }
    assert_eq!(merged.counters["cmd_get"], reference.get.count());
    assert_eq!(merged.counters["get_misses"], reference.get.misses());

    // run: from the earliest start to the latest end.
    let run = &merged.run;
    assert_eq!(run.started_at, T0);
    // 0.02 s after T0 is only as exact as T0 (ulp 2.4e-7 s).
    assert!((run.duration_s - 10.07).abs() < 1e-6, "{}", run.duration_s);
    assert_eq!(run.cores, [1, 2, 0, 1, 2]);
    assert_eq!(run.shards, 5);
    assert_eq!(run.host.as_deref(), Some("host-a,host-b"));
    assert_eq!(
        run.interrupted.as_deref(),
        Some("b.json: interrupted by SIGINT")
    );
    let warmup = run.warmup.as_ref().unwrap();
    assert_eq!((warmup.sets, warmup.duration_s), (1200, 0.3));

    // tps over the merged duration, totals and shards alike.
    assert_eq!(
        merged.totals.total.tps,
        merged.totals.total.ops as f64 / run.duration_s
    );

    // Shards: concatenated, renumbered, tagged with their source.
    let ids: Vec<(usize, usize, Option<usize>)> = merged
        .shards
        .iter()
        .map(|s| (s.shard, s.cpu, s.source))
        .collect();
    assert_eq!(
        ids,
        [
            (0, 1, Some(0)),
            (1, 2, Some(0)),
            (2, 0, Some(1)),
            (3, 1, Some(1)),
            (4, 2, Some(1))
        ]
    );
    assert_eq!(merged.shards[3].totals.get.ops, fb.shards[1].totals.get.ops);
    assert_eq!(merged.shards[3].counters, fb.shards[1].counters);
    assert_eq!(
        merged.shards[3].totals.get.tps,
        fb.shards[1].totals.get.ops as f64 / run.duration_s
    );

    let sources = merged.sources.as_ref().unwrap();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0].label, "a.json");
    assert_eq!((sources[0].started_at, sources[0].duration_s), (T0, 10.0));
    assert_eq!((sources[0].shards, &sources[0].cores), (2, &vec![1, 2]));
    assert_eq!(sources[0].host.as_deref(), Some("host-a"));
    assert_eq!(
        sources[1].interrupted.as_deref(),
        Some("interrupted by SIGINT")
    );

    // The merged file is a valid result file of the same schema.
    let text = serde_json::to_string(&merged).unwrap();
    let back: ResultFile = serde_json::from_str(&text).unwrap();
    assert_eq!(back, merged);
    assert_eq!(merged.config, fa.config);
}

#[test]
fn stddev_is_exact_for_whole_microsecond_latencies() {
    let (a, b, inputs) = two_runs(true);
    let merged = merge(&inputs).unwrap();
    let reference = one_client(&[&a, &b]);
    let (fa, fb) = (&inputs[0].1, &inputs[1].1);
    check_ops(&merged, [fa, fb], &reference, 1e-9);
}

#[test]
fn order_does_not_change_counts_or_percentiles() {
    let (_, _, inputs) = two_runs(false);
    let ab = merge(&inputs).unwrap();
    let ba = merge(&[inputs[1].clone(), inputs[0].clone()]).unwrap();
    for op in OpName::ALL {
        let (x, y) = (ab.totals.op(op), ba.totals.op(op));
        assert_eq!(
            (x.ops, x.misses, &x.log2_dist),
            (y.ops, y.misses, &y.log2_dist)
        );
        assert_eq!(x.latency_us.p99, y.latency_us.p99);
        assert_eq!(x.latency_us.p9999, y.latency_us.p9999);
        assert_eq!(x.hdr, y.hdr);
        assert_close(x.latency_us.mean, y.latency_us.mean, 1e-12, "mean");
    }
    assert_eq!(ab.counters, ba.counters);
    assert_eq!(ab.run.duration_s, ba.run.duration_s);
}

#[test]
fn merging_a_merged_file_flattens_its_sources() {
    let (a, b, mut inputs) = two_runs(false);
    let c = samples(3, 5_000, false);
    let rc = report(
        "host-c",
        config("10.0.0.3:11211", 9),
        &[4],
        &c,
        Duration::from_secs(10),
        T0 + 0.01,
    );
    let ab = merge(&inputs).unwrap();
    let nested = merge(&[
        ("ab.json".to_owned(), ab),
        ("c.json".to_owned(), parse(&rc)),
    ])
    .unwrap();
    inputs.push(("c.json".to_owned(), parse(&rc)));
    let flat = merge(&inputs).unwrap();

    let labels: Vec<&str> = nested
        .sources
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(labels, ["a.json", "b.json", "c.json"]);
    let tags: Vec<Option<usize>> = nested.shards.iter().map(|s| s.source).collect();
    assert_eq!(tags, [Some(0), Some(0), Some(1), Some(1), Some(1), Some(2)]);
    assert_eq!(nested.sources, flat.sources);
    assert_eq!(nested.counters, flat.counters);
    assert_eq!(nested.run.interrupted, flat.run.interrupted);
    assert_eq!(nested.run.host.as_deref(), Some("host-a,host-b,host-c"));
    let reference = one_client(&[&a, &b, &c]).total();
    for p in &PERCENTILES {
        let v = serde_json::to_value(&nested.totals.total.latency_us).unwrap();
        assert_eq!(v[p.key], reference.percentile_us(p.quantile), "{}", p.key);
    }
    assert_eq!(nested.totals.total.hdr, flat.totals.total.hdr);
}

#[test]
fn a_single_input_keeps_its_numbers() {
    let s = samples(4, 3_000, false);
    let mut r = report(
        "h",
        config("a:1", 1),
        &[1, 2],
        &s,
        Duration::from_millis(3_400),
        T0,
    );
    r.timeseries = vec![
        point(1.0, &[&s[0..500], &s[500..1000]]),
        point(2.0, &[&s[1000..1500], &s[1500..2000]]),
        point(3.0, &[&s[2000..2400], &s[2400..2800]]),
        // The final, partial period.
        point(3.4, &[&s[2800..2900], &s[2900..3000]]),
    ];
    let file = parse(&r);
    let merged = merge(&[("only.json".to_owned(), file.clone())]).unwrap();
    assert_eq!(merged.totals, file.totals);
    assert_eq!(merged.counters, file.counters);
    assert_eq!(merged.timeseries, file.timeseries);
    assert_eq!(merged.run.duration_s, file.run.duration_s);
    assert_eq!(merged.run.started_at, file.run.started_at);
    for (m, f) in merged.shards.iter().zip(&file.shards) {
        assert_eq!((&m.totals, m.source), (&f.totals, Some(0)));
    }
}

#[test]
fn a_short_tail_is_marked_partial_kept_by_merge_and_left_off_plots() {
    let s = samples(5, 3_000, false);
    let mut r = report(
        "h",
        config("a:1", 1),
        &[1],
        &s,
        Duration::from_millis(3_002),
        T0,
    );
    r.timeseries = vec![
        point(1.0, &[&s[0..1000]]),
        point(2.0, &[&s[1000..2000]]),
        point(3.0, &[&s[2000..2990]]),
        // 1.9 ms of requests that were in flight at the end.
        point(3.0019, &[&s[2990..3000]]),
    ];
    let file = parse(&r);
    assert!(file.timeseries[3].partial);
    assert!(file.timeseries[..3].iter().all(|p| !p.partial));
    assert_eq!(file.full_periods().len(), 3);
    assert_eq!(file.full_periods().last().map(|p| p.t_s), Some(3.0));
    // Its ops stay in the series (they sum to the totals); only plots leave it off.
    let ops: u64 = file.timeseries.iter().map(|p| p.total.ops).sum();
    assert_eq!(ops, file.totals.total.ops);

    let merged = merge(&[("only.json".to_owned(), file.clone())]).unwrap();
    assert_eq!(merged.timeseries, file.timeseries);
    assert_eq!(merged.full_periods().len(), 3);

    // Files written before the mark: the length alone tells.
    let mut old = file.clone();
    old.timeseries[3].partial = false;
    assert_eq!(old.full_periods().len(), 3);
    // A run of whole periods loses nothing.
    old.timeseries.pop();
    assert_eq!(old.full_periods().len(), 3);
}

#[test]
fn different_workloads_are_refused() {
    let (_, _, mut inputs) = two_runs(false);
    inputs[1].1.config["workload"]["set_proportion"] = 0.2.into();
    let err = merge(&inputs).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot merge b.json with a.json: config.workload.set_proportion differs \
         (0.1 vs 0.2); merge only runs of the same workload"
    );

    let (_, _, mut inputs) = two_runs(false);
    inputs[1].1.config["pipeline"] = 4.into();
    inputs[1].1.config["udp"] = true.into();
    let err = merge(&inputs).unwrap_err();
    assert!(
        matches!(&err, MergeError::WorkloadMismatch { key, .. } if key == "udp"),
        "{err}"
    );

    let (_, _, mut inputs) = two_runs(false);
    inputs[1]
        .1
        .config
        .as_object_mut()
        .unwrap()
        .remove("window_len");
    let err = merge(&inputs).unwrap_err().to_string();
    assert!(
        err.contains("config.window_len differs (10240 vs absent)"),
        "{err}"
    );
}

#[test]
fn a_workload_setting_of_the_wrong_type_is_refused_naming_the_file() {
    let (_, _, mut inputs) = two_runs(false);
    inputs[1].1.config["window_len"] = "big".into();
    let err = merge(&inputs).unwrap_err();
    assert!(
        matches!(&err, MergeError::Config { file, .. } if file == "b.json"),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("b.json: config invalid type"),
        "{err}"
    );
}

#[test]
fn a_file_before_protocol_merges_with_one_that_says_ascii_but_not_meta() {
    let (_, _, mut inputs) = two_runs(false);
    inputs[1].1.config["protocol"] = "ascii".into();
    assert!(merge(&inputs).is_ok(), "binary: false is ascii");
    inputs[1].1.config["protocol"] = "meta".into();
    let err = merge(&inputs).unwrap_err().to_string();
    assert!(
        err.contains("config.protocol differs (\"ascii\" vs \"meta\")"),
        "{err}"
    );
}

#[test]
fn tls_and_fields_the_check_does_not_list_may_differ() {
    let (_, _, mut inputs) = two_runs(false);
    inputs[1].1.config["tls"] = serde_json::json!({ "server_name": "cache" });
    inputs[1].1.config["distribution"] = "ketama".into();
    assert!(merge(&inputs).is_ok());
}

#[test]
fn settings_outside_the_workload_may_differ() {
    let (_, _, mut inputs) = two_runs(false);
    inputs[1].1.config["concurrency"] = 64.into();
    inputs[1].1.config["time_s"] = 30.into();
    assert!(merge(&inputs).is_ok());
}

#[test]
fn nothing_to_merge_is_refused() {
    let err = merge(&[]).unwrap_err();
    assert!(matches!(err, MergeError::NoInputs));
    assert_eq!(
        err.to_string(),
        "nothing to merge: give at least one result file"
    );
}

#[test]
fn a_null_hdr_is_refused_rather_than_guessed() {
    let (_, _, mut inputs) = two_runs(false);
    inputs[1].1.totals.set.hdr = None;
    let err = merge(&inputs).unwrap_err();
    assert_eq!(
        err.to_string(),
        "b.json: totals.set.hdr has no hdr histogram, so its percentiles cannot be merged exactly"
    );
}

/// Two runs started 0.02 s apart, three one-second points each.
fn two_series() -> (Vec<Sample>, Vec<Sample>, Vec<(String, ResultFile)>) {
    let a = samples(5, 3_000, false);
    let b = samples(6, 4_500, false);
    let mut ra = report(
        "a",
        config("a:1", 1),
        &[1, 2],
        &a,
        Duration::from_secs(3),
        T0,
    );
    ra.timeseries = (0..3)
        .map(|i| {
            let chunk = &a[i * 1000..(i + 1) * 1000];
            point((i + 1) as f64, &[&chunk[..600], &chunk[600..]])
        })
        .collect();
    let mut rb = report(
        "b",
        config("b:1", 2),
        &[3, 4, 5],
        &b,
        Duration::from_secs(3),
        T0 + 0.02,
    );
    rb.timeseries = (0..3)
        .map(|i| {
            let chunk = &b[i * 1500..(i + 1) * 1500];
            point(
                (i + 1) as f64,
                &[&chunk[..500], &chunk[500..1000], &chunk[1000..]],
            )
        })
        .collect();
    let inputs = vec![
        ("a.json".to_owned(), parse(&ra)),
        ("b.json".to_owned(), parse(&rb)),
    ];
    (a, b, inputs)
}

#[test]
fn timeseries_align_on_wall_clock_time() {
    let (a, b, inputs) = two_series();
    let merged = merge(&inputs).unwrap();
    let ts: &[TimePointEntry] = &merged.timeseries;
    assert_eq!(ts.len(), 3);
    let t: Vec<f64> = ts.iter().map(|p| p.t_s).collect();
    // On the grid, except the last, which ends when the later run ended.
    assert_eq!(t[..2], [1.0, 2.0]);
    assert!((t[2] - 3.02).abs() < 1e-6, "{}", t[2]);
    assert_eq!(t[2], merged.run.duration_s);

    for (i, p) in ts.iter().enumerate() {
        let (pa, pb) = (&inputs[0].1.timeseries[i], &inputs[1].1.timeseries[i]);
        for op in OpName::ALL {
            assert_eq!(p.op(op).ops, pa.op(op).ops + pb.op(op).ops, "{i} {op}");
            assert_eq!(p.op(op).misses, pa.op(op).misses + pb.op(op).misses);
        }
        let concat: Vec<u64> = pa.shard_ops.iter().chain(&pb.shard_ops).copied().collect();
        assert_eq!(p.shard_ops, concat);
        assert_eq!(p.shard_ops.len(), 5);

        // Every total had an hdr (two digits): its percentiles are those of
        // one two-digit histogram of both runs' samples. Get and set carry
        // none, so theirs are the higher of the two runs' (an upper bound).
        let reference = one_client(&[&a[i * 1000..(i + 1) * 1000], &b[i * 1500..(i + 1) * 1500]]);
        let want = reference.total();
        let mut coarse = Histogram::<u64>::new_with_bounds(
            want.histogram().low(),
            want.histogram().high(),
            PERIOD_HDR_SIGFIG,
        )
        .unwrap();
        coarse.add(want.histogram()).unwrap();
        let got = &p.total;
        let max_ns = want.max_ns();
        for (value, q) in [(got.p50_us, 0.5), (got.p99_us, 0.99), (got.p999_us, 0.999)] {
            assert_eq!(
                value,
                hdr_percentile_us(&coarse, q, 0, max_ns),
                "{i} total q{q}"
            );
        }
        assert_eq!(got.max_us, max_ns as f64 / 1000.0);
        assert_eq!(got.hdr.as_ref().unwrap().decode().unwrap(), coarse);
        for op in [OpName::Get, OpName::Set] {
            let (got, pa, pb) = (p.op(op), pa.op(op), pb.op(op));
            assert_eq!(got.p99_us, pa.p99_us.max(pb.p99_us), "{i} {op} p99");
            assert_eq!(
                got.max_us,
                reference_op(&reference, op).max_ns() as f64 / 1000.0
            );
            assert_eq!(got.hdr, None);
        }
    }
    assert_eq!(ts[0].total.tps, ts[0].total.ops as f64);
    assert_eq!(ts[2].total.tps, ts[2].total.ops as f64 / (t[2] - 2.0));
}

fn reference_op(ops: &OpStats, op: OpName) -> shardslap_report::LatencyStats {
    match op {
        OpName::Get => ops.get.clone(),
        OpName::Set => ops.set.clone(),
        OpName::Total => ops.total(),
    }
}

#[test]
fn points_without_hdr_give_upper_bound_percentiles() {
    let (_, _, mut inputs) = two_series();
    for p in &mut inputs[1].1.timeseries {
        p.total.hdr = None;
    }
    let merged = merge(&inputs).unwrap();
    for (i, p) in merged.timeseries.iter().enumerate() {
        let (pa, pb) = (
            &inputs[0].1.timeseries[i].total,
            &inputs[1].1.timeseries[i].total,
        );
        assert_eq!(p.total.p99_us, pa.p99_us.max(pb.p99_us));
        assert_eq!(p.total.p50_us, pa.p50_us.max(pb.p50_us));
        assert_eq!(p.total.hdr, None);
        // Get and set never carry one: upper bounds too.
        assert_eq!(p.get.hdr, None);
    }
}

#[test]
fn a_later_run_lands_in_later_buckets_with_zeros_elsewhere() {
    let (_, _, mut inputs) = two_series();
    // b started 1.3 s after a: its points end at 2.3, 3.3, 4.3.
    inputs[1].1.run.started_at = T0 + 1.3;
    let merged = merge(&inputs).unwrap();
    let ts = &merged.timeseries;
    assert_eq!(ts.len(), 4);
    let a_only = &inputs[0].1.timeseries[0];
    assert_eq!(ts[0].shard_ops[..2], a_only.shard_ops[..]);
    assert_eq!(ts[0].shard_ops[2..], [0, 0, 0]);
    assert_eq!(ts[3].shard_ops[..2], [0, 0]);
    assert_eq!(
        ts[3].shard_ops[2..],
        inputs[1].1.timeseries[2].shard_ops[..]
    );
    assert!((ts[3].t_s - 4.3).abs() < 1e-6, "{}", ts[3].t_s);
    let total: u64 = ts.iter().map(|p| p.total.ops).sum();
    let want: u64 = inputs
        .iter()
        .flat_map(|(_, f)| &f.timeseries)
        .map(|p| p.total.ops)
        .sum();
    assert_eq!(total, want);
}

#[test]
fn shard_ops_of_the_wrong_length_are_refused() {
    let (_, _, mut inputs) = two_series();
    inputs[1].1.timeseries[1].shard_ops.pop();
    let err = merge(&inputs).unwrap_err();
    assert_eq!(
        err.to_string(),
        "b.json: timeseries[1] has 2 shard_ops, but the file has 3 shards"
    );
}

fn source(label: &str, started_at: f64, duration_s: f64) -> Source {
    Source {
        label: label.to_owned(),
        started_at,
        duration_s,
        host: None,
        shards: 1,
        cores: vec![0],
        interrupted: None,
        extra: serde_json::Map::new(),
    }
}

#[test]
fn runs_one_after_the_other_leave_a_gap_and_overlapping_runs_none() {
    // Overlapping (the case merge is for): no gap, in any order.
    let together = [source("a", 100.0, 10.0), source("b", 101.0, 10.0)];
    assert_eq!(time_gaps(&together), []);
    assert_eq!(time_gaps(&[together[1].clone(), together[0].clone()]), []);
    // One after the other: the gap between them, named by the runs around it.
    let gaps = time_gaps(&[source("late", 120.0, 10.0), source("early", 100.0, 10.0)]);
    assert_eq!(
        gaps,
        [TimeGap {
            before: "early".into(),
            after: "late".into(),
            gap_s: 10.0,
        }]
    );
    // Back to back counts too (they were never measuring together), and a run inside
    // another's interval does not end it.
    let gaps = time_gaps(&[
        source("long", 0.0, 100.0),
        source("inside", 10.0, 5.0),
        source("next", 100.0, 1.0),
    ]);
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        (gaps[0].before.as_str(), gaps[0].after.as_str()),
        ("long", "next")
    );
    assert_eq!(gaps[0].gap_s, 0.0);
}

/// A `schema_version` 1 file as shardslap wrote it before `hdr` fields were compressed.
const V1_RUN: &str = include_str!("../../testdata/v1_run.json");

/// `value` with every `hdr` string re-encoded in today's (compressed) form.
fn recompress(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "hdr" => {
                        *s = encode_hdr(&decode_hdr(s).unwrap()).unwrap();
                    }
                    _ => recompress(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(recompress),
        _ => {}
    }
}

#[test]
fn an_old_uncompressed_file_still_loads_and_merges_with_a_new_one() {
    let old_value: Value = serde_json::from_str(V1_RUN).unwrap();
    assert_eq!(old_value["schema_version"], 1);
    let old_hdr = old_value["totals"]["total"]["hdr"].as_str().unwrap();
    assert!(
        old_hdr.starts_with("HISTE"),
        "the fixture is the uncompressed form"
    );
    let old: ResultFile = serde_json::from_value(old_value.clone()).unwrap();
    assert_eq!(
        old.op_hdr(OpName::Total).unwrap().len(),
        old.totals.total.ops
    );

    let mut new_value = old_value;
    recompress(&mut new_value);
    new_value["schema_version"] = 2.into();
    assert!(new_value["totals"]["total"]["hdr"]
        .as_str()
        .unwrap()
        .starts_with("HISTF"));
    let new: ResultFile = serde_json::from_value(new_value).unwrap();

    let merged = merge(&[
        ("old.json".to_owned(), old.clone()),
        ("new.json".to_owned(), new),
    ])
    .unwrap();
    assert_eq!(merged.schema_version, 2);
    assert_eq!(merged.totals.total.ops, 2 * old.totals.total.ops);
    let written = serde_json::to_value(&merged).unwrap();
    let hdr = written["totals"]["total"]["hdr"].as_str().unwrap();
    assert!(
        hdr.starts_with("HISTF"),
        "a merge writes the compressed form"
    );
    let mut twice = old.op_hdr(OpName::Total).unwrap().clone();
    twice.add(old.op_hdr(OpName::Total).unwrap()).unwrap();
    assert_eq!(decode_hdr(hdr).unwrap(), twice);
}
