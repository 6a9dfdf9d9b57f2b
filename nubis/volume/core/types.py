"""Volume types and their extra specs; the default type is made on first use."""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.core.quotas import TYPED as _TYPED_QUOTAS
from nubis.volume.db.models import Quota, Volume, VolumeType, VolumeTypeExtraSpec, VolumeTypeProject


def _rename_quotas(s: Any, old: str, new: str | None) -> None:
    """Carry a type's quota limits over to its new name (as Cinder), or drop them with the type (``new`` None)."""
    for r in _TYPED_QUOTAS:
        rows = sa.select(Quota).where(Quota.resource == f"{r}_{old}")
        for q in list(s.scalars(rows)):
            if new is None:
                s.delete(q)
            else:
                s.execute(sa.update(Quota).where(Quota.owner == q.owner, Quota.resource == q.resource)
                          .values(resource=f"{r}_{new}"))


def to_dict(t: VolumeType, specs: dict[str, str]) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "description": t.description, "is_public": t.is_public,
            "qos_specs_id": t.qos_specs_id, "extra_specs": specs}


def _specs(s: Any, type_id: str) -> dict[str, str]:
    return dict(s.execute(sa.select(VolumeTypeExtraSpec.key, VolumeTypeExtraSpec.value)
                          .where(VolumeTypeExtraSpec.volume_type_id == type_id)).all())


def detail(s: Any, t: VolumeType) -> dict[str, Any]:
    """``to_dict`` of ``t`` with its extra specs, read in session ``s``."""
    return to_dict(t, _specs(s, t.id))


def _accessible(s: Any, t: VolumeType, is_admin: bool, project_id: str | None) -> bool:
    """Whether a caller sees type ``t``: admins all, others the public ones and those their project may use."""
    if t.is_public or is_admin:
        return True
    return project_id is not None and s.get(VolumeTypeProject, (t.id, project_id)) is not None


