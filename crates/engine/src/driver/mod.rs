//! The data path on a ring of our own: one driver per executor owns every TCP connection of
//! the shards on its core and moves their bytes through its own io_uring.
//!
//! Each loop turn: reap the completions of the last wait (one clock read ends every reply in
//! the batch), parse and account replies, run the housekeeping that is due (response and
//! connect timeouts, reconnects, the stop and start signals), hand off passed period
//! boundaries, draw and encode the next requests of every concurrency that can send, hand the
//! sends to the ring (a second clock read starts their latency), then submit and wait in one
//! `io_uring_enter` bounded by the driver's next deadline. glommio keeps placement and the
//! channels; the driver is the only task of its executor, so blocking in its own ring starves
//! nothing.

mod concurrency;
mod connection;
mod periods;
mod tls;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_uring::opcode;
use shardslap_config::{Behaviour, Pick};
use shardslap_proto::MAX_KEY_LEN;
use shardslap_workload::{Op, OpKind};

use crate::link::LinkError;
use crate::pacer;
use crate::request::{self, ByServer, Expect, Failure, Sent};
use crate::shard::{self, ExitGuard, ShardInputs, ShardMsg, WARMUP_PROGRESS_EVERY};
use crate::shard_state::ShardState;
use crate::uring::{on_socket, Completion, Gather, OpTag, Ring, Socket, Token};
use crate::RunControl;

use concurrency::{Concurrency, Draw, DrawLimits, Phase};
use connection::{AfterClose, Connection, LinkState, Retry};
use periods::Periods;

/// How often timeouts, reconnects and the run-wide control are looked at; also the longest
/// wait in the ring, so a stop is noticed promptly.
const HOUSEKEEPING: Duration = Duration::from_millis(5);
/// First wait before reconnecting a lost connection; doubled per failed attempt.
const RECONNECT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// Longest wait between reconnect attempts.
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// `IORING_RECVSEND_POLL_FIRST` (Linux 5.19; the ring itself needs 6.1): arm the socket's poll
/// without first trying the operation.
const RECVSEND_POLL_FIRST: u16 = 1;
/// With `--pipeline` above 1, the longest a wait goes on gathering replies after the first
/// (see [`Driver::gather`]). Measured against 0–200 µs on loopback: from about 50 µs a
/// pipelined op costs the client well under half of what waking per reply does, and the
/// server less too (fewer, fuller segments); 100 µs stays far below a pipelined reply's
/// queueing time (about 1 ms at `--pipeline 16 -c 16`).
const PIPELINE_GATHER: Duration = Duration::from_micros(100);
/// How long the end of a run waits for the ring to give back the buffers of closed sockets.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// One shard driven by this executor's driver.
#[derive(Debug)]
struct ShardSlot {
    shard: usize,
    state: ShardState,
    /// Sends `Exited` when the driver is done with the shard.
    _guard: ExitGuard,
    /// Concurrencies not yet connected and warmed up (nor failed); `Ready` goes at 0.
    unready: usize,
    ready_sent: bool,
    /// Warm-up SETs to make (known once its concurrencies connected); those answered are
    /// the shard's `warmup_sets` counter.
    warmup_total: u64,
}

/// Which connections a concurrency has and which of them carry SETs and GETs.
#[derive(Debug)]
struct Links {
    connections: Vec<usize>,
    /// Positions in `connections` a SET may go to.
    set: Vec<usize>,
    /// Positions in `connections` a GET may go to.
    get: Vec<usize>,
    /// The server (index into the run's) of each position in `connections`.
    servers: Vec<usize>,
    /// In turn, at random (`-p`), or by key (`--distribution`).
    pick: Pick,
    next: usize,
}

/// A server address laid out for `connect(2)`, at a stable place while a connect is in the
/// ring.
#[derive(Clone, Copy)]
struct SockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl SockAddr {
    fn new(addr: SocketAddr) -> SockAddr {
        // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let len = match addr {
            SocketAddr::V4(v4) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: v4.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(v4.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
                unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
                std::mem::size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(v6) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: v6.port().to_be(),
                    sin6_flowinfo: v6.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: v6.ip().octets(),
                    },
                    sin6_scope_id: v6.scope_id(),
                };
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
                unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
                std::mem::size_of::<libc::sockaddr_in6>()
            }
        };
        SockAddr {
            storage,
            len: len as libc::socklen_t,
        }
    }
}

/// The run-wide choices every concurrency shares.
#[derive(Debug, Clone, Copy)]
struct Settings {
    behaviour: Behaviour,
    limits: DrawLimits,
    stop: shardslap_config::StopCondition,
    period: Duration,
    /// With `--pipeline` above 1 on a kernel that can: how long a wait gathers replies.
    gather: Option<Duration>,
}

/// Where the driver is in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Connecting and warming up; the start is not known yet.
    Preparing,
    /// Every shard is ready; the clock starts at this instant.
    Starting(Instant),
    /// The clock runs.
    Running,
}

