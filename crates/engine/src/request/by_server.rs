//! `--distribution`: a request's operations grouped by the server their keys live on. A SET
//! is one group; a multi-get (`-d`) becomes one multi-get per server holding that server's
//! keys, each sent, answered and accounted as a request of its own. The buffers are sized
//! once for `-d` keys, so grouping allocates nothing per request.

use shardslap_proto::MAX_KEY_LEN;
use shardslap_workload::{CharBlock, Op, Placement, Window};

/// Reusable buffers for grouping one request's operations by server.
#[derive(Debug)]
pub(crate) struct ByServer {
    /// (server, position in the request, op), sorted.
    placed: Vec<(usize, usize, Op)>,
    /// The ops, grouped: each group's ops back to back, in request order within a group.
    ops: Vec<Op>,
    /// (server, end in `ops`) of each group, by server.
    groups: Vec<(usize, usize)>,
}

impl ByServer {
    /// Buffers for requests of up to `keys` operations.
    pub(crate) fn with_capacity(keys: usize) -> ByServer {
        ByServer {
            placed: Vec::with_capacity(keys),
            ops: Vec::with_capacity(keys),
            groups: Vec::with_capacity(keys),
        }
    }

    /// Groups `ops` by the server `placement` puts each key on (the key is written into
    /// `key_buf` to be hashed).
    pub(crate) fn split(
        &mut self,
        placement: &Placement,
        ops: &[Op],
        window: &Window,
        block: &CharBlock,
        key_buf: &mut [u8; MAX_KEY_LEN],
    ) {
        self.placed.clear();
        self.ops.clear();
        self.groups.clear();
        for (position, &op) in ops.iter().enumerate() {
            let len = window.write_key(op.slot, block, key_buf);
            self.placed
                .push((placement.server_for(&key_buf[..len]), position, op));
        }
        // Unstable sort allocates nothing; the position keeps each group in request order.
        self.placed
            .sort_unstable_by_key(|&(server, position, _)| (server, position));
        for &(server, _, op) in &self.placed {
            match self.groups.last_mut() {
                Some((last, end)) if *last == server => *end += 1,
                _ => self.groups.push((server, self.ops.len() + 1)),
            }
            self.ops.push(op);
        }
    }

    /// Groups of the last [`split`](Self::split): how many.
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    /// Group `i`: its server and its operations.
    pub(crate) fn group(&self, i: usize) -> (usize, &[Op]) {
        let start = match i {
            0 => 0,
            _ => self.groups[i - 1].1,
        };
        let (server, end) = self.groups[i];
        (server, &self.ops[start..end])
    }
}
