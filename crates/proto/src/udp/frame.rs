//! The 8-byte UDP frame header that prefixes every memcached datagram.

use bytes::BytesMut;

use crate::error::ProtoError;

/// Length of the frame header, in bytes.
pub const FRAME_HEADER_LEN: usize = 8;

/// Largest datagram memcached sends or accepts, header included, in bytes.
///
/// A request must fit in one datagram (memcached does not reassemble requests), so a request
/// longer than `MAX_DATAGRAM_LEN - FRAME_HEADER_LEN` bytes cannot go over UDP.
pub const MAX_DATAGRAM_LEN: usize = 1400;

/// The frame header: four big-endian u16 fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameHeader {
    /// Chosen by the client per request and echoed in every datagram of the response.
    pub request_id: u16,
    /// 0-based index of this datagram within the message.
    pub sequence: u16,
    /// Number of datagrams in the message.
    pub total: u16,
    /// Must be 0 in requests (memaslap wrongly sends 0x0100).
    pub reserved: u16,
}

impl FrameHeader {
    /// The header of a single-datagram request: sequence 0, total 1, reserved 0.
    pub fn request(request_id: u16) -> Self {
        Self {
            request_id,
            sequence: 0,
            total: 1,
            reserved: 0,
        }
    }

    /// The header's wire bytes.
    pub fn to_bytes(&self) -> [u8; FRAME_HEADER_LEN] {
        let mut out = [0u8; FRAME_HEADER_LEN];
        self.write_to(&mut out);
        out
    }

    /// Writes the header's wire bytes into `out`.
    pub fn write_to(&self, out: &mut [u8; FRAME_HEADER_LEN]) {
        out[0..2].copy_from_slice(&self.request_id.to_be_bytes());
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..6].copy_from_slice(&self.total.to_be_bytes());
        out[6..8].copy_from_slice(&self.reserved.to_be_bytes());
    }

    /// Appends the header's wire bytes to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.extend_from_slice(&self.to_bytes());
    }

    /// Splits a datagram into its header and payload.
    ///
    /// # Errors
    ///
    /// [`ProtoError::UdpFrameTooShort`] when the datagram is shorter than 8 bytes.
    pub fn decode(datagram: &[u8]) -> Result<(FrameHeader, &[u8]), ProtoError> {
        let Some((header, payload)) = datagram.split_first_chunk::<FRAME_HEADER_LEN>() else {
            return Err(ProtoError::UdpFrameTooShort {
                len: datagram.len(),
            });
        };
        let field = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
        let header = FrameHeader {
            request_id: field(0),
            sequence: field(2),
            total: field(4),
            reserved: field(6),
        };
        Ok((header, payload))
    }
}
