//! ASCII request encoders: classic (`get`, `set`, `delete`, ...) and meta (`mg`, `ms`, `md`, `mn`).
//!
//! Each encoder appends one complete request to a caller-owned `BytesMut` (reserve it once per
//! connection; it is reused) and never allocates beyond growing that buffer. Numbers are written
//! with `itoa` on the stack. Keys are written as given: the caller keeps them to memcached's rules
//! (1..=250 bytes, no spaces or control bytes; see [`is_valid_key`]).

use bytes::BytesMut;

use crate::error::MAX_KEY_LEN;

/// The classic storage commands sharing the `<cmd> <key> <flags> <exptime> <bytes>` shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageCommand {
    /// `set`: store unconditionally.
    Set,
    /// `add`: store only if the key is absent.
    Add,
    /// `replace`: store only if the key is present.
    Replace,
    /// `append`: add data after the existing value.
    Append,
    /// `prepend`: add data before the existing value.
    Prepend,
}

impl StorageCommand {
    /// The command's name as sent on the wire.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Self::Set => b"set",
            Self::Add => b"add",
            Self::Replace => b"replace",
            Self::Append => b"append",
            Self::Prepend => b"prepend",
        }
    }
}

/// Whether `key` is usable in the ASCII protocol: 1..=250 bytes, none of them space or control.
pub fn is_valid_key(key: &[u8]) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.iter().all(|&b| b > b' ' && b != 0x7f)
}

const CRLF: &[u8] = b"\r\n";
const NOREPLY: &[u8] = b" noreply";

/// Appends the decimal form of `n`.
fn put_u64(buf: &mut BytesMut, n: u64) {
    let mut digits = itoa::Buffer::new();
    buf.extend_from_slice(digits.format(n).as_bytes());
}

/// Appends `" noreply"` when asked.
fn put_noreply(buf: &mut BytesMut, noreply: bool) {
    if noreply {
        buf.extend_from_slice(NOREPLY);
    }
}

/// Appends `<verb> <key>\r\n`.
fn put_verb_key(buf: &mut BytesMut, verb: &[u8], key: &[u8]) {
    buf.reserve(verb.len() + key.len() + 3);
    buf.extend_from_slice(verb);
    buf.extend_from_slice(b" ");
    buf.extend_from_slice(key);
    buf.extend_from_slice(CRLF);
}

/// Appends `get <key>\r\n`.
pub fn encode_get(buf: &mut BytesMut, key: &[u8]) {
    put_verb_key(buf, b"get", key);
}

/// Appends `gets <key>\r\n` (the reply carries each value's cas unique).
pub fn encode_gets(buf: &mut BytesMut, key: &[u8]) {
    put_verb_key(buf, b"gets", key);
}

/// Appends `<verb> k1 k2 ...\r\n`; returns the number of keys written, and writes nothing for none.
fn put_multi<'k, I>(buf: &mut BytesMut, verb: &[u8], keys: I) -> usize
where
    I: IntoIterator<Item = &'k [u8]>,
{
    let mut count = 0;
    for key in keys {
        if count == 0 {
            buf.extend_from_slice(verb);
        }
        buf.reserve(key.len() + 3);
        buf.extend_from_slice(b" ");
        buf.extend_from_slice(key);
        count += 1;
    }
    if count > 0 {
        buf.extend_from_slice(CRLF);
    }
    count
}

/// Appends one `get k1 k2 ...\r\n` for all `keys`.
///
/// Returns the number of keys written. With no keys nothing is written (a bare `get` would only
/// earn an `ERROR`), and the caller must not wait for a reply.
pub fn encode_multi_get<'k, I>(buf: &mut BytesMut, keys: I) -> usize
where
    I: IntoIterator<Item = &'k [u8]>,
{
    put_multi(buf, b"get", keys)
}

/// Appends one `gets k1 k2 ...\r\n` for all `keys`; see [`encode_multi_get`].
pub fn encode_multi_gets<'k, I>(buf: &mut BytesMut, keys: I) -> usize
where
    I: IntoIterator<Item = &'k [u8]>,
{
    put_multi(buf, b"gets", keys)
}

/// Length of what [`encode_multi_get`] appends for `keys` keys of `key_len` bytes each, so a
/// caller can check that a request fits (one UDP datagram) without encoding it.
pub fn multi_get_len(keys: usize, key_len: usize) -> usize {
    if keys == 0 {
        return 0;
    }
    b"get".len() + keys * (1 + key_len) + CRLF.len()
}

