//! The per-concurrency item window and op chooser (memaslap §5): which key to
//! touch next, whether to GET or SET it, with which bytes, and what a
//! verified GET must return. One `Window` per concurrency, owned by its
//! connection task; the hot-path methods never allocate.
//!
//! Differences from memaslap, all towards its intended behaviour:
//! - the value a SET sends is exactly the value later verification expects
//!   (memaslap sends the old offset and then expects the shifted one, so
//!   overwrite + verify reported false failures);
//! - the set cursor only moves when the SET of the cursor slot is stored
//!   (memaslap also moved it for GETs turned into SETs of other slots, and
//!   lost a step when a first-pass overwrite failed);
//! - overwrites are counted when stored, so `-o p` is the fraction of stored
//!   SETs that are overwrites;
//! - suffix and value offsets wrap inside the char block instead of running
//!   off its end in long runs.

use std::sync::Arc;

use crate::charblock::CharBlock;
use crate::distribution::SlotShape;
use crate::key::{KeyPrefix, MAX_SHARDS, PREFIX_LEN};
use crate::keyspace::{KeySpace, KeyWindow};
use shardslap_proto::MAX_KEY_LEN;

use crate::spec::PROP_EPSILON;

/// Expiry given to items picked for expire verification (`-e`), in seconds.
pub const EXPIRE_TIME_SECS: u32 = 60;

/// Marks an offset that does not exist (never stored / no SET in flight).
const INVALID_OFFSET: u32 = u32::MAX;

/// What a window needs to know about the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowParams {
    /// Items per concurrency (`-w`).
    pub window_len: usize,
    /// SET weight (cmd type 0).
    pub set_proportion: f64,
    /// GET weight (cmd type 1).
    pub get_proportion: f64,
    /// Fraction of stored SETs that rewrite an existing key (`-o`); 0 = off.
    pub overwrite: f64,
    /// Fraction of GETs whose returned data is compared (`-v`); 0 = off.
    pub verify: f64,
    /// Fraction of items stored with a 60 s expiry and checked for it (`-e`);
    /// 0 = off.
    pub exp_verify: f64,
}

/// GET or SET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// Read the item.
    Get,
    /// Store the item.
    Set,
}

/// One operation chosen by a [`Window`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// GET or SET.
    pub kind: OpKind,
    /// The window slot of the item.
    pub slot: usize,
    /// SET only: rewrites a stored key with a new value (`-o`).
    pub overwrite: bool,
    /// GET only: check the response. For an item with an expiry
    /// ([`Window::exptime`] > 0) this is an expire check (hit or miss against
    /// [`Window::set_time_secs`]); otherwise compare the data with
    /// [`Window::value`].
    pub verify: bool,
}

/// One window item: a key and the state of its value on the server. Its lengths and offset
/// bound are its slot's [`SlotShape`], which every window of the run shares: a window holds
/// ten thousand items per concurrency, so each byte here is 160 KB of RSS at memaslap's
/// default of 16 concurrencies.
#[derive(Debug, Clone, Copy)]
struct Item {
    /// The key's counter; its prefix is `KeyPrefix::new(shard, conn, key_counter)` of the
    /// window (kept as 4 bytes, not the 8-byte prefix).
    key_counter: u32,
    /// Where the key suffix starts in the char block (moves on when the key is kicked out).
    suffix_offset: u32,
    /// Offset of the value the server holds; INVALID if never stored (or
    /// kicked out since).
    stored_offset: u32,
    /// Offset of the value the SET in flight sends; INVALID if none.
    pending_offset: u32,
    /// The SET in flight is an overwrite.
    pending_overwrite: bool,
    /// Whether the item is stored with [`EXPIRE_TIME_SECS`] (else it never expires).
    expiring: bool,
    /// When the last stored SET completed, in the caller's seconds (Unix seconds fit 32
    /// bits until 2106).
    set_time_secs: u32,
}

impl Item {
    fn is_stored(&self) -> bool {
        self.stored_offset != INVALID_OFFSET
    }

    /// The value offset a SET sends now / a GET must return.
    fn value_offset(&self) -> u32 {
        if self.pending_offset != INVALID_OFFSET {
            self.pending_offset
        } else if self.is_stored() {
            self.stored_offset
        } else {
            self.suffix_offset
        }
    }
}

/// Hints the CPU to bring `value`'s cache line in; no effect on what the program computes.
#[inline]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // Newer compilers call the intrinsic safe (SSE is part of x86_64), older ones do not.
    #[allow(unused_unsafe)]
    // SAFETY: a prefetch never faults and reads nothing into the program; the pointer comes
    // from a reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// memaslap's window of one concurrency: its items and its op counters.
#[derive(Debug, Clone)]
pub struct ItemWindow {
    params: WindowParams,
    items: Box<[Item]>,
    /// The run's slot shapes; item i has the shape of slot i.
    shapes: Arc<[SlotShape]>,
    shard: u16,
    conn: u16,
    /// Counter for the next new key prefix.
    next_key: u32,
    /// Cursor SETs stored; the next SET slot is `set_cursor % window_len`.
    set_cursor: u64,
    /// GETs issued (memaslap `get_opt`).
    gets_issued: u64,
    /// SETs stored outside warm-up (memaslap `set_opt`).
    sets_stored: u64,
    /// Overwrites stored.
    overwrites_stored: u64,
    /// GETs marked for data verification.
    verified_gets: u64,
}