/// One executor's driver and everything it owns.
struct Driver {
    // Declared first so it is dropped first: the kernel lets go of every buffer below.
    ring: Ring,
    settings: Settings,
    /// `--tls`: where each connection's session comes from.
    tls: Option<Arc<crate::TlsClient>>,
    control: Arc<RunControl>,
    tx: Sender<ShardMsg>,
    shards: Vec<ShardSlot>,
    concurrencies: Vec<Concurrency>,
    links: Vec<Links>,
    /// Each concurrency's index in the whole run (its `-P` phase).
    pacing_index: Vec<usize>,
    connections: Vec<Connection>,
    /// Each connection's server address, never moved while the driver lives.
    sockaddrs: Box<[SockAddr]>,
    /// Concurrencies that may be able to send, each at most once (`queued`).
    ready: VecDeque<usize>,
    queued: Vec<bool>,
    /// Paced concurrencies waiting for their next due time, each at most once (`scheduled`).
    paced: BinaryHeap<Reverse<(Instant, usize)>>,
    scheduled: Vec<bool>,
    /// Connections with requests to hand to the ring this turn, each at most once.
    dirty: Vec<usize>,
    is_dirty: Vec<bool>,
    completions: Vec<Completion>,
    ops_buf: Vec<Op>,
    /// `--distribution`: the staged request grouped by server, and each group's connection.
    by_server: ByServer,
    group_connections: Vec<usize>,
    key_buf: [u8; MAX_KEY_LEN],
    stage: Stage,
    started_at: Option<Instant>,
    periods: Option<Periods>,
    /// The run is ending: the stop has been passed on to every concurrency.
    stopping: bool,
    next_housekeeping: Instant,
    warmup_started: Instant,
    next_warmup_progress: Instant,
    /// Concurrencies that count as ready for the start (connected and warmed up, or failed),
    /// and those that are done for good; each counted once.
    counted_ready: Vec<bool>,
    counted_done: Vec<bool>,
    done: usize,
    /// Why the ring itself failed, if it did: the run ends and its buffers are never freed.
    broken: Option<String>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("shards", &self.shards.len())
            .field("connections", &self.connections.len())
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

/// Runs the shards of one executor on `ring` until they are done, reporting to `tx` as the
/// glommio path does.
pub(crate) async fn run(ring: Ring, shards: Vec<(ShardInputs, ExitGuard)>, tx: Sender<ShardMsg>) {
    let Some(mut driver) = Driver::new(ring, shards, tx) else {
        return;
    };
    let now = Instant::now();
    for connection in 0..driver.connections.len() {
        driver.start_connect(connection, now);
    }
    let mut wait = Duration::ZERO;
    loop {
        let gather = driver.gather();
        if let Err(err) = driver.ring.submit_and_wait(wait, gather) {
            driver.broken = Some(format!("io_uring_enter failed: {err}"));
            break;
        }
        let now = Instant::now();
        driver.reap(now);
        if now >= driver.next_housekeeping {
            driver.housekeeping(now);
        }
        driver.start_if_due(now);
        driver.hand_off_periods(now);
        driver.wake_paced(now);
        driver.fill(now);
        driver.flush(Instant::now());
        if driver.is_finished() {
            break;
        }
        wait = driver.next_wait(Instant::now());
        glommio::yield_if_needed().await;
    }
    driver.finish();
}

impl Driver {
    fn new(
        ring: Ring,
        inputs: Vec<(ShardInputs, ExitGuard)>,
        tx: Sender<ShardMsg>,
    ) -> Option<Driver> {
        let (first, _) = inputs.first()?;
        // Every shard of a run has the same settings.
        let run = first.spec.settings.clone();
        let control = first.control.clone();
        let tls = first.tls.clone();
        let behaviour = run.behaviour;
        let settings = Settings {
            behaviour,
            limits: DrawLimits {
                pipeline: behaviour.pipeline.max(1),
                multi_get_keys: behaviour.multi_get_keys.max(1),
            },
            stop: run.stop,
            period: shard::period_of(run.stat_freq),
            gather: (behaviour.pipeline > 1 && ring.gathers()).then_some(PIPELINE_GATHER),
        };
        let mut shards = Vec::with_capacity(inputs.len());
        let mut concurrencies = Vec::new();
        let mut links = Vec::new();
        let mut connections = Vec::new();
        let mut global_index = Vec::new();
        for (slot, (input, guard)) in inputs.into_iter().enumerate() {
            let spec = &input.spec;
            for conc in &spec.concurrencies {
                let window = shard::window_for(&run, &input.distribution, spec.shard, conc);
                let rng = fastrand::Rng::with_seed(shard::conn_seed(
                    behaviour.seed,
                    spec.shard,
                    conc.local_index,
                ));
                let index = concurrencies.len();
                concurrencies.push(Concurrency::new(
                    slot,
                    window,
                    rng,
                    conc.ops_budget,
                    settings.limits.multi_get_keys,
                ));
                global_index.push(conc.index);
                let routes = &conc.routes;
                let first_connection = connections.len();
                for &(server, _) in &routes.links {
                    connections.push(Connection::new(
                        input.server_addrs[server],
                        index,
                        settings.limits.pipeline,
                        settings.limits.multi_get_keys,
                    ));
                }
                links.push(Links {
                    connections: (first_connection..connections.len()).collect(),
                    set: routes.set.clone(),
                    get: routes.get.clone(),
                    servers: routes.links.iter().map(|&(server, _)| server).collect(),
                    pick: routes.pick.clone(),
                    next: 0,
                });
            }
            shards.push(ShardSlot {
                shard: spec.shard,
                state: ShardState::new(
                    spec.shard,
                    spec.cpu,
                    input.block.clone(),
                    input.spares,
                    &run,
                ),
                _guard: guard,
                unready: spec.concurrencies.len(),
                ready_sent: false,
                warmup_total: 0,
            });
        }
        let sockaddrs = connections
            .iter()
            .map(|connection| SockAddr::new(connection.addr))
            .collect();
        let count = concurrencies.len();
        let now = Instant::now();
        let mut driver = Driver {
            ring,
            settings,
            tls,
            control,
            tx,
            shards,
            concurrencies,
            links,
            pacing_index: global_index,
            sockaddrs,
            ready: VecDeque::with_capacity(count),
            queued: vec![false; count],
            paced: BinaryHeap::with_capacity(count),
            scheduled: vec![false; count],
            dirty: Vec::with_capacity(connections.len()),
            is_dirty: vec![false; connections.len()],
            connections,
            completions: Vec::with_capacity(1024),
            ops_buf: Vec::with_capacity(settings.limits.multi_get_keys),
            by_server: ByServer::with_capacity(settings.limits.multi_get_keys),
            group_connections: Vec::with_capacity(settings.limits.multi_get_keys),
            key_buf: [0; MAX_KEY_LEN],
            stage: Stage::Preparing,
            started_at: None,
            periods: None,
            stopping: false,
            next_housekeeping: now,
            warmup_started: now,
            next_warmup_progress: now + WARMUP_PROGRESS_EVERY,
            counted_ready: vec![false; count],
            counted_done: vec![false; count],
            done: 0,
            broken: None,
        };
        // Shards with no concurrency are ready at once.
        for slot in 0..driver.shards.len() {
            driver.send_ready_if_due(slot);
        }
        Some(driver)
    }

    // ---- The turn ----

