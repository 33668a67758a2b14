use std::time::Duration;

use super::*;
use crate::latency::{Moments, LOG2_BUCKETS};
use crate::report::Warmup;
use crate::stats::ShardStats;
use crate::test_support::{report, sample_info};

/// The real memaslap capture (memaslap_spec.md §9.1), unedited.
const SAMPLE: &str = include_str!("../../testdata/memaslap_sample_run.txt");

/// One printed row's inputs: (Ops, Avg, Std_dev, Geo_dist, Min, Max).
type Row = (u64, u64, f64, f64, u64, u64);

/// Rebuilds an accumulator whose memaslap columns print as `row`.
fn stats(row: Row, dist: [u64; LOG2_BUCKETS]) -> LatencyStats {
    let (count, avg, std, geo, min_us, max_us) = row;
    let n = count as f64;
    let sum_sq = std * std * (n - 1.0) + n * (avg * avg) as f64;
    LatencyStats::from_moments(&Moments {
        count,
        sum_us: avg * count,
        sum_sq_us: sum_sq.round() as u128,
        geo_mean_us: geo,
        min_us,
        max_us,
        misses: 0,
        dist,
    })
}

/// Get and Set accumulators whose rows print as `get` and `set`. Their Total is derived, so
/// memaslap's own dumps go through [`render_memaslap_period`].
fn ops(get: Row, set: Row) -> OpStats {
    let zero = [0; LOG2_BUCKETS];
    OpStats {
        get: stats(get, zero),
        set: stats(set, zero),
    }
}

/// A periodic dump whose Total rows print as `total`'s (period, global) rows: memaslap's
/// dumps are not exactly Get + Set (their Total Ops differ by a few), so these are given
/// rather than derived.
fn render_memaslap_period(
    period: &OpStats,
    global: &OpStats,
    total: (Row, Row),
    global_secs: f64,
) -> String {
    let zero = [0; LOG2_BUCKETS];
    let tables = PeriodTables {
        period,
        global,
        period_secs: 1.0,
        global_secs,
        nominal_object_len: 1088.0,
        clear_screen: true,
    };
    let mut out = String::new();
    tables
        .write_with_totals(&mut out, &stats(total.0, zero), &stats(total.1, zero))
        .unwrap();
    out
}

fn dist(head: &[u64]) -> [u64; LOG2_BUCKETS] {
    let mut d = [0; LOG2_BUCKETS];
    d[..head.len()].copy_from_slice(head);
    d
}

/// The sample split at each screen clear: banner, dump 1, 2, 3 (+ final).
fn sample_parts() -> Vec<&'static str> {
    SAMPLE.split(CLEAR_SCREEN).collect()
}

#[test]
fn banner_matches_memaslap() {
    assert_eq!(render_banner(&sample_info()), sample_parts()[0]);
}

#[test]
fn banner_ends_with_the_seed_after_memaslaps_lines() {
    let mut info = sample_info();
    info.config["seed"] = serde_json::json!(42);
    let banner = render_banner(&info);
    let memaslap = sample_parts()[0];
    assert!(banner.starts_with(memaslap), "{banner}");
    assert_eq!(
        &banner[memaslap.len()..],
        "seed: 42 (repeat the run with --seed 42)\n"
    );
}

#[test]
fn banner_execute_number_mode() {
    let mut info = sample_info();
    info.run_time_s = None;
    info.execute_number = Some(100_000);
    let banner = render_banner(&info);
    assert!(
        banner.contains("\nexecute number: 100000\nwindows size: 10k\n"),
        "{banner}"
    );
    assert!(!banner.contains("run time"));
}

#[test]
fn header_line_matches_memaslap() {
    let header = "Type     Time(s)  Ops          TPS(ops/s)   Net(M/s)   Get_miss   \
                  Min(us)  Max(us)    Avg(us)    Std_dev    Geo_dist  \n";
    let global = ops((1, 1, 0.0, 1.0, 1, 1), (1, 1, 0.0, 1.0, 1, 1));
    let out = render_period(&global, &global, 1.0, 1.0, 1088.0, false);
    assert!(
        out.starts_with(&format!("Get Statistics\n{header}")),
        "{out:?}"
    );
    assert!(SAMPLE.contains(header));
}

