//! The run's exclusive choices as types, each decided once from memaslap's flags: how
//! concurrencies reach their servers ([`Transport`], with `-p`'s [`Replication`]), which wire
//! protocol they speak ([`Protocol`]), which server a request goes to ([`ServerChoice`],
//! with `--distribution`'s [`Distribution`]), how requests are timed ([`Pacing`]) and how their
//! replies are awaited ([`ReplyWait`]). A combination
//! memcached or memaslap cannot run is refused here, with the flags named, so later stages
//! match on what was chosen instead of re-testing flags.

use crate::server::DEFAULT_WEIGHT;
use crate::{Args, ConfigError, OpenLoop, ServerAddr};

/// How each concurrency reaches its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP (the default): `conns_per_concurrency` sockets (`-n`) to the concurrency's server,
    /// or with `-p` to every server.
    Tcp {
        conns_per_concurrency: usize,
        replication: Option<Replication>,
    },
    /// `-U`: one UDP socket per concurrency carries every request.
    Udp,
    /// `-a` (memaslap's facebook mode): `tcp_conns` TCP sockets (`-n`) carry the SETs and one
    /// UDP socket carries the multi-GETs, all to the concurrency's server.
    Facebook { tcp_conns: usize },
}

impl Transport {
    /// Whether some requests go out as UDP datagrams (`-U` or `-a`).
    #[must_use]
    pub fn uses_datagrams(&self) -> bool {
        !matches!(self, Transport::Tcp { .. })
    }

    /// `-p`, if given.
    #[must_use]
    pub fn replication(&self) -> Option<Replication> {
        match self {
            Transport::Tcp { replication, .. } => *replication,
            Transport::Udp | Transport::Facebook { .. } => None,
        }
    }

    /// TCP sockets per server a concurrency opens (`-n`); UDP's one socket counts as 1.
    #[must_use]
    pub fn conns_per_concurrency(&self) -> usize {
        match self {
            Transport::Tcp {
                conns_per_concurrency,
                ..
            } => *conns_per_concurrency,
            Transport::Udp => 1,
            Transport::Facebook { tcp_conns } => *tcp_conns,
        }
    }
}

/// `-p N`: every SET is written to the first `servers` servers, and GETs read from any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replication {
    /// How many servers each SET goes to, in `2..=` the number of `-s` servers.
    pub servers: usize,
}

/// The memcached wire protocol requests are encoded in: `--protocol ascii | meta | binary`
/// (`-B` is memaslap's spelling of `binary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Protocol {
    /// The classic text protocol (`get`/`set`; the default, and the only one UDP carries).
    #[default]
    Ascii,
    /// memcached 1.6's meta text protocol (`mg`/`ms`/`mn`).
    Meta,
    /// `-B`: the binary protocol.
    Binary,
}

impl Protocol {
    /// The name `--protocol` takes (and the config JSON's `"protocol"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ascii => "ascii",
            Protocol::Meta => "meta",
            Protocol::Binary => "binary",
        }
    }
}

/// `--distribution`: how keys are placed on the servers of a pool, as libmemcached does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Distribution {
    /// libmemcached's default hash (one-at-a-time) modulo the number of servers.
    Modula,
    /// libmemcached's `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` (libketama-compatible): MD5
    /// continuum, points in proportion to each server's weight.
    Ketama,
}

impl Distribution {
    /// The name `--distribution` takes (and the config JSON's `"distribution"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Modula => "modula",
            Distribution::Ketama => "ketama",
        }
    }
}

/// Which server a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerChoice {
    /// memaslap's: concurrency `i` talks to server `i % servers` only (with `-p`, SETs and
    /// GETs go to random servers of the replica set).
    PerConcurrency,
    /// `--distribution`: every concurrency talks to every server, and each key goes to the
    /// server the distribution places it on.
    ByKey(Distribution),
}

impl ServerChoice {
    /// The key distribution, if requests go by key.
    #[must_use]
    pub fn distribution(self) -> Option<Distribution> {
        match self {
            ServerChoice::ByKey(distribution) => Some(distribution),
            ServerChoice::PerConcurrency => None,
        }
    }
}

/// How request sends are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Closed loop, as fast as the replies come (the default, also `-P 0`).
    Unpaced,
    /// `-P`: a closed loop held to `rate_per_sec` operations per second over the whole run.
    Tps { rate_per_sec: u64 },
    /// `--rate`: an open loop on a schedule of intended send times.
    OpenLoop(OpenLoop),
}

impl Pacing {
    /// `-P`'s rate, if that is how the run is paced.
    #[must_use]
    pub fn tps_limit(&self) -> Option<u64> {
        match self {
            Pacing::Tps { rate_per_sec } => Some(*rate_per_sec),
            Pacing::Unpaced | Pacing::OpenLoop(_) => None,
        }
    }

    /// `--rate`'s open loop, if that is how the run is paced.
    #[must_use]
    pub fn open_loop(&self) -> Option<OpenLoop> {
        match self {
            Pacing::OpenLoop(open) => Some(*open),
            Pacing::Unpaced | Pacing::Tps { .. } => None,
        }
    }
}

