//! [`Args`] → [`RunConfig`]: each flag parsed and range-checked, the flags cross-checked
//! (the exclusive choices in `choices`), `-F` loaded; what is allowed but probably not meant
//! becomes a warning.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shardslap_workload::{parse_cfg_file, WorkloadSpec, MAX_GENERATED_VALUE_LEN};

use super::choices::{pacing, protocol, reply_wait, server_choice, transport};
use super::ServerChoice;
use super::{JsonTarget, Pacing, RunConfig, StopCondition, Transport, DEFAULT_RUN_TIME, POSITIVE};
use crate::cpuset::{format_cpu_list, parse_cpu_list};
use crate::error::os_reason;
use crate::server::parse_servers;
use crate::value::{parse_count, parse_duration};
use crate::{Args, ConfigError};

const PROPORTION: &str = "must be a proportion in (0, 1]";

/// [`RunConfig::from_args`] with the affinity mask passed in, so tests do
/// not depend on the machine.
pub(crate) fn build(mut args: Args, allowed_cpus: &[usize]) -> Result<RunConfig, ConfigError> {
    let mut warnings = Vec::new();
    let key_space = crate::key_space::key_space(&args)?;
    let open_loop = crate::open_loop::open_loop(&args)?;
    let tls = crate::tls::tls_settings(&args)?;
    if tls.is_some() && (args.udp || args.facebook) {
        return Err(ConfigError::Conflict {
            flag: "--tls",
            other: if args.udp { "--udp" } else { "--facebook" },
        });
    }

    let servers_raw = args.servers.take().ok_or(ConfigError::NoServers)?;
    let servers = parse_servers(&servers_raw)?;
    let server_choice = server_choice(&args, &servers)?;

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
    // By key, every concurrency talks to every server.
    if server_choice == ServerChoice::PerConcurrency && servers.len() > concurrency {
        warnings.push(format!(
            "{} servers but only {concurrency} concurrencies: the last {} servers get no traffic",
            servers.len(),
            servers.len() - concurrency,
        ));
    }

    let conns_per_concurrency = at_least_one("--conn-sock", args.conn_sock)?;

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

    let protocol = protocol(&args)?;
    let transport = transport(&args, conns_per_concurrency, multi_get_keys, servers.len())?;
    // memaslap: replicated writes need reconnecting to survive a lost server.
    let reconnect = args.reconnect || transport.replication().is_some();

    let tps = args
        .tps
        .as_deref()
        .map(|raw| parse_count("--tps", raw))
        .transpose()?;
    let pacing = pacing(tps, open_loop);

    let pipeline = at_least_one("--pipeline", args.pipeline)?;
    if pipeline > 1 {
        // UDP has one request per datagram and -P paces single requests.
        let other = match (transport, pacing) {
            (Transport::Udp, _) => Some("--udp"),
            (Transport::Facebook { .. }, _) => Some("--facebook"),
            (_, Pacing::Tps { .. }) => Some("--tps"),
            _ => None,
        };
        if let Some(other) = other {
            return Err(ConfigError::Conflict {
                flag: "--pipeline above 1",
                other,
            });
        }
    }
    let reply_wait = reply_wait(&args, transport)?;
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
        servers,
        servers_raw,
        shards,
        cores,
        concurrency,
        transport,
        server_choice,
        protocol,
        tls,
        pacing,
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
        verbose: args.verbose,
        json,
        hdr_log: args.hdr_log,
        timeseries_file: args.timeseries,
        seed,
        pipeline,
        reply_wait,
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

/// An optional proportion flag: absent is off, present must be in (0, 1].
fn proportion(flag: &'static str, p: Option<f64>) -> Result<Option<f64>, ConfigError> {
    match p {
        None => Ok(None),
        Some(p) if p > 0.0 && p <= 1.0 => Ok(Some(p)),
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

#[cfg(test)]
mod tests {
    use clap::Parser;
    use shardslap_workload::parse_cfg;

    use super::*;
    use crate::run_config::test_support::{err, ok, TempFile, ALLOWED};
    use crate::run_config::{Protocol, Replication};

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
            (
                &["-s", "a", "--distribution", "ketama"],
                "--distribution ketama needs at least 2 servers in -s (got 1)",
            ),
            (
                &["-s", "a:1:2", "--distribution", "modula"],
                "--distribution modula needs at least 2 servers in -s (got 1)",
            ),
            (
                &["-s", "a,b", "--distribution", "ketama", "-U"],
                "--distribution cannot be combined with --udp",
            ),
            (
                &["-s", "a,b", "--distribution", "modula", "-a", "-d", "2"],
                "--distribution cannot be combined with --facebook",
            ),
            (
                &["-s", "a,b", "--distribution", "ketama", "-p", "2"],
                "--distribution cannot be combined with --rep-write",
            ),
            (
                &["-s", "a:1,b:2:5"],
                "the weight in 'b:2:5' needs --distribution ketama \
                 (modula and the default, one server per concurrency, ignore weights)",
            ),
            (
                &["-s", "a:1:3,b:2", "--distribution", "modula"],
                "the weight in 'a:1:3' needs --distribution ketama \
                 (modula and the default, one server per concurrency, ignore weights)",
            ),
            (
                &["-s", "a:1:0,b:2", "--distribution", "ketama"],
                "invalid value 'a:1:0,b:2' for --servers: weight '0' in 'a:1:0' is not in 1..=4294967295",
            ),
            (
                &["-s", "a", "--protocol", "meta", "-U"],
                "--protocol meta cannot be combined with --udp",
            ),
            (
                &["-s", "a", "--protocol", "meta", "-a", "-d", "2"],
                "--protocol meta cannot be combined with --facebook",
            ),
            (
                &["-s", "a", "-B", "--protocol", "meta"],
                "--binary cannot be combined with --protocol meta",
            ),
            (&["-s", "a", "-U", "--pipeline", "2"], "--pipeline above 1 cannot be combined with --udp"),
            (&["-s", "a", "-P", "1k", "--pipeline", "2"], "--pipeline above 1 cannot be combined with --tps"),
            (&["-s", "a", "-U", "--busy-poll"], "--busy-poll cannot be combined with --udp"),
            (&["-s", "a", "-a", "-d", "2", "--busy-poll"], "--busy-poll cannot be combined with --facebook"),
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
    fn defaults_match_memaslap_where_it_is_sane() {
        let cfg = ok(&["-s", "127.0.0.1"]);
        assert_eq!(cfg.servers_raw, "127.0.0.1");
        assert_eq!(cfg.servers[0].display(), "127.0.0.1:11211");
        assert_eq!(cfg.cores, ALLOWED);
        assert_eq!(cfg.shards, 2);
        assert_eq!(cfg.concurrency, 16);
        assert_eq!(cfg.transport.conns_per_concurrency(), 1);
        assert_eq!(cfg.stop, StopCondition::Time(Duration::from_secs(600)));
        assert_eq!(cfg.workload, WorkloadSpec::memaslap_default());
        assert_eq!(cfg.cfg_file, None);
        assert_eq!(cfg.window_len, 10_240);
        assert_eq!(cfg.fixed_value_len, None);
        assert_eq!(
            (cfg.verify, cfg.exp_verify, cfg.overwrite),
            (None, None, None)
        );
        assert_eq!(cfg.multi_get_keys, 1);
        assert_eq!(cfg.stat_freq, None);
        assert!(!(cfg.reconnect || cfg.transport.uses_datagrams() || cfg.verbose));
        assert_eq!(cfg.protocol, Protocol::Ascii);
        assert_eq!(cfg.pacing, Pacing::Unpaced);
        assert_eq!(cfg.transport.replication(), None);
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
        assert_eq!(
            ok(&["-s", "a", "-P", "40k"]).pacing.tps_limit(),
            Some(40_960)
        );
        assert_eq!(
            ok(&["-s", "a", "-P", "5000"]).pacing.tps_limit(),
            Some(5000)
        );
        assert_eq!(ok(&["-s", "a", "-P", "0"]).pacing.tps_limit(), None);
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
        assert_eq!(cfg.transport.conns_per_concurrency(), 2);
        assert_eq!(cfg.stat_freq, Some(Duration::from_secs(1)));
        assert_eq!(cfg.fixed_value_len, Some(100));
        assert_eq!(cfg.exp_verify, Some(0.1));
        assert_eq!(
            cfg.transport.replication(),
            Some(Replication { servers: 2 })
        );
        assert!(cfg.reconnect, "-p forces reconnect on");
        assert_eq!(cfg.verify, Some(0.5));
        assert_eq!(cfg.multi_get_keys, 3);
        assert_eq!(cfg.overwrite, Some(0.2));
        assert_eq!(cfg.pacing.tps_limit(), Some(1024));
        assert!(cfg.protocol == Protocol::Binary && cfg.verbose);
    }

    #[test]
    fn memaslap_short_flags_parse() {
        let cfg = ok(&[
            "-s", "[::1]:1", "-T", "2", "-c", "8", "-n", "1", "-t", "5s", "-R", "-U", "-q",
        ]);
        assert_eq!(cfg.servers[0].display(), "[::1]:1");
        assert_eq!((cfg.shards, cfg.concurrency), (2, 8));
        assert!(cfg.reconnect && cfg.transport == Transport::Udp && cfg.quiet);
        let cfg = ok(&["-s", "a", "-a", "-d", "2"]);
        assert!(matches!(cfg.transport, Transport::Facebook { .. }));
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
    fn distribution_and_weights_become_a_server_choice() {
        assert_eq!(
            ok(&["-s", "a,b"]).server_choice,
            ServerChoice::PerConcurrency
        );
        let cfg = ok(&[
            "-s",
            "a:1:2,b:2:1",
            "--distribution",
            "ketama",
            "-c",
            "1",
            "-T",
            "1",
        ]);
        assert_eq!(
            cfg.server_choice,
            ServerChoice::ByKey(super::super::Distribution::Ketama)
        );
        assert_eq!(cfg.servers[0].weight, 2);
        assert!(
            cfg.warnings.is_empty(),
            "every concurrency uses every server: {:?}",
            cfg.warnings
        );
        // A weight of 1 is the default: allowed anywhere.
        assert_eq!(
            ok(&["-s", "a:1:1,b:2:1"]).server_choice,
            ServerChoice::PerConcurrency
        );
        assert_eq!(
            ok(&["-s", "a,b", "--distribution", "modula"]).server_choice,
            ServerChoice::ByKey(super::super::Distribution::Modula)
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
}