    /// Routes every completion the last wait brought to its connection.
    fn reap(&mut self, now: Instant) {
        let mut completions = std::mem::take(&mut self.completions);
        self.ring.reap(&mut completions);
        for completion in &completions {
            let connection = completion.token.connection as usize;
            if connection >= self.connections.len() {
                continue;
            }
            match completion.token.op {
                OpTag::Connect => self.on_connect_done(connection, completion.result, now),
                OpTag::Send => self.on_send_done(connection, completion.result, now),
                OpTag::Recv => self.on_recv_done(connection, completion.result, now),
                OpTag::Cancel => {}
            }
        }
        self.completions = completions;
    }

    /// Every few milliseconds: the start and stop signals, response and connect timeouts,
    /// reconnects that are due.
    fn housekeeping(&mut self, now: Instant) {
        self.next_housekeeping = now + HOUSEKEEPING;
        let stop_requested = self.control.stop_requested();
        match self.stage {
            Stage::Preparing if self.shards.iter().all(|slot| slot.ready_sent) => {
                if let Some(start) = self.control.start() {
                    self.stage = Stage::Starting(start);
                } else if stop_requested {
                    self.stage = Stage::Starting(now);
                }
            }
            Stage::Preparing | Stage::Starting(_) => {}
            Stage::Running if stop_requested => {
                for slot in &self.shards {
                    slot.state.stop.request();
                }
            }
            Stage::Running => {}
        }
        if stop_requested {
            self.start_if_due(now);
        }
        if self.stage == Stage::Preparing && now >= self.next_warmup_progress {
            self.next_warmup_progress = now + WARMUP_PROGRESS_EVERY;
            for slot in self.shards.iter().filter(|slot| slot.warmup_total > 0) {
                let _ = self.tx.send(ShardMsg::WarmupProgress {
                    shard: slot.shard,
                    done: slot.state.stats.borrow().counters.warmup_sets,
                    total: slot.warmup_total,
                });
            }
        }
        let timeout = self.settings.behaviour.timeout;
        for connection in 0..self.connections.len() {
            let conn = &self.connections[connection];
            match conn.state {
                LinkState::Up => {
                    let stalled = conn
                        .waiting_since()
                        .is_some_and(|since| now.saturating_duration_since(since) >= timeout);
                    if stalled {
                        let addr = conn.addr;
                        self.fail(connection, LinkError::Timeout { addr, timeout }, now);
                    }
                }
                LinkState::Connecting { deadline } if now >= deadline => {
                    self.begin_close(connection, AfterClose::ConnectTimedOut, now);
                }
                LinkState::Handshaking { deadline } if now >= deadline => {
                    let reason = format!("the TLS handshake did not finish within {timeout:?}");
                    self.handshake_failed(connection, reason, now);
                }
                LinkState::Down => {
                    let due = conn.retry.is_some_and(|retry| retry.next_attempt <= now);
                    let owner = &self.concurrencies[conn.concurrency];
                    if due && !self.stopping && owner.phase != Phase::Finished {
                        self.start_connect(connection, now);
                    }
                }
                LinkState::Connecting { .. }
                | LinkState::Handshaking { .. }
                | LinkState::Closing { .. } => {}
            }
        }
    }

    /// Starts the clock once its instant has come (or a stop was asked for while waiting).
    fn start_if_due(&mut self, now: Instant) {
        if let Stage::Starting(start) = self.stage {
            if now >= start || self.control.stop_requested() {
                self.begin_run(start);
            }
        }
    }

    /// The clock starts: every concurrency may draw, paced from `start` with `-P`.
    fn begin_run(&mut self, start: Instant) {
        self.stage = Stage::Running;
        self.started_at = Some(start);
        self.periods = Some(Periods::new(start, self.settings.period));
        let stop_requested = self.control.stop_requested();
        for slot in &self.shards {
            slot.state
                .stop
                .begin(start, self.settings.stop, stop_requested);
        }
        for index in 0..self.concurrencies.len() {
            let pacer =
                pacer::for_concurrency(&self.settings.behaviour, self.pacing_index[index], start);
            self.concurrencies[index].start(pacer);
            self.queue(index);
        }
    }

    /// Hands every passed period boundary's statistics to the main thread.
    fn hand_off_periods(&mut self, now: Instant) {
        let Some(periods) = self.periods.as_mut() else {
            return;
        };
        while let Some(index) = periods.next_ended(now) {
            for slot in &self.shards {
                let _ = self.tx.send(ShardMsg::Period {
                    shard: slot.shard,
                    index,
                    stats: slot.state.stats.take(),
                });
            }
        }
    }

    /// Queues the paced concurrencies whose due time has come; at the end of the run, all.
    fn wake_paced(&mut self, now: Instant) {
        if self.stage == Stage::Running
            && !self.stopping
            && self
                .shards
                .iter()
                .any(|slot| slot.state.stop.should_stop(now))
        {
            // The run ends: every concurrency hears it, whatever it waits for.
            self.stopping = true;
            self.paced.clear();
            self.scheduled.iter_mut().for_each(|s| *s = false);
            for index in 0..self.concurrencies.len() {
                self.queue(index);
            }
        }
        while let Some(&Reverse((due, index))) = self.paced.peek() {
            if due > now {
                break;
            }
            self.paced.pop();
            self.scheduled[index] = false;
            self.queue(index);
        }
    }

    /// Draws and encodes the next requests of every concurrency that may be able to send.
    fn fill(&mut self, now: Instant) {
        while let Some(index) = self.ready.pop_front() {
            self.queued[index] = false;
            loop {
                let limits = self.settings.limits;
                match self.concurrencies[index].draw(limits, self.stopping, now) {
                    Draw::Ready => {
                        if !self.send_staged(index) {
                            break; // No connection is up; a reconnect queues it again.
                        }
                    }
                    Draw::NotDue(due) => {
                        if !self.scheduled[index] {
                            self.scheduled[index] = true;
                            self.paced.push(Reverse((due, index)));
                        }
                        break;
                    }
                    Draw::Blocked | Draw::Exhausted => break,
                }
            }
            let dropped = self.concurrencies[index].take_dropped();
            if dropped > 0 {
                let slot = self.concurrencies[index].shard;
                self.shards[slot].state.stats.borrow_mut().counters.dropped += dropped;
            }
            self.note_progress(index);
        }
    }

