//! Reading result files: the crate's only I/O. One file at a time, checked
//! in the order a person would want to hear about problems: readable, JSON,
//! the right kind, the right `schema_version`, the documented layout.

use std::path::Path;

use serde_json::Value;

use crate::error::MergeError;
use shardslap_schema::{
    is_readable_version, ResultFile, SweepFile, TimePointEntry, TimeseriesFile,
    OLDEST_SCHEMA_VERSION, RUN_KIND, SCHEMA_VERSION, SWEEP_KIND,
};

/// Either kind of result file, for commands (like `plot`) that take both.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyResult {
    /// One run, or several merged.
    Run(Box<ResultFile>),
    /// A scaling sweep.
    Sweep(SweepFile),
}

/// Reads one run result file.
///
/// # Errors
///
/// One line naming `path`: [`MergeError::Read`] (with the OS's reason),
/// [`MergeError::Json`] (with line and column),
/// [`MergeError::NotARun`] (e.g. a sweep file),
/// [`MergeError::SchemaVersion`] (not 1), or [`MergeError::Layout`]
/// (a documented field missing or of the wrong type).
pub fn load(path: impl AsRef<Path>) -> Result<ResultFile, MergeError> {
    let path = path.as_ref();
    let (file, value) = read_json(path)?;
    match kind_of(&value) {
        None => {}
        Some(Value::String(kind)) if kind == RUN_KIND => {}
        Some(Value::String(kind)) => {
            return Err(MergeError::NotARun {
                file,
                kind: kind.clone(),
            })
        }
        Some(other) => {
            return Err(MergeError::NotARun {
                file,
                kind: other.to_string(),
            })
        }
    }
    run_from_value(path, file, value)
}

/// Reads one sweep result file (what `shardslap sweep` writes).
///
/// # Errors
///
/// As [`load`], with [`MergeError::NotASweep`] when `kind` is not
/// `"sweep"`.
pub fn load_sweep(path: impl AsRef<Path>) -> Result<SweepFile, MergeError> {
    let path = path.as_ref();
    let (file, value) = read_json(path)?;
    match kind_of(&value) {
        Some(Value::String(kind)) if kind == SWEEP_KIND => {}
        other => {
            return Err(MergeError::NotASweep {
                file,
                kind: other.map_or_else(|| "missing".to_owned(), Value::to_string),
            })
        }
    }
    sweep_from_value(file, value)
}

/// Reads a run or a sweep result file, telling them apart by the top-level
/// `kind` (absent or `"run"`: a run; `"sweep"`: a sweep).
///
/// # Errors
///
/// As [`load`], with [`MergeError::UnknownKind`] for any other `kind`.
pub fn load_any(path: impl AsRef<Path>) -> Result<AnyResult, MergeError> {
    let path = path.as_ref();
    let (file, value) = read_json(path)?;
    match kind_of(&value) {
        None => run_from_value(path, file, value).map(|r| AnyResult::Run(Box::new(r))),
        Some(Value::String(kind)) if kind == RUN_KIND => {
            run_from_value(path, file, value).map(|r| AnyResult::Run(Box::new(r)))
        }
        Some(Value::String(kind)) if kind == SWEEP_KIND => {
            sweep_from_value(file, value).map(AnyResult::Sweep)
        }
        Some(other) => Err(MergeError::UnknownKind {
            file,
            kind: other.to_string(),
        }),
    }
}

/// The path as messages show it, and the file parsed as JSON.
fn read_json(path: &Path) -> Result<(String, Value), MergeError> {
    let file = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(source) => return Err(MergeError::Read { file, source }),
    };
    match serde_json::from_slice(&bytes) {
        Ok(value) => Ok((file, value)),
        Err(source) => Err(MergeError::Json { file, source }),
    }
}

fn kind_of(value: &Value) -> Option<&Value> {
    value.get("kind")
}

fn check_version(file: &str, value: &Value) -> Result<(), MergeError> {
    match value.get("schema_version") {
        Some(v)
            if v.as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .is_some_and(is_readable_version) =>
        {
            Ok(())
        }
        found => Err(MergeError::SchemaVersion {
            file: file.to_owned(),
            found: found.map_or_else(|| "missing".to_owned(), Value::to_string),
            oldest: OLDEST_SCHEMA_VERSION,
            supported: SCHEMA_VERSION,
        }),
    }
}

fn run_from_value(path: &Path, file: String, value: Value) -> Result<ResultFile, MergeError> {
    check_version(&file, &value)?;
    let mut run: ResultFile =
        serde_json::from_value(value).map_err(|source| MergeError::Layout {
            file: file.clone(),
            what: "run",
            source,
        })?;
    if let Some(streamed) = run.timeseries_file.take() {
        run.timeseries = read_streamed_series(path, &file, &streamed)?;
    }
    Ok(run)
}

