//! Results read by an HdrHistogram implementation nobody here wrote: the Python `hdrhistogram`
//! package (`scripts/test.sh` installs it with pip) decodes a run's JSON `hdr` fields and its
//! `--hdr-log`, and gets the run's counts and percentiles.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

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

/// `theirs` is `ours` within a percentile's rank rounding (the implementations round the rank
/// differently, which can move a percentile to the next recorded value, here under 2%).
pub fn assert_percentile(theirs: f64, ours: f64, what: &str) {
    assert!(
        (theirs - ours).abs() <= ours * 0.02 + 0.001,
        "{what}: python {theirs} vs ours {ours}"
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
        let ours = &run.json()["totals"][op];
        let hdr = ours["hdr"].as_str().unwrap();
        assert!(hdr.starts_with("HISTF"), "{op}");
        assert_eq!(decoded[op]["count"], ours["ops"], "{op} count");
        // The very histogram we hold, bucket for bucket.
        let hist = shardslap_report::decode_hdr(hdr).unwrap();
        assert_eq!(decoded[op]["buckets"], buckets(&hist), "{op} buckets");
        for key in ["p50", "p99"] {
            assert_percentile(
                decoded[op][format!("{key}_us")].as_f64().unwrap(),
                ours["latency_us"][key].as_f64().unwrap(),
                &format!("{op} {key}"),
            );
        }
    }
    assert_eq!(decoded["total"]["count"], 3000);
}
