# shellcheck shell=bash
# The HA topology's message broker (NUBIS_HA=1): a RabbitMQ cluster of three nodes on this host,
# each with its own node name, AMQP and distribution ports, data, log and config directories, and an
# Erlang cookie of the cluster's own. A broker the machine already runs (default node name, 5672,
# its own cookie) is never touched; only epmd is shared, which is what epmd is for.
#
# Sourced by devstack/stack.sh and unstack.sh and by the HA tests. Needs NUBIS_STATE, PIDS, LOGS and
# devstack/lib/processes.sh (every node runs under `launch`, so the kill tests can SIGKILL the
# recorded pid, which is the node's Erlang VM itself, and start it again with $PIDS/rabbit-N.start).
#
#   rabbit_up              start (or restart) the three nodes, cluster them, add vhost and user
#   rabbit_down            stop the three nodes gracefully
#   rabbit_purge           remove their data (after rabbit_down)
#   rabbit_ctl N ARGS...   rabbitmqctl against node N
#   rabbit_transport_url   the transport_url naming all three nodes
#   rabbit_conf_snippet    nubis.conf's [oslo_messaging_rabbit] for quorum queues and failover

RABBIT_HA_NODE_PREFIX=${RABBIT_HA_NODE_PREFIX:-nubis-ha-}        # nodes nubis-ha-1@localhost ...
RABBIT_HA_HOST=${RABBIT_HA_HOST:-127.0.0.1}
RABBIT_HA_PORT_BASE=${RABBIT_HA_PORT_BASE:-$((5673 + ${NUBIS_PORT_OFFSET:-0}))}
# Erlang distribution (inter-node) ports; RabbitMQ's own default would be AMQP port + 20000.
RABBIT_HA_DIST_PORT_BASE=${RABBIT_HA_DIST_PORT_BASE:-$((RABBIT_HA_PORT_BASE + 20000))}
RABBIT_HA_VHOST=${RABBIT_HA_VHOST:-nubis}
RABBIT_HA_USER=${RABBIT_HA_USER:-nubis}
RABBIT_HA_PASSWORD=${RABBIT_HA_PASSWORD:-nubis-rabbit}
# Memory alarm (publishers are blocked above it) as a fraction of the host's RAM, per node.
RABBIT_HA_MEMORY_WATERMARK=${RABBIT_HA_MEMORY_WATERMARK:-0.05}
RABBIT_HA_NODES=3
RABBIT_HA_DIR=${RABBIT_HA_DIR:-$NUBIS_STATE/rabbitmq}
# Where the server scripts live: the packaged ones run the broker as its own system user and read the
# system broker's environment, so the cluster calls the scripts behind them.
if [ -z "${RABBIT_HA_BIN:-}" ]; then
    if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
        RABBIT_HA_BIN=/usr/lib/rabbitmq/bin
    else
        RABBIT_HA_BIN=$(dirname "$(command -v rabbitmq-server)")
    fi
fi

rabbit_node_name() { echo "${RABBIT_HA_NODE_PREFIX}$1@localhost"; }   # rabbit_node_name 2
rabbit_port() { echo $((RABBIT_HA_PORT_BASE + $1 - 1)); }               # AMQP port of node N

