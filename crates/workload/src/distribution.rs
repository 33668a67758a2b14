//! The slot distribution: for each window slot, its key length, value length
//! and where in the char block its key suffix starts (memaslap's global
//! `distr[]`, built once at start-up and shared read-only by every
//! concurrency; §3 of the memaslap spec).
//!
//! Construction, per 1024-slot unit:
//! 1. key sizes: in spec order, range *j* gets `floor(1024 * p_j)` slots until
//!    the unit is full; the k-th slot of a range is `avg + r` (even k) or
//!    `avg - r` (odd k) with `avg = (start+end)/2`, `diff = (end-start)/2`,
//!    `r` uniform in `0..diff` (`diff == 0` gives `avg`), so sizes lie in
//!    `[avg-diff+1, avg+diff-1]`; slots left over get
//!    [`WorkloadSpec::avg_key_len`];
//! 2. value sizes the same way (or all `fixed_value_len`, `-X`);
//! 3. suffix offsets `spacing * i` for slot i of the unit, where `spacing`
//!    leaves a reserve at the end of the block for the longest key suffix or
//!    value (memaslap: 8192 = (10 MiB - 2 MiB) / 1024; here the block is
//!    [`char_block_len`], so 816 for memaslap's default workload);
//! 4. four shuffle passes: for each i, pick j uniformly in `i..1024` and swap
//!    one of {key size, suffix offset, value size} between slots i and j.
//!
//! A window that is not a multiple of 1024 takes the first slots of its last
//! (shuffled) unit.

use std::sync::Arc;

use crate::charblock::CHAR_BLOCK_OFFSETS;
use crate::key::PREFIX_LEN;
use shardslap_proto::MAX_KEY_LEN;

use crate::spec::{SizeRange, WorkloadSpec, MAX_GENERATED_VALUE_LEN, MIN_KEY_LEN};

/// Slots per distribution unit (memaslap's `UNIT_ITEMS_COUNT`).
pub const UNIT_SLOTS: usize = 1024;

/// Shuffle passes over each unit.
const SHUFFLE_PASSES: usize = 4;

/// The shape of one window slot: the same in every concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotShape {
    /// Key length in bytes, prefix included (`PREFIX_LEN..=MAX_KEY_LEN`).
    pub key_len: u16,
    /// Value length in bytes.
    pub value_len: u32,
    /// Offset in the char block where the key suffix (and the first value)
    /// starts.
    pub suffix_offset: u32,
    /// Exclusive bound for this slot's suffix and value offsets: any offset
    /// below it leaves room for the key suffix and the value inside the block.
    /// Offsets that drift (kick-outs, overwrites) wrap modulo this bound.
    pub offset_limit: u32,
}

impl SlotShape {
    /// Bytes this slot reads from the char block at one offset: the longer of
    /// the key suffix and the value.
    pub fn span(&self) -> usize {
        span(usize::from(self.key_len), self.value_len as usize)
    }
}

/// The length of the [`crate::CharBlock`] a run of `spec` (with `-X` as
/// `fixed_value_len`) reads from: [`CHAR_BLOCK_OFFSETS`] start offsets plus the
/// longest slice [`build_distribution`] can give a slot, so every slot has at
/// least that many offsets to drift through.
pub fn char_block_len(spec: &WorkloadSpec, fixed_value_len: Option<usize>) -> usize {
    CHAR_BLOCK_OFFSETS + span(MAX_KEY_LEN, longest_value_len(spec, fixed_value_len))
}

/// The longest value a run of `spec` (with `-X` as `fixed_value_len`) stores.
pub fn longest_value_len(spec: &WorkloadSpec, fixed_value_len: Option<usize>) -> usize {
    // A generated size never exceeds its range's end or the spec's average (leftover slots).
    match fixed_value_len {
        Some(len) => len,
        None => spec
            .values
            .iter()
            .map(|range| range.end)
            .fold(spec.avg_value_len(), usize::max),
    }
    .min(MAX_GENERATED_VALUE_LEN)
}

fn span(key_len: usize, value_len: usize) -> usize {
    key_len.saturating_sub(PREFIX_LEN).max(value_len)
}

