//! memaslap parity: each memaslap option against a real memcached, with shardslap's counts
//! checked against the server's own `stats` deltas (UDP ones against `memcached -U`).

use std::time::Duration;

use shardslap_schema::{OpName, ResultFile};
use shardslap_testkit::{FakeServer, Fault, MemcachedServer, ServerOptions};

use crate::engine_counts::{assert_counts_match, run_against, LIMIT};
use crate::util::{counters_of, run_plain, run_with_json, RunResult};

/// A memcached small enough that the workload below evicts: GETs then miss for real.
pub(crate) fn small_server() -> MemcachedServer {
    MemcachedServer::start_with(ServerOptions {
        memory_mb: 8,
        ..ServerOptions::default()
    })
}

fn udp_server() -> MemcachedServer {
    MemcachedServer::start_with(ServerOptions {
        udp: true,
        ..ServerOptions::default()
    })
}

fn get_events(run: &RunResult) -> u64 {
    run.result().totals.get.ops
}

#[test]
fn multi_get_counts_every_key_and_one_latency_event_per_request() {
    let server = small_server();
    let (run, delta) = run_against(
        &server,
        &[
            "-T", "1", "-c", "4", "-x", "40000", "-X", "4096", "-d", "10",
        ],
    );
    assert_counts_match(&run, &delta);
    assert!(
        delta.get_misses > 0,
        "the small server should evict: {delta:?}"
    );
    let (keys, events) = (run.counters().cmd_get, get_events(&run));
    // Each multi-get asks for 10 keys; only each concurrency's last batch may be shorter.
    assert!(
        events * 10 >= keys && keys > (events - 4) * 10,
        "{keys} keys in {events} requests"
    );
}

#[test]
fn binary_counts_match_and_misses_are_misses() {
    let server = small_server();
    let (run, delta) = run_against(
        &server,
        &["-T", "1", "-c", "4", "-x", "30000", "-X", "4096", "-B"],
    );
    assert_counts_match(&run, &delta);
    assert!(
        delta.get_misses > 0,
        "the small server should evict: {delta:?}"
    );
}

#[test]
fn binary_multi_get_is_getkq_and_noop() {
    let server = small_server();
    let (run, delta) = run_against(
        &server,
        &[
            "-T", "1", "-c", "4", "-x", "40000", "-X", "4096", "-B", "-d", "8",
        ],
    );
    assert_counts_match(&run, &delta);
    assert!(
        delta.get_misses > 0,
        "the small server should evict: {delta:?}"
    );
    assert!(get_events(&run) * 8 >= run.counters().cmd_get);
}

#[test]
fn verification_finds_nothing_wrong_on_an_honest_server_even_with_overwrites() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &[
            "-T", "1", "-c", "4", "-x", "40000", "-w", "1k", "-v", "1", "-o", "0.3",
        ],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(
        run.counters().verify_failed,
        0,
        "memaslap's -o/-v off-by-one is gone"
    );
    assert_eq!(run.counters().verify_misses, 0);
}

#[test]
fn verification_catches_one_corrupted_value_and_b_prints_it() {
    let server = MemcachedServer::start();
    let fake = FakeServer::start(server.addr(), Fault::CorruptValue { nth: 500 });
    let run = run_with_json(
        &[
            "-s",
            &fake.addr_string(),
            "-T",
            "1",
            "-c",
            "2",
            "-x",
            "4000",
            "-v",
            "1",
            "-b",
        ],
        LIMIT,
    );
    run.assert_success();
    assert_eq!(fake.injected(), 1);
    assert_eq!(
        run.counters().verify_failed,
        1,
        "exactly the corrupted value"
    );
    assert!(
        run.stderr.contains("verify failed: key") && run.stderr.contains("received:"),
        "-b prints expected and received:\n{}",
        run.stderr
    );
}

/// Items with a TTL, from memcached's own metadump (`exp=-1` means none).
pub(crate) fn items_with_ttl(server: &MemcachedServer) -> (usize, usize) {
    let dump = server.roundtrip(b"lru_crawler metadump all\r\n", b"END\r\n");
    let dump = String::from_utf8_lossy(&dump);
    let items: Vec<&str> = dump.lines().filter(|l| l.starts_with("key=")).collect();
    let expiring = items.iter().filter(|l| !l.contains(" exp=-1 ")).count();
    (expiring, items.len())
}

