# Sourced by scripts/*.sh: start_memcached [memcached options] starts memcached on a free
# loopback port (one nothing answers on), waits until it answers, stops it on exit, and sets
# mc_port and mc_pid.
start_memcached() {
    mc_port=21211
    while (exec 3<>"/dev/tcp/127.0.0.1/$mc_port") 2>/dev/null; do mc_port=$((mc_port + 1)); done
    local user_args=()
    [ "$(id -u)" -ne 0 ] || user_args=(-u root)
    "${SHARDSLAP_MEMCACHED:-memcached}" -l 127.0.0.1 -p "$mc_port" -U 0 "${user_args[@]}" "$@" &
    mc_pid=$!
    trap 'kill "$mc_pid" 2>/dev/null; wait "$mc_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$mc_port") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "$(basename "$0"): memcached did not answer on 127.0.0.1:$mc_port" >&2
    return 1
}
