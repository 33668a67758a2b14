//! The text report's layout and the JSON schema, from a real run.

use std::time::Duration;

use shardslap_testkit::MemcachedServer;

use crate::util::run_with_json;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn text_report_has_memaslap_layout_and_percentiles() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let run = run_with_json(&["-s", &addr, "-T", "1", "-c", "2", "-x", "500"], LIMIT);
    run.assert_success();
    let out = &run.stdout;
    for expected in [
        &format!("servers: {addr}\n"),
        "threads count: 1\n",
        "concurrency: 2\n",
        "execute number: 500\n",
        "windows size: 10k\n",
        "set proportion: set_prop=0.10\n",
        "get proportion: get_prop=0.90\n",
        "Get Statistics (450 events)\n",
        "Set Statistics (50 events)\n",
        "Total Statistics (500 events)\n",
        "   Log2 Dist:\n",
        "cmd_get: 450\n",
        "cmd_set: 50\n",
        "get_misses: 0\n",
        "written_bytes: ",
        "read_bytes: ",
        "object_bytes: 54400\n",
        "Run time: ",
        "p99.9",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(
        !out.contains('\x1b'),
        "no ANSI escapes when stdout is not a terminal"
    );
}

#[test]
fn json_report_has_the_documented_schema() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let run = run_with_json(
        &[
            "-s", &addr, "-T", "1", "-c", "2", "-x", "300", "--seed", "7",
        ],
        LIMIT,
    );
    run.assert_success();
    let json = run.json();
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["config"]["seed"], 7);
    for section in ["duration_s", "started_at", "cores", "shards"] {
        assert!(!json["run"][section].is_null(), "run.{section}");
    }
    for op in ["get", "set", "total"] {
        let t = &json["totals"][op];
        for key in ["ops", "tps", "misses", "log2_dist", "hdr"] {
            assert!(!t[key].is_null(), "totals.{op}.{key}");
        }
        for key in [
            "min", "max", "mean", "stddev", "geo_mean", "p50", "p90", "p99", "p999", "p9999",
        ] {
            assert!(
                t["latency_us"][key].is_number(),
                "totals.{op}.latency_us.{key}"
            );
        }
    }
    assert_eq!(json["totals"]["total"]["ops"], 300);
    for counter in [
        "cmd_get",
        "cmd_set",
        "get_misses",
        "written_bytes",
        "read_bytes",
        "object_bytes",
        "verify_misses",
        "verify_failed",
        "expired_get",
        "unexpired_unget",
        "errors",
    ] {
        assert!(json["counters"][counter].is_u64(), "counters.{counter}");
    }
    assert_eq!(json["shards"][0]["totals"]["total"]["ops"], 300);
}

#[test]
fn stat_freq_prints_period_tables() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let run = run_with_json(
        &["-s", &addr, "-T", "1", "-c", "2", "-t", "3s", "-S", "1s"],
        LIMIT,
    );
    run.assert_success();
    let periods = run.stdout.matches("\nPeriod   ").count();
    assert!(
        periods >= 3 * 2,
        "expected Period rows for Get and Total each second:\n{}",
        run.stdout
    );
    let points = run.result().timeseries.len();
    assert!(
        (3..=4).contains(&points),
        "{points} time-series points for 3 s at 1 s"
    );
}

#[test]
fn banner_prints_the_seed_and_memaslaps_lines_come_in_memaslaps_order() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let run = run_with_json(
        &[
            "-s", &addr, "-T", "1", "-c", "2", "-x", "200", "--seed", "99",
        ],
        LIMIT,
    );
    run.assert_success();
    let out = &run.stdout;
    assert!(
        out.contains("get proportion: get_prop=0.90\nseed: 99 (repeat the run with --seed 99)\n"),
        "{out}"
    );
    // Without -S memaslap prints the banner, then cmd_get … object_bytes, a blank line and
    // `Run time`, nothing in between; our statistics blocks and percentiles come after.
    let lines: Vec<&str> = out.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in:\n{out}"))
    };
    let cmd_get = at("cmd_get: ");
    assert_eq!(at("seed: ") + 1, cmd_get, "{out}");
    for (offset, prefix) in [
        "cmd_set: ",
        "get_misses: ",
        "written_bytes: ",
        "read_bytes: ",
        "object_bytes: ",
    ]
    .iter()
    .enumerate()
    {
        assert!(lines[cmd_get + 1 + offset].starts_with(prefix), "{out}");
    }
    assert_eq!(lines[cmd_get + 6], "", "{out}");
    assert!(lines[cmd_get + 7].starts_with("Run time: "), "{out}");
    assert!(at("Get Statistics (") > cmd_get + 7, "{out}");
    assert!(
        at("Latency percentiles") > at("Total Statistics ("),
        "{out}"
    );
}

#[test]
fn quiet_prints_only_the_final_report() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let run = run_with_json(
        &[
            "-s", &addr, "-T", "1", "-c", "2", "-t", "2s", "-S", "1s", "-q",
        ],
        LIMIT,
    );
    run.assert_success();
    let out = &run.stdout;
    for absent in ["servers: ", "threads count", "seed: ", "Period ", "Global "] {
        assert!(!out.contains(absent), "{absent:?} with -q:\n{out}");
    }
    // With -S the final report opens with memaslap's blocks, as memaslap's does.
    assert!(out.starts_with("Get Statistics ("), "{out}");
    assert!(out.contains("\ncmd_get: "), "{out}");
    assert!(out.contains("\nRun time: "), "{out}");
}

#[test]
fn cfg_file_with_memaslaps_wrapped_comments_runs_with_warnings() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let dir = crate::util::TempDir::new("wrapped-cfg");
    let path = dir.path("sample.cnf");
    // The shape of memaslap's man page sample: a comment wrapped onto a line without '#',
    // and value proportions that total 0.5.
    std::fs::write(
        &path,
        "#proportion: the share of the keys from one range, of all\ngenerated keys\n\
         key\n32 32 1\nvalue\n100 100 0.5\ncmd\n0 0.1\n1 0.9\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let run = run_with_json(
        &["-s", &addr, "-T", "1", "-c", "2", "-x", "200", "-F", file],
        LIMIT,
    );
    run.assert_success();
    // (The server shares this host's CPUs, which gives a warning of its own.)
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("-F file"))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
    assert!(
        warnings[0].starts_with(&format!(
            "shardslap: warning: -F file '{file}': line 2: skipped \"generated keys\""
        )),
        "{}",
        run.stderr
    );
    assert!(
        warnings[1].contains("line 5: value proportions total 0.500, not 1"),
        "{}",
        run.stderr
    );
    assert_eq!(run.counters().cmd_get + run.counters().cmd_set, 200);
}
