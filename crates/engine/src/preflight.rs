//! Checks made on the main thread before any executor is spawned, so that a bad environment or
//! an unreachable server fails with one clear line instead of a panic inside a shard.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use shardslap_config::{RunConfig, Transport};
use shardslap_proto::{ascii, udp};
use shardslap_workload::EXPIRE_TIME_SECS;

use crate::{DataPath, EngineError, TlsClient};

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
    /// How the run's bytes move.
    pub data_path: DataPath,
    /// `--tls`: the client every connection's session comes from.
    pub tls: Option<Arc<TlsClient>>,
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
    let data_path = DataPath::choose(cfg);
    let tls = match &cfg.tls {
        Some(settings) => {
            if let DataPath::Glommio(why) = &data_path {
                return Err(EngineError::Tls(format!(
                    "--tls needs the io_uring data path, and this run would use glommio's \
                     sockets ({})",
                    why.describe()
                )));
            }
            let servers: Vec<(SocketAddr, &str)> = server_addrs
                .iter()
                .zip(&cfg.servers)
                .map(|(&addr, server)| (addr, server.host.as_str()))
                .collect();
            let client = TlsClient::new(settings, &servers)?;
            for (&addr, server) in server_addrs.iter().zip(&cfg.servers) {
                client
                    .probe(addr, cfg.timeout.min(PROBE_TIMEOUT_MAX))
                    .map_err(|reason| {
                        EngineError::Tls(format!("TLS with {}: {reason}", server.display()))
                    })?;
            }
            Some(Arc::new(client))
        }
        None => None,
    };
    Ok(Preflight {
        server_addrs,
        data_path,
        tls,
    })
}

/// The largest datagram a UDP request may be: the IPv4 UDP payload limit (memcached reads up
/// to 64 KiB and refuses requests split over several datagrams).
pub const MAX_UDP_REQUEST_LEN: usize = 65_507;

