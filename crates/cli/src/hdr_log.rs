//! `--hdr-log PATH`: an HdrHistogram interval log, the text format of HdrHistogram's
//! `HistogramLogWriter`, written as the run goes so `HistogramLogProcessor`, hdr-plot or any
//! HdrHistogram log reader can read a shardslap run:
//!
//! ```text
//! #[Logged with shardslap 0.1.0]
//! #[Histogram log format version 1.3]
//! #[StartTime: 1767225600.020 (seconds since epoch), 2026-01-01T00:00:00.020Z]
//! #[BaseTime: 1767225600.020 (seconds since epoch)]
//! "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//! Tag=get,0.000,1.000,0.291,HISTFAAAA…
//! Tag=set,0.000,1.000,0.307,HISTFAAAA…
//! Tag=total,0.000,1.000,0.307,HISTFAAAA…
//! ```
//!
//! One line per period and op type; timestamps are seconds since the run's start (the
//! `BaseTime`), `Interval_Max` is in milliseconds (the log convention for nanosecond
//! histograms), histograms are in nanoseconds, compressed V2 (as the JSON's `hdr` fields).
//! The run's start is taken when the first period arrives, less its elapsed time (a few
//! milliseconds late at most); the interval offsets are the engine's own. After the run the
//! part measured after the last full period (the requests still in flight at the end) is
//! logged as a last, shorter interval, so the intervals add up to the run's totals.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use hdrhistogram::Histogram;
use shardslap_config::unix_now_s;
use shardslap_engine::PeriodSample;
use shardslap_report::{LatencyStats, OpStats, Report};
use shardslap_schema::encode_hdr;

/// HdrHistogram's nanosecond-to-millisecond ratio for `Interval_Max`.
const MAX_VALUE_DIVISOR: f64 = 1e6;

/// An open `--hdr-log` file and what has been logged so far.
#[derive(Debug)]
pub struct HdrLog {
    path: PathBuf,
    out: BufWriter<File>,
    /// The run's start, Unix seconds, once the first period has come.
    base_unix_s: Option<f64>,
    /// Every period logged so far, summed: the run's totals less this are the tail.
    logged: OpStats,
    /// End of the last logged period, seconds since the start.
    logged_until_s: f64,
    /// Whether the header is out.
    header_written: bool,
    /// The first write error; later writes are skipped and `finish` reports it.
    error: Option<io::Error>,
}

