//! The crate's one error type, `ProtoError`, and the limits it enforces.
//!
//! Every decoder in this crate returns `Ok(None)` for a response that is merely incomplete and a
//! `ProtoError` for bytes that can never become a valid response. Errors do not allocate: the
//! offending line is kept as a fixed-size [`LineSnippet`].

use std::fmt;

/// Longest ASCII response line accepted, in bytes, counting its `\n`.
///
/// A server line longer than this (memcached's longest is a `VALUE` header with a 250-byte key)
/// is garbage, and the decoder says so instead of waiting for a newline forever.
pub const MAX_LINE_LEN: usize = 2048;

/// Longest key memcached accepts (`KEY_MAX_LENGTH`), in bytes. memaslap lifts this limit with
/// `-B`, but memcached's binary protocol rejects longer keys too, so it holds in both protocols.
pub const MAX_KEY_LEN: usize = 250;

/// Largest value accepted in a response, in bytes (128 MiB).
///
/// memcached's own ceiling (`-I`) is 1 GiB but defaults to 1 MiB; a larger length announced by a
/// server is treated as corruption so a bad header cannot make the caller buffer gigabytes.
pub const MAX_RESPONSE_VALUE_LEN: usize = 128 << 20;

/// Number of bytes of an offending line kept in a [`LineSnippet`].
pub const SNIPPET_LEN: usize = 32;

/// Up to the first [`SNIPPET_LEN`] bytes of a line that failed to parse, kept without allocating.
///
/// `Display` and `Debug` show it lossily decoded as UTF-8, quoted and escaped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LineSnippet {
    /// The first `len` bytes are the snippet; the rest is zero padding.
    bytes: [u8; SNIPPET_LEN],
    /// Number of meaningful bytes in `bytes` (at most `SNIPPET_LEN`).
    len: u8,
}

impl LineSnippet {
    /// Keeps the first [`SNIPPET_LEN`] bytes of `line`.
    pub fn new(line: &[u8]) -> Self {
        let len = line.len().min(SNIPPET_LEN);
        let mut bytes = [0u8; SNIPPET_LEN];
        bytes[..len].copy_from_slice(&line[..len]);
        Self {
            bytes,
            // `len <= SNIPPET_LEN == 32`, so it fits in a u8.
            len: len as u8,
        }
    }

    /// The kept bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Display for LineSnippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}\"",
            String::from_utf8_lossy(self.as_bytes()).escape_debug()
        )
    }
}

