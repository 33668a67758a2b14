//! The main thread's bookkeeping while shards run: shard messages in, the run's time series
//! and merged report out. Pure (no executor, no socket): the launcher feeds it what the shards
//! send, so it is tested with made-up messages.

use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use shardslap_report::{OpSummary, Report, RunInfo, ShardStats, TimePoint, Warmup};

use crate::launch::{PeriodSample, RunObserver};
use crate::shard::ShardMsg;
use crate::RunControl;

/// Main-thread bookkeeping while shards run.
pub(crate) struct Collector<'c> {
    shard_count: usize,
    control: &'c RunControl,
    period: Duration,
    /// `--start-at`: the wall-clock start (Unix seconds) asked for, if any.
    start_at_unix_s: Option<f64>,
    shards: Vec<ShardStats>,
    warmup: ShardStats,
    warmup_time: Duration,
    ready: Vec<bool>,
    done: Vec<bool>,
    exited: Vec<bool>,
    /// Period statistics received but not yet complete, by period index.
    pending: Vec<(u64, Vec<Option<Box<ShardStats>>>)>,
    /// Per shard, where its statistics go back, emptied, once merged: shards then fill the
    /// same histograms period after period instead of allocating new ones.
    returns: Vec<Sender<Box<ShardStats>>>,
    next_period: u64,
    /// Every emitted period added up, for the observer; `None` with one shard, whose
    /// totals in `shards` are the same (a second copy would cost its histograms' memory).
    global: Option<ShardStats>,
    timeseries: Vec<TimePoint>,
    remainder: ShardStats,
    /// Per-shard operations in `remainder`.
    remainder_shard_ops: Vec<u64>,
    start: Option<Instant>,
    started_at_unix_s: f64,
    ended: Option<Instant>,
    interrupted: Option<String>,
    /// Each shard's warm-up so far: (SETs answered, SETs to make).
    warmup_progress: Vec<(u64, u64)>,
    /// The first fault that came before the clock started, or a refused connection: the run
    /// did not measure what was asked.
    setup_failure: Option<String>,
}

impl<'c> Collector<'c> {
    /// The bookkeeping of a run whose shard `i` runs on `cpus[i]` and takes its emptied
    /// statistics back from `returns[i]`.
    pub(crate) fn new(
        cpus: Vec<usize>,
        stat_freq: Option<Duration>,
        start_at_unix_s: Option<f64>,
        control: &'c RunControl,
        returns: Vec<Sender<Box<ShardStats>>>,
    ) -> Self {
        let shard_count = cpus.len();
        let shards = cpus
            .iter()
            .enumerate()
            .map(|(shard, &cpu)| ShardStats::new(shard, cpu))
            .collect();
        Self {
            shard_count,
            control,
            period: crate::shard::period_of(stat_freq),
            start_at_unix_s,
            shards,
            warmup: ShardStats::new(0, 0),
            warmup_time: Duration::ZERO,
            ready: vec![false; shard_count],
            done: vec![false; shard_count],
            exited: vec![false; shard_count],
            pending: Vec::new(),
            returns,
            next_period: 0,
            global: (shard_count != 1).then(|| ShardStats::new(0, 0)),
            timeseries: Vec::new(),
            remainder: ShardStats::new(0, 0),
            remainder_shard_ops: vec![0; shard_count],
            start: None,
            started_at_unix_s: 0.0,
            ended: None,
            interrupted: None,
            setup_failure: None,
            warmup_progress: vec![(0, 0); shard_count],
        }
    }

    /// Why the run could not start, if a connection failed before the clock did.
    pub(crate) fn setup_failure(&self) -> Option<&str> {
        self.setup_failure.as_deref()
    }

    /// Whether every shard's thread is gone.
    pub(crate) fn all_exited(&self) -> bool {
        self.exited.iter().all(|exited| *exited)
    }

    /// Whether any shard got as far as `Ready`.
    pub(crate) fn any_ready(&self) -> bool {
        self.ready.iter().any(|ready| *ready)
    }

    /// Every shard is ready and the start is not yet published.
    pub(crate) fn waiting_to_start(&self) -> bool {
        self.start.is_none() && self.ready.iter().all(|ready| *ready)
    }

    /// `--start-at`, in Unix seconds.
    pub(crate) fn start_at_unix_s(&self) -> Option<f64> {
        self.start_at_unix_s
    }

    /// Publishes the common start: `start`, which is `unix_s` on the wall clock.
    pub(crate) fn start_at(&mut self, start: Instant, unix_s: f64) {
        self.control.set_start(start);
        self.start = Some(start);
        self.started_at_unix_s = unix_s;
    }

