//! One memaslap concurrency on the ring's data path: its item window, RNG, `-x` budget, `-P`
//! schedule and the request it is putting together. Pure: it decides what goes out next and
//! learns what came back; the driver moves the bytes.
//!
//! Pipelining is continuous: up to `--pipeline` requests are in flight and a new one is drawn
//! as soon as one is answered. Only a SET holds the concurrency back, because the window must
//! learn whether the SET was stored before it chooses the next operation.

use std::time::Instant;

use shardslap_workload::{CharBlock, Op, OpKind, Window};

use crate::pacer::Pacer;
use crate::request;

/// Where a concurrency is in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Its connections are being opened.
    Connecting,
    /// Storing warm-up item `next` (get-only mixes fill the window before the clock starts).
    WarmingUp { next: usize },
    /// Connected and warmed up; waiting for the common start.
    Ready,
    /// Measured: drawing operations until the run stops or the budget is spent.
    Running,
    /// Issues nothing more (stopped, budget spent, or its link failed for good).
    Finished,
}

/// What a concurrency can do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Draw {
    /// [`Concurrency::staged`] holds a request ready to go.
    Ready,
    /// The `-P` schedule holds the staged request until then.
    NotDue(Instant),
    /// Its pipeline is full, or a SET's outcome is awaited.
    Blocked,
    /// Nothing more to send in this phase.
    Exhausted,
}

/// How every concurrency of a run draws requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DrawLimits {
    /// Requests in flight at once (`--pipeline`).
    pub(crate) pipeline: usize,
    /// Keys per GET request (`-d`).
    pub(crate) multi_get_keys: usize,
}

/// A live concurrency.
#[derive(Debug)]
pub(crate) struct Concurrency {
    /// Index of its shard among the driver's shards.
    pub(crate) shard: usize,
    pub(crate) phase: Phase,
    pub(crate) window: Window,
    rng: fastrand::Rng,
    /// Operations it may still draw in `-x` mode.
    budget: Option<u64>,
    pacer: Option<Pacer>,
    /// A drawn SET not yet sent (it goes out by itself).
    staged_set: Option<Op>,
    /// Drawn GETs waiting to fill a multi-get of `-d` keys.
    pending_gets: Vec<Op>,
    /// Requests sent and not yet answered.
    in_flight: usize,
    /// A SET is in flight: nothing is drawn until its outcome is known.
    awaiting_set: bool,
    /// Intended sends the open loop dropped (backlog past `--max-queue`), not yet counted.
    dropped: u64,
}

impl Concurrency {
    pub(crate) fn new(
        shard: usize,
        window: Window,
        rng: fastrand::Rng,
        budget: Option<u64>,
        multi_get_keys: usize,
    ) -> Concurrency {
        Concurrency {
            shard,
            phase: Phase::Connecting,
            window,
            rng,
            budget,
            pacer: None,
            staged_set: None,
            pending_gets: Vec::with_capacity(multi_get_keys),
            in_flight: 0,
            awaiting_set: false,
            dropped: 0,
        }
    }

    /// All connections are up: warm up if the mix needs it, else wait for the start.
    pub(crate) fn connected(&mut self) {
        self.phase = if self.window.warmup_len() > 0 {
            Phase::WarmingUp { next: 0 }
        } else {
            Phase::Ready
        };
    }

    /// The clock starts; `pacer` is its `-P` schedule, if any.
    pub(crate) fn start(&mut self, pacer: Option<Pacer>) {
        if self.phase == Phase::Ready {
            self.phase = Phase::Running;
            self.pacer = pacer;
        }
    }

    /// Its RNG (for `-p`'s random choice of connection).
    pub(crate) fn rng(&mut self) -> &mut fastrand::Rng {
        &mut self.rng
    }

    /// A hint only: fetches the key suffix of the GET this concurrency will draw next.
    pub(crate) fn prefetch_next_key(&self, block: &CharBlock) {
        self.window.prefetch_next_key(&self.rng, block);
    }