impl fmt::Debug for LineSnippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Everything that can be wrong with bytes handed to a decoder or reassembler.
///
/// After any variant except the UDP ones marked "state intact", the stream is out of sync and the
/// caller should count the error and reconnect.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProtoError {
    /// An ASCII line that is not a memcached response (or not one allowed at this point).
    #[error(
        "unknown response line {line} (server speaking another protocol, or stream out of sync)"
    )]
    UnknownResponse {
        /// The start of the offending line as far as it had arrived, without its line ending
        /// (garbage is reported at its first impossible byte, before any newline).
        line: LineSnippet,
    },

    /// Bytes arrived before the request they would answer was sent.
    #[error(
        "{len} byte(s) arrived before any request they could answer was sent (stream out of sync)"
    )]
    UnexpectedData {
        /// How many bytes were waiting.
        len: usize,
    },

    /// A `VALUE` or meta `VA` header whose fields are missing or not numbers.
    #[error("malformed value header {line} (expected VALUE <key> <flags> <bytes> [<cas>] or VA <bytes> <flags>*)")]
    MalformedValueHeader {
        /// The start of the offending header line.
        line: LineSnippet,
    },

    /// The data block of a value was not followed by `\r\n`.
    #[error("value data not followed by \\r\\n (found byte {found:#04x}); the announced length is wrong")]
    BadDataTrailer {
        /// The first byte where the trailer should have been.
        found: u8,
    },

    /// No `\n` within [`MAX_LINE_LEN`] bytes.
    #[error("response line longer than {limit} bytes without a newline")]
    LineTooLong {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },

    /// A response announced a value larger than [`MAX_RESPONSE_VALUE_LEN`].
    #[error("response announces a {value_len}-byte value, more than the {limit}-byte limit")]
    ValueTooLarge {
        /// The announced value length, in bytes.
        value_len: u64,
        /// The limit, in bytes.
        limit: usize,
    },

    /// A binary response header did not start with the response magic `0x81`.
    #[error("binary response starts with magic {magic:#04x}, expected 0x81 (is the server speaking ASCII?)")]
    BadMagic {
        /// The byte found where the magic should be.
        magic: u8,
    },

    /// A binary header whose body length is shorter than its extras plus key.
    #[error(
        "binary body of {body_len} bytes is shorter than extras ({extras_len}) + key ({key_len})"
    )]
    BinaryBodyTooShort {
        /// Total body length from the header, in bytes.
        body_len: u32,
        /// Extras length from the header, in bytes.
        extras_len: u8,
        /// Key length from the header, in bytes.
        key_len: u16,
    },

    /// A byte that is not a known binary opcode.
    #[error("unknown binary opcode {opcode:#04x}")]
    UnknownOpcode {
        /// The byte that was not recognised.
        opcode: u8,
    },

    /// A UDP datagram shorter than the 8-byte frame header.
    #[error("udp datagram of {len} bytes is shorter than the 8-byte frame header")]
    UdpFrameTooShort {
        /// Length of the datagram, in bytes.
        len: usize,
    },

    /// A datagram for another request (late reply to an abandoned request). State intact.
    #[error("udp datagram for request id {got}, expected {expected}; ignore it")]
    ForeignRequestId {
        /// The request id being reassembled.
        expected: u16,
        /// The request id found in the datagram.
        got: u16,
    },

    /// A datagram arrived while no request was outstanding. State intact.
    #[error("udp datagram for request id {got} arrived while no request is outstanding")]
    UdpNoRequest {
        /// The request id found in the datagram.
        got: u16,
    },

    /// A datagram whose sequence number is not below its total. State intact.
    #[error("udp sequence number {sequence} out of range for a {total}-datagram response")]
    UdpSequenceOutOfRange {
        /// Sequence number from the frame header.
        sequence: u16,
        /// Total datagram count from the frame header.
        total: u16,
    },

    /// The same sequence number arrived twice. State intact.
    #[error("udp datagram {sequence} of request {request_id} received twice")]
    UdpDuplicate {
        /// The request id.
        request_id: u16,
        /// The repeated sequence number.
        sequence: u16,
    },

    /// Datagrams of one response disagree on the total count. State intact.
    #[error("udp datagram says the response has {got} datagrams, earlier ones said {expected}")]
    UdpTotalMismatch {
        /// Total announced by the first datagram of the response.
        expected: u16,
        /// Total announced by this datagram.
        got: u16,
    },

    /// A response needing more datagrams or bytes than the reassembler was built for. State intact.
    #[error(
        "udp response of {needed} {unit} exceeds the reassembler capacity of {capacity}; raise it"
    )]
    UdpCapacityExceeded {
        /// What the response needs.
        needed: usize,
        /// The reassembler's limit.
        capacity: usize,
        /// `"datagrams"` or `"bytes"`.
        unit: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_keeps_32_bytes_and_displays_lossily() {
        let line = [b'a'; 40];
        let snippet = LineSnippet::new(&line);
        assert_eq!(snippet.as_bytes(), &line[..32]);
        let bad = LineSnippet::new(b"bad \xff\r");
        assert_eq!(bad.to_string(), "\"bad \u{fffd}\\r\"");
        let err = ProtoError::UnknownResponse { line: bad };
        assert_eq!(
            err.to_string(),
            "unknown response line \"bad \u{fffd}\\r\" (server speaking another protocol, or stream out of sync)"
        );
    }
}