    /// Ends the run early for `reason` (the first reason given is kept).
    pub(crate) fn stop(&mut self, reason: String) {
        self.interrupted.get_or_insert(reason);
        self.control.request_stop();
    }

    pub(crate) fn handle(&mut self, msg: ShardMsg, observer: &mut dyn RunObserver) {
        match msg {
            ShardMsg::Ready {
                shard,
                warmup,
                warmup_time,
            } => {
                self.ready[shard] = true;
                self.warmup_time = self.warmup_time.max(warmup_time);
                self.warmup.merge(&warmup);
                self.shards[shard].merge(&warmup);
                self.give_back(warmup);
            }
            ShardMsg::Period {
                shard,
                index,
                stats,
            } => {
                let slot = match self.pending.iter().position(|(i, _)| *i == index) {
                    Some(pos) => pos,
                    None => {
                        self.pending.push((index, vec![None; self.shard_count]));
                        self.pending.len() - 1
                    }
                };
                self.pending[slot].1[shard] = Some(stats);
                self.emit_complete_periods(observer);
            }
            ShardMsg::Fault { shard, reason } => {
                if self.start.is_none() {
                    self.setup_failure.get_or_insert_with(|| reason.clone());
                }
                self.stop(format!("shard {shard}: {reason}"));
            }
            ShardMsg::WarmupProgress { shard, done, total } => {
                self.warmup_progress[shard] = (done, total);
                let (done, total) = self
                    .warmup_progress
                    .iter()
                    .fold((0, 0), |(d, t), &(done, total)| (d + done, t + total));
                observer.on_warmup(done, total);
            }
            ShardMsg::Refused { shard, reason } => {
                self.setup_failure.get_or_insert_with(|| reason.clone());
                self.stop(format!("shard {shard}: {reason}"));
            }
            ShardMsg::Done {
                shard,
                stats,
                ended,
            } => {
                self.shards[shard].merge(&stats);
                self.remainder.merge(&stats);
                self.remainder_shard_ops[shard] = stats.ops.total_count();
                self.done[shard] = true;
                self.ended = Some(self.ended.map_or(ended, |e| e.max(ended)));
                self.emit_complete_periods(observer);
            }
            ShardMsg::Exited { shard } => {
                self.exited[shard] = true;
                if !self.done[shard] {
                    self.done[shard] = true;
                    // A shard that died without finishing: stop the others too.
                    self.stop(format!("shard {shard} stopped unexpectedly"));
                    self.emit_complete_periods(observer);
                }
            }
        }
    }

    /// Emits, in order, every period that all still-running shards have reported.
    fn emit_complete_periods(&mut self, observer: &mut dyn RunObserver) {
        while let Some(pos) = self
            .pending
            .iter()
            .position(|(i, _)| *i == self.next_period)
        {
            let complete = self.pending[pos]
                .1
                .iter()
                .zip(&self.done)
                .all(|(stats, done)| stats.is_some() || *done);
            if !complete {
                return;
            }
            let (_, parts) = self.pending.swap_remove(pos);
            // The first shard's statistics become the period's, so one shard's run holds no
            // second copy of its histograms.
            let mut period: Option<Box<ShardStats>> = None;
            let mut shard_ops = vec![0; self.shard_count];
            for (shard, stats) in parts.into_iter().enumerate() {
                let Some(stats) = stats else {
                    continue;
                };
                shard_ops[shard] = stats.ops.total_count();
                self.shards[shard].merge(&stats);
                match period.as_mut() {
                    None => period = Some(stats),
                    Some(period) => {
                        period.merge(&stats);
                        self.give_back(stats);
                    }
                }
            }
            self.next_period += 1;
            let elapsed = self.period * self.next_period as u32;
            match period {
                Some(period) => {
                    let period = self.push_point(period, shard_ops, self.period, elapsed, observer);
                    self.give_back(period);
                }
                None => {
                    let empty = Box::new(ShardStats::new(0, 0));
                    self.push_point(empty, shard_ops, self.period, elapsed, observer);
                }
            }
        }
    }

    /// Empties a shard's statistics and hands them back to it to fill again (a shard that
    /// has finished no longer takes them: they are dropped).
    fn give_back(&self, mut stats: Box<ShardStats>) {
        stats.recycle();
        if let Some(back) = self.returns.get(stats.shard) {
            let _ = back.send(stats);
        }
    }