    /// Requests sent and not yet answered.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether it has nothing in flight and will send nothing more.
    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Finished && self.in_flight == 0
    }

    /// Decides whether a request can go out now, drawing operations as needed. `stopping`
    /// says the run is ending: nothing new is drawn and a staged request is dropped.
    pub(crate) fn draw(&mut self, limits: DrawLimits, stopping: bool, now: Instant) -> Draw {
        if self.in_flight >= limits.pipeline.max(1) || self.awaiting_set {
            return Draw::Blocked;
        }
        match self.phase {
            Phase::Connecting | Phase::Ready | Phase::Finished => Draw::Exhausted,
            Phase::WarmingUp { next } => {
                // Warm-up SETs go one at a time (a SET in flight blocks above), as memaslap
                // stores them; one staged but not yet sent waits for a connection.
                if self.staged_set.is_some() {
                    return Draw::Ready;
                }
                if next >= self.window.warmup_len() {
                    self.phase = Phase::Ready;
                    return Draw::Exhausted;
                }
                self.staged_set = Some(self.window.warmup_op(next));
                Draw::Ready
            }
            Phase::Running => {
                if stopping {
                    self.finish();
                    return Draw::Exhausted;
                }
                if !self.stage(limits.multi_get_keys.max(1)) {
                    self.finish();
                    return Draw::Exhausted;
                }
                match self.pacer.as_mut() {
                    Some(pacer) => {
                        self.dropped += pacer.shed(now);
                        match pacer.next_due() {
                            due if due > now => Draw::NotDue(due),
                            _ => Draw::Ready,
                        }
                    }
                    None => Draw::Ready,
                }
            }
        }
    }

    /// Draws until a request is complete: a SET, or `-d` GETs (fewer when the budget ends).
    /// False when the budget is spent and nothing is staged.
    fn stage(&mut self, multi_get_keys: usize) -> bool {
        loop {
            if self.staged_set.is_some() || self.pending_gets.len() >= multi_get_keys {
                return true;
            }
            if self.budget == Some(0) {
                return !self.pending_gets.is_empty();
            }
            if let Some(left) = self.budget.as_mut() {
                *left -= 1;
            }
            let op = self.window.next_op(&mut self.rng);
            match op.kind {
                // A SET goes out by itself; drawn GETs keep waiting for their multi-get.
                OpKind::Set => self.staged_set = Some(op),
                OpKind::Get => self.pending_gets.push(op),
            }
        }
    }

    /// Intended sends dropped since the last call (the open loop's backlog bound).
    pub(crate) fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    /// The staged request's operations (valid after [`Draw::Ready`]).
    pub(crate) fn staged(&self) -> &[Op] {
        match &self.staged_set {
            Some(set) => std::slice::from_ref(set),
            None => &self.pending_gets,
        }
    }

    /// Whether the staged request is measured (warm-up requests are not).
    pub(crate) fn measuring(&self) -> bool {
        self.phase == Phase::Running || self.phase == Phase::Finished
    }

    /// The staged request was handed to connections as `requests` requests (more than one
    /// when `--distribution` splits a multi-get by server; each is answered and completed on
    /// its own). Returns when its latency starts if that is its `-P` due time rather than the
    /// moment it reaches the ring.
    pub(crate) fn issued(&mut self, requests: usize) -> Option<Instant> {
        let keys = self.staged().len() as u64;
        self.in_flight += requests;
        let due = match self.phase {
            Phase::Running => self.pacer.as_mut().map(|pacer| pacer.book(keys)),
            _ => None,
        };
        if self.staged_set.take().is_some() {
            self.awaiting_set = true;
        } else {
            self.pending_gets.clear();
        }
        due
    }

    /// A request of `ops` ended (answered or failed; the caller accounted it).
    pub(crate) fn completed(&mut self, ops: &[Op]) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if ops.iter().any(|op| op.kind == OpKind::Set) {
            self.awaiting_set = false;
            if let Phase::WarmingUp { next } = self.phase {
                self.phase = Phase::WarmingUp { next: next + 1 };
            }
        }
    }

    /// Issues nothing more. A staged SET that never went out is released in the window.
    pub(crate) fn finish(&mut self) {
        if let Some(set) = self.staged_set.take() {
            let measured = self.measuring();
            request::release_sets(&mut self.window, &[set], measured);
        }
        self.pending_gets.clear();
        self.phase = Phase::Finished;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use shardslap_workload::{build_distribution, WindowParams, WorkloadSpec};

    use super::*;

    fn window(set_proportion: f64, window_len: usize) -> Window {
        let spec = WorkloadSpec::memaslap_default();
        let mut rng = fastrand::Rng::with_seed(3);
        let distribution = build_distribution(&spec, None, window_len, 1 << 20, &mut rng);
        let params = WindowParams {
            window_len,
            set_proportion,
            get_proportion: 1.0 - set_proportion,
            overwrite: 0.0,
            verify: 0.0,
            exp_verify: 0.0,
        };
        Window::new(params, &distribution, 0, 0)
    }

    fn running(set_proportion: f64, budget: Option<u64>, keys: usize) -> Concurrency {
        let rng = fastrand::Rng::with_seed(9);
        let mut conc = Concurrency::new(0, window(set_proportion, 100), rng, budget, keys);
        conc.connected();
        conc.start(None);
        conc
    }

    /// Answers the oldest request in `flight` (all stored).
    fn answer(conc: &mut Concurrency, flight: &mut Vec<Vec<Op>>) {
        let ops = flight.remove(0);
        for op in ops.iter().filter(|op| op.kind == OpKind::Set) {
            conc.window.on_set_done(op.slot, true, 0);
        }
        conc.completed(&ops);
    }

    const LIMITS: DrawLimits = DrawLimits {
        pipeline: 4,
        multi_get_keys: 1,
    };

    #[test]
    fn gets_fill_the_pipeline_and_refill_as_replies_come() {
        let mut conc = running(0.1, None, 1);
        let now = Instant::now();
        let mut flight = Vec::new();
        // The first op of memaslap's mix is a SET: it goes alone and holds the rest back.
        assert_eq!(conc.draw(LIMITS, false, now), Draw::Ready);
        assert_eq!(conc.staged()[0].kind, OpKind::Set);
        flight.push(conc.staged().to_vec());
        conc.issued(1);
        assert_eq!(conc.draw(LIMITS, false, now), Draw::Blocked);
        answer(&mut conc, &mut flight);
        // Then GETs: four in flight at once, the fifth waits for a reply.
        for _ in 0..4 {
            assert_eq!(conc.draw(LIMITS, false, now), Draw::Ready);
            assert_eq!(conc.staged()[0].kind, OpKind::Get);
            flight.push(conc.staged().to_vec());
            conc.issued(1);
        }
        assert_eq!(conc.in_flight(), 4);
        assert_eq!(conc.draw(LIMITS, false, now), Draw::Blocked);
        answer(&mut conc, &mut flight);
        assert_eq!(conc.draw(LIMITS, false, now), Draw::Ready);
    }

    #[test]
    fn a_multi_get_waits_for_d_keys_and_a_set_overtakes_it() {
        let mut conc = running(0.1, None, 3);
        let limits = DrawLimits {
            pipeline: 8,
            multi_get_keys: 3,
        };
        let now = Instant::now();
        let mut sets = 0;
        let mut keys = 0;
        for _ in 0..50 {
            assert_eq!(conc.draw(limits, false, now), Draw::Ready);
            let ops = conc.staged().to_vec();
            match ops[0].kind {
                OpKind::Set => {
                    assert_eq!(ops.len(), 1);
                    sets += 1;
                }
                OpKind::Get => {
                    assert_eq!(ops.len(), 3);
                    keys += 3;
                }
            }
            conc.issued(1);
            let mut flight = vec![ops];
            answer(&mut conc, &mut flight);
        }
        assert!(sets > 0 && keys > 0);
        // 1 SET per 9 GETs: the interleave is the window's, not the pipeline's.
        let ratio = keys as f64 / sets as f64;
        assert!(
            (7.0..=11.0).contains(&ratio),
            "{keys} GET keys per {sets} SETs"
        );
    }

    #[test]
    fn the_budget_ends_with_a_short_multi_get_then_nothing() {
        let mut conc = running(0.1, Some(5), 4);
        let limits = DrawLimits {
            pipeline: 8,
            multi_get_keys: 4,
        };
        let now = Instant::now();
        let mut sizes = Vec::new();
        let mut flight = Vec::new();
        loop {
            match conc.draw(limits, false, now) {
                Draw::Ready => {
                    sizes.push(conc.staged().len());
                    flight.push(conc.staged().to_vec());
                    conc.issued(1);
                }
                Draw::Blocked => answer(&mut conc, &mut flight),
                Draw::Exhausted => break,
                Draw::NotDue(_) => unreachable!("not paced"),
            }
        }
        assert_eq!(sizes.iter().sum::<usize>(), 5, "{sizes:?}");
        assert_eq!(conc.phase, Phase::Finished);
        while !flight.is_empty() {
            answer(&mut conc, &mut flight);
        }
        assert!(conc.is_done());
    }

    #[test]
    fn a_paced_request_waits_for_its_due_time_and_latency_starts_there() {
        let start = Instant::now() + Duration::from_secs(1);
        let rng = fastrand::Rng::with_seed(9);
        let mut conc = Concurrency::new(0, window(0.0001, 100), rng, None, 1);
        conc.connected();
        // A get-only mix warms up first: one SET at a time, unmeasured.
        let mut warmed = 0;
        while let Draw::Ready = conc.draw(LIMITS, false, start) {
            assert!(!conc.measuring());
            let ops = conc.staged().to_vec();
            assert_eq!(conc.issued(1), None);
            assert_eq!(conc.draw(LIMITS, false, start), Draw::Blocked);
            answer(&mut conc, &mut vec![ops]);
            warmed += 1;
        }
        assert_eq!(warmed, 100);
        conc.start(Pacer::new(1000, 0, 1, start));
        let early = start - Duration::from_millis(1);
        assert_eq!(conc.draw(LIMITS, false, early), Draw::NotDue(start));
        assert_eq!(conc.draw(LIMITS, false, start), Draw::Ready);
        assert_eq!(conc.issued(1), Some(start));
        let next = start + Duration::from_millis(1);
        assert_eq!(conc.draw(LIMITS, false, start), Draw::NotDue(next));
    }

    #[test]
    fn a_multi_get_split_over_servers_is_in_flight_until_every_part_is_answered() {
        let mut conc = running(0.1, None, 4);
        let limits = DrawLimits {
            pipeline: 1,
            multi_get_keys: 4,
        };
        let now = Instant::now();
        // Skip to a multi-get (the mix starts with a SET).
        loop {
            assert_eq!(conc.draw(limits, false, now), Draw::Ready);
            let ops = conc.staged().to_vec();
            if ops[0].kind == OpKind::Get {
                break;
            }
            conc.issued(1);
            answer(&mut conc, &mut vec![ops]);
        }
        let ops = conc.staged().to_vec();
        conc.issued(3);
        let parts = [&ops[..1], &ops[1..3], &ops[3..]];
        for part in parts {
            assert_eq!(conc.draw(limits, false, now), Draw::Blocked);
            conc.completed(part);
        }
        assert_eq!(conc.draw(limits, false, now), Draw::Ready);
    }

    #[test]
    fn stopping_releases_a_staged_set_and_finishes() {
        let mut conc = running(0.5, None, 1);
        let now = Instant::now();
        assert_eq!(conc.draw(LIMITS, false, now), Draw::Ready);
        let slot = conc.staged()[0].slot;
        assert_eq!(conc.draw(LIMITS, true, now), Draw::Exhausted);
        assert!(conc.is_done());
        assert!(!conc.window.is_stored(slot));
    }
}
