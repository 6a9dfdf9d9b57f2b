"""A guest as libvirt should run it: a typed description, and its domain XML.

Everything the driver decides (disks, pinning, NUMA, huge pages, tuning) is a
field here; ``to_xml`` is the only place that knows libvirt's element names,
and it builds the document with ElementTree, never by pasting strings.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from nubis.compute.virt.libvirt import cpuset

# quota:disk_* extra specs -> libvirt <iotune> children
IOTUNE_KEYS = ("total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec", "read_iops_sec",
               "write_iops_sec")
# Every <iotune> child a disk may get (a volume's QoS specs add the burst and size ones), in libvirt's order.
IOTUNE_ALL_KEYS = (*IOTUNE_KEYS, "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
                   "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max", "size_iops_sec")


@dataclasses.dataclass(frozen=True)
class Disk:
    path: str
    target: str  # vda, vdb, ... (sda/hda for other buses)
    bus: str = "virtio"
    format: str = "qcow2"
    device: str = "disk"  # disk | cdrom
    cache: str = "none"
    io: str | None = "native"  # native needs cache=none (O_DIRECT); None lets qemu choose
    readonly: bool = False
    iotune: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # A volume's NBD export (host, port, export name) instead of a file: ``path`` is then unused.
    nbd: tuple[str, int, str] | None = None


@dataclasses.dataclass(frozen=True)
class Interface:
    """A NIC on a tap device libvirt creates; the host's network agent puts the tap in its bridge."""

    mac: str
    tap: str
    mtu: int | None = None
    model: str = "virtio"
    # libvirt's <bandwidth>: {"inbound"|"outbound": {"average"|"peak"|"burst": KB/s or KB}} (flavor quota:vif_*)
    bandwidth: Mapping[str, Mapping[str, int]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class GuestCell:
    """A guest NUMA node: its vCPUs and memory, kept on one host cell."""

    id: int
    vcpus: tuple[int, ...]
    memory_kib: int
    host_cell: int


@dataclasses.dataclass(frozen=True)
class CpuTopology:
    sockets: int
    cores: int
    threads: int


@dataclasses.dataclass(frozen=True)
class CpuTune:
    vcpu_pins: Mapping[int, frozenset[int]] = dataclasses.field(default_factory=dict)  # vCPU -> host CPUs
    emulator_pin: frozenset[int] | None = None
    shares: int | None = None
    period: int | None = None
    quota: int | None = None

    def __bool__(self) -> bool:
        return bool(self.vcpu_pins or self.emulator_pin or self.shares or self.period or self.quota)


@dataclasses.dataclass(frozen=True)
class Graphics:
    """A remote display (VNC or SPICE) on a port libvirt picks (autoport), listening on ``listen``."""

    type: str  # vnc | spice
    listen: str


@dataclasses.dataclass(frozen=True)
class SerialTcp:
    """The guest's interactive serial console as a raw TCP socket on the host (for the serial proxy)."""

    host: str
    port: int


@dataclasses.dataclass(frozen=True)
class Domain:
    uuid: str
    name: str
    vcpus: int
    memory_kib: int
    virt_type: str = "kvm"  # kvm | qemu (TCG)
    machine_type: str = "pc"
    arch: str = "x86_64"
    kernel: str | None = None  # direct kernel boot
    initrd: str | None = None
    cmdline: str | None = None
    disks: tuple[Disk, ...] = ()
    interfaces: tuple[Interface, ...] = ()
    console_log: str | None = None
    cells: tuple[GuestCell, ...] = ()
    hugepage_kib: int | None = None
    topology: CpuTopology | None = None
    cputune: CpuTune = CpuTune()
    balloon: bool = True
    description: str = ""
    graphics: tuple[Graphics, ...] = ()
    serial_tcp: SerialTcp | None = None
    guest_agent: bool = False  # a virtio channel for the QEMU guest agent (image property hw_qemu_guest_agent)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _os(root: ET.Element, d: Domain) -> None:
    os_ = _sub(root, "os")
    _sub(os_, "type", "hvm", arch=d.arch, machine=d.machine_type)
    if d.kernel:
        _sub(os_, "kernel", d.kernel)
        if d.initrd:
            _sub(os_, "initrd", d.initrd)
        if d.cmdline:
            _sub(os_, "cmdline", d.cmdline)
    else:
        _sub(os_, "boot", dev="hd")


def _cpu(root: ET.Element, d: Domain) -> None:
    if not (d.topology or d.cells):
        return
    cpu = _sub(root, "cpu")
    if d.topology:
        _sub(cpu, "topology", sockets=str(d.topology.sockets), cores=str(d.topology.cores),
             threads=str(d.topology.threads))
    if d.cells:
        numa = _sub(cpu, "numa")
        for cell in d.cells:
            attrs = {"id": str(cell.id), "cpus": cpuset.format(cell.vcpus), "memory": str(cell.memory_kib),
                     "unit": "KiB"}
            if d.hugepage_kib:
                attrs["memAccess"] = "shared"
            _sub(numa, "cell", **attrs)


def _tuning(root: ET.Element, d: Domain) -> None:
    t = d.cputune
    if t:
        tune = _sub(root, "cputune")
        if t.shares:
            _sub(tune, "shares", str(t.shares))
        if t.period:
            _sub(tune, "period", str(t.period))
        if t.quota:
            _sub(tune, "quota", str(t.quota))
        for vcpu, host_cpus in sorted(t.vcpu_pins.items()):
            _sub(tune, "vcpupin", vcpu=str(vcpu), cpuset=cpuset.format(host_cpus))
        if t.emulator_pin:
            _sub(tune, "emulatorpin", cpuset=cpuset.format(t.emulator_pin))
    if d.cells:
        numatune = _sub(root, "numatune")
        _sub(numatune, "memory", mode="strict", nodeset=cpuset.format(c.host_cell for c in d.cells))
        for cell in d.cells:
            _sub(numatune, "memnode", cellid=str(cell.id), mode="strict", nodeset=str(cell.host_cell))
    if d.hugepage_kib:
        backing = _sub(root, "memoryBacking")
        pages = _sub(backing, "hugepages")
        attrs = {"size": str(d.hugepage_kib), "unit": "KiB"}
        if d.cells:
            attrs["nodeset"] = cpuset.format(c.id for c in d.cells)
        _sub(pages, "page", **attrs)


def _disk(devices: ET.Element, disk: Disk) -> None:
    element = _sub(devices, "disk", type="network" if disk.nbd else "file", device=disk.device)
    driver = {"name": "qemu", "type": disk.format, "cache": disk.cache}
    if disk.io:
        driver["io"] = disk.io
    _sub(element, "driver", **driver)
    if disk.nbd:
        host, port, name = disk.nbd
        _sub(_sub(element, "source", protocol="nbd", name=name), "host", name=host, port=str(port))
    else:
        _sub(element, "source", file=disk.path)
    _sub(element, "target", dev=disk.target, bus=disk.bus)
    if disk.readonly:
        _sub(element, "readonly")
    if disk.iotune:
        tune = _sub(element, "iotune")
        for key in IOTUNE_ALL_KEYS:
            if disk.iotune.get(key):
                _sub(tune, key, str(disk.iotune[key]))


def to_xml(d: Domain) -> str:
    root = ET.Element("domain", type=d.virt_type)
    _sub(root, "name", d.name)
    _sub(root, "uuid", d.uuid)
    if d.description:
        _sub(root, "description", d.description)
    _sub(root, "memory", str(d.memory_kib), unit="KiB")
    _sub(root, "vcpu", str(d.vcpus), placement="static")
    _tuning(root, d)
    _os(root, d)
    _sub(_sub(root, "features"), "acpi")
    _cpu(root, d)
    _sub(root, "on_poweroff", "destroy")
    _sub(root, "on_reboot", "restart")
    _sub(root, "on_crash", "destroy")
    devices = _sub(root, "devices")
    for disk in d.disks:
        _disk(devices, disk)
    for nic in d.interfaces:
        # type ethernet: libvirt makes the tap and leaves it alone; the network agent, which owns the
        # bridge (and its security group rules), plugs it in once it appears.
        element = _sub(devices, "interface", type="ethernet")
        _sub(element, "mac", address=nic.mac)
        _sub(element, "target", dev=nic.tap, managed="yes")
        _sub(element, "model", type=nic.model)
        if nic.mtu:
            _sub(element, "mtu", size=str(nic.mtu))
        if nic.bandwidth:
            bandwidth = _sub(element, "bandwidth")
            for direction in ("inbound", "outbound"):
                if nic.bandwidth.get(direction):
                    _sub(bandwidth, direction, **{k: str(v) for k, v in sorted(nic.bandwidth[direction].items())})
    if d.serial_tcp:
        # The guest's console (ttyS0) is the TCP socket the serial proxy connects to; what it writes is also
        # logged to the console log (as Nova does), so os-getConsoleOutput keeps working.
        serial = _sub(devices, "serial", type="tcp")
        _sub(serial, "source", mode="bind", host=d.serial_tcp.host, service=str(d.serial_tcp.port))
        _sub(serial, "protocol", type="raw")
        if d.console_log:
            _sub(serial, "log", file=d.console_log, append="on")
        _sub(serial, "target", port="0")
    elif d.console_log:
        serial = _sub(devices, "serial", type="file")
        _sub(serial, "source", path=d.console_log, append="on")
        _sub(serial, "target", port="0")  # libvirt makes the console an alias of this first serial port
    for g in d.graphics:
        element = _sub(devices, "graphics", type=g.type, autoport="yes", listen=g.listen)
        _sub(element, "listen", type="address", address=g.listen)
    if d.graphics:
        _sub(_sub(devices, "video"), "model", type="virtio" if d.arch != "x86_64" else "vga")
    if d.guest_agent:
        # libvirt picks the host-side socket path itself (type unix without a source path).
        channel = _sub(devices, "channel", type="unix")
        _sub(channel, "target", type="virtio", name="org.qemu.guest_agent.0")
    _sub(devices, "memballoon", model="virtio" if d.balloon else "none")
    return ET.tostring(root, encoding="unicode")


def console_ports(xml: str) -> dict[str, tuple[str, int]]:
    """The console endpoints a (live) domain XML names: {"vnc"|"spice"|"serial": (listen address, port)}.

    Graphics ports are only in the live XML (autoport picks them at start); -1 means not yet assigned.
    """
    root = ET.fromstring(xml)
    found: dict[str, tuple[str, int]] = {}
    for g in root.iterfind("./devices/graphics"):
        port = int(g.get("port", "-1"))
        if g.get("type") in ("vnc", "spice") and port > 0:
            found[str(g.get("type"))] = (g.get("listen") or "127.0.0.1", port)
    for serial in root.iterfind("./devices/serial[@type='tcp']"):
        source = serial.find("source")
        if source is not None and source.get("mode") == "bind" and source.get("service"):
            found.setdefault("serial", (source.get("host") or "127.0.0.1", int(str(source.get("service")))))
    return found


def files(xml: str) -> list[str]:
    """The host files a domain XML makes the guest use: its file-backed disks, its kernel and its ramdisk."""
    root = ET.fromstring(xml)
    found = [str(s.get("file")) for s in root.iterfind("./devices/disk/source") if s.get("file")]
    found += [str(e.text) for e in (root.find("./os/kernel"), root.find("./os/initrd")) if e is not None and e.text]
    return found


RESCUE_BUS_PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "ide": "hd", "usb": "sd"}
RESCUE_DEVICES = ("disk", "cdrom")


