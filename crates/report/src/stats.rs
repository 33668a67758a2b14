//! Per-shard statistics: latency accumulators per operation type plus the
//! plain counters, all merged by value (no atomics, no locks).
//!
//! Stage: each shard owns a [`ShardStats`] and returns it when it finishes;
//! the caller folds them with [`merge_all`].

use std::borrow::Borrow;

use crate::latency::LatencyStats;

/// Latency accumulators for Get and Set; their union, memaslap's third table, is
/// [`total`](Self::total).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpStats {
    /// GET requests (a multi-get is one event); misses per key.
    pub get: LatencyStats,
    /// SET requests.
    pub set: LatencyStats,
}

impl OpStats {
    /// Records one completed GET request that took `latency_ns` and missed
    /// `misses` keys. Does not allocate.
    pub fn record_get(&mut self, latency_ns: u64, misses: u64) {
        self.get.record(latency_ns);
        self.get.record_miss(misses);
    }

    /// Records one completed SET request that took `latency_ns`. Does not
    /// allocate.
    pub fn record_set(&mut self, latency_ns: u64) {
        self.set.record(latency_ns);
    }

    /// Every GET and SET event, and the GET misses: `get` merged with `set`.
    ///
    /// Derived rather than kept, so the hot path records each request once and an
    /// `OpStats` holds one histogram fewer. It is exact, the same as recording every
    /// request into a third accumulator, because [`LatencyStats::merge`] is (integer sums,
    /// min/max, log2 buckets, histogram counts). It clones `get`'s histogram (~220 KiB),
    /// so call it at report time, once per use, never per request.
    #[must_use]
    pub fn total(&self) -> LatencyStats {
        let mut total = self.get.clone();
        total.merge(&self.set);
        total
    }

    /// GET and SET events recorded: `total().count()` without building the total.
    #[must_use]
    pub fn total_count(&self) -> u64 {
        self.get.count() + self.set.count()
    }

    /// Adds everything `other` recorded into `self`.
    pub fn merge(&mut self, other: &Self) {
        let Self { get, set } = other;
        self.get.merge(get);
        self.set.merge(set);
    }

    /// Empties both accumulators (for per-period deltas).
    pub fn reset(&mut self) {
        self.get.reset();
        self.set.reset();
    }

    /// Empties both accumulators, keeping their histograms' storage for reuse.
    pub fn recycle(&mut self) {
        self.get.recycle();
        self.set.recycle();
    }
}

/// Declares [`Counters`] and its field-wise `merge` from one list of
/// fields, so a new counter cannot be left out of the merge.
macro_rules! counters {
    ($(#[$meta:meta])* pub struct $name:ident {
        $($(#[$field_meta:meta])* $field:ident,)*
    }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: u64,)*
        }

        impl $name {
            /// Adds every counter of `other` into `self`.
            pub fn merge(&mut self, other: &Self) {
                $(self.$field += other.$field;)*
            }

            /// Every counter with its name (the field's, as the result file's `counters`
            /// has it), in declaration order.
            #[must_use]
            pub fn named(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($field), self.$field),)*]
            }
        }
    };
}

counters! {
    /// Plain event counters (memaslap's summary lines and shardslap's
    /// fault counters). Byte counts are in bytes.
    #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    // A counter added later reads as 0 from a file written before it.
    #[serde(default)]
    pub struct Counters {
        /// GET keys issued (a multi-get counts every key).
        cmd_get,
        /// SETs issued.
        cmd_set,
        /// GET keys the server did not return.
        get_misses,
        /// Bytes handed to the socket.
        written_bytes,
        /// Bytes read from the socket.
        read_bytes,
        /// Σ key + value length over issued SETs.
        object_bytes,
        /// Verified GETs whose key was missing (`-v`).
        verify_misses,
        /// Verified GETs whose value was wrong (`-v`).
        verify_failed,
        /// Expired items the server still returned (`-e`).
        expired_get,
        /// Unexpired items the server did not return (`-e`).
        unexpired_unget,
        /// Requests that failed (timeouts, protocol errors, resets, ...).
        errors,
        /// SETs issued during warm-up.
        warmup_sets,
        /// Connections lost.
        disconnects,
        /// Connections re-established.
        reconnects,
        /// Requests that timed out.
        timeouts,
        /// Responses that could not be parsed or were `ERROR`/`SERVER_ERROR`.
        protocol_errors,
        /// UDP requests that got no answer in time.
        udp_timeouts,
        /// UDP datagrams lost.
        packets_dropped,
        /// UDP datagrams that arrived out of order.
        packet_disorder,
        /// Open loop (`--rate`): intended sends dropped because more than `--max-queue` were
        /// already waiting.
        dropped,
    }
}

