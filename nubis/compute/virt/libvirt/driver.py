"""The libvirt driver: real KVM/QEMU guests, with images from the image service.

Each guest has a directory ``<instances_path>/<uuid>`` holding its qcow2
overlay (on a cached base image), optional ephemeral/swap disks, its config
drive, its console log and the domain XML it was defined with. A spawn that
fails removes whatever it made; ``destroy`` removes the domain and the directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

from oslo_config import cfg

from nubis.common.clients.image import ImageClient
from nubis.compute import states
from nubis.compute.virt import diagnostics
from nubis.compute.virt.diagnostics import Diagnostics
from nubis.compute.virt.driver import (
    ConsoleEndpoint,
    ConsoleUnavailable,
    DriverError,
    GuestSpec,
    HostResources,
    NumaCell,
    PasswordNotSupported,
    Snapshot,
)
from nubis.compute.virt.libvirt import conf as libvirt_conf
from nubis.compute.virt.libvirt import configdrive, disks, domain, guest_config, host, imagecache, volumes
from nubis.compute.virt.libvirt.connection import Connection, GuestNotFound, LibvirtError, PowerState
from nubis.compute.virt.libvirt.imagecache import ImageCache
from nubis.console import conf as console_conf

LOG = logging.getLogger(__name__)
CHUNK = 1024 * 1024
CONSOLE_TAIL = 256 * 1024  # what os-getConsoleOutput may return at most
CONFIG_DRIVE = "disk.config"  # the config drive's file in the guest's directory
# How long a guest may take to let go of a hot-unplugged disk (it must acknowledge the PCI unplug).
DETACH_TIMEOUT = 30.0


def _make_reachable_dir(path: str) -> None:
    """A directory QEMU's own user can reach (libvirt gives it the disks); the process umask is 077."""
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o755, exist_ok=True)
        os.chmod(path, 0o755)


