//! What the report needs to know about the run's settings: the banner's
//! values, the Net column's nominal object size, which optional summary
//! lines apply, and the full effective config for the JSON.
//!
//! Stage: filled once by the caller from the validated config.

/// The run's settings as the report shows them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunInfo {
    /// The `-s` string as given, e.g. `127.0.0.1:11211`.
    pub servers: String,
    /// Shards (memaslap's threads).
    pub threads: usize,
    /// Connections in total.
    pub concurrency: usize,
    /// Time mode: run length in seconds.
    pub run_time_s: Option<u64>,
    /// Execute-number mode: operations to issue.
    pub execute_number: Option<u64>,
    /// Window length in items (printed as `window_len / 1024` `k`).
    pub window_len: usize,
    /// Share of SETs in `[0, 1]`.
    pub set_proportion: f64,
    /// Share of GETs in `[0, 1]`.
    pub get_proportion: f64,
    /// Average key + value length in bytes: memaslap's nominal object size
    /// B behind the `Net(M/s)` column.
    pub nominal_object_len: f64,
    /// Data verification is on (`verify_*` summary lines).
    pub verify: bool,
    /// Expire verification is on (`expired_get`/`unexpired_unget` lines).
    pub exp_verify: bool,
    /// UDP is in use (`packet_*`/`udp_timeout` lines).
    pub udp: bool,
    /// The full effective settings; the JSON's `config` object.
    pub config: serde_json::Value,
    /// OS CPU ids the shards ran on, in shard order.
    pub cores: Vec<usize>,
    /// Name of the machine the run came from (to tell hosts apart when
    /// results from several are merged).
    pub host: String,
    /// How the run's bytes moved: `ring` (the driver's own io_uring) or `glommio` (its
    /// sockets: UDP, facebook mode, or the fallback), or `mixed` when an executor fell back
    /// after the start-up probe. Empty until the engine decides.
    pub data_path: String,
    /// Open loop (`--rate`): the whole run's intended operations per second.
    pub requested_rate: Option<u64>,
    /// `--keys`: the key space in words (`102400 keys, zipf:0.99, prefilled`), for the report.
    pub key_space: Option<String>,
}

impl RunInfo {
    /// The run's master seed, from the effective settings (`--seed`, or the one drawn from the
    /// clock); `None` when the settings do not hold one.
    #[must_use]
    pub fn seed(&self) -> Option<u64> {
        self.config.get("seed").and_then(serde_json::Value::as_u64)
    }
}
