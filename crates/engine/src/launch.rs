//! The main thread's side of a run: spawn one pinned executor per shard, start every shard's
//! clock at the same instant, gather period snapshots into a time series, and merge.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};
use shardslap_config::{unix_now_s, ReplyWait, ShardPlan};
use shardslap_proto::MAX_KEY_LEN;
use shardslap_report::{Report, RunInfo, ShardStats, TimePoint};
use shardslap_workload::{build_distribution, char_block_len, longest_value_len, CharBlock};

use crate::collector::Collector;
use crate::data_path;
use crate::driver;
use crate::preflight::IO_MEMORY_BYTES;
use crate::shard::{self, ExitGuard, ShardInputs, ShardMsg};
use crate::uring::{self, Ring};
use crate::{DataPath, EngineError, Preflight, Receives, RunControl};

/// How long the main thread waits between looks at stop requests and faults.
const MAIN_POLL: Duration = Duration::from_millis(20);
/// Delay between publishing the start instant and the start itself, so that every shard
/// (polling every few ms) is already waiting for it.
const START_LEAD: Duration = Duration::from_millis(20);
/// io_uring ring entries per executor: a few per connection is plenty for network I/O.
const RING_DEPTH: usize = 256;
/// What a reply adds to each value it carries, at most: the `VALUE` line (or a binary or
/// meta header) with a key of the longest length, and the value's line end.
const REPLY_BYTES_PER_VALUE: usize = MAX_KEY_LEN + 64;

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

    /// Called now and then while connections warm up (memaslap's warm-up, `--prefill`):
    /// `done` of `total` warm-up SETs are answered, all shards together.
    fn on_warmup(&mut self, _done: u64, _total: u64) {}

    /// Polled by the main thread every few milliseconds: a reason ends the run as a lost
    /// server would — every shard stops after its in-flight requests and the report says
    /// why (Ctrl-C: `stopped by SIGINT`). The engine has no other outside input.
    fn stop_requested(&mut self) -> Option<String> {
        None
    }
}

