//! shardslap-workload: memaslap's workload, pure and seeded (no I/O, no
//! clocks; callers pass `now_secs`).
//!
//! # Layout
//!
//! Start-up (once, on the main thread):
//! - [`cfg_file`]: the `-F` config text → [`WorkloadSpec`] ([`parse_cfg`]).
//! - [`spec`]: [`WorkloadSpec`], [`SizeRange`], memaslap's default, the
//!   average sizes behind the nominal `Net(M/s)` column.
//! - [`charblock`]: [`CharBlock`], the random printable characters that key
//!   suffixes and values are sliced from (sized by [`char_block_len`]); shared
//!   read-only.
//! - [`distribution`]: [`build_distribution`], the per-slot key length, value
//!   length and suffix offset shared by every window.
//!
//! Per concurrency (hot path, no allocation):
//! - [`key`]: [`KeyPrefix`], the 10-character prefix that makes keys unique
//!   across shards, concurrencies and kick-outs.
//! - [`window`]: [`Window`], the item window and op chooser: GET/SET
//!   interleave, kick-outs, overwrites, verification and expiry picks,
//!   warm-up.
//!
//! Typical use: parse or default a spec, `validate` it, generate one
//! `CharBlock` of [`char_block_len`] bytes, build one distribution for `-w` slots, then give each
//! concurrency `Window::new(params, &distribution, shard, conn)` and a seeded
//! `fastrand::Rng`, and loop on `next_op` / `write_key` / `value` /
//! `on_set_done`.

pub mod cfg_file;
pub mod charblock;
pub mod distribution;
pub mod key;
pub mod keyspace;
pub mod placement;
pub mod spec;
pub mod window;

pub use cfg_file::{
    parse_cfg, parse_cfg_file, CfgError, CfgErrorKind, ParsedCfg, Section, MEMASLAP_DEFAULT_CFG,
};
pub use charblock::{CharBlock, ALPHABET, CHAR_BLOCK_OFFSETS};
pub use distribution::{
    build_distribution, char_block_len, longest_value_len, SlotShape, UNIT_SLOTS,
};
pub use key::{KeyPrefix, MAX_SHARDS, PREFIX_LEN};
pub use keyspace::{zipf_share, KeyDist, KeySampler, KeySpace, MAX_KEYS, MAX_ZIPF_THETA};
pub use placement::{Member, Placement};
pub use spec::{SizeRange, WorkloadSpec, MAX_GENERATED_VALUE_LEN, MIN_KEY_LEN, PROP_EPSILON};
pub use window::{Op, OpKind, Window, WindowParams, EXPIRE_TIME_SECS};
