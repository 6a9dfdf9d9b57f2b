# shellcheck shell=bash
# The HA topology's database (NUBIS_HA=1): a three-node MariaDB Galera cluster, one node per network
# namespace (galera-1..3 at .21 .22 .23 of NUBIS_HA_NET), each with its own data directory, socket,
# pid file and log under $NUBIS_STATE/galera/N. The machine's own MariaDB on 3306 is not touched: each
# node listens on 3306 of its own namespace address only. Clients reach the cluster through HAProxy,
# which sends every connection to one writer (galera_haproxy_backend).
#
# Sourced after ha-net.sh and processes.sh; needs NUBIS_STATE, PIDS and LOGS.
#
# Ports per node (its own address, so the defaults): 3306 SQL, 4567 group communication, 4568 IST,
# 4444 SST (rsync daemon of the joiner).
# Accounts: root through each node's unix socket only; $GALERA_DB_USER (password $GALERA_DB_PASSWORD)
# with every privilege on the databases matching $GALERA_DB_LIKE from any address of NUBIS_HA_NET (the
# load balancers .2 .3, the host .1); haproxy_check, no password, no privilege, for the health checks.

GALERA_DIR=${GALERA_DIR:-$NUBIS_STATE/galera}
GALERA_NODES=${GALERA_NODES:-"1 2 3"}
GALERA_CLUSTER_NAME=${GALERA_CLUSTER_NAME:-nubis}
GALERA_PORT=3306
GALERA_DB_USER=${GALERA_DB_USER:-nubis}
GALERA_DB_PASSWORD=${GALERA_DB_PASSWORD:-}
GALERA_DB_LIKE=${GALERA_DB_LIKE:-nubis\\_%}
GALERA_CHECK_USER=haproxy_check
# Memory: three servers share one development host.
GALERA_BUFFER_POOL=${GALERA_BUFFER_POOL:-96M}
# Large enough that a node away for minutes catches up by IST (the missed write sets) instead of SST.
GALERA_GCACHE=${GALERA_GCACHE:-128M}
GALERA_SYNC_TIMEOUT=${GALERA_SYNC_TIMEOUT:-300}
GALERA_CHECK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/galera-check
# What HAProxy's global section needs for galera_haproxy_backend's external check.
# shellcheck disable=SC2034  # read by the caller that writes haproxy.cfg
GALERA_HAPROXY_GLOBAL=$'    external-check\n    insecure-fork-wanted'

galera_ns() { ha_ns "galera-$1"; }                 # galera_ns 2 -> nha-galera-2
galera_addr() { ha_addr "$((20 + $1))"; }          # galera_addr 2 -> 10.252.0.22
galera_socket() { echo "$GALERA_DIR/$1/mysqld.sock"; }
galera_datadir() { echo "$GALERA_DIR/$1/data"; }
_galera_cnf() { echo "$GALERA_DIR/$1/my.cnf"; }

# galera_sql N SQL: run SQL as root on node N through its socket; tab-separated rows, no header.
galera_sql() {
    mariadb --no-defaults --socket="$(galera_socket "$1")" -uroot --batch --skip-column-names -e "$2"
}

# galera_status N VARIABLE: a global status value of node N (empty when the node does not answer).
galera_status() {
    galera_sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2 || true
}

