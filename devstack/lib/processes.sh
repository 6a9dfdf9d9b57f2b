# shellcheck shell=bash
# Every process the HA topology runs is started through `launch`, which records how: its pid file
# ($PIDS/NAME.pid) and a start script ($PIDS/NAME.start) that starts it again exactly as the first time.
# The kill tests SIGKILL the pid and run the start script; unstack.sh stops every recorded pid.
# Needs PIDS and LOGS set by the caller.

# launch NAME [--ns NAMESPACE] [--pidfile FILE] -- COMMAND...: run COMMAND in the background (inside
# NAMESPACE when given), its output in $LOGS/NAME.out. With --pidfile the process writes its own pid
# there (daemons whose pid is not the launcher's child); the record still points at it.
launch() {
    launch_record "$@"
    local name=$1 own_pidfile=""
    shift
    while [ "$1" != -- ]; do
        [ "$1" != --pidfile ] || own_pidfile=$2
        shift 2
    done
    [ -z "$own_pidfile" ] || rm -f "$own_pidfile"
    bash "$PIDS/$name.start"
}

# launch_record NAME [--ns NAMESPACE] [--pidfile FILE] -- COMMAND...: only (re)write $PIDS/NAME.start,
# starting nothing. For a process whose first start differs from every later one: a Galera cluster is
# bootstrapped once with --wsrep-new-cluster, but a restart of that node must join the cluster instead.
launch_record() {
    local name=$1; shift
    local ns="" own_pidfile=""
    while [ "$1" != -- ]; do
        case $1 in
            --ns) ns=$2; shift 2 ;;
            --pidfile) own_pidfile=$2; shift 2 ;;
            *) echo "launch: unknown option $1" >&2; return 2 ;;
        esac
    done
    shift
    local start=$PIDS/$name.start
    {
        echo "#!/usr/bin/env bash"
        echo "# Starts $name again as devstack/stack.sh first started it."
        printf 'cd %q\n' "$PWD"
        if [ -n "$ns" ]; then printf 'nohup ip netns exec %q' "$ns"; else printf 'nohup'; fi
        printf ' %q' "$@"
        printf ' >>%q 2>&1 </dev/null &\n' "$LOGS/$name.out"
        if [ -n "$own_pidfile" ]; then
            printf 'for _ in $(seq 1 100); do [ -s %q ] && break; sleep 0.1; done\n' "$own_pidfile"
            printf 'ln -sf %q %q\n' "$own_pidfile" "$PIDS/$name.pid"
        else
            printf 'echo $! > %q\n' "$PIDS/$name.pid"
        fi
    } > "$start"
    chmod 700 "$start"
}

# stop_pid PID [LABEL]: TERM, then KILL after 30 s; says "stopping LABEL" when given one.
stop_pid() {
    local pid=$1 label=${2:-}
    [[ $pid =~ ^[1-9][0-9]*$ ]] || return 0  # never 0 or -N: kill would signal a process group
    kill -0 "$pid" 2>/dev/null || return 0
    [ -z "$label" ] || echo "stopping $label (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
}

# stop_launched NAME: stop the process NAME was launched as (stop_pid) and forget its pid file.
stop_launched() {
    local pidfile=$PIDS/$1.pid
    [ -e "$pidfile" ] || return 0
    stop_pid "$(cat "$pidfile" 2>/dev/null || true)"
    rm -f "$pidfile"
}
