//! Merging op objects (`totals`, a shard's `totals`): counts add, the
//! HdrHistograms add, and the moments combine from each input's (ops,
//! mean, stddev, geo_mean), so the result matches one run that saw every
//! request (see [`merge_op`] for the one approximation).

use hdrhistogram::Histogram;
use serde_json::Map;
use shardslap_report::latency::HDR_SIGFIG;
use shardslap_report::{add_histogram, empty_histogram, hdr_percentile_us, PERCENTILES};
use shardslap_schema::{LatencyUs, OpEntry, OpName, OpsObject};

use crate::error::MergeError;

/// One input's op object, with the label that names it in errors.
pub(crate) type Part<'a, T> = (&'a str, &'a T);

/// Merges the op objects at `at` (e.g. `totals`) of several inputs;
/// every `tps` divides by `duration_s`.
pub(crate) fn merge_ops_object(
    parts: &[Part<'_, OpsObject>],
    at: &str,
    duration_s: f64,
) -> Result<OpsObject, MergeError> {
    let merge = |op: OpName| {
        let entries: Vec<Part<'_, OpEntry>> = parts.iter().map(|&(f, o)| (f, o.op(op))).collect();
        merge_op(&entries, &format!("{at}.{op}"), duration_s)
    };
    Ok(OpsObject {
        get: merge(OpName::Get)?,
        set: merge(OpName::Set)?,
        total: merge(OpName::Total)?,
        extra: Map::new(),
    })
}

/// Merges one operation type's entries.
///
/// `ops`, `misses` and `log2_dist` add; `hdr` histograms add; `min`/`max` are taken over inputs with events; `mean` is
/// weighted by ops; `geo_mean` is exp(Σ ops·ln geo / Σ ops), which is
/// memaslap's exp(Σ ln t / n) again; percentiles come from the merged
/// histogram exactly as `LatencyStats::percentile_us` computes them.
///
/// `stddev` pools each input's squares: Σ stddev²·(ops−1) plus the
/// between-input term Σ ops·(mean − merged mean)². That is exact when
/// `mean` is the mean of the whole-µs values `stddev` is taken over, i.e.
/// for whole-µs latencies. `mean` is exact from nanoseconds, so otherwise
/// each input's mean is off by its average sub-µs remainder (under 1 µs);
/// only differences between the inputs' remainders (typically far below
/// 1 µs) reach the between-input term. The result file has no field that
/// would make this exact.
///
/// When only one input has events, its statistics are copied unchanged.
///
/// # Errors
///
/// [`MergeError::NoHdr`] if two or more inputs have events and one's `hdr` is `null`, and
/// [`MergeError::Malformed`] if a histogram's count is not its `ops`.
pub(crate) fn merge_op(
    parts: &[Part<'_, OpEntry>],
    at: &str,
    duration_s: f64,
) -> Result<OpEntry, MergeError> {
    let ops = parts.iter().fold(0u64, |n, (_, e)| n.saturating_add(e.ops));
    let misses = parts
        .iter()
        .fold(0u64, |n, (_, e)| n.saturating_add(e.misses));
    let log2_dist = sum_elementwise(parts.iter().map(|(_, e)| e.log2_dist.as_slice()));
    let live: Vec<Part<'_, OpEntry>> = parts.iter().copied().filter(|(_, e)| e.ops > 0).collect();
    let (latency_us, hdr) = match live.as_slice() {
        [] => (LatencyUs::default(), Some(empty_histogram(HDR_SIGFIG))),
        [(_, only)] => (only.latency_us.clone(), only.hdr.clone()),
        _ => {
            let hist = sum_histograms(live.iter().map(|(file, e)| HdrPart {
                file,
                at: format!("{at}.hdr"),
                hdr: e.hdr.as_ref(),
                ops: e.ops,
            }))?;
            (combine_latency(&live, &hist), Some(hist))
        }
    };
    Ok(OpEntry {
        ops,
        tps: per_sec(ops, duration_s),
        misses,
        latency_us,
        log2_dist,
        hdr,
        extra: Map::new(),
    })
}

/// Moments and percentiles of two or more inputs with events.
fn combine_latency(live: &[Part<'_, OpEntry>], hist: &Histogram<u64>) -> LatencyUs {
    let weight = |e: &OpEntry| e.ops as f64;
    let n: f64 = live.iter().map(|(_, e)| weight(e)).sum();
    let min = live
        .iter()
        .map(|(_, e)| e.latency_us.min)
        .fold(f64::INFINITY, f64::min);
    let max = live
        .iter()
        .map(|(_, e)| e.latency_us.max)
        .fold(f64::NEG_INFINITY, f64::max);
    let mean = live
        .iter()
        .map(|(_, e)| e.latency_us.mean * weight(e))
        .sum::<f64>()
        / n;
    // Pooled sum of squared deviations: within each input, then between.
    let squares: f64 = live
        .iter()
        .map(|(_, e)| {
            let k = weight(e);
            let between = e.latency_us.mean - mean;
            e.latency_us.stddev.powi(2) * (k - 1.0) + k * between * between
        })
        .sum();
    let stddev = if n > 1.0 {
        (squares.max(0.0) / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    // ln geo = Σ ln t / ops, so ops·ln geo gives back each input's Σ ln t.
    // geo is ≥ 1 whenever ops > 0; a non-positive one (not written by
    // shardslap) adds nothing rather than -inf.
    let ln_sum: f64 = live
        .iter()
        .filter(|(_, e)| e.latency_us.geo_mean > 0.0)
        .map(|(_, e)| weight(e) * e.latency_us.geo_mean.ln())
        .sum();
    let mut latency = LatencyUs {
        min,
        max,
        mean,
        stddev,
        geo_mean: (ln_sum / n).exp(),
        ..LatencyUs::default()
    };
    let (min_ns, max_ns) = (us_to_ns(min), us_to_ns(max));
    for p in &PERCENTILES {
        latency.set_percentile(p.key, hdr_percentile_us(hist, p.quantile, min_ns, max_ns));
    }
    latency
}

/// One `hdr` field to add: where it is, and the `ops` it must count.
#[derive(Debug)]
pub(crate) struct HdrPart<'a> {
    /// The input's label.
    pub file: &'a str,
    /// The field's place in the input, e.g. `totals.get.hdr`.
    pub at: String,
    /// The field's histogram, `None` if it was `null`.
    pub hdr: Option<&'a Histogram<u64>>,
    /// The `ops` beside it.
    pub ops: u64,
}

/// The sum of the `hdr` histograms of `parts`, into one with the report's
/// bounds.
pub(crate) fn sum_histograms<'a>(
    parts: impl IntoIterator<Item = HdrPart<'a>>,
) -> Result<Histogram<u64>, MergeError> {
    let mut hists = Vec::new();
    for HdrPart { file, at, hdr, ops } in parts {
        let Some(hist) = hdr else {
            return Err(MergeError::NoHdr {
                file: file.to_owned(),
                at,
            });
        };
        if hist.len() != ops {
            return Err(MergeError::Malformed {
                file: file.to_owned(),
                at,
                problem: format!("holds {} samples, but ops is {ops}", hist.len()),
            });
        }
        hists.push(hist);
    }
    // At the precision of the coarsest part (time-series points keep two
    // digits, totals three): finer parts coarsen exactly into it, while a
    // coarse part recorded into a finer histogram would move its values.
    let sigfig = hists.iter().map(|h| h.sigfig()).min().unwrap_or(HDR_SIGFIG);
    let mut sum = empty_histogram(sigfig);
    for hist in &hists {
        add_histogram(&mut sum, hist);
    }
    Ok(sum)
}

/// Element-wise sum, as long as the longest input.
fn sum_elementwise<'a>(arrays: impl Iterator<Item = &'a [u64]>) -> Vec<u64> {
    let mut sum: Vec<u64> = Vec::new();
    for array in arrays {
        if sum.len() < array.len() {
            sum.resize(array.len(), 0);
        }
        for (total, v) in sum.iter_mut().zip(array) {
            *total = total.saturating_add(*v);
        }
    }
    sum
}

/// A JSON µs value back in whole nanoseconds (the writer divides exact
/// nanoseconds by 1000, so this recovers them).
pub(crate) fn us_to_ns(us: f64) -> u64 {
    // `as` saturates, and maps NaN and negatives to 0.
    (us * 1000.0).round() as u64
}

pub(crate) use shardslap_schema::per_sec;