    /// Encodes the staged request of concurrency `index` into the connection it routes to;
    /// false when none of its eligible connections is up.
    fn send_staged(&mut self, index: usize) -> bool {
        if matches!(self.links[index].pick, Pick::ByKey(_)) {
            return self.send_staged_by_key(index);
        }
        let kind = self.concurrencies[index]
            .staged()
            .first()
            .map_or(OpKind::Get, |op| op.kind);
        let Some(connection) = self.route(index, kind, None) else {
            return false;
        };
        let Driver {
            concurrencies,
            connections,
            shards,
            ops_buf,
            key_buf,
            settings,
            ..
        } = self;
        let conc = &mut concurrencies[index];
        ops_buf.clear();
        ops_buf.extend_from_slice(conc.staged());
        let conn = &mut connections[connection];
        let block = &shards[conc.shard].state.block;
        let protocol = settings.behaviour.protocol;
        let sent = request::encode(
            protocol,
            ops_buf,
            &conc.window,
            block,
            key_buf,
            conn.out_buf(),
        );
        let measured = conc.measuring();
        let due = conc.issued(1);
        conn.push_request(index, ops_buf, sent, due, measured);
        // While this request is out, the next one's key comes into the cache.
        conc.prefetch_next_key(block);
        self.mark_dirty(connection);
        true
    }

    /// `--distribution`: the staged request goes to the servers of its keys, one request per
    /// server (a SET is one; a multi-get is split), each routed to a connection to that server
    /// that is up. False, and nothing sent, when some server has none up.
    fn send_staged_by_key(&mut self, index: usize) -> bool {
        let Pick::ByKey(placement) = &self.links[index].pick else {
            return false;
        };
        let conc = &self.concurrencies[index];
        let block = &self.shards[conc.shard].state.block;
        self.by_server.split(
            placement,
            conc.staged(),
            &conc.window,
            block,
            &mut self.key_buf,
        );
        self.group_connections.clear();
        for group in 0..self.by_server.len() {
            let (server, ops) = self.by_server.group(group);
            let kind = ops.first().map_or(OpKind::Get, |op| op.kind);
            match self.route(index, kind, Some(server)) {
                Some(connection) => self.group_connections.push(connection),
                None => return false,
            }
        }
        let Driver {
            concurrencies,
            connections,
            shards,
            key_buf,
            settings,
            by_server,
            group_connections,
            ..
        } = self;
        let conc = &mut concurrencies[index];
        let block = &shards[conc.shard].state.block;
        let measured = conc.measuring();
        let due = conc.issued(by_server.len());
        let protocol = settings.behaviour.protocol;
        for (group, &connection) in group_connections.iter().enumerate() {
            let (_, ops) = by_server.group(group);
            let conn = &mut connections[connection];
            let sent = request::encode(protocol, ops, &conc.window, block, key_buf, conn.out_buf());
            conn.push_request(index, ops, sent, due, measured);
        }
        for i in 0..self.group_connections.len() {
            self.mark_dirty(self.group_connections[i]);
        }
        true
    }

    /// The connection for a request of `kind`, to `server` if given (`--distribution`): the
    /// next (or, with `-p`, a random) eligible one that is up.
    fn route(&mut self, index: usize, kind: OpKind, server: Option<usize>) -> Option<usize> {
        let links = &mut self.links[index];
        let candidates = match kind {
            OpKind::Set => &links.set,
            OpKind::Get => &links.get,
        };
        if candidates.is_empty() {
            return None;
        }
        let first = match links.pick {
            Pick::Random => self.concurrencies[index].rng().usize(0..candidates.len()),
            Pick::InTurn | Pick::ByKey(_) => {
                links.next = links.next.wrapping_add(1);
                links.next % candidates.len()
            }
        };
        (0..candidates.len())
            .map(|i| candidates[(first + i) % candidates.len()])
            .filter(|&position| server.map_or(true, |server| links.servers[position] == server))
            .map(|position| links.connections[position])
            .find(|&connection| self.connections[connection].is_up())
    }

    /// Hands the requests encoded this turn to the ring; `now` starts their latency.
    fn flush(&mut self, now: Instant) {
        let mut dirty = std::mem::take(&mut self.dirty);
        for &connection in &dirty {
            self.is_dirty[connection] = false;
            let conn = &mut self.connections[connection];
            let send = conn.next_send(now);
            let encrypted = conn.take_encrypted();
            if encrypted > 0 {
                let slot = self.concurrencies[conn.concurrency].shard;
                let counters = &mut self.shards[slot].state.stats.borrow_mut().counters;
                counters.written_bytes += encrypted;
            }
            if let Some((buf, len)) = send {
                self.push_send(connection, buf, len);
            }
        }
        dirty.clear();
        self.dirty = dirty;
    }

    /// How long the next wait in the ring may last: until the nearest deadline of the
    /// driver (housekeeping, the start, a period boundary, the end of the run, a paced send).
    fn next_wait(&self, now: Instant) -> Duration {
        if !self.ready.is_empty() || self.broken.is_some() {
            return Duration::ZERO;
        }
        let mut wake = self.next_housekeeping;
        if let Stage::Starting(start) = self.stage {
            wake = wake.min(start);
        }
        if let Some(periods) = &self.periods {
            wake = wake.min(periods.boundary());
        }
        if self.stage == Stage::Running && !self.stopping {
            if let Some(deadline) = self
                .shards
                .first()
                .and_then(|slot| slot.state.stop.deadline())
            {
                wake = wake.min(deadline);
            }
        }
        if let Some(&Reverse((due, _))) = self.paced.peek() {
            wake = wake.min(due);
        }
        wake.saturating_duration_since(now)
    }

    /// With `--pipeline` above 1, how the next wait gathers replies: up to the completions
    /// the ring owes, for at most the gathering time. A pipelined connection's next requests
    /// wait for its replies either way; handling several connections' replies per turn, not
    /// one wake-up per reply, is what makes a pipelined op cheap.
    fn gather(&self) -> Option<Gather> {
        let within = self.settings.gather?;
        let completions = self
            .connections
            .iter()
            .map(Connection::expected_completions)
            .sum();
        Some(Gather {
            completions,
            within,
        })
    }

