//! The load test itself: one run from arguments to printed and saved results.

use std::process::ExitCode;

use anyhow::Context;
use shardslap_config::{plan, unix_now_s, Args, RunConfig};
use shardslap_engine::{preflight, Preflight, RunObserver};
use shardslap_report::{render_banner, render_final, FinalLayout, Report};

use crate::colocation;
use crate::hdr_log::HdrLog;
use crate::output::{JsonSink, Observers, PeriodPrinter, TextOut};
use crate::run_info::run_info;
use crate::signals;
use crate::timeseries::TimeseriesSink;

/// Runs the load test `args` describe; errors are usage/config/environment errors (exit 2).
pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    let cfg = RunConfig::from_args(args)?;
    for warning in &cfg.warnings {
        eprintln!("shardslap: warning: {warning}");
    }
    // Fail on an unwritable --json or --hdr-log path now, not after a ten-minute run.
    let json = JsonSink::open(cfg.json.as_ref())?;
    let mut hdr_log = cfg.hdr_log.as_deref().map(HdrLog::create).transpose()?;
    let mut timeseries = cfg
        .timeseries_file
        .as_deref()
        .map(TimeseriesSink::create)
        .transpose()?;
    let preflight = preflight(&cfg)?;
    // Shards take the cores round-robin, so these are the CPUs they run on.
    let used = &cfg.cores[..cfg.shards.min(cfg.cores.len())];
    if let Some(warning) = colocation::warning(&preflight.server_addrs, used, &cfg.cores) {
        eprintln!("shardslap: warning: {warning}");
    }
    let info = run_info(&cfg);
    let out = TextOut::for_config(&cfg);
    // -q: the final report only, no banner and no periodic tables.
    if !cfg.quiet {
        out.print(&render_banner(&info));
    }

    let mut printer = PeriodPrinter::new(&cfg, &info, out);
    if let (Some(at), false) = (cfg.start_at, cfg.quiet) {
        eprintln!(
            "shardslap: connecting, then starting at {at} (in {:.1} s)",
            at - unix_now_s()
        );
    }
    let mut observers = Observers {
        printer: &mut printer,
        hdr_log: hdr_log.as_mut(),
        timeseries: timeseries.as_mut(),
    };
    let report = measure(&cfg, preflight, &mut observers);
    printer.finish();
    let report = report?;
    out.print(&render_final(
        &report,
        FinalLayout::for_stat_freq(cfg.stat_freq),
    ));
    // A --timeseries file that failed mid-run still leaves a JSON result (with the points
    // the report kept), then the error.
    let series = timeseries.map(|sink| sink.finish(&report)).transpose();
    match series {
        Ok(series) => json.write(&report, series.as_ref())?,
        Err(err) => {
            json.write(&report, None)?;
            return Err(err);
        }
    }
    if let Some(log) = hdr_log {
        log.finish(&report)?;
    }
    Ok(exit_code(&report))
}

/// The engine run after a passed preflight: the measured [`Report`], also when the run was cut
/// short.
pub fn measure(
    cfg: &RunConfig,
    preflight: Preflight,
    observer: &mut dyn RunObserver,
) -> anyhow::Result<Report> {
    let plan = plan(cfg);
    let info = run_info(cfg);
    shardslap_engine::run(plan, preflight, info, observer).context("the run could not start")
}

/// 130/143 after SIGINT/SIGTERM, 1 when the run ended early for another reason (said on
/// stderr), else 0.
pub fn exit_code(report: &Report) -> ExitCode {
    match (&report.interrupted, signals::received()) {
        (_, Some(libc::SIGINT)) => ExitCode::from(130),
        (_, Some(_)) => ExitCode::from(143),
        (Some(reason), None) => {
            eprintln!("shardslap: the run ended early: {reason}");
            ExitCode::from(1)
        }
        (None, None) => ExitCode::SUCCESS,
    }
}
