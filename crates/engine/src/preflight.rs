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
    check_udp_request_size(cfg)?;
    check_io_uring()?;
    // One executor per core: shards beyond the core count share their core's executor.
    check_memlock(cfg.shards.min(cfg.cores.len()).max(1))?;
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

/// The largest datagram a UDP request may be: the IPv4 UDP payload limit (memcached reads up
/// to 64 KiB and refuses requests split over several datagrams).
pub const MAX_UDP_REQUEST_LEN: usize = 65_507;

/// With `-U` (every request) or `-a` (multi-gets), each request must fit one datagram.
fn check_udp_request_size(cfg: &RunConfig) -> Result<(), EngineError> {
    if !cfg.udp && !cfg.facebook {
        return Ok(());
    }
    let longest = |ranges: &[shardslap_workload::SizeRange]| {
        ranges.iter().map(|range| range.end).max().unwrap_or(0)
    };
    let key_len = longest(&cfg.workload.keys);
    let value_len = cfg
        .fixed_value_len
        .unwrap_or_else(|| longest(&cfg.workload.values));
    let header = shardslap_proto::udp::FRAME_HEADER_LEN;
    // `get k1 … kd\r\n`
    let get_len = header + 3 + cfg.multi_get_keys * (1 + key_len) + 2;
    // `set <key> 0 <exptime> <bytes>\r\n<value>\r\n`, exptime at most 2 digits (60).
    let set_len = header + 4 + key_len + 6 + value_len.to_string().len() + 2 + value_len + 2;
    let (what, len) = if cfg.udp && set_len > get_len {
        ("a SET", set_len)
    } else {
        ("a GET", get_len)
    };
    if len > MAX_UDP_REQUEST_LEN {
        return Err(EngineError::UdpRequestTooLarge {
            what,
            len,
            max: MAX_UDP_REQUEST_LEN,
        });
    }
    Ok(())
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
fn check_memlock(executors: usize) -> Result<(), EngineError> {
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
    let needed = (executors as u64 * IO_MEMORY_BYTES as u64).max(GLOMMIO_MIN_MEMLOCK);
    if limit.rlim_cur < needed {
        return Err(EngineError::MemLock {
            limit_kib: limit.rlim_cur / 1024,
            needed_kib: needed / 1024,
            executors,
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
