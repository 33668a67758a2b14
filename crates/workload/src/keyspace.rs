//! A fixed key space (`--keys N`): keys named by their index, the same on every shard and every
//! host that shares the seed, and the popularity that decides which key each operation touches
//! (`--key-dist`). Pure and allocation-free per draw.
//!
//! Key `i` is `KeyPrefix::from_index(i)` (10 characters) followed by characters of the char
//! block; its key and value lengths are those of distribution slot `i % slots`, so the `-F`
//! size proportions hold over every run of 1024 keys. Keys `N..2N` are the never-stored
//! namespace `--miss-ratio` asks for.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::charblock::CharBlock;
use crate::distribution::SlotShape;
use crate::key::{KeyPrefix, PREFIX_LEN};
use shardslap_proto::MAX_KEY_LEN;

use crate::spec::PROP_EPSILON;
use crate::window::{Op, OpKind, WindowParams};

/// Largest key space: indexes (and their never-stored twins) fit the 60-bit prefix.
pub const MAX_KEYS: u64 = 1 << 58;
/// Largest zipf exponent accepted (YCSB uses 0.99; memtier allows any positive value).
pub const MAX_ZIPF_THETA: f64 = 1.5;

/// Which key an operation touches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyDist {
    /// Every key equally likely.
    Uniform,
    /// Key of rank k (k = 1 is key 0, the hottest) with probability ∝ 1 / k^theta.
    Zipf {
        /// The exponent, in (0, [`MAX_ZIPF_THETA`]].
        theta: f64,
    },
    /// A normal distribution over the key indexes, redrawn when it falls outside.
    Gaussian {
        /// Mean key index.
        mean: f64,
        /// Standard deviation, in keys.
        sd: f64,
    },
    /// Each concurrency walks the keys in order from its own starting point.
    Sequential,
}

impl fmt::Display for KeyDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDist::Uniform => write!(f, "uniform"),
            KeyDist::Zipf { theta } => write!(f, "zipf:{theta}"),
            KeyDist::Gaussian { mean, sd } => write!(f, "gaussian:{mean},{sd}"),
            KeyDist::Sequential => write!(f, "sequential"),
        }
    }
}

impl FromStr for KeyDist {
    type Err = String;

    /// `uniform`, `zipf:THETA`, `gaussian:MEAN,SD` or `sequential`; the error says what is
    /// wrong in words (the caller names the flag).
    fn from_str(text: &str) -> Result<KeyDist, String> {
        let (name, arg) = match text.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (text, None),
        };
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{what} '{s}' is not a number"))
        };
        match (name, arg) {
            ("uniform", None) => Ok(KeyDist::Uniform),
            ("sequential", None) => Ok(KeyDist::Sequential),
            ("zipf", Some(arg)) => {
                let theta = number(arg, "zipf theta")?;
                if theta <= 0.0 || theta > MAX_ZIPF_THETA {
                    return Err(format!(
                        "zipf theta must be in (0, {MAX_ZIPF_THETA}], not {theta}"
                    ));
                }
                Ok(KeyDist::Zipf { theta })
            }
            ("gaussian", Some(arg)) => {
                let Some((mean, sd)) = arg.split_once(',') else {
                    return Err(format!("gaussian needs MEAN,SD, not '{arg}'"));
                };
                let (mean, sd) = (number(mean, "gaussian mean")?, number(sd, "gaussian sd")?);
                if mean < 0.0 || sd <= 0.0 {
                    return Err(format!(
                        "gaussian needs a mean >= 0 and an sd > 0 (in keys), not {mean},{sd}"
                    ));
                }
                Ok(KeyDist::Gaussian { mean, sd })
            }
            ("zipf" | "gaussian", None) => Err(format!(
                "'{name}' needs its parameters: zipf:THETA or gaussian:MEAN,SD"
            )),
            _ => Err(format!(
                "'{text}' is not a key distribution (uniform, zipf:THETA, gaussian:MEAN,SD, \
                 sequential)"
            )),
        }
    }
}

