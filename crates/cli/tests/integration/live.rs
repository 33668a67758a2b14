//! What a run shows while it goes on, and when it starts: the live progress line (on a
//! terminal only) and `--start-at`.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shardslap_testkit::MemcachedServer;

use crate::util::{run_command, run_with_json};

const LIMIT: Duration = Duration::from_secs(60);
/// Moves to the start of the line and erases it: how every progress update begins.
const ERASE_LINE: &str = "\r\x1b[2K";

/// Runs shardslap with `args` on a pseudo-terminal (util-linux `script`), so that its stderr
/// is a terminal; returns everything the terminal showed.
fn run_on_terminal(args: &[&str]) -> String {
    let bin = env!("CARGO_BIN_EXE_shardslap");
    let command_line = std::iter::once(bin)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &command_line, "/dev/null"]);
    let run = run_command(cmd, LIMIT);
    assert!(
        run.status.success(),
        "script/shardslap failed (is util-linux's `script` installed?)\n{}{}",
        run.stdout,
        run.stderr
    );
    run.stdout
}

#[test]
fn a_terminal_sees_a_progress_line_that_is_erased_before_the_report() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let screen = run_on_terminal(&["-s", &addr, "-T", "1", "-c", "2", "-t", "3s"]);
    let updates: Vec<&str> = screen.split(ERASE_LINE).skip(1).collect();
    // One update per second, then one final erase just before the report.
    assert!(
        updates.len() >= 3,
        "expected at least two progress updates and a final erase:\n{screen:?}"
    );
    assert!(
        updates[0].starts_with("[1s / 3s]  ") && updates[0].contains(" ops/s  p99 "),
        "first update: {:?}",
        updates[0]
    );
    assert!(updates[0].ends_with("errors 0"), "{:?}", updates[0]);
    let report = updates.last().unwrap();
    assert!(
        // Without -S the report opens with memaslap's `cmd_get:` (its blocks come later).
        report.starts_with("cmd_get: "),
        "the report must start on an erased line: {report:?}"
    );
}

#[test]
fn quiet_and_periodic_tables_turn_the_progress_line_off() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    for extra in ["-q", "-S 1s"] {
        let mut args = vec!["-s", &addr, "-T", "1", "-c", "2", "-t", "2s"];
        args.extend(extra.split(' '));
        let screen = run_on_terminal(&args);
        assert!(!screen.contains(ERASE_LINE), "{extra}: {screen:?}");
        assert!(screen.contains("Run time: "), "{extra}: {screen:?}");
    }
}

#[test]
fn redirected_output_and_json_never_hold_the_progress_line() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let run = run_with_json(&["-s", &addr, "-T", "1", "-c", "2", "-t", "2s"], LIMIT);
    run.assert_success();
    assert!(!run.stderr.contains('\r'), "stderr: {:?}", run.stderr);
    assert!(!run.stdout.contains('\r'), "stdout: {:?}", run.stdout);
    let json = serde_json::to_string(run.json()).unwrap();
    assert!(!json.contains("ops/s"), "{json}");
}

fn unix_now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn start_at_connects_first_then_starts_the_clock_at_that_instant() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let start_at = (unix_now_s() + 2.0).ceil();
    let start_arg = format!("{start_at}");
    let before = server.stats();
    let run = run_with_json(
        &[
            "-s",
            &addr,
            "-T",
            "1",
            "-c",
            "2",
            "-t",
            "1s",
            "--start-at",
            &start_arg,
        ],
        LIMIT,
    );
    run.assert_success();
    let started_at = run.result().run.started_at;
    assert!(
        (started_at - start_at).abs() < 1e-6,
        "started_at {started_at} != --start-at {start_at}"
    );
    let duration = run.result().run.duration_s;
    assert!((0.9..2.0).contains(&duration), "duration_s {duration}");
    // It connected before the start: the connections were open while it waited.
    assert!(
        server.stats().since(&before).total_connections >= 2,
        "no connections were made"
    );
    assert!(
        run.stderr.contains("connecting, then starting at"),
        "{}",
        run.stderr
    );
}

#[test]
fn start_at_in_the_past_warns_and_runs_at_once() {
    let server = MemcachedServer::start();
    let addr = server.addr_string();
    let past = format!("{}", (unix_now_s() - 5.0).floor());
    let run = run_with_json(
        &[
            "-s",
            &addr,
            "-T",
            "1",
            "-c",
            "1",
            "-x",
            "100",
            "--start-at",
            &past,
        ],
        LIMIT,
    );
    run.assert_success();
    assert!(
        run.stderr
            .contains("s in the past: the run starts as soon as it is connected"),
        "{}",
        run.stderr
    );
    assert_eq!(run.counters().cmd_get + run.counters().cmd_set, 100);
}

#[test]
fn a_terminal_sees_how_far_a_prefill_has_come_before_the_clock_starts() {
    let server = MemcachedServer::start_with(shardslap_testkit::ServerOptions {
        memory_mb: 256,
        ..shardslap_testkit::ServerOptions::default()
    });
    let addr = server.addr_string();
    let screen = run_on_terminal(&[
        "-s",
        &addr,
        "-T",
        "1",
        "-c",
        "4",
        "-x",
        "2000",
        "--keys",
        "150k",
        "--prefill",
    ]);
    let prefill: Vec<&str> = screen
        .split(ERASE_LINE)
        .filter(|update| update.starts_with("[warm-up] "))
        .collect();
    assert!(
        !prefill.is_empty(),
        "no warm-up progress on the terminal:\n{screen:?}"
    );
    assert!(
        prefill[0].contains(" / 153,600 sets (") && prefill[0].ends_with("before the clock starts"),
        "{:?}",
        prefill[0]
    );
    assert!(
        screen.contains("Warm-up: 153600 sets"),
        "reported apart: {screen:?}"
    );
}
