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
# your own settings appended to nubis.conf), NUBIS_HA (1: the HA topology, below).
#
# NUBIS_HA=1 runs the control plane as a highly available one on this host (doc/ha.md): a 3-node MariaDB
# Galera cluster and a 3-node RabbitMQ cluster with quorum queues (the machine's own MariaDB and RabbitMQ
# are left alone), two memcached, two copies of every API, console proxy, conductor and scheduler, and
# two HAProxy load balancers in network namespaces sharing a virtual IP through keepalived. Clients,
# the catalog and every service reach each other through the virtual IP.
#
# Every process is recorded in $NUBIS_STATE/pids (NAME.pid, and NAME.start to start it again) and the
# whole deployment in $NUBIS_STATE/topology.json.
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
NUBIS_HA=${NUBIS_HA:-0}
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
# shellcheck source=lib/processes.sh
. "$REPO/devstack/lib/processes.sh"
if [ "$NUBIS_HA" = 1 ]; then
    for lib in ha-net galera rabbitmq ha; do
        # shellcheck disable=SC1090
        . "$REPO/devstack/lib/$lib.sh"
    done
fi

# -- system packages -----------------------------------------------------------
PACKAGES="mariadb-server rabbitmq-server memcached qemu-system-x86 qemu-utils libvirt-daemon-system
  libvirt-dev pkg-config dnsmasq-base iproute2 iptables python3-venv python3-dev gcc genisoimage curl"
[ "$NUBIS_HA" = 1 ] && PACKAGES+=" galera-4 rsync haproxy keepalived"
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
if [ "$NUBIS_HA" != 1 ]; then
    start_infra mariadb 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    start_infra rabbitmq 5672 rabbitmq-server -detached
    start_infra memcached 11211 memcached -d -u memcache -l 127.0.0.1 -p 11211 -P "$NUBIS_STATE/memcached.pid"
fi

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
VHOST=nubis$SUFFIX
if [ "$NUBIS_HA" = 1 ]; then
    say "Starting the HA backing services: Galera, RabbitMQ and memcached clusters"
    ha_net_up
    GALERA_DB_USER=nubis GALERA_DB_PASSWORD=$DB_PASSWORD galera_up
    RABBIT_HA_VHOST=$VHOST RABBIT_HA_USER=nubis RABBIT_HA_PASSWORD=$RABBIT_PASSWORD rabbit_up
    ha_memcached_up
    # The Nubis account (from the balancers' addresses) is Galera's own: galera_up made it.
    db_create() { galera_sql 1 "CREATE DATABASE IF NOT EXISTS $1 CHARACTER SET utf8mb4"; }
    DB_HOST=$HA_VIP
    TRANSPORT_URL=$(RABBIT_HA_VHOST=$VHOST RABBIT_HA_USER=nubis RABBIT_HA_PASSWORD=$RABBIT_PASSWORD rabbit_transport_url)
    MEMCACHE_SERVERS=$(ha_memcached_servers)
    PUBLIC_HOST=$HA_VIP
else
    say "Creating databases and the RabbitMQ account"
    db_create() {
        mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS $1 CHARACTER SET utf8mb4;
            CREATE USER IF NOT EXISTS 'nubis'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
            ALTER USER 'nubis'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
            GRANT ALL PRIVILEGES ON $1.* TO 'nubis'@'127.0.0.1';"
    }
    rabbitmqctl add_vhost "$VHOST" >/dev/null 2>&1 || true
    rabbitmqctl add_user nubis "$RABBIT_PASSWORD" >/dev/null 2>&1 ||
        rabbitmqctl change_password nubis "$RABBIT_PASSWORD" >/dev/null
    rabbitmqctl set_permissions -p "$VHOST" nubis ".*" ".*" ".*" >/dev/null
    DB_HOST=127.0.0.1
    TRANSPORT_URL=rabbit://nubis:$RABBIT_PASSWORD@127.0.0.1:5672/$VHOST
    MEMCACHE_SERVERS=127.0.0.1:11211
    PUBLIC_HOST=$NUBIS_HOST
