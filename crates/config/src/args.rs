//! The command line as typed: memaslap's options (same short letters and
//! meanings, kebab-case long names with memaslap's spellings as aliases)
//! plus shardslap's own. Values with memaslap syntax (`2m`, `10k`, lists)
//! stay raw here; [`RunConfig::from_args`](crate::RunConfig::from_args)
//! parses and checks them so each error names its flag.

use std::path::PathBuf;

use clap::Parser;

/// `-V` output after the program name.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (memaslap v1.0 compatible)");

/// The one-line description `--help` opens with.
pub const ABOUT: &str = "A memcached load generator, thread-per-core and memaslap-compatible.";

/// The examples `--help` closes with.
pub const RUN_EXAMPLES: &str = "Examples:\n  \
    shardslap -s 127.0.0.1:11211 -S 5s\n  \
    shardslap -s 127.0.0.1:11211 -t 2m -v 0.2 -e 0.05 -b\n  \
    shardslap -s 127.0.0.1:11211 -F config -t 2m -w 40k -S 20s -o 0.2\n  \
    shardslap -s 127.0.0.1:11211,127.0.0.1:11212 -F config -t 2m --cores 1-3 --json -\n  \
    shardslap merge A.json B.json -o merged.json\n  \
    shardslap help sweep";

/// shardslap's command-line arguments, as parsed by clap and not yet
/// validated.
#[derive(Debug, Clone, Parser)]
#[command(name = "shardslap", version = VERSION, about = ABOUT, after_help = RUN_EXAMPLES)]
pub struct Args {
    /// `-s`: memcached servers, raw (parsed in `RunConfig::from_args`).
    #[arg(
        short = 's',
        long,
        value_name = "LIST",
        env = "MEMCACHED_SERVERS",
        // Not the doc comment: rustdoc would read `[::1]` as a link.
        help = "Servers, as host:port,host:port (port defaults to 11211; IPv6 as [::1]:11211; host:port:weight with --distribution ketama)"
    )]
    pub servers: Option<String>,

    /// Shards (one thread each, pinned to a core). Default: one per core of --cores.
    #[arg(short = 'T', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Concurrencies (closed-loop virtual clients), spread evenly over the shards.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,

    /// TCP connections per concurrency.
    #[arg(
        short = 'n',
        long = "conn-sock",
        visible_alias = "conn_sock",
        value_name = "N",
        default_value_t = 1
    )]
    pub conn_sock: usize,

    /// Run this many operations in total, then stop (wins over --time).
    #[arg(
        short = 'x',
        long = "execute-number",
        visible_alias = "execute_number",
        value_name = "N"
    )]
    pub execute_number: Option<u64>,

    /// Run time: 30, 30s, 2m, 1h, 1d, 1.5s [default: 600s]
    #[arg(short = 't', long, value_name = "DURATION")]
    pub time: Option<String>,

    /// Workload file with key, value and cmd sections (memaslap -F grammar).
    /// Without it the built-in default is used; ~/.memslap.cnf is never read.
    #[arg(
        short = 'F',
        long = "cfg-cmd",
        visible_alias = "cfg_cmd",
        value_name = "FILE"
    )]
    pub cfg_cmd: Option<PathBuf>,

    /// Task window per concurrency, in items: 10240, 10k, 1m (k = 1024).
    #[arg(
        short = 'w',
        long = "win-size",
        visible_alias = "win_size",
        value_name = "COUNT",
        default_value = "10k"
    )]
    pub win_size: String,

    /// Fixed value length in bytes for every item (1..=1048576).
    #[arg(
        short = 'X',
        long = "fixed-size",
        visible_alias = "fixed_size",
        value_name = "BYTES"
    )]
    pub fixed_size: Option<usize>,

    /// Proportion of gets whose data is verified, in (0, 1].
    #[arg(short = 'v', long, value_name = "P", allow_negative_numbers = true)]
    pub verify: Option<f64>,

    /// Keys per multi-get (1 = single get).
    #[arg(short = 'd', long, value_name = "N", default_value_t = 1)]
    pub division: usize,

    /// Print periodic statistics this often: 1s, 10s, 1m.
    #[arg(
        short = 'S',
        long = "stat-freq",
        visible_alias = "stat_freq",
        value_name = "DURATION"
    )]
    pub stat_freq: Option<String>,

    /// Proportion of items stored with a 60 s expiry and verified, in (0, 1].
    #[arg(
        short = 'e',
        long = "exp-verify",
        visible_alias = "exp_verify",
        value_name = "P",
        allow_negative_numbers = true
    )]
    pub exp_verify: Option<f64>,

    /// Proportion of sets that overwrite an existing key, in (0, 1].
    #[arg(short = 'o', long, value_name = "P", allow_negative_numbers = true)]
    pub overwrite: Option<f64>,

    /// Reconnect after a connection is closed.
    #[arg(short = 'R', long)]
    pub reconnect: bool,

    /// ASCII protocol over UDP.
    #[arg(short = 'U', long)]
    pub udp: bool,

    /// Facebook mode: sets over TCP, multi-gets over UDP (needs -d >= 2).
    #[arg(short = 'a', long)]
    pub facebook: bool,

    /// Binary protocol (the same as --protocol binary).
    #[arg(short = 'B', long)]
    pub binary: bool,

    /// Wire protocol: ascii (memaslap's), meta (mg/ms, memcached 1.6) or binary.
    #[arg(long, value_enum, value_name = "PROTOCOL", hide_possible_values = true)]
    pub protocol: Option<crate::Protocol>,

    /// Spread keys over the -s servers as libmemcached does: modula or ketama (weighted by
    /// host:port:weight). Default: each concurrency uses one server.
    #[arg(long, value_enum, value_name = "KIND", hide_possible_values = true)]
    pub distribution: Option<crate::Distribution>,

    /// Throughput limit in ops/s: 5000, 40k (k = 1024). 0 = no limit.
    #[arg(short = 'P', long, value_name = "RATE")]
    pub tps: Option<String>,

    /// Replicated servers: SETs go to one of the first N servers, GETs to any
    /// (needs >= 2 servers; turns on -R).
    #[arg(
        short = 'p',
        long = "rep-write",
        visible_alias = "rep_write",
        value_name = "N"
    )]
    pub rep_write: Option<usize>,

    /// Print expected and received data when a verification fails.
    #[arg(short = 'b', long)]
    pub verbose: bool,

    /// CPUs to run shards on, as a list like 0-3,8. Default: this process's affinity mask.
    #[arg(long, value_name = "LIST")]
    pub cores: Option<String>,

    /// Also write the results as JSON to PATH ('-' = stdout).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Also write an HdrHistogram interval log to PATH as the run goes: one line per period
    /// and op type (tags get, set, total), for HistogramLogProcessor, hdr-plot and the like.
    #[arg(long, value_name = "PATH")]
    pub hdr_log: Option<PathBuf>,

    /// Stream the time series to PATH as JSON lines, one point per period as it ends, instead
    /// of keeping it in memory (for long runs); --json embeds it while it is small and names
    /// the file past that.
    #[arg(long, value_name = "PATH")]
    pub timeseries: Option<PathBuf>,

    /// Seed for keys, values and the op mix (default: from the clock; printed, so a run can be repeated).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Requests in flight per connection.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub pipeline: usize,

    /// While requests await replies, poll for them instead of sleeping: latency without the
    /// client's own wake-ups (tens of µs on a virtual machine), for a core kept busy while
    /// replies are awaited. TCP only; no effect on the glommio fallback data path.
    #[arg(long)]
    pub busy_poll: bool,

    /// A fixed key space of N keys (10k, 1m), named the same on every shard and host with the
    /// same --seed, instead of memaslap's window per concurrency.
    #[arg(long, value_name = "N")]
    pub keys: Option<String>,

    /// With --keys, which key each operation touches: uniform, zipf:THETA (0 < THETA <= 1.5),
    /// gaussian:MEAN,SD (in keys) or sequential [default: uniform]
    #[arg(long, value_name = "DIST")]
    pub key_dist: Option<String>,

    /// With --keys, store every key once before the clock starts (spread over the shards,
    /// reported apart like memaslap's warm-up).
    #[arg(long)]
    pub prefill: bool,

    /// With --keys, the share of GETs that ask for keys never stored, in [0, 1).
    #[arg(long, value_name = "P")]
    pub miss_ratio: Option<f64>,

    /// Open loop: R intended operations per second over the whole run (10k, 1m), sent on
    /// schedule whatever the replies do; latency counts from each intended send time.
    #[arg(long, value_name = "R")]
    pub rate: Option<String>,

    /// With --rate, how intended send times are spaced: poisson or uniform [default: poisson]
    #[arg(long, value_name = "KIND")]
    pub arrivals: Option<String>,

    /// With --rate, intended sends that may wait per concurrency (pipeline full, a SET's
    /// answer awaited); later ones are dropped and counted [default: 1000]
    #[arg(long, value_name = "N")]
    pub max_queue: Option<usize>,

    /// Talk to the servers over TLS (verified against the system's CAs unless --tls-ca or
    /// --tls-insecure).
    #[arg(long)]
    pub tls: bool,

    /// With --tls, the PEM file of the CA certificates the servers' chains must lead to.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// With --tls, the client certificate chain to present (PEM; mutual TLS, needs --tls-key).
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// With --tls-cert, its private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// With --tls, the name the servers' certificates must carry (default: each -s host).
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,

    /// With --tls, accept any server certificate without checking it (still encrypted).
    #[arg(long)]
    pub tls_insecure: bool,

    /// Connect and request timeout: 5s, 0.5s.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub timeout: String,

    /// Print only the final report.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Connect first, then start the clock at this wall-clock instant (Unix seconds, e.g.
    /// $(($(date +%s) + 30))), so runs on several hosts cover the same interval.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub start_at: Option<f64>,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

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
    fn clap_rejects_malformed_values_naming_the_flag() {
        let cases: [(&[&str], &str); 5] = [
            (&["--protocol", "text"], "--protocol"),
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
}
