//! The subcommands that work on result files, on real runs: `merge`, `plot` and `sweep`.

use std::path::Path;
use std::time::Duration;

use shardslap_schema::{OpEntry, OpName, ResultFile};
use shardslap_testkit::MemcachedServer;

use crate::util::{counters_of, run_plain, RunResult, TempDir};

const LIMIT: Duration = Duration::from_secs(90);

/// A run file from shardslap's own writer (the merge crate's fixture).
const V2_RUN: &str = include_str!("../../../merge/tests/fixtures/v2_run.json");

/// Runs shardslap against `server` writing its JSON to `path`.
fn run_to(server: &MemcachedServer, path: &Path, extra: &[&str]) -> RunResult {
    let addr = server.addr_string();
    let json = path.to_str().unwrap();
    let mut args = vec!["-s", &addr, "-T", "1", "--json", json, "-q"];
    if !extra.contains(&"-c") {
        args.extend(["-c", "2"]);
    }
    args.extend_from_slice(extra);
    let run = run_plain(&args, LIMIT);
    run.assert_success();
    run
}

/// A run result file read through the schema, as `merge` and `plot` read it.
fn read_run(path: &Path) -> ResultFile {
    shardslap_merge::load(path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn merge_sums_two_runs_op_for_op_and_adds_their_histograms() {
    let server = MemcachedServer::start();
    let dir = TempDir::new("merge");
    let (a, b, merged) = (dir.path("a.json"), dir.path("b.json"), dir.path("m.json"));
    run_to(&server, &a, &["-x", "3000"]);
    run_to(&server, &b, &["-x", "2000", "--cores", "0"]);
    let run = run_plain(
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "-o",
            merged.to_str().unwrap(),
        ],
        LIMIT,
    );
    run.assert_success();
    assert!(
        run.stderr.contains("merged 2 results: 5000 ops"),
        "{}",
        run.stderr
    );

    let (a, b, m) = (read_run(&a), read_run(&b), read_run(&merged));
    for op in OpName::ALL {
        let (ta, tb, tm) = (a.totals.op(op), b.totals.op(op), m.totals.op(op));
        assert_eq!(tm.ops, ta.ops + tb.ops, "totals.{op}.ops");
        assert_eq!(tm.misses, ta.misses + tb.misses, "totals.{op}.misses");
        // The merged histogram is the two runs' histograms added, so its percentiles are
        // those of one histogram holding both runs' samples.
        let hdr = |e: &OpEntry| e.hdr.clone().unwrap();
        let mut both = hdr(ta);
        both.add(hdr(tb)).unwrap();
        let merged_hdr = hdr(tm);
        assert_eq!(merged_hdr.len(), both.len(), "{op}");
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(
                merged_hdr.value_at_quantile(q),
                both.value_at_quantile(q),
                "{op} q{q}"
            );
        }
        let p99_us = tm.latency_us.p99;
        let expected = both.highest_equivalent(both.value_at_quantile(0.99)) as f64 / 1000.0;
        let max_us = tm.latency_us.max;
        assert!(
            (p99_us - expected.min(max_us)).abs() < 1e-9,
            "{op}: p99 {p99_us} vs {expected}"
        );
    }
    let (ca, cb, cm) = (counters_of(&a), counters_of(&b), counters_of(&m));
    assert_eq!(cm.cmd_get, ca.cmd_get + cb.cmd_get, "counters.cmd_get");
    assert_eq!(cm.cmd_set, ca.cmd_set + cb.cmd_set, "counters.cmd_set");
    assert_eq!(
        cm.get_misses,
        ca.get_misses + cb.get_misses,
        "counters.get_misses"
    );
    assert_eq!(
        cm.written_bytes,
        ca.written_bytes + cb.written_bytes,
        "counters.written_bytes"
    );
    assert_eq!(
        cm.read_bytes,
        ca.read_bytes + cb.read_bytes,
        "counters.read_bytes"
    );
    let sources = m.sources.as_ref().unwrap();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0].label, "a.json");
    assert_eq!(m.shards[1].source, Some(1));
}

#[test]
fn merge_refuses_runs_with_different_workloads_in_one_line() {
    let server = MemcachedServer::start();
    let dir = TempDir::new("merge-refuse");
    let (a, b) = (dir.path("a.json"), dir.path("b.json"));
    run_to(&server, &a, &["-x", "100"]);
    run_to(&server, &b, &["-x", "100", "-X", "200"]);
    let out = dir.path("m.json");
    let run = run_plain(
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        LIMIT,
    );
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("a.json") && run.stderr.contains("b.json"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fixed_value_len"), "{}", run.stderr);
    assert!(!out.exists(), "a refused merge must not write");
}

/// Every `<text>` of an SVG document, after checking it parses as SVG.
fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the plot is not well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_owned()))
        .collect()
}