#[test]
fn periodic_dumps_match_memaslap_byte_for_byte() {
    // (period, global) rows for Get, Set and Total, second by second.
    let dumps: [[(Row, Row); 3]; 3] = [
        [
            (
                (112690, 63, 58.04, 51.37, 8, 1734),
                (112690, 63, 58.04, 51.37, 8, 1734),
            ),
            (
                (12523, 67, 69.48, 53.91, 8, 1760),
                (12523, 67, 69.48, 53.91, 8, 1760),
            ),
            (
                (125219, 63, 59.72, 51.61, 8, 1760),
                (125219, 63, 59.72, 51.61, 8, 1760),
            ),
        ],
        [
            (
                (91475, 78, 129.22, 58.77, 8, 4711),
                (204165, 70, 96.73, 54.57, 8, 4711),
            ),
            (
                (10166, 79, 127.07, 59.74, 9, 4175),
                (22689, 72, 99.95, 56.45, 8, 4175),
            ),
            (
                (101635, 78, 129.07, 58.88, 8, 4711),
                (226854, 70, 97.20, 54.75, 8, 4711),
            ),
        ],
        [
            (
                (87225, 82, 143.93, 66.09, 8, 5247),
                (291390, 73, 113.46, 57.79, 8, 5247),
            ),
            (
                (9691, 83, 146.43, 67.41, 9, 5198),
                (32380, 76, 115.47, 59.53, 8, 5198),
            ),
            (
                (96918, 82, 144.23, 66.22, 8, 5247),
                (323772, 73, 113.86, 57.96, 8, 5247),
            ),
        ],
    ];
    let parts = sample_parts();
    for (i, [get, set, total]) in dumps.into_iter().enumerate() {
        let period = ops(get.0, set.0);
        let global = ops(get.1, set.1);
        let out = render_memaslap_period(&period, &global, total, (i + 1) as f64);
        // The last part also holds the final report; compare the dump only.
        let expected = parts[i + 1].split("Get Statistics (").next().unwrap();
        assert_eq!(out, format!("{CLEAR_SCREEN}{expected}"), "dump {}", i + 1);
    }
}

#[test]
fn periodic_rows_spot_checks() {
    let period = ops(
        (87225, 82, 143.93, 66.09, 8, 5247),
        (9691, 83, 146.43, 67.41, 9, 5198),
    );
    let global = ops(
        (291390, 73, 113.46, 57.79, 8, 5247),
        (32380, 76, 115.47, 59.53, 8, 5198),
    );
    let tables = PeriodTables {
        period: &period,
        global: &global,
        period_secs: 1.0,
        global_secs: 3.0,
        nominal_object_len: 1088.0,
        clear_screen: false,
    };
    let out = tables.render();
    assert!(!out.contains('\x1b'));
    assert!(out.contains(
        "\nPeriod   1        87225        87225        90.5       0          8        5247       82         143.93     66.09\n"
    ));
    assert!(out.contains(
        "\nGlobal   3        291390       97130        100.8      0          8        5247       73         113.46     57.79\n"
    ));
}

#[test]
fn table_left_out_while_global_count_is_zero() {
    let mut global = OpStats::default();
    global.record_get(50_000, 1);
    let period = OpStats::default();
    let out = render_period(&period, &global, 1.0, 5.0, 100.0, false);
    assert!(out.contains("Get Statistics\n"));
    assert!(!out.contains("Set Statistics"));
    assert!(out.contains("Total Statistics\n"));
    // An empty period prints zeros, not garbage.
    assert!(out.contains(
        "\nPeriod   1        0            0            0.0        0          0        0          0          0.00       0.00\n"
    ));
    assert!(out.contains(
        "\nGlobal   5        1            0            0.0        1          50       50         50         0.00       50.00\n"
    ));
}

