//! The plain series data the renderers take, and its validation.
//!
//! The CLI converts result files into these types; this crate never reads
//! files. Validation runs before any drawing, so a bad value is reported
//! with its series and field instead of producing a broken picture.

use crate::PlotError;

/// One result file, ready to plot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSeries {
    /// Legend name of the run, e.g. the result file's name.
    pub label: String,
    /// Latency percentile spectrum, one entry per op type. Entries without
    /// points are skipped.
    pub spectrum: Vec<OpSpectrum>,
    /// Throughput over time: `(t_s, ops_per_s)`, seconds since the start of
    /// the run and ops per second over the interval ending there.
    pub throughput: Vec<(f64, f64)>,
    /// Total p99 latency over time: `(t_s, p99_us)` in seconds and
    /// microseconds.
    pub p99_us: Vec<(f64, f64)>,
    /// Total ops completed by each shard, in shard order.
    pub shard_ops: Vec<u64>,
}

/// The latency percentile spectrum of one op type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpSpectrum {
    /// Op type shown in the legend: "get", "set" or "total" (others are
    /// drawn as thin solid lines).
    pub op: String,
    /// Points in any order; they are sorted by percentile before drawing.
    pub points: Vec<SpectrumPoint>,
}

/// One point of a percentile spectrum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpectrumPoint {
    /// Percentile in `0..=100` (100 is the maximum).
    pub percentile: f64,
    /// Latency at that percentile, in microseconds (>= 0).
    pub latency_us: f64,
}

/// One scaling sweep: the same workload run at several core counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepSeries {
    /// Legend name of the sweep.
    pub label: String,
    /// One point per core count, in any order.
    pub steps: Vec<SweepPoint>,
}

/// The result of one sweep step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SweepPoint {
    /// Cores (shards) the load generator used (>= 1).
    pub cores: usize,
    /// Throughput in ops per second.
    pub ops_per_s: f64,
    /// Ops per CPU-second the client itself used (efficiency).
    pub ops_per_cpu_s: f64,
}

const FINITE: &str = "a finite number";
const FINITE_NON_NEG: &str = "a finite number >= 0";

/// Refuses NaN, infinities and negative values where they make no sense.
pub(crate) fn validate_runs(runs: &[RunSeries]) -> Result<(), PlotError> {
    if runs.is_empty() {
        return Err(PlotError::NothingToPlot {
            what: "no runs given",
        });
    }
    for run in runs {
        for spec in &run.spectrum {
            for p in &spec.points {
                let field = || format!("spectrum[{}].percentile", spec.op);
                check(&run.label, field, p.percentile, FINITE_NON_NEG)?;
                if p.percentile > 100.0 {
                    return Err(invalid(&run.label, field(), p.percentile, "in 0..=100"));
                }
                let field = || format!("spectrum[{}].latency_us", spec.op);
                check(&run.label, field, p.latency_us, FINITE_NON_NEG)?;
            }
        }
        for &(t_s, ops_per_s) in &run.throughput {
            check(&run.label, || "throughput.t_s".into(), t_s, FINITE)?;
            let field = || "throughput.ops_per_s".into();
            check(&run.label, field, ops_per_s, FINITE_NON_NEG)?;
        }
        for &(t_s, p99_us) in &run.p99_us {
            check(&run.label, || "p99_us.t_s".into(), t_s, FINITE)?;
            check(&run.label, || "p99_us".into(), p99_us, FINITE_NON_NEG)?;
        }
    }
    Ok(())
}

