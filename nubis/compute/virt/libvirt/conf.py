"""``[libvirt]`` options: how the libvirt driver runs guests on this host."""

from __future__ import annotations

import os

from oslo_config import cfg

GROUP = "libvirt"

OPTS = [
    cfg.StrOpt("virt_type", default="kvm", choices=["kvm", "qemu"],
               help="kvm on hosts with hardware virtualisation; qemu (TCG software emulation) where /dev/kvm "
                    "cannot be used, e.g. nested test machines."),
    cfg.StrOpt("connection_uri", default="qemu:///system", help="The libvirt daemon to manage guests through."),
    cfg.StrOpt("instances_path",
               help="Where instance disks, config drives and console logs live (default: <state_path>/instances)."),
    cfg.StrOpt("cpu_dedicated_set",
               help="Host CPUs for pinned guests (PCPU inventory), e.g. '4-15'. Unset: no pinned guests."),
    cfg.StrOpt("cpu_shared_set",
               help="Host CPUs floating guests share (VCPU inventory) and pinned guests' emulator threads run "
                    "on. Unset: every host CPU not in cpu_dedicated_set."),
    cfg.StrOpt("disk_cachemode", default="none", choices=["none", "writethrough", "writeback", "unsafe"],
               help="Cache mode of instance disks; 'none' (O_DIRECT, with io=native) needs a filesystem that "
                    "supports O_DIRECT, which tmpfs does not."),
    cfg.StrOpt("hw_machine_type", default="pc", help="Machine type of guests whose image does not name one."),
    cfg.StrOpt("kernel_cmdline", default="console=ttyS0",
               help="Kernel command line of directly booted guests (images with kernel_id) without "
                    "os_command_line."),
    cfg.BoolOpt("force_config_drive", default=False,
                help="Give every guest a config drive, whether or not its boot asked for one."),
    cfg.IntOpt("shutdown_timeout", default=60, min=0,
               help="Seconds a guest gets to shut down on ACPI request before it is powered off."),
    cfg.IntOpt("remove_unused_base_images_after", default=86400, min=0,
               help="Seconds an unused cached base image is kept (0: keep forever)."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def instances_path(conf: cfg.ConfigOpts) -> str:
    return conf.libvirt.instances_path or os.path.join(conf.state_path, "instances")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]
