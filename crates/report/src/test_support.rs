//! Fixtures shared by the text and JSON tests: the settings of the
//! memaslap run in `testdata/memaslap_sample_run.txt`.

use std::time::Duration;

use crate::{Report, RunInfo, ShardStats};

/// `memcaslap -s 127.0.0.1:22122 -T 1 -c 8 -t 3s -S 1s` (key 64 + value
/// 1024 bytes).
pub fn sample_info() -> RunInfo {
    RunInfo {
        servers: "127.0.0.1:22122".into(),
        threads: 1,
        concurrency: 8,
        run_time_s: Some(3),
        execute_number: None,
        window_len: 10 * 1024,
        set_proportion: 0.1,
        get_proportion: 0.9,
        nominal_object_len: 1088.0,
        verify: false,
        exp_verify: false,
        udp: false,
        config: serde_json::json!({ "servers": "127.0.0.1:22122", "time_s": 3 }),
        cores: vec![1],
        host: "bench-1".into(),
        data_path: String::new(),
        requested_rate: None,
        key_space: None,
    }
}

/// A report over `shards` with the sample's settings.
pub fn report(shards: Vec<ShardStats>, duration: Duration) -> Report {
    Report::from_shards(sample_info(), shards, duration, 1_700_000_000.5)
}