impl ItemWindow {
    /// Builds the window of concurrency `conn` on `shard` from the first
    /// `params.window_len` slots of `distribution`. Item i gets key counter i;
    /// items get an expiry where `expiring_so_far < exp_verify * i` (an even
    /// spread, slot 0 never).
    ///
    /// # Panics
    ///
    /// If `params.window_len` is 0 or longer than `distribution`, or `shard`
    /// is not below [`MAX_SHARDS`]; the config stage rules these out.
    pub fn new(
        params: WindowParams,
        distribution: &Arc<[SlotShape]>,
        shard: u16,
        conn: u16,
    ) -> Self {
        assert!(
            params.window_len > 0 && params.window_len <= distribution.len(),
            "window of {} items needs 1..={} distribution slots",
            params.window_len,
            distribution.len()
        );
        assert!(
            usize::from(shard) < MAX_SHARDS,
            "shard {shard} >= {MAX_SHARDS}"
        );
        let mut expiring = 0u64;
        let items = distribution[..params.window_len]
            .iter()
            .enumerate()
            .map(|(i, shape)| {
                let item_expires = (expiring as f64) < params.exp_verify * i as f64;
                expiring += u64::from(item_expires);
                Item {
                    // Window lengths are far below 2^32 (memory), so the
                    // initial counters are distinct.
                    key_counter: i as u32,
                    suffix_offset: shape.suffix_offset % shape.offset_limit.max(1),
                    stored_offset: INVALID_OFFSET,
                    pending_offset: INVALID_OFFSET,
                    pending_overwrite: false,
                    expiring: item_expires,
                    set_time_secs: 0,
                }
            })
            .collect();
        Self {
            params,
            items,
            shapes: Arc::clone(distribution),
            shard,
            conn,
            next_key: params.window_len as u32,
            set_cursor: 0,
            gets_issued: 0,
            sets_stored: 0,
            overwrites_stored: 0,
            verified_gets: 0,
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Always false: a window has at least one item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Chooses the next operation.
    ///
    /// SET when `set_proportion > 0.001` and
    /// `gets_issued * set_proportion >= sets_stored * get_proportion`, else
    /// GET (0.1/0.9 gives 1 SET then 9 GETs, repeating). A GET picks slot 0
    /// before any cursor SET is stored, then a random slot below the cursor,
    /// then any slot once the window has wrapped; if that item is not stored
    /// the GET becomes a SET of it. A SET goes to the cursor slot; if that
    /// slot holds a stored item it is overwritten (when due, `-o`) or kicked
    /// out for a new key. A due overwrite during the first pass rewrites a
    /// random stored item instead.
    ///
    /// After a SET, call [`Self::on_set_done`] before choosing again.
    pub fn next_op(&mut self, rng: &mut fastrand::Rng) -> Op {
        let op = self.choose_op(rng);
        self.prefetch_next_get(rng);
        op
    }

    /// Asks the CPU to fetch the items, and their slots' shapes, that the next two GETs will
    /// read if nothing else draws from `rng` first. The window's items are megabytes spread over
    /// random slots, so reading one is a cache miss; fetched now, it overlaps the wait for the
    /// reply instead of stalling a later request (perf: the miss was most of `next_op` and of
    /// `key_parts`). Two ahead, so that [`Self::prefetch_next_key`] finds the next GET's item
    /// already here. A wrong guess (the cursor moved, `-o` drew a slot) costs a fetch and
    /// changes nothing: `rng` is not advanced. (A SET of the cursor slot draws nothing.)
    fn prefetch_next_get(&self, rng: &fastrand::Rng) {
        let [next, after] = self.upcoming_get_slots(rng);
        for slot in [next, after] {
            prefetch(&self.items[slot]);
            prefetch(&self.shapes[slot]);
        }
    }

    /// Asks the CPU to fetch the key suffix the next GET will copy out of `block`: a random
    /// place in it, so a miss too. The next GET's item was fetched one op earlier (see
    /// [`Self::prefetch_next_get`]), so reading its offset here is cheap.
    pub fn prefetch_next_key(&self, rng: &fastrand::Rng, block: &CharBlock) {
        let slot = self.get_slot(&mut rng.clone());
        let suffix = self.key_suffix(slot, block);
        if let (Some(first), Some(last)) = (suffix.first(), suffix.last()) {
            prefetch(first);
            prefetch(last);
        }
    }

    /// The slots of the next two GETs, if they draw from `rng` in this state.
    fn upcoming_get_slots(&self, rng: &fastrand::Rng) -> [usize; 2] {
        let mut ahead = rng.clone();
        [self.get_slot(&mut ahead), self.get_slot(&mut ahead)]
    }

    fn choose_op(&mut self, rng: &mut fastrand::Rng) -> Op {
        let p = self.params;
        let set_due = p.set_proportion > PROP_EPSILON
            && self.gets_issued as f64 * p.set_proportion
                >= self.sets_stored as f64 * p.get_proportion;
        if set_due {
            return self.choose_set(rng);
        }
        let slot = self.get_slot(rng);
        let item = &self.items[slot];
        if !item.is_stored() {
            return self.issue_set(slot, false);
        }
        let verify = if item.expiring {
            // Every GET of an expiring item checks the expiry.
            true
        } else if (self.verified_gets as f64) < self.gets_issued as f64 * p.verify {
            self.verified_gets += 1;
            true
        } else {
            false
        };
        self.gets_issued += 1;
        Op {
            kind: OpKind::Get,
            slot,
            overwrite: false,
            verify,
        }
    }

    fn choose_set(&mut self, rng: &mut fastrand::Rng) -> Op {
        let slot = self.cursor_slot();
        let overwrite_due =
            (self.overwrites_stored as f64) < self.sets_stored as f64 * self.params.overwrite;
        if self.items[slot].is_stored() {
            if overwrite_due {
                return self.issue_set(slot, true);
            }
            self.kick_out(slot);
            return self.issue_set(slot, false);
        }
        if overwrite_due {
            // First pass: the cursor slot is new, so rewrite an older item.
            let target = self.get_slot(rng);
            let stored = self.items[target].is_stored();
            return self.issue_set(target, stored);
        }
        self.issue_set(slot, false)
    }

    /// Records the SET in flight for `slot` and returns its op.
    fn issue_set(&mut self, slot: usize, overwrite: bool) -> Op {
        let pending_offset = if overwrite {
            self.next_offset(slot, self.items[slot].stored_offset)
        } else {
            self.items[slot].suffix_offset
        };
        let item = &mut self.items[slot];
        item.pending_offset = pending_offset;
        item.pending_overwrite = overwrite;
        Op {
            kind: OpKind::Set,
            slot,
            overwrite,
            verify: false,
        }
    }

    /// Replaces the item in `slot` with a new key whose value is not stored.
    fn kick_out(&mut self, slot: usize) {
        let key_counter = self.next_key;
        self.next_key = self.next_key.wrapping_add(1);
        let suffix_offset = self.next_offset(slot, self.items[slot].suffix_offset);
        let item = &mut self.items[slot];
        item.key_counter = key_counter;
        item.suffix_offset = suffix_offset;
        item.stored_offset = INVALID_OFFSET;
        item.set_time_secs = 0;
    }

    /// The offset after `offset` in `slot`'s range: drifting offsets wrap at its bound.
    fn next_offset(&self, slot: usize, offset: u32) -> u32 {
        (offset + 1) % self.shapes[slot].offset_limit.max(1)
    }

    fn cursor_slot(&self) -> usize {
        (self.set_cursor % self.items.len() as u64) as usize
    }

    /// memaslap's GET slot rule: slot 0, then below the cursor, then anywhere.
    fn get_slot(&self, rng: &mut fastrand::Rng) -> usize {
        let len = self.items.len();
        match self.set_cursor {
            0 => 0,
            cursor if cursor < len as u64 => rng.usize(0..cursor as usize),
            _ => rng.usize(0..len),
        }
    }

    /// Records the result of the SET of `slot` chosen by [`Self::next_op`].
    /// `stored` is true for `STORED`. Only a stored SET counts: the item's
    /// value becomes the bytes that were sent, `sets_stored` grows, and the
    /// cursor moves on if `slot` was the cursor slot. `now_secs` (any clock in
    /// seconds) is kept as the item's set time for expire checks.
    pub fn on_set_done(&mut self, slot: usize, stored: bool, now_secs: u64) {
        let advance = slot == self.cursor_slot();
        let item = &mut self.items[slot];
        let offset = item.value_offset();
        let overwrite = item.pending_overwrite;
        item.pending_offset = INVALID_OFFSET;
        item.pending_overwrite = false;
        if !stored {
            return;
        }
        item.stored_offset = offset;
        item.set_time_secs = clamp_secs(now_secs);
        self.sets_stored += 1;
        if overwrite {
            self.overwrites_stored += 1;
        }
        if advance {
            self.set_cursor += 1;
        }
    }

    /// Items to SET before the clock starts: the whole window for a get-only
    /// mix (`set_proportion <= 0.001`), otherwise 0.
    pub fn warmup_len(&self) -> usize {
        if self.params.set_proportion > PROP_EPSILON {
            0
        } else {
            self.items.len()
        }
    }

    /// The `i`-th warm-up op: a SET of slot `i` (modulo the window length).
    /// Report its result with [`Self::on_warmup_set_done`].
    pub fn warmup_op(&self, i: usize) -> Op {
        Op {
            kind: OpKind::Set,
            slot: i % self.items.len(),
            overwrite: false,
            verify: false,
        }
    }

    /// Records the result of a warm-up SET. A stored item becomes readable;
    /// the GET/SET interleave counters do not change. The cursor moves past
    /// `slot` either way, so GETs after warm-up cover the whole window and a
    /// GET of an item whose warm-up SET failed becomes a SET.
    pub fn on_warmup_set_done(&mut self, slot: usize, stored: bool, now_secs: u64) {
        let item = &mut self.items[slot];
        let offset = item.value_offset();
        item.pending_offset = INVALID_OFFSET;
        item.pending_overwrite = false;
        if stored {
            item.stored_offset = offset;
            item.set_time_secs = clamp_secs(now_secs);
        }
        self.set_cursor = self.set_cursor.max(slot as u64 + 1);
    }

    /// Writes the key of `slot` into `out` and returns its length: the
    /// [`PREFIX_LEN`]-character prefix, then `key_len - PREFIX_LEN` characters
    /// of `block` from the item's suffix offset. Only [`crate::ALPHABET`]
    /// characters.
    ///
    /// # Panics
    ///
    /// If `block` is shorter than the one the distribution was built for.
    pub fn write_key(&self, slot: usize, block: &CharBlock, out: &mut [u8; MAX_KEY_LEN]) -> usize {
        let (prefix, suffix) = self.key_parts(slot, block);
        out[..PREFIX_LEN].copy_from_slice(&prefix);
        out[PREFIX_LEN..PREFIX_LEN + suffix.len()].copy_from_slice(suffix);
        PREFIX_LEN + suffix.len()
    }

    /// The key of `slot` in its two parts: the prefix's characters and the suffix, a slice
    /// of `block` (so a caller can send or compare it without copying it first).
    pub fn key_parts<'b>(&self, slot: usize, block: &'b CharBlock) -> ([u8; PREFIX_LEN], &'b [u8]) {
        let mut prefix = [0u8; PREFIX_LEN];
        KeyPrefix::new(self.shard, self.conn, self.items[slot].key_counter).write(&mut prefix);
        (prefix, self.key_suffix(slot, block))
    }

    /// The key suffix of `slot`: a slice of `block` from the item's suffix offset.
    fn key_suffix<'b>(&self, slot: usize, block: &'b CharBlock) -> &'b [u8] {
        let start = self.items[slot].suffix_offset as usize;
        &block.as_slice()[start..start + self.key_len(slot) - PREFIX_LEN]
    }

    /// The key prefix of `slot` (unique among live keys of all windows).
    pub fn key_prefix(&self, slot: usize) -> KeyPrefix {
        KeyPrefix::new(self.shard, self.conn, self.items[slot].key_counter)
    }

    /// Key length of `slot`, in bytes.
    pub fn key_len(&self, slot: usize) -> usize {
        usize::from(self.shapes[slot].key_len).clamp(PREFIX_LEN, MAX_KEY_LEN)
    }

    /// Value length of `slot`, in bytes.
    pub fn value_len(&self, slot: usize) -> usize {
        self.shapes[slot].value_len as usize
    }

    /// The value of `slot`: while a SET of it is in flight, the bytes to send;
    /// otherwise the bytes the server holds (what a verified GET must return).
    /// A never-stored item's value starts at its suffix offset; each stored
    /// overwrite shifts it by one character.
    ///
    /// # Panics
    ///
    /// If `block` is shorter than the one the distribution was built for.
    pub fn value<'b>(&self, slot: usize, block: &'b CharBlock) -> &'b [u8] {
        let start = self.items[slot].value_offset() as usize;
        &block.as_slice()[start..start + self.value_len(slot)]
    }

    /// Expiry of `slot` for the SET command: 0 or [`EXPIRE_TIME_SECS`].
    pub fn exptime(&self, slot: usize) -> u32 {
        if self.items[slot].expiring {
            EXPIRE_TIME_SECS
        } else {
            0
        }
    }

    /// When the item of `slot` was last stored, as passed to
    /// [`Self::on_set_done`]; 0 if never.
    pub fn set_time_secs(&self, slot: usize) -> u64 {
        u64::from(self.items[slot].set_time_secs)
    }

    /// True if the server should hold the item of `slot`.
    pub fn is_stored(&self, slot: usize) -> bool {
        self.items[slot].is_stored()
    }

    /// GETs issued so far (warm-up excluded).
    pub fn gets_issued(&self) -> u64 {
        self.gets_issued
    }

    /// SETs stored so far (warm-up excluded).
    pub fn sets_stored(&self) -> u64 {
        self.sets_stored
    }

    /// Overwrites stored so far.
    pub fn overwrites_stored(&self) -> u64 {
        self.overwrites_stored
    }
}

