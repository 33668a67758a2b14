//! Exact merge of runs made at the same time on several hosts into one
//! result of the same schema, as if one client had run every shard.
//!
//! Pure: [`merge`] takes parsed files and returns a new one. Counts and
//! histograms add, so totals and percentiles are exact (`ops` says how
//! the moments combine); time series are aligned on wall-clock time
//! (`timeseries` says how). Merging a merged file flattens its
//! `sources`, so merges compose.

mod ops;
#[cfg(test)]
mod tests;
mod timeseries;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use shardslap_report::{Counters, DEFAULT_PERIOD};
use shardslap_schema::{
    is_readable_version, CounterMap, OpName, RateSection, ResultFile, RunSection, ShardEntry,
    Source, WarmupSection, WorkloadSettings, OLDEST_SCHEMA_VERSION, SCHEMA_VERSION,
};

use crate::error::MergeError;

/// Longest config value a mismatch message shows, in characters.
const SHOWN_VALUE_CHARS: usize = 40;

/// Merges runs of one workload, each with a label that names it in errors
/// and in `sources` (e.g. its file name), into one result:
///
/// - `config`: the first input's.
/// - `run`: `started_at` the earliest; `duration_s` from it to the latest
///   end; `cores` concatenated; `host` the distinct hosts joined with `,`;
///   `interrupted` `"label: reason; ..."` over the interrupted inputs, or
///   `null`; `warmup` SETs summed over the longest duration, or `null`.
/// - `totals`: merged exactly (`tps` over the merged `duration_s`).
/// - `counters`: summed key by key, whatever the keys.
/// - `shards`: concatenated in input order and renumbered from 0, each with
///   `source` (an index into `sources`) and its `tps` over the merged
///   `duration_s`, like every `tps` in a file.
/// - `timeseries`: each point placed by its wall-clock end on a grid of
///   `config.stat_freq_secs` (1 s if `null`) from the merged start; points
///   in one grid period merge (percentiles exact when every point has an
///   `hdr`, otherwise the largest of theirs, an upper bound); `shard_ops`
///   concatenated like `shards`.
/// - `sources`: one per input run, an already merged input contributing
///   its own sources.
///
/// Fields this build does not know are copied where they describe one
/// input (`config`, shard entries, sources) and dropped from everything
/// the merge computes, since a copied value would describe one input only.
///
/// # Errors
///
/// [`MergeError::NoInputs`] for no inputs;
/// [`MergeError::SchemaVersion`] for a version this build does not read (1 and 2 merge,
/// into a version 2 file);
/// [`MergeError::WorkloadMismatch`] naming both labels and the first
/// differing [`WorkloadSettings`] path; [`MergeError::Config`] for settings of the wrong type; [`MergeError::Malformed`],
/// [`MergeError::NoHdr`] or [`MergeError::Hdr`] for an input that
/// cannot be merged exactly.
pub fn merge(inputs: &[(String, ResultFile)]) -> Result<ResultFile, MergeError> {
    let Some((first_label, first)) = inputs.first() else {
        return Err(MergeError::NoInputs);
    };
    for (label, file) in inputs {
        check_input(label, file)?;
    }
    let settings = |label: &str, file: &ResultFile| {
        WorkloadSettings::from_config(&file.config).map_err(|source| MergeError::Config {
            file: label.to_owned(),
            source,
        })
    };
    let first_settings = settings(first_label, first)?;
    for (label, file) in &inputs[1..] {
        check_workload(first_label, &first_settings, label, &settings(label, file)?)?;
    }
    let period_s = stat_period_s(first_label, &first_settings)?;

    let start = inputs
        .iter()
        .map(|(_, f)| f.run.started_at)
        .fold(f64::INFINITY, f64::min);
    // Offsets first, so the earliest input's own duration stays exact.
    let duration_s = inputs
        .iter()
        .map(|(_, f)| (f.run.started_at - start) + f.run.duration_s)
        .fold(0.0, f64::max);

    let (sources, source_bases) = flatten_sources(inputs)?;
    let shards = merge_shards(inputs, &source_bases, duration_s)?;
    let totals: Vec<ops::Part<'_, _>> = inputs
        .iter()
        .map(|(l, f)| (l.as_str(), &f.totals))
        .collect();
    let totals = ops::merge_ops_object(&totals, "totals", duration_s)?;
    let timeseries = timeseries::merge_timeseries(inputs, start, period_s)?;
    let service = merged_service(inputs, duration_s)?;
    let counters = sum_counters(inputs.iter().map(|(_, f)| &f.counters));

    let run = RunSection {
        duration_s,
        started_at: start,
        cores: inputs
            .iter()
            .flat_map(|(_, f)| f.run.cores.iter().copied())
            .collect(),
        host: merged_host(&sources),
        data_path: merged_data_path(inputs),
        hit_ratio: hit_ratio(&counters),
        shards: shards.len(),
        interrupted: merged_interrupted(&sources),
        warmup: merged_warmup(inputs),
        extra: Map::new(),
    };
    Ok(ResultFile {
        schema_version: SCHEMA_VERSION,
        config: first.config.clone(),
        run,
        totals,
        service,
        rate: merged_rate(inputs),
        counters,
        shards,
        timeseries,
        timeseries_file: None,
        sources: Some(sources),
        extra: Map::new(),
    })
}

