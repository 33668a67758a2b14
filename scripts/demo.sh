#!/usr/bin/env bash
# First run for a newcomer: installs memcached when missing, builds the release binary, starts
# memcached on a free loopback port, runs a 10-second benchmark on all cores with periodic
# statistics and a JSON result, shows the report, and stops memcached.
#
# Usage: scripts/demo.sh [extra shardslap options]   (e.g. scripts/demo.sh -c 32)
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/ensure-memcached.sh
ensure_memcached

cargo build --release --quiet

# A free loopback port: one nothing answers on.
port=21211
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done

user_args=()
[ "$(id -u)" -ne 0 ] || user_args=(-u root)
"${SHARDSLAP_MEMCACHED:-memcached}" -l 127.0.0.1 -p "$port" -U 0 -m 1024 -t 2 "${user_args[@]}" &
mc_pid=$!
trap 'kill "$mc_pid" 2>/dev/null; wait "$mc_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done

out_dir=${DEMO_OUT:-target/demo}
mkdir -p "$out_dir"
json="$out_dir/result.json"
echo "demo: memcached on 127.0.0.1:$port; running shardslap for 10 s on all cores" >&2
./target/release/shardslap -s "127.0.0.1:$port" -t 10s -S 1s --json "$json" "$@"
echo
echo "demo: JSON result written to $json ($(wc -c <"$json") bytes)"