# galera_running N: whether node N's recorded process is alive.
galera_running() {
    local pid
    pid=$(cat "$PIDS/galera-$1.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

_galera_write_cnf() {
    local n=$1 node peers="" donors="" dir=$GALERA_DIR/$1 addr
    addr=$(galera_addr "$n")
    for node in $GALERA_NODES; do
        peers+="${peers:+,}$(galera_addr "$node")"
        [ "$node" = "$n" ] || donors="galera-$node${donors:+,}$donors"
    done
    mkdir -p "$dir/data" "$LOGS"
    # Root, like the rest of the development stack: $NUBIS_STATE may sit under a directory the mysql
    # user cannot enter (a test's private tmp), and the SST scripts run as the server's user.
    cat > "$dir/my.cnf" <<EOF
# galera-$n of the Nubis HA devstack (written by devstack/lib/galera.sh)
[mysqld]
user = root
datadir = $dir/data
socket = $dir/mysqld.sock
pid-file = $dir/mysqld.pid
log-error = $LOGS/galera-$n.log
bind-address = $addr
port = $GALERA_PORT
# Namespaces have no resolver; a reverse lookup per connection would stall every login.
skip-name-resolve
# HAProxy's checks open a connection a second from each balancer; never block them as a bad host.
max_connect_errors = 4294967295
max_connections = 500
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
performance_schema = OFF
innodb_buffer_pool_size = $GALERA_BUFFER_POOL
# Durability comes from the other two nodes: a committed write set is in their memory before the client
# hears "committed", so one flush a second is enough here.
innodb_flush_log_at_trx_commit = 2
# What Galera requires.
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2

wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = $GALERA_CLUSTER_NAME
wsrep_cluster_address = gcomm://$peers
wsrep_node_name = galera-$n
wsrep_node_address = $addr
wsrep_sst_method = nubis_rsync
# A state transfer by rsync holds the donor's writes for its length: ask the node least likely to be
# HAProxy's writer (the last in order) first; the trailing comma lets any node serve when those cannot.
wsrep_sst_donor = "$donors,"
wsrep_sst_receive_address = $addr:4444
wsrep_slave_threads = 2
wsrep_provider_options = "gcache.size=$GALERA_GCACHE;gmcast.listen_addr=tcp://$addr:4567;ist.recv_addr=$addr:4568"
EOF
}

# State transfers copy the data directory with rsync (wsrep_sst_rsync, no extra packages), whose joiner
# side is an rsync daemon: as root that daemon switches to the user nobody unless told otherwise, and
# nobody cannot write into root's data directory. Hence a method of our own, nubis_rsync: the stock
# script with an rsync first on its PATH that keeps a daemon root and leaves everything else alone.
# (The server puts its own bin directory first on the SST script's PATH, so the rsync wrapper alone
# would never be found; the method's script puts ours first again.)
_galera_write_sst() {
    mkdir -p "$GALERA_DIR/bin"
    cat > "$GALERA_DIR/bin/rsync" <<'EOF'
#!/bin/bash
# Written by devstack/lib/galera.sh: an rsync daemon started by the SST script keeps the server's user.
for arg; do
    [ "$arg" = --daemon ] && exec /usr/bin/rsync --dparam=uid=root --dparam=gid=root "$@"
done
exec /usr/bin/rsync "$@"
EOF
    cat > "$GALERA_DIR/bin/wsrep_sst_nubis_rsync" <<'EOF'
#!/bin/bash
# Written by devstack/lib/galera.sh: the rsync state transfer, with the rsync next to this script.
PATH=$(dirname "$0"):$PATH exec /usr/bin/wsrep_sst_rsync "$@"
EOF
    chmod 755 "$GALERA_DIR/bin/rsync" "$GALERA_DIR/bin/wsrep_sst_nubis_rsync"
}

# Node N in the foreground: `env` and `ip netns exec` both exec, so the recorded pid is the server's
# own. PATH is set here, not inherited, so a .start script run from anywhere finds the SST scripts.
_galera_start() {   # _galera_start N [--record-only | EXTRA_ARG...]: start node N (in the background)
    local n=$1 how=launch; shift
    [ "${1:-}" != --record-only ] || { how=launch_record; shift; }
    $how "galera-$n" --ns "$(galera_ns "$n")" -- env "PATH=$GALERA_DIR/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        /usr/sbin/mariadbd --defaults-file="$(_galera_cnf "$n")" "$@"
}

# A node's position from grastate.dat; after a crash that file says -1, and the real position is in
# InnoDB, read by a recovery run of the server (which exits when done).
_galera_seqno() {
    local n=$1 state seqno log
    state=$(galera_datadir "$n")/grastate.dat
    [ -s "$state" ] || { echo -1; return; }
    seqno=$(awk '/^seqno:/ {print $2}' "$state")
    if [ "${seqno:--1}" = -1 ]; then
        log=$GALERA_DIR/$n/recover.log
        rm -f "$log"
        /usr/sbin/mariadbd --defaults-file="$(_galera_cnf "$n")" --wsrep-recover --log-error="$log" \
            >/dev/null 2>&1 || true
        seqno=$(sed -n 's/.*WSREP: Recovered position: .*:\(-\{0,1\}[0-9][0-9]*\).*/\1/p' "$log" | tail -1)
    fi
    echo "${seqno:--1}"
}

# Which node starts a new cluster when none runs: one marked safe_to_bootstrap (the last to stop
# cleanly), else the one that saw the most transactions (all crashed), else node 1 (a fresh cluster).
_galera_bootstrap_node() {
    local n best="" best_seqno=-2 seqno state
    for n in $GALERA_NODES; do
        state=$(galera_datadir "$n")/grastate.dat
        if [ -s "$state" ] && grep -q '^safe_to_bootstrap: *1' "$state"; then echo "$n"; return; fi
    done
    for n in $GALERA_NODES; do
        [ -d "$(galera_datadir "$n")/mysql" ] || continue
        seqno=$(_galera_seqno "$n")
        if [ "$seqno" -gt "$best_seqno" ]; then best=$n; best_seqno=$seqno; fi
    done
    echo "${best:-${GALERA_NODES%% *}}"
}

# galera_node_wait_synced N [TIMEOUT]: wait until node N is Synced in a Primary component and ready.
# Fails at once when its process has died (a failed join ends the server).
galera_node_wait_synced() {
    local n=$1 timeout=${2:-$GALERA_SYNC_TIMEOUT} deadline status
    deadline=$((SECONDS + timeout))
    while [ $SECONDS -lt $deadline ]; do
        if ! galera_running "$n"; then
            echo "galera-$n is not running; see $LOGS/galera-$n.log" >&2
            return 1
        fi
        status=$(galera_sql "$n" "SHOW GLOBAL STATUS WHERE Variable_name IN
            ('wsrep_local_state','wsrep_cluster_status','wsrep_ready')" 2>/dev/null | sort | cut -f2 | xargs) ||
            true   # not answering yet
        # Sorted by name: wsrep_cluster_status, wsrep_local_state, wsrep_ready.
        [ "$status" = "Primary 4 ON" ] && return 0
        sleep 0.5
    done
    echo "galera-$n not Synced after ${timeout}s (${status:-no answer}); see $LOGS/galera-$n.log" >&2
    return 1
}

# galera_wait_cluster [TIMEOUT]: every node Synced and each counting all of them.
galera_wait_cluster() {
    local n want deadline
    want=$(echo "$GALERA_NODES" | wc -w)
    deadline=$((SECONDS + ${1:-$GALERA_SYNC_TIMEOUT}))
    for n in $GALERA_NODES; do
        galera_node_wait_synced "$n" "$((deadline - SECONDS))" || return 1
        until [ "$(galera_status "$n" wsrep_cluster_size)" = "$want" ]; do
            [ $SECONDS -lt $deadline ] || { echo "galera-$n: cluster size never reached $want" >&2; return 1; }
            sleep 0.5
        done
    done
}

_galera_sql_quote() { printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g"; }

# The accounts, on node N; they replicate to the others (account statements are applied cluster-wide).
# Idempotent: a changed password is applied on the next run.
_galera_accounts() {
    local n=$1 hosts user password like
    hosts="$HA_NET_BASE.%"
    user=$(_galera_sql_quote "$GALERA_DB_USER")
    password=$(_galera_sql_quote "$GALERA_DB_PASSWORD")
    # An identifier, not a string: backslashes stay (they escape the pattern's `_`), backquotes double.
    like=${GALERA_DB_LIKE//\`/\`\`}
    galera_sql "$n" "
        CREATE USER IF NOT EXISTS '$user'@'$hosts' IDENTIFIED BY '$password';
        ALTER USER '$user'@'$hosts' IDENTIFIED BY '$password';
        GRANT ALL PRIVILEGES ON \`$like\`.* TO '$user'@'$hosts';
        CREATE USER IF NOT EXISTS '$GALERA_CHECK_USER'@'$hosts';"
}

# galera_up: the cluster running with every node Synced; idempotent. A node that runs is left alone;
# when none runs a new cluster is bootstrapped from the node with the latest data (a fresh data
# directory is initialised for it), and the others join it, by IST when their data is recent, else SST.
galera_up() {
    local n boot="" first
    [ -n "$GALERA_DB_PASSWORD" ] || { echo "galera_up: GALERA_DB_PASSWORD is empty" >&2; return 1; }
    ha_net_up
    _galera_write_sst
    for n in $GALERA_NODES; do
        ha_ns_up "galera-$n" "$((20 + n))"
        _galera_write_cnf "$n"
    done
    for n in $GALERA_NODES; do galera_running "$n" && boot=none && break; done
    if [ -z "$boot" ]; then
        boot=$(_galera_bootstrap_node)
        if [ ! -d "$(galera_datadir "$boot")/mysql" ]; then
            mariadb-install-db --no-defaults --datadir="$(galera_datadir "$boot")" --user=root \
                --auth-root-authentication-method=socket --skip-test-db \
                >"$LOGS/galera-$boot.install.log" 2>&1 ||
                { echo "galera_up: mariadb-install-db failed; see $LOGS/galera-$boot.install.log" >&2; return 1; }
        fi
        # Only the one chosen may start a cluster; on a fresh cluster the file is not there yet.
        [ ! -e "$(galera_datadir "$boot")/grastate.dat" ] ||
            sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$(galera_datadir "$boot")/grastate.dat"
        _galera_start "$boot" --wsrep-new-cluster
        galera_node_wait_synced "$boot" || return 1
        # Any later start of this node (its .start script after a kill) joins the running cluster
        # instead of founding a second one.
        _galera_start "$boot" --record-only
    fi
    for n in $GALERA_NODES; do
        galera_running "$n" || _galera_start "$n"
        # One joiner at a time: a donor serves one state transfer at a time anyway.
        galera_node_wait_synced "$n" || return 1
    done
    galera_wait_cluster "$GALERA_SYNC_TIMEOUT" || return 1
    first=${GALERA_NODES%% *}
    _galera_accounts "$first"
}

# galera_stop N: stop node N cleanly (it records its position for a later IST).
galera_stop() { stop_launched "galera-$1"; }

# galera_down: stop every node cleanly, the first node last so that it is the one marked safe to
# bootstrap the next galera_up. Removes nothing.
galera_down() {
    local n order=""
    for n in $GALERA_NODES; do order="$n $order"; done
    for n in $order; do galera_stop "$n"; done
}

# galera_purge: stop the cluster and remove its data directories and configuration.
galera_purge() {
    galera_down
    rm -rf "$GALERA_DIR"
}

# galera_isolate N / galera_heal N: cut node N off the network and connect it again (partition tests).
galera_isolate() { ha_ns_isolate "galera-$1"; }
galera_heal() { ha_ns_heal "galera-$1"; }

# galera_haproxy_backend BIND_ADDR BIND_PORT [NAME]: HAProxy's section for the database. One writer at a
# time: every node is `backup` (HAProxy uses only the first backup that is up) and a stick table keeps
# connections on the node chosen until it fails, so two nodes never take conflicting writes. The check is
# galera-check (Synced and Primary, not only "the port is open": a node cut off still accepts
# connections). The global section needs $GALERA_HAPROXY_GLOBAL.
galera_haproxy_backend() {
    local bind_addr=$1 bind_port=$2 name=${3:-galera} n
    cat <<EOF
listen $name
    bind $bind_addr:$bind_port
    mode tcp
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command $GALERA_CHECK
    timeout connect 2s
    timeout check 3s
    # Connection pools keep idle connections for a long time: never cut them for idleness here.
    timeout client 2h
    timeout server 2h
    # One writer at a time: every node is a backup, so HAProxy uses the first one up, and the stick table
    # (one entry: this address) keeps every connection on the node it chose. A writer that fails takes its
    # connections with it and the next node becomes the writer; a node that comes back does not take the
    # writes back, which would cut every connection a second time.
    stick-table type ip size 16
    stick on dst
    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
EOF
    for n in $GALERA_NODES; do
        echo "    server galera-$n $(galera_addr "$n"):$GALERA_PORT check backup"
    done
}
