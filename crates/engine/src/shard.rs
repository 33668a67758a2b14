//! One shard: a pinned executor's whole run — connect, warm up, wait for the common start,
//! drive every connection until the run ends, and hand statistics to the main thread at
//! period boundaries and at the end.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shardslap_config::{ConcurrencySpec, RunSettings, ShardSpec};
use shardslap_report::{ShardStats, DEFAULT_PERIOD};
use shardslap_workload::{CharBlock, SlotShape, Window};

use crate::link::LinkError;
use crate::shard_state::ShardState;
use crate::task_concurrency::TaskConcurrency;
use crate::RunControl;

/// How often a shard looks at the run-wide control while it waits or runs.
const CONTROL_POLL: Duration = Duration::from_millis(5);
/// How often warm-up progress goes to the main thread.
pub(crate) const WARMUP_PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Messages from a shard to the main thread, in the order a shard sends them.
#[derive(Debug)]
pub(crate) enum ShardMsg {
    /// Connected (and warmed up); `warmup` holds the warm-up traffic's counters.
    Ready {
        shard: usize,
        warmup: Box<ShardStats>,
        warmup_time: Duration,
    },
    /// Statistics of period `index` (0-based) since the start.
    Period {
        shard: usize,
        index: u64,
        stats: Box<ShardStats>,
    },
    /// A connection failed; the run should end early.
    Fault { shard: usize, reason: String },
    /// How far the warm-up (memaslap's, or `--prefill`) has come: `done` of `total` SETs.
    WarmupProgress { shard: usize, done: u64, total: u64 },
    /// The server refused a connection before answering anything on it (memcached over its
    /// connection limit): the run cannot load the server as asked, so it ends unmeasured.
    Refused { shard: usize, reason: String },
    /// The shard finished; `stats` is what it measured since its last period.
    Done {
        shard: usize,
        stats: Box<ShardStats>,
        ended: Instant,
    },
    /// The shard's thread is gone (sent on drop, also after a panic or a failed start).
    Exited { shard: usize },
}

/// Sends `Exited` when the shard's closure is dropped, however it ends.
#[derive(Debug)]
pub(crate) struct ExitGuard {
    pub(crate) shard: usize,
    pub(crate) tx: Sender<ShardMsg>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let _ = self.tx.send(ShardMsg::Exited { shard: self.shard });
    }
}

/// Read-only run inputs a shard needs, built once on the main thread.
#[derive(Debug)]
pub(crate) struct ShardInputs {
    pub(crate) spec: ShardSpec,
    pub(crate) server_addrs: Arc<Vec<SocketAddr>>,
    pub(crate) block: Arc<CharBlock>,
    pub(crate) distribution: Arc<[SlotShape]>,
    pub(crate) control: Arc<RunControl>,
    /// Statistics the main thread is done with, emptied, to fill again.
    pub(crate) spares: Receiver<Box<ShardStats>>,
    /// `--tls`: the client every connection's session comes from (at connect time).
    pub(crate) tls: Option<Arc<crate::TlsClient>>,
}

