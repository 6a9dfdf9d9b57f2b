"""NBD exports of file-backed volumes, served by ``qemu-storage-daemon`` (one daemon per exported volume).

Computes attach them as qemu network disks (``<disk type='network'><source protocol='nbd'>``), so no kernel
initiator (iSCSI, nbd module) is needed on either host. Each daemon runs detached from the manager
(``--daemonize``): a manager restart leaves the guests' disks connected, and the manager's start re-checks every
export against the attachments (``NbdExports.reconcile``). Each export's state is a small JSON file
``export-<volume id>.json`` next to the volumes (pid, address, export name), so a restart finds its daemons.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from typing import Any

from nubis.volume.manager.backends.base import BackendError

LOG = logging.getLogger(__name__)
START_TIMEOUT = 30  # seconds for qemu-storage-daemon to daemonize (it has bound its port by then)
STOP_TIMEOUT = 10


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _alive(pid: int, path: str) -> bool:
    """Whether ``pid`` is still a qemu-storage-daemon serving ``path`` (a pid can be reused)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return bool(argv) and os.path.basename(argv[0]).startswith(b"qemu-storage-daemon") and any(
        path.encode() in a for a in argv)


class NbdExports:
    """The NBD exports of one file backend's directory.

    ``host`` is the address computes connect to (and the daemon binds); ports come from ``[port_min, port_max]``.
    """

    def __init__(self, directory: str, host: str, port_min: int, port_max: int) -> None:
        self.directory = directory
        self.host = host
        self.port_min, self.port_max = port_min, port_max

    def _state_path(self, volume_id: str) -> str:
        if not volume_id or "/" in volume_id or volume_id.startswith("."):
            raise BackendError(f"Invalid volume id {volume_id!r}.")
        return os.path.join(self.directory, f"export-{volume_id}.json")

    def _read(self, volume_id: str) -> dict[str, Any] | None:
        try:
            with open(self._state_path(volume_id)) as f:
                state: dict[str, Any] = json.load(f)
                return state
        except (OSError, ValueError):
            return None

    def exported(self) -> list[str]:
        """Ids of the volumes with an export state file."""
        return sorted(name[len("export-"):-len(".json")] for name in os.listdir(self.directory)
                      if name.startswith("export-") and name.endswith(".json"))

    @staticmethod
    def connection(state: dict[str, Any]) -> dict[str, Any]:
        """Cinder's ``connection_info['data']`` for an NBD export (os-brick's ``nbd`` shape plus ``name``)."""
        return {"host": state["host"], "port": state["port"], "name": state["name"], "export_name": state["name"]}

    def ensure(self, volume_id: str, path: str) -> dict[str, Any]:
        """The export of ``path`` as ``volume-<id>``: the running one, else a new daemon (on its old port when
        that is free, so guests that knew the export find it again). Returns ``connection``'s dict."""
        state = self._read(volume_id)
        if state is not None and _alive(int(state["pid"]), path):
            return self.connection(state)
        ports = range(self.port_min, self.port_max + 1)
        if state is not None and _port_free(self.host, int(state["port"])):
            ports = [int(state["port"]), *ports]  # type: ignore[assignment]
        taken = {int(s["port"]) for s in map(self._read, self.exported()) if s is not None}
        for port in ports:
            if (port in taken and (state is None or port != int(state["port"]))) or not _port_free(self.host, port):
                continue
            made = self._start(volume_id, path, port)
            if made is not None:
                return self.connection(made)
        raise BackendError(f"No free NBD port in {self.port_min}-{self.port_max} on {self.host} to export "
                           f"volume {volume_id}.")

    def _start(self, volume_id: str, path: str, port: int) -> dict[str, Any] | None:
        daemon = shutil.which("qemu-storage-daemon")
        if daemon is None:
            raise BackendError("qemu-storage-daemon is not installed on this storage host (package qemu-system-common).")
        name = f"volume-{volume_id}"
        pidfile = os.path.join(self.directory, f".export-{volume_id}.pid")
        argv = [daemon,
                "--blockdev", f"driver=file,node-name=file0,filename={path},cache.direct=off",
                "--blockdev", "driver=raw,node-name=vol,file=file0",
                "--nbd-server", f"addr.type=inet,addr.host={self.host},addr.port={port}",
                "--export", f"type=nbd,id=export0,node-name=vol,name={name},writable=on",
                "--pidfile", pidfile, "--daemonize"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT, check=False,
                                  start_new_session=True)
        except subprocess.TimeoutExpired as e:
            raise BackendError(f"qemu-storage-daemon did not start within {START_TIMEOUT} s.") from e
        if proc.returncode != 0:
            if "Address already in use" in proc.stderr:
                return None  # taken between the check and the bind: the caller tries the next port
            raise BackendError(f"qemu-storage-daemon could not export {path}: {proc.stderr.strip()[:500]}")
        with open(pidfile) as f:
            pid = int(f.read().strip())
        os.unlink(pidfile)
        state = {"pid": pid, "host": self.host, "port": port, "name": name, "path": path}
        tmp = self._state_path(volume_id) + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, self._state_path(volume_id))
        LOG.info("Exported volume %s over NBD at %s:%d (pid %d)", volume_id, self.host, port, pid)
        return state

    def remove(self, volume_id: str) -> None:
        """Stop the volume's export, if any (a missing one is not an error: removes are retried)."""
        state = self._read(volume_id)
        if state is not None and _alive(int(state["pid"]), str(state["path"])):
            pid = int(state["pid"])
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while _alive(pid, str(state["path"])) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid, str(state["path"])):
                os.kill(pid, signal.SIGKILL)
            LOG.info("Removed the NBD export of volume %s (pid %d)", volume_id, pid)
        try:
            os.unlink(self._state_path(volume_id))
        except FileNotFoundError:
            pass

    def reconcile(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Exports for exactly ``wanted`` (volume id, path): restart the missing ones, stop the others."""
        paths = dict(wanted)
        for volume_id in self.exported():
            if volume_id not in paths:
                self.remove(volume_id)
        for volume_id, path in paths.items():
            try:
                self.ensure(volume_id, path)
            except BackendError as e:
                LOG.error("Could not export attached volume %s again: %s", volume_id, e)