    /// Whether the run is over for this driver: every concurrency is done and no connection
    /// is between sockets.
    fn is_finished(&self) -> bool {
        if self.broken.is_some() {
            return true;
        }
        self.stage == Stage::Running
            && self.done == self.concurrencies.len()
            && self
                .connections
                .iter()
                .all(|conn| matches!(conn.state, LinkState::Up | LinkState::Down))
    }

    /// After the last turn: give the ring's buffers back, hand off the periods that passed
    /// and each shard's remaining statistics.
    fn finish(mut self) {
        let ended = Instant::now();
        if let Some(reason) = self.broken.take() {
            for slot in &self.shards {
                let _ = self.tx.send(ShardMsg::Fault {
                    shard: slot.shard,
                    reason: reason.clone(),
                });
            }
        }
        self.drain(ended);
        self.hand_off_periods(ended);
        for slot in &self.shards {
            let _ = self.tx.send(ShardMsg::Done {
                shard: slot.shard,
                stats: slot.state.stats.take(),
                ended,
            });
        }
    }

    /// Shuts every socket and waits (bounded) until the ring holds no operation on any
    /// connection's buffers. If it cannot, the buffers are leaked rather than freed under
    /// the kernel.
    fn drain(&mut self, now: Instant) {
        for connection in 0..self.connections.len() {
            if self.connections[connection].state != LinkState::Down {
                self.begin_close(connection, AfterClose::StayDown, now);
            }
        }
        let limit = now + DRAIN_LIMIT;
        while self.broken.is_none()
            && self.connections.iter().any(|conn| conn.pending.any())
            && Instant::now() < limit
        {
            if let Err(err) = self.ring.submit_and_wait(Duration::from_millis(10), None) {
                self.broken = Some(err.to_string());
                break;
            }
            let mut completions = std::mem::take(&mut self.completions);
            self.ring.reap(&mut completions);
            for completion in &completions {
                let connection = completion.token.connection as usize;
                let Some(conn) = self.connections.get_mut(connection) else {
                    continue;
                };
                match completion.token.op {
                    OpTag::Connect => conn.pending.connect = false,
                    OpTag::Send => conn.pending.send = false,
                    OpTag::Recv => conn.pending.recv = false,
                    OpTag::Cancel => {}
                }
            }
            self.completions = completions;
        }
        if self.connections.iter().any(|conn| conn.pending.any()) {
            std::mem::forget(std::mem::take(&mut self.connections));
        }
    }

    // ---- Connections ----

    /// Opens a socket for `connection` and queues its connect.
    fn start_connect(&mut self, connection: usize, now: Instant) {
        let addr = self.connections[connection].addr;
        let family = if addr.is_ipv6() {
            libc::AF_INET6
        } else {
            libc::AF_INET
        };
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            self.connect_failed(connection, io::Error::last_os_error(), now);
            return;
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        set_nodelay(&fd);
        let socket = self.ring.adopt(connection, fd);
        let sockaddr = &self.sockaddrs[connection];
        let (storage, len) = ((&raw const sockaddr.storage).cast(), sockaddr.len);
        let entry =
            on_socket!(socket.name(), target => opcode::Connect::new(target, storage, len)).build();
        let conn = &mut self.connections[connection];
        conn.socket = Some(socket);
        conn.state = LinkState::Connecting {
            deadline: now + self.settings.behaviour.timeout,
        };
        conn.pending.connect = true;
        // SAFETY: the address lives in `sockaddrs`, which is never moved or freed while the
        // driver lives, and the socket stays open until the connect's completion is reaped.
        self.push(entry, connection, OpTag::Connect);
    }

    fn on_connect_done(&mut self, connection: usize, result: i32, now: Instant) {
        let conn = &mut self.connections[connection];
        conn.pending.connect = false;
        match conn.state {
            // EISCONN: a kernel that reports a connect finished behind its back.
            LinkState::Connecting { .. } if result >= 0 || result == -libc::EISCONN => {
                if let Some(tls) = &self.tls {
                    let deadline = now + self.settings.behaviour.timeout;
                    match tls.session(conn.addr) {
                        Ok(session) => {
                            conn.start_tls(session, deadline);
                            self.arm_recv(connection);
                            self.mark_dirty(connection); // The ClientHello goes out.
                        }
                        Err(err) => self.handshake_failed(connection, err.to_string(), now),
                    }
                    return;
                }
                self.link_up(connection, now);
            }
            LinkState::Connecting { .. } => {
                conn.state = LinkState::Down;
                self.close_socket(connection);
                self.connect_failed(connection, io::Error::from_raw_os_error(-result), now);
            }
            LinkState::Closing { .. } => self.finish_close_if_idle(connection, now),
            LinkState::Handshaking { .. } | LinkState::Up | LinkState::Down => {}
        }
    }

    /// The connection is ready for requests: its socket is connected (and, with TLS, the
    /// handshake is done).
    fn link_up(&mut self, connection: usize, now: Instant) {
        let conn = &mut self.connections[connection];
        let handshaken = matches!(conn.state, LinkState::Handshaking { .. });
        conn.state = LinkState::Up;
        {
            let index = conn.concurrency;
            let slot = self.concurrencies[index].shard;
            if let Some(retry) = conn.retry.take() {
                let state = &self.shards[slot].state;
                state
                    .notes
                    .reconnect(conn.addr, now.saturating_duration_since(retry.lost_at));
                state.stats.borrow_mut().counters.reconnects += 1;
            }
            conn.lost_reason = None;
            if !handshaken {
                self.arm_recv(connection); // (A handshake's receive is armed already.)
            }
            let all_up = self.links[index]
                .connections
                .iter()
                .all(|&c| self.connections[c].is_up());
            if all_up && self.concurrencies[index].phase == Phase::Connecting {
                self.concurrencies[index].connected();
                let conc = &self.concurrencies[index];
                self.shards[conc.shard].warmup_total += conc.window.warmup_len() as u64;
            }
            self.queue(index);
            self.note_progress(index);
        }
    }

