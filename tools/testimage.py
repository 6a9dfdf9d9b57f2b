"""Build the small guest image the libvirt tests (and a newcomer's first VM) boot.

From Debian's cloud kernel and busybox-static (the only downloads, both from
the Debian archive through apt): a kernel, an initramfs whose /init prints
clear markers to the serial console, and a tiny root disk that names the two
through ``kernel_id``/``ramdisk_id`` once uploaded.

What the guest prints, in order:
  NUBIS-GUEST-UP                     the kernel ran our init
  NUBIS-IP=<address/prefix>          when it has a NIC and DHCP answered
  NUBIS-METADATA-SOURCE=<where>      config-drive, metadata-service or none
  NUBIS-UUID=... NUBIS-HOSTNAME=...  what it read from its metadata
  NUBIS-PUBLIC-KEY=...               the first SSH key in its metadata
  NUBIS-READY                        done; TCP port 7777 answers "NUBIS-TCP <uuid>"
  NUBIS-USER-DATA: ...               what a user-data script (one starting with #!) prints

  tools/build-test-image [--output DIR]            build (kept under DIR, default build/test-image)
  tools/build-test-image --upload [--name NAME] [--private]
                                                   build, then upload with the OS_* environment
"""

from __future__ import annotations

import argparse
import glob
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

# What the guest needs beyond the cloud kernel's built-ins (their dependencies come along, loaded first).
MODULES = ["virtio_pci", "virtio_blk", "isofs", "virtio_net", "evdev", "button"]

INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /mnt /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in @MODULES@; do
    [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko 2>/dev/null
done
acpid -c /etc/acpi -l /tmp/acpid.log 2>/dev/null
# GET from the metadata service; the body on a 200, nothing otherwise.
# (busybox-static's wget crashes, static glibc; nc speaks enough HTTP/1.0.)
metadata_get() {
    printf 'GET %s HTTP/1.0\r\nHost: 169.254.169.254\r\n\r\n' "$1" | nc -w 5 169.254.169.254 80 |
        tr -d '\r' > /tmp/response
    head -n 1 /tmp/response | grep -q ' 200 ' && sed '1,/^$/d' /tmp/response
}
echo "NUBIS-GUEST-UP"
sleep 1
meta=""
src=none
for dev in /dev/vd? /dev/sd? /dev/sr0; do
    [ -b "$dev" ] || continue
    if mount -t iso9660 -o ro "$dev" /mnt 2>/dev/null; then
        if [ -f /mnt/openstack/latest/meta_data.json ]; then
            meta=$(cat /mnt/openstack/latest/meta_data.json)
            src=config-drive
            break
        fi
        umount /mnt
    fi
done
if ip link show eth0 >/dev/null 2>&1; then
    ip link set lo up
    ip link set eth0 up
    if udhcpc -i eth0 -s /etc/udhcpc.script -O staticroutes -O mtu -q -n -t 5 >/dev/null 2>&1; then
        echo "NUBIS-IP=$(ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9./]*\).*/\1/p')"
    fi
    if [ -z "$meta" ]; then
        for try in 1 2 3 4 5; do
            meta=$(metadata_get /openstack/latest/meta_data.json)
            case "$meta" in *uuid*) src=metadata-service; break ;; esac
            meta=""
            sleep 1
        done
    fi
