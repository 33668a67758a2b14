//! The per-request work against a simulated memcached (the window knows what is stored):
//! multi-gets match values to keys, binary misses are misses, a corrupted value is caught, and
//! 100k requests through encode → reply → parse → account allocate nothing (counted by a
//! thread-local counting allocator).

use std::io::Write;

use bytes::BytesMut;
use shardslap_proto::{ProtoError, MAX_KEY_LEN};
use shardslap_report::ShardStats;
use shardslap_testkit::{thread_allocations as allocations, CountingAllocator};
use shardslap_workload::{
    build_distribution, CharBlock, Op, OpKind, Window, WindowParams, WorkloadSpec,
};

use super::{account, encode, parse, Expect, Outcome, Protocol, Reply};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// A simulated memcached: answers `ops` as memcached would, from what the window says is
/// stored (`corrupt` flips the first byte of every returned value). Written into `reply`.
struct FakeMemcached {
    key_buf: [u8; MAX_KEY_LEN],
    corrupt: bool,
}

impl FakeMemcached {
    fn new() -> Self {
        Self {
            key_buf: [0; MAX_KEY_LEN],
            corrupt: false,
        }
    }

    fn answer(
        &mut self,
        protocol: Protocol,
        ops: &[Op],
        window: &Window,
        block: &CharBlock,
        reply: &mut Vec<u8>,
    ) {
        reply.clear();
        let multi = ops.len() > 1;
        for (index, op) in ops.iter().enumerate() {
            let key_len = window.write_key(op.slot, block, &mut self.key_buf);
            let key = &self.key_buf[..key_len];
            let value = window.value(op.slot, block);
            let stored = window.is_stored(op.slot);
            match (protocol, op.kind) {
                (Protocol::Ascii, OpKind::Set) => reply.extend_from_slice(b"STORED\r\n"),
                (Protocol::Ascii, OpKind::Get) if stored => {
                    write!(reply, "VALUE ").unwrap();
                    reply.extend_from_slice(key);
                    write!(reply, " 0 {}\r\n", value.len()).unwrap();
                    self.push_value(reply, value);
                    reply.extend_from_slice(b"\r\n");
                }
                (Protocol::Ascii, OpKind::Get) => {}
                (Protocol::Binary, OpKind::Set) => binary_frame(reply, 0x01, 0, 0, &[], &[], &[]),
                (Protocol::Binary, OpKind::Get) if stored => {
                    let (opcode, key) = if multi { (0x0d, key) } else { (0x00, &[][..]) };
                    let at = reply.len();
                    binary_frame(reply, opcode, 0, index as u32, &[0; 4], key, value);
                    if self.corrupt {
                        let data = at + 24 + 4 + key.len();
                        reply[data] ^= 1;
                    }
                }
                (Protocol::Binary, OpKind::Get) if !multi => {
                    binary_frame(reply, 0x00, 1, 0, &[], &[], b"Not found");
                }
                (Protocol::Binary, OpKind::Get) => {}
                (Protocol::Meta, OpKind::Set) => reply.extend_from_slice(b"HD\r\n"),
                (Protocol::Meta, OpKind::Get) if stored => {
                    write!(reply, "VA {} f0 t-1", value.len()).unwrap();
                    if multi {
                        reply.extend_from_slice(b" k");
                        reply.extend_from_slice(key);
                    }
                    reply.extend_from_slice(b"\r\n");
                    self.push_value(reply, value);
                    reply.extend_from_slice(b"\r\n");
                }
                (Protocol::Meta, OpKind::Get) if !multi => reply.extend_from_slice(b"EN\r\n"),
                (Protocol::Meta, OpKind::Get) => {}
            }
        }
        match (protocol, ops[0].kind) {
            (Protocol::Ascii, OpKind::Get) => reply.extend_from_slice(b"END\r\n"),
            (Protocol::Meta, OpKind::Get) if multi => reply.extend_from_slice(b"MN\r\n"),
            (Protocol::Binary, OpKind::Get) if multi => {
                binary_frame(reply, 0x0a, 0, ops.len() as u32, &[], &[], &[]);
            }
            _ => {}
        }
    }

    fn push_value(&self, reply: &mut Vec<u8>, value: &[u8]) {
        let at = reply.len();
        reply.extend_from_slice(value);
        if self.corrupt && !value.is_empty() {
            reply[at] ^= 1;
        }
    }
}

