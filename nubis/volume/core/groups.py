"""Cinder's generic volume groups: group types and their specs (3.11), groups (3.13) and group snapshots (3.14).

A group is a record: no backend work is needed to make one, so a group is ``available`` as soon as it is
recorded. Its volumes are ordinary volumes with ``group_id`` set (made, deleted and snapshotted through the
paths every volume takes). A group made from a source (``create-from-src``) and a group snapshot are
``creating`` while their member volumes (snapshots) are: ``follows_members`` is set on them and the storage
host's manager settles them (``settle_group``, ``settle_group_snapshot``) when the last member's create ends:
``available``, or ``error`` if any member failed. A group or group snapshot delete removes its record at once
and deletes its volumes (snapshots) through their own delete paths.
"""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.core import hosts, listing
from nubis.volume.core.quotas import QuotaStore
from nubis.volume.core.types import TypeStore, apply_type_changes
from nubis.volume.db.models import (
    GroupSnapshot,
    GroupType,
    GroupTypeSpec,
    GroupVolumeType,
    Snapshot,
    Volume,
    VolumeGroup,
)
from nubis.volume.manager.rpcapi import VolumeManagerAPI

# Cinder's group statuses an admin may set (reset_status, 3.20) and its group snapshot statuses (3.19).
GROUP_STATUSES = ("available", "error", "creating", "deleting", "error_deleting", "updating", "in-use")
GROUP_SNAPSHOT_STATUSES = ("available", "error", "creating", "deleting", "error_deleting", "updating")
# Sort keys of group types, groups and group snapshots (their columns Cinder sorts on).
GROUP_TYPE_SORT_KEYS = ("id", "name", "description", "is_public", "created_at", "updated_at")
GROUP_SORT_KEYS = ("id", "name", "status", "availability_zone", "created_at", "updated_at")
# The spec Cinder gives its default group type.
DEFAULT_GROUP_SPECS = {"consistent_group_snapshot_enabled": "<is> True"}
# Volume statuses a group's add_volumes and remove_volumes accept (Cinder's).
ADDABLE = ("available", "in-use")
REMOVABLE = ("available", "in-use", "error", "error_deleting")
DELETABLE_MEMBER = ("available", "error", "error_restoring", "error_extending", "error_managing")


# -- settling what follows its members (called by the storage host's manager) -----------------------------

def _settled(statuses: builtins.list[str]) -> str | None:
    """The status of a whole whose members are ``statuses``: None while any is still creating."""
    if any(st == "creating" for st in statuses):
        return None
    return "error" if any(st not in ("available", "in-use") for st in statuses) else "available"


def settle_group(s: Any, group_id: str) -> None:
    """A group made from a source becomes available (or error) once none of its volumes is creating."""
    g = s.get(VolumeGroup, group_id, with_for_update=True)
    if g is None or not g.follows_members or g.status != "creating":
        return
    status = _settled(list(s.scalars(sa.select(Volume.status).where(Volume.group_id == group_id))))
    if status is not None:
        g.status, g.follows_members, g.updated_at = status, False, types.utcnow()


def settle_group_snapshot(s: Any, group_snapshot_id: str) -> None:
    """A group snapshot becomes available (or error) once none of its snapshots is creating."""
    gs = s.get(GroupSnapshot, group_snapshot_id, with_for_update=True)
    if gs is None or not gs.follows_members or gs.status != "creating":
        return
    status = _settled(list(s.scalars(sa.select(Snapshot.status)
                                     .where(Snapshot.group_snapshot_id == group_snapshot_id))))
    if status is not None:
        gs.status, gs.follows_members, gs.updated_at = status, False, types.utcnow()


def check_member(s: Any, ctx: RequestContext, group_id: str, volume_type_id: str) -> VolumeGroup:
    """The group a new volume is made in: the caller's (404), available or being made from a source (400),
    and with the volume's type among its volume types (400)."""
    g = s.get(VolumeGroup, group_id)
    if g is None or (g.project_id != ctx.project_id and not ctx.is_admin):
        raise exceptions.NotFound(f"Group {group_id} could not be found.")
    if g.status not in ("available", "creating"):
        raise exceptions.BadRequest(f"Invalid group: Group {group_id} status must be available to add volumes "
                                    f"to it, but it is {g.status}.")
    if volume_type_id not in _volume_type_ids(s, g.id):
        raise exceptions.BadRequest(f"Invalid input received: the volume's type {volume_type_id} is not one of "
                                    f"group {group_id}'s volume types.")
    return g  # type: ignore[no-any-return]