fi
field() { echo "$meta" | sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p"; }
uuid=$(field uuid)
echo "NUBIS-METADATA-SOURCE=$src"
echo "NUBIS-UUID=$uuid"
echo "NUBIS-HOSTNAME=$(field hostname)"
key=$(echo "$meta" | grep -o 'ssh-[a-z0-9-]* [A-Za-z0-9+/=]*' | head -n 1)
[ -n "$key" ] && echo "NUBIS-PUBLIC-KEY=$key"
(while true; do echo "NUBIS-TCP $uuid" | nc -l -p 7777 >/dev/null 2>&1; done) &
# User data that is a script runs, its output on the console (as cloud-init would run it).
if [ "$src" = config-drive ] && [ -f /mnt/openstack/latest/user_data ]; then
    cp /mnt/openstack/latest/user_data /tmp/user-data
elif [ "$src" = metadata-service ]; then
    metadata_get /openstack/latest/user_data > /tmp/user-data
fi
if [ "$(head -c 2 /tmp/user-data 2>/dev/null)" = "#!" ]; then
    (sh /tmp/user-data 2>&1 | sed 's/^/NUBIS-USER-DATA: /') &
fi
echo "NUBIS-READY"
while true; do sleep 3600; done
"""

UDHCPC = r"""#!/bin/sh
# Apply a lease: address, MTU, and the classless routes (option 121: the metadata route through the
# DHCP server, the default route) or else the router option.
case "$1" in
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
        if [ -n "$staticroutes" ]; then
            set -- $staticroutes
            while [ $# -ge 2 ]; do
                if [ "$1" = 0.0.0.0/0 ]; then
                    ip route replace default via "$2" dev "$interface"
                else
                    ip route replace "$1" via "$2" dev "$interface"
                fi
                shift 2
            done
        elif [ -n "$router" ]; then
            ip route replace default via "${router%% *}" dev "$interface"
        fi
        ;;
esac
exit 0
"""

POWER_BUTTON = "#!/bin/sh\npoweroff -f\n"


def _say(text: str) -> None:
    print(f"==> {text}", flush=True)


def _download(package: str, cache: str) -> str:
    """The .deb of ``package`` (resolved like apt would), fetched once into ``cache``."""
    os.makedirs(cache, exist_ok=True)
    found = glob.glob(os.path.join(cache, f"{package}_*.deb"))
    if found:
        return sorted(found)[-1]
    subprocess.run(["apt-get", "download", "-q", package], cwd=cache, check=True, capture_output=True)
    return sorted(glob.glob(os.path.join(cache, f"{package}_*.deb")))[-1]


def _kernel_package() -> str:
    out = subprocess.run(["apt-cache", "depends", "linux-image-cloud-amd64"], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-"):
            return line.split()[1]
    sys.exit("cannot resolve linux-image-cloud-amd64 with apt-cache")


def _cpio(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A newc cpio archive of (path, mode, data); directories have mode 0o040755 and no data."""
    out = io.BytesIO()

    def put(name: str, mode: int, data: bytes, ino: int) -> None:
        encoded = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08x}" for v in (
            ino, mode, 0, 0, 2 if mode & 0o040000 else 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0))
        out.write(header.encode() + encoded)
        out.write(b"\0" * (-(110 + len(encoded)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    for ino, (name, mode, data) in enumerate(entries, start=1):
        put(name, mode, data, ino)
    put("TRAILER!!!", 0, b"", 0)
    return out.getvalue()


def build(output: str, cache: str) -> dict[str, str]:
    os.makedirs(output, exist_ok=True)
    kernel_deb = _download(_kernel_package(), cache)
    busybox = shutil.which("busybox")
    if busybox is None or not _is_static(busybox):  # the guest has no libc: only busybox-static will do
        bb_dir = tempfile.mkdtemp()
        subprocess.run(["dpkg-deb", "-x", _download("busybox-static", cache), bb_dir], check=True)
        busybox = os.path.join(bb_dir, "bin", "busybox")
    with tempfile.TemporaryDirectory() as tree:
        _say(f"unpacking {os.path.basename(kernel_deb)}")
        subprocess.run(["dpkg-deb", "-x", kernel_deb, tree], check=True)
        vmlinuz = glob.glob(os.path.join(tree, "boot", "vmlinuz-*"))[0]
        shutil.copyfile(vmlinuz, os.path.join(output, "vmlinuz"))
        modules = _with_dependencies(tree, MODULES)
    with open(busybox, "rb") as f:
        busybox_bytes = f.read()
    dirs = ["bin", "dev", "etc", "etc/acpi", "etc/acpi/PWRF", "lib", "lib/modules", "mnt", "proc", "sys", "tmp"]
    entries = [(d, 0o040755, b"") for d in dirs]
    entries += [("init", 0o100755, INIT.replace("@MODULES@", " ".join(modules)).encode()),
                ("bin/busybox", 0o100755, busybox_bytes), ("bin/sh", 0o100755, busybox_bytes),
                ("etc/udhcpc.script", 0o100755, UDHCPC.encode()),
                ("etc/acpi/PWRF/00000080", 0o100755, POWER_BUTTON.encode())]
    entries += [(f"lib/modules/{name}.ko", 0o100644, data) for name, data in modules.items()]
    _say("writing the initramfs")
    with open(os.path.join(output, "initrd.img"), "wb") as f:
        f.write(gzip.compress(_cpio(entries), compresslevel=6, mtime=0))
    with open(os.path.join(output, "root.img"), "wb") as f:
        f.truncate(1024 * 1024)  # the guest runs from its initramfs; the disk only carries the boot properties
    paths = {"kernel": os.path.join(output, "vmlinuz"), "ramdisk": os.path.join(output, "initrd.img"),
             "root": os.path.join(output, "root.img")}
    with open(os.path.join(output, "manifest.json"), "w") as f:
        json.dump({"kernel_package": os.path.basename(kernel_deb), "modules": sorted(modules), **paths}, f, indent=2)
    return paths


def _depends(data: bytes) -> list[str]:
    """The ``depends=`` entry of a module's .modinfo section."""
    start = data.find(b"\0depends=")
    if start < 0:
        return []
    value = data[start + 9: data.index(b"\0", start + 9)].decode()
    return [d for d in value.split(",") if d]


def _with_dependencies(tree: str, wanted: list[str]) -> dict[str, bytes]:
    """Module name -> .ko bytes for ``wanted`` and what they depend on, in an order insmod accepts."""
    found: dict[str, bytes] = {}

    def add(name: str) -> None:
        if name in found:
            return
        hits = glob.glob(os.path.join(tree, "lib", "modules", "*", "kernel", "**", f"{name}.ko"), recursive=True)
        if not hits:
            return  # built into the kernel
        with open(hits[0], "rb") as f:
            data = f.read()
        for dependency in _depends(data):
            add(dependency)
        found[name] = data  # after its dependencies: dicts keep insertion order

    for name in wanted:
        add(name)
    return found


def _is_static(path: str) -> bool:
    proc = subprocess.run(["ldd", path], capture_output=True, text=True)
    return proc.returncode != 0 or "not a dynamic executable" in (proc.stdout + proc.stderr)


def upload(paths: dict[str, str], name: str, conn: Any = None, visibility: str = "public") -> str:
    """Upload kernel, ramdisk and root disk (with the OS_* environment unless given an openstacksdk
    connection); returns the bootable image's id. Only admins may make public images."""
    if conn is None:
        import openstack

        conn = openstack.connect()
    kernel = conn.image.create_image(name=f"{name}-kernel", disk_format="aki", container_format="aki",
                                     filename=paths["kernel"], visibility=visibility)
    ramdisk = conn.image.create_image(name=f"{name}-ramdisk", disk_format="ari", container_format="ari",
                                      filename=paths["ramdisk"], visibility=visibility)
    root = conn.image.create_image(name=name, disk_format="raw", container_format="bare", filename=paths["root"],
                                   visibility=visibility, kernel_id=kernel.id, ramdisk_id=ramdisk.id,
                                   os_command_line="console=ttyS0 quiet panic=-1")
    return str(root.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default="build/test-image")
    parser.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/nubis-test-image"))
    parser.add_argument("--upload", action="store_true", help="upload to the cloud in the OS_* environment")
    parser.add_argument("--name", default="nubis-test-image")
    parser.add_argument("--private", action="store_true", help="upload for your project only (non-admins)")
    args = parser.parse_args()
    paths = build(args.output, args.cache_dir)
    for kind, path in paths.items():
        print(f"{kind}: {path} ({os.path.getsize(path)} bytes)")
    if args.upload:
        print(f"image: {upload(paths, args.name, visibility='private' if args.private else 'public')}")


if __name__ == "__main__":
    main()
