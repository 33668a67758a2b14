//! Whether the memcached under test runs on this host, on CPUs the shards will take too: then
//! client and server compete for those cores and the client measures the competition (a
//! loopback run took every core and made 69k ops/s where memaslap, on one thread, made 111k).
//!
//! Read-only, from `/proc`: the listening socket of a loopback server's port
//! (`/proc/net/tcp`, `/proc/net/tcp6`), the process holding it (`/proc/PID/fd`) and the CPUs
//! its threads may run on (`/proc/PID/task/*/status`). When something cannot be read (another
//! user's process, no `/proc`), there is nothing to say.

use std::collections::BTreeSet;
use std::fs;
use std::net::SocketAddr;

use shardslap_config::{format_cpu_list, parse_cpu_list};

/// A memcached process on this host, found by its listening port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalServer {
    /// The server's address as the run uses it.
    pub addr: SocketAddr,
    /// Its process id.
    pub pid: u32,
    /// Its process name (`comm`), e.g. `memcached`.
    pub name: String,
    /// Every CPU any of its threads may run on, ascending.
    pub cpus: Vec<usize>,
}

/// One warning line when a loopback server's CPUs overlap `used` (the CPUs the shards run on),
/// with the `--cores`, out of `cores` (the CPUs the run may use), that would leave the server's
/// CPUs free; `None` when they do not overlap or the server's process cannot be seen.
#[must_use]
pub fn warning(server_addrs: &[SocketAddr], used: &[usize], cores: &[usize]) -> Option<String> {
    let servers: Vec<LocalServer> = server_addrs
        .iter()
        .filter(|addr| addr.ip().is_loopback())
        .filter_map(|&addr| find_local_server(addr))
        .collect();
    let mut server_cpus = BTreeSet::new();
    let mut names = Vec::new();
    for server in &servers {
        if server.cpus.iter().any(|cpu| used.contains(cpu)) {
            server_cpus.extend(server.cpus.iter().copied());
            names.push(format!(
                "{} (pid {}) at {}",
                server.name, server.pid, server.addr
            ));
        }
    }
    if names.is_empty() {
        return None;
    }
    Some(message(&names, &server_cpus, used, cores))
}

/// The warning text for servers `names` running on `server_cpus`, which overlap `used`.
fn message(
    names: &[String],
    server_cpus: &BTreeSet<usize>,
    used: &[usize],
    cores: &[usize],
) -> String {
    let shared: Vec<usize> = used
        .iter()
        .copied()
        .filter(|c| server_cpus.contains(c))
        .collect();
    let free: Vec<usize> = cores
        .iter()
        .copied()
        .filter(|c| !server_cpus.contains(c))
        .collect();
    let fix = match (free.is_empty(), cores.split_last()) {
        (false, _) => format!(
            "use --cores {} to leave the server's CPUs free",
            format_cpu_list(&free)
        ),
        (true, Some((last, rest))) if !rest.is_empty() => format!(
            "pin the server to CPU {last} (`taskset -c {last} memcached …`) and run with \
             --cores {}",
            format_cpu_list(rest)
        ),
        _ => "run the server on another host or other CPUs".to_owned(),
    };
    format!(
        "{} may run on {}, and the shards would share {} with it: client and server compete \
         for those cores, so the result measures both; {fix}",
        names.join(", "),
        cpus_text(&server_cpus.iter().copied().collect::<Vec<_>>()),
        cpus_text(&shared),
    )
}

/// `CPU 3` or `CPUs 0-1,4`.
fn cpus_text(cpus: &[usize]) -> String {
    let s = if cpus.len() == 1 { "" } else { "s" };
    format!("CPU{s} {}", format_cpu_list(cpus))
}

