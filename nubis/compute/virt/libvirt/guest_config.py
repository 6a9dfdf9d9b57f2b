"""From what a boot asks (flavor extra specs, image properties, the scheduler's NUMA fit) to a ``Domain``.

Pure functions of their inputs, so every flavor/image combination can be
checked without a hypervisor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from nubis.compute import metadata
from nubis.compute.virt.driver import DriverError, GuestSpec
from nubis.compute.virt.libvirt import domain, volumes
from nubis.compute.virt.libvirt.host import GuestResources, HostTopology

_BUS_PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "ide": "hd", "usb": "sd"}
DOMAIN_PREFIX = "nubis-instance-"  # only domains named so are ours to list, clean up or destroy


@dataclasses.dataclass(frozen=True)
class GuestFiles:
    """Where a guest's files are on this host. A guest booted from a volume has no root file (``root`` is
    empty): its root disk is the volume's export, ``root_volume`` (Cinder's ``connection_info``)."""

    root: str
    root_format: str = "qcow2"
    ephemeral: str | None = None
    swap: str | None = None
    config_drive: str | None = None
    kernel: str | None = None
    ramdisk: str | None = None
    console_log: str | None = None
    root_volume: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class HostFacts:
    virt_type: str
    machine_type: str
    kernel_cmdline: str
    disk_cachemode: str
    resources: GuestResources
    topology: HostTopology


def domain_name(uuid: str) -> str:
    return DOMAIN_PREFIX + uuid


def _property(guest: GuestSpec, key: str) -> Any:
    return (guest.image_meta.get("properties") or {}).get(key)


def _int_spec(guest: GuestSpec, key: str) -> int | None:
    value = guest.extra_specs.get(key)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise DriverError(f"flavor extra spec {key}={value!r} is not an integer") from None
    if number < 0:
        raise DriverError(f"flavor extra spec {key}={value!r} must not be negative")
    return number


def cpu_topology(guest: GuestSpec) -> domain.CpuTopology | None:
    """hw:cpu_sockets/cores/threads (flavor, else image hw_cpu_*); missing ones are derived from the vCPUs."""
    wanted = {}
    for dim in ("sockets", "cores", "threads"):
        value = guest.extra_specs.get(f"hw:cpu_{dim}") or _property(guest, f"hw_cpu_{dim}")
        if value is not None:
            try:
                wanted[dim] = int(value)
            except ValueError:
                raise DriverError(f"hw:cpu_{dim}={value!r} is not an integer") from None
            if wanted[dim] < 1:
                raise DriverError(f"hw:cpu_{dim} must be at least 1")
    if not wanted:
        return None
    threads = wanted.get("threads", 1)
    if "sockets" in wanted and "cores" in wanted:
        sockets, cores = wanted["sockets"], wanted["cores"]
        threads = wanted.get("threads", max(1, guest.vcpus // (sockets * cores)))
    elif "sockets" in wanted:
        sockets = wanted["sockets"]
        cores = max(1, guest.vcpus // (sockets * threads))
    else:
        cores = wanted.get("cores", 1)
        sockets = max(1, guest.vcpus // (cores * threads))
    if sockets * cores * threads != guest.vcpus:
        raise DriverError(f"CPU topology {sockets} sockets x {cores} cores x {threads} threads does not make the "
                          f"flavor's {guest.vcpus} vCPUs")
    return domain.CpuTopology(sockets, cores, threads)


def _numa(guest: GuestSpec, host: HostFacts) -> tuple[tuple[domain.GuestCell, ...], dict[int, frozenset[int]],
                                                       int | None]:
    """Guest cells, vCPU pins and huge page size from the scheduler's fit (empty without one)."""
    fit = guest.numa_fit
    if not fit:
        return (), {}, None
    cells, pins, page_kib = [], {}, None
    shared_by_cell = {c.id: c.cpus & host.resources.shared_cpus for c in host.topology.cells}
    for index, cell in enumerate(fit["cells"]):
        vcpus = tuple(int(v) for v in cell["vcpus"])
        cells.append(domain.GuestCell(index, vcpus, int(cell["memory_mb"]) * 1024, int(cell["host_cell"])))
        pinning = {int(k): int(v) for k, v in cell["pinning"].items()}
        floating = shared_by_cell.get(int(cell["host_cell"])) or host.resources.shared_cpus
        for vcpu in vcpus:
            # Dedicated vCPUs get their own host CPU; the others float over the cell's shared CPUs.
            pins[vcpu] = frozenset({pinning[vcpu]}) if vcpu in pinning else frozenset(floating)
        if int(cell["page_size_kb"]) > 4:
            page_kib = int(cell["page_size_kb"])
    return tuple(cells), {v: p for v, p in pins.items() if p}, page_kib


