//! The character block: one seeded buffer of printable characters that every
//! key suffix and every value is a slice of (memaslap's `char_block`). Built
//! once at start-up, then read-only and shared by all shards.
//!
//! memaslap's block is 10 MiB whatever the workload. Here it is
//! [`CHAR_BLOCK_OFFSETS`] plus the longest slice the run reads (see
//! [`crate::distribution::char_block_len`]): 1 MiB of start offsets still gives
//! every value of a window its own bytes, and a block that fits the client's
//! cache spares each request the cache and TLB misses of copying a key and a
//! value out of a random place in 10 MiB (measured with perf: `memmove` fell
//! from 433 to 262 ns per request; max RSS from 22.2 to about 16 MiB). What the
//! server stores and sends is the same:
//! the lengths, the alphabet and the key prefixes do not depend on the block's
//! length.

/// How many distinct start offsets the block offers a key suffix or value:
/// the block's length less the longest slice a run reads.
pub const CHAR_BLOCK_OFFSETS: usize = 1 << 20;

/// The 64 characters blocks and key prefixes are made of: `0-9A-Za-z.-`.
/// None is a space, a control character or non-ASCII, so keys built from them
/// are valid memcached ASCII keys.
pub const ALPHABET: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-";

/// An immutable buffer of random [`ALPHABET`] characters.
#[derive(Clone, PartialEq, Eq)]
pub struct CharBlock {
    bytes: Box<[u8]>,
}

impl CharBlock {
    /// Generates `len` characters from a RNG seeded with `seed`; the same
    /// `(len, seed)` always gives the same block.
    pub fn generate(len: usize, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut bytes = vec![0u8; len].into_boxed_slice();
        // Ten 6-bit characters per 64-bit draw: the block is built once, but
        // A few MiB of single draws would still be noticeable at start-up.
        for chunk in bytes.chunks_mut(10) {
            let mut bits = rng.u64(..);
            for byte in chunk {
                *byte = ALPHABET[(bits & 63) as usize];
                bits >>= 6;
            }
        }
        Self { bytes }
    }

    /// The characters.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// Length of the block, in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for a zero-length block.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl std::fmt::Debug for CharBlock {
    // A MiB of characters is not useful in a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CharBlock")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_alphabet_characters() {
        let block = CharBlock::generate(100_003, 7);
        assert_eq!(block.len(), 100_003);
        assert!(block.as_slice().iter().all(|b| ALPHABET.contains(b)));
    }

    #[test]
    fn every_character_appears_about_equally() {
        let block = CharBlock::generate(64 * 4096, 1);
        let mut counts = [0usize; 256];
        for &b in block.as_slice() {
            counts[b as usize] += 1;
        }
        for &c in ALPHABET {
            let n = counts[c as usize];
            assert!((3500..4700).contains(&n), "{} appears {n} times", c as char);
        }
    }

    #[test]
    fn seeded() {
        assert_eq!(CharBlock::generate(1000, 3), CharBlock::generate(1000, 3));
        assert_ne!(CharBlock::generate(1000, 3), CharBlock::generate(1000, 4));
        assert!(CharBlock::generate(0, 3).is_empty());
    }
}
