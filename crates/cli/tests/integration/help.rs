//! The help texts as a new user sees them, as snapshots (`tests/snapshots/*.txt`; rewrite
//! them with `SHARDSLAP_UPDATE_SNAPSHOTS=1` after an intended change), and clap's own errors
//! in the same one-line form as every other bad value.

use std::path::PathBuf;
use std::time::Duration;

use crate::util::{run_command, shardslap};

const LIMIT: Duration = Duration::from_secs(20);

/// stdout of `shardslap ARGS`, which must exit 0 with nothing on stderr.
fn help_of(args: &[&str]) -> String {
    let mut cmd = shardslap();
    // The -s help shows the variable's value when it is set.
    cmd.args(args).env_remove("MEMCACHED_SERVERS");
    let run = run_command(cmd, LIMIT);
    run.assert_success();
    assert_eq!(run.stderr, "", "{args:?}");
    run.stdout
}

fn assert_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("SHARDSLAP_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (SHARDSLAP_UPDATE_SNAPSHOTS=1 writes it)",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "{name} changed; if intended, rerun with SHARDSLAP_UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn top_level_help_lists_proper_subcommands() {
    let help = help_of(&["--help"]);
    assert!(
        help.contains("Usage: shardslap [OPTIONS]\n       shardslap <COMMAND>"),
        "{help}"
    );
    assert!(help.contains("\nCommands:\n  merge "), "{help}");
    assert!(help.contains("\n  sweep "), "{help}");
    assert!(help.contains("\n  help "), "{help}");
    assert_snapshot("help.txt", &help);
    // `shardslap help` is the same text, and so is `-h` apart from the long descriptions.
    assert_eq!(help_of(&["help"]), help);
}

#[test]
fn sweep_help_is_its_own() {
    let help = help_of(&["sweep", "--help"]);
    assert_snapshot("sweep-help.txt", &help);
    assert_eq!(help_of(&["help", "sweep"]), help);
    assert!(
        help.contains("Usage: shardslap sweep -o SWEEP.json"),
        "{help}"
    );
    assert!(help.contains("-o, --output <SWEEP.json>"), "{help}");
    assert!(help.contains("(required)"), "{help}");
    assert!(help.contains("PER CORE"), "{help}");
    assert!(help.contains("[default: 600s a step]"), "{help}");
    assert!(help.contains("      --overwrite <P>"), "{help}");
    for refused in [
        "-T, --threads",
        "--json <PATH>",
        "-o, --overwrite",
        "spread evenly over the shards",
    ] {
        assert!(
            !help.contains(refused),
            "sweep help lists {refused:?}:\n{help}"
        );
    }
    // One help text, not two glued together.
    assert_eq!(help.matches("Usage:").count(), 1, "{help}");
    assert_eq!(help.matches("Options:").count(), 1, "{help}");
}

#[test]
fn merge_and_plot_help_through_help() {
    assert_eq!(help_of(&["help", "merge"]), help_of(&["merge", "--help"]));
    assert!(help_of(&["help", "plot"]).contains("Usage: shardslap plot"));
}

#[test]
fn clap_errors_are_one_line_like_the_others() {
    let run = run_command(
        {
            let mut cmd = shardslap();
            cmd.args(["-s", "127.0.0.1:1", "-c", "16x"]);
            cmd
        },
        LIMIT,
    );
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        run.stderr,
        "shardslap: invalid value '16x' for --concurrency: expected a whole number \
         (invalid digit found in string)\n"
    );
    // The config stage's own errors have the same shape.
    let config = run_command(
        {
            let mut cmd = shardslap();
            cmd.args(["-s", "127.0.0.1:1", "-t", "10parsecs"]);
            cmd
        },
        LIMIT,
    );
    assert!(
        config
            .stderr
            .starts_with("shardslap: invalid value '10parsecs' for --time: "),
        "{}",
        config.stderr
    );
    for args in [
        &["--no-such-flag"][..],
        &["merge"],
        &["-c", "4", "sweep"],
        &["nosuchcmd"],
    ] {
        let mut cmd = shardslap();
        cmd.args(args);
        let run = run_command(cmd, LIMIT);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("shardslap: "),
            "{args:?}: {}",
            run.stderr
        );
    }
}
