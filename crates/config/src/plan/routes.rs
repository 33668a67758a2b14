//! Which sockets a concurrency opens and which of them carry SETs and GETs — memaslap's socket
//! layouts (spec §7.3–§7.5), decided once per concurrency from the [`Transport`], or with
//! `--distribution` a pool layout where each request goes to the server of its key.

use std::sync::Arc;

use shardslap_workload::Placement;

use crate::Transport;

/// The kind of one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    Tcp,
    Udp,
}

/// The sockets of one concurrency and how requests are spread over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    /// The sockets to open, in order: (index into the run's servers, kind).
    pub links: Vec<(usize, SocketKind)>,
    /// Links a SET may go to.
    pub set: Vec<usize>,
    /// Links a GET may go to.
    pub get: Vec<usize>,
    /// How a request's link is picked among the eligible ones.
    pub pick: Pick,
}

/// How a request's link is picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The eligible links in turn (`-n`).
    InTurn,
    /// A random eligible link (`-p`).
    Random,
    /// `--distribution`: a link to the server of the request's key, those in turn. The
    /// placement is the run's one, shared read-only.
    ByKey(Arc<Placement>),
}

impl Routes {
    /// `--distribution`'s layout: `-n` TCP sockets to every server (socket `i` to server
    /// `i % servers`), any of which may carry a request; the key picks the server.
    #[must_use]
    pub fn by_key(
        conns_per_concurrency: usize,
        placement: Arc<Placement>,
        servers: usize,
    ) -> Routes {
        let servers = servers.max(1);
        let links: Vec<_> = (0..servers * conns_per_concurrency.max(1))
            .map(|i| (i % servers, SocketKind::Tcp))
            .collect();
        Routes {
            set: (0..links.len()).collect(),
            get: (0..links.len()).collect(),
            links,
            pick: Pick::ByKey(placement),
        }
    }

    /// The links to `server`, in order.
    pub fn links_to(&self, server: usize) -> impl Iterator<Item = usize> + '_ {
        self.links
            .iter()
            .enumerate()
            .filter(move |(_, &(to, _))| to == server)
            .map(|(link, _)| link)
    }

    /// The layout for a concurrency whose own server is `server` of `servers`:
    /// - `-U`: one UDP socket for everything;
    /// - `-a`: `-n` TCP sockets for SETs and one UDP socket for (multi-)GETs, same server;
    /// - `-p N`: `-n` TCP sockets to every server; SETs to a random socket of the first N
    ///   servers, GETs to a random socket of any;
    /// - otherwise `-n` TCP sockets to its server, used in turn.
    #[must_use]
    pub fn plan(transport: Transport, server: usize, servers: usize) -> Routes {
        match transport {
            Transport::Udp => Routes {
                links: vec![(server, SocketKind::Udp)],
                set: vec![0],
                get: vec![0],
                pick: Pick::InTurn,
            },
            Transport::Facebook { tcp_conns } => {
                let tcp_conns = tcp_conns.max(1);
                let mut links = vec![(server, SocketKind::Tcp); tcp_conns];
                links.push((server, SocketKind::Udp));
                Routes {
                    links,
                    set: (0..tcp_conns).collect(),
                    get: vec![tcp_conns],
                    pick: Pick::InTurn,
                }
            }
            Transport::Tcp {
                conns_per_concurrency,
                replication: Some(replication),
            } => {
                let servers = servers.max(1);
                // Socket i goes to server i % servers, as memaslap opens them.
                let links: Vec<_> = (0..servers * conns_per_concurrency.max(1))
                    .map(|i| (i % servers, SocketKind::Tcp))
                    .collect();
                let set = (0..links.len())
                    .filter(|i| i % servers < replication.servers)
                    .collect();
                Routes {
                    get: (0..links.len()).collect(),
                    links,
                    set,
                    pick: Pick::Random,
                }
            }
            Transport::Tcp {
                conns_per_concurrency,
                replication: None,
            } => {
                let per_server = conns_per_concurrency.max(1);
                Routes {
                    links: vec![(server, SocketKind::Tcp); per_server],
                    set: (0..per_server).collect(),
                    get: (0..per_server).collect(),
                    pick: Pick::InTurn,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_config::test_support::ok;

    fn routes(args: &[&str], server: usize) -> Routes {
        let cfg = ok(args);
        Routes::plan(cfg.transport, server, cfg.servers.len())
    }

    #[test]
    fn default_is_one_tcp_socket_to_the_own_server() {
        let routes = routes(&["-s", "a,b"], 1);
        assert_eq!(routes.links, vec![(1, SocketKind::Tcp)]);
        assert_eq!((routes.set, routes.get), (vec![0], vec![0]));
    }

    #[test]
    fn conn_sock_opens_n_sockets_used_in_turn() {
        let routes = routes(&["-s", "a", "-n", "3"], 0);
        assert_eq!(routes.links.len(), 3);
        assert_eq!(routes.set, vec![0, 1, 2]);
        assert_eq!(routes.pick, Pick::InTurn);
    }

    #[test]
    fn by_key_opens_n_sockets_to_every_server() {
        let placement = Arc::new(Placement::modula(3));
        let routes = Routes::by_key(2, placement.clone(), 3);
        let servers: Vec<usize> = routes.links.iter().map(|&(server, _)| server).collect();
        assert_eq!(servers, vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(routes.links_to(1).collect::<Vec<_>>(), vec![1, 4]);
        assert_eq!(routes.get, (0..6).collect::<Vec<_>>());
        assert_eq!(routes.pick, Pick::ByKey(placement));
    }

    #[test]
    fn udp_is_one_datagram_socket() {
        let routes = routes(&["-s", "a", "-U"], 0);
        assert_eq!(routes.links, vec![(0, SocketKind::Udp)]);
    }

    #[test]
    fn facebook_sets_over_tcp_gets_over_udp() {
        let routes = routes(&["-s", "a", "-a", "-d", "4"], 0);
        assert_eq!(
            routes.links,
            vec![(0, SocketKind::Tcp), (0, SocketKind::Udp)]
        );
        assert_eq!((routes.set, routes.get), (vec![0], vec![1]));
    }

    #[test]
    fn rep_write_sets_go_to_the_first_n_servers_gets_anywhere() {
        let routes = routes(&["-s", "a,b,c", "-p", "2", "-n", "2"], 2);
        assert_eq!(routes.links.len(), 6);
        let servers: Vec<usize> = routes.links.iter().map(|&(server, _)| server).collect();
        assert_eq!(servers, vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(routes.set, vec![0, 1, 3, 4]);
        assert_eq!(routes.get, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(routes.pick, Pick::Random);
    }
}
