//! The `hdr` fields: a latency histogram as HdrHistogram's standard compressed V2 form in
//! base64. This is the only place that turns a histogram into text or back, as the result
//! file is serialized or parsed. In memory a whole-run histogram is a [`Histogram`]; a
//! time-series point's is a [`CompactHistogram`] (its compressed bytes), because a full
//! `Histogram` at two digits is a 30 KiB counts array, and an hour of one-second points
//! would hold 110 MB of them where the compressed forms take a few hundred bytes each.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hdrhistogram::serialization::{
    Deserializer as HdrDeserializer, Serializer as _, V2DeflateSerializer,
};
use hdrhistogram::Histogram;

use crate::error::SchemaError;

/// A histogram as HdrHistogram's standard compressed V2 form (cookie `0x1c849314`, the V2
/// encoding deflated) in standard base64, so it starts `HISTF`: the form of every `hdr` field,
/// and what HdrHistogram's own decoders (Java, Python, JavaScript, HistogramLogAnalyzer) read.
///
/// # Errors
///
/// [`SchemaError::HdrEncode`] if the serializer rejects it.
pub fn encode_hdr(hist: &Histogram<u64>) -> Result<String, SchemaError> {
    CompactHistogram::encode(hist).map(|compact| compact.to_base64())
}

/// The inverse of [`encode_hdr`]: an `hdr` field back into a histogram. Reads the
/// uncompressed V2 form of `schema_version` 1 files too (cookie `0x1c849313`, base64 `HISTE`).
///
/// # Errors
///
/// [`SchemaError::Base64`] if `b64` is not standard base64,
/// [`SchemaError::HdrDecode`] if the bytes are not a V2 HdrHistogram, compressed or not.
pub fn decode_hdr(b64: &str) -> Result<Histogram<u64>, SchemaError> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|source| SchemaError::Base64 {
            len: b64.len(),
            source,
        })?;
    // Not necessarily compressed (a version 1 file's is not); the deserializer reads both.
    CompactHistogram { bytes }.decode()
}

/// serde `with` module for an `Option<Histogram<u64>>` field written as an `hdr` string.
/// `None`, and a histogram the serializer rejects (a count above 2^63, unreachable in
/// practice), are written as `null`: the run's other numbers are still worth keeping.
pub mod optional {
    use hdrhistogram::Histogram;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `hist` as its `hdr` string, or `null`.
    ///
    /// # Errors
    ///
    /// Only the serializer's own.
    // serde's `with` calls it with a reference to the field.
    #[allow(clippy::ref_option)]
    pub fn serialize<S: Serializer>(
        hist: &Option<Histogram<u64>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match hist.as_ref().and_then(|h| super::encode_hdr(h).ok()) {
            Some(b64) => serializer.serialize_str(&b64),
            None => serializer.serialize_none(),
        }
    }

    /// Reads an `hdr` string (compressed or uncompressed V2), or `null`.
    ///
    /// # Errors
    ///
    /// A string that is not base64 or not a V2 HdrHistogram, with the decoder's reason.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Histogram<u64>>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|b64| super::decode_hdr(&b64).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// A histogram kept as its compressed V2 bytes (what an `hdr` field holds before base64):
/// the in-memory form of a time-series point's histogram. Built from a [`Histogram`] or
/// parsed from a file (checked then, and always in the compressed form, whatever version the
/// file was), and turned back into one with [`CompactHistogram::decode`] to add or read it.
#[derive(Clone, PartialEq, Eq)]
pub struct CompactHistogram {
    /// V2 compressed (cookie `0x1c849314`), never base64.
    bytes: Vec<u8>,
}

impl CompactHistogram {
    /// `hist` compressed.
    ///
    /// # Errors
    ///
    /// [`SchemaError::HdrEncode`] if the serializer rejects it.
    pub fn encode(hist: &Histogram<u64>) -> Result<Self, SchemaError> {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(hist, &mut bytes)
            .map_err(|source| SchemaError::HdrEncode {
                count: hist.len(),
                source,
            })?;
        Ok(Self { bytes })
    }

