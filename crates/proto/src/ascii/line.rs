//! Line-level pieces of the ASCII decoder: finding a line, classifying it by its keyword, telling
//! whether an unfinished line can still become a valid one, and parsing `VALUE`/`STAT` arguments.
//!
//! Keeping "can this prefix still be valid?" next to "is this line valid?" (one keyword table for
//! both) is what lets the decoder reject garbage after a byte or two instead of waiting for a
//! newline, while never rejecting a prefix of a response it would accept whole.

use crate::error::{LineSnippet, ProtoError, MAX_LINE_LEN, MAX_RESPONSE_VALUE_LEN};

/// The start of the buffer, seen as one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Line<'a> {
    /// A complete line.
    Complete {
        /// The line without its `\n` and without one `\r` before it.
        line: &'a [u8],
        /// Offset just past the `\n`.
        next: usize,
    },
    /// No `\n` yet.
    Partial {
        /// The unfinished line (at most [`MAX_LINE_LEN`] bytes of it).
        bytes: &'a [u8],
        /// True when [`MAX_LINE_LEN`] bytes arrived without a `\n`.
        too_long: bool,
    },
}

/// Looks for the line starting at `buf[0]`, scanning at most [`MAX_LINE_LEN`] bytes.
pub(super) fn line_at(buf: &[u8]) -> Line<'_> {
    let window = &buf[..buf.len().min(MAX_LINE_LEN)];
    match memchr::memchr(b'\n', window) {
        Some(nl) => Line::Complete {
            line: strip_cr(&window[..nl]),
            next: nl + 1,
        },
        None => Line::Partial {
            bytes: window,
            too_long: window.len() >= MAX_LINE_LEN,
        },
    }
}

/// Splits off the first line of an already validated region: `(line, offset past its \n)`.
pub(super) fn split_line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let nl = memchr::memchr(b'\n', buf)?;
    Some((strip_cr(&buf[..nl]), nl + 1))
}

/// Drops one trailing `\r`.
fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The response keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keyword {
    Value,
    End,
    Stored,
    NotStored,
    Exists,
    NotFound,
    Deleted,
    Touched,
    Ok,
    Version,
    Stat,
    Error,
    ClientError,
    ServerError,
    Va,
    Hd,
    En,
    Nf,
    Ns,
    Ex,
    Mn,
}

/// How a keyword may be followed on its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The keyword alone.
    Exact,
    /// The keyword, a space, then arguments (possibly empty).
    Args,
    /// The keyword alone, or followed by a space and arguments.
    WordOrArgs,
}

/// One row of a keyword table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pattern {
    word: &'static [u8],
    shape: Shape,
    keyword: Keyword,
}

const fn pat(word: &'static [u8], shape: Shape, keyword: Keyword) -> Pattern {
    Pattern {
        word,
        shape,
        keyword,
    }
}

/// Every line that may start a response. No word is a prefix of another word followed by a
/// character its shape allows, so at most one row matches a line.
pub(super) const FIRST_LINE: &[Pattern] = &[
    pat(b"VALUE", Shape::Args, Keyword::Value),
    pat(b"END", Shape::Exact, Keyword::End),
    pat(b"STORED", Shape::Exact, Keyword::Stored),
    pat(b"NOT_STORED", Shape::Exact, Keyword::NotStored),
    pat(b"EXISTS", Shape::Exact, Keyword::Exists),
    pat(b"NOT_FOUND", Shape::Exact, Keyword::NotFound),
    pat(b"DELETED", Shape::Exact, Keyword::Deleted),
    pat(b"TOUCHED", Shape::Exact, Keyword::Touched),
    pat(b"OK", Shape::Exact, Keyword::Ok),
    pat(b"VERSION", Shape::Args, Keyword::Version),
    pat(b"STAT", Shape::Args, Keyword::Stat),
    pat(b"ERROR", Shape::WordOrArgs, Keyword::Error),
    pat(b"CLIENT_ERROR", Shape::WordOrArgs, Keyword::ClientError),
    pat(b"SERVER_ERROR", Shape::WordOrArgs, Keyword::ServerError),
    pat(b"VA", Shape::Args, Keyword::Va),
    pat(b"HD", Shape::WordOrArgs, Keyword::Hd),
    pat(b"EN", Shape::WordOrArgs, Keyword::En),
    pat(b"NF", Shape::WordOrArgs, Keyword::Nf),
    pat(b"NS", Shape::WordOrArgs, Keyword::Ns),
    pat(b"EX", Shape::WordOrArgs, Keyword::Ex),
    pat(b"MN", Shape::Exact, Keyword::Mn),
];

