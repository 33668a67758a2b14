//! `-s host:port,host:port` → [`ServerAddr`]s. Names are kept as given:
//! resolving them to socket addresses is the engine's preflight.

use std::fmt;

use crate::ConfigError;

/// memcached's port when `-s` gives none.
pub const DEFAULT_PORT: u16 = 11211;

const SERVERS_EXPECTED: &str = "expected host[:port][,host[:port]...], like 127.0.0.1:11211";

/// One memcached server from `-s`, not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    /// Host name or IP address as given, without IPv6 brackets.
    pub host: String,
    /// TCP (and UDP) port; 11211 when `-s` gives none.
    pub port: u16,
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

impl serde::Serialize for ServerAddr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Parses memaslap's `-s` list: comma-separated `host`, `host:port`,
/// `[v6]` or `[v6]:port`, with the port defaulting to 11211.
///
/// # Errors
///
/// [`ConfigError::InvalidValue`] for `--servers` on an empty list or item,
/// a missing host, a bad or zero port, or an IPv6 address without brackets.
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
    let (host, port) = if let Some(rest) = item.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{item}' is missing the closing ']'"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("'{item}' has text after ']' that is not :port"))?,
            ),
        };
        (host, port)
    } else {
        match item.split_once(':') {
            // libmemcached's `host:port:weight`: say what the third field is rather than
            // mistaking it for an IPv6 address.
            Some((host, rest)) if is_weighted(host, rest) => {
                return Err(format!(
                    "'{item}' has a third field, a libmemcached server weight \
                     (host:port:weight); server pools and weights are not supported yet: \
                     use host:port"
                ))
            }
            Some((_, port)) if port.contains(':') => {
                return Err(format!(
                    "IPv6 address '{item}' needs brackets, like [::1]:11211"
                ))
            }
            Some((host, port)) => (host, Some(port)),
            None => (item, None),
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
    Ok(ServerAddr {
        host: host.to_owned(),
        port,
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
        ServerAddr {
            host: host.to_owned(),
            port,
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
            (
                "127.0.0.1:31311:1",
                "'127.0.0.1:31311:1' has a third field, a libmemcached server weight \
                 (host:port:weight); server pools and weights are not supported yet: \
                 use host:port",
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
