"""The per-host network agent: fetch the host's state, make the data plane match, report back.

One loop changes the data plane, so it is never changed from two threads: it
fetches the host's state when the network service says something changed,
re-applies when a guest's tap appears or goes, and reports ports whose status
changed. It waits on a wake-up (like Neutron's agents' own loops), so a change
is applied at once rather than at the next tick of a timer. Two periodic tasks
beside it (``nubis.common.periodic``) send the heartbeat every
``report_interval`` and ask for a full resync every ``resync_interval``, in
case a message was lost. On start the loop reports the agent (the network
service's view of the host depends on it), then applies the full state, which
both repairs what changed while the agent was down and removes what is no
longer wanted.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from nubis.common import context
from nubis.common.periodic import PeriodicTasks
from nubis.network.agent.dataplane import DataPlane, host_ports
from nubis.network.agent.traffic import TrafficReporter
from nubis.network.rpcapi import NetworkServerAPI

LOG = logging.getLogger(__name__)


class NetworkAgent:
    def __init__(self, host: str, server: NetworkServerAPI, dataplane: DataPlane, configurations: dict[str, Any],
                 poll_interval: float = 1.0, resync_interval: float = 30.0, report_interval: float = 10.0,
                 traffic: TrafficReporter | None = None) -> None:
        self.host = host
        self.traffic = traffic  # reports guests' outbound bytes for metering (None: not measured here)
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
        self._periodic = PeriodicTasks(f"network-agent-periodic-{host}")
        self._report_lock = threading.Lock()
        self._starting = True
        self.synced = threading.Event()  # set after each completed apply (tests wait on it)
        self.applied = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"network-agent-{self.host}", daemon=True)
        self._thread.start()
        self._periodic.add("network-agent-report", self.report_interval, self.report)
        self._periodic.add("network-agent-resync", self.resync_interval, lambda: self.request_sync("periodic"))
        self._periodic.start()

    def stop(self) -> None:
        """Stop the loop; what was wired stays wired (a restarted agent picks it up again)."""
        self._periodic.stop()
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.dataplane.stop()

    def report(self) -> None:
        """The heartbeat; the first one says the agent (re)started."""
        with self._report_lock:
            self.server.report_state(context.admin_context(), self.host, self.configurations, self._starting)
            self._starting = False

    def request_sync(self, reason: str = "") -> None:
        self._sync_wanted = True
        self._wake.set()

    # -- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        state: dict[str, Any] | None = None
        known: dict[str, str] = {}
        taps: set[str] = set()
        while not self._stopped.is_set():
            ctxt = context.start_task()  # each round is logged under an id of its own
            try:
                if self._starting:
                    self.report()
                current_taps = self.dataplane.taps()
                reapply = current_taps != taps
                taps = current_taps
                if self._sync_wanted or state is None:
                    self._sync_wanted = False
                    state = self.server.host_state(ctxt, self.host)
                    known = {p["id"]: p["status"] for p in host_ports(state)}  # as the server sees them
                    reapply = True
                if reapply and state is not None:
                    statuses = self.dataplane.apply(state)
                    changed = {pid: s for pid, s in statuses.items() if known.get(pid) != s}
                    if changed:
                        self.server.update_port_status(ctxt, self.host, changed)
                        known.update(changed)
                    self.applied += 1
                    self.synced.set()
                if self.traffic is not None and state is not None:
                    self.traffic.maybe_report(state["ports"], time.monotonic())
            except Exception:  # noqa: BLE001 - keep serving; the next round retries everything
                LOG.exception("Network agent round failed on %s; retrying", self.host)
                self._sync_wanted = True
                self._wake.wait(min(5.0, self.resync_interval))
            self._wake.wait(self.poll_interval)
            self._wake.clear()
