"""Volume service options: the ``[volume]`` group (API, quotas, the manager and its file backend)."""

from __future__ import annotations

import os

from oslo_config import cfg

GROUP = "volume"

OPTS = [
    cfg.StrOpt("default_volume_type", default="__DEFAULT__",
               help="Volume type of volumes created without one (Cinder's default type; made on first use)."),
    cfg.StrOpt("default_group_type", default="default_group_type",
               help="Group type shown as the default (GET /group_types/default; Cinder's default group type, "
                    "made on first use)."),
    cfg.StrOpt("storage_availability_zone", default="nova",
               help="Availability zone of this host's volume manager (and of volumes created without one)."),
    cfg.IntOpt("quota_volumes", default=10, min=-1, help="Volumes a project may have (-1: unlimited)."),
    cfg.IntOpt("quota_gigabytes", default=1000, min=-1,
               help="GiB of volumes and snapshots a project may have (-1: unlimited)."),
    cfg.IntOpt("quota_snapshots", default=10, min=-1, help="Snapshots a project may have (-1: unlimited)."),
    cfg.IntOpt("quota_backups", default=10, min=-1, help="Backups a project may have (-1: unlimited)."),
    cfg.IntOpt("quota_backup_gigabytes", default=1000, min=-1,
               help="GiB of backups a project may have (-1: unlimited)."),
    cfg.IntOpt("quota_groups", default=10, min=-1, help="Volume groups a project may have (-1: unlimited)."),
    cfg.IntOpt("osapi_max_limit", default=1000, min=1, help="Most items one list request returns."),
    cfg.IntOpt("max_volume_size_gb", default=16384, min=1, help="Largest volume one request may ask for, in GiB."),
    cfg.IntOpt("message_ttl", default=2592000, min=1,
               help="Seconds a user message (why an asynchronous request failed) is kept at least (Cinder's "
                    "default: 30 days)."),
    cfg.FloatOpt("rpc_timeout", default=60.0, min=1.0, help="Seconds to wait for the volume manager's answers."),
    # The manager.
    cfg.StrOpt("volume_backend", default="file", choices=["file"],
               help="Where this host's volumes live. file: raw sparse files under volumes_dir."),
    cfg.StrOpt("volumes_dir", help="Directory of the file backend's volumes (default: <state_path>/volumes)."),
    cfg.IntOpt("file_capacity_gb", default=0, min=0,
               help="Capacity the file backend reports, in GiB (0: the size of the file system of volumes_dir)."),
    cfg.FloatOpt("max_over_subscription_ratio", default=20.0, min=1.0,
                 help="How far the GiB of volumes and snapshots on a host may exceed its capacity (the file "
                      "backend's volumes are sparse: thin provisioned). Cinder's default."),
    cfg.StrOpt("nbd_host", default="127.0.0.1",
               help="Address the NBD exports of attached volumes listen on and computes connect to (this storage "
                    "host's address on the storage network; loopback serves computes on this host only)."),
    cfg.PortOpt("nbd_port_min", default=10809, help="Lowest TCP port of the NBD exports (one port per attached volume)."),
    cfg.PortOpt("nbd_port_max", default=10908, help="Highest TCP port of the NBD exports."),
    cfg.StrOpt("backup_dir",
               help="Directory of the backup store: each backup a qcow2 file backup-<id> (default: "
                    "<state_path>/backups; created private, mode 0700, files 0600)."),
    cfg.StrOpt("backup_compression_algorithm", default="zlib", choices=["none", "zlib", "zstd"],
               help="Compression of backups (Cinder's option): none, or qcow2's zlib or zstd compression."),
    cfg.IntOpt("report_interval", default=10, min=1, help="Seconds between a manager's heartbeats."),
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="A manager silent this many seconds gets no new volumes."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]


def volumes_dir(conf: cfg.ConfigOpts) -> str:
    return conf.volume.volumes_dir or os.path.join(conf.state_path, "volumes")


def backup_dir(conf: cfg.ConfigOpts) -> str:
    """Where this host keeps its backups (``[volume] backup_dir``)."""
    return conf.volume.backup_dir or os.path.join(conf.state_path, "backups")
