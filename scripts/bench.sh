#!/usr/bin/env bash
# Side-by-side client benchmark: shardslap vs memaslap (`memcaslap`, from libmemcached-tools)
# and memtier_benchmark when it is on the PATH, against a memcached it starts itself, on the
# same workload, alternated round by round so machine noise hits every tool alike. memcached is
# restarted before every measured run, so each tool meets the same empty server (one server
# kept across runs grows by every run, and doubles its hash table in whichever run crosses the
# next threshold).
#
# For each tool it reports ops/s, client CPU µs per op (user and system, from the child's
# rusage), syscalls per op (separate runs counted two ways, each installed when missing: by
# `perf stat`, which does not disturb the count, and by `strace -f -c`, which undercounts a
# client that batches its calls but is how the data path's target was set), memcached's CPU and
# syscalls per request, max RSS and p50/p99. The paced scenario runs shardslap at -P 40000
# (latency from each request's due time) on both data paths; memaslap's -P is a closed-loop
# throttle with no percentiles, so it has no like-for-like there. Output: markdown tables on
# stdout (docs/performance.md holds a copy), with one of
# the data path's targets against the run's medians and, for each ratio to memaslap, the range
# of that ratio over the rounds (how far this machine's noise moves it within one run).
#
# Usage: scripts/bench.sh [--secs N] [--rounds N] [--server-cpu N] [--client-cpus LIST]
#                         [--scenarios default,pipeline,paced,tls,scaling]
# Defaults: 10 s per run, 3 rounds, memcached on CPU 0, clients on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/ensure-memcached.sh
ensure_memcached
command -v perf >/dev/null 2>&1 || apt_install linux-perf || true
command -v strace >/dev/null 2>&1 || apt_install strace || true
cargo build --release --quiet
exec python3 scripts/lib/bench.py "$@"
