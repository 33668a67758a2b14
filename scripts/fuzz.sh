#!/usr/bin/env bash
# Fuzzes the protocol decoders (crates/proto/fuzz) and the -F config parser
# (crates/workload/fuzz) with cargo-fuzz / libFuzzer.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
#   FUZZ_TARGETS="ascii_decode cfg_parse" scripts/fuzz.sh 30   runs only those targets.
#
# Installs cargo-fuzz when missing. cargo-fuzz passes nightly-only flags (-Zsanitizer=address);
# the machine has only a stable toolchain, so RUSTC_BOOTSTRAP=1 lets stable rustc accept them.
# Each target runs for the bounded time; a crash stops the script with a non-zero exit and the
# reproducer in <fuzz dir>/artifacts/<target>/ (replay: cargo fuzz run <target> <file>).
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in
    '' | *[!0-9]*) echo "fuzz.sh: SECONDS_PER_TARGET must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac
targets="${FUZZ_TARGETS:-ascii_decode binary_decode udp_reassemble cfg_parse}"
root="$(cd "$(dirname "$0")/.." && pwd)"

# Where each target lives, and the dictionary it uses (if any).
fuzz_dir() {
    case "$1" in
        cfg_parse) echo "$root/crates/workload/fuzz" ;;
        *) echo "$root/crates/proto/fuzz" ;;
    esac
}
fuzz_dict() {
    case "$1" in
        ascii_decode) echo "-dict=ascii.dict" ;;
        cfg_parse) echo "-dict=cfg.dict" ;;
    esac
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz with cargo install" >&2
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1

summary=""
for target in $targets; do
    cd "$(fuzz_dir "$target")"
    cargo fuzz build "$target"
    mkdir -p "corpus/$target"
    extra=()
    dict="$(fuzz_dict "$target")"
    [ -n "$dict" ] && extra+=("$dict")
    log="$(mktemp)"
    echo "fuzz.sh: $target for ${seconds}s" >&2
    # New inputs go to corpus/<target> (first dir); seeds/<target> is read-only input.
    if ! cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 "${extra[@]}" 2>&1 | tee "$log" >&2; then
        echo "fuzz.sh: $target FAILED; reproducer under $(pwd)/artifacts/$target/" >&2
        rm -f "$log"
        exit 1
    fi
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
    speed="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')"
    rm -f "$log"
    summary+="$target: ${seconds}s, ${execs:-?} execs (${speed:-?}/s), cov ${cov:-?}, no crash"$'\n'
done
printf '%s' "$summary"
