//! A concurrency's schedule of intended send times: `-P` (memaslap's rate limit, even gaps)
//! and `--rate` (the open loop: even or exponential gaps, with a bounded backlog). Each
//! concurrency gets `rate / concurrencies` operations per second and a phase offset, so the
//! concurrencies do not all fire at once.
//!
//! The schedule is absolute (`start + n × interval`, or a Poisson process from `start`), so a
//! request sent late does not push the later ones back: the achieved rate stays on target
//! whenever the server can carry it, and the latency of a late request counts from when it
//! was due (no coordinated omission). With a backlog bound, intended sends that fall more
//! than `max_queue` behind are dropped — counted, never silently skipped.

use std::time::{Duration, Instant};

use shardslap_config::{Arrivals, Behaviour, Pacing};

/// Concurrency `index`'s schedule from `start`, as `behaviour` paces it: `--rate`'s open loop,
/// `-P`'s even gaps, or none.
pub(crate) fn for_concurrency(
    behaviour: &Behaviour,
    index: usize,
    start: Instant,
) -> Option<Pacer> {
    let concurrencies = behaviour.concurrencies;
    match behaviour.pacing {
        Pacing::Unpaced => None,
        Pacing::Tps { rate_per_sec } => Pacer::new(rate_per_sec, index, concurrencies, start),
        Pacing::OpenLoop(open) => Pacer::open_loop(
            open.rate_per_sec,
            index,
            concurrencies,
            start,
            open.arrivals,
            open.max_queue,
            behaviour.seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ),
    }
}

/// When this concurrency's next operation is due.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    /// Mean time per operation for this concurrency.
    interval: Duration,
    /// When the next request is due.
    next_due: Instant,
    arrivals: Arrivals,
    /// Intended sends that may wait; `None` for `-P`, whose backlog is the closed loop's.
    max_queue: Option<u32>,
    /// Exponential gaps (Poisson arrivals), seeded per concurrency.
    rng: fastrand::Rng,
}

impl Pacer {
    /// A schedule for concurrency `index` of `concurrencies` sharing `rate_per_sec`
    /// operations per second, starting at `start`. `None` without a usable rate.
    pub(crate) fn new(
        rate_per_sec: u64,
        index: usize,
        concurrencies: usize,
        start: Instant,
    ) -> Option<Pacer> {
        if rate_per_sec == 0 || concurrencies == 0 {
            return None;
        }
        let interval = Duration::from_secs_f64(concurrencies as f64 / rate_per_sec as f64);
        let phase = interval.mul_f64(index as f64 / concurrencies as f64);
        Some(Pacer {
            interval,
            next_due: start + phase,
            arrivals: Arrivals::Uniform,
            max_queue: None,
            rng: fastrand::Rng::with_seed(0),
        })
    }

    /// The open loop's schedule for concurrency `index` of `concurrencies` sharing
    /// `rate_per_sec`: `arrivals` gaps from `start`, at most `max_queue` intended sends behind.
    pub(crate) fn open_loop(
        rate_per_sec: u64,
        index: usize,
        concurrencies: usize,
        start: Instant,
        arrivals: Arrivals,
        max_queue: usize,
        seed: u64,
    ) -> Option<Pacer> {
        let mut pacer = Pacer::new(rate_per_sec, index, concurrencies, start)?;
        pacer.arrivals = arrivals;
        pacer.max_queue = Some(u32::try_from(max_queue).unwrap_or(u32::MAX).max(1));
        pacer.rng = fastrand::Rng::with_seed(seed);
        if arrivals == Arrivals::Poisson {
            // A Poisson process has no phase: its first arrival is one gap after the start.
            pacer.next_due = start + pacer.gap();
        }
        Some(pacer)
    }

    /// The gap to the next intended send.
    fn gap(&mut self) -> Duration {
        match self.arrivals {
            Arrivals::Uniform => self.interval,
            // Inverse transform: -ln(U) × mean, U in (0, 1].
            Arrivals::Poisson => self.interval.mul_f64(-(1.0 - self.rng.f64()).ln()),
        }
    }

