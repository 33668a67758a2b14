//! Test harness shared by the integration tests: a real `memcached` on a free loopback port.
//!
//! [`MemcachedServer`] starts the server (TCP, and UDP on the same port when asked), waits until
//! it answers, reads `stats` into a map, and kills it on drop. Tests never talk to a mock for
//! what a real server can do; when `memcached` is missing they fail loudly with the fix.
//! For what a real server cannot do on cue, [`FakeServer`] proxies one and injects a [`Fault`]
//! (a corrupted value, a stall, garbage, a connection closed mid-reply), and [`UdpDropProxy`]
//! relays UDP to one and drops every Nth GET reply datagram. [`KeyCounter`] proxies one and
//! counts the GETs of each key on the wire. [`LibmemcachedPlacement`] asks libmemcached
//! itself which server of a pool a key goes to.
//! [`TestNetwork`] builds several "hosts" on one machine (network namespaces on a bridge) for
//! multi-host recipes. [`CountingAllocator`] counts allocations for the no-allocation tests.
//!
//! This crate is test-only, so it panics (with a message that says what to do) instead of
//! returning errors: a test that cannot get its server must fail, never skip.

#![allow(clippy::unwrap_used)]

mod alloc_count;
mod fake;
mod key_counter;
mod libmemcached;
mod netns;
mod pki;
mod server;
mod stats;
mod udp_fake;

pub use alloc_count::{process_allocations, thread_allocations, CountingAllocator};
pub use fake::{FakeServer, Fault};
pub use key_counter::KeyCounter;
pub use libmemcached::{LibmemcachedDistribution, LibmemcachedPlacement};
pub use netns::{NetNs, TestNetwork};
pub use pki::TestPki;
pub use server::{MemcachedServer, ServerOptions, ServerTls};
pub use stats::{parse_stats, StatsDelta, StatsSnapshot};
pub use udp_fake::UdpDropProxy;