/// The run's key space, the same for every concurrency.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KeySpace {
    /// Keys that may be stored: indexes `0..keys`.
    pub keys: u64,
    /// Which key an operation touches (written as `--key-dist` spells it).
    #[serde(serialize_with = "serialize_display")]
    pub dist: KeyDist,
    /// Share of GETs that ask for a never-stored key (index `keys..2 × keys`).
    pub miss_ratio: f64,
    /// Store every key once before the clock starts.
    pub prefill: bool,
}

fn serialize_display<S: serde::Serializer>(dist: &KeyDist, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(dist)
}

/// Draws key indexes for one concurrency: O(1) per draw, no allocation.
#[derive(Debug, Clone)]
pub struct KeySampler {
    keys: u64,
    kind: SamplerKind,
}

#[derive(Debug, Clone)]
enum SamplerKind {
    Uniform,
    Zipf(Zipf),
    Gaussian {
        mean: f64,
        sd: f64,
        spare: Option<f64>,
    },
    Sequential {
        next: u64,
    },
}

impl KeySampler {
    /// A sampler over `keys` keys; a sequential walk starts at `start % keys`.
    pub fn new(dist: KeyDist, keys: u64, start: u64) -> KeySampler {
        let keys = keys.max(1);
        let kind = match dist {
            KeyDist::Uniform => SamplerKind::Uniform,
            KeyDist::Zipf { theta } => SamplerKind::Zipf(Zipf::new(keys, theta)),
            KeyDist::Gaussian { mean, sd } => SamplerKind::Gaussian {
                mean,
                sd,
                spare: None,
            },
            KeyDist::Sequential => SamplerKind::Sequential { next: start % keys },
        };
        KeySampler { keys, kind }
    }

    /// The next key index, in `0..keys`.
    pub fn next(&mut self, rng: &mut fastrand::Rng) -> u64 {
        match &mut self.kind {
            SamplerKind::Uniform => rng.u64(0..self.keys),
            SamplerKind::Zipf(zipf) => zipf.sample(rng) - 1,
            SamplerKind::Gaussian { mean, sd, spare } => {
                // Redraw what falls outside the key space (bounded: a mean inside it and any
                // sd keep a fair share of draws inside; clamp after many misses).
                for _ in 0..64 {
                    let z = spare.take().unwrap_or_else(|| {
                        let (a, b) = standard_normal_pair(rng);
                        *spare = Some(b);
                        a
                    });
                    let x = (*mean + *sd * z).round();
                    if x >= 0.0 && x < self.keys as f64 {
                        return x as u64;
                    }
                }
                (mean.round() as u64).min(self.keys - 1)
            }
            SamplerKind::Sequential { next } => {
                let key = *next;
                *next = (*next + 1) % self.keys;
                key
            }
        }
    }
}

/// Two independent standard normal values (Box–Muller).
fn standard_normal_pair(rng: &mut fastrand::Rng) -> (f64, f64) {
    let u1 = 1.0 - rng.f64(); // (0, 1]: ln is finite
    let u2 = rng.f64();
    let r = (-2.0 * u1.ln()).sqrt();
    let angle = std::f64::consts::TAU * u2;
    (r * angle.cos(), r * angle.sin())
}

/// Rejection-inversion sampling of a Zipf distribution over ranks `1..=n` (Hörmann and
/// Derflinger, "Rejection-inversion to generate variates from monotone discrete
/// distributions", 1996; the form of Apache Commons' `RejectionInversionZipfSampler`): O(1)
/// expected per draw, no table.
#[derive(Debug, Clone, Copy)]
struct Zipf {
    n: f64,
    exponent: f64,
    h_integral_x1: f64,
    h_integral_n: f64,
    s: f64,
}

impl Zipf {
    fn new(n: u64, exponent: f64) -> Zipf {
        let mut zipf = Zipf {
            n: n as f64,
            exponent,
            h_integral_x1: 0.0,
            h_integral_n: 0.0,
            s: 0.0,
        };
        zipf.h_integral_x1 = zipf.h_integral(1.5) - 1.0;
        zipf.h_integral_n = zipf.h_integral(zipf.n + 0.5);
        zipf.s = 2.0 - zipf.h_integral_inverse(zipf.h_integral(2.5) - zipf.h(2.0));
        zipf
    }

