//! One concurrency run as a glommio task of its own (the path for UDP, facebook mode and the
//! fallback): memaslap's unit of load, with one request in flight at a time.
//!
//! A concurrency owns its item window, RNG, links (sockets: `-n` per server, all servers with
//! `-p`, a UDP socket with `-U`/`-a`), a send buffer and a key buffer allocated once. It draws
//! operations from the window, batches GETs into multi-gets (`-d`), routes each request to a
//! link, paces it (`-P`), and accounts the result in the shard's [`ShardState`] in one borrow
//! per request. A failed link is recycled or, with `-R`, reconnected with backoff without
//! holding up the other concurrencies of the shard.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use shardslap_config::{Behaviour, Pick, Routes};
use shardslap_proto::MAX_KEY_LEN;
use shardslap_workload::{Op, OpKind, Window};

use crate::link::{Link, LinkError, Traffic};
use crate::pacer::{self, Pacer};
use crate::request::{self, ByServer, Failure, Reply};
use crate::shard_state::ShardState;

/// First wait before reconnecting a lost link; doubled per failed attempt.
const RECONNECT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// Longest wait between reconnect attempts.
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Longest sleep while waiting for a link, so a stop is noticed promptly.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Reconnect bookkeeping of one link.
#[derive(Debug, Clone, Copy)]
struct Retry {
    lost_at: Instant,
    next_attempt: Instant,
    backoff: Duration,
}

/// A live concurrency and everything it owns.
#[derive(Debug)]
pub(crate) struct TaskConcurrency {
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
    /// What each request of the current round weighs, in order.
    sent: Vec<request::Sent>,
    /// `--distribution`: a request grouped by server, and one group as a round of its own.
    by_server: ByServer,
    part: Round,
    window: Window,
    rng: fastrand::Rng,
    /// Operations this concurrency may still issue in `-x` mode.
    budget: Option<u64>,
    pacer: Option<Pacer>,
}

impl TaskConcurrency {
    /// Opens every link of the concurrency; `servers` are the run's, resolved.
    pub(crate) async fn connect(
        routes: Routes,
        servers: &[SocketAddr],
        behaviour: Behaviour,
        index: usize,
        window: Window,
        rng: fastrand::Rng,
        budget: Option<u64>,
    ) -> Result<TaskConcurrency, LinkError> {
        let mut links = Vec::with_capacity(routes.links.len());
        for &(server, kind) in &routes.links {
            links.push(Link::connect(servers[server], kind, behaviour.timeout).await?);
        }
        Ok(TaskConcurrency {
            retries: vec![None; links.len()],
            links,
            routes,
            behaviour,
            index,
            next_link: 0,
            send_buf: BytesMut::with_capacity(4096),
            key_buf: [0; MAX_KEY_LEN],
            pending_gets: Vec::with_capacity(behaviour.multi_get_keys),
            sent: Vec::with_capacity(behaviour.pipeline),
            by_server: ByServer::with_capacity(behaviour.multi_get_keys),
            part: Round::with_capacity(1, behaviour.multi_get_keys),
            window,
            rng,
            budget,
            pacer: None,
        })
    }

    /// Fills the window before the clock starts (get-only mixes): every slot is SET once, in
    /// order. Counted in the counters, never in latency.
    pub(crate) async fn warm_up(&mut self, state: &ShardState) -> Result<(), LinkError> {
        let mut round = Round::with_capacity(1, 1);
        for i in 0..self.window.warmup_len() {
            round.clear();
            round.push(&[self.window.warmup_op(i)]);
            self.send(&round, state, None).await?;
        }
        Ok(())
    }

