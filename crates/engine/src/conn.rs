//! One concurrency: memaslap's unit of load, with one request in flight at a time.
//!
//! A concurrency owns its item window, RNG, links (sockets: `-n` per server, all servers with
//! `-p`, a UDP socket with `-U`/`-a`), a send buffer and a key buffer allocated once. It draws
//! operations from the window, batches GETs into multi-gets (`-d`), routes each request to a
//! link, paces it (`-P`), and accounts the result in the shard's [`ShardState`] in one borrow
//! per request. A failed link is recycled or, with `-R`, reconnected with backoff without
//! holding up the other concurrencies of the shard.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use shardslap_workload::{Op, OpKind, Window, MAX_KEY_LEN};

use crate::link::{Link, LinkError, Traffic};
use crate::pacer::Pacer;
use crate::request::{self, Failure, Protocol, Reply};
use crate::routes::Routes;
use crate::shard::ShardState;

/// First wait before reconnecting a lost link; doubled per failed attempt.
const RECONNECT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// Longest wait between reconnect attempts.
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Longest sleep while waiting for a link, so a stop is noticed promptly.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// How a concurrency behaves, the same for every concurrency of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Behaviour {
    pub(crate) protocol: Protocol,
    /// Keys per GET request (`-d`).
    pub(crate) multi_get_keys: usize,
    /// `-R`: reconnect lost links instead of ending the run.
    pub(crate) reconnect: bool,
    /// Connect and response timeout.
    pub(crate) timeout: Duration,
    /// `-P`: the run's total rate and how many concurrencies share it.
    pub(crate) rate: Option<(u64, usize)>,
}

/// Why a concurrency stopped before the run did.
pub(crate) type ConnError = LinkError;

/// Reconnect bookkeeping of one link.
#[derive(Debug, Clone, Copy)]
struct Retry {
    lost_at: Instant,
    next_attempt: Instant,
    backoff: Duration,
}

/// A live concurrency and everything it owns.
#[derive(Debug)]
pub(crate) struct Conn {
    links: Vec<Link>,
    retries: Vec<Option<Retry>>,
    routes: Routes,
    behaviour: Behaviour,
    /// The concurrency's global index (its pacing phase).
    index: usize,
    next_link: usize,
    send_buf: BytesMut,
    key_buf: [u8; MAX_KEY_LEN],
    /// GETs drawn and waiting to fill a multi-get.
    pending_gets: Vec<Op>,
    window: Window,
    rng: fastrand::Rng,
    /// Operations this concurrency may still issue in `-x` mode.
    budget: Option<u64>,
    pacer: Option<Pacer>,
}

impl Conn {
    /// Opens every link of the concurrency.
    pub(crate) async fn connect(
        routes: Routes,
        behaviour: Behaviour,
        index: usize,
        window: Window,
        rng: fastrand::Rng,
        budget: Option<u64>,
    ) -> Result<Conn, ConnError> {
        let mut links = Vec::with_capacity(routes.links.len());
        for &(addr, transport) in &routes.links {
            links.push(Link::connect(addr, transport, behaviour.timeout).await?);
        }
        Ok(Conn {
            retries: vec![None; links.len()],
            links,
            routes,
            behaviour,
            index,
            next_link: 0,
            send_buf: BytesMut::with_capacity(4096),
            key_buf: [0; MAX_KEY_LEN],
            pending_gets: Vec::with_capacity(behaviour.multi_get_keys),
            window,
            rng,
            budget,
            pacer: None,
        })
    }

    /// Fills the window before the clock starts (get-only mixes): every slot is SET once, in
    /// order. Counted in the counters, never in latency.
    pub(crate) async fn warm_up(&mut self, state: &ShardState) -> Result<(), ConnError> {
        for i in 0..self.window.warmup_len() {
            let op = self.window.warmup_op(i);
            self.request(&[op], state, None).await?;
        }
        Ok(())
    }

