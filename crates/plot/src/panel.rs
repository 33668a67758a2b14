//! Pieces every panel shares: the chart frame (title, axes, grid), a
//! labelled line with its legend entry, the legend box, and the "no data"
//! placeholder.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::style::{LineLook, DESC_SIZE, FONT, LABEL_SIZE, TITLE_SIZE};
use crate::PlotError;

/// The drawing area of one panel.
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// A panel's chart: both axes are `f64` with explicit tick positions.
pub(crate) type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;

/// A linear `f64` axis whose ticks the caller chooses. (Plotters'
/// `with_key_points` wrapper loses the `f64` label formatter, so the mesh
/// cannot be drawn with it.)
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    range: Range<f64>,
    ticks: Vec<f64>,
    light_ticks: Vec<f64>,
}

impl Ranged for Axis {
    // Labels always come from the caller's formatter; this only satisfies
    // the mesh's bound.
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span <= 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let fraction = (value - self.range.start) / span;
        let pixels = f64::from(limit.1 - limit.0) * fraction;
        limit.0 + pixels.round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let ticks = if hint.weight().allow_light_points() {
            &self.light_ticks
        } else {
            &self.ticks
        };
        ticks
            .iter()
            .copied()
            .filter(|t| self.range.start - 1e-9 <= *t && *t <= self.range.end + 1e-9)
            .collect()
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// Space around each panel's chart, in pixels.
const MARGIN_PX: i32 = 12;
/// Right margin: room for the last x tick label, which is centred on the edge.
const MARGIN_RIGHT_PX: i32 = 28;
/// Height of the x tick labels and description below the plot.
const X_LABEL_AREA_PX: i32 = 48;
/// Width of the y tick labels and description left of the plot.
const Y_LABEL_AREA_PX: i32 = 64;

/// Shown instead of a chart when a panel has nothing to draw.
pub(crate) const NO_DATA: &str = "no data";

/// One axis: its range, labelled ticks, grid-only ticks, description and
/// tick label formatter.
pub(crate) struct AxisSpec<'f> {
    /// Data range shown, in the (possibly transformed) plotted units.
    pub range: Range<f64>,
    /// Labelled ticks with bold grid lines.
    pub ticks: Vec<f64>,
    /// Unlabelled ticks with light grid lines.
    pub light_ticks: Vec<f64>,
    /// Axis description, with units: "time (s)".
    pub desc: &'static str,
    /// Tick label of a plotted value.
    pub label: &'f dyn Fn(&f64) -> String,
}

impl std::fmt::Debug for AxisSpec<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AxisSpec")
            .field("range", &self.range)
            .field("desc", &self.desc)
            .finish_non_exhaustive()
    }
}

impl<'f> AxisSpec<'f> {
    /// A linear axis with about `count` evenly spaced, rounded ticks.
    pub(crate) fn linear(
        range: Range<f64>,
        count: usize,
        desc: &'static str,
        label: &'f dyn Fn(&f64) -> String,
    ) -> Self {
        let ticks = nice_ticks(&range, count);
        AxisSpec {
            range,
            ticks,
            light_ticks: Vec::new(),
            desc,
            label,
        }
    }

    fn into_axis(self) -> Axis {
        Axis {
            range: self.range,
            ticks: self.ticks,
            light_ticks: self.light_ticks,
        }
    }
}

/// Builds a titled chart on `area` and draws its axes, ticks and grid.
pub(crate) fn chart<'a, 'b>(
    area: &'a Area<'b>,
    title: &str,
    x: AxisSpec<'_>,
    y: AxisSpec<'_>,
) -> Result<Chart<'a, 'b>, PlotError> {
    let (x_desc, y_desc) = (x.desc, y.desc);
    let (x_label, y_label) = (x.label, y.label);
    let (x_axis, y_axis) = (x.into_axis(), y.into_axis());
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, TITLE_SIZE))
        .margin(MARGIN_PX)
        .margin_right(MARGIN_RIGHT_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(Y_LABEL_AREA_PX)
        .build_cartesian_2d(x_axis, y_axis)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style((FONT, DESC_SIZE))
        .label_style((FONT, LABEL_SIZE))
        .x_label_formatter(x_label)
        .y_label_formatter(y_label)
        .bold_line_style(RGBColor(200, 200, 200))
        .light_line_style(RGBColor(236, 236, 236))
        .draw()?;
    Ok(chart)
}

/// Draws `points` as one line in `look`, with legend entry `label`, and
/// dots on the points when there are few (a single point shows as a dot).
pub(crate) fn line(
    chart: &mut Chart<'_, '_>,
    points: &[(f64, f64)],
    look: LineLook,
    label: &str,
    dots: bool,
) -> Result<(), PlotError> {
    let style = look.shape();
    let series = match look.dash_px {
        None => chart.draw_series(LineSeries::new(points.iter().copied(), style))?,
        Some((dash_px, gap_px)) => chart.draw_series(DashedLineSeries::new(
            points.iter().copied(),
            dash_px,
            gap_px,
            style,
        ))?,
    };
    series.label(label);
    match look.dash_px {
        None => series.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style)),
        Some((dash_px, gap_px)) => series.legend(move |(x, y)| {
            DashedPathElement::new(vec![(x, y), (x + 24, y)], dash_px, gap_px, style)
        }),
    };
    if dots {
        let fill = style.filled();
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, fill)))?;
    }
    Ok(())
}

/// Draws the legend box of the series drawn so far.
pub(crate) fn legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    position: SeriesLabelPosition,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, LABEL_SIZE))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .legend_area_size(30)
        .margin(8)
        .draw()?;
    Ok(())
}

/// A panel with its title, an empty frame where the plot would be, and
/// "no data" in the middle of it.
pub(crate) fn no_data(area: &Area<'_>, title: &str) -> Result<(), PlotError> {
    // Same margins, caption and label areas as `chart`, so the frame lines
    // up with the plotting areas of the neighbouring panels.
    let inner = area
        .margin(MARGIN_PX, MARGIN_PX, MARGIN_PX, MARGIN_RIGHT_PX)
        .titled(title, (FONT, TITLE_SIZE))?;
    let (w, h) = inner.dim_in_pixel();
    let (left, bottom) = (Y_LABEL_AREA_PX, h as i32 - X_LABEL_AREA_PX);
    let right = w as i32 - 1;
    inner.draw(&Rectangle::new(
        [(left, 0), (right, bottom)],
        RGBColor(200, 200, 200),
    ))?;
    let style = TextStyle::from((FONT, DESC_SIZE).into_font())
        .color(&RGBColor(120, 120, 120))
        .pos(Pos::new(HPos::Center, VPos::Center));
    let centre = ((left + right) / 2, bottom / 2);
    inner.draw(&Text::new(NO_DATA, centre, style))?;
    Ok(())
}

/// About `count` ticks at round steps (1, 2, 2.5 or 5 × 10^k) inside `range`.
fn nice_ticks(range: &Range<f64>, count: usize) -> Vec<f64> {
    let span = range.end - range.start;
    if span <= 0.0 || !span.is_finite() || count == 0 {
        return vec![range.start];
    }
    let raw = span / count as f64;
    let magnitude = 10.0_f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (range.start / step).ceil() as i64;
    let last = (range.end / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_are_round() {
        assert_eq!(nice_ticks(&(0.0..10.0), 5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            nice_ticks(&(0.0..125_000.0), 6),
            [0.0, 25e3, 50e3, 75e3, 100e3, 125e3]
        );
        assert_eq!(nice_ticks(&(0.0..0.0), 5), [0.0]);
    }
}