/// The process listening on `addr`'s port on this host, if `/proc` shows it.
fn find_local_server(addr: SocketAddr) -> Option<LocalServer> {
    let inode = listening_inodes(addr.port()).into_iter().next()?;
    let pid = socket_owner(inode)?;
    if pid == std::process::id() {
        return None;
    }
    let cpus = process_cpus(pid)?;
    let name = fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "the server".to_owned());
    Some(LocalServer {
        addr,
        pid,
        name,
        cpus,
    })
}

/// Inodes of the TCP sockets listening on `port`, IPv4 and IPv6.
fn listening_inodes(port: u16) -> Vec<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| fs::read_to_string(path).ok())
        .flat_map(|table| listening_in_table(&table, port))
        .collect()
}

/// The LISTEN sockets on `port` in one `/proc/net/tcp`-format table.
fn listening_in_table(table: &str, port: u16) -> Vec<u64> {
    const LISTEN: &str = "0A";
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            let inode = fields.get(9)?.parse::<u64>().ok()?;
            let (_, port_hex) = local.rsplit_once(':')?;
            let local_port = u16::from_str_radix(port_hex, 16).ok()?;
            (local_port == port && *state == LISTEN && inode != 0).then_some(inode)
        })
        .collect()
}

/// The process with a file descriptor on socket `inode`.
fn socket_owner(inode: u64) -> Option<u32> {
    let target = format!("socket:[{inode}]");
    fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let fds = fs::read_dir(entry.path().join("fd")).ok()?;
        fds.flatten()
            .any(|fd| {
                fs::read_link(fd.path()).is_ok_and(|link| link.as_os_str() == target.as_str())
            })
            .then_some(pid)
    })
}

/// Every CPU any thread of `pid` may run on.
fn process_cpus(pid: u32) -> Option<Vec<usize>> {
    let mut cpus = BTreeSet::new();
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let Ok(status) = fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        if let Some(list) = allowed_cpus(&status) {
            cpus.extend(list);
        }
    }
    (!cpus.is_empty()).then(|| cpus.into_iter().collect())
}

/// `Cpus_allowed_list` of a `/proc/…/status` text.
fn allowed_cpus(status: &str) -> Option<Vec<usize>> {
    let list = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))?;
    parse_cpu_list(list.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2BCB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 40910 1 0000000000000000 100 0 0 10 0
   1: 0100007F:2BCB 0100007F:AF44 01 00000000:00000046 02:000AFBCA 00000000     0        0 42055 4 0000000000000000 20 4 1 18 -1
   2: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1060 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn finds_the_listening_socket_of_a_port_only() {
        assert_eq!(listening_in_table(TCP, 11211), [40910]);
        assert_eq!(listening_in_table(TCP, 2024), [1060]);
        assert_eq!(listening_in_table(TCP, 1), Vec::<u64>::new());
    }

    #[test]
    fn reads_the_allowed_cpus() {
        let status = "Name:\tmemcached\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n";
        assert_eq!(allowed_cpus(status), Some(vec![0, 1]));
        assert_eq!(allowed_cpus("Name:\tx\n"), None);
    }

    #[test]
    fn message_names_the_overlap_and_the_fix() {
        let names = ["memcached (pid 7) at 127.0.0.1:11211".to_owned()];
        let server: BTreeSet<usize> = [0, 1].into();
        assert_eq!(
            message(&names, &server, &[1, 2], &[0, 1, 2, 3]),
            "memcached (pid 7) at 127.0.0.1:11211 may run on CPUs 0-1, and the shards would \
             share CPU 1 with it: client and server compete for those cores, so the result \
             measures both; use --cores 2-3 to leave the server's CPUs free"
        );
        assert!(message(&names, &server, &[0], &[0, 1]).ends_with(
            "share CPU 0 with it: client and server compete for those cores, so the result \
             measures both; pin the server to CPU 1 (`taskset -c 1 memcached …`) and run with \
             --cores 0"
        ));
        assert!(message(&names, &[0].into(), &[0], &[0])
            .ends_with("run the server on another host or other CPUs"));
    }
}
