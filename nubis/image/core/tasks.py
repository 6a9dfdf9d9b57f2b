"""Task records: Glance's ``/v2/tasks`` (legacy ``import`` tasks) and the import tasks of an image.

A task is ``pending`` when created, ``processing`` while it runs and ends ``success`` (with a ``result``) or
``failure`` (with a ``message`` saying why). It expires ``[image] task_time_to_live`` hours after it ends
(``expires_at``) and is no longer listed or shown after that. Each task names the process running it
(``runner``: ``host:pid``), so a restarted service can end, as failures, the tasks its previous life left
running. The work itself (creating and filling an image) is in ``imports``.
"""

from __future__ import annotations

import dataclasses
import datetime
import errno
import logging
import os
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import paging, types
from nubis.common.db.engine import Database
from nubis.image.core import records
from nubis.image.db.models import Image
from nubis.image.db.task_models import Task

LOG = logging.getLogger(__name__)

CREATABLE_TYPES = ("import",)  # what POST /v2/tasks takes
TYPES = ("import", "api_image_import")  # what is recorded (an interoperable import records the second)
STATUSES = ("pending", "processing", "success", "failure")
SORT_KEYS = ("created_at", "updated_at", "expires_at", "id", "type", "status", "owner")
LIST_PARAMS = {"limit", "marker", "sort_key", "sort_dir", "type", "status"}
INTERRUPTED = ("interrupted: the image service stopped before the task finished (it was restarted); "
               "run the task again")


@dataclasses.dataclass
class Page:
    tasks: list[dict[str, Any]]
    next_marker: str | None


def runner_name(conf: cfg.ConfigOpts) -> str:
    """This process as a task's ``runner``: ``host:pid``."""
    return f"{conf.host}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError as exc:  # an absurd pid: no such process
        return exc.errno not in (errno.ESRCH, errno.EINVAL)
    except (OverflowError, ValueError):
        return False
    return True


def body(task: Task, full: bool = True) -> dict[str, Any]:
    """A task as Glance shows it: ``full`` for a task shown alone (``input``, ``result``, ``message``, the
    image, request and user it belongs to); else the stub a listing shows, without them."""
    out: dict[str, Any] = {"id": task.id, "type": task.type, "status": task.status, "owner": task.owner,
                           "expires_at": records.iso(task.expires_at), "created_at": records.iso(task.created_at),
                           "updated_at": records.iso(task.updated_at), "self": f"/v2/tasks/{task.id}",
                           "schema": "/v2/schemas/task"}
    if full:
        out.update(input=task.input, result=task.result, message=task.message or "")
        for key in ("image_id", "request_id", "user_id"):
            if getattr(task, key):
                out[key] = getattr(task, key)
    return out


def image_task_body(task: Task) -> dict[str, Any]:
    """A task as ``GET /v2/images/{id}/tasks`` (image API 2.12) shows it: every column, ``deleted`` ones too."""
    out = body(task)
    out.update(image_id=task.image_id, request_id=task.request_id, user_id=task.user_id, deleted_at=None,
               deleted=False)
    return out