#[test]
fn expire_verification_stores_that_fraction_with_a_ttl() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &["-T", "1", "-c", "1", "-x", "4000", "-w", "1k", "-e", "0.25"],
    );
    assert_counts_match(&run, &delta);
    // Nothing is 55-65 s old in a short run: no expiry can be judged wrong.
    assert_eq!(
        run.counters().expired_get + run.counters().unexpired_unget,
        0
    );
    let (expiring, items) = items_with_ttl(&server);
    let share = expiring as f64 / items as f64;
    assert!(
        (0.2..=0.3).contains(&share),
        "{expiring} of {items} items have a TTL"
    );
}

#[test]
fn overwrite_rewrites_that_fraction_of_sets_instead_of_new_keys() {
    // -c 1, window 1k, 20000 ops → 2000 SETs. Without -o each is a new key; with -o 0.5
    // half of them rewrite a stored key.
    let server = MemcachedServer::start();
    let args = ["-T", "1", "-c", "1", "-x", "20000", "-w", "1k"];
    let (plain, delta) = run_against(&server, &args);
    assert_counts_match(&plain, &delta);
    let new_keys = server.stats().u64("curr_items");
    assert_eq!(new_keys, delta.cmd_set, "without -o every SET is a new key");

    let server = MemcachedServer::start();
    let (run, delta) = run_against(&server, &[&args[..], &["-o", "0.5"]].concat());
    assert_counts_match(&run, &delta);
    let keys = server.stats().u64("curr_items") as f64;
    let share = keys / delta.cmd_set as f64;
    assert!(
        (0.45..=0.55).contains(&share),
        "{keys} keys for {} SETs",
        delta.cmd_set
    );
}

#[test]
fn tps_limit_paces_the_run_to_the_asked_rate() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(&server, &["-T", "1", "-c", "16", "-t", "3s", "-P", "2000"]);
    assert_counts_match(&run, &delta);
    let ops = run.counters().cmd_get + run.counters().cmd_set;
    let secs = run.result().run.duration_s;
    let rate = ops as f64 / secs;
    assert!(
        (1960.0..=2040.0).contains(&rate),
        "{ops} ops in {secs:.3} s = {rate:.0}/s"
    );
}

#[test]
fn stat_freq_prints_periods_of_every_table_and_keeps_them_in_json() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let run = run_with_json(
        &["-s", &addr, "-T", "1", "-c", "2", "-t", "4s", "-S", "1s"],
        LIMIT,
    );
    run.assert_success();
    for table in ["Get", "Set", "Total"] {
        let rows = run
            .stdout
            .split(&format!("{table} Statistics\n"))
            .skip(1)
            .filter(|block| {
                block
                    .lines()
                    .nth(1)
                    .is_some_and(|l| l.starts_with("Period "))
            })
            .count();
        assert!(rows >= 3, "{rows} {table} Period rows:\n{}", run.stdout);
    }
    let points = &run.result().timeseries;
    assert!(points.len() >= 3, "{} time-series points", points.len());
    // The first three periods are whole seconds of load (a last one may be a short tail).
    for point in &points[..3] {
        for op in OpName::ALL {
            let p = point.op(op);
            assert!(p.ops > 0 && p.p99_us > 0.0);
        }
    }
}

#[test]
fn reconnect_survives_a_server_restart_without_stopping_the_run() {
    let mut server = MemcachedServer::start();
    let addr = server.addr_string();
    let child = crate::util::shardslap()
        .args([
            "-s", &addr, "-T", "1", "-c", "4", "-t", "4s", "-R", "-S", "1s",
        ])
        .arg("--json")
        .arg("-")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    server.kill();
    std::thread::sleep(Duration::from_millis(800));
    server.restart();
    let run = crate::util::wait_with_deadline(child, LIMIT);
    assert_eq!(run.status.code(), Some(0), "stderr:\n{}", run.stderr);
    let result: ResultFile = serde_json::from_str(&run.stdout).unwrap();
    let counters = counters_of(&result);
    let disconnects = counters.disconnects;
    // Each of the 4 connections is lost at least once; a reconnect that lands while the
    // dying server still accepts is lost again, and counted again.
    assert!(
        disconnects >= 4,
        "{disconnects} disconnects:\n{}",
        run.stderr
    );
    assert_eq!(counters.reconnects, disconnects, "every link came back");
    let duration = result.run.duration_s;
    assert!(duration < 4.5, "the run still ends on time: {duration}");
    assert!(run.stderr.contains("disconnect") && run.stderr.contains("reconnect after"));
    // The restarted server served the rest of the run.
    assert!(server.stats().u64("cmd_get") > 0);
}

