//! The whole command line: `shardslap [OPTIONS] [COMMAND]`. Without a command the options are a
//! memaslap-style run ([`Args`]); `merge`, `plot` and `sweep` work on result files, and clap's
//! `help` prints any of their helps. Every usage error becomes one `shardslap:` line, in the
//! same `invalid value '…' for --flag: …` form the config stage uses ([`one_line`]).

use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgMatches, Parser, Subcommand};
use shardslap_config::Args;

use crate::merge::MergeArgs;
use crate::plot::PlotArgs;

/// `shardslap [OPTIONS] [COMMAND]`.
#[derive(Debug, Parser)]
#[command(
    name = "shardslap",
    version = shardslap_config::VERSION,
    about = shardslap_config::ABOUT,
    after_help = shardslap_config::RUN_EXAMPLES,
    // A run's options and a subcommand do not mix: `shardslap -c 4 sweep …` would drop -c.
    args_conflicts_with_subcommands = true,
)]
pub struct Cli {
    /// A result-file subcommand, or `None` for a load test.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The load test's options (used when there is no subcommand).
    #[command(flatten)]
    pub run: Args,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Merge runs made at the same time on several hosts into one result (exact).
    Merge(MergeArgs),
    /// Plot results or sweeps as one SVG.
    Plot(PlotArgs),
    /// The same workload on 1, 2, 4, ... cores: throughput and CPU scaling.
    #[command(
        long_about = SWEEP_ABOUT,
        override_usage = "shardslap sweep -o SWEEP.json [OPTIONS]",
        after_help = "Example:\n  \
            shardslap sweep --cores 0-7 -s 127.0.0.1:11211 -t 30s -c 16 -o sweep.json\n  \
            shardslap plot sweep.json -o scaling.svg"
    )]
    Sweep(Box<SweepArgs>),
}

const SWEEP_ABOUT: &str = "\
The same workload on 1, 2, 4, ... up to every core of --cores (default: this process's CPUs),
one run per step; prints and saves ops/s, ops per client CPU-second and the scaling efficiency
of both against the one-core step. Plot it with `shardslap plot SWEEP.json`.

