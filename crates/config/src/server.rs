//! `-s host:port[:weight],host:port` → [`ServerAddr`]s. Names are kept as given:
//! resolving them to socket addresses is the engine's preflight.

use std::fmt;

use crate::ConfigError;

/// memcached's port when `-s` gives none.
pub const DEFAULT_PORT: u16 = 11211;

const SERVERS_EXPECTED: &str = "expected host[:port][,host[:port]...], like 127.0.0.1:11211";

/// A server's weight when `-s` gives none (libmemcached's too).
pub const DEFAULT_WEIGHT: u32 = 1;

/// One memcached server from `-s`, not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    /// Host name or IP address as given, without IPv6 brackets.
    pub host: String,
    /// TCP (and UDP) port; 11211 when `-s` gives none.
    pub port: u16,
    /// libmemcached's `host:port:weight`: its share of keys under `--distribution ketama`;
    /// at least 1, [`DEFAULT_WEIGHT`] when not given.
    pub weight: u32,
}

impl ServerAddr {
    /// `host:port`, with brackets around an IPv6 host (`[::1]:11211`), so
    /// the result parses back and can be passed to `ToSocketAddrs`.
    pub fn display(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// `host:port`, and `host:port:weight` for a weight other than 1 (results written before
/// weights existed read the same).
impl serde::Serialize for ServerAddr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.weight == DEFAULT_WEIGHT {
            serializer.collect_str(self)
        } else {
            serializer.collect_str(&format_args!("{self}:{}", self.weight))
        }
    }
}

/// Parses memaslap's `-s` list: comma-separated `host`, `host:port`,
/// `[v6]` or `[v6]:port`, with the port defaulting to 11211, each optionally followed by
/// libmemcached's `:weight` once a port is given (`host:port:weight`, `[v6]:port:weight`).
///
/// # Errors
///
/// [`ConfigError::InvalidValue`] for `--servers` on an empty list or item,
/// a missing host, a bad or zero port, a weight of 0 or past u32, or an IPv6 address
/// without brackets.
pub(crate) fn parse_servers(raw: &str) -> Result<Vec<ServerAddr>, ConfigError> {
    let invalid = |why: String| ConfigError::invalid("--servers", raw, why);
    if raw.trim().is_empty() {
        return Err(invalid(SERVERS_EXPECTED.to_owned()));
    }
    raw.split(',')
        .map(|item| parse_one(item.trim()).map_err(invalid))
        .collect()
}

/// One list item; the error is the reason only.
fn parse_one(item: &str) -> Result<ServerAddr, String> {
    if item.is_empty() {
        return Err("empty server in the list".to_owned());
    }
    let (host, port, weight) = if let Some(rest) = item.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{item}' is missing the closing ']'"))?;
        let (port, weight) = match after {
            "" => (None, None),
            _ => {
                let fields = after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("'{item}' has text after ']' that is not :port"))?;
                match fields.split_once(':') {
                    Some((port, weight)) => (Some(port), Some(weight)),
                    None => (Some(fields), None),
                }
            }
        };
        (host, port, weight)
    } else {
        match item.split_once(':') {
            // libmemcached's `host:port:weight`, told apart from an IPv6 address without
            // brackets (which has more colons, or hex fields).
            Some((host, rest)) if is_weighted(host, rest) => {
                let (port, weight) = rest.split_once(':').unwrap_or((rest, ""));
                (host, Some(port), Some(weight))
            }
            Some((_, port)) if port.contains(':') => {
                return Err(format!(
                    "IPv6 address '{item}' needs brackets, like [::1]:11211"
                ))
            }
            Some((host, port)) => (host, Some(port), None),
            None => (item, None, None),
        }
    };
    if host.is_empty() {
        return Err(format!("'{item}' has no host"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0 && port.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("port '{port}' in '{item}' is not in 1..=65535"))?,
    };
    let weight = match weight {
        None => DEFAULT_WEIGHT,
        Some(weight) => weight
            .parse::<u32>()
            .ok()
            .filter(|&w| w != 0 && weight.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("weight '{weight}' in '{item}' is not in 1..={}", u32::MAX))?,
    };
    Ok(ServerAddr {
        host: host.to_owned(),
        port,
        weight,
    })
}

