//! What every concurrency of one shard shares, in three parts with one job each: the
//! statistics since the last period hand-off ([`PeriodStats`]), when to stop issuing requests
//! ([`StopSignal`]) and what the shard may say on stderr ([`Notes`]). Single-threaded (one
//! executor), so plain cells; each borrow lasts one statement and never spans an `.await`.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::net::SocketAddr;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shardslap_config::{RunSettings, StopCondition};
use shardslap_report::ShardStats;
use shardslap_workload::CharBlock;

use crate::link::LinkError;

/// Verification failures printed with -b before going quiet.
const MAX_VERIFY_REPORTS: u32 = 10;
/// Disconnect and reconnect messages printed per shard before going quiet.
const MAX_LINK_NOTES: u32 = 20;

/// The shared state of one shard.
#[derive(Debug)]
pub(crate) struct ShardState {
    pub(crate) stats: PeriodStats,
    pub(crate) stop: StopSignal,
    pub(crate) notes: Notes,
    /// The value bytes (read-only, shared by every shard).
    pub(crate) block: Arc<CharBlock>,
}

impl ShardState {
    /// The state of shard `shard` on `cpu` before it connects.
    pub(crate) fn new(
        shard: usize,
        cpu: usize,
        block: Arc<CharBlock>,
        spares: Receiver<Box<ShardStats>>,
        settings: &RunSettings,
    ) -> Self {
        ShardState {
            stats: PeriodStats::new(shard, cpu, spares),
            stop: StopSignal::default(),
            notes: Notes::new(settings),
            block,
        }
    }
}

/// The statistics requests record into until the next period hand-off.
#[derive(Debug)]
pub(crate) struct PeriodStats {
    current: RefCell<ShardStats>,
    /// Emptied statistics back from the main thread: a hand-off swaps one in instead of
    /// making new histograms, so a long run allocates none after its first periods.
    spares: Receiver<Box<ShardStats>>,
}

impl PeriodStats {
    fn new(shard: usize, cpu: usize, spares: Receiver<Box<ShardStats>>) -> Self {
        PeriodStats {
            current: RefCell::new(ShardStats::new(shard, cpu)),
            spares,
        }
    }

    /// The statistics, to read.
    pub(crate) fn borrow(&self) -> Ref<'_, ShardStats> {
        self.current.borrow()
    }

    /// The statistics, to record into; once per request, never across an `.await`.
    pub(crate) fn borrow_mut(&self) -> RefMut<'_, ShardStats> {
        self.current.borrow_mut()
    }

    /// Takes the statistics gathered so far, leaving empty ones.
    pub(crate) fn take(&self) -> Box<ShardStats> {
        let spare = self.spares.try_recv().ok();
        // More than one back: the main thread fell behind (a write to a slow disk, say) and
        // this shard made new statistics meanwhile. One spare is all a shard needs; keeping
        // the rest would hold the high-water mark of that lag for the rest of the run.
        while let Ok(surplus) = self.spares.try_recv() {
            drop(surplus);
        }
        let mut stats = self.current.borrow_mut();
        let mut taken = spare.unwrap_or_else(|| Box::new(ShardStats::new(stats.shard, stats.cpu)));
        // Swapped in place, so requests keep recording without going through a box.
        std::mem::swap(&mut *stats, &mut *taken);
        taken
    }
}

/// When the shard stops issuing requests: a stop asked from outside, or time mode's deadline.
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    requested: Cell<bool>,
    deadline: Cell<Option<Instant>>,
}

impl StopSignal {
    /// The clock started at `start`: a time-mode run stops issuing at `start + duration`.
    pub(crate) fn begin(&self, start: Instant, stop: StopCondition, stop_requested: bool) {
        self.requested.set(stop_requested);
        if let StopCondition::Time(duration) = stop {
            self.deadline.set(Some(start + duration));
        }
    }

    /// Ends the run early (a stop request mirrored from the main thread).
    pub(crate) fn request(&self) {
        self.requested.set(true);
    }

    /// Whether a concurrency should stop issuing requests at `now`.
    pub(crate) fn should_stop(&self, now: Instant) -> bool {
        self.requested.get() || self.deadline.get().is_some_and(|deadline| now >= deadline)
    }

    /// Time mode: when the run stops issuing requests.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline.get()
    }
}