#[test]
fn udp_counts_match_the_server() {
    let server = udp_server();
    let (run, delta) = run_against(&server, &["-T", "1", "-c", "4", "-x", "20000", "-U"]);
    assert_counts_match(&run, &delta);
    assert_eq!(
        run.counters().udp_timeouts + run.counters().packets_dropped,
        0
    );
}

#[test]
fn udp_carries_5000_byte_values_and_multi_gets_over_several_datagrams() {
    let server = udp_server();
    let (run, delta) = run_against(
        &server,
        &[
            "-T", "1", "-c", "4", "-x", "10000", "-U", "-X", "5000", "-d", "4",
        ],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(
        run.counters().udp_timeouts + run.counters().packets_dropped,
        0
    );
    assert!(run.counters().read_bytes > run.counters().cmd_get * 4000);
}

#[test]
fn udp_request_too_large_for_a_datagram_is_refused_at_start() {
    let server = udp_server();
    let run = run_plain(
        &[
            "-s",
            &server.addr_string(),
            "-U",
            "-X",
            "100000",
            "-x",
            "10",
        ],
        LIMIT,
    );
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("more than one UDP datagram carries"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn facebook_mode_sets_over_tcp_multi_gets_over_udp() {
    let server = udp_server();
    let (run, delta) = run_against(
        &server,
        &["-T", "1", "-c", "4", "-x", "20000", "-a", "-d", "10"],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(
        run.counters().udp_timeouts + run.counters().packets_dropped,
        0
    );
    assert!(get_events(&run) * 10 >= run.counters().cmd_get);
}

#[test]
fn conn_sock_opens_n_sockets_per_concurrency() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(&server, &["-T", "1", "-c", "4", "-x", "4000", "-n", "3"]);
    assert_counts_match(&run, &delta);
    // 4 × 3 sockets, plus the preflight probe and the stats connection after the run.
    let opened = delta.total_connections;
    assert_eq!(opened, 4 * 3 + 2, "connections opened");
}

#[test]
fn rep_write_sends_sets_to_the_first_servers_and_gets_anywhere() {
    let (a, b) = (MemcachedServer::start(), MemcachedServer::start());
    let servers = format!("{},{}", a.addr_string(), b.addr_string());
    let (before_a, before_b) = (a.stats(), b.stats());
    let run = run_with_json(
        &[
            "-s", &servers, "-T", "1", "-c", "4", "-x", "10000", "-p", "1",
        ],
        LIMIT,
    );
    let (da, db) = (a.stats().since(&before_a), b.stats().since(&before_b));
    run.assert_success();
    assert_eq!(
        run.counters().cmd_set,
        da.cmd_set,
        "every SET went to the write server"
    );
    assert_eq!(db.cmd_set, 0);
    assert_eq!(run.counters().cmd_get, da.cmd_get + db.cmd_get);
    assert!(da.cmd_get > 0 && db.cmd_get > 0, "GETs go to either server");
    assert_eq!(run.counters().get_misses, da.get_misses + db.get_misses);
    assert_eq!(
        db.get_misses, db.cmd_get,
        "the server that got no SETs has nothing"
    );
}

#[test]
fn pipelined_requests_are_counted_exactly_in_ascii_and_binary() {
    for protocol in [&[][..], &["-B"][..]] {
        let server = small_server();
        let args = [
            &[
                "-T",
                "1",
                "-c",
                "4",
                "-x",
                "30000",
                "-X",
                "4096",
                "--pipeline",
                "8",
                "-d",
                "3",
            ][..],
            protocol,
        ]
        .concat();
        let (run, delta) = run_against(&server, &args);
        assert_counts_match(&run, &delta);
        assert!(
            delta.get_misses > 0,
            "the small server should evict: {delta:?}"
        );
        assert_eq!(
            run.counters().cmd_get + run.counters().cmd_set,
            30000,
            "-x is exact"
        );
    }
}