    /// The TLS handshake of `connection` failed: it closes, then fails as a connect does.
    fn handshake_failed(&mut self, connection: usize, reason: String, now: Instant) {
        self.connections[connection].setup_failure = Some(reason);
        self.begin_close(connection, AfterClose::HandshakeFailed, now);
    }

    /// A connect failed: a reconnect with `-R` tries again later (backing off); otherwise
    /// the concurrency ends.
    fn connect_failed(&mut self, connection: usize, err: io::Error, now: Instant) {
        let error = LinkError::Connect {
            addr: self.connections[connection].addr,
            reason: crate::preflight::connect_reason(&err, self.settings.behaviour.timeout),
        };
        self.setup_failed(connection, error, now);
    }

    /// A connection could not be set up (connect or TLS handshake): as [`Self::connect_failed`].
    fn setup_failed(&mut self, connection: usize, error: LinkError, now: Instant) {
        let reconnect = self.settings.behaviour.reconnect;
        self.close_socket(connection);
        let conn = &mut self.connections[connection];
        conn.state = LinkState::Down;
        let index = conn.concurrency;
        match conn.retry.as_mut() {
            Some(retry) => {
                retry.next_attempt = now + retry.backoff;
                retry.backoff = (retry.backoff * 2).min(RECONNECT_BACKOFF_MAX);
                if !reconnect {
                    // A recycle's reconnect failed: the concurrency ends with the fault that
                    // made it recycle.
                    let reason = conn.lost_reason.take().unwrap_or_else(|| error.to_string());
                    self.fault(index, reason);
                }
            }
            None => self.fault(index, error.to_string()),
        }
    }

    fn arm_recv(&mut self, connection: usize) {
        let conn = &mut self.connections[connection];
        let Some(socket) = conn.socket.as_ref().map(Socket::name) else {
            return;
        };
        let (buf, len) = conn.recv_target();
        conn.pending.recv = true;
        // The socket was just drained (or just connected): poll before the first attempt
        // instead of trying a receive that would only fail.
        let entry = on_socket!(socket, target => opcode::Recv::new(target, buf, len))
            .ioprio(RECVSEND_POLL_FIRST)
            .build();
        // SAFETY: the buffer belongs to the connection, which neither moves nor resizes it
        // while `pending.recv` is set; the socket stays open until the completion is reaped.
        self.push(entry, connection, OpTag::Recv);
    }

    fn on_recv_done(&mut self, connection: usize, result: i32, now: Instant) {
        let conn = &mut self.connections[connection];
        conn.pending.recv = false;
        if result > 0 && !conn.is_tls() {
            // What the server wrote, whatever becomes of the connection.
            let slot = self.concurrencies[conn.concurrency].shard;
            let counters = &mut self.shards[slot].state.stats.borrow_mut().counters;
            counters.read_bytes += result as u64;
        }
        if let LinkState::Handshaking { .. } = conn.state {
            self.on_handshake_recv(connection, result, now);
            return;
        }
        if conn.state != LinkState::Up {
            self.finish_close_if_idle(connection, now);
            return;
        }
        let addr = conn.addr;
        match result {
            len if len > 0 => {
                match conn.on_received(len as usize) {
                    Ok(plain) if conn.is_tls() => {
                        // The server counts the plaintext it wrote, not the records.
                        let slot = self.concurrencies[conn.concurrency].shard;
                        let wants_send = conn.wants_send();
                        self.shards[slot]
                            .state
                            .stats
                            .borrow_mut()
                            .counters
                            .read_bytes += plain as u64;
                        if wants_send {
                            self.mark_dirty(connection);
                        }
                    }
                    Ok(_) => {}
                    Err(err) => {
                        let reason = err.to_string();
                        self.fail(connection, LinkError::Tls { addr, reason }, now);
                        return;
                    }
                }
                let conn = &mut self.connections[connection];
                conn.progressed(now);
                self.take_replies(connection, now);
                if self.connections[connection].is_up() {
                    self.arm_recv(connection);
                }
            }
            0 => self.fail(connection, LinkError::Closed { addr }, now),
            errno => {
                let source = io::Error::from_raw_os_error(-errno);
                self.fail(connection, LinkError::Io { addr, source }, now);
            }
        }
    }

    /// Handshake bytes arrived (or the socket ended) on a connection that is handshaking.
    fn on_handshake_recv(&mut self, connection: usize, result: i32, now: Instant) {
        let conn = &mut self.connections[connection];
        let failure = match result {
            len if len > 0 => match conn.on_received(len as usize) {
                Ok(_) => None,
                Err(err) => Some(format!("TLS handshake failed: {err}")),
            },
            0 => Some("the server closed the connection during the TLS handshake".to_owned()),
            errno => Some(io::Error::from_raw_os_error(-errno).to_string()),
        };
        if let Some(reason) = failure {
            self.handshake_failed(connection, reason, now);
            return;
        }
        if conn.handshake_flight_sent() {
            self.link_up(connection, now);
        } else if conn.wants_send() {
            // Its last flight goes first; the connection is up once the kernel has it.
            self.mark_dirty(connection);
        }
        self.arm_recv(connection);
    }