/// What a shard says on stderr, as memaslap does but bounded, so a flapping server or a
/// stream of verification failures cannot flood the terminal.
#[derive(Debug)]
pub(crate) struct Notes {
    /// `-b`: print verification failures.
    verbose: bool,
    /// `--quiet`: no connection notes.
    quiet: bool,
    verify_reports: Cell<u32>,
    link_notes: Cell<u32>,
}

impl Notes {
    fn new(settings: &RunSettings) -> Self {
        Notes {
            verbose: settings.verbose,
            quiet: settings.quiet,
            verify_reports: Cell::new(0),
            link_notes: Cell::new(0),
        }
    }

    /// Says that a connection to `addr` was lost.
    pub(crate) fn disconnect(&self, addr: SocketAddr, err: &LinkError) {
        if self.take_link_note() {
            eprintln!("Server {addr} disconnect: {err}");
        }
    }

    /// Says that a lost connection to `addr` is back, and after how long.
    pub(crate) fn reconnect(&self, addr: SocketAddr, after: Duration) {
        if self.take_link_note() {
            eprintln!("Server {addr} reconnect after {:.1}s", after.as_secs_f64());
        }
    }

    fn take_link_note(&self) -> bool {
        let noted = self.link_notes.get();
        if self.quiet || noted >= MAX_LINK_NOTES {
            return false;
        }
        self.link_notes.set(noted + 1);
        true
    }

    /// With -b, prints a bounded number of verification failures.
    pub(crate) fn verify_failure(&self, key: &[u8], expected: &[u8], received: &[u8]) {
        let reported = self.verify_reports.get();
        if !self.verbose || reported >= MAX_VERIFY_REPORTS {
            return;
        }
        self.verify_reports.set(reported + 1);
        eprintln!(
            "verify failed: key {}\n  expected: {}\n  received: {}",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(expected),
            String::from_utf8_lossy(received)
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use clap::Parser;
    use shardslap_config::{Args, RunConfig};

    use super::*;

    fn state() -> (ShardState, mpsc::Sender<Box<ShardStats>>) {
        let cfg = RunConfig::from_args(Args::parse_from(["shardslap", "-s", "127.0.0.1:1"]))
            .expect("a valid config");
        let block = Arc::new(CharBlock::generate(64, 1));
        let (give_back, spares) = mpsc::channel();
        let state = ShardState::new(3, 5, block, spares, &RunSettings::of(&cfg));
        (state, give_back)
    }

    #[test]
    fn a_hand_off_swaps_in_a_spare_and_frees_any_surplus() {
        let (state, give_back) = state();
        state.stats.borrow_mut().ops.record_get(1_000, 0);

        // No spare yet: new statistics of the same shard and CPU.
        let first = state.stats.take();
        assert_eq!((first.shard, first.cpu, first.ops.total_count()), (3, 5, 1));
        assert_eq!(state.stats.borrow().ops.total_count(), 0);

        // Three back at once (the main thread fell behind): one is used, two are freed.
        for _ in 0..3 {
            give_back
                .send(Box::new(ShardStats::new(3, 5)))
                .expect("the shard holds the receiver");
        }
        let _ = state.stats.take();
        assert!(
            state.stats.spares.try_recv().is_err(),
            "no spare kept beyond the one in use"
        );
    }

    #[test]
    fn a_run_stops_at_its_deadline_or_when_asked() {
        let (state, _) = state();
        let start = Instant::now();
        assert!(
            !state.stop.should_stop(start),
            "no stop before the clock starts"
        );
        state
            .stop
            .begin(start, StopCondition::Time(Duration::from_secs(2)), false);
        assert_eq!(state.stop.deadline(), Some(start + Duration::from_secs(2)));
        assert!(!state.stop.should_stop(start + Duration::from_secs(1)));
        assert!(state.stop.should_stop(start + Duration::from_secs(2)));
        state.stop.request();
        assert!(state.stop.should_stop(start));
    }

    #[test]
    fn an_ops_run_has_no_deadline_but_a_stop_request_holds_from_the_start() {
        let (state, _) = state();
        let start = Instant::now();
        state.stop.begin(start, StopCondition::Ops(10), true);
        assert_eq!(state.stop.deadline(), None);
        assert!(state.stop.should_stop(start));
    }

    #[test]
    fn link_notes_stop_after_their_bound() {
        let (state, _) = state();
        let taken = (0..MAX_LINK_NOTES + 5)
            .filter(|_| state.notes.take_link_note())
            .count();
        assert_eq!(taken, MAX_LINK_NOTES as usize);
    }
}
