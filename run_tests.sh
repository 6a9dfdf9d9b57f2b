#!/usr/bin/env bash
# Install everything the tests need, start the backing services, run the tests.
#   ./run_tests.sh                 all tests (e2e too when run as root); ruff and mypy always run first
#   ./run_tests.sh tests/unit -x   any pytest arguments
# A run without arguments (as CI's) also builds the sdist and wheel and checks
# that the installed wheel runs (tools/check_wheel.py), and runs Tempest's interop
# tests against an all-in-one (tools/tempest); NUBIS_CHECK_WHEEL=1|0 and
# NUBIS_TEMPEST_INTEROP=1|0 force either on or off.
# Tests always run on SQLite and the in-process transport; they also run on
# MariaDB, PostgreSQL and RabbitMQ when those answer on 127.0.0.1 (with
# NUBIS_REQUIRE_BACKENDS=1, as CI sets, a missing one is an error). NUBIS_TEST_BACKEND_MATRIX=spread
# (CI's) runs each such test on SQLite and on one server database instead of on all of them.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=${NUBIS_VENV:-$ROOT/.venv}
SYSTEM_PACKAGES="memcached qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-dev pkg-config
  dnsmasq-base iproute2 iptables busybox-static genisoimage python3-venv prometheus iperf3 chromium chromium-driver"

