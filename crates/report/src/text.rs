//! memaslap's text layout, byte for byte: the start-up banner, the periodic
//! Get/Set/Total tables and the final report; plus shardslap's percentile
//! table and its extra summary lines, each printed only when it has
//! something to say.
//!
//! Stage: rendering; returns `String`s, the caller prints them.

use std::fmt::{self, Write};

use crate::latency::{LatencyStats, PERCENTILES};
use crate::report::Report;
use crate::run_info::RunInfo;
use crate::stats::{Counters, OpStats};

/// memaslap's screen clear before each periodic dump (cursor home, erase).
const CLEAR_SCREEN: &str = "\x1b[1;1H\x1b[2J\n";
const MIB: f64 = 1_048_576.0;

/// The start-up banner, e.g. `servers: 127.0.0.1:11211` … `get proportion:
/// get_prop=0.90`, one line each, as memaslap prints it, then the seed.
#[must_use]
pub fn render_banner(info: &RunInfo) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_banner(&mut out, info);
    out
}

fn write_banner(out: &mut impl Write, info: &RunInfo) -> fmt::Result {
    writeln!(out, "servers: {}", info.servers)?;
    writeln!(out, "threads count: {}", info.threads)?;
    writeln!(out, "concurrency: {}", info.concurrency)?;
    match (info.run_time_s, info.execute_number) {
        (Some(secs), _) => writeln!(out, "run time: {secs}s")?,
        (None, Some(n)) => writeln!(out, "execute number: {n}")?,
        (None, None) => {}
    }
    writeln!(out, "windows size: {}k", info.window_len / 1024)?;
    writeln!(out, "set proportion: set_prop={:.2}", info.set_proportion)?;
    writeln!(out, "get proportion: get_prop={:.2}", info.get_proportion)?;
    // Not memaslap's: after its lines, so they keep their positions.
    if let Some(seed) = info.seed() {
        writeln!(out, "seed: {seed} (repeat the run with --seed {seed})")?;
    }
    Ok(())
}

/// One periodic dump: the Get, Set and Total tables, each with a Period
/// and a Global row. A table is left out while its global count is 0.
#[derive(Debug, Clone, Copy)]
pub struct PeriodTables<'a> {
    /// What happened in this period only.
    pub period: &'a OpStats,
    /// Everything since the measured run started.
    pub global: &'a OpStats,
    /// Length of the period in seconds (rates divide by it; its rounded
    /// value is the Period row's Time(s)).
    pub period_secs: f64,
    /// Seconds since the measured run started (likewise for the Global row).
    pub global_secs: f64,
    /// memaslap's nominal object size B in bytes: `Net(M/s)` is
    /// events × B / 2^20 / seconds, not measured bytes.
    pub nominal_object_len: f64,
    /// Prefix the ANSI clear-screen; pass true only when stdout is a
    /// terminal.
    pub clear_screen: bool,
}

