"""Servers: boot, list, show, change, delete, and the power actions, as the API asks for them."""

from __future__ import annotations

import builtins
import functools
import ipaddress
import logging
import re
import uuid as uuidlib
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
import tenacity
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.clients.image import ImageClient
from nubis.common.clients.volume import VolumeClient
from nubis.common.context import RequestContext
from nubis.common.db import paging, types
from nubis.common.db.engine import Database
from nubis.compute import states
from nubis.compute.actions import POWER_ACTIONS
from nubis.compute.agent.rpcapi import BOOT_FROM_VOLUME, ComputeAgentAPI
from nubis.compute.conductor.rpcapi import ConductorAPI
from nubis.compute.core import boot_volumes, timestamps
from nubis.compute.core.flavors import FlavorStore
from nubis.compute.core.instances import Fault, InstanceStore, guest_payload, image_meta
from nubis.compute.core.keypairs import KeypairStore
from nubis.compute.core.quotas import QuotaStore
from nubis.compute.core.server_groups import ServerGroupStore
from nubis.compute.core.services import ServiceStore
from nubis.compute.db.models import BlockDeviceMapping, Instance, Migration, ProjectLock
from nubis.compute.networking import Networking
from nubis.compute.networking import addresses as network_addresses

LOG = logging.getLogger(__name__)

RESIZE = "resize"  # the migration_type of a resize's record
# How long a boot whose commit was cut off keeps trying to mark its maybe-written instances deleted (a Galera
# writer failover through HAProxy takes about 2 s).
FORGET_SECONDS = 15.0

_SORTABLE = {"created_at": Instance.created_at, "display_name": Instance.name, "updated_at": Instance.updated_at,
             "uuid": Instance.uuid, "vm_state": Instance.vm_state}
# Servers are paged in SQL (keyset, nubis.common.db.paging) after a marker, then by the sort key and uuid.
_BY_UUID = paging.SortKey(Instance.uuid)
_MAX_PAGE = 1000  # the API caps limit at Nova's [api] max_limit before this
# With filters SQL cannot apply portably (a name regex, the flavor inside the JSON, tags), rows are read in
# SQL pages of this many and filtered here until the page is full.
_SCAN_BATCH = 200


def _unknown_marker(marker: Any) -> Exception:
    return exceptions.BadRequest(f"marker [{marker}] not found")


# Nova's tag filters: (the server's tags, the wanted tags) -> whether the server is listed.
_TAG_FILTERS: dict[str, Callable[[frozenset[str], frozenset[str]], bool]] = {
    "tags": lambda have, want: want <= have, "tags-any": lambda have, want: bool(have & want),
    "not-tags": lambda have, want: not want <= have, "not-tags-any": lambda have, want: not have & want}


def _tags_match(keep: Callable[[frozenset[str], frozenset[str]], bool], wanted: frozenset[str],
                row: Instance) -> bool:
    return keep(frozenset(row.tags or []), wanted)


def _access_ip(value: str | None) -> str | None:
    """An access address in its canonical form (``0:0::babe:220.12.22.2`` is kept as ``::babe:dc0c:1602``, as
    Nova stores it); None for none. The schema has already checked it is an address."""
    return str(ipaddress.ip_address(value)) if value else None


def _has_fixed_address(pattern: re.Pattern[str], version: int, row: Instance) -> bool:
    return any(a["version"] == version and a.get("OS-EXT-IPS:type") != "floating" and pattern.match(a["addr"])
               for addrs in network_addresses(row.network_info).values() for a in addrs)


def _python_filter(params: dict[str, str]) -> Callable[[Instance], bool] | None:
    """The filters of ``params`` that are applied to rows rather than in SQL, as one test; None if none.

    :raises BadRequest: the name filter is not a regular expression.
    """
    tests: list[Callable[[Instance], bool]] = []
    if params.get("name"):
        try:
            pattern = re.compile(params["name"])
        except re.error:
            raise exceptions.BadRequest(f"Invalid name filter {params['name']!r}: not a regular expression.") from None
        tests.append(lambda r: bool(pattern.search(r.name)))
    if params.get("flavor"):
        flavor = params["flavor"]
        tests.append(lambda r: bool(r.flavor.get("flavorid") == flavor))
    for name, keep in _TAG_FILTERS.items():
        if params.get(name):
            tests.append(functools.partial(_tags_match, keep, frozenset(params[name].split(","))))
    for name, version in (("ip", 4), ("ip6", 6)):  # Nova: a regular expression over the fixed addresses
        if params.get(name):
            try:
                found = re.compile(params[name])
            except re.error:
                raise exceptions.BadRequest(f"Invalid {name} filter: not a regular expression.") from None
            tests.append(functools.partial(_has_fixed_address, found, version))
    if not tests:
        return None
    return lambda r: all(test(r) for test in tests)


def _filtered_page(s: Any, q: sa.Select[Any], keys: list[paging.SortKey], limit: int, marker: str | None,
                   keep: Callable[[Instance], bool]) -> list[Instance]:
    """Up to ``limit`` rows of ``q`` after ``marker`` that pass ``keep``: SQL pages read until it is full.

    :raises BadRequest: ``marker`` is not a server this listing shows.
    """
    if marker is not None:
        row = s.scalar(q.where(Instance.uuid == marker).limit(1))
        if row is None or not keep(row):
            raise _unknown_marker(marker)
    rows: list[Instance] = []
    cursor = marker
    while len(rows) < limit:
        page = paging.paginate(s, q, keys, _BY_UUID, _SCAN_BATCH, _SCAN_BATCH, cursor, _unknown_marker)
        rows += [r for r in page.rows if keep(r)]
        if not page.more:
            break
        cursor = page.rows[-1].uuid
    return rows[:limit]


