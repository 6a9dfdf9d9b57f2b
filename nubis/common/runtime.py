"""What a running process shares: config, databases, messaging.

Built once at start and passed down explicitly (no module globals), so the
all-in-one can host every service in one process on one in-process transport,
and tests can build as many isolated ones as they like.
"""

from __future__ import annotations

import threading

from oslo_config import cfg

from nubis.common import config
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.common.rpc import Messaging


class Runtime:
    def __init__(self, conf: cfg.ConfigOpts, messaging: Messaging | None = None) -> None:
        """``messaging``: share another runtime's transport, e.g. several compute
        agents (each with its own ``conf.host``) in one test process, since the
        in-process transport only connects users of the same transport object."""
        self.conf = conf
        self.started_at = types.utcnow()  # what this process finds older than this, a previous one left
        self._lock = threading.Lock()
        self._databases: dict[str, Database] = {}
        self._messaging = messaging
        self._owns_messaging = messaging is None

    def database(self, service: str) -> Database:
        """The (shared, lazily created) database of ``service``."""
        with self._lock:
            db = self._databases.get(service)
            if db is None:
                url = config.database_url(self.conf, service)
                path = config.sqlite_file(url)
                if path is not None:
                    import os

                    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                db = Database(url, self.conf.database.max_pool_size, self.conf.database.max_overflow,
                              self.conf.database.deadlock_retries)
                self._databases[service] = db
            return db

    @property
    def messaging(self) -> Messaging:
        with self._lock:
            if self._messaging is None:
                self._messaging = Messaging(self.conf)
            return self._messaging

    def close(self) -> None:
        for db in self._databases.values():
            db.dispose()
        if self._messaging is not None and self._owns_messaging:
            self._messaging.cleanup()