/// How a shard's driver waits for the replies it is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyWait {
    /// Sleeps in the ring until a reply comes or its next deadline (the default): no CPU
    /// spent waiting, and each reply that finds the client asleep waits for its wake-up.
    #[default]
    Sleep,
    /// `--busy-poll`: polls the ring while any request awaits its reply, so a reply is read
    /// the moment it lands, for a core kept busy while replies are awaited.
    Poll,
}

impl ReplyWait {
    /// The name the result file's run section uses.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ReplyWait::Sleep => "sleep",
            ReplyWait::Poll => "poll",
        }
    }
}

/// How `args` ask replies to be awaited: polling is the ring's, and datagrams stay on glommio's
/// sockets (`-U`, `-a`), so it is refused with them rather than silently ignored.
pub(crate) fn reply_wait(args: &Args, transport: Transport) -> Result<ReplyWait, ConfigError> {
    if !args.busy_poll {
        return Ok(ReplyWait::Sleep);
    }
    match transport {
        Transport::Tcp { .. } => Ok(ReplyWait::Poll),
        Transport::Udp => Err(ConfigError::Conflict {
            flag: "--busy-poll",
            other: "--udp",
        }),
        Transport::Facebook { .. } => Err(ConfigError::Conflict {
            flag: "--busy-poll",
            other: "--facebook",
        }),
    }
}

/// The protocol `args` ask for: `--protocol`, with `-B` as memaslap's spelling of
/// `--protocol binary`. UDP carries the classic text protocol only (memaslap's `-B -U` sends
/// nothing at all).
pub(crate) fn protocol(args: &Args) -> Result<Protocol, ConfigError> {
    let protocol = match (args.binary, args.protocol) {
        (false, chosen) => chosen.unwrap_or_default(),
        (true, None | Some(Protocol::Binary)) => Protocol::Binary,
        (true, Some(Protocol::Ascii)) => {
            return Err(ConfigError::Conflict {
                flag: "--binary",
                other: "--protocol ascii",
            })
        }
        (true, Some(Protocol::Meta)) => {
            return Err(ConfigError::Conflict {
                flag: "--binary",
                other: "--protocol meta",
            })
        }
    };
    let datagrams = if args.udp { "--udp" } else { "--facebook" };
    match protocol {
        Protocol::Binary if args.udp || args.facebook => Err(ConfigError::Conflict {
            flag: "--binary",
            other: datagrams,
        }),
        Protocol::Meta if args.udp || args.facebook => Err(ConfigError::Conflict {
            flag: "--protocol meta",
            other: datagrams,
        }),
        _ => Ok(protocol),
    }
}

/// Which server each request goes to: `--distribution`, over a pool of at least two TCP
/// servers. Refused with `-U` and `-a` (a concurrency's one UDP socket talks to one server)
/// and with `-p` (which spreads writes over replicas, not keys); a weight is refused without
/// `ketama`, the only placement that reads it.
pub(crate) fn server_choice(
    args: &Args,
    servers: &[ServerAddr],
) -> Result<ServerChoice, ConfigError> {
    // The first server given a weight, which only ketama reads.
    let weighted = servers.iter().find(|s| s.weight != DEFAULT_WEIGHT);
    let Some(distribution) = args.distribution else {
        return match weighted {
            Some(server) => Err(weight_without_ketama(server)),
            None => Ok(ServerChoice::PerConcurrency),
        };
    };
    let other = if args.udp {
        Some("--udp")
    } else if args.facebook {
        Some("--facebook")
    } else if args.rep_write.is_some() {
        Some("--rep-write")
    } else {
        None
    };
    if let Some(other) = other {
        return Err(ConfigError::Conflict {
            flag: "--distribution",
            other,
        });
    }
    if servers.len() < 2 {
        return Err(ConfigError::DistributionNeedsServers {
            distribution: distribution.name(),
            servers: servers.len(),
        });
    }
    match (distribution, weighted) {
        (Distribution::Modula, Some(server)) => Err(weight_without_ketama(server)),
        _ => Ok(ServerChoice::ByKey(distribution)),
    }
}

fn weight_without_ketama(server: &ServerAddr) -> ConfigError {
    ConfigError::WeightWithoutKetama {
        server: format!("{server}:{}", server.weight),
    }
}

