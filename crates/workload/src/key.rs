//! Key prefixes: the 10 printable characters at the front of every key that
//! make it unique across shards, concurrencies and kick-outs.
//!
//! memaslap uses an 8-byte binary prefix from one global, mutex-protected
//! counter; that puts control and non-ASCII bytes in keys and a lock on the
//! hot path. Here the prefix is 60 bits written as 10 characters of
//! [`ALPHABET`] (6 bits each, most significant first):
//!
//! | bits  | field                                   |
//! |-------|-----------------------------------------|
//! | 59-48 | shard (12 bits, so < [`MAX_SHARDS`])     |
//! | 47-32 | concurrency within the shard (16 bits)  |
//! | 31-0  | per-concurrency counter (wraps)         |
//!
//! A key is the prefix followed by `key_len - PREFIX_LEN` characters of the
//! char block.

use crate::charblock::ALPHABET;

/// Length of the key prefix, in characters.
pub const PREFIX_LEN: usize = 10;

/// Number of distinct shards a prefix can encode (12 bits).
pub const MAX_SHARDS: usize = 1 << 12;

/// A 60-bit key prefix: shard | concurrency | counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyPrefix(u64);

impl KeyPrefix {
    /// Builds the prefix of the `counter`-th key of concurrency `conn` on
    /// `shard`. Only the low 12 bits of `shard` are used; callers keep it
    /// below [`MAX_SHARDS`].
    pub fn new(shard: u16, conn: u16, counter: u32) -> Self {
        let shard = u64::from(shard) & (MAX_SHARDS as u64 - 1);
        Self((shard << 48) | (u64::from(conn) << 32) | u64::from(counter))
    }

    /// The prefix of key `index` of a fixed key space (`--keys`): the index itself, in 60
    /// bits.
    pub fn from_index(index: u64) -> Self {
        Self(index & ((1 << 60) - 1))
    }

    /// The 60-bit value.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// Writes the prefix as [`PREFIX_LEN`] characters of [`ALPHABET`].
    pub fn write(&self, out: &mut [u8; PREFIX_LEN]) {
        for (i, byte) in out.iter_mut().enumerate() {
            let shift = 6 * (PREFIX_LEN - 1 - i);
            *byte = ALPHABET[((self.0 >> shift) & 63) as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn text(prefix: KeyPrefix) -> [u8; PREFIX_LEN] {
        let mut out = [0u8; PREFIX_LEN];
        prefix.write(&mut out);
        out
    }

    #[test]
    fn layout() {
        assert_eq!(&text(KeyPrefix::new(0, 0, 0)), b"0000000000");
        assert_eq!(&text(KeyPrefix::new(0, 0, 1)), b"0000000001");
        assert_eq!(&text(KeyPrefix::new(0, 0, 64)), b"0000000010");
        assert_eq!(&text(KeyPrefix::new(4095, 65535, u32::MAX)), b"----------");
        assert_eq!(KeyPrefix::new(1, 2, 3).as_u64(), (1 << 48) | (2 << 32) | 3);
    }

    #[test]
    fn distinct_fields_give_distinct_text() {
        let mut seen = HashSet::new();
        for shard in [0u16, 1, 63, 64, 4095] {
            for conn in [0u16, 1, 255, 65535] {
                for counter in [0u32, 1, 1 << 20, u32::MAX] {
                    let t = text(KeyPrefix::new(shard, conn, counter));
                    assert!(t.iter().all(|b| ALPHABET.contains(b)));
                    assert!(seen.insert(t), "duplicate for {shard}/{conn}/{counter}");
                }
            }
        }
    }
}
