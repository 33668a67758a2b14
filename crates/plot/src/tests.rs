//! End-to-end checks of the rendered SVG documents.

use crate::style::{series_colour, svg_hex, LineLook};
use crate::test_support::{sample_run, sample_sweep, SvgFacts};
use crate::{render_runs_svg, render_sweep_svg, PlotError, RunSeries, SweepSeries};

const RUN_AXES: [&str; 6] = [
    "percentile (%)",
    "latency (µs)",
    "time (s)",
    "throughput (ops/s)",
    "p99 latency (µs)",
    "shard",
];
const RUN_TITLES: [&str; 4] = [
    "Latency percentile spectrum",
    "Throughput over time",
    "p99 latency over time",
    "Ops per shard",
];

#[test]
fn one_run_has_titles_axes_ticks_and_legend() {
    let svg = render_runs_svg(&[sample_run("a.json", 1.0)]).unwrap();
    let facts = SvgFacts::parse(&svg);
    assert_eq!(facts.root, "svg");
    facts.assert_texts(&RUN_TITLES);
    facts.assert_texts(&RUN_AXES);
    facts.assert_texts(&["ops", "a.json", "a.json get", "a.json set", "a.json total"]);
    // The nines axis is labelled in percentiles.
    facts.assert_texts(&["0", "90", "99", "99.9", "99.99", "99.999"]);
    assert!(!facts.has_text("no data"));
}

#[test]
fn two_runs_overlay_in_distinct_colours() {
    let runs = [sample_run("a.json", 1.0), sample_run("b.json", 0.8)];
    let facts = SvgFacts::parse(&render_runs_svg(&runs).unwrap());
    facts.assert_texts(&[
        "a.json",
        "b.json",
        "a.json get",
        "b.json get",
        "b.json total",
    ]);
    let (a, b) = (svg_hex(series_colour(0)), svg_hex(series_colour(1)));
    assert_ne!(a, b);
    for colour in [&a, &b] {
        assert!(
            facts.strokes.contains(colour),
            "no line stroked {colour}: {:?}",
            facts.strokes
        );
        // Bars of each run are filled with its colour.
        assert!(facts.rect_fills.contains(colour), "no bar filled {colour}");
    }
    // Op types of one run differ in shade too.
    let get = svg_hex(LineLook::for_op("get", series_colour(1)).colour);
    let set = svg_hex(LineLook::for_op("set", series_colour(1)).colour);
    assert!(facts.strokes.contains(&get) && facts.strokes.contains(&set));
}

#[test]
fn missing_series_render_and_say_no_data() {
    let mut run = sample_run("solo.json", 1.0);
    run.throughput.clear();
    run.p99_us.clear();
    run.spectrum.retain(|s| s.op != "set");
    run.spectrum.push(crate::OpSpectrum {
        op: "set".into(),
        points: Vec::new(),
    });
    let facts = SvgFacts::parse(&render_runs_svg(&[run]).unwrap());
    facts.assert_texts(&["solo.json get", "solo.json total", "no data"]);
    facts.assert_texts(&RUN_TITLES);
    assert!(
        !facts.has_text("solo.json set"),
        "empty series got a legend entry"
    );
    // Throughput and p99 panels both have no data.
    assert_eq!(facts.texts.iter().filter(|t| *t == "no data").count(), 2);
}

#[test]
fn runs_with_only_some_panels_still_render() {
    let only_shards = RunSeries {
        label: "shards.json".into(),
        shard_ops: vec![5, 0, 7],
        ..RunSeries::default()
    };
    let mut full = sample_run("full.json", 1.0);
    full.shard_ops.clear();
    let facts = SvgFacts::parse(&render_runs_svg(&[full, only_shards]).unwrap());
    facts.assert_texts(&["shards.json", "full.json total", "0", "1", "2"]);
    assert!(!facts.has_text("no data"));

    let single_point = RunSeries {
        label: "one.json".into(),
        throughput: vec![(1.0, 100.0)],
        ..RunSeries::default()
    };
    let facts = SvgFacts::parse(&render_runs_svg(&[single_point]).unwrap());
    facts.assert_texts(&["one.json"]);
    assert_eq!(facts.texts.iter().filter(|t| *t == "no data").count(), 3);
}

