//! Several "hosts" on one machine: Linux network namespaces joined by veth pairs to a bridge in
//! a server namespace, so multi-host recipes can be tested for real without leaving the box.
//!
//! Layout for `TestNetwork::new(n)`: namespace `<tag>s` holds bridge `br0` with the server
//! address `10.<x>.0.1/24`; each host namespace `<tag>h<i>` gets `10.<x>.0.<i+2>/24` on a veth
//! whose peer is a port of the bridge. Everything is removed on drop (deleting a namespace
//! deletes its interfaces). Needs root and iproute2 (`ip`); without them `new` fails with what
//! to do, and the test fails rather than skips.

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

/// One network namespace, deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates namespace `name` with its loopback up.
    ///
    /// # Errors
    /// The `ip` command's complaint, with the fix (root, iproute2).
    pub fn create(name: &str) -> Result<Self, String> {
        ip(&["netns", "add", name])?;
        let ns = Self { name: name.into() };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip ARGS` inside this namespace.
    ///
    /// # Errors
    /// The command's stderr.
    pub fn ip(&self, args: &[&str]) -> Result<(), String> {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        ip(&full)
    }

    /// A command that runs `program` inside this namespace (`ip netns exec`).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `f` on a thread that has joined this namespace: sockets it opens and children it
    /// spawns (a memcached, say) live there.
    ///
    /// # Panics
    /// If the namespace cannot be joined, or `f` panics.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let file =
                        File::open(&path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
                    // SAFETY: `file` is an open namespace file for the duration of the call;
                    // setns changes only this thread's network namespace.
                    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(
                        rc,
                        0,
                        "setns into {path}: {}",
                        std::io::Error::last_os_error()
                    );
                    f()
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// A server namespace and `n` host namespaces on one bridged /24.
#[derive(Debug)]
pub struct TestNetwork {
    /// Where the server runs; holds the bridge.
    pub server: NetNs,
    /// The load-generating hosts, in order.
    pub hosts: Vec<NetNs>,
    /// The server's address, reachable from every host.
    pub server_ip: Ipv4Addr,
}

impl TestNetwork {
    /// Builds the network: a server namespace and `hosts` host namespaces.
    ///
    /// # Errors
    /// What failed and what is needed (root, iproute2, network namespaces).
    pub fn new(hosts: usize) -> Result<Self, String> {
        assert!(hosts <= 200, "at most 200 hosts on one /24");
        let pid = std::process::id();
        // Distinct subnets and names per test process and network, so parallel tests and
        // leftovers of a killed run do not collide.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tag = format!("ss{pid}n{serial}");
        let subnet = 16 + (pid.wrapping_add(serial * 7) % 200) as u8;
        let server_ip = Ipv4Addr::new(10, subnet, 0, 1);

        let server = NetNs::create(&format!("{tag}s")).map_err(needs_root)?;
        server.ip(&["link", "add", "br0", "type", "bridge"])?;
        server.ip(&["addr", "add", &format!("{server_ip}/24"), "dev", "br0"])?;
        server.ip(&["link", "set", "br0", "up"])?;
        let mut host_list = Vec::with_capacity(hosts);
        for i in 0..hosts {
            let host = NetNs::create(&format!("{tag}h{i}"))?;
            // veth names are at most 15 bytes and only need to be unique per namespace.
            let (inner, outer) = (format!("eth{i}"), format!("port{i}"));
            host.ip(&[
                "link",
                "add",
                &inner,
                "type",
                "veth",
                "peer",
                "name",
                &outer,
                "netns",
                server.name(),
            ])?;
            let host_ip = Ipv4Addr::new(10, subnet, 0, 2 + i as u8);
            host.ip(&["addr", "add", &format!("{host_ip}/24"), "dev", &inner])?;
            host.ip(&["link", "set", &inner, "up"])?;
            server.ip(&["link", "set", &outer, "master", "br0"])?;
            server.ip(&["link", "set", &outer, "up"])?;
            host_list.push(host);
        }
        Ok(Self {
            server,
            hosts: host_list,
            server_ip,
        })
    }
}

fn needs_root(err: String) -> String {
    format!(
        "{err} (network namespaces need root and iproute2: run as root, `apt-get install \
         iproute2`)"
    )
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use super::*;

    #[test]
    fn hosts_reach_the_server_namespace_and_everything_is_removed_on_drop() {
        let net = TestNetwork::new(2).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = std::iter::once(&net.server)
            .chain(&net.hosts)
            .map(|ns| ns.name().to_string())
            .collect();
        let listener = net
            .server
            .run(|| TcpListener::bind((net.server_ip, 0)).unwrap());
        let addr = listener.local_addr().unwrap();
        for host in &net.hosts {
            host.run(|| {
                TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                    .unwrap_or_else(|e| panic!("{} cannot reach {addr}: {e}", host.name()))
            });
        }
        // The root namespace has no route to it: the hosts really are elsewhere.
        assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err());
        drop(listener);
        drop(net);
        let listed = Command::new("ip").args(["netns", "list"]).output().unwrap();
        let listed = String::from_utf8_lossy(&listed.stdout);
        for name in names {
            assert!(!listed.contains(&name), "{name} left behind: {listed}");
        }
    }
}