    /// Accounts every whole reply the connection has received, oldest request first.
    fn take_replies(&mut self, connection: usize, now: Instant) {
        let conn = &self.connections[connection];
        let refused = conn
            .unsolicited()
            .and_then(|bytes| refusal(bytes, Refusals::Any))
            .or_else(|| {
                conn.first_bytes()
                    .and_then(|bytes| refusal(bytes, Refusals::Limit))
            });
        if let Some(refusal) = refused {
            let addr = self.connections[connection].addr;
            self.fail(connection, refusal(addr), now);
            return;
        }
        loop {
            let Driver {
                concurrencies,
                connections,
                shards,
                ops_buf,
                key_buf,
                settings,
                ..
            } = self;
            let conn = &mut connections[connection];
            let index = conn.concurrency;
            let conc = &mut concurrencies[index];
            let state = &shards[conc.shard].state;
            let protocol = settings.behaviour.protocol;
            let (window, block) = (&conc.window, &state.block);
            let result = conn.next_reply(ops_buf, |ops, reply, bytes| {
                let expect = Expect {
                    protocol,
                    ops,
                    window,
                    block,
                };
                request::parse(expect, bytes, reply, key_buf, |key, expected, received| {
                    state.notes.verify_failure(key, expected, received)
                })
            });
            match result {
                Ok(Some(done)) => {
                    // Bytes are counted as the ring moves them (`on_send_done`).
                    let sent = Sent {
                        written: 0,
                        ..done.sent
                    };
                    let latency_ns = done.measured.then(|| {
                        let start = done.latency_start().unwrap_or(now);
                        duration_ns(now.saturating_duration_since(start))
                    });
                    let mut stats = state.stats.borrow_mut();
                    let outcome = done.outcome();
                    if let (Some(_), Some(handed), true) = (done.due, done.handed, done.measured) {
                        // Paced: the latency counts from the due time; this from the socket.
                        let service_ns = duration_ns(now.saturating_duration_since(handed));
                        request::record_service(&mut stats, done.sent.kind, service_ns, outcome);
                    }
                    request::account(
                        &mut stats,
                        &mut conc.window,
                        ops_buf,
                        sent,
                        outcome,
                        0,
                        latency_ns,
                    );
                    drop(stats);
                    conc.completed(ops_buf);
                    let owner = done.concurrency;
                    self.queue(owner);
                    self.note_progress(owner);
                }
                Ok(None) => return,
                Err(source) => {
                    let addr = conn.addr;
                    self.fail(connection, LinkError::Protocol { addr, source }, now);
                    return;
                }
            }
        }
    }

    fn push_send(&mut self, connection: usize, buf: *const u8, len: u32) {
        let conn = &mut self.connections[connection];
        let Some(socket) = conn.socket.as_ref().map(Socket::name) else {
            conn.pending.send = false; // No socket (cannot happen while up): nothing to send.
            return;
        };
        let entry = on_socket!(socket, target => opcode::Send::new(target, buf, len))
            .flags(libc::MSG_NOSIGNAL)
            .build();
        // SAFETY: the bytes are the connection's send buffer, left untouched while
        // `pending.send` is set; the socket stays open until the completion is reaped.
        self.push(entry, connection, OpTag::Send);
    }

    fn on_send_done(&mut self, connection: usize, result: i32, now: Instant) {
        let conn = &mut self.connections[connection];
        let open = matches!(conn.state, LinkState::Up | LinkState::Handshaking { .. });
        if !open || result <= 0 {
            conn.pending.send = false;
        }
        if result > 0 {
            conn.progressed(now);
            if !conn.is_tls() {
                // Request bytes count as written once the kernel took them, as a socket
                // write. (TLS counts its plaintext when it is encrypted: see `flush`.)
                let slot = self.concurrencies[conn.concurrency].shard;
                let counters = &mut self.shards[slot].state.stats.borrow_mut().counters;
                counters.written_bytes += result as u64;
            }
        }
        if !open {
            self.finish_close_if_idle(connection, now);
            return;
        }
        let addr = conn.addr;
        if result <= 0 {
            let source = match result {
                0 => io::Error::from(io::ErrorKind::WriteZero),
                errno => io::Error::from_raw_os_error(-errno),
            };
            if conn.state == LinkState::Up {
                self.fail(connection, LinkError::Io { addr, source }, now);
            } else {
                self.handshake_failed(connection, source.to_string(), now);
            }
            return;
        }
        match conn.on_sent(result as usize) {
            Some((buf, len)) => self.push_send(connection, buf, len),
            None if conn.handshake_flight_sent() => self.link_up(connection, now),
            // Requests encoded while this send was in flight go in the next turn's flush.
            None => self.mark_dirty(connection),
        }
    }

    /// A connection failed: every request it holds is accounted as unanswered, then it is
    /// closed and recycled at once (a stall or a desynchronised stream), reconnected later
    /// with `-R`, or left down and its concurrency ended.
    fn fail(&mut self, connection: usize, err: LinkError, now: Instant) {
        if self.connections[connection].state != LinkState::Up {
            return;
        }
        let index = self.connections[connection].concurrency;
        let slot = self.concurrencies[index].shard;
        let recycle =
            err.count_and_recycle(&mut self.shards[slot].state.stats.borrow_mut().counters);
        // The first request gets no answer and the connection is lost once; those behind it
        // in the pipeline are abandoned.
        let mut failure = Failure::Connection;
        while let Some(request) = self.connections[connection].abandon_next(&mut self.ops_buf) {
            let sent = Sent {
                written: 0,
                ..request.sent
            };
            let owner = request.concurrency;
            let conc = &mut self.concurrencies[owner];
            let state = &self.shards[conc.shard].state;
            request::account_failure(
                &mut state.stats.borrow_mut(),
                &mut conc.window,
                &self.ops_buf,
                sent,
                0,
                request.measured,
                failure,
            );
            failure = Failure::Abandoned;
            conc.completed(&self.ops_buf);
        }
        if failure == Failure::Connection {
            // Lost while idle: no request failed, but the connection was lost all the same.
            self.shards[slot]
                .state
                .stats
                .borrow_mut()
                .counters
                .disconnects += 1;
        }
        let conn = &mut self.connections[connection];
        if self.stage == Stage::Running {
            // Before the start a failure ends the run with its own line; notes are noise.
            self.shards[slot].state.notes.disconnect(conn.addr, &err);
        }
        conn.retry = Some(Retry {
            lost_at: now,
            next_attempt: now,
            backoff: RECONNECT_BACKOFF_MIN,
        });
        if recycle {
            conn.lost_reason = Some(err.to_string());
            self.begin_close(connection, AfterClose::Recycle, now);
        } else if let LinkError::Refused { .. } = err {
            // Reconnecting would be refused again (-R or not): the run ends unmeasured.
            conn.retry = None;
            self.begin_close(connection, AfterClose::StayDown, now);
            let _ = self.tx.send(ShardMsg::Refused {
                shard: self.shards[slot].shard,
                reason: err.to_string(),
            });
            self.concurrencies[index].finish();
        } else {
            self.begin_close(connection, AfterClose::StayDown, now);
            if !self.settings.behaviour.reconnect {
                self.fault(index, err.to_string());
            }
        }
        self.queue(index);
        self.note_progress(index);
    }