/// A concurrency's source of operations: memaslap's window of items (the default), or its
/// share of the run's fixed key space (`--keys`). The engine sees one type either way.
#[derive(Debug, Clone)]
pub enum Window {
    /// memaslap's per-concurrency window.
    Items(ItemWindow),
    /// Keys of the run's key space.
    Keys(KeyWindow),
}

/// Calls `$method` on whichever window this is.
macro_rules! each {
    ($self:ident, $w:ident => $call:expr) => {
        match $self {
            Window::Items($w) => $call,
            Window::Keys($w) => $call,
        }
    };
}

impl Window {
    /// memaslap's window of concurrency `conn` on `shard`; see [`ItemWindow::new`].
    ///
    /// # Panics
    ///
    /// As [`ItemWindow::new`].
    pub fn new(
        params: WindowParams,
        distribution: &Arc<[SlotShape]>,
        shard: u16,
        conn: u16,
    ) -> Self {
        Window::Items(ItemWindow::new(params, distribution, shard, conn))
    }

    /// Concurrency `concurrency` of `concurrencies`' view of the key space `space`, with key
    /// and value lengths from `distribution`; see [`KeyWindow::new`].
    pub fn over_keys(
        params: WindowParams,
        space: &KeySpace,
        distribution: &Arc<[SlotShape]>,
        concurrency: usize,
        concurrencies: usize,
    ) -> Self {
        Window::Keys(KeyWindow::new(
            params,
            space,
            distribution,
            concurrency,
            concurrencies,
        ))
    }

