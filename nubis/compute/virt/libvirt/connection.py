"""One host's libvirt connection: reconnecting, lifecycle events, guest power operations.

This is the only module that talks to libvirt-python. It keeps the
connection alive (a lost daemon is reconnected on the next call, and the
``on_reconnect`` hook lets the driver resync), turns libvirt's lifecycle
events into ``(uuid, power_state)`` callbacks, and offers the handful of
guest operations the driver composes.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import libvirt

LOG = logging.getLogger(__name__)


class PowerState(enum.IntEnum):
    """Nova's power states (``OS-EXT-STS:power_state``)."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


_STATE_MAP = {
    libvirt.VIR_DOMAIN_NOSTATE: PowerState.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: PowerState.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: PowerState.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: PowerState.SUSPENDED,
}


class GuestNotFound(LookupError):
    pass


class LibvirtError(RuntimeError):
    """A libvirt failure, with libvirt's own message (what an operator needs)."""


_event_loop_lock = threading.Lock()
_event_loop_started = False


def _start_event_loop() -> None:
    # libvirt's default event implementation is process-wide and may be
    # registered once; a daemon thread drives it for every connection.
    global _event_loop_started
    with _event_loop_lock:
        if _event_loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _event_loop_started = True


EventCallback = Callable[[str, PowerState], None]


