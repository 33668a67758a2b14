//! Checks made on the main thread before any executor is spawned, so that a bad environment or
//! an unreachable server fails with one clear line instead of a panic inside a shard.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use shardslap_config::RunConfig;

use crate::EngineError;

/// Registered io memory each executor asks glommio for. Small on purpose: the locked-memory
/// limit is often 8 MiB or less, and network I/O does not use registered buffers.
pub const IO_MEMORY_BYTES: usize = 64 << 10;
/// glommio refuses to start an executor below this RLIMIT_MEMLOCK.
const GLOMMIO_MIN_MEMLOCK: u64 = 512 << 10;
/// Upper bound on the probe connect, whatever --timeout says.
const PROBE_TIMEOUT_MAX: Duration = Duration::from_secs(5);

/// What the preflight learned and the launch needs.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// One resolved address per `-s` server, in order.
    pub server_addrs: Vec<SocketAddr>,
}

/// Validates that the run can start: supported options, io_uring, memlock, servers reachable.
///
/// # Errors
/// The first problem found, phrased for the user.
pub fn preflight(cfg: &RunConfig) -> Result<Preflight, EngineError> {
    reject_unsupported(cfg)?;
    check_io_uring()?;
    check_memlock(cfg.shards)?;
    let server_addrs = cfg
        .servers
        .iter()
        .map(|server| {
            let name = server.display();
            let addr = resolve(&server.host, server.port, &name)?;
            probe(addr, &name, cfg.timeout.min(PROBE_TIMEOUT_MAX))?;
            Ok(addr)
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    Ok(Preflight { server_addrs })
}

/// Options that parse (memaslap accepts them) but this engine does not drive yet.
fn reject_unsupported(cfg: &RunConfig) -> Result<(), EngineError> {
    let checks: [(bool, &'static str); 8] = [
        (cfg.binary, "-B/--binary"),
        (cfg.udp, "-U/--udp"),
        (cfg.facebook, "-a/--facebook"),
        (cfg.rep_write > 0, "-p/--rep-write"),
        (cfg.multi_get_keys > 1, "-d/--division above 1"),
        (cfg.conns_per_concurrency > 1, "-n/--conn-sock above 1"),
        (cfg.pipeline > 1, "--pipeline above 1"),
        (cfg.tps_limit.is_some(), "-P/--tps"),
    ];
    match checks.iter().find(|(on, _)| *on) {
        Some((_, what)) => Err(EngineError::Unsupported(what)),
        None => Ok(()),
    }
}

/// Creates and closes a tiny io_uring, mapping the kernel's refusal to advice.
fn check_io_uring() -> Result<(), EngineError> {
    // io_uring_params is 120 bytes; all-zero asks for defaults.
    let mut params = [0u8; 120];
    // SAFETY: io_uring_setup reads and writes exactly sizeof(io_uring_params) bytes at `params`.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 4u32, params.as_mut_ptr()) };
    if fd >= 0 {
        // SAFETY: `fd` is a descriptor we own and no longer need.
        unsafe { libc::close(fd as libc::c_int) };
        return Ok(());
    }
    let err = io::Error::last_os_error();
    let advice = match err.raw_os_error() {
        Some(libc::ENOSYS) => "the kernel has no io_uring (shardslap needs Linux 5.8 or newer)",
        Some(libc::EPERM) | Some(libc::EACCES) => {
            "it is disabled (sysctl kernel.io_uring_disabled) or blocked by a seccomp profile \
             (containers: run with a profile that allows io_uring)"
        }
        Some(libc::ENOMEM) => "the kernel refused memory for it: raise the locked-memory limit",
        _ => "io_uring_setup failed",
    };
    Err(EngineError::IoUring(format!("{advice} ({err})")))
}

/// Makes sure every executor's registered memory fits under RLIMIT_MEMLOCK.
fn check_memlock(shards: usize) -> Result<(), EngineError> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into `limit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) } != 0 {
        return Ok(()); // Cannot tell; glommio will say more at start-up.
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return Ok(());
    }
    let needed = (shards as u64 * IO_MEMORY_BYTES as u64).max(GLOMMIO_MIN_MEMLOCK);
    if limit.rlim_cur < needed {
        return Err(EngineError::MemLock {
            limit_kib: limit.rlim_cur / 1024,
            needed_kib: needed / 1024,
            shards,
        });
    }
    Ok(())
}

fn resolve(host: &str, port: u16, name: &str) -> Result<SocketAddr, EngineError> {
    let mut addrs = (host, port)
        .to_socket_addrs()
        .map_err(|source| EngineError::Resolve {
            server: name.to_string(),
            source,
        })?;
    addrs.next().ok_or_else(|| EngineError::Resolve {
        server: name.to_string(),
        source: io::Error::new(io::ErrorKind::NotFound, "no address"),
    })
}

fn probe(addr: SocketAddr, name: &str, timeout: Duration) -> Result<(), EngineError> {
    TcpStream::connect_timeout(&addr, timeout)
        .map(drop)
        .map_err(|err| EngineError::Connect {
            server: name.to_string(),
            reason: connect_reason(&err, timeout),
        })
}

/// Words for a failed connect, with a hint where one helps.
pub(crate) fn connect_reason(err: &io::Error, timeout: Duration) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused (is it running?)".to_string(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            format!("no answer within {:.1} s", timeout.as_secs_f64())
        }
        _ => err.to_string(),
    }
}
