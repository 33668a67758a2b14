#!/usr/bin/env bash
# A long run that proves memory stays flat: starts its own memcached, runs shardslap for
# MINUTES (default 10) at a paced rate, samples the client's RSS every 10 s, and fails if the
# RSS grows after the first minute (start-up is done by then: windows, value block and
# histograms are all allocated at start) by more than the time series itself takes (one point
# per second, about 1.5 KiB with its two-digit histogram: allowed 2 KiB/s) plus 1 MiB of slack.
# Nothing may grow per operation: at 20k ops/s even 1 byte per op would be 1 MiB a minute.
#
# Usage: scripts/soak.sh [MINUTES] [extra shardslap options]   (default rate: -P 20k)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes="${1:-10}"
case "$minutes" in
    '' | *[!0-9]*) echo "soak.sh: MINUTES must be a whole number, got '$minutes'" >&2; exit 2 ;;
esac
shift || true

. scripts/lib/ensure-memcached.sh
. scripts/lib/start-memcached.sh
ensure_memcached
cargo build --release --quiet
start_memcached -m 256 -t 1

out_dir=${SOAK_OUT:-target/soak}
mkdir -p "$out_dir"
./target/release/shardslap -s "127.0.0.1:$mc_port" -t "${minutes}m" -P 20k -q \
    --json "$out_dir/result.json" "$@" > "$out_dir/report.txt" &
pid=$!

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0; }
samples="$out_dir/rss.tsv"
printf 'elapsed_s\trss_kib\n' > "$samples"
elapsed=0
while kill -0 "$pid" 2>/dev/null; do
    sleep 10
    elapsed=$((elapsed + 10))
    rss=$(rss_kib)
    [ "$rss" -gt 0 ] && printf '%d\t%d\n' "$elapsed" "$rss" >> "$samples"
done
wait "$pid"

awk -F'\t' 'NR > 1 {
        if ($1 <= 60) base = $2
        last = $2
        if ($2 > max) max = $2
        n++
    }
    END {
        if (n == 0) { print "soak.sh: no RSS samples"; exit 1 }
        growth = last - base
        secs = (n * 10) - 60
        per_s = secs > 0 ? growth / secs : 0
        printf "soak: %d samples; RSS after 1 min %.1f MiB, at the end %.1f MiB, max %.1f MiB, growth %+.2f MiB (%.2f KiB per second of run)\n",
            n, base / 1024, last / 1024, max / 1024, growth / 1024, per_s
        if (growth > 1024 + 2 * secs) { print "soak.sh: RSS grew by more than the time series takes"; exit 1 }
    }' "$samples"
grep -E '^Run time|^cmd_get|^cmd_set' "$out_dir/report.txt" || true
