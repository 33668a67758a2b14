//! Test helpers: synthetic runs and sweeps, and what a rendered SVG holds.

use crate::scale::nines;
use crate::{OpSpectrum, RunSeries, SpectrumPoint, SweepPoint, SweepSeries};

const PERCENTILES: [f64; 20] = [
    0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 97.5, 99.0, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995,
    99.999, 99.9995, 99.9999, 99.99995, 100.0,
];

/// A spectrum that grows with the nines, like a real latency tail.
fn spectrum(op: &str, base_us: f64) -> OpSpectrum {
    let points = PERCENTILES
        .iter()
        .map(|&percentile| {
            let x = nines(percentile).min(7.0);
            SpectrumPoint {
                percentile,
                latency_us: base_us * (1.0 + 0.35 * x * x),
            }
        })
        .collect();
    OpSpectrum {
        op: op.to_owned(),
        points,
    }
}

/// A full run; `scale` (around 1) shifts its numbers so runs differ.
pub(crate) fn sample_run(label: &str, scale: f64) -> RunSeries {
    let throughput = (1..=30)
        .map(|t| {
            let t = f64::from(t);
            (t, 120_000.0 * scale * (1.0 + 0.04 * (t * 0.9).sin()))
        })
        .collect();
    let p99_us = (1..=30)
        .map(|t| {
            let spike = if t % 11 == 0 { 900.0 } else { 0.0 };
            (
                f64::from(t),
                420.0 / scale + 30.0 * (f64::from(t) * 0.7).cos() + spike,
            )
        })
        .collect();
    RunSeries {
        label: label.to_owned(),
        spectrum: vec![
            spectrum("get", 70.0 / scale),
            spectrum("set", 85.0 / scale),
            spectrum("total", 72.0 / scale),
        ],
        throughput,
        p99_us,
        shard_ops: (0..4)
            .map(|s| (900_000.0 * scale) as u64 + s * 15_000)
            .collect(),
    }
}

/// A sweep over 1, 2, 4, 8 cores that scales sub-linearly.
pub(crate) fn sample_sweep(label: &str, per_core_ops_per_s: f64) -> SweepSeries {
    let steps = [1_usize, 2, 4, 8]
        .into_iter()
        .map(|cores| {
            let c = cores as f64;
            SweepPoint {
                cores,
                ops_per_s: per_core_ops_per_s * c * (1.0 - 0.04 * (c - 1.0)),
                ops_per_cpu_s: per_core_ops_per_s * 1.6 * (1.0 - 0.05 * (c - 1.0)),
            }
        })
        .collect();
    SweepSeries {
        label: label.to_owned(),
        steps,
    }
}

/// The parts of a rendered SVG the tests look at.
#[derive(Debug)]
pub(crate) struct SvgFacts {
    /// Name of the root element.
    pub root: String,
    /// The trimmed content of every `<text>` element.
    pub texts: Vec<String>,
    /// The `stroke` of every `<polyline>` (lines, dashes, grid).
    pub strokes: Vec<String>,
    /// The `fill` of every `<rect>` (bars, legend swatches, background).
    pub rect_fills: Vec<String>,
}

impl SvgFacts {
    /// Parses `svg` as XML; panics if it is not well formed.
    pub(crate) fn parse(svg: &str) -> Self {
        let doc = roxmltree::Document::parse(svg).unwrap();
        let root = doc.root_element().tag_name().name().to_owned();
        let mut facts = SvgFacts {
            root,
            texts: Vec::new(),
            strokes: Vec::new(),
            rect_fills: Vec::new(),
        };
        for node in doc.descendants().filter(|n| n.is_element()) {
            match node.tag_name().name() {
                "text" => {
                    let text: String = node
                        .descendants()
                        .filter(|n| n.is_text())
                        .filter_map(|n| n.text())
                        .collect::<Vec<_>>()
                        .concat();
                    facts.texts.push(text.trim().to_owned());
                }
                "polyline" => {
                    if let Some(stroke) = node.attribute("stroke") {
                        facts.strokes.push(stroke.to_owned());
                    }
                }
                "rect" => {
                    if let Some(fill) = node.attribute("fill") {
                        facts.rect_fills.push(fill.to_owned());
                    }
                }
                _ => {}
            }
        }
        facts
    }

    /// Whether some `<text>` is exactly `want`.
    pub(crate) fn has_text(&self, want: &str) -> bool {
        self.texts.iter().any(|t| t == want)
    }

    /// Panics naming the missing texts.
    pub(crate) fn assert_texts(&self, wants: &[&str]) {
        let missing: Vec<&&str> = wants.iter().filter(|w| !self.has_text(w)).collect();
        assert!(
            missing.is_empty(),
            "missing texts {missing:?} in {:?}",
            self.texts
        );
    }
}
