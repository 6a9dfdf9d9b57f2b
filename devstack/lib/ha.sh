# shellcheck shell=bash
# The HA topology's front and its copies (NUBIS_HA=1): two load balancers (HAProxy, each in its own
# namespace) sharing a virtual IP through keepalived (VRRP), a memcached pair, and the per-copy
# configuration that gives every API copy its own address behind them.
# Sourced by devstack/stack.sh after ha-net.sh and processes.sh; needs NUBIS_STATE, NUBIS_CONF_DIR,
# PIDS, LOGS, NUBIS_PORT_OFFSET and SERVICES (stack.sh's service lines).

HA_COPIES=${NUBIS_HA_COPIES:-2}
HA_LB_DIR=$NUBIS_STATE/lb
HA_MEMCACHED_PORTS="$((11212 + NUBIS_PORT_OFFSET)) $((11213 + NUBIS_PORT_OFFSET))"
HA_VRID=$((50 + NUBIS_PORT_OFFSET % 200))

ha_copy_addr() { ha_addr $((10 + $1)); }    # copy 1 -> .11, copy 2 -> .12

# The memcached pair keystonemiddleware and oslo.cache share (each server holds part of the keys).
ha_memcached_up() {
    local n=1 port
    for port in $HA_MEMCACHED_PORTS; do
        if ! port_open "$port"; then
            launch "memcached-$n" -- /usr/bin/memcached -u memcache -l 127.0.0.1 -p "$port" -m 64
            wait_port "$port" 30 || die "memcached-$n did not start on port $port"
        fi
        n=$((n + 1))
    done
}

ha_memcached_servers() { local p out=""; for p in $HA_MEMCACHED_PORTS; do out+=${out:+,}127.0.0.1:$p; done; echo "$out"; }

# ha_front_ports: "NAME PORT HEALTH" for everything the balancers front: every API (HTTP health check
# on /healthcheck) and the console proxies (TCP check: they speak websockets, not /healthcheck).
ha_front_ports() {
    local name script port db
    while read -r name script port db; do
        [ "$port" = - ] || [ "$name" = exporter ] && continue
        echo "$name $((port + NUBIS_PORT_OFFSET)) http"
    done <<< "$SERVICES"
    echo "novncproxy $((6080 + NUBIS_PORT_OFFSET)) tcp"
    echo "spicehtml5proxy $((6082 + NUBIS_PORT_OFFSET)) tcp"
    echo "serialproxy $((6083 + NUBIS_PORT_OFFSET)) tcp"
}

# The HAProxy configuration both balancers run (they listen on every address of their namespace, the
# VIP included once keepalived gives it to them).
ha_haproxy_cfg() {  # LB_NUMBER
    local n=$1 name port check copy
    cat <<EOF
# Written by devstack/stack.sh (NUBIS_HA=1) for lb-$n.
global
    maxconn 4000
    stats socket $HA_LB_DIR/lb-$n.sock mode 600 level admin
$GALERA_HAPROXY_GLOBAL

defaults
    mode http
    log stdout format raw local0 info
    option httplog
    # Connections that close before a request are logged too (termination state cR/CR): the kill tests
    # look for kept-alive client connections closed under the client.
    timeout connect 2s
    timeout client 10m
    timeout server 10m
    timeout tunnel 1h
    # A copy that refuses the connection, or dies before answering, costs the client nothing: the request
    # goes to the other copy. Only idempotent requests are replayed after a copy died mid-request
    # (a POST may have done its work; a client must decide about that one).
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    # No "on-marked-down shutdown-sessions" for the APIs: a killed copy's connections close by themselves
    # (and a GET on one is retried), while a copy marked down only because its health check was slow under
    # load is still working. Cutting its requests failed POSTs it went on to carry out, and on a kept-alive
    # client connection HAProxy closes such a request with no answer and no log line (the "background"
    # RemoteDisconnected failures of the kill matrix). Galera's backend keeps the option: its clients
    # must leave a writer that was marked down.
    # Health checks get 5 s: a copy whose threads are all busy answers /healthcheck late, not never, and a
    # dead copy fails its check at once (connection refused) whatever the timeout.
    timeout check 5s
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2

frontend stats
    bind 127.0.0.1:8404
    http-request return status 200 content-type text/plain string "ok" if { path /alive }
    stats enable
    stats uri /stats

EOF
    while read -r name port check; do
        echo "listen $name"
        echo "    bind :$port"
        if [ "$check" = http ]; then
            echo "    option httpchk GET /healthcheck"
            echo "    http-check expect status 200"
            echo "    http-request disable-l7-retry if METH_POST || { method PATCH }"
            # A fresh connection to the copy for every request: one kept open to a copy that was just
            # killed can only fail the request written on it (HAProxy cannot tell whether the copy read
            # it), while a refused new connection is retried on the other copy, a POST included.
            echo "    option http-server-close"
        else
            echo "    mode tcp"
            echo "    option tcplog"
        fi
        echo "    balance roundrobin"
        for copy in $(seq 1 "$HA_COPIES"); do
            echo "    server $name-$copy $(ha_copy_addr "$copy"):$port check"
        done
        echo
    done < <(ha_front_ports)
    galera_haproxy_backend "*" 3306
}