def _cputune(guest: GuestSpec, host: HostFacts, pins: dict[int, frozenset[int]],
             pinned: bool) -> domain.CpuTune:
    shared = host.resources.shared_cpus
    if not pins and shared and shared != host.topology.cpus:
        pins = {v: frozenset(shared) for v in range(guest.vcpus)}  # floating guests stay off dedicated CPUs
    emulator = None
    if pinned:
        emulator = frozenset(shared) or frozenset().union(*pins.values())
    return domain.CpuTune(vcpu_pins=pins, emulator_pin=emulator, shares=_int_spec(guest, "quota:cpu_shares"),
                          period=_int_spec(guest, "quota:cpu_period"), quota=_int_spec(guest, "quota:cpu_quota"))


def local_disk_names(prefix: str, count: int, root_volume: bool, volume_devices: tuple[str, ...]) -> list[str]:
    """The targets of the guest's ``count`` own disks (root, ephemeral, swap, config drive, in that order):
    the first letters, after ``vda`` when the root is a volume, skipping those the volumes attached at spawn
    take (``volume_devices``, ``/dev/vdb``), so each volume gets the device its mapping records.

    :raises DriverError: no letter is left.
    """
    taken = {d.rsplit("/", 1)[-1] for d in volume_devices} | ({f"{prefix}a"} if root_volume else set())
    free = [f"{prefix}{c}" for c in "abcdefghijklmnopqrstuvwxyz" if f"{prefix}{c}" not in taken]
    if len(free) < count:
        raise DriverError(f"the guest has no free {prefix}X disk name left for its own disks")
    return free[:count]


def _disks(guest: GuestSpec, host: HostFacts, files: GuestFiles) -> tuple[domain.Disk, ...]:
    bus = str(_property(guest, "hw_disk_bus") or "virtio")
    if bus not in _BUS_PREFIX:
        raise DriverError(f"image property hw_disk_bus={bus!r} is not one of {', '.join(_BUS_PREFIX)}")
    prefix = _BUS_PREFIX[bus]
    iotune = {key: value for key in domain.IOTUNE_KEYS
              if (value := _int_spec(guest, f"quota:disk_{key}")) is not None}
    cache = host.disk_cachemode
    io = "native" if cache == "none" else None
    wanted: list[tuple[str, str, str, bool]] = [] if files.root_volume else [
        (files.root, files.root_format, "disk", False)]
    if files.ephemeral:
        wanted.append((files.ephemeral, "qcow2", "disk", False))
    if files.swap:
        wanted.append((files.swap, "qcow2", "disk", False))
    if files.config_drive:
        wanted.append((files.config_drive, "raw", "disk", True))
    names = local_disk_names(prefix, len(wanted), bool(files.root_volume), guest.volume_devices)
    found = [domain.Disk(path, name, bus=bus, format=fmt, device=device,
                         cache=cache, io=io, readonly=readonly, iotune={} if readonly else iotune)
             for name, (path, fmt, device, readonly) in zip(names, wanted, strict=True)]
    if files.root_volume:
        # Booted from a volume: the root disk (vda, the first, so <boot dev='hd'> boots it) is the volume's NBD
        # export, defined as an attached volume is (raw, no host cache, virtio).
        try:
            export = volumes.nbd_export(files.root_volume)
        except volumes.UnsupportedVolume as exc:
            raise DriverError(f"the root volume cannot be used: {exc}") from exc
        # The volume's front-end QoS specs (connection_info data.qos_specs) win over the flavor's disk quotas.
        found.insert(0, domain.Disk("", "vda", bus="virtio", format="raw", cache="none", io=None,
                                    iotune={**iotune, **volumes.qos_iotune(files.root_volume)}, nbd=export))
    return tuple(found)