class TaskRecords:
    """The task table: what the tasks API reads and what the import runners write."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database) -> None:
        self.conf = conf
        self.db = db

    def _ttl(self) -> datetime.timedelta:
        return datetime.timedelta(hours=self.conf.image.task_time_to_live)

    @staticmethod
    def _live(now: datetime.datetime) -> sa.ColumnElement[bool]:
        return sa.or_(Task.expires_at.is_(None), Task.expires_at > now)

    @staticmethod
    def _visible(ctx: RequestContext) -> sa.ColumnElement[bool]:
        """Glance's rule: an admin sees every task, others their own project's."""
        if records.is_admin(ctx):
            return sa.true()
        return Task.owner == ctx.project_id

    def add(self, ctx: RequestContext, task_type: str, task_input: Any, status: str = "pending",
            image_id: str | None = None, task_id: str | None = None) -> dict[str, Any]:
        """Record a new task of ``ctx``'s project, run by this process; its full body."""
        now = types.utcnow()
        with self.db.writer() as s:
            task = Task(id=task_id or types.new_uuid(), type=task_type, status=status, owner=ctx.project_id,
                        image_id=image_id, request_id=ctx.request_id, user_id=ctx.user_id, input=task_input,
                        result=None, message="", runner=runner_name(self.conf), created_at=now, updated_at=now)
            s.add(task)
            s.flush()
            return body(task)

    def set_status(self, task_id: str, status: str, *, message: str | None = None, result: Any = None,
                   image_id: str | None = None) -> None:
        """Move a task on: ``processing``, or its end (``success``/``failure``, which starts its time to live).
        A task already ended (a restart ended it as interrupted) is left as it is."""
        now = types.utcnow()
        with self.db.writer() as s:
            task = s.get(Task, task_id)
            if task is None or task.status in ("success", "failure"):
                return
            task.status, task.updated_at = status, now
            if message is not None:
                task.message = message[:65000]
            if result is not None:
                task.result = result
            if image_id is not None:
                task.image_id = image_id
            if status in ("success", "failure"):
                task.expires_at = now + self._ttl()

    def get(self, ctx: RequestContext, task_id: str) -> dict[str, Any]:
        """A live task ``ctx`` may see.

        :raises NotFound: no such task, expired, or another project's.
        """
        with self.db.reader() as s:
            task = s.scalar(sa.select(Task).where(Task.id == task_id, self._live(types.utcnow()),
                                                  self._visible(ctx)))
            if task is None:
                raise exceptions.NotFound(f"Failed to find task {task_id}")
            return body(task)

    def for_image(self, ctx: RequestContext, image_id: str) -> list[dict[str, Any]]:
        """The live tasks that made or imported into ``image_id``, oldest first (the caller checked the image)."""
        with self.db.reader() as s:
            tasks = s.scalars(sa.select(Task).where(Task.image_id == image_id, self._live(types.utcnow()),
                                                    self._visible(ctx)).order_by(Task.created_at, Task.id))
            return [image_task_body(t) for t in tasks]

    def list_tasks(self, ctx: RequestContext, params: Mapping[str, str]) -> Page:
        """One page of the live tasks ``ctx`` may see (Glance's ``GET /v2/tasks``): filters ``type`` and
        ``status``, ``sort_key`` (one of :data:`SORT_KEYS`, default ``created_at``), ``sort_dir`` (default
        ``desc``), ``limit`` (default ``[image] limit_param_default``, at most ``api_limit_max``), ``marker``
        (a task id of this listing).

        :raises BadRequest: an unknown parameter, filter value, sort key or direction, a bad limit or marker.
        """
        for name, value in params.items():
            if name not in LIST_PARAMS:
                raise exceptions.BadRequest(f"Invalid query parameter {name!r}: use {', '.join(sorted(LIST_PARAMS))}")
            if "\x00" in value:
                raise exceptions.BadRequest(f"Query parameter {name!r} contains a NUL character.")
        status, task_type = params.get("status"), params.get("type")
        if status is not None and status not in STATUSES:
            raise exceptions.BadRequest(f"Invalid status value: {status[:60]!r} (use {', '.join(STATUSES)})")
        if task_type is not None and task_type not in TYPES:
            raise exceptions.BadRequest(f"Invalid type value: {task_type[:60]!r} (use {', '.join(TYPES)})")
        sort_key, sort_dir = params.get("sort_key", "created_at"), params.get("sort_dir", "desc")
        if sort_key not in SORT_KEYS:
            raise exceptions.BadRequest(f"Invalid sort key {sort_key[:60]!r}; valid keys: {', '.join(SORT_KEYS)}")
        if sort_dir not in ("asc", "desc"):
            raise exceptions.BadRequest(f"Invalid sort direction: {sort_dir[:60]!r} (use asc or desc)")
        limit_text = params.get("limit")
        opts = self.conf.image
        limit = opts.limit_param_default
        if limit_text is not None:
            if not (limit_text.isascii() and limit_text.isdigit()) or len(limit_text) > 18:
                raise exceptions.BadRequest(f"limit param must be a non-negative integer, not {limit_text[:40]!r}")
            limit = int(limit_text)
        q = sa.select(Task).where(self._live(types.utcnow()), self._visible(ctx))
        if status is not None:
            q = q.where(Task.status == status)
        if task_type is not None:
            q = q.where(Task.type == task_type)
        with self.db.reader() as s:
            page = paging.paginate(s, q, [paging.SortKey(getattr(Task, sort_key), sort_dir == "desc")],
                                   paging.SortKey(Task.id, sort_dir == "desc"), limit, opts.api_limit_max,
                                   params.get("marker") or None, _unknown_marker)
            tasks = page.rows
            return Page([body(t, full=False) for t in tasks], tasks[-1].id if tasks and page.more else None)

    def purge_expired(self) -> int:
        """Delete the tasks whose time to live has run out (no call shows them any more); how many."""
        with self.db.writer() as s:
            gone = s.execute(sa.delete(Task).where(Task.expires_at.is_not(None), Task.expires_at <= types.utcnow()))
            count = int(getattr(gone, "rowcount", 0) or 0)
        if count:
            LOG.info("%s expired tasks deleted", count)
        return count

    def end_interrupted(self) -> list[str]:
        """End as failures the unfinished tasks of this host whose process is gone (a stopped or crashed
        service): nothing runs them any more. Returns their ids."""
        host = f"{self.conf.host}:"
        ended = []
        now = types.utcnow()
        with self.db.writer() as s:
            for task in s.scalars(sa.select(Task).where(Task.status.in_(("pending", "processing")),
                                                        Task.runner.startswith(host, autoescape=True))):
                pid_text = (task.runner or "").rpartition(":")[2]
                pid = int(pid_text) if pid_text.isdigit() else 0
                if pid and pid != os.getpid() and _alive(pid):
                    continue  # another worker of this host runs it
                if pid == os.getpid() and task.created_at > _STARTED:
                    continue  # this process's own, started since it began
                task.status, task.message, task.updated_at = "failure", INTERRUPTED, now
                task.expires_at = now + self._ttl()
                ended.append(task.id)
                image = s.get(Image, task.image_id) if task.image_id else None
                if image is not None and image.status in ("importing", "saving"):  # its data never came
                    image.status, image.updated_at = "queued", now
                    records.set_property(s, image.id, records.IMPORT_TASK_PROPERTY, None)
                    records.set_property(s, image.id, records.FAILED_IMPORT_PROPERTY, INTERRUPTED[:255])
        for task_id in ended:
            LOG.warning("task %s was interrupted by a restart; marked failed", task_id)
        return ended


# When this process began running tasks: a task of this pid created before was a previous life's (the
# all-in-one restarts its services inside one process).
_STARTED = types.utcnow()


def mark_started() -> None:
    """Called when the service starts: tasks of this pid created before now are a previous life's."""
    global _STARTED
    _STARTED = types.utcnow()


def _unknown_marker(marker: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"Invalid marker: no task with ID {marker} in this listing.")
