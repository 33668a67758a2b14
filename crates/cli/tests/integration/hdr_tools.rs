//! Results read by an HdrHistogram implementation nobody here wrote: the Python `hdrhistogram`
//! package (`scripts/test.sh` installs it with pip) decodes a run's JSON `hdr` fields and its
//! `--hdr-log`, and gets the run's counts and percentiles.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use shardslap_schema::decode_hdr;
use shardslap_testkit::MemcachedServer;

use crate::util::{run_with_json, TempDir};

const LIMIT: Duration = Duration::from_secs(60);

/// Runs `script` with `args` in Python with the `hdrhistogram` package; its stdout as JSON.
fn python(script: &str, args: &[&Path]) -> serde_json::Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3: {e} (scripts/test.sh installs python3 and hdrhistogram)")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'hdrh"),
        "the Python hdrhistogram package is missing: `python3 -m pip install hdrhistogram`, \
         or run scripts/test.sh which installs it\n{stderr}"
    );
    assert!(out.status.success(), "python failed:\n{stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Decodes each totals `hdr` of a result file: its count, p50 and p99 in µs, and every
/// recorded bucket as [highest equivalent value in ns, count].
const DECODE_JSON_HDR: &str = r#"
import json, sys
from hdrh.histogram import HdrHistogram
run = json.load(open(sys.argv[1]))
out = {}
for op in ("get", "set", "total"):
    h = HdrHistogram.decode(run["totals"][op]["hdr"])
    out[op] = {"count": h.get_total_count(),
               "p50_us": h.get_value_at_percentile(50) / 1000.0,
               "p99_us": h.get_value_at_percentile(99) / 1000.0,
               "buckets": [[b.value_iterated_to, b.count_at_value_iterated_to]
                           for b in h.get_recorded_iterator()]}
print(json.dumps(out))
"#;

/// `hist`'s recorded buckets as the Python script lists them.
pub fn buckets(hist: &hdrhistogram::Histogram<u64>) -> serde_json::Value {
    let list: Vec<[u64; 2]> = hist
        .iter_recorded()
        .map(|v| [v.value_iterated_to(), v.count_at_value()])
        .collect();
    serde_json::json!(list)
}

/// `theirs_us` is the `q` quantile of `hist` as another implementation computes it: the two
/// round a quantile's rank differently, so it may be the value one sample either side.
pub fn assert_percentile(theirs_us: f64, hist: &hdrhistogram::Histogram<u64>, q: f64, what: &str) {
    let step = 1.0 / hist.len().max(1) as f64;
    let low = hist.lowest_equivalent(hist.value_at_quantile((q - step).max(0.0))) as f64 / 1000.0;
    let high = hist.highest_equivalent(hist.value_at_quantile((q + step).min(1.0))) as f64 / 1000.0;
    assert!(
        low - 0.001 <= theirs_us && theirs_us <= high + 0.001,
        "{what}: python {theirs_us} not in [{low}, {high}]"
    );
}

#[test]
fn python_hdrhistogram_decodes_the_json_hdr_fields() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let dir = TempDir::new("hdr-json");
    let run = run_with_json(
        &["-s", &addr, "-T", "1", "-c", "4", "-x", "3000", "-q"],
        LIMIT,
    );
    run.assert_success();
    let path = dir.path("run.json");
    std::fs::write(&path, run.json().to_string()).unwrap();
    let decoded = python(DECODE_JSON_HDR, &[&path]);
    for op in ["get", "set", "total"] {
        // The file's own string: what the Python decoder read.
        let file = run.json();
        let hdr = file["totals"][op]["hdr"].as_str().unwrap();
        assert!(hdr.starts_with("HISTF"), "{op}");
        let ours = run.result().totals.op(op.parse().unwrap());
        assert_eq!(decoded[op]["count"], ours.ops, "{op} count");
        // The very histogram we hold, bucket for bucket.
        let hist = ours.hdr.clone().unwrap();
        assert_eq!(hist, decode_hdr(hdr).unwrap());
        assert_eq!(decoded[op]["buckets"], buckets(&hist), "{op} buckets");
        for (key, q) in [("p50", 0.5), ("p99", 0.99)] {
            let theirs = decoded[op][format!("{key}_us")].as_f64().unwrap();
            assert_percentile(theirs, &hist, q, &format!("{op} {key}"));
            // And our own percentile is the same quantile of the same histogram.
            let ours_us = serde_json::to_value(&ours.latency_us).unwrap()[key]
                .as_f64()
                .unwrap();
            assert_percentile(ours_us, &hist, q, &format!("{op} our {key}"));
        }
    }
    assert_eq!(decoded["total"]["count"], 3000);
}

