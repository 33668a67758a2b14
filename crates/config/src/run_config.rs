//! [`Args`] → [`RunConfig`]: every flag parsed, range-checked and
//! cross-checked, the `-F` workload loaded and the CPU set resolved. The
//! one place that decides what a run will do; later stages only read it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shardslap_workload::{parse_cfg_file, KeySpace, WorkloadSpec, MAX_GENERATED_VALUE_LEN};

use crate::cpuset::{affinity_cpus, format_cpu_list, parse_cpu_list};
use crate::error::os_reason;
use crate::server::parse_servers;
use crate::value::{parse_count, parse_duration};
use crate::{Args, ConfigError, ServerAddr};

/// Run time when neither `-t` nor `-x` is given (memaslap's 600 s).
pub const DEFAULT_RUN_TIME: Duration = Duration::from_secs(600);

const POSITIVE: &str = "must be at least 1";
const PROPORTION: &str = "must be a proportion in (0, 1]";

/// When the run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopCondition {
    /// After this long (`-t`); JSON `{"time_secs": 600.0}`.
    #[serde(rename = "time_secs", serialize_with = "secs::serialize")]
    Time(Duration),
    /// After this many operations in total (`-x`); JSON `{"ops": 100}`.
    Ops(u64),
}

/// Where `--json` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonTarget {
    /// `--json -`.
    Stdout,
    /// `--json PATH`.
    File(PathBuf),
}

impl serde::Serialize for JsonTarget {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonTarget::Stdout => serializer.serialize_str("-"),
            JsonTarget::File(path) => path.serialize(serializer),
        }
    }
}

/// A validated run: what to send, where, how hard and for how long.
///
/// Serializes to JSON with durations as seconds (`*_secs` fields), servers
/// as `host:port` strings and the seed, so a report says how to repeat it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunConfig {
    /// `-s`, parsed; not resolved (the engine's preflight does that).
    pub servers: Vec<ServerAddr>,
    /// `-s` as given, for memaslap's `servers:` banner line.
    pub servers_raw: String,
    /// Number of shards (threads), `-T`; defaults to `cores.len()`.
    pub shards: usize,
    /// CPU ids shards are pinned to, round-robin (`--cores` or the affinity mask).
    pub cores: Vec<usize>,
    /// Total concurrencies (closed-loop clients), `-c`.
    pub concurrency: usize,
    /// TCP connections per concurrency, `-n`.
    pub conns_per_concurrency: usize,
    /// `-t` or `-x`.
    pub stop: StopCondition,
    /// Key/value size distributions and the set/get mix (`-F` or the default).
    pub workload: WorkloadSpec,
    /// `-F` path, if any.
    pub cfg_file: Option<PathBuf>,
    /// `--keys` and its companions: a fixed key space instead of memaslap's window.
    pub key_space: Option<KeySpace>,
    /// `--rate` and its companions: an open loop instead of memaslap's closed one.
    pub open_loop: Option<crate::OpenLoop>,
    /// Task window per concurrency in items, `-w`.
    pub window_len: usize,
    /// `-X`: one value length in bytes for every item.
    pub fixed_value_len: Option<usize>,
    /// `-v`: proportion of gets verified; 0 = off.
    pub verify: f64,
    /// `-d`: keys per multi-get; 1 = single get.
    pub multi_get_keys: usize,
    /// `-S`: periodic statistics interval.
    #[serde(rename = "stat_freq_secs", serialize_with = "secs::serialize_option")]
    pub stat_freq: Option<Duration>,
    /// `-e`: proportion of items stored with an expiry; 0 = off.
    pub exp_verify: f64,
    /// `-o`: proportion of sets that overwrite; 0 = off.
    pub overwrite: f64,
    /// `-R`, also forced on by `-p`.
    pub reconnect: bool,
    /// `-U`.
    pub udp: bool,
    /// `-a`.
    pub facebook: bool,
    /// `-B`.
    pub binary: bool,
    /// `-P` in ops/s; `None` = unlimited.
    pub tps_limit: Option<u64>,
    /// `-p`: servers each set is written to; 0 = off.
    pub rep_write: usize,
    /// `-b`.
    pub verbose: bool,
    /// `--json`.
    pub json: Option<JsonTarget>,
    /// `--hdr-log`: where the HdrHistogram interval log goes.
    pub hdr_log: Option<PathBuf>,
    /// `--timeseries`: where the time series streams to (JSON lines) instead of memory.
    pub timeseries_file: Option<PathBuf>,
    /// Master seed (`--seed`, or from the clock).
    pub seed: u64,
    /// `--pipeline`: requests in flight per connection.
    pub pipeline: usize,
    /// `--timeout` for connects and requests.
    #[serde(rename = "timeout_secs", serialize_with = "secs::serialize")]
    pub timeout: Duration,
    /// `-q`.
    pub quiet: bool,
    /// `--start-at`: the wall-clock instant (Unix seconds) the measured run starts at.
    pub start_at: Option<f64>,
    /// Things that are allowed but probably not meant, one line each, for
    /// the binary to print before the run.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl RunConfig {
    /// Validates `args`, reads the `-F` file and this process's CPU
    /// affinity mask.
    ///
    /// # Errors
    ///
    /// The first problem found, as a one-line [`ConfigError`] naming the
    /// flag and the value.
    pub fn from_args(args: Args) -> Result<RunConfig, ConfigError> {
        build(args, &affinity_cpus()?)
    }
}

