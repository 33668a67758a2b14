//! The crate's one error type: everything that can be wrong with the
//! command line, the `-F` file or the CPU set, one line each.

use std::path::PathBuf;

use shardslap_workload::CfgError;

/// Why the command line could not become a [`RunConfig`](crate::RunConfig).
///
/// Every message is one lowercase line that names the flag and the value
/// and, where it helps, says what to write instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A flag's value is malformed or out of range.
    #[error("invalid value '{value}' for {flag}: {expected}")]
    InvalidValue {
        /// The long flag, e.g. `--time`.
        flag: &'static str,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// Neither `-s` nor `$MEMCACHED_SERVERS` named a server.
    #[error("no servers given: use -s host:port (or set MEMCACHED_SERVERS)")]
    NoServers,
    /// Fewer concurrencies than shards would leave a shard idle.
    #[error("--concurrency ({concurrency}) must be >= shards ({shards})")]
    ConcurrencyBelowShards {
        /// `-c`.
        concurrency: usize,
        /// `-T`, or the number of cores.
        shards: usize,
    },
    /// Two flags that cannot be used together.
    #[error("{flag} cannot be combined with {other}")]
    Conflict {
        /// The flag being validated.
        flag: &'static str,
        /// The flag it conflicts with.
        other: &'static str,
    },
    /// `-U` with several sockets per concurrency.
    #[error(
        "--udp cannot be combined with --conn-sock {conn_sock}: \
         UDP uses one socket per concurrency"
    )]
    UdpConnSock {
        /// `-n`.
        conn_sock: usize,
    },
    /// `-a` sends multi-gets over UDP, so it needs `-d >= 2`.
    #[error("--facebook needs --division >= 2 (got {division})")]
    FacebookNeedsDivision {
        /// `-d`.
        division: usize,
    },
    /// `-p` replicates writes, so it needs at least two servers.
    #[error("--rep-write needs at least 2 servers in -s (got {servers})")]
    RepWriteNeedsServers {
        /// How many servers `-s` named.
        servers: usize,
    },
    /// `-p` asked for more replicas than there are servers.
    #[error("--rep-write ({rep_write}) must be <= the number of servers ({servers})")]
    RepWriteTooLarge {
        /// `-p`.
        rep_write: usize,
        /// How many servers `-s` named.
        servers: usize,
    },
    /// `--distribution` spreads keys over a pool, so it needs at least two servers.
    #[error("--distribution {distribution} needs at least 2 servers in -s (got {servers})")]
    DistributionNeedsServers {
        /// `modula` or `ketama`.
        distribution: &'static str,
        /// How many servers `-s` named.
        servers: usize,
    },
    /// A `host:port:weight` without `--distribution ketama`, where it would change nothing.
    #[error(
        "the weight in '{server}' needs --distribution ketama \
         (modula and the default, one server per concurrency, ignore weights)"
    )]
    WeightWithoutKetama {
        /// The weighted server, as `host:port:weight`.
        server: String,
    },
    /// The `-F` file could not be read.
    #[error("cannot read -F file '{}': {reason}", path.display())]
    CfgRead {
        /// The path as given.
        path: PathBuf,
        /// The OS reason, e.g. `No such file or directory`.
        reason: String,
    },
    /// The `-F` file was read but does not parse.
    // `reason` is part of the message rather than a `#[source]`, so that
    // `{:#}` does not print it twice.
    #[error("-F file '{}': {reason}", path.display())]
    CfgParse {
        /// The path as given.
        path: PathBuf,
        /// The parser's `line N: why`.
        reason: CfgError,
    },
    /// `--cores` named a CPU this process may not run on.
    #[error(
        "core {cpu} is not in this process's CPU affinity mask \
         (allowed: {allowed})"
    )]
    CoreNotAllowed {
        /// The CPU id from `--cores`.
        cpu: usize,
        /// The affinity mask in cpuset syntax, e.g. `0-1`.
        allowed: String,
    },
    /// A flag that only means something beside another.
    #[error("{flag} needs {needs}")]
    Needs {
        /// The flag given.
        flag: &'static str,
        /// The flag it needs.
        needs: &'static str,
    },
    /// A file a flag names cannot be read.
    #[error("cannot read {flag} {}: {reason}", path.display())]
    UnreadableFile {
        /// The flag.
        flag: &'static str,
        /// The file as given.
        path: PathBuf,
        /// The OS reason.
        reason: String,
    },
    /// `--tls` without `--tls-ca` on a system without a CA bundle where one is expected.
    #[error(
        "--tls: no system CA bundle found (/etc/ssl/certs/ca-certificates.crt); \
         pass --tls-ca FILE, or --tls-insecure to skip verification"
    )]
    NoSystemCaBundle,
    /// `sched_getaffinity` failed or returned an empty mask.
    #[error("cannot read this process's CPU affinity mask: {reason}")]
    Affinity {
        /// The OS reason.
        reason: String,
    },
}

impl ConfigError {
    /// Builds [`ConfigError::InvalidValue`].
    pub(crate) fn invalid(
        flag: &'static str,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        ConfigError::InvalidValue {
            flag,
            value: value.into(),
            expected: expected.into(),
        }
    }
}

/// The OS error text without Rust's ` (os error N)` suffix, so messages
/// read `No such file or directory`.
pub(crate) fn os_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}
