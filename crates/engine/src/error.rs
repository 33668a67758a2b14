//! Errors the engine reports: environment problems found by the preflight, and shard failures.

use std::io;

/// What can stop a run from starting or finishing.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A server name did not resolve.
    #[error("cannot resolve server '{server}'")]
    Resolve {
        /// The `host:port` as given.
        server: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// A server did not accept a connection.
    #[error("cannot connect to memcached at {server}: {reason}")]
    Connect {
        /// The `host:port` as given.
        server: String,
        /// Why, in words (refused, timed out, ...), with a hint.
        reason: String,
    },
    /// io_uring cannot be used in this process.
    #[error("io_uring is unavailable: {0}")]
    IoUring(String),
    /// The locked-memory limit is too low for the executors' registered buffers.
    #[error(
        "the locked-memory limit (ulimit -l) is {limit_kib} KiB but {executors} executor(s) (one \
         per core) need {needed_kib} KiB: raise it (ulimit -l, or LimitMEMLOCK in systemd)\
         {fewer_cores}"
    )]
    MemLock {
        /// RLIMIT_MEMLOCK soft limit.
        limit_kib: u64,
        /// What the run needs.
        needed_kib: u64,
        /// Executors the run starts (one per core used).
        executors: usize,
        /// The hint to use fewer cores, when that would help; else empty.
        fewer_cores: &'static str,
    },
    /// With UDP, a request of the workload would not fit one datagram.
    #[error("{what} request of this workload takes {len} bytes, more than one UDP datagram carries ({max}); use smaller values/keys (-F, -X) or fewer keys per get (-d), or TCP")]
    UdpRequestTooLarge {
        /// Which request.
        what: &'static str,
        /// Its size with the frame header, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// A shard failed to start or crashed.
    #[error("shard {shard} (cpu {cpu}): {msg}")]
    Shard {
        /// Shard index.
        shard: usize,
        /// CPU it was pinned to.
        cpu: usize,
        /// What went wrong.
        msg: String,
    },
    /// `--tls` cannot be set up: a certificate, key or name problem, or a failed handshake.
    #[error("{0}")]
    Tls(String),
    /// A connection failed before the clock started: nothing was measured.
    #[error("{0}")]
    Setup(String),
}