    /// The measured loop from `start`: issue requests until the run stops, the budget is
    /// spent, or a link fails for good. In-flight requests always complete first.
    pub(crate) async fn run(
        &mut self,
        state: &ShardState,
        start: Instant,
    ) -> Result<(), LinkError> {
        self.pacer = pacer::for_concurrency(&self.behaviour, self.index, start);
        let Behaviour {
            multi_get_keys,
            pipeline,
            ..
        } = self.behaviour;
        let mut round = Round::with_capacity(pipeline, multi_get_keys);
        loop {
            if state.stop.should_stop(Instant::now()) || self.budget == Some(0) {
                return Ok(());
            }
            self.fill_round(&mut round);
            if round.is_empty() {
                continue; // GETs are waiting for their multi-get to fill.
            }
            let due = match self.pacer.as_mut() {
                None => Instant::now(),
                Some(pacer) => {
                    let dropped = pacer.shed(Instant::now());
                    state.stats.borrow_mut().counters.dropped += dropped;
                    let due = pacer.next_due();
                    // Never sleep past the end of the run: a slow schedule must not stretch it.
                    let wake = state
                        .stop
                        .deadline()
                        .map_or(due, |deadline| due.min(deadline));
                    if let Some(wait) = wake.checked_duration_since(Instant::now()) {
                        glommio::timer::sleep(wait).await;
                    }
                    if state.stop.should_stop(Instant::now()) {
                        request::release_sets(&mut self.window, &round.ops, true);
                        return Ok(());
                    }
                    // Latency of a paced request counts from when it was due.
                    pacer.book(round.ops.len() as u64)
                }
            };
            self.send(&round, state, Some(due)).await?;
            glommio::yield_if_needed().await;
        }
    }

    /// Draws operations into `round` (cleared first): up to `--pipeline` requests, each a SET
    /// or a multi-get of `-d` keys. A SET ends the round, because the window must learn
    /// whether it was stored before it chooses the next operation.
    fn fill_round(&mut self, round: &mut Round) {
        round.clear();
        while round.len() < self.behaviour.pipeline && self.budget != Some(0) {
            if let Some(left) = self.budget.as_mut() {
                *left -= 1;
            }
            let op = self.window.next_op(&mut self.rng);
            if op.kind == OpKind::Set {
                // A SET goes out by itself; drawn GETs keep waiting for their multi-get.
                round.push(&[op]);
                return;
            }
            self.pending_gets.push(op);
            if self.pending_gets.len() == self.behaviour.multi_get_keys || self.budget == Some(0) {
                round.push(&self.pending_gets);
                self.pending_gets.clear();
            }
        }
    }

    /// Sends `round` and accounts its replies: on one link, or with `--distribution` each
    /// request to the servers of its keys. `due` is when latency starts (the scheduled or the
    /// send time); `None` for warm-up requests, which are not measured.
    async fn send(
        &mut self,
        round: &Round,
        state: &ShardState,
        due: Option<Instant>,
    ) -> Result<(), LinkError> {
        if matches!(self.routes.pick, Pick::ByKey(_)) {
            return self.send_by_key(round, state, due).await;
        }
        let Some(link) = self.route(round.kind(), None, state).await? else {
            request::release_sets(&mut self.window, &round.ops, due.is_some());
            return Ok(()); // The run ended while no link was up.
        };
        self.round_trip(round, link, state, due).await
    }