/// Length of what [`encode_storage`] appends for `cmd` with a `key_len`-byte key and a
/// `value_len`-byte value; see [`multi_get_len`].
pub fn storage_len(
    cmd: StorageCommand,
    key_len: usize,
    flags: u32,
    exptime: u32,
    value_len: usize,
    noreply: bool,
) -> usize {
    let digits = |n: u64| itoa::Buffer::new().format(n).len();
    let fields = [u64::from(flags), u64::from(exptime), value_len as u64];
    cmd.as_bytes().len()
        + 1
        + key_len
        + fields.iter().map(|&n| 1 + digits(n)).sum::<usize>()
        + if noreply { NOREPLY.len() } else { 0 }
        + CRLF.len()
        + value_len
        + CRLF.len()
}

/// Appends `<cmd> <key> <flags> <exptime> <bytes>[ <cas>][ noreply]\r\n<value>\r\n`.
#[allow(clippy::too_many_arguments)] // One argument per protocol field reads best at call sites.
fn put_storage(
    buf: &mut BytesMut,
    verb: &[u8],
    key: &[u8],
    flags: u32,
    exptime: u32,
    value: &[u8],
    cas: Option<u64>,
    noreply: bool,
) {
    // verb, key, 3-4 numbers of <= 20 digits with spaces, noreply, two CRLFs, the value.
    buf.reserve(verb.len() + key.len() + value.len() + 4 * 21 + NOREPLY.len() + 5);
    buf.extend_from_slice(verb);
    buf.extend_from_slice(b" ");
    buf.extend_from_slice(key);
    buf.extend_from_slice(b" ");
    put_u64(buf, u64::from(flags));
    buf.extend_from_slice(b" ");
    put_u64(buf, u64::from(exptime));
    buf.extend_from_slice(b" ");
    put_u64(buf, value.len() as u64);
    if let Some(cas) = cas {
        buf.extend_from_slice(b" ");
        put_u64(buf, cas);
    }
    put_noreply(buf, noreply);
    buf.extend_from_slice(CRLF);
    buf.extend_from_slice(value);
    buf.extend_from_slice(CRLF);
}

/// Appends `<cmd> <key> <flags> <exptime> <bytes>[ noreply]\r\n<value>\r\n`.
///
/// `exptime` is memcached's: seconds from now up to 30 days, else a Unix timestamp; 0 = never.
pub fn encode_storage(
    buf: &mut BytesMut,
    cmd: StorageCommand,
    key: &[u8],
    flags: u32,
    exptime: u32,
    value: &[u8],
    noreply: bool,
) {
    put_storage(
        buf,
        cmd.as_bytes(),
        key,
        flags,
        exptime,
        value,
        None,
        noreply,
    );
}

/// Appends `cas <key> <flags> <exptime> <bytes> <cas_unique>[ noreply]\r\n<value>\r\n`.
pub fn encode_cas(
    buf: &mut BytesMut,
    key: &[u8],
    flags: u32,
    exptime: u32,
    value: &[u8],
    cas_unique: u64,
    noreply: bool,
) {
    put_storage(
        buf,
        b"cas",
        key,
        flags,
        exptime,
        value,
        Some(cas_unique),
        noreply,
    );
}

/// Appends `delete <key>[ noreply]\r\n`.
pub fn encode_delete(buf: &mut BytesMut, key: &[u8], noreply: bool) {
    buf.reserve(key.len() + 7 + NOREPLY.len() + 2);
    buf.extend_from_slice(b"delete ");
    buf.extend_from_slice(key);
    put_noreply(buf, noreply);
    buf.extend_from_slice(CRLF);
}

/// Appends `<verb> <key> <number>[ noreply]\r\n`.
fn put_key_number(buf: &mut BytesMut, verb: &[u8], key: &[u8], number: u64, noreply: bool) {
    buf.reserve(verb.len() + key.len() + 22 + NOREPLY.len() + 2);
    buf.extend_from_slice(verb);
    buf.extend_from_slice(b" ");
    buf.extend_from_slice(key);
    buf.extend_from_slice(b" ");
    put_u64(buf, number);
    put_noreply(buf, noreply);
    buf.extend_from_slice(CRLF);
}