/// Appends one binary response frame.
fn binary_frame(
    out: &mut Vec<u8>,
    opcode: u8,
    status: u16,
    opaque: u32,
    extras: &[u8],
    key: &[u8],
    value: &[u8],
) {
    let body = extras.len() + key.len() + value.len();
    out.push(0x81);
    out.push(opcode);
    out.extend_from_slice(&(key.len() as u16).to_be_bytes());
    out.push(extras.len() as u8);
    out.push(0);
    out.extend_from_slice(&status.to_be_bytes());
    out.extend_from_slice(&(body as u32).to_be_bytes());
    out.extend_from_slice(&opaque.to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(extras);
    out.extend_from_slice(key);
    out.extend_from_slice(value);
}

/// Everything one simulated client needs.
struct Bench {
    protocol: Protocol,
    multi_get_keys: usize,
    block: CharBlock,
    window: Window,
    rng: fastrand::Rng,
    stats: ShardStats,
    key_buf: [u8; MAX_KEY_LEN],
    send_buf: BytesMut,
    reply: Vec<u8>,
    server: FakeMemcached,
    pending: Vec<Op>,
    batch: Vec<Op>,
    verify_failures: u64,
}

impl Bench {
    fn new(protocol: Protocol, multi_get_keys: usize, overwrite: f64) -> Self {
        let spec = WorkloadSpec::memaslap_default();
        let block_len = 4 << 20;
        let block = CharBlock::generate(block_len, 1);
        let mut rng = fastrand::Rng::with_seed(2);
        let distribution = build_distribution(&spec, None, 1024, block_len, &mut rng);
        let params = WindowParams {
            window_len: 1024,
            set_proportion: spec.set_proportion,
            get_proportion: spec.get_proportion,
            overwrite,
            verify: 0.5,
            exp_verify: 0.0,
        };
        Self {
            protocol,
            multi_get_keys,
            block,
            window: Window::new(params, &distribution, 0, 0),
            rng,
            stats: ShardStats::new(0, 0),
            key_buf: [0; MAX_KEY_LEN],
            send_buf: BytesMut::with_capacity(4096),
            reply: Vec::with_capacity(64 << 10),
            server: FakeMemcached::new(),
            pending: Vec::with_capacity(multi_get_keys),
            batch: Vec::with_capacity(multi_get_keys),
            verify_failures: 0,
        }
    }

    /// Draws operations as a concurrency does until one request is ready, then runs it.
    fn step(&mut self) {
        let op = self.window.next_op(&mut self.rng);
        self.batch.clear();
        if op.kind == OpKind::Set {
            self.batch.push(op);
        } else {
            self.pending.push(op);
            if self.pending.len() < self.multi_get_keys {
                return;
            }
            self.batch.append(&mut self.pending);
        }
        let outcome = self.exchange();
        let read = self.reply.len() as u64;
        self.send_buf.clear();
        let sent = encode(
            self.protocol,
            &self.batch,
            &self.window,
            &self.block,
            &mut self.key_buf,
            &mut self.send_buf,
        );
        account(
            &mut self.stats,
            &mut self.window,
            &self.batch,
            sent,
            outcome,
            read,
            Some(25_000),
        );
    }

    /// Parses a whole `reply` to `ops` in one piece; any verification failure panics.
    fn parse_honest(
        &mut self,
        ops: &[Op],
        reply: &[u8],
    ) -> (Result<Option<usize>, ProtoError>, Outcome) {
        let expect = Expect {
            protocol: self.protocol,
            ops,
            window: &self.window,
            block: &self.block,
        };
        let mut progress = Reply::default();
        let done = parse(
            expect,
            reply,
            &mut progress,
            &mut self.key_buf,
            |_, _, _| panic!("verification failed against an honest reply"),
        );
        (done, progress.outcome())
    }

    /// Encodes the batch, lets the fake answer, and parses the reply fed in two pieces.
    fn exchange(&mut self) -> Outcome {
        self.send_buf.clear();
        encode(
            self.protocol,
            &self.batch,
            &self.window,
            &self.block,
            &mut self.key_buf,
            &mut self.send_buf,
        );
        self.server.answer(
            self.protocol,
            &self.batch,
            &self.window,
            &self.block,
            &mut self.reply,
        );
        let expect = Expect {
            protocol: self.protocol,
            ops: &self.batch,
            window: &self.window,
            block: &self.block,
        };
        let mut reply = Reply::default();
        let failures = &mut self.verify_failures;
        let mut on_failure = |_: &[u8], _: &[u8], _: &[u8]| *failures += 1;
        let half = self.reply.len() / 2;
        let first = parse(
            expect,
            &self.reply[..half],
            &mut reply,
            &mut self.key_buf,
            &mut on_failure,
        );
        assert_eq!(first, Ok(None), "half a reply must not complete");
        let whole = parse(
            expect,
            &self.reply,
            &mut reply,
            &mut self.key_buf,
            &mut on_failure,
        );
        assert_eq!(whole, Ok(Some(self.reply.len())));
        reply.outcome()
    }
}

#[test]
fn a_request_cycle_does_not_allocate() {
    for (protocol, keys) in [
        (Protocol::Ascii, 1),
        (Protocol::Ascii, 10),
        (Protocol::Meta, 1),
        (Protocol::Meta, 10),
        (Protocol::Binary, 1),
        (Protocol::Binary, 10),
    ] {
        let mut bench = Bench::new(protocol, keys, 0.1);
        // Warm up past the first window wrap, so steady state includes kick-outs.
        for _ in 0..20_000 {
            bench.step();
        }
        let before = allocations();
        for _ in 0..100_000 {
            bench.step();
        }
        let allocated = allocations() - before;

        assert_eq!(
            allocated, 0,
            "{protocol:?} -d {keys}: {allocated} allocations"
        );
        let c = &bench.stats.counters;
        let ops = c.cmd_get + c.cmd_set;
        assert!(
            (119_000..=120_000).contains(&ops),
            "{protocol:?} -d {keys}: {ops} ops"
        );
        assert_eq!(c.get_misses, 0, "{protocol:?} -d {keys}");
        assert_eq!(
            c.verify_failed + bench.verify_failures,
            0,
            "{protocol:?} -d {keys}"
        );
        assert!(
            c.verify_misses == 0 && c.errors == 0,
            "{protocol:?} -d {keys}"
        );
        // One latency event per request: a multi-get is one GET event for many keys.
        let get_events = bench.stats.ops.get.count();
        assert!(
            get_events * keys as u64 <= c.cmd_get && c.cmd_get < (get_events + 1) * keys as u64
        );
    }
}

#[test]
fn multi_get_misses_are_the_keys_not_returned() {
    for protocol in [Protocol::Ascii, Protocol::Meta, Protocol::Binary] {
        let mut bench = Bench::new(protocol, 4, 0.0);
        for _ in 0..2000 {
            bench.step();
        }
        // Ask for four stored items, then forget two of them server-side by answering for a
        // window in which they are unset: build the reply first, then ask with all four.
        let stored: Vec<usize> = (0..bench.window.len())
            .filter(|&slot| bench.window.is_stored(slot))
            .take(4)
            .collect();
        let op = |slot| Op {
            kind: OpKind::Get,
            slot,
            overwrite: false,
            verify: true,
        };
        let present = [op(stored[0]), op(stored[2])];
        bench.server.answer(
            protocol,
            &present,
            &bench.window,
            &bench.block,
            &mut bench.reply,
        );
        if protocol == Protocol::Binary {
            // The NOOP's reply closes the batch of four, not of two.
            let frames = bench.reply.len();
            bench.reply.truncate(frames - 24);
            binary_frame(&mut bench.reply, 0x0a, 0, 4, &[], &[], &[]);
        }
        // (The text protocols close a batch with END / MN whatever its size.)
        let asked: Vec<Op> = stored.iter().map(|&slot| op(slot)).collect();
        let reply = bench.reply.clone();
        let (done, outcome) = bench.parse_honest(&asked, &reply);
        assert_eq!(done, Ok(Some(reply.len())), "{protocol:?}");
        assert!(outcome.answered && !outcome.server_error, "{protocol:?}");
        assert_eq!(
            (outcome.misses, outcome.verify_misses),
            (2, 2),
            "{protocol:?}"
        );
    }
}

#[test]
fn a_corrupted_value_fails_verification() {
    for (protocol, keys) in [
        (Protocol::Ascii, 1),
        (Protocol::Meta, 1),
        (Protocol::Meta, 3),
        (Protocol::Binary, 1),
        (Protocol::Binary, 3),
    ] {
        let mut bench = Bench::new(protocol, keys, 0.0);
        bench.server.corrupt = true;
        for _ in 0..5000 {
            bench.step();
        }
        let c = &bench.stats.counters;
        assert!(c.verify_failed > 0, "{protocol:?} -d {keys}");
        assert_eq!(
            c.verify_failed, bench.verify_failures,
            "{protocol:?} -d {keys}"
        );
        assert_eq!(c.get_misses, 0, "{protocol:?} -d {keys}");
    }
}

#[test]
fn binary_get_miss_is_a_miss_not_a_hit() {
    let mut bench = Bench::new(Protocol::Binary, 1, 0.0);
    bench.step(); // The first op is a SET of slot 0; it is stored now.
    let get = Op {
        kind: OpKind::Get,
        slot: 0,
        overwrite: false,
        verify: true,
    };
    let mut reply = Vec::new();
    binary_frame(&mut reply, 0x00, 1, 0, &[], &[], b"Not found");
    let (done, outcome) = bench.parse_honest(&[get], &reply);
    assert_eq!(done, Ok(Some(reply.len())));
    assert_eq!(
        (outcome.misses, outcome.verify_misses, outcome.verify_failed),
        (1, 1, 0)
    );
}

#[test]
fn meta_get_miss_is_a_miss_and_a_refused_set_is_answered_but_not_stored() {
    let mut bench = Bench::new(Protocol::Meta, 1, 0.0);
    bench.step(); // The first op is a SET of slot 0; it is stored now.
    let get = Op {
        kind: OpKind::Get,
        slot: 0,
        overwrite: false,
        verify: true,
    };
    let (done, outcome) = bench.parse_honest(&[get], b"EN\r\n");
    assert_eq!(done, Ok(Some(4)));
    assert!(outcome.answered && !outcome.server_error);
    assert_eq!(
        (outcome.misses, outcome.verify_misses, outcome.verify_failed),
        (1, 1, 0)
    );

    let set = Op {
        kind: OpKind::Set,
        ..get
    };
    let (done, outcome) = bench.parse_honest(&[set], b"NS\r\n");
    assert_eq!(done, Ok(Some(4)));
    assert!(outcome.answered && !outcome.stored && !outcome.server_error);
    let refused = b"SERVER_ERROR out of memory storing object\r\n";
    let (done, outcome) = bench.parse_honest(&[set], refused);
    assert_eq!(done, Ok(Some(refused.len())));
    assert!(outcome.answered && !outcome.stored && outcome.server_error);
}

#[test]
fn a_meta_multi_get_reply_that_names_an_unrequested_key_is_an_error() {
    let mut bench = Bench::new(Protocol::Meta, 2, 0.0);
    for _ in 0..200 {
        bench.step();
    }
    let stored: Vec<Op> = (0..bench.window.len())
        .filter(|&slot| bench.window.is_stored(slot))
        .take(2)
        .map(|slot| Op {
            kind: OpKind::Get,
            slot,
            overwrite: false,
            verify: false,
        })
        .collect();
    let reply = b"VA 1 f0 t-1 knobody\r\nx\r\nMN\r\n";
    let (done, outcome) = bench.parse_honest(&stored, reply);
    assert_eq!(done, Ok(Some(reply.len())));
    assert!(outcome.answered && outcome.server_error);
}

#[test]
fn a_multi_get_split_by_server_keeps_every_key_once_and_allocates_nothing() {
    use shardslap_workload::{Member, Placement};

    use super::ByServer;

    let hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
    let members: Vec<Member<'_>> = hosts
        .iter()
        .zip([1, 2, 3])
        .map(|(host, weight)| Member {
            host,
            port: 11211,
            weight,
        })
        .collect();
    for placement in [Placement::ketama(&members), Placement::modula(3)] {
        let mut bench = Bench::new(Protocol::Ascii, 10, 0.0);
        let ops: Vec<Op> = (0..10)
            .map(|slot| Op {
                kind: OpKind::Get,
                slot,
                overwrite: false,
                verify: false,
            })
            .collect();
        let mut by_server = ByServer::with_capacity(10);
        let before = allocations();
        for _ in 0..1000 {
            by_server.split(
                &placement,
                &ops,
                &bench.window,
                &bench.block,
                &mut bench.key_buf,
            );
        }
        assert_eq!(allocations() - before, 0, "{placement:?}");
        let mut seen = Vec::new();
        let mut last_server = None;
        for group in 0..by_server.len() {
            let (server, group_ops) = by_server.group(group);
            assert!(last_server < Some(server), "one group per server, in order");
            last_server = Some(server);
            for op in group_ops {
                let len = bench
                    .window
                    .write_key(op.slot, &bench.block, &mut bench.key_buf);
                assert_eq!(placement.server_for(&bench.key_buf[..len]), server);
                seen.push(op.slot);
            }
        }
        // Every key exactly once, and within a server in request order.
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert!(by_server.len() > 1, "10 keys over 3 servers: {seen:?}");
    }
}
