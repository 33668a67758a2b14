//! A run that ends early — Ctrl-C, SIGTERM, or a server that dies — still prints its report
//! and saves its JSON, with counts the server confirms.

use std::process::Stdio;
use std::time::Duration;

use shardslap_testkit::MemcachedServer;

use crate::util::{shardslap, wait_with_deadline, TempDir};

const LIMIT: Duration = Duration::from_secs(30);

/// Starts a 20 s run with a JSON file, lets it work for a moment, then calls `interrupt`.
fn interrupted_run(
    server: &mut MemcachedServer,
    interrupt: impl FnOnce(u32, &mut MemcachedServer),
) -> (crate::util::RunResult, TempDir) {
    let dir = TempDir::new("interrupted");
    let json_path = dir.path("partial.json");
    let child = shardslap()
        .args([
            "-s",
            &server.addr_string(),
            "-T",
            "2",
            "-c",
            "4",
            "-t",
            "20s",
            "--json",
        ])
        .arg(&json_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    interrupt(child.id(), server);
    let mut run = wait_with_deadline(child, LIMIT);
    let text = std::fs::read_to_string(&json_path).unwrap_or_default();
    run.json = serde_json::from_str(&text).ok();
    run.result = serde_json::from_str(&text).ok();
    (run, dir)
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "cannot signal shardslap");
}

#[test]
fn sigint_prints_and_saves_partial_results_exit_130() {
    let mut server = MemcachedServer::start();
    let before = server.stats();
    let (run, _dir) = interrupted_run(&mut server, |pid, _| signal(pid, libc::SIGINT));
    let delta = server.stats().since(&before);
    assert_eq!(run.status.code(), Some(130), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("Run time: "),
        "report printed:\n{}",
        run.stdout
    );
    let result = run.result();
    assert!(result
        .run
        .interrupted
        .as_deref()
        .unwrap()
        .contains("SIGINT"));
    let duration = result.run.duration_s;
    assert!(duration < 10.0, "stopped early, not after 20 s: {duration}");
    // Every in-flight request finished, so the partial counts are still exact.
    assert_eq!(run.counters().cmd_get, delta.cmd_get);
    assert_eq!(run.counters().cmd_set, delta.cmd_set);
    assert!(run.counters().cmd_get > 0);
}

#[test]
fn sigterm_exits_143_with_results() {
    let mut server = MemcachedServer::start();
    let (run, _dir) = interrupted_run(&mut server, |pid, _| signal(pid, libc::SIGTERM));
    assert_eq!(run.status.code(), Some(143), "stderr: {}", run.stderr);
    assert!(run
        .result()
        .run
        .interrupted
        .as_deref()
        .unwrap()
        .contains("SIGTERM"));
    assert!(run.counters().cmd_get > 0);
}

#[test]
fn lost_server_ends_the_run_early_with_results_exit_1() {
    let mut server = MemcachedServer::start();
    let (run, _dir) = interrupted_run(&mut server, |_, server| server.kill());
    assert_eq!(run.status.code(), Some(1), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("ended early"), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("Run time: "),
        "report printed:\n{}",
        run.stdout
    );
    let result = run.result();
    assert!(result.run.interrupted.is_some());
    assert!(run.counters().cmd_get > 0, "what was measured is kept");
    assert!(run.counters().disconnects > 0);
    assert!(result.run.duration_s < 10.0);
}
