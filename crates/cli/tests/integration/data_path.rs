//! The two data paths: TCP runs take the driver's own ring, datagrams and
//! `SHARDSLAP_DATA_PATH=glommio` take glommio's sockets, and both count exactly what the
//! server counted. (`scripts/test.sh` also runs this whole suite a second time with
//! `SHARDSLAP_DATA_PATH=glommio`, so every server-agreement test covers the fallback.)

use shardslap_testkit::{MemcachedServer, ServerOptions};

use crate::engine_counts::{assert_counts_match, LIMIT};
use crate::util::run_with_json_env;

const ENV: &str = "SHARDSLAP_DATA_PATH";

fn run_on(server: &MemcachedServer, path: &str, extra: &[&str]) -> crate::util::RunResult {
    let addr = server.addr_string();
    let mut args = vec!["-s", addr.as_str(), "-T", "1", "--cores", "0"];
    args.extend_from_slice(extra);
    run_with_json_env(&args, &[(ENV, path)], LIMIT)
}

/// Runs on `path` and checks every count against the server's own stats delta.
fn run_and_match(server: &MemcachedServer, path: &str, extra: &[&str]) -> crate::util::RunResult {
    let before = server.stats();
    let run = run_on(server, path, extra);
    let delta = server.stats().since(&before);
    assert_counts_match(&run, &delta);
    run
}

fn data_path(run: &crate::util::RunResult) -> &str {
    run.result().run.data_path.as_deref().unwrap_or("")
}

#[test]
fn tcp_takes_the_ring_and_counts_match_the_server() {
    let server = MemcachedServer::start();
    for extra in [
        &["-c", "4", "-x", "4000"][..],
        &["-c", "4", "-x", "4000", "--pipeline", "8", "-d", "3"][..],
        &["-c", "2", "-x", "2000", "-B", "--pipeline", "4"][..],
    ] {
        let run = run_and_match(&server, "ring", extra);
        assert_eq!(data_path(&run), "ring", "{extra:?}");
        assert!(
            !run.stderr.contains("data path"),
            "no fallback to announce: {}",
            run.stderr
        );
    }
}

#[test]
fn forced_one_shot_receives_on_the_ring_count_match_the_server_too() {
    // One request in flight takes multishot receives by default; this is the ring's path for
    // a kernel that refuses provided buffers.
    let server = MemcachedServer::start();
    for extra in [
        &["-c", "4", "-x", "4000"][..],
        &["-c", "4", "-x", "4000", "-d", "3"][..],
        &["-c", "2", "-x", "2000", "-B"][..],
    ] {
        let run = run_and_match(&server, "ring-oneshot", extra);
        assert_eq!(data_path(&run), "ring", "{extra:?}");
        assert!(
            !run.stderr.contains("receive"),
            "a forced choice is not news: {}",
            run.stderr
        );
    }
}

#[test]
fn multishot_receives_count_replies_longer_than_their_buffers() {
    // 200 KB values: each reply spans several 64 KiB provided buffers, and eight connections'
    // replies at once take more than the sixteen buffers there are, so receives end for want
    // of a buffer (ENOBUFS) and are armed again. Every count still matches the server's.
    let server = MemcachedServer::start();
    let run = run_and_match(&server, "ring", &["-c", "8", "-x", "2000", "-X", "200000"]);
    assert_eq!(data_path(&run), "ring");
    let counters = run.counters();
    assert_eq!(
        (
            counters.errors,
            counters.protocol_errors,
            counters.cmd_get + counters.cmd_set
        ),
        (0, 0, 2000),
        "{counters:?}"
    );
}

#[test]
fn forced_glommio_path_counts_match_the_server_too() {
    let server = MemcachedServer::start();
    for extra in [
        &["-c", "4", "-x", "4000"][..],
        &["-c", "4", "-x", "4000", "--pipeline", "8", "-d", "3"][..],
    ] {
        let run = run_and_match(&server, "glommio", extra);
        assert_eq!(data_path(&run), "glommio", "{extra:?}");
    }
}

#[test]
fn udp_stays_on_glommio_sockets() {
    let server = MemcachedServer::start_with(ServerOptions {
        udp: true,
        ..ServerOptions::default()
    });
    let run = run_on(&server, "ring", &["-U", "-c", "2", "-x", "500"]);
    run.assert_success();
    assert_eq!(data_path(&run), "glommio");
}

#[test]
fn busy_poll_counts_match_the_server_on_the_ring_and_is_said_to_do_nothing_on_glommio() {
    let server = MemcachedServer::start();
    for extra in [
        &["-c", "4", "-x", "4000", "--busy-poll"][..],
        &["-c", "4", "-x", "4000", "--pipeline", "8", "--busy-poll"][..],
        &["-c", "4", "-t", "1s", "-P", "2000", "--busy-poll"][..],
    ] {
        let run = run_and_match(&server, "ring", extra);
        assert_eq!(data_path(&run), "ring", "{extra:?}");
        assert_eq!(run.json()["config"]["reply_wait"], "poll", "{extra:?}");
        assert!(!run.stderr.contains("busy-poll"), "{}", run.stderr);
    }
    let run = run_and_match(
        &server,
        "glommio",
        &["-c", "4", "-x", "2000", "--busy-poll"],
    );
    assert_eq!(data_path(&run), "glommio");
    assert_eq!(
        run.stderr.matches("--busy-poll has no effect").count(),
        1,
        "{}",
        run.stderr
    );
}