/// A stretch of time in which none of the merged runs was measuring: `merge` sums runs as if
/// they ran at the same time, so a gap means the merged rate (over the first start to the last
/// end) is lower than any of theirs.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeGap {
    /// The source whose end is the last before the gap.
    pub before: String,
    /// The source that starts after the gap.
    pub after: String,
    /// How long no run was measuring, in seconds (0 when one ends exactly as the next starts).
    pub gap_s: f64,
}

/// The gaps between the measured intervals of `sources` (a merged file's `sources`), in time
/// order; empty when every run overlaps another one without a break.
#[must_use]
pub fn time_gaps(sources: &[Source]) -> Vec<TimeGap> {
    let mut by_start: Vec<&Source> = sources.iter().collect();
    by_start.sort_by(|a, b| a.started_at.total_cmp(&b.started_at));
    let mut gaps = Vec::new();
    let mut latest: Option<(&Source, f64)> = None;
    for source in by_start {
        let end = source.started_at + source.duration_s;
        match latest {
            Some((before, before_end)) if source.started_at >= before_end => {
                gaps.push(TimeGap {
                    before: before.label.clone(),
                    after: source.label.clone(),
                    gap_s: source.started_at - before_end,
                });
                latest = Some((source, end));
            }
            Some((_, before_end)) if before_end >= end => {}
            _ => latest = Some((source, end)),
        }
    }
    gaps
}

fn check_input(label: &str, file: &ResultFile) -> Result<(), MergeError> {
    if !is_readable_version(file.schema_version) {
        return Err(MergeError::SchemaVersion {
            file: label.to_owned(),
            found: file.schema_version.to_string(),
            oldest: OLDEST_SCHEMA_VERSION,
            supported: SCHEMA_VERSION,
        });
    }
    let malformed = |at: &str, problem: String| MergeError::Malformed {
        file: label.to_owned(),
        at: at.to_owned(),
        problem,
    };
    if !file.run.started_at.is_finite() {
        return Err(malformed(
            "run.started_at",
            format!("is {}, not a time", file.run.started_at),
        ));
    }
    if !(file.run.duration_s.is_finite() && file.run.duration_s >= 0.0) {
        return Err(malformed(
            "run.duration_s",
            format!("is {}, not a duration", file.run.duration_s),
        ));
    }
    Ok(())
}

