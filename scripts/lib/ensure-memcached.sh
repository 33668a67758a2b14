# Sourced by scripts/*.sh: installs memcached with apt-get when it is missing (quiet,
# idempotent). SHARDSLAP_MEMCACHED pointing at a binary counts as present.
ensure_memcached() {
    if command -v memcached >/dev/null 2>&1 || [ -n "${SHARDSLAP_MEMCACHED:-}" ]; then
        return 0
    fi
    echo "$(basename "$0"): installing memcached with apt-get" >&2
    local sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq memcached >/dev/null
}
