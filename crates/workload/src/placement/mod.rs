//! Which server of a pool a key lives on, as libmemcached decides it, so a run spreads keys
//! like a production client: [`Placement::modula`] (libmemcached's default hash modulo the
//! server count) or [`Placement::ketama`] (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`: an MD5
//! continuum with points in proportion to each server's weight). Built once per run, read
//! by every shard; [`Placement::server_for`] does not allocate.

mod ketama;
mod modula;

#[cfg(test)]
mod tests;

pub use ketama::{Continuum, POINTS_PER_SERVER};
pub use modula::one_at_a_time;

/// One server of a pool as libmemcached names it: the host as given, its port and weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    pub host: &'a str,
    pub port: u16,
    /// libmemcached's `host:port:weight`; at least 1.
    pub weight: u32,
}

/// How keys map to the servers of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// `one_at_a_time(key) % servers` (libmemcached's `MEMCACHED_DISTRIBUTION_MODULA` with
    /// its default hash).
    Modula { servers: usize },
    /// libketama's weighted continuum.
    Ketama(Continuum),
}

impl Placement {
    /// Modulo placement over `servers` servers (at least 1).
    #[must_use]
    pub fn modula(servers: usize) -> Placement {
        Placement::Modula {
            servers: servers.max(1),
        }
    }

    /// Weighted ketama over `members`, in the order given (libmemcached does not sort its
    /// servers unless asked to).
    #[must_use]
    pub fn ketama(members: &[Member<'_>]) -> Placement {
        Placement::Ketama(Continuum::new(members))
    }

    /// Index of the server `key` lives on.
    #[must_use]
    pub fn server_for(&self, key: &[u8]) -> usize {
        match self {
            // libmemcached returns server 0 for a one-server pool without hashing.
            Placement::Modula { servers } => one_at_a_time(key) as usize % servers,
            Placement::Ketama(continuum) => continuum.server_for(key),
        }
    }
}
