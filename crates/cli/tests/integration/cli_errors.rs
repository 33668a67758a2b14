//! Bad input and a lost server: one clear line on stderr, a non-zero exit, never a panic.

use std::time::Duration;

use crate::util::run_plain;

const LIMIT: Duration = Duration::from_secs(20);

/// Asserts exit code 2 and a single `shardslap:` line mentioning `needle`.
fn assert_usage_error(args: &[&str], needle: &str) {
    let run = run_plain(args, LIMIT);
    assert_eq!(
        run.status.code(),
        Some(2),
        "exit code for {args:?}; stderr: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "stderr for {args:?} lacks {needle:?}: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked"),
        "panic for {args:?}: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("RUST_BACKTRACE"),
        "backtrace hint: {}",
        run.stderr
    );
}

#[test]
fn refused_server_is_one_line_exit_2() {
    // Bind then drop: the port is very likely closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("127.0.0.1:{port}");
    assert_usage_error(
        &["-s", &server, "-t", "1s"],
        "cannot connect to memcached at",
    );
}

#[test]
fn bad_time_value_is_rejected() {
    assert_usage_error(&["-s", "127.0.0.1:1", "-t", "10parsecs"], "--time");
}

#[test]
fn zero_concurrency_is_rejected() {
    assert_usage_error(&["-s", "127.0.0.1:1", "-c", "0"], "concurrency");
}

#[test]
fn core_outside_affinity_mask_is_rejected() {
    assert_usage_error(&["-s", "127.0.0.1:1", "--cores", "4095"], "4095");
}

#[test]
fn unknown_flag_is_rejected() {
    assert_usage_error(&["--no-such-flag"], "--no-such-flag");
}

#[test]
fn missing_cfg_file_is_rejected() {
    assert_usage_error(
        &["-s", "127.0.0.1:1", "-F", "/nonexistent/x.cnf"],
        "/nonexistent/x.cnf",
    );
}

#[test]
fn unwritable_json_path_fails_before_the_run() {
    assert_usage_error(
        &["-s", "127.0.0.1:1", "--json", "/nonexistent/dir/out.json"],
        "cannot write --json file",
    );
}

#[test]
fn version_and_help_exit_0() {
    let run = run_plain(&["-V"], LIMIT);
    assert_eq!(run.status.code(), Some(0));
    assert!(run.stdout.contains("shardslap"), "{}", run.stdout);
    let run = run_plain(&["--help"], LIMIT);
    assert_eq!(run.status.code(), Some(0));
    assert!(run.stdout.contains("--concurrency"), "{}", run.stdout);
}

#[test]
fn unresolvable_server_is_one_line_exit_2() {
    let run = run_plain(&["-s", "no-such-host.invalid:11211", "-x", "1"], LIMIT);
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    assert!(run
        .stderr
        .contains("cannot resolve server 'no-such-host.invalid:11211'"));
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
}
