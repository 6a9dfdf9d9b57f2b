"""Values of the flavor extra specs Nubis acts on, checked when they are set (Nova's names and values).

A bad value would otherwise be stored and only fail later, at every boot that
uses the flavor. Keys outside this table are kept as given (other services and
filters read their own).
"""

from __future__ import annotations

import re

from nubis.common import exceptions

_INT = re.compile(r"^[0-9]+$")
_PAGE_SIZE = re.compile(r"^(small|large|any|[0-9]+([KMG]i?B?|[kmg]i?b?)?)$")
_CPU_SET = re.compile(r"^\^?[0-9]+(-[0-9]+)?(,\^?[0-9]+(-[0-9]+)?)*$")
_BOOL = ("true", "false", "1", "0", "yes", "no", "on", "off")

# key -> allowed values (a tuple) or a pattern the value must match.
KNOWN: dict[str, tuple[str, ...] | re.Pattern[str]] = {
    "hw:cpu_policy": ("shared", "dedicated", "mixed"),
    "hw:cpu_thread_policy": ("prefer", "isolate", "require"),
    "hw:emulator_threads_policy": ("share", "isolate"),
    "hw:mem_page_size": _PAGE_SIZE,
    "hw:numa_nodes": _INT,
    "hw:cpu_sockets": _INT,
    "hw:cpu_cores": _INT,
    "hw:cpu_threads": _INT,
    "hw:cpu_max_sockets": _INT,
    "hw:cpu_max_cores": _INT,
    "hw:cpu_max_threads": _INT,
    "hw:serial_port_count": _INT,
    "hw:cpu_dedicated_mask": _CPU_SET,
    "hw:cpu_realtime_mask": _CPU_SET,
    "hw:cpu_realtime": _BOOL,
    "hw:mem_encryption": _BOOL,
    "hw:vif_multiqueue_enabled": _BOOL,
    "hw:boot_menu": _BOOL,
    "hw:pmu": _BOOL,
    "hw:hide_hypervisor_id": _BOOL,
    "hw:locked_memory": _BOOL,
    "hw:virtio_packed_ring": _BOOL,
    "hw:watchdog_action": ("none", "pause", "poweroff", "reset", "disabled"),
    "hw:tpm_version": ("1.2", "2.0"),
    "hw:tpm_model": ("tpm-tis", "tpm-crb"),
}
# hw:numa_cpus.N / hw:numa_mem.N: per guest NUMA node N.
_NUMA_CELL = re.compile(r"^hw:numa_(cpus|mem)\.[0-9]+$")


def check(key: str, value: str) -> None:
    """400 naming ``key`` when ``value`` is not one Nova accepts for it."""
    allowed = KNOWN.get(key)
    if allowed is None and _NUMA_CELL.match(key):
        allowed = _CPU_SET if key.startswith("hw:numa_cpus") else _INT
    if allowed is None:
        return
    if isinstance(allowed, tuple):
        ok = value.lower() in allowed if allowed is _BOOL else value in allowed
        if not ok:
            raise exceptions.BadRequest(f"Validation failed; extra spec {key}: {value!r} is not one of "
                                        f"{', '.join(allowed)}.")
    elif not allowed.match(value):
        raise exceptions.BadRequest(f"Validation failed; extra spec {key}: {value!r} does not match the expected "
                                    f"format ({allowed.pattern}).")
