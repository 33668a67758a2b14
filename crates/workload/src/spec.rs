//! The workload description: key and value size distributions and the
//! SET/GET mix, as read from a `-F` file (`cfg_file`) or memaslap's built-in
//! default. Pure data plus the checks that make it safe to build a
//! distribution from; no randomness, no I/O.

use crate::cfg_file::{CfgErrorKind, Section};

/// Shortest key memaslap accepts in a config file, in bytes.
pub const MIN_KEY_LEN: usize = 16;

use shardslap_proto::MAX_KEY_LEN;

/// Largest value a workload generates (memaslap's 1 MiB, memcached's default item size), in
/// bytes: the bound on `-X` and on a `-F` value length. Not the protocol's limit on what a
/// response may carry (`shardslap_proto::MAX_RESPONSE_VALUE_LEN`).
pub const MAX_GENERATED_VALUE_LEN: usize = 1 << 20;

/// Proportions at or below this count as zero: a `set_proportion` this small
/// means "get-only" (memaslap's `PROP_ERROR`).
pub const PROP_EPSILON: f64 = 0.001;

/// One `start_len end_len proportion` row of a key or value section.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SizeRange {
    /// Smallest length of the range, in bytes (inclusive).
    pub start: usize,
    /// Largest length of the range, in bytes (inclusive).
    pub end: usize,
    /// Share of the 1024-slot unit given to this range, in `0..=1`.
    pub proportion: f64,
}

impl SizeRange {
    /// A range of lengths `start..=end` taking `proportion` of the window's slots.
    pub const fn new(start: usize, end: usize, proportion: f64) -> Self {
        Self {
            start,
            end,
            proportion,
        }
    }

    /// memaslap's per-range weight of the average: `proportion * (start+end)/2`.
    fn weighted_avg(&self) -> f64 {
        // Same arithmetic as memaslap: the sum is converted to double before
        // halving, so odd sums keep their .5.
        self.proportion * ((self.start + self.end) as f64) / 2.0
    }
}

/// The whole workload: size distributions and the command mix.
///
/// Proportions are *not* normalised (memaslap semantics):
/// - key and value ranges get `floor(1024 * proportion)` slots of each
///   1024-slot unit in file order; if the sum is below 1 the leftover slots get
///   the average size ([`WorkloadSpec::avg_key_len`]), if it is above 1 the
///   later ranges are truncated;
/// - `set_proportion` / `get_proportion` only matter as a ratio, except that a
///   `set_proportion` of at most [`PROP_EPSILON`] means get-only (warm-up).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkloadSpec {
    /// Key size ranges, in file order. Lengths include the key prefix.
    pub keys: Vec<SizeRange>,
    /// Value size ranges, in file order.
    pub values: Vec<SizeRange>,
    /// Weight of SET (cmd type 0).
    pub set_proportion: f64,
    /// Weight of GET (cmd type 1).
    pub get_proportion: f64,
}

impl WorkloadSpec {
    /// memaslap's built-in workload: 64-byte keys, 1024-byte values, 10% SET,
    /// 90% GET.
    pub fn memaslap_default() -> Self {
        Self {
            keys: vec![Self::default_key_range()],
            values: vec![Self::default_value_range()],
            set_proportion: 0.1,
            get_proportion: 0.9,
        }
    }

    /// The key section used when a config file has none: `64 64 1`.
    pub fn default_key_range() -> SizeRange {
        SizeRange {
            start: 64,
            end: 64,
            proportion: 1.0,
        }
    }

    /// The value section used when a config file has none: `1024 1024 1`.
    pub fn default_value_range() -> SizeRange {
        SizeRange {
            start: 1024,
            end: 1024,
            proportion: 1.0,
        }
    }

    /// True when the run has no SETs (`set_proportion <= 0.001`): every
    /// concurrency then warms its window up with SETs before the clock starts.
    ///
    /// memaslap warms up for `< 0.001` but only issues SETs for `> 0.001`, so
    /// exactly 0.001 gives neither; here it counts as get-only.
    pub fn is_get_only(&self) -> bool {
        // NaN (only in unvalidated specs) counts as no SETs, as in `Window`.
        self.set_proportion <= PROP_EPSILON || self.set_proportion.is_nan()
    }

    /// Average key length in bytes as memaslap computes it for the nominal
    /// `Net(M/s)` column and for leftover slots:
    /// `floor(sum(p_j * (start_j + end_j) / 2))`, not normalised by the sum of
    /// the proportions.
    pub fn avg_key_len(&self) -> usize {
        avg_len(&self.keys)
    }

    /// Average value length in bytes, computed like [`Self::avg_key_len`].
    /// Like memaslap it ignores `-X`; callers that want the fixed size for the
    /// Net column must substitute it themselves.
    pub fn avg_value_len(&self) -> usize {
        avg_len(&self.values)
    }