/// The final report of the sample run, rebuilt from its printed numbers.
fn sample_report() -> Report {
    let mut shard = ShardStats::new(0, 1);
    shard.ops = OpStats {
        get: stats(
            (291399, 73, 113.47, 57.79, 8, 5247),
            dist(&[
                0, 0, 0, 40, 10090, 42774, 107357, 108818, 19401, 1585, 749, 397, 144, 44,
            ]),
        ),
        set: stats(
            (32382, 76, 115.49, 59.53, 8, 5198),
            dist(&[
                0, 0, 0, 1, 801, 4811, 11695, 12344, 2336, 214, 116, 42, 18, 4,
            ]),
        ),
    };
    // No Total: memaslap's final one (323781 events, Avg 73, Std 113.87, Geo 57.96, Min 8,
    // Max 5247, log2 dist 0, 0, 0, 41, 10891, 47585, 119052, 121162, 21737, 1799, 865, 439,
    // 162, 48) has Get + Set's counts and buckets, and the total derived from the two above
    // prints it, as the expected output checks.
    shard.counters = Counters {
        cmd_get: 291407,
        cmd_set: 32382,
        get_misses: 0,
        written_bytes: 56180040,
        read_bytes: 323711946,
        object_bytes: 35231616,
        ..Counters::default()
    };
    // memaslap's end time came ~0.5 ms after the 3 s mark: TPS 107912.
    report(vec![shard], Duration::from_micros(3_000_490))
}

#[test]
fn final_report_matches_memaslap_byte_for_byte() {
    // The sample ran with -S: memaslap's blocks come first, then its summary up to the
    // `Run time` line, byte for byte; our percentile table follows after a blank line.
    let out = render_final(&sample_report(), FinalLayout::WithStatFreq);
    let sample_final = &SAMPLE[SAMPLE.find("Get Statistics (").unwrap()..];
    assert!(out.starts_with(sample_final), "{out}");
    let extras = &out[sample_final.len()..];
    assert!(
        extras.starts_with("\nLatency percentiles (us)\n"),
        "{extras}"
    );
    assert!(out.contains("\nRun time: 3.0s Ops: 323789 TPS: 107912 Net_rate: 120.7M/s\n"));
}

#[test]
fn without_stat_freq_memaslaps_lines_come_first_and_the_blocks_after_run_time() {
    // memaslap without -S prints only the summary and `Run time`; a script reading its
    // output by position must find them there, with nothing between them.
    let out = render_final(&sample_report(), FinalLayout::Plain);
    let sample_final = &SAMPLE[SAMPLE.find("Get Statistics (").unwrap()..];
    let (sample_blocks, sample_summary) =
        sample_final.split_at(sample_final.find("cmd_get:").unwrap());
    assert!(out.starts_with(sample_summary), "{out}");
    let extras = &out[sample_summary.len()..];
    assert!(
        extras.starts_with(&format!("\n{sample_blocks}")),
        "{extras}"
    );
    assert!(
        extras[1 + sample_blocks.len()..].starts_with("Latency percentiles (us)\n"),
        "{extras}"
    );
    assert_eq!(out.matches("Run time:").count(), 1);
}

#[test]
fn final_block_lines() {
    let out = render_final(&sample_report(), FinalLayout::WithStatFreq);
    for line in [
        "   Min:         8\n",
        "   Std:    113.47\n",
        "       0:        0        0        0       40\n",
        "       4:    10090    42774   107357   108818\n",
        "      12:      144       44\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

fn block(s: &LatencyStats) -> String {
    let mut out = String::new();
    write_block(&mut out, "Get", s).unwrap();
    out
}

#[test]
fn std_line_only_when_more_than_one_event() {
    let mut s = LatencyStats::new();
    s.record(3_000);
    assert_eq!(
        block(&s),
        "Get Statistics (1 events)\n   Min:         3\n   Max:         3\n   Avg:         3\n   \
         Geo:      3.00\n   Log2 Dist:\n       0:        0        0        1\n\n"
    );
    s.record(3_000);
    assert!(block(&s).contains("   Std:      0.00\n"));
}

#[test]
fn empty_block_prints_bucket_zero_only() {
    let out = block(&LatencyStats::new());
    assert!(
        out.ends_with("   Log2 Dist:\n       0:        0\n\n"),
        "{out}"
    );
}

#[test]
fn log2_rows_start_rule() {
    // First non-empty row (8) lies at or before max (13) − 4: start there.
    let d = dist(&[0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 7]);
    assert_eq!(first_log2_row(&d, 13), 8);
    // Non-zero only in row 8 with max 10: 8 > 10 − 4, so memaslap starts at 0.
    let d = dist(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4]);
    assert_eq!(first_log2_row(&d, 10), 0);
    // Max below 4: always row 0.
    assert_eq!(first_log2_row(&dist(&[0, 0, 1]), 2), 0);
    // Rendered: rows 8 and 12 only.
    let mut s = LatencyStats::new();
    s.record(200_000); // 200 µs → bucket 8
    s.record(5_000_000); // 5000 µs → bucket 13
    let out = block(&s);
    assert!(
        out.ends_with("   Log2 Dist:\n       8:        1        0        0        0\n      12:        0        1\n\n"),
        "{out}"
    );
}

#[test]
fn percentile_table_layout() {
    let mut shard = ShardStats::new(0, 0);
    for us in 1..=1000 {
        shard.ops.record_get(us * 1000, 0);
    }
    let out = render_final(
        &report(vec![shard], Duration::from_secs(1)),
        FinalLayout::WithStatFreq,
    );
    let table = out
        .split("Latency percentiles (us)\n")
        .nth(1)
        .and_then(|t| t.split("\n\n").next())
        .unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "Type     p50        p90        p99        p99.9      p99.99     max"
    );
    assert_eq!(
        lines[1],
        // HDR values are the highest equivalent (≤ 0.1% above), capped at max.
        "Get      500.2      900.1      990.2      999.4      1000.0     1000.0"
    );
    // No Set row (no SETs); Total equals Get.
    assert_eq!(lines.len(), 3);
    assert!(lines[2].starts_with("Total    500.2 "));
}