/// [`RunConfig::from_args`] with the affinity mask passed in, so tests do
/// not depend on the machine.
pub(crate) fn build(args: Args, allowed_cpus: &[usize]) -> Result<RunConfig, ConfigError> {
    let mut warnings = Vec::new();
    let key_space = crate::key_space::key_space(&args)?;
    let open_loop = crate::open_loop::open_loop(&args)?;

    let servers_raw = args.servers.ok_or(ConfigError::NoServers)?;
    let servers = parse_servers(&servers_raw)?;

    let cores = match &args.cores {
        None => allowed_cpus.to_vec(),
        Some(raw) => {
            let cores = parse_cpu_list(raw)?;
            if let Some(&cpu) = cores.iter().find(|cpu| !allowed_cpus.contains(cpu)) {
                return Err(ConfigError::CoreNotAllowed {
                    cpu,
                    allowed: format_cpu_list(allowed_cpus),
                });
            }
            cores
        }
    };
    let shards = match args.threads {
        None => cores.len(),
        Some(threads) => at_least_one("--threads", threads)?,
    };
    if shards > cores.len() {
        warnings.push(format!(
            "{shards} shards on {} cores ({}): shards share cores round-robin and compete for CPU",
            cores.len(),
            format_cpu_list(&cores),
        ));
    }

    let concurrency = at_least_one("--concurrency", args.concurrency)?;
    if concurrency < shards {
        return Err(ConfigError::ConcurrencyBelowShards {
            concurrency,
            shards,
        });
    }
    if servers.len() > concurrency {
        warnings.push(format!(
            "{} servers but only {concurrency} concurrencies: the last {} servers get no traffic",
            servers.len(),
            servers.len() - concurrency,
        ));
    }

    let conns_per_concurrency = at_least_one("--conn-sock", args.conn_sock)?;
    if args.udp && conns_per_concurrency > 1 {
        return Err(ConfigError::UdpConnSock {
            conn_sock: conns_per_concurrency,
        });
    }

    let run_time = args
        .time
        .as_deref()
        .map(|raw| positive_duration("--time", raw))
        .transpose()?;
    let stop = match (args.execute_number, run_time) {
        (Some(0), _) => return Err(ConfigError::invalid("--execute-number", "0", POSITIVE)),
        (Some(ops), time) => {
            if time.is_some() {
                warnings
                    .push("both --execute-number and --time given: --time is ignored".to_owned());
            }
            StopCondition::Ops(ops)
        }
        (None, time) => StopCondition::Time(time.unwrap_or(DEFAULT_RUN_TIME)),
    };

    let window_len = parse_count("--win-size", &args.win_size)?;
    let window_len = usize::try_from(window_len)
        .ok()
        .filter(|&len| len > 0)
        .ok_or_else(|| ConfigError::invalid("--win-size", &args.win_size, POSITIVE))?;

    let fixed_value_len = args
        .fixed_size
        .map(|len| {
            if (1..=MAX_GENERATED_VALUE_LEN).contains(&len) {
                Ok(len)
            } else {
                Err(ConfigError::invalid(
                    "--fixed-size",
                    len.to_string(),
                    format!("must be a value length in 1..={MAX_GENERATED_VALUE_LEN} bytes"),
                ))
            }
        })
        .transpose()?;

    let verify = proportion("--verify", args.verify)?;
    let exp_verify = proportion("--exp-verify", args.exp_verify)?;
    let overwrite = proportion("--overwrite", args.overwrite)?;
    let multi_get_keys = at_least_one("--division", args.division)?;

    let stat_freq = args
        .stat_freq
        .as_deref()
        .map(|raw| positive_duration("--stat-freq", raw))
        .transpose()?;

    // UDP carries the text protocol only (memaslap's -B -U sends nothing at all).
    if args.binary && (args.udp || args.facebook) {
        return Err(ConfigError::Conflict {
            flag: "--binary",
            other: if args.udp { "--udp" } else { "--facebook" },
        });
    }
    if args.facebook {
        if multi_get_keys < 2 {
            return Err(ConfigError::FacebookNeedsDivision {
                division: multi_get_keys,
            });
        }
        if args.udp {
            return Err(ConfigError::Conflict {
                flag: "--facebook",
                other: "--udp",
            });
        }
        if args.rep_write.is_some() {
            return Err(ConfigError::Conflict {
                flag: "--facebook",
                other: "--rep-write",
            });
        }
    }

    let rep_write = match args.rep_write {
        None => 0,
        Some(rep_write) => {
            at_least_one("--rep-write", rep_write)?;
            if args.udp {
                return Err(ConfigError::Conflict {
                    flag: "--rep-write",
                    other: "--udp",
                });
            }
            if servers.len() < 2 {
                return Err(ConfigError::RepWriteNeedsServers {
                    servers: servers.len(),
                });
            }
            if rep_write > servers.len() {
                return Err(ConfigError::RepWriteTooLarge {
                    rep_write,
                    servers: servers.len(),
                });
            }
            rep_write
        }
    };
    // memaslap: replicated writes need reconnecting to survive a lost server.
    let reconnect = args.reconnect || rep_write > 0;

    let tps_limit = args
        .tps
        .as_deref()
        .map(|raw| parse_count("--tps", raw))
        .transpose()?
        .filter(|&rate| rate > 0);

    let pipeline = at_least_one("--pipeline", args.pipeline)?;
    if pipeline > 1 {
        // UDP has one request per datagram and -P paces single requests.
        let other = match (args.udp, args.facebook, &tps_limit) {
            (true, _, _) => Some("--udp"),
            (_, true, _) => Some("--facebook"),
            (_, _, Some(_)) => Some("--tps"),
            _ => None,
        };
        if let Some(other) = other {
            return Err(ConfigError::Conflict {
                flag: "--pipeline above 1",
                other,
            });
        }
    }
    let timeout = positive_duration("--timeout", &args.timeout)?;
    let start_at = args
        .start_at
        .map(|at| start_at(at, unix_now_s(), &mut warnings))
        .transpose()?;

    let json = args.json.map(json_target);

    let workload = match &args.cfg_cmd {
        Some(path) => load_workload(path, &mut warnings)?,
        // Never ~/.memslap.cnf: a stale file there silently changed
        // memaslap's "default" workload.
        None => WorkloadSpec::memaslap_default(),
    };

    let seed = args.seed.unwrap_or_else(seed_from_clock);

    Ok(RunConfig {
        key_space,
        open_loop,
        servers,
        servers_raw,
        shards,
        cores,
        concurrency,
        conns_per_concurrency,
        stop,
        workload,
        cfg_file: args.cfg_cmd,
        window_len,
        fixed_value_len,
        verify,
        multi_get_keys,
        stat_freq,
        exp_verify,
        overwrite,
        reconnect,
        udp: args.udp,
        facebook: args.facebook,
        binary: args.binary,
        tps_limit,
        rep_write,
        verbose: args.verbose,
        json,
        hdr_log: args.hdr_log,
        timeseries_file: args.timeseries,
        seed,
        pipeline,
        timeout,
        quiet: args.quiet,
        start_at,
        warnings,
    })
}