    /// A rank in `1..=n`.
    fn sample(&self, rng: &mut fastrand::Rng) -> u64 {
        loop {
            let u = self.h_integral_n + rng.f64() * (self.h_integral_x1 - self.h_integral_n);
            let x = self.h_integral_inverse(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n);
            if k - x <= self.s || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }

    fn h(&self, x: f64) -> f64 {
        (-self.exponent * x.ln()).exp()
    }

    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        helper2((1.0 - self.exponent) * log_x) * log_x
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.exponent)).max(-1.0);
        (helper1(t) * x).exp()
    }
}

/// `ln(1 + x) / x`, continuous at 0.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// `(e^x - 1) / x`, continuous at 0.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

/// One concurrency's view of the key space: which key each operation touches, and the
/// memaslap interleave of SETs and GETs (`set_proportion`/`get_proportion`). It keeps no
/// per-key state: whether a key is stored is the server's to say (a GET of a key never stored
/// is a miss), and a key's value is the same bytes whoever stores it, so `-v` still checks
/// what comes back.
#[derive(Debug, Clone)]
pub struct KeyWindow {
    params: WindowParams,
    keys: u64,
    miss_ratio: f64,
    prefill: bool,
    sampler: KeySampler,
    /// The run's slot shapes, shared by every window.
    shapes: Arc<[SlotShape]>,
    /// This concurrency's index and the run's count: `--prefill` stores keys
    /// `concurrency, concurrency + concurrencies, …`.
    concurrency: u64,
    concurrencies: u64,
    gets_issued: u64,
    sets_stored: u64,
    verified_gets: u64,
}

impl KeyWindow {
    /// Concurrency `concurrency` of `concurrencies` over `space`, with key and value lengths
    /// cycling through `distribution`'s slots. A sequential walk starts at the concurrency's
    /// share of the space, so concurrencies do not walk in step.
    ///
    /// # Panics
    ///
    /// If `distribution` is empty (the config stage builds at least one slot).
    pub fn new(
        params: WindowParams,
        space: &KeySpace,
        distribution: &Arc<[SlotShape]>,
        concurrency: usize,
        concurrencies: usize,
    ) -> KeyWindow {
        assert!(!distribution.is_empty(), "a key space needs key shapes");
        let keys = space.keys.clamp(1, MAX_KEYS);
        let concurrencies = concurrencies.max(1) as u64;
        let concurrency = concurrency as u64;
        let start = (u128::from(keys) * u128::from(concurrency) / u128::from(concurrencies)) as u64;
        KeyWindow {
            params,
            keys,
            miss_ratio: space.miss_ratio,
            prefill: space.prefill,
            sampler: KeySampler::new(space.dist, keys, start),
            shapes: Arc::clone(distribution),
            concurrency,
            concurrencies,
            gets_issued: 0,
            sets_stored: 0,
            verified_gets: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        usize::try_from(self.keys).unwrap_or(usize::MAX)
    }

    /// SET when memaslap's interleave says so (a key drawn from the distribution); else a
    /// GET — of a never-stored key (`keys..2 × keys`) with probability `miss_ratio`.
    pub(crate) fn next_op(&mut self, rng: &mut fastrand::Rng) -> Op {
        let p = self.params;
        let set_due = p.set_proportion > PROP_EPSILON
            && self.gets_issued as f64 * p.set_proportion
                >= self.sets_stored as f64 * p.get_proportion;
        let key = self.sampler.next(rng);
        if set_due {
            return Op {
                kind: OpKind::Set,
                slot: key as usize,
                overwrite: false,
                verify: false,
            };
        }
        let miss = self.miss_ratio > 0.0 && rng.f64() < self.miss_ratio;
        let verify = !miss && (self.verified_gets as f64) < self.gets_issued as f64 * p.verify;
        self.verified_gets += u64::from(verify);
        self.gets_issued += 1;
        Op {
            kind: OpKind::Get,
            slot: (if miss { self.keys + key } else { key }) as usize,
            overwrite: false,
            verify,
        }
    }

    pub(crate) fn on_set_done(&mut self, _slot: usize, stored: bool, _now_secs: u64) {
        self.sets_stored += u64::from(stored);
    }

    /// With `--prefill`, the keys this concurrency stores before the clock starts.
    pub(crate) fn warmup_len(&self) -> usize {
        if !self.prefill || self.concurrency >= self.keys {
            return 0;
        }
        let owned = (self.keys - self.concurrency).div_ceil(self.concurrencies);
        usize::try_from(owned).unwrap_or(usize::MAX)
    }

    pub(crate) fn warmup_op(&self, i: usize) -> Op {
        let key = self.concurrency + i as u64 * self.concurrencies;
        Op {
            kind: OpKind::Set,
            slot: key as usize,
            overwrite: false,
            verify: false,
        }
    }

    pub(crate) fn on_warmup_set_done(&mut self, _slot: usize, _stored: bool, _now_secs: u64) {}

    pub(crate) fn write_key(
        &self,
        slot: usize,
        block: &CharBlock,
        out: &mut [u8; MAX_KEY_LEN],
    ) -> usize {
        let (prefix, suffix) = self.key_parts(slot, block);
        out[..PREFIX_LEN].copy_from_slice(&prefix);
        out[PREFIX_LEN..PREFIX_LEN + suffix.len()].copy_from_slice(suffix);
        PREFIX_LEN + suffix.len()
    }

    pub(crate) fn key_parts<'b>(
        &self,
        slot: usize,
        block: &'b CharBlock,
    ) -> ([u8; PREFIX_LEN], &'b [u8]) {
        let shape = self.shape(slot);
        let key_len = usize::from(shape.key_len).clamp(PREFIX_LEN, MAX_KEY_LEN);
        let mut prefix = [0u8; PREFIX_LEN];
        self.key_prefix(slot).write(&mut prefix);
        let start = shape.suffix_offset as usize;
        (
            prefix,
            &block.as_slice()[start..start + key_len - PREFIX_LEN],
        )
    }