    /// Checks a spec built in code (specs from [`crate::parse_cfg`] always
    /// pass): at least one key and one value range, lengths within
    /// [`MIN_KEY_LEN`]`..=`[`MAX_KEY_LEN`] and `1..=`[`MAX_GENERATED_VALUE_LEN`],
    /// `start <= end`, proportions finite in `0..=1`, and not both command
    /// proportions zero.
    ///
    /// # Errors
    ///
    /// The first problem found, without a line number.
    pub fn validate(&self) -> Result<(), CfgErrorKind> {
        if self.keys.is_empty() {
            return Err(CfgErrorKind::EmptySection {
                section: Section::Key,
            });
        }
        if self.values.is_empty() {
            return Err(CfgErrorKind::EmptySection {
                section: Section::Value,
            });
        }
        for range in &self.keys {
            check_range(Section::Key, range)?;
        }
        for range in &self.values {
            check_range(Section::Value, range)?;
        }
        check_proportion(self.set_proportion)?;
        check_proportion(self.get_proportion)?;
        if self.set_proportion == 0.0 && self.get_proportion == 0.0 {
            return Err(CfgErrorKind::CmdProportionsZero);
        }
        Ok(())
    }
}

fn avg_len(ranges: &[SizeRange]) -> usize {
    let sum: f64 = ranges.iter().map(SizeRange::weighted_avg).sum();
    // Truncation toward zero, as memaslap's `(size_t)` cast.
    sum as usize
}

/// Checks one size row: lengths within the section's bounds, `start <= end`
/// and the proportion.
pub(crate) fn check_range(section: Section, range: &SizeRange) -> Result<(), CfgErrorKind> {
    for len in [range.start, range.end] {
        match section {
            Section::Key if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&len) => {
                return Err(CfgErrorKind::KeyLenOutOfRange { len });
            }
            Section::Value if !(1..=MAX_GENERATED_VALUE_LEN).contains(&len) => {
                return Err(CfgErrorKind::ValueLenOutOfRange { len });
            }
            _ => {}
        }
    }
    if range.start > range.end {
        return Err(CfgErrorKind::StartAfterEnd {
            section,
            start: range.start,
            end: range.end,
        });
    }
    check_proportion(range.proportion)
}

/// Checks that a proportion is a finite number in `0..=1`.
pub(crate) fn check_proportion(proportion: f64) -> Result<(), CfgErrorKind> {
    if !proportion.is_finite() {
        return Err(CfgErrorKind::ProportionNotFinite { proportion });
    }
    if !(0.0..=1.0).contains(&proportion) {
        return Err(CfgErrorKind::ProportionOutOfRange { proportion });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_spec_is_memaslaps() {
        let spec = WorkloadSpec::memaslap_default();
        assert_eq!(spec.avg_key_len(), 64);
        assert_eq!(spec.avg_value_len(), 1024);
        assert!(!spec.is_get_only());
        assert_eq!(spec.validate(), Ok(()));
    }

    #[test]
    fn averages_follow_memaslap_arithmetic() {
        let spec = WorkloadSpec {
            // 0.5 * (16+17)/2 = 8.25, plus 0.25 * (100+200)/2 = 37.5: 45.75 -> 45.
            keys: vec![SizeRange::new(16, 17, 0.5), SizeRange::new(100, 200, 0.25)],
            // Not normalised: 0.5 * 1000 = 500.
            values: vec![SizeRange::new(1000, 1000, 0.5)],
            set_proportion: 0.0,
            get_proportion: 1.0,
        };
        assert_eq!(spec.avg_key_len(), 45);
        assert_eq!(spec.avg_value_len(), 500);
    }

    #[test]
    fn get_only_threshold() {
        let mut spec = WorkloadSpec::memaslap_default();
        for (set, get_only) in [(0.0, true), (0.0009, true), (0.001, true), (0.0011, false)] {
            spec.set_proportion = set;
            assert_eq!(spec.is_get_only(), get_only, "set_proportion {set}");
        }
    }

    #[test]
    fn validate_rejects_bad_specs() {
        let good = WorkloadSpec::memaslap_default();
        let cases: Vec<(WorkloadSpec, &str)> = vec![
            (
                WorkloadSpec {
                    keys: vec![],
                    ..good.clone()
                },
                "key section has no rows",
            ),
            (
                WorkloadSpec {
                    values: vec![],
                    ..good.clone()
                },
                "value section has no rows",
            ),
            (
                WorkloadSpec {
                    keys: vec![SizeRange::new(251, 300, 1.0)],
                    ..good.clone()
                },
                "key length 251 is out of range (16..=250)",
            ),
            (
                WorkloadSpec {
                    values: vec![SizeRange::new(10, 5, 1.0)],
                    ..good.clone()
                },
                "value start length 10 is greater than end length 5",
            ),
            (
                WorkloadSpec {
                    set_proportion: f64::NAN,
                    ..good.clone()
                },
                "proportion NaN is not a finite number",
            ),
            (
                WorkloadSpec {
                    set_proportion: 0.0,
                    get_proportion: 0.0,
                    ..good.clone()
                },
                "cmd proportions are all zero (give cmd type 0 or 1 a proportion above 0)",
            ),
        ];
        for (spec, want) in cases {
            let err = spec.validate().err().map(|e| e.to_string());
            assert_eq!(err.as_deref(), Some(want));
        }
    }
}
