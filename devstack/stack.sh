#!/usr/bin/env bash
# Install and start Nubis as a multi-process cloud on this Debian 12 host:
# MariaDB, RabbitMQ and memcached as the real backing services, and every Nubis
# service as its own process (pid and log files under $NUBIS_STATE). No systemd.
#
#   sudo devstack/stack.sh            # then: source $NUBIS_STATE/openrc
#   sudo devstack/unstack.sh          # stops exactly what this started
#
# Knobs (environment): NUBIS_STATE (/var/lib/nubis-devstack), NUBIS_CONF_DIR
# (/etc/nubis), NUBIS_VENV (/opt/nubis/venv), NUBIS_HOST (127.0.0.1),
# NUBIS_PORT_OFFSET (0: default ports), NUBIS_VIRT (fake|libvirt), NUBIS_LOCAL_CONF (a file of
# your own settings appended to nubis.conf).
# Running it again is safe: it restarts the Nubis services with the same state.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NUBIS_STATE=${NUBIS_STATE:-/var/lib/nubis-devstack}
NUBIS_CONF_DIR=${NUBIS_CONF_DIR:-/etc/nubis}
NUBIS_VENV=${NUBIS_VENV:-/opt/nubis/venv}
NUBIS_HOST=${NUBIS_HOST:-127.0.0.1}
NUBIS_PORT_OFFSET=${NUBIS_PORT_OFFSET:-0}
NUBIS_VIRT=${NUBIS_VIRT:-fake}
NUBIS_HORIZON=${NUBIS_HORIZON:-0}
HORIZON_VENV=${HORIZON_VENV:-/opt/nubis/horizon-venv}
HORIZON_PORT=$((8070 + NUBIS_PORT_OFFSET))
HORIZON_CONSOLE_TYPE=${HORIZON_CONSOLE_TYPE:-AUTO}
CONF=$NUBIS_CONF_DIR/nubis.conf
PIDS=$NUBIS_STATE/pids
LOGS=$NUBIS_STATE/logs
# The RabbitMQ vhost and DB names carry the port offset so two stacks can share a host.
SUFFIX=$([ "$NUBIS_PORT_OFFSET" = 0 ] && echo "" || echo "_$NUBIS_PORT_OFFSET")

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'stack.sh: %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 "${2:-60}"); do port_open "$1" && return 0; sleep 1; done; return 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts daemons)"
mkdir -p "$NUBIS_STATE" "$PIDS" "$LOGS" "$NUBIS_CONF_DIR"
chmod 700 "$NUBIS_STATE"

# -- system packages -----------------------------------------------------------
PACKAGES="mariadb-server rabbitmq-server memcached qemu-system-x86 qemu-utils libvirt-daemon-system
  libvirt-dev pkg-config dnsmasq-base iproute2 iptables python3-venv python3-dev gcc genisoimage curl"
missing=()
for pkg in $PACKAGES; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
    say "Installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# -- backing services: start only what is down, and remember what we started ----
started_infra=$NUBIS_STATE/infra-started
touch "$started_infra"
start_infra() {  # NAME PORT COMMAND...
    local name=$1 port=$2; shift 2
    if port_open "$port"; then return 0; fi
    say "Starting $name"
    "$@" >/dev/null 2>&1 || true
    wait_port "$port" 90 || die "$name did not start (port $port)"
    grep -qx "$name" "$started_infra" || echo "$name" >> "$started_infra"
}
start_infra mariadb 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
start_infra rabbitmq 5672 rabbitmq-server -detached
start_infra memcached 11211 memcached -d -u memcache -l 127.0.0.1 -p 11211 -P "$NUBIS_STATE/memcached.pid"

# -- Python ------------------------------------------------------------------------
if [ ! -x "$NUBIS_VENV/bin/nubis" ]; then
    say "Installing Nubis into $NUBIS_VENV"
    mkdir -p "$(dirname "$NUBIS_VENV")"
    python3 -m venv "$NUBIS_VENV"
    "$NUBIS_VENV/bin/pip" install -q --upgrade pip >"$LOGS/pip.log" 2>&1
    "$NUBIS_VENV/bin/pip" install -q -e "$REPO[libvirt]" >>"$LOGS/pip.log" 2>&1 || die "pip install failed: $LOGS/pip.log"
