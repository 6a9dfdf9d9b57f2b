"""Boot from volume, the API's half: a boot's block device mappings read and checked as Nova does, and the
volumes made or reserved for it as the caller.

``block_device_mapping_v2`` (and the legacy ``block_device_mapping``) name the server's volumes: the root disk
(boot_index 0) and data volumes (boot_index absent, null, -1 or above 0), each an existing one (``source_type``
volume: reserved for the server here, an attachment without a connector), or one made for the server from an
image, a snapshot or nothing (``blank``), created here through the volume service as the caller (its quota
answers 403 as Nova maps it). The conductor waits for the made volumes to become available, then connects them
for the chosen host (``conductor.boot_volumes``). Data volumes may go with an image-backed root (``imageRef``)
or a volume root; each gets a device name (the one asked for when free, else the next ``/dev/vdX`` after the
root and the flavor's local disks).

An image to ``local`` with boot_index 0 is the same as ``imageRef``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import string
from collections.abc import Callable, Iterable
from typing import Any

import tenacity
from oslo_utils import strutils

from nubis.common import exceptions
from nubis.common.clients.volume import VolumeClient
from nubis.common.context import RequestContext
from nubis.common.retrying import log_retry

LOG = logging.getLogger(__name__)
ROOT_DEVICE = "/dev/vda"
SOURCES_MADE = ("image", "snapshot", "blank")  # volumes made for the server (source_type of its mapping)
_BAD_SEQUENCE = "Boot sequence for the instance and image/block device mapping combination is not valid."


def _invalid(why: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"Block Device Mapping is Invalid: {why}")


@dataclasses.dataclass(frozen=True)
class BootDevice:
    """One block device mapping of a boot request, normalised (legacy mappings included)."""

    source_type: str  # volume | image | snapshot | blank
    destination_type: str  # volume | local
    uuid: str | None  # the volume, image or snapshot (None for blank)
    boot_index: int | None  # None: not bootable
    volume_size: int | None = None
    delete_on_termination: bool = False
    volume_type: str | None = None
    tag: str | None = None
    device_name: str | None = None  # as asked (normalised to /dev/...), None: the next free one


def _device(value: Any) -> str | None:
    """A device name as ``/dev/<name>`` (Nova takes ``vdb`` or ``/dev/vdb``); None when not given."""
    name = str(value or "").rsplit("/", 1)[-1]
    return f"/dev/{name}" if name else None


def _boot_index(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"boot_index {value!r} is not an integer.") from None
    return index if index >= 0 else None


def _size(value: Any) -> int | None:
    """``volume_size`` in GiB (Nova takes it as a string of digits too); None when not given."""
    if value is None:
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"volume_size {value!r} is not an integer.") from None
    if size < 1:
        raise _invalid(f"volume_size must be at least 1 GiB, not {size}.")
    return size


def _flag(value: Any) -> bool:
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise _invalid(f"delete_on_termination {value!r} is not a boolean.") from None


def _from_legacy(item: dict[str, Any]) -> BootDevice | None:
    """A legacy mapping (``device_name`` vda + ``volume_id`` or ``snapshot_id``); None for ``no_device``."""
    if item.get("no_device"):
        return None
    if item.get("virtual_name"):
        raise _invalid("ephemeral and swap mappings (virtual_name) are not supported yet.")
    device = str(item.get("device_name") or "")
    root = device.rsplit("/", 1)[-1] == "vda"
    if item.get("volume_id"):
        source, uuid = "volume", str(item["volume_id"])
    elif item.get("snapshot_id"):
        source, uuid = "snapshot", str(item["snapshot_id"])
    else:
        raise _invalid("a legacy mapping needs a volume_id or a snapshot_id.")
    return BootDevice(source, "volume", uuid, 0 if root else None, _size(item.get("volume_size")),
                      _flag(item.get("delete_on_termination", False)), device_name=_device(device))


def _from_v2(item: dict[str, Any]) -> BootDevice:
    source = item.get("source_type")
    if source not in ("volume", "image", "snapshot", "blank"):
        raise _invalid("Missing or invalid source_type.")
    destination = item.get("destination_type") or ("local" if source in ("image", "blank") else "volume")
    uuid = item.get("uuid") or item.get("image_id") or item.get("volume_id") or item.get("snapshot_id")
    if source != "blank" and not uuid:
        raise _invalid("Missing device UUID.")
    device = BootDevice(source, destination, str(uuid) if uuid else None, _boot_index(item.get("boot_index")),
                        _size(item.get("volume_size")), _flag(item.get("delete_on_termination", False)),
                        item.get("volume_type"), item.get("tag"), _device(item.get("device_name")))
    if destination == "local":
        if source == "image" and device.boot_index == 0:
            return device
        if source in ("volume", "snapshot"):
            raise _invalid(f"a {source} cannot be mapped to a local disk.")
        raise _invalid("local disks other than the image's root (ephemeral, swap) are not supported yet.")
    if source in ("image", "blank") and not device.volume_size:
        raise _invalid("Images with destination_type 'volume' need to have a non-zero size specified."
                       if source == "image" else
                       "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size.")
    return device


def parse(server: dict[str, Any]) -> list[BootDevice]:
    """The boot's mappings, from ``block_device_mapping_v2`` or the legacy ``block_device_mapping`` (both: 400).

    An ``imageRef`` with no boot_index 0 mapping is the root (boot_index 0), as Nova adds its image mapping.

    :raises BadRequest: a combination Nova refuses, a boot sequence with gaps or duplicates, or one volume
        mapped twice.
    """
    legacy, v2 = server.get("block_device_mapping"), server.get("block_device_mapping_v2")
    if legacy and v2:
        raise exceptions.BadRequest("Using different block_device_mapping syntaxes is not allowed")
    found = [d for d in (_from_legacy(i) for i in legacy or []) if d is not None] if legacy else \
        [_from_v2(i) for i in v2 or []]
    indexes = sorted(d.boot_index for d in found if d.boot_index is not None)
    if server.get("imageRef") and 0 not in indexes:
        indexes = [0, *indexes]
    if indexes and indexes != list(range(len(indexes))):
        raise _invalid(_BAD_SEQUENCE)
    seen: set[str] = set()
    for d in found:
        if d.source_type == "volume" and d.uuid is not None:
            if d.uuid in seen:
                raise exceptions.BadRequest(f"Invalid volume: volume {d.uuid} is mapped more than once in the "
                                            "request.")
            seen.add(d.uuid)
    return found


def from_image(image: dict[str, Any]) -> list[BootDevice]:
    """The mappings an image carries when createImage made it of a volume-backed server (Glance properties
    ``bdm_v2`` and ``block_device_mapping``, a JSON list of BDM v2 entries naming volume snapshots, as Nova
    writes them): booting the image makes the server's volumes from those snapshots. [] for other images.

    :raises BadRequest: the mapping is not a JSON list of objects, or is one this cloud cannot boot (see parse).
    """
    raw = image.get("block_device_mapping")
    if not raw or not strutils.bool_from_string(image.get("bdm_v2")):
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        items = None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _invalid(f"image {image.get('id')} has a block_device_mapping property that is not a JSON list of "
                       "mappings.")
    return parse({"block_device_mapping_v2": [i for i in items if not i.get("no_device")]})


def root_volume(devices: Iterable[BootDevice]) -> BootDevice | None:
    """The mapping that makes the server volume-backed (boot_index 0 to a volume), if any."""
    return next((d for d in devices if d.boot_index == 0 and d.destination_type == "volume"), None)


def data_volumes(devices: Iterable[BootDevice]) -> list[BootDevice]:
    """The mappings to volumes other than the root (boot_index absent, -1 or above 0), in request order."""
    return [d for d in devices if d.destination_type == "volume" and d.boot_index != 0]


def local_devices(flavor: dict[str, Any], config_drive: bool) -> list[str]:
    """The device names the guest's own disks take, as the libvirt driver names them: the root (``/dev/vda``,
    an image's or a volume's), then the flavor's ephemeral disk and swap, then the config drive."""
    count = 1 + bool(flavor.get("ephemeral_gb")) + bool(flavor.get("swap")) + bool(config_drive)
    return [f"/dev/vd{string.ascii_lowercase[i]}" for i in range(count)]


