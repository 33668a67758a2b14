//! `shardslap merge A.json B.json … -o MERGED.json`: runs made at the same time on several
//! hosts, merged exactly into one result of the same schema (with a `sources` list).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use shardslap_merge::{load, merge, time_gaps};

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

/// Loads, merges and writes; prints one summary line to stderr (which says the interval its
/// rate is over), after a warning for each gap between runs that do not overlap in time.
pub fn main(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let inputs = args
        .files
        .iter()
        .map(|path| Ok((label(path), load(path)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = merge(&inputs)?;
    let gaps = time_gaps(merged.sources.as_deref().unwrap_or_default());
    for gap in &gaps {
        eprintln!(
            "shardslap: warning: {} starts {:.3} s after {} ended: the runs do not overlap in \
             time, but merge adds runs as if they ran together, so the merged rate is lower \
             than any of theirs (merge runs made at the same time, e.g. with --start-at)",
            gap.after, gap.gap_s, gap.before
        );
    }
    let mut text = serde_json::to_string_pretty(&merged).context("cannot serialize the merge")?;
    text.push('\n');
    write_output(&args.output, &text)?;
    let idle_s: f64 = gaps.iter().map(|g| g.gap_s).sum();
    let idle = if idle_s > 0.0 {
        format!(", {idle_s:.3} s of it with no run measuring")
    } else {
        String::new()
    };
    eprintln!(
        "shardslap: merged {} results: {} ops over {:.3} s ({:.0} ops/s), {} shards; \
         the rate is over the interval from the earliest start (Unix {:.3}) to the latest \
         end{idle}",
        inputs.len(),
        merged.totals.total.ops,
        merged.run.duration_s,
        merged.totals.total.tps,
        merged.run.shards,
        merged.run.started_at,
    );
    Ok(ExitCode::SUCCESS)
}
