"""Service version records: what each compute-side service runs, for ``[upgrade_levels] ... = auto``.

Every ``nubis-compute`` heartbeat (conductor RPC 1.3) carries ``{"release": <nubis version>,
"rpc": {<level>: <newest version it serves>}}``; the conductor stores it on the service's row.
A row without a record is a service older than release 0.2 (before heartbeats carried versions),
so it counts as what 0.1 served. ``minimum(level)`` is the oldest version any registered service
of that level runs: the cap an ``auto`` client uses, and what ``nubis-status upgrade check`` reports.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nubis import version
from nubis.common import upgrade_levels
from nubis.common.db.engine import Database
from nubis.compute.agent.rpcapi import ComputeAgentEndpoint
from nubis.compute.db.models import Service

# The release whose services recorded no versions (they predate the records).
UNRECORDED_RELEASE = "0.1"

# Which [upgrade_levels] level each binary serves (only services that heartbeat are listed).
LEVELS_OF_BINARY = {"nubis-compute": ("compute",)}


def reported(binary: str) -> dict[str, Any]:
    """What a service of ``binary`` running this code reports on its heartbeat."""
    served = {"compute": str(ComputeAgentEndpoint.target.version)}
    return {"release": version.VERSION,
            "rpc": {level: served[level] for level in LEVELS_OF_BINARY.get(binary, ()) if level in served}}


class ServiceVersions:
    """The version records of the compute database's ``services`` rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def rows(self) -> list[dict[str, Any]]:
        """``[{"host", "binary", "release", "rpc"}]`` for every registered service (None: unrecorded)."""
        with self.db.reader() as s:
            return [{"host": r.host, "binary": r.binary, "release": (r.versions or {}).get("release"),
                     "rpc": dict((r.versions or {}).get("rpc") or {})}
                    for r in s.scalars(sa.select(Service).order_by(Service.binary, Service.host))]

    def minimum(self, level: str) -> str | None:
        """The lowest RPC version of ``level`` a registered service serves; None when none serves it."""
        found: list[str] = []
        for row in self.rows():
            if level not in LEVELS_OF_BINARY.get(row["binary"], ()):
                continue
            if row["release"] is None:
                found.append(upgrade_levels.RELEASES[UNRECORDED_RELEASE][level])
            elif level in row["rpc"]:
                found.append(row["rpc"][level])
        return upgrade_levels.lowest(found)
