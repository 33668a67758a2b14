#!/usr/bin/env bash
# The project's test command: installs what the tests need, then checks format, lints and runs
# every test against a real memcached. CI (.ci/run) calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# The integration tests start a real memcached.
. scripts/lib/ensure-memcached.sh
ensure_memcached

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
