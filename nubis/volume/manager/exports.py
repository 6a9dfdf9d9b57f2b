"""NBD exports of file-backed volumes, served by ``qemu-storage-daemon`` (one daemon per exported volume).

Computes attach them as qemu network disks (``<disk type='network'><source protocol='nbd'>``), so no kernel
initiator (iSCSI, nbd module) is needed on either host. Each daemon runs detached from the manager
(``--daemonize``): a manager restart leaves the guests' disks connected, and the manager's start re-checks every
export against the attachments (``NbdExports.reconcile``). Each export's state is a small JSON file
``export-<volume id>.json`` next to the volumes (pid, address, export name), so a restart finds its daemons.

Each daemon also has a QMP monitor socket ``.qmp-<volume id>`` next to the volumes (the directory the file
backend makes 0700, so only the manager's user reaches it). An extended volume's export is made to present the new
size through it (``refresh_size``): the NBD server of qemu-storage-daemon forbids resizing an exported node and
the NBD protocol cannot tell a connected client that the size changed, so the export is removed, the node
resized and the export added again, under the same name and port. That is only done while no client is connected
(``block-export-del`` mode ``safe``): dropping a guest's connection fails its I/O (qemu's NBD client does not
reconnect unless told to). With a client connected the export keeps its size, the new one is recorded in the state
and applied once none is (the next ``ensure``, or a new daemon, which reads the file's size).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable
from typing import Any

from nubis.volume.manager.backends.base import BackendError

LOG = logging.getLogger(__name__)
START_TIMEOUT = 30  # seconds for qemu-storage-daemon to daemonize (it has bound its port by then)
STOP_TIMEOUT = 10
QMP_TIMEOUT = 10  # seconds for one QMP exchange with a daemon
EXPORT_ID = "export0"  # the block export's id in each daemon
NODE = "vol"  # the exported node (raw, over the file node)


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


class QmpError(BackendError):
    """A QMP command was refused; ``klass`` is QMP's error class."""

    def __init__(self, klass: str, desc: str) -> None:
        super().__init__(f"{klass}: {desc}")
        self.klass, self.desc = klass, desc


def qmp(directory: str, socket_name: str, commands: list[dict[str, Any]]) -> list[Any]:
    """Run ``commands`` on the QMP monitor at ``directory/socket_name``; their ``return`` values in order.

    The socket is reached through the directory's descriptor (``/proc/self/fd``), so a deep state directory
    cannot overflow the 108 bytes a socket path may have. Raises ``QmpError`` for a refused command and
    ``BackendError`` when the monitor cannot be reached.
    """
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(QMP_TIMEOUT)
            try:
                sock.connect(f"/proc/self/fd/{dir_fd}/{socket_name}")
            except OSError as e:
                raise BackendError(f"Cannot reach the export's QMP monitor {socket_name}: {e.strerror}.") from e
            reader = sock.makefile("r", encoding="utf-8")

            def answer() -> dict[str, Any]:
                while True:
                    line = reader.readline()
                    if not line:
                        raise BackendError(f"The export's QMP monitor {socket_name} closed the connection.")
                    msg: dict[str, Any] = json.loads(line)
                    if "event" not in msg:  # events (BLOCK_EXPORT_DELETED, ...) are not answers
                        return msg

            answer()  # the greeting
            results = []
            for command in [{"execute": "qmp_capabilities"}, *commands]:
                sock.sendall(json.dumps(command).encode() + b"\n")
                msg = answer()
                if "error" in msg:
                    raise QmpError(str(msg["error"].get("class")), str(msg["error"].get("desc")))
                results.append(msg.get("return"))
            return results[1:]
    finally:
        os.close(dir_fd)


