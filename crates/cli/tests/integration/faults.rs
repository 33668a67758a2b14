//! Faults during a run that a real memcached cannot produce on cue, through a proxy in front
//! of one (`FakeServer`): a stall, garbage, a connection closed mid-reply; and, over UDP
//! (`UdpDropProxy`), lost reply datagrams. The run reports the fault in its counters, never
//! dies of it, and ends on time.

use std::time::Duration;

use shardslap_schema::OpsObject;
use shardslap_testkit::{FakeServer, Fault, MemcachedServer, ServerOptions, UdpDropProxy};

use crate::engine_counts::LIMIT;
use crate::util::run_with_json;

fn run_through(fault: Fault, extra: &[&str]) -> (crate::util::RunResult, u64) {
    let server = MemcachedServer::start();
    let fake = FakeServer::start(server.addr(), fault);
    let addr = fake.addr_string();
    let mut args = vec!["-s", addr.as_str(), "-T", "1", "-c", "2"];
    args.extend_from_slice(extra);
    let run = run_with_json(&args, LIMIT);
    (run, fake.injected())
}

fn duration_s(run: &crate::util::RunResult) -> f64 {
    run.result().run.duration_s
}

#[test]
fn a_stalled_request_times_out_is_counted_and_its_connection_recycled() {
    let stall = Fault::Stall {
        after_responses: 200,
        stall: Duration::from_millis(2500),
    };
    let (run, injected) = run_through(stall, &["-t", "3s", "--timeout", "1s"]);
    run.assert_success();
    assert_eq!(injected, 1);
    // Every connection waits on held replies: each wait ends after --timeout, is counted,
    // and the connection is recycled — as often as the stall outlasts the timeout.
    let timeouts = run.counters().timeouts;
    assert!((2..=6).contains(&timeouts), "{timeouts} timeouts");
    assert_eq!(run.counters().reconnects, timeouts);
    assert_eq!(run.counters().errors, timeouts);
    // A request in flight at the deadline may wait one --timeout more, never longer.
    assert!(duration_s(&run) < 4.3, "ends on time: {}", duration_s(&run));
}

#[test]
fn garbage_is_a_protocol_error_and_the_connection_is_reset() {
    let garbage = Fault::Garbage {
        after_responses: 200,
        bytes: b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
    };
    let (run, injected) = run_through(garbage, &["-t", "2s"]);
    run.assert_success();
    assert_eq!(injected, 1);
    assert_eq!(run.counters().protocol_errors, 1);
    assert_eq!(run.counters().reconnects, 1);
    assert!(run.counters().errors >= 1);
    assert!(
        run.counters().cmd_get > 1000,
        "the run went on after the garbage"
    );
}

#[test]
fn a_reply_cut_mid_value_without_reconnect_ends_the_run_early_with_results() {
    let cut = Fault::CloseMidResponse {
        after_responses: 200,
    };
    let (run, injected) = run_through(cut, &["-t", "5s"]);
    assert_eq!(injected, 1);
    assert_eq!(run.status.code(), Some(1), "stderr:\n{}", run.stderr);
    assert_eq!(run.counters().disconnects, 1);
    assert!(run.counters().cmd_get + run.counters().cmd_set >= 200);
    assert!(duration_s(&run) < 4.0, "ended early: {}", duration_s(&run));
}

#[test]
fn a_reply_cut_mid_value_with_reconnect_is_counted_and_the_run_goes_on() {
    let cut = Fault::CloseMidResponse {
        after_responses: 200,
    };
    let (run, injected) = run_through(cut, &["-t", "2s", "-R"]);
    run.assert_success();
    assert_eq!(injected, 1);
    assert_eq!(run.counters().disconnects, 1);
    assert_eq!(run.counters().reconnects, 1);
    assert!(run.counters().cmd_get > 1000);
}