class TypeStore:
    """Volume types as dicts: ``{"id", "name", "description", "is_public", "qos_specs_id", "extra_specs"}``.

    A private type (``is_public`` false) is seen by admins and by the projects given access to it; to anyone
    else it does not exist (404), as in Cinder.
    """

    def __init__(self, conf: cfg.ConfigOpts, db: Database) -> None:
        self.conf = conf
        self.db = db

    def default(self, s: Any) -> VolumeType:
        """The configured default type, created the first time it is needed."""
        name = self.conf.volume.default_volume_type
        found = s.scalars(sa.select(VolumeType).where(VolumeType.name == name)).first()
        if found is None:
            found = VolumeType(id=types.new_uuid(), name=name, description="Default Volume Type", is_public=True)
            s.add(found)
            s.flush()
        return found  # type: ignore[no-any-return]

    def resolve(self, s: Any, ref: str | None, is_admin: bool, project_id: str | None = None) -> VolumeType:
        """The type a create names (by id or name), or the default; 404 for an unknown one or a private one
        ``project_id`` has no access to."""
        if ref is None:
            return self.default(s)
        found = s.get(VolumeType, ref) or s.scalars(sa.select(VolumeType).where(VolumeType.name == ref)).first()
        if found is None or not _accessible(s, found, is_admin, project_id):
            raise exceptions.NotFound(f"Volume type {ref} could not be found.")
        return found  # type: ignore[no-any-return]

    def list(self, is_admin: bool, is_public: bool | None, project_id: str | None = None) -> list[dict[str, Any]]:
        """Admins: every type (or the public / private ones); others: the public ones and the private ones
        ``project_id`` has access to."""
        with self.db.writer() as s:
            self.default(s)
            query = sa.select(VolumeType).order_by(VolumeType.name)
            if not is_admin:
                granted = sa.select(VolumeTypeProject.volume_type_id).where(VolumeTypeProject.project_id == project_id)
                query = query.where(sa.or_(VolumeType.is_public.is_(True), VolumeType.id.in_(granted)))
            elif is_public is not None:
                query = query.where(VolumeType.is_public.is_(is_public))
            return [to_dict(t, _specs(s, t.id)) for t in s.scalars(query)]

    def get(self, type_id: str, is_admin: bool, project_id: str | None = None) -> dict[str, Any]:
        with self.db.writer() as s:
            if type_id == "default":
                t = self.default(s)
            else:
                t = self.resolve(s, type_id, is_admin, project_id)
            return to_dict(t, _specs(s, t.id))

    def create(self, name: str, description: str | None, is_public: bool, specs: dict[str, str]) -> dict[str, Any]:
        with self.db.writer() as s:
            if s.scalars(sa.select(VolumeType).where(VolumeType.name == name)).first() is not None:
                raise exceptions.Conflict(f"Volume Type {name} already exists.")
            t = VolumeType(id=types.new_uuid(), name=name, description=description, is_public=is_public)
            s.add(t)
            s.flush()
            for key, value in specs.items():
                s.add(VolumeTypeExtraSpec(volume_type_id=t.id, key=key, value=value))
            s.flush()
            return to_dict(t, dict(specs))

    def update(self, type_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            old = t.name
            apply_type_changes(s, t, changes, self.conf.volume.default_volume_type, "Volume Type")
            if t.name != old:
                s.flush()
                _rename_quotas(s, old, t.name)
            return to_dict(t, _specs(s, t.id))

    def delete(self, type_id: str) -> None:
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            if t.name == self.conf.volume.default_volume_type:
                raise exceptions.BadRequest("The default volume type cannot be deleted.")
            if s.scalar(sa.select(sa.func.count()).select_from(Volume).where(Volume.volume_type_id == t.id)):
                raise exceptions.BadRequest(f"Target volume type {type_id} is still in use.")
            _rename_quotas(s, t.name, None)
            s.delete(t)

    def specs(self, type_id: str, is_admin: bool, project_id: str | None = None) -> dict[str, str]:
        with self.db.reader() as s:
            return _specs(s, self.resolve(s, type_id, is_admin, project_id).id)

    def set_specs(self, type_id: str, specs: dict[str, str]) -> dict[str, str]:
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            for key, value in specs.items():
                row = s.get(VolumeTypeExtraSpec, (t.id, key))
                if row is None:
                    s.add(VolumeTypeExtraSpec(volume_type_id=t.id, key=key, value=value))
                else:
                    row.value = value
            return specs

    def delete_spec(self, type_id: str, key: str) -> None:
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            row = s.get(VolumeTypeExtraSpec, (t.id, key))
            if row is None:
                raise exceptions.NotFound(f"Volume Type {type_id} has no extra specs with key {key}.")
            s.delete(row)

    # -- access to private types (Cinder's os-volume-type-access) ---------------------------------------

    def _private(self, s: Any, type_id: str) -> VolumeType:
        t = self.resolve(s, type_id, True)
        if t.is_public:
            raise exceptions.BadRequest(f"Invalid volume type: Type access modification is not applicable to "
                                        f"public volume type {type_id}.")
        return t

    def access_list(self, type_id: str) -> builtins.list[dict[str, str]]:
        """The projects that may use private type ``type_id``; 404 for a public type (it has no list)."""
        with self.db.reader() as s:
            t = self.resolve(s, type_id, True)
            if t.is_public:
                raise exceptions.NotFound("Access list not available for public volume types.")
            return [{"volume_type_id": t.id, "project_id": p} for p in s.scalars(
                sa.select(VolumeTypeProject.project_id).where(VolumeTypeProject.volume_type_id == t.id)
                .order_by(VolumeTypeProject.project_id))]

    def add_access(self, type_id: str, project_id: str) -> None:
        """Let ``project_id`` use private type ``type_id``; 409 when it already may, 400 for a public type."""
        with self.db.writer() as s:
            t = self._private(s, type_id)
            if s.get(VolumeTypeProject, (t.id, project_id)) is not None:
                raise exceptions.Conflict(f"Volume type access for {t.id} / {project_id} combination already "
                                          f"exists.")
            s.add(VolumeTypeProject(volume_type_id=t.id, project_id=project_id))

    def remove_access(self, type_id: str, project_id: str) -> None:
        """Take ``project_id``'s access to private type ``type_id``; 404 when it has none."""
        with self.db.writer() as s:
            t = self._private(s, type_id)
            row = s.get(VolumeTypeProject, (t.id, project_id))
            if row is None:
                raise exceptions.NotFound(f"Volume type access not found for {t.id} / {project_id} combination.")
            s.delete(row)


def apply_type_changes(s: Any, t: Any, changes: dict[str, Any], default_name: str, noun: str) -> None:
    """Change a volume or group type's ``name``, ``description`` or ``is_public`` (Cinder's type update).

    :param t: the type's row (a VolumeType or GroupType); the uniqueness of a new name is checked in its table.
    :param noun: "Volume Type" or "Group Type", as Cinder's messages say it.
    :raises BadRequest: renaming the default type (``default_name``).
    :raises Conflict: another type has the new name.
    """
    name = changes.get("name")
    if name is not None and name != t.name:
        if t.name == default_name:
            raise exceptions.BadRequest(f"The default {noun.lower()} cannot be renamed.")
        model = type(t)
        if s.scalars(sa.select(model).where(model.name == name)).first() is not None:
            raise exceptions.Conflict(f"{noun} {name} already exists.")
        t.name = name
    if "description" in changes:
        t.description = changes["description"]
    if changes.get("is_public") is not None:
        t.is_public = changes["is_public"]
    t.updated_at = types.utcnow()
