//! shardslap-config: the first stage. It turns the command line into a
//! validated [`RunConfig`] and splits it into a per-core [`ShardPlan`].
//!
//! `Args` (clap, raw) → [`RunConfig::from_args`] (parse, check, load `-F`,
//! resolve the CPU set) → [`plan`] (shards, concurrencies, budgets).
//! Pure apart from reading the `-F` file and the CPU affinity mask; host
//! names are resolved later, by the engine's preflight.

// Tests may unwrap; the lib target is still linted without this.

mod args;
mod cpuset;
mod error;
mod key_space;
mod open_loop;
mod plan;
mod run_config;
mod server;
mod tls;
mod value;

pub use args::{Args, ABOUT, RUN_EXAMPLES, VERSION};
pub use cpuset::{affinity_cpus, format_cpu_list, parse_cpu_list};
pub use error::ConfigError;
pub use open_loop::{Arrivals, OpenLoop, DEFAULT_MAX_QUEUE};
pub use plan::{
    plan, Behaviour, ConcurrencySpec, Pick, Routes, RunSettings, ShardPlan, ShardSpec, SocketKind,
};
pub use run_config::{
    unix_now_s, Distribution, JsonTarget, Pacing, Protocol, Replication, ReplyWait, RunConfig,
    ServerChoice, StopCondition, Transport, DEFAULT_RUN_TIME,
};
pub use server::{ServerAddr, DEFAULT_PORT, DEFAULT_WEIGHT};
pub use tls::{ClientIdentity, TlsSettings, TlsTrust};