/// Refuses inputs whose workload settings differ, naming the first
/// difference (a path into `config`, e.g. `workload.set_proportion`), in the order
/// [`WorkloadSettings`] declares its fields, every one of which it compares.
fn check_workload(
    first: &str,
    first_settings: &WorkloadSettings,
    other: &str,
    other_settings: &WorkloadSettings,
) -> Result<(), MergeError> {
    let diff = first_settings
        .fields()
        .into_iter()
        .zip(other_settings.fields())
        .find_map(|((key, a), (_, b))| first_difference(a.as_ref(), b.as_ref(), key.to_owned()));
    match diff {
        Some((key, first_value, other_value)) => Err(MergeError::WorkloadMismatch {
            first: first.to_owned(),
            other: other.to_owned(),
            key,
            first_value,
            other_value,
        }),
        None => Ok(()),
    }
}

/// The first place where `a` and `b` differ, as (path, a there, b there),
/// descending into objects and equal-length arrays.
fn first_difference(
    a: Option<&Value>,
    b: Option<&Value>,
    path: String,
) -> Option<(String, String, String)> {
    if a == b {
        return None;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter()
                .find_map(|k| first_difference(x.get(k), y.get(k), format!("{path}.{k}")))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(Some(x), Some(y), format!("{path}[{i}]"))),
        _ => Some((path, show(a), show(b))),
    }
}

