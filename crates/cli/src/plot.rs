//! `shardslap plot RESULT.json [MORE.json…] -o FILE.svg`: one self-contained SVG of run results
//! (latency spectrum, throughput and p99 over time, ops per shard; several files overlay) or
//! of sweeps (the scaling curve against linear).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Parser;
use shardslap_merge::{load_any, AnyResult};
use shardslap_plot::{
    percentile_spectrum, render_runs_svg, render_sweep_svg, OpSpectrum, RunSeries, SweepPoint,
    SweepSeries,
};
use shardslap_schema::{OpName, ResultFile, SweepFile};

use crate::output::{label, write_output};

/// Arguments of `shardslap plot`.
#[derive(Debug, Parser)]
#[command(
    about = "Plot results as one SVG: run results (latency percentile spectrum, throughput and \
             p99 over time, ops per shard; several files overlay) or sweeps (scaling vs linear)",
    after_help = "Examples:\n  shardslap plot run.json -o run.svg\n  \
                  shardslap plot before.json after.json -o compare.svg\n  \
                  shardslap plot sweep.json -o scaling.svg"
)]
pub struct PlotArgs {
    /// Result files (`--json`, `merge`) or sweep files (`sweep`); not both kinds at once.
    #[arg(required = true, value_name = "RESULT.json")]
    files: Vec<PathBuf>,
    /// Where to write the SVG ('-' = stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE.svg")]
    output: PathBuf,
}

/// Loads every file, renders and writes the SVG.
pub fn main(args: PlotArgs) -> anyhow::Result<ExitCode> {
    let (mut runs, mut sweeps) = (Vec::new(), Vec::new());
    for path in &args.files {
        match load_any(path)? {
            AnyResult::Run(run) => runs.push(run_series(label(path), &run)?),
            AnyResult::Sweep(sweep) => sweeps.push(sweep_series(label(path), &sweep)),
        }
    }
    let svg = match (runs.is_empty(), sweeps.is_empty()) {
        (false, true) => render_runs_svg(&runs)?,
        (true, false) => render_sweep_svg(&sweeps)?,
        _ => bail!("cannot plot run results and sweeps together: plot them separately"),
    };
    write_output(&args.output, &svg)?;
    Ok(ExitCode::SUCCESS)
}

/// What the run plot shows of one result file.
fn run_series(label: String, run: &ResultFile) -> anyhow::Result<RunSeries> {
    let mut spectrum = Vec::with_capacity(OpName::ALL.len());
    for op in OpName::ALL {
        if run.totals.op(op).ops == 0 {
            continue;
        }
        let Some(hist) = run.op_hdr(op) else {
            bail!("{label}: totals.{op}.hdr is null, so its latency spectrum cannot be drawn");
        };
        let points = percentile_spectrum(hist);
        spectrum.push(OpSpectrum {
            op: op.key().to_owned(),
            points,
        });
    }
    Ok(RunSeries {
        label,
        spectrum,
        // Without a partial tail: its rate and p99 are those of the last few requests.
        throughput: run
            .full_periods()
            .iter()
            .map(|p| (p.t_s, p.total.tps))
            .collect(),
        p99_us: run
            .full_periods()
            .iter()
            .map(|p| (p.t_s, p.total.p99_us))
            .collect(),
        shard_ops: run.shards.iter().map(|s| s.totals.total.ops).collect(),
    })
}

/// What the sweep plot shows of one sweep file.
fn sweep_series(label: String, sweep: &SweepFile) -> SweepSeries {
    SweepSeries {
        label,
        steps: sweep
            .steps
            .iter()
            .map(|s| SweepPoint {
                cores: s.cores.len(),
                ops_per_s: s.ops_per_s,
                ops_per_cpu_s: s.ops_per_cpu_s,
            })
            .collect(),
    }
}
