//! Integration tests: the real `shardslap` binary against a real memcached.
//!
//! One test binary (ripgrep's layout); the harness starts memcached on a free loopback port
//! per test and kills it on drop. Every run is bounded by `-x`/`-t` and by a wall-clock kill.

#![allow(clippy::unwrap_used)] // Test helpers: a failure should panic with its cause.

mod util;

mod cli_errors;
mod colocation;
mod data_path;
mod docs;
mod engine_counts;
mod env_errors;
mod faults;
mod hdr_tools;
mod help;
mod interrupted;
mod key_space;
mod live;
mod meta;
mod multihost;
mod open_loop;
mod parity;
mod report_output;
mod results_tools;
mod server_pool;
mod timeseries_stream;
mod tls;
