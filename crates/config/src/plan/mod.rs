//! [`RunConfig`] → [`ShardPlan`]: everything the engine needs, decided once. Which CPU each
//! shard runs on, which concurrencies it owns, which server each talks to over which sockets
//! (`routes`; with `--distribution`, every server, and the run's one key placement), how
//! many operations each may issue under `-x`, and what every shard shares (`settings`:
//! per-request behaviour, window parameters). Pure arithmetic, no I/O: servers
//! are named by index, resolved by the engine's preflight.

use std::time::Duration;

use std::sync::Arc;

use shardslap_workload::{Member, Placement, WorkloadSpec};

use crate::{Distribution, RunConfig, ServerAddr, StopCondition};

mod routes;
mod settings;

pub use routes::{Pick, Routes, SocketKind};
pub use settings::{Behaviour, RunSettings};

/// Everything a run needs to know, split by shard.
#[derive(Debug, Clone)]
pub struct ShardPlan {
    /// One entry per shard, indexed by shard.
    pub shards: Vec<ShardSpec>,
    /// The run's seed: the value bytes and value lengths are drawn from it.
    pub seed: u64,
    /// Key and value sizes the value lengths are drawn from.
    pub workload: WorkloadSpec,
    /// `-X`: one value length for every item.
    pub fixed_value_len: Option<usize>,
    /// `-w`: the value lengths are drawn for a window of this many items.
    pub window_len: usize,
    /// `-S`, for the main thread's periods.
    pub stat_freq: Option<Duration>,
    /// `--start-at` (Unix seconds).
    pub start_at: Option<f64>,
}

impl ShardPlan {
    /// The most sockets any concurrency opens.
    #[must_use]
    pub fn max_links_per_concurrency(&self) -> usize {
        self.shards
            .iter()
            .flat_map(|shard| &shard.concurrencies)
            .map(|conc| conc.routes.links.len())
            .max()
            .unwrap_or(0)
    }
}

/// One shard's share, self-contained: its CPU, its concurrencies and the run-wide settings.
#[derive(Debug, Clone)]
pub struct ShardSpec {
    /// 0-based shard index.
    pub shard: usize,
    /// OS CPU id to pin to: `cores[shard % cores.len()]`.
    pub cpu: usize,
    /// The concurrencies this shard runs, in global index order.
    pub concurrencies: Vec<ConcurrencySpec>,
    /// This shard's share of `-x` (the sum over its concurrencies); `None`
    /// in time mode.
    pub ops_budget: Option<u64>,
    /// What every shard of the run shares.
    pub settings: RunSettings,
}

/// One closed-loop virtual client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcurrencySpec {
    /// Global concurrency index `i` in `0..concurrency`.
    pub index: usize,
    /// Index within its shard.
    pub local_index: usize,
    /// Index into `RunConfig::servers`: `i % servers.len()`, the one server it talks to
    /// unless `--distribution` sends each request to its key's server (see `routes.pick`).
    pub server: usize,
    /// This concurrency's share of `-x`; `None` in time mode. The shares
    /// add up to exactly `x`: the first `x % c` get one more.
    pub ops_budget: Option<u64>,
    /// Its sockets and which requests go on which.
    pub routes: Routes,
}