say() { printf '==> %s\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
is_root() { [ "$(id -u)" = 0 ]; }

install_system_packages() {
    is_root || { say "not root: skipping system packages (and e2e tests)"; return; }
    local missing=()
    for pkg in $SYSTEM_PACKAGES; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# start_if_down NAME PORT COMMAND...: start a daemon only when its port is closed.
start_if_down() {
    local name=$1 port=$2; shift 2
    port_open "$port" && return 0
    if is_root && command -v "$1" >/dev/null 2>&1; then
        say "starting $name"
        "$@" >/dev/null 2>&1 || true
        for _ in $(seq 1 60); do port_open "$port" && return 0; sleep 1; done
    fi
    return 1
}

start_backing_services() {
    DB_URLS=()
    if start_if_down MariaDB 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd; then
        DB_URLS+=("mysql+pymysql://root@127.0.0.1:3306")
    fi
    if start_if_down PostgreSQL 5432 pg_ctlcluster --skip-systemctl-redirect \
            "$(ls /etc/postgresql 2>/dev/null | head -n1)" main start; then
        DB_URLS+=("postgresql://postgres@127.0.0.1:5432")
    fi
    TRANSPORT_URL=""
    if start_if_down RabbitMQ 5672 rabbitmq-server -detached; then
        TRANSPORT_URL="rabbit://guest:guest@127.0.0.1:5672/"
    fi
    start_if_down memcached 11211 memcached -d -u memcache -l 127.0.0.1 -p 11211 || true
    if [ "${NUBIS_REQUIRE_BACKENDS:-0}" = 1 ]; then
        [ ${#DB_URLS[@]} = 2 ] || { echo "MariaDB and PostgreSQL must both be reachable" >&2; exit 1; }
        [ -n "$TRANSPORT_URL" ] || { echo "RabbitMQ must be reachable" >&2; exit 1; }
        port_open 11211 || { echo "memcached must be reachable" >&2; exit 1; }
    fi
    export NUBIS_TEST_DB_URLS=$(IFS=,; echo "${DB_URLS[*]}")
    export NUBIS_TEST_TRANSPORT_URL=$TRANSPORT_URL
    port_open 11211 && export NUBIS_TEST_MEMCACHED=127.0.0.1:11211 || true
    say "databases: ${NUBIS_TEST_DB_URLS:-sqlite only} (matrix: ${NUBIS_TEST_BACKEND_MATRIX:-full}); transport: ${NUBIS_TEST_TRANSPORT_URL:-in-process only}"
}

# Huge pages for the pinned + hugepage guest tests: 2 MiB pages, hugetlbfs mounted where libvirt looks.
# libvirt finds hugetlbfs only when it starts, so a libvirtd this script started earlier is restarted.
HUGEPAGES=${NUBIS_TEST_HUGEPAGES:-256}
setup_hugepages() {
    local mounted=1
    [ "$(cat /proc/sys/vm/nr_hugepages)" -ge "$HUGEPAGES" ] || echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages
    if ! grep -q " /dev/hugepages hugetlbfs " /proc/mounts; then
        mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages && mounted=0
    fi
    if [ $mounted = 0 ] && [ -s /var/run/libvirtd.pid ] && kill -0 "$(cat /var/run/libvirtd.pid)" 2>/dev/null; then
        say "restarting libvirt (hugetlbfs is new)"
        kill "$(cat /var/run/libvirtd.pid)"
        for _ in $(seq 1 30); do virsh -c qemu:///system version >/dev/null 2>&1 || break; sleep 1; done
    fi
}

start_libvirt() {
    is_root || return 0
    command -v libvirtd >/dev/null 2>&1 || return 0
    setup_hugepages
    if ! virsh -c qemu:///system version >/dev/null 2>&1; then
        say "starting libvirt"
        pgrep -x virtlogd >/dev/null || virtlogd -d
        libvirtd -d
        for _ in $(seq 1 30); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
    fi
}

install_python() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        python3 -m venv "$VENV"
    fi
    say "installing nubis and test dependencies"
    # pip's output goes to a log, shown only when the install fails.
    local log="$VENV/pip-install.log"
    if ! { "$VENV/bin/pip" install -q --upgrade pip && "$VENV/bin/pip" install -q -e ".[test]"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "installing the Python dependencies failed (log: $log)" >&2
        exit 1
    fi
}

install_system_packages
start_backing_services
start_libvirt
install_python

say "lint (ruff)"
"$VENV/bin/ruff" check nubis tests tools
# Types: settings in pyproject.toml; the cache (.mypy_cache/, gitignored) makes a re-run quick.
say "types (mypy)"
"$VENV/bin/mypy"

wheel_status=0
if [ "${NUBIS_CHECK_WHEEL:-$([ $# = 0 ] && echo 1 || echo 0)}" = 1 ]; then
    say "wheel check (build, install in a clean venv, db sync, all-in-one)"
    "$VENV/bin/python" -m tools.check_wheel || wheel_status=$?
fi

# Conformance: Tempest (pinned, its own venv) runs the tests the OpenStack interop guideline requires of
# identity, image, compute and network against a fresh all-in-one (see doc/tempest.md).
tempest_status=0
run_interop_tempest() {
    say "tempest: interop guideline 2020.06 (OpenStack Powered Compute), against an all-in-one"
    "$VENV/bin/python" -m tools.tempest --workdir "$ROOT/.tempest-ci" run --interop 2020.06 || tempest_status=$?
}

markers=()
# A whole HA devstack under test takes longer than CI allows: tox -e ha (or -m ha_deploy here) runs those.
if is_root; then markers=(-m "not ha_deploy"); else markers=(-m "not e2e"); fi
# A whole run (as CI's) lists its slowest tests: where the wall time goes is visible in every CI log.
[ $# = 0 ] && markers+=(--durations=40)
say "pytest"
set +e
"$VENV/bin/python" -m pytest -p no:cacheprovider "${markers[@]}" "$@"
status=$?
set -e
if [ $status = 5 ]; then
    echo "pytest collected no tests: that is a failure, not a pass" >&2
    exit 1
fi
if [ $wheel_status != 0 ]; then
    echo "the wheel check failed (output above)" >&2
    [ $status = 0 ] && status=$wheel_status
fi
if [ "${NUBIS_TEMPEST_INTEROP:-$([ $# = 0 ] && echo 1 || echo 0)}" = 1 ]; then
    run_interop_tempest
    if [ $tempest_status != 0 ]; then
        echo "Tempest's interop tests failed (table above; .tempest-ci/summary.json)" >&2
        [ $status = 0 ] && status=$tempest_status
    fi
fi
exit $status
