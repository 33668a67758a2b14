//! Binary request encoders: each appends one request (24-byte header, extras, key, value) to a
//! caller-owned `BytesMut`, with datatype 0, vbucket 0 and the caller's `opaque`.

use bytes::{BufMut, BytesMut};

use super::types::{Opcode, HEADER_LEN, REQUEST_MAGIC};

/// Appends a request header plus body parts.
///
/// # Panics
///
/// If `key` is longer than 65535 bytes or the body longer than `u32::MAX` bytes (the header
/// fields cannot express them; memcached keys are at most 250 bytes).
fn put_request(
    buf: &mut BytesMut,
    opcode: Opcode,
    extras: &[u8],
    key: &[u8],
    value: &[u8],
    cas: u64,
    opaque: u32,
) {
    let Ok(key_len) = u16::try_from(key.len()) else {
        panic!("binary key of {} bytes exceeds 65535", key.len());
    };
    let Ok(body_len) = u32::try_from(extras.len() + key.len() + value.len()) else {
        panic!("binary body exceeds u32::MAX bytes");
    };
    // `extras` is always one of this module's fixed arrays (at most 20 bytes).
    let extras_len = extras.len() as u8;

    buf.reserve(HEADER_LEN + extras.len() + key.len() + value.len());
    buf.put_u8(REQUEST_MAGIC);
    buf.put_u8(opcode.as_u8());
    buf.put_u16(key_len);
    buf.put_u8(extras_len);
    buf.put_u8(0); // datatype: raw bytes
    buf.put_u16(0); // vbucket
    buf.put_u32(body_len);
    buf.put_u32(opaque);
    buf.put_u64(cas);
    buf.put_slice(extras);
    buf.put_slice(key);
    buf.put_slice(value);
}

/// Appends a get-family request (`opcode` is `Get`, `GetQ`, `GetK` or `GetKQ`): no extras.
///
/// # Panics
///
/// In debug builds, if `opcode` is not a get; always if `key` exceeds 65535 bytes.
pub fn encode_get(buf: &mut BytesMut, opcode: Opcode, key: &[u8], opaque: u32) {
    debug_assert!(opcode.is_get(), "encode_get with {opcode:?}");
    put_request(buf, opcode, &[], key, &[], 0, opaque);
}

/// Appends a `Set`/`Add`/`Replace` request: extras are `flags` then `exptime` (seconds), and a
/// nonzero `cas` makes the store conditional.
///
/// # Panics
///
/// In debug builds, if `opcode` is not a storage command; always if `key` exceeds 65535 bytes.
#[allow(clippy::too_many_arguments)] // One argument per protocol field reads best at call sites.
pub fn encode_storage(
    buf: &mut BytesMut,
    opcode: Opcode,
    key: &[u8],
    flags: u32,
    exptime: u32,
    value: &[u8],
    cas: u64,
    opaque: u32,
) {
    debug_assert!(
        matches!(opcode, Opcode::Set | Opcode::Add | Opcode::Replace),
        "encode_storage with {opcode:?}"
    );
    let mut extras = [0u8; 8];
    extras[..4].copy_from_slice(&flags.to_be_bytes());
    extras[4..].copy_from_slice(&exptime.to_be_bytes());
    put_request(buf, opcode, &extras, key, value, cas, opaque);
}

/// Appends a `Delete` request.
///
/// # Panics
///
/// If `key` exceeds 65535 bytes.
pub fn encode_delete(buf: &mut BytesMut, key: &[u8], opaque: u32) {
    put_request(buf, Opcode::Delete, &[], key, &[], 0, opaque);
}

/// Appends an `Increment`/`Decrement` request: extras are `delta`, `initial` (stored when the key
/// is absent) and `exptime`; `exptime = 0xffff_ffff` makes a miss fail instead of creating.
///
/// # Panics
///
/// In debug builds, if `opcode` is not incr/decr; always if `key` exceeds 65535 bytes.
#[allow(clippy::too_many_arguments)] // One argument per protocol field reads best at call sites.
pub fn encode_incr_decr(
    buf: &mut BytesMut,
    opcode: Opcode,
    key: &[u8],
    delta: u64,
    initial: u64,
    exptime: u32,
    opaque: u32,
) {
    debug_assert!(
        matches!(opcode, Opcode::Increment | Opcode::Decrement),
        "encode_incr_decr with {opcode:?}"
    );
    let mut extras = [0u8; 20];
    extras[..8].copy_from_slice(&delta.to_be_bytes());
    extras[8..16].copy_from_slice(&initial.to_be_bytes());
    extras[16..].copy_from_slice(&exptime.to_be_bytes());
    put_request(buf, opcode, &extras, key, &[], 0, opaque);
}

/// Appends a `Touch` request: extras are the new `exptime` (seconds).
///
/// # Panics
///
/// If `key` exceeds 65535 bytes.
pub fn encode_touch(buf: &mut BytesMut, key: &[u8], exptime: u32, opaque: u32) {
    put_request(
        buf,
        Opcode::Touch,
        &exptime.to_be_bytes(),
        key,
        &[],
        0,
        opaque,
    );
}

/// Appends a `Noop` request (header only).
pub fn encode_noop(buf: &mut BytesMut, opaque: u32) {
    put_request(buf, Opcode::Noop, &[], &[], &[], 0, opaque);
}

/// Appends a `Version` request (header only).
pub fn encode_version(buf: &mut BytesMut, opaque: u32) {
    put_request(buf, Opcode::Version, &[], &[], &[], 0, opaque);
}
