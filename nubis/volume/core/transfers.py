"""Volume transfers (Cinder's ``os-volume-transfer``, ``volume-transfers`` from 3.55): a project offers an
``available`` volume (it goes ``awaiting-transfer``) and gets an ``auth_key`` once; another project that knows
the key accepts it and the volume (with its snapshots unless ``no_snapshots``) becomes that project's.

Only a salted hash of the key is stored (HMAC-SHA256 keyed by a random salt), compared in constant time. The
receiving project's ``volumes``, ``gigabytes`` and ``snapshots`` quotas are counted under its lock when it
accepts (413 over them). An accepted transfer is removed; deleting one gives the volume back (``available``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import paging, types
from nubis.common.db.engine import Database
from nubis.volume.core.quotas import QuotaStore
from nubis.volume.db.models import Snapshot, Transfer, Volume

# Cinder's volume_transfer_key_length and volume_transfer_salt_length.
KEY_LENGTH = 16
SALT_LENGTH = 8


def _hash(salt: str, auth_key: str) -> str:
    return hmac.new(salt.encode(), auth_key.encode(), hashlib.sha256).hexdigest()


def to_dict(t: Transfer) -> dict[str, Any]:
    """A transfer as the views render it (never its salt or hash)."""
    return {"id": t.id, "volume_id": t.volume_id, "name": t.name, "no_snapshots": t.no_snapshots,
            "source_project_id": t.source_project_id, "destination_project_id": None, "accepted": False,
            "created_at": t.created_at}


class TransferStore:
    """Transfers a project has offered."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, quotas: QuotaStore) -> None:
        self.conf = conf
        self.db = db
        self.quotas = quotas

    @staticmethod
    def _row(s: Any, ctx: RequestContext, transfer_id: str, lock: bool = False) -> Transfer:
        """The transfer, if the caller's project offered it or the caller is an admin; 404 otherwise."""
        t = s.get(Transfer, transfer_id, with_for_update=lock)
        if t is None or (t.source_project_id != ctx.project_id and not ctx.is_admin):
            raise exceptions.NotFound(f"Transfer {transfer_id} could not be found.")
        return t  # type: ignore[no-any-return]

    def owner(self, transfer_id: str) -> str | None:
        """The project that offered ``transfer_id`` (the policy target), None if there is no such transfer."""
        with self.db.reader() as s:
            t = s.get(Transfer, transfer_id)
            return t.source_project_id if t is not None else None

    def get(self, ctx: RequestContext, transfer_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return to_dict(self._row(s, ctx, transfer_id))

    def list(self, ctx: RequestContext, all_projects: bool, limit: int, marker: str | None,
             filters: dict[str, str]) -> tuple[list[dict[str, Any]], bool]:
        """One page of the project's transfers (every project's for ``all_projects``), newest first."""
        with self.db.reader() as s:
            select = sa.select(Transfer)
            if not all_projects:
                select = select.where(Transfer.source_project_id == ctx.require_project_id())
            for key in ("name", "volume_id"):
                if key in filters:
                    select = select.where(getattr(Transfer, key) == filters[key])

            def unknown(value: Any) -> Exception:
                return exceptions.NotFound(f"Marker {marker} could not be found.")

            found = paging.paginate(s, select, [paging.SortKey(Transfer.created_at, True)],
                                    paging.SortKey(Transfer.id, True), limit, self.conf.volume.osapi_max_limit,
                                    marker, unknown)
            return [to_dict(t) for t in found.rows], found.more

    def create(self, ctx: RequestContext, volume_id: str, name: str | None, no_snapshots: bool) -> dict[str, Any]:
        """Offer an available volume: it goes ``awaiting-transfer``; the answer carries the ``auth_key``, which
        is never shown again. 404 for a volume the caller cannot see; 400 for one in another state, or (moving
        its snapshots) with a snapshot that is not available."""
        auth_key = secrets.token_hex(KEY_LENGTH // 2)
        salt = secrets.token_hex(SALT_LENGTH // 2)
        with self.db.writer() as s:
            v = s.get(Volume, volume_id, with_for_update=True)
            if v is None or (v.project_id != ctx.project_id and not ctx.is_admin):
                raise exceptions.NotFound(f"Volume {volume_id} could not be found.")
            if v.status != "available":
                raise exceptions.BadRequest(f"Invalid volume: status must be available (volume {volume_id} is "
                                            f"{v.status}).")
            if not no_snapshots:
                for snap in s.scalars(sa.select(Snapshot).where(Snapshot.volume_id == volume_id)):
                    if snap.status != "available":
                        raise exceptions.BadRequest(f"Invalid snapshot: snapshot: {snap.id} status must be "
                                                    f"available (it is {snap.status}).")
            now = types.utcnow()
            t = Transfer(id=types.new_uuid(), volume_id=volume_id, source_project_id=v.project_id, name=name,
                         salt=salt, crypt_hash=_hash(salt, auth_key), no_snapshots=no_snapshots,
                         created_at=now, updated_at=now)
            v.status, v.updated_at = "awaiting-transfer", now
            s.add(t)
            s.flush()
            return {**to_dict(t), "auth_key": auth_key}

    def delete(self, ctx: RequestContext, transfer_id: str) -> None:
        """Withdraw the offer: the volume is ``available`` again."""
        with self.db.writer() as s:
            t = self._row(s, ctx, transfer_id, lock=True)
            v = s.get(Volume, t.volume_id, with_for_update=True)
            if v is not None and v.status == "awaiting-transfer":
                v.status, v.updated_at = "available", types.utcnow()
            s.delete(t)

    def accept(self, ctx: RequestContext, transfer_id: str, auth_key: str) -> dict[str, Any]:
        """The caller's project takes the volume (and its snapshots unless the transfer says ``no_snapshots``).

        404 for an unknown transfer; 400 for a wrong key or a volume no longer awaiting the transfer; 413 when
        the volume (and its snapshots) do not fit the receiving project's quotas.
        """
        project = ctx.require_project_id()
        self.quotas.ensure_lock(project)
        with self.db.writer() as s:
            t = s.get(Transfer, transfer_id, with_for_update=True)
            if t is None:
                raise exceptions.NotFound(f"Transfer {transfer_id} could not be found.")
            if not hmac.compare_digest(_hash(t.salt, auth_key), t.crypt_hash):
                raise exceptions.BadRequest(f"Invalid auth key: Attempt to transfer {transfer_id} with invalid "
                                            f"auth key.")
            v = s.get(Volume, t.volume_id, with_for_update=True)
            if v is None or v.status != "awaiting-transfer":
                raise exceptions.BadRequest(f"Invalid volume: Volume {t.volume_id} is not awaiting a transfer.")
            snaps = [] if t.no_snapshots else list(s.scalars(sa.select(Snapshot).where(Snapshot.volume_id == v.id)))
            self.quotas.check(s, project, {"volumes": 1, "gigabytes": v.size + sum(sn.size for sn in snaps),
                                           "snapshots": len(snaps)}, self.quotas.type_name(s, v.volume_type_id))
            now = types.utcnow()
            v.project_id, v.user_id, v.status, v.updated_at = project, ctx.user_id or v.user_id, "available", now
            for sn in snaps:
                sn.project_id, sn.user_id, sn.updated_at = project, ctx.user_id or sn.user_id, now
            accepted = {"id": t.id, "name": t.name, "volume_id": v.id}
            s.delete(t)
            return accepted
