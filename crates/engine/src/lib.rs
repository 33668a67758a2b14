//! shardslap's engine: the only crate that touches glommio.
//!
//! Stages, in the order a run goes through them:
//! - [`preflight`] (main thread): resolve servers, probe-connect them, check io_uring and the
//!   locked-memory limit — so a bad environment fails with one line before anything is spawned.
//! - [`launch`] (main thread): one pinned glommio `LocalExecutor` per shard; collects each
//!   shard's period snapshots over a channel, starts the clock for everyone at once, and merges.
//! - `shard` (one per core): owns its connections, windows, RNGs and statistics.
//! - `task_concurrency` (one task per concurrency): the per-request hot path, over `link`s (sockets) laid
//!   out by the plan's routes, paced by `pacer`, with `request` doing the pure encode/parse/account work.
//!
//! The engine reads no global state: a stop from outside (Ctrl-C) comes through
//! [`RunObserver::stop_requested`].
//!
//! Shards share nothing on the hot path: the only cross-thread state is [`RunControl`] (start
//! instant and stop flag, polled by each shard's ticker task, never per request) and the
//! channel that carries period snapshots.

mod collector;
mod control;
mod data_path;
mod driver;
mod error;
pub mod launch;
mod link;
mod pacer;
pub mod preflight;
mod request;
mod shard;
mod shard_state;
mod task_concurrency;
mod tls;
mod uring;

pub use control::RunControl;
pub use data_path::{DataPath, GlommioReason, OneShotReason, Receives, DATA_PATH_ENV};
pub use error::EngineError;
pub use launch::{run, PeriodSample, RunObserver};
pub use preflight::{preflight, Preflight};
pub use tls::TlsClient;
