//! The crate's one error type: input the plotter refuses, and failures
//! reported by the plotters drawing backend.

/// Why an SVG could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// There is no series with any point in it (no runs or sweeps at all, or
    /// all of them empty).
    #[error("nothing to plot: {what}")]
    NothingToPlot {
        /// What was missing, e.g. "no runs given".
        what: &'static str,
    },
    /// A value is NaN, infinite or outside its range.
    #[error("{field} = {value} in series \"{series}\" is invalid: it must be {need}")]
    InvalidValue {
        /// Label of the run or sweep that holds the value.
        series: String,
        /// Which field, e.g. "latency_us" or "spectrum[get].percentile".
        field: String,
        /// The offending value.
        value: f64,
        /// What the value must be, e.g. "a finite number >= 0".
        need: &'static str,
    },
    /// The plotters backend failed while drawing.
    #[error("drawing the plot failed: {msg}")]
    Draw {
        /// The backend's message, on one line.
        msg: String,
    },
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for PlotError
{
    fn from(err: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        // Keep plotters' types out of the public API; messages stay on one line.
        let msg = err.to_string().replace('\n', " ");
        PlotError::Draw { msg }
    }
}
