//! `shardslap sweep --cores LIST [run options] -o SWEEP.json`: the same workload on 1, 2, 4, …
//! up to all listed cores, one run per step, reporting ops/s, ops per client CPU-second and
//! how both scale against the one-core step.
//!
//! In a sweep `-c` is the concurrency per core, so every step loads each core alike; `-o` is
//! the output file (memaslap's `-o` stays reachable as `--overwrite`); the shards are one per
//! core of the step, so `-T` is refused, as is `--json` (the sweep file replaces it).

use std::fs::File;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use shardslap_config::{Args, RunConfig};
use shardslap_engine::preflight;
use shardslap_schema::{SweepFile, SweepMeasurement, SweepStep};

use crate::cli::SweepArgs;
use crate::colocation;
use crate::progress::ProgressLine;
use crate::run::{exit_code, measure};

/// Runs the sweep `args` describe.
pub fn main(sweep_args: SweepArgs) -> anyhow::Result<ExitCode> {
    let SweepArgs { run: args, output } = sweep_args;
    if args.threads.is_some() {
        bail!("sweep runs one shard per core of each step: drop -T/--threads");
    }
    if args.json.is_some() {
        bail!("sweep writes its results with -o SWEEP.json: drop --json");
    }
    if args.timeseries.is_some() {
        bail!("sweep keeps no time series: drop --timeseries");
    }
    if args.hdr_log.is_some() {
        bail!("sweep writes no interval log: drop --hdr-log (run one step on its own for one)");
    }
    let Some(output) = output else {
        bail!("sweep needs -o SWEEP.json (where the results go)");
    };
    // Checked as one core's step: -c is per core, so `-c 1` must pass with any --cores (a
    // whole-run check would ask for -c >= the number of cores).
    let mut one_core = args.clone();
    one_core.threads = Some(1);
    let base = RunConfig::from_args(one_core)?;
    for warning in &base.warnings {
        eprintln!("shardslap: warning: {warning}");
    }
    // Fail on an unwritable output now, not after the whole sweep.
    let mut file = File::create(&output)
        .with_context(|| format!("cannot write sweep file '{}'", output.display()))?;

    let mut config = serde_json::to_value(&base).context("cannot describe the sweep")?;
    config["concurrency_per_core"] = base.concurrency.into();
    // Each step has its own shard count (in its entry); the one-core check's says nothing.
    if let Some(config) = config.as_object_mut() {
        config.remove("shards");
    }
    let mut sweep = SweepFile::new(config);
    println!(
        "sweep over cores {:?}, {} concurrencies per core",
        base.cores, base.concurrency
    );
    println!("{}", STEP_HEADER);
    let mut code = ExitCode::SUCCESS;
    for k in step_sizes(base.cores.len()) {
        let cfg = step_config(&args, &base, k)?;
        let preflight = preflight(&cfg)?;
        if k == 1 {
            if let Some(warning) =
                colocation::warning(&preflight.server_addrs, &base.cores, &base.cores)
            {
                eprintln!(
                    "shardslap: warning: {warning} (the sweep's scaling would show the \
                     competition, not the client)"
                );
            }
        }
        let mut progress = ProgressLine::for_config(&cfg);
        let cpu_before = client_cpu();
        let report = measure(&cfg, preflight, &mut progress);
        let client_cpu_s = (client_cpu() - cpu_before).as_secs_f64();
        progress.clear();
        let report = report?;
        let step = sweep.push(SweepMeasurement {
            cores: cfg.cores.clone(),
            shards: cfg.shards,
            concurrency: cfg.concurrency,
            duration_s: report.duration.as_secs_f64(),
            ops: report.totals.ops.total_count(),
            client_cpu_s,
        });
        println!("{}", step_line(step));
        if report.interrupted.is_some() {
            code = exit_code(&report);
            break;
        }
    }
    let mut text = serde_json::to_string_pretty(&sweep).context("cannot serialize the sweep")?;
    text.push('\n');
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write sweep file '{}'", output.display()))?;
    Ok(code)
}

const STEP_HEADER: &str = "cores  shards  conns        ops/s   ops/CPU-s  throughput eff  CPU eff";

fn step_line(step: &SweepStep) -> String {
    format!(
        "{:>5}  {:>6}  {:>5}  {:>11.0}  {:>10.0}  {:>14.2}  {:>7.2}",
        step.cores.len(),
        step.shards,
        step.concurrency,
        step.ops_per_s,
        step.ops_per_cpu_s,
        step.throughput_efficiency,
        step.cpu_efficiency
    )
}

/// 1, 2, 4, … below `cores`, then `cores` itself.
fn step_sizes(cores: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = std::iter::successors(Some(1usize), |k| k.checked_mul(2))
        .take_while(|&k| k < cores)
        .collect();
    sizes.push(cores.max(1));
    sizes
}

/// The run of step `k`: the first `k` cores, one shard each, `-c` per core, and the base
/// run's seed so every step draws the same keys and values.
fn step_config(args: &Args, base: &RunConfig, k: usize) -> anyhow::Result<RunConfig> {
    let mut step = args.clone();
    let cores: Vec<String> = base.cores[..k].iter().map(usize::to_string).collect();
    step.cores = Some(cores.join(","));
    step.concurrency = base.concurrency * k;
    step.seed = Some(base.seed);
    Ok(RunConfig::from_args(step)?)
}

/// CPU time this process has used so far (user + system, every thread, live or ended).
fn client_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage; RUSAGE_SELF cannot fail with it.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_double_up_to_every_core() {
        assert_eq!(step_sizes(1), [1]);
        assert_eq!(step_sizes(2), [1, 2]);
        assert_eq!(step_sizes(6), [1, 2, 4, 6]);
        assert_eq!(step_sizes(8), [1, 2, 4, 8]);
    }
}
