#!/usr/bin/env bash
# Install Nubis into ./.venv and start the all-in-one cloud (every service in
# one process, state in ~/.nubis or /var/lib/nubis as root).
#   ./run.sh                       fake hypervisor
#   ./run.sh --virt libvirt        real qemu/KVM guests (run as root)
#   ./run.sh --state-dir DIR --bind ADDRESS
set -euo pipefail
cd "$(dirname "$0")"
VENV=${NUBIS_VENV:-$PWD/.venv}
extras="client"
case " $* " in
    *" --virt libvirt "*|*" --virt=libvirt "*)
        # Real guests need libvirt and qemu on the host, and libvirt-python.
        if [ "$(id -u)" = 0 ] && ! dpkg -s libvirt-daemon-system >/dev/null 2>&1; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 qemu-utils \
                libvirt-daemon-system libvirt-dev pkg-config genisoimage >/dev/null
        fi
        extras="client,libvirt" ;;
esac
if [ ! -x "$VENV/bin/nubis" ] || [ ! -x "$VENV/bin/openstack" ] || [ "$extras" != client ]; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[$extras]"
fi
exec "$VENV/bin/nubis" all-in-one "$@"
