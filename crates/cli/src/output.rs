//! Where results go: the banner, the periodic tables, the final text report and the JSON file,
//! and the files the result-file subcommands write.
//!
//! The text goes to stdout, except when `--json -` claims stdout for the JSON: then the text
//! goes to stderr so that stdout stays machine-readable.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use shardslap_config::{JsonTarget, RunConfig};
use shardslap_engine::{PeriodSample, RunObserver};
use shardslap_report::{render_period, result_file, Report, RunInfo, TimePoint};

use crate::hdr_log::HdrLog;
use crate::progress::ProgressLine;
use crate::timeseries::{StreamedSeries, TimeseriesSink};

/// Where the text goes: stdout, or stderr when `--json -` has claimed stdout.
#[derive(Debug, Clone, Copy)]
pub struct TextOut {
    to_stderr: bool,
}

impl TextOut {
    /// Chooses the stream from the `--json` target.
    pub fn for_config(cfg: &RunConfig) -> Self {
        Self {
            to_stderr: matches!(cfg.json, Some(JsonTarget::Stdout)),
        }
    }

    /// Whether the chosen stream is a terminal (memaslap's screen clearing needs one).
    pub fn is_terminal(self) -> bool {
        if self.to_stderr {
            io::stderr().is_terminal()
        } else {
            io::stdout().is_terminal()
        }
    }

    /// Writes `text`; a closed pipe (`| head`) is ignored rather than turned into a panic.
    pub fn print(self, text: &str) {
        let _ = if self.to_stderr {
            io::stderr().lock().write_all(text.as_bytes())
        } else {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
    }
}

/// Prints memaslap's Period/Global tables every `-S` period, or else keeps the live progress
/// line up to date.
#[derive(Debug)]
pub struct PeriodPrinter {
    enabled: bool,
    clear_screen: bool,
    nominal_object_len: f64,
    out: TextOut,
    progress: ProgressLine,
}

impl PeriodPrinter {
    /// Prints only with `-S` and without `-q`; clears the screen as memaslap does only on a
    /// terminal.
    pub fn new(cfg: &RunConfig, info: &RunInfo, out: TextOut) -> Self {
        Self {
            enabled: cfg.stat_freq.is_some() && !cfg.quiet,
            clear_screen: out.is_terminal(),
            nominal_object_len: info.nominal_object_len,
            out,
            progress: ProgressLine::for_config(cfg),
        }
    }

    /// The run is over: erase the progress line before the final report.
    pub fn finish(&mut self) {
        self.progress.clear();
    }
}

impl RunObserver for PeriodPrinter {
    fn on_period(&mut self, sample: &PeriodSample<'_>) {
        if !self.enabled {
            self.progress.update(sample);
            return;
        }
        let text = render_period(
            &sample.period.ops,
            &sample.global.ops,
            sample.period_secs,
            sample.elapsed_secs,
            self.nominal_object_len,
            self.clear_screen,
        );
        self.out.print(&text);
    }

    fn on_warmup(&mut self, done: u64, total: u64) {
        if !self.enabled {
            self.progress.warmup(done, total);
        }
    }
}

/// Everything that follows a run period by period: the text printer and, with `--hdr-log`,
/// the interval log.
#[derive(Debug)]
pub struct Observers<'a> {
    /// The periodic tables or the progress line.
    pub printer: &'a mut PeriodPrinter,
    /// The `--hdr-log` file, if any.
    pub hdr_log: Option<&'a mut HdrLog>,
    /// The `--timeseries` file, if any: it takes the points, so the engine keeps none.
    pub timeseries: Option<&'a mut TimeseriesSink>,
}

impl RunObserver for Observers<'_> {
    fn on_period(&mut self, sample: &PeriodSample<'_>) {
        self.printer.on_period(sample);
        if let Some(log) = self.hdr_log.as_deref_mut() {
            log.on_period(sample);
        }
    }

    fn on_warmup(&mut self, done: u64, total: u64) {
        self.printer.on_warmup(done, total);
    }

    fn on_point(&mut self, point: TimePoint) -> Option<TimePoint> {
        match self.timeseries.as_deref_mut() {
            Some(sink) => sink.on_point(point),
            None => Some(point),
        }
    }

    fn stop_requested(&mut self) -> Option<String> {
        crate::signals::stop_reason()
    }
}

/// The `--json` destination, opened before the run so a bad path fails early.
#[derive(Debug)]
pub enum JsonSink {
    /// No `--json`.
    None,
    /// `--json -`.
    Stdout,
    /// `--json PATH`, already created.
    File(PathBuf, File),
}

impl JsonSink {
    /// Opens (creates or truncates) the JSON file now.
    pub fn open(target: Option<&JsonTarget>) -> anyhow::Result<Self> {
        Ok(match target {
            None => JsonSink::None,
            Some(JsonTarget::Stdout) => JsonSink::Stdout,
            Some(JsonTarget::File(path)) => {
                let file = File::create(path)
                    .with_context(|| format!("cannot write --json file '{}'", path.display()))?;
                JsonSink::File(path.clone(), file)
            }
        })
    }

    /// Writes the report as pretty JSON, with the time series from `series` when it was
    /// streamed to a `--timeseries` file.
    pub fn write(self, report: &Report, series: Option<&StreamedSeries>) -> anyhow::Result<()> {
        let mut file = result_file(report);
        if let (Some(series), false) = (series, matches!(self, JsonSink::None)) {
            let path = match &self {
                JsonSink::File(path, _) => Some(path.as_path()),
                _ => None,
            };
            series.apply(&mut file, path)?;
        }
        let mut text =
            serde_json::to_string_pretty(&file).context("cannot serialize the JSON report")?;
        text.push('\n');
        match self {
            JsonSink::None => Ok(()),
            JsonSink::Stdout => {
                let _ = io::stdout().lock().write_all(text.as_bytes());
                Ok(())
            }
            JsonSink::File(path, mut file) => file
                .write_all(text.as_bytes())
                .with_context(|| format!("cannot write --json file '{}'", path.display())),
        }
    }
}

/// A file's name as the label of its series and sources entry.
pub fn label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Writes `text` to `path`, or to stdout for `-`.
pub fn write_output(path: &Path, text: &str) -> anyhow::Result<()> {
    if path == Path::new("-") {
        let _ = io::stdout().lock().write_all(text.as_bytes());
        return Ok(());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write '{}'", path.display()))
}
