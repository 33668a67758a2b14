//! The engine's counts against the server's own `stats` deltas: they must agree exactly.

use std::time::Duration;

use shardslap_testkit::{MemcachedServer, StatsDelta};

use crate::util::{run_with_json, RunResult, TempDir};

pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// Asserts that every count shardslap reports equals what memcached counted.
pub(crate) fn assert_counts_match(run: &RunResult, server: &StatsDelta) {
    run.assert_success();
    let c = run.counters();
    // A request that got no answer is counted by the server but not here: the first
    // mismatch shows every counter, so it says whether replies went missing.
    assert_eq!(c.cmd_get, server.cmd_get, "cmd_get; {c:?}");
    assert_eq!(c.cmd_set, server.cmd_set, "cmd_set");
    assert_eq!(c.get_misses, server.get_misses, "get_misses");
    assert_eq!(c.cmd_get - c.get_misses, server.get_hits, "get hits");
    assert_eq!(c.written_bytes, server.bytes_read, "written_bytes");
    assert_eq!(c.read_bytes, server.bytes_written, "read_bytes");
    assert_eq!(c.errors, 0, "errors");
}

/// Runs shardslap against `server` with `args`; returns the run and the server's stats delta.
pub(crate) fn run_against(server: &MemcachedServer, args: &[&str]) -> (RunResult, StatsDelta) {
    let addr = server.addr_string();
    let mut full = vec!["-s", addr.as_str()];
    full.extend_from_slice(args);
    let before = server.stats();
    let run = run_with_json(&full, LIMIT);
    let after = server.stats();
    (run, after.since(&before))
}

#[test]
fn one_shard_execute_number_counts_match_server() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &["-T", "1", "--cores", "0", "-c", "4", "-x", "3001"],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(
        run.counters().cmd_get + run.counters().cmd_set,
        3001,
        "-x is exact"
    );
}

#[test]
fn two_shards_execute_number_counts_match_server() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &["-T", "2", "--cores", "0-1", "-c", "6", "-x", "5003"],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(
        run.counters().cmd_get + run.counters().cmd_set,
        5003,
        "-x is exact"
    );
    let shards = &run.result().shards;
    assert_eq!(shards.len(), 2);
    for shard in shards {
        assert!(shard.totals.total.ops > 0, "every shard works");
    }
}

#[test]
fn two_shards_time_mode_counts_match_server() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(&server, &["-T", "2", "-c", "4", "-t", "2s"]);
    assert_counts_match(&run, &delta);
    let duration = run.result().run.duration_s;
    assert!((1.9..3.0).contains(&duration), "ran for {duration} s");
    assert!(run.counters().cmd_get > 100, "a 2 s run does real work");
}

#[test]
fn default_mix_is_one_set_per_nine_gets() {
    let server = MemcachedServer::start();
    // 10 concurrencies x 1000 ops: each does exactly 100 SETs and 900 GETs.
    let (run, delta) = run_against(&server, &["-T", "1", "-c", "10", "-x", "10000"]);
    assert_counts_match(&run, &delta);
    assert_eq!(run.counters().cmd_set, 1000);
    assert_eq!(run.counters().cmd_get, 9000);
    assert_eq!(
        run.counters().get_misses,
        0,
        "GETs only ask for stored keys"
    );
}

#[test]
fn get_only_mix_warms_up_first() {
    let server = MemcachedServer::start();
    let dir = TempDir::new("getonly");
    let cfg = dir.path("get_only.cnf");
    std::fs::write(&cfg, "key\n64 64 1\nvalue\n100 100 1\ncmd\n0 0\n1 1\n").unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    let (run, delta) = run_against(
        &server,
        &["-T", "2", "-c", "4", "-w", "1k", "-x", "2000", "-F", &cfg],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(
        run.counters().cmd_set,
        4 * 1024,
        "warm-up fills every window once"
    );
    assert_eq!(run.counters().warmup_sets, 4 * 1024);
    assert_eq!(
        run.counters().cmd_get,
        2000,
        "-x counts measured operations"
    );
    assert_eq!(run.counters().get_misses, 0);
    let result = run.result();
    assert_eq!(result.run.warmup.as_ref().map(|w| w.sets), Some(4096));
    assert_eq!(result.totals.set.ops, 0, "warm-up is not in latency");
    assert_eq!(result.totals.get.ops, 2000);
}

#[test]
fn more_shards_than_cores_still_counts_right() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &["-T", "4", "--cores", "0", "-c", "8", "-x", "4000"],
    );
    assert_counts_match(&run, &delta);
    assert!(
        run.stderr.contains("warning"),
        "placement warning: {}",
        run.stderr
    );
    assert_eq!(run.result().shards.len(), 4);
}

#[test]
fn every_listed_server_gets_load_and_counts_add_up() {
    let (a, b) = (MemcachedServer::start(), MemcachedServer::start());
    let servers = format!("{},{}", a.addr_string(), b.addr_string());
    let (before_a, before_b) = (a.stats(), b.stats());
    // One shard, three concurrencies: 0 and 2 talk to A, 1 to B (memaslap would leave B idle).
    let run = run_with_json(&["-s", &servers, "-T", "1", "-c", "3", "-x", "3000"], LIMIT);
    let (delta_a, delta_b) = (a.stats().since(&before_a), b.stats().since(&before_b));
    run.assert_success();
    assert_eq!(
        delta_a.cmd_get + delta_a.cmd_set,
        2000,
        "server A: two concurrencies"
    );
    assert_eq!(
        delta_b.cmd_get + delta_b.cmd_set,
        1000,
        "server B: one concurrency"
    );
    assert_eq!(run.counters().cmd_get, delta_a.cmd_get + delta_b.cmd_get);
    assert_eq!(run.counters().cmd_set, delta_a.cmd_set + delta_b.cmd_set);
    assert_eq!(
        run.counters().written_bytes,
        delta_a.bytes_read + delta_b.bytes_read
    );
    assert_eq!(
        run.counters().read_bytes,
        delta_a.bytes_written + delta_b.bytes_written
    );
}