/// Builds the shapes of `window_len` slots, once per run: every window of every shard reads
/// the same shapes (a window keeps only what changes per item).
///
/// `spec` should have passed [`WorkloadSpec::validate`]; lengths outside what
/// a key or value can be are clamped rather than trusted. `fixed_value_len`
/// (`-X`) replaces every value size. `char_block_len` is the length of the
/// [`crate::CharBlock`] the offsets point into.
///
/// # Panics
///
/// If `char_block_len` exceeds `u32::MAX`, or is shorter than the longest
/// key suffix or value ([`char_block_len`] never is).
pub fn build_distribution(
    spec: &WorkloadSpec,
    fixed_value_len: Option<usize>,
    window_len: usize,
    char_block_len: usize,
    rng: &mut fastrand::Rng,
) -> Arc<[SlotShape]> {
    assert!(
        u32::try_from(char_block_len).is_ok(),
        "char block of {char_block_len} bytes is too long for u32 offsets"
    );
    if window_len == 0 {
        return Arc::from([]);
    }
    let units = window_len.div_ceil(UNIT_SLOTS);
    let slots = units * UNIT_SLOTS;

    let key_avg = spec.avg_key_len().clamp(MIN_KEY_LEN, MAX_KEY_LEN);
    let mut key_lens = Vec::with_capacity(slots);
    for _ in 0..units {
        fill_unit(&mut key_lens, &spec.keys, key_avg, rng);
    }
    for len in &mut key_lens {
        *len = (*len).clamp(PREFIX_LEN, MAX_KEY_LEN);
    }

    let mut value_lens = Vec::with_capacity(slots);
    match fixed_value_len {
        Some(len) => value_lens.resize(slots, len),
        None => {
            let value_avg = spec.avg_value_len().clamp(1, MAX_GENERATED_VALUE_LEN);
            for _ in 0..units {
                fill_unit(&mut value_lens, &spec.values, value_avg, rng);
            }
        }
    }
    for len in &mut value_lens {
        *len = (*len).min(MAX_GENERATED_VALUE_LEN);
    }

    let max_span = key_lens
        .iter()
        .zip(&value_lens)
        .map(|(&k, &v)| span(k, v))
        .max()
        .unwrap_or(0);
    assert!(
        max_span <= char_block_len,
        "char block of {char_block_len} bytes cannot hold a {max_span}-byte value or key suffix"
    );
    let spacing = suffix_spacing(char_block_len, max_span);
    let mut offsets: Vec<usize> = (0..slots).map(|s| spacing * (s % UNIT_SLOTS)).collect();

    for unit in 0..units {
        let range = unit * UNIT_SLOTS..(unit + 1) * UNIT_SLOTS;
        for _ in 0..SHUFFLE_PASSES {
            shuffle_unit(
                &mut key_lens[range.clone()],
                &mut offsets[range.clone()],
                &mut value_lens[range.clone()],
                rng,
            );
        }
    }

    key_lens
        .iter()
        .zip(&value_lens)
        .zip(&offsets)
        .take(window_len)
        .map(|((&key_len, &value_len), &offset)| SlotShape {
            // The clamps above keep key_len <= 250 and value_len <= 1 MiB,
            // and the block length fits u32, so these casts are lossless.
            key_len: key_len as u16,
            value_len: value_len as u32,
            suffix_offset: offset as u32,
            offset_limit: (char_block_len - span(key_len, value_len) + 1) as u32,
        })
        .collect()
}

/// Distance between consecutive suffix offsets in a unit: the block minus a
/// reserve for the longest read, split in 1024. The reserve is at least a
/// fifth of the block, which is memaslap's 2 MiB of 10 MiB.
fn suffix_spacing(char_block_len: usize, max_span: usize) -> usize {
    let reserve = max_span.max(char_block_len / 5);
    let spacing = (char_block_len - reserve) / UNIT_SLOTS;
    // memaslap aligns offsets to 16 bytes; aligning down stays in bounds.
    if spacing >= 16 {
        spacing & !15
    } else {
        spacing
    }
}

