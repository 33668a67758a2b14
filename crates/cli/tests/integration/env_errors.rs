//! A hostile environment, made for one child process: a locked-memory limit too low for the
//! executors, io_uring refused by a seccomp filter. The preflight must catch each before any
//! executor starts: exit 2, one line on stderr saying what failed and what to do, no panic.
//!
//! The limits are set in `pre_exec`, between fork and exec, so only the shardslap child is
//! affected (lowering a limit and installing a seccomp filter need no privilege).

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use shardslap_testkit::MemcachedServer;

use crate::util::{run_command, shardslap, RunResult};

const LIMIT: Duration = Duration::from_secs(20);

/// Runs a 1 s, one-shard run against `server` with `setup` applied in the child, and asserts
/// that the run was refused before it connected: the only connection the server saw is the
/// `stats` one that reads the delta.
fn run_constrained(
    server: &MemcachedServer,
    setup: impl FnMut() -> std::io::Result<()> + Send + Sync + 'static,
) -> RunResult {
    let mut cmd: Command = shardslap();
    cmd.args([
        "-s",
        &server.addr_string(),
        "-T",
        "1",
        "-c",
        "1",
        "-t",
        "1s",
    ]);
    // SAFETY: `setup` only makes async-signal-safe system calls (getrlimit, setrlimit, prctl)
    // on data prepared before the fork, and allocates nothing.
    unsafe { cmd.pre_exec(setup) };
    let before = server.stats();
    let run = run_command(cmd, LIMIT);
    let delta = server.stats().since(&before);
    assert_eq!(
        delta.total_connections, 1,
        "refused before the probe connect; stderr: {}",
        run.stderr
    );
    run
}

/// Exit 2 and exactly one `shardslap:` line containing every needle, no panic.
fn assert_one_line_exit_2(run: &RunResult, needles: &[&str]) {
    assert_eq!(
        run.status.code(),
        Some(2),
        "exit code; stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stderr.starts_with("shardslap: "), "{}", run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "stderr lacks {needle:?}: {}",
            run.stderr
        );
    }
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
}

#[test]
fn locked_memory_limit_too_low_is_one_line_exit_2() {
    const LOW_BYTES: libc::rlim_t = 8 << 10;
    let server = MemcachedServer::start();
    let run = run_constrained(&server, || {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit read/write one rlimit on our stack.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            limit.rlim_cur = LOW_BYTES.min(limit.rlim_max);
            if libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    });
    assert_one_line_exit_2(
        &run,
        &[
            "locked-memory limit",
            "ulimit -l",
            "is 8 KiB",
            "need 512 KiB",
        ],
    );
}

#[cfg(target_arch = "x86_64")]
mod io_uring {
    use super::*;

    /// `AUDIT_ARCH_X86_64` from `<linux/audit.h>`.
    const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
    /// `io_uring_setup` on x86_64.
    const SYS_IO_URING_SETUP: u32 = 425;
    /// `offsetof(struct seccomp_data, nr)` and `arch`.
    const NR_OFFSET: u32 = 0;
    const ARCH_OFFSET: u32 = 4;

    fn stmt(code: u32, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt: 0,
            jf: 0,
            k,
        }
    }

    fn jump_if_eq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt,
            jf,
            k,
        }
    }

    /// A seccomp program: `io_uring_setup` fails with `errno`, every other call is allowed.
    fn deny_io_uring_setup(errno: i32) -> [libc::sock_filter; 7] {
        let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
        let ret = libc::BPF_RET | libc::BPF_K;
        [
            stmt(load, ARCH_OFFSET),
            // Not x86_64 (cannot happen here): allow, the filter only knows x86_64 numbers.
            jump_if_eq(AUDIT_ARCH_X86_64, 1, 0),
            stmt(ret, libc::SECCOMP_RET_ALLOW),
            stmt(load, NR_OFFSET),
            jump_if_eq(SYS_IO_URING_SETUP, 0, 1),
            stmt(
                ret,
                libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA),
            ),
            stmt(ret, libc::SECCOMP_RET_ALLOW),
        ]
    }

    /// Runs shardslap with io_uring_setup failing with `errno`, as a container profile does.
    fn run_without_io_uring(server: &MemcachedServer, errno: i32) -> RunResult {
        let filter = deny_io_uring_setup(errno);
        run_constrained(server, move || {
            let program = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr().cast_mut(),
            };
            // SAFETY: prctl with integer arguments, then with a pointer to `program`, which
            // points into `filter`; both outlive the call, and the kernel copies the program.
            unsafe {
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let mode = libc::SECCOMP_MODE_FILTER as libc::c_ulong;
                if libc::prctl(libc::PR_SET_SECCOMP, mode, &program as *const _, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        })
    }

    #[test]
    fn io_uring_hidden_by_seccomp_enosys_is_one_line_exit_2() {
        let server = MemcachedServer::start();
        let run = run_without_io_uring(&server, libc::ENOSYS);
        assert_one_line_exit_2(&run, &["io_uring is unavailable", "seccomp"]);
    }

    #[test]
    fn io_uring_refused_eperm_is_one_line_exit_2() {
        let server = MemcachedServer::start();
        let run = run_without_io_uring(&server, libc::EPERM);
        assert_one_line_exit_2(
            &run,
            &[
                "io_uring is unavailable",
                "kernel.io_uring_disabled",
                "seccomp",
            ],
        );
    }
}

#[test]
fn more_connections_than_memcached_allows_stop_before_the_clock_with_one_line() {
    let server = shardslap_testkit::MemcachedServer::start_with(shardslap_testkit::ServerOptions {
        extra_args: vec!["-c".into(), "32".into()],
        ..shardslap_testkit::ServerOptions::default()
    });
    let addr = server.addr_string();
    // The ring's driver reads the refusal (glommio's sockets, the fallback, see only a
    // closed connection: docs/reliability.md).
    let run = crate::util::run_with_json_env(
        &[
            "-s", &addr, "-T", "1", "--cores", "0", "-c", "64", "-t", "5s",
        ],
        &[("SHARDSLAP_DATA_PATH", "ring")],
        Duration::from_secs(30),
    );
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| !line.starts_with("shardslap: warning:"))
        .collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
    for says in ["Too many open connections", "raise memcached's -c"] {
        assert!(lines[0].contains(says), "{says}: {}", lines[0]);
    }
    assert!(!run.stdout.contains("Run time"), "no report of nothing");
    assert!(!run.stderr.contains("panicked"));
}