fi
PY=$NUBIS_VENV/bin/python

# One line per service: name console_script port(or -) database(or -)
SERVICES=$("$PY" - <<'EOF'
from nubis import services
for name in services.available():
    s = services.load(name)
    db = s.migration_repo().service if s.migration_repo else "-"
    # The exporter is no API but serves HTTP (/metrics, /healthcheck) on [exporter] bind_host:bind_port.
    port = s.port if s.build_api or name == "exporter" else "-"
    print(name, s.console_script, port, db)
EOF
)
[ -n "$SERVICES" ] || die "no Nubis services found in $REPO"

# -- secrets (made once, kept in the state dir) -----------------------------------
SECRETS=$NUBIS_STATE/secrets.env
if [ ! -f "$SECRETS" ]; then
    umask 077
    {
        for var in DB_PASSWORD RABBIT_PASSWORD ADMIN_PASSWORD SERVICE_PASSWORD METADATA_SECRET; do
            echo "$var=$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
        done
    } > "$SECRETS"
    umask 022
fi
grep -q '^HORIZON_SECRET_KEY=' "$SECRETS" ||  # secrets of a stack made before Horizon was offered
    echo "HORIZON_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_hex(32))')" >> "$SECRETS"
# shellcheck disable=SC1090
. "$SECRETS"

# -- databases and the message broker ---------------------------------------------
say "Creating databases and the RabbitMQ account"
while read -r name script port db; do
    [ "$db" = - ] && continue
    mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS nubis_${db}${SUFFIX} CHARACTER SET utf8mb4;
        CREATE USER IF NOT EXISTS 'nubis'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
        ALTER USER 'nubis'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
        GRANT ALL PRIVILEGES ON nubis_${db}${SUFFIX}.* TO 'nubis'@'127.0.0.1';"
done <<< "$SERVICES"
VHOST=nubis$SUFFIX
rabbitmqctl add_vhost "$VHOST" >/dev/null 2>&1 || true
rabbitmqctl add_user nubis "$RABBIT_PASSWORD" >/dev/null 2>&1 || rabbitmqctl change_password nubis "$RABBIT_PASSWORD" >/dev/null
rabbitmqctl set_permissions -p "$VHOST" nubis ".*" ".*" ".*" >/dev/null

# -- configuration -------------------------------------------------------------------
say "Writing $CONF"
AUTH_URL=http://$NUBIS_HOST:$((5000 + NUBIS_PORT_OFFSET))/v3
umask 077
cat > "$CONF" <<EOF
# Written by devstack/stack.sh.
[DEFAULT]
state_path = $NUBIS_STATE
transport_url = rabbit://nubis:$RABBIT_PASSWORD@127.0.0.1:5672/$VHOST

[database]
connection = mysql+pymysql://nubis:$DB_PASSWORD@127.0.0.1/nubis_{service}$SUFFIX

[cache]
enabled = true
backend = dogpile.cache.pymemcache
memcache_servers = 127.0.0.1:11211

[keystone_authtoken]
www_authenticate_uri = $AUTH_URL
auth_url = $AUTH_URL
auth_type = password
username = nubis
password = $SERVICE_PASSWORD
project_name = service
user_domain_id = default
project_domain_id = default
memcached_servers = 127.0.0.1:11211

[service_credentials]
auth_type = password
auth_url = $AUTH_URL
username = nubis
password = $SERVICE_PASSWORD
project_name = service
user_domain_id = default
project_domain_id = default
interface = public

[compute]
virt_driver = $NUBIS_VIRT

[metadata]
shared_secret = $METADATA_SECRET

[network_agent]
# Fake guests have no taps to wire; real ones get the Linux data plane. This host runs the routers.
dataplane = $([ "$NUBIS_VIRT" = fake ] && echo noop || echo auto)
l3 = true
metadata_url = http://$NUBIS_HOST:$((8775 + NUBIS_PORT_OFFSET))

