//! The run's description as the report shows it: built from the validated configuration.

use shardslap_config::{RunConfig, StopCondition};
use shardslap_report::RunInfo;

/// What the report needs to know about the run's settings.
pub fn run_info(cfg: &RunConfig) -> RunInfo {
    let (run_time_s, execute_number) = match cfg.stop {
        StopCondition::Time(d) => (Some(d.as_secs_f64().round() as u64), None),
        StopCondition::Ops(n) => (None, Some(n)),
    };
    RunInfo {
        servers: cfg.servers_raw.clone(),
        threads: cfg.shards,
        concurrency: cfg.concurrency,
        run_time_s,
        execute_number,
        window_len: cfg.window_len,
        set_proportion: cfg.workload.set_proportion,
        get_proportion: cfg.workload.get_proportion,
        nominal_object_len: (cfg.workload.avg_key_len() + cfg.workload.avg_value_len()) as f64,
        verify: cfg.verify.is_some(),
        exp_verify: cfg.exp_verify.is_some(),
        udp: cfg.transport.uses_datagrams(),
        config: serde_json::to_value(cfg).unwrap_or(serde_json::Value::Null),
        cores: cfg.cores.clone(),
        host: host_name(),
        data_path: String::new(),
        requested_rate: cfg.pacing.open_loop().map(|open| open.rate_per_sec),
        key_space: cfg.key_space.as_ref().map(|space| {
            let mut words = format!("{} keys, {}", space.keys, space.dist);
            if space.prefill {
                words.push_str(", prefilled");
            }
            if space.miss_ratio > 0.0 {
                words.push_str(&format!(", miss ratio asked {}", space.miss_ratio));
            }
            words
        }),
    }
}

/// This machine's host name, or an empty string if the OS will not say.
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}