    pub(crate) fn key_prefix(&self, slot: usize) -> KeyPrefix {
        KeyPrefix::from_index(slot as u64)
    }

    pub(crate) fn key_len(&self, slot: usize) -> usize {
        usize::from(self.shape(slot).key_len).clamp(PREFIX_LEN, MAX_KEY_LEN)
    }

    pub(crate) fn value_len(&self, slot: usize) -> usize {
        self.shape(slot).value_len as usize
    }

    pub(crate) fn value<'b>(&self, slot: usize, block: &'b CharBlock) -> &'b [u8] {
        let shape = self.shape(slot);
        let start = shape.suffix_offset as usize;
        &block.as_slice()[start..start + shape.value_len as usize]
    }

    pub(crate) fn exptime(&self, _slot: usize) -> u32 {
        0
    }

    pub(crate) fn set_time_secs(&self, _slot: usize) -> u64 {
        0
    }

    pub(crate) fn is_stored(&self, _slot: usize) -> bool {
        false
    }

    pub(crate) fn gets_issued(&self) -> u64 {
        self.gets_issued
    }

    pub(crate) fn sets_stored(&self) -> u64 {
        self.sets_stored
    }

    pub(crate) fn overwrites_stored(&self) -> u64 {
        0
    }

    /// A never-stored key has the shape of the key it shadows.
    fn shape(&self, slot: usize) -> SlotShape {
        let index = slot as u64 % self.keys;
        key_shape(&self.shapes, index)
    }
}

/// The theoretical share of draws that land on the `hot` most popular of `n` zipf ranks.
pub fn zipf_share(n: u64, theta: f64, hot: u64) -> f64 {
    let weight = |k: u64| (k as f64).powf(-theta);
    let top: f64 = (1..=hot.min(n)).map(weight).sum();
    let all: f64 = (1..=n).map(weight).sum();
    top / all
}

