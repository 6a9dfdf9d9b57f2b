# shellcheck shell=bash
# The HA topology's private network (NUBIS_HA=1): one Linux bridge on this host and a network
# namespace per node that plays a separate machine (the two load balancers, the Galera nodes).
# Sourced by devstack/stack.sh and devstack/unstack.sh; every name carries NUBIS_HA_PREFIX so the
# test stack never touches anything it did not make.
#
# Addresses in NUBIS_HA_NET (a /24, default 10.252.0.0/24), by last octet:
#   .1  this host (clients, the compute and network agents, RPC services)
#   .11 .12  the API copies' own addresses (secondary addresses of the bridge on this host)
#   .2 .3    load balancers lb-1, lb-2 (namespaces)          .100  the virtual IP (keepalived)
#   .21 .22 .23  Galera nodes galera-1..3 (namespaces)

NUBIS_HA_PREFIX=${NUBIS_HA_PREFIX:-nha}
NUBIS_HA_NET=${NUBIS_HA_NET:-10.252.0.0/24}
HA_NET_BASE=${NUBIS_HA_NET%.*/*}            # 10.252.0
HA_BRIDGE=${NUBIS_HA_PREFIX}br0
HA_HOST_ADDR=$HA_NET_BASE.1
HA_VIP=$HA_NET_BASE.100

ha_addr() { echo "$HA_NET_BASE.$1"; }        # ha_addr 21 -> 10.252.0.21

# The bridge, with the host's address and the API copies' addresses on it. Idempotent.
ha_net_up() {
    ip link show "$HA_BRIDGE" >/dev/null 2>&1 || ip link add "$HA_BRIDGE" type bridge
    ip link set "$HA_BRIDGE" up
    local octet
    for octet in 1 11 12; do
        # grep reads to the end (no -q): under pipefail, grep -q leaving early can kill `ip` with
        # SIGPIPE, and the "missing" address is then added twice ("Address already assigned").
        ip -4 addr show dev "$HA_BRIDGE" | grep " $(ha_addr $octet)/" >/dev/null ||
            ip addr add "$(ha_addr $octet)/24" dev "$HA_BRIDGE"
    done
}

# ha_ns_up NODE OCTET: namespace $NUBIS_HA_PREFIX-NODE with a veth into the bridge at .OCTET and
# loopback up; its default route is the host, so it reaches this host's .1 address. Idempotent.
ha_ns_up() {
    local node=$1 octet=$2 ns=$NUBIS_HA_PREFIX-$1
    local host_dev=${NUBIS_HA_PREFIX}-${node:0:9}
    ip netns list | grep -w "^$ns" >/dev/null || ip netns add "$ns"   # no -q: see ha_net_up
    ip netns exec "$ns" ip link set lo up
    if ! ip netns exec "$ns" ip link show eth0 >/dev/null 2>&1; then
        # A host end left over belongs to a namespace of an earlier run that is still going away.
        ip link delete "$host_dev" 2>/dev/null || true
        ip link add "$host_dev" type veth peer name eth0 netns "$ns"
        ip link set "$host_dev" master "$HA_BRIDGE" up
    fi
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip -4 addr show dev eth0 | grep " $(ha_addr "$octet")/" >/dev/null ||
        ip netns exec "$ns" ip addr add "$(ha_addr "$octet")/24" dev eth0
}

ha_ns() { echo "$NUBIS_HA_PREFIX-$1"; }      # ha_ns galera-1 -> nha-galera-1

# Cut NODE off the network (its veth on the bridge goes down) and heal it again: the partition tests.
ha_ns_isolate() { ip link set "${NUBIS_HA_PREFIX}-${1:0:9}" down; }
ha_ns_heal() { ip link set "${NUBIS_HA_PREFIX}-${1:0:9}" up; }

# Remove every namespace and the bridge this prefix made.
ha_net_down() {
    local ns
    for ns in $(ip netns list | awk '{print $1}' | grep "^$NUBIS_HA_PREFIX-" || true); do
        ip netns delete "$ns"
    done
    ip link show "$HA_BRIDGE" >/dev/null 2>&1 && ip link delete "$HA_BRIDGE"
    return 0
}