/// The points of a time series streamed to a file (`--timeseries`) that `file` (at `path`)
/// names instead of embedding: one JSON point per line, the path relative to the result's
/// folder unless absolute.
fn read_streamed_series(
    path: &Path,
    file: &str,
    streamed: &TimeseriesFile,
) -> Result<Vec<TimePointEntry>, MergeError> {
    let series_path = path
        .parent()
        .unwrap_or_else(|| Path::new(""))
        .join(&streamed.path);
    let shown = series_path.display().to_string();
    let text = std::fs::read_to_string(&series_path).map_err(|source| MergeError::Read {
        file: format!("{shown} (the time series {file} names)"),
        source,
    })?;
    let points = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|err| MergeError::Malformed {
                file: shown.clone(),
                at: format!("line {}", i + 1),
                problem: format!("is not a time-series point: {err}"),
            })
        })
        .collect::<Result<Vec<TimePointEntry>, _>>()?;
    if points.len() as u64 != streamed.points {
        return Err(MergeError::Malformed {
            file: file.to_owned(),
            at: "timeseries_file.points".to_owned(),
            problem: format!(
                "is {}, but {shown} holds {} points (was it cut short?)",
                streamed.points,
                points.len()
            ),
        });
    }
    Ok(points)
}

fn sweep_from_value(file: String, value: Value) -> Result<SweepFile, MergeError> {
    check_version(&file, &value)?;
    serde_json::from_value(value).map_err(|source| MergeError::Layout {
        file,
        what: "sweep",
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use shardslap_report::result_file;
    use shardslap_schema::SweepMeasurement;

    use super::*;
    use crate::test_support::{config, report, samples};

    /// A file under the system temp dir, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("shardslap-merge-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        fn shown(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn run_json() -> Value {
        let s = samples(21, 500, false);
        serde_json::to_value(result_file(&report(
            "h",
            config("a:1", 1),
            &[1],
            &s,
            Duration::from_secs(1),
            1.7e9,
        )))
        .unwrap()
    }

    #[test]
    fn loads_a_run() {
        let v = run_json();
        let f = TempFile::new("run.json", &serde_json::to_string_pretty(&v).unwrap());
        let file = load(&f.0).unwrap();
        assert_eq!(serde_json::to_value(&file).unwrap(), v);
        assert!(matches!(load_any(&f.0).unwrap(), AnyResult::Run(r) if *r == file));
    }

    #[test]
    fn a_missing_file_says_why() {
        let path = std::env::temp_dir().join("shardslap-merge-no-such-file.json");
        let err = load(&path).unwrap_err();
        assert!(matches!(err, MergeError::Read { .. }));
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("cannot read {}: ", path.display())),
            "{msg}"
        );
        assert!(msg.contains("No such file or directory"), "{msg}");
    }

    #[test]
    fn bad_json_names_line_and_column() {
        let f = TempFile::new("bad.json", "{\n  \"schema_version\": 1,\n  oops\n}\n");
        let msg = load(&f.0).unwrap_err().to_string();
        assert_eq!(
            msg,
            format!(
                "{} is not JSON: key must be a string at line 3 column 3",
                f.shown()
            )
        );
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn a_schema_version_1_file_still_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/v1_run.json");
        let run = load(path).unwrap();
        assert_eq!(run.schema_version, 1);
        assert_eq!(run.totals.total.ops, 300);
    }

    #[test]
    fn another_schema_version_is_refused() {
        let mut v = run_json();
        v["schema_version"] = 3.into();
        let f = TempFile::new("v3.json", &v.to_string());
        assert_eq!(
            load(&f.0).unwrap_err().to_string(),
            format!(
                "{} has schema_version 3, but this build reads only 1 to 2; use the shardslap that wrote it",
                f.shown()
            )
        );
        v.as_object_mut().unwrap().remove("schema_version");
        let f = TempFile::new("v-missing.json", &v.to_string());
        assert!(load(&f.0)
            .unwrap_err()
            .to_string()
            .contains("has schema_version missing"));
    }

    #[test]
    fn a_sweep_is_not_a_run() {
        let mut sweep = SweepFile::new(serde_json::json!({ "servers": "a:1" }));
        sweep.push(SweepMeasurement {
            cores: vec![1],
            shards: 1,
            concurrency: 4,
            duration_s: 1.0,
            ops: 1000,
            client_cpu_s: 0.5,
        });
        let f = TempFile::new("sweep.json", &serde_json::to_string(&sweep).unwrap());
        let err = load(&f.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{} is a sweep result, not a run result", f.shown())
        );
        assert_eq!(load_sweep(&f.0).unwrap(), sweep);
        assert!(matches!(load_any(&f.0).unwrap(), AnyResult::Sweep(s) if s == sweep));

        let run = TempFile::new("not-sweep.json", &run_json().to_string());
        assert_eq!(
            load_sweep(&run.0).unwrap_err().to_string(),
            format!(
                "{} is not a sweep result (its kind is missing)",
                run.shown()
            )
        );
        let odd = TempFile::new("odd.json", r#"{"kind": "bench", "schema_version": 1}"#);
        assert_eq!(
            load_any(&odd.0).unwrap_err().to_string(),
            format!(
                "{} has kind \"bench\", which this build does not know (it reads runs and sweeps)",
                odd.shown()
            )
        );
    }

    #[test]
    fn a_wrong_layout_is_named() {
        let mut v = run_json();
        v.as_object_mut().unwrap().remove("totals");
        let f = TempFile::new("no-totals.json", &v.to_string());
        assert_eq!(
            load(&f.0).unwrap_err().to_string(),
            format!(
                "{} is not a shardslap run result: missing field `totals`",
                f.shown()
            )
        );
    }
}
