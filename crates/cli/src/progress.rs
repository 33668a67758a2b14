//! The live progress line: on a long run without `-S`, one status line on stderr, rewritten in
//! place every period (elapsed / total or ops / total, current ops/s, p99, errors) and erased
//! when the run ends.
//!
//! It is only ever written to a terminal: never into redirected output, and never into the
//! JSON. `-q` and `-S` (which prints memaslap's tables instead) turn it off.

use std::io::{self, IsTerminal, Write};

use shardslap_config::{RunConfig, StopCondition};
use shardslap_engine::{PeriodSample, RunObserver};

/// Moves to the start of the line and erases it (ANSI: CR, then EL 2).
const ERASE_LINE: &str = "\r\x1b[2K";

/// How far the run has come, in the unit its stop condition uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// `-t`: the run length in seconds.
    Seconds(f64),
    /// `-x`: operations to issue.
    Ops(u64),
}

/// Writes the progress line to stderr when it is a terminal.
#[derive(Debug)]
pub struct ProgressLine {
    goal: Goal,
    enabled: bool,
    shown: bool,
}

impl ProgressLine {
    /// On when stderr is a terminal and neither `-q` nor `-S` was given.
    pub fn for_config(cfg: &RunConfig) -> Self {
        let goal = match cfg.stop {
            StopCondition::Time(d) => Goal::Seconds(d.as_secs_f64()),
            StopCondition::Ops(n) => Goal::Ops(n),
        };
        Self {
            goal,
            enabled: !cfg.quiet && cfg.stat_freq.is_none() && io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// Rewrites the line for the period just ended.
    pub fn update(&mut self, sample: &PeriodSample<'_>) {
        if !self.enabled {
            return;
        }
        let total = sample.period.ops.total();
        let status = Status {
            elapsed_s: sample.elapsed_secs,
            ops_done: sample.global.ops.total_count(),
            ops_per_s: if sample.period_secs > 0.0 {
                total.count() as f64 / sample.period_secs
            } else {
                0.0
            },
            p99_us: total.percentile_us(0.99),
            errors: sample.global.counters.errors,
        };
        let line = format!("{ERASE_LINE}{}", status.render(self.goal));
        self.shown = io::stderr().lock().write_all(line.as_bytes()).is_ok();
    }

    /// Shows how far the warm-up (memaslap's, or `--prefill`) has come: it can take a while
    /// and measures nothing.
    pub fn warmup(&mut self, done: u64, total: u64) {
        if !self.enabled || total == 0 {
            return;
        }
        let line = format!("{ERASE_LINE}{}", warmup_line(done, total));
        self.shown = io::stderr().lock().write_all(line.as_bytes()).is_ok();
    }

    /// Erases the line, so the final report starts on a clean line.
    pub fn clear(&mut self) {
        if std::mem::take(&mut self.shown) {
            let _ = io::stderr().lock().write_all(ERASE_LINE.as_bytes());
        }
    }
}

impl RunObserver for ProgressLine {
    fn on_period(&mut self, sample: &PeriodSample<'_>) {
        self.update(sample);
    }

    fn on_warmup(&mut self, done: u64, total: u64) {
        self.warmup(done, total);
    }

    fn stop_requested(&mut self) -> Option<String> {
        crate::signals::stop_reason()
    }
}

/// What one progress line says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    /// Seconds since the measured run started.
    pub elapsed_s: f64,
    /// Requests completed since the start.
    pub ops_done: u64,
    /// Requests per second in the last period.
    pub ops_per_s: f64,
    /// p99 latency of the last period, µs.
    pub p99_us: f64,
    /// Failed requests since the start.
    pub errors: u64,
}

impl Status {
    /// The line's text, without the erase prefix.
    pub fn render(&self, goal: Goal) -> String {
        let progress = match goal {
            Goal::Seconds(total_s) => format!("{:.0}s / {total_s:.0}s", self.elapsed_s),
            Goal::Ops(total) => format!("{} / {} ops", grouped(self.ops_done), grouped(total)),
        };
        format!(
            "[{progress}]  {} ops/s  p99 {}  errors {}",
            grouped(self.ops_per_s.round() as u64),
            latency(self.p99_us),
            grouped(self.errors),
        )
    }
}

/// The warm-up's line, without the erase prefix.
fn warmup_line(done: u64, total: u64) -> String {
    let percent = done as f64 * 100.0 / total.max(1) as f64;
    format!(
        "[warm-up] {} / {} sets ({percent:.0}%), before the clock starts",
        grouped(done),
        grouped(total)
    )
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A latency in the unit that reads best: µs below 10 ms, ms above.
fn latency(us: f64) -> String {
    if us < 10_000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.1} ms", us / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warm_up_shows_sets_answered_of_all() {
        assert_eq!(
            warmup_line(40_960, 102_400),
            "[warm-up] 40,960 / 102,400 sets (40%), before the clock starts"
        );
    }

    #[test]
    fn a_timed_run_shows_seconds_rate_p99_and_errors() {
        let status = Status {
            elapsed_s: 12.04,
            ops_done: 1_300_000,
            ops_per_s: 104_233.4,
            p99_us: 271.2,
            errors: 3,
        };
        assert_eq!(
            status.render(Goal::Seconds(60.0)),
            "[12s / 60s]  104,233 ops/s  p99 271 µs  errors 3"
        );
    }

    #[test]
    fn a_counted_run_shows_ops_done_and_slow_p99_in_ms() {
        let status = Status {
            elapsed_s: 3.0,
            ops_done: 1_234_567,
            ops_per_s: 999.6,
            p99_us: 12_345.0,
            errors: 0,
        };
        assert_eq!(
            status.render(Goal::Ops(5_000_000)),
            "[1,234,567 / 5,000,000 ops]  1,000 ops/s  p99 12.3 ms  errors 0"
        );
    }

    #[test]
    fn grouping() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(123_456_789), "123,456,789");
    }
}