/// Refuses zero cores, NaN, infinities and negative rates.
pub(crate) fn validate_sweeps(sweeps: &[SweepSeries]) -> Result<(), PlotError> {
    if sweeps.is_empty() {
        return Err(PlotError::NothingToPlot {
            what: "no sweeps given",
        });
    }
    for sweep in sweeps {
        for step in &sweep.steps {
            if step.cores == 0 {
                return Err(invalid(&sweep.label, "cores".into(), 0.0, "at least 1"));
            }
            let field = || "ops_per_s".into();
            check(&sweep.label, field, step.ops_per_s, FINITE_NON_NEG)?;
            let field = || "ops_per_cpu_s".into();
            check(&sweep.label, field, step.ops_per_cpu_s, FINITE_NON_NEG)?;
        }
    }
    if sweeps.iter().all(|s| s.steps.is_empty()) {
        return Err(PlotError::NothingToPlot {
            what: "every sweep has no steps",
        });
    }
    Ok(())
}

/// Checks `value` is finite (and `>= 0` when `need` says so); builds the
/// field name only on failure.
fn check(
    series: &str,
    field: impl FnOnce() -> String,
    value: f64,
    need: &'static str,
) -> Result<(), PlotError> {
    let ok = value.is_finite() && (need == FINITE || value >= 0.0);
    if ok {
        Ok(())
    } else {
        Err(invalid(series, field(), value, need))
    }
}

fn invalid(series: &str, field: String, value: f64, need: &'static str) -> PlotError {
    PlotError::InvalidValue {
        series: series.to_owned(),
        field,
        value,
        need,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with_point(percentile: f64, latency_us: f64) -> RunSeries {
        RunSeries {
            label: "a.json".into(),
            spectrum: vec![OpSpectrum {
                op: "get".into(),
                points: vec![SpectrumPoint {
                    percentile,
                    latency_us,
                }],
            }],
            ..RunSeries::default()
        }
    }

    #[test]
    fn bad_values_name_series_field_and_value() {
        let cases = [
            (
                run_with_point(50.0, f64::NAN),
                "spectrum[get].latency_us = NaN in series \"a.json\" is invalid: it must be a finite number >= 0",
            ),
            (
                run_with_point(101.0, 5.0),
                "spectrum[get].percentile = 101 in series \"a.json\" is invalid: it must be in 0..=100",
            ),
            (
                run_with_point(-1.0, 5.0),
                "spectrum[get].percentile = -1 in series \"a.json\" is invalid: it must be a finite number >= 0",
            ),
            (
                RunSeries {
                    label: "b".into(),
                    throughput: vec![(f64::INFINITY, 1.0)],
                    ..RunSeries::default()
                },
                "throughput.t_s = inf in series \"b\" is invalid: it must be a finite number",
            ),
            (
                RunSeries {
                    label: "b".into(),
                    p99_us: vec![(1.0, -3.0)],
                    ..RunSeries::default()
                },
                "p99_us = -3 in series \"b\" is invalid: it must be a finite number >= 0",
            ),
        ];
        for (run, want) in cases {
            let err = validate_runs(&[run]).unwrap_err();
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn good_run_passes() {
        assert!(validate_runs(&[run_with_point(100.0, 0.0)]).is_ok());
    }

    #[test]
    fn sweeps_refuse_zero_cores_nan_and_nothing() {
        let sweep = |cores, ops_per_s| SweepSeries {
            label: "s".into(),
            steps: vec![SweepPoint {
                cores,
                ops_per_s,
                ops_per_cpu_s: 1.0,
            }],
        };
        let err = validate_sweeps(&[sweep(0, 1.0)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cores = 0 in series \"s\" is invalid: it must be at least 1"
        );
        let err = validate_sweeps(&[sweep(1, f64::NAN)]).unwrap_err();
        assert!(err.to_string().starts_with("ops_per_s = NaN"), "{err}");
        let err = validate_sweeps(&[]).unwrap_err();
        assert_eq!(err.to_string(), "nothing to plot: no sweeps given");
        let empty = SweepSeries {
            label: "e".into(),
            steps: vec![],
        };
        assert!(matches!(
            validate_sweeps(&[empty]),
            Err(PlotError::NothingToPlot { .. })
        ));
    }
}
