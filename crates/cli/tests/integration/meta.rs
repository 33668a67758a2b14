//! The meta protocol (`--protocol meta`) against a real memcached 1.6: `ms` sets, `mg` gets and
//! quiet multi-gets ended by `mn`, each count equal to the server's own `stats` deltas.

use shardslap_schema::{ProtocolName, WorkloadSettings};
use shardslap_testkit::MemcachedServer;

use crate::engine_counts::{assert_counts_match, run_against};
use crate::parity::{items_with_ttl, small_server};

#[test]
fn meta_counts_match_and_misses_are_misses() {
    let server = small_server();
    let (run, delta) = run_against(
        &server,
        &[
            "-T",
            "1",
            "-c",
            "4",
            "-x",
            "30000",
            "-X",
            "4096",
            "--protocol",
            "meta",
        ],
    );
    assert_counts_match(&run, &delta);
    assert!(
        delta.get_misses > 0,
        "the small server should evict: {delta:?}"
    );
    let settings = WorkloadSettings::from_config(&run.result().config).unwrap();
    assert_eq!(settings.protocol, Some(ProtocolName::Meta));
    assert_eq!(settings.binary, Some(false));
}

#[test]
fn meta_multi_get_is_quiet_mg_and_mn_and_counts_every_key() {
    let server = small_server();
    let (run, delta) = run_against(
        &server,
        &[
            "-T",
            "1",
            "-c",
            "4",
            "-x",
            "40000",
            "-X",
            "4096",
            "-d",
            "8",
            "--protocol",
            "meta",
        ],
    );
    assert_counts_match(&run, &delta);
    assert!(
        delta.get_misses > 0,
        "the small server should evict: {delta:?}"
    );
    let events = run.result().totals.get.ops;
    let keys = run.counters().cmd_get;
    // Each multi-get asks for 8 keys; only each concurrency's last batch may be shorter.
    assert!(
        events * 8 >= keys && keys > (events - 4) * 8,
        "{keys} keys in {events} requests"
    );
}

#[test]
fn meta_verification_and_expiry_work_as_in_ascii() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &[
            "-T",
            "1",
            "-c",
            "2",
            "-x",
            "8000",
            "-w",
            "1k",
            "-v",
            "1",
            "-e",
            "0.25",
            "-o",
            "0.3",
            "-d",
            "4",
            "--protocol",
            "meta",
        ],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(run.counters().verify_failed, 0, "an honest server");
    assert_eq!(run.counters().verify_misses, 0, "nothing was evicted");
    assert_eq!(
        run.counters().expired_get + run.counters().unexpired_unget,
        0,
        "nothing is 55-65 s old in a short run"
    );
    // `ms … T<exp>` stored the -e share with a TTL.
    let (expiring, items) = items_with_ttl(&server);
    let share = expiring as f64 / items as f64;
    assert!(
        (0.15..=0.35).contains(&share),
        "{expiring} of {items} items have a TTL"
    );
}

#[test]
fn pipelined_meta_requests_are_counted_exactly() {
    let server = small_server();
    let (run, delta) = run_against(
        &server,
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
            "--protocol",
            "meta",
        ],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(
        run.counters().cmd_get + run.counters().cmd_set,
        30000,
        "-x is exact"
    );
}