/// Splits the run over shards. Concurrencies are dealt out in contiguous
/// blocks: each shard gets `c / shards`, and the first `c % shards` one
/// more. Shards are placed on `cfg.cores` round-robin.
///
/// Meant for a config from [`RunConfig::from_args`]; it does not panic on
/// any other (an empty `cores` puts every shard on CPU 0).
pub fn plan(cfg: &RunConfig) -> ShardPlan {
    let shard_count = cfg.shards.max(1);
    let server_count = cfg.servers.len().max(1);
    let concurrency = cfg.concurrency as u64;
    // Concurrency `index`'s share of `-x`.
    let ops_budget = |index: usize| match cfg.stop {
        StopCondition::Ops(ops) => Some(even_share(ops, concurrency, index as u64)),
        StopCondition::Time(_) => None,
    };
    let settings = RunSettings::of(cfg);
    // Built once; every concurrency's routes share it read-only.
    let placement = cfg
        .server_choice
        .distribution()
        .map(|distribution| Arc::new(placement(distribution, &cfg.servers)));
    let routes = |server: usize| match &placement {
        Some(placement) => Routes::by_key(
            cfg.transport.conns_per_concurrency(),
            placement.clone(),
            server_count,
        ),
        None => Routes::plan(cfg.transport, server, server_count),
    };
    let mut first_index = 0;
    let shards = (0..shard_count)
        .map(|shard| {
            let len = even_share(concurrency, shard_count as u64, shard as u64) as usize;
            let concurrencies: Vec<ConcurrencySpec> = (first_index..first_index + len)
                .enumerate()
                .map(|(local_index, index)| ConcurrencySpec {
                    index,
                    local_index,
                    server: index % server_count,
                    ops_budget: ops_budget(index),
                    routes: routes(index % server_count),
                })
                .collect();
            first_index += len;
            ShardSpec {
                shard,
                cpu: cfg
                    .cores
                    .get(shard % cfg.cores.len().max(1))
                    .copied()
                    .unwrap_or(0),
                ops_budget: match cfg.stop {
                    StopCondition::Ops(_) => {
                        Some(concurrencies.iter().filter_map(|c| c.ops_budget).sum())
                    }
                    StopCondition::Time(_) => None,
                },
                concurrencies,
                settings: settings.clone(),
            }
        })
        .collect();
    ShardPlan {
        shards,
        seed: cfg.seed,
        workload: cfg.workload.clone(),
        fixed_value_len: cfg.fixed_value_len,
        window_len: cfg.window_len,
        stat_freq: cfg.stat_freq,
        start_at: cfg.start_at,
    }
}

/// The run's key placement over `servers`, in `-s` order.
fn placement(distribution: Distribution, servers: &[ServerAddr]) -> Placement {
    match distribution {
        Distribution::Modula => Placement::modula(servers.len()),
        Distribution::Ketama => {
            let members: Vec<Member<'_>> = servers
                .iter()
                .map(|server| Member {
                    host: &server.host,
                    port: server.port,
                    weight: server.weight,
                })
                .collect();
            Placement::ketama(&members)
        }
    }
}

