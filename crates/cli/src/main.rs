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

mod merge;
mod output;
mod plot;
mod progress;
mod run;
mod sweep;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use shardslap_engine::signals;

fn main() -> ExitCode {
    signals::install();
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    // memaslap's options all start with '-', so a first bare word can only be a subcommand.
    let subcommand = argv.get(1).and_then(|a| a.to_str()).map(str::to_owned);
    let result = match subcommand.as_deref() {
        Some("merge") => merge::main(parse(merge::MergeArgs::try_parse_from(sub_argv(&mut argv)))),
        Some("plot") => plot::main(parse(plot::PlotArgs::try_parse_from(sub_argv(&mut argv)))),
        Some("sweep") => sweep::main(argv.split_off(2)),
        _ => run::main(parse(shardslap_config::Args::try_parse_from(argv))),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("shardslap: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// `shardslap SUB ARGS…` as clap should see it: `shardslap-SUB ARGS…`, so usage lines name it.
fn sub_argv(argv: &mut Vec<OsString>) -> Vec<OsString> {
    let sub = argv.remove(1);
    let mut name = OsString::from("shardslap ");
    name.push(sub);
    argv[0] = name;
    std::mem::take(argv)
}

/// Parsed arguments, or clap's own exit: usage errors (exit 2), `--help`/`--version` (exit 0).
fn parse<T>(parsed: Result<T, clap::Error>) -> T {
    parsed.unwrap_or_else(|err| err.exit())
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