/// How far ahead `--start-at` may be: further is almost surely a unit mistake (milliseconds).
const START_AT_HORIZON_S: f64 = 24.0 * 3600.0;

/// Checks `--start-at` against the clock `now_s`: a time in the past still runs (at once, as
/// a late host does), with a warning; one more than a day ahead is refused.
fn start_at(at: f64, now_s: f64, warnings: &mut Vec<String>) -> Result<f64, ConfigError> {
    let invalid = |expected: &str| ConfigError::InvalidValue {
        flag: "--start-at",
        value: at.to_string(),
        expected: expected.to_string(),
    };
    if !at.is_finite() || at <= 0.0 {
        return Err(invalid("expected Unix seconds, e.g. $(($(date +%s) + 30))"));
    }
    if at - now_s > START_AT_HORIZON_S {
        return Err(invalid(&format!(
            "it is {:.0} s from now, more than a day: Unix seconds, not milliseconds?",
            at - now_s
        )));
    }
    if at < now_s {
        warnings.push(format!(
            "--start-at {at} is {:.1} s in the past: the run starts as soon as it is connected",
            now_s - at
        ));
    }
    Ok(at)
}

/// The wall clock in Unix seconds, the unit of `--start-at` and of a result's `started_at`
/// (0 if the clock is before 1970).
#[must_use]
pub fn unix_now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn at_least_one(flag: &'static str, n: usize) -> Result<usize, ConfigError> {
    if n == 0 {
        return Err(ConfigError::invalid(flag, "0", POSITIVE));
    }
    Ok(n)
}

