//! `render_runs_svg`: the four-panel picture of one or more result files
//! (latency spectrum, throughput and p99 over time, ops per shard).

use plotters::prelude::*;

use crate::input::{validate_runs, RunSeries};
use crate::panel::{self, Area, AxisSpec};
use crate::scale::{self, DecadeAxis, NinesAxis};
use crate::style::{series_colour, LineLook};
use crate::PlotError;

/// Size of the whole picture in pixels (four 600×450 panels).
const SIZE_PX: (u32, u32) = (1200, 900);
/// Time series with at most this many points get a dot on each point.
const MAX_DOTTED_POINTS: usize = 60;

/// Renders `runs` as one SVG document with four panels: the latency
/// percentile spectrum (per run and op type), throughput over time, p99
/// latency over time (per run), and total ops per shard (bars, per run).
///
/// Each run gets its own colour; in the spectrum, op types differ by dash
/// pattern and shade. Empty series are skipped, and a panel with nothing to
/// draw says "no data".
///
/// # Errors
///
/// [`PlotError::NothingToPlot`] if `runs` is empty or holds no data at all,
/// [`PlotError::InvalidValue`] for NaN, infinite or out-of-range values
/// (negative latency, percentile outside 0..=100), and [`PlotError::Draw`]
/// if plotters fails.
pub fn render_runs_svg(runs: &[RunSeries]) -> Result<String, PlotError> {
    validate_runs(runs)?;
    let has_data = runs.iter().any(|r| {
        r.spectrum.iter().any(|s| !s.points.is_empty())
            || !r.throughput.is_empty()
            || !r.p99_us.is_empty()
            || !r.shard_ops.is_empty()
    });
    if !has_data {
        return Err(PlotError::NothingToPlot {
            what: "every run is empty (no spectrum, time series or shard ops)",
        });
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE_PX).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((2, 2));
        spectrum(&panels[0], runs)?;
        over_time(
            &panels[1],
            "Throughput over time",
            "throughput (ops/s)",
            runs,
            |r| &r.throughput,
        )?;
        over_time(
            &panels[2],
            "p99 latency over time",
            "p99 latency (µs)",
            runs,
            |r| &r.p99_us,
        )?;
        shard_ops(&panels[3], runs)?;
        root.present()?;
    }
    Ok(svg)
}

/// Panel 1: latency against percentile, one line per (run, op type).
fn spectrum(area: &Area<'_>, runs: &[RunSeries]) -> Result<(), PlotError> {
    const TITLE: &str = "Latency percentile spectrum";
    let all_points = || {
        runs.iter()
            .flat_map(|r| &r.spectrum)
            .flat_map(|s| &s.points)
    };
    if all_points().next().is_none() {
        return panel::no_data(area, TITLE);
    }
    let x_axis = NinesAxis::fit(all_points().map(|p| p.percentile));
    let y_axis = DecadeAxis::fit(all_points().map(|p| p.latency_us));
    let x_label = |x: &f64| scale::nines_label(*x);
    let y_label = |y: &f64| scale::decade_label(*y);
    let mut chart = panel::chart(
        area,
        TITLE,
        AxisSpec {
            range: x_axis.range(),
            ticks: x_axis.ticks(),
            light_ticks: x_axis.light_ticks(),
            desc: "percentile (%)",
            label: &x_label,
        },
        AxisSpec {
            range: y_axis.range(),
            ticks: y_axis.ticks(),
            light_ticks: y_axis.light_ticks(),
            desc: "latency (µs)",
            label: &y_label,
        },
    )?;
    for (index, run) in runs.iter().enumerate() {
        let colour = series_colour(index);
        for op in run.spectrum.iter().filter(|s| !s.points.is_empty()) {
            let mut sorted = op.points.clone();
            sorted.sort_by(|a, b| a.percentile.total_cmp(&b.percentile));
            let mut points: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
            for p in &sorted {
                let last_x = points.last().map(|&(x, _)| x);
                points.push((x_axis.x(p.percentile, last_x), y_axis.y(p.latency_us)));
            }
            let look = LineLook::for_op(&op.op, colour);
            let label = format!("{} {}", run.label, op.op);
            panel::line(&mut chart, &points, look, &label, points.len() == 1)?;
        }
    }
    panel::legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// Panels 2 and 3: one `(t_s, value)` series per run against time.
fn over_time(
    area: &Area<'_>,
    title: &str,
    y_desc: &'static str,
    runs: &[RunSeries],
    series: impl Fn(&RunSeries) -> &Vec<(f64, f64)>,
) -> Result<(), PlotError> {
    let all = || runs.iter().flat_map(|r| series(r).iter());
    if all().next().is_none() {
        return panel::no_data(area, title);
    }
    let (mut min_t_s, mut max_t_s, mut max_value) = (f64::INFINITY, f64::NEG_INFINITY, 0.0_f64);
    for &(t_s, value) in all() {
        min_t_s = min_t_s.min(t_s);
        max_t_s = max_t_s.max(t_s);
        max_value = max_value.max(value);
    }
    let label = |v: &f64| scale::compact(*v);
    let mut chart = panel::chart(
        area,
        title,
        AxisSpec::linear(scale::time_range(min_t_s, max_t_s), 8, "time (s)", &label),
        AxisSpec::linear(scale::zero_based(max_value, 1.3), 6, y_desc, &label),
    )?;
    for (index, run) in runs.iter().enumerate() {
        let points = series(run);
        if points.is_empty() {
            continue;
        }
        let mut sorted = points.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let look = LineLook::solid(series_colour(index));
        let dots = sorted.len() <= MAX_DOTTED_POINTS;
        panel::line(&mut chart, &sorted, look, &run.label, dots)?;
    }
    panel::legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Panel 4: total ops per shard, runs side by side within each shard.
fn shard_ops(area: &Area<'_>, runs: &[RunSeries]) -> Result<(), PlotError> {
    const TITLE: &str = "Ops per shard";
    let shards = runs.iter().map(|r| r.shard_ops.len()).max().unwrap_or(0);
    if shards == 0 {
        return panel::no_data(area, TITLE);
    }
    let max_ops = runs
        .iter()
        .flat_map(|r| &r.shard_ops)
        .copied()
        .max()
        .unwrap_or(0);
    let x_label = |x: &f64| format!("{}", x.round() as i64);
    let y_label = |v: &f64| scale::compact(*v);
    let mut chart = panel::chart(
        area,
        TITLE,
        AxisSpec {
            range: -0.5..shards as f64 - 0.5,
            ticks: scale::integer_ticks(0, shards as u64 - 1),
            light_ticks: Vec::new(),
            desc: "shard",
            label: &x_label,
        },
        AxisSpec::linear(scale::zero_based(max_ops as f64, 1.3), 6, "ops", &y_label),
    )?;
    let drawn: Vec<(usize, &RunSeries)> = runs
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.shard_ops.is_empty())
        .collect();
    // Each shard's slot is 0.8 wide, split evenly among the runs that have
    // shard data, so bars of different runs never overlap.
    let bar_width = 0.8 / drawn.len() as f64;
    for (slot, &(index, run)) in drawn.iter().enumerate() {
        let colour = series_colour(index);
        let offset = -0.4 + slot as f64 * bar_width;
        let bars = run.shard_ops.iter().enumerate().map(move |(shard, &ops)| {
            let left = shard as f64 + offset;
            Rectangle::new(
                [(left, 0.0), (left + bar_width, ops as f64)],
                colour.filled(),
            )
        });
        chart
            .draw_series(bars)?
            .label(run.label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], colour.filled()));
    }
    panel::legend(&mut chart, SeriesLabelPosition::UpperRight)
}
