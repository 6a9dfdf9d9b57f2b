"""Periodic tasks of a service: heartbeats, resyncs, audits, clean-ups, on futurist's ``PeriodicWorker``.

One ``PeriodicTasks`` runs its tasks one after the other on one background
thread, each every ``spacing`` seconds (counted from the start of its last
run, as Nova's periodic tasks). Each run is logged under a request id of its
own (``context.start_task``) and a run that fails is logged and tried again
at the next interval: a periodic task never stops because one run failed;
it ends by raising ``NeverAgain``.
``stop()`` lets the run in progress finish (waiting at most ``timeout``
seconds) and runs nothing more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from futurist import periodics

from nubis.common import context

LOG = logging.getLogger(__name__)

Task = Callable[[], Any]
NeverAgain = periodics.NeverAgain  # raised by a task: run it no more


class PeriodicTasks:
    """Named tasks, each run every ``spacing`` seconds on one thread between ``start()`` and ``stop()``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: list[tuple[Task, tuple[Any, ...], dict[str, Any]]] = []
        self._worker: periodics.PeriodicWorker | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def add(self, name: str, spacing: float, task: Task, run_immediately: bool = False) -> PeriodicTasks:
        """Run ``task()`` every ``spacing`` seconds (``spacing`` 0: never, the way a ``*_interval = 0`` option
        turns a task off), first right at ``start()`` if ``run_immediately``, else ``spacing`` seconds later.

        :raises RuntimeError: the tasks were already started.
        """
        if self._worker is not None:
            raise RuntimeError(f"periodic tasks {self.name} already started")
        if spacing <= 0:
            return self

        @periodics.periodic(spacing, run_immediately=run_immediately)
        def run() -> None:
            if self._stopping.is_set():  # futurist may start one more due task after stop() before it looks
                return
            with context.scope():
                context.start_task()  # each run is logged under an id of its own
                try:
                    task()
                except NeverAgain:
                    raise
                except Exception:  # noqa: BLE001 - the next run tries again
                    LOG.exception("%s failed; trying again in %s s", name, spacing)

        run.__name__ = run.__qualname__ = name  # what futurist's own log lines call it
        self._tasks.append((run, (), {}))
        return self

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self) -> PeriodicTasks:
        """Start the thread (nothing to do when every task is turned off).

        :raises RuntimeError: already started.
        """
        if self._worker is not None:
            raise RuntimeError(f"periodic tasks {self.name} already started")
        self._worker = periodics.PeriodicWorker(self._tasks, log=LOG)
        if self._tasks:
            self._thread = threading.Thread(target=self._worker.start, name=self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Run nothing more; wait up to ``timeout`` seconds for a run in progress to end."""
        if self._worker is None:
            return
        self._stopping.set()
        self._worker.stop()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                LOG.warning("periodic tasks %s still running after %s s; leaving them", self.name, timeout)