fi
while read -r name script port db; do
    [ "$db" = - ] && continue
    db_create "nubis_${db}${SUFFIX}"
done <<< "$SERVICES"

# -- configuration -------------------------------------------------------------------
say "Writing $CONF"
AUTH_URL=http://$PUBLIC_HOST:$((5000 + NUBIS_PORT_OFFSET))/v3
umask 077
cat > "$CONF" <<EOF
# Written by devstack/stack.sh.
[DEFAULT]
state_path = $NUBIS_STATE
transport_url = $TRANSPORT_URL

[database]
connection = mysql+pymysql://nubis:$DB_PASSWORD@$DB_HOST/nubis_{service}$SUFFIX

[cache]
enabled = true
backend = dogpile.cache.pymemcache
memcache_servers = $MEMCACHE_SERVERS

[keystone_authtoken]
www_authenticate_uri = $AUTH_URL
auth_url = $AUTH_URL
auth_type = password
username = nubis
password = $SERVICE_PASSWORD
project_name = service
user_domain_id = default
project_domain_id = default
memcached_servers = $MEMCACHE_SERVERS

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
metadata_url = http://$PUBLIC_HOST:$((8775 + NUBIS_PORT_OFFSET))

[vnc]
# nubis-novncproxy; noVNC's client is served from Debian's novnc package (/usr/share/novnc) when installed.
novncproxy_host = $NUBIS_HOST
novncproxy_port = $((6080 + NUBIS_PORT_OFFSET))
novncproxy_base_url = http://$PUBLIC_HOST:$((6080 + NUBIS_PORT_OFFSET))/vnc_auto.html

[spice]
# nubis-spicehtml5proxy; consoles are offered once [spice] enabled = true (a qemu built with SPICE).
html5proxy_host = $NUBIS_HOST
html5proxy_port = $((6082 + NUBIS_PORT_OFFSET))
html5proxy_base_url = http://$PUBLIC_HOST:$((6082 + NUBIS_PORT_OFFSET))/spice_auto.html

[serial_console]
serialproxy_host = $NUBIS_HOST
serialproxy_port = $((6083 + NUBIS_PORT_OFFSET))
base_url = ws://$PUBLIC_HOST:$((6083 + NUBIS_PORT_OFFSET))/
EOF
if [ "$NUBIS_HA" = 1 ]; then
    rabbit_conf_snippet >> "$CONF"
    for copy in $(seq 1 "$HA_COPIES"); do ha_copy_conf "$copy" > "$NUBIS_CONF_DIR/copy-$copy.conf"; done
fi
# Your own settings (devstack's local.conf): appended last, so they win.
if [ -n "${NUBIS_LOCAL_CONF:-}" ]; then
    cat "$NUBIS_LOCAL_CONF" >> "$CONF"
fi
while read -r name script port db; do
    [ "$port" = - ] && continue
    printf '\n[%s]\nbind_host = %s\nbind_port = %s\n' "${name//-/_}" "$NUBIS_HOST" "$((port + NUBIS_PORT_OFFSET))" >> "$CONF"
done <<< "$SERVICES"
umask 022

if [ "$NUBIS_HA" = 1 ]; then
    say "Starting the load balancers (virtual IP $HA_VIP)"
    ha_lb_up
fi

say "Syncing database schemas"
"$NUBIS_VENV/bin/nubis-manage" --config-file "$CONF" db sync
# The image service's metadata definitions catalog (as devstack loads Glance's): namespaces already there are kept.
"$NUBIS_VENV/bin/nubis-manage" --config-file "$CONF" image metadefs load >>"$LOGS/metadefs-load.log"
# Exit 1 (a warning: e.g. computes of an earlier run recorded another build) is for the log; 2 stops.
check_rc=0
"$NUBIS_VENV/bin/nubis-status" --config-file "$CONF" upgrade check >"$LOGS/upgrade-check.log" 2>&1 || check_rc=$?
[ "$check_rc" -lt 2 ] || die "nubis-status upgrade check failed: $LOGS/upgrade-check.log"