# The environment every server and CLI call of node N runs with. HOME is the cluster's own directory
# holding its .erlang.cookie, so neither the system broker's cookie nor root's is read or written;
# RABBITMQ_CONF_ENV_FILE, RABBITMQ_CONFIG_FILE, RABBITMQ_ADVANCED_CONFIG_FILE and
# RABBITMQ_ENABLED_PLUGINS_FILE point at the node's own files, so nothing of /etc/rabbitmq (the system
# broker's node name, listeners, plugins) applies.
_rabbit_env() {
    local n=$1 dir=$RABBIT_HA_DIR/$1
    echo "HOME=$RABBIT_HA_DIR/home"
    echo "RABBITMQ_NODENAME=$(rabbit_node_name "$n")"
    echo "RABBITMQ_NODE_IP_ADDRESS=$RABBIT_HA_HOST"
    echo "RABBITMQ_NODE_PORT=$(rabbit_port "$n")"
    echo "RABBITMQ_DIST_PORT=$((RABBIT_HA_DIST_PORT_BASE + n - 1))"
    echo "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf"
    echo "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf"
    echo "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config"
    echo "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins"
    echo "RABBITMQ_MNESIA_BASE=$dir/mnesia"
    echo "RABBITMQ_LOG_BASE=$dir/log"
    # Explicit, because the server scripts read unprefixed names too (LOGS, PID_FILE, ...) and the
    # caller's LOGS is a directory.
    echo "RABBITMQ_LOGS=$dir/log/rabbit.log"
    # The CLI tools pick their own distribution ports from this range (RabbitMQ's default is
    # RABBITMQ_DIST_PORT + 10000 upwards, i.e. one range per node).
    echo "RABBITMQ_CTL_DIST_PORT_MIN=$((RABBIT_HA_DIST_PORT_BASE + 10000 + (n - 1) * 10))"
    echo "RABBITMQ_CTL_DIST_PORT_MAX=$((RABBIT_HA_DIST_PORT_BASE + 10000 + (n - 1) * 10 + 9))"
    # The server script execs the Erlang VM (no shell in between that would outlive a SIGKILL of the
    # recorded pid) when it believes it runs under systemd; the VM then handles SIGTERM as a clean stop.
    echo "RUNNING_UNDER_SYSTEMD=true"
    # Two busy cores shared by the whole stack: one scheduler thread per node, no busy waiting; the
    # inter-node port on loopback only, like AMQP.
    echo "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}"
}

# rabbit_ctl N ARGS...: rabbitmqctl against node N, with the cluster's cookie.
rabbit_ctl() {
    local n=$1; shift
    local -a envs
    mapfile -t envs < <(_rabbit_env "$n")
    env "${envs[@]}" "$RABBIT_HA_BIN/rabbitmqctl" -n "$(rabbit_node_name "$n")" "$@"
}

# The node's configuration files (rewritten on every start, so a changed setting applies on restart).
_rabbit_write_config() {
    local n=$1 dir=$RABBIT_HA_DIR/$1
    mkdir -p "$dir/mnesia" "$dir/log"
    : > "$dir/rabbitmq-env.conf"
    # No plugins: the management plugin alone roughly doubles a node's memory and opens an HTTP port.
    echo "[]." > "$dir/enabled_plugins"
    echo "[]." > "$dir/advanced.config"
    cat > "$dir/rabbitmq.conf" <<EOF
# Written by devstack/lib/rabbitmq.sh; node $n of $RABBIT_HA_NODES.
listeners.tcp.default = $RABBIT_HA_HOST:$(rabbit_port "$n")
# A node cut off from the other two stops serving instead of accepting writes the majority never
# sees; with three nodes the two that still see each other keep going.
cluster_partition_handling = pause_minority
vm_memory_high_watermark.relative = $RABBIT_HA_MEMORY_WATERMARK
disk_free_limit.absolute = 200MB
# Quorum queues (oslo.messaging declares every queue as one, see rabbit_conf_snippet) keep their
# Raft write-ahead log in memory up to this size before flushing; the default 512 MiB per node is
# far more than a development cloud's RPC traffic needs.
raft.wal_max_size_bytes = 67108864
log.console = false
log.file.level = info
EOF
}

# The cluster's own Erlang cookie, created once (it must be the same for every node and the CLI).
_rabbit_cookie() {
    local home=$RABBIT_HA_DIR/home
    mkdir -p "$home"
    chmod 700 "$home"
    if [ ! -s "$home/.erlang.cookie" ]; then
        (umask 077; head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F > "$home/.erlang.cookie")
    fi
    chmod 400 "$home/.erlang.cookie"
}

