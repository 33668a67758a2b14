//! Axis transforms, tick positions and tick labels.
//!
//! Plotters draws every panel on plain `f64` axes; the two non-linear ones
//! are done here by transforming the data: the percentile "nines" axis
//! (`x' = -log10(1 - p/100)`, so 90, 99, 99.9 are evenly spaced) and the
//! decade (log10) latency axis. Tick labels map the transformed values back.

use std::ops::Range;

/// Largest nines exponent on the percentile axis (99.99999).
const MAX_NINES: f64 = 7.0;
/// Smallest right edge of the percentile axis (99).
const MIN_NINES: f64 = 2.0;

/// `-log10(1 - p/100)`: 0 → 0, 90 → 1, 99 → 2; infinite at 100.
pub(crate) fn nines(percentile: f64) -> f64 {
    -(1.0 - percentile / 100.0).log10()
}

/// The percentile axis, from 0 to a whole number of nines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NinesAxis {
    /// Right edge, a whole number of nines in `MIN_NINES..=MAX_NINES`.
    pub max: f64,
}

impl NinesAxis {
    /// Fits the finite percentiles (those below 100) of `percentiles`.
    pub(crate) fn fit(percentiles: impl Iterator<Item = f64>) -> Self {
        let widest = percentiles
            .map(nines)
            .filter(|x| x.is_finite())
            .fold(0.0_f64, f64::max);
        // A small tolerance so 99.9 (2.99999..) does not round up a decade.
        let max = (widest - 1e-9).ceil().clamp(MIN_NINES, MAX_NINES);
        NinesAxis { max }
    }

    /// Where `percentile` sits. 100 (the maximum) has no place on this
    /// axis: it goes at `last_x`, the series' previous point, so the line
    /// ends with a vertical step up to the maximum instead of a made-up
    /// slope (or at the right edge if the series has no other point).
    /// Percentiles past the right edge are treated the same way.
    pub(crate) fn x(&self, percentile: f64, last_x: Option<f64>) -> f64 {
        let x = nines(percentile);
        if x <= self.max {
            x
        } else {
            last_x.unwrap_or(self.max)
        }
    }

    pub(crate) fn range(&self) -> Range<f64> {
        0.0..self.max
    }

    /// One labelled tick per nine: 0, 90, 99, 99.9, ...
    pub(crate) fn ticks(&self) -> Vec<f64> {
        (0..=self.max as u32).map(f64::from).collect()
    }

    /// Grid lines at 50, 80, 95, 98, 99.5, ... between the ticks.
    pub(crate) fn light_ticks(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for decade in 0..self.max as u32 {
            for m in [2.0_f64, 5.0] {
                out.push(f64::from(decade) + m.log10());
            }
        }
        out
    }
}

/// The percentile label of a whole nines value: "0", "90", "99", "99.9".
pub(crate) fn nines_label(x: f64) -> String {
    let k = x.round();
    if (x - k).abs() > 1e-6 || k < 0.0 {
        return String::new();
    }
    match k as u32 {
        0 => "0".to_owned(),
        1 => "90".to_owned(),
        n => {
            let mut s = "99".to_owned();
            if n > 2 {
                s.push('.');
                s.extend(std::iter::repeat('9').take(n as usize - 2));
            }
            s
        }
    }
}

/// A log10 axis over whole decades, for latencies in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DecadeAxis {
    /// Lowest decade exponent (the axis starts at `10^lo`).
    pub lo: f64,
    /// Highest decade exponent, `> lo`.
    pub hi: f64,
}

impl DecadeAxis {
    /// Fits `values` (>= 0); zeros cannot sit on a log axis and are drawn
    /// on its bottom edge instead.
    pub(crate) fn fit(values: impl Iterator<Item = f64>) -> Self {
        let (mut min_pos, mut max) = (f64::INFINITY, 0.0_f64);
        for v in values {
            if v > 0.0 {
                min_pos = min_pos.min(v);
                max = max.max(v);
            }
        }
        if !min_pos.is_finite() {
            return DecadeAxis { lo: 0.0, hi: 1.0 };
        }
        let lo = min_pos.log10().floor();
        let hi = max.log10().ceil().max(lo + 1.0);
        DecadeAxis { lo, hi }
    }

    /// Where `value` sits: its log10, clamped to the bottom edge.
    pub(crate) fn y(&self, value: f64) -> f64 {
        if value > 0.0 {
            value.log10().max(self.lo)
        } else {
            self.lo
        }
    }

