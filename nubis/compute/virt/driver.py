"""What a hypervisor must do for the compute agent: the whole driver interface.

Kept small on purpose: every method here is one the agent calls, with typed
arguments, so a driver that misses one fails at import (a Protocol check in
the tests), not on the first reboot in production.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from nubis.compute.virt.diagnostics import Diagnostics


@dataclasses.dataclass(frozen=True)
class NumaCell:
    id: int
    cpus: tuple[int, ...]  # host CPUs for pinned guests (cpu_dedicated_set)
    shared_cpus: tuple[int, ...]  # host CPUs floating guests share (cpu_shared_set)
    memory_mb: int
    pages: Mapping[int, int]  # page size KiB -> free pages of that size

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "cpus": list(self.cpus), "shared_cpus": list(self.shared_cpus),
                "memory_mb": self.memory_mb, "pages": {str(k): v for k, v in self.pages.items()}}


@dataclasses.dataclass(frozen=True)
class HostResources:
    """What the host offers, as reported to placement and the scheduler."""

    hypervisor_type: str
    hypervisor_hostname: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    cells: tuple[NumaCell, ...] = ()
    cpu_info: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def pcpus(self) -> int:
        return sum(len(c.cpus) for c in self.cells)


@dataclasses.dataclass(frozen=True)
class GuestSpec:
    """Everything a driver needs to create a guest."""

    uuid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    image_ref: str | None
    image_meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    user_data: str | None = None
    key_data: str | None = None
    numa_fit: Mapping[str, Any] | None = None  # the scheduler's pinning, when the flavor asks for one
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    extra_specs: Mapping[str, str] = dataclasses.field(default_factory=dict)  # the flavor's
    ephemeral_gb: int = 0
    swap_mb: int = 0
    key_name: str | None = None
    config_drive: bool = False
    project_id: str = ""
    availability_zone: str | None = None
    # Network interfaces: {"id", "mac", "tap", "mtu", "network_id", "fixed_ips", ...} per bound port.
    vifs: tuple[Mapping[str, Any], ...] = ()
    # Booted from a volume: the root volume's export (Cinder's ``connection_info``), the guest's vda; None for a
    # guest whose root disk is made from ``image_ref`` on this host.
    root_volume: Mapping[str, Any] | None = None
    # The devices (``/dev/vdb``) the volumes attached right after the spawn will take (volumes at boot, an
    # unshelved server's): the guest's own disks (ephemeral, swap, config drive) are named around them.
    volume_devices: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A guest's root disk as an image: its format and its bytes, read lazily in chunks."""

    disk_format: str
    chunks: Iterable[bytes]


@dataclasses.dataclass(frozen=True)
class ConsoleEndpoint:
    """Where a guest's console listens, for a proxy to connect to (Nova's ConsoleVNC/ConsoleSerial)."""

    host: str
    port: int
    internal_access_path: str | None = None


CONSOLE_KINDS = ("vnc", "spice", "serial")  # what get_console is asked for


class DriverError(Exception):
    """An operation failed in the hypervisor; the message says what and is shown in the instance fault."""


class ComputeDriver(Protocol):
    def host_resources(self) -> HostResources: ...

    def spawn(self, guest: GuestSpec, power_on: bool = True) -> None:
        """Create the guest and, unless ``power_on`` is False (rebuilding a stopped server), start it."""

    def destroy(self, uuid: str) -> None:
        """Remove the guest and its local disks; a guest that is already gone is not an error."""

    def resize(self, guest: GuestSpec, power_on: bool = True) -> None:
        """Give the existing guest ``guest``'s vCPUs, memory and disk (stopping it); start it again unless
        ``power_on`` is False (a stopped server stays stopped, as in Nova)."""

    def power_off(self, uuid: str) -> None: ...

    def power_on(self, uuid: str) -> None: ...

    def reboot(self, uuid: str, hard: bool) -> None: ...

    def pause(self, uuid: str) -> None: ...

    def unpause(self, uuid: str) -> None: ...

    def suspend(self, uuid: str) -> None: ...

    def resume(self, uuid: str) -> None: ...

    def power_state(self, uuid: str) -> int:
        """The guest's power state (``states.RUNNING`` ...); ``states.NOSTATE`` when unknown to the hypervisor."""

    def list_guests(self) -> list[str]: ...

    def watch_power(self, listener: Callable[[str, int], None]) -> None:
        """Have ``listener(uuid, power_state)`` called when a guest's power state may have changed on its own
        (it shut down, crashed, the hypervisor restarted). Called from the driver's threads: keep it short."""

    def snapshot(self, uuid: str) -> Snapshot:
        """The guest's root disk as it is now (a running guest may be paused briefly to read it consistently)."""

    def console_output(self, uuid: str) -> str: ...

    def get_console(self, uuid: str, kind: str) -> ConsoleEndpoint:
        """Where the running guest's ``kind`` console (one of ``CONSOLE_KINDS``) listens.

        :raises ConsoleUnavailable: the guest has no console of that kind.
        """

    def rescue(self, guest: GuestSpec, rescue_image: Mapping[str, Any]) -> None:
        """Boot the guest from the rescue image (``image_meta`` form: "id", "disk_format", "properties", ...)
        with its own root disk attached as the second disk."""

    def unrescue(self, uuid: str) -> None:
        """Boot the guest from its own disk again, dropping the rescue disk."""

    def trigger_crash_dump(self, uuid: str) -> None:
        """Inject an NMI into the running guest (its kernel may dump and reboot)."""

    def get_diagnostics(self, uuid: str) -> Diagnostics:
        """The guest's counters (CPU time, memory, disk and NIC I/O) as the hypervisor reports them.

        :raises DriverError: the guest does not exist here or its counters cannot be read.
        """

    def set_admin_password(self, guest: GuestSpec, password: str) -> None:
        """Set the guest's administrator password through its guest agent.

        :raises PasswordNotSupported: the guest has no agent to set it through (Nova answers 409).
        :raises DriverError: the guest does not exist here or the agent failed.
        """

    def attach_volume(self, uuid: str, connection_info: Mapping[str, Any], device: str) -> str:
        """Add the volume Cinder's ``connection_info`` names (``driver_volume_type`` nbd) to the guest as
        ``device`` (``/dev/vdb``) or the next free name: hot-plugged into a running guest, and in its definition.
        Returns the disk name used (``vdb``).

        :raises DriverError: the volume type is not supported, the guest is unknown, or the hypervisor refused.
        """

    def detach_volume(self, uuid: str, device: str) -> None:
        """Remove ``device`` from the guest (live and from its definition); a missing device is not an error.

        :raises DriverError: the guest did not let go of the disk in time.
        """

    def extend_volume(self, uuid: str, device: str, new_size: int) -> None:
        """Make the guest see its volume ``device`` (``/dev/vdb``) at ``new_size`` bytes, once the volume service
        has grown the volume (a guest that is not running sees the size when it starts).

        :raises DriverError: the guest is unknown, has no such disk, or the hypervisor refused.
        """

    def manage_image_cache(self) -> list[str]:
        """Remove cached images no guest of this host has used for a while (Nova's image cache manager pass,
        run every ``[image_cache] manager_interval`` seconds); the files removed."""


class PasswordNotSupported(DriverError):
    """The guest cannot have its password set (no guest agent in its image: ``hw_qemu_guest_agent``)."""


class ConsoleUnavailable(DriverError):
    """The guest has no console of the kind asked for (its host does not offer it)."""
