//! The latency spectrum of a histogram: latency against percentile, with
//! the points spread evenly over the "nines" (x = −log10(1 − p/100), so
//! p50 → 0.3, p90 → 1, p99 → 2, p99.9 → 3), the usual axis for latency
//! plots because the tail is where the interest is.

use hdrhistogram::Histogram;

use crate::input::SpectrumPoint;

/// The highest spectrum point, in nines: 5 is p99.999.
pub const SPECTRUM_MAX_NINES: f64 = 5.0;

/// Points per nine (per decade of 1 − p).
pub const SPECTRUM_STEPS_PER_NINE: u32 = 20;

/// The "nines" of a percentile: −log10(1 − p/100), so 0 for p0, 2 for p99,
/// and infinite for p100.
#[must_use]
pub fn nines(percentile: f64) -> f64 {
    -(1.0 - percentile / 100.0).log10()
}

/// The latency spectrum of `hist` (nanoseconds): points every
/// 1/[`SPECTRUM_STEPS_PER_NINE`] of a nine from p0 up to p99.999 or, when
/// the histogram holds fewer than 100 000 samples, up to the highest
/// percentile its samples resolve (1 − 1/count: p99.9 for 1 000 samples),
/// which is always the last point. Empty for an empty histogram.
#[must_use]
pub fn percentile_spectrum(hist: &Histogram<u64>) -> Vec<SpectrumPoint> {
    let count = hist.len();
    if count == 0 {
        return Vec::new();
    }
    let top = (count as f64).log10().min(SPECTRUM_MAX_NINES);
    let step = 1.0 / f64::from(SPECTRUM_STEPS_PER_NINE);
    let mut xs: Vec<f64> = (0u32..)
        .map(|i| f64::from(i) * step)
        .take_while(|&x| x < top - 1e-9)
        .collect();
    xs.push(top);
    xs.into_iter()
        .map(|x| {
            // Rounded to 12 decimals so whole nines land on the same f64 as
            // the literal (0.99, 0.999): the quantile → rank step rounds up,
            // and 0.99 + 1 ulp can pick the next sample.
            let quantile = ((1.0 - 10f64.powf(-x)) * 1e12).round() / 1e12;
            SpectrumPoint {
                percentile: quantile * 100.0,
                latency_us: hist.value_at_quantile(quantile) as f64 / 1000.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use shardslap_report::LatencyStats;

    use super::*;

    fn stats(samples: u64) -> LatencyStats {
        let mut s = LatencyStats::new();
        for i in 1..=samples {
            s.record(i * 1_000);
        }
        s
    }

    #[test]
    fn spans_five_nines_evenly() {
        let s = stats(200_000);
        let points = percentile_spectrum(s.histogram());
        assert_eq!(points.len(), 5 * 20 + 1);
        assert_eq!(points[0].percentile, 0.0);
        assert!((points[20].percentile - 90.0).abs() < 1e-9);
        assert!((points[40].percentile - 99.0).abs() < 1e-9);
        let last = points.last().unwrap();
        assert!((last.percentile - 99.999).abs() < 1e-9);
        for pair in points.windows(2) {
            assert!(pair[0].latency_us <= pair[1].latency_us);
            let gap = nines(pair[1].percentile) - nines(pair[0].percentile);
            assert!((gap - 0.05).abs() < 1e-6, "{gap}");
        }
        // The same definition as the report's percentiles.
        assert_eq!(points[40].latency_us, s.percentile_us(0.99));
        // The top is not clipped to the exact max, which a bare histogram
        // does not know: it is the highest value equivalent to it.
        let top_ns = s.histogram().highest_equivalent(s.max_ns());
        assert_eq!(last.latency_us, top_ns as f64 / 1000.0);
    }

    #[test]
    fn stops_where_the_samples_stop_resolving() {
        let points = percentile_spectrum(stats(1_000).histogram());
        assert_eq!(points.len(), 3 * 20 + 1);
        assert!((points.last().unwrap().percentile - 99.9).abs() < 1e-9);

        // 250 samples: log10 250 = 2.398 nines, off the 0.05 grid.
        let points = percentile_spectrum(stats(250).histogram());
        let last = points.last().unwrap();
        assert!((last.percentile - 99.6).abs() < 1e-9, "{last:?}");
        assert!(nines(points[points.len() - 2].percentile) < nines(last.percentile));
    }

    #[test]
    fn tiny_and_empty_histograms() {
        assert!(percentile_spectrum(stats(0).histogram()).is_empty());
        let points = percentile_spectrum(stats(1).histogram());
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].percentile, 0.0);
        assert!((points[0].latency_us - 1.0).abs() < 0.001);
    }
}