/// Reads a `--hdr-log` with the package's HistogramLogReader: per tag, the intervals' count,
/// their total histogram's buckets, and each interval's [start, length] in seconds.
const READ_HDR_LOG: &str = r#"
import json, sys
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader
reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 60000000000, 3))
out = {"start_time_s": None, "tags": {}}
while True:
    h = reader.get_next_interval_histogram()
    if h is None:
        break
    tag = out["tags"].setdefault(h.get_tag(), {"count": 0, "intervals": [], "sum": HdrHistogram(1, 60000000000, 3)})
    tag["count"] += h.get_total_count()
    tag["intervals"].append([h.get_start_time_stamp() / 1000.0, (h.get_end_time_stamp() - h.get_start_time_stamp()) / 1000.0])
    tag["sum"].add(h)
out["start_time_s"] = reader.get_start_time_sec()
for tag in out["tags"].values():
    s = tag.pop("sum")
    tag["buckets"] = [[b.value_iterated_to, b.count_at_value_iterated_to] for b in s.get_recorded_iterator()]
    tag["p99_us"] = s.get_value_at_percentile(99) / 1000.0
print(json.dumps(out))
"#;

#[test]
fn hdr_log_is_written_as_the_run_goes_and_python_reads_the_runs_counts() {
    use std::process::Stdio;

    use crate::util::{shardslap, wait_with_deadline};

    let server = MemcachedServer::start();
    let dir = TempDir::new("hdr-log");
    let (log, json) = (dir.path("run.hlog"), dir.path("run.json"));
    let child = shardslap()
        .args([
            "-s",
            &server.addr_string(),
            "-T",
            "1",
            "-c",
            "4",
            "-t",
            "20s",
            "-q",
        ])
        .arg("--hdr-log")
        .arg(&log)
        .arg("--json")
        .arg(&json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Written as the run goes: the first periods are in the file while it still runs.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let intervals = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("Tag="))
            .count()
    };
    while intervals() < 6 {
        assert!(
            std::time::Instant::now() < deadline,
            "no intervals during the run"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Stop it mid-period (SIGINT), so the run ends with a partial interval too.
    std::thread::sleep(Duration::from_millis(400));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let run = wait_with_deadline(child, LIMIT);
    assert_eq!(run.status.code(), Some(130), "{}", run.stderr);
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "#[Histogram log format version 1.3]");
    assert!(lines[2].starts_with("#[StartTime: "), "{text}");
    assert!(lines[3].starts_with("#[BaseTime: "), "{text}");
    assert_eq!(
        lines[4],
        "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
    );

    let decoded = python(READ_HDR_LOG, &[&log]);
    let started_at = result["run"]["started_at"].as_f64().unwrap();
    let start = decoded["start_time_s"].as_f64().unwrap();
    assert!(
        (start - started_at).abs() < 0.1,
        "StartTime {start} vs run {started_at}"
    );
    for op in ["get", "set", "total"] {
        let tag = &decoded["tags"][op];
        // Every interval of the run, the partial last one included: the run's counts.
        assert_eq!(tag["count"], result["totals"][op]["ops"], "{op} count");
        let ours = decode_hdr(result["totals"][op]["hdr"].as_str().unwrap()).unwrap();
        assert_eq!(
            tag["buckets"],
            buckets(&ours),
            "{op}: the intervals add up to the run"
        );
        assert_percentile(
            tag["p99_us"].as_f64().unwrap(),
            &ours,
            0.99,
            &format!("{op} p99"),
        );
        // Back to back from the start, 1 s each but the last.
        let intervals = tag["intervals"].as_array().unwrap();
        assert!(intervals.len() >= 3, "{op}: {intervals:?}");
        let mut expected_start = 0.0;
        for (i, interval) in intervals.iter().enumerate() {
            let (at, length) = (interval[0].as_f64().unwrap(), interval[1].as_f64().unwrap());
            assert!(
                (at - start - expected_start).abs() < 0.002,
                "{op} interval {i}: {interval}"
            );
            if i + 1 < intervals.len() {
                assert!(
                    (length - 1.0).abs() < 0.002,
                    "{op} interval {i}: {interval}"
                );
            } else {
                assert!(
                    length > 0.0 && length < 1.0,
                    "{op} partial last: {interval}"
                );
            }
            expected_start += length;
        }
        let total_s = expected_start;
        let duration_s = result["run"]["duration_s"].as_f64().unwrap();
        assert!(
            (total_s - duration_s).abs() < 0.002,
            "{total_s} vs {duration_s}"
        );
    }
}

#[test]
fn an_unwritable_hdr_log_fails_before_the_run() {
    let run = crate::util::run_plain(
        &[
            "-s",
            "127.0.0.1:1",
            "--hdr-log",
            "/nonexistent/dir/run.hlog",
        ],
        LIMIT,
    );
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("shardslap: cannot write --hdr-log file '/nonexistent/dir/run.hlog'"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn sweep_refuses_an_hdr_log_in_one_line() {
    let run = crate::util::run_plain(
        &[
            "sweep",
            "-s",
            "127.0.0.1:1",
            "-o",
            "x.json",
            "--hdr-log",
            "x.hlog",
        ],
        LIMIT,
    );
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("drop --hdr-log"), "{}", run.stderr);
    assert!(!std::path::Path::new("x.hlog").exists());
}
