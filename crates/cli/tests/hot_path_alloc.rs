//! Allocations per request in a whole run, in-process, against a real memcached.
//!
//! shardslap's own per-request work allocates nothing (proved exactly by the engine's
//! `request` unit test), and on the ring's data path nothing else does either: the driver's
//! connections own their buffers and in-flight queues from the start. (glommio's sockets,
//! the fallback, allocate a poll `Source` each time a read waits: about 2.4 per request.)
//!
//! A counting global allocator sees every allocation of the process. The same run is made
//! twice, with 10x more requests the second time; the difference divided by the extra
//! requests is the per-request cost.

#![allow(clippy::unwrap_used)] // Test helpers: a failure should panic with its cause.

use clap::Parser;
use shardslap_config::{plan, Args, RunConfig};
use shardslap_engine::{preflight, PeriodSample, RunObserver};
use shardslap_report::test_support::sample_info;
use shardslap_testkit::{process_allocations, CountingAllocator, MemcachedServer};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

struct Quiet;

impl RunObserver for Quiet {
    fn on_period(&mut self, _: &PeriodSample<'_>) {}
}

/// Allocations made by one in-process run of `ops` requests, and the requests it made.
fn allocations_for(server: &MemcachedServer, ops: u64) -> (u64, u64) {
    let addr = server.addr_string();
    let ops_arg = ops.to_string();
    let args = Args::try_parse_from([
        "shardslap",
        "-s",
        &addr,
        "-T",
        "1",
        "--cores",
        "0",
        "-c",
        "4",
        "-w",
        "1k",
        "-x",
        &ops_arg,
        "--seed",
        "1",
    ])
    .unwrap();
    let cfg = RunConfig::from_args(args).unwrap();
    let plan = plan(&cfg);
    let checked = preflight(&cfg).unwrap();
    let before = process_allocations();
    // What the report says of the run does not matter here.
    let info = sample_info();
    let outcome = shardslap_engine::run(plan, checked, info, &mut Quiet).unwrap();
    let after = process_allocations();
    let c = &outcome.totals.counters;
    (after - before, c.cmd_get + c.cmd_set)
}

/// What a run may allocate per request in steady state: per period and per run costs only.
const ALLOCATIONS_PER_REQUEST: f64 = 0.01;

#[test]
fn a_whole_run_allocates_nothing_per_request() {
    let server = MemcachedServer::start();
    let (small_allocs, small_ops) = allocations_for(&server, 2_000);
    let (large_allocs, large_ops) = allocations_for(&server, 20_000);
    assert_eq!((small_ops, large_ops), (2_000, 20_000));
    let extra_allocs = large_allocs.saturating_sub(small_allocs);
    let extra_ops = large_ops - small_ops;
    let per_request = extra_allocs as f64 / extra_ops as f64;
    println!("allocations per request: {per_request:.4}");
    assert!(
        per_request < ALLOCATIONS_PER_REQUEST,
        "{per_request:.2} allocations per request: {extra_allocs} more allocations for \
         {extra_ops} more requests ({small_allocs} for {small_ops}, {large_allocs} for {large_ops})"
    );
}
