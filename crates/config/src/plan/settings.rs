//! What every shard of a run shares, built once from the [`RunConfig`]: how each concurrency
//! behaves per request ([`Behaviour`]) and what its window is built from.

use std::time::Duration;

use shardslap_workload::{KeySpace, WindowParams};

use crate::{Pacing, Protocol, ReplyWait, RunConfig, StopCondition};

/// How a concurrency behaves, the same for every concurrency of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    pub protocol: Protocol,
    /// Keys per GET request (`-d`), at least 1.
    pub multi_get_keys: usize,
    /// Requests in flight per connection (`--pipeline`), at least 1.
    pub pipeline: usize,
    /// `--busy-poll`: how the driver waits for replies.
    pub reply_wait: ReplyWait,
    /// `-R`: reconnect lost links instead of ending the run.
    pub reconnect: bool,
    /// Connect and response timeout.
    pub timeout: Duration,
    /// How sends are timed; the rate is the whole run's, shared by `concurrencies`.
    pub pacing: Pacing,
    /// Concurrencies in the whole run.
    pub concurrencies: usize,
    /// The run's seed (open-loop arrivals are drawn from it).
    pub seed: u64,
}

/// The run-wide part of every [`ShardSpec`](crate::ShardSpec).
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    pub behaviour: Behaviour,
    /// What every concurrency's window is built from.
    pub window: WindowParams,
    /// `--keys`: every window's view of one key space instead of memaslap's own items.
    pub key_space: Option<KeySpace>,
    pub stop: StopCondition,
    /// `-S`; without it periods are `shardslap_report::DEFAULT_PERIOD` long.
    pub stat_freq: Option<Duration>,
    /// `-b`: print verification failures.
    pub verbose: bool,
    /// `-q`: print no link notes.
    pub quiet: bool,
}

impl RunSettings {
    /// The settings `cfg` asks of every shard.
    #[must_use]
    pub fn of(cfg: &RunConfig) -> RunSettings {
        RunSettings {
            behaviour: Behaviour {
                protocol: cfg.protocol,
                multi_get_keys: cfg.multi_get_keys.max(1),
                pipeline: cfg.pipeline.max(1),
                reply_wait: cfg.reply_wait,
                reconnect: cfg.reconnect,
                timeout: cfg.timeout,
                pacing: cfg.pacing,
                concurrencies: cfg.concurrency,
                seed: cfg.seed,
            },
            window: WindowParams {
                window_len: cfg.window_len,
                set_proportion: cfg.workload.set_proportion,
                get_proportion: cfg.workload.get_proportion,
                // The window reads 0 as off.
                overwrite: cfg.overwrite.unwrap_or(0.0),
                verify: cfg.verify.unwrap_or(0.0),
                exp_verify: cfg.exp_verify.unwrap_or(0.0),
            },
            key_space: cfg.key_space.clone(),
            stop: cfg.stop,
            stat_freq: cfg.stat_freq,
            verbose: cfg.verbose,
            quiet: cfg.quiet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_config::test_support::ok;

    #[test]
    fn proportions_left_off_are_zero_for_the_window() {
        let off = RunSettings::of(&ok(&["-s", "a"])).window;
        assert_eq!((off.verify, off.exp_verify, off.overwrite), (0.0, 0.0, 0.0));
        let on = RunSettings::of(&ok(&["-s", "a", "-v", "0.5", "-e", "0.1", "-o", "0.2"])).window;
        assert_eq!((on.verify, on.exp_verify, on.overwrite), (0.5, 0.1, 0.2));
        assert_eq!(on.window_len, 10_240);
    }

    #[test]
    fn behaviour_carries_the_typed_choices() {
        let cfg = ok(&[
            "-s", "a", "-B", "-P", "1k", "-d", "3", "-c", "4", "--seed", "9",
        ]);
        let behaviour = RunSettings::of(&cfg).behaviour;
        assert_eq!(behaviour.protocol, Protocol::Binary);
        assert_eq!(behaviour.pacing, Pacing::Tps { rate_per_sec: 1024 });
        assert_eq!((behaviour.multi_get_keys, behaviour.concurrencies), (3, 4));
        assert_eq!((behaviour.pipeline, behaviour.seed), (1, 9));
    }
}