[vnc]
# nubis-novncproxy; noVNC's client is served from Debian's novnc package (/usr/share/novnc) when installed.
novncproxy_host = $NUBIS_HOST
novncproxy_port = $((6080 + NUBIS_PORT_OFFSET))
novncproxy_base_url = http://$NUBIS_HOST:$((6080 + NUBIS_PORT_OFFSET))/vnc_auto.html

[spice]
# nubis-spicehtml5proxy; consoles are offered once [spice] enabled = true (a qemu built with SPICE).
html5proxy_host = $NUBIS_HOST
html5proxy_port = $((6082 + NUBIS_PORT_OFFSET))
html5proxy_base_url = http://$NUBIS_HOST:$((6082 + NUBIS_PORT_OFFSET))/spice_auto.html

[serial_console]
serialproxy_host = $NUBIS_HOST
serialproxy_port = $((6083 + NUBIS_PORT_OFFSET))
base_url = ws://$NUBIS_HOST:$((6083 + NUBIS_PORT_OFFSET))/
EOF
# Your own settings (devstack's local.conf): appended last, so they win.
if [ -n "${NUBIS_LOCAL_CONF:-}" ]; then
    cat "$NUBIS_LOCAL_CONF" >> "$CONF"
fi
while read -r name script port db; do
    [ "$port" = - ] && continue
    printf '\n[%s]\nbind_host = %s\nbind_port = %s\n' "${name//-/_}" "$NUBIS_HOST" "$((port + NUBIS_PORT_OFFSET))" >> "$CONF"
done <<< "$SERVICES"
umask 022

say "Syncing database schemas"
"$NUBIS_VENV/bin/nubis-manage" --config-file "$CONF" db sync
# The image service's metadata definitions catalog (as devstack loads Glance's): namespaces already there are kept.
"$NUBIS_VENV/bin/nubis-manage" --config-file "$CONF" image metadefs load >>"$LOGS/metadefs-load.log"
# Exit 1 (a warning: e.g. computes of an earlier run recorded another build) is for the log; 2 stops.
check_rc=0
"$NUBIS_VENV/bin/nubis-status" --config-file "$CONF" upgrade check >"$LOGS/upgrade-check.log" 2>&1 || check_rc=$?
[ "$check_rc" -lt 2 ] || die "nubis-status upgrade check failed: $LOGS/upgrade-check.log"

