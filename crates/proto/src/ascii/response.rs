//! Borrowed ASCII response types produced by [`decode`](super::decode).
//!
//! Multi-line responses (`VALUE` blocks, `STAT` lines) keep only the validated byte region and a
//! count (and `Values` the first block, as the decoder parsed it); their iterators re-parse the
//! rest of that region lazily, so nothing is collected into a `Vec`.

use std::fmt;

use super::line::{parse_stat_line, parse_value_header, split_line};

/// One complete server response, borrowing from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response<'a> {
    /// Zero or more `VALUE` blocks ended by `END` (a bare `END` is a miss: empty `Values`).
    Values(Values<'a>),
    /// `STORED`.
    Stored,
    /// `NOT_STORED` (add on a present key, replace on an absent one, ...).
    NotStored,
    /// `EXISTS` (cas mismatch).
    Exists,
    /// `NOT_FOUND`.
    NotFound,
    /// `DELETED`.
    Deleted,
    /// `TOUCHED`.
    Touched,
    /// `OK`.
    Ok,
    /// A bare decimal line: the new value after `incr`/`decr`.
    Number(u64),
    /// `VERSION <version>`: the version text.
    Version(&'a [u8]),
    /// `STAT <name> <value>` lines ended by `END`.
    Stats(Stats<'a>),
    /// `ERROR` (unknown command).
    Error,
    /// `CLIENT_ERROR <message>`: the message (empty if none).
    ClientError(&'a [u8]),
    /// `SERVER_ERROR <message>`: the message (empty if none).
    ServerError(&'a [u8]),
    /// A meta-protocol reply (`VA`, `HD`, `EN`, `NF`, `NS`, `EX`, `MN`).
    Meta(MetaResponse<'a>),
}

/// The `VALUE` blocks of a get/gets reply, validated, up to and including `END`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Values<'a> {
    /// The whole validated reply: `VALUE` blocks then the `END` line.
    region: &'a [u8],
    /// The first block as the decoder parsed it, and the offset in `region` just past it:
    /// most replies hold one value, and iterating them parses nothing a second time.
    first: Option<(Value<'a>, usize)>,
    /// Number of `VALUE` blocks in `region`.
    count: usize,
    /// Sum of the data lengths of the blocks, in bytes.
    total_data_len: usize,
}

impl<'a> Values<'a> {
    /// Wraps a region the decoder has already validated; `first` is its first block and the
    /// offset past it (`None` for `END` alone).
    pub(super) fn new(
        region: &'a [u8],
        first: Option<(Value<'a>, usize)>,
        count: usize,
        total_data_len: usize,
    ) -> Self {
        debug_assert_eq!(first.is_some(), count > 0);
        Self {
            region,
            first,
            count,
            total_data_len,
        }
    }

    /// Number of values (hits) in the reply.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Same as [`len`](Self::len).
    pub fn count(&self) -> usize {
        self.count
    }

    /// True for a miss: `END` alone.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Sum of the data lengths of all values, in bytes.
    pub fn total_data_len(&self) -> usize {
        self.total_data_len
    }

    /// The values in wire order.
    pub fn iter(&self) -> ValuesIter<'a> {
        let (first, after) = match self.first {
            Some((value, after)) => (Some(value), after),
            None => (None, 0),
        };
        ValuesIter {
            first,
            rest: self.region.get(after..).unwrap_or_default(),
            remaining: self.count,
        }
    }
}

impl fmt::Debug for Values<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The region may be megabytes; show the shape, not the bytes.
        f.debug_struct("Values")
            .field("count", &self.count)
            .field("total_data_len", &self.total_data_len)
            .finish_non_exhaustive()
    }
}

impl<'a> IntoIterator for Values<'a> {
    type Item = Value<'a>;
    type IntoIter = ValuesIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &Values<'a> {
    type Item = Value<'a>;
    type IntoIter = ValuesIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// One `VALUE` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    /// The key, as the server echoed it.
    pub key: &'a [u8],
    /// The client flags stored with the value.
    pub flags: u32,
    /// The cas unique (only in `gets` replies).
    pub cas: Option<u64>,
    /// The value's data, without its `\r\n` trailer.
    pub data: &'a [u8],
}

/// Iterator over the blocks of a [`Values`].
#[derive(Debug, Clone)]
pub struct ValuesIter<'a> {
    /// The first block, parsed already, until it is yielded.
    first: Option<Value<'a>>,
    /// Unread part of the validated region after the first block.
    rest: &'a [u8],
    /// Blocks not yet yielded.
    remaining: usize,
}

impl<'a> Iterator for ValuesIter<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.remaining == 0 {
            return None;
        }
        if let Some(value) = self.first.take() {
            self.remaining -= 1;
            return Some(value);
        }
        // The region was validated by the decoder, so every step below succeeds; on the
        // impossible failure the iterator just ends.
        let (line, after_line) = split_line(self.rest)?;
        let args = line.strip_prefix(b"VALUE ")?;
        let header = parse_value_header(line, args).ok()?;
        let data_end = after_line.checked_add(header.data_len)?;
        let data = self.rest.get(after_line..data_end)?;
        let trailer = if self.rest.get(data_end) == Some(&b'\r') {
            2
        } else {
            1
        };
        self.rest = self.rest.get(data_end + trailer..)?;
        self.remaining -= 1;
        Some(Value {
            key: header.key,
            flags: header.flags,
            cas: header.cas,
            data,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for ValuesIter<'_> {}

/// The `STAT` lines of a stats reply, validated, up to and including `END`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stats<'a> {
    /// The whole validated reply: `STAT` lines then the `END` line.
    region: &'a [u8],
    /// Number of `STAT` lines.
    count: usize,
}

impl<'a> Stats<'a> {
    /// Wraps a region the decoder has already validated.
    pub(super) fn new(region: &'a [u8], count: usize) -> Self {
        Self { region, count }
    }

    /// Number of `STAT` lines.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True for a bare `END`.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// `(name, value)` pairs in wire order; the value may contain spaces.
    pub fn iter(&self) -> StatsIter<'a> {
        StatsIter {
            rest: self.region,
            remaining: self.count,
        }
    }

    /// The value of the first stat called `name`, scanning linearly.
    pub fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl fmt::Debug for Stats<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stats")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl<'a> IntoIterator for Stats<'a> {
    type Item = (&'a [u8], &'a [u8]);
    type IntoIter = StatsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the `(name, value)` pairs of a [`Stats`].
#[derive(Debug, Clone)]
pub struct StatsIter<'a> {
    /// Unread part of the validated region.
    rest: &'a [u8],
    /// Lines not yet yielded.
    remaining: usize,
}

impl<'a> Iterator for StatsIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let (line, after_line) = split_line(self.rest)?;
        let args = line.strip_prefix(b"STAT ")?;
        self.rest = self.rest.get(after_line..)?;
        self.remaining -= 1;
        Some(parse_stat_line(args))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for StatsIter<'_> {}

/// Which meta reply a [`MetaResponse`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaKind {
    /// `VA <size> <flags>*` followed by data: a hit with value.
    Va,
    /// `HD <flags>*`: success without value (hit without `v`, stored, deleted).
    Hd,
    /// `EN`: miss (meta get).
    En,
    /// `NF <flags>*`: not found (delete, arithmetic).
    Nf,
    /// `NS <flags>*`: not stored.
    Ns,
    /// `EX <flags>*`: exists (cas mismatch).
    Ex,
    /// `MN`: the meta no-op marker.
    Mn,
}

/// A meta-protocol reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaResponse<'a> {
    /// Which reply it is.
    pub kind: MetaKind,
    /// The data block, only for [`MetaKind::Va`].
    pub data: Option<&'a [u8]>,
    /// The return flags, space-separated as sent (e.g. `b"f0 t-1"`); empty if none.
    pub flags: &'a [u8],
}

impl<'a> MetaResponse<'a> {
    /// The value of the return flag `letter` (`k` in `VA 3 f0 kfoo` gives `foo`; a flag
    /// without a value gives an empty slice); `None` when the reply does not carry it.
    pub fn flag(&self, letter: u8) -> Option<&'a [u8]> {
        self.flags
            .split(|&b| b == b' ')
            .find(|token| token.first() == Some(&letter))
            .map(|token| &token[1..])
    }
}
