//! shardslap's placement against libmemcached's own (`memcached_generate_hash`), key by key.

use shardslap_testkit::{LibmemcachedDistribution, LibmemcachedPlacement};
use shardslap_workload::{Member, Placement};

const KEYS: usize = 10_000;

/// memaslap-like printable keys of 1..=250 bytes, plus some with bytes from 0x80 up (where
/// libhashkit's signed chars matter); never a newline, which the C program splits on.
fn keys() -> Vec<Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(15);
    (0..KEYS)
        .map(|i| {
            let len = rng.usize(1..=250);
            let high = i % 10 == 0;
            (0..len)
                .map(|_| {
                    if high {
                        rng.u8(0x0b..=0xff)
                    } else {
                        rng.u8(b'!'..=b'~')
                    }
                })
                .collect()
        })
        .collect()
}

fn mismatches(
    distribution: LibmemcachedDistribution,
    servers: &[(&str, u16, u32)],
) -> (usize, Vec<usize>) {
    let keys = keys();
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let want = LibmemcachedPlacement::get().servers_for(distribution, servers, &key_refs);
    let placement = match distribution {
        LibmemcachedDistribution::Modula => Placement::modula(servers.len()),
        LibmemcachedDistribution::KetamaWeighted => {
            let members: Vec<Member<'_>> = servers
                .iter()
                .map(|&(host, port, weight)| Member { host, port, weight })
                .collect();
            Placement::ketama(&members)
        }
    };
    let mut per_server = vec![0; servers.len()];
    let wrong = keys
        .iter()
        .zip(&want)
        .filter(|(key, &want)| {
            let got = placement.server_for(key);
            per_server[got] += 1;
            got != want
        })
        .count();
    (wrong, per_server)
}

fn pool(weights: &[u32]) -> Vec<(&'static str, u16, u32)> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &weight)| ("127.0.0.1", 21_000 + i as u16, weight))
        .collect()
}

#[test]
fn ketama_with_equal_weights_matches_libmemcached() {
    for servers in [2, 3, 5] {
        let (wrong, per_server) = mismatches(
            LibmemcachedDistribution::KetamaWeighted,
            &pool(&vec![1; servers]),
        );
        assert_eq!(wrong, 0, "{servers} servers; spread {per_server:?}");
        assert!(per_server.iter().all(|&n| n > 0), "{per_server:?}");
    }
}

#[test]
fn ketama_with_unequal_weights_matches_libmemcached() {
    for weights in [
        &[1, 2, 3][..],
        &[100, 250, 400, 1000],
        &[7, 1],
        &[3, 3, 5, 1, 9],
    ] {
        let (wrong, per_server) =
            mismatches(LibmemcachedDistribution::KetamaWeighted, &pool(weights));
        assert_eq!(wrong, 0, "weights {weights:?}; spread {per_server:?}");
    }
}

#[test]
fn ketama_leaves_the_default_port_out_like_libmemcached() {
    let servers = [
        ("10.0.0.1", 11211, 1),
        ("10.0.0.2", 11211, 2),
        ("10.0.0.3", 11300, 1),
    ];
    let (wrong, _) = mismatches(LibmemcachedDistribution::KetamaWeighted, &servers);
    assert_eq!(wrong, 0);
}

#[test]
fn modula_matches_libmemcached() {
    for servers in [2, 3, 5, 7] {
        let (wrong, per_server) =
            mismatches(LibmemcachedDistribution::Modula, &pool(&vec![1; servers]));
        assert_eq!(wrong, 0, "{servers} servers; spread {per_server:?}");
    }
}
