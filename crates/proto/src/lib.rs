//! shardslap-proto: the memcached wire codecs, pure and allocation-free per request.
//!
//! This crate is the protocol stage of the pipeline: `engine` encodes requests with it into its
//! reused send buffers and decodes responses straight out of its receive buffers. Nothing here
//! does I/O or knows about glommio, so everything is unit-tested and fuzzed in isolation.
//!
//! # Layout
//!
//! - [`ascii`]: text protocol, classic and meta commands (`encode_*`, [`ascii::decode`]).
//! - [`binary`]: binary protocol (`encode_*`, [`binary::decode`]).
//! - [`udp`]: the UDP frame header and [`udp::Reassembler`] for multi-datagram responses.
//! - [`error`]: [`ProtoError`] and the limits ([`MAX_KEY_LEN`], [`MAX_LINE_LEN`],
//!   [`MAX_RESPONSE_VALUE_LEN`]).
//!
//! Every decoder has the same contract: `Ok(Some((response, len)))` for a complete response at
//! the start of the buffer (the caller drops `len` bytes), `Ok(None)` for a prefix of one, and a
//! typed error as soon as the bytes cannot become a valid response.

// Tests unwrap freely; library code must not (workspace lint).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod ascii;
pub mod binary;
pub mod error;
pub mod udp;

#[cfg(test)]
mod test_util;

pub use error::{LineSnippet, ProtoError, MAX_KEY_LEN, MAX_LINE_LEN, MAX_RESPONSE_VALUE_LEN};
