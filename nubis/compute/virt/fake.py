"""A driver that keeps guests in memory: the whole compute path without a hypervisor.

It honours power-state transitions (so an impossible one fails like it would
on a real host), reports a configurable host, and can be told to fail an
operation, which is how fault handling is tested. Given a file, it keeps its
guests there, so they outlive the agent like a hypervisor's do (restart and
crash tests rely on that); given delays, it creates and removes guests as
slowly as a real host, so there is a moment to interrupt.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from nubis.compute import states
from nubis.compute.virt import diagnostics, fake_console
from nubis.compute.virt.diagnostics import Diagnostics
from nubis.compute.virt.driver import (
    ConsoleEndpoint,
    ConsoleUnavailable,
    DriverError,
    GuestSpec,
    HostResources,
    PasswordNotSupported,
    Snapshot,
)


class FakeDriver:
    def __init__(self, host: HostResources, guests_file: str | None = None, spawn_seconds: float = 0,
                 destroy_seconds: float = 0) -> None:
        self.host = host
        self._lock = threading.Lock()
        self._guests: dict[str, int] = {}  # uuid -> power state
        self.specs: dict[str, GuestSpec] = {}
        self._failures: dict[str, str] = {}  # operation -> message
        self._listener: Callable[[str, int], None] | None = None
        self._file = guests_file
        self._spawn_seconds, self._destroy_seconds = spawn_seconds, destroy_seconds
        self._consoles: dict[str, fake_console.Responder] = {}  # kind -> its responder, started when first asked
        self.rescued: dict[str, str] = {}  # uuid -> the rescue image it boots from
        self.crash_dumps: dict[str, int] = {}  # uuid -> NMIs injected
        self.admin_passwords: dict[str, str] = {}  # uuid -> the password changePassword set
        self.volumes: dict[str, dict[str, dict[str, Any]]] = {}  # uuid -> device -> the connection_info attached
        self.volume_sizes: dict[str, dict[str, int]] = {}  # uuid -> device -> bytes the guest was told it grew to
        if guests_file:
            os.makedirs(os.path.dirname(guests_file) or ".", exist_ok=True)
        if guests_file and os.path.exists(guests_file):
            with open(guests_file) as f:
                for uuid, guest in json.load(f).items():
                    self._guests[uuid] = guest["power_state"]
                    self.specs[uuid] = GuestSpec(**{**guest["spec"], "vifs": tuple(guest["spec"]["vifs"])})

    def _save(self) -> None:
        """Write the guests to the file (under the lock), whole, so a crash leaves the old or the new list."""
        if not self._file:
            return
        body = {uuid: {"power_state": power, "spec": dataclasses.asdict(self.specs[uuid])}
                for uuid, power in self._guests.items()}
        tmp = f"{self._file}.tmp"
        with open(tmp, "w") as f:
            json.dump(body, f, default=str)
        os.replace(tmp, self._file)

    # -- test hooks ----------------------------------------------------------------------------------

    def fail_next(self, operation: str, message: str) -> None:
        """Make the next call of ``operation`` (e.g. "spawn") raise DriverError(message)."""
        with self._lock:
            self._failures[operation] = message

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def _maybe_fail(self, operation: str) -> None:
        message = self._failures.pop(operation, None)
        if message is not None:
            raise DriverError(message)

    def _transition(self, operation: str, uuid: str, allowed_from: tuple[int, ...], to: int) -> None:
        with self._lock:
            self._maybe_fail(operation)
            current = self._guests.get(uuid)
            if current is None:
                raise DriverError(f"guest {uuid} does not exist on this host")
            if current not in allowed_from:
                raise DriverError(f"cannot {operation} guest {uuid} in power state {current}")
            self._guests[uuid] = to
            self._save()
        if self._listener is not None:
            self._listener(uuid, to)

    # -- the driver interface --------------------------------------------------------------------------

    def host_resources(self) -> HostResources:
        return self.host

    def spawn(self, guest: GuestSpec, power_on: bool = True) -> None:
        time.sleep(self._spawn_seconds)
        with self._lock:
            self._maybe_fail("spawn")
            if guest.uuid in self._guests:
                raise DriverError(f"guest {guest.uuid} already exists")
            if guest.root_volume is not None and guest.root_volume.get("driver_volume_type") != "nbd":
                raise DriverError(f"root volumes of type {guest.root_volume.get('driver_volume_type')} cannot "
                                  "be booted from")
            self._guests[guest.uuid] = states.RUNNING if power_on else states.SHUTDOWN
            self.specs[guest.uuid] = guest
            if guest.root_volume is not None:  # booted from a volume: its export is the guest's vda
                self.volumes[guest.uuid] = {"/dev/vda": dict(guest.root_volume)}
            self._save()

    def destroy(self, uuid: str) -> None:
        if uuid in self._guests:
            time.sleep(self._destroy_seconds)
        with self._lock:
            self._maybe_fail("destroy")
            self._guests.pop(uuid, None)
            self.specs.pop(uuid, None)
            self.volumes.pop(uuid, None)
            self.volume_sizes.pop(uuid, None)
            self._save()

    def resize(self, guest: GuestSpec, power_on: bool = True) -> None:
        with self._lock:
            self._maybe_fail("resize")
            if guest.uuid not in self._guests:
                raise DriverError(f"guest {guest.uuid} does not exist on this host")
            self.specs[guest.uuid] = guest
            self._guests[guest.uuid] = states.RUNNING if power_on else states.SHUTDOWN
            self._save()

    def power_off(self, uuid: str) -> None:
        self._transition("power_off", uuid, (states.RUNNING, states.POWER_PAUSED, states.SHUTDOWN), states.SHUTDOWN)

    def power_on(self, uuid: str) -> None:
        self._transition("power_on", uuid, (states.SHUTDOWN, states.RUNNING, states.CRASHED), states.RUNNING)

    def reboot(self, uuid: str, hard: bool) -> None:
        allowed = (states.RUNNING, states.SHUTDOWN, states.CRASHED, states.POWER_PAUSED) if hard else (states.RUNNING,)
        self._transition("reboot", uuid, allowed, states.RUNNING)

    def pause(self, uuid: str) -> None:
        self._transition("pause", uuid, (states.RUNNING,), states.POWER_PAUSED)

    def unpause(self, uuid: str) -> None:
        self._transition("unpause", uuid, (states.POWER_PAUSED,), states.RUNNING)

    def suspend(self, uuid: str) -> None:
        self._transition("suspend", uuid, (states.RUNNING,), states.POWER_SUSPENDED)

    def resume(self, uuid: str) -> None:
        self._transition("resume", uuid, (states.POWER_SUSPENDED,), states.RUNNING)

    def power_state(self, uuid: str) -> int:
        with self._lock:
            return self._guests.get(uuid, states.NOSTATE)

    def list_guests(self) -> list[str]:
        with self._lock:
            return sorted(self._guests)

    def console_output(self, uuid: str) -> str:
        with self._lock:
            if uuid not in self._guests:
                raise DriverError(f"guest {uuid} does not exist on this host")
            spec = self.specs[uuid]
        # A few lines like a booted guest's serial log: clients page through it by line count (``length``).
        return (f"fake console of {spec.name}\n[    0.000000] Linux version 6.1.0 (fake)\n"
                "[    0.100000] Booting paravirtualized kernel on fake hypervisor\n"
                "[    1.000000] Run /sbin/init as init process\n"
                f"Welcome to {spec.name}\n\n{spec.name} login: \n")

    def watch_power(self, listener: Callable[[str, int], None]) -> None:
        self._listener = listener

    def snapshot(self, uuid: str) -> Snapshot:
        with self._lock:
            self._maybe_fail("snapshot")
            if uuid not in self._guests:
                raise DriverError(f"guest {uuid} does not exist on this host")
            spec = self.specs[uuid]
        # A recognisable disk: a test can tell whose snapshot an image is from its bytes.
        block = f"fake disk of {spec.uuid} from image {spec.image_ref}\n".encode().ljust(4096, b"\0")
        return Snapshot(disk_format="raw", chunks=(block for _ in range(16)))

    def get_console(self, uuid: str, kind: str) -> ConsoleEndpoint:
        with self._lock:
            self._maybe_fail("get_console")
            if uuid not in self._guests:
                raise DriverError(f"guest {uuid} does not exist on this host")
            if kind not in fake_console.BANNERS:
                raise ConsoleUnavailable(f"the fake driver offers no {kind} console")
            if kind not in self._consoles:
                self._consoles[kind] = fake_console.Responder(fake_console.BANNERS[kind])
            return ConsoleEndpoint("127.0.0.1", self._consoles[kind].port)

    def rescue(self, guest: GuestSpec, rescue_image: Mapping[str, Any]) -> None:
        self._transition("rescue", guest.uuid, (states.RUNNING, states.SHUTDOWN, states.CRASHED), states.RUNNING)
        with self._lock:
            self.rescued[guest.uuid] = str(rescue_image.get("id"))

    def unrescue(self, uuid: str) -> None:
        self._transition("unrescue", uuid, (states.RUNNING, states.SHUTDOWN), states.RUNNING)
        with self._lock:
            self.rescued.pop(uuid, None)

    def trigger_crash_dump(self, uuid: str) -> None:
        with self._lock:
            self._maybe_fail("trigger_crash_dump")
            if self._guests.get(uuid) != states.RUNNING:
                raise DriverError(f"guest {uuid} is not running: no NMI to inject")
            self.crash_dumps[uuid] = self.crash_dumps.get(uuid, 0) + 1

    def set_admin_password(self, guest: GuestSpec, password: str) -> None:
        with self._lock:
            self._maybe_fail("set_admin_password")
            if self._guests.get(guest.uuid) != states.RUNNING:
                raise DriverError(f"guest {guest.uuid} is not running: its agent cannot be reached")
            props = guest.image_meta.get("properties") or {}
            if str(props.get("hw_qemu_guest_agent", "yes")).lower() in ("no", "false", "0"):
                raise PasswordNotSupported(f"the image of guest {guest.uuid} says it has no guest agent")
            self.admin_passwords[guest.uuid] = password

    def get_diagnostics(self, uuid: str) -> Diagnostics:
        """Counters made up from the guest's definition: one disk (vda), a NIC per bound port, CPU time 0."""
        with self._lock:
            self._maybe_fail("get_diagnostics")
            if uuid not in self._guests:
                raise DriverError(f"guest {uuid} does not exist on this host")
            spec, power = self.specs[uuid], self._guests[uuid]
        state = {states.RUNNING: "running", states.PAUSED: "paused", states.SUSPENDED: "suspended",
                 states.CRASHED: "crashed"}.get(power, "shutdown")
        # Nova's fake driver reports itself as libvirt too: the standard form names real drivers only.
        return Diagnostics(
            state=state, driver="libvirt", hypervisor="fake", hypervisor_os="linux", uptime=None,
            config_drive=spec.config_drive, memory_max_mb=spec.memory_mb, memory_used_mb=spec.memory_mb,
            cpus=tuple(diagnostics.CpuDiagnostics(i, 0) for i in range(spec.vcpus)),
            disks=(diagnostics.DiskDiagnostics(0, 0, 0, 0, 0, device="vda"),),
            nics=tuple(diagnostics.NicDiagnostics(str(v.get("mac")), 0, 0, 0, 0, None, 0, 0, 0, 0, None,
                                                  device=str(v.get("tap", ""))) for v in spec.vifs))

    def attach_volume(self, uuid: str, connection_info: Mapping[str, Any], device: str) -> str:
        with self._lock:
            self._maybe_fail("attach_volume")
            if uuid not in self._guests:
                raise DriverError(f"guest {uuid} does not exist on this host")
            if connection_info.get("driver_volume_type") != "nbd":
                raise DriverError(f"volumes of type {connection_info.get('driver_volume_type')} cannot be attached")
            disks = self.volumes.setdefault(uuid, {})
            if device in disks:
                raise DriverError(f"guest {uuid} already has a disk {device}")
            disks[device] = dict(connection_info)
            return device.rsplit("/", 1)[-1]

    def detach_volume(self, uuid: str, device: str) -> None:
        with self._lock:
            self._maybe_fail("detach_volume")
            self.volumes.get(uuid, {}).pop(device, None)
            self.volumes.get(uuid, {}).pop(f"/dev/{device.rsplit('/', 1)[-1]}", None)
            self.volume_sizes.get(uuid, {}).pop(f"/dev/{device.rsplit('/', 1)[-1]}", None)

    def extend_volume(self, uuid: str, device: str, new_size: int) -> None:
        with self._lock:
            self._maybe_fail("extend_volume")
            disks = self.volumes.get(uuid, {})
            if device not in disks:
                raise DriverError(f"guest {uuid} has no disk {device}")
            self.volume_sizes.setdefault(uuid, {})[device] = new_size

    def manage_image_cache(self) -> list[str]:
        return []  # the fake driver caches no images
