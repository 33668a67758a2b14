//! Which sockets a concurrency opens and which of them carry SETs and GETs — memaslap's
//! socket layouts (spec §7.3–§7.5), decided once per concurrency before the run.

use std::net::SocketAddr;

use shardslap_config::RunConfig;

use crate::link::Transport;

/// The sockets of one concurrency and how requests are spread over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Routes {
    /// The sockets to open, in order: (server address, transport).
    pub(crate) links: Vec<(SocketAddr, Transport)>,
    /// Links a SET may go to.
    pub(crate) set: Vec<usize>,
    /// Links a GET may go to.
    pub(crate) get: Vec<usize>,
    /// Pick a random eligible link (`-p`) instead of taking them in turn (`-n`).
    pub(crate) random: bool,
}

impl Routes {
    /// The layout for a concurrency whose own server is `servers[server]`:
    /// - `-U`: one UDP socket for everything;
    /// - `-a`: `-n` TCP sockets for SETs and one UDP socket for (multi-)GETs, same server;
    /// - `-p N`: `-n` TCP sockets to every server; SETs to a random socket of the first N
    ///   servers, GETs to a random socket of any;
    /// - otherwise `-n` TCP sockets to its server, used in turn.
    pub(crate) fn plan(cfg: &RunConfig, server: usize, servers: &[SocketAddr]) -> Routes {
        let per_server = cfg.transport.conns_per_concurrency().max(1);
        let own = servers[server];
        if cfg.transport == shardslap_config::Transport::Udp {
            return Routes {
                links: vec![(own, Transport::Udp)],
                set: vec![0],
                get: vec![0],
                random: false,
            };
        }
        if matches!(cfg.transport, shardslap_config::Transport::Facebook { .. }) {
            let mut links = vec![(own, Transport::Tcp); per_server];
            links.push((own, Transport::Udp));
            return Routes {
                links,
                set: (0..per_server).collect(),
                get: vec![per_server],
                random: false,
            };
        }
        if let Some(replication) = cfg.transport.replication() {
            // Socket i goes to server i % servers, as memaslap opens them.
            let links: Vec<_> = (0..servers.len() * per_server)
                .map(|i| (servers[i % servers.len()], Transport::Tcp))
                .collect();
            let set = (0..links.len())
                .filter(|i| i % servers.len() < replication.servers)
                .collect();
            return Routes {
                get: (0..links.len()).collect(),
                links,
                set,
                random: true,
            };
        }
        Routes {
            links: vec![(own, Transport::Tcp); per_server],
            set: (0..per_server).collect(),
            get: (0..per_server).collect(),
            random: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use shardslap_config::{Args, RunConfig};

    use super::*;

    fn cfg(args: &[&str]) -> RunConfig {
        let mut argv = vec!["shardslap"];
        argv.extend_from_slice(args);
        RunConfig::from_args(Args::parse_from(argv)).unwrap()
    }

    fn addrs(n: u16) -> Vec<SocketAddr> {
        (0..n)
            .map(|i| SocketAddr::from(([127, 0, 0, 1], 11211 + i)))
            .collect()
    }

    #[test]
    fn default_is_one_tcp_socket_to_the_own_server() {
        let routes = Routes::plan(&cfg(&["-s", "a,b"]), 1, &addrs(2));
        assert_eq!(routes.links, vec![(addrs(2)[1], Transport::Tcp)]);
        assert_eq!((routes.set, routes.get), (vec![0], vec![0]));
    }

    #[test]
    fn conn_sock_opens_n_sockets_used_in_turn() {
        let routes = Routes::plan(&cfg(&["-s", "a", "-n", "3"]), 0, &addrs(1));
        assert_eq!(routes.links.len(), 3);
        assert_eq!(routes.set, vec![0, 1, 2]);
        assert!(!routes.random);
    }

    #[test]
    fn udp_is_one_datagram_socket() {
        let routes = Routes::plan(&cfg(&["-s", "a", "-U"]), 0, &addrs(1));
        assert_eq!(routes.links, vec![(addrs(1)[0], Transport::Udp)]);
    }

    #[test]
    fn facebook_sets_over_tcp_gets_over_udp() {
        let routes = Routes::plan(&cfg(&["-s", "a", "-a", "-d", "4"]), 0, &addrs(1));
        let a = addrs(1)[0];
        assert_eq!(routes.links, vec![(a, Transport::Tcp), (a, Transport::Udp)]);
        assert_eq!((routes.set, routes.get), (vec![0], vec![1]));
    }

    #[test]
    fn rep_write_sets_go_to_the_first_n_servers_gets_anywhere() {
        let routes = Routes::plan(&cfg(&["-s", "a,b,c", "-p", "2", "-n", "2"]), 2, &addrs(3));
        assert_eq!(routes.links.len(), 6);
        let servers: Vec<u16> = routes.links.iter().map(|(a, _)| a.port() - 11211).collect();
        assert_eq!(servers, vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(routes.set, vec![0, 1, 3, 4]);
        assert_eq!(routes.get, vec![0, 1, 2, 3, 4, 5]);
        assert!(routes.random);
    }
}