/// The transport `-U`, `-a`, `-n` and `-p` ask for, given the checked `-n`
/// (`conns_per_concurrency`), `-d` (`multi_get_keys`) and the number of servers.
pub(crate) fn transport(
    args: &Args,
    conns_per_concurrency: usize,
    multi_get_keys: usize,
    servers: usize,
) -> Result<Transport, ConfigError> {
    if args.udp && conns_per_concurrency > 1 {
        return Err(ConfigError::UdpConnSock {
            conn_sock: conns_per_concurrency,
        });
    }
    if args.facebook {
        if multi_get_keys < 2 {
            return Err(ConfigError::FacebookNeedsDivision {
                division: multi_get_keys,
            });
        }
        if args.udp {
            return Err(ConfigError::Conflict {
                flag: "--facebook",
                other: "--udp",
            });
        }
        if args.rep_write.is_some() {
            return Err(ConfigError::Conflict {
                flag: "--facebook",
                other: "--rep-write",
            });
        }
        return Ok(Transport::Facebook {
            tcp_conns: conns_per_concurrency,
        });
    }
    let replication = args
        .rep_write
        .map(|rep_write| replication(rep_write, args.udp, servers))
        .transpose()?;
    if args.udp {
        return Ok(Transport::Udp);
    }
    Ok(Transport::Tcp {
        conns_per_concurrency,
        replication,
    })
}

/// `-p rep_write` over `servers` servers.
fn replication(rep_write: usize, udp: bool, servers: usize) -> Result<Replication, ConfigError> {
    if rep_write == 0 {
        return Err(ConfigError::invalid("--rep-write", "0", super::POSITIVE));
    }
    if udp {
        return Err(ConfigError::Conflict {
            flag: "--rep-write",
            other: "--udp",
        });
    }
    if servers < 2 {
        return Err(ConfigError::RepWriteNeedsServers { servers });
    }
    if rep_write > servers {
        return Err(ConfigError::RepWriteTooLarge { rep_write, servers });
    }
    Ok(Replication { servers: rep_write })
}

/// The pacing `-P` (`tps`, checked, 0 = none) and `--rate` (`open_loop`, checked: never both)
/// ask for.
pub(crate) fn pacing(tps: Option<u64>, open_loop: Option<OpenLoop>) -> Pacing {
    match (open_loop, tps.filter(|&rate| rate > 0)) {
        (Some(open), _) => Pacing::OpenLoop(open),
        (None, Some(rate_per_sec)) => Pacing::Tps { rate_per_sec },
        (None, None) => Pacing::Unpaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_config::test_support::ok;

    #[test]
    fn busy_poll_asks_to_poll_for_replies_and_the_default_sleeps() {
        assert_eq!(ok(&["-s", "a"]).reply_wait, ReplyWait::Sleep);
        assert_eq!(ok(&["-s", "a", "--busy-poll"]).reply_wait, ReplyWait::Poll);
        // Paced, TLS and pipelined runs are TCP on the ring: polling applies to them.
        assert_eq!(
            ok(&["-s", "a", "--busy-poll", "-P", "5k", "-n", "2"]).reply_wait,
            ReplyWait::Poll
        );
        assert_eq!(
            ok(&["-s", "a", "--busy-poll", "--pipeline", "4"]).reply_wait,
            ReplyWait::Poll
        );
    }

    #[test]
    fn flags_become_one_transport() {
        let tcp = |n| Transport::Tcp {
            conns_per_concurrency: n,
            replication: None,
        };
        assert_eq!(ok(&["-s", "a"]).transport, tcp(1));
        assert_eq!(ok(&["-s", "a", "-n", "3"]).transport, tcp(3));
        assert_eq!(ok(&["-s", "a", "-U"]).transport, Transport::Udp);
        assert_eq!(
            ok(&["-s", "a", "-a", "-d", "2", "-n", "2"]).transport,
            Transport::Facebook { tcp_conns: 2 }
        );
        let replicated = ok(&["-s", "a,b,c", "-p", "2", "-n", "2"]).transport;
        assert_eq!(
            replicated,
            Transport::Tcp {
                conns_per_concurrency: 2,
                replication: Some(Replication { servers: 2 }),
            }
        );
        assert_eq!(replicated.replication(), Some(Replication { servers: 2 }));
        assert!(!replicated.uses_datagrams());
        assert!(
            Transport::Udp.uses_datagrams()
                && Transport::Facebook { tcp_conns: 1 }.uses_datagrams()
        );
    }

    #[test]
    fn flags_become_one_protocol_and_one_pacing() {
        assert_eq!(ok(&["-s", "a"]).protocol, Protocol::Ascii);
        assert_eq!(ok(&["-s", "a", "-B"]).protocol, Protocol::Binary);
        assert_eq!(
            ok(&["-s", "a", "--protocol", "meta"]).protocol,
            Protocol::Meta
        );
        assert_eq!(
            ok(&["-s", "a", "-B", "--protocol", "binary"]).protocol,
            Protocol::Binary
        );
        assert_eq!(ok(&["-s", "a"]).pacing, Pacing::Unpaced);
        assert_eq!(ok(&["-s", "a", "-P", "0"]).pacing, Pacing::Unpaced);
        let tps = ok(&["-s", "a", "-P", "2k"]).pacing;
        assert_eq!(tps, Pacing::Tps { rate_per_sec: 2048 });
        assert_eq!((tps.tps_limit(), tps.open_loop()), (Some(2048), None));
        let open = ok(&["-s", "a", "--rate", "100"]).pacing;
        assert_eq!(open.open_loop().map(|open| open.rate_per_sec), Some(100));
        assert_eq!(open.tps_limit(), None);
    }
}