-c is the concurrency PER CORE (step k runs k x N), -t the time of EACH step, -o the output
file (memaslap's -o is --overwrite here). There is one shard per core of each step, and the
sweep file is the output, so -T and --json are not accepted.";

/// `shardslap sweep`'s arguments: a run's options, with `-c` per core, plus `-o SWEEP.json`.
#[derive(Debug, Clone)]
pub struct SweepArgs {
    /// The run options every step shares.
    pub run: Args,
    /// `-o/--output`: where the sweep file goes; required (checked in `sweep::main`, so the
    /// message says what the file is for).
    pub output: Option<PathBuf>,
}

impl clap::FromArgMatches for SweepArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(SweepArgs {
            run: Args::from_arg_matches(matches)?,
            output: matches.get_one::<PathBuf>("output").cloned(),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.run.update_from_arg_matches(matches)?;
        if let Some(output) = matches.get_one::<PathBuf>("output") {
            self.output = Some(output.clone());
        }
        Ok(())
    }
}

impl clap::Args for SweepArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        // The run's own options, with the help a sweep needs: -T and --json stay parseable
        // (so sweep::main can say why they are refused) but hidden; -o becomes the output.
        <Args as clap::Args>::augment_args(cmd)
            .mut_arg("threads", |a| a.hide(true))
            .mut_arg("json", |a| a.hide(true))
            .mut_arg("hdr_log", |a| a.hide(true))
            .mut_arg("timeseries", |a| a.hide(true))
            .mut_arg("concurrency", |a| {
                a.help(
                    "Concurrencies PER CORE: step k runs k x N of them, spread over its k shards",
                )
            })
            .mut_arg("time", |a| {
                a.help("Run time of EACH step: 30, 30s, 2m, 1h [default: 600s a step]")
            })
            .mut_arg("overwrite", |a| a.short(None))
            .arg(
                Arg::new("output")
                    .short('o')
                    .long("output")
                    .value_name("SWEEP.json")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help("Where the sweep results go (required)")
                    .display_order(0),
            )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// A clap error that is not `--help`/`--version` as one line without the `error: ` prefix:
/// bad values read `invalid value 'V' for --flag: why`, like the config stage's errors.
pub fn one_line(err: &clap::Error) -> String {
    let context = |kind| err.get(kind).and_then(context_text);
    if let (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(arg), Some(value)) = (
        err.kind(),
        context(ContextKind::InvalidArg),
        context(ContextKind::InvalidValue),
    ) {
        let why = match err.kind() {
            ErrorKind::InvalidValue => match context(ContextKind::ValidValue) {
                Some(valid) if !valid.is_empty() => format!("expected one of {valid}"),
                _ if value.is_empty() => "the flag needs a value".to_owned(),
                _ => format!("expected {}", expected_for(&arg)),
            },
            _ => match std::error::Error::source(err) {
                Some(source) => format!("expected {} ({source})", expected_for(&arg)),
                None => format!("expected {}", expected_for(&arg)),
            },
        };
        return format!("invalid value '{value}' for {}: {why}", flag_name(&arg));
    }
    let rendered = err.render().to_string();
    let mut lines = rendered.lines();
    let mut line = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    // "…were not provided:" is followed by the missing arguments, one per line.
    if line.ends_with(':') {
        let listed: Vec<&str> = lines
            .by_ref()
            .map(str::trim)
            .take_while(|l| !l.is_empty())
            .collect();
        line.push(' ');
        line.push_str(&listed.join(", "));
    }
    for tip in rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
    {
        line.push_str("; ");
        line.push_str(tip);
    }
    let usage = context(ContextKind::Usage);
    let usage = usage
        .as_deref()
        .and_then(|u| u.lines().next())
        .map(|u| u.trim().trim_start_matches("Usage: "));
    match usage {
        Some(usage) => line.push_str(&format!(" (usage: {usage})")),
        None => line.push_str(" (see shardslap --help)"),
    }
    line
}

/// A context value as text (`-c, --concurrency <N>`, `16x`, `[a, b]`).
fn context_text(value: &ContextValue) -> Option<String> {
    match value {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => Some(v.join(", ")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::StyledStrs(v) => Some(
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `--concurrency` from clap's `-c, --concurrency <N>` (the long name, as our errors use).
fn flag_name(arg: &str) -> String {
    arg.split([' ', ','])
        .find(|part| part.starts_with("--"))
        .or_else(|| arg.split(' ').next())
        .unwrap_or(arg)
        .split('=')
        .next()
        .unwrap_or(arg)
        .to_owned()
}

/// What a value of `arg` looks like, from its value name.
fn expected_for(arg: &str) -> &'static str {
    if arg.contains("<P>") {
        "a number like 0.5"
    } else if arg.contains("<UNIX_SECONDS>") {
        "Unix seconds, like 1767225600"
    } else {
        "a whole number"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("shardslap").chain(argv.iter().copied()))
    }

    fn sweep(argv: &[&str]) -> SweepArgs {
        let argv: Vec<&str> = std::iter::once("sweep")
            .chain(argv.iter().copied())
            .collect();
        match parse(&argv).unwrap().command {
            Some(Command::Sweep(args)) => *args,
            other => panic!("not a sweep: {other:?}"),
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_is_a_memaslap_run() {
        let cli = parse(&["-s", "a:1", "-c", "4", "-t", "2s"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.concurrency, 4);
        assert_eq!(cli.run.time.as_deref(), Some("2s"));
    }

    #[test]
    fn sweep_output_is_taken_out_of_the_run_options() {
        // The same spellings the hand-written splitter took before sweep became a subcommand.
        for argv in [
            &["-s", "a", "-o", "x.json", "-t", "1s"][..],
            &["-s", "a", "--output", "x.json", "-t", "1s"],
            &["-s", "a", "--output=x.json", "-t", "1s"],
            &["-s", "a", "-ox.json", "-t", "1s"],
        ] {
            let args = sweep(argv);
            assert_eq!(args.output, Some(PathBuf::from("x.json")), "{argv:?}");
            assert_eq!(args.run.servers.as_deref(), Some("a"), "{argv:?}");
            assert_eq!(args.run.time.as_deref(), Some("1s"), "{argv:?}");
        }
        assert!(parse(&["sweep", "-o"]).is_err());
        let args = sweep(&["--overwrite", "0.5"]);
        assert_eq!((args.output, args.run.overwrite), (None, Some(0.5)));
    }

    #[test]
    fn bad_values_read_like_the_config_errors() {
        let err = parse(&["-s", "a", "-c", "16x"]).unwrap_err();
        assert_eq!(
            one_line(&err),
            "invalid value '16x' for --concurrency: expected a whole number \
             (invalid digit found in string)"
        );
        let err = parse(&["-s", "a", "-v", "half"]).unwrap_err();
        assert!(
            one_line(&err).starts_with("invalid value 'half' for --verify: expected a number"),
            "{}",
            one_line(&err)
        );
        let err = parse(&["--no-such-flag"]).unwrap_err();
        let line = one_line(&err);
        assert!(
            line.starts_with("unexpected argument '--no-such-flag'"),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");
    }
}
