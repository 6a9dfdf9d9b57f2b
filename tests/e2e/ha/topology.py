"""The deployment's topology (``$NUBIS_STATE/topology.json``) and what the kill tests do to its parts.

Every process P of a component has ``<pids_dir>/P.pid`` (its pid, or a symlink to the daemon's own
pid file) and ``<pids_dir>/P.start`` (a bash script that starts it again as devstack first did and
rewrites P.pid). Killing a component SIGKILLs every process of it and their children; restarting it
runs the start scripts and waits for its health URL (or for its processes to be alive).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import requests

DEFAULT_NETNS_PREFIX = "nha-"


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (API workers forked by their parent, a daemon's helpers)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@dataclasses.dataclass
class Component:
    """One part of the deployment that is killed and restarted as a whole."""

    name: str
    kind: str
    processes: list[str]
    pids_dir: str
    service: str | None = None
    health_url: str | None = None
    netns: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def pids(self) -> list[int]:
        """The recorded pids of the component's processes that run now."""
        out = []
        for proc in self.processes:
            try:
                with open(os.path.join(self.pids_dir, f"{proc}.pid")) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if alive(pid):
                out.append(pid)
        return out

    def all_pids(self) -> list[int]:
        """The component's processes and all their descendants."""
        pids = self.pids()
        return pids + [c for p in pids for c in _children(p)]

    def kill(self, timeout: float = 30.0) -> float:
        """SIGKILL every process of the component and its children; wait until they are gone.

        Returns the time of the kill (time.time()). Raises RuntimeError when nothing ran or
        something survives.
        """
        victims = self.all_pids()
        if not victims:
            raise RuntimeError(f"{self.name}: no running process to kill")
        at = time.time()
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not wait_until(lambda: not any(alive(p) for p in victims), timeout):
            raise RuntimeError(f"{self.name}: still running after SIGKILL: {[p for p in victims if alive(p)]}")
        return at

    def restart(self, timeout: float = 120.0) -> float:
        """Run each process's start script, then wait until healthy; returns seconds until healthy."""
        began = time.monotonic()
        for proc in self.processes:
            script = os.path.join(self.pids_dir, f"{proc}.start")
            subprocess.run(["bash", script], check=True, timeout=60, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(self.healthy, timeout, 0.25):
            raise RuntimeError(f"{self.name}: not healthy {timeout:.0f} s after restart")
        return time.monotonic() - began

    def healthy(self) -> bool:
        """Every process runs and, when the component has a health URL, it answers 200."""
        if len(self.pids()) < len(self.processes):
            return False
        if not self.health_url:
            return True
        try:
            return requests.get(self.health_url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def namespace(self) -> str:
        """The network namespace the component runs in (lb and galera nodes)."""
        return self.netns or f"{DEFAULT_NETNS_PREFIX}{self.name}"

    def holds(self, address: str) -> bool:
        """True when the component's namespace has ``address`` (the VIP) on one of its interfaces."""
        out = subprocess.run(["ip", "netns", "exec", self.namespace(), "ip", "-4", "addr", "show"],
                             capture_output=True, text=True, timeout=10)
        return f" {address}/" in out.stdout


@dataclasses.dataclass
class Topology:
    """The parsed topology.json."""

    vip: str | None
    auth_url: str
    openrc: str
    pids_dir: str
    components: list[Component]

    @classmethod
    def load(cls, state: str) -> Topology:
        """Read ``<state>/topology.json``."""
        with open(os.path.join(state, "topology.json")) as f:
            data = json.load(f)
        pids_dir = data["pids_dir"]
        known = {"name", "kind", "processes", "service", "health_url", "netns"}
        comps = [Component(c["name"], c["kind"], list(c.get("processes") or [c["name"]]), pids_dir,
                           c.get("service"), c.get("health_url"), c.get("netns"),
                           {k: v for k, v in c.items() if k not in known})
                 for c in data["components"]]
        return cls(data.get("vip"), data["auth_url"], data["openrc"], pids_dir, comps)

    def of_kind(self, kind: str, service: str | None = None) -> list[Component]:
        """The components of ``kind`` (and of ``service``, for APIs), in file order."""
        return [c for c in self.components if c.kind == kind and (service is None or c.service == service)]

    def api_services(self) -> list[str]:
        """The services that have API components, in file order."""
        seen: list[str] = []
        for c in self.of_kind("api"):
            if c.service and c.service not in seen:
                seen.append(c.service)
        return seen

    def lb_master(self) -> Component | None:
        """The load balancer whose namespace holds the VIP (the VRRP master); None without a VIP."""
        if not self.vip:
            return None
        return next((c for c in self.of_kind("lb") if c.holds(self.vip)), None)

    def galera_writer(self) -> Component | None:
        """The Galera node HAProxy sends writes to: one marked ``"role": "writer"``, else the first."""
        nodes = self.of_kind("galera")
        return next((c for c in nodes if c.extra.get("role") == "writer"), nodes[0] if nodes else None)

    def all_pids(self) -> list[int]:
        """Every running process of the deployment and their children."""
        seen: list[int] = []
        for c in self.components:
            for pid in c.all_pids():
                if pid not in seen:
                    seen.append(pid)
        return seen


def write_single_node(state: str, services: dict[str, str | None]) -> str:
    """Write a topology.json for a normal (single-node) devstack that does not write one itself.

    ``services`` maps each process name under ``<state>/pids`` to its health URL (None: an RPC
    service). The start scripts are made from each running process's command line, working
    directory and environment, as a stand-in for the ones devstack's launch records write.
    Returns the file's path.
    """
    pids_dir = os.path.join(state, "pids")
    comps = []
    for name, health in services.items():
        with open(os.path.join(pids_dir, f"{name}.pid")) as f:
            pid = int(f.read().split()[0])
        start = os.path.join(pids_dir, f"{name}.start")
        if not os.path.exists(start):
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode() for a in f.read().split(b"\0") if a]
            cwd = os.readlink(f"/proc/{pid}/cwd")
            quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
            out = os.path.join(state, "logs", f"{name}.out")
            with open(start, "w") as f:
                f.write(f"#!/usr/bin/env bash\ncd '{cwd}'\nnohup {quoted} >>'{out}' 2>&1 </dev/null &\n"
                        f"echo $! > '{pids_dir}/{name}.pid'\n")
            os.chmod(start, 0o700)
        kind, service = ("api", name.removesuffix("-api")) if health else (name, None)
        comps.append({"name": f"{name}-1", "kind": kind, "service": service, "processes": [name],
                      "health_url": health})
    with open(os.path.join(state, "openrc")) as f:
        auth_url = next(line.split("=", 1)[1].strip() for line in f if line.startswith("export OS_AUTH_URL="))
    path = os.path.join(state, "topology.json")
    with open(path, "w") as f:
        json.dump({"vip": None, "auth_url": auth_url, "openrc": os.path.join(state, "openrc"),
                   "pids_dir": pids_dir, "components": comps}, f, indent=2)
    return path
