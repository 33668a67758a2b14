//! `--timeseries PATH`: the time series streamed to a file as JSON lines, one point per line
//! in the JSON's own `timeseries` form, written as each period ends. The engine then keeps no
//! points (its observer takes them, [`RunObserver::on_point`]), so a day-long run's memory
//! stays flat. The final, partial point comes with the report and is written last.
//!
//! The `--json` result embeds the series while it is small (up to [`EMBED_MAX_POINTS`], read
//! back from the file at the end) and past that names the file instead:
//! `"timeseries": [], "timeseries_file": {"path": …, "points": N}` (`docs/json.md`);
//! `shardslap plot` and `merge` read it from there.
//!
//! [`RunObserver::on_point`]: shardslap_engine::RunObserver::on_point

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use shardslap_report::{time_point_entry, Report, TimePoint};
use shardslap_schema::{Extra, ResultFile, TimePointEntry, TimeseriesFile};

/// Most points the `--json` result embeds (an hour at 1 s, about 5 MiB of JSON); past this it
/// names the file. `SHARDSLAP_TIMESERIES_EMBED_MAX` overrides it (the tests use that).
pub const EMBED_MAX_POINTS: u64 = 3600;

/// Tolerance for "shorter than the periods before it": far below any period.
const PERIOD_TOLERANCE_S: f64 = 1e-6;

/// An open `--timeseries` file.
#[derive(Debug)]
pub struct TimeseriesSink {
    path: PathBuf,
    out: BufWriter<File>,
    /// Points written.
    points: u64,
    /// `t_s` of the last point written (0 before the first).
    last_t_s: f64,
    /// The longest period written, seconds (what a partial last point is shorter than).
    longest_s: f64,
    /// The first write error; from then on points stay in memory instead.
    error: Option<io::Error>,
}

/// A finished `--timeseries` file: where it is and how many points it holds.
#[derive(Debug, Clone)]
pub struct StreamedSeries {
    /// The path as given.
    pub path: PathBuf,
    /// Points in the file.
    pub points: u64,
}

impl TimeseriesSink {
    /// Creates (or truncates) the file now, so that a bad path fails before the run.
    ///
    /// # Errors
    /// The path cannot be created.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot write --timeseries file '{}'", path.display()))?;
        Ok(TimeseriesSink {
            path: path.to_owned(),
            out: BufWriter::new(file),
            points: 0,
            last_t_s: 0.0,
            longest_s: 0.0,
            error: None,
        })
    }

    /// Writes `point` as one line and flushes; `None` (the engine keeps nothing) unless
    /// writing has failed, when the point goes back to the report so it is not lost.
    pub fn on_point(&mut self, point: TimePoint) -> Option<TimePoint> {
        if self.error.is_some() {
            return Some(point);
        }
        match self.write(&point, false) {
            Ok(()) => None,
            Err(err) => {
                self.error = Some(err);
                Some(point)
            }
        }
    }

    /// Writes what the report still holds (the final, partial point) and closes the file.
    ///
    /// # Errors
    /// A write failed, now or during the run (the report then still holds the points the
    /// file lacks).
    pub fn finish(mut self, report: &Report) -> anyhow::Result<StreamedSeries> {
        let count = report.timeseries.len();
        for (i, point) in report.timeseries.iter().enumerate() {
            if self.error.is_some() {
                break;
            }
            let length_s = point.t_s - self.last_t_s;
            let partial =
                i + 1 == count && self.points > 0 && length_s < self.longest_s - PERIOD_TOLERANCE_S;
            if let Err(err) = self.write(point, partial) {
                self.error = Some(err);
            }
        }
        if let Some(err) = self.error {
            return Err(err).with_context(|| {
                format!("cannot write --timeseries file '{}'", self.path.display())
            });
        }
        Ok(StreamedSeries {
            path: self.path,
            points: self.points,
        })
    }

    fn write(&mut self, point: &TimePoint, partial: bool) -> io::Result<()> {
        let entry = time_point_entry(point, self.last_t_s, partial);
        let mut line = serde_json::to_string(&entry).map_err(io::Error::other)?;
        line.push('\n');
        self.out.write_all(line.as_bytes())?;
        self.out.flush()?;
        self.longest_s = self.longest_s.max(point.t_s - self.last_t_s);
        self.last_t_s = point.t_s;
        self.points += 1;
        Ok(())
    }
}

impl StreamedSeries {
    /// Puts the series into the `--json` result `file`, written to `json_path` (`None` for
    /// stdout): the points themselves up to the embed limit, else a reference to the file,
    /// relative to the result's folder when both are in one.
    ///
    /// # Errors
    /// The file cannot be read back, or holds a line that is not JSON.
    pub fn apply(&self, file: &mut ResultFile, json_path: Option<&Path>) -> anyhow::Result<()> {
        if self.points <= embed_max_points() {
            file.timeseries = self.read_back()?;
            return Ok(());
        }
        file.timeseries = Vec::new();
        file.timeseries_file = Some(TimeseriesFile {
            path: reference(&self.path, json_path),
            points: self.points,
            extra: Extra::new(),
        });
        Ok(())
    }

    fn read_back(&self) -> anyhow::Result<Vec<TimePointEntry>> {
        let context = || {
            format!(
                "cannot read back --timeseries file '{}'",
                self.path.display()
            )
        };
        let file = File::open(&self.path).with_context(context)?;
        BufReader::new(file)
            .lines()
            .map(|line| {
                let line = line.with_context(context)?;
                serde_json::from_str(&line).with_context(context)
            })
            .collect()
    }
}

/// The embed limit: [`EMBED_MAX_POINTS`], or `SHARDSLAP_TIMESERIES_EMBED_MAX` when it is a
/// number.
fn embed_max_points() -> u64 {
    std::env::var("SHARDSLAP_TIMESERIES_EMBED_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(EMBED_MAX_POINTS)
}

/// How the result names the series file: its file name when it sits in the result's folder,
/// else its absolute path (the path as given if that cannot be found).
fn reference(series: &Path, json_path: Option<&Path>) -> String {
    let absolute = |p: &Path| std::fs::canonicalize(p).ok();
    let series_abs = absolute(series);
    let json_dir = json_path
        .and_then(absolute)
        .and_then(|p| p.parent().map(Path::to_owned));
    match (&series_abs, json_dir) {
        (Some(s), Some(dir)) if s.parent() == Some(dir.as_path()) => s.file_name().map_or_else(
            || s.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        (Some(s), _) => s.display().to_string(),
        (None, _) => series.display().to_string(),
    }
}