    /// Number of items (memaslap) or keys (key space).
    pub fn len(&self) -> usize {
        each!(self, w => w.len())
    }

    /// Always false: a window has at least one item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Chooses the next operation. After a SET, call [`Self::on_set_done`] before choosing
    /// again.
    pub fn next_op(&mut self, rng: &mut fastrand::Rng) -> Op {
        each!(self, w => w.next_op(rng))
    }

    /// Records the result of the SET of `slot` chosen by [`Self::next_op`].
    pub fn on_set_done(&mut self, slot: usize, stored: bool, now_secs: u64) {
        each!(self, w => w.on_set_done(slot, stored, now_secs))
    }

    /// A hint only: fetches the key suffix the next GET drawn from `rng` will copy out of
    /// `block` (memaslap's window; a key space's windows fetch nothing).
    pub fn prefetch_next_key(&self, rng: &fastrand::Rng, block: &CharBlock) {
        if let Window::Items(w) = self {
            w.prefetch_next_key(rng, block);
        }
    }

    /// SETs to make before the clock starts (memaslap's warm-up, or `--prefill`).
    pub fn warmup_len(&self) -> usize {
        each!(self, w => w.warmup_len())
    }

    /// The `i`-th warm-up SET.
    pub fn warmup_op(&self, i: usize) -> Op {
        each!(self, w => w.warmup_op(i))
    }

    /// Records the result of a warm-up SET.
    pub fn on_warmup_set_done(&mut self, slot: usize, stored: bool, now_secs: u64) {
        each!(self, w => w.on_warmup_set_done(slot, stored, now_secs))
    }