#[test]
fn lost_udp_replies_are_udp_timeouts_and_the_run_goes_on() {
    let server = MemcachedServer::start_with(ServerOptions {
        udp: true,
        ..ServerOptions::default()
    });
    // Every 300th GET reply datagram is lost. The default workload's replies (1 KiB values)
    // take one datagram each, so each loss is one GET that never gets its answer.
    let proxy = UdpDropProxy::start(server.addr(), 300);
    let addr = proxy.addr_string();
    let mut args = vec!["-s", addr.as_str()];
    args.extend_from_slice(&["-U", "-T", "1", "-c", "4", "-t", "2s", "--timeout", "0.2s"]);
    let before = server.stats();
    let run = run_with_json(&args, LIMIT);
    let delta = server.stats().since(&before);
    run.assert_success();
    let dropped = proxy.dropped();
    let timeouts = run.counters().udp_timeouts;
    assert!(timeouts > 0, "the proxy dropped {dropped} datagrams");
    // Each lost reply is waited for (at most --timeout) and counted, at the deadline too.
    assert_eq!(timeouts, dropped, "one timeout per dropped datagram");
    assert!(run.counters().packets_dropped >= timeouts);
    assert_eq!(
        run.counters().errors,
        timeouts,
        "timeouts are the only errors"
    );
    // The server answered every request; the lost answers are the difference.
    assert_eq!(delta.cmd_get, run.counters().cmd_get + timeouts, "cmd_get");
    assert_eq!(delta.cmd_set, run.counters().cmd_set, "cmd_set");
    assert_eq!(
        proxy.get_datagrams(),
        delta.cmd_get,
        "one reply datagram per GET"
    );
    assert_eq!(
        run.counters().written_bytes,
        delta.bytes_read,
        "every request arrived"
    );
    // The sockets stayed in use: the run kept going after the losses, and ended on time.
    assert!(
        run.counters().cmd_get > 20 * timeouts,
        "{} GETs",
        run.counters().cmd_get
    );
    assert_eq!(run.counters().disconnects + run.counters().reconnects, 0);
    assert!(duration_s(&run) < 2.6, "ends on time: {}", duration_s(&run));
}

/// Requests of `op_stats` (a `totals` or `service` object) that took more than 65 ms: the
/// sum of memaslap's log2 buckets above 2^16 µs.
fn slower_than_65ms(op_stats: Option<&OpsObject>) -> u64 {
    let dist = &op_stats.expect("the ops object is there").total.log2_dist;
    dist.iter().skip(17).sum()
}

#[test]
fn a_200ms_stall_is_one_late_request_per_connection_closed_but_every_scheduled_one_open() {
    const STALL: Duration = Duration::from_millis(200);
    const OPEN_LOOP_SECS: f64 = 3.0;
    let stall = || Fault::Stall {
        after_responses: 2000,
        stall: STALL,
    };
    // run_through runs -c 2: one late request per connection closed, per concurrency open.
    let (closed, injected) = run_through(stall(), &["-t", "2s"]);
    closed.assert_success();
    assert_eq!(injected, 1);
    // Closed loop: each connection had one request out when the server stalled.
    let late_closed = slower_than_65ms(Some(&closed.result().totals));
    assert!(
        (1..=4).contains(&late_closed),
        "{late_closed} late (closed loop)"
    );

    // A rate a loaded test machine sustains with one request in flight per connection, with
    // room to catch up after the stall: at 2000/s a busy CI machine (1 ms round trips through
    // the proxy) had no headroom left and ended 6% short of the rate. 3 s, so the stall
    // (after 2000 responses) comes with a second left to catch up in.
    let open_secs = format!("{OPEN_LOOP_SECS}s");
    let open_args = ["-t", &open_secs, "--rate", "1000", "--arrivals", "uniform"];
    let (open, injected) = run_through(stall(), &open_args);
    open.assert_success();
    assert_eq!(injected, 1);
    // Open loop: every request scheduled in the stall's first ~135 ms is over 65 ms late
    // (1000/s × 0.135 s ≈ 135), counted from its intended send time...
    let late_open = slower_than_65ms(Some(&open.result().totals));
    assert!(late_open > 100, "{late_open} late (open loop)");
    // ...while their service time (from reaching the socket) was short: only those in flight
    // when the server stalled waited on it.
    let late_service = slower_than_65ms(open.result().service.as_ref());
    assert!(
        (1..=4).contains(&late_service),
        "{late_service} slow in service time"
    );
    assert_eq!(
        open.counters().dropped,
        0,
        "the backlog stayed under --max-queue"
    );
    let rate = open
        .result()
        .rate
        .as_ref()
        .expect("an open loop has a rate");
    // The loop caught up after the stall: one that never did would lose the stall's share of
    // the run (200 ms of 3 s, ~933/s achieved); this one must make up at least a quarter of
    // that. The report's own "met" (99%) is not asserted: on a loaded CI machine the catch-up
    // can end a few dozen requests short (981/s once).
    let requested = rate.requested_per_sec as f64;
    let stall_share = STALL.as_secs_f64() / OPEN_LOOP_SECS;
    let floor = requested * (1.0 - 0.75 * stall_share);
    assert!(rate.achieved_per_sec > floor, "{rate:?}");
}