/// Whether `host:rest` is libmemcached's `host:port:weight`: exactly two more
/// fields, both decimal numbers, after a host that is no IPv6 address (which
/// would have more colons).
fn is_weighted(host: &str, rest: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match rest.split_once(':') {
        Some((port, weight)) => !host.is_empty() && digits(port) && digits(weight),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(host: &str, port: u16) -> ServerAddr {
        weighted(host, port, DEFAULT_WEIGHT)
    }

    fn weighted(host: &str, port: u16, weight: u32) -> ServerAddr {
        ServerAddr {
            host: host.to_owned(),
            port,
            weight,
        }
    }

    #[test]
    fn parses_hosts_ports_and_ipv6() {
        let cases: [(&str, Vec<ServerAddr>); 6] = [
            ("127.0.0.1:11211", vec![addr("127.0.0.1", 11211)]),
            ("localhost", vec![addr("localhost", 11211)]),
            (
                "a:1, b:2 ,c",
                vec![addr("a", 1), addr("b", 2), addr("c", 11211)],
            ),
            ("[::1]:11212", vec![addr("::1", 11212)]),
            ("[::1]", vec![addr("::1", 11211)]),
            ("[fe80::1%eth0]:1", vec![addr("fe80::1%eth0", 1)]),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_servers(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn parses_libmemcached_weights() {
        let servers = parse_servers("a:1:3,[::1]:2:7,b:3").unwrap();
        assert_eq!(
            servers,
            vec![weighted("a", 1, 3), weighted("::1", 2, 7), addr("b", 3)]
        );
        // The weight is not part of the address to connect to, but a result records it.
        assert_eq!(servers[0].display(), "a:1");
        assert_eq!(
            serde_json::to_string(&servers).unwrap(),
            r#"["a:1:3","[::1]:2:7","b:3"]"#
        );
    }

    #[test]
    fn display_round_trips() {
        for raw in ["127.0.0.1:11211", "[::1]:11212", "example.com:1"] {
            let servers = parse_servers(raw).unwrap();
            assert_eq!(servers[0].display(), raw);
        }
        assert_eq!(
            serde_json::to_string(&addr("::1", 5)).unwrap(),
            "\"[::1]:5\""
        );
    }

    #[test]
    fn rejects_bad_lists_with_a_reason() {
        let cases = [
            ("", SERVERS_EXPECTED),
            (" ", SERVERS_EXPECTED),
            ("a,,b", "empty server in the list"),
            ("a,", "empty server in the list"),
            (":11211", "':11211' has no host"),
            ("[]:1", "'[]:1' has no host"),
            ("a:", "port '' in 'a:' is not in 1..=65535"),
            ("a:0", "port '0' in 'a:0' is not in 1..=65535"),
            ("a:65536", "port '65536' in 'a:65536' is not in 1..=65535"),
            ("a:+1", "port '+1' in 'a:+1' is not in 1..=65535"),
            ("a:http", "port 'http' in 'a:http' is not in 1..=65535"),
            ("::1", "IPv6 address '::1' needs brackets, like [::1]:11211"),
            ("[::1", "'[::1' is missing the closing ']'"),
            ("a:1:0", "weight '0' in 'a:1:0' is not in 1..=4294967295"),
            (
                "[::1]:1:0",
                "weight '0' in '[::1]:1:0' is not in 1..=4294967295",
            ),
            (
                "a:1:4294967296",
                "weight '4294967296' in 'a:1:4294967296' is not in 1..=4294967295",
            ),
            (
                "[::1]:1:x",
                "weight 'x' in '[::1]:1:x' is not in 1..=4294967295",
            ),
            (
                "fe80::1",
                "IPv6 address 'fe80::1' needs brackets, like [::1]:11211",
            ),
            (
                "1:2:3:4",
                "IPv6 address '1:2:3:4' needs brackets, like [::1]:11211",
            ),
            ("[::1]x", "'[::1]x' has text after ']' that is not :port"),
        ];
        for (raw, why) in cases {
            let err = parse_servers(raw).unwrap_err().to_string();
            assert_eq!(err, format!("invalid value '{raw}' for --servers: {why}"));
        }
    }
}