_rabbit_running() {   # the node's Erlang VM is alive (not necessarily booted)
    local pid
    pid=$(cat "$PIDS/rabbit-$1.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Launch node N's server (config rewritten first); `launch` records the VM's pid and a start script.
_rabbit_launch() {
    local n=$1
    local -a envs
    _rabbit_cookie
    _rabbit_write_config "$n"
    mapfile -t envs < <(_rabbit_env "$n")
    launch "rabbit-$n" -- env "${envs[@]}" "$RABBIT_HA_BIN/rabbitmq-server"
}

# rabbit_start_node N: launch node N unless it already runs, and wait until it has booted.
rabbit_start_node() {
    local n=$1
    _rabbit_running "$n" || _rabbit_launch "$n"
    # Until the node has booted (the recorded pid is the VM's; `wait` gives up if it dies). A node that
    # was part of the cluster waits at boot for the peers it last saw running, so a whole-cluster
    # restart starts every node before waiting on any (rabbit_up).
    rabbit_ctl "$n" wait --pid "$(cat "$PIDS/rabbit-$n.pid")" --timeout 300 >/dev/null
}

_rabbit_running_nodes() {   # how many nodes node N's cluster_status reports running
    rabbit_ctl "$1" eval 'length(rabbit_nodes:all_running()).' 2>/dev/null || echo 0
}

# rabbit_wait_cluster [N]: wait until node N (default 1) sees all three nodes running.
rabbit_wait_cluster() {
    local n=${1:-1}
    for _ in $(seq 1 120); do
        [ "$(_rabbit_running_nodes "$n")" = "$RABBIT_HA_NODES" ] && return 0
        sleep 1
    done
    echo "rabbitmq: node $n does not see $RABBIT_HA_NODES running nodes:" >&2
    rabbit_ctl "$n" cluster_status >&2 || true
    return 1
}

_rabbit_clustered_with_1() {   # node N counts node 1 as a member of its cluster
    [ "$(rabbit_ctl "$1" eval "lists:member('$(rabbit_node_name 1)', rabbit_nodes:all()).")" = true ]
}

# Start the three nodes, joining 2 and 3 to 1 the first time; restarted nodes rejoin by themselves
# (their cluster membership is in their own data). Idempotent.
rabbit_up() {
    local n first_run=0
    [ -e "$RABBIT_HA_DIR/clustered" ] || first_run=1
    if [ "$first_run" = 0 ]; then
        # Members of an existing cluster: start every node before waiting on any, since each waits
        # for the others at boot.
        for n in $(seq 1 "$RABBIT_HA_NODES"); do
            _rabbit_running "$n" || _rabbit_launch "$n"
        done
    fi
    for n in $(seq 1 "$RABBIT_HA_NODES"); do
        rabbit_start_node "$n"
        if [ "$n" -gt 1 ] && ! _rabbit_clustered_with_1 "$n"; then
            rabbit_ctl "$n" stop_app >/dev/null
            rabbit_ctl "$n" join_cluster "$(rabbit_node_name 1)" >/dev/null
            rabbit_ctl "$n" start_app >/dev/null
        fi
    done
    rabbit_wait_cluster 1
    touch "$RABBIT_HA_DIR/clustered"

    rabbit_ctl 1 list_vhosts --silent | grep -qx "$RABBIT_HA_VHOST" ||
        rabbit_ctl 1 add_vhost "$RABBIT_HA_VHOST" >/dev/null
    if rabbit_ctl 1 list_users --silent | awk '{print $1}' | grep -qx "$RABBIT_HA_USER"; then
        rabbit_ctl 1 change_password "$RABBIT_HA_USER" "$RABBIT_HA_PASSWORD" >/dev/null
    else
        rabbit_ctl 1 add_user "$RABBIT_HA_USER" "$RABBIT_HA_PASSWORD" >/dev/null
    fi
    rabbit_ctl 1 set_permissions -p "$RABBIT_HA_VHOST" "$RABBIT_HA_USER" ".*" ".*" ".*" >/dev/null
    # The node-local default user is of no use to the cloud and a known password on every port.
    if rabbit_ctl 1 list_users --silent | awk '{print $1}' | grep -qx guest; then
        rabbit_ctl 1 delete_user guest >/dev/null
    fi
}

# Stop the three nodes: SIGTERM to the VM is RabbitMQ's clean shutdown (stop_launched kills after 30 s).
# Stopped one by one; the last one stopped is the first to start again without waiting for peers.
rabbit_down() {
    local n
    for n in $(seq "$RABBIT_HA_NODES" -1 1); do
        stop_launched "rabbit-$n"
    done
}

# Remove the cluster's data, logs, config and cookie (stop it first with rabbit_down).
rabbit_purge() {
    rm -rf "$RABBIT_HA_DIR"
}

# The transport_url naming all three nodes; oslo.messaging fails over between them.
rabbit_transport_url() {
    local n hosts=""
    for n in $(seq 1 "$RABBIT_HA_NODES"); do
        hosts+="${hosts:+,}$RABBIT_HA_USER:$RABBIT_HA_PASSWORD@$RABBIT_HA_HOST:$(rabbit_port "$n")"
    done
    echo "rabbit://$hosts/$RABBIT_HA_VHOST"
}

# nubis.conf's [oslo_messaging_rabbit] section for the cluster.
rabbit_conf_snippet() {
    cat <<'EOF'
[oslo_messaging_rabbit]
# Every queue oslo.messaging declares is a quorum queue (Raft, replicated on all three nodes since
# the cluster has three): the topic and server queues (rabbit_quorum_queue) and the transient ones, the
# RPC reply queues and fanout queues (rabbit_transient_quorum_queue). A classic queue lives on one
# node only: with it, losing that node loses the queue and every consumer of it until the service
# redeclares it. Quorum queues are always durable, so amqp_durable_queues is not needed (ignored).
rabbit_quorum_queue = true
rabbit_transient_quorum_queue = true
# Unused reply/fanout queues (a process that died) expire after 30 min (the default, kept explicit).
rabbit_transient_queues_ttl = 1800
# No rabbit_quorum_delivery_limit (0, unlimited): the metering collector requeues a notification it
# could not apply (its database failing over, say) and relies on getting it back; with a limit and no
# dead-letter exchange the broker would drop it after that many tries.
rabbit_quorum_delivery_limit = 0
# A dead broker (SIGKILL, crash) is seen at once from the closed socket; a broker that stops answering
# (hung, cut off) only by missed heartbeats: after 15 s, checked every 15/3 s.
heartbeat_timeout_threshold = 15
heartbeat_rate = 3
# Move to the next node when the current one fails (oslo.messaging shuffles transport_url's nodes once
# per connection, so connections spread over the cluster, then goes round that order)...
kombu_failover_strategy = round-robin
# ...retrying after 1 s, then 2, 3, ... up to 5 s: a restarted node is back in seconds, and a
# longer back-off would only delay failing over to the nodes still up.
rabbit_retry_interval = 1
rabbit_retry_backoff = 1
rabbit_interval_max = 5
# oslo.messaging sleeps this long after every recoverable error before it retries (default 1 s); a
# consumer whose node died goes through several such rounds before kombu moves it to the next node
# (measured: 6 rounds, so ~6 s during which a client's replies wait in its reply queue unread).
kombu_reconnect_delay = 0.2
# Without a prefetch limit a consumer takes every waiting message and, when its node dies, all of
# them go back to the queue at once; a bound keeps the redelivery burst small.
rabbit_qos_prefetch_count = 100
# Not rabbit_stream_fanout: it needs RabbitMQ's stream plugin machinery on every node, gives all
# fanout consumers one shared stream (the messages stay on disk for rabbit_transient_queues_ttl),
# and quorum fanout queues already survive a node's loss.
# Not rabbit_ha_queues: classic mirrored queues, deprecated, and exclusive with quorum queues.
EOF
}
