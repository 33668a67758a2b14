//! memcached `stats` snapshots and the deltas the tests compare shardslap's counts against.

use std::collections::BTreeMap;

/// One `stats` reply: name → raw value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Every `STAT name value` line of the reply.
    pub values: BTreeMap<String, String>,
    /// Bytes of the `stats` request that produced this snapshot (the server counts it).
    pub request_len: u64,
    /// Bytes of this reply (the server counts it in the next snapshot's `bytes_written`).
    pub reply_len: u64,
}

impl StatsSnapshot {
    /// The named statistic as an integer; panics naming the stat when absent or not a number.
    pub fn u64(&self, name: &str) -> u64 {
        let raw = self
            .values
            .get(name)
            .unwrap_or_else(|| panic!("memcached stats have no '{name}'"));
        raw.parse()
            .unwrap_or_else(|_| panic!("memcached stat '{name}' is not an integer: {raw}"))
    }

    /// `self - earlier` for the counters the tests check, less the traffic of the `stats`
    /// calls themselves (the later request is already in `bytes_read`, the earlier reply in
    /// `bytes_written`), so the byte deltas are exactly what everyone else sent and received.
    pub fn since(&self, earlier: &StatsSnapshot) -> StatsDelta {
        let d = |name: &str| self.u64(name) - earlier.u64(name);
        let own_read = self.request_len;
        let own_written = earlier.reply_len;
        StatsDelta {
            cmd_get: d("cmd_get"),
            cmd_set: d("cmd_set"),
            get_hits: d("get_hits"),
            get_misses: d("get_misses"),
            bytes_read: d("bytes_read").saturating_sub(own_read),
            bytes_written: d("bytes_written").saturating_sub(own_written),
            curr_connections: self.u64("curr_connections"),
            total_connections: d("total_connections"),
        }
    }
}

/// What the server counted between two snapshots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsDelta {
    /// `cmd_get` delta: keys requested (a multi-get counts every key).
    pub cmd_get: u64,
    /// `cmd_set` delta: storage commands received.
    pub cmd_set: u64,
    /// `get_hits` delta.
    pub get_hits: u64,
    /// `get_misses` delta.
    pub get_misses: u64,
    /// `bytes_read` delta: bytes the server read from the network.
    pub bytes_read: u64,
    /// `bytes_written` delta: bytes the server wrote to the network.
    pub bytes_written: u64,
    /// `curr_connections` at the later snapshot (not a delta).
    pub curr_connections: u64,
    /// `total_connections` delta.
    pub total_connections: u64,
}

/// Parses the text of a `stats` reply (`STAT name value` lines up to `END`).
pub fn parse_stats(text: &str) -> StatsSnapshot {
    let mut values = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.trim_end().splitn(3, ' ');
        if let (Some("STAT"), Some(name), Some(value)) = (parts.next(), parts.next(), parts.next())
        {
            values.insert(name.to_string(), value.to_string());
        }
    }
    StatsSnapshot {
        values,
        request_len: 0,
        reply_len: text.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_lines_and_deltas() {
        let a = parse_stats("STAT cmd_get 10\r\nSTAT cmd_set 2\r\nSTAT get_hits 7\r\nSTAT get_misses 3\r\nSTAT bytes_read 100\r\nSTAT bytes_written 200\r\nSTAT curr_connections 2\r\nSTAT total_connections 5\r\nSTAT version 1.6.18\r\nEND\r\n");
        let b = parse_stats("STAT cmd_get 15\r\nSTAT cmd_set 4\r\nSTAT get_hits 9\r\nSTAT get_misses 6\r\nSTAT bytes_read 150\r\nSTAT bytes_written 260\r\nSTAT curr_connections 3\r\nSTAT total_connections 9\r\nEND\r\n");
        assert_eq!(a.values["version"], "1.6.18");
        let mut b = b;
        b.request_len = 7;
        let d = b.since(&a);
        assert_eq!(d.cmd_get, 5);
        assert_eq!(d.cmd_set, 2);
        assert_eq!(d.get_hits, 2);
        assert_eq!(d.get_misses, 3);
        assert_eq!(d.bytes_read, 50 - 7);
        assert_eq!(d.bytes_written, 60u64.saturating_sub(a.reply_len));
        assert_eq!(d.curr_connections, 3);
        assert_eq!(d.total_connections, 4);
    }
}
