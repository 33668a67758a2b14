//! `shardslap`: the binary edge. Without a subcommand it runs a load test, in the order a run
//! flows: arguments → validated `RunConfig` → per-core `ShardPlan` → preflight → engine run →
//! merged `Report` → text on stdout and JSON where `--json` says ([`run`]).
//!
//! Subcommands work on result files: `merge` (several hosts' runs into one), `plot` (an SVG of
//! one or more results or sweeps) and `sweep` (the same workload on 1, 2, 4, … cores).
//!
//! Exit codes: 0 success; 1 the run ended early (lost server, failed shard); 2 usage, config,
//! environment or input-file error; 130/143 interrupted by SIGINT/SIGTERM (partial results
//! still printed and saved).

mod cli;
mod colocation;
mod hdr_log;
mod merge;
mod output;
mod plot;
mod progress;
mod run;
mod run_info;
mod signals;
mod sweep;
mod timeseries;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    signals::install();
    map_large_allocations();
    let cli = match Cli::try_parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let result = match cli.command {
        Some(Command::Merge(args)) => merge::main(args),
        Some(Command::Plot(args)) => plot::main(args),
        Some(Command::Sweep(args)) => sweep::main(*args),
        None => run::main(cli.run),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("shardslap: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// `--help`/`--version` print as clap prints them (exit 0); any other clap error is one
/// `shardslap:` line, exit 2, like every other bad value.
fn usage_error(err: &clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
        }
        _ => {
            eprintln!("shardslap: {}", cli::one_line(err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, `a: b: c`, leaving out a cause whose text the line
/// already holds (library errors often say their cause in their own message too).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Makes glibc map every allocation of 128 KiB or more on its own and unmap it when freed.
/// glibc's default raises that threshold to the largest block freed so far, so after the
/// first ~220 KiB latency histogram is freed, later ones come from the heap, whose memory
/// is kept when they are freed: a period's histograms held a little longer once (the main
/// thread behind on a slow disk) then stay resident for the whole run, and a day-long run's
/// RSS climbs in steps. No hot-path buffer is this large, so requests never map memory.
fn map_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD_BYTES: libc::c_int = 128 << 10;
        // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
        // A refusal (0) leaves glibc's default, which is only less tidy.
        let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD_BYTES) };
    }
}
