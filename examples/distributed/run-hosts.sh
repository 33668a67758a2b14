#!/usr/bin/env bash
# Runs shardslap on several load-generating hosts at once, all starting their clocks at the same
# wall-clock instant, collects each host's JSON and merges them (docs/distributed.md).
#
# Usage: run-hosts.sh [-l LAUNCHER] [-a SECONDS_AHEAD] -o OUTDIR HOST... -- SHARDSLAP_ARGS...
#   -l LAUNCHER       how to run a command on a host; the host name is appended, then the
#                     command: default "ssh" (so `ssh HOST shardslap ...`); the tests use
#                     "ip netns exec" to treat network namespaces as hosts.
#   -a SECONDS_AHEAD  how far ahead --start-at is set, to leave every host time to start and
#                     connect (default 10).
#   -o OUTDIR         where HOST.json, HOST.log and merged.json go.
# Environment: SHARDSLAP (the binary on the hosts, default "shardslap"), SHARDSLAP_LOCAL (the
# binary here that merges, default "$SHARDSLAP").
#
# Each host writes its JSON to stdout (--json -), which comes back over the launcher, and its
# text report to HOST.log. The hosts' clocks must agree (NTP/chrony): --start-at is only as
# aligned as they are.
set -euo pipefail

launcher="ssh"
ahead=10
outdir=""
while getopts "l:a:o:" opt; do
    case "$opt" in
        l) launcher="$OPTARG" ;;
        a) ahead="$OPTARG" ;;
        o) outdir="$OPTARG" ;;
        *) echo "usage: $0 [-l LAUNCHER] [-a SECONDS] -o OUTDIR HOST... -- ARGS..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
hosts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    hosts+=("$1")
    shift
done
[ "${1:-}" = "--" ] && shift
if [ -z "$outdir" ] || [ "${#hosts[@]}" -eq 0 ]; then
    echo "usage: $0 [-l LAUNCHER] [-a SECONDS] -o OUTDIR HOST... -- ARGS..." >&2
    exit 2
fi
shardslap="${SHARDSLAP:-shardslap}"
local_shardslap="${SHARDSLAP_LOCAL:-$shardslap}"
mkdir -p "$outdir"

start_at=$(( $(date +%s) + ahead ))
echo "run-hosts: ${#hosts[@]} hosts, start at $start_at (in ${ahead}s)" >&2
read -r -a launch <<< "$launcher"
pids=()
for host in "${hosts[@]}"; do
    # ssh joins its arguments into one remote shell line: quote each one for that shell.
    cmd=$(printf '%q ' "$shardslap" "$@" --start-at "$start_at" --json - -q)
    if [ "${launch[0]}" = ssh ]; then
        "${launch[@]}" "$host" "$cmd" > "$outdir/$host.json" 2> "$outdir/$host.log" &
    else
        "${launch[@]}" "$host" "$shardslap" "$@" --start-at "$start_at" --json - -q \
            > "$outdir/$host.json" 2> "$outdir/$host.log" &
    fi
    pids+=("$!")
done

failed=0
for i in "${!hosts[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "run-hosts: ${hosts[$i]} failed; its log:" >&2
        sed 's/^/  /' "$outdir/${hosts[$i]}.log" >&2
        failed=1
    fi
done
[ "$failed" -eq 0 ] || exit 1

files=()
for host in "${hosts[@]}"; do files+=("$outdir/$host.json"); done
"$local_shardslap" merge "${files[@]}" -o "$outdir/merged.json"
echo "run-hosts: merged into $outdir/merged.json" >&2
