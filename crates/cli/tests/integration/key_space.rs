//! `--keys` and its companions against a real memcached: the counts are the server's, a
//! prefill stores every key, `--miss-ratio` is the server's miss ratio, and zipf puts its
//! theoretical share of GETs on the hottest keys — counted on the wire by a proxy.

use shardslap_testkit::{KeyCounter, MemcachedServer};
use shardslap_workload::{zipf_share, ALPHABET, PREFIX_LEN};

use crate::engine_counts::{assert_counts_match, run_against, LIMIT};
use crate::util::run_with_json;

#[test]
fn a_prefilled_key_space_counts_match_the_server_and_every_get_hits() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &[
            "-T",
            "1",
            "-c",
            "4",
            "-x",
            "20000",
            "--keys",
            "3000",
            "--prefill",
        ],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(run.counters().get_misses, 0, "every key was stored first");
    assert_eq!(
        run.result().run.warmup.as_ref().map(|w| w.sets),
        Some(3000),
        "one prefill SET per key"
    );
    assert_eq!(
        run.counters().cmd_get + run.counters().cmd_set,
        20000 + 3000
    );
    // The config section is the config crate's, not the schema's: read as JSON.
    let config = &run.result().config["key_space"];
    assert_eq!(config["keys"], 3000);
    assert_eq!(config["dist"], "uniform");
}

#[test]
fn the_miss_ratio_is_the_servers() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &[
            "-T",
            "1",
            "-c",
            "4",
            "-x",
            "40000",
            "--keys",
            "2000",
            "--prefill",
            "--miss-ratio",
            "0.2",
            "--key-dist",
            "gaussian:1000,300",
        ],
    );
    assert_counts_match(&run, &delta);
    let ratio = delta.get_misses as f64 / delta.cmd_get as f64;
    assert!((ratio - 0.2).abs() <= 0.01, "server miss ratio {ratio:.4}");
}

/// The key index a key's prefix encodes (10 characters of 6 bits, most significant first).
fn key_index(key: &[u8]) -> u64 {
    key[..PREFIX_LEN].iter().fold(0, |index, &c| {
        let digit = ALPHABET
            .iter()
            .position(|&a| a == c)
            .expect("an alphabet character");
        (index << 6) | digit as u64
    })
}

#[test]
fn zipf_puts_its_theoretical_share_of_gets_on_the_hottest_keys_on_the_wire() {
    let server = MemcachedServer::start();
    let counter = KeyCounter::start(server.addr());
    let addr = counter.addr_string();
    let keys = 10_000u64;
    let run = run_with_json(
        &[
            "-s",
            &addr,
            "-T",
            "1",
            "-c",
            "4",
            "-x",
            "60000",
            "--keys",
            "10000",
            "--key-dist",
            "zipf:0.99",
        ],
        LIMIT,
    );
    run.assert_success();
    let counts = counter.counts();
    let gets: u64 = counts.values().sum();
    assert_eq!(gets, run.counters().cmd_get, "the proxy saw every GET key");
    let hot: u64 = counts
        .iter()
        .filter(|(key, _)| key_index(key) < keys / 100)
        .map(|(_, n)| n)
        .sum();
    let measured = hot as f64 / gets as f64;
    let theory = zipf_share(keys, 0.99, keys / 100);
    assert!(
        (measured / theory - 1.0).abs() <= 0.10,
        "{measured:.4} of GETs on the hottest 1% of keys, theory {theory:.4}"
    );
}

#[test]
fn key_space_nonsense_is_one_line_and_exit_2() {
    for (args, says) in [
        (&["--keys", "0"][..], "--keys"),
        (&["--keys", "10", "--key-dist", "zipf:0"][..], "zipf theta"),
        (&["--keys", "10", "--miss-ratio", "1.5"][..], "--miss-ratio"),
        (&["--prefill"][..], "needs --keys"),
    ] {
        crate::util::assert_refused_in_one_line(args, says);
    }
}
