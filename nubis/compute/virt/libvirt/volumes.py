"""Volumes as libvirt network disks: Cinder's ``connection_info`` → ``<disk type='network'>``, and the disk
targets a domain already uses (so a hot-plugged volume takes the first free ``vdX``).

Only ``driver_volume_type: nbd`` is supported: qemu's own NBD client connects to the storage host's export,
so the compute needs no kernel initiator.
"""

from __future__ import annotations

import string
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from nubis.compute.virt.libvirt import domain

# The QoS specs keys Nova's libvirt volume driver takes from Cinder's connection_info (``data.qos_specs``, the
# volume type's front-end QoS specs) into the disk's <iotune>, in libvirt's order.
QOS_IOTUNE_KEYS = domain.IOTUNE_ALL_KEYS


class UnsupportedVolume(ValueError):
    """The connection_info names a transport this driver cannot attach."""


def nbd_export(connection_info: Mapping[str, Any]) -> tuple[str, int, str]:
    """(host, port, export name) of an NBD ``connection_info``.

    :raises UnsupportedVolume: another transport, or the address is incomplete.
    """
    kind = connection_info.get("driver_volume_type")
    if kind != "nbd":
        raise UnsupportedVolume(f"volumes of driver_volume_type {kind!r} cannot be attached (only nbd)")
    data = connection_info.get("data") or {}
    try:
        return str(data["host"]), int(data["port"]), str(data["name"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnsupportedVolume(f"the nbd connection_info lacks host, port or name: {exc}") from exc


def qos_iotune(connection_info: Mapping[str, Any]) -> dict[str, int]:
    """The ``<iotune>`` limits of a volume: the ``QOS_IOTUNE_KEYS`` of ``data.qos_specs`` that are positive
    integers (other keys, such as back-end ones, and values a hypervisor cannot apply are left out)."""
    specs = (connection_info.get("data") or {}).get("qos_specs")
    if not isinstance(specs, Mapping):
        return {}
    out = {}
    for key in QOS_IOTUNE_KEYS:
        try:
            value = int(str(specs.get(key, "")).strip())
        except ValueError:
            continue
        if value > 0:
            out[key] = value
    return out


def iotune_element(parent: ET.Element, limits: Mapping[str, int]) -> None:
    """Add ``<iotune>`` with ``limits`` to ``parent`` (a ``<disk>``), in libvirt's order; nothing when empty."""
    if not limits:
        return
    tune = ET.SubElement(parent, "iotune")
    for key in QOS_IOTUNE_KEYS:
        if limits.get(key):
            ET.SubElement(tune, key).text = str(limits[key])


def disk_xml(connection_info: Mapping[str, Any], target: str) -> str:
    """The ``<disk>`` element for an NBD export (``data``: host, port, name) as virtio disk ``target`` (vdb),
    with the volume's front-end QoS specs (``data.qos_specs``) as its ``<iotune>``."""
    host, port, name = nbd_export(connection_info)
    data = connection_info.get("data") or {}
    disk = ET.Element("disk", type="network", device="disk")
    # cache none: writes reach the export at once (the volume outlives this guest); raw: the export is raw.
    ET.SubElement(disk, "driver", name="qemu", type="raw", cache="none")
    source = ET.SubElement(disk, "source", protocol="nbd", name=name)
    ET.SubElement(source, "host", name=host, port=str(port))
    ET.SubElement(disk, "target", dev=target, bus="virtio")
    if data.get("access_mode") == "ro":
        ET.SubElement(disk, "readonly")
    iotune_element(disk, qos_iotune(connection_info))
    return ET.tostring(disk, encoding="unicode")


def used_targets(domain_xml: str) -> set[str]:
    """The disk target names (vda, vdb, hdd ...) of a domain."""
    root = ET.fromstring(domain_xml)
    return {t.get("dev", "") for t in root.findall("./devices/disk/target")}


def free_target(domain_xml: str, wanted: str) -> str:
    """``wanted`` (``/dev/vdb`` or ``vdb``) if the domain does not use it, else the first free virtio name."""
    used = used_targets(domain_xml)
    wanted = wanted.rsplit("/", 1)[-1]
    if wanted.startswith("vd") and wanted not in used:
        return wanted
    for letter in string.ascii_lowercase[1:]:
        if f"vd{letter}" not in used:
            return f"vd{letter}"
    raise UnsupportedVolume("the guest has no free virtio disk name left (vdb to vdz are all used)")


def find_disk(domain_xml: str, target: str) -> str | None:
    """The ``<disk>`` element of ``target`` (``/dev/vdb`` or ``vdb``) as XML, None when the domain lacks it."""
    target = target.rsplit("/", 1)[-1]
    for disk in ET.fromstring(domain_xml).findall("./devices/disk"):
        t = disk.find("target")
        if t is not None and t.get("dev") == target:
            return ET.tostring(disk, encoding="unicode")
    return None