#[test]
fn nothing_to_plot_is_an_error() {
    let err = render_runs_svg(&[]).unwrap_err();
    assert_eq!(err.to_string(), "nothing to plot: no runs given");
    let empty = RunSeries {
        label: "empty.json".into(),
        ..RunSeries::default()
    };
    assert!(matches!(
        render_runs_svg(&[empty]),
        Err(PlotError::NothingToPlot { .. })
    ));
    assert!(matches!(
        render_sweep_svg(&[]),
        Err(PlotError::NothingToPlot { .. })
    ));
}

#[test]
fn nan_is_refused_with_a_clear_error() {
    let mut run = sample_run("a.json", 1.0);
    run.throughput[3].1 = f64::NAN;
    let err = render_runs_svg(&[run]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "throughput.ops_per_s = NaN in series \"a.json\" is invalid: it must be a finite number >= 0"
    );
    let mut sweep = sample_sweep("s", 100_000.0);
    sweep.steps[1].ops_per_cpu_s = f64::NAN;
    let err = render_sweep_svg(&[sweep]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ops_per_cpu_s = NaN in series \"s\" is invalid: it must be a finite number >= 0"
    );
}

#[test]
fn sweep_has_curve_linear_reference_and_efficiency() {
    let facts =
        SvgFacts::parse(&render_sweep_svg(&[sample_sweep("sweep.json", 150_000.0)]).unwrap());
    assert_eq!(facts.root, "svg");
    facts.assert_texts(&[
        "Scaling: throughput vs cores",
        "Client efficiency vs cores",
        "cores",
        "throughput (ops/s)",
        "ops per client CPU-second",
        "sweep.json",
        "linear",
        "1",
        "8",
    ]);
    let colour = svg_hex(series_colour(0));
    let reference = svg_hex(LineLook::reference(series_colour(0)).colour);
    assert!(facts.strokes.contains(&colour) && facts.strokes.contains(&reference));
}

#[test]
fn several_sweeps_name_their_references() {
    let sweeps = [
        sample_sweep("old", 100_000.0),
        sample_sweep("new", 150_000.0),
        SweepSeries {
            label: "empty".into(),
            steps: Vec::new(),
        },
    ];
    let facts = SvgFacts::parse(&render_sweep_svg(&sweeps).unwrap());
    facts.assert_texts(&["old", "new", "old linear", "new linear"]);
    assert!(!facts.has_text("empty"));
    assert!(facts.strokes.contains(&svg_hex(series_colour(1))));
}

#[test]
fn labels_with_markup_characters_are_escaped() {
    let run = sample_run("<a&b>.json", 1.0);
    let facts = SvgFacts::parse(&render_runs_svg(&[run]).unwrap());
    facts.assert_texts(&["<a&b>.json", "<a&b>.json get"]);
}

/// Writes sample pictures for a human to look at:
/// `cargo test -p shardslap-plot -- --ignored write_samples`.
#[test]
#[ignore = "writes /tmp/plot-*sample.svg"]
fn write_samples() {
    let runs = [sample_run("a.json", 1.0), sample_run("b.json", 0.8)];
    std::fs::write("/tmp/plot-sample.svg", render_runs_svg(&runs).unwrap()).unwrap();
    let sweeps = [
        sample_sweep("sweep-a.json", 150_000.0),
        sample_sweep("sweep-b.json", 110_000.0),
    ];
    std::fs::write(
        "/tmp/plot-sweep-sample.svg",
        render_sweep_svg(&sweeps).unwrap(),
    )
    .unwrap();
    let one = [sample_sweep("sweep.json", 150_000.0)];
    std::fs::write(
        "/tmp/plot-sweep1-sample.svg",
        render_sweep_svg(&one).unwrap(),
    )
    .unwrap();
    // Sparse: no time series, no SET ops, many shards, one zero latency.
    let mut sparse = sample_run("sparse.json", 1.0);
    sparse.throughput.clear();
    sparse.p99_us.clear();
    sparse.spectrum.retain(|s| s.op != "set");
    sparse.spectrum[0]
        .points
        .retain(|p| p.percentile <= 99.99 || p.percentile == 100.0);
    sparse.spectrum[0].points[0].latency_us = 0.0;
    sparse.shard_ops = (0..64).map(|s| 10_000 + s * 100).collect();
    let svg = render_runs_svg(&[sparse]).unwrap();
    std::fs::write("/tmp/plot-sparse-sample.svg", svg).unwrap();
}
