//! memcached over UDP: the 8-byte frame header and the reassembly of multi-datagram responses.
//!
//! - `frame`: [`FrameHeader`] encode/decode (request id, sequence, total, reserved; big-endian).
//! - `reassembler`: [`Reassembler`], one per UDP connection, which collects the datagrams of the
//!   outstanding request in any order and hands back the response payload for the ASCII decoder.

mod frame;
mod reassembler;

#[cfg(test)]
mod tests;

pub use frame::{FrameHeader, FRAME_HEADER_LEN, MAX_DATAGRAM_LEN};
pub use reassembler::{Reassembler, DEFAULT_MAX_BYTES, DEFAULT_MAX_DATAGRAMS};