impl HdrLog {
    /// Creates (or truncates) the log now, so that a bad path fails before the run.
    ///
    /// # Errors
    /// The path cannot be created.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot write --hdr-log file '{}'", path.display()))?;
        Ok(HdrLog {
            path: path.to_owned(),
            out: BufWriter::new(file),
            base_unix_s: None,
            logged: OpStats::default(),
            logged_until_s: 0.0,
            header_written: false,
            error: None,
        })
    }

    /// Logs one period: three interval lines (get, set, total), flushed at once.
    pub fn on_period(&mut self, sample: &PeriodSample<'_>) {
        let base = self
            .base_unix_s
            .unwrap_or_else(|| unix_now_s() - sample.elapsed_secs);
        let start_s = sample.elapsed_secs - sample.period_secs;
        let ops = &sample.period.ops;
        let total = ops.total();
        let result = self.header_once(base).and_then(|()| {
            self.intervals(
                [ops.get.histogram(), ops.set.histogram(), total.histogram()],
                start_s,
                sample.period_secs,
            )
        });
        self.logged.merge(&sample.period.ops);
        self.logged_until_s = sample.elapsed_secs;
        self.keep_error(result);
    }

    /// Logs what was measured after the last period (the run's totals less every period
    /// logged), then flushes.
    ///
    /// # Errors
    /// A write failed, now or during the run.
    pub fn finish(mut self, report: &Report) -> anyhow::Result<()> {
        let end_s = report.duration.as_secs_f64();
        let base = self.base_unix_s.unwrap_or(report.started_at_unix_s);
        let totals = &report.totals.ops;
        let tail = [
            tail_of(&totals.get, &self.logged.get),
            tail_of(&totals.set, &self.logged.set),
            tail_of(&totals.total(), &self.logged.total()),
        ];
        let result = self.header_once(base).and_then(|()| {
            if let [Some(get), Some(set), Some(total)] = &tail {
                if !total.is_empty() {
                    let length_s = (end_s - self.logged_until_s).max(0.0);
                    self.intervals([get, set, total], self.logged_until_s, length_s)?;
                }
            }
            self.out.flush()
        });
        self.keep_error(result);
        match self.error {
            None => Ok(()),
            Some(err) => Err(err)
                .with_context(|| format!("cannot write --hdr-log file '{}'", self.path.display())),
        }
    }

    /// The log's header, before its first interval.
    fn header_once(&mut self, base_unix_s: f64) -> io::Result<()> {
        if self.error.is_some() || self.header_written {
            return Ok(());
        }
        self.base_unix_s = Some(base_unix_s);
        writeln!(
            self.out,
            "#[Logged with shardslap {}]",
            env!("CARGO_PKG_VERSION")
        )?;
        writeln!(self.out, "#[Histogram log format version 1.3]")?;
        writeln!(
            self.out,
            "#[StartTime: {base_unix_s:.3} (seconds since epoch), {}]",
            iso_utc(base_unix_s)
        )?;
        writeln!(
            self.out,
            "#[BaseTime: {base_unix_s:.3} (seconds since epoch)]"
        )?;
        writeln!(
            self.out,
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        )?;
        self.header_written = true;
        Ok(())
    }

    /// Three interval lines, get, set and total, starting `start_s` after the base time.
    fn intervals(
        &mut self,
        [get, set, total]: [&Histogram<u64>; 3],
        start_s: f64,
        length_s: f64,
    ) -> io::Result<()> {
        if self.error.is_some() {
            return Ok(());
        }
        for (tag, hist) in [("get", get), ("set", set), ("total", total)] {
            let line = interval_line(tag, hist, start_s, length_s)?;
            self.out.write_all(line.as_bytes())?;
        }
        self.out.flush()
    }

    fn keep_error(&mut self, result: io::Result<()>) {
        if let (Err(err), None) = (result, &self.error) {
            self.error = Some(err);
        }
    }
}

/// `Tag=TAG,START,LENGTH,MAX_MS,HISTF…` and a newline, as HistogramLogWriter writes it.
fn interval_line(
    tag: &str,
    hist: &Histogram<u64>,
    start_s: f64,
    length_s: f64,
) -> io::Result<String> {
    let hdr = encode_hdr(hist).map_err(io::Error::other)?;
    let max_ms = hist.max() as f64 / MAX_VALUE_DIVISOR;
    Ok(format!(
        "Tag={tag},{:.3},{:.3},{max_ms:.3},{hdr}\n",
        start_s.max(0.0),
        length_s.max(0.0)
    ))
}

/// What `total` holds beyond `logged`, or `None` if that cannot be computed (then the tail is
/// not logged rather than logged wrong).
fn tail_of(total: &LatencyStats, logged: &LatencyStats) -> Option<Histogram<u64>> {
    let mut tail = total.histogram().clone();
    tail.subtract(logged.histogram()).ok()?;
    Some(tail)
}

/// `2026-01-01T00:00:00.020Z` for Unix seconds `t`.
fn iso_utc(t: f64) -> String {
    let millis = (t * 1000.0).round() as i64;
    let (secs, ms) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    let (days, day_s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        day_s / 3600,
        day_s % 3600 / 60,
        day_s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_utc(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(1_767_225_600.02), "2026-01-01T00:00:00.020Z");
        assert_eq!(iso_utc(951_782_400.5), "2000-02-29T00:00:00.500Z");
    }

    #[test]
    fn an_interval_line_is_histogram_log_writers() {
        let mut stats = LatencyStats::new();
        stats.record(250_000);
        stats.record(1_500_000);
        let line = interval_line("get", stats.histogram(), 2.0, 1.0).unwrap();
        let hdr = encode_hdr(stats.histogram()).unwrap();
        let max_ms = stats.histogram().max() as f64 / 1e6;
        assert_eq!(line, format!("Tag=get,2.000,1.000,{max_ms:.3},{hdr}\n"));
        assert!(hdr.starts_with("HISTF"));
    }
}
