//! libmemcached's weighted ketama continuum (libmemcached/hosts.cc `update_continuum` with
//! `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`, and hash.cc `dispatch_host`), matched bit for bit:
//! the same point names, the same float arithmetic for the point counts, the same order of
//! equal points and the same lookup.

use std::io::Write;

use super::Member;

/// libmemcached's `MEMCACHED_POINTS_PER_SERVER_KETAMA`: points of a server of average weight.
pub const POINTS_PER_SERVER: u32 = 160;

/// Points one MD5 digest gives (four little-endian u32s).
const POINTS_PER_HASH: u32 = 4;

/// memcached's port; libmemcached leaves it out of a point's name.
const DEFAULT_PORT: u16 = 11211;

/// The sorted ring of (point, server) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuum {
    pub(super) points: Vec<(u32, usize)>,
}

impl Continuum {
    /// The continuum of `members`, in their order (their index is the server index).
    #[must_use]
    pub fn new(members: &[Member<'_>]) -> Continuum {
        let total_weight: u64 = members.iter().map(|m| u64::from(m.weight)).sum();
        let live_servers = members.len() as f32;
        let mut points = Vec::new();
        let mut name = Vec::with_capacity(64);
        for (index, member) in members.iter().enumerate() {
            let hashes = hashes_for(member.weight, total_weight, live_servers);
            for point in 0..hashes {
                name.clear();
                // Writing to a Vec cannot fail.
                let _ = if member.port == DEFAULT_PORT {
                    write!(name, "{}-{point}", member.host)
                } else {
                    write!(name, "{}:{}-{point}", member.host, member.port)
                };
                let digest = md5::compute(&name).0;
                for alignment in 0..POINTS_PER_HASH as usize {
                    points.push((le_u32(&digest, alignment), index));
                }
            }
        }
        // libmemcached's continuum_item_cmp: by point, then by server index.
        points.sort_unstable();
        Continuum { points }
    }

    /// The server of `key`: the first point at or after the key's MD5 hash, wrapping to the
    /// first point.
    #[must_use]
    pub fn server_for(&self, key: &[u8]) -> usize {
        let hash = le_u32(&md5::compute(key).0, 0);
        let at = self.points.partition_point(|&(point, _)| point < hash);
        self.points
            .get(at)
            .or_else(|| self.points.first())
            .map_or(0, |&(_, server)| server)
    }

    /// How many points each server has, by server index.
    #[must_use]
    pub fn points_per_server(&self, servers: usize) -> Vec<usize> {
        let mut counts = vec![0; servers];
        for &(_, server) in &self.points {
            if let Some(count) = counts.get_mut(server) {
                *count += 1;
            }
        }
        counts
    }
}

/// MD5 digests a server of `weight` gets: libmemcached's
/// `floorf(pct * 160 / 4 * live_servers + 0.0000000001F)`, all in `float`.
fn hashes_for(weight: u32, total_weight: u64, live_servers: f32) -> u32 {
    let pct = weight as f32 / total_weight as f32;
    let digests = pct * POINTS_PER_SERVER as f32 / POINTS_PER_HASH as f32 * live_servers
        + 0.000_000_000_1_f32;
    digests.floor() as u32
}

/// Bytes `4 * alignment ..` of an MD5 digest as a little-endian u32 (ketama_server_hash).
fn le_u32(digest: &[u8; 16], alignment: usize) -> u32 {
    let at = alignment * 4;
    u32::from_le_bytes([digest[at], digest[at + 1], digest[at + 2], digest[at + 3]])
}