/// Everything one shard measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardStats {
    /// 0-based shard index.
    pub shard: usize,
    /// OS CPU id the shard ran on.
    pub cpu: usize,
    /// Latency accumulators: from when each request was due (`-P`, `--rate`) or, unpaced,
    /// from when it reached the socket.
    pub ops: OpStats,
    /// Service time of paced requests (`-P`, `--rate`): from the moment each reached the
    /// socket. Empty (and without histograms) in an unpaced run, whose latency is this.
    pub service: OpStats,
    /// Event counters.
    pub counters: Counters,
}

impl ShardStats {
    /// Empty statistics for `shard` pinned to `cpu`.
    #[must_use]
    pub fn new(shard: usize, cpu: usize) -> Self {
        Self {
            shard,
            cpu,
            ops: OpStats::default(),
            service: OpStats::default(),
            counters: Counters::default(),
        }
    }

    /// Empties every measurement, keeping `shard`, `cpu` and the histograms' storage: a
    /// period's statistics, once merged, go back to their shard to be filled again.
    pub fn recycle(&mut self) {
        self.ops.recycle();
        self.service.recycle();
        self.counters = Counters::default();
    }

    /// Adds `other`'s measurements into `self`; `self.shard` and `self.cpu`
    /// are kept.
    pub fn merge(&mut self, other: &Self) {
        self.ops.merge(&other.ops);
        self.service.merge(&other.service);
        self.counters.merge(&other.counters);
    }
}