    /// Adds a point to the time series and tells the observer; gives `period` back.
    fn push_point(
        &mut self,
        period: Box<ShardStats>,
        shard_ops: Vec<u64>,
        length: Duration,
        elapsed: Duration,
        observer: &mut dyn RunObserver,
    ) -> Box<ShardStats> {
        if let Some(global) = self.global.as_mut() {
            global.merge(&period);
        }
        // One shard's totals are the run's (warm-up adds counters, never latencies).
        let global = self.global.as_ref().unwrap_or(&self.shards[0]);
        observer.on_period(&PeriodSample {
            period: &period,
            global,
            period_secs: length.as_secs_f64(),
            elapsed_secs: elapsed.as_secs_f64(),
        });
        let point = TimePoint {
            t_s: elapsed.as_secs_f64(),
            ops: OpSummary::from(&period.ops),
            shard_ops,
        };
        if let Some(point) = observer.on_point(point) {
            self.timeseries.push(point);
        }
        period
    }

    pub(crate) fn finish(mut self, info: RunInfo) -> Report {
        // Periods some shard sent but that never completed still belong to its totals.
        for (_, parts) in std::mem::take(&mut self.pending) {
            for (shard, stats) in parts.into_iter().enumerate() {
                if let Some(stats) = stats {
                    self.shards[shard].merge(&stats);
                    self.remainder.merge(&stats);
                    self.remainder_shard_ops[shard] += stats.ops.total_count();
                }
            }
        }
        let start = self.start.unwrap_or_else(Instant::now);
        let ended = self.ended.unwrap_or(start).max(start);
        let duration = ended - start;
        // What shards measured after their last full period: a final, partial point.
        let remainder = std::mem::replace(&mut self.remainder, ShardStats::new(0, 0));
        if remainder.ops.total_count() > 0 {
            let last = self.period * self.next_period as u32;
            let length = duration.saturating_sub(last);
            let shard_ops = std::mem::take(&mut self.remainder_shard_ops);
            let remainder = Box::new(remainder);
            self.push_point(remainder, shard_ops, length, duration, &mut NoObserver);
        }
        let mut totals = ShardStats::new(0, 0);
        for shard in &self.shards {
            totals.merge(shard);
        }
        let warmup = (self.warmup.counters.warmup_sets > 0).then_some(Warmup {
            sets: self.warmup.counters.warmup_sets,
            duration: self.warmup_time,
        });
        Report {
            info,
            totals,
            shards: self.shards,
            duration,
            started_at_unix_s: self.started_at_unix_s,
            warmup,
            timeseries: self.timeseries,
            interrupted: self.interrupted,
        }
    }
}

struct NoObserver;