    /// Writes the key of `slot` into `out` and returns its length.
    pub fn write_key(&self, slot: usize, block: &CharBlock, out: &mut [u8; MAX_KEY_LEN]) -> usize {
        each!(self, w => w.write_key(slot, block, out))
    }

    /// The key of `slot` as its prefix's characters and a suffix slice of `block`.
    pub fn key_parts<'b>(&self, slot: usize, block: &'b CharBlock) -> ([u8; PREFIX_LEN], &'b [u8]) {
        each!(self, w => w.key_parts(slot, block))
    }

    /// Whether `key` is the key of `slot`, compared in place.
    pub fn key_is(&self, slot: usize, block: &CharBlock, key: &[u8]) -> bool {
        let (prefix, suffix) = self.key_parts(slot, block);
        key.len() == PREFIX_LEN + suffix.len()
            && key[..PREFIX_LEN] == prefix
            && key[PREFIX_LEN..] == *suffix
    }

    /// The key prefix of `slot`.
    pub fn key_prefix(&self, slot: usize) -> KeyPrefix {
        each!(self, w => w.key_prefix(slot))
    }

    /// Key length of `slot`, in bytes.
    pub fn key_len(&self, slot: usize) -> usize {
        each!(self, w => w.key_len(slot))
    }

    /// Value length of `slot`, in bytes.
    pub fn value_len(&self, slot: usize) -> usize {
        each!(self, w => w.value_len(slot))
    }

    /// The value a SET of `slot` sends now, and a verified GET must return.
    pub fn value<'b>(&self, slot: usize, block: &'b CharBlock) -> &'b [u8] {
        each!(self, w => w.value(slot, block))
    }

    /// Expiry of `slot` for the SET command: 0 or [`EXPIRE_TIME_SECS`].
    pub fn exptime(&self, slot: usize) -> u32 {
        each!(self, w => w.exptime(slot))
    }

    /// When the item of `slot` was last stored; 0 if never (or not tracked).
    pub fn set_time_secs(&self, slot: usize) -> u64 {
        each!(self, w => w.set_time_secs(slot))
    }

    /// Whether the window knows `slot` to be stored (a key space tracks nothing).
    pub fn is_stored(&self, slot: usize) -> bool {
        each!(self, w => w.is_stored(slot))
    }

    /// GETs issued.
    pub fn gets_issued(&self) -> u64 {
        each!(self, w => w.gets_issued())
    }

    /// SETs stored outside warm-up.
    pub fn sets_stored(&self) -> u64 {
        each!(self, w => w.sets_stored())
    }

    /// Overwrites stored.
    pub fn overwrites_stored(&self) -> u64 {
        each!(self, w => w.overwrites_stored())
    }
}

