//! [`RunConfig`] as the config section of a result file. The names and values are the ones
//! results have always had — `udp`/`facebook`/`binary` booleans, `rep_write` 0 and proportions
//! 0.0 for "off", `tps_limit` and `open_loop` side by side — so files written before the
//! choices were typed and after read the same; readers key on these names.

use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};
use shardslap_workload::{KeySpace, WorkloadSpec};

use super::{Distribution, JsonTarget, Protocol, ReplyWait, RunConfig, StopCondition, Transport};
use crate::{OpenLoop, ServerAddr};

/// The section's fields, in the order they are written.
#[derive(Serialize)]
struct Section<'a> {
    servers: &'a [ServerAddr],
    servers_raw: &'a str,
    shards: usize,
    cores: &'a [usize],
    concurrency: usize,
    conns_per_concurrency: usize,
    stop: StopCondition,
    workload: &'a WorkloadSpec,
    cfg_file: Option<&'a Path>,
    key_space: Option<&'a KeySpace>,
    open_loop: Option<OpenLoop>,
    window_len: usize,
    fixed_value_len: Option<usize>,
    verify: f64,
    multi_get_keys: usize,
    stat_freq_secs: Option<f64>,
    exp_verify: f64,
    overwrite: f64,
    reconnect: bool,
    udp: bool,
    facebook: bool,
    binary: bool,
    /// Tells meta from ascii; `binary` stays for every reader that knows only it.
    protocol: &'static str,
    /// `--tls`: whom the run trusts, its client certificate, the name checked; `null` = plain.
    tls: Option<&'a crate::TlsSettings>,
    /// `--distribution`: `modula` or `ketama`; `null` = each concurrency sticks to a server.
    distribution: Option<&'static str>,
    tps_limit: Option<u64>,
    rep_write: usize,
    verbose: bool,
    json: Option<&'a JsonTarget>,
    hdr_log: Option<&'a PathBuf>,
    timeseries_file: Option<&'a PathBuf>,
    seed: u64,
    pipeline: usize,
    /// `"poll"` with `--busy-poll`; absent for the default (`sleep`), so a run without it
    /// writes the section it always wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_wait: Option<&'static str>,
    timeout_secs: f64,
    quiet: bool,
    start_at: Option<f64>,
}

impl Serialize for RunConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Section {
            servers: &self.servers,
            servers_raw: &self.servers_raw,
            shards: self.shards,
            cores: &self.cores,
            concurrency: self.concurrency,
            conns_per_concurrency: self.transport.conns_per_concurrency(),
            stop: self.stop,
            workload: &self.workload,
            cfg_file: self.cfg_file.as_deref(),
            key_space: self.key_space.as_ref(),
            open_loop: self.pacing.open_loop(),
            window_len: self.window_len,
            fixed_value_len: self.fixed_value_len,
            verify: self.verify.unwrap_or(0.0),
            multi_get_keys: self.multi_get_keys,
            stat_freq_secs: self.stat_freq.map(|d| d.as_secs_f64()),
            exp_verify: self.exp_verify.unwrap_or(0.0),
            overwrite: self.overwrite.unwrap_or(0.0),
            reconnect: self.reconnect,
            udp: self.transport == Transport::Udp,
            facebook: matches!(self.transport, Transport::Facebook { .. }),
            binary: self.protocol == Protocol::Binary,
            protocol: self.protocol.name(),
            tls: self.tls.as_ref(),
            distribution: self.server_choice.distribution().map(Distribution::name),
            tps_limit: self.pacing.tps_limit(),
            rep_write: self.transport.replication().map_or(0, |rep| rep.servers),
            verbose: self.verbose,
            json: self.json.as_ref(),
            hdr_log: self.hdr_log.as_ref(),
            timeseries_file: self.timeseries_file.as_ref(),
            seed: self.seed,
            pipeline: self.pipeline,
            reply_wait: match self.reply_wait {
                ReplyWait::Sleep => None,
                ReplyWait::Poll => Some(self.reply_wait.name()),
            },
            timeout_secs: self.timeout.as_secs_f64(),
            quiet: self.quiet,
            start_at: self.start_at,
        }
        .serialize(serializer)
    }
}

/// `{"time_secs": 600.0}` or `{"ops": 100}`.
impl Serialize for StopCondition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum Stop {
            TimeSecs(f64),
            Ops(u64),
        }
        match *self {
            StopCondition::Time(d) => Stop::TimeSecs(d.as_secs_f64()),
            StopCondition::Ops(ops) => Stop::Ops(ops),
        }
        .serialize(serializer)
    }
}

