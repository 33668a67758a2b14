//! The driver's request side: drawing and encoding each concurrency's next requests onto its
//! connections, handing them to the ring at the end of a turn, and accounting the replies a
//! connection has received.

use std::cmp::Reverse;
use std::time::Instant;

use shardslap_config::{Pick, Protocol};
use shardslap_proto::MAX_KEY_LEN;
use shardslap_workload::{Op, OpKind};

use super::concurrency::{Concurrency, Draw};
use super::connection::{Connection, InFlight};
use super::sockets::{refusal, Refusals};
use super::{duration_ns, Driver};
use crate::link::LinkError;
use crate::request::{self, Expect, Sent};
use crate::shard_state::ShardState;
use crate::uring::ProvidedBuffers;

/// What encoding one request or parsing one reply borrows from the driver at once: a
/// connection, its concurrency, their shard's state and the driver's scratch buffers.
struct Exchange<'a> {
    conc: &'a mut Concurrency,
    conn: &'a mut Connection,
    state: &'a ShardState,
    ops_buf: &'a mut Vec<Op>,
    key_buf: &'a mut [u8; MAX_KEY_LEN],
    protocol: Protocol,
    /// The ring's receive buffers, where a multishot arrival may be parsed in place.
    provided: Option<&'a ProvidedBuffers>,
}

impl Driver {
    /// Borrows `connection`, its concurrency and their shard's state apart from each other.
    fn exchange(&mut self, connection: usize) -> Exchange<'_> {
        let Driver {
            ring,
            concurrencies,
            connections,
            shards,
            ops_buf,
            key_buf,
            settings,
            ..
        } = self;
        let conn = &mut connections[connection];
        let conc = &mut concurrencies[conn.concurrency];
        Exchange {
            state: &shards[conc.shard].state,
            conc,
            conn,
            ops_buf,
            key_buf,
            protocol: settings.behaviour.protocol,
            provided: ring.provided_buffers(),
        }
    }

    /// Draws and encodes the next requests of every concurrency that may be able to send.
    pub(super) fn fill(&mut self, now: Instant) {
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
    pub(super) fn send_staged(&mut self, index: usize) -> bool {
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
        // `route` picks among the concurrency's own connections.
        debug_assert_eq!(self.connections[connection].concurrency, index);
        let ex = self.exchange(connection);
        ex.ops_buf.clear();
        ex.ops_buf.extend_from_slice(ex.conc.staged());
        let block = &ex.state.block;
        let sent = request::encode(
            ex.protocol,
            ex.ops_buf,
            &ex.conc.window,
            block,
            ex.key_buf,
            ex.conn.out_buf(),
        );
        let measured = ex.conc.measuring();
        let due = ex.conc.issued(1);
        ex.conn.push_request(index, ex.ops_buf, sent, due, measured);
        // While this request is out, the next one's key comes into the cache.
        ex.conc.prefetch_next_key(block);
        self.mark_dirty(connection);
        true
    }

    /// `--distribution`: the staged request goes to the servers of its keys, one request per
    /// server (a SET is one; a multi-get is split), each routed to a connection to that server
    /// that is up. False, and nothing sent, when some server has none up.
    pub(super) fn send_staged_by_key(&mut self, index: usize) -> bool {
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
    pub(super) fn route(
        &mut self,
        index: usize,
        kind: OpKind,
        server: Option<usize>,
    ) -> Option<usize> {
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
    pub(super) fn flush(&mut self, now: Instant) {
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

    /// Accounts every whole reply the connection has received, oldest request first: from
    /// its receive buffer, or (`lent`) from the provided buffer a multishot receive just
    /// filled, parsed where it landed; what is left of that (a reply cut by the buffer's end)
    /// moves into the receive buffer before the buffer goes back.
    pub(super) fn take_replies(&mut self, connection: usize, lent: Option<Lent>, now: Instant) {
        let conn = &self.connections[connection];
        // A lent arrival is parsed in place only behind a reply and with a request awaiting,
        // so neither kind of refusal can be in it.
        debug_assert!(lent.is_none() || conn.can_parse_in_place());
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
        let Exchange {
            conc,
            conn,
            state,
            ops_buf,
            key_buf,
            protocol,
            provided,
        } = self.exchange(connection);
        let lent = lent.and_then(|lent| Some(provided?.bytes(lent.bid, lent.len)));
        let owner = conn.concurrency;
        let mut taken = 0;
        let mut answered = false;
        let failure = loop {
            let (window, block) = (&conc.window, &state.block);
            let parse = |ops: &[Op], reply: &mut _, bytes: &[u8]| {
                let expect = Expect {
                    protocol,
                    ops,
                    window,
                    block,
                };
                request::parse(expect, bytes, reply, key_buf, |key, expected, received| {
                    state.notes.verify_failure(key, expected, received)
                })
            };
            let result = match lent {
                Some(bytes) => conn.next_reply_in(bytes, &mut taken, ops_buf, parse),
                None => conn.next_reply(ops_buf, parse),
            };
            match result {
                Ok(Some(done)) => {
                    account_reply(state, conc, ops_buf, &done, now);
                    answered = true;
                }
                Ok(None) => break None,
                Err(source) => break Some(source),
            }
        };
        if let (Some(bytes), None) = (lent, &failure) {
            conn.append_received(&bytes[taken..]);
        }
        if answered {
            self.queue(owner);
            self.note_progress(owner);
        }
        if let Some(source) = failure {
            let addr = self.connections[connection].addr;
            self.fail(connection, LinkError::Protocol { addr, source }, now);
        }
    }
}

/// The bytes of one multishot completion, still in the ring's provided buffer `bid`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lent {
    pub(super) bid: u16,
    pub(super) len: usize,
}

/// Accounts one answered request: its latency ends `now`.
fn account_reply(
    state: &ShardState,
    conc: &mut Concurrency,
    ops: &[Op],
    done: &InFlight,
    now: Instant,
) {
    // Bytes are counted as the ring moves them (`on_send_done`, `on_recv_done`).
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
        ops,
        sent,
        outcome,
        0,
        latency_ns,
    );
    drop(stats);
    conc.completed(ops);
}
