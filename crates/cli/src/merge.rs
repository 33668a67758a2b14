//! `shardslap merge A.json B.json … -o MERGED.json`: runs made at the same time on several
//! hosts, merged exactly into one result of the same schema (with a `sources` list).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use shardslap_results::{load, merge};

use crate::output::{label, write_output};

/// Arguments of `shardslap merge`.
#[derive(Debug, Parser)]
#[command(
    about = "Merge results of runs made at the same time on several hosts into one (exact: \
             histograms added, counters summed, time series aligned on wall-clock time)",
    after_help = "Example:\n  shardslap merge host-a.json host-b.json -o merged.json"
)]
pub struct MergeArgs {
    /// Result files written by `shardslap --json` (or earlier merges).
    #[arg(required = true, value_name = "RESULT.json")]
    files: Vec<PathBuf>,
    /// Where to write the merged result ('-' = stdout).
    #[arg(short = 'o', long = "output", value_name = "MERGED.json")]
    output: PathBuf,
}

/// Loads, merges and writes; prints one summary line to stderr.
pub fn main(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let inputs = args
        .files
        .iter()
        .map(|path| Ok((label(path), load(path)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = merge(&inputs)?;
    let mut text = serde_json::to_string_pretty(&merged).context("cannot serialize the merge")?;
    text.push('\n');
    write_output(&args.output, &text)?;
    eprintln!(
        "shardslap: merged {} results: {} ops over {:.3} s ({:.0} ops/s), {} shards",
        inputs.len(),
        merged.totals.total.ops,
        merged.run.duration_s,
        merged.totals.total.tps,
        merged.run.shards,
    );
    Ok(ExitCode::SUCCESS)
}