/// Where key `index` lives in the char block: its shape (lengths from distribution slot
/// `index % slots`) with the suffix moved along by the index, so neighbouring keys of one
/// slot do not share their characters.
pub fn key_shape(shapes: &[SlotShape], index: u64) -> SlotShape {
    let slots = shapes.len().max(1) as u64;
    let mut shape = shapes[(index % slots) as usize];
    let round = index / slots;
    let limit = u64::from(shape.offset_limit.max(1));
    shape.suffix_offset = ((u64::from(shape.suffix_offset) + round * 61) % limit) as u32;
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_parse_and_nonsense_is_refused_in_words() {
        assert_eq!("uniform".parse(), Ok(KeyDist::Uniform));
        assert_eq!("sequential".parse(), Ok(KeyDist::Sequential));
        assert_eq!("zipf:0.99".parse(), Ok(KeyDist::Zipf { theta: 0.99 }));
        assert_eq!(
            "gaussian:500,50".parse(),
            Ok(KeyDist::Gaussian {
                mean: 500.0,
                sd: 50.0
            })
        );
        for (bad, says) in [
            ("zipf:0", "zipf theta must be in (0, 1.5], not 0"),
            ("zipf:-1", "zipf theta must be in (0, 1.5], not -1"),
            ("zipf:2", "zipf theta must be in (0, 1.5], not 2"),
            ("zipf:x", "zipf theta 'x' is not a number"),
            ("zipf", "'zipf' needs its parameters"),
            ("gaussian:5", "gaussian needs MEAN,SD, not '5'"),
            ("gaussian:5,0", "gaussian needs a mean >= 0 and an sd > 0"),
            ("pareto", "'pareto' is not a key distribution"),
        ] {
            let err = bad.parse::<KeyDist>().expect_err(bad);
            assert!(err.starts_with(says), "{bad}: {err}");
        }
        for dist in ["uniform", "zipf:0.99", "gaussian:10,2", "sequential"] {
            assert_eq!(dist.parse::<KeyDist>().unwrap().to_string(), dist);
        }
    }

    fn draws(dist: KeyDist, keys: u64, n: usize) -> Vec<u64> {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut sampler = KeySampler::new(dist, keys, 0);
        (0..n).map(|_| sampler.next(&mut rng)).collect()
    }

    #[test]
    fn zipf_puts_the_theoretical_share_on_the_hottest_keys() {
        for theta in [0.5, 0.99, 1.0, 1.2] {
            let keys = 10_000;
            let sample = draws(KeyDist::Zipf { theta }, keys, 400_000);
            assert!(sample.iter().all(|&k| k < keys));
            let hot = sample.iter().filter(|&&k| k < keys / 100).count() as f64;
            let measured = hot / sample.len() as f64;
            let expected = zipf_share(keys, theta, keys / 100);
            assert!(
                (measured / expected - 1.0).abs() < 0.03,
                "theta {theta}: {measured:.4} of draws on the hottest 1%, theory {expected:.4}"
            );
        }
    }

    #[test]
    fn uniform_covers_the_space_evenly_and_sequential_walks_it() {
        let sample = draws(KeyDist::Uniform, 100, 100_000);
        let mut counts = [0u32; 100];
        for k in sample {
            counts[k as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        let mut rng = fastrand::Rng::with_seed(1);
        let mut walk = KeySampler::new(KeyDist::Sequential, 5, 13);
        let keys: Vec<u64> = (0..7).map(|_| walk.next(&mut rng)).collect();
        assert_eq!(keys, vec![3, 4, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn gaussian_centres_on_its_mean_and_stays_inside() {
        let dist = KeyDist::Gaussian {
            mean: 300.0,
            sd: 40.0,
        };
        let sample = draws(dist, 1000, 50_000);
        let mean = sample.iter().sum::<u64>() as f64 / sample.len() as f64;
        assert!((mean - 300.0).abs() < 2.0, "{mean}");
        let within = sample.iter().filter(|&&k| (260..=340).contains(&k)).count() as f64;
        assert!((within / sample.len() as f64 - 0.68).abs() < 0.02);
        let edge = draws(KeyDist::Gaussian { mean: 0.0, sd: 5.0 }, 10, 1000);
        assert!(edge.iter().all(|&k| k < 10));
    }

    #[test]
    fn a_key_shape_cycles_the_slots_and_stays_inside_the_block() {
        let shapes = [
            SlotShape {
                key_len: 20,
                value_len: 100,
                suffix_offset: 5,
                offset_limit: 1000,
            },
            SlotShape {
                key_len: 30,
                value_len: 200,
                suffix_offset: 7,
                offset_limit: 900,
            },
        ];
        assert_eq!(key_shape(&shapes, 0), shapes[0]);
        assert_eq!(key_shape(&shapes, 3).key_len, 30);
        assert_ne!(key_shape(&shapes, 2).suffix_offset, shapes[0].suffix_offset);
        for index in 0..10_000 {
            let shape = key_shape(&shapes, index);
            assert!(shape.suffix_offset < shape.offset_limit);
        }
    }

    fn space(keys: u64, dist: KeyDist, miss_ratio: f64, prefill: bool) -> KeySpace {
        KeySpace {
            keys,
            dist,
            miss_ratio,
            prefill,
        }
    }

    fn windows(space: &KeySpace, concurrencies: usize) -> (Vec<KeyWindow>, crate::CharBlock) {
        let spec = crate::WorkloadSpec::memaslap_default();
        let mut rng = fastrand::Rng::with_seed(5);
        let block = crate::CharBlock::generate(1 << 20, 11);
        let shapes = crate::build_distribution(&spec, None, 1024, 1 << 20, &mut rng);
        let params = WindowParams {
            window_len: 1024,
            set_proportion: 0.1,
            get_proportion: 0.9,
            overwrite: 0.0,
            verify: 0.0,
            exp_verify: 0.0,
        };
        let windows = (0..concurrencies)
            .map(|c| KeyWindow::new(params, space, &shapes, c, concurrencies))
            .collect();
        (windows, block)
    }

    #[test]
    fn every_concurrency_names_a_key_the_same_and_prefill_stores_each_key_once() {
        let space = space(1000, KeyDist::Uniform, 0.0, true);
        let (windows, block) = windows(&space, 3);
        let mut seen = vec![0u32; 1000];
        for w in &windows {
            for i in 0..w.warmup_len() {
                seen[w.warmup_op(i).slot] += 1;
            }
        }
        assert!(
            seen.iter().all(|&n| n == 1),
            "each key prefilled exactly once"
        );
        let (mut a, mut b) = ([0u8; MAX_KEY_LEN], [0u8; MAX_KEY_LEN]);
        let mut names = std::collections::HashSet::new();
        for slot in 0..2000 {
            let len = windows[0].write_key(slot, &block, &mut a);
            assert_eq!(windows[2].write_key(slot, &block, &mut b), len);
            assert_eq!(a[..len], b[..len], "key {slot} is the same everywhere");
            assert_eq!(
                windows[0].value(slot, &block),
                windows[1].value(slot, &block)
            );
            names.insert(a[..len].to_vec());
        }
        assert_eq!(
            names.len(),
            2000,
            "stored and never-stored keys are all distinct"
        );
    }

    #[test]
    fn that_share_of_gets_asks_for_never_stored_keys() {
        let space = space(1000, KeyDist::Zipf { theta: 0.99 }, 0.2, false);
        let (mut windows, _) = windows(&space, 1);
        let w = &mut windows[0];
        let mut rng = fastrand::Rng::with_seed(3);
        let (mut gets, mut misses, mut sets) = (0u32, 0u32, 0u32);
        for _ in 0..100_000 {
            let op = w.next_op(&mut rng);
            match op.kind {
                OpKind::Set => {
                    assert!(op.slot < 1000);
                    sets += 1;
                    w.on_set_done(op.slot, true, 0);
                }
                OpKind::Get => {
                    gets += 1;
                    misses += u32::from(op.slot >= 1000);
                    assert!(op.slot < 2000);
                }
            }
        }
        let ratio = f64::from(misses) / f64::from(gets);
        assert!((ratio - 0.2).abs() < 0.01, "{ratio}");
        assert!((f64::from(gets) / f64::from(sets) - 9.0).abs() < 0.1);
        assert_eq!(w.warmup_len(), 0, "no prefill asked");
    }
}