def build(guest: GuestSpec, host: HostFacts, files: GuestFiles) -> domain.Domain:
    cells, pins, page_kib = _numa(guest, host)
    pinned = guest.extra_specs.get("hw:cpu_policy") in ("dedicated", "mixed")
    if pinned and not guest.numa_fit:
        raise DriverError("a pinned guest (hw:cpu_policy dedicated) needs the scheduler's CPU assignment, "
                          "and none came with the request")
    cmdline = None
    if files.kernel:
        cmdline = str(_property(guest, "os_command_line") or host.kernel_cmdline)
    machine = str(_property(guest, "hw_machine_type") or host.machine_type)
    return domain.Domain(
        uuid=guest.uuid, name=domain_name(guest.uuid), vcpus=guest.vcpus, memory_kib=guest.memory_mb * 1024,
        virt_type=host.virt_type, machine_type=machine, kernel=files.kernel, initrd=files.ramdisk, cmdline=cmdline,
        disks=_disks(guest, host, files), console_log=files.console_log,
        interfaces=tuple(domain.Interface(mac=v["mac"], tap=v["tap"], mtu=v.get("mtu"), bandwidth=vif_bandwidth(guest, v))
                         for v in guest.vifs), cells=cells, hugepage_kib=page_kib,
        topology=cpu_topology(guest), cputune=_cputune(guest, host, pins, pinned),
        # A balloon would let the host take back memory a pinned, NUMA-placed guest was promised.
        balloon=not (pinned or page_kib), description=f"Nubis instance {guest.name}",
        guest_agent=has_guest_agent(guest))


def vif_bandwidth(guest: GuestSpec, vif: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """The flavor's ``quota:vif_{inbound,outbound}_{average,peak,burst}`` (KB/s, burst in KB) as libvirt's
    <bandwidth> of one NIC, as Nova renders them; none for a port with a QoS policy (its own or its network's):
    the network service's bandwidth rule wins, enforced by the network agent on the same tap."""
    if vif.get("qos_policy_id"):
        return {}
    found: dict[str, dict[str, int]] = {}
    for direction in ("inbound", "outbound"):
        limits = {key: value for key in ("average", "peak", "burst")
                  if (value := _int_spec(guest, f"quota:vif_{direction}_{key}")) is not None}
        if limits:
            found[direction] = limits
    return found


def has_guest_agent(guest: GuestSpec) -> bool:
    """Whether the image declares a QEMU guest agent (``hw_qemu_guest_agent=yes``), as Nova reads it."""
    return str(_property(guest, "hw_qemu_guest_agent") or "no").lower() in ("yes", "true", "1")


def metadata_files(guest: GuestSpec) -> Mapping[str, bytes]:
    """The config drive's files, laid out as the OpenStack metadata service serves them."""
    ports = [{"id": v["id"], "network_id": v["network_id"], "mac_address": v["mac"], "mtu": v.get("mtu"),
              "fixed_ips": v["fixed_ips"], "subnets": v.get("subnets", {})} for v in guest.vifs]
    return metadata.openstack_files(metadata.InstanceFacts(
        uuid=guest.uuid, name=guest.name, project_id=guest.project_id, availability_zone=guest.availability_zone,
        metadata=guest.metadata, key_name=guest.key_name, key_data=guest.key_data, user_data=guest.user_data), ports)
