//! `--rate`: an open loop against a real memcached. Below the server's capacity the achieved
//! rate is the requested one and the counts are the server's; above it the report says the
//! rate was not met. (The stall that shows coordinated omission caught is in `faults`.)

use shardslap_testkit::MemcachedServer;

use crate::engine_counts::{assert_counts_match, run_against};

#[test]
fn below_capacity_the_rate_is_met_within_one_percent_and_counts_are_the_servers() {
    let server = MemcachedServer::start();
    for arrivals in ["uniform", "poisson"] {
        let (run, delta) = run_against(
            &server,
            &[
                "-T",
                "1",
                "-c",
                "8",
                "-t",
                "3s",
                "--rate",
                "6000",
                "--arrivals",
                arrivals,
                "--pipeline",
                "4",
            ],
        );
        assert_counts_match(&run, &delta);
        let rate = run.result().rate.as_ref().expect("an open loop has a rate");
        let achieved = rate.achieved_per_sec;
        // Even gaps land on the rate; a Poisson process's count over 18k arrivals varies by
        // about 0.75% (one standard deviation), so it gets three of them.
        let tolerance = if arrivals == "uniform" { 0.01 } else { 0.025 };
        assert!(
            (achieved / 6000.0 - 1.0).abs() <= tolerance,
            "{arrivals}: achieved {achieved:.0}/s"
        );
        assert_eq!(rate.requested_per_sec, 6000);
        assert_eq!(run.counters().dropped, 0);
        assert!(run.stdout.contains("Rate: requested 6000/s, achieved"));
        // Both latencies are reported: from the intended time, and service time.
        assert!(run.result().service.as_ref().unwrap().total.ops > 0);
        assert!(run.stdout.contains("Service time percentiles"));
    }
}

#[test]
fn above_capacity_the_report_says_the_rate_was_not_met() {
    let server = MemcachedServer::start();
    let (run, delta) = run_against(
        &server,
        &[
            "-T",
            "1",
            "-c",
            "2",
            "-t",
            "2s",
            "--rate",
            "5m",
            "--max-queue",
            "64",
        ],
    );
    assert_counts_match(&run, &delta);
    assert!(!run.result().rate.as_ref().unwrap().met);
    assert!(
        run.stdout
            .contains("(not met: sends fell behind their schedule"),
        "{}",
        run.stdout
    );
    assert!(
        run.counters().dropped > 0,
        "the backlog overflowed and was counted"
    );
}

#[test]
fn open_loop_nonsense_is_one_line_and_exit_2() {
    for (args, says) in [
        (&["--rate", "0"][..], "--rate: must be greater than 0"),
        (
            &["--rate", "100", "-P", "1k"][..],
            "--rate cannot be combined with --tps",
        ),
        (
            &["--rate", "100", "--max-queue", "0"][..],
            "--max-queue: must be at least 1",
        ),
        (&["--max-queue", "10"][..], "needs --rate"),
    ] {
        crate::util::assert_refused_in_one_line(args, says);
    }
}