_STATUS_FILTER = {"ACTIVE": states.ACTIVE, "BUILD": states.BUILDING, "SHUTOFF": states.STOPPED,
                  "PAUSED": states.PAUSED, "SUSPENDED": states.SUSPENDED, "RESCUE": states.RESCUED, "ERROR": states.ERROR,
                  "DELETED": states.DELETED}


class ServerCore:
    def __init__(self, conf: cfg.ConfigOpts, db: Database, flavors: FlavorStore, keypairs: KeypairStore,
                 groups: ServerGroupStore, services: ServiceStore, quotas: QuotaStore, conductor: ConductorAPI,
                 agents: ComputeAgentAPI, images: ImageClient | None,
                 network: Networking | None = None, volumes: VolumeClient | None = None) -> None:
        self.conf = conf
        self.db = db
        self.instances = InstanceStore(db)
        self.flavors = flavors
        self.keypairs = keypairs
        self.groups = groups
        self.services = services
        self.quotas = quotas
        self.conductor = conductor
        self.agents = agents
        self.images = images
        self.network = network
        self.volumes = volumes
        # Called with (ctx, uuid) when a server is deleted: its volumes are given back (volume_attachments).
        self.on_delete: builtins.list[Callable[[RequestContext, str], None]] = []

    # -- boot ------------------------------------------------------------------------------------------

    def _image(self, ctx: RequestContext, image_ref: str) -> dict[str, Any]:
        if self.images is None:
            raise exceptions.BadRequest("This cloud has no image service; boot with a volume is not available either.")
        try:
            # Read as the caller: the image service's own visibility rule (public, community, the project's
            # own, or shared with it as a member) decides, exactly as for the caller's GET of the image.
            resp = self.images.show(image_ref, caller=ctx)
        except ks_exc.EndpointNotFound:
            raise exceptions.BadRequest("This cloud's catalog has no image service to boot from.") from None
        except ks_exc.ConnectionError as exc:
            raise exceptions.ServiceUnavailable(f"The image service cannot be reached: {exc}") from None
        image = resp.json() if resp.status_code == 200 else None
        if image is None:
            raise exceptions.BadRequest(f"Image {image_ref} could not be found.")
        if image["status"] != "active":
            raise exceptions.BadRequest(f"Image {image_ref} is not active.")
        return image

    def _quota_rows(self, s: Any, project_id: str) -> list[tuple[str, int, int]]:
        """(resource, used, limit) of the resources a boot consumes; -1 is unlimited."""
        used = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Instance.vcpus), 0),
                                   sa.func.coalesce(sa.func.sum(Instance.memory_mb), 0))
                         .where(Instance.project_id == project_id, Instance.deleted.is_(False))).one()
        q = self.quotas.limits(project_id, s)
        return [("instances", int(used[0]), q["instances"]), ("cores", int(used[1]), q["cores"]),
                ("ram", int(used[2]), q["ram"])]

    @staticmethod
    def _refuse_over(rows: list[tuple[str, int, int]], wanted: tuple[int, int, int]) -> None:
        over = [(name, want, have, limit) for (name, have, limit), want in zip(rows, wanted, strict=True)
                if limit >= 0 and want > 0 and have + want > limit]
        if over:
            detail = ", ".join(f"{name} (requested {want}, used {have}, limit {limit})"
                               for name, want, have, limit in over)
            raise exceptions.Forbidden(f"Quota exceeded for {', '.join(o[0] for o in over)}: {detail}.")

    def _check_quota(self, s: Any, project_id: str, count: int, cores: int, ram: int) -> None:
        """Fail unless ``count`` more instances using ``cores`` and ``ram`` more fit the project's quota."""
        # Lock the project's row: concurrent boots of one project count and insert one after the other.
        s.get(ProjectLock, project_id, with_for_update=True)
        self._refuse_over(self._quota_rows(s, project_id), (count, cores, ram))

    def _fit_count(self, project_id: str, min_count: int, max_count: int, flavor: dict[str, Any]) -> int:
        """How many servers of one request to build, decided before any work (Nova's rule).

        As many as the quota leaves room for, up to ``max_count``; 403 if not even
        ``min_count`` fit. The boot checks again under the project's lock.
        """
        with self.db.reader() as s:
            rows = self._quota_rows(s, project_id)
        per_server = (1, flavor["vcpus"], flavor["memory_mb"])
        room = min([(limit - used) // need for (_, used, limit), need in zip(rows, per_server, strict=True)
                    if limit >= 0 and need > 0] or [max_count])
        count = max(min(max_count, room), 0)
        if count < min_count:
            self._refuse_over(rows, tuple(min_count * need for need in per_server))  # type: ignore[arg-type]
        return max(count, min_count)

    def _ensure_project_lock(self, project_id: str) -> None:
        """Create the project's lock row once; a concurrent first boot may create it first, which is fine."""
        try:
            with self.db.writer() as s:
                if s.get(ProjectLock, project_id) is None:
                    s.add(ProjectLock(project_id=project_id))
        except sa.exc.IntegrityError:
            pass

    def create(self, ctx: RequestContext, body: dict[str, Any], hints: dict[str, Any],
               zero_disk_flavor: bool = False) -> dict[str, Any]:
        """Record the boot's instances (BUILD/scheduling) and hand them to the conductor (api-ref "Create
        Server"); ``{"id", "reservation_id"}`` of the first.

        :raises BadRequest: an unknown flavor, image, network or zone, or a bad block device mapping.
        :raises ServiceUnavailable: the database connection was lost while the boot was recorded: nothing was
            created (instances that may have been written are marked deleted), and the boot can be sent again.
        """
        try:
            flavor = self.flavors.get(ctx, str(body["flavorRef"]).rstrip("/").rsplit("/", 1)[-1])["_snapshot"]
        except exceptions.NotFound as e:
            raise exceptions.BadRequest(str(e)) from e  # a bad flavorRef is a bad request body, as in Nova
        min_count = int(body.get("min_count") or 1)
        count = self._fit_count(ctx.require_project_id(), min_count, int(body.get("max_count") or min_count), flavor)
        devices = boot_volumes.parse(body)
        root = boot_volumes.root_volume(devices)
        image_ref = body.get("imageRef") or boot_volumes.root_image(devices)
        image: dict[str, Any] = {}
        if root is None and image_ref and not devices:  # an image of a volume-backed server boots as its volumes
            image_ref = str(image_ref).rstrip("/").rsplit("/", 1)[-1]
            image = self._image(ctx, image_ref)
            devices = boot_volumes.from_image(image)
            root = boot_volumes.root_volume(devices)
        data = boot_volumes.name_devices(boot_volumes.data_volumes(devices), boot_volumes.local_devices(
            flavor, bool(body.get("config_drive"))))
        booter = None
        if root is not None or data:  # volumes at boot: made or reserved here as the caller, connected later
            self.agents.require_version("1.4", BOOT_FROM_VOLUME)  # 409 before any volume is made or reserved
            booter = boot_volumes.BootVolumes(self.volumes, self._image, self.conf.compute.block_device_allocate_retries,
                                              self.conf.compute.block_device_allocate_retries_interval)
            for device in data:
                booter.check(ctx, device, count)
        if root is not None:  # volume-backed: no image on the host, the root disk is the volume (Nova: image "")
            assert booter is not None
            image = booter.check(ctx, root, count)
            image_ref = ""
            if (image.get("min_ram") or 0) > flavor["memory_mb"]:
                raise exceptions.BadRequest("Flavor's memory is too small for requested image.")
        elif image_ref:
            image_ref = str(image_ref).rstrip("/").rsplit("/", 1)[-1]
            image = image or self._image(ctx, image_ref)
            mapped = boot_volumes.root_image(devices)
            if mapped and mapped != image_ref:  # Nova reads the mapping's image too (and boots imageRef)
                try:
                    self._image(ctx, mapped)
                except exceptions.BadRequest:
                    raise exceptions.BadRequest(f"Block Device Mapping is Invalid: failed to get image "
                                                f"{mapped}.") from None
            if (image.get("min_ram") or 0) > flavor["memory_mb"]:
                raise exceptions.BadRequest("Flavor's memory is too small for requested image.")
            if (image.get("min_disk") or 0) > flavor["root_gb"] and flavor["root_gb"]:
                raise exceptions.BadRequest("Flavor's disk is too small for requested image.")
            if not flavor["root_gb"] and not zero_disk_flavor:  # Nova: the caller's policy says who may
                raise exceptions.Forbidden("Only volume-backed servers are allowed for flavors with zero disk.")
        else:
            raise exceptions.BadRequest("Missing imageRef attribute: boot from an image, or give a "
                                        "block_device_mapping_v2 whose boot_index 0 is a volume.")
        metadata_limit = self.quotas.limits(ctx.project_id)["metadata_items"]
        if 0 <= metadata_limit < len(body.get("metadata") or {}):
            raise exceptions.Forbidden(f"Quota exceeded for metadata items: {len(body['metadata'])} of "
                                       f"{metadata_limit}.")
        key_data = None
        if body.get("key_name"):
            try:
                key_data = self.keypairs.get(ctx.require_user_id(), body["key_name"])["public_key"]
            except exceptions.NotFound:  # a bad argument of the boot, not a missing resource (Nova's 400)
                raise exceptions.BadRequest(f"Invalid key_name provided: {body['key_name'][:255]}.") from None
        zone = body.get("availability_zone")
        force_host = None
        if zone and ":" in zone:
            if not ctx.is_admin:
                raise exceptions.Forbidden("Only admins may ask for a host (availability_zone 'zone:host').")
            zone, _, force_host = zone.partition(":")
        if zone and zone not in {z["zoneName"] for z in self.services.availability_zones(False)}:
            raise exceptions.BadRequest(f"The requested availability zone is not available: {zone}")
        requested = self._networks(ctx, body, count)
        uuids = [str(uuidlib.uuid4()) for _ in range(count)]
        names = [body["name"]] if count == 1 else [f"{body['name']}-{i + 1}" for i in range(count)]
        self._ensure_project_lock(ctx.require_project_id())
        prepared = booter.prepare(ctx, [*([root] if root is not None else []), *data], uuids) \
            if booter is not None else []
        try:
            instances, group = self._record(ctx, body, uuids, names, flavor, count, hints, image_ref, image, zone,
                                            key_data, requested, prepared)
        except Exception as exc:
            lost = isinstance(exc, sa.exc.OperationalError)
            if lost:
                self._forget_unsure_record(uuids)
            if booter is not None:
                booter.undo(ctx, prepared)
            if lost:
                raise exceptions.ServiceUnavailable(
                    "The database connection was lost while the server was being recorded (a database failover); "
                    "nothing was created. Send the request again.") from exc
            raise
        spec = {"flavor": {k: flavor[k] for k in ("vcpus", "memory_mb", "root_gb", "ephemeral_gb", "extra_specs")}
                | {"name": flavor["name"], "swap_mb": flavor["swap"]}
                | ({"root_gb": 0} if root is not None else {}),  # a volume-backed server claims no local root disk
                "instance_uuids": uuids, "project_id": ctx.project_id, "user_id": ctx.user_id,
                "availability_zone": zone, "force_host": force_host,
                "image_properties": {k: v for k, v in image.items() if k.startswith(("hw_", "img_", "os_"))},
                "server_group": group}
        self.conductor.build_instances(ctx, instances, spec)
        return {"id": uuids[0], "reservation_id": f"r-{uuids[0][:8]}"}

    def _forget_unsure_record(self, uuids: builtins.list[str]) -> None:
        """After a connection lost during the boot's commit (the database failed over), the instances may or may
        not have been written: mark any that were deleted, so none is left in BUILD that no build will ever
        take. Retried for up to ``FORGET_SECONDS`` while the database fails over; past that, logged."""
        retrying = tenacity.Retrying(retry=tenacity.retry_if_exception_type(sa.exc.OperationalError),
                                     stop=tenacity.stop_after_delay(FORGET_SECONDS), wait=tenacity.wait_fixed(0.5),
                                     reraise=True)
        try:
            for uuid in uuids:
                retrying(self.instances.mark_deleted, uuid)
        except sa.exc.OperationalError:
            LOG.exception("instances %s may stay in BUILD: the database did not come back", ", ".join(uuids))

    def _record(self, ctx: RequestContext, body: dict[str, Any], uuids: builtins.list[str],
                names: builtins.list[str], flavor: dict[str, Any], count: int, hints: dict[str, Any], image_ref: Any,
                image: dict[str, Any], zone: str | None, key_data: str | None,
                requested: builtins.list[dict[str, Any]], prepared: builtins.list[boot_volumes.Prepared]
                ) -> tuple[builtins.list[dict[str, Any]], Any]:
        """The boot's instances (and their volume mappings) recorded in one transaction, under the project's
        quota lock: their payloads, and the server group they joined (None)."""
        group = None
        with self.db.writer() as s:
            self._check_quota(s, ctx.require_project_id(), count, count * flavor["vcpus"], count * flavor["memory_mb"])
            if hints.get("group"):
                group = self.groups.join(s, ctx, hints["group"], uuids)
            instances = []
            for uuid, name in zip(uuids, names, strict=True):
                row = Instance(uuid=uuid, name=name, description=body.get("description"), project_id=ctx.project_id,
                               user_id=ctx.user_id, image_ref=image_ref, flavor=flavor, vcpus=flavor["vcpus"],
                               memory_mb=flavor["memory_mb"], root_gb=flavor["root_gb"],
                               availability_zone=zone or self.conf.compute.default_availability_zone,
                               vm_state=states.BUILDING, task_state=states.SCHEDULING, key_name=body.get("key_name"),
                               key_data=key_data, user_data=body.get("user_data"),
                               metadata_items=body.get("metadata") or {}, tags=sorted(set(body.get("tags") or [])),
                               config_drive=bool(body.get("config_drive")),
                               access_ip_v4=_access_ip(body.get("accessIPv4")),
                               access_ip_v6=_access_ip(body.get("accessIPv6")),
                               auto_disk_config=body.get("OS-DCF:diskConfig") == "AUTO",
                               requested_networks=requested)
                s.add(row)
                instances.append(guest_payload(row, image))
                self.instances.start_action(s, uuid, "create", ctx)
            for p in prepared:
                s.add(BlockDeviceMapping(id=types.new_uuid(), instance_uuid=p.instance_uuid, volume_id=p.volume_id,
                                         attachment_id=p.attachment_id, device_name=p.device_name,
                                         delete_on_termination=p.delete_on_termination, tag=p.tag,
                                         boot_index=p.boot_index,
                                         source_type=p.source_type))
        return instances, group

    def _networks(self, ctx: RequestContext, body: dict[str, Any], count: int) -> list[dict[str, Any]]:
        """The boot's networks, checked with the network service (none when the cloud has none)."""
        networks = body.get("networks")
        groups = [g["name"] for g in body.get("security_groups") or []]
        if networks is None:
            networks = "auto"  # before 2.37 a boot without networks meant "whatever the project has"
        if self.network is None:
            if isinstance(networks, list) and networks:
                raise exceptions.BadRequest("Networks were requested, but this cloud has no network service: boot "
                                            "with networks 'none'.")
            return []
        return self.network.resolve(ctx.require_project_id(), networks, groups, count)

    # -- read ------------------------------------------------------------------------------------------

    def security_groups(self, instances: Sequence[Instance]) -> dict[str, builtins.list[dict[str, str]]]:
        """``security_groups`` of each server as shown (``[{"name": ...}]``), by uuid, read from its ports in the
        network service in one go for all of ``instances`` (a listing page); servers without ports (or a
        cloud without a network service) have no entry."""
        if self.network is None:
            return {}
        names = self.network.security_group_names({inst.uuid: inst.project_id for inst in instances})
        return {uuid: [{"name": name} for name in listed] for uuid, listed in names.items()}

    def get(self, ctx: RequestContext, uuid: str, read_deleted: bool = False) -> tuple[Instance, Any]:
        """The instance and its latest fault; 404 unless the caller may see it (and it is not deleted, unless
        ``read_deleted``: a deleted server's action history stays readable from 2.21)."""
        with self.db.reader() as s:
            row = s.get(Instance, uuid)
            if row is None or (row.deleted and not read_deleted) or (
                    not ctx.is_admin and row.project_id != ctx.project_id):
                raise exceptions.NotFound(f"Instance {uuid} could not be found.")
            fault = self.instances.latest_faults(s, [uuid]).get(uuid)
            s.expunge_all()
            return row, fault

    def list(self, ctx: RequestContext, params: dict[str, str], all_projects: bool,
             lenient_status: bool = False) -> list[tuple[Instance, Any]]:
        """The servers matching Nova's filters ``params``. An unknown ``status`` lists nothing for an admin or
        when ``lenient_status`` (before 2.38); otherwise it is a 400."""
        q = sa.select(Instance)
        since, before = (timestamps.parse(params[k], k) if params.get(k) else None
                         for k in ("changes-since", "changes-before"))
        if since is not None and before is not None and since > before:
            raise exceptions.BadRequest("The value of changes-since must be less than or equal to changes-before.")
        # A changes-since/changes-before listing shows deleted servers too (to anyone, as Nova does).
        changes = since is not None or before is not None
        if not (changes or (all_projects and params.get("deleted", "false").lower() in ("true", "1"))):
            q = q.where(Instance.deleted.is_(False))
        if not all_projects:
            q = q.where(Instance.project_id == ctx.project_id)
        elif params.get("project_id") or params.get("tenant_id"):
            q = q.where(Instance.project_id == (params.get("project_id") or params.get("tenant_id")))
        if params.get("status"):
            wanted = _STATUS_FILTER.get(params["status"].upper())
            if wanted is None:
                if ctx.is_admin or lenient_status:
                    return []  # Nova answers an admin's unknown status with an empty list, others with a 400
                raise exceptions.BadRequest(f"Invalid status value {params['status']!r}.")
            q = q.where(Instance.vm_state == wanted)
        for name, column in (("host", Instance.host), ("image", Instance.image_ref), ("user_id", Instance.user_id),
                             ("availability_zone", Instance.availability_zone)):
            if params.get(name):
                if name == "host" and not all_projects:
                    continue
                q = q.where(column == params[name])
        if since is not None:
            q = q.where(Instance.updated_at >= since)
        if before is not None:
            q = q.where(Instance.updated_at <= before)
        sort_key = _SORTABLE.get(params.get("sort_key", "created_at"))
        if sort_key is None:
            raise exceptions.BadRequest(f"Invalid sort_key {params['sort_key']!r}.")
        keys = [paging.SortKey(sort_key, descending=params.get("sort_dir") != "asc")]
        limit_text = params.get("limit") or str(_MAX_PAGE)
        if not limit_text.isdigit():
            raise exceptions.BadRequest(f"Invalid limit {params['limit']!r}.")
        limit = min(int(limit_text), _MAX_PAGE)
        keep = _python_filter(params)
        marker = params.get("marker") or None
        with self.db.reader() as s:
            if keep is None:
                rows = paging.paginate(s, q, keys, _BY_UUID, limit, _MAX_PAGE, marker, _unknown_marker).rows
            else:
                rows = _filtered_page(s, q, keys, limit, marker, keep)
            faults = self.instances.latest_faults(s, [r.uuid for r in rows if r.vm_state == states.ERROR])
            s.expunge_all()
        return [(r, faults.get(r.uuid)) for r in rows]

    # -- change ----------------------------------------------------------------------------------------

    def update(self, ctx: RequestContext, uuid: str, changes: dict[str, Any]) -> None:
        self.get(ctx, uuid)
        values = {}
        if "name" in changes:
            values["name"] = changes["name"]
        if "description" in changes:
            values["description"] = changes["description"]
        for field, column in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
            if field in changes:
                values[column] = _access_ip(changes[field])
        if "OS-DCF:diskConfig" in changes:
            values["auto_disk_config"] = changes["OS-DCF:diskConfig"] == "AUTO"
        if values:
            self.instances.update(uuid, values)

    def is_volume_backed(self, uuid: str) -> bool:
        """Whether the server boots from a volume (a root mapping with boot_index 0)."""
        with self.db.reader() as s:
            found = s.scalar(sa.select(sa.func.count()).select_from(BlockDeviceMapping).where(
                BlockDeviceMapping.instance_uuid == uuid, BlockDeviceMapping.boot_index == 0))
            return bool(found)

    def has_volumes(self, uuid: str) -> bool:
        """Whether any volume is attached to (or reserved for) the server."""
        with self.db.reader() as s:
            return bool(s.scalar(sa.select(sa.func.count()).select_from(BlockDeviceMapping).where(
                BlockDeviceMapping.instance_uuid == uuid)))

    def refuse_volume_backed(self, uuid: str, verb: str) -> None:
        """409 for an action not supported yet on a server booted from a volume (its guest would be redefined
        from an image, or its root disk copied, neither of which a volume root has here)."""
        if self.is_volume_backed(uuid):
            raise exceptions.Conflict(f"Cannot '{verb}' instance {uuid}: it is booted from a volume, and '{verb}' "
                                      "of a volume-backed server is not supported yet.")

    def _check_lock(self, ctx: RequestContext, inst: Instance) -> None:
        if inst.locked and not ctx.is_admin:
            raise exceptions.Conflict(f"Instance {inst.uuid} is locked")

    def power(self, ctx: RequestContext, uuid: str, name: str) -> None:
        action = POWER_ACTIONS[name]
        inst, _ = self.get(ctx, uuid)
        self._check_lock(ctx, inst)
        self._start(ctx, inst, name.split("_")[0], {"task_state": action.task_state}, action.allowed_vm_states)
        self.agents.power_action(ctx, inst.host, uuid, name)  # type: ignore[arg-type]

    def rebuild(self, ctx: RequestContext, uuid: str, changes: dict[str, Any]) -> None:
        inst, _ = self.get(ctx, uuid)
        self._check_lock(ctx, inst)
        self.refuse_volume_backed(uuid, "rebuild")
        image_ref = str(changes["imageRef"]).rstrip("/").rsplit("/", 1)[-1]
        image = self._image(ctx, image_ref)
        values: dict[str, Any] = {"task_state": states.REBUILDING, "image_ref": image_ref}
        for field, column in (("name", "name"), ("description", "description"), ("user_data", "user_data")):
            if field in changes:
                values[column] = changes[field]
        for field, column in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
            if field in changes:
                values[column] = _access_ip(changes[field])
        if "OS-DCF:diskConfig" in changes:
            values["auto_disk_config"] = changes["OS-DCF:diskConfig"] == "AUTO"
        if "metadata" in changes:
            values["metadata_items"] = changes["metadata"]
        if not inst.host:
            raise exceptions.Conflict(f"Cannot 'rebuild' instance {uuid}: it was never placed on a host")
        self._start(ctx, inst, "rebuild", values, (states.ACTIVE, states.STOPPED, states.ERROR))
        inst, _ = self.get(ctx, uuid)
        self.agents.rebuild_instance(ctx, inst.host, guest_payload(inst, image))  # type: ignore[arg-type]

    def _start(self, ctx: RequestContext, inst: Instance, verb: str, values: dict[str, Any],
               allowed_vm_states: tuple[str, ...]) -> None:
        """Move the instance into an action's task_state, or 409 saying why it cannot."""
        if not self.instances.update(inst.uuid, values, expected_task_state=[None],
                                     allowed_vm_states=allowed_vm_states):
            with self.db.reader() as s:
                row = self.instances.get_row(s, inst.uuid)
                where = f"task_state {row.task_state}" if row.task_state else f"vm_state {row.vm_state}"
            raise exceptions.Conflict(f"Cannot '{verb}' instance {inst.uuid} while it is in {where}")
        with self.db.writer() as s:
            self.instances.start_action(s, inst.uuid, verb, ctx)

    def resize(self, ctx: RequestContext, uuid: str, flavor_ref: str, disk_config: str | None = None) -> None:
        inst, _ = self.get(ctx, uuid)
        self._check_lock(ctx, inst)
        self.refuse_volume_backed(uuid, "resize")
        try:
            flavor = self.flavors.get(ctx, str(flavor_ref).rstrip("/").rsplit("/", 1)[-1])["_snapshot"]
        except exceptions.NotFound:  # Nova: an unknown flavorRef is a bad resize request (400)
            raise exceptions.BadRequest(f"Unable to find flavor {str(flavor_ref)[:255]}.") from None
        if flavor["flavorid"] == inst.flavor["flavorid"]:
            raise exceptions.BadRequest("When resizing, instances must change flavor!")
        if flavor["extra_specs"].get("hw:cpu_policy") == "dedicated" or \
                inst.flavor.get("extra_specs", {}).get("hw:cpu_policy") == "dedicated":
            raise exceptions.BadRequest("Resizing to or from a pinned (hw:cpu_policy=dedicated) flavor is not "
                                        "supported yet.")
        self._ensure_project_lock(inst.project_id)
        with self.db.writer() as s:
            self._check_quota(s, inst.project_id, 0, flavor["vcpus"] - inst.vcpus, flavor["memory_mb"] - inst.memory_mb)
        values: dict[str, Any] = {"task_state": states.RESIZE_PREP}
        if disk_config is not None:
            values["auto_disk_config"] = disk_config == "AUTO"
        self._start(ctx, inst, "resize", values, (states.ACTIVE, states.STOPPED))
        with self.db.writer() as s:  # os-migrations lists resizes too (Nova's migration_type "resize")
            s.add(Migration(instance_uuid=uuid, project_id=inst.project_id, user_id=inst.user_id,
                            migration_type=RESIZE, status="migrating", source_host=inst.host, source_node=inst.node,
                            dest_host=inst.host, dest_node=inst.node, flavor=inst.flavor))
        self.conductor.resize_instance(ctx, uuid, flavor)

    def _end_resize_migration(self, uuid: str, status: str) -> None:
        """The instance's open resize migration becomes ``status`` (confirmed or reverted)."""
        with self.db.writer() as s:
            s.execute(sa.update(Migration).where(
                Migration.instance_uuid == uuid, Migration.migration_type == RESIZE,
                Migration.status == "migrating").values(status=status, updated_at=types.utcnow()))

    def confirm_resize(self, ctx: RequestContext, uuid: str) -> None:
        inst, _ = self.get(ctx, uuid)
        # A server resized while stopped stays stopped (its guest was left off), as in Nova.
        running = inst.power_state == states.RUNNING
        self._start(ctx, inst, "confirmResize", {"vm_state": states.ACTIVE if running else states.STOPPED,
                                                 "old_flavor": None}, (states.RESIZED,))
        self._end_resize_migration(uuid, "confirmed")
        self.instances.finish_action(uuid, ctx.request_id, None)

    def revert_resize(self, ctx: RequestContext, uuid: str) -> None:
        inst, _ = self.get(ctx, uuid)
        self._start(ctx, inst, "revertResize", {"task_state": states.RESIZE_REVERTING}, (states.RESIZED,))
        self._end_resize_migration(uuid, "reverted")
        self.conductor.revert_resize(ctx, uuid)

    def reset_state(self, ctx: RequestContext, uuid: str, state: str | None) -> None:
        """Admin repair: set vm_state (active or error) and clear the task, whatever the instance was doing."""
        if state not in ("active", "error"):
            raise exceptions.BadRequest(f"Invalid state {state!r}: use 'active' or 'error'.")
        inst, _ = self.get(ctx, uuid)
        self.instances.update(uuid, {"vm_state": state, "task_state": None})
        with self.db.writer() as s:
            self.instances.start_action(s, uuid, "resetState", ctx)
        self.instances.finish_action(uuid, ctx.request_id, None)

    # -- metadata and tags ---------------------------------------------------------------------------------

    def set_metadata(self, ctx: RequestContext, uuid: str, items: Any, replace: bool) -> dict[str, str]:
        if not isinstance(items, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255 and len(v) <= 255
                for k, v in items.items()):
            raise exceptions.BadRequest("Metadata must be an object of strings (keys 1-255, values up to 255 "
                                        "characters).")
        inst, _ = self.get(ctx, uuid)
        self._check_lock(ctx, inst)
        merged = dict(items) if replace else {**(inst.metadata_items or {}), **items}
        limit = self.quotas.limits(inst.project_id)["metadata_items"]
        if 0 <= limit < len(merged):
            raise exceptions.Forbidden(f"Quota exceeded for metadata items: {len(merged)} of {limit}.")
        self.instances.update(uuid, {"metadata_items": merged})
        return merged

    def delete_metadata(self, ctx: RequestContext, uuid: str, key: str) -> None:
        inst, _ = self.get(ctx, uuid)
        self._check_lock(ctx, inst)
        items = dict(inst.metadata_items or {})
        if key not in items:
            raise exceptions.NotFound(f"Metadata item was not found: {key}")
        del items[key]
        self.instances.update(uuid, {"metadata_items": items})

    def set_tags(self, ctx: RequestContext, uuid: str, tags: Any, add: str | None = None,
                 remove: str | None = None) -> builtins.list[str]:
        inst, _ = self.get(ctx, uuid)
        current = set(inst.tags or [])
        if tags is not None:
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise exceptions.BadRequest("tags must be a list of strings.")
            current = set(tags)
        if add is not None:
            current.add(add)
        if remove is not None:
            if remove not in current:
                raise exceptions.NotFound(f"Tag '{remove}' could not be found on instance {uuid}.")
            current.discard(remove)
        for tag in current:
            if not tag or len(tag) > 60 or "/" in tag or "," in tag:
                raise exceptions.BadRequest(f"Invalid tag {tag!r}: 1-60 characters, no '/' or ','.")
        if len(current) > 50:
            raise exceptions.BadRequest("An instance can have at most 50 tags.")
        self.instances.update(uuid, {"tags": sorted(current)})
        return sorted(current)

    def lock(self, ctx: RequestContext, uuid: str, locked: bool, reason: str | None) -> None:
        inst, _ = self.get(ctx, uuid)
        if not locked and inst.locked and inst.locked_by == "admin" and not ctx.is_admin:
            raise exceptions.Forbidden("The server was locked by an admin; only an admin can unlock it.")
        self.instances.update(uuid, {"locked": locked, "locked_by": ("admin" if ctx.is_admin else "owner") if locked
                                     else None, "locked_reason": reason if locked else None})
        with self.db.writer() as s:
            self.instances.start_action(s, uuid, "lock" if locked else "unlock", ctx)

    def delete(self, ctx: RequestContext, uuid: str) -> None:
        """Delete the server: its host's agent does it, or, when it was never placed, is shelved offloaded or its
        host is down, this call does (Nova's local delete), giving back its ports and resources.

        A local delete first marks the server ``deleting`` on condition that its host is still the one read: a
        build placing it meanwhile then finds it no longer ``scheduling`` and gives back what it claimed (the
        conductor's rule), so no guest or port of that build outlives the server; one placed first is deleted
        through its new host.

        :raises Conflict: the server is locked, or it was placed on a host between each of three reads and
            the mark (send the delete again).
        :raises ServiceUnavailable: a local delete could not release the server's ports: the server rests in
            ERROR with a fault and keeps them, so the delete can simply be sent again (never a server gone and
            its ports left).
        """
        for _attempt in range(3):  # read again when it was placed between the read and the mark
            inst, _ = self.get(ctx, uuid)
            self._check_lock(ctx, inst)
            host = inst.host if inst.host and self.services.is_up(inst.host) else None
            if host is not None or self.instances.update(uuid, {"task_state": states.DELETING},
                                                         expected_host=[inst.host]):
                break
        else:
            raise exceptions.Conflict(f"Instance {uuid} is being placed on a host right now; send the delete again.")
        if host is not None:
            self._release(ctx, inst)
            with self.db.writer() as s:
                self.instances.start_action(s, uuid, "delete", ctx)
            self.instances.update(uuid, {"task_state": states.DELETING})
            self.agents.terminate_instance(ctx, host, uuid)
            return
        try:
            if self.network is not None and self.network.available():
                # Ports first: their subnet could never be deleted while they stay.
                self.network.deallocate(uuid, inst.project_id)
            self._release(ctx, inst)
            with self.db.writer() as s:
                self.instances.start_action(s, uuid, "delete", ctx)
            self.conductor.instance_deleted(ctx, uuid)
        except Exception as exc:
            self.instances.update(uuid, {"vm_state": states.ERROR, "task_state": None},
                                  expected_task_state=[states.DELETING],
                                  fault=Fault(500, f"Deleting instance {uuid} failed: {exc}. Send the delete again.",
                                              type(exc).__name__))
            raise

    def _release(self, ctx: RequestContext, inst: Instance) -> None:
        """What a server holds outside its host, given back before it is deleted: a shelved image, volumes."""
        if inst.shelved_image_id and self.images is not None:  # the shelved disk goes with its server
            self.images.delete(inst.shelved_image_id)
        for release in self.on_delete:
            release(ctx, inst.uuid)

    def rescue(self, ctx: RequestContext, uuid: str, rescue_image_ref: str | None,
               allow_bfv_rescue: bool = False) -> None:
        """Boot the server from a rescue image (``rescue_image_ref``, else its own image) with its disk second,
        or, for a rescue image with ``hw_rescue_device``/``hw_rescue_bus``, with every disk left in place and the
        rescue disk added and booted first (Nova's stable-device rescue). A volume-backed server takes only the
        latter, and only when the caller's microversion allows it (``allow_bfv_rescue``: 2.87 and later).

        :raises BadRequest: the rescue image cannot be found or is not active; a volume-backed server without
            2.87 or without a stable-device rescue image (Nova's InstanceNotRescuable).
        :raises Conflict: locked, or not ACTIVE, SHUTOFF or ERROR, or never placed.
        """
        inst, _ = self.get(ctx, uuid)
        self._check_lock(ctx, inst)
        if not inst.host:
            raise exceptions.Conflict(f"Cannot 'rescue' instance {uuid}: it was never placed on a host")
        volume_backed = self.is_volume_backed(uuid)
        if volume_backed and not allow_bfv_rescue:
            raise exceptions.BadRequest(f"Instance {uuid} cannot be rescued: Cannot rescue a volume-backed "
                                        "instance (microversion 2.87 or later rescues one with a stable-device "
                                        "rescue image).")
        ref = str(rescue_image_ref or inst.image_ref or "").rstrip("/").rsplit("/", 1)[-1]
        if not ref:
            raise exceptions.BadRequest(f"Instance {uuid} cannot be rescued: it has no image of its own; give "
                                        "rescue_image_ref.")
        image = self._image(ctx, ref)
        if volume_backed and not (image.get("hw_rescue_device") or image.get("hw_rescue_bus")):
            raise exceptions.BadRequest(f"Instance {uuid} cannot be rescued: Cannot rescue a volume-backed "
                                        f"instance with image {ref}, which sets neither hw_rescue_device nor "
                                        "hw_rescue_bus (stable-device rescue).")
        self.agents.check_can_send("rescue_instance")  # 409 before any change while computes are capped below
        self._start(ctx, inst, "rescue", {"task_state": states.RESCUING},
                    (states.ACTIVE, states.STOPPED, states.ERROR))
        self.agents.rescue_instance(ctx, inst.host, guest_payload(inst), image_meta(image))

    def unrescue(self, ctx: RequestContext, uuid: str) -> None:
        """Boot the rescued server from its own disk again; 409 unless it is in RESCUE."""
        inst, _ = self.get(ctx, uuid)
        self._check_lock(ctx, inst)
        self.agents.check_can_send("unrescue_instance")
        self._start(ctx, inst, "unrescue", {"task_state": states.UNRESCUING}, (states.RESCUED,))
        self.agents.unrescue_instance(ctx, inst.host, uuid)  # type: ignore[arg-type]

    def trigger_crash_dump(self, ctx: RequestContext, uuid: str) -> None:
        """Inject an NMI (Nova's allowed states: ACTIVE, PAUSED, RESCUE, VERIFY_RESIZE, ERROR, and running)."""
        inst, _ = self.get(ctx, uuid)
        self._check_lock(ctx, inst)
        allowed = (states.ACTIVE, states.PAUSED, states.RESCUED, states.RESIZED, states.ERROR)
        if inst.vm_state not in allowed or inst.task_state is not None or not inst.host:
            where = f"task_state {inst.task_state}" if inst.task_state else f"vm_state {inst.vm_state}"
            raise exceptions.Conflict(f"Cannot 'trigger_crash_dump' instance {uuid} while it is in {where}")
        if inst.power_state != states.RUNNING:
            raise exceptions.Conflict(f"Instance {uuid} is not running.")
        self.agents.check_can_send("trigger_crash_dump")
        with self.db.writer() as s:
            self.instances.start_action(s, uuid, "trigger_crash_dump", ctx)
        self.agents.trigger_crash_dump(ctx, inst.host, uuid)

    def console_output(self, ctx: RequestContext, uuid: str, length: int | None) -> str:
        inst, _ = self.get(ctx, uuid)
        if inst.vm_state not in (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED) or not inst.host:
            raise exceptions.Conflict(f"Cannot get the console output of instance {uuid} in vm_state {inst.vm_state}")
        text = self.agents.console_output(ctx, inst.host, uuid)
        if length is not None:
            text = "\n".join(text.splitlines()[-length:]) if length else ""
        return text