/// An optional proportion flag: absent is 0 (off), present must be in (0, 1].
fn proportion(flag: &'static str, p: Option<f64>) -> Result<f64, ConfigError> {
    match p {
        None => Ok(0.0),
        Some(p) if p > 0.0 && p <= 1.0 => Ok(p),
        Some(p) => Err(ConfigError::invalid(flag, p.to_string(), PROPORTION)),
    }
}

fn positive_duration(flag: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    let duration = parse_duration(flag, raw)?;
    if duration.is_zero() {
        return Err(ConfigError::invalid(flag, raw, "must be greater than 0"));
    }
    Ok(duration)
}

/// `--json PATH`: `-` is stdout. (clap already refuses an empty path.)
fn json_target(path: PathBuf) -> JsonTarget {
    if path == Path::new("-") {
        JsonTarget::Stdout
    } else {
        JsonTarget::File(path)
    }
}

/// Reads and parses the `-F` file; what the parser warns about goes to `warnings`, naming
/// the file.
fn load_workload(path: &Path, warnings: &mut Vec<String>) -> Result<WorkloadSpec, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError::CfgRead {
        path: path.to_owned(),
        reason: os_reason(&err),
    })?;
    // Key lengths over 250 are rejected there for both protocols: memcached
    // refuses them in binary too, so memaslap's -B exemption is not kept.
    let parsed = parse_cfg_file(&text).map_err(|reason| ConfigError::CfgParse {
        path: path.to_owned(),
        reason,
    })?;
    for warning in parsed.warnings {
        warnings.push(format!("-F file '{}': {warning}", path.display()));
    }
    Ok(parsed.spec)
}

/// A fresh seed per run: the wall clock in nanoseconds (low 64 bits).
fn seed_from_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

/// Durations as seconds (f64) in JSON.
mod secs {
    use std::time::Duration;

    use serde::Serializer;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn serialize_option<S: Serializer>(
        d: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};
    use shardslap_workload::parse_cfg;

    use super::*;

    /// The affinity mask the tests pretend to have.
    const ALLOWED: [usize; 2] = [0, 1];

    fn parse(argv: &[&str]) -> Result<RunConfig, ConfigError> {
        let args = Args::try_parse_from(std::iter::once("shardslap").chain(argv.iter().copied()))
            .unwrap_or_else(|err| panic!("clap rejected {argv:?}: {err}"));
        build(args, &ALLOWED)
    }

    fn ok(argv: &[&str]) -> RunConfig {
        parse(argv).unwrap_or_else(|err| panic!("{argv:?}: {err}"))
    }

    fn err(argv: &[&str]) -> String {
        match parse(argv) {
            Ok(cfg) => panic!("{argv:?} was accepted: {cfg:?}"),
            Err(err) => err.to_string(),
        }
    }

