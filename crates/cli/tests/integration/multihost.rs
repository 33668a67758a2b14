//! The multi-host recipe of docs/distributed.md, for real on one machine: network namespaces
//! stand in for load-generating hosts, `examples/distributed/run-hosts.sh` starts shardslap on
//! each with one `--start-at` (launcher `ip netns exec` instead of `ssh`), collects their JSON
//! and merges it; the merged counts must equal the server's own.
//!
//! Needs root and iproute2 (CI runs as root; scripts/test.sh installs iproute2): without them
//! the test fails with what is missing, it never skips.

use std::path::Path;
use std::process::Command;

use shardslap_schema::{OpName, ResultFile};
use shardslap_testkit::{MemcachedServer, ServerOptions, TestNetwork};

use crate::engine_counts::{assert_counts_match, LIMIT};
use crate::util::{run_command, RunResult, TempDir};

const HOSTS: usize = 2;

#[test]
fn two_namespace_hosts_start_together_and_their_merge_matches_the_server() {
    let net = TestNetwork::new(HOSTS).unwrap_or_else(|e| panic!("{e}"));
    let ip = net.server_ip.to_string();
    // memcached lives in the server namespace; the test talks to it from there too.
    let server = net.server.run(|| {
        MemcachedServer::start_with(ServerOptions {
            extra_args: vec!["-l".into(), ip.clone()],
            ..ServerOptions::default()
        })
    });
    let target = format!("{ip}:{}", server.addr().port());
    let before = net.server.run(|| server.stats());

    let dir = TempDir::new("multihost");
    let out = dir.path("results");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/distributed/run-hosts.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .args(["-l", "ip netns exec", "-a", "3", "-o"])
        .arg(&out)
        .args(net.hosts.iter().map(|h| h.name()))
        .args(["--", "-s", &target, "-T", "1", "-c", "2", "-t", "2s"])
        .env("SHARDSLAP", env!("CARGO_BIN_EXE_shardslap"));
    let recipe = run_command(cmd, LIMIT);
    assert!(
        recipe.status.success(),
        "run-hosts.sh failed (exit {:?})\n{}\n{}",
        recipe.status.code(),
        recipe.stdout,
        recipe.stderr
    );
    let delta = net.server.run(|| server.stats()).since(&before);

    let read = |file: &str| -> ResultFile {
        let text = std::fs::read_to_string(out.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}\nrecipe stderr:\n{}", recipe.stderr));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
    };
    let hosts: Vec<ResultFile> = net
        .hosts
        .iter()
        .map(|h| read(&format!("{}.json", h.name())))
        .collect();
    let merged = read("merged.json");

    // One --start-at for both: their clocks started at the same wall-clock instant.
    let starts: Vec<f64> = hosts.iter().map(|h| h.run.started_at).collect();
    assert_eq!(starts[0], starts[1], "hosts started apart: {starts:?}");
    assert_eq!(merged.run.started_at, starts[0]);
    assert_eq!(merged.sources.as_ref().map(Vec::len), Some(HOSTS));
    assert_eq!(merged.shards.len(), HOSTS);

    // The merge is the sum of the hosts, op for op.
    for op in OpName::ALL {
        let sum: u64 = hosts.iter().map(|h| h.totals.op(op).ops).sum();
        assert_eq!(merged.totals.op(op).ops, sum, "{op}");
    }
    for host in &hosts {
        assert!(host.totals.total.ops > 0);
    }
    // And the server saw exactly what the merge says.
    let as_run = RunResult {
        status: recipe.status,
        stdout: String::new(),
        stderr: recipe.stderr.clone(),
        json: Some(serde_json::to_value(&merged).unwrap()),
        result: Some(merged),
    };
    assert_counts_match(&as_run, &delta);
}
