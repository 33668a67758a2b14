//! The ASCII response decoder: one pass over the receive buffer, no allocation, no state.
//!
//! [`decode`] looks at the start of the buffer and either returns one complete response with its
//! length, `Ok(None)` when more bytes are needed, or a [`ProtoError`] as soon as the bytes can no
//! longer become a valid response. Data blocks are skipped by their announced length, never
//! scanned, so the work per call is proportional to the number of header lines.

use super::line::{
    classify, could_become, data_block, first_token, line_at, parse_data_len, parse_value_header,
    unknown, Class, Keyword, Line, Pattern, AFTER_STAT, AFTER_VALUE, FIRST_LINE,
};
use super::response::{MetaKind, MetaResponse, Response, Stats, Value, Values};
use crate::error::{LineSnippet, ProtoError, MAX_LINE_LEN};

/// A decoded response and the number of bytes it occupies at the start of the buffer.
type Decoded<'a> = Option<(Response<'a>, usize)>;

/// Decodes the response at the start of `buf`.
///
/// Returns `Ok(Some((response, len)))` when `buf[..len]` holds one complete response (the caller
/// then drops those bytes), `Ok(None)` when `buf` is a prefix of a response, and never consumes.
/// Lines end in `\r\n`; a bare `\n` is accepted too.
///
/// # Errors
///
/// - [`ProtoError::UnknownResponse`] for a line that is no memcached response (detected at the
///   first byte that rules out every keyword, without waiting for the newline).
/// - [`ProtoError::MalformedValueHeader`], [`ProtoError::ValueTooLarge`] for bad `VALUE`/`VA`
///   headers, [`ProtoError::BadDataTrailer`] when data is not followed by `\r\n`.
/// - [`ProtoError::LineTooLong`] when [`MAX_LINE_LEN`] bytes arrive without a newline.
pub fn decode(buf: &[u8]) -> Result<Decoded<'_>, ProtoError> {
    let (line, next) = match line_at(buf) {
        Line::Complete { line, next } => (line, next),
        Line::Partial { bytes, too_long } => return incomplete(bytes, too_long, FIRST_LINE, true),
    };
    let (keyword, args) = match classify(line, FIRST_LINE, true) {
        Some(Class::Number(n)) => return Ok(Some((Response::Number(n), next))),
        Some(Class::Keyword(keyword, args)) => (keyword, args),
        None => return Err(unknown(line)),
    };
    let meta = |kind| {
        Response::Meta(MetaResponse {
            kind,
            data: None,
            flags: args,
        })
    };
    let response = match keyword {
        Keyword::Value => return decode_values(buf, line, args, next),
        Keyword::Stat => return decode_stats(buf, next),
        Keyword::Va => return decode_va(buf, line, args, next),
        Keyword::End => Response::Values(Values::new(&buf[..next], None, 0, 0)),
        Keyword::Stored => Response::Stored,
        Keyword::NotStored => Response::NotStored,
        Keyword::Exists => Response::Exists,
        Keyword::NotFound => Response::NotFound,
        Keyword::Deleted => Response::Deleted,
        Keyword::Touched => Response::Touched,
        Keyword::Ok => Response::Ok,
        Keyword::Version => Response::Version(args),
        Keyword::Error => Response::Error,
        Keyword::ClientError => Response::ClientError(args),
        Keyword::ServerError => Response::ServerError(args),
        Keyword::Hd => meta(MetaKind::Hd),
        Keyword::En => meta(MetaKind::En),
        Keyword::Nf => meta(MetaKind::Nf),
        Keyword::Ns => meta(MetaKind::Ns),
        Keyword::Ex => meta(MetaKind::Ex),
        Keyword::Mn => meta(MetaKind::Mn),
    };
    Ok(Some((response, next)))
}

/// Verdict on an unfinished line: garbage, too long, or wait for more.
fn incomplete<T>(
    bytes: &[u8],
    too_long: bool,
    table: &[Pattern],
    numbers: bool,
) -> Result<Option<T>, ProtoError> {
    if !could_become(bytes, table, numbers) {
        Err(unknown(bytes))
    } else if too_long {
        Err(ProtoError::LineTooLong {
            limit: MAX_LINE_LEN,
        })
    } else {
        Ok(None)
    }
}

/// Decodes `VALUE` blocks up to `END`; the first header line (`line`, `args`) ends at `after`.
fn decode_values<'a>(
    buf: &'a [u8],
    mut line: &'a [u8],
    mut args: &'a [u8],
    mut after: usize,
) -> Result<Decoded<'a>, ProtoError> {
    let mut count = 0;
    let mut total_data_len = 0;
    let mut first = None;
    loop {
        let header = parse_value_header(line, args)?;
        let Some(pos) = data_block(buf, after, header.data_len)? else {
            return Ok(None);
        };
        if count == 0 {
            // `data_block` found the trailer past the data, so the data is all in `buf`.
            let value = Value {
                key: header.key,
                flags: header.flags,
                cas: header.cas,
                data: &buf[after..after + header.data_len],
            };
            first = Some((value, pos));
        }
        count += 1;
        total_data_len += header.data_len;
        let (next_line, next) = match line_at(&buf[pos..]) {
            Line::Complete { line, next } => (line, pos + next),
            Line::Partial { bytes, too_long } => {
                return incomplete(bytes, too_long, AFTER_VALUE, false)
            }
        };
        match classify(next_line, AFTER_VALUE, false) {
            Some(Class::Keyword(Keyword::Value, next_args)) => {
                line = next_line;
                args = next_args;
                after = next;
            }
            Some(Class::Keyword(Keyword::End, _)) => {
                let values = Values::new(&buf[..next], first, count, total_data_len);
                return Ok(Some((Response::Values(values), next)));
            }
            _ => return Err(unknown(next_line)),
        }
    }
}

/// Decodes `STAT` lines up to `END`; the first `STAT` line ends at `after`.
fn decode_stats(buf: &[u8], mut after: usize) -> Result<Decoded<'_>, ProtoError> {
    let mut count = 1;
    loop {
        let (line, next) = match line_at(&buf[after..]) {
            Line::Complete { line, next } => (line, after + next),
            Line::Partial { bytes, too_long } => {
                return incomplete(bytes, too_long, AFTER_STAT, false)
            }
        };
        match classify(line, AFTER_STAT, false) {
            Some(Class::Keyword(Keyword::Stat, _)) => {
                count += 1;
                after = next;
            }
            Some(Class::Keyword(Keyword::End, _)) => {
                let stats = Stats::new(&buf[..next], count);
                return Ok(Some((Response::Stats(stats), next)));
            }
            _ => return Err(unknown(line)),
        }
    }
}

/// Decodes a meta `VA <size> <flags>*` reply whose header line ends at `after`.
fn decode_va<'a>(
    buf: &'a [u8],
    line: &[u8],
    args: &'a [u8],
    after: usize,
) -> Result<Decoded<'a>, ProtoError> {
    let (size, flags) = first_token(args);
    let data_len = parse_data_len(size).ok_or_else(|| ProtoError::MalformedValueHeader {
        line: LineSnippet::new(line),
    })??;
    let Some(next) = data_block(buf, after, data_len)? else {
        return Ok(None);
    };
    let meta = MetaResponse {
        kind: MetaKind::Va,
        data: Some(&buf[after..after + data_len]),
        flags,
    };
    Ok(Some((Response::Meta(meta), next)))
}
