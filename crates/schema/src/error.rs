//! The crate's one error type: an `hdr` field that cannot be encoded or decoded, or an
//! operation name that is not one of the file's.

/// Why a histogram could not be encoded, an `hdr` field not decoded, or an op name not parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The V2 serializer rejected a latency histogram (a count above
    /// `i64::MAX`, or a histogram too large for this platform's `usize`).
    #[error("cannot serialize the latency histogram ({count} samples): {source}")]
    HdrEncode {
        /// How many samples the histogram held.
        count: u64,
        /// The serializer's reason.
        source: hdrhistogram::serialization::V2DeflateSerializeError,
    },
    /// An `hdr` field is not standard base64.
    #[error("hdr field ({len} chars) is not standard base64: {source}")]
    Base64 {
        /// Length of the offending string.
        len: usize,
        /// The decoder's reason.
        source: base64::DecodeError,
    },
    /// An `hdr` field decodes to bytes that are not a V2 HdrHistogram.
    #[error("hdr field ({len} bytes) is not a V2 HdrHistogram: {source}")]
    HdrDecode {
        /// Length of the decoded bytes.
        len: usize,
        /// The deserializer's reason.
        source: hdrhistogram::serialization::DeserializeError,
    },
    /// An operation name that is not a key of an ops object.
    #[error("unknown operation {op:?}: use get, set or total")]
    UnknownOp {
        /// The name given.
        op: String,
    },
}
