"""The per-host network agent: fetch the host's state, make the data plane match, report back.

One loop does everything, so the data plane is never changed from two threads:
it heartbeats, fetches the host's state when the network service says
something changed (or every ``resync_interval`` in case a message was lost),
re-applies when a guest's tap appears or goes, and reports ports whose status
changed. On start it applies the full state, which both repairs what changed
while the agent was down and removes what is no longer wanted.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from nubis.common import context
from nubis.network.agent.dataplane import DataPlane, host_ports
from nubis.network.rpcapi import NetworkServerAPI

LOG = logging.getLogger(__name__)


class NetworkAgent:
    def __init__(self, host: str, server: NetworkServerAPI, dataplane: DataPlane, configurations: dict[str, Any],
                 poll_interval: float = 1.0, resync_interval: float = 30.0, report_interval: float = 10.0) -> None:
        self.host = host
        self.server = server
        self.dataplane = dataplane
        self.configurations = configurations
        self.poll_interval = poll_interval
        self.resync_interval = resync_interval
        self.report_interval = report_interval
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._sync_wanted = True
        self._thread: threading.Thread | None = None
        self.synced = threading.Event()  # set after each completed apply (tests wait on it)
        self.applied = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"network-agent-{self.host}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop; what was wired stays wired (a restarted agent picks it up again)."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.dataplane.stop()

    def request_sync(self, reason: str = "") -> None:
        self._sync_wanted = True
        self._wake.set()

    # -- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        next_report = next_resync = 0.0
        starting = True
        state: dict[str, Any] | None = None
        known: dict[str, str] = {}
        taps: set[str] = set()
        while not self._stopped.is_set():
            ctxt = context.start_task()  # each round is logged under an id of its own
            now = time.monotonic()
            try:
                if now >= next_report:
                    self.server.report_state(ctxt, self.host, self.configurations, starting)
                    starting = False
                    next_report = now + self.report_interval
                current_taps = self.dataplane.taps()
                reapply = current_taps != taps
                taps = current_taps
                if self._sync_wanted or now >= next_resync or state is None:
                    self._sync_wanted = False
                    state = self.server.host_state(ctxt, self.host)
                    known = {p["id"]: p["status"] for p in host_ports(state)}  # as the server sees them
                    next_resync = now + self.resync_interval
                    reapply = True
                if reapply and state is not None:
                    statuses = self.dataplane.apply(state)
                    changed = {pid: s for pid, s in statuses.items() if known.get(pid) != s}
                    if changed:
                        self.server.update_port_status(ctxt, self.host, changed)
                        known.update(changed)
                    self.applied += 1
                    self.synced.set()
            except Exception:  # noqa: BLE001 - keep serving; the next round retries everything
                LOG.exception("Network agent round failed on %s; retrying", self.host)
                self._sync_wanted = True
                self._wake.wait(min(5.0, self.resync_interval))
            self._wake.wait(self.poll_interval)
            self._wake.clear()