    /// The measured loop from `start`: issue requests until the run stops, the budget is
    /// spent, or a link fails for good. The in-flight request always completes first.
    pub(crate) async fn run(
        &mut self,
        state: &ShardState,
        start: Instant,
    ) -> Result<(), ConnError> {
        if let Some((rate, concurrencies)) = self.behaviour.rate {
            self.pacer = Pacer::new(rate, self.index, concurrencies, start);
        }
        let mut batch = Vec::with_capacity(self.behaviour.multi_get_keys);
        loop {
            if state.should_stop(Instant::now()) || self.budget == Some(0) {
                return Ok(());
            }
            if let Some(left) = self.budget.as_mut() {
                *left -= 1;
            }
            let op = self.window.next_op(&mut self.rng);
            batch.clear();
            if op.kind == OpKind::Set {
                // A SET goes out at once, by itself; drawn GETs keep waiting for their batch.
                batch.push(op);
            } else {
                self.pending_gets.push(op);
                if self.pending_gets.len() < self.behaviour.multi_get_keys && self.budget != Some(0)
                {
                    continue;
                }
                batch.append(&mut self.pending_gets);
            }
            if let Some(pacer) = self.pacer.as_mut() {
                let due = pacer.next_due();
                // Never sleep past the end of the run: a slow schedule must not stretch it.
                let wake = state.deadline().map_or(due, |deadline| due.min(deadline));
                if let Some(wait) = wake.checked_duration_since(Instant::now()) {
                    glommio::timer::sleep(wait).await;
                }
                if state.should_stop(Instant::now()) {
                    request::release_sets(&mut self.window, &batch, true);
                    return Ok(());
                }
                pacer.book(batch.len() as u64);
                // Latency of a paced request counts from when it was due.
                self.request(&batch, state, Some(due)).await?;
            } else {
                self.request(&batch, state, Some(Instant::now())).await?;
            }
            glommio::yield_if_needed().await;
        }
    }

    /// One request: route, encode, exchange, account. `due` is when latency starts (the
    /// scheduled or the send time); `None` for warm-up requests, which are not measured.
    async fn request(
        &mut self,
        ops: &[Op],
        state: &ShardState,
        due: Option<Instant>,
    ) -> Result<(), ConnError> {
        let kind = ops.first().map_or(OpKind::Get, |op| op.kind);
        let Some(link) = self.route(kind, state).await? else {
            request::release_sets(&mut self.window, ops, due.is_some());
            return Ok(()); // The run ended while no link was up.
        };
        let Conn {
            links,
            behaviour,
            send_buf,
            key_buf,
            window,
            ..
        } = self;
        let mut sent = request::encode(
            behaviour.protocol,
            ops,
            window,
            &state.block,
            key_buf,
            send_buf,
        );
        let started = due.map(|due| due.min(Instant::now()));
        let mut traffic = Traffic::default();
        let mut reply = Reply::default();
        let expect = request::Expect {
            protocol: behaviour.protocol,
            ops,
            window,
            block: &state.block,
        };
        let result = links[link]
            .exchange(send_buf, &mut traffic, |buf| {
                request::parse(expect, buf, &mut reply, key_buf, |k, e, r| {
                    state.report_verify_failure(k, e, r)
                })
            })
            .await;
        let latency_ns = started.map(|started| duration_ns(started.elapsed()));
        let measured = due.is_some();
        sent.written = traffic.written; // What reached the socket, framing included.
        let (err, recycle) = {
            let mut stats = state.stats.borrow_mut();
            stats.counters.packet_disorder += traffic.disorder;
            let err = match result {
                Ok(()) => {
                    let outcome = reply.outcome();
                    request::account(
                        &mut stats,
                        window,
                        ops,
                        sent,
                        outcome,
                        traffic.read,
                        latency_ns,
                    );
                    return Ok(());
                }
                Err(LinkError::UdpTimeout { missing, .. }) => {
                    // A lost datagram costs this request only; the socket stays usable.
                    stats.counters.packets_dropped += missing;
                    let failure = Failure::UdpTimeout;
                    request::account_failure(
                        &mut stats,
                        window,
                        ops,
                        sent,
                        traffic.read,
                        measured,
                        failure,
                    );
                    return Ok(());
                }
                Err(err) => err,
            };
            let failure = Failure::Connection;
            request::account_failure(
                &mut stats,
                window,
                ops,
                sent,
                traffic.read,
                measured,
                failure,
            );
            // A stalled or desynchronised stream is useless, the server may not be: such a
            // link is recycled on a fresh connection right away.
            let recycle = match err {
                LinkError::Timeout { .. } => {
                    stats.counters.timeouts += 1;
                    true
                }
                LinkError::Protocol { .. } => {
                    stats.counters.protocol_errors += 1;
                    true
                }
                _ => false,
            };
            (err, recycle)
        };
        self.lose_link(link, &err, state);
        if recycle && self.reconnect_link(link, state).await.is_ok() {
            return Ok(());
        }
        if self.behaviour.reconnect {
            Ok(())
        } else {
            Err(err)
        }
    }