/// Merges any number of shards into one total. The result is the same in
/// any order; its `shard` and `cpu` are 0 (they mean nothing for a total).
pub fn merge_all<I>(shards: I) -> ShardStats
where
    I: IntoIterator,
    I::Item: Borrow<ShardStats>,
{
    shards
        .into_iter()
        .fold(ShardStats::new(0, 0), |mut acc, s| {
            acc.merge(s.borrow());
            acc
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn get_and_set_both_feed_total() {
        let mut ops = OpStats::default();
        ops.record_get(10_000, 2);
        ops.record_set(20_000);
        assert_eq!((ops.get.count(), ops.get.misses()), (1, 2));
        assert_eq!((ops.set.count(), ops.set.misses()), (1, 0));
        let total = ops.total();
        assert_eq!((total.count(), total.misses()), (2, 2));
        assert_eq!(total.max_us(), 20);
    }

    #[test]
    fn total_is_get_and_set_recorded_into_one_accumulator() {
        let gets = [(1_500, 1), (250_000, 0), (3_000_000, 2), (12_345, 0)];
        let sets = [800, 90_000, 7_000_000_000];
        let mut ops = OpStats::default();
        let mut both = LatencyStats::new();
        for &(latency_ns, misses) in &gets {
            ops.record_get(latency_ns, misses);
            both.record(latency_ns);
            both.record_miss(misses);
        }
        for &latency_ns in &sets {
            ops.record_set(latency_ns);
            both.record(latency_ns);
        }
        let total = ops.total();
        assert_eq!((total.count(), total.misses()), (7, 3));
        assert_eq!((total.min_ns(), total.max_ns()), (800, 7_000_000_000));
        for q in [0.5, 0.99] {
            assert_eq!(total.percentile_us(q), both.percentile_us(q), "q{q}");
        }
        assert_eq!(ops.total_count(), 7);
        // Every accumulator field and the histogram, not only the figures above.
        assert_eq!(total, both);
        // total() only reads.
        assert_eq!((ops.get.count(), ops.set.count()), (4, 3));
    }

    #[test]
    fn counters_merge_adds_every_field() {
        // Every field set to 1 through serde, so the test needs no field list.
        let fields = serde_json::to_value(Counters::default()).unwrap();
        let ones: serde_json::Map<String, serde_json::Value> = fields
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (k.clone(), 1.into()))
            .collect();
        assert_eq!(ones.len(), 20);
        let one: Counters = serde_json::from_value(ones.clone().into()).unwrap();
        let mut sum = Counters::default();
        sum.merge(&one);
        sum.merge(&one);
        let summed = serde_json::to_value(&sum).unwrap();
        for field in ones.keys() {
            assert_eq!(summed[field], 2, "field {field}");
        }
    }

    #[test]
    fn shard_merge_keeps_identity() {
        let mut a = ShardStats::new(3, 7);
        let mut b = ShardStats::new(1, 2);
        b.counters.cmd_get = 5;
        b.ops.record_set(1_000);
        a.merge(&b);
        assert_eq!((a.shard, a.cpu), (3, 7));
        assert_eq!(a.counters.cmd_get, 5);
        assert_eq!(a.ops.set.count(), 1);
    }

    /// One sample: (is_get, latency_ns, misses).
    fn sample() -> impl Strategy<Value = (bool, u64, u64)> {
        (
            any::<bool>(),
            prop_oneof![0u64..10_000, 0u64..10_000_000, 0u64..100_000_000_000],
            0u64..3,
        )
    }

    fn record(stats: &mut ShardStats, &(is_get, latency_ns, misses): &(bool, u64, u64)) {
        if is_get {
            stats.ops.record_get(latency_ns, misses);
            stats.counters.cmd_get += 1;
            stats.counters.get_misses += misses;
        } else {
            stats.ops.record_set(latency_ns);
            stats.counters.cmd_set += 1;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn merge_in_any_order_equals_one_accumulator(
            samples in proptest::collection::vec(sample(), 0..400),
            shard_of in proptest::collection::vec(0usize..5, 400),
            order in Just((0..5usize).collect::<Vec<_>>()).prop_shuffle(),
        ) {
            let mut single = ShardStats::new(0, 0);
            let mut shards: Vec<ShardStats> = (0..5).map(|i| ShardStats::new(i, i + 10)).collect();
            for (s, &k) in samples.iter().zip(&shard_of) {
                record(&mut single, s);
                record(&mut shards[k], s);
            }

            let forward = merge_all(&shards);
            let shuffled = merge_all(order.iter().map(|&i| &shards[i]));
            let mut pairwise = shards[order[0]].clone();
            for &i in order.iter().skip(1).rev() {
                pairwise.merge(&shards[i]);
            }
            pairwise.shard = 0;
            pairwise.cpu = 0;

            prop_assert_eq!(&forward, &single);
            prop_assert_eq!(&shuffled, &single);
            prop_assert_eq!(&pairwise, &single);

            let (forward_total, single_total) = (forward.ops.total(), single.ops.total());
            for (merged, one) in [
                (&forward.ops.get, &single.ops.get),
                (&forward.ops.set, &single.ops.set),
                (&forward_total, &single_total),
            ] {
                prop_assert_eq!(merged.count(), one.count());
                prop_assert_eq!(merged.misses(), one.misses());
                prop_assert_eq!(merged.min_ns(), one.min_ns());
                prop_assert_eq!(merged.max_ns(), one.max_ns());
                prop_assert_eq!(merged.mean_us(), one.mean_us());
                prop_assert_eq!(merged.stddev_us().to_bits(), one.stddev_us().to_bits());
                prop_assert_eq!(merged.geo_mean_us().to_bits(), one.geo_mean_us().to_bits());
                prop_assert_eq!(merged.log2_dist(), one.log2_dist());
                for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                    prop_assert_eq!(
                        merged.percentile_us(q).to_bits(),
                        one.percentile_us(q).to_bits()
                    );
                }
            }
        }
    }
}