/// A set time as kept per item: seconds saturate at `u32::MAX`.
fn clamp_secs(secs: u64) -> u32 {
    u32::try_from(secs).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_item_takes_24_bytes() {
        // 16 concurrencies × 10k items: every byte of an item is 160 KB of RSS.
        assert_eq!(std::mem::size_of::<Item>(), 24);
    }

    use super::*;
    use crate::cfg_file::parse_cfg;
    use crate::distribution::build_distribution;
    use crate::spec::WorkloadSpec;
    use std::collections::HashSet;

    const BLOCK_LEN: usize = 1 << 20;

    fn params(window_len: usize, spec: &WorkloadSpec) -> WindowParams {
        WindowParams {
            window_len,
            set_proportion: spec.set_proportion,
            get_proportion: spec.get_proportion,
            overwrite: 0.0,
            verify: 0.0,
            exp_verify: 0.0,
        }
    }

    struct Fixture {
        block: CharBlock,
        distribution: Arc<[SlotShape]>,
        rng: fastrand::Rng,
    }

    fn fixture(spec: &WorkloadSpec, window_len: usize) -> Fixture {
        let mut rng = fastrand::Rng::with_seed(9);
        let distribution = build_distribution(spec, None, window_len, BLOCK_LEN, &mut rng);
        Fixture {
            block: CharBlock::generate(BLOCK_LEN, 5),
            distribution,
            rng,
        }
    }

    fn small_spec() -> WorkloadSpec {
        parse_cfg("key\n16 40 1\nvalue\n1 64 1\n").expect("valid")
    }

    /// Runs `n` ops, storing every SET; returns the ops.
    fn run(w: &mut Window, rng: &mut fastrand::Rng, n: usize) -> Vec<Op> {
        (0..n)
            .map(|_| {
                let op = w.next_op(rng);
                if op.kind == OpKind::Set {
                    w.on_set_done(op.slot, true, 1);
                }
                op
            })
            .collect()
    }

    fn key(w: &Window, slot: usize, block: &CharBlock) -> Vec<u8> {
        let mut out = [0u8; MAX_KEY_LEN];
        let len = w.write_key(slot, block, &mut out);
        out[..len].to_vec()
    }

    #[test]
    fn default_mix_is_one_set_then_nine_gets() {
        let spec = WorkloadSpec::memaslap_default();
        let mut f = fixture(&spec, 1024);
        let mut w = Window::new(params(1024, &spec), &f.distribution, 0, 0);
        let ops = run(&mut w, &mut f.rng, 100_000);
        for (i, op) in ops.iter().enumerate() {
            let want = if i % 10 == 0 {
                OpKind::Set
            } else {
                OpKind::Get
            };
            assert_eq!(op.kind, want, "op {i}");
        }
        assert_eq!(w.sets_stored(), 10_000);
        assert_eq!(w.gets_issued(), 90_000);
    }

    #[test]
    fn the_prefetched_slots_are_the_ones_the_next_two_gets_read_once_the_window_has_wrapped() {
        let spec = WorkloadSpec::memaslap_default();
        let mut f = fixture(&spec, 64);
        let Window::Items(mut w) = Window::new(params(64, &spec), &f.distribution, 0, 0) else {
            unreachable!("Window::new makes an item window");
        };
        let (mut gets, mut guessed, mut pairs, mut guessed_two_ahead) = (0, 0, 0, 0);
        // The guess two ahead made before the previous op, if that op was a GET.
        let mut after_previous_get = None;
        for i in 0..10_000 {
            let guess = w.upcoming_get_slots(&f.rng);
            let op = w.next_op(&mut f.rng);
            match op.kind {
                OpKind::Set => {
                    w.on_set_done(op.slot, true, 1);
                    after_previous_get = None;
                }
                // After the first pass a GET's slot is uniform over the window: always the guess.
                OpKind::Get if i > 640 => {
                    gets += 1;
                    guessed += usize::from(op.slot == guess[0]);
                    if let Some(after) = after_previous_get {
                        pairs += 1;
                        guessed_two_ahead += usize::from(op.slot == after);
                    }
                    after_previous_get = Some(guess[1]);
                }
                OpKind::Get => {}
            }
        }
        assert!(gets > 8000, "{gets} GETs");
        assert_eq!(guessed, gets);
        assert!(pairs > 7000, "{pairs} GET pairs");
        assert_eq!(guessed_two_ahead, pairs);
    }

    #[test]
    fn failed_sets_are_retried_and_skew_the_mix() {
        let spec = WorkloadSpec::memaslap_default();
        let mut f = fixture(&spec, 16);
        let mut w = Window::new(params(16, &spec), &f.distribution, 0, 0);
        let op = w.next_op(&mut f.rng);
        assert_eq!((op.kind, op.slot), (OpKind::Set, 0));
        w.on_set_done(0, false, 1);
        assert!(!w.is_stored(0));
        assert_eq!(w.sets_stored(), 0);
        // Still a SET of the same slot.
        let op = w.next_op(&mut f.rng);
        assert_eq!((op.kind, op.slot), (OpKind::Set, 0));
        w.on_set_done(0, true, 1);
        assert!(w.is_stored(0));
        assert_eq!(w.next_op(&mut f.rng).kind, OpKind::Get);
    }

    #[test]
    fn gets_only_hit_stored_items() {
        let spec = WorkloadSpec::memaslap_default();
        let mut f = fixture(&spec, 64);
        let mut w = Window::new(params(64, &spec), &f.distribution, 0, 0);
        let mut stored = HashSet::new();
        for _ in 0..5000 {
            let op = w.next_op(&mut f.rng);
            match op.kind {
                OpKind::Get => assert!(w.is_stored(op.slot) && stored.contains(&op.slot)),
                OpKind::Set => {
                    // Every fourth SET fails.
                    let ok = f.rng.u8(0..4) != 0;
                    w.on_set_done(op.slot, ok, 1);
                    if ok {
                        stored.insert(op.slot);
                    }
                }
            }
        }
        // The first pass fills slots in order.
        assert_eq!(stored.len(), 64);
    }

    #[test]
    fn kick_out_after_wrap_gives_new_keys() {
        let spec = parse_cfg("key\n16 40 1\nvalue\n1 64 1\ncmd\n0 1\n").expect("valid");
        let mut f = fixture(&spec, 4);
        let mut w = Window::new(params(4, &spec), &f.distribution, 3, 7);
        let mut keys = HashSet::new();
        for i in 0..40 {
            let op = w.next_op(&mut f.rng);
            assert_eq!(
                (op.kind, op.slot, op.overwrite),
                (OpKind::Set, i % 4, false)
            );
            let k = key(&w, op.slot, &f.block);
            assert!(keys.insert(k), "key reused at op {i}");
            // The value of a new key starts at its suffix.
            let suffix = &f.block.as_slice()[f.distribution[op.slot].suffix_offset as usize..];
            if i >= 4 {
                let v = w.value(op.slot, &f.block);
                let shifted = &suffix[(i / 4)..];
                assert_eq!(
                    v,
                    &shifted[..v.len()],
                    "op {i}: suffix offset moves on by one per kick-out"
                );
            }
            w.on_set_done(op.slot, true, 1);
        }
        assert_eq!(keys.len(), 40);
    }

    #[test]
    fn keys_unique_across_shards_and_conns() {
        let spec = small_spec();
        let f = fixture(&spec, 32);
        let mut keys = HashSet::new();
        for shard in [0u16, 1, 4095] {
            for conn in [0u16, 1, 65535] {
                let w = Window::new(params(32, &spec), &f.distribution, shard, conn);
                for slot in 0..32 {
                    let k = key(&w, slot, &f.block);
                    assert!(k.iter().all(|b| b.is_ascii_graphic()));
                    assert_eq!(k.len(), w.key_len(slot));
                    assert!(keys.insert(k));
                }
            }
        }
    }

    #[test]
    fn get_only_warms_up_then_only_gets() {
        let spec = parse_cfg("cmd\n1 1\n").expect("valid");
        assert!(spec.is_get_only());
        let mut f = fixture(&spec, 100);
        let mut w = Window::new(params(100, &spec), &f.distribution, 0, 0);
        assert_eq!(w.warmup_len(), 100);
        for i in 0..w.warmup_len() {
            let op = w.warmup_op(i);
            assert_eq!((op.kind, op.slot), (OpKind::Set, i));
            w.on_warmup_set_done(op.slot, true, 1);
        }
        assert_eq!(w.sets_stored(), 0);
        let ops = run(&mut w, &mut f.rng, 10_000);
        assert!(ops.iter().all(|op| op.kind == OpKind::Get));
        let slots: HashSet<usize> = ops.iter().map(|op| op.slot).collect();
        assert_eq!(slots.len(), 100, "gets cover the whole window");

        let mixed = WorkloadSpec::memaslap_default();
        let w = Window::new(params(100, &mixed), &f.distribution, 0, 0);
        assert_eq!(w.warmup_len(), 0);
    }

    #[test]
    fn failed_warmup_set_turns_get_into_set() {
        let spec = parse_cfg("cmd\n1 1\n").expect("valid");
        let mut f = fixture(&spec, 2);
        let mut w = Window::new(params(2, &spec), &f.distribution, 0, 0);
        w.on_warmup_set_done(0, true, 1);
        w.on_warmup_set_done(1, false, 1);
        let ops = run(&mut w, &mut f.rng, 200);
        let sets: Vec<&Op> = ops.iter().filter(|op| op.kind == OpKind::Set).collect();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].slot, 1);
    }

    #[test]
    fn overwrite_fraction_and_values_shift() {
        let spec = parse_cfg("key\n16 40 1\nvalue\n1 64 1\ncmd\n0 0.5\n1 0.5\n").expect("valid");
        let mut f = fixture(&spec, 256);
        let p = WindowParams {
            overwrite: 0.3,
            ..params(256, &spec)
        };
        let mut w = Window::new(p, &f.distribution, 0, 0);
        let mut expected: Vec<Option<Vec<u8>>> = vec![None; 256];
        let mut overwrites = 0u64;
        for _ in 0..40_000 {
            let op = w.next_op(&mut f.rng);
            match op.kind {
                OpKind::Set => {
                    let sent = w.value(op.slot, &f.block).to_vec();
                    if op.overwrite {
                        overwrites += 1;
                        assert!(w.is_stored(op.slot));
                        let old = expected[op.slot]
                            .as_ref()
                            .expect("overwrite of stored item");
                        // The old value shifted by one character of the block.
                        assert_eq!(sent[..sent.len() - 1], old[1..]);
                    }
                    w.on_set_done(op.slot, true, 1);
                    assert_eq!(w.value(op.slot, &f.block), &sent[..]);
                    expected[op.slot] = Some(sent);
                }
                OpKind::Get => {
                    let want = expected[op.slot].as_deref().expect("get of stored item");
                    assert_eq!(w.value(op.slot, &f.block), want);
                }
            }
        }
        assert_eq!(overwrites, w.overwrites_stored());
        let frac = overwrites as f64 / w.sets_stored() as f64;
        assert!((frac - 0.3).abs() < 0.01, "overwrite fraction {frac}");
    }

    #[test]
    fn failed_overwrite_keeps_old_value() {
        let spec = parse_cfg("key\n16 40 1\nvalue\n8 8 1\ncmd\n0 1\n").expect("valid");
        let mut f = fixture(&spec, 4);
        let p = WindowParams {
            overwrite: 1.0,
            ..params(4, &spec)
        };
        let mut w = Window::new(p, &f.distribution, 0, 0);
        let first = w.next_op(&mut f.rng);
        w.on_set_done(first.slot, true, 1);
        let old = w.value(first.slot, &f.block).to_vec();
        let op = w.next_op(&mut f.rng);
        assert!(op.overwrite);
        assert_ne!(w.value(op.slot, &f.block), &old[..]);
        w.on_set_done(op.slot, false, 1);
        assert_eq!(w.value(op.slot, &f.block), &old[..]);
        assert_eq!(w.overwrites_stored(), 0);
    }

    #[test]
    fn verify_fraction() {
        let spec = WorkloadSpec::memaslap_default();
        let mut f = fixture(&spec, 1024);
        let p = WindowParams {
            verify: 0.2,
            ..params(1024, &spec)
        };
        let mut w = Window::new(p, &f.distribution, 0, 0);
        let ops = run(&mut w, &mut f.rng, 100_000);
        let gets = ops.iter().filter(|op| op.kind == OpKind::Get).count();
        let verified = ops.iter().filter(|op| op.verify).count();
        assert!(ops.iter().all(|op| !op.verify || op.kind == OpKind::Get));
        let frac = verified as f64 / gets as f64;
        assert!((frac - 0.2).abs() < 0.001, "verify fraction {frac}");
    }

    #[test]
    fn exptime_fraction_and_expire_checks() {
        let spec = WorkloadSpec::memaslap_default();
        let mut f = fixture(&spec, 1000);
        let p = WindowParams {
            exp_verify: 0.25,
            ..params(1000, &spec)
        };
        let mut w = Window::new(p, &f.distribution, 0, 0);
        assert_eq!(w.exptime(0), 0);
        let expiring = (0..1000)
            .filter(|&s| w.exptime(s) == EXPIRE_TIME_SECS)
            .count();
        assert!((249..=251).contains(&expiring), "{expiring} expiring items");
        assert!((0..1000).all(|s| [0, EXPIRE_TIME_SECS].contains(&w.exptime(s))));
        // Every GET of an expiring item is checked; others are not (-v off).
        let mut now = 100;
        for _ in 0..20_000 {
            let op = w.next_op(&mut f.rng);
            match op.kind {
                OpKind::Set => {
                    w.on_set_done(op.slot, true, now);
                    assert_eq!(w.set_time_secs(op.slot), now);
                    now += 1;
                }
                OpKind::Get => assert_eq!(op.verify, w.exptime(op.slot) > 0),
            }
        }
    }

    #[test]
    fn same_seed_same_ops() {
        let spec = small_spec();
        let f = fixture(&spec, 128);
        let p = WindowParams {
            overwrite: 0.1,
            verify: 0.1,
            exp_verify: 0.1,
            ..params(128, &spec)
        };
        let ops = |seed| {
            let mut w = Window::new(p, &f.distribution, 0, 0);
            run(&mut w, &mut fastrand::Rng::with_seed(seed), 5000)
        };
        assert_eq!(ops(1), ops(1));
        assert_ne!(ops(1), ops(2));
    }

    #[test]
    fn first_op_is_a_set_of_slot_zero() {
        let spec = WorkloadSpec::memaslap_default();
        let mut f = fixture(&spec, 8);
        let mut w = Window::new(params(8, &spec), &f.distribution, 0, 0);
        let op = w.next_op(&mut f.rng);
        assert_eq!(
            op,
            Op {
                kind: OpKind::Set,
                slot: 0,
                overwrite: false,
                verify: false
            }
        );
        // The first value begins with the key suffix.
        let k = key(&w, 0, &f.block);
        let v = w.value(0, &f.block);
        let n = (k.len() - PREFIX_LEN).min(v.len());
        assert_eq!(&k[PREFIX_LEN..PREFIX_LEN + n], &v[..n]);
    }

    #[test]
    fn offsets_wrap_inside_block() {
        // A 10-byte block and 8-byte values leave offsets 0..3.
        let spec = parse_cfg("key\n16 16 1\nvalue\n8 8 1\ncmd\n0 1\n").expect("valid");
        let block = CharBlock::generate(10, 3);
        let mut rng = fastrand::Rng::with_seed(1);
        let distribution = build_distribution(&spec, None, 1, 10, &mut rng);
        assert_eq!(distribution[0].offset_limit, 3);
        let at = |offset: usize| block.as_slice()[offset..offset + 8].to_vec();
        for overwrite in [1.0, 0.0] {
            let p = WindowParams {
                overwrite,
                ..params(1, &spec)
            };
            let mut w = Window::new(p, &distribution, 0, 0);
            let start = distribution[0].suffix_offset as usize;
            for i in 0..10 {
                let op = w.next_op(&mut rng);
                assert_eq!(op.overwrite, overwrite > 0.0 && i > 0);
                // Overwrites shift the value, kick-outs the suffix; both wrap.
                assert_eq!(w.value(0, &block), &at((start + i) % 3)[..], "op {i}");
                let mut out = [0u8; MAX_KEY_LEN];
                assert_eq!(w.write_key(0, &block, &mut out), 16);
                w.on_set_done(0, true, 1);
            }
        }
    }

    mod props {
        use super::*;
        use crate::spec::SizeRange;
        use proptest::prelude::*;

        fn size_range(min: usize, max: usize) -> impl Strategy<Value = SizeRange> {
            (min..=max, min..=max, 0.0..=1.0f64).prop_map(|(a, b, proportion)| SizeRange {
                start: a.min(b),
                end: a.max(b),
                proportion,
            })
        }

        fn spec() -> impl Strategy<Value = WorkloadSpec> {
            (
                prop::collection::vec(size_range(16, 250), 1..4),
                prop::collection::vec(size_range(1, 3000), 1..4),
                0.0..=1.0f64,
                0.0..=1.0f64,
            )
                .prop_map(|(keys, values, set_proportion, get_proportion)| {
                    WorkloadSpec {
                        keys,
                        values,
                        set_proportion,
                        get_proportion,
                    }
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn values_inside_block_and_keys_printable(
                spec in spec(),
                fixed in prop::option::of(1usize..3000),
                window_len in 1usize..1500,
                // Small slack makes drifting offsets wrap often.
                slack in 0usize..5000,
                overwrite in 0.0..=1.0f64,
                verify in 0.0..=1.0f64,
                exp_verify in 0.0..=1.0f64,
                fail_one_in in 2u8..10,
                seed in any::<u64>(),
                ops in 0usize..3000,
            ) {
                let max_value = fixed.unwrap_or(3000);
                let block_len = (250 - PREFIX_LEN).max(max_value) + slack;
                let block = CharBlock::generate(block_len, seed);
                let mut rng = fastrand::Rng::with_seed(seed);
                let distribution = build_distribution(&spec, fixed, window_len, block_len, &mut rng);
                let p = WindowParams {
                    window_len,
                    set_proportion: spec.set_proportion,
                    get_proportion: spec.get_proportion,
                    overwrite,
                    verify,
                    exp_verify,
                };
                let mut w = Window::new(p, &distribution, 1, 2);
                let range = block.as_slice().as_ptr_range();
                let check = |w: &Window, slot: usize| -> Result<(), TestCaseError> {
                    let v = w.value(slot, &block);
                    prop_assert_eq!(v.len(), w.value_len(slot));
                    prop_assert!(range.contains(&v.as_ptr()) || v.is_empty());
                    let mut out = [0u8; MAX_KEY_LEN];
                    let len = w.write_key(slot, &block, &mut out);
                    prop_assert!((PREFIX_LEN..=MAX_KEY_LEN).contains(&len));
                    prop_assert!(out[..len].iter().all(|b| b.is_ascii_graphic()));
                    Ok(())
                };
                for i in 0..w.warmup_len() {
                    let op = w.warmup_op(i);
                    check(&w, op.slot)?;
                    w.on_warmup_set_done(op.slot, rng.u8(0..fail_one_in) != 0, 0);
                }
                for _ in 0..ops {
                    let op = w.next_op(&mut rng);
                    check(&w, op.slot)?;
                    if op.kind == OpKind::Set {
                        w.on_set_done(op.slot, rng.u8(0..fail_one_in) != 0, 0);
                        check(&w, op.slot)?;
                    } else {
                        prop_assert!(w.is_stored(op.slot));
                    }
                }
            }
        }
    }
}
