#!/usr/bin/env bash
# A long run that proves memory stays flat: starts its own memcached, runs shardslap for
# MINUTES (default 10) at a paced rate with -S 1s, streaming the time series to disk
# (--timeseries) and writing an HdrHistogram log (--hdr-log), samples the client's RSS every
# 10 s, and fails if the RSS grows after the first minute (start-up is done by then: windows,
# value block and histograms are all allocated at start) by more than 1 MiB, or if the
# streamed series is not complete (one point per second, as many as the result says).
# Nothing may grow per operation or per period: at 20k ops/s even 1 byte per op would be
# 1 MiB a minute, and a kept time series 1.5 KiB a second.
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
series="$out_dir/timeseries.jsonl"
./target/release/shardslap -s "127.0.0.1:$mc_port" -t "${minutes}m" -P 20k -q -S 1s \
    --timeseries "$series" --hdr-log "$out_dir/run.hlog" \
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
        if (growth > 1024) { print "soak.sh: RSS grew by more than 1 MiB after the first minute"; exit 1 }
    }' "$samples"

# The streamed series is complete: a point per second (and maybe a short last one), and the
# result embeds it or names it with the same count.
points=$(wc -l < "$series")
expected=$((minutes * 60))
if [ "$points" -lt "$expected" ] || [ "$points" -gt $((expected + 1)) ]; then
    echo "soak.sh: $series has $points points, expected $expected (or one more)" >&2
    exit 1
fi
python3 - "$out_dir/result.json" "$points" <<'PY'
import json, sys
result, points = json.load(open(sys.argv[1])), int(sys.argv[2])
named = result.get("timeseries_file", {}).get("points")
embedded = len(result["timeseries"])
if (named or embedded) != points:
    sys.exit(f"soak.sh: the result has {named or embedded} points, the file {points}")
print(f"soak: time series complete, {points} points ({'named' if named else 'embedded'})")
PY
grep -E '^Run time|^cmd_get|^cmd_set' "$out_dir/report.txt" || true