/// Appends `incr <key> <delta>[ noreply]\r\n`; the reply is [`Response::Number`](super::Response).
pub fn encode_incr(buf: &mut BytesMut, key: &[u8], delta: u64, noreply: bool) {
    put_key_number(buf, b"incr", key, delta, noreply);
}

/// Appends `decr <key> <delta>[ noreply]\r\n`; the reply is [`Response::Number`](super::Response).
pub fn encode_decr(buf: &mut BytesMut, key: &[u8], delta: u64, noreply: bool) {
    put_key_number(buf, b"decr", key, delta, noreply);
}

/// Appends `touch <key> <exptime>[ noreply]\r\n`.
pub fn encode_touch(buf: &mut BytesMut, key: &[u8], exptime: u32, noreply: bool) {
    put_key_number(buf, b"touch", key, u64::from(exptime), noreply);
}

/// Appends `version\r\n`.
pub fn encode_version(buf: &mut BytesMut) {
    buf.extend_from_slice(b"version\r\n");
}

/// Appends `stats\r\n`, or `stats <arg>\r\n` (e.g. `b"settings"`).
pub fn encode_stats(buf: &mut BytesMut, arg: Option<&[u8]>) {
    match arg {
        Some(arg) => put_verb_key(buf, b"stats", arg),
        None => buf.extend_from_slice(b"stats\r\n"),
    }
}

/// Appends `<verb> <key>[ <flags>]\r\n`.
fn put_meta(buf: &mut BytesMut, verb: &[u8], key: &[u8], flags: &[u8]) {
    buf.reserve(verb.len() + key.len() + flags.len() + 4);
    buf.extend_from_slice(verb);
    buf.extend_from_slice(b" ");
    buf.extend_from_slice(key);
    if !flags.is_empty() {
        buf.extend_from_slice(b" ");
        buf.extend_from_slice(flags);
    }
    buf.extend_from_slice(CRLF);
}

/// Appends meta get `mg <key> <flags>\r\n`; `flags` is space-separated, e.g. `b"v f t k"`.
///
/// Empty `flags` gives `mg <key>\r\n` (reply `HD` on a hit, `EN` on a miss).
pub fn encode_mg(buf: &mut BytesMut, key: &[u8], flags: &[u8]) {
    put_meta(buf, b"mg", key, flags);
}

/// Appends meta set `ms <key> <datalen> <flags>\r\n<data>\r\n` (no flags: no trailing space).
pub fn encode_ms(buf: &mut BytesMut, key: &[u8], value: &[u8], flags: &[u8]) {
    buf.reserve(key.len() + value.len() + flags.len() + 21 + 9);
    buf.extend_from_slice(b"ms ");
    buf.extend_from_slice(key);
    buf.extend_from_slice(b" ");
    put_u64(buf, value.len() as u64);
    if !flags.is_empty() {
        buf.extend_from_slice(b" ");
        buf.extend_from_slice(flags);
    }
    buf.extend_from_slice(CRLF);
    buf.extend_from_slice(value);
    buf.extend_from_slice(CRLF);
}

/// Appends meta set `ms <key> <datalen> T<exptime> F<flags>\r\n<data>\r\n`: a `set` carrying
/// the classic command's item flags and expiry, with the numbers formatted in place (no
/// allocation, unlike formatting them into a `flags` string for [`encode_ms`]).
pub fn encode_ms_item(buf: &mut BytesMut, key: &[u8], value: &[u8], flags: u32, exptime: u32) {
    buf.reserve(key.len() + value.len() + 3 * 20 + 12);
    buf.extend_from_slice(b"ms ");
    buf.extend_from_slice(key);
    buf.extend_from_slice(b" ");
    put_u64(buf, value.len() as u64);
    buf.extend_from_slice(b" T");
    put_u64(buf, u64::from(exptime));
    buf.extend_from_slice(b" F");
    put_u64(buf, u64::from(flags));
    buf.extend_from_slice(CRLF);
    buf.extend_from_slice(value);
    buf.extend_from_slice(CRLF);
}

/// Appends meta delete `md <key> <flags>\r\n` (no flags: `md <key>\r\n`).
pub fn encode_md(buf: &mut BytesMut, key: &[u8], flags: &[u8]) {
    put_meta(buf, b"md", key, flags);
}

/// Appends meta no-op `mn\r\n`; the server answers `MN\r\n` after all earlier replies.
pub fn encode_mn(buf: &mut BytesMut) {
    buf.extend_from_slice(b"mn\r\n");
}