class Connection:
    def __init__(self, uri: str = "qemu:///system", on_event: EventCallback | None = None,
                 on_reconnect: Callable[[], None] | None = None) -> None:
        self.uri = uri
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self._lock = threading.Lock()
        self._conn: libvirt.virConnect | None = None

    # -- the connection ----------------------------------------------------

    def get(self) -> libvirt.virConnect:
        """A live connection, reconnecting when libvirtd restarted or went away."""
        with self._lock:
            if self._conn is not None:
                try:
                    if self._conn.isAlive():
                        return self._conn
                except libvirt.libvirtError:
                    pass
                LOG.warning("Lost the libvirt connection to %s; reconnecting", self.uri)
                self._conn = None
                reconnected = True
            else:
                reconnected = False
            if self._on_event is not None:
                _start_event_loop()
            try:
                conn = libvirt.open(self.uri)
            except libvirt.libvirtError as exc:
                raise LibvirtError(f"cannot connect to libvirt at {self.uri}: {exc.get_error_message()}") from exc
            if self._on_event is not None:
                conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, None)
                conn.setKeepAlive(5, 3)
            self._conn = conn
        if reconnected and self._on_reconnect is not None:
            self._on_reconnect()
        return conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except libvirt.libvirtError:
                    pass
                self._conn = None

    def _lifecycle(self, conn: Any, dom: Any, event: int, detail: int, opaque: Any) -> None:
        try:
            state = _STATE_MAP.get(dom.state()[0], PowerState.NOSTATE)
            uuid = dom.UUIDString()
        except libvirt.libvirtError:
            state, uuid = PowerState.SHUTDOWN, dom.UUIDString()  # undefined while we looked
        if self._on_event is not None:
            self._on_event(uuid, state)

    # -- guests ------------------------------------------------------------

    def lookup(self, uuid: str) -> libvirt.virDomain:
        try:
            return self.get().lookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise GuestNotFound(uuid) from exc
            raise LibvirtError(exc.get_error_message()) from exc

    def exists(self, uuid: str) -> bool:
        try:
            self.lookup(uuid)
            return True
        except GuestNotFound:
            return False

    def define_and_start(self, xml: str, start_paused: bool = False) -> libvirt.virDomain:
        """Define a persistent guest and start it; undefine it again if the start fails."""
        conn = self.get()
        try:
            dom = conn.defineXML(xml)
        except libvirt.libvirtError as exc:
            raise LibvirtError(f"libvirt refused the guest definition: {exc.get_error_message()}") from exc
        try:
            dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED if start_paused else 0)
        except libvirt.libvirtError as exc:
            self._undefine(dom)
            raise LibvirtError(f"the guest failed to start: {exc.get_error_message()}") from exc
        return dom

    def power_state(self, uuid: str) -> PowerState:
        return _STATE_MAP.get(self.lookup(uuid).state()[0], PowerState.NOSTATE)

    def xml(self, uuid: str) -> str:
        return str(self.lookup(uuid).XMLDesc(0))

    def inactive_xml(self, uuid: str) -> str:
        """The guest's persistent definition (what the next start boots), without live state."""
        return str(self.lookup(uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))

    def guest_stats(self, uuid: str) -> dict[str, Any]:
        """The running guest's counters, as libvirt reports them: {"state": PowerState, "max_kib", "used_kib",
        "vcpu_ns": [ns per vCPU], "disks": {target: (rd_req, rd_bytes, wr_req, wr_bytes, errs)},
        "nics": [(mac, tap, (rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, tx_packets, tx_errs, tx_drop))]}.
        Per-device counters exist only while the guest runs; a stopped guest reports none."""
        dom = self.lookup(uuid)
        raw_state, max_kib, used_kib, _, _ = self._call(dom.info)
        state = _STATE_MAP.get(raw_state, PowerState.NOSTATE)
        stats: dict[str, Any] = {"state": state, "max_kib": max_kib, "used_kib": used_kib, "vcpu_ns": [],
                                 "disks": {}, "nics": []}
        if state not in (PowerState.RUNNING, PowerState.PAUSED):
            return stats
        stats["vcpu_ns"] = [info[2] for info in self._call(dom.vcpus)[0]]
        devices = ElementTree.fromstring(self._call(dom.XMLDesc, 0)).find("devices")
        for disk in devices.findall("disk") if devices is not None else []:
            target = disk.find("target")
            if target is not None and disk.get("device", "disk") == "disk":
                stats["disks"][target.get("dev")] = tuple(self._call(dom.blockStats, target.get("dev")))
        for iface in devices.findall("interface") if devices is not None else []:
            mac, target = iface.find("mac"), iface.find("target")
            if target is not None:
                stats["nics"].append((mac.get("address") if mac is not None else None, target.get("dev"),
                                      tuple(self._call(dom.interfaceStats, target.get("dev")))))
        return stats

    def set_user_password(self, uuid: str, user: str, password: str) -> None:
        """Set ``user``'s password inside the guest through the QEMU guest agent."""
        self._call(self.lookup(uuid).setUserPassword, user, password, 0)
    def attach_device(self, uuid: str, xml: str) -> None:
        """Add a device to the guest's definition, and to the running guest when it runs (hot-plug)."""
        dom = self.lookup(uuid)
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG | (libvirt.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else 0)
        self._call(dom.attachDeviceFlags, xml, flags)

    def detach_device(self, uuid: str, xml: str, live: bool, config: bool) -> None:
        """Ask to remove a device from the running guest (``live``: the guest must let go of it; the call
        returns before it has) and/or from its definition (``config``)."""
        dom = self.lookup(uuid)
        flags = (libvirt.VIR_DOMAIN_AFFECT_CONFIG if config else 0) | (
            libvirt.VIR_DOMAIN_AFFECT_LIVE if live and dom.isActive() else 0)
        if flags:
            self._call(dom.detachDeviceFlags, xml, flags)

    def block_resize(self, uuid: str, target: str, size_bytes: int) -> None:
        """Tell the running guest its disk ``target`` (``vdb``) is now ``size_bytes`` long (virDomainBlockResize
        in bytes, as Nova's libvirt driver grows an extended volume)."""
        self._call(self.lookup(uuid).blockResize, target, size_bytes, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)

    def is_active(self, uuid: str) -> bool:
        return bool(self.lookup(uuid).isActive())

    def inject_nmi(self, uuid: str) -> None:
        """Send the guest a non-maskable interrupt (its kernel may dump and reboot)."""
        self._call(self.lookup(uuid).injectNMI, 0)

    def start(self, uuid: str) -> None:
        """Boot a stopped guest (or restore it from its managed save)."""
        self._call(self.lookup(uuid).create)

    def stop(self, uuid: str, timeout: float = 60) -> bool:
        """ACPI shutdown, waiting up to ``timeout`` s, then power off. True if the guest obeyed."""
        dom = self.lookup(uuid)
        if not dom.isActive():
            return True
        try:
            dom.shutdown()
        except libvirt.libvirtError:
            pass  # no ACPI support: fall through to the hard stop
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not dom.isActive():
                return True
            time.sleep(0.2)
        self.power_off(uuid)
        return False

    def power_off(self, uuid: str) -> None:
        dom = self.lookup(uuid)
        if dom.isActive():
            self._call(dom.destroy)

    def reboot(self, uuid: str, hard: bool, timeout: float = 60) -> None:
        if hard:
            self.power_off(uuid)
            self.start(uuid)
            return
        if not self.stop(uuid, timeout):
            LOG.info("Guest %s ignored the ACPI shutdown; it was powered off", uuid)
        self.start(uuid)

    def pause(self, uuid: str) -> None:
        self._call(self.lookup(uuid).suspend)

    def unpause(self, uuid: str) -> None:
        self._call(self.lookup(uuid).resume)

    def suspend(self, uuid: str) -> None:
        """Save memory to disk and stop (libvirt managed save); ``start`` restores it."""
        self._call(self.lookup(uuid).managedSave, 0)

    def has_managed_save(self, uuid: str) -> bool:
        return bool(self.lookup(uuid).hasManagedSaveImage(0))

    def destroy(self, uuid: str) -> None:
        """Power off and undefine (with any managed save). Missing guests are fine."""
        try:
            dom = self.lookup(uuid)
        except GuestNotFound:
            return
        if dom.isActive():
            self._call(dom.destroy)
        self._undefine(dom)

    def list_uuids(self) -> list[str]:
        return [dom.UUIDString() for dom in self.get().listAllDomains(0)]

    def list_guests(self) -> list[tuple[str, str]]:
        """(uuid, name) of every domain libvirt knows, running or not."""
        return [(dom.UUIDString(), dom.name()) for dom in self.get().listAllDomains(0)]

    def redefine(self, xml: str) -> None:
        """Replace a (stopped) guest's definition; it takes effect on the next start."""
        self._call(self.get().defineXML, xml)

    def _undefine(self, dom: libvirt.virDomain) -> None:
        flags = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        try:
            dom.undefineFlags(flags)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise LibvirtError(exc.get_error_message()) from exc

    @staticmethod
    def _call(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except libvirt.libvirtError as exc:
            raise LibvirtError(exc.get_error_message()) from exc