/// Part `i` of `total` split into `parts` near-equal parts: `total / parts`,
/// plus one for the first `total % parts` parts.
fn even_share(total: u64, parts: u64, i: u64) -> u64 {
    total / parts + u64::from(i < total % parts)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use proptest::prelude::*;

    use super::*;
    use crate::Args;

    const ALLOWED: [usize; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

    fn cfg(argv: &[&str]) -> RunConfig {
        let args =
            Args::try_parse_from(std::iter::once("shardslap").chain(argv.iter().copied())).unwrap();
        crate::run_config::build(args, &ALLOWED).unwrap()
    }

    fn cfg_ops(ops: u64, concurrency: usize, shards: usize) -> RunConfig {
        cfg(&[
            "-s",
            "a,b,c",
            "-x",
            &ops.to_string(),
            "-c",
            &concurrency.to_string(),
            "-T",
            &shards.to_string(),
        ])
    }

    #[test]
    fn concurrencies_are_spread_evenly_in_blocks() {
        let plan = plan(&cfg(&["-s", "a", "-c", "7", "-T", "3", "--cores", "2-3"]));
        let blocks: Vec<Vec<usize>> = plan
            .shards
            .iter()
            .map(|s| s.concurrencies.iter().map(|c| c.index).collect())
            .collect();
        assert_eq!(blocks, [vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
        let locals: Vec<usize> = plan.shards[1]
            .concurrencies
            .iter()
            .map(|c| c.local_index)
            .collect();
        assert_eq!(locals, [0, 1]);
        let cpus: Vec<usize> = plan.shards.iter().map(|s| s.cpu).collect();
        assert_eq!(cpus, [2, 3, 2], "round-robin over --cores");
        assert!(plan.shards.iter().all(|s| s.ops_budget.is_none()));
        assert!(plan
            .shards
            .iter()
            .flat_map(|s| &s.concurrencies)
            .all(|c| c.ops_budget.is_none()));
    }

    #[test]
    fn concurrency_i_talks_to_server_i_mod_servers() {
        let plan = plan(&cfg(&["-s", "a,b,c", "-c", "8", "-T", "2"]));
        for c in plan.shards.iter().flat_map(|s| &s.concurrencies) {
            assert_eq!(c.server, c.index % 3);
        }
    }

    #[test]
    fn small_x_goes_to_the_first_concurrencies() {
        // memaslap would run floor(10/16) = 0 ops; we run exactly 10.
        let plan = plan(&cfg_ops(10, 16, 2));
        let budgets: Vec<u64> = plan
            .shards
            .iter()
            .flat_map(|s| &s.concurrencies)
            .map(|c| c.ops_budget.unwrap())
            .collect();
        assert_eq!(budgets, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
        let shard_budgets: Vec<Option<u64>> = plan.shards.iter().map(|s| s.ops_budget).collect();
        assert_eq!(shard_budgets, [Some(8), Some(2)]);
    }

    #[test]
    fn each_concurrency_carries_its_routes_and_each_shard_the_settings() {
        let cfg = cfg(&["-s", "a,b,c", "-c", "4", "-T", "2", "-p", "2", "-n", "2"]);
        let plan = plan(&cfg);
        for c in plan.shards.iter().flat_map(|s| &s.concurrencies) {
            assert_eq!(c.routes, Routes::plan(cfg.transport, c.server, 3));
        }
        assert_eq!(
            plan.max_links_per_concurrency(),
            6,
            "-n 2 to each of 3 servers"
        );
        assert!(plan
            .shards
            .iter()
            .all(|s| s.settings == RunSettings::of(&cfg)));
        assert_eq!((plan.seed, plan.window_len), (cfg.seed, cfg.window_len));
    }

    #[test]
    fn a_distribution_shares_one_placement_across_every_concurrency() {
        let plan = plan(&cfg(&[
            "-s",
            "a:1:1,b:2:3",
            "--distribution",
            "ketama",
            "-c",
            "4",
            "-T",
            "2",
            "-n",
            "2",
        ]));
        let all: Vec<&ConcurrencySpec> =
            plan.shards.iter().flat_map(|s| &s.concurrencies).collect();
        let Pick::ByKey(first) = &all[0].routes.pick else {
            panic!("{:?}", all[0].routes.pick)
        };
        for conc in &all {
            assert_eq!(conc.routes.links.len(), 4, "-n 2 to each of 2 servers");
            let Pick::ByKey(placement) = &conc.routes.pick else {
                panic!("{:?}", conc.routes.pick)
            };
            assert!(Arc::ptr_eq(first, placement));
        }
        assert_eq!(
            **first,
            placement(
                Distribution::Ketama,
                &cfg(&["-s", "a:1:1,b:2:3", "--distribution", "ketama"]).servers
            )
        );
    }

    proptest! {
        #[test]
        fn budgets_sum_exactly_to_x(
            ops in 1u64..1_000_000_000_000,
            concurrency in 1usize..200,
            shards_seed in 0usize..64,
        ) {
            let shards = 1 + shards_seed % concurrency;
            let plan = plan(&cfg_ops(ops, concurrency, shards));
            prop_assert_eq!(plan.shards.len(), shards);

            let all: Vec<&ConcurrencySpec> =
                plan.shards.iter().flat_map(|s| &s.concurrencies).collect();
            let indexes: Vec<usize> = all.iter().map(|c| c.index).collect();
            prop_assert_eq!(indexes, (0..concurrency).collect::<Vec<_>>());

            let budgets: Vec<u64> = all.iter().map(|c| c.ops_budget.unwrap()).collect();
            prop_assert_eq!(budgets.iter().sum::<u64>(), ops);
            let base = ops / concurrency as u64;
            let extra = (ops % concurrency as u64) as usize;
            for (i, &budget) in budgets.iter().enumerate() {
                prop_assert_eq!(budget, base + u64::from(i < extra));
            }

            let mut shard_total = 0;
            for (s, spec) in plan.shards.iter().enumerate() {
                prop_assert_eq!(spec.shard, s);
                prop_assert_eq!(spec.cpu, ALLOWED[s % ALLOWED.len()]);
                let want_len = concurrency / shards + usize::from(s < concurrency % shards);
                prop_assert_eq!(spec.concurrencies.len(), want_len);
                for (local, c) in spec.concurrencies.iter().enumerate() {
                    prop_assert_eq!(c.local_index, local);
                    prop_assert_eq!(c.server, c.index % 3);
                }
                let own: u64 = spec.concurrencies.iter().map(|c| c.ops_budget.unwrap()).sum();
                prop_assert_eq!(spec.ops_budget, Some(own));
                shard_total += own;
            }
            prop_assert_eq!(shard_total, ops);
        }
    }
}