    /// The histogram back (the deserializer reads the uncompressed V2 form too).
    ///
    /// # Errors
    ///
    /// [`SchemaError::HdrDecode`] if the bytes are not a V2 HdrHistogram (not reachable for
    /// one made by [`CompactHistogram::encode`] or parsed from a file, which checks them).
    pub fn decode(&self) -> Result<Histogram<u64>, SchemaError> {
        HdrDeserializer::new()
            .deserialize(&mut self.bytes.as_slice())
            .map_err(|source| SchemaError::HdrDecode {
                len: self.bytes.len(),
                source,
            })
    }

    /// An `hdr` field's string, checked by decoding it (either version's form) and kept in
    /// the compressed form.
    ///
    /// # Errors
    ///
    /// As [`decode_hdr`].
    pub fn from_base64(b64: &str) -> Result<Self, SchemaError> {
        Self::encode(&decode_hdr(b64)?)
    }

    /// The `hdr` field's string.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.bytes)
    }
}

impl std::fmt::Debug for CompactHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CompactHistogram({} bytes)", self.bytes.len())
    }
}

impl serde::Serialize for CompactHistogram {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> serde::Deserialize<'de> for CompactHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let b64 = String::deserialize(deserializer)?;
        Self::from_base64(&b64).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Histogram<u64> {
        let mut hist = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for ns in [1_000u64, 20_000, 300_000, 4_000_000] {
            hist.saturating_record(ns);
        }
        hist
    }

    #[test]
    fn hdr_is_the_standard_compressed_v2_form_and_the_old_form_still_reads() {
        let hist = sample();
        let b64 = encode_hdr(&hist).unwrap();
        assert!(b64.starts_with("HISTF"), "{b64}");
        let bytes = STANDARD.decode(&b64).unwrap();
        assert_eq!(
            bytes[..4],
            0x1c84_9314u32.to_be_bytes(),
            "V2 compressed cookie"
        );
        assert_eq!(decode_hdr(&b64).unwrap(), hist);

        // schema_version 1 wrote uncompressed V2 (cookie 0x1c849313, base64 "HISTE").
        let mut old = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(&hist, &mut old)
            .unwrap();
        let old_b64 = STANDARD.encode(&old);
        assert!(old_b64.starts_with("HISTE"), "{old_b64}");
        assert_eq!(decode_hdr(&old_b64).unwrap(), hist);
    }

    #[test]
    fn decode_hdr_rejects_garbage() {
        let err = decode_hdr("not base64!").unwrap_err();
        assert!(matches!(err, SchemaError::Base64 { len: 11, .. }), "{err}");
        assert!(err
            .to_string()
            .starts_with("hdr field (11 chars) is not standard base64"));
        let err = decode_hdr("AAAA").unwrap_err();
        assert!(
            matches!(err, SchemaError::HdrDecode { len: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_compact_histogram_is_the_same_string_and_reads_the_old_form() {
        let hist = sample();
        let compact = CompactHistogram::encode(&hist).unwrap();
        assert_eq!(compact.to_base64(), encode_hdr(&hist).unwrap());
        assert_eq!(compact.decode().unwrap(), hist);
        let mut old = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(&hist, &mut old)
            .unwrap();
        let from_old = CompactHistogram::from_base64(&STANDARD.encode(&old)).unwrap();
        assert_eq!(from_old, compact, "kept in the compressed form");
        let err = serde_json::from_str::<CompactHistogram>(r#""garbage!""#).unwrap_err();
        assert!(err.to_string().contains("not standard base64"), "{err}");
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Field {
        #[serde(with = "optional")]
        hdr: Option<Histogram<u64>>,
    }

    #[test]
    fn the_with_module_writes_and_reads_the_string_form() {
        let field = Field {
            hdr: Some(sample()),
        };
        let v = serde_json::to_value(&field).unwrap();
        assert!(v["hdr"].as_str().unwrap().starts_with("HISTF"));
        assert_eq!(serde_json::from_value::<Field>(v).unwrap(), field);
        let none = serde_json::to_value(Field { hdr: None }).unwrap();
        assert!(none["hdr"].is_null());
        let err = serde_json::from_str::<Field>(r#"{"hdr": "garbage!"}"#).unwrap_err();
        assert!(err.to_string().contains("not standard base64"), "{err}");
    }
}
