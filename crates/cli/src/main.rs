//! `shardslap`: the binary edge. Reads in the order a run flows:
//! arguments → validated [`RunConfig`] → per-core [`ShardPlan`] → preflight → engine run →
//! merged [`Report`] → text on stdout and JSON where `--json` says.
//!
//! Exit codes: 0 success; 1 the run ended early (lost server, failed shard); 2 usage, config
//! or environment error; 130/143 interrupted by SIGINT/SIGTERM (partial results still printed
//! and saved).

mod output;
mod progress;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use shardslap_config::{plan, Args, RunConfig};
use shardslap_engine::{preflight, run_info, signals};

use shardslap_report::{render_banner, render_final};

use crate::output::{JsonSink, PeriodPrinter, TextOut};

fn main() -> ExitCode {
    signals::install();
    let args = match Args::try_parse() {
        Ok(args) => args,
        // clap prints usage errors (exit 2) and --help/--version (exit 0) itself.
        Err(err) => err.exit(),
    };
    match run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("shardslap: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// The stages of one run; errors here are usage/config/environment errors (exit 2).
fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cfg = RunConfig::from_args(args)?;
    for warning in &cfg.warnings {
        eprintln!("shardslap: warning: {warning}");
    }
    // Fail on an unwritable --json path now, not after a ten-minute run.
    let json = JsonSink::open(cfg.json.as_ref())?;
    let plan = plan(&cfg);
    let preflight = preflight(&cfg)?;
    let info = run_info(&cfg);
    let out = TextOut::for_config(&cfg);
    out.print(&render_banner(&info));

    let mut printer = PeriodPrinter::new(&cfg, &info, out);
    if let (Some(at), false) = (cfg.start_at, cfg.quiet) {
        eprintln!(
            "shardslap: connecting, then starting at {at} (in {:.1} s)",
            at - unix_now_s()
        );
    }
    let report = shardslap_engine::run(&cfg, plan, preflight, info, &mut printer);
    printer.finish();
    let report = report.context("the run could not start")?;
    out.print(&render_final(&report));
    json.write(&report)?;

    Ok(match (&report.interrupted, signals::received()) {
        (_, Some(libc::SIGINT)) => ExitCode::from(130),
        (_, Some(_)) => ExitCode::from(143),
        (Some(reason), None) => {
            eprintln!("shardslap: the run ended early: {reason}");
            ExitCode::from(1)
        }
        (None, None) => ExitCode::SUCCESS,
    })
}

fn unix_now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
