#!/usr/bin/env bash
# The project's test command: installs what the tests need, then checks format, lints and runs
# every test against a real memcached. CI (.ci/run) calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# The integration tests start a real memcached; install it when missing (quiet, idempotent).
if ! command -v memcached >/dev/null 2>&1 && [ -z "${SHARDSLAP_MEMCACHED:-}" ]; then
    echo "test.sh: installing memcached with apt-get" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq memcached >/dev/null
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
