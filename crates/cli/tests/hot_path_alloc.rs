//! The hot path allocates nothing per request in steady state.
//!
//! A counting global allocator sees every allocation of the process. The same in-process run
//! is made twice, with 10x more requests the second time; allocations that grow with the
//! request count would show up as a difference proportional to it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use shardslap_config::{plan, Args, RunConfig};
use shardslap_engine::{preflight, PeriodSample, RunObserver};
use shardslap_testkit::MemcachedServer;

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: defers every operation to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

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
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let outcome = shardslap_engine::run(&cfg, plan, checked, &mut Quiet).unwrap();
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    let c = &outcome.totals.counters;
    (after - before, c.cmd_get + c.cmd_set)
}

#[test]
fn requests_do_not_allocate() {
    let server = MemcachedServer::start();
    let (small_allocs, small_ops) = allocations_for(&server, 2_000);
    let (large_allocs, large_ops) = allocations_for(&server, 20_000);
    assert_eq!((small_ops, large_ops), (2_000, 20_000));
    let extra_allocs = large_allocs.saturating_sub(small_allocs);
    let extra_ops = large_ops - small_ops;
    // Period hand-offs allocate a few histograms per second; requests must not allocate.
    assert!(
        extra_allocs * 100 < extra_ops,
        "{extra_allocs} more allocations for {extra_ops} more requests \
         ({small_allocs} for {small_ops}, {large_allocs} for {large_ops})"
    );
}
