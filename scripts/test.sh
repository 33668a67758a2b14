#!/usr/bin/env bash
# The project's test command: installs what the tests need, then checks format, lints and runs
# every test against a real memcached. CI (.ci/run) calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# The integration tests start a real memcached, make network namespaces and use a pty.
. scripts/lib/ensure-memcached.sh
ensure_test_tools

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# cargo's last summary line is the doc tests' (often "0 passed"); close with the real total.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
# The same server-agreement tests through the fallback paths: the ring with a receive armed
# per reply (a kernel without provided buffers), then glommio's sockets.
SHARDSLAP_DATA_PATH=ring-oneshot cargo test -p shardslap --test integration --locked 2>&1 | tee -a "$log"
SHARDSLAP_DATA_PATH=glommio cargo test -p shardslap --test integration --locked 2>&1 | tee -a "$log"
awk '/^test result:/ { passed += $4; failed += $6 }
     END { printf "summary: %d passed, %d failed\n", passed, failed }' "$log"