class NbdExports:
    """The NBD exports of one file backend's directory.

    ``host`` is the address computes connect to (and the daemon binds); ports come from ``[port_min, port_max]``.
    """

    def __init__(self, directory: str, host: str, port_min: int, port_max: int) -> None:
        self.directory = directory
        self.host = host
        self.port_min, self.port_max = port_min, port_max
        # One lock a volume: the manager serves RPC on several threads, and a detach's remove racing the next
        # attach's ensure would unlink the state file of the daemon ensure just started (a daemon nobody
        # records, never stopped). Re-entrant: ensure applies a pending resize through refresh_size.
        self._locks: dict[str, threading.RLock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, volume_id: str) -> threading.RLock:
        with self._locks_guard:
            return self._locks.setdefault(volume_id, threading.RLock())

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
        with self._lock(volume_id):
            state = self._read(volume_id)
            if state is not None and _alive(int(state["pid"]), path):
                if state.get("pending_size"):  # an extend that found a client connected: apply it now if none is
                    try:
                        self.refresh_size(volume_id)
                    except BackendError as e:
                        LOG.warning("The export of volume %s could not present its new size: %s", volume_id, e)
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
        monitor = f".qmp-{volume_id}"  # relative: the daemon starts in the volumes' directory
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.directory, monitor))  # a dead daemon's socket
        argv = [daemon,
                "--blockdev", f"driver=file,node-name=file0,filename={path},cache.direct=off",
                "--blockdev", "driver=raw,node-name=vol,file=file0",
                "--nbd-server", f"addr.type=inet,addr.host={self.host},addr.port={port}",
                "--export", f"type=nbd,id={EXPORT_ID},node-name={NODE},name={name},writable=on",
                "--chardev", f"socket,id=qmp0,path={monitor},server=on,wait=off",
                "--monitor", "chardev=qmp0,mode=control",
                "--pidfile", pidfile, "--daemonize"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT, check=False,
                                  start_new_session=True, cwd=self.directory)
        except subprocess.TimeoutExpired as e:
            raise BackendError(f"qemu-storage-daemon did not start within {START_TIMEOUT} s.") from e
        if proc.returncode != 0:
            if "Address already in use" in proc.stderr:
                return None  # taken between the check and the bind: the caller tries the next port
            raise BackendError(f"qemu-storage-daemon could not export {path}: {proc.stderr.strip()[:500]}")
        with open(pidfile) as f:
            pid = int(f.read().strip())
        os.unlink(pidfile)
        state = {"pid": pid, "host": self.host, "port": port, "name": name, "path": path, "qmp": monitor}
        self._write(volume_id, state)
        LOG.info("Exported volume %s over NBD at %s:%d (pid %d)", volume_id, self.host, port, pid)
        return state

    def _write(self, volume_id: str, state: dict[str, Any]) -> None:
        tmp = self._state_path(volume_id) + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, self._state_path(volume_id))

    def refresh_size(self, volume_id: str) -> bool:
        """Make the volume's running export present its file's current size (after an extend). True when it
        does (or there is no export: the next one reads the size); False when a client is connected (the size is
        applied at the next ``ensure`` with none) or the daemon has no monitor (one started by an older manager).
        Raises ``BackendError`` when the daemon refused."""
        with self._lock(volume_id):
            state = self._read(volume_id)
            if state is None or not _alive(int(state["pid"]), str(state["path"])):
                return True
            size = os.path.getsize(str(state["path"]))
            if not state.get("qmp"):
                LOG.warning("The export of volume %s has no QMP monitor: it presents the new size once exported again",
                            volume_id)
                return False
            try:
                qmp(self.directory, str(state["qmp"]), [{"execute": "block-export-del",
                                                         "arguments": {"id": EXPORT_ID, "mode": "safe"}}])
            except QmpError as e:
                if "in use" not in e.desc:
                    raise
                LOG.info("Volume %s grew to %d bytes while a client is connected to its export: the export presents "
                         "the new size once none is", volume_id, size)
                self._write(volume_id, {**state, "pending_size": size})
                return False
            # The export goes once its last reference does (at once: no client); a new one under the same id waits.
            deadline = time.monotonic() + QMP_TIMEOUT
            while qmp(self.directory, str(state["qmp"]), [{"execute": "query-block-exports"}])[0]:
                if time.monotonic() > deadline:
                    raise BackendError(f"The export of volume {volume_id} did not go within {QMP_TIMEOUT} s.")
                time.sleep(0.05)
            qmp(self.directory, str(state["qmp"]), [
                {"execute": "block_resize", "arguments": {"node-name": NODE, "size": size}},
                {"execute": "block-export-add", "arguments": {
                    "type": "nbd", "id": EXPORT_ID, "node-name": NODE, "name": state["name"], "writable": True}}])
            self._write(volume_id, {k: v for k, v in state.items() if k != "pending_size"})
            LOG.info("The export of volume %s presents its new size, %d bytes", volume_id, size)
            return True

    def remove(self, volume_id: str) -> None:
        """Stop the volume's export, if any (a missing one is not an error: removes are retried)."""
        with self._lock(volume_id):
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
            if state is not None and state.get("qmp"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.directory, str(state["qmp"])))
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