    /// `--distribution` on this path: each request of `round` becomes one request per server
    /// of its keys (a SET is one; a multi-get is split), each a round trip of its own to a
    /// link to that server, one after the other. Unpaced, each one's latency starts when it
    /// is sent.
    async fn send_by_key(
        &mut self,
        round: &Round,
        state: &ShardState,
        due: Option<Instant>,
    ) -> Result<(), LinkError> {
        let paced = self.pacer.is_some();
        let mut by_server = std::mem::replace(&mut self.by_server, ByServer::with_capacity(0));
        let mut part = std::mem::replace(&mut self.part, Round::with_capacity(0, 0));
        let mut result = Ok(());
        'requests: for ops in round.requests() {
            if let Pick::ByKey(placement) = &self.routes.pick {
                by_server.split(
                    placement,
                    ops,
                    &self.window,
                    &state.block,
                    &mut self.key_buf,
                );
            }
            for group in 0..by_server.len() {
                let (server, ops) = by_server.group(group);
                part.clear();
                part.push(ops);
                let link = match self.route(part.kind(), Some(server), state).await {
                    Ok(Some(link)) => link,
                    Ok(None) => {
                        // The run ended while no link to the server was up.
                        request::release_sets(&mut self.window, ops, due.is_some());
                        continue;
                    }
                    Err(err) => {
                        result = Err(err);
                        break 'requests;
                    }
                };
                let part_due = match due {
                    Some(due) if paced => Some(due),
                    Some(_) => Some(Instant::now()),
                    None => None,
                };
                if let Err(err) = self.round_trip(&part, link, state, part_due).await {
                    result = Err(err);
                    break 'requests;
                }
            }
        }
        self.by_server = by_server;
        self.part = part;
        result
    }

    /// One round trip on `link`: encode every request of `round`, hand them to the socket in
    /// one write, then read and account each response in order.
    async fn round_trip(
        &mut self,
        round: &Round,
        link: usize,
        state: &ShardState,
        due: Option<Instant>,
    ) -> Result<(), LinkError> {
        let measured = due.is_some();
        let paced = self.pacer.is_some();
        let TaskConcurrency {
            links,
            behaviour,
            send_buf,
            key_buf,
            window,
            sent,
            ..
        } = self;
        send_buf.clear();
        sent.clear();
        for ops in round.requests() {
            let block = &state.block;
            sent.push(request::encode(
                behaviour.protocol,
                ops,
                window,
                block,
                key_buf,
                send_buf,
            ));
        }
        let mut traffic = Traffic::default();
        // Paced requests also report service time, from here (their latency counts from due).
        let handed = (paced && measured).then(Instant::now);
        let mut failed = links[link].send(send_buf, &mut traffic).await.err();
        let written = traffic.written;
        let encoded: u64 = sent.iter().map(|sent| sent.written).sum();
        let mut lost_counted = false;
        for (index, ops) in round.requests().enumerate() {
            let mut sent = sent[index];
            // The round was written whole or not at all; framing (a UDP header) is counted
            // with the first request.
            sent.written = match (written, index) {
                (0, _) => 0,
                (_, 0) => written - (encoded - sent.written),
                _ => sent.written,
            };
            let read_before = traffic.read;
            if failed.is_none() {
                let mut reply = Reply::default();
                let expect = request::Expect {
                    protocol: behaviour.protocol,
                    ops,
                    window,
                    block: &state.block,
                };
                let result = links[link]
                    .receive(&mut traffic, |buf| {
                        request::parse(expect, buf, &mut reply, key_buf, |k, e, r| {
                            state.notes.verify_failure(k, e, r)
                        })
                    })
                    .await;
                let read = traffic.read - read_before;
                let latency_ns = due.map(|due| duration_ns(due.elapsed()));
                let mut stats = state.stats.borrow_mut();
                stats.counters.packet_disorder += std::mem::take(&mut traffic.disorder);
                match result {
                    Ok(()) => {
                        let outcome = reply.outcome();
                        request::account(&mut stats, window, ops, sent, outcome, read, latency_ns);
                        if let Some(handed) = handed {
                            let service_ns = duration_ns(handed.elapsed());
                            request::record_service(&mut stats, sent.kind, service_ns, outcome);
                        }
                        continue;
                    }
                    Err(LinkError::UdpTimeout { missing, .. }) => {
                        // A lost datagram costs this request only; the socket stays usable.
                        stats.counters.packets_dropped += missing;
                        let failure = Failure::UdpTimeout;
                        request::account_failure(
                            &mut stats, window, ops, sent, read, measured, failure,
                        );
                        continue;
                    }
                    Err(err) => failed = Some(err),
                }
            }
            // This request and the ones behind it in the pipeline get no answer; the
            // connection is lost once.
            let read = traffic.read - read_before;
            let failure = if lost_counted {
                Failure::Abandoned
            } else {
                Failure::Connection
            };
            lost_counted = true;
            let mut stats = state.stats.borrow_mut();
            request::account_failure(&mut stats, window, ops, sent, read, measured, failure);
        }
        let Some(err) = failed else {
            return Ok(());
        };
        self.on_link_failure(link, err, state).await
    }

    /// Counts a failed link and decides what happens next: a stalled or desynchronised
    /// stream is recycled on a fresh connection at once (the server may be fine); with `-R`
    /// a lost link is reconnected with backoff; otherwise the concurrency ends.
    async fn on_link_failure(
        &mut self,
        link: usize,
        err: LinkError,
        state: &ShardState,
    ) -> Result<(), LinkError> {
        let recycle = err.count_and_recycle(&mut state.stats.borrow_mut().counters);
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

    /// Picks the link for a request of `kind`, to `server` if given (`--distribution`): the
    /// next (or a random) eligible link that is up. With none up, waits for a reconnect;
    /// `None` when the run ends first.
    async fn route(
        &mut self,
        kind: OpKind,
        server: Option<usize>,
        state: &ShardState,
    ) -> Result<Option<usize>, LinkError> {
        loop {
            self.retry_due_links(state).await;
            let candidates = match kind {
                OpKind::Set => &self.routes.set,
                OpKind::Get => &self.routes.get,
            };
            let first = match self.routes.pick {
                Pick::Random => self.rng.usize(0..candidates.len()),
                Pick::InTurn | Pick::ByKey(_) => {
                    self.next_link = self.next_link.wrapping_add(1);
                    self.next_link % candidates.len()
                }
            };
            let to_server = |link: usize| server.map_or(true, |s| self.routes.links[link].0 == s);
            let up = (0..candidates.len())
                .map(|i| candidates[(first + i) % candidates.len()])
                .find(|&link| to_server(link) && self.links[link].is_up());
            if up.is_some() {
                return Ok(up);
            }
            // Every eligible link is down and being reconnected (-R): wait for the earliest.
            let now = Instant::now();
            if state.stop.should_stop(now) {
                return Ok(None);
            }
            let next_attempt = candidates
                .iter()
                .filter(|&&link| to_server(link))
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
            if due && !state.stop.should_stop(Instant::now()) {
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
        state.notes.disconnect(self.links[link].addr(), err);
    }

    /// One reconnect attempt; on failure the next one waits twice as long (up to a second).
    async fn reconnect_link(&mut self, link: usize, state: &ShardState) -> Result<(), LinkError> {
        match self.links[link].reconnect().await {
            Ok(()) => {
                if let Some(retry) = self.retries[link].take() {
                    state
                        .notes
                        .reconnect(self.links[link].addr(), retry.lost_at.elapsed());
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

/// The requests of one round trip, their operations laid out back to back.
#[derive(Debug)]
struct Round {
    ops: Vec<Op>,
    /// End of each request's operations in `ops`.
    ends: Vec<usize>,
}

impl Round {
    fn with_capacity(requests: usize, keys_per_request: usize) -> Round {
        Round {
            ops: Vec::with_capacity(requests * keys_per_request),
            ends: Vec::with_capacity(requests),
        }
    }

    fn clear(&mut self) {
        self.ops.clear();
        self.ends.clear();
    }

    fn push(&mut self, ops: &[Op]) {
        self.ops.extend_from_slice(ops);
        self.ends.push(self.ops.len());
    }

    /// Requests in the round.
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// SET when the round holds one (it is routed to a write server), else GET.
    fn kind(&self) -> OpKind {
        if self.ops.iter().any(|op| op.kind == OpKind::Set) {
            OpKind::Set
        } else {
            OpKind::Get
        }
    }

    /// Each request's operations, in order.
    fn requests(&self) -> impl Iterator<Item = &[Op]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| &self.ops[start..end])
    }
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