/// `-` for stdout, else the path.
impl Serialize for JsonTarget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonTarget::Stdout => serializer.serialize_str("-"),
            JsonTarget::File(path) => path.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::run_config::test_support::ok;

    #[test]
    fn serializes_with_seconds_and_strings() {
        let cfg = ok(&[
            "-s", "a:1", "-t", "1.5s", "-S", "2s", "--json", "-", "--seed", "7",
        ]);
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["servers"], serde_json::json!(["a:1"]));
        assert_eq!(json["stop"], serde_json::json!({ "time_secs": 1.5 }));
        assert_eq!(json["stat_freq_secs"], 2.0);
        assert_eq!(json["timeout_secs"], 5.0);
        assert_eq!(json["json"], "-");
        assert_eq!(json["seed"], 7);
        assert_eq!(json["workload"]["keys"][0]["start"], 64);
        assert!(json.get("warnings").is_none());

        let cfg = ok(&["-s", "a", "-x", "9"]);
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["stop"], serde_json::json!({ "ops": 9 }));
        assert_eq!(json["stat_freq_secs"], serde_json::Value::Null);
    }

    #[test]
    fn busy_poll_is_recorded_and_the_default_leaves_the_section_as_it_was() {
        let polled = serde_json::to_value(ok(&["-s", "a", "--busy-poll"])).unwrap();
        assert_eq!(polled["reply_wait"], serde_json::json!("poll"));
        let default = serde_json::to_value(ok(&["-s", "a"])).unwrap();
        assert!(default.get("reply_wait").is_none(), "{default}");
    }

    /// The section byte for byte as written before the choices were typed (captured from that
    /// version), for each transport, protocol and pacing.
    #[test]
    fn section_is_byte_identical_to_the_untyped_config() {
        let cases: [(&[&str], &str); 5] = [
            (
                &[
                    "-s", "a:1,b:2", "-T", "1", "-c", "4", "-x", "100", "-n", "2", "-S", "2s",
                    "-X", "100", "-e", "0.1", "-p", "2", "-v", "0.5", "-d", "3", "-o", "0.2", "-P",
                    "1k", "-B", "-b", "--seed", "7", "--json", "-", "--cores", "0",
                ],
                include_str!("section_golden/replicated_binary_tps.json"),
            ),
            (
                &[
                    "-s",
                    "a",
                    "-U",
                    "-t",
                    "1.5s",
                    "--seed",
                    "1",
                    "--cores",
                    "0-1",
                    "-q",
                    "--timeout",
                    "0.5s",
                ],
                include_str!("section_golden/udp.json"),
            ),
            (
                &[
                    "-s",
                    "a",
                    "-a",
                    "-d",
                    "4",
                    "-n",
                    "3",
                    "--seed",
                    "2",
                    "--cores",
                    "1",
                    "--rate",
                    "5k",
                    "--arrivals",
                    "uniform",
                    "--keys",
                    "1000",
                    "--hdr-log",
                    "x.hlog",
                    "--timeseries",
                    "t.jsonl",
                    "--start-at",
                    "1",
                    "--pipeline",
                    "1",
                    "-R",
                ],
                include_str!("section_golden/facebook_open_loop.json"),
            ),
            (
                &[
                    "-s",
                    "a",
                    "--seed",
                    "3",
                    "--cores",
                    "0",
                    "--pipeline",
                    "4",
                    "--keys",
                    "50",
                    "--key-dist",
                    "zipf:0.9",
                    "--miss-ratio",
                    "0.1",
                    "--prefill",
                    "--json",
                    "out.json",
                ],
                include_str!("section_golden/key_space_pipeline.json"),
            ),
            (
                &[
                    "-s",
                    "a:1:3,b:2",
                    "--distribution",
                    "ketama",
                    "-n",
                    "2",
                    "-d",
                    "5",
                    "--seed",
                    "4",
                    "--cores",
                    "0",
                ],
                include_str!("section_golden/pool_ketama.json"),
            ),
        ];
        for (argv, want) in cases {
            let mut cfg = ok(argv);
            cfg.warnings.clear();
            assert_eq!(
                serde_json::to_string(&cfg).unwrap(),
                want.trim_end(),
                "{argv:?}"
            );
        }
    }
}
