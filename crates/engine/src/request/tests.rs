//! The per-request work allocates nothing: 100k requests through encode → (simulated server
//! reply) → decode → interpret → account, counted by a thread-local counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

use bytes::BytesMut;
use shardslap_proto::ascii;
use shardslap_report::ShardStats;
use shardslap_workload::{
    build_distribution, CharBlock, OpKind, Window, WindowParams, WorkloadSpec, MAX_KEY_LEN,
};

use super::{account, encode, interpret};

thread_local! {
    /// Allocations made by this thread (other test threads do not disturb the count).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct CountingAllocator;

// SAFETY: every call is passed to the system allocator unchanged; we only count.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract, which we forward.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract, which we forward.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `realloc`'s contract, which we forward.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// What memcached would answer: the stored value for a GET of a stored item, END for a
/// miss, STORED for a SET. Written into a reused buffer.
fn server_reply(kind: OpKind, request: &[u8], stored: Option<&[u8]>, reply: &mut Vec<u8>) {
    reply.clear();
    match (kind, stored) {
        (OpKind::Set, _) => reply.extend_from_slice(b"STORED\r\n"),
        (OpKind::Get, None) => reply.extend_from_slice(b"END\r\n"),
        (OpKind::Get, Some(value)) => {
            let key = &request[4..request.len() - 2]; // "get <key>\r\n"
            reply.extend_from_slice(b"VALUE ");
            reply.extend_from_slice(key);
            write!(reply, " 0 {}\r\n", value.len()).unwrap();
            reply.extend_from_slice(value);
            reply.extend_from_slice(b"\r\nEND\r\n");
        }
    }
}

#[test]
fn a_request_cycle_does_not_allocate() {
    let spec = WorkloadSpec::memaslap_default();
    let block_len = 4 << 20;
    let block = CharBlock::generate(block_len, 1);
    let mut rng = fastrand::Rng::with_seed(2);
    let distribution = build_distribution(&spec, None, 1024, block_len, &mut rng);
    let params = WindowParams {
        window_len: 1024,
        set_proportion: spec.set_proportion,
        get_proportion: spec.get_proportion,
        overwrite: 0.1,
        verify: 0.5,
        exp_verify: 0.0,
    };
    let mut window = Window::new(params, &distribution, 0, 0);
    let mut stats = ShardStats::new(0, 0);
    let mut key_buf = [0u8; MAX_KEY_LEN];
    let mut send_buf = BytesMut::with_capacity(4096);
    let mut reply = Vec::with_capacity(4096);

    let mut cycle = |window: &mut Window, stats: &mut ShardStats| {
        let op = window.next_op(&mut rng);
        let sent = encode(op, window, &block, &mut key_buf, &mut send_buf);
        let stored = window
            .is_stored(op.slot)
            .then(|| window.value(op.slot, &block));
        server_reply(op.kind, &send_buf, stored, &mut reply);
        let (response, len) = ascii::decode(&reply).unwrap().unwrap();
        assert_eq!(len, reply.len());
        let outcome = interpret(&response, op, window, &block, |_, _, _| {
            panic!("verification failed against an honest reply")
        });
        account(stats, window, sent, outcome, len as u64, Some(25_000));
    };

    // Warm up past the first window wrap, so steady state includes kick-outs.
    for _ in 0..20_000 {
        cycle(&mut window, &mut stats);
    }
    let before = allocations();
    for _ in 0..100_000 {
        cycle(&mut window, &mut stats);
    }
    let allocated = allocations() - before;

    assert_eq!(allocated, 0, "{allocated} allocations in 100k requests");
    let c = &stats.counters;
    assert_eq!(c.cmd_get + c.cmd_set, 120_000);
    assert_eq!(c.get_misses, 0);
    assert_eq!(c.verify_failed, 0);
    assert!(c.verify_misses == 0 && stats.ops.total.count() == 120_000);
}