/// Appends one unit of sizes drawn from `ranges` (see the module docs).
fn fill_unit(out: &mut Vec<usize>, ranges: &[SizeRange], avg_len: usize, rng: &mut fastrand::Rng) {
    let unit_end = out.len() + UNIT_SLOTS;
    for range in ranges {
        // `as` saturates: NaN and negatives give 0 slots.
        let count = (UNIT_SLOTS as f64 * range.proportion) as usize;
        let avg = (range.start + range.end) / 2;
        let diff = range.end.saturating_sub(range.start) / 2;
        for k in 0..count {
            if out.len() >= unit_end {
                break;
            }
            let len = if diff == 0 {
                avg
            } else if k % 2 == 0 {
                avg + rng.usize(0..diff)
            } else {
                avg - rng.usize(0..diff)
            };
            out.push(len);
        }
    }
    out.resize(unit_end, avg_len);
}

/// One shuffle pass over a unit: swaps one of the three columns per slot.
fn shuffle_unit(
    key_lens: &mut [usize],
    offsets: &mut [usize],
    value_lens: &mut [usize],
    rng: &mut fastrand::Rng,
) {
    let len = key_lens.len();
    for i in 0..len {
        let j = rng.usize(i..len);
        match rng.u8(0..3) {
            0 => key_lens.swap(i, j),
            1 => offsets.swap(i, j),
            _ => value_lens.swap(i, j),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg_file::parse_cfg;
    /// memaslap's block length, for the tests of memaslap's layout.
    const MEMASLAP_BLOCK_LEN: usize = 10 << 20;

    fn build(
        spec: &WorkloadSpec,
        fixed: Option<usize>,
        window_len: usize,
        block: usize,
    ) -> Arc<[SlotShape]> {
        build_distribution(
            spec,
            fixed,
            window_len,
            block,
            &mut fastrand::Rng::with_seed(42),
        )
    }

    #[test]
    fn default_spec_matches_memaslap_layout() {
        let spec = WorkloadSpec::memaslap_default();
        let d = build(&spec, None, 10 * 1024, MEMASLAP_BLOCK_LEN);
        assert_eq!(d.len(), 10 * 1024);
        assert!(d.iter().all(|s| s.key_len == 64 && s.value_len == 1024));
        // memaslap: 8192-byte spacing, a permutation of 0..1024 per unit.
        for unit in d.chunks(UNIT_SLOTS) {
            let mut offsets: Vec<u32> = unit.iter().map(|s| s.suffix_offset).collect();
            offsets.sort_unstable();
            let want: Vec<u32> = (0..1024).map(|i| 8192 * i).collect();
            assert_eq!(offsets, want);
        }
    }

    #[test]
    fn the_run_block_holds_the_longest_slice_past_a_mebibyte_of_offsets() {
        let spec = WorkloadSpec::memaslap_default();
        let len = char_block_len(&spec, None);
        assert_eq!(len, CHAR_BLOCK_OFFSETS + 1024);
        let d = build(&spec, None, 10 * 1024, len);
        // (1 MiB + 1 KiB - its fifth) / 1024, aligned down to 16.
        assert!(d.iter().all(|s| s.suffix_offset % 816 == 0));
        assert!(d
            .iter()
            .all(|s| s.offset_limit as usize == CHAR_BLOCK_OFFSETS + 1));

        // -X and the largest generated values: the block grows with them.
        assert_eq!(
            char_block_len(&spec, Some(300_000)),
            CHAR_BLOCK_OFFSETS + 300_000
        );
        let large = parse_cfg("key\n250 250 1\nvalue\n1 1048576 1\n").expect("valid");
        let len = char_block_len(&large, None);
        assert_eq!(len, CHAR_BLOCK_OFFSETS + MAX_GENERATED_VALUE_LEN);
        let d = build(&large, None, 2048, len);
        assert!(d
            .iter()
            .all(|s| s.offset_limit as usize > CHAR_BLOCK_OFFSETS && s.span() <= len));
        let fixed = build(
            &large,
            Some(2 << 20),
            1024,
            char_block_len(&large, Some(2 << 20)),
        );
        assert!(fixed
            .iter()
            .all(|s| s.value_len as usize == MAX_GENERATED_VALUE_LEN));
    }

    #[test]
    fn sizes_stay_inside_open_range_and_proportions_hold() {
        let spec = parse_cfg("key\n16 100 0.25\n200 250 0.75\nvalue\n1 2000 0.5\n3000 3000 0.5\n")
            .expect("valid");
        let d = build(&spec, None, 8 * 1024, MEMASLAP_BLOCK_LEN);
        // Range 16..100: avg 58, diff 42 -> 17..=99. Range 200..250: avg 225, diff 25 -> 201..=249.
        let small = d.iter().filter(|s| (17..=99).contains(&s.key_len)).count();
        let large = d
            .iter()
            .filter(|s| (201..=249).contains(&s.key_len))
            .count();
        assert_eq!(small + large, d.len());
        assert_eq!(small, 8 * 256);
        assert_eq!(large, 8 * 768);
        // Both ends of the odd/even rule are used.
        assert!(d.iter().any(|s| s.key_len < 58) && d.iter().any(|s| s.key_len > 58));
        // Range 1..2000: avg 1000, diff 999 -> 2..=1998.
        let values_small = d
            .iter()
            .filter(|s| (2..=1998).contains(&s.value_len))
            .count();
        let values_fixed = d.iter().filter(|s| s.value_len == 3000).count();
        assert_eq!(values_small, 8 * 512);
        assert_eq!(values_fixed, 8 * 512);
    }

    #[test]
    fn leftover_slots_get_the_average() {
        // 0.25 * 64 = 16 -> leftover 768 slots of 16; values 0.5 * 100 = 50.
        let spec = parse_cfg("key\n64 64 0.25\nvalue\n100 100 0.5\n").expect("valid");
        let d = build(&spec, None, 1024, MEMASLAP_BLOCK_LEN);
        assert_eq!(d.iter().filter(|s| s.key_len == 64).count(), 256);
        assert_eq!(d.iter().filter(|s| s.key_len == 16).count(), 768);
        assert_eq!(d.iter().filter(|s| s.value_len == 100).count(), 512);
        assert_eq!(d.iter().filter(|s| s.value_len == 50).count(), 512);
    }

    #[test]
    fn leftover_key_average_is_clamped_to_a_valid_key() {
        // memaslap would make 6-byte keys from the leftover 0.1 * 64.
        let spec = parse_cfg("key\n64 64 0.1\n").expect("valid");
        let d = build(&spec, None, 1024, MEMASLAP_BLOCK_LEN);
        assert!(d
            .iter()
            .all(|s| s.key_len == 64 || usize::from(s.key_len) == MIN_KEY_LEN));
    }

    #[test]
    fn proportions_over_one_truncate_later_ranges() {
        let spec = parse_cfg("value\n10 10 0.75\n20 20 0.75\n").expect("valid");
        let d = build(&spec, None, 1024, MEMASLAP_BLOCK_LEN);
        assert_eq!(d.iter().filter(|s| s.value_len == 10).count(), 768);
        assert_eq!(d.iter().filter(|s| s.value_len == 20).count(), 256);
    }

    #[test]
    fn fixed_value_len_overrides() {
        let spec = parse_cfg("value\n1 2000 1\n").expect("valid");
        let d = build(&spec, Some(100), 2048, MEMASLAP_BLOCK_LEN);
        assert!(d.iter().all(|s| s.value_len == 100));
    }

    #[test]
    fn partial_unit_and_small_block_stay_in_bounds() {
        let spec = parse_cfg("key\n16 250 1\nvalue\n1 500 1\n").expect("valid");
        let block_len = 4096;
        let d = build(&spec, None, 100, block_len);
        assert_eq!(d.len(), 100);
        for s in d.iter() {
            assert!(s.suffix_offset < s.offset_limit);
            assert!(s.offset_limit as usize - 1 + s.span() <= block_len);
        }
    }

    #[test]
    fn seeded_and_shuffled() {
        let spec = parse_cfg("key\n16 250 1\nvalue\n1 5000 1\n").expect("valid");
        let a = build(&spec, None, 2048, MEMASLAP_BLOCK_LEN);
        let b = build(&spec, None, 2048, MEMASLAP_BLOCK_LEN);
        assert_eq!(a, b);
        // Offsets are no longer in slot order after the shuffle.
        assert!(a
            .windows(2)
            .any(|w| w[0].suffix_offset > w[1].suffix_offset));
        let c = build_distribution(
            &spec,
            None,
            2048,
            MEMASLAP_BLOCK_LEN,
            &mut fastrand::Rng::with_seed(1),
        );
        assert_ne!(a, c);
    }

    #[test]
    fn empty_window() {
        assert!(build(&WorkloadSpec::memaslap_default(), None, 0, 10).is_empty());
    }
}
