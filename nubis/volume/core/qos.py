"""QoS specs (Cinder's ``qos-specs``): named limits for a consumer, associated with volume types.

``front-end`` (and ``both``) specs are applied by the compute's hypervisor: they travel in the attachment's
``connection_info`` (``data.qos_specs``, as Cinder sends them) and become the disk's libvirt ``<iotune>``.
``back-end`` specs would be the storage's to apply; the file backend has no limits to set, so they are only
recorded.
"""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.db.models import QosSpecs, VolumeType

CONSUMERS = ("front-end", "back-end", "both")
# Cinder's per-GiB IOPS keys: multiplied by the volume's size when a connection is made (at least *_min).
_PER_GB = ("total_iops_sec", "read_iops_sec", "write_iops_sec")


def to_dict(q: QosSpecs) -> dict[str, Any]:
    return {"id": q.id, "name": q.name, "consumer": q.consumer, "specs": dict(q.specs or {})}


def connection_specs(consumer: str, specs: dict[str, str], size_gb: int) -> dict[str, str] | None:
    """What Cinder puts in ``connection_info['data']['qos_specs']``: the specs of a ``front-end`` or ``both``
    consumer (None for ``back-end``), with ``<key>_per_gb`` IOPS turned into ``<key>`` for a volume of
    ``size_gb`` GiB (never below ``<key>_per_gb_min`` when that is set)."""
    if consumer not in ("front-end", "both"):
        return None
    out = dict(specs)
    for key in _PER_GB:
        per_gb = out.pop(f"{key}_per_gb", None)
        minimum = out.pop(f"{key}_per_gb_min", None)
        if per_gb is None:
            continue
        try:
            value = int(per_gb) * size_gb
            if minimum is not None:
                value = max(value, int(minimum))
        except ValueError:
            continue  # not a number: nothing a hypervisor could apply
        out[key] = str(value)
    return out


class QosStore:
    """QoS specs as dicts ``{"id", "name", "consumer", "specs"}`` and their volume type associations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _row(s: Any, qos_id: str) -> QosSpecs:
        found = s.get(QosSpecs, qos_id)
        if found is None:
            raise exceptions.NotFound(f"QoS spec {qos_id} could not be found.")
        return found  # type: ignore[no-any-return]

    @staticmethod
    def _type(s: Any, type_id: str) -> VolumeType:
        found = s.get(VolumeType, type_id)
        if found is None:
            raise exceptions.NotFound(f"Volume type {type_id} could not be found.")
        return found  # type: ignore[no-any-return]

    def list(self) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            return [to_dict(q) for q in s.scalars(sa.select(QosSpecs).order_by(QosSpecs.created_at, QosSpecs.id))]

    def get(self, qos_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return to_dict(self._row(s, qos_id))

    def create(self, name: str, consumer: str, specs: dict[str, str]) -> dict[str, Any]:
        """New specs; 409 when the name is taken."""
        with self.db.writer() as s:
            if s.scalars(sa.select(QosSpecs.id).where(QosSpecs.name == name)).first() is not None:
                raise exceptions.Conflict(f"QoS Specs {name} already exists.")
            q = QosSpecs(id=types.new_uuid(), name=name, consumer=consumer, specs=dict(specs))
            s.add(q)
            s.flush()
            return to_dict(q)

    def set_keys(self, qos_id: str, specs: dict[str, str], consumer: str | None) -> None:
        """Add or change keys (and the consumer, when named)."""
        with self.db.writer() as s:
            q = self._row(s, qos_id)
            q.specs = {**(q.specs or {}), **specs}
            if consumer is not None:
                q.consumer = consumer
            q.updated_at = types.utcnow()

    def delete_keys(self, qos_id: str, keys: builtins.list[str]) -> None:
        """Remove keys; 404 naming the first key the specs lack (and nothing is removed)."""
        with self.db.writer() as s:
            q = self._row(s, qos_id)
            current = dict(q.specs or {})
            for key in keys:
                if key not in current:
                    raise exceptions.NotFound(f"QoS spec {qos_id} has no key {key}.")
                del current[key]
            q.specs, q.updated_at = current, types.utcnow()

    def delete(self, qos_id: str, force: bool) -> None:
        """Delete; 400 while volume types use the specs unless ``force`` (which disassociates them first)."""
        with self.db.writer() as s:
            q = self._row(s, qos_id)
            users = list(s.scalars(sa.select(VolumeType).where(VolumeType.qos_specs_id == qos_id)))
            if users and not force:
                raise exceptions.BadRequest(f"QoS Specs {qos_id} is still associated with entities "
                                            f"({len(users)} volume type(s)); disassociate them or use force.")
            for t in users:
                t.qos_specs_id = None
            s.delete(q)

    def associations(self, qos_id: str) -> builtins.list[dict[str, str]]:
        """Cinder's ``qos_associations``: the volume types using the specs."""
        with self.db.reader() as s:
            self._row(s, qos_id)
            return [{"association_type": "volume_type", "name": t.name, "id": t.id}
                    for t in s.scalars(sa.select(VolumeType).where(VolumeType.qos_specs_id == qos_id)
                                       .order_by(VolumeType.name))]

    def associate(self, qos_id: str, type_id: str) -> None:
        """Give volume type ``type_id`` these specs; 400 when it already has others (as Cinder)."""
        with self.db.writer() as s:
            self._row(s, qos_id)
            t = self._type(s, type_id)
            if t.qos_specs_id not in (None, qos_id):
                raise exceptions.BadRequest(f"Invalid volume type: Type {type_id} is already associated with "
                                            f"another qos specs: {t.qos_specs_id}.")
            t.qos_specs_id, t.updated_at = qos_id, types.utcnow()

    def disassociate(self, qos_id: str, type_id: str) -> None:
        """Take the specs from volume type ``type_id`` (nothing changes when it has other specs)."""
        with self.db.writer() as s:
            self._row(s, qos_id)
            t = self._type(s, type_id)
            if t.qos_specs_id == qos_id:
                t.qos_specs_id, t.updated_at = None, types.utcnow()

    def disassociate_all(self, qos_id: str) -> None:
        with self.db.writer() as s:
            self._row(s, qos_id)
            s.execute(sa.update(VolumeType).where(VolumeType.qos_specs_id == qos_id)
                      .values(qos_specs_id=None, updated_at=types.utcnow()))