/// Runs the plan to completion (or until interrupted) and returns the merged report of what
/// was measured; `info` describes the run in that report.
///
/// # Errors
/// A shard that could not start (its executor, pinning, or memory) is an error; faults
/// during the run are not — they end it early and are reported in [`Report::interrupted`].
pub fn run(
    plan: ShardPlan,
    preflight: Preflight,
    info: RunInfo,
    observer: &mut dyn RunObserver,
) -> Result<Report, EngineError> {
    let control = Arc::new(RunControl::new());
    let mut seed_rng = fastrand::Rng::with_seed(plan.seed);
    let block_len = char_block_len(&plan.workload, plan.fixed_value_len);
    let block = Arc::new(CharBlock::generate(block_len, seed_rng.u64(..)));
    let distribution = build_distribution(
        &plan.workload,
        plan.fixed_value_len,
        plan.window_len,
        block_len,
        &mut seed_rng,
    );
    let server_addrs = Arc::new(preflight.server_addrs);
    let data_path = preflight.data_path;
    if let Some(notice) = data_path.notice() {
        eprintln!("{notice}");
    }
    let polls = plan
        .shards
        .first()
        .is_some_and(|shard| shard.settings.behaviour.reply_wait == ReplyWait::Poll);
    if polls && matches!(data_path, DataPath::Glommio(_)) {
        eprintln!("shardslap: --busy-poll has no effect on glommio's sockets");
    }
    let mut info = info;
    info.data_path = data_path.name().to_string();
    // Set once by an executor whose ring could not be made after the probe said it could.
    let fell_back = Arc::new(AtomicBool::new(false));
    let shard_count = plan.shards.len();
    // Sockets per concurrency at most: -n per server, to every server with -p.
    let conns_per_concurrency = plan.max_links_per_concurrency();
    let (stat_freq, start_at) = (plan.stat_freq, plan.start_at);
    let reply_len = longest_reply_len(&plan);
    let cpus: Vec<usize> = plan.shards.iter().map(|s| s.cpu).collect();

    // One executor per CPU. Shards beyond the CPU count share their CPU's executor as
    // separate tasks (each still owns its connections and statistics): a thread per shard
    // would make the kernel switch between them on every wake-up.
    let (tx, rx) = mpsc::channel();
    let mut by_cpu: BTreeMap<usize, Vec<(ShardInputs, ExitGuard)>> = BTreeMap::new();
    // Per shard, the way back for the statistics the collector is done with.
    let mut returns = Vec::with_capacity(shard_count);
    for spec in plan.shards {
        let (give_back, spares) = mpsc::channel();
        returns.push(give_back);
        let guard = ExitGuard {
            shard: spec.shard,
            tx: tx.clone(),
        };
        let inputs = ShardInputs {
            spec,
            server_addrs: server_addrs.clone(),
            block: block.clone(),
            distribution: distribution.clone(),
            control: control.clone(),
            spares,
            tls: preflight.tls.clone(),
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
        let data_path = data_path.clone();
        let fell_back = fell_back.clone();
        let connections: usize = shards
            .iter()
            .map(|(inputs, _)| inputs.spec.concurrencies.len() * conns_per_concurrency)
            .sum();
        let handle = LocalExecutorBuilder::new(Placement::Fixed(cpu))
            .name(&format!("cpu-{cpu}"))
            .io_memory(IO_MEMORY_BYTES)
            .ring_depth(RING_DEPTH)
            .spawn(move || async move {
                let shards = match data_path {
                    // The ring is made on the executor's own thread: it has a single issuer.
                    DataPath::Ring(receives) => match Ring::new(connections) {
                        Ok(mut ring) => {
                            if receives == Receives::Multishot {
                                let buffer_len = uring::buffer_len_for(reply_len);
                                if let Err(err) = ring.provide_buffers(connections, buffer_len) {
                                    let what = data_path::provided_buffers_refused(&err);
                                    eprintln!("shardslap: cpu {cpu}: {what}");
                                }
                            }
                            return driver::run(ring, shards, tx).await;
                        }
                        Err(err) => {
                            fell_back.store(true, Ordering::Relaxed);
                            eprintln!(
                                "shardslap: cpu {cpu}: cannot set up the io_uring data path \
                                 ({err}); using glommio's sockets"
                            );
                            shards
                        }
                    },
                    DataPath::Glommio(_) => shards,
                };
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

    let mut collector = Collector::new(cpus, stat_freq, start_at, &control, returns);
    let collected = collect(&mut collector, &rx, observer);

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
    if let Some(reason) = collector.setup_failure() {
        return Err(EngineError::Setup(reason.to_string()));
    }
    if fell_back.load(Ordering::Relaxed) {
        info.data_path = "mixed".to_string();
    }
    Ok(collector.finish(info))
}

/// The longest reply the run can get to one request: a multi-get of its longest values.
fn longest_reply_len(plan: &ShardPlan) -> usize {
    let keys = plan
        .shards
        .first()
        .map_or(1, |shard| shard.settings.behaviour.multi_get_keys.max(1));
    let value = longest_value_len(&plan.workload, plan.fixed_value_len);
    keys.saturating_mul(value.saturating_add(REPLY_BYTES_PER_VALUE))
}

/// Receives until every shard has exited. Returns whether any shard got as far as Ready.
fn collect(
    collector: &mut Collector<'_>,
    rx: &Receiver<ShardMsg>,
    observer: &mut dyn RunObserver,
) -> bool {
    while !collector.all_exited() {
        match rx.recv_timeout(MAIN_POLL) {
            Ok(msg) => collector.handle(msg, observer),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some(reason) = observer.stop_requested() {
            collector.stop(reason);
        }
        if collector.waiting_to_start() {
            let (start, started_at_unix_s) = start_instant(collector.start_at_unix_s());
            collector.start_at(start, started_at_unix_s);
        }
    }
    collector.any_ready()
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