/// With `-U` (every request) or `-a` (multi-gets), each request must fit one datagram.
fn check_udp_request_size(cfg: &RunConfig) -> Result<(), EngineError> {
    if !cfg.transport.uses_datagrams() {
        return Ok(());
    }
    let longest = |ranges: &[shardslap_workload::SizeRange]| {
        ranges.iter().map(|range| range.end).max().unwrap_or(0)
    };
    let key_len = longest(&cfg.workload.keys);
    let value_len = cfg
        .fixed_value_len
        .unwrap_or_else(|| longest(&cfg.workload.values));
    let header = udp::FRAME_HEADER_LEN;
    let get_len = header + ascii::multi_get_len(cfg.multi_get_keys, key_len);
    // The longest SET a window sends: flags 0, and an expiry if it verifies them (`-e`).
    let set_len = header
        + ascii::storage_len(
            ascii::StorageCommand::Set,
            key_len,
            0,
            EXPIRE_TIME_SECS,
            value_len,
            false,
        );
    // With -a only the multi-GETs go over UDP.
    let sets_too = cfg.transport == Transport::Udp;
    let (what, len) = if sets_too && set_len > get_len {
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

/// Oldest kernel glommio runs on: older ones make it panic or exit instead of returning an
/// error (see the style guide, glommio pitfall 1).
const MIN_KERNEL: (u32, u32) = (5, 8);

/// Creates and closes a tiny io_uring, mapping the kernel's refusal to advice; also refuses a
/// kernel too old for glommio even when it has io_uring.
fn check_io_uring() -> Result<(), EngineError> {
    let release = kernel_release();
    // io_uring_params is 120 bytes; all-zero asks for defaults.
    let mut params = [0u8; 120];
    // SAFETY: io_uring_setup reads and writes exactly sizeof(io_uring_params) bytes at `params`.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 4u32, params.as_mut_ptr()) };
    let err = if fd >= 0 {
        // SAFETY: `fd` is a descriptor we own and no longer need.
        unsafe { libc::close(fd as libc::c_int) };
        None
    } else {
        Some(io::Error::last_os_error())
    };
    match io_uring_problem(err.as_ref(), release.as_deref()) {
        None => Ok(()),
        Some(problem) => Err(EngineError::IoUring(problem)),
    }
}

/// What is wrong with io_uring, given `io_uring_setup`'s error (None: it worked) and the
/// kernel release (`uname -r`, None if unknown); None when nothing is.
fn io_uring_problem(err: Option<&io::Error>, release: Option<&str>) -> Option<String> {
    let version = release.and_then(parse_kernel_version);
    let too_old = version.is_some_and(|version| version < MIN_KERNEL);
    let (major, minor) = MIN_KERNEL;
    let release = release.unwrap_or("unknown");
    let Some(err) = err else {
        return too_old.then(|| {
            format!("Linux {release} is too old: shardslap needs {major}.{minor} or newer")
        });
    };
    let advice = match err.raw_os_error() {
        Some(libc::ENOSYS) if too_old => {
            format!("Linux {release} has no io_uring: shardslap needs {major}.{minor} or newer")
        }
        // A recent kernel without the system call: it was built without io_uring, or a
        // seccomp filter hides it (Docker and containerd profiles answer ENOSYS or EPERM).
        Some(libc::ENOSYS) => format!(
            "io_uring_setup is not available to this process on Linux {release}: a seccomp \
             profile blocks it (containers: run with a profile that allows io_uring) or the \
             kernel was built without io_uring (CONFIG_IO_URING)"
        ),
        Some(libc::EPERM) | Some(libc::EACCES) => String::from(
            "it is disabled (sysctl kernel.io_uring_disabled) or blocked by a seccomp profile \
             (containers: run with a profile that allows io_uring)",
        ),
        Some(libc::ENOMEM) => {
            "the kernel refused memory for it: raise the locked-memory limit (ulimit -l)"
                .to_string()
        }
        _ => "io_uring_setup failed".to_string(),
    };
    Some(format!("{advice} ({err})"))
}

/// The running kernel's release (`uname -r`), if uname works.
fn kernel_release() -> Option<String> {
    // SAFETY: utsname is plain bytes; all-zero is a valid value for uname to overwrite.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname writes one utsname into `uts`.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `(major, minor)` from a release such as `6.8.0-45-generic` or `5.10.0+`.
fn parse_kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
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
    let per_core = executors as u64 * IO_MEMORY_BYTES as u64;
    let needed = per_core.max(GLOMMIO_MIN_MEMLOCK);
    if limit.rlim_cur < needed {
        return Err(EngineError::MemLock {
            limit_kib: limit.rlim_cur / 1024,
            needed_kib: needed / 1024,
            executors,
            // Below glommio's floor, fewer cores would not need less.
            fewer_cores: if per_core > GLOMMIO_MIN_MEMLOCK {
                " or use fewer cores (--cores)"
            } else {
                ""
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn os_error(errno: i32) -> io::Error {
        io::Error::from_raw_os_error(errno)
    }

    #[test]
    fn kernel_versions_parse() {
        assert_eq!(parse_kernel_version("6.8.0-45-generic"), Some((6, 8)));
        assert_eq!(parse_kernel_version("5.10+"), Some((5, 10)));
        assert_eq!(parse_kernel_version("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(parse_kernel_version("4.19"), Some((4, 19)));
        assert_eq!(parse_kernel_version("junk"), None);
        assert_eq!(parse_kernel_version("6"), None);
        assert_eq!(parse_kernel_version("6.x"), None);
    }

    #[test]
    fn working_io_uring_on_a_recent_or_unknown_kernel_is_fine() {
        assert_eq!(io_uring_problem(None, Some("6.8.0-45-generic")), None);
        assert_eq!(io_uring_problem(None, Some("5.8.0")), None);
        assert_eq!(io_uring_problem(None, None), None);
        assert_eq!(io_uring_problem(None, Some("weird")), None);
    }

    #[test]
    fn io_uring_problems_say_what_to_do() {
        let problem = |errno: Option<i32>, release: Option<&str>| {
            let err = errno.map(os_error);
            io_uring_problem(err.as_ref(), release).expect("a problem")
        };
        assert_eq!(
            problem(None, Some("5.4.0-100-generic")),
            "Linux 5.4.0-100-generic is too old: shardslap needs 5.8 or newer"
        );
        let old = problem(Some(libc::ENOSYS), Some("4.19.0"));
        assert!(
            old.starts_with("Linux 4.19.0 has no io_uring: shardslap needs 5.8 or newer ("),
            "{old}"
        );
        let hidden = problem(Some(libc::ENOSYS), Some("6.8.0"));
        assert!(
            hidden.starts_with(
                "io_uring_setup is not available to this process on Linux 6.8.0: a seccomp \
                 profile blocks it"
            ),
            "{hidden}"
        );
        assert!(hidden.contains("CONFIG_IO_URING"), "{hidden}");
        let unknown = problem(Some(libc::ENOSYS), None);
        assert!(unknown.contains("on Linux unknown: a seccomp"), "{unknown}");
        let denied = problem(Some(libc::EPERM), Some("6.8.0"));
        assert!(
            denied.starts_with("it is disabled (sysctl kernel.io_uring_disabled) or blocked"),
            "{denied}"
        );
        assert!(problem(Some(libc::ENOMEM), None).contains("ulimit -l"));
        assert!(problem(Some(libc::EINVAL), None).starts_with("io_uring_setup failed ("));
        for errno in [
            libc::ENOSYS,
            libc::EPERM,
            libc::EACCES,
            libc::ENOMEM,
            libc::EINVAL,
        ] {
            for release in [None, Some("4.4"), Some("6.1")] {
                let message = problem(Some(errno), release);
                assert!(!message.contains('\n'), "one line: {message}");
                assert!(message.ends_with(')'), "keeps the OS error: {message}");
            }
        }
    }
}