#[test]
fn plot_overlays_several_runs_in_one_svg_with_every_series_labelled() {
    let server = MemcachedServer::start();
    let dir = TempDir::new("plot");
    let (a, b, svg) = (
        dir.path("before.json"),
        dir.path("after.json"),
        dir.path("cmp.svg"),
    );
    run_to(&server, &a, &["-t", "2s"]);
    run_to(&server, &b, &["-t", "2s", "-c", "4"]);
    let run = run_plain(
        &[
            "plot",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "-o",
            svg.to_str().unwrap(),
        ],
        LIMIT,
    );
    run.assert_success();
    let texts = svg_texts(&svg);
    for label in [
        "before.json get",
        "before.json set",
        "before.json total",
        "after.json total",
        "before.json",
        "after.json",
        "Latency percentile spectrum",
        "Throughput over time",
        "Ops per shard",
        "99.99",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} in {texts:?}"
        );
    }
}

#[test]
fn sweep_runs_one_step_per_core_count_and_plots_against_linear() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let dir = TempDir::new("sweep");
    let (out, svg) = (dir.path("sweep.json"), dir.path("sweep.svg"));
    let run = run_plain(
        &[
            "sweep",
            "-s",
            &addr,
            "--cores",
            "0-1",
            "-c",
            "2",
            "-t",
            "1s",
            "-o",
            out.to_str().unwrap(),
        ],
        LIMIT,
    );
    run.assert_success();
    assert!(run.stdout.contains("throughput eff"), "{}", run.stdout);
    let sweep = shardslap_merge::load_sweep(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sweep.kind, "sweep");
    let steps = &sweep.steps;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].cores, [0]);
    assert_eq!(steps[1].cores, [0, 1]);
    // -c is per core in a sweep.
    assert_eq!(steps[0].concurrency, 2);
    assert_eq!(steps[1].concurrency, 4);
    assert_eq!(steps[0].throughput_efficiency, 1.0);
    assert_eq!(steps[0].cpu_efficiency, 1.0);
    for step in steps {
        assert!(step.ops > 0);
        assert!(step.client_cpu_s > 0.0);
        assert!(step.ops_per_cpu_s > 0.0);
    }
    let plot = run_plain(
        &["plot", out.to_str().unwrap(), "-o", svg.to_str().unwrap()],
        LIMIT,
    );
    plot.assert_success();
    let texts = svg_texts(&svg);
    for label in ["sweep.json", "linear", "cores"] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} in {texts:?}"
        );
    }
}

#[test]
fn result_tools_reject_bad_input_in_one_line() {
    let dir = TempDir::new("tools-bad");
    let missing = dir.path("missing.json");
    let garbage = dir.path("garbage.json");
    std::fs::write(&garbage, "{ not json").unwrap();
    // A run file as shardslap writes it, spoiled in one field each.
    let spoiled = |name: &str, spoil: fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(V2_RUN).unwrap();
        spoil(&mut v);
        let path = dir.path(name);
        std::fs::write(&path, v.to_string()).unwrap();
        path
    };
    let bad_config = spoiled("bad_config.json", |v| {
        v["config"]["window_len"] = "big".into()
    });
    let bad_hdr = spoiled("bad_hdr.json", |v| {
        v["totals"]["get"]["hdr"] = "garbage!".into()
    });
    let svg = dir.path("x.svg");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "plot",
                missing.to_str().unwrap(),
                "-o",
                svg.to_str().unwrap(),
            ],
            "missing.json",
        ),
        (
            vec![
                "merge",
                garbage.to_str().unwrap(),
                "-o",
                svg.to_str().unwrap(),
            ],
            "garbage.json is not JSON",
        ),
        (
            vec![
                "merge",
                bad_config.to_str().unwrap(),
                bad_config.to_str().unwrap(),
                "-o",
                svg.to_str().unwrap(),
            ],
            "bad_config.json: config invalid type: string \"big\"",
        ),
        (
            vec![
                "plot",
                bad_hdr.to_str().unwrap(),
                "-o",
                svg.to_str().unwrap(),
            ],
            "is not standard base64",
        ),
        (
            vec!["sweep", "-s", "127.0.0.1:1", "-t", "1s"],
            "sweep needs -o",
        ),
        (
            vec!["sweep", "-s", "127.0.0.1:1", "-T", "2", "-o", "x"],
            "drop -T",
        ),
    ];
    for (args, expected) in cases {
        let run = run_plain(&args, LIMIT);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn merge_of_runs_made_one_after_the_other_warns_and_names_the_interval() {
    let server = MemcachedServer::start();
    let dir = TempDir::new("merge-apart");
    let (a, b, merged) = (dir.path("a.json"), dir.path("b.json"), dir.path("m.json"));
    run_to(&server, &a, &["-x", "200"]);
    // Make sure they cannot touch.
    std::thread::sleep(Duration::from_millis(300));
    run_to(&server, &b, &["-x", "200"]);
    let run = run_plain(
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "-o",
            merged.to_str().unwrap(),
        ],
        LIMIT,
    );
    run.assert_success();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines[0].starts_with("shardslap: warning: b.json starts ")
            && lines[0].contains(" s after a.json ended: the runs do not overlap in time"),
        "{}",
        run.stderr
    );
    assert!(
        lines[1].contains("merged 2 results: 400 ops"),
        "{}",
        run.stderr
    );
    assert!(
        lines[1].contains("the rate is over the interval from the earliest start (Unix ")
            && lines[1].contains(" s of it with no run measuring"),
        "{}",
        run.stderr
    );
    let m = read_run(&merged);
    assert_eq!(m.totals.total.ops, 400);
}
