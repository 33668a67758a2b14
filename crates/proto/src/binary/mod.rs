//! The memcached binary protocol: request encoders and the response decoder.
//!
//! - `types`: [`Opcode`], [`Status`] and the header constants.
//! - `encode`: `encode_*` append one 24-byte-header request to a caller-owned `BytesMut`.
//! - `decode`: [`decode`] finds the next complete [`BinaryResponse`] at the start of a buffer.
//!
//! A GET miss is status `0x0001` with the body `"Not found"`; [`BinaryResponse::is_hit`] looks at
//! the status, never at the body length (memaslap's bug, spec §7.2).

mod decode;
mod encode;
mod types;

#[cfg(test)]
mod tests;

pub use decode::{decode, BinaryResponse};
pub use encode::{
    encode_delete, encode_get, encode_incr_decr, encode_noop, encode_storage, encode_touch,
    encode_version,
};
pub use types::{Opcode, Status, HEADER_LEN, REQUEST_MAGIC, RESPONSE_MAGIC};
