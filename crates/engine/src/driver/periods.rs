//! The period grid of a run: boundaries at `start + k × period`, handed off in order.

use std::time::{Duration, Instant};

/// Which period boundaries have passed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Periods {
    period: Duration,
    /// The end of period `index`.
    boundary: Instant,
    index: u64,
}

impl Periods {
    /// The grid of a run that starts at `start`.
    pub(crate) fn new(start: Instant, period: Duration) -> Periods {
        Periods {
            period,
            boundary: start + period,
            index: 0,
        }
    }

    /// The next boundary to pass.
    pub(crate) fn boundary(&self) -> Instant {
        self.boundary
    }

    /// The index of the next period that has ended by `now`, moving past it; `None` while
    /// the current period goes on.
    pub(crate) fn next_ended(&mut self, now: Instant) -> Option<u64> {
        if now < self.boundary {
            return None;
        }
        let index = self.index;
        self.index += 1;
        self.boundary += self.period;
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_pass_in_order_even_when_several_passed_at_once() {
        let start = Instant::now();
        let mut periods = Periods::new(start, Duration::from_millis(10));
        assert_eq!(periods.next_ended(start), None);
        assert_eq!(periods.next_ended(start + Duration::from_millis(9)), None);
        let late = start + Duration::from_millis(35);
        assert_eq!(periods.next_ended(late), Some(0));
        assert_eq!(periods.next_ended(late), Some(1));
        assert_eq!(periods.next_ended(late), Some(2));
        assert_eq!(periods.next_ended(late), None);
        assert_eq!(periods.boundary(), start + Duration::from_millis(40));
    }
}