/// Lines allowed after a `VALUE` block.
pub(super) const AFTER_VALUE: &[Pattern] = &[
    pat(b"VALUE", Shape::Args, Keyword::Value),
    pat(b"END", Shape::Exact, Keyword::End),
];

/// Lines allowed after a `STAT` line.
pub(super) const AFTER_STAT: &[Pattern] = &[
    pat(b"STAT", Shape::Args, Keyword::Stat),
    pat(b"END", Shape::Exact, Keyword::End),
];

/// What a complete line turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class<'a> {
    /// A keyword line and its arguments (empty if none).
    Keyword(Keyword, &'a [u8]),
    /// A bare decimal number (incr/decr reply).
    Number(u64),
}

/// Classifies a complete line (already stripped of its line ending) against `table`, and also as
/// a bare number when `numbers` is set.
pub(super) fn classify<'a>(line: &'a [u8], table: &[Pattern], numbers: bool) -> Option<Class<'a>> {
    if numbers {
        if let Some(n) = parse_u64(line) {
            return Some(Class::Number(n));
        }
    }
    table.iter().find_map(|p| {
        let rest = line.strip_prefix(p.word)?;
        let args = match (p.shape, rest) {
            (Shape::Exact | Shape::WordOrArgs, []) => rest,
            (Shape::Args | Shape::WordOrArgs, [b' ', args @ ..]) => args,
            _ => return None,
        };
        Some(Class::Keyword(p.keyword, args))
    })
}

/// Whether an unfinished line (no `\n` yet) may still become a line [`classify`] accepts.
pub(super) fn could_become(partial: &[u8], table: &[Pattern], numbers: bool) -> bool {
    if partial.is_empty() {
        return true;
    }
    if numbers {
        let digits = strip_cr(partial);
        if parse_u64(digits).is_some() {
            return true;
        }
    }
    table.iter().any(|p| {
        let word = p.word;
        if partial.len() <= word.len() {
            return word.starts_with(partial);
        }
        let Some(rest) = partial.strip_prefix(word) else {
            return false;
        };
        matches!(
            (p.shape, rest),
            (Shape::Exact | Shape::WordOrArgs, b"\r")
                | (Shape::Args | Shape::WordOrArgs, [b' ', ..])
        )
    })
}

/// Parses a non-empty run of ASCII digits into a u64, refusing overflow.
pub(super) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Splits off the first space-separated token: `(token, rest with leading spaces removed)`.
pub(super) fn first_token(s: &[u8]) -> (&[u8], &[u8]) {
    let s = trim_spaces(s);
    // A plain scan: the tokens of a header are a few bytes (a key at most 250), too short for
    // memchr's vector search to pay for its dispatch (perf: four calls per VALUE header).
    let end = s.iter().position(|&b| b == b' ').unwrap_or(s.len());
    (&s[..end], trim_spaces(&s[end..]))
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ').unwrap_or(s.len());
    &s[start..]
}

/// The fields of a `VALUE <key> <flags> <bytes> [<cas>]` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ValueHeader<'a> {
    pub(super) key: &'a [u8],
    pub(super) flags: u32,
    /// Length of the data block, in bytes (at most [`MAX_RESPONSE_VALUE_LEN`]).
    pub(super) data_len: usize,
    pub(super) cas: Option<u64>,
}

/// Parses the arguments of a `VALUE` line; `line` is the whole line, for the error message.
pub(super) fn parse_value_header<'a>(
    line: &[u8],
    args: &'a [u8],
) -> Result<ValueHeader<'a>, ProtoError> {
    let malformed = || ProtoError::MalformedValueHeader {
        line: LineSnippet::new(line),
    };
    let (key, rest) = first_token(args);
    let (flags, rest) = first_token(rest);
    let (len, rest) = first_token(rest);
    let (cas, rest) = first_token(rest);
    if key.is_empty() || !rest.is_empty() {
        return Err(malformed());
    }
    let flags = parse_u64(flags)
        .and_then(|f| u32::try_from(f).ok())
        .ok_or_else(malformed)?;
    let data_len = parse_data_len(len).ok_or_else(malformed)??;
    let cas = match cas {
        [] => None,
        digits => Some(parse_u64(digits).ok_or_else(malformed)?),
    };
    Ok(ValueHeader {
        key,
        flags,
        data_len,
        cas,
    })
}

