//! [`Args`] → [`RunConfig`]: every flag parsed, range-checked and cross-checked, the `-F`
//! workload loaded and the CPU set resolved. The one place that decides what a run will do;
//! later stages only read it.
//!
//! - `choices`: the exclusive choices as types ([`Transport`], [`Protocol`], [`Pacing`]).
//! - `validate`: each flag checked, and all assembled into a [`RunConfig`].
//! - `section`: the config section of a result file (serde), in the field names results have
//!   always had.

use std::path::PathBuf;
use std::time::Duration;

use shardslap_workload::{KeySpace, WorkloadSpec};

use crate::{affinity_cpus, Args, ConfigError, ServerAddr};

mod choices;
mod section;
#[cfg(test)]
pub(crate) mod test_support;
mod validate;

pub use choices::{
    Distribution, Pacing, Protocol, Replication, ReplyWait, ServerChoice, Transport,
};
pub(crate) use validate::build;
pub use validate::unix_now_s;

/// Run time when neither `-t` nor `-x` is given (memaslap's 600 s).
pub const DEFAULT_RUN_TIME: Duration = Duration::from_secs(600);

/// What a count flag must be.
const POSITIVE: &str = "must be at least 1";

/// When the run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCondition {
    /// After this long (`-t`); JSON `{"time_secs": 600.0}`.
    Time(Duration),
    /// After this many operations in total (`-x`); JSON `{"ops": 100}`.
    Ops(u64),
}

/// Where `--json` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonTarget {
    /// `--json -`.
    Stdout,
    /// `--json PATH`.
    File(PathBuf),
}

/// A validated run: what to send, where, how hard and for how long.
///
/// Serializes to the config section of a result (`section`): durations as seconds (`*_secs`
/// fields), servers as `host:port` strings and the seed, so a report says how to repeat it.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// `-s`, parsed; not resolved (the engine's preflight does that).
    pub servers: Vec<ServerAddr>,
    /// `-s` as given, for memaslap's `servers:` banner line.
    pub servers_raw: String,
    /// Number of shards (threads), `-T`; defaults to `cores.len()`.
    pub shards: usize,
    /// CPU ids shards are pinned to, round-robin (`--cores` or the affinity mask).
    pub cores: Vec<usize>,
    /// Total concurrencies (closed-loop clients), `-c`.
    pub concurrency: usize,
    /// `-U`, `-a`, `-n` and `-p`: the sockets each concurrency opens.
    pub transport: Transport,
    /// `--distribution`: whether a request goes to its concurrency's server or its key's.
    pub server_choice: ServerChoice,
    /// `--protocol` or `-B`: the wire protocol.
    pub protocol: Protocol,
    /// `--tls` and its companions (TCP only); `None` = plain TCP.
    pub tls: Option<crate::TlsSettings>,
    /// `-P` or `--rate`: how sends are timed.
    pub pacing: Pacing,
    /// `-t` or `-x`.
    pub stop: StopCondition,
    /// Key/value size distributions and the set/get mix (`-F` or the default).
    pub workload: WorkloadSpec,
    /// `-F` path, if any.
    pub cfg_file: Option<PathBuf>,
    /// `--keys` and its companions: a fixed key space instead of memaslap's window.
    pub key_space: Option<KeySpace>,
    /// Task window per concurrency in items, `-w`.
    pub window_len: usize,
    /// `-X`: one value length in bytes for every item.
    pub fixed_value_len: Option<usize>,
    /// `-v`: proportion of gets verified, in (0, 1].
    pub verify: Option<f64>,
    /// `-d`: keys per multi-get; 1 = single get.
    pub multi_get_keys: usize,
    /// `-S`: periodic statistics interval.
    pub stat_freq: Option<Duration>,
    /// `-e`: proportion of items stored with an expiry, in (0, 1].
    pub exp_verify: Option<f64>,
    /// `-o`: proportion of sets that overwrite, in (0, 1].
    pub overwrite: Option<f64>,
    /// `-R`, also forced on by `-p`.
    pub reconnect: bool,
    /// `-b`.
    pub verbose: bool,
    /// `--json`.
    pub json: Option<JsonTarget>,
    /// `--hdr-log`: where the HdrHistogram interval log goes.
    pub hdr_log: Option<PathBuf>,
    /// `--timeseries`: where the time series streams to (JSON lines) instead of memory.
    pub timeseries_file: Option<PathBuf>,
    /// Master seed (`--seed`, or from the clock).
    pub seed: u64,
    /// `--pipeline`: requests in flight per connection.
    pub pipeline: usize,
    /// `--busy-poll`: how replies are awaited.
    pub reply_wait: ReplyWait,
    /// `--timeout` for connects and requests.
    pub timeout: Duration,
    /// `-q`.
    pub quiet: bool,
    /// `--start-at`: the wall-clock instant (Unix seconds) the measured run starts at.
    pub start_at: Option<f64>,
    /// Things that are allowed but probably not meant, one line each, for the binary to
    /// print before the run. Not part of the config section.
    pub warnings: Vec<String>,
}

impl RunConfig {
    /// Validates `args`, reads the `-F` file and this process's CPU
    /// affinity mask.
    ///
    /// # Errors
    ///
    /// The first problem found, as a one-line [`ConfigError`] naming the
    /// flag and the value.
    pub fn from_args(args: Args) -> Result<RunConfig, ConfigError> {
        build(args, &affinity_cpus()?)
    }
}