# -- processes -----------------------------------------------------------------------
stop_service() {  # NAME: stop a service this script started earlier (second run)
    local pidfile=$PIDS/$1.pid
    [ -f "$pidfile" ] || return 0
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

start_service() {  # NAME SCRIPT PORT
    local name=$1 script=$2 port=$3
    stop_service "$name"
    nohup "$NUBIS_VENV/bin/$script" --config-file "$CONF" --log-file "$LOGS/$name.log" \
        >"$LOGS/$name.out" 2>&1 &
    echo $! > "$PIDS/$name.pid"
    if [ "$port" != - ]; then
        local url=http://$NUBIS_HOST:$((port + NUBIS_PORT_OFFSET))/healthcheck
        for _ in $(seq 1 60); do
            curl -sf -o /dev/null "$url" && return 0
            kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null || break
            sleep 0.5
        done
        die "$name did not become healthy at $url; see $LOGS/$name.log and $LOGS/$name.out"
    fi
}

say "Starting services"
identity_line=$(grep '^identity ' <<< "$SERVICES" || true)
if [ -n "$identity_line" ]; then
    # Identity first: bootstrapping needs it, and every other API validates tokens with it.
    read -r name script port db <<< "$identity_line"
    start_service "$name" "$script" "$port"
    "$NUBIS_VENV/bin/nubis-manage" --config-file "$CONF" bootstrap-cloud \
        --admin-password "$ADMIN_PASSWORD" --service-password "$SERVICE_PASSWORD" --public-host "$NUBIS_HOST"
fi
while read -r name script port db; do
    [ "$name" = identity ] && continue
    start_service "$name" "$script" "$port"
done <<< "$SERVICES"

# -- Horizon (NUBIS_HORIZON=1) --------------------------------------------------------
# Horizon as released, in its own venv (made once, and again when its requirements change), its
# static files collected and compressed there; served by gunicorn; sessions and cache in memcached.
if [ "$NUBIS_HORIZON" = 1 ]; then
    HORIZON_REQS=$REPO/devstack/horizon/requirements.txt
    if ! cmp -s "$HORIZON_REQS" "$HORIZON_VENV/nubis-requirements.txt"; then
        say "Installing Horizon into $HORIZON_VENV"
        rm -rf "$HORIZON_VENV"
        python3 -m venv "$HORIZON_VENV"
        { "$HORIZON_VENV/bin/pip" install -q --upgrade pip && "$HORIZON_VENV/bin/pip" install -q -r "$HORIZON_REQS"
        } >"$LOGS/horizon-pip.log" 2>&1 || die "Horizon's pip install failed: $LOGS/horizon-pip.log"
        for step in "collectstatic --noinput" "compress --force"; do
            # shellcheck disable=SC2086
            NUBIS_HORIZON_STATIC_ROOT=$HORIZON_VENV/static DJANGO_SETTINGS_MODULE=openstack_dashboard.settings \
                PYTHONPATH=$REPO/devstack/horizon "$HORIZON_VENV/bin/django-admin" $step -v0 \
                >>"$LOGS/horizon-pip.log" 2>&1 || die "Horizon's $step failed: $LOGS/horizon-pip.log"
        done
        cp "$HORIZON_REQS" "$HORIZON_VENV/nubis-requirements.txt"
    fi
    stop_service horizon
    say "Starting Horizon on port $HORIZON_PORT"
    NUBIS_HORIZON_KEYSTONE_URL=$AUTH_URL NUBIS_HORIZON_SECRET_KEY=$HORIZON_SECRET_KEY \
        NUBIS_HORIZON_MEMCACHED=127.0.0.1:11211 NUBIS_HORIZON_CACHE_PREFIX=horizon$SUFFIX \
        NUBIS_HORIZON_CONSOLE_TYPE=$HORIZON_CONSOLE_TYPE \
        NUBIS_HORIZON_STATIC_ROOT=$HORIZON_VENV/static DJANGO_SETTINGS_MODULE=openstack_dashboard.settings \
        nohup "$HORIZON_VENV/bin/gunicorn" --pythonpath "$REPO/devstack/horizon" --workers 3 --timeout 120 \
        --bind "$NUBIS_HOST:$HORIZON_PORT" --access-logfile - nubis_horizon_wsgi:application \
        >"$LOGS/horizon.log" 2>&1 &
    echo $! > "$PIDS/horizon.pid"
    for _ in $(seq 1 60); do
        curl -sf -o /dev/null "http://$NUBIS_HOST:$HORIZON_PORT/auth/login/" && break
        kill -0 "$(cat "$PIDS/horizon.pid")" 2>/dev/null || die "Horizon did not start; see $LOGS/horizon.log"
        sleep 0.5
    done
    curl -sf -o /dev/null "http://$NUBIS_HOST:$HORIZON_PORT/auth/login/" || die "Horizon did not answer; see $LOGS/horizon.log"
fi

# -- client configuration ------------------------------------------------------------
cat > "$NUBIS_STATE/openrc" <<EOF
export OS_AUTH_URL=$AUTH_URL
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=$ADMIN_PASSWORD
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_ID=default
export OS_PROJECT_DOMAIN_ID=default
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
EOF
chmod 600 "$NUBIS_STATE/openrc"

say "Nubis is running"
while read -r name script port db; do
    printf '  %-14s pid %-7s %s\n' "$name" "$(cat "$PIDS/$name.pid")" \
        "$([ "$port" = - ] && echo "(RPC)" || echo "http://$NUBIS_HOST:$((port + NUBIS_PORT_OFFSET))")"
done <<< "$SERVICES"
if [ "$NUBIS_HORIZON" = 1 ]; then printf '  %-14s pid %-7s %s\n' horizon "$(cat "$PIDS/horizon.pid")" "http://$NUBIS_HOST:$HORIZON_PORT"; fi
echo "Logs: $LOGS    Config: $CONF"
echo "Use it:  source $NUBIS_STATE/openrc && $NUBIS_VENV/bin/openstack catalog list"
echo "Stop it: $REPO/devstack/unstack.sh"