impl PeriodTables<'_> {
    /// The dump as memaslap prints it with `-S`.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = self.write(&mut out);
        out
    }

    fn write(&self, out: &mut impl Write) -> fmt::Result {
        self.write_with_totals(out, &self.period.total(), &self.global.total())
    }

    /// The dump, its Total table's Period and Global rows from `period_total` and
    /// `global_total`: [`OpStats::total`] of `period` and `global`, except in tests that
    /// replay memaslap's own dumps, whose Total rows are not exactly Get + Set (their Ops
    /// differ by a few).
    fn write_with_totals(
        &self,
        out: &mut impl Write,
        period_total: &LatencyStats,
        global_total: &LatencyStats,
    ) -> fmt::Result {
        if self.clear_screen {
            out.write_str(CLEAR_SCREEN)?;
        }
        let tables = [
            ("Get", &self.period.get, &self.global.get),
            ("Set", &self.period.set, &self.global.set),
            ("Total", period_total, global_total),
        ];
        for (name, period, global) in tables {
            if global.count() == 0 {
                continue;
            }
            writeln!(out, "{name} Statistics")?;
            writeln!(
                out,
                "{:<8} {:<8} {:<12} {:<12} {:<10} {:<10} {:<8} {:<10} {:<10} {:<10} {:<10}",
                "Type",
                "Time(s)",
                "Ops",
                "TPS(ops/s)",
                "Net(M/s)",
                "Get_miss",
                "Min(us)",
                "Max(us)",
                "Avg(us)",
                "Std_dev",
                "Geo_dist"
            )?;
            self.write_row(out, "Period", period, self.period_secs)?;
            self.write_row(out, "Global", global, self.global_secs)?;
            writeln!(out)?;
        }
        Ok(())
    }

    fn write_row(
        &self,
        out: &mut impl Write,
        label: &str,
        s: &LatencyStats,
        secs: f64,
    ) -> fmt::Result {
        let tps = per_sec(s.count() as f64, secs).floor() as u64;
        let net = per_sec(s.count() as f64 * self.nominal_object_len / MIB, secs);
        writeln!(
            out,
            "{:<8} {:<8} {:<12} {:<12} {:<10.1} {:<10} {:<8} {:<10} {:<10} {:<10.2} {:.2}",
            label,
            secs.round() as u64,
            s.count(),
            tps,
            net,
            s.misses(),
            s.min_us(),
            s.max_us(),
            s.mean_us(),
            s.stddev_us(),
            s.geo_mean_us()
        )
    }
}

/// Renders a [`PeriodTables`] from its parts; see its fields.
#[must_use]
pub fn render_period(
    period: &OpStats,
    global: &OpStats,
    period_secs: f64,
    global_secs: f64,
    nominal_object_len: f64,
    clear_screen: bool,
) -> String {
    PeriodTables {
        period,
        global,
        period_secs,
        global_secs,
        nominal_object_len,
        clear_screen,
    }
    .render()
}

/// Where the final report puts memaslap's `<Name> Statistics (<n> events)` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalLayout {
    /// `-S` was given: memaslap prints the blocks first, before `cmd_get:`, and so do we.
    WithStatFreq,
    /// No `-S`: memaslap prints no blocks, so ours come after its `Run time` line, with the
    /// other extras, and a script reading memaslap's lines by position still finds them.
    Plain,
}

impl FinalLayout {
    /// The layout memaslap uses for a run with (`Some`) or without (`None`) `-S`.
    #[must_use]
    pub fn for_stat_freq<T>(stat_freq: Option<T>) -> Self {
        match stat_freq {
            Some(_) => FinalLayout::WithStatFreq,
            None => FinalLayout::Plain,
        }
    }
}

/// The final report: memaslap's lines in memaslap's order (with `-S` its three
/// `<Name> Statistics (<n> events)` blocks, then the summary counters and the `Run time:`
/// line), then shardslap's extras: fault, warm-up and interruption lines, the blocks when
/// memaslap would not print them, and the percentile table.
#[must_use]
pub fn render_final(report: &Report, layout: FinalLayout) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_final(&mut out, report, layout);
    out
}

fn write_final(out: &mut impl Write, report: &Report, layout: FinalLayout) -> fmt::Result {
    let ops = &report.totals.ops;
    if layout == FinalLayout::WithStatFreq {
        write_blocks(out, ops)?;
    }
    write_summary(out, report)?;
    write_extras(out, report, layout)
}

fn write_blocks(out: &mut impl Write, ops: &OpStats) -> fmt::Result {
    write_block(out, "Get", &ops.get)?;
    write_block(out, "Set", &ops.set)?;
    write_block(out, "Total", &ops.total())
}