def name_devices(devices: list[BootDevice], taken: Iterable[str]) -> list[BootDevice]:
    """``devices`` (data volumes) each with a device name: the one asked for when it is a free ``/dev/vdX``,
    else the first free one after those ``taken`` (the guest's own disks) and the others' (Nova's defaults).

    :raises BadRequest: more volumes than ``/dev/vdb`` to ``/dev/vdz`` can name.
    """
    used = set(taken)
    wanted: dict[int, str] = {}
    for i, d in enumerate(devices):  # the names asked for first, so an unnamed volume never takes one
        if d.device_name and re.fullmatch(r"/dev/vd[a-z]", d.device_name) and d.device_name not in used:
            wanted[i] = d.device_name
            used.add(d.device_name)
    named = []
    for i, d in enumerate(devices):
        name = wanted.get(i)
        if name is None:
            name = next((f"/dev/vd{c}" for c in string.ascii_lowercase[1:] if f"/dev/vd{c}" not in used), None)
            if name is None:
                raise _invalid("too many volumes: /dev/vdb to /dev/vdz are all taken.")
            used.add(name)
        named.append(dataclasses.replace(d, device_name=name))
    return named


def root_image(devices: Iterable[BootDevice]) -> str | None:
    """The image of an image-to-local root mapping (the same as ``imageRef``), if any."""
    return next((d.uuid for d in devices if d.boot_index == 0 and d.destination_type == "local"), None)


