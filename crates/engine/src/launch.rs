//! The main thread's side of a run: spawn one pinned executor per shard, start every shard's
//! clock at the same instant, gather period snapshots into a time series, and merge.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};
use shardslap_config::{unix_now_s, RunConfig, ShardPlan};
use shardslap_report::{OpSummary, Report, RunInfo, ShardStats, TimePoint, Warmup};
use shardslap_workload::{build_distribution, CharBlock, CHAR_BLOCK_LEN};

use crate::preflight::IO_MEMORY_BYTES;
use crate::shard::{self, ExitGuard, ShardInputs, ShardMsg};
use crate::{signals, EngineError, Preflight, RunControl};

/// How long the main thread waits between looks at signals and faults.
const MAIN_POLL: Duration = Duration::from_millis(20);
/// Delay between publishing the start instant and the start itself, so that every shard
/// (polling every few ms) is already waiting for it.
const START_LEAD: Duration = Duration::from_millis(20);
/// io_uring ring entries per executor: a few per connection is plenty for network I/O.
const RING_DEPTH: usize = 256;

/// One completed period, as the main thread sees it (all shards merged).
#[derive(Debug)]
pub struct PeriodSample<'a> {
    /// The period's own statistics (all shards).
    pub period: &'a ShardStats,
    /// Everything measured since the start (all shards).
    pub global: &'a ShardStats,
    /// Length of this period.
    pub period_secs: f64,
    /// Time from the start to the end of this period.
    pub elapsed_secs: f64,
}