    /// A file under the temp dir that is removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("shardslap-config-{}-{name}", std::process::id()));
            std::fs::write(&path, text).unwrap();
            TempFile(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn version_and_help() {
        let mut command = Args::command();
        assert_eq!(
            command.render_version(),
            format!(
                "shardslap {} (memaslap v1.0 compatible)\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        let help = command.render_long_help().to_string();
        for needle in [
            "--win-size",
            "win_size",
            "--stat-freq",
            "stat_freq",
            "-V, --version",
        ] {
            assert!(help.contains(needle), "help lacks {needle}:\n{help}");
        }
    }

    #[test]
    fn servers_fall_back_to_memcached_servers_env() {
        let command = Args::command();
        let servers = command
            .get_arguments()
            .find(|arg| arg.get_id() == "servers")
            .unwrap();
        assert_eq!(
            servers.get_env(),
            Some(std::ffi::OsStr::new("MEMCACHED_SERVERS"))
        );
    }

    #[test]
    fn no_servers_is_an_error() {
        // Built directly so a MEMCACHED_SERVERS in the test environment
        // cannot fill it in.
        let mut args = Args::try_parse_from(["shardslap", "-s", "x"]).unwrap();
        args.servers = None;
        assert_eq!(
            build(args, &ALLOWED).unwrap_err().to_string(),
            "no servers given: use -s host:port (or set MEMCACHED_SERVERS)"
        );
    }

    #[test]
    fn bad_inputs_give_exact_messages() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["-s", ""],
                "invalid value '' for --servers: expected host[:port][,host[:port]...], \
                 like 127.0.0.1:11211",
            ),
            (
                &["-s", "a:99999"],
                "invalid value 'a:99999' for --servers: port '99999' in 'a:99999' is not in 1..=65535",
            ),
            (&["-s", "a", "-T", "0"], "invalid value '0' for --threads: must be at least 1"),
            (&["-s", "a", "-c", "0"], "invalid value '0' for --concurrency: must be at least 1"),
            (&["-s", "a", "-T", "4", "-c", "3"], "--concurrency (3) must be >= shards (4)"),
            (&["-s", "a", "-n", "0"], "invalid value '0' for --conn-sock: must be at least 1"),
            (
                &["-s", "a", "-U", "-n", "2"],
                "--udp cannot be combined with --conn-sock 2: UDP uses one socket per concurrency",
            ),
            (
                &["-s", "a", "-x", "0"],
                "invalid value '0' for --execute-number: must be at least 1",
            ),
            (
                &["-s", "a", "-t", "10parsecs"],
                "invalid value '10parsecs' for --time: expected a duration like 30, 10s, 2m, 1h",
            ),
            (&["-s", "a", "-t", "0"], "invalid value '0' for --time: must be greater than 0"),
            (&["-s", "a", "-t", "0s"], "invalid value '0s' for --time: must be greater than 0"),
            (
                &["-s", "a", "-x", "5", "-t", "soon"],
                "invalid value 'soon' for --time: expected a duration like 30, 10s, 2m, 1h",
            ),
            (
                &["-s", "a", "-w", "0"],
                "invalid value '0' for --win-size: must be at least 1",
            ),
            (
                &["-s", "a", "-w", "10q"],
                "invalid value '10q' for --win-size: expected a number with an optional \
                 k/m/g suffix (x1024), like 10k",
            ),
            (
                &["-s", "a", "-X", "0"],
                "invalid value '0' for --fixed-size: must be a value length in 1..=1048576 bytes",
            ),
            (
                &["-s", "a", "-X", "1048577"],
                "invalid value '1048577' for --fixed-size: must be a value length in \
                 1..=1048576 bytes",
            ),
            (&["-s", "a", "-v", "1.5"], "invalid value '1.5' for --verify: must be a proportion in (0, 1]"),
            (&["-s", "a", "-v", "0"], "invalid value '0' for --verify: must be a proportion in (0, 1]"),
            (&["-s", "a", "-v", "NaN"], "invalid value 'NaN' for --verify: must be a proportion in (0, 1]"),
            (
                &["-s", "a", "-e", "-0.5"],
                "invalid value '-0.5' for --exp-verify: must be a proportion in (0, 1]",
            ),
            (&["-s", "a", "-o", "2"], "invalid value '2' for --overwrite: must be a proportion in (0, 1]"),
            (&["-s", "a", "-d", "0"], "invalid value '0' for --division: must be at least 1"),
            (
                &["-s", "a", "-S", "0s"],
                "invalid value '0s' for --stat-freq: must be greater than 0",
            ),
            (
                &["-s", "a", "-S", "often"],
                "invalid value 'often' for --stat-freq: expected a duration like 30, 10s, 2m, 1h",
            ),
            (&["-s", "a", "-a"], "--facebook needs --division >= 2 (got 1)"),
            (&["-s", "a", "-a", "-d", "2", "-U"], "--facebook cannot be combined with --udp"),
            (
                &["-s", "a,b", "-a", "-d", "2", "-p", "2"],
                "--facebook cannot be combined with --rep-write",
            ),
            (&["-s", "a", "-p", "1"], "--rep-write needs at least 2 servers in -s (got 1)"),
            (&["-s", "a,b", "-p", "3"], "--rep-write (3) must be <= the number of servers (2)"),
            (&["-s", "a,b", "-p", "0"], "invalid value '0' for --rep-write: must be at least 1"),
            (&["-s", "a,b", "-p", "2", "-U"], "--rep-write cannot be combined with --udp"),
            (&["-s", "a", "-B", "-U"], "--binary cannot be combined with --udp"),
            (&["-s", "a", "-U", "--pipeline", "2"], "--pipeline above 1 cannot be combined with --udp"),
            (&["-s", "a", "-P", "1k", "--pipeline", "2"], "--pipeline above 1 cannot be combined with --tps"),
            (&["-s", "a", "-B", "-a", "-d", "2"], "--binary cannot be combined with --facebook"),
            (
                &["-s", "a", "-P", "fast"],
                "invalid value 'fast' for --tps: expected a number with an optional \
                 k/m/g suffix (x1024), like 10k",
            ),
            (&["-s", "a", "--pipeline", "0"], "invalid value '0' for --pipeline: must be at least 1"),
            (
                &["-s", "a", "--timeout", "0"],
                "invalid value '0' for --timeout: must be greater than 0",
            ),
            (
                &["-s", "a", "--timeout", "5ms"],
                "invalid value '5ms' for --timeout: expected a duration like 30, 10s, 2m, 1h",
            ),
                        (
                &["-s", "a", "--cores", "5"],
                "core 5 is not in this process's CPU affinity mask (allowed: 0-1)",
            ),
            (
                &["-s", "a", "--cores", "1-0"],
                "invalid value '1-0' for --cores: range '1-0' is reversed (write 0-1)",
            ),
            (
                &["-s", "a", "-F", "/nonexistent/shardslap.cnf"],
                "cannot read -F file '/nonexistent/shardslap.cnf': No such file or directory",
            ),
        ];
        for (argv, want) in cases {
            assert_eq!(err(argv), *want, "{argv:?}");
        }
    }