    /// Picks the link for a request of `kind`: the next (or a random) eligible link that is
    /// up. With none up, waits for a reconnect; `None` when the run ends first.
    async fn route(
        &mut self,
        kind: OpKind,
        state: &ShardState,
    ) -> Result<Option<usize>, ConnError> {
        loop {
            self.retry_due_links(state).await;
            let candidates = match kind {
                OpKind::Set => &self.routes.set,
                OpKind::Get => &self.routes.get,
            };
            let first = if self.routes.random {
                self.rng.usize(0..candidates.len())
            } else {
                self.next_link = self.next_link.wrapping_add(1);
                self.next_link % candidates.len()
            };
            let up = (0..candidates.len())
                .map(|i| candidates[(first + i) % candidates.len()])
                .find(|&link| self.links[link].is_up());
            if up.is_some() {
                return Ok(up);
            }
            // Every eligible link is down and being reconnected (-R): wait for the earliest.
            let now = Instant::now();
            if state.should_stop(now) {
                return Ok(None);
            }
            let next_attempt = candidates
                .iter()
                .filter_map(|&link| self.retries[link].map(|retry| retry.next_attempt))
                .min()
                .unwrap_or(now);
            let wait = next_attempt.saturating_duration_since(now).min(WAIT_SLICE);
            glommio::timer::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Tries to reconnect every lost link whose next attempt is due.
    async fn retry_due_links(&mut self, state: &ShardState) {
        for link in 0..self.links.len() {
            let due = self.retries[link].is_some_and(|retry| retry.next_attempt <= Instant::now());
            if due && !state.should_stop(Instant::now()) {
                let _ = self.reconnect_link(link, state).await;
            }
        }
    }

    /// Marks `link` lost after `err` and schedules its first reconnect attempt.
    fn lose_link(&mut self, link: usize, err: &LinkError, state: &ShardState) {
        self.links[link].close();
        let now = Instant::now();
        self.retries[link] = Some(Retry {
            lost_at: now,
            next_attempt: now,
            backoff: RECONNECT_BACKOFF_MIN,
        });
        state.note_disconnect(self.links[link].addr(), err);
    }

    /// One reconnect attempt; on failure the next one waits twice as long (up to a second).
    async fn reconnect_link(&mut self, link: usize, state: &ShardState) -> Result<(), ConnError> {
        match self.links[link].reconnect().await {
            Ok(()) => {
                if let Some(retry) = self.retries[link].take() {
                    state.note_reconnect(self.links[link].addr(), retry.lost_at.elapsed());
                }
                state.stats.borrow_mut().counters.reconnects += 1;
                Ok(())
            }
            Err(err) => {
                if let Some(retry) = self.retries[link].as_mut() {
                    retry.next_attempt = Instant::now() + retry.backoff;
                    retry.backoff = (retry.backoff * 2).min(RECONNECT_BACKOFF_MAX);
                }
                Err(err)
            }
        }
    }
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