/// Receives progress while a run goes on (the binary prints with it).
pub trait RunObserver {
    /// Called once per completed period, in order.
    fn on_period(&mut self, sample: &PeriodSample<'_>);

    /// Called with each time-series point right after its [`on_period`](Self::on_period).
    /// Returning it (the default) keeps it in the report's time series; returning `None`
    /// says the observer has stored it elsewhere (streamed to a file), so a long run's series
    /// takes no memory. The final, partial point is always kept.
    fn on_point(&mut self, point: TimePoint) -> Option<TimePoint> {
        Some(point)
    }
}

/// Runs the plan to completion (or until interrupted) and returns the merged report of what
/// was measured; `info` describes the run in that report.
///
/// # Errors
/// A shard that could not start (its executor, pinning, or memory) is an error; faults
/// during the run are not — they end it early and are reported in [`Report::interrupted`].
pub fn run(
    cfg: &RunConfig,
    plan: ShardPlan,
    preflight: Preflight,
    info: RunInfo,
    observer: &mut dyn RunObserver,
) -> Result<Report, EngineError> {
    let cfg = Arc::new(cfg.clone());
    let control = Arc::new(RunControl::new());
    let mut seed_rng = fastrand::Rng::with_seed(cfg.seed);
    let block = Arc::new(CharBlock::generate(CHAR_BLOCK_LEN, seed_rng.u64(..)));
    let distribution = Arc::new(build_distribution(
        &cfg.workload,
        cfg.fixed_value_len,
        cfg.window_len,
        CHAR_BLOCK_LEN,
        &mut seed_rng,
    ));
    let server_addrs = Arc::new(preflight.server_addrs);
    let shard_count = plan.shards.len();
    let cpus: Vec<usize> = plan.shards.iter().map(|s| s.cpu).collect();

    // One executor per CPU. Shards beyond the CPU count share their CPU's executor as
    // separate tasks (each still owns its connections and statistics): a thread per shard
    // would make the kernel switch between them on every wake-up.
    let (tx, rx) = mpsc::channel();
    let mut by_cpu: BTreeMap<usize, Vec<(ShardInputs, ExitGuard)>> = BTreeMap::new();
    for spec in plan.shards {
        let guard = ExitGuard {
            shard: spec.shard,
            tx: tx.clone(),
        };
        let inputs = ShardInputs {
            spec,
            cfg: cfg.clone(),
            server_addrs: server_addrs.clone(),
            block: block.clone(),
            distribution: distribution.clone(),
            control: control.clone(),
        };
        by_cpu
            .entry(inputs.spec.cpu)
            .or_default()
            .push((inputs, guard));
    }
    let mut handles = Vec::with_capacity(by_cpu.len());
    for (cpu, shards) in by_cpu {
        let first_shard = shards.first().map_or(0, |(inputs, _)| inputs.spec.shard);
        let tx = tx.clone();
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("cpu-{cpu}"))
            .io_memory(IO_MEMORY_BYTES)
            .ring_depth(RING_DEPTH)
            .spawn(move || async move {
                let tasks: Vec<_> = shards
                    .into_iter()
                    .map(|(inputs, guard)| {
                        let tx = tx.clone();
                        glommio::spawn_local(async move {
                            let _guard = guard;
                            shard::run(inputs, tx).await;
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
            })
            .map_err(|err| EngineError::Shard {
                shard: first_shard,
                cpu,
                msg: std::io::Error::from(err).to_string(),
            })?;
        handles.push((first_shard, cpu, handle));
    }
    drop(tx);

    let mut collector = Collector::new(shard_count, cpus, cfg.stat_freq, cfg.start_at, &control);
    let collected = collector.collect(&rx, observer);

    // Every shard has exited (or was asked to stop); join to surface start-up failures.
    let mut first_error = None;
    for (shard, cpu, handle) in handles {
        if let Err(err) = handle.join() {
            first_error.get_or_insert(EngineError::Shard {
                shard,
                cpu,
                msg: std::io::Error::from(err).to_string(),
            });
        }
    }
    if let (Some(err), false) = (first_error, collected) {
        return Err(err);
    }
    Ok(collector.finish(info))
}

/// Main-thread bookkeeping while shards run.
struct Collector<'c> {
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
    pending: Vec<(u64, Vec<Option<ShardStats>>)>,
    next_period: u64,
    global: ShardStats,
    timeseries: Vec<TimePoint>,
    remainder: ShardStats,
    /// Per-shard operations in `remainder`.
    remainder_shard_ops: Vec<u64>,
    start: Option<Instant>,
    started_at_unix_s: f64,
    ended: Option<Instant>,
    interrupted: Option<String>,
}

impl<'c> Collector<'c> {
    fn new(
        shard_count: usize,
        cpus: Vec<usize>,
        stat_freq: Option<Duration>,
        start_at_unix_s: Option<f64>,
        control: &'c RunControl,
    ) -> Self {
        let shards = cpus
            .iter()
            .enumerate()
            .map(|(shard, &cpu)| ShardStats::new(shard, cpu))
            .collect();
        Self {
            shard_count,
            control,
            period: stat_freq.unwrap_or(Duration::from_secs(1)),
            start_at_unix_s,
            shards,
            warmup: ShardStats::new(0, 0),
            warmup_time: Duration::ZERO,
            ready: vec![false; shard_count],
            done: vec![false; shard_count],
            exited: vec![false; shard_count],
            pending: Vec::new(),
            next_period: 0,
            global: ShardStats::new(0, 0),
            timeseries: Vec::new(),
            remainder: ShardStats::new(0, 0),
            remainder_shard_ops: vec![0; shard_count],
            start: None,
            started_at_unix_s: 0.0,
            ended: None,
            interrupted: None,
        }
    }

    /// Receives until every shard has exited. Returns whether any shard got as far as Ready.
    fn collect(&mut self, rx: &Receiver<ShardMsg>, observer: &mut dyn RunObserver) -> bool {
        while self.exited.iter().any(|e| !e) {
            match rx.recv_timeout(MAIN_POLL) {
                Ok(msg) => self.handle(msg, observer),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if let Some(signal) = signals::received() {
                let name = if signal == libc::SIGTERM {
                    "SIGTERM"
                } else {
                    "SIGINT"
                };
                self.stop(format!("interrupted by {name}"));
            }
            if self.start.is_none() && self.ready.iter().all(|r| *r) {
                let (start, started_at_unix_s) = start_instant(self.start_at_unix_s);
                self.control.set_start(start);
                self.start = Some(start);
                self.started_at_unix_s = started_at_unix_s;
            }
        }
        self.ready.iter().any(|r| *r)
    }

    fn stop(&mut self, reason: String) {
        self.interrupted.get_or_insert(reason);
        self.control.request_stop();
    }

    fn handle(&mut self, msg: ShardMsg, observer: &mut dyn RunObserver) {
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
            }
            ShardMsg::Period {
                shard,
                index,
                stats,
            } => {
                self.shards[shard].merge(&stats);
                let slot = match self.pending.iter().position(|(i, _)| *i == index) {
                    Some(pos) => pos,
                    None => {
                        self.pending.push((index, vec![None; self.shard_count]));
                        self.pending.len() - 1
                    }
                };
                self.pending[slot].1[shard] = Some(*stats);
                self.emit_complete_periods(observer);
            }
            ShardMsg::Fault { shard, reason } => self.stop(format!("shard {shard}: {reason}")),
            ShardMsg::Done {
                shard,
                stats,
                ended,
            } => {
                self.shards[shard].merge(&stats);
                self.remainder.merge(&stats);
                self.remainder_shard_ops[shard] = stats.ops.total.count();
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
            let mut period = ShardStats::new(0, 0);
            let mut shard_ops = vec![0; self.shard_count];
            for (shard, stats) in parts.iter().enumerate() {
                if let Some(stats) = stats {
                    period.merge(stats);
                    shard_ops[shard] = stats.ops.total.count();
                }
            }
            self.next_period += 1;
            let elapsed = self.period * self.next_period as u32;
            self.push_point(period, shard_ops, self.period, elapsed, observer);
        }
    }

    fn push_point(
        &mut self,
        period: ShardStats,
        shard_ops: Vec<u64>,
        length: Duration,
        elapsed: Duration,
        observer: &mut dyn RunObserver,
    ) {
        self.global.merge(&period);
        observer.on_period(&PeriodSample {
            period: &period,
            global: &self.global,
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
    }

    fn finish(mut self, info: RunInfo) -> Report {
        let start = self.start.unwrap_or_else(Instant::now);
        let ended = self.ended.unwrap_or(start).max(start);
        let duration = ended - start;
        // What shards measured after their last full period: a final, partial point.
        let remainder = std::mem::replace(&mut self.remainder, ShardStats::new(0, 0));
        if remainder.ops.total.count() > 0 {
            let last = self.period * self.next_period as u32;
            let length = duration.saturating_sub(last);
            let shard_ops = std::mem::take(&mut self.remainder_shard_ops);
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

/// When every shard starts its clock, as a monotonic instant and in Unix seconds: `--start-at`
/// if it is still ahead (so hosts that share it start together), else a short lead from now
/// so that every shard is already waiting.
fn start_instant(start_at_unix_s: Option<f64>) -> (Instant, f64) {
    let (now, now_unix_s) = (Instant::now(), unix_now_s());
    let lead_s = START_LEAD.as_secs_f64();
    let wait_s = start_at_unix_s.map_or(lead_s, |at| (at - now_unix_s).max(lead_s));
    (now + Duration::from_secs_f64(wait_s), now_unix_s + wait_s)
}
