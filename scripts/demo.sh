#!/usr/bin/env bash
# First run for a newcomer: installs memcached when missing, builds the release binary, starts
# memcached on a free loopback port, runs a 10-second benchmark on all cores with periodic
# statistics and a JSON result, shows the report, and stops memcached.
#
# Usage: scripts/demo.sh [extra shardslap options]   (e.g. scripts/demo.sh -c 32)
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/ensure-memcached.sh
. scripts/lib/start-memcached.sh
ensure_memcached

if [[ -x target/release/shardslap ]]; then
    echo "demo: updating the release build (target/release/shardslap)..." >&2
else
    echo "demo: building the release binary target/release/shardslap (first time: about 2 minutes)..." >&2
fi
cargo build --release --quiet
echo "demo: built target/release/shardslap" >&2

start_memcached -m 1024 -t 2
port=$mc_port

out_dir=${DEMO_OUT:-target/demo}
mkdir -p "$out_dir"
json="$out_dir/result.json"
echo "demo: memcached on 127.0.0.1:$port; running shardslap for 10 s on all cores" >&2
./target/release/shardslap -s "127.0.0.1:$port" -t 10s -S 1s --json "$json" "$@"
echo
echo "demo: JSON result written to $json ($(wc -c <"$json") bytes)"
