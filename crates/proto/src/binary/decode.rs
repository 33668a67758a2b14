//! The binary response decoder: validates the 24-byte header and slices the body, without
//! allocating or copying.

use super::types::{Opcode, Status, HEADER_LEN, RESPONSE_MAGIC};
use crate::error::{ProtoError, MAX_RESPONSE_VALUE_LEN};

/// One binary response, borrowing its body from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinaryResponse<'a> {
    /// The opcode byte echoed from the request (see [`Opcode::try_from`]).
    pub opcode: u8,
    /// The status field.
    pub status: Status,
    /// The request's opaque, echoed: match it to the request.
    pub opaque: u32,
    /// The item's cas unique (0 when not applicable).
    pub cas: u64,
    /// The extras (4 bytes of flags on a get hit).
    pub extras: &'a [u8],
    /// The key (only for `GetK`/`GetKQ` hits).
    pub key: &'a [u8],
    /// The value; on an error status, the server's message (e.g. `"Not found"`).
    pub value: &'a [u8],
}

impl BinaryResponse<'_> {
    /// The client flags of a get hit (extras of exactly 4 bytes), else `None`.
    pub fn flags(&self) -> Option<u32> {
        let extras: [u8; 4] = self.extras.try_into().ok()?;
        Some(u32::from_be_bytes(extras))
    }

    /// True when the status is `NoError`: a hit for gets. A miss (`KeyNotFound`, whose body is
    /// `"Not found"`) is never a hit, whatever the body length.
    pub fn is_hit(&self) -> bool {
        self.status.is_success()
    }

    /// True only when the status is `KeyNotFound`.
    pub fn is_miss(&self) -> bool {
        self.status.is_miss()
    }

    /// The opcode as an [`Opcode`], if known.
    ///
    /// # Errors
    ///
    /// [`ProtoError::UnknownOpcode`] for a byte this crate does not name.
    pub fn opcode(&self) -> Result<Opcode, ProtoError> {
        Opcode::try_from(self.opcode)
    }
}

/// Reads a big-endian u16 at `at` of the header.
fn be_u16(header: &[u8; HEADER_LEN], at: usize) -> u16 {
    u16::from_be_bytes([header[at], header[at + 1]])
}

/// Reads a big-endian u32 at `at` of the header.
fn be_u32(header: &[u8; HEADER_LEN], at: usize) -> u32 {
    u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
}

/// Decodes the response at the start of `buf`.
///
/// Returns `Ok(Some((response, len)))` when `buf[..len]` holds one complete response, `Ok(None)`
/// when more bytes are needed; never consumes.
///
/// # Errors
///
/// - [`ProtoError::BadMagic`] as soon as the first byte is not `0x81`.
/// - [`ProtoError::BinaryBodyTooShort`] when the header's body length is below extras + key.
/// - [`ProtoError::ValueTooLarge`] when the value would exceed [`MAX_RESPONSE_VALUE_LEN`], so a corrupt
///   header cannot make the caller wait for gigabytes.
pub fn decode(buf: &[u8]) -> Result<Option<(BinaryResponse<'_>, usize)>, ProtoError> {
    let Some(&magic) = buf.first() else {
        return Ok(None);
    };
    if magic != RESPONSE_MAGIC {
        return Err(ProtoError::BadMagic { magic });
    }
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let key_len = be_u16(header, 2);
    let extras_len = header[4];
    let status = Status::from_u16(be_u16(header, 6));
    let body_len = be_u32(header, 8);
    let opaque = be_u32(header, 12);
    let cas = u64::from_be_bytes([
        header[16], header[17], header[18], header[19], header[20], header[21], header[22],
        header[23],
    ]);

    let extras_end = usize::from(extras_len);
    let key_end = extras_end + usize::from(key_len);
    let body_len_bytes = body_len as usize; // u32 always fits usize on the targets we build for
    let Some(value_len) = body_len_bytes.checked_sub(key_end) else {
        return Err(ProtoError::BinaryBodyTooShort {
            body_len,
            extras_len,
            key_len,
        });
    };
    if value_len > MAX_RESPONSE_VALUE_LEN {
        return Err(ProtoError::ValueTooLarge {
            value_len: value_len as u64,
            limit: MAX_RESPONSE_VALUE_LEN,
        });
    }
    let total_len = HEADER_LEN + body_len_bytes;
    let Some(body) = buf.get(HEADER_LEN..total_len) else {
        return Ok(None);
    };
    let response = BinaryResponse {
        opcode: header[1],
        status,
        opaque,
        cas,
        extras: &body[..extras_end],
        key: &body[extras_end..key_end],
        value: &body[key_end..],
    };
    Ok(Some((response, total_len)))
}
