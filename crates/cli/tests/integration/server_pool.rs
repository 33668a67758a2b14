//! `--distribution` over three real memcached servers: every key a run stored is on the
//! server libmemcached maps it to (asked through libmemcached itself), and the servers'
//! stats deltas, summed, equal shardslap's counts. scripts/test.sh runs this binary on both
//! data paths (the second time with SHARDSLAP_DATA_PATH=glommio).

use shardslap_testkit::{
    LibmemcachedDistribution, LibmemcachedPlacement, MemcachedServer, StatsDelta,
};

use crate::engine_counts::{assert_counts_match, LIMIT};
use crate::util::{run_with_json, RunResult};

/// A pool of three servers on loopback ports.
struct Pool {
    servers: Vec<MemcachedServer>,
}

impl Pool {
    fn start() -> Pool {
        Pool {
            servers: (0..3).map(|_| MemcachedServer::start()).collect(),
        }
    }

    /// `-s` with the given weights (`None`: no weight field).
    fn spec(&self, weights: Option<&[u32]>) -> String {
        self.servers
            .iter()
            .enumerate()
            .map(|(i, server)| match weights {
                Some(weights) => format!("{}:{}", server.addr_string(), weights[i]),
                None => server.addr_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Runs shardslap against the pool; returns the run and the summed stats delta.
    fn run(&self, servers: &str, args: &[&str]) -> (RunResult, StatsDelta) {
        let before: Vec<_> = self.servers.iter().map(MemcachedServer::stats).collect();
        let mut full = vec!["-s", servers];
        full.extend_from_slice(args);
        let run = run_with_json(&full, LIMIT);
        let mut sum = StatsDelta::default();
        for (server, before) in self.servers.iter().zip(&before) {
            let delta = server.stats().since(before);
            sum.cmd_get += delta.cmd_get;
            sum.cmd_set += delta.cmd_set;
            sum.get_hits += delta.get_hits;
            sum.get_misses += delta.get_misses;
            sum.bytes_read += delta.bytes_read;
            sum.bytes_written += delta.bytes_written;
        }
        (run, sum)
    }

    /// Asserts every key each server holds is one libmemcached places on that server, and
    /// that every server holds some; returns how many keys there are in all.
    fn assert_placed(&self, distribution: LibmemcachedDistribution, weights: &[u32]) -> usize {
        let members: Vec<(&str, u16, u32)> = self
            .servers
            .iter()
            .zip(weights)
            .map(|(server, &weight)| ("127.0.0.1", server.port(), weight))
            .collect();
        let mut total = 0;
        for (index, server) in self.servers.iter().enumerate() {
            let keys = server.keys();
            assert!(!keys.is_empty(), "server {index} holds no key");
            let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let placed =
                LibmemcachedPlacement::get().servers_for(distribution, &members, &key_refs);
            let wrong = placed.iter().filter(|&&at| at != index).count();
            assert_eq!(
                wrong,
                0,
                "{wrong} of {} keys on server {index} belong elsewhere",
                keys.len()
            );
            total += keys.len();
        }
        total
    }
}

#[test]
fn ketama_with_unequal_weights_puts_every_key_where_libmemcached_does() {
    let pool = Pool::start();
    let weights = [1, 2, 4];
    let servers = pool.spec(Some(&weights));
    let (run, delta) = pool.run(
        &servers,
        &[
            "--distribution",
            "ketama",
            "-T",
            "1",
            "-c",
            "4",
            "-x",
            "8000",
            "-n",
            "2",
        ],
    );
    assert_counts_match(&run, &delta);
    // The config section is the config crate's, not the schema's: read as JSON.
    assert_eq!(run.result().config["distribution"], "ketama");
    let stored = pool.assert_placed(LibmemcachedDistribution::KetamaWeighted, &weights);
    assert!(stored > 500, "{stored} keys stored");
    // Weight 4 of 7 takes the most keys.
    let on_heaviest = pool.servers[2].keys().len();
    assert!(
        on_heaviest * 7 > stored * 3,
        "{on_heaviest} of {stored} keys"
    );
}

#[test]
fn modula_puts_every_key_where_libmemcached_does() {
    let pool = Pool::start();
    let servers = pool.spec(None);
    let (run, delta) = pool.run(
        &servers,
        &[
            "--distribution",
            "modula",
            "-T",
            "2",
            "-c",
            "4",
            "-x",
            "6000",
        ],
    );
    assert_counts_match(&run, &delta);
    pool.assert_placed(LibmemcachedDistribution::Modula, &[1, 1, 1]);
}

#[test]
fn a_multi_get_over_a_pool_is_split_by_server_and_counted_exactly() {
    let pool = Pool::start();
    let weights = [3, 1, 2];
    let servers = pool.spec(Some(&weights));
    let (run, delta) = pool.run(
        &servers,
        &[
            "--distribution",
            "ketama",
            "-T",
            "1",
            "-c",
            "4",
            "-x",
            "20000",
            "-d",
            "10",
            "-v",
            "0.5",
            "--pipeline",
            "2",
        ],
    );
    assert_counts_match(&run, &delta);
    assert_eq!(run.counters().verify_failed, 0);
    assert_eq!(
        run.counters().verify_misses,
        0,
        "every verified key was found"
    );
    pool.assert_placed(LibmemcachedDistribution::KetamaWeighted, &weights);
    // Each 10-key multi-get becomes up to three, one per server.
    let (keys, requests) = (run.counters().cmd_get, run.result().totals.get.ops);
    assert!(
        requests * 10 > keys * 2,
        "{keys} keys in {requests} requests"
    );
}

#[test]
fn binary_meta_and_expiry_work_over_a_pool() {
    let pool = Pool::start();
    let servers = pool.spec(Some(&[2, 1, 1]));
    for protocol in [&["-B"][..], &["--protocol", "meta"]] {
        let mut args = vec![
            "--distribution",
            "ketama",
            "-T",
            "1",
            "-c",
            "3",
            "-x",
            "6000",
            "-d",
            "4",
            "-e",
            "0.2",
        ];
        args.extend_from_slice(protocol);
        let (run, delta) = pool.run(&servers, &args);
        assert_counts_match(&run, &delta);
        assert_eq!(run.counters().verify_failed, 0, "{protocol:?}");
    }
    pool.assert_placed(LibmemcachedDistribution::KetamaWeighted, &[2, 1, 1]);
}