    /// Drops the intended sends that fell more than `max_queue` behind `now` (the backlog
    /// bound of `--max-queue`); returns how many. Never drops with `-P`.
    pub(crate) fn shed(&mut self, now: Instant) -> u64 {
        let Some(max_queue) = self.max_queue else {
            return 0;
        };
        // The backlog is what was due by `now`; with even gaps exactly, with exponential ones
        // its mean. The oldest of the allowed `max_queue` is this far behind.
        let allowed = self.interval * max_queue;
        let mut dropped = 0;
        while self.next_due + allowed < now {
            let gap = self.gap();
            self.next_due += gap;
            dropped += 1;
        }
        dropped
    }

    /// When the next request is due.
    pub(crate) fn next_due(&self) -> Instant {
        self.next_due
    }

    /// Books a request of `ops` operations (a multi-get of k keys is k operations) at the
    /// current due time and returns that time.
    pub(crate) fn book(&mut self, ops: u64) -> Instant {
        let due = self.next_due;
        match self.arrivals {
            Arrivals::Uniform => self.next_due += self.interval.mul_f64(ops as f64),
            Arrivals::Poisson => {
                for _ in 0..ops {
                    let gap = self.gap();
                    self.next_due += gap;
                }
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrencies_share_the_rate_with_staggered_phases() {
        let start = Instant::now();
        let mut pacers: Vec<Pacer> = (0..4)
            .map(|i| Pacer::new(2000, i, 4, start).unwrap())
            .collect();
        // 2000/s over 4 → 500/s each, 2 ms apart, phases 0, 0.5, 1, 1.5 ms.
        assert_eq!(pacers[0].next_due(), start);
        assert_eq!(pacers[2].next_due() - start, Duration::from_millis(1));
        let horizon = start + Duration::from_secs(3);
        let mut booked = 0u64;
        for pacer in &mut pacers {
            while pacer.next_due() < horizon {
                pacer.book(1);
                booked += 1;
            }
        }
        assert_eq!(booked, 6000);
    }

    #[test]
    fn a_multi_get_books_one_slot_per_key() {
        let start = Instant::now();
        let mut pacer = Pacer::new(1000, 0, 1, start).unwrap();
        assert_eq!(pacer.book(10), start);
        assert_eq!(pacer.next_due() - start, Duration::from_millis(10));
    }

    #[test]
    fn no_rate_no_pacer() {
        assert!(Pacer::new(0, 0, 4, Instant::now()).is_none());
    }

    #[test]
    fn poisson_arrivals_keep_the_mean_rate() {
        let start = Instant::now();
        let mut pacer = Pacer::open_loop(1000, 0, 1, start, Arrivals::Poisson, 100, 5).unwrap();
        let mut last = start;
        let mut gaps = Vec::new();
        for _ in 0..20_000 {
            let due = pacer.book(1);
            gaps.push((due - last).as_secs_f64());
            last = due;
        }
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        assert!((mean - 0.001).abs() < 0.00003, "mean gap {mean}");
        // Exponential: the standard deviation equals the mean.
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!((var.sqrt() / mean - 1.0).abs() < 0.05);
    }

    #[test]
    fn a_backlog_beyond_max_queue_is_dropped_and_counted() {
        let start = Instant::now();
        let mut pacer = Pacer::open_loop(1000, 0, 1, start, Arrivals::Uniform, 10, 1).unwrap();
        // 100 ms behind at 1 ms a send: 100 due, 10 may wait, 90 are dropped.
        let now = start + Duration::from_millis(100);
        let dropped = pacer.shed(now);
        assert_eq!(dropped, 90);
        let waiting = (0..).take_while(|_| pacer.book(1) <= now).count();
        assert_eq!(waiting, 11, "the 10 allowed and the one due right now");
        assert_eq!(pacer.shed(now), 0);
        let mut paced = Pacer::new(1000, 0, 1, start).unwrap();
        assert_eq!(paced.shed(now), 0, "-P never drops");
    }
}