/// Parses a data length: `None` if not a number, `Some(Err)` if above [`MAX_RESPONSE_VALUE_LEN`].
pub(super) fn parse_data_len(digits: &[u8]) -> Option<Result<usize, ProtoError>> {
    let value_len = parse_u64(digits)?;
    Some(match usize::try_from(value_len) {
        Ok(len) if len <= MAX_RESPONSE_VALUE_LEN => Ok(len),
        _ => Err(ProtoError::ValueTooLarge {
            value_len,
            limit: MAX_RESPONSE_VALUE_LEN,
        }),
    })
}

/// Splits the arguments of a `STAT` line into `(name, value)`; the value may contain spaces.
pub(super) fn parse_stat_line(args: &[u8]) -> (&[u8], &[u8]) {
    first_token(args)
}

/// Checks the `\r\n` (or bare `\n`) after a `data_len`-byte block starting at `data_start`.
///
/// Returns the offset past the trailer, `Ok(None)` if bytes are missing, or `BadDataTrailer`.
pub(super) fn data_block(
    buf: &[u8],
    data_start: usize,
    data_len: usize,
) -> Result<Option<usize>, ProtoError> {
    let data_end = data_start.saturating_add(data_len);
    match buf.get(data_end) {
        None => Ok(None),
        Some(b'\n') => Ok(Some(data_end + 1)),
        Some(b'\r') => match buf.get(data_end + 1) {
            None => Ok(None),
            Some(b'\n') => Ok(Some(data_end + 2)),
            Some(&found) => Err(ProtoError::BadDataTrailer { found }),
        },
        Some(&found) => Err(ProtoError::BadDataTrailer { found }),
    }
}

/// The error for a line that is not allowed here.
pub(super) fn unknown(line: &[u8]) -> ProtoError {
    ProtoError::UnknownResponse {
        line: LineSnippet::new(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_an_accepted_line_could_become_it() {
        let lines: &[&[u8]] = &[
            b"VALUE k 0 1",
            b"END",
            b"STORED",
            b"NOT_STORED",
            b"EXISTS",
            b"NOT_FOUND",
            b"DELETED",
            b"TOUCHED",
            b"OK",
            b"VERSION 1.6.21",
            b"STAT pid 1",
            b"ERROR",
            b"ERROR unknown",
            b"CLIENT_ERROR bad",
            b"SERVER_ERROR oom",
            b"VA 2 f1",
            b"HD",
            b"HD f1",
            b"EN",
            b"NF",
            b"NS",
            b"EX",
            b"MN",
            b"18446744073709551615",
        ];
        for line in lines {
            assert!(classify(line, FIRST_LINE, true).is_some(), "{line:?}");
            let mut with_cr = line.to_vec();
            with_cr.push(b'\r');
            for end in 0..=with_cr.len() {
                assert!(
                    could_become(&with_cr[..end], FIRST_LINE, true),
                    "{:?}",
                    String::from_utf8_lossy(&with_cr[..end])
                );
            }
        }
    }

    #[test]
    fn garbage_prefixes_are_rejected_early() {
        for bad in [
            &b"HE"[..],
            b"ENDX",
            b"END ",
            b"\r",
            b"OKAY",
            b"12a",
            b"VAL ",
            b"x",
        ] {
            assert!(!could_become(bad, FIRST_LINE, true), "{bad:?}");
        }
        // One past u64::MAX is no number.
        assert!(!could_become(b"18446744073709551616", FIRST_LINE, true));
        assert!(!could_become(b"STORED", AFTER_VALUE, false));
    }

    #[test]
    fn value_header_fields_and_errors() {
        let h = parse_value_header(b"", b"key 42 5 99").unwrap();
        assert_eq!(
            (h.key, h.flags, h.data_len, h.cas),
            (&b"key"[..], 42, 5, Some(99))
        );
        for bad in [
            &b"key 1"[..],
            b"key x 5",
            b"key 1 5 9 9",
            b"key 4294967296 1",
            b"",
            b"k 1 -1",
        ] {
            assert!(
                matches!(
                    parse_value_header(bad, bad),
                    Err(ProtoError::MalformedValueHeader { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_value_header(b"", b"k 0 134217729"),
            Err(ProtoError::ValueTooLarge {
                value_len: 134_217_729,
                limit: MAX_RESPONSE_VALUE_LEN
            })
        );
    }
}