def with_rescue_device(xml: str, path: str, device: str, bus: str) -> str:
    """Stable-device rescue (Nova's, for images with ``hw_rescue_device``/``hw_rescue_bus``): the guest's own
    definition ``xml`` with every disk where it was, plus the rescue disk ``path`` on the next free target of
    ``bus``, booted first (per-device boot order; the ``<os><boot dev>`` it replaces cannot coexist with it)."""
    if device not in RESCUE_DEVICES or bus not in RESCUE_BUS_PREFIX:
        raise ValueError(f"hw_rescue_device must be one of {', '.join(RESCUE_DEVICES)} and hw_rescue_bus one of "
                         f"{', '.join(RESCUE_BUS_PREFIX)} (got {device!r}, {bus!r})")
    root = ET.fromstring(xml)
    os_ = root.find("os")
    if os_ is not None:
        for boot in os_.findall("boot"):
            os_.remove(boot)
    devices = root.find("devices")
    if devices is None:
        devices = _sub(root, "devices")
    for element in devices.iter("boot"):  # a boot order elsewhere would compete with the rescue disk's
        element.set("order", str(int(element.get("order", "1")) + 1))
    taken = {t.get("dev") for t in devices.iterfind("disk/target")}
    prefix = RESCUE_BUS_PREFIX[bus]
    target = next(f"{prefix}{chr(c)}" for c in range(ord("a"), ord("z") + 1) if f"{prefix}{chr(c)}" not in taken)
    disk = _sub(devices, "disk", type="file", device=device)
    _sub(disk, "driver", name="qemu", type="qcow2")
    _sub(disk, "source", file=path)
    _sub(disk, "target", dev=target, bus=bus)
    if device == "cdrom":
        _sub(disk, "readonly")
    _sub(disk, "boot", order="1")
    return ET.tostring(root, encoding="unicode")
