//! Cross-thread run control: the start instant and the stop flag.
//!
//! This is the only state shards share, and no connection touches it per request: each
//! shard's ticker task polls it and mirrors it into shard-local cells.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Start and stop signals from the main thread to every shard.
#[derive(Debug)]
pub struct RunControl {
    /// Reference instant all offsets are measured from.
    epoch: Instant,
    /// Nanoseconds after `epoch` at which the measured run starts; 0 = not yet.
    start_offset_ns: AtomicU64,
    /// Set to end the run early (Ctrl-C, a lost server without -R, a failed shard).
    stop: AtomicBool,
}

impl RunControl {
    /// A control with no start time and no stop request.
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            start_offset_ns: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }

    /// Publishes the instant at which every shard starts its clock.
    pub fn set_start(&self, at: Instant) {
        let offset = at.saturating_duration_since(self.epoch).as_nanos().max(1);
        let offset = u64::try_from(offset).unwrap_or(u64::MAX);
        self.start_offset_ns.store(offset, Ordering::Release);
    }

    /// The published start instant, once there is one.
    pub fn start(&self) -> Option<Instant> {
        match self.start_offset_ns.load(Ordering::Acquire) {
            0 => None,
            ns => Some(self.epoch + Duration::from_nanos(ns)),
        }
    }

    /// Asks every shard to stop after its in-flight requests.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Whether a stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

impl Default for RunControl {
    fn default() -> Self {
        Self::new()
    }
}