    #[test]
    fn clap_rejects_malformed_values_naming_the_flag() {
        let cases: [(&[&str], &str); 4] = [
            (&["-c", "many"], "--concurrency"),
            (&["-x", "-1"], "'-1'"),
            (&["-v", "half"], "--verify"),
            (&["--json", ""], "--json"),
        ];
        for (argv, flag) in cases {
            let argv = ["shardslap", "-s", "a"].iter().chain(argv);
            let err = Args::try_parse_from(argv).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains(flag), "{err}");
        }
    }

    #[test]
    fn defaults_match_memaslap_where_it_is_sane() {
        let cfg = ok(&["-s", "127.0.0.1"]);
        assert_eq!(cfg.servers_raw, "127.0.0.1");
        assert_eq!(cfg.servers[0].display(), "127.0.0.1:11211");
        assert_eq!(cfg.cores, ALLOWED);
        assert_eq!(cfg.shards, 2);
        assert_eq!(cfg.concurrency, 16);
        assert_eq!(cfg.conns_per_concurrency, 1);
        assert_eq!(cfg.stop, StopCondition::Time(Duration::from_secs(600)));
        assert_eq!(cfg.workload, WorkloadSpec::memaslap_default());
        assert_eq!(cfg.cfg_file, None);
        assert_eq!(cfg.window_len, 10_240);
        assert_eq!(cfg.fixed_value_len, None);
        assert_eq!((cfg.verify, cfg.exp_verify, cfg.overwrite), (0.0, 0.0, 0.0));
        assert_eq!(cfg.multi_get_keys, 1);
        assert_eq!(cfg.stat_freq, None);
        assert!(!(cfg.reconnect || cfg.udp || cfg.facebook || cfg.binary || cfg.verbose));
        assert_eq!(cfg.tps_limit, None);
        assert_eq!(cfg.rep_write, 0);
        assert_eq!(cfg.json, None);
        assert_ne!(cfg.seed, 0);
        assert_eq!(cfg.pipeline, 1);
        assert_eq!(cfg.timeout, Duration::from_secs(5));
        assert!(!cfg.quiet);
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    }

    #[test]
    fn durations_and_sizes_in_memaslap_syntax() {
        let time = |raw: &str| ok(&["-s", "a", "-t", raw]).stop;
        assert_eq!(time("2m"), StopCondition::Time(Duration::from_secs(120)));
        assert_eq!(
            time("1.5s"),
            StopCondition::Time(Duration::from_millis(1500))
        );
        assert_eq!(time("30"), StopCondition::Time(Duration::from_secs(30)));
        assert_eq!(time("1H"), StopCondition::Time(Duration::from_secs(3600)));
        assert_eq!(time("1d"), StopCondition::Time(Duration::from_secs(86_400)));

        assert_eq!(ok(&["-s", "a", "-w", "10k"]).window_len, 10_240);
        assert_eq!(ok(&["-s", "a", "-w", "1m"]).window_len, 1 << 20);
        assert_eq!(ok(&["-s", "a", "-w", "100"]).window_len, 100);
        assert_eq!(ok(&["-s", "a", "-P", "40k"]).tps_limit, Some(40_960));
        assert_eq!(ok(&["-s", "a", "-P", "5000"]).tps_limit, Some(5000));
        assert_eq!(ok(&["-s", "a", "-P", "0"]).tps_limit, None);
        assert_eq!(
            ok(&["-s", "a", "-S", "1s"]).stat_freq,
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            ok(&["-s", "a", "--timeout", "0.5s"]).timeout,
            Duration::from_millis(500)
        );
    }

    #[test]
    fn execute_number_beats_time() {
        let cfg = ok(&["-s", "a", "-t", "10s", "-x", "100"]);
        assert_eq!(cfg.stop, StopCondition::Ops(100));
        assert_eq!(
            cfg.warnings,
            ["both --execute-number and --time given: --time is ignored"]
        );
        assert_eq!(ok(&["-s", "a", "-x", "7"]).stop, StopCondition::Ops(7));
    }

    #[test]
    fn memaslap_long_spellings_parse() {
        let cfg = ok(&[
            "--servers=a:1,b:2",
            "--threads",
            "1",
            "--concurrency",
            "4",
            "--win_size=10k",
            "--execute_number",
            "100",
            "--conn_sock",
            "2",
            "--stat_freq",
            "1s",
            "--fixed_size",
            "100",
            "--exp_verify",
            "0.1",
            "--rep_write",
            "2",
            "--verify",
            "0.5",
            "--division",
            "3",
            "--overwrite",
            "0.2",
            "--tps=1k",
            "--binary",
            "--verbose",
        ]);
        assert_eq!(cfg.servers.len(), 2);
        assert_eq!(cfg.shards, 1);
        assert_eq!(cfg.concurrency, 4);
        assert_eq!(cfg.window_len, 10_240);
        assert_eq!(cfg.stop, StopCondition::Ops(100));
        assert_eq!(cfg.conns_per_concurrency, 2);
        assert_eq!(cfg.stat_freq, Some(Duration::from_secs(1)));
        assert_eq!(cfg.fixed_value_len, Some(100));
        assert_eq!(cfg.exp_verify, 0.1);
        assert_eq!(cfg.rep_write, 2);
        assert!(cfg.reconnect, "-p forces reconnect on");
        assert_eq!(cfg.verify, 0.5);
        assert_eq!(cfg.multi_get_keys, 3);
        assert_eq!(cfg.overwrite, 0.2);
        assert_eq!(cfg.tps_limit, Some(1024));
        assert!(cfg.binary && cfg.verbose);
    }

    #[test]
    fn memaslap_short_flags_parse() {
        let cfg = ok(&[
            "-s", "[::1]:1", "-T", "2", "-c", "8", "-n", "1", "-t", "5s", "-R", "-U", "-q",
        ]);
        assert_eq!(cfg.servers[0].display(), "[::1]:1");
        assert_eq!((cfg.shards, cfg.concurrency), (2, 8));
        assert!(cfg.reconnect && cfg.udp && cfg.quiet);
        let cfg = ok(&["-s", "a", "-a", "-d", "2"]);
        assert!(cfg.facebook);
    }

    #[test]
    fn concurrency_need_not_be_a_multiple_of_threads() {
        let cfg = ok(&["-s", "a", "-T", "2", "-c", "3"]);
        assert_eq!((cfg.shards, cfg.concurrency), (2, 3));
    }

    #[test]
    fn cores_and_shards() {
        let cfg = ok(&["-s", "a", "--cores", "1"]);
        assert_eq!((cfg.cores.as_slice(), cfg.shards), (&[1][..], 1));
        assert!(cfg.warnings.is_empty());

        let cfg = ok(&["-s", "a", "--cores", "0-1", "-T", "3"]);
        assert_eq!(cfg.shards, 3);
        assert_eq!(
            cfg.warnings,
            ["3 shards on 2 cores (0-1): shards share cores round-robin and compete for CPU"]
        );
    }

    #[test]
    fn more_servers_than_concurrencies_warns() {
        let cfg = ok(&["-s", "a,b,c", "-T", "1", "-c", "2"]);
        assert_eq!(
            cfg.warnings,
            ["3 servers but only 2 concurrencies: the last 1 servers get no traffic"]
        );
    }

    #[test]
    fn json_target_and_seed() {
        assert_eq!(
            ok(&["-s", "a", "--json", "-"]).json,
            Some(JsonTarget::Stdout)
        );
        assert_eq!(
            ok(&["-s", "a", "--json", "out.json"]).json,
            Some(JsonTarget::File(PathBuf::from("out.json")))
        );
        assert_eq!(ok(&["-s", "a", "--seed", "42"]).seed, 42);
    }

    #[test]
    fn cfg_file_is_read_and_parsed() {
        let file = TempFile::new(
            "good.cnf",
            "key\n32 32 1\nvalue\n100 200 1\ncmd\n0 0.5\n1 0.5\n",
        );
        let cfg = ok(&["-s", "a", "-F", file.path()]);
        assert_eq!(cfg.cfg_file.as_deref(), Some(file.0.as_path()));
        assert_eq!(
            cfg.workload,
            parse_cfg(&std::fs::read_to_string(&file.0).unwrap()).unwrap()
        );
        assert_eq!(cfg.workload.keys[0].start, 32);
    }

    #[test]
    fn cfg_file_warnings_name_the_file_and_line() {
        let file = TempFile::new(
            "wrapped.cnf",
            "#a comment that goes on\nonto the next line\nkey\n32 32 0.5\n",
        );
        let cfg = ok(&["-s", "a", "-F", file.path()]);
        assert_eq!(
            cfg.warnings,
            [
                format!(
                    "-F file '{}': line 2: skipped \"onto the next line\" (a comment wrapped onto \
                     a line without '#'; memaslap skips it too)",
                    file.path()
                ),
                format!(
                    "-F file '{}': line 3: key proportions total 0.500, not 1 (memaslap's docs \
                     say they must): they are not rescaled; the other 50.0% of keys get the \
                     average length, 16 bytes",
                    file.path()
                ),
            ]
        );
    }

    #[test]
    fn cfg_file_errors_name_the_file_and_line() {
        let text = "key\n300 300 1\nvalue\n100 100 1\ncmd\n0 0.1\n1 0.9\n";
        let file = TempFile::new("long-keys.cnf", text);
        let want = format!(
            "-F file '{}': {}",
            file.path(),
            parse_cfg(text).unwrap_err()
        );
        assert!(want.contains("line 2"), "{want}");
        assert_eq!(err(&["-s", "a", "-F", file.path()]), want);
        // memcached refuses keys over 250 bytes in binary too.
        assert_eq!(err(&["-s", "a", "-B", "-F", file.path()]), want);
    }

    #[test]
    fn start_at_accepts_the_near_future_warns_on_the_past_refuses_milliseconds() {
        let now = 1_800_000_000.0;
        let mut warnings = Vec::new();
        assert_eq!(
            start_at(now + 30.0, now, &mut warnings).unwrap(),
            now + 30.0
        );
        assert!(warnings.is_empty());
        assert_eq!(start_at(now - 2.5, now, &mut warnings).unwrap(), now - 2.5);
        assert_eq!(
            warnings,
            [
                "--start-at 1799999997.5 is 2.5 s in the past: the run starts as soon as it is \
              connected"
            ]
        );
        let millis = start_at(now * 1000.0, now, &mut warnings)
            .unwrap_err()
            .to_string();
        assert!(millis.starts_with("invalid value '1800000000000' for --start-at: it is "));
        assert!(millis.ends_with("more than a day: Unix seconds, not milliseconds?"));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let msg = start_at(bad, now, &mut warnings).unwrap_err().to_string();
            assert!(
                msg.contains("for --start-at: expected Unix seconds"),
                "{msg}"
            );
        }
        assert_eq!(ok(&["-s", "a"]).start_at, None);
        let clap_err = Args::try_parse_from(["shardslap", "-s", "a", "--start-at", "soon"])
            .unwrap_err()
            .to_string();
        assert!(clap_err.contains("--start-at"), "{clap_err}");
    }

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
}
