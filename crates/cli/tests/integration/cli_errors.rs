//! Bad input and a lost server: one clear line on stderr, a non-zero exit, never a panic.

use std::time::Duration;

use crate::util::{run_plain, TempDir};

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
fn malformed_cfg_file_names_the_file_and_the_line() {
    let dir = TempDir::new("bad-cfg");
    let path = dir.path("bad.cnf");
    // memaslap would accept this silently; the third line's key length is out of range.
    std::fs::write(
        &path,
        "key\n64 64 1\n8 8 1\nvalue\n1024 1024 1\ncmd\n0 0.1\n1 0.9\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let run = run_plain(&["-s", "127.0.0.1:1", "-F", file], LIMIT);
    assert_usage_error(&["-s", "127.0.0.1:1", "-F", file], "line 3: ");
    assert!(run.stderr.contains(file), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn reversed_core_range_is_rejected() {
    assert_usage_error(&["-s", "127.0.0.1:1", "--cores", "1-0"], "--cores");
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

/// A loopback listener whose accept queue is full: the kernel drops further SYNs, so a
/// connect to it neither succeeds nor is refused, it hangs (like a firewalled host).
struct SilentListener {
    listener: std::net::TcpListener,
    /// The one connection that fills the queue; never accepted.
    _filler: std::net::TcpStream,
}

impl SilentListener {
    fn start() -> SilentListener {
        use std::os::fd::AsRawFd;

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        // std listens with a backlog of 128; listen again with 0 to shrink the accept queue
        // to one pending connection (Linux allows re-listening to change the backlog).
        // SAFETY: listen on a socket this function owns; no memory is passed.
        let rc = unsafe { libc::listen(listener.as_raw_fd(), 0) };
        assert_eq!(rc, 0, "listen(fd, 0): {}", std::io::Error::last_os_error());
        let addr = listener.local_addr().unwrap();
        let filler = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1))
            .expect("the first connection fills the accept queue");
        // Check the premise on this kernel: a further connect must time out, not succeed.
        let probe = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300));
        assert!(
            probe
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::TimedOut),
            "a full accept queue should make connect hang on this kernel, got {probe:?}"
        );
        SilentListener {
            listener,
            _filler: filler,
        }
    }

    fn addr_string(&self) -> String {
        self.listener.local_addr().unwrap().to_string()
    }
}

#[test]
fn server_that_never_answers_the_connect_times_out_one_line_exit_2() {
    let silent = SilentListener::start();
    let server = silent.addr_string();
    let started = std::time::Instant::now();
    let run = run_plain(&["-s", &server, "-t", "1s", "--timeout", "1s"], LIMIT);
    let elapsed = started.elapsed();
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    assert_eq!(
        run.stderr.trim_end(),
        format!("shardslap: cannot connect to memcached at {server}: no answer within 1.0 s"),
        "one line naming the server and the timeout"
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    // The probe is bounded by --timeout: 1 s, plus start-up.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "gave up early: {elapsed:?}"
    );
}

#[test]
fn server_pool_nonsense_is_refused_in_one_line() {
    let cases: [(&[&str], &str); 8] = [
        (
            &["-s", "127.0.0.1:31311", "--distribution", "ketama"],
            "--distribution ketama needs at least 2 servers in -s (got 1)",
        ),
        (
            &[
                "-s",
                "127.0.0.1:31311:0,127.0.0.1:31312",
                "--distribution",
                "ketama",
            ],
            "weight '0' in '127.0.0.1:31311:0' is not in 1..=4294967295",
        ),
        (
            &["-s", "127.0.0.1:31311:2,127.0.0.1:31312"],
            "the weight in '127.0.0.1:31311:2' needs --distribution ketama",
        ),
        (
            &[
                "-s",
                "127.0.0.1:31311:2,127.0.0.1:31312",
                "--distribution",
                "modula",
            ],
            "the weight in '127.0.0.1:31311:2' needs --distribution ketama",
        ),
        (
            &["-s", "a,b", "--distribution", "ketama", "-U"],
            "--distribution cannot be combined with --udp",
        ),
        (
            &["-s", "a,b", "--distribution", "ketama", "-a", "-d", "2"],
            "--distribution cannot be combined with --facebook",
        ),
        (
            &["-s", "a,b", "--distribution", "modula", "-p", "2"],
            "--distribution cannot be combined with --rep-write",
        ),
        (
            &["-s", "a,b", "--distribution", "consistent"],
            "--distribution",
        ),
    ];
    for (flags, says) in cases {
        let mut args = flags.to_vec();
        args.extend(["-t", "1s"]);
        assert_usage_error(&args, says);
        let run = run_plain(&args, LIMIT);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
    }
}

#[test]
fn meta_over_udp_and_unknown_protocols_are_refused_in_one_line() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["--protocol", "meta", "-U"],
            "--protocol meta cannot be combined with --udp",
        ),
        (
            &["--protocol", "meta", "-a", "-d", "2"],
            "--protocol meta cannot be combined with --facebook",
        ),
        (
            &["-B", "--protocol", "ascii"],
            "--binary cannot be combined with --protocol ascii",
        ),
        (&["--protocol", "text"], "--protocol"),
    ];
    for (flags, says) in cases {
        crate::util::assert_refused_in_one_line(flags, says);
    }
}
