//! The memcached ASCII protocol (classic and meta commands): request encoders and the response
//! decoder. Pure codecs: no I/O, no allocation per request.
//!
//! - `encode`: `encode_*` append one request to a caller-owned `BytesMut`.
//! - `decode` + `line`: [`decode`] finds the next complete response at the start of a buffer.
//! - `response`: the borrowed [`Response`] types it returns.

mod decode;
mod encode;
mod line;
mod response;

#[cfg(test)]
mod tests;

pub use decode::decode;
pub use encode::{
    encode_cas, encode_decr, encode_delete, encode_get, encode_gets, encode_incr, encode_md,
    encode_mg, encode_mn, encode_ms, encode_ms_item, encode_multi_get, encode_multi_gets,
    encode_stats, encode_storage, encode_touch, encode_version, is_valid_key, multi_get_len,
    storage_len, StorageCommand,
};
pub use response::{MetaKind, MetaResponse, Response, Stats, StatsIter, Value, Values, ValuesIter};
