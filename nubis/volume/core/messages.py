"""Cinder's user messages (3.3): why an asynchronous request failed, kept for the project that made it.

A message names its resource, an action and a detail by Cinder's ids; its ``event_id`` is
``VOLUME_<resource type>_<action id>_<detail id>`` and its text ``"<action>: <detail>"``. Messages are kept
``[volume] message_ttl`` seconds at least (``guaranteed_until``); older ones are dropped as the list is read.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.volume.db.models import Message

# (id, text) of Cinder's actions and details that Nubis reports.
SCHEDULE_ALLOCATE_VOLUME = ("001", "schedule allocate volume")
NO_BACKEND_AVAILABLE = ("003", "Could not find any available weighted backend.")


def record(s: Any, ctx: RequestContext, resource_type: str, resource_uuid: str | None, action: tuple[str, str],
           detail: tuple[str, str], ttl_seconds: int) -> None:
    """Add a message for the caller's project in the open transaction ``s``."""
    now = types.utcnow()
    s.add(Message(id=types.new_uuid(), project_id=ctx.require_project_id(), request_id=ctx.request_id,
                  resource_type=resource_type, resource_uuid=resource_uuid,
                  event_id=f"VOLUME_{resource_type}_{action[0]}_{detail[0]}", message_level="ERROR",
                  user_message=f"{action[1]}: {detail[1]}", created_at=now,
                  expires_at=now + datetime.timedelta(seconds=ttl_seconds)))


def _to_dict(m: Message) -> dict[str, Any]:
    return {"id": m.id, "project_id": m.project_id, "request_id": m.request_id or "",
            "resource_type": m.resource_type, "resource_uuid": m.resource_uuid, "event_id": m.event_id,
            "message_level": m.message_level, "user_message": m.user_message, "created_at": m.created_at,
            "guaranteed_until": m.expires_at}


class MessageStore:
    """The messages of a project (an admin reads and deletes any project's by id)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """The caller's project's messages, newest first; expired ones are removed."""
        with self.db.writer() as s:
            s.execute(sa.delete(Message).where(Message.expires_at < types.utcnow()))
            found = s.scalars(sa.select(Message).where(Message.project_id == ctx.require_project_id())
                              .order_by(Message.created_at.desc(), Message.id))
            return [_to_dict(m) for m in found]

    @staticmethod
    def _row(s: Any, ctx: RequestContext, message_id: str) -> Message:
        m = s.get(Message, message_id)
        if m is None or (m.project_id != ctx.project_id and not ctx.is_admin):
            raise exceptions.NotFound(f"Message {message_id} could not be found.")
        return m  # type: ignore[no-any-return]

    def owner(self, message_id: str) -> str | None:
        with self.db.reader() as s:
            m = s.get(Message, message_id)
            return m.project_id if m is not None else None

    def get(self, ctx: RequestContext, message_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return _to_dict(self._row(s, ctx, message_id))

    def delete(self, ctx: RequestContext, message_id: str) -> None:
        with self.db.writer() as s:
            s.delete(self._row(s, ctx, message_id))
