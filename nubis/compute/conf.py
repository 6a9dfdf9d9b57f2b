"""Compute options (API, conductor and agent read the same ``[compute]`` group)."""

from __future__ import annotations

from oslo_config import cfg

from nubis.compute.virt.libvirt import conf as libvirt_conf
from nubis.console import conf as console_conf

GROUP = "compute"

OPTS = [
    cfg.StrOpt("virt_driver", default="fake", choices=["fake", "libvirt"],
               help="Hypervisor driver of the compute agent."),
    cfg.StrOpt("default_availability_zone", default="nova", help="Zone of hosts in no zone aggregate."),
    cfg.IntOpt("report_interval", default=10, min=1,
               help="Seconds between an agent's heartbeats (service up/down) and resource reports."),
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="Seconds without a heartbeat after which os-services shows a service as down."),
    cfg.IntOpt("orphan_allocations_interval", default=60, min=0,
               help="Seconds between checks of this host's allocations in placement (0: never): allocations "
                    "held for instances recorded as deleted (a claim that landed after its server's delete) "
                    "are released, as Nova's resource tracker does."),
    cfg.IntOpt("sync_power_state_interval", default=600, min=0,
               help="Seconds between comparisons of the guests' power states with the database (0: never). "
                    "A guest that stopped on its own shows SHUTOFF; one running while recorded stopped is "
                    "powered off."),
    cfg.FloatOpt("cpu_allocation_ratio", default=16.0, min=0.0, help="Placement allocation ratio of VCPU."),
    cfg.FloatOpt("ram_allocation_ratio", default=1.0, min=0.0, help="Placement allocation ratio of MEMORY_MB."),
    cfg.FloatOpt("disk_allocation_ratio", default=1.0, min=0.0, help="Placement allocation ratio of DISK_GB."),
    cfg.IntOpt("reserved_host_memory_mb", default=512, min=0, help="Memory kept for the host itself."),
    cfg.IntOpt("fake_vcpus", default=16, min=1, help="CPUs the fake driver's host reports."),
    cfg.IntOpt("fake_memory_mb", default=65536, min=1, help="Memory the fake driver's host reports."),
    cfg.IntOpt("fake_disk_gb", default=1000, min=1, help="Disk the fake driver's host reports."),
    cfg.FloatOpt("fake_spawn_seconds", default=0.0, min=0.0,
                 help="Seconds the fake driver takes to create a guest (a slow host, to interrupt a build)."),
    cfg.FloatOpt("fake_destroy_seconds", default=0.0, min=0.0,
                 help="Seconds the fake driver takes to remove a guest (a slow host, to interrupt a delete)."),
    cfg.IntOpt("vif_plugging_timeout", default=300, min=0,
               help="Seconds a host waits for the network agent to wire a new server's ports."),
    cfg.BoolOpt("vif_plugging_is_fatal", default=True,
                help="Fail the build when the ports are not wired in time (else boot anyway)."),
    cfg.IntOpt("rpc_timeout", default=60, min=1,
               help="Seconds the API and conductor wait for an RPC answer before reporting the peer unreachable."),
    # Nova's names and defaults: how long a boot from volume waits for the volumes made for it.
    cfg.IntOpt("block_device_allocate_retries", default=60, min=0,
               help="How many times a boot from volume checks whether the volumes made for it (from an image, a "
                    "snapshot or blank) are available before it fails the build."),
    cfg.IntOpt("block_device_allocate_retries_interval", default=3, min=0,
               help="Seconds between those checks."),
]

# Nova's names: ``[api] enable_instance_password`` and ``[DEFAULT] password_length``.
API_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("enable_instance_password", default=True,
                help="Return the server's admin password (given or generated) in the responses to create, "
                     "rebuild and (before microversion 2.14) evacuate."),
]
DEFAULT_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("password_length", default=12, min=8, max=255,
               help="Length of the admin passwords the compute API generates."),
]

# Nova's ``[image_cache]`` group: how often a compute host looks for cached base images no guest uses.
IMAGE_CACHE_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("manager_interval", default=2400, min=0,
               help="Seconds between passes of the image cache manager (0: never), which removes cached base "
                    "images no guest of this host uses any more once they have been unused for "
                    "[libvirt] remove_unused_base_images_after seconds."),
]

QUOTA_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("instances", default=10, min=-1, help="Servers per project (-1: unlimited)."),
    cfg.IntOpt("cores", default=20, min=-1, help="vCPUs per project (-1: unlimited)."),
    cfg.IntOpt("ram", default=51200, min=-1, help="MB of RAM per project (-1: unlimited)."),
    cfg.IntOpt("key_pairs", default=100, min=-1, help="Key pairs per user (-1: unlimited)."),
    cfg.IntOpt("metadata_items", default=128, min=-1, help="Metadata items per server (-1: unlimited)."),
    cfg.IntOpt("server_groups", default=10, min=-1, help="Server groups per project (-1: unlimited)."),
    cfg.IntOpt("server_group_members", default=10, min=-1, help="Servers per server group (-1: unlimited)."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS), ("api", API_OPTS), ("DEFAULT", DEFAULT_OPTS), ("quota", QUOTA_OPTS),
            ("image_cache", IMAGE_CACHE_OPTS), *libvirt_conf.list_opts(),
            *console_conf.list_opts()]