fn write_block(out: &mut impl Write, name: &str, s: &LatencyStats) -> fmt::Result {
    writeln!(out, "{name} Statistics ({} events)", s.count())?;
    writeln!(out, "   Min:  {:>8}", s.min_us())?;
    writeln!(out, "   Max:  {:>8}", s.max_us())?;
    writeln!(out, "   Avg:  {:>8}", s.mean_us())?;
    writeln!(out, "   Geo:  {:>8.2}", s.geo_mean_us())?;
    if s.count() > 1 {
        writeln!(out, "   Std:  {:>8.2}", s.stddev_us())?;
    }
    out.write_str("   Log2 Dist:")?;
    let dist = s.log2_dist();
    let last = dist.iter().rposition(|&c| c != 0).unwrap_or(0);
    for (i, count) in dist
        .iter()
        .enumerate()
        .take(last + 1)
        .skip(first_log2_row(dist, last))
    {
        if i % 4 == 0 {
            write!(out, "\n      {i:>2}:")?;
        }
        write!(out, "   {count:>6}")?;
    }
    out.write_str("\n\n")
}

/// memaslap's first printed log2 row: the first row of 4 with a non-zero
/// bucket among rows starting at or before `last - 4`, else row 0.
fn first_log2_row(dist: &[u64], last: usize) -> usize {
    (0..)
        .step_by(4)
        .take_while(|&row| row + 4 <= last)
        .find(|&row| dist[row..row + 4].iter().any(|&c| c != 0))
        .unwrap_or(0)
}

fn write_percentiles(out: &mut impl Write, ops: &OpStats) -> fmt::Result {
    write_percentile_table(out, "Latency percentiles (us)", ops)
}

fn write_percentile_table(out: &mut impl Write, title: &str, ops: &OpStats) -> fmt::Result {
    if ops.total_count() == 0 {
        return Ok(());
    }
    writeln!(out, "{title}")?;
    let mut line = format!("{:<8}", "Type");
    for p in &PERCENTILES {
        write!(line, " {:<10}", p.label)?;
    }
    line.push_str(" max");
    writeln!(out, "{line}")?;
    let total = ops.total();
    for (name, s) in [("Get", &ops.get), ("Set", &ops.set), ("Total", &total)] {
        if s.count() == 0 {
            continue;
        }
        let mut line = format!("{name:<8}");
        for p in &PERCENTILES {
            write!(line, " {:<10.1}", s.percentile_us(p.quantile))?;
        }
        write!(line, " {:.1}", s.max_ns() as f64 / 1000.0)?;
        writeln!(out, "{line}")?;
    }
    writeln!(out)
}

fn write_summary(out: &mut impl Write, report: &Report) -> fmt::Result {
    let info = &report.info;
    let c: &Counters = &report.totals.counters;
    writeln!(out, "cmd_get: {}", c.cmd_get)?;
    writeln!(out, "cmd_set: {}", c.cmd_set)?;
    writeln!(out, "get_misses: {}", c.get_misses)?;
    if info.verify {
        writeln!(out, "verify_misses: {}", c.verify_misses)?;
        writeln!(out, "verify_failed: {}", c.verify_failed)?;
    }
    if info.exp_verify {
        writeln!(out, "expired_get: {}", c.expired_get)?;
        writeln!(out, "unexpired_unget: {}", c.unexpired_unget)?;
    }
    writeln!(out, "written_bytes: {}", c.written_bytes)?;
    writeln!(out, "read_bytes: {}", c.read_bytes)?;
    writeln!(out, "object_bytes: {}", c.object_bytes)?;
    if info.udp {
        writeln!(out, "packet_disorder: {}", c.packet_disorder)?;
        writeln!(out, "packet_drop: {}", c.packets_dropped)?;
        writeln!(out, "udp_timeout: {}", c.udp_timeouts)?;
    }
    writeln!(out)?;
    let secs = report.duration.as_secs_f64();
    let ops = c.cmd_get + c.cmd_set;
    let net = (c.written_bytes + c.read_bytes) as f64 / MIB;
    writeln!(
        out,
        "Run time: {:.1}s Ops: {} TPS: {:.0} Net_rate: {:.1}M/s",
        secs,
        ops,
        per_sec(ops as f64, secs),
        per_sec(net, secs)
    )
}