class LibvirtDriver:
    def __init__(self, conf: cfg.ConfigOpts, images: ImageClient | None,
                 connection: Connection | None = None) -> None:
        self.conf = conf
        self.images = images
        self.path = libvirt_conf.instances_path(conf)
        _make_reachable_dir(self.path)
        self.cache = ImageCache(os.path.join(self.path, "_base"))
        self._listener: Callable[[str, int], None] | None = None
        self.conn = connection or Connection(conf.libvirt.connection_uri, on_event=self._event,
                                             on_reconnect=self._reconnected)
        try:
            self.topology = host.parse_capabilities(self.conn.get().getCapabilities())
        except LibvirtError as exc:
            raise DriverError(f"cannot read the host's capabilities from libvirt: {exc}") from exc
        self.resources = host.guest_resources(self.topology, conf.libvirt.cpu_dedicated_set,
                                              conf.libvirt.cpu_shared_set, conf.compute.reserved_host_memory_mb)
        self.facts = guest_config.HostFacts(
            virt_type=conf.libvirt.virt_type, machine_type=conf.libvirt.hw_machine_type,
            kernel_cmdline=conf.libvirt.kernel_cmdline, disk_cachemode=conf.libvirt.disk_cachemode,
            resources=self.resources, topology=self.topology)

    # -- the host ----------------------------------------------------------------------------------------

    def host_resources(self) -> HostResources:
        cells = tuple(NumaCell(id=c.id, cpus=tuple(sorted(c.cpus & self.resources.dedicated_cpus)),
                               shared_cpus=tuple(sorted(c.cpus & self.resources.shared_cpus)),
                               memory_mb=c.memory_kib // 1024,
                               pages={size: total for size, total in c.pages.items() if size > 4})
                      for c in self.topology.cells)
        usage = shutil.disk_usage(self.path)
        return HostResources(hypervisor_type="QEMU", hypervisor_hostname=self.conf.host,
                             vcpus=len(self.resources.shared_cpus), memory_mb=self.resources.memory_mb,
                             disk_gb=usage.total // 1024**3, cells=cells,
                             cpu_info={"arch": "x86_64", "virt_type": self.conf.libvirt.virt_type,
                                       "topology": {"cells": len(cells), "cpus": len(self.topology.cpus)}})

    # -- images ----------------------------------------------------------------------------------------

    def _image_info(self, image_id: str) -> dict[str, Any]:
        if self.images is None:
            raise DriverError("this compute host has no image service configured to fetch images from")
        resp = self.images.show(image_id)
        if resp.status_code != 200:
            raise DriverError(f"image {image_id} could not be read from the image service ({resp.status_code})")
        return resp.json()

    def _cached(self, image_id: str, info: dict[str, Any] | None = None) -> str:
        """The image's file in this host's cache, downloaded (and verified) once."""
        info = info if info and info.get("os_hash_value") else self._image_info(image_id)
        if info.get("status", "active") != "active" or not info.get("os_hash_value"):
            raise DriverError(f"image {image_id} has no data to boot from (status {info.get('status')})")

        def download(out: BinaryIO) -> None:
            assert self.images is not None
            resp = self.images.download(image_id)
            if resp.status_code != 200:
                raise DriverError(f"downloading image {image_id} failed: {resp.status_code}")
            for chunk in resp.iter_content(CHUNK):
                out.write(chunk)

        return self.cache.fetch(image_id, info.get("os_hash_algo") or "sha512", info["os_hash_value"], download)

    def manage_image_cache(self) -> list[str]:
        """Nova's image cache manager pass (see ``imagecache``): the cached bases removed."""
        guest_files: list[str] = []
        for uuid in self.list_guests():
            with contextlib.suppress(LibvirtError, GuestNotFound):  # a guest removed meanwhile uses nothing
                guest_files += domain.files(self.conn.xml(uuid))
        in_use = imagecache.files_in_use(self.path, guest_files)
        return self.cache.manage(in_use, self.conf.libvirt.remove_unused_base_images_after)

    # -- spawn and destroy ------------------------------------------------------------------------------

    def _dir(self, uuid: str) -> str:
        return os.path.join(self.path, uuid)

    def _files(self, guest: GuestSpec, workdir: str) -> guest_config.GuestFiles:
        files: dict[str, Any] = {"root": "", "console_log": os.path.join(workdir, "console.log")}
        props: dict[str, Any] = {}
        if guest.root_volume:  # booted from a volume: no image to fetch, the root disk is the volume's export
            files["root_volume"] = guest.root_volume
            # The image the volume was made from may still name a kernel and ramdisk (direct kernel boot).
            props = dict(guest.image_meta.get("properties") or {})
        elif not guest.image_ref:
            raise DriverError("no image and no root volume was given to boot from")
        else:
            meta = dict(guest.image_meta)
            if not meta.get("os_hash_value"):
                info = self._image_info(guest.image_ref)
                meta = {**info, "properties": info}
            base = self._cached(guest.image_ref, {**meta, "status": "active"})
            files["root"] = os.path.join(workdir, "disk")
            disks.create_overlay(base, files["root"], guest.root_gb or None)
            props = meta.get("properties") or {}
        if props.get("kernel_id"):
            files["kernel"] = self._cached(str(props["kernel_id"]))
            if props.get("ramdisk_id"):
                files["ramdisk"] = self._cached(str(props["ramdisk_id"]))
        if guest.ephemeral_gb:
            files["ephemeral"] = os.path.join(workdir, "disk.eph0")
            disks.create_blank(files["ephemeral"], guest.ephemeral_gb * 1024)
        if guest.swap_mb:
            files["swap"] = os.path.join(workdir, "disk.swap")
            disks.create_blank(files["swap"], guest.swap_mb)
        if guest.config_drive or self.conf.libvirt.force_config_drive:
            files["config_drive"] = os.path.join(workdir, CONFIG_DRIVE)
            configdrive.build(files["config_drive"], guest_config.metadata_files(guest))
        return guest_config.GuestFiles(**files)

    def spawn(self, guest: GuestSpec, power_on: bool = True) -> None:
        workdir = self._dir(guest.uuid)
        if self.conn.exists(guest.uuid):
            raise DriverError(f"guest {guest.uuid} already exists on this host")
        _make_reachable_dir(workdir)
        try:
            files = self._files(guest, workdir)
            xml = self._domain_xml(guest, files)
            with open(os.path.join(workdir, "libvirt.xml"), "w", encoding="utf-8") as f:
                f.write(xml)
            if power_on:
                self.conn.define_and_start(xml)
            else:  # defined only: it starts on power_on (os-start), like any stopped guest
                self.conn.redefine(xml)
        except Exception as exc:
            self._remove(guest.uuid)
            if isinstance(exc, DriverError):
                raise
            raise DriverError(str(exc)) from exc

    def _domain_xml(self, guest: GuestSpec, files: guest_config.GuestFiles) -> str:
        """The guest's domain XML, with the remote consoles this host offers."""
        return domain.to_xml(self._with_consoles(guest_config.build(guest, self.facts, files)))

    def _with_consoles(self, d: domain.Domain) -> domain.Domain:
        graphics = []
        if self.conf.vnc.enabled:
            graphics.append(domain.Graphics("vnc", self.conf.vnc.server_listen))
        if self.conf.spice.enabled:
            graphics.append(domain.Graphics("spice", self.conf.spice.server_listen))
        serial = None
        if self.conf.serial_console.enabled:
            serial = domain.SerialTcp(self.conf.serial_console.proxyclient_address, self._serial_port(d.uuid))
        return dataclasses.replace(d, graphics=tuple(graphics), serial_tcp=serial)

    def _serial_port(self, uuid: str) -> int:
        """The guest's serial console port: the one it has, else the first of ``[serial_console] port_range``
        no other guest of this host names and nothing else listens on."""
        taken: dict[str, int] = {}
        for other in self.conn.list_uuids():
            with contextlib.suppress(LibvirtError, GuestNotFound):
                found = domain.console_ports(self.conn.xml(other)).get("serial")
                if found:
                    taken[other] = found[1]
        if uuid in taken:
            return taken[uuid]
        first, last = console_conf.port_range(self.conf)
        address = self.conf.serial_console.proxyclient_address
        for port in range(first, last + 1):
            if port in taken.values():
                continue
            with socket.socket() as probe:
                try:
                    probe.bind((address, port))
                except OSError:
                    continue
            return port
        raise DriverError(f"no free serial console port in [serial_console] port_range {first}:{last}")

    def _remove(self, uuid: str) -> None:
        try:
            self.conn.destroy(uuid)
        finally:
            shutil.rmtree(self._dir(uuid), ignore_errors=True)

    def destroy(self, uuid: str) -> None:
        try:
            self._remove(uuid)
        except LibvirtError as exc:
            raise DriverError(f"removing guest {uuid} failed: {exc}") from exc

    def resize(self, guest: GuestSpec, power_on: bool = True) -> None:
        """Stop the guest, grow its root disk if the flavor's is larger, redefine it with the new size, start it
        (unless ``power_on`` is False)."""
        workdir = self._dir(guest.uuid)
        try:
            self.conn.stop(guest.uuid, self.conf.libvirt.shutdown_timeout)
            root = os.path.join(workdir, "disk")
            if guest.root_gb and int(disks.info(root)["virtual-size"]) < guest.root_gb * disks.GIB:  # type: ignore[call-overload]
                disks.resize(root, guest.root_gb)
            files = self._existing_files(guest, workdir)
            self.conn.redefine(self._domain_xml(guest, files))
            if power_on:
                self.conn.start(guest.uuid)
        except (LibvirtError, GuestNotFound, disks.DiskError) as exc:
            raise DriverError(f"resizing guest {guest.uuid} failed: {exc}") from exc

    def _existing_files(self, guest: GuestSpec, workdir: str) -> guest_config.GuestFiles:
        def there(name: str) -> str | None:
            path = os.path.join(workdir, name)
            return path if os.path.exists(path) else None

        props = (guest.image_meta.get("properties") or {}) if guest.image_meta else {}
        if not props and guest.image_ref:
            props = self._image_info(guest.image_ref)
        return guest_config.GuestFiles(
            root=os.path.join(workdir, "disk"), ephemeral=there("disk.eph0"), swap=there("disk.swap"),
            config_drive=there(CONFIG_DRIVE), console_log=os.path.join(workdir, "console.log"),
            kernel=self._cached(str(props["kernel_id"])) if props.get("kernel_id") else None,
            ramdisk=self._cached(str(props["ramdisk_id"])) if props.get("ramdisk_id") else None)

    # -- power -----------------------------------------------------------------------------------------

    def _do(self, what: str, uuid: str, *args: Any) -> None:
        try:
            getattr(self.conn, what)(uuid, *args)
        except GuestNotFound:
            raise DriverError(f"guest {uuid} does not exist on this host") from None
        except LibvirtError as exc:
            raise DriverError(f"{what.replace('_', ' ')} of guest {uuid} failed: {exc}") from exc

    def power_off(self, uuid: str) -> None:
        # A clean shutdown first (ACPI), the power cord after shutdown_timeout seconds.
        self._do("stop", uuid, self.conf.libvirt.shutdown_timeout)

    def power_on(self, uuid: str) -> None:
        self._do("start", uuid)

    def reboot(self, uuid: str, hard: bool) -> None:
        self._do("reboot", uuid, hard, self.conf.libvirt.shutdown_timeout)

    def pause(self, uuid: str) -> None:
        self._do("pause", uuid)

    def unpause(self, uuid: str) -> None:
        self._do("unpause", uuid)

    def suspend(self, uuid: str) -> None:
        self._do("suspend", uuid)

    def resume(self, uuid: str) -> None:
        self._do("start", uuid)  # restores the managed save

    def power_state(self, uuid: str) -> int:
        try:
            state = self.conn.power_state(uuid)
            if state == PowerState.SHUTDOWN and self.conn.has_managed_save(uuid):
                return states.POWER_SUSPENDED
            return int(state)
        except GuestNotFound:
            return states.NOSTATE
        except LibvirtError:
            LOG.exception("could not read the power state of %s", uuid)
            return states.NOSTATE

    def list_guests(self) -> list[str]:
        return sorted(uuid for uuid, name in self.conn.list_guests()
                      if name.startswith(guest_config.DOMAIN_PREFIX))

    def console_output(self, uuid: str) -> str:
        path = os.path.join(self._dir(uuid), "console.log")
        if not self.conn.exists(uuid):
            raise DriverError(f"guest {uuid} does not exist on this host")
        try:
            with open(path, "rb") as f:
                f.seek(max(0, os.path.getsize(path) - CONSOLE_TAIL))
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # -- remote consoles, rescue, crash dumps -------------------------------------------------------------

    def get_console(self, uuid: str, kind: str) -> ConsoleEndpoint:
        """The port from the live domain XML (VNC/SPICE ports are picked by libvirt at start), at the address
        the proxies reach this host on."""
        try:
            ports = domain.console_ports(self.conn.xml(uuid))
        except GuestNotFound:
            raise DriverError(f"guest {uuid} does not exist on this host") from None
        except LibvirtError as exc:
            raise DriverError(f"reading the consoles of guest {uuid} failed: {exc}") from exc
        address = {"vnc": self.conf.vnc.server_proxyclient_address,
                   "spice": self.conf.spice.server_proxyclient_address,
                   "serial": self.conf.serial_console.proxyclient_address}.get(kind)
        if kind not in ports or address is None:
            raise ConsoleUnavailable(f"guest {uuid} has no {kind} console")
        return ConsoleEndpoint(address, ports[kind][1])

    def rescue(self, guest: GuestSpec, rescue_image: Mapping[str, Any]) -> None:
        """Nova's libvirt rescue: the domain is redefined to boot an overlay of the rescue image
        (``disk.rescue``) with the guest's own root disk second; its definition is kept in
        ``unrescue.xml`` for ``unrescue``. A rescue image with ``hw_rescue_device``/``hw_rescue_bus`` gets
        stable-device rescue instead: the guest's disks stay in place and the rescue disk is added, booted first."""
        workdir = self._dir(guest.uuid)
        image_id = str(rescue_image.get("id") or guest.image_ref)
        try:
            original = self.conn.inactive_xml(guest.uuid)
            self.conn.stop(guest.uuid, self.conf.libvirt.shutdown_timeout)
            with open(os.path.join(workdir, "unrescue.xml"), "w", encoding="utf-8") as f:
                f.write(original)
            rescue_disk = os.path.join(workdir, "disk.rescue")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(rescue_disk)
            meta = dict(rescue_image) if rescue_image.get("os_hash_value") else {}
            disks.create_overlay(self._cached(image_id, {**meta, "status": "active"} if meta else None),
                                 rescue_disk, guest.root_gb or None)
            props = rescue_image.get("properties") or {}
            if props.get("hw_rescue_device") or props.get("hw_rescue_bus"):
                # Stable-device rescue: every disk of the guest stays where it was; the rescue disk is added.
                self.conn.redefine(domain.with_rescue_device(
                    original, rescue_disk, str(props.get("hw_rescue_device") or "disk"),
                    str(props.get("hw_rescue_bus") or "virtio")))
                self.conn.start(guest.uuid)
                return
            # The second disk slot carries the guest's own root disk (vdb), as Nova's rescue shows it.
            config_drive = os.path.join(workdir, CONFIG_DRIVE)
            files = guest_config.GuestFiles(
                root=rescue_disk, ephemeral=os.path.join(workdir, "disk"),
                config_drive=config_drive if os.path.exists(config_drive) else None,
                console_log=os.path.join(workdir, "console.log"),
                # A rescue image that boots its own kernel (kernel_id, ramdisk_id) boots it here too.
                kernel=self._cached(str(props["kernel_id"])) if props.get("kernel_id") else None,
                ramdisk=self._cached(str(props["ramdisk_id"])) if props.get("ramdisk_id") else None)
            plain = dataclasses.replace(guest, image_ref=image_id, image_meta=rescue_image)
            self.conn.redefine(self._domain_xml(plain, files))
            self.conn.start(guest.uuid)
        except (LibvirtError, GuestNotFound, disks.DiskError, OSError, ValueError) as exc:
            raise DriverError(f"rescue of guest {guest.uuid} failed: {exc}") from exc

    def unrescue(self, uuid: str) -> None:
        workdir = self._dir(uuid)
        saved = os.path.join(workdir, "unrescue.xml")
        if not os.path.exists(saved):
            saved = os.path.join(workdir, "libvirt.xml")
        try:
            self.conn.stop(uuid, self.conf.libvirt.shutdown_timeout)
            with open(saved, encoding="utf-8") as f:
                self.conn.redefine(f.read())
            self.conn.start(uuid)
        except (LibvirtError, GuestNotFound, OSError) as exc:
            raise DriverError(f"unrescue of guest {uuid} failed: {exc}") from exc
        for leftover in ("disk.rescue", "unrescue.xml"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(workdir, leftover))

    def trigger_crash_dump(self, uuid: str) -> None:
        self._do("inject_nmi", uuid)

    def set_admin_password(self, guest: GuestSpec, password: str) -> None:
        # Through the QEMU guest agent, as Nova does: only guests whose image declares one have the agent's
        # channel; the user is the image's os_admin_user (root by default).
        if not guest_config.has_guest_agent(guest):
            raise PasswordNotSupported(f"the image of guest {guest.uuid} has no QEMU guest agent "
                                       "(image property hw_qemu_guest_agent=yes) to set the password through")
        props = guest.image_meta.get("properties") or {}
        self._do("set_user_password", guest.uuid, str(props.get("os_admin_user") or "root"), password)

    def get_diagnostics(self, uuid: str) -> Diagnostics:
        try:
            raw = self.conn.guest_stats(uuid)
        except GuestNotFound:
            raise DriverError(f"guest {uuid} does not exist on this host") from None
        except LibvirtError as exc:
            raise DriverError(f"diagnostics of guest {uuid} could not be read: {exc}") from exc
        return Diagnostics(
            state=raw["state"].name.lower() if raw["state"] != PowerState.NOSTATE else "pending",
            driver="libvirt", hypervisor=self.conf.libvirt.virt_type, hypervisor_os="linux", uptime=None,
            config_drive=os.path.exists(os.path.join(self._dir(uuid), CONFIG_DRIVE)),
            memory_max_mb=raw["max_kib"] // 1024, memory_used_mb=raw["used_kib"] // 1024,
            cpus=tuple(diagnostics.CpuDiagnostics(i, ns) for i, ns in enumerate(raw["vcpu_ns"])),
            disks=tuple(diagnostics.DiskDiagnostics(read_requests=c[0], read_bytes=c[1], write_requests=c[2],
                                                    write_bytes=c[3], errors_count=c[4], device=dev)
                        for dev, c in raw["disks"].items()),
            nics=tuple(diagnostics.NicDiagnostics(
                mac, rx_octets=c[0], rx_packets=c[1], rx_errors=c[2], rx_drop=c[3], tx_octets=c[4],
                tx_packets=c[5], tx_errors=c[6], tx_drop=c[7], device=tap) for mac, tap, c in raw["nics"]))
    # -- volumes ---------------------------------------------------------------------------------------

    def attach_volume(self, uuid: str, connection_info: Mapping[str, Any], device: str) -> str:
        """Hot-plug the NBD export as a virtio disk (live and persistent); returns the target used (``vdb``):
        ``device`` when free, else the first free name (local disks take the first letters)."""
        try:
            target = volumes.free_target(self.conn.inactive_xml(uuid), device)
            if self.conn.is_active(uuid):
                target = volumes.free_target(self.conn.xml(uuid), target)
            self.conn.attach_device(uuid, volumes.disk_xml(connection_info, target))
        except volumes.UnsupportedVolume as exc:
            raise DriverError(str(exc)) from exc
        except GuestNotFound:
            raise DriverError(f"guest {uuid} does not exist on this host") from None
        except LibvirtError as exc:
            raise DriverError(f"attaching a volume to guest {uuid} failed: {exc}") from exc
        return target

    def detach_volume(self, uuid: str, device: str) -> None:
        """Unplug the disk from the running guest, waiting up to ``DETACH_TIMEOUT`` for it to let go, and drop
        it from the definition. A guest that never had the disk is fine."""
        try:
            live = volumes.find_disk(self.conn.xml(uuid), device) if self.conn.is_active(uuid) else None
            persistent = volumes.find_disk(self.conn.inactive_xml(uuid), device)
            if persistent is not None:
                self.conn.detach_device(uuid, persistent, live=False, config=True)
            if live is not None:
                self.conn.detach_device(uuid, live, live=True, config=False)
                deadline = time.monotonic() + DETACH_TIMEOUT
                while volumes.find_disk(self.conn.xml(uuid), device) is not None:
                    if time.monotonic() > deadline:
                        raise DriverError(f"guest {uuid} did not release {device} within {DETACH_TIMEOUT:.0f} s")
                    time.sleep(0.2)
        except GuestNotFound:
            return  # no guest, no disk
        except LibvirtError as exc:
            raise DriverError(f"detaching {device} from guest {uuid} failed: {exc}") from exc

    def extend_volume(self, uuid: str, device: str, new_size: int) -> None:
        """Grow the running guest's network disk ``device`` to ``new_size`` bytes (``blockResize``); a guest that
        is not running reads the size when it starts, so there is nothing to do (Nova's libvirt driver too)."""
        target = device.rsplit("/", 1)[-1]
        try:
            if not self.conn.is_active(uuid):
                return
            if volumes.find_disk(self.conn.xml(uuid), target) is None:
                raise DriverError(f"guest {uuid} has no disk {target}")
            self.conn.block_resize(uuid, target, new_size)
        except GuestNotFound:
            raise DriverError(f"guest {uuid} does not exist on this host") from None
        except LibvirtError as exc:
            raise DriverError(f"growing {target} of guest {uuid} to {new_size} bytes failed: {exc}") from exc

    # -- power changes nobody asked for ----------------------------------------------------------------

    def watch_power(self, listener: Callable[[str, int], None]) -> None:
        self._listener = listener

    def _event(self, uuid: str, state: PowerState) -> None:
        if self._listener is not None:
            self._listener(uuid, int(state))

    def _reconnected(self) -> None:
        # libvirtd restarted: anything may have happened to the guests meanwhile.
        for uuid in self.list_guests():
            self._event(uuid, PowerState.NOSTATE)

    # -- snapshots -------------------------------------------------------------------------------------

    def snapshot(self, uuid: str) -> Snapshot:
        """Flatten the root disk (overlay + base) into a standalone qcow2, pausing a running guest meanwhile."""
        root = os.path.join(self._dir(uuid), "disk")
        fd, target = tempfile.mkstemp(dir=self.path, prefix=f".snapshot-{uuid}-")
        os.close(fd)
        paused = self.power_state(uuid) == states.RUNNING
        try:
            if paused:
                self._do("pause", uuid)
            disks.convert(root, target, "qcow2", in_use=True)
        except Exception as exc:
            os.unlink(target)
            raise DriverError(f"snapshot of guest {uuid} failed: {exc}") from exc
        finally:
            if paused:
                with contextlib.suppress(DriverError):
                    self._do("unpause", uuid)
        return Snapshot(disk_format="qcow2", chunks=_read_and_remove(target))


def _read_and_remove(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
