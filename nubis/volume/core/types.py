"""Volume types and their extra specs; the default type is made on first use."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.db.models import Volume, VolumeType, VolumeTypeExtraSpec


def to_dict(t: VolumeType, specs: dict[str, str]) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "description": t.description, "is_public": t.is_public,
            "extra_specs": specs}


def _specs(s: Any, type_id: str) -> dict[str, str]:
    return dict(s.execute(sa.select(VolumeTypeExtraSpec.key, VolumeTypeExtraSpec.value)
                          .where(VolumeTypeExtraSpec.volume_type_id == type_id)).all())


class TypeStore:
    """Volume types as dicts: ``{"id", "name", "description", "is_public", "extra_specs"}``."""

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

    def resolve(self, s: Any, ref: str | None, is_admin: bool) -> VolumeType:
        """The type a create names (by id or name), or the default; 404 for an unknown or hidden one."""
        if ref is None:
            return self.default(s)
        found = s.get(VolumeType, ref) or s.scalars(sa.select(VolumeType).where(VolumeType.name == ref)).first()
        if found is None or (not found.is_public and not is_admin):
            raise exceptions.NotFound(f"Volume type {ref} could not be found.")
        return found  # type: ignore[no-any-return]

    def list(self, is_admin: bool, is_public: bool | None) -> list[dict[str, Any]]:
        with self.db.writer() as s:
            self.default(s)
            query = sa.select(VolumeType).order_by(VolumeType.name)
            if not is_admin:
                query = query.where(VolumeType.is_public.is_(True))
            elif is_public is not None:
                query = query.where(VolumeType.is_public.is_(is_public))
            return [to_dict(t, _specs(s, t.id)) for t in s.scalars(query)]

    def get(self, type_id: str, is_admin: bool) -> dict[str, Any]:
        with self.db.writer() as s:
            if type_id == "default":
                t = self.default(s)
            else:
                t = self.resolve(s, type_id, is_admin)
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
            name = changes.get("name")
            if name is not None and name != t.name:
                if t.name == self.conf.volume.default_volume_type:
                    raise exceptions.BadRequest("The default volume type cannot be renamed.")
                if s.scalars(sa.select(VolumeType).where(VolumeType.name == name)).first() is not None:
                    raise exceptions.Conflict(f"Volume Type {name} already exists.")
                t.name = name
            if "description" in changes:
                t.description = changes["description"]
            if changes.get("is_public") is not None:
                t.is_public = changes["is_public"]
            t.updated_at = types.utcnow()
            return to_dict(t, _specs(s, t.id))

    def delete(self, type_id: str) -> None:
        with self.db.writer() as s:
            t = self.resolve(s, type_id, True)
            if t.name == self.conf.volume.default_volume_type:
                raise exceptions.BadRequest("The default volume type cannot be deleted.")
            if s.scalar(sa.select(sa.func.count()).select_from(Volume).where(Volume.volume_type_id == t.id)):
                raise exceptions.BadRequest(f"Target volume type {type_id} is still in use.")
            s.delete(t)

    def specs(self, type_id: str, is_admin: bool) -> dict[str, str]:
        with self.db.reader() as s:
            return _specs(s, self.resolve(s, type_id, is_admin).id)

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
