#!/usr/bin/env bash
# Stop what devstack/stack.sh started: the Nubis processes (by their pid files)
# and only those backing services (MariaDB, RabbitMQ, memcached) that stack.sh
# itself had to start.
#
#   devstack/unstack.sh            stop
#   devstack/unstack.sh --purge    also drop the databases, the RabbitMQ account,
#                                  the state directory and the config file
set -euo pipefail

NUBIS_STATE=${NUBIS_STATE:-/var/lib/nubis-devstack}
NUBIS_CONF_DIR=${NUBIS_CONF_DIR:-/etc/nubis}
NUBIS_PORT_OFFSET=${NUBIS_PORT_OFFSET:-0}
SUFFIX=$([ "$NUBIS_PORT_OFFSET" = 0 ] && echo "" || echo "_$NUBIS_PORT_OFFSET")
PURGE=0
[ "${1:-}" = --purge ] && PURGE=1

# shellcheck source=lib/processes.sh
. "$(dirname "$0")/lib/processes.sh"  # stop_pid

# Nubis's own processes first, then (HA) the balancers, then the clusters they used.
if [ -d "$NUBIS_STATE/pids" ]; then
    for pattern in '*' 'lb-*' 'memcached-*' 'rabbit-*' 'galera-*'; do
        for pidfile in "$NUBIS_STATE"/pids/$pattern.pid; do
            [ -e "$pidfile" ] || continue
            name=$(basename "$pidfile" .pid)
            case $pattern:$name in '*:'lb-* | '*:'memcached-* | '*:'rabbit-* | '*:'galera-*) continue ;; esac
            stop_pid "$(cat "$pidfile" 2>/dev/null || true)" "$name"
            rm -f "$pidfile"
        done
    done
fi
# The HA topology's bridge and namespaces, when this stack was an HA one (its balancers' directory).
if [ -d "$NUBIS_STATE/lb" ]; then
    # shellcheck source=lib/ha-net.sh
    . "$(dirname "$0")/lib/ha-net.sh"
    ha_net_down
fi

if [ -f "$NUBIS_STATE/infra-started" ]; then
    while read -r name; do
        case $name in
            memcached) [ -f "$NUBIS_STATE/memcached.pid" ] && stop_pid "$(cat "$NUBIS_STATE/memcached.pid")" memcached ;;
            rabbitmq) echo "stopping rabbitmq"; rabbitmqctl stop >/dev/null 2>&1 || true ;;
            mariadb) pid=$(pgrep -xo mariadbd || true); [ -n "$pid" ] && stop_pid "$pid" mariadb ;;
        esac
    done < "$NUBIS_STATE/infra-started"
    : > "$NUBIS_STATE/infra-started"
fi

if [ $PURGE = 1 ]; then
    if (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
        for db in $(mariadb -uroot -N -e "SHOW DATABASES LIKE 'nubis\\_%'" | grep -E "^nubis_[a-z]+${SUFFIX}\$" || true); do
            echo "dropping database $db"
            mariadb -uroot -e "DROP DATABASE \`$db\`"
        done
    fi
    if (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
        rabbitmqctl delete_vhost "nubis$SUFFIX" >/dev/null 2>&1 || true
    fi
    rm -rf "$NUBIS_STATE" "$NUBIS_CONF_DIR/nubis.conf"
    echo "purged state, config and databases"
fi
