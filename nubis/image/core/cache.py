"""This API node's image cache (Glance's ``/v2/cache``, image API 2.14).

Images an operator queues (``PUT /v2/cache/{id}``) are copied by the prefetcher
from the image store into a local directory (``[image] image_cache_dir``, files
readable by the service only); downloads on this node are then served from that
copy, each counting a hit. What is queued and cached, with hits and times, is kept
in the image database per node (``host``), so every worker process of the node
sees the same cache. Past ``[image] image_cache_max_size`` bytes the least
recently accessed images are pruned.
"""

from __future__ import annotations

import calendar
import datetime
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import context
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.image.db.models import Image
from nubis.image.db.task_models import CachedImage
from nubis.image.store import FilesystemStore

LOG = logging.getLogger(__name__)


def _epoch(ts: datetime.datetime) -> float:
    """A naive UTC time as Glance's cache shows it: seconds since the epoch."""
    return calendar.timegm(ts.timetuple()) + ts.microsecond / 1e6


class ImageCache:
    """The cache of one node: its queue and its files.

    ``source(location)`` opens the stored data of an image (the image store's ``open``).
    """

    def __init__(self, conf: cfg.ConfigOpts, db: Database, files: FilesystemStore,
                 source: Callable[[str], Iterator[bytes]]) -> None:
        self.conf = conf
        self.db = db
        self.files = files
        self.source = source
        self.node: str = conf.host
        self._running = threading.Lock()
        self._wanted = threading.Event()

    def _mine(self) -> sa.ColumnElement[bool]:
        return CachedImage.node == self.node

    # -- what the API shows and changes ------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """``cached_images`` (``image_id``, ``hits``, ``last_accessed``, ``last_modified`` as epoch seconds,
        ``size``), least recently accessed first, and ``queued_images`` (ids), as Glance lists them."""
        with self.db.reader() as s:
            rows = list(s.execute(sa.select(CachedImage.image_id, CachedImage.state, CachedImage.hits,
                                            CachedImage.last_accessed, CachedImage.last_modified, CachedImage.size)
                                  .where(self._mine()).order_by(CachedImage.last_accessed, CachedImage.image_id)))
        cached = [{"image_id": r.image_id, "hits": r.hits, "last_accessed": _epoch(r.last_accessed),
                   "last_modified": _epoch(r.last_modified), "size": r.size}
                  for r in rows if r.state == "cached" and self.files.exists(r.image_id)]
        return {"cached_images": cached, "queued_images": [r.image_id for r in rows if r.state == "queued"]}

    def queue(self, image_id: str) -> None:
        """Queue an (active) image for caching and start the prefetcher; one cached already stays as it is."""
        now = types.utcnow()
        with self.db.writer() as s:
            if s.get(CachedImage, (self.node, image_id)) is None:
                s.add(CachedImage(node=self.node, image_id=image_id, state="queued", size=0, hits=0,
                                  last_accessed=now, last_modified=now))
        self.kick()

    def forget(self, image_id: str) -> bool:
        """Drop an image from the cache and the queue; whether it was in either."""
        with self.db.writer() as s:
            row = s.get(CachedImage, (self.node, image_id))
            if row is not None:
                s.delete(row)
        had_file = self.files.exists(image_id)
        self.files.delete(image_id)
        return row is not None or had_file

    def clear(self, cached: bool, queued: bool) -> None:
        """Empty the cache (``cached``: its files too) and/or the queue."""
        states = [state for state, wanted in (("cached", cached), ("queued", queued)) if wanted]
        with self.db.writer() as s:
            gone = list(s.scalars(sa.select(CachedImage.image_id).where(self._mine(), CachedImage.state.in_(states))))
            s.execute(sa.delete(CachedImage).where(self._mine(), CachedImage.state.in_(states)))
        if cached:
            for key in set(gone) | set(self.files.keys()):
                self.files.delete(key)

    def open(self, image_id: str, size: int, offset: int, length: int) -> Iterator[bytes] | None:
        """The cached copy of ``image_id`` (``length`` bytes from ``offset``), counting a hit; None when this
        node holds no whole copy of its ``size`` bytes (the caller reads the store)."""
        with self.db.reader() as s:  # most downloads are of images not cached here: no write for them
            state = s.scalar(sa.select(CachedImage.state).where(self._mine(), CachedImage.image_id == image_id))
        if state != "cached":
            return None
        with self.db.writer() as s:
            row = s.get(CachedImage, (self.node, image_id))
            if row is None or row.state != "cached":
                return None
            try:
                if self.files.size(image_id) != size:
                    raise FileNotFoundError(image_id)
                chunks = self.files.open(image_id, offset, length)  # opened now: a later prune cannot cut it
            except OSError:
                s.delete(row)  # the copy went away (or is not whole): back to the store
                return None
            row.hits += 1
            row.last_accessed = types.utcnow()
            return chunks

    # -- the prefetcher ---------------------------------------------------------------------------------

    def kick(self) -> None:
        """Copy the queued images in a background thread (one at a time per process)."""
        self._wanted.set()
        if self._running.acquire(blocking=False):
            context.spawn(self._drain, name="image-cache-prefetcher")

    def run_round(self) -> None:
        """One periodic round: copy whatever is queued, unless a round is running already."""
        self._wanted.set()
        if self._running.acquire(blocking=False):
            self._drain()

    def _drain(self) -> None:
        try:
            while self._wanted.is_set():
                self._wanted.clear()
                self.prefetch()
        finally:
            self._running.release()
        if self._wanted.is_set():  # queued while the last round was ending
            self.kick()

    def prefetch(self) -> int:
        """Copy every queued image of this node into the cache, then prune; the number copied."""
        copied = 0
        while True:
            with self.db.reader() as s:
                job = s.execute(sa.select(CachedImage.image_id, Image.status, Image.location, Image.size).join(
                    Image, Image.id == CachedImage.image_id).where(self._mine(), CachedImage.state == "queued")
                    .order_by(CachedImage.last_modified, CachedImage.image_id).limit(1)).first()
            if job is None:
                break
            image_id, status, location, size = job
            if status != "active" or not location:
                LOG.info("image %s is %s: not cached", image_id, status)
                self._drop(image_id)
                continue
            try:
                written = self.files.add(image_id, self.source(location))
            except Exception as exc:  # noqa: BLE001 - the image stays uncached; the next one goes on
                LOG.warning("caching image %s failed: %s", image_id, exc)
                self._drop(image_id)
                continue
            if size is not None and written != size:
                LOG.warning("caching image %s copied %s bytes of %s: dropped", image_id, written, size)
                self.files.delete(image_id)
                self._drop(image_id)
                continue
            now = types.utcnow()
            with self.db.writer() as s:
                row = s.get(CachedImage, (self.node, image_id))
                if row is None:  # deleted from the queue meanwhile
                    self.files.delete(image_id)
                    continue
                row.state, row.size, row.last_modified, row.last_accessed = "cached", written, now, now
            copied += 1
            LOG.info("image %s cached (%s bytes)", image_id, written)
        self.prune()
        return copied

    def _drop(self, image_id: str) -> None:
        with self.db.writer() as s:
            s.execute(sa.delete(CachedImage).where(self._mine(), CachedImage.image_id == image_id))

    def prune(self) -> list[str]:
        """Remove files no record names, then the least recently accessed images while the cache holds more
        than ``[image] image_cache_max_size`` bytes; the ids pruned."""
        limit = self.conf.image.image_cache_max_size
        with self.db.reader() as s:
            rows = list(s.execute(sa.select(CachedImage.image_id, CachedImage.size).where(
                self._mine(), CachedImage.state == "cached").order_by(CachedImage.last_accessed.desc(),
                                                                       CachedImage.image_id)))
            known = set(s.scalars(sa.select(CachedImage.image_id).where(self._mine())))  # queued ones too
        for key in self.files.keys():
            if key not in known:
                self.files.delete(key)
        total, pruned = 0, []
        for image_id, size in rows:  # most recently used first: keep those that fit
            total += size
            if total > limit:
                pruned.append(image_id)
        for image_id in pruned:
            self._drop(image_id)
            self.files.delete(image_id)
            LOG.info("image %s pruned from the cache (over %s bytes)", image_id, limit)
        return pruned