    /// Shuts the socket down and cancels what the ring holds of it; the close completes once
    /// the ring has given back every operation.
    fn begin_close(&mut self, connection: usize, next: AfterClose, now: Instant) {
        let conn = &mut self.connections[connection];
        conn.state = LinkState::Closing { next };
        if let Some(socket) = &conn.socket {
            // SAFETY: shutdown(2) on a descriptor the connection owns; errors are harmless.
            unsafe { libc::shutdown(socket.raw_fd(), libc::SHUT_RDWR) };
        }
        let pending = conn.pending;
        for (held, op) in [
            (pending.connect, OpTag::Connect),
            (pending.send, OpTag::Send),
            (pending.recv, OpTag::Recv),
        ] {
            if held {
                let target = Token {
                    connection: connection as u32,
                    op,
                };
                let entry = opcode::AsyncCancel::new(target.to_user_data()).build();
                // SAFETY: a cancellation refers to no memory.
                self.push(entry, connection, OpTag::Cancel);
            }
        }
        self.finish_close_if_idle(connection, now);
    }

    fn finish_close_if_idle(&mut self, connection: usize, now: Instant) {
        let conn = &mut self.connections[connection];
        let LinkState::Closing { next } = conn.state else {
            return;
        };
        if conn.pending.any() {
            return;
        }
        conn.state = LinkState::Down;
        conn.reset_buffers();
        self.close_socket(connection);
        match next {
            AfterClose::Recycle => self.start_connect(connection, now),
            AfterClose::StayDown => {}
            AfterClose::ConnectTimedOut => {
                self.connect_failed(connection, io::Error::from(io::ErrorKind::TimedOut), now);
            }
            AfterClose::HandshakeFailed => {
                let conn = &mut self.connections[connection];
                let error = LinkError::Tls {
                    addr: conn.addr,
                    reason: conn.setup_failure.take().unwrap_or_default(),
                };
                self.setup_failed(connection, error, now);
            }
        }
    }

    /// Closes the socket of `connection`, if it has one; nothing of it may be in flight.
    fn close_socket(&mut self, connection: usize) {
        if let Some(socket) = self.connections[connection].socket.take() {
            self.ring.close(socket);
        }
    }

    // ---- Bookkeeping ----

    /// Queues `entry` for `connection`; a ring that refuses it ends the run.
    fn push(&mut self, entry: io_uring::squeue::Entry, connection: usize, op: OpTag) {
        let token = Token {
            connection: connection as u32,
            op,
        };
        // SAFETY: every caller keeps the memory `entry` refers to valid until its completion
        // is reaped (see each call site).
        if let Err(err) = unsafe { self.ring.push(entry, token) } {
            self.broken
                .get_or_insert(format!("io_uring submission failed: {err}"));
        }
    }

    /// Concurrency `index` ends early: the main thread hears why and stops the run.
    fn fault(&mut self, index: usize, reason: String) {
        let slot = self.concurrencies[index].shard;
        let _ = self.tx.send(ShardMsg::Fault {
            shard: self.shards[slot].shard,
            reason,
        });
        self.concurrencies[index].finish();
        self.note_progress(index);
    }

    /// Counts a concurrency's step to ready (for the start) and to done (for the end).
    fn note_progress(&mut self, index: usize) {
        let conc = &self.concurrencies[index];
        let slot = conc.shard;
        let ready = matches!(conc.phase, Phase::Ready | Phase::Running | Phase::Finished);
        let done = conc.is_done();
        if ready && !self.counted_ready[index] {
            self.counted_ready[index] = true;
            self.shards[slot].unready -= 1;
            self.send_ready_if_due(slot);
        }
        if done && !self.counted_done[index] {
            self.counted_done[index] = true;
            self.done += 1;
        }
    }

    /// Sends `Ready` for `slot` once all its concurrencies are connected and warmed up.
    fn send_ready_if_due(&mut self, slot: usize) {
        let shard = &mut self.shards[slot];
        if shard.ready_sent || shard.unready > 0 {
            return;
        }
        shard.ready_sent = true;
        let _ = self.tx.send(ShardMsg::Ready {
            shard: shard.shard,
            warmup: shard.state.stats.take(),
            warmup_time: self.warmup_started.elapsed(),
        });
    }

    fn queue(&mut self, index: usize) {
        if !self.queued[index] {
            self.queued[index] = true;
            self.ready.push_back(index);
        }
    }

    fn mark_dirty(&mut self, connection: usize) {
        if !self.is_dirty[connection] {
            self.is_dirty[connection] = true;
            self.dirty.push(connection);
        }
    }
}

/// memcached's line for a connection over its `-c` limit (it closes the connection after it).
const TOO_MANY_CONNECTIONS: &[u8] = b"ERROR Too many open connections";

/// Which server lines [`refusal`] takes for a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusals {
    /// Any error line: nothing was asked, so nothing else can explain it.
    Any,
    /// Only memcached's connection limit (a first request may already be out, and its own
    /// reply may legitimately be a `SERVER_ERROR`).
    Limit,
}

/// A refusal the server sent at the start of a connection, as the error to fail it with.
fn refusal(received: &[u8], which: Refusals) -> Option<impl FnOnce(SocketAddr) -> LinkError> {
    let line = received.split(|&b| b == b'\r' || b == b'\n').next()?;
    let generic = line.starts_with(b"ERROR") || line.starts_with(b"SERVER_ERROR");
    let hint = if line.starts_with(TOO_MANY_CONNECTIONS) {
        " — memcached allows fewer connections than this run opens (its -c, 1024 by default): \
         raise memcached's -c, or lower -c or -n"
    } else if generic && which == Refusals::Any {
        ""
    } else {
        return None; // Not a refusal: parsed (and refused) as the stream it is.
    };
    let reply = String::from_utf8_lossy(&line[..line.len().min(120)]).into_owned();
    Some(move |addr| LinkError::Refused { addr, reply, hint })
}

/// Sends each request at once: a load generator must not wait for Nagle.
fn set_nodelay(fd: &OwnedFd) {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from a live local, on a descriptor we own.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw const one).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