# -- processes -----------------------------------------------------------------------
# start_service NAME SCRIPT PORT [COPY]: start a service (again: a running one is stopped first) and, for
# an API, wait until it answers /healthcheck. COPY (HA) picks the copy's own configuration and address.
start_service() {
    local name=$1 script=$2 port=$3 copy=${4:-}
    local proc=$name${copy:+-$copy} host=$NUBIS_HOST args=(--config-file "$CONF")
    if [ -n "$copy" ]; then
        args+=(--config-file "$NUBIS_CONF_DIR/copy-$copy.conf")
        host=$(ha_copy_addr "$copy")
    fi
    stop_launched "$proc"
    launch "$proc" -- "$NUBIS_VENV/bin/$script" "${args[@]}" --log-file "$LOGS/$proc.log"
    if [ "$port" != - ]; then
        local url=http://$host:$((port + NUBIS_PORT_OFFSET))/healthcheck
        for _ in $(seq 1 60); do
            curl -sf -o /dev/null "$url" && return 0
            kill -0 "$(cat "$PIDS/$proc.pid")" 2>/dev/null || break
            sleep 0.5
        done
        die "$proc did not become healthy at $url; see $LOGS/$proc.log and $LOGS/$proc.out"
    fi
}

# Every copy of a service (one, unless NUBIS_HA=1 copies it).
start_copies() {  # NAME SCRIPT PORT
    if [ "$NUBIS_HA" = 1 ] && ha_is_copied "$1"; then
        local copy
        for copy in $(seq 1 "$HA_COPIES"); do start_service "$@" "$copy"; done
    else
        start_service "$@"
    fi
}

say "Starting services"
identity_line=$(grep '^identity ' <<< "$SERVICES" || true)
if [ -n "$identity_line" ]; then
    # Identity first: bootstrapping needs it, and every other API validates tokens with it.
    read -r name script port db <<< "$identity_line"
    start_copies "$name" "$script" "$port"
    "$NUBIS_VENV/bin/nubis-manage" --config-file "$CONF" bootstrap-cloud \
        --admin-password "$ADMIN_PASSWORD" --service-password "$SERVICE_PASSWORD" --public-host "$PUBLIC_HOST"
fi
while read -r name script port db; do
    [ "$name" = identity ] && continue
    start_copies "$name" "$script" "$port"
done <<< "$SERVICES"

# -- the deployment, as the kill tests and operators' tools read it -------------------------
NUBIS_HA=$NUBIS_HA HA_VIP=${HA_VIP:-} HA_COPIES=${HA_COPIES:-1} NUBIS_HA_PREFIX=${NUBIS_HA_PREFIX:-} \
    STATE=$NUBIS_STATE AUTH_URL=$AUTH_URL SERVICES=$SERVICES NUBIS_HOST=$NUBIS_HOST OFFSET=$NUBIS_PORT_OFFSET \
    "$PY" "$REPO/devstack/lib/topology.py" > "$NUBIS_STATE/topology.json"

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
    stop_launched horizon
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
    pids=$(cat "$PIDS/$name.pid" 2>/dev/null || cat "$PIDS/$name"-[0-9].pid | paste -sd,)
    printf '  %-14s pid %-13s %s\n' "$name" "$pids" \
        "$([ "$port" = - ] && echo "(RPC)" || echo "http://$([ "$name" = exporter ] && echo "$NUBIS_HOST" ||
            echo "$PUBLIC_HOST"):$((port + NUBIS_PORT_OFFSET))")"
done <<< "$SERVICES"
[ "$NUBIS_HA" = 1 ] && echo "  HA: virtual IP $HA_VIP held by $(ha_vip_holder); Galera, RabbitMQ, memcached: $NUBIS_STATE/topology.json"
if [ "$NUBIS_HORIZON" = 1 ]; then printf '  %-14s pid %-7s %s\n' horizon "$(cat "$PIDS/horizon.pid")" "http://$NUBIS_HOST:$HORIZON_PORT"; fi
echo "Logs: $LOGS    Config: $CONF"
echo "Use it:  source $NUBIS_STATE/openrc && $NUBIS_VENV/bin/openstack catalog list"
echo "Stop it: $REPO/devstack/unstack.sh"
