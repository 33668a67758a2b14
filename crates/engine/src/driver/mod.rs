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
//!
//! Where the ring provides receive buffers (one request in flight per connection), each
//! connection keeps one multishot receive armed for its whole life: a reply costs no receive
//! submission and no poll armed anew, the bulk of what a one-shot receive adds per request.
//!
//! This file holds the driver's state and the loop; `requests` is the request side of a turn
//! (fill, flush, replies), `sockets` each connection's socket through the ring, and
//! `concurrency`, `connection` and `periods` the pure bookkeeping they drive.

mod concurrency;
mod connection;
mod periods;
mod requests;
mod sockets;
mod tls;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shardslap_config::{Behaviour, Pick, ReplyWait};
use shardslap_proto::MAX_KEY_LEN;
use shardslap_workload::Op;

use crate::link::LinkError;
use crate::pacer;
use crate::request::ByServer;
use crate::shard::{self, ExitGuard, ShardInputs, ShardMsg, WARMUP_PROGRESS_EVERY};
use crate::shard_state::ShardState;
use crate::uring::{Completion, Gather, OpTag, Ring, Token};
use crate::RunControl;

use concurrency::{Concurrency, DrawLimits, Phase};
use connection::{AfterClose, Connection, LinkState};
use periods::Periods;

/// How often timeouts, reconnects and the run-wide control are looked at; also the longest
/// wait in the ring, so a stop is noticed promptly.
const HOUSEKEEPING: Duration = Duration::from_millis(5);
/// A turn whose next deadline is nearer than this polls the ring instead of sleeping in it.
/// On this kind of host (a virtual machine) a timed wait arms a timer, and cancels it when a
/// reply comes first, each a trap to the hypervisor; a sleep and its wake-up cost ~17 µs of
/// CPU and tens of µs of wake-up latency. Paced at 60,000 ops/s, where the next send is ~17 µs
/// away, timed waits took 40% of the client's CPU and sent late (docs/performance.md, "Paced
/// runs send on time"). Runs without pacing wait for ms-away deadlines and poll only in the
/// last 50 µs before one, which a reply nearly always ends first.
const SPIN_BELOW: Duration = Duration::from_micros(50);
/// First wait before reconnecting a lost connection; doubled per failed attempt.
const RECONNECT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// Longest wait between reconnect attempts.
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// `IORING_RECVSEND_POLL_FIRST` (Linux 5.19; the ring itself needs 6.1): arm the socket's poll
/// without first trying the operation.
const RECVSEND_POLL_FIRST: u16 = 1;
/// `IORING_RECV_MULTISHOT` (Linux 6.0): the receive stays armed, completing once per arrival.
const RECV_MULTISHOT: u16 = 2;
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
    let mut handed = now;
    loop {
        // A far deadline is slept for until SPIN_BELOW before it, then polled for: a paced
        // send goes out on time, not a wake-up late. With --busy-poll, replies are polled for.
        let waited = match wait.checked_sub(SPIN_BELOW) {
            Some(sleep) if !driver.polls_for_replies() => {
                driver.ring.submit_and_wait(sleep, driver.gather())
            }
            _ => driver.ring.submit_and_spin(handed + wait),
        };
        if let Err(err) = waited {
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
        // The sends' latency starts here; the wait is timed from the same reading (a turn
        // reads the clock twice: the loop runs about once per request, and a reading is
        // ~25 ns).
        handed = Instant::now();
        driver.flush(handed);
        if driver.is_finished() {
            break;
        }
        wait = driver.next_wait(handed);
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
                OpTag::Recv => self.on_recv_done(connection, *completion, now),
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

    /// Whether this turn's wait polls rather than sleeps for lack of a near deadline: with
    /// `--busy-poll`, while any connection awaits a reply.
    fn polls_for_replies(&self) -> bool {
        self.settings.behaviour.reply_wait == ReplyWait::Poll
            && self
                .connections
                .iter()
                .any(|conn| conn.waiting_since().is_some())
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
                    OpTag::Recv => conn.pending.recv = completion.more,
                    OpTag::Cancel => {}
                }
                if let Some(bid) = completion.buffer {
                    self.ring.give_back_buffer(bid);
                }
            }
            self.completions = completions;
        }
        if self.connections.iter().any(|conn| conn.pending.any()) {
            std::mem::forget(std::mem::take(&mut self.connections));
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

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
