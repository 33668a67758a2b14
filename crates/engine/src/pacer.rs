//! `-P`: a schedule that spaces one concurrency's requests evenly, so the run's total rate is
//! what was asked for. Each concurrency gets `rate / concurrencies` operations per second and
//! a phase offset, so the concurrencies do not all fire at once.
//!
//! The schedule is absolute (`start + n × interval`), so a request sent late does not push
//! the later ones back: the achieved rate stays on target whenever the server can carry it,
//! and the latency of a late request counts from when it was due (no coordinated omission).

use std::time::{Duration, Instant};

/// When this concurrency's next operation is due.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    /// Time per operation for this concurrency.
    interval: Duration,
    /// When the next request is due.
    next_due: Instant,
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
        })
    }

    /// When the next request is due.
    pub(crate) fn next_due(&self) -> Instant {
        self.next_due
    }

    /// Books a request of `ops` operations (a multi-get of k keys is k operations) at the
    /// current due time and returns that time.
    pub(crate) fn book(&mut self, ops: u64) -> Instant {
        let due = self.next_due;
        self.next_due += self.interval.mul_f64(ops as f64);
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
}
