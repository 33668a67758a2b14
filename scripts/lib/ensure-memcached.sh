# Sourced by scripts/*.sh: installs what the tests need with apt-get when it is missing (quiet,
# idempotent): memcached (SHARDSLAP_MEMCACHED pointing at a binary counts as present), iproute2
# (`ip`, for the multi-host test's network namespaces), util-linux's `script` (a terminal
# for the progress-line test), gcc and libmemcached-dev (the placement tests hold ours
# against libmemcached's) and, with pip, the Python `hdrhistogram` package (an
# HdrHistogram implementation other than ours, which the hdr_tools tests decode results with).
apt_install() {
    echo "$(basename "$0"): installing $* with apt-get" >&2
    local sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    if [ -z "${apt_updated:-}" ]; then
        $sudo_cmd apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

ensure_memcached() {
    if ! command -v memcached >/dev/null 2>&1 && [ -z "${SHARDSLAP_MEMCACHED:-}" ]; then
        apt_install memcached
    fi
}

ensure_test_tools() {
    ensure_memcached
    command -v ip >/dev/null 2>&1 || apt_install iproute2
    command -v script >/dev/null 2>&1 || apt_install bsdutils
    ensure_libmemcached_dev
    ensure_python_hdrhistogram
}

# The placement tests compile a small C program against libmemcached (cc ... -lmemcached).
ensure_libmemcached_dev() {
    command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
    [ -f /usr/include/libmemcached/memcached.h ] || apt_install libmemcached-dev
}

ensure_python_hdrhistogram() {
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-pip
    if ! python3 -c 'import hdrh.histogram, hdrh.log' >/dev/null 2>&1; then
        echo "$(basename "$0"): installing the Python hdrhistogram package with pip" >&2
        python3 -m pip install --quiet hdrhistogram 2>/dev/null ||
            python3 -m pip install --quiet --break-system-packages hdrhistogram
    fi
}