impl RunObserver for NoObserver {
    fn on_period(&mut self, _: &PeriodSample<'_>) {}
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{self, Receiver};

    use shardslap_report::Counters;

    use super::*;

    /// Remembers what the observer was told.
    #[derive(Default)]
    struct Seen {
        periods: Vec<(u64, f64)>,
    }

    impl RunObserver for Seen {
        fn on_period(&mut self, sample: &PeriodSample<'_>) {
            self.periods
                .push((sample.period.ops.total_count(), sample.elapsed_secs));
        }
    }

    fn stats(shard: usize, gets: u64) -> Box<ShardStats> {
        let mut stats = ShardStats::new(shard, shard);
        for _ in 0..gets {
            stats.ops.record_get(100_000, 0);
        }
        Box::new(stats)
    }

    fn info() -> RunInfo {
        shardslap_report::test_support::sample_info()
    }

    fn started(control: &RunControl, shards: usize) -> (Collector<'_>, Instant) {
        let (collector, start, _) = started_with_spares(control, shards);
        (collector, start)
    }

    /// A started collector, and per shard where its emptied statistics come back.
    fn started_with_spares(
        control: &RunControl,
        shards: usize,
    ) -> (Collector<'_>, Instant, Vec<Receiver<Box<ShardStats>>>) {
        let cpus = (0..shards).collect();
        let period = Some(Duration::from_secs(1));
        let (returns, spares): (Vec<_>, Vec<_>) = (0..shards).map(|_| mpsc::channel()).unzip();
        let mut collector = Collector::new(cpus, period, None, control, returns);
        let mut seen = Seen::default();
        for shard in 0..shards {
            assert!(!collector.waiting_to_start());
            let warmup = Box::new(ShardStats::new(shard, shard));
            let warmup_time = Duration::from_millis(5);
            collector.handle(
                ShardMsg::Ready {
                    shard,
                    warmup,
                    warmup_time,
                },
                &mut seen,
            );
        }
        assert!(collector.waiting_to_start());
        let start = Instant::now();
        collector.start_at(start, 1_700_000_000.0);
        assert_eq!(control.start(), Some(start));
        assert!(!collector.waiting_to_start());
        (collector, start, spares)
    }

    #[test]
    fn merged_statistics_go_back_emptied_to_the_shard_that_sent_them() {
        let control = RunControl::new();
        let (mut collector, _, spares) = started_with_spares(&control, 2);
        let mut seen = Seen::default();
        for shard in 0..2 {
            let stats = stats(shard, 3 + shard as u64);
            let index = 0;
            collector.handle(
                ShardMsg::Period {
                    shard,
                    index,
                    stats,
                },
                &mut seen,
            );
        }
        assert_eq!(seen.periods, vec![(7, 1.0)]);
        for (shard, spares) in spares.iter().enumerate() {
            // The warm-up's statistics and period 0's.
            let back: Vec<_> = spares.try_iter().collect();
            assert_eq!(back.len(), 2, "shard {shard}");
            for stats in back {
                assert_eq!(stats.shard, shard);
                assert_eq!(stats.ops.total_count(), 0);
                assert_eq!(stats.counters, Counters::default());
            }
        }
        let report = collector.finish(info());
        assert_eq!(report.totals.ops.total_count(), 7);
    }

    #[test]
    fn a_period_is_emitted_once_every_shard_has_sent_it_in_order() {
        let control = RunControl::new();
        let (mut collector, _) = started(&control, 2);
        let mut seen = Seen::default();
        let period = |shard, index, gets| ShardMsg::Period {
            shard,
            index,
            stats: stats(shard, gets),
        };
        collector.handle(period(0, 0, 10), &mut seen);
        collector.handle(period(0, 1, 20), &mut seen);
        assert!(seen.periods.is_empty(), "shard 1 has not sent period 0");
        collector.handle(period(1, 1, 2), &mut seen);
        assert!(seen.periods.is_empty(), "period 1 waits for period 0");
        collector.handle(period(1, 0, 1), &mut seen);
        assert_eq!(seen.periods, vec![(11, 1.0), (22, 2.0)]);
        let report = collector.finish(info());
        let shard_ops: Vec<_> = report
            .timeseries
            .iter()
            .map(|p| p.shard_ops.clone())
            .collect();
        assert_eq!(shard_ops, vec![vec![10, 1], vec![20, 2]]);
        assert_eq!(report.totals.ops.total_count(), 33);
    }

    #[test]
    fn a_dead_shard_stops_the_run_and_no_longer_holds_periods_back() {
        let control = RunControl::new();
        let (mut collector, _) = started(&control, 2);
        let mut seen = Seen::default();
        collector.handle(
            ShardMsg::Period {
                shard: 0,
                index: 0,
                stats: stats(0, 7),
            },
            &mut seen,
        );
        collector.handle(ShardMsg::Exited { shard: 1 }, &mut seen);
        assert!(control.stop_requested());
        assert_eq!(seen.periods, vec![(7, 1.0)]);
        assert!(!collector.all_exited());
        collector.handle(ShardMsg::Exited { shard: 0 }, &mut seen);
        assert!(collector.all_exited());
        let report = collector.finish(info());
        assert_eq!(
            report.interrupted.as_deref(),
            Some("shard 1 stopped unexpectedly")
        );
    }

    #[test]
    fn what_shards_measured_after_the_last_boundary_is_a_final_partial_point() {
        let control = RunControl::new();
        let (mut collector, start) = started(&control, 2);
        let mut seen = Seen::default();
        for shard in 0..2 {
            collector.handle(
                ShardMsg::Period {
                    shard,
                    index: 0,
                    stats: stats(shard, 5),
                },
                &mut seen,
            );
        }
        let ended = start + Duration::from_millis(1500);
        for (shard, gets) in [(0, 3), (1, 4)] {
            let stats = stats(shard, gets);
            collector.handle(
                ShardMsg::Done {
                    shard,
                    stats,
                    ended,
                },
                &mut seen,
            );
        }
        let report = collector.finish(info());
        assert_eq!(report.duration, Duration::from_millis(1500));
        let last = report.timeseries.last().expect("a final point");
        assert_eq!(last.t_s, 1.5);
        assert_eq!(last.shard_ops, vec![3, 4]);
        assert_eq!(report.totals.ops.total_count(), 17);
        assert_eq!(report.shards[1].ops.total_count(), 9);
        assert_eq!(report.started_at_unix_s, 1_700_000_000.0);
    }

    #[test]
    fn the_first_fault_is_the_reason_the_run_ended() {
        let control = RunControl::new();
        let (mut collector, _) = started(&control, 1);
        let mut seen = Seen::default();
        for reason in ["first", "second"] {
            let reason = reason.to_string();
            collector.handle(ShardMsg::Fault { shard: 0, reason }, &mut seen);
        }
        assert!(control.stop_requested());
        let report = collector.finish(info());
        assert_eq!(report.interrupted.as_deref(), Some("shard 0: first"));
    }
}