#[test]
fn no_percentile_table_without_events() {
    let out = render_final(
        &report(vec![ShardStats::new(0, 0)], Duration::from_secs(1)),
        FinalLayout::WithStatFreq,
    );
    assert!(!out.contains("percentiles"));
    assert!(out.contains("Total Statistics (0 events)\n"));
}

#[test]
fn optional_summary_lines() {
    let mut shard = ShardStats::new(0, 0);
    shard.counters = Counters {
        cmd_get: 10,
        cmd_set: 5,
        verify_misses: 1,
        verify_failed: 2,
        expired_get: 3,
        unexpired_unget: 4,
        packet_disorder: 6,
        packets_dropped: 7,
        udp_timeouts: 8,
        errors: 9,
        timeouts: 4,
        disconnects: 2,
        ..Counters::default()
    };
    let quiet = render_final(
        &report(vec![shard.clone()], Duration::from_secs(2)),
        FinalLayout::WithStatFreq,
    );
    for absent in [
        "verify_",
        "expired_get",
        "packet_",
        "udp_timeout",
        "Warm-up",
        "Ended early",
    ] {
        assert!(!quiet.contains(absent), "{absent} in\n{quiet}");
    }

    let mut full = report(vec![shard], Duration::from_secs(2));
    full.info.verify = true;
    full.info.exp_verify = true;
    full.info.udp = true;
    full.warmup = Some(Warmup {
        sets: 40960,
        duration: Duration::from_millis(1250),
    });
    full.interrupted = Some("stopped by SIGINT".into());
    let out = render_final(&full, FinalLayout::WithStatFreq);
    let summary = &out[out.find("cmd_get:").unwrap()..];
    // memaslap's lines up to `Run time` untouched; ours after it.
    assert_eq!(
        summary,
        "cmd_get: 10\ncmd_set: 5\nget_misses: 0\n\
         verify_misses: 1\nverify_failed: 2\n\
         expired_get: 3\nunexpired_unget: 4\n\
         written_bytes: 0\nread_bytes: 0\nobject_bytes: 0\n\
         packet_disorder: 6\npacket_drop: 7\nudp_timeout: 8\n\
         \n\
         Run time: 2.0s Ops: 15 TPS: 8 Net_rate: 0.0M/s\n\
         \n\
         errors: 9\ntimeouts: 4\n\
         disconnects: 2\nreconnects: 0\n\
         Warm-up: 40960 sets in 1.2s (not in latency or run time)\n\
         Ended early: stopped by SIGINT (partial results)\n"
    );
}

#[test]
fn zero_duration_gives_zero_rates() {
    let out = render_final(
        &report(vec![ShardStats::new(0, 0)], Duration::ZERO),
        FinalLayout::WithStatFreq,
    );
    assert!(
        out.ends_with("\n\nRun time: 0.0s Ops: 0 TPS: 0 Net_rate: 0.0M/s\n"),
        "{out}"
    );
}
