"""The per-storage-host volume manager as the commands see it (RPC only; topic ``volume``, server = host)."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from nubis.common import rpc
from nubis.common.clients.compute import ComputeClient
from nubis.common.clients.image import ImageClient
from nubis.common.runtime import Runtime
from nubis.services import ServiceDefinition, Stoppable
from nubis.volume import conf
from nubis.volume.manager.backends.base import VolumeBackend
from nubis.volume.manager.backends.file import FileBackend
from nubis.volume.manager.manager import VolumeManager
from nubis.volume.manager.rpcapi import TOPIC, VolumeManagerEndpoint
from nubis.volume.notifications import VolumeNotifier


def make_backend(c: cfg.ConfigOpts) -> VolumeBackend:
    """The configured backend (``[volume] volume_backend``); only ``file`` exists so far."""
    return FileBackend(conf.volumes_dir(c), c.volume.file_capacity_gb, c.volume.nbd_host,
                       (c.volume.nbd_port_min, c.volume.nbd_port_max))


def build_manager(runtime: Runtime, backend: VolumeBackend | None = None) -> VolumeManager:
    c = runtime.conf
    # publisher ``volume.<host>``, as Cinder's volume service
    return VolumeManager(c, runtime.database("volume"), backend or make_backend(c), c.host,
                         ImageClient.from_conf(c, optional=True),
                         VolumeNotifier(rpc.Notifier(runtime.messaging, "volume", c.host)),
                         compute=ComputeClient.from_conf(c))


def start(runtime: Runtime, backend: VolumeBackend | None = None) -> Sequence[Stoppable]:
    manager = build_manager(runtime, backend)
    manager.start()
    server = rpc.start_server(runtime.messaging, TOPIC, runtime.conf.host, [VolumeManagerEndpoint(manager)])
    # Stopped in order: the server first (it finishes the messages in hand), then the heartbeat.
    return [server, manager]


SERVICE = ServiceDefinition(
    name="volume-manager",
    console_script="nubis-volume-manager",
    list_opts=conf.list_opts,
    start=start,
)