def _volume_type_ids(s: Any, group_id: str) -> builtins.list[str]:
    return list(s.scalars(sa.select(GroupVolumeType.volume_type_id).where(GroupVolumeType.group_id == group_id)
                          .order_by(GroupVolumeType.position)))


# -- group types ------------------------------------------------------------------------------------------

def _type_specs(s: Any, type_id: str) -> dict[str, str]:
    return dict(s.execute(sa.select(GroupTypeSpec.key, GroupTypeSpec.value)
                          .where(GroupTypeSpec.group_type_id == type_id)).all())


def _type_dict(s: Any, t: GroupType) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "description": t.description, "is_public": t.is_public,
            "group_specs": _type_specs(s, t.id), "created_at": t.created_at, "updated_at": t.updated_at}


class GroupTypeStore:
    """Group types as dicts: ``{"id", "name", "description", "is_public", "group_specs"}``.

    A private type is seen by admins only (Cinder has no group type access API); to anyone else it does not
    exist (404). The default group type (``[volume] default_group_type``) is made on first use with Cinder's
    spec ``consistent_group_snapshot_enabled: <is> True``; it cannot be renamed or deleted.
    """

    def __init__(self, conf: cfg.ConfigOpts, db: Database) -> None:
        self.conf = conf
        self.db = db

    def default(self, s: Any) -> GroupType:
        name = self.conf.volume.default_group_type
        found = s.scalars(sa.select(GroupType).where(GroupType.name == name)).first()
        if found is None:
            found = GroupType(id=types.new_uuid(), name=name, description="Default group type", is_public=True)
            s.add(found)
            s.flush()
            for key, value in DEFAULT_GROUP_SPECS.items():
                s.add(GroupTypeSpec(group_type_id=found.id, key=key, value=value))
            s.flush()
        return found  # type: ignore[no-any-return]

    @staticmethod
    def resolve(s: Any, ref: str, is_admin: bool) -> GroupType:
        """The group type named by id or name; 404 for an unknown one, or a private one for a non-admin."""
        found = s.get(GroupType, ref) or s.scalars(sa.select(GroupType).where(GroupType.name == ref)).first()
        if found is None or not (found.is_public or is_admin):
            raise exceptions.NotFound(f"Group type {ref} could not be found.")
        return found  # type: ignore[no-any-return]

    def list(self, is_admin: bool, is_public: bool | None,
             sort: tuple[tuple[str, bool], ...] = (("created_at", True),)) -> builtins.list[dict[str, Any]]:
        """Admins: every type, or the public (private) ones; others: the public ones."""
        with self.db.writer() as s:
            self.default(s)
            query = sa.select(GroupType)
            if not is_admin:
                query = query.where(GroupType.is_public.is_(True))
            elif is_public is not None:
                query = query.where(GroupType.is_public.is_(is_public))
            order = [getattr(GroupType, k).desc() if desc else getattr(GroupType, k).asc() for k, desc in sort]
            return [_type_dict(s, t) for t in s.scalars(query.order_by(*order, GroupType.id))]

    def get(self, type_id: str, is_admin: bool) -> dict[str, Any]:
        """One type; ``default`` names the default group type."""
        with self.db.writer() as s:
            t = self.default(s) if type_id == "default" else self.resolve(s, type_id, is_admin)
            return _type_dict(s, t)

    def create(self, name: str, description: str | None, is_public: bool, specs: dict[str, str]) -> dict[str, Any]:
        """A new group type; 409 for a taken name."""
        with self.db.writer() as s:
            if s.scalars(sa.select(GroupType).where(GroupType.name == name)).first() is not None:
                raise exceptions.Conflict(f"Group Type {name} already exists.")
            t = GroupType(id=types.new_uuid(), name=name, description=description, is_public=is_public)
            s.add(t)
            s.flush()
            for key, value in specs.items():
                s.add(GroupTypeSpec(group_type_id=t.id, key=key, value=value))
            s.flush()
            return _type_dict(s, t)

    def update(self, type_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the name, description or is_public; 409 for a taken name, 400 renaming the default type."""
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            apply_type_changes(s, t, changes, self.conf.volume.default_group_type, "Group Type")
            s.flush()
            return _type_dict(s, t)

    def delete(self, type_id: str) -> None:
        """400 for the default type and for a type groups still have."""
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            if t.name == self.conf.volume.default_group_type:
                raise exceptions.BadRequest("The default group type cannot be deleted.")
            if s.scalar(sa.select(sa.func.count()).select_from(VolumeGroup).where(VolumeGroup.group_type_id == t.id)):
                raise exceptions.BadRequest(f"Target group type {type_id} is still in use by groups.")
            s.delete(t)

    def specs(self, type_id: str) -> dict[str, str]:
        with self.db.reader() as s:
            return _type_specs(s, self.resolve(s, type_id, True).id)

    def set_specs(self, type_id: str, specs: dict[str, str]) -> dict[str, str]:
        """Add or change the given specs (the others stay); returns what was given."""
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            for key, value in specs.items():
                row = s.get(GroupTypeSpec, (t.id, key))
                if row is None:
                    s.add(GroupTypeSpec(group_type_id=t.id, key=key, value=value))
                else:
                    row.value = value
            t.updated_at = types.utcnow()
            return dict(specs)

    def delete_spec(self, type_id: str, key: str) -> None:
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            row = s.get(GroupTypeSpec, (t.id, key))
            if row is None:
                raise exceptions.NotFound(f"Group Type {type_id} has no specs with key {key}.")
            s.delete(row)


# -- groups -----------------------------------------------------------------------------------------------

def _group_dict(s: Any, g: VolumeGroup) -> dict[str, Any]:
    return {"id": g.id, "project_id": g.project_id, "user_id": g.user_id, "name": g.name,
            "description": g.description, "availability_zone": g.availability_zone, "status": g.status,
            "group_type_id": g.group_type_id, "volume_types": _volume_type_ids(s, g.id),
            "group_snapshot_id": g.group_snapshot_id, "source_group_id": g.source_group_id,
            "volumes": list(s.scalars(sa.select(Volume.id).where(Volume.group_id == g.id).order_by(Volume.created_at,
                                                                                                  Volume.id))),
            "created_at": g.created_at, "updated_at": g.updated_at}


def _own(s: Any, ctx: RequestContext, model: Any, what: str, row_id: str) -> Any:
    row = s.get(model, row_id)
    if row is None or (row.project_id != ctx.project_id and not ctx.is_admin):
        raise exceptions.NotFound(f"{what} {row_id} could not be found.")
    return row


class GroupStore:
    """Groups of a project as dicts (``_group_dict``); volumes join them with ``group_id``."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, group_types: GroupTypeStore, volume_types: TypeStore,
                 quotas: QuotaStore, volumes: Any, manager: VolumeManagerAPI) -> None:
        self.conf = conf
        self.db = db
        self.group_types = group_types
        self.volume_types = volume_types
        self.quotas = quotas
        self.volumes = volumes
        self.manager = manager

    def owner(self, group_id: str) -> str | None:
        with self.db.reader() as s:
            return s.scalar(sa.select(VolumeGroup.project_id).where(VolumeGroup.id == group_id))

    def get(self, ctx: RequestContext, group_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return _group_dict(s, _own(s, ctx, VolumeGroup, "Group", group_id))

    def list(self, ctx: RequestContext, query: listing.ListQuery) -> tuple[builtins.list[dict[str, Any]], bool]:
        with self.db.reader() as s:
            found = listing.page(s, VolumeGroup, query, ctx.require_project_id(), self.conf.volume.osapi_max_limit)
            return [_group_dict(s, g) for g in found.rows], found.more

    def _new(self, s: Any, ctx: RequestContext, name: str | None, description: str | None, group_type_id: str,
             volume_type_ids: builtins.list[str], zone: str | None, status: str, **source: Any) -> VolumeGroup:
        zone = zone or self.conf.volume.storage_availability_zone
        if zone not in hosts.zones(self.conf, s):
            raise exceptions.BadRequest(f"Availability zone '{zone}' is invalid.")
        self.quotas.check(s, ctx.require_project_id(), {"groups": 1})
        g = VolumeGroup(id=types.new_uuid(), project_id=ctx.project_id, user_id=ctx.user_id, name=name,
                        description=description, availability_zone=zone, group_type_id=group_type_id,
                        status=status, **source)
        s.add(g)
        s.flush()
        for position, type_id in enumerate(volume_type_ids):
            s.add(GroupVolumeType(group_id=g.id, volume_type_id=type_id, position=position))
        s.flush()
        return g

    def create(self, ctx: RequestContext, name: str | None, description: str | None, group_type: str,
               volume_types: builtins.list[str], availability_zone: str | None) -> dict[str, Any]:
        """A new, empty group (``available``: nothing is made on a backend). 404 for a group type or volume
        type the caller cannot see, 400 for an unknown zone, 413 over the ``groups`` quota."""
        self.quotas.ensure_lock(ctx.require_project_id())
        with self.db.writer() as s:
            gtype = self.group_types.resolve(s, group_type, ctx.is_admin)
            type_ids: builtins.list[str] = []
            for ref in volume_types:
                vtype = self.volume_types.resolve(s, ref, ctx.is_admin, ctx.project_id)
                if vtype.id not in type_ids:
                    type_ids.append(vtype.id)
            g = self._new(s, ctx, name, description, gtype.id, type_ids, availability_zone, "available")
            return _group_dict(s, g)

    def create_from_source(self, ctx: RequestContext, name: str | None, description: str | None,
                           group_snapshot_id: str | None, source_group_id: str | None) -> dict[str, Any]:
        """A group of the source's group type and volume types, with one volume made from each snapshot of the
        group snapshot, or cloned from each volume of the source group, through the volume create path.

        The source must be available (400). The group is ``creating`` until none of its volumes is (then
        ``available``, or ``error`` if one failed); a volume create refused on the way (quota, 413) leaves the
        group ``error`` with the volumes made so far, and answers that refusal.
        """
        self.quotas.ensure_lock(ctx.require_project_id())
        sources: builtins.list[dict[str, Any]] = []
        with self.db.writer() as s:
            if group_snapshot_id is not None:
                gs = _own(s, ctx, GroupSnapshot, "GroupSnapshot", group_snapshot_id)
                if gs.status != "available":
                    raise exceptions.BadRequest(f"Invalid group snapshot: Group snapshot {group_snapshot_id} "
                                                f"status must be available, but it is {gs.status}.")
                origin = s.get(VolumeGroup, gs.group_id)
                if origin is None:
                    raise exceptions.BadRequest(f"Invalid group snapshot: the group of group snapshot "
                                                f"{group_snapshot_id} no longer exists.")
                for sn in s.scalars(sa.select(Snapshot).where(Snapshot.group_snapshot_id == gs.id)
                                    .order_by(Snapshot.created_at, Snapshot.id)):
                    if sn.status != "available":
                        raise exceptions.BadRequest(f"Invalid group snapshot: its snapshot {sn.id} is {sn.status}.")
                    vol = s.get(Volume, sn.volume_id)
                    sources.append({"snapshot_id": sn.id, "size": sn.size,
                                    "volume_type": vol.volume_type_id if vol is not None else None})
                source = {"group_snapshot_id": gs.id}
            else:
                assert source_group_id is not None
                origin = _own(s, ctx, VolumeGroup, "Group", source_group_id)
                if origin.status != "available":
                    raise exceptions.BadRequest(f"Invalid group: Source group {source_group_id} status must be "
                                                f"available, but it is {origin.status}.")
                for vol in s.scalars(sa.select(Volume).where(Volume.group_id == origin.id)
                                     .order_by(Volume.created_at, Volume.id)):
                    if vol.status not in ("available", "in-use"):
                        raise exceptions.BadRequest(f"Invalid group: its volume {vol.id} is {vol.status}.")
                    sources.append({"source_volid": vol.id, "size": vol.size, "volume_type": vol.volume_type_id})
                source = {"source_group_id": origin.id}
            self.quotas.check(s, ctx.require_project_id(), {
                "volumes": len(sources), "gigabytes": sum(src["size"] for src in sources),
                **self.quotas.typed_wanted(s, "volumes", [(src["volume_type"], src["size"]) for src in sources])})
            g = self._new(s, ctx, name, description, origin.group_type_id, _volume_type_ids(s, origin.id),
                          origin.availability_zone, "creating" if sources else "available", **source)
            group_id = g.id
        try:
            for src in sources:
                spec = {**src, "group_id": group_id, "name": None, "description": None}
                self.volumes.create(ctx, spec)
        except Exception:
            with self.db.writer() as s:
                row = s.get(VolumeGroup, group_id)
                if row is not None:
                    row.status, row.updated_at = "error", types.utcnow()
            raise
        with self.db.writer() as s:
            row = s.get(VolumeGroup, group_id, with_for_update=True)
            if row is not None and row.status == "creating":
                row.follows_members = True
                s.flush()
                settle_group(s, group_id)
            return _group_dict(s, row) if row is not None else {"id": group_id, "name": name}

    def update(self, ctx: RequestContext, group_id: str, changes: dict[str, Any],
               add_volumes: builtins.list[str], remove_volumes: builtins.list[str]) -> None:
        """Rename or describe the group, add volumes (the caller's, available or in-use, of one of the group's
        volume types, in no group) and remove its volumes (available, in-use or in error). 400 for a group
        that is not available when volumes are added or removed, and for any volume that does not qualify
        (nothing changes then)."""
        with self.db.writer() as s:
            g = _own(s, ctx, VolumeGroup, "Group", group_id)
            if (add_volumes or remove_volumes) and g.status != "available":
                raise exceptions.BadRequest(f"Invalid group: Group {group_id} status must be available to add "
                                            f"or remove volumes, but it is {g.status}.")
            both = set(add_volumes) & set(remove_volumes)
            if both:
                raise exceptions.BadRequest(f"Invalid input received: volume {sorted(both)[0]} is both added to "
                                            f"and removed from the group.")
            allowed = _volume_type_ids(s, g.id)
            for volume_id in add_volumes:
                v = s.get(Volume, volume_id)
                if v is None or v.project_id != g.project_id:
                    raise exceptions.BadRequest(f"Invalid volume: Cannot add volume {volume_id} to group "
                                                f"{group_id} because volume cannot be found.")
                if v.group_id is not None and v.group_id != g.id:
                    raise exceptions.BadRequest(f"Invalid volume: Cannot add volume {volume_id} to group "
                                                f"{group_id} because it is already in group {v.group_id}.")
                if v.status not in ADDABLE:
                    raise exceptions.BadRequest(f"Invalid volume: Cannot add volume {volume_id} to group "
                                                f"{group_id} because volume is in an invalid state: {v.status}. "
                                                f"Valid states are: {', '.join(ADDABLE)}.")
                if v.volume_type_id not in allowed:
                    raise exceptions.BadRequest(f"Invalid volume: Cannot add volume {volume_id} to group "
                                                f"{group_id} because its volume type is not one of the group's.")
                v.group_id, v.updated_at = g.id, types.utcnow()
            for volume_id in remove_volumes:
                v = s.get(Volume, volume_id)
                if v is None or v.group_id != g.id:
                    raise exceptions.BadRequest(f"Invalid volume: Cannot remove volume {volume_id} from group "
                                                f"{group_id} because it is not in the group.")
                if v.status not in REMOVABLE:
                    raise exceptions.BadRequest(f"Invalid volume: Cannot remove volume {volume_id} from group "
                                                f"{group_id} because volume is in an invalid state: {v.status}. "
                                                f"Valid states are: {', '.join(REMOVABLE)}.")
                v.group_id, v.updated_at = None, types.utcnow()
            for field in ("name", "description"):
                if field in changes:
                    setattr(g, field, changes[field])
            g.updated_at = types.utcnow()

    def reset_status(self, ctx: RequestContext, group_id: str, status: str) -> None:
        """An admin's repair (3.20): set the status, which then no longer follows the volumes."""
        with self.db.writer() as s:
            g = _own(s, ctx, VolumeGroup, "Group", group_id)
            g.status, g.follows_members, g.updated_at = status, False, types.utcnow()

    def delete(self, ctx: RequestContext, group_id: str, delete_volumes: bool) -> None:
        """Remove the group; with ``delete_volumes`` its volumes are deleted too (each ``deleting``, removed
        by its host's manager). 400 when the group is not available or error, has group snapshots, has
        volumes and ``delete_volumes`` is false, or has a volume that cannot be deleted (attached, busy, with
        snapshots); nothing changes then."""
        casts: builtins.list[tuple[str, str]] = []
        with self.db.writer() as s:
            g = _own(s, ctx, VolumeGroup, "Group", group_id)
            if g.status not in ("available", "error", "error_deleting"):
                raise exceptions.BadRequest(f"Invalid group: Group status must be available or error, but "
                                            f"current status is: {g.status}.")
            if s.scalar(sa.select(sa.func.count()).select_from(GroupSnapshot).where(GroupSnapshot.group_id == g.id)):
                raise exceptions.BadRequest(f"Invalid group: Group {group_id} has group snapshots: delete them "
                                            f"first.")
            members = list(s.scalars(sa.select(Volume).where(Volume.group_id == g.id)))
            if members and not delete_volumes:
                raise exceptions.BadRequest(f"Invalid group: Group {group_id} still contains volumes. The "
                                            f"delete-volumes flag is required to delete it.")
            for v in members:
                if v.attach_status != "detached" or any(a.attach_status != "detached" for a in v.attachments):
                    raise exceptions.BadRequest(f"Invalid volume: Volume {v.id} in group {group_id} is attached.")
                if v.status not in DELETABLE_MEMBER:
                    raise exceptions.BadRequest(f"Invalid volume: Volume {v.id} in group {group_id} is {v.status}: "
                                                f"it cannot be deleted now.")
                if s.scalar(sa.select(sa.func.count()).select_from(Snapshot).where(Snapshot.volume_id == v.id)):
                    raise exceptions.BadRequest(f"Invalid volume: Volume {v.id} in group {group_id} has "
                                                f"snapshots.")
            for v in members:
                v.group_id = None
                if v.host is None or (v.provider_location is None and v.status == "error"):
                    s.delete(v)  # nothing on a host to remove
                    continue
                v.status, v.updated_at = "deleting", types.utcnow()
                casts.append((v.host, v.id))
            s.delete(g)
        for host, volume_id in casts:
            self.manager.delete_volume(ctx, host, volume_id)


# -- group snapshots --------------------------------------------------------------------------------------

def _group_snapshot_dict(gs: GroupSnapshot) -> dict[str, Any]:
    return {"id": gs.id, "project_id": gs.project_id, "user_id": gs.user_id, "group_id": gs.group_id,
            "group_type_id": gs.group_type_id, "name": gs.name, "description": gs.description,
            "status": gs.status, "created_at": gs.created_at, "updated_at": gs.updated_at}


class GroupSnapshotStore:
    """Group snapshots of a project as dicts; their snapshots carry ``group_snapshot_id``."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, quotas: QuotaStore, manager: VolumeManagerAPI) -> None:
        self.conf = conf
        self.db = db
        self.quotas = quotas
        self.manager = manager

    def owner(self, group_snapshot_id: str) -> str | None:
        with self.db.reader() as s:
            return s.scalar(sa.select(GroupSnapshot.project_id).where(GroupSnapshot.id == group_snapshot_id))

    def get(self, ctx: RequestContext, group_snapshot_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return _group_snapshot_dict(_own(s, ctx, GroupSnapshot, "GroupSnapshot", group_snapshot_id))

    def list(self, ctx: RequestContext, query: listing.ListQuery) -> tuple[builtins.list[dict[str, Any]], bool]:
        with self.db.reader() as s:
            found = listing.page(s, GroupSnapshot, query, ctx.require_project_id(),
                                 self.conf.volume.osapi_max_limit)
            return [_group_snapshot_dict(gs) for gs in found.rows], found.more

    def create(self, ctx: RequestContext, group_id: str, name: str | None,
               description: str | None) -> dict[str, Any]:
        """Snapshot every volume of an available group (each available or in-use, read crash-consistent as a
        forced snapshot is) through the snapshot path: 202, ``creating`` until every snapshot is made
        (``available``; ``error`` if one failed). 404 for a group the caller cannot see, 400 for a group or
        volume in another state, 413 over the ``snapshots``/``gigabytes`` quotas."""
        owner = None
        with self.db.reader() as s:
            owner = s.scalar(sa.select(VolumeGroup.project_id).where(VolumeGroup.id == group_id))
        self.quotas.ensure_lock(owner or ctx.require_project_id())
        casts: builtins.list[tuple[str, str]] = []
        with self.db.writer() as s:
            g = _own(s, ctx, VolumeGroup, "Group", group_id)
            if g.status != "available":
                raise exceptions.BadRequest(f"Invalid group: Group {group_id} status must be available to "
                                            f"snapshot it, but it is {g.status}.")
            members = list(s.scalars(sa.select(Volume).where(Volume.group_id == g.id)
                                     .order_by(Volume.created_at, Volume.id)))
            for v in members:
                if v.status not in ("available", "in-use") or v.host is None:
                    raise exceptions.BadRequest(f"Invalid volume: Volume {v.id} in group {group_id} must be "
                                                f"available or in-use to be snapshotted, but it is {v.status}.")
            self.quotas.check(s, g.project_id, {
                "snapshots": len(members), "gigabytes": sum(v.size for v in members),
                **self.quotas.typed_wanted(s, "snapshots", [(v.volume_type_id, v.size) for v in members])})
            gs = GroupSnapshot(id=types.new_uuid(), project_id=g.project_id, user_id=ctx.user_id, group_id=g.id,
                               group_type_id=g.group_type_id, name=name, description=description,
                               status="creating" if members else "available", follows_members=bool(members))
            s.add(gs)
            for v in members:
                sn = Snapshot(id=types.new_uuid(), project_id=v.project_id, user_id=ctx.user_id, volume_id=v.id,
                              name=f"group-snapshot-{gs.id}", description=description, size=v.size,
                              status="creating", host=v.host, group_snapshot_id=gs.id)
                s.add(sn)
                casts.append((v.host, sn.id))  # type: ignore[arg-type]
            s.flush()
            created = _group_snapshot_dict(gs)
        for host, snapshot_id in casts:
            self.manager.create_snapshot(ctx, host, snapshot_id)
        return created

    def reset_status(self, ctx: RequestContext, group_snapshot_id: str, status: str) -> None:
        """An admin's repair (3.19): set the status, which then no longer follows the snapshots."""
        with self.db.writer() as s:
            gs = _own(s, ctx, GroupSnapshot, "GroupSnapshot", group_snapshot_id)
            gs.status, gs.follows_members, gs.updated_at = status, False, types.utcnow()

    def delete(self, ctx: RequestContext, group_snapshot_id: str) -> None:
        """Remove the group snapshot and delete its snapshots (each ``deleting``, removed by its host's
        manager). 400 unless it and each of its snapshots are available or error."""
        casts: builtins.list[tuple[str, str]] = []
        with self.db.writer() as s:
            gs = _own(s, ctx, GroupSnapshot, "GroupSnapshot", group_snapshot_id)
            if gs.status not in ("available", "error", "error_deleting"):
                raise exceptions.BadRequest(f"Invalid group snapshot: Group snapshot status must be available or "
                                            f"error, but it is {gs.status}.")
            snaps = list(s.scalars(sa.select(Snapshot).where(Snapshot.group_snapshot_id == gs.id)))
            for sn in snaps:
                if sn.status not in ("available", "error", "error_deleting"):
                    raise exceptions.BadRequest(f"Invalid snapshot: Snapshot {sn.id} of the group snapshot is "
                                                f"{sn.status}: it cannot be deleted now.")
            for sn in snaps:
                if sn.host is None or (sn.status == "error" and sn.provider_location is None):
                    s.delete(sn)
                    continue
                sn.status, sn.updated_at = "deleting", types.utcnow()
                casts.append((sn.host, sn.id))
            s.delete(gs)
        for host, snapshot_id in casts:
            self.manager.delete_snapshot(ctx, host, snapshot_id)