/// Runs one shard to completion inside its executor.
pub(crate) async fn run(inputs: ShardInputs, tx: Sender<ShardMsg>) {
    let ShardInputs {
        spec,
        server_addrs,
        block,
        distribution,
        control,
        spares,
        tls: _, // The preflight keeps --tls off glommio's sockets.
    } = inputs;
    let shard = spec.shard;
    let settings = &spec.settings;
    let state = Rc::new(ShardState::new(shard, spec.cpu, block, spares, settings));

    // Phase 1: connect and warm up every connection (concurrently).
    let warmup_started = Instant::now();
    let behaviour = settings.behaviour;
    let mut setups = Vec::with_capacity(spec.concurrencies.len());
    let mut warmup_total = 0u64;
    for conc in &spec.concurrencies {
        let window = window_for(settings, &distribution, shard, conc);
        warmup_total += window.warmup_len() as u64;
        let rng = fastrand::Rng::with_seed(conn_seed(behaviour.seed, shard, conc.local_index));
        let routes = conc.routes.clone();
        let (index, budget, state) = (conc.index, conc.ops_budget, state.clone());
        let servers = server_addrs.clone();
        setups.push(glommio::spawn_local(async move {
            let mut concurrency =
                TaskConcurrency::connect(routes, &servers, behaviour, index, window, rng, budget)
                    .await?;
            concurrency.warm_up(&state).await?;
            Ok::<TaskConcurrency, LinkError>(concurrency)
        }));
    }
    // While warming up, say how far it got (for the terminal's progress line).
    let warming = Rc::new(Cell::new(warmup_total > 0));
    let progress = glommio::spawn_local({
        let (warming, state, tx) = (warming.clone(), state.clone(), tx.clone());
        async move {
            while warming.get() {
                glommio::timer::sleep(WARMUP_PROGRESS_EVERY).await;
                let done = state.stats.borrow().counters.warmup_sets;
                let total = warmup_total;
                let _ = tx.send(ShardMsg::WarmupProgress { shard, done, total });
            }
        }
    });
    let mut concurrencies = Vec::with_capacity(setups.len());
    for setup in setups {
        match setup.await {
            Ok(concurrency) => concurrencies.push(concurrency),
            Err(err) => {
                let _ = tx.send(ShardMsg::Fault {
                    shard,
                    reason: err.to_string(),
                });
            }
        }
    }
    warming.set(false);
    progress.await;
    let warmup = state.stats.take();
    let _ = tx.send(ShardMsg::Ready {
        shard,
        warmup,
        warmup_time: warmup_started.elapsed(),
    });

    // Phase 2: wait for the common start (or an early stop).
    let start = loop {
        if control.stop_requested() {
            break Instant::now();
        }
        if let Some(start) = control.start() {
            break start;
        }
        glommio::timer::sleep(CONTROL_POLL).await;
    };
    // The start may be far ahead (--start-at): wait in short steps so a stop still ends it.
    while let Some(wait) = start.checked_duration_since(Instant::now()) {
        if wait.is_zero() || control.stop_requested() {
            break;
        }
        glommio::timer::sleep(wait.min(CONTROL_POLL)).await;
    }
    state
        .stop
        .begin(start, settings.stop, control.stop_requested());

    // Phase 3: run every connection; the ticker hands off periods and mirrors the stop flag.
    let running = Rc::new(Cell::new(concurrencies.len()));
    let mut tasks = Vec::with_capacity(concurrencies.len());
    for mut concurrency in concurrencies {
        let (state, running, tx) = (state.clone(), running.clone(), tx.clone());
        tasks.push(glommio::spawn_local(async move {
            if let Err(err) = concurrency.run(&state, start).await {
                let _ = tx.send(ShardMsg::Fault {
                    shard,
                    reason: err.to_string(),
                });
            }
            running.set(running.get() - 1);
        }));
    }
    let period = period_of(settings.stat_freq);
    let ticker = glommio::spawn_local(tick(
        state.clone(),
        running,
        control,
        start,
        period,
        tx.clone(),
        shard,
    ));
    for task in tasks {
        task.await;
    }
    let ended = Instant::now();
    ticker.await;
    let rest = state.stats.take();
    let _ = tx.send(ShardMsg::Done {
        shard,
        stats: rest,
        ended,
    });
}

/// Hands off statistics at each period boundary and mirrors a stop request into the shard,
/// until the shard's connections are all done.
async fn tick(
    state: Rc<ShardState>,
    running: Rc<Cell<usize>>,
    control: Arc<RunControl>,
    start: Instant,
    period: Duration,
    tx: Sender<ShardMsg>,
    shard: usize,
) {
    let mut index = 0u64;
    let mut boundary = start + period;
    loop {
        let now = Instant::now();
        // A boundary that passed is handed off first, also after the last connection ended,
        // so a time-mode run's final period carries the in-flight tail with it.
        if now >= boundary {
            let stats = state.stats.take();
            let _ = tx.send(ShardMsg::Period {
                shard,
                index,
                stats,
            });
            index += 1;
            boundary += period;
            continue;
        }
        if running.get() == 0 {
            return;
        }
        if control.stop_requested() {
            state.stop.request();
        }
        glommio::timer::sleep(CONTROL_POLL.min(boundary - now)).await;
    }
}

/// The length of a statistics period: `-S` (`stat_freq`), else [`DEFAULT_PERIOD`].
pub(crate) fn period_of(stat_freq: Option<Duration>) -> Duration {
    stat_freq.unwrap_or(DEFAULT_PERIOD)
}

/// The window of concurrency `conc` of `shard`: memaslap's own, or its view of `--keys`.
pub(crate) fn window_for(
    settings: &RunSettings,
    distribution: &Arc<[SlotShape]>,
    shard: usize,
    conc: &ConcurrencySpec,
) -> Window {
    let params = settings.window;
    match &settings.key_space {
        None => Window::new(params, distribution, shard as u16, conc.local_index as u16),
        Some(space) => {
            let concurrencies = settings.behaviour.concurrencies;
            Window::over_keys(params, space, distribution, conc.index, concurrencies)
        }
    }
}

/// A per-connection seed derived from the run's seed (splitmix64 of the triple).
pub(crate) fn conn_seed(seed: u64, shard: usize, conn: usize) -> u64 {
    let mut z = seed ^ ((shard as u64) << 32 | conn as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