/// A config value for a message: compact JSON, shortened.
fn show(v: Option<&Value>) -> String {
    let Some(v) = v else {
        return "absent".to_owned();
    };
    let text = v.to_string();
    match text.char_indices().nth(SHOWN_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The reporting period `merge` aligns time series on: `stat_freq_secs`, or
/// [`DEFAULT_PERIOD`] (the engine's) when it is `null` or absent.
fn stat_period_s(label: &str, settings: &WorkloadSettings) -> Result<f64, MergeError> {
    match settings.period_s() {
        None => Ok(DEFAULT_PERIOD.as_secs_f64()),
        // At least 1 ns, so grid times are distinct.
        Some(s) if s.is_finite() && s >= 1e-9 => Ok(s),
        Some(s) => Err(MergeError::Malformed {
            file: label.to_owned(),
            at: "config.stat_freq_secs".to_owned(),
            problem: format!("is {s}, not a positive number of seconds"),
        }),
    }
}

/// Every input's sources in order, and the index of each input's first
/// source. A single run is one source; a merged file brings its own.
fn flatten_sources(
    inputs: &[(String, ResultFile)],
) -> Result<(Vec<Source>, Vec<usize>), MergeError> {
    let mut sources = Vec::new();
    let mut bases = Vec::with_capacity(inputs.len());
    for (label, file) in inputs {
        bases.push(sources.len());
        match &file.sources {
            Some(own) if !own.is_empty() => sources.extend(own.iter().cloned()),
            Some(_) => {
                return Err(MergeError::Malformed {
                    file: label.clone(),
                    at: "sources".to_owned(),
                    problem: "is empty; a merged file lists at least one".to_owned(),
                })
            }
            None => sources.push(Source {
                label: label.clone(),
                started_at: file.run.started_at,
                duration_s: file.run.duration_s,
                host: file.run.host.clone(),
                shards: file.shards.len(),
                cores: file.run.cores.clone(),
                interrupted: file.run.interrupted.clone(),
                extra: Map::new(),
            }),
        }
    }
    Ok((sources, bases))
}

/// All shards in input order, renumbered, with their `source` and `tps`.
fn merge_shards(
    inputs: &[(String, ResultFile)],
    source_bases: &[usize],
    duration_s: f64,
) -> Result<Vec<ShardEntry>, MergeError> {
    let mut shards = Vec::new();
    for ((label, file), &base) in inputs.iter().zip(source_bases) {
        let own_sources = file.sources.as_ref().map(Vec::len);
        for (index, shard) in file.shards.iter().enumerate() {
            let local = match (own_sources, shard.source) {
                (None, _) => 0,
                (Some(n), Some(source)) if source < n => source,
                (Some(n), source) => {
                    return Err(MergeError::Malformed {
                        file: label.clone(),
                        at: format!("shards[{index}].source"),
                        problem: format!(
                            "is {}, not an index into its {n} sources",
                            source.map_or_else(|| "absent".to_owned(), |s| s.to_string())
                        ),
                    })
                }
            };
            let mut entry = shard.clone();
            entry.shard = shards.len();
            entry.source = Some(base + local);
            for op in OpName::ALL {
                let op = entry.totals.op_mut(op);
                op.tps = ops::per_sec(op.ops, duration_s);
            }
            shards.push(entry);
        }
    }
    Ok(shards)
}

fn sum_counters<'a>(all: impl Iterator<Item = &'a CounterMap>) -> CounterMap {
    let mut sum = CounterMap::new();
    for counters in all {
        for (name, count) in counters {
            let total = sum.entry(name.clone()).or_insert(0);
            *total = total.saturating_add(*count);
        }
    }
    sum
}

fn merged_host(sources: &[Source]) -> Option<String> {
    let mut hosts: Vec<&str> = Vec::new();
    for host in sources.iter().filter_map(|s| s.host.as_deref()) {
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    (!hosts.is_empty()).then(|| hosts.join(","))
}

fn merged_interrupted(sources: &[Source]) -> Option<String> {
    let reasons: Vec<String> = sources
        .iter()
        .filter_map(|s| {
            s.interrupted
                .as_ref()
                .map(|reason| format!("{}: {reason}", s.label))
        })
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

fn merged_warmup(inputs: &[(String, ResultFile)]) -> Option<WarmupSection> {
    inputs
        .iter()
        .filter_map(|(_, f)| f.run.warmup.as_ref())
        .fold(None, |acc: Option<WarmupSection>, w| {
            Some(match acc {
                None => WarmupSection {
                    sets: w.sets,
                    duration_s: w.duration_s,
                    extra: Map::new(),
                },
                Some(acc) => WarmupSection {
                    sets: acc.sets.saturating_add(w.sets),
                    duration_s: acc.duration_s.max(w.duration_s),
                    extra: Map::new(),
                },
            })
        })
}

/// The inputs' service times merged like `totals`, when every input is paced (has one).
fn merged_service(
    inputs: &[(String, ResultFile)],
    duration_s: f64,
) -> Result<Option<shardslap_schema::OpsObject>, MergeError> {
    let parts: Option<Vec<ops::Part<'_, _>>> = inputs
        .iter()
        .map(|(l, f)| f.service.as_ref().map(|s| (l.as_str(), s)))
        .collect();
    match parts {
        Some(parts) => ops::merge_ops_object(&parts, "service", duration_s).map(Some),
        None => Ok(None),
    }
}

/// The open loops' rates added up (the runs ran side by side), when every input is one.
fn merged_rate(inputs: &[(String, ResultFile)]) -> Option<RateSection> {
    let rates: Option<Vec<&RateSection>> = inputs.iter().map(|(_, f)| f.rate.as_ref()).collect();
    let rates = rates?;
    let requested = rates
        .iter()
        .fold(0u64, |n, r| n.saturating_add(r.requested_per_sec));
    let achieved = rates.iter().map(|r| r.achieved_per_sec).sum();
    Some(RateSection::of(requested, achieved))
}

/// The inputs' one data path, `mixed` when they differ, `None` when none names one.
fn merged_data_path(inputs: &[(String, ResultFile)]) -> Option<String> {
    let mut paths = inputs
        .iter()
        .filter_map(|(_, f)| f.run.data_path.as_deref());
    let first = paths.next()?;
    Some(if paths.all(|p| p == first) {
        first.to_owned()
    } else {
        "mixed".to_owned()
    })
}

/// The report's hit ratio of the summed counters (one formula for runs and merges); the
/// named counters read from the map as the report's struct, a counter it lacks as 0.
fn hit_ratio(counters: &CounterMap) -> Option<f64> {
    let counters: Counters = serde_json::to_value(counters)
        .and_then(serde_json::from_value)
        .ok()?;
    Some(shardslap_report::text::hit_ratio(&counters))
}
