//! `--timeseries PATH`: the time series streamed to a JSON-lines file as the run goes, embedded
//! in the `--json` result while small and named by it past that; `plot` and `merge` read it
//! from there.

use std::process::Stdio;
use std::time::{Duration, Instant};

use shardslap_testkit::MemcachedServer;

use crate::util::{run_command, shardslap, wait_with_deadline, TempDir};

const LIMIT: Duration = Duration::from_secs(60);

fn read_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_small_streamed_series_is_in_the_file_and_embedded_alike() {
    let server = MemcachedServer::start();
    let dir = TempDir::new("ts-embed");
    let (series, json) = (dir.path("run.jsonl"), dir.path("run.json"));
    let mut cmd = shardslap();
    cmd.args([
        "-s",
        &server.addr_string(),
        "-T",
        "1",
        "-c",
        "2",
        "-t",
        "3s",
        "-S",
        "1s",
        "-q",
    ])
    .arg("--timeseries")
    .arg(&series)
    .arg("--json")
    .arg(&json);
    let run = run_command(cmd, LIMIT);
    run.assert_success();
    let lines = read_lines(&series);
    let result = read_json(&json);
    assert!(
        result.get("timeseries_file").is_none(),
        "embedded, not named"
    );
    assert_eq!(
        result["timeseries"],
        serde_json::Value::Array(lines.clone())
    );
    assert!(
        (3..=4).contains(&lines.len()),
        "{} points for 3 s at 1 s",
        lines.len()
    );
    let ops: u64 = lines
        .iter()
        .map(|p| p["total"]["ops"].as_u64().unwrap())
        .sum();
    assert_eq!(ops, result["totals"]["total"]["ops"].as_u64().unwrap());
    for key in ["t_s", "get", "set", "total", "shard_ops"] {
        assert!(!lines[0][key].is_null(), "{key}");
    }
}

#[test]
fn a_long_streamed_series_is_written_as_the_run_goes_and_named_by_the_result() {
    let server = MemcachedServer::start();
    let dir = TempDir::new("ts-named");
    let (series, json, svg, merged) = (
        dir.path("run.jsonl"),
        dir.path("run.json"),
        dir.path("run.svg"),
        dir.path("merged.json"),
    );
    let child = shardslap()
        .args([
            "-s",
            &server.addr_string(),
            "-T",
            "1",
            "-c",
            "2",
            "-t",
            "3s",
            "-S",
            "1s",
            "-q",
        ])
        .arg("--timeseries")
        .arg(&series)
        .arg("--json")
        .arg(&json)
        // Embed at most one point, so that this short run is "long".
        .env("SHARDSLAP_TIMESERIES_EMBED_MAX", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first point is in the file while the run still goes.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&series)
        .unwrap_or_default()
        .lines()
        .count()
        < 1
    {
        assert!(
            Instant::now() < deadline,
            "no point streamed during the run"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!json.exists() || std::fs::read_to_string(&json).unwrap().is_empty());
    let run = wait_with_deadline(child, LIMIT);
    run.assert_success();

    let lines = read_lines(&series);
    let result = read_json(&json);
    assert_eq!(result["timeseries"], serde_json::json!([]));
    assert_eq!(
        result["timeseries_file"],
        serde_json::json!({"path": "run.jsonl", "points": lines.len()})
    );
    let ops: u64 = lines
        .iter()
        .map(|p| p["total"]["ops"].as_u64().unwrap())
        .sum();
    assert_eq!(ops, result["totals"]["total"]["ops"].as_u64().unwrap());

    // plot and merge read the series from the file it names.
    let mut plot = shardslap();
    plot.arg("plot").arg(&json).arg("-o").arg(&svg);
    run_command(plot, LIMIT).assert_success();
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.contains("ops/s"), "the throughput panel is drawn");
    let mut merge = shardslap();
    merge.arg("merge").arg(&json).arg("-o").arg(&merged);
    run_command(merge, LIMIT).assert_success();
    let merged = read_json(&merged);
    assert!(merged.get("timeseries_file").is_none());
    assert_eq!(merged["timeseries"].as_array().unwrap().len(), lines.len());

    // A result whose series file is gone says so in one line.
    std::fs::remove_file(&series).unwrap();
    let mut plot = shardslap();
    plot.arg("plot").arg(&json).arg("-o").arg(&svg);
    let run = run_command(plot, LIMIT);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("run.jsonl"), "{}", run.stderr);
}