/// shardslap's lines after memaslap's `Run time`: each only when it has something to say.
fn write_extras(out: &mut impl Write, report: &Report, layout: FinalLayout) -> fmt::Result {
    let mut notes = String::new();
    write_notes(&mut notes, report)?;
    if !notes.is_empty() {
        writeln!(out)?;
        out.write_str(&notes)?;
    }
    let ops = &report.totals.ops;
    if layout == FinalLayout::Plain {
        writeln!(out)?;
        write_blocks(out, ops)?;
    } else if ops.total_count() > 0 {
        writeln!(out)?;
    }
    write_percentiles(out, ops)?;
    // Paced runs: the latency above counts from each intended send time; this from the
    // moment each request reached the socket.
    let title = "Service time percentiles (us, from reaching the socket)";
    write_percentile_table(out, title, &report.totals.service)
}

/// Faults (only when something went wrong), the warm-up and why the run ended early.
fn write_notes(out: &mut impl Write, report: &Report) -> fmt::Result {
    let c: &Counters = &report.totals.counters;
    // shardslap's fault lines, only when something went wrong.
    for (name, value) in [
        ("errors", c.errors),
        ("timeouts", c.timeouts),
        ("protocol_errors", c.protocol_errors),
        ("dropped", c.dropped),
    ] {
        if value > 0 {
            writeln!(out, "{name}: {value}")?;
        }
    }
    if c.disconnects > 0 || c.reconnects > 0 {
        writeln!(out, "disconnects: {}", c.disconnects)?;
        writeln!(out, "reconnects: {}", c.reconnects)?;
    }
    if let Some(w) = &report.warmup {
        writeln!(
            out,
            "Warm-up: {} sets in {:.1}s (not in latency or run time)",
            w.sets,
            w.duration.as_secs_f64()
        )?;
    }
    if let Some(space) = &report.info.key_space {
        writeln!(out, "Key space: {space}; hit ratio {:.4}", hit_ratio(c))?;
    }
    if let Some(rate) = RateCheck::of(report) {
        let verdict = if rate.met {
            "met"
        } else {
            "not met: sends fell behind their schedule, and latency counts from it"
        };
        writeln!(
            out,
            "Rate: requested {}/s, achieved {:.0}/s ({verdict})",
            rate.requested_per_sec, rate.achieved_per_sec
        )?;
    }
    if let Some(why) = &report.interrupted {
        writeln!(out, "Ended early: {why} (partial results)")?;
    }
    Ok(())
}

/// The share of GET keys the server returned (1 with no GET).
#[must_use]
pub fn hit_ratio(c: &Counters) -> f64 {
    if c.cmd_get == 0 {
        return 1.0;
    }
    (c.cmd_get - c.get_misses.min(c.cmd_get)) as f64 / c.cmd_get as f64
}

/// An open loop's requested rate against what it achieved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateCheck {
    /// `--rate`, operations per second.
    pub requested_per_sec: u64,
    /// Operations per second of run time.
    pub achieved_per_sec: f64,
    /// Within 1% of the request (or above it).
    pub met: bool,
}

impl RateCheck {
    /// The check of `report`, if it was an open loop.
    #[must_use]
    pub fn of(report: &Report) -> Option<RateCheck> {
        let requested_per_sec = report.info.requested_rate?;
        let c = &report.totals.counters;
        let achieved_per_sec = per_sec(
            (c.cmd_get + c.cmd_set - c.warmup_sets) as f64,
            report.duration.as_secs_f64(),
        );
        Some(RateCheck {
            requested_per_sec,
            achieved_per_sec,
            met: achieved_per_sec >= 0.99 * requested_per_sec as f64,
        })
    }
}

/// `amount / secs`, or 0 for an empty or nonsensical interval.
fn per_sec(amount: f64, secs: f64) -> f64 {
    if secs > 0.0 {
        amount / secs
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests;
