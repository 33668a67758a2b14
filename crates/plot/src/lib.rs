//! shardslap-plot: SVG plots of benchmark results.
//!
//! Pure rendering: it takes plain series ([`RunSeries`], [`SweepSeries`]),
//! which the CLI builds from result files (a run's latency spectrum with
//! [`percentile_spectrum`]), and returns a self-contained SVG document as a
//! `String`. No file I/O, no other shardslap crate.
//!
//! - [`render_runs_svg`]: latency percentile spectrum, throughput and p99
//!   over time, and ops per shard, for one or more runs overlaid.
//! - [`render_sweep_svg`]: throughput and client efficiency against cores.
//!
//! Text is written as SVG `<text>` elements in a generic `sans-serif` font
//! and laid out by the viewer; plotters' built-in size estimate (no font
//! files, no `ttf`/`ab_glyph` feature) is only used to place labels.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
mod input;
mod panel;
mod runs;
mod scale;
pub mod spectrum;
mod style;
mod sweep;

pub use error::PlotError;
pub use input::{OpSpectrum, RunSeries, SpectrumPoint, SweepPoint, SweepSeries};
pub use runs::render_runs_svg;
pub use spectrum::{nines, percentile_spectrum};
pub use sweep::render_sweep_svg;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
