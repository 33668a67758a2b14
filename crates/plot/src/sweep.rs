//! `render_sweep_svg`: the scaling curve of one or more sweeps (throughput
//! against cores, with a linear-scaling reference) and the client's
//! efficiency (ops per client CPU-second) against cores.

use plotters::prelude::*;

use crate::input::{validate_sweeps, SweepPoint, SweepSeries};
use crate::panel::{self, Area, AxisSpec};
use crate::scale;
use crate::style::{series_colour, LineLook};
use crate::PlotError;

/// Size of the whole picture in pixels (two 600×500 panels side by side).
const SIZE_PX: (u32, u32) = (1200, 500);
/// Legend name of the reference line when there is a single sweep.
const LINEAR: &str = "linear";

/// Renders `sweeps` as one SVG document with two panels: throughput (ops/s)
/// against cores, with a dashed "linear" reference per sweep (the first
/// step's ops/s per core × cores), and ops per client CPU-second against
/// cores. Each sweep gets its own colour. With several sweeps the reference
/// lines are labelled "<label> linear".
///
/// # Errors
///
/// [`PlotError::NothingToPlot`] if `sweeps` is empty or no sweep has a step,
/// [`PlotError::InvalidValue`] for zero cores or NaN, infinite or negative
/// rates, and [`PlotError::Draw`] if plotters fails.
pub fn render_sweep_svg(sweeps: &[SweepSeries]) -> Result<String, PlotError> {
    validate_sweeps(sweeps)?;
    let sorted: Vec<(usize, &str, Vec<SweepPoint>)> = sweeps
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.steps.is_empty())
        .map(|(index, s)| {
            let mut steps = s.steps.clone();
            steps.sort_by_key(|p| p.cores);
            (index, s.label.as_str(), steps)
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE_PX).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 2));
        throughput(&panels[0], &sorted)?;
        efficiency(&panels[1], &sorted)?;
        root.present()?;
    }
    Ok(svg)
}

/// One non-empty sweep: its index (for the colour), label and steps sorted
/// by cores.
type Sorted<'s> = (usize, &'s str, Vec<SweepPoint>);

/// The cores axis: 0 to a little past the largest core count.
fn cores_axis<'f>(sweeps: &[Sorted<'_>], label: &'f dyn Fn(&f64) -> String) -> AxisSpec<'f> {
    let max_cores = sweeps
        .iter()
        .flat_map(|(_, _, steps)| steps.iter().map(|p| p.cores))
        .max()
        .unwrap_or(1) as u64;
    AxisSpec {
        range: 0.0..max_cores as f64 * 1.05 + 0.5,
        ticks: scale::integer_ticks(0, max_cores),
        light_ticks: Vec::new(),
        desc: "cores",
        label,
    }
}

/// Ops/s of perfect scaling from the first step: `ops_per_s / cores` of the
/// smallest step, times `cores`.
fn linear_reference(steps: &[SweepPoint]) -> Vec<(f64, f64)> {
    let Some(first) = steps.first() else {
        return Vec::new();
    };
    let per_core = first.ops_per_s / first.cores as f64;
    steps
        .iter()
        .map(|p| (p.cores as f64, per_core * p.cores as f64))
        .collect()
}

/// Panel 1: ops/s against cores, with the linear reference.
fn throughput(area: &Area<'_>, sweeps: &[Sorted<'_>]) -> Result<(), PlotError> {
    let max_ops = sweeps
        .iter()
        .flat_map(|(_, _, steps)| {
            let measured = steps.iter().map(|p| p.ops_per_s);
            measured.chain(linear_reference(steps).into_iter().map(|(_, ops)| ops))
        })
        .fold(0.0_f64, f64::max);
    let x_label = |x: &f64| format!("{}", x.round() as i64);
    let y_label = |v: &f64| scale::compact(*v);
    let mut chart = panel::chart(
        area,
        "Scaling: throughput vs cores",
        cores_axis(sweeps, &x_label),
        AxisSpec::linear(
            scale::zero_based(max_ops, 1.1),
            6,
            "throughput (ops/s)",
            &y_label,
        ),
    )?;
    for (index, label, steps) in sweeps {
        let colour = series_colour(*index);
        let points: Vec<(f64, f64)> = steps
            .iter()
            .map(|p| (p.cores as f64, p.ops_per_s))
            .collect();
        panel::line(&mut chart, &points, LineLook::solid(colour), label, true)?;
        let reference = linear_reference(steps);
        let name = if sweeps.len() == 1 {
            LINEAR.to_owned()
        } else {
            format!("{label} {LINEAR}")
        };
        panel::line(
            &mut chart,
            &reference,
            LineLook::reference(colour),
            &name,
            false,
        )?;
    }
    panel::legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// Panel 2: ops per client CPU-second against cores.
fn efficiency(area: &Area<'_>, sweeps: &[Sorted<'_>]) -> Result<(), PlotError> {
    let max_eff = sweeps
        .iter()
        .flat_map(|(_, _, steps)| steps.iter().map(|p| p.ops_per_cpu_s))
        .fold(0.0_f64, f64::max);
    let x_label = |x: &f64| format!("{}", x.round() as i64);
    let y_label = |v: &f64| scale::compact(*v);
    let mut chart = panel::chart(
        area,
        "Client efficiency vs cores",
        cores_axis(sweeps, &x_label),
        AxisSpec::linear(
            scale::zero_based(max_eff, 1.35),
            6,
            "ops per client CPU-second",
            &y_label,
        ),
    )?;
    for (index, label, steps) in sweeps {
        let points: Vec<(f64, f64)> = steps
            .iter()
            .map(|p| (p.cores as f64, p.ops_per_cpu_s))
            .collect();
        let look = LineLook::solid(series_colour(*index));
        panel::line(&mut chart, &points, look, label, true)?;
    }
    panel::legend(&mut chart, SeriesLabelPosition::UpperRight)
}