# keepalived for lb-N: both start as BACKUP without preemption (the VIP stays where it is when a
# balancer comes back), and a balancer whose HAProxy stops answering gives the VIP away.
ha_keepalived_cfg() {  # LB_NUMBER
    local n=$1 me peer
    me=$(ha_addr $((1 + n)))
    peer=$(ha_addr $((n == 1 ? 3 : 2)))
    cat <<EOF
# Written by devstack/stack.sh (NUBIS_HA=1) for lb-$n.
global_defs {
    router_id nubis-lb-$n
    enable_script_security
    script_user root
    vrrp_garp_master_refresh 10
}
vrrp_script haproxy_alive {
    script "$HA_LB_DIR/haproxy-alive"
    # keepalived checks at most once a second: a dead HAProxy costs up to ~1 s of refused connections
    # before the VIP moves (a killed keepalived costs less: its VRRP child leaves at once, releasing the VIP).
    interval 1
    timeout 1
    fall 1
    rise 2
}
vrrp_instance nubis_vip {
    state BACKUP
    nopreempt
    interface eth0
    virtual_router_id $HA_VRID
    version 3
    priority $((n == 1 ? 150 : 100))
    advert_int 0.2
    unicast_src_ip $me
    unicast_peer {
        $peer
    }
    virtual_ipaddress {
        $HA_VIP/24 dev eth0
    }
    track_script {
        haproxy_alive
    }
}
EOF
}

# Both balancers, each in its namespace: HAProxy in the foreground (its pid is the one recorded), and
# keepalived (parent and VRRP child recorded together, so a kill takes both).
ha_lb_up() {
    mkdir -p "$HA_LB_DIR"
    cat > "$HA_LB_DIR/haproxy-alive" <<'EOF'
#!/bin/bash
# keepalived's check, run inside the balancer's namespace: does this namespace's HAProxy answer?
exec 3<>/dev/tcp/127.0.0.1/8404 && printf 'GET /alive HTTP/1.0\r\n\r\n' >&3 && head -c 12 <&3 | grep -q 200
EOF
    chmod 700 "$HA_LB_DIR/haproxy-alive"
    local n ns
    for n in 1 2; do
        ha_ns_up "lb-$n" $((1 + n))
        ns=$(ha_ns "lb-$n")
        ha_haproxy_cfg "$n" > "$HA_LB_DIR/lb-$n-haproxy.cfg"
        ha_keepalived_cfg "$n" > "$HA_LB_DIR/lb-$n-keepalived.conf"
        haproxy -c -q -f "$HA_LB_DIR/lb-$n-haproxy.cfg" || die "lb-$n: HAProxy rejects its configuration"
        stop_launched "lb-$n-haproxy"
        launch "lb-$n-haproxy" --ns "$ns" -- /usr/sbin/haproxy -db -f "$HA_LB_DIR/lb-$n-haproxy.cfg"
        stop_launched "lb-$n-keepalived"
        launch "lb-$n-keepalived" --ns "$ns" --pidfile "$HA_LB_DIR/lb-$n-keepalived.pid" -- \
            /usr/sbin/keepalived -n -l -D -G -P -f "$HA_LB_DIR/lb-$n-keepalived.conf" \
            -p "$HA_LB_DIR/lb-$n-keepalived.pid" -r "$HA_LB_DIR/lb-$n-vrrp.pid"
    done
    for _ in $(seq 1 60); do
        ha_vip_holder >/dev/null && return 0
        sleep 0.5
    done
    die "no balancer took the virtual IP $HA_VIP; see $LOGS/lb-1-keepalived.out"
}

# Which balancer holds the VIP now ("lb-1" or "lb-2"); fails when none does.
ha_vip_holder() {
    local n
    for n in 1 2; do
        ip netns exec "$(ha_ns "lb-$n")" ip -4 -o addr show dev eth0 2>/dev/null | grep -q " $HA_VIP/" &&
            { echo "lb-$n"; return 0; }
    done
    return 1
}

# nubis.conf's additions for copy N of every copied service: its own address, the public endpoint at the
# VIP, its own host name (per-host state such as interrupted image tasks stays its own), and its own
# drain directory.
ha_copy_conf() {  # COPY_NUMBER
    local n=$1 addr name script port db
    addr=$(ha_copy_addr "$n")
    mkdir -p "$NUBIS_STATE/copy-$n"
    echo "# Written by devstack/stack.sh (NUBIS_HA=1): what copy $n of each service changes."
    echo "[DEFAULT]"
    echo "host = $(hostname)-copy-$n"
    echo "[api]"
    echo "healthcheck_disable_dir = $NUBIS_STATE/copy-$n"
    while read -r name script port db; do
        [ "$port" = - ] || [ "$name" = exporter ] && continue
        printf '[%s]\nbind_host = %s\npublic_endpoint = http://%s:%s\n' "${name//-/_}" "$addr" "$HA_VIP" \
            "$((port + NUBIS_PORT_OFFSET))"
    done <<< "$SERVICES"
    # A copy must carry all the logins when its peer is gone: those sent to the dead copy come back as
    # retries on top of its own. Twice the single-node hashing queue, and twice the threads so that queue
    # still leaves most threads to token validation.
    printf '[identity]\nthreads = 32\npassword_hash_queue = 16\n'
    printf '[vnc]\nnovncproxy_host = %s\n[spice]\nhtml5proxy_host = %s\n[serial_console]\nserialproxy_host = %s\n' \
        "$addr" "$addr" "$addr"
}

# Copied: every API, the console proxies, conductors and schedulers. One each: the agents (they are
# per host) and the exporter.
ha_is_copied() {
    case $1 in
        compute | network-agent | volume-manager | exporter) return 1 ;;
        *) return 0 ;;
    esac
}
