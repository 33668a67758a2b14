use super::*;

fn members<'a>(weights: &[u32], hosts: &'a [String]) -> Vec<Member<'a>> {
    hosts
        .iter()
        .zip(weights)
        .map(|(host, &weight)| Member {
            host,
            port: 11212,
            weight,
        })
        .collect()
}

fn hosts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("10.0.0.{i}")).collect()
}

#[test]
fn one_at_a_time_sign_extends_high_bytes() {
    // As a signed char, 0xff adds u32::MAX, not 255.
    assert_ne!(one_at_a_time(&[0xff]), one_at_a_time_unsigned(&[0xff]));
    assert_eq!(one_at_a_time(b"abc"), one_at_a_time_unsigned(b"abc"));
    assert_eq!(one_at_a_time(b""), 0);
}

/// The textbook hash on unsigned bytes, to show where libhashkit's differs.
fn one_at_a_time_unsigned(key: &[u8]) -> u32 {
    let mut value: u32 = 0;
    for &byte in key {
        value = value.wrapping_add(u32::from(byte));
        value = value.wrapping_add(value << 10);
        value ^= value >> 6;
    }
    value = value.wrapping_add(value << 3);
    value ^= value >> 11;
    value.wrapping_add(value << 15)
}

#[test]
fn modula_is_the_hash_modulo_the_server_count() {
    let placement = Placement::modula(3);
    for key in [&b"a"[..], b"key-1", b"\x80\x81"] {
        assert_eq!(placement.server_for(key), one_at_a_time(key) as usize % 3);
    }
}

#[test]
fn equal_weights_give_160_points_each() {
    let hosts = hosts(3);
    let Placement::Ketama(continuum) = Placement::ketama(&members(&[1, 1, 1], &hosts)) else {
        unreachable!()
    };
    assert_eq!(continuum.points_per_server(3), vec![160, 160, 160]);
}

#[test]
fn points_follow_the_weights_in_multiples_of_four() {
    let hosts = hosts(3);
    let Placement::Ketama(continuum) = Placement::ketama(&members(&[1, 2, 3], &hosts)) else {
        unreachable!()
    };
    // floorf(w/6 * 40 * 3) * 4: 20, 40, 60 digests.
    assert_eq!(continuum.points_per_server(3), vec![80, 160, 240]);
}

#[test]
fn keys_spread_over_the_servers_in_proportion_to_weight() {
    let hosts = hosts(2);
    let placement = Placement::ketama(&members(&[1, 3], &hosts));
    let mut counts = [0usize; 2];
    for i in 0..20_000 {
        counts[placement.server_for(format!("key-{i}").as_bytes())] += 1;
    }
    let share = counts[1] as f64 / 20_000.0;
    assert!((0.65..0.85).contains(&share), "{counts:?}");
}

#[test]
fn the_default_port_is_left_out_of_point_names() {
    let host = ["h".to_owned()];
    let on = |port| {
        Placement::ketama(&[Member {
            host: &host[0],
            port,
            weight: 1,
        }])
    };
    assert_ne!(on(11211), on(11212));
    // With the port left out, "h-0"'s first point is the first point of the continuum's
    // digests.
    let Placement::Ketama(continuum) = on(11211) else {
        unreachable!()
    };
    let digest = md5::compute(b"h-0").0;
    let first = u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]);
    assert!(continuum.points.contains(&(first, 0)));
}

#[test]
fn a_hash_past_the_last_point_wraps_to_the_first() {
    let continuum = Continuum {
        points: vec![(10, 1), (20, 0)],
    };
    assert_eq!(continuum.server_for(b"anything"), {
        let hash = u32::from_le_bytes(md5::compute(b"anything").0[..4].try_into().unwrap());
        if hash <= 10 || hash > 20 {
            1
        } else {
            0
        }
    });
}