def wait_settled(volumes: VolumeClient, ctx: RequestContext, volume_id: str, retries: int,
                 interval: float, between: Callable[[], None] | None = None) -> dict[str, Any]:
    """The volume once it has left ``creating`` (Nova's ``[compute] block_device_allocate_retries`` checks,
    ``block_device_allocate_retries_interval`` seconds apart); still ``creating`` after them: as last read.
    ``between`` runs before each pause (the conductor touches the instance it works on)."""
    logged = log_retry(LOG, f"Volume {volume_id} is still being made")

    def before_sleep(state: tenacity.RetryCallState) -> None:
        logged(state)
        if between is not None:
            between()

    retry = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda v: v["status"] in ("creating", "downloading")),
        stop=tenacity.stop_after_attempt(retries + 1), wait=tenacity.wait_fixed(interval),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        before_sleep=before_sleep)
    found: dict[str, Any] = retry(volumes.get_volume, ctx, volume_id)
    return found


def delete_made(volumes: VolumeClient, ctx: RequestContext, volume_id: str, retries: int, interval: float) -> None:
    """Delete a volume made for a boot, once it is no longer being made (a volume service refuses to delete a
    ``creating`` volume); a missing one is fine.

    :raises NubisError: the volume service refused or failed.
    """
    try:
        wait_settled(volumes, ctx, volume_id, retries, interval)
    except exceptions.NotFound:
        return
    volumes.delete_volume(ctx, volume_id)


def _volume_image(volume: dict[str, Any]) -> dict[str, Any]:
    """The image a volume was made from, as far as its ``volume_image_metadata`` tells (Nova boots a
    volume-backed server with these properties: bus, machine, kernel and ramdisk); {} for none."""
    found = volume.get("volume_image_metadata") or {}
    if not found:
        return {}
    image: dict[str, Any] = {k: v for k, v in found.items()
                             if k.startswith(("hw_", "img_", "os_")) or k in ("kernel_id", "ramdisk_id")}
    image["id"] = found.get("image_id")
    for key in ("min_ram", "min_disk"):
        try:
            image[key] = int(found.get(key) or 0)
        except (TypeError, ValueError):
            image[key] = 0
    return image


@dataclasses.dataclass(frozen=True)
class Prepared:
    """One volume of one server of the boot: made for it, or reserved for it (``attachment_id``)."""

    instance_uuid: str
    volume_id: str
    source_type: str
    delete_on_termination: bool
    attachment_id: str | None = None
    tag: str | None = None
    boot_index: int | None = 0
    device_name: str = ROOT_DEVICE