    pub(crate) fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }

    /// Labelled ticks: every decade, plus 2× and 5× when there are at most
    /// two decades (otherwise the axis would carry only two or three labels).
    pub(crate) fn ticks(&self) -> Vec<f64> {
        let dense = self.hi - self.lo <= 2.0;
        let mut out = Vec::new();
        let mut decade = self.lo;
        while decade <= self.hi + 1e-9 {
            out.push(decade);
            if dense && decade < self.hi {
                out.push(decade + 2.0_f64.log10());
                out.push(decade + 5.0_f64.log10());
            }
            decade += 1.0;
        }
        out
    }

    /// Grid lines at 2×..9× of each decade.
    pub(crate) fn light_ticks(&self) -> Vec<f64> {
        let mut out = Vec::new();
        let mut decade = self.lo;
        while decade < self.hi - 1e-9 {
            out.extend((2..10).map(|m| decade + f64::from(m).log10()));
            decade += 1.0;
        }
        out
    }
}

/// The label of a log10 tick: the value it stands for.
pub(crate) fn decade_label(y: f64) -> String {
    let value = 10.0_f64.powf(y);
    // powf is inexact (10^2.30103 = 199.9999..); round to three digits.
    let unit = 10.0_f64.powf(value.log10().floor() - 2.0);
    compact((value / unit).round() * unit)
}

/// `0..max` with `headroom` (e.g. 1.25) above the largest value, so the
/// legend has space; `0..1` when everything is zero.
pub(crate) fn zero_based(max: f64, headroom: f64) -> Range<f64> {
    if max > 0.0 {
        0.0..max * headroom
    } else {
        0.0..1.0
    }
}

/// A time axis: from 0 (or the earliest time, if negative) to the latest.
pub(crate) fn time_range(min_t_s: f64, max_t_s: f64) -> Range<f64> {
    let lo = min_t_s.min(0.0);
    if max_t_s > lo {
        lo..max_t_s
    } else {
        lo..lo + 1.0
    }
}

/// Whole-number ticks from `lo` to `hi` inclusive, at most about 16 of them.
pub(crate) fn integer_ticks(lo: u64, hi: u64) -> Vec<f64> {
    let span = hi.saturating_sub(lo);
    let mut step = 1;
    while span / step > 16 {
        step *= 2;
    }
    (lo..=hi).step_by(step as usize).map(|v| v as f64).collect()
}

/// Short number for a tick: up to three significant digits, with k/M/G
/// for thousands, millions and billions ("250k", "1.5M", "0.25").
pub(crate) fn compact(value: f64) -> String {
    let abs = value.abs();
    let (scaled, suffix) = if abs >= 1e9 {
        (value / 1e9, "G")
    } else if abs >= 1e6 {
        (value / 1e6, "M")
    } else if abs >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let digits = match scaled.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 3,
    };
    let mut s = format!("{scaled:.digits$}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".to_owned();
    }
    s.push_str(suffix);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_labels_and_positions() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        let labels: Vec<String> = (0..=5).map(|k| nines_label(f64::from(k))).collect();
        assert_eq!(labels, ["0", "90", "99", "99.9", "99.99", "99.999"]);
        assert_eq!(nines_label(1.5), "");

        let axis = NinesAxis::fit([0.0, 50.0, 99.9, 100.0].into_iter());
        assert_eq!(axis.max, 3.0);
        assert!((axis.x(99.0, None) - 2.0).abs() < 1e-9);
        assert_eq!(axis.x(100.0, Some(2.5)), 2.5);
        assert_eq!(axis.x(100.0, None), 3.0);
        let axis = NinesAxis::fit([99.95].into_iter());
        assert_eq!(axis.max, 4.0);
        let axis = NinesAxis::fit([50.0].into_iter());
        assert_eq!(axis.max, MIN_NINES);
    }

    #[test]
    fn decade_axis_fits_and_pins_zero() {
        let axis = DecadeAxis::fit([0.0, 35.0, 1200.0].into_iter());
        assert_eq!((axis.lo, axis.hi), (1.0, 4.0));
        assert_eq!(axis.y(0.0), 1.0);
        let labels: Vec<String> = axis.ticks().into_iter().map(decade_label).collect();
        assert_eq!(labels, ["10", "100", "1k", "10k"]);
        let axis = DecadeAxis::fit([100.0].into_iter());
        assert_eq!((axis.lo, axis.hi), (2.0, 3.0));
        let labels: Vec<String> = axis.ticks().into_iter().map(decade_label).collect();
        assert_eq!(labels, ["100", "200", "500", "1k"]);
        assert_eq!(
            DecadeAxis::fit([0.0].into_iter()),
            DecadeAxis { lo: 0.0, hi: 1.0 }
        );
    }

    #[test]
    fn compact_numbers() {
        let got: Vec<String> = [0.0, 0.25, 12.5, 999.0, 1500.0, 250_000.0, 1.5e6, 2e9]
            .into_iter()
            .map(compact)
            .collect();
        assert_eq!(
            got,
            ["0", "0.25", "12.5", "999", "1.5k", "250k", "1.5M", "2G"]
        );
    }

    #[test]
    fn integer_ticks_thin_out() {
        assert_eq!(integer_ticks(0, 3), [0.0, 1.0, 2.0, 3.0]);
        assert!(integer_ticks(0, 63).len() <= 17);
    }
}