class BootVolumes:
    """The volume service's side of a boot, as the caller (its visibility, policy and quota decide)."""

    def __init__(self, volumes: VolumeClient | None, image_lookup: Callable[[RequestContext, str], dict[str, Any]],
                 retries: int, interval: float) -> None:
        self.volumes = volumes
        self.image_lookup = image_lookup
        self.retries = retries
        self.interval = interval

    def _client(self) -> VolumeClient:
        if self.volumes is None:
            raise exceptions.BadRequest("This cloud has no block storage service: servers cannot boot with "
                                        "volumes.")
        return self.volumes

    def check(self, ctx: RequestContext, device: BootDevice, count: int) -> dict[str, Any]:
        """Check one volume mapping against what it names, before anything is made; for the root (boot_index 0)
        the image the server boots (for a volume made from one, else {}), for its properties and minimum RAM.
        An existing root volume must be bootable; a data volume need not be.

        :raises BadRequest: the volume, snapshot or image cannot be found or is not available, or one volume
            would go to several servers.
        """
        volumes = self._client()
        assert device.uuid is not None or device.source_type == "blank"
        if device.source_type == "volume":
            if count > 1:
                raise exceptions.BadRequest("Cannot attach one or more volumes to multiple instances")
            try:
                volume = volumes.get_volume(ctx, str(device.uuid))
            except exceptions.NotFound:
                raise exceptions.BadRequest(f"Invalid volume: Volume {device.uuid} could not be found.") from None
            if volume["status"] != "available":
                raise exceptions.BadRequest(f"Invalid volume: volume {device.uuid} status must be 'available' "
                                            f"(it is {volume['status']}).")
            if device.boot_index == 0 and not strutils.bool_from_string(volume.get("bootable", True), default=True):
                # Nova's InvalidBDMVolumeNotBootable: mark it bootable (os-set_bootable) to boot from it
                raise _invalid(f"volume {device.uuid} is not bootable (its bootable flag is false).")
            return _volume_image(volume)
        if device.source_type == "snapshot":
            try:
                snapshot = volumes.get_snapshot(ctx, str(device.uuid))
            except exceptions.NotFound:
                raise exceptions.BadRequest(f"Invalid snapshot: Snapshot {device.uuid} could not be found.") from None
            if snapshot["status"] != "available":
                raise exceptions.BadRequest(f"Invalid snapshot: snapshot {device.uuid} status must be 'available' "
                                            f"(it is {snapshot['status']}).")
            if device.boot_index != 0:
                return {}
            try:  # the new volume carries the image metadata of the snapshot's volume
                return _volume_image(volumes.get_volume(ctx, str(snapshot["volume_id"])))
            except exceptions.NotFound:
                return {}
        if device.source_type == "image":
            return self.image_lookup(ctx, str(device.uuid))
        return {}

    def prepare(self, ctx: RequestContext, devices: list[BootDevice], uuids: list[str]) -> list[Prepared]:
        """Each server's volumes (``devices``: the root, if a volume, and the data volumes, named): an existing
        one reserved for it, or a new one made (``creating``).

        On any failure what was made or reserved is undone before the error goes on.

        :raises Forbidden: the volume quota (volumes, gigabytes) is exceeded.
        :raises BadRequest: the volume service refused (the volume is not available any more, a size too
            small for the image or snapshot, an unknown volume type).
        """
        volumes = self._client()
        done: list[Prepared] = []
        try:
            for uuid in uuids:
                for device in devices:
                    name = ROOT_DEVICE if device.boot_index == 0 else str(device.device_name)
                    if device.source_type == "volume":
                        assert device.uuid is not None
                        reserved = volumes.create_attachment(ctx, device.uuid, uuid, None)
                        done.append(Prepared(uuid, device.uuid, "volume", device.delete_on_termination,
                                             reserved["id"], device.tag, device.boot_index, name))
                        continue
                    spec: dict[str, Any] = {"size": device.volume_size,
                                            "name": f"{uuid}-{'root' if device.boot_index == 0 else name[5:]}"}
                    if device.source_type == "image":
                        spec["imageRef"] = device.uuid
                    elif device.source_type == "snapshot":
                        spec["snapshot_id"] = device.uuid
                    if device.volume_type:
                        spec["volume_type"] = device.volume_type
                    try:
                        made = volumes.create_volume(ctx, spec)
                    except exceptions.NotFound as exc:  # an unknown volume type or source: a bad boot request
                        raise exceptions.BadRequest(f"Invalid block device mapping: {exc}") from None
                    done.append(Prepared(uuid, made["id"], device.source_type, device.delete_on_termination, None,
                                         device.tag, device.boot_index, name))
        except Exception:
            self.undo(ctx, done)
            raise
        return done

    def undo(self, ctx: RequestContext, prepared: Iterable[Prepared]) -> None:
        """Give back what ``prepare`` did: reservations deleted, volumes made for the boot deleted. Failures
        are logged: the boot's own error is the one to report."""
        volumes = self._client()
        for p in prepared:
            try:
                if p.attachment_id:
                    volumes.delete_attachment(ctx, p.attachment_id)
                if p.source_type in SOURCES_MADE:
                    delete_made(volumes, ctx, p.volume_id, self.retries, self.interval)
            except exceptions.NubisError as e:
                LOG.error("Could not give back volume %s of a failed boot: %s", p.volume_id, e)
