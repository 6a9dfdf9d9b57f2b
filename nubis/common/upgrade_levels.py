"""``[upgrade_levels]``: which RPC version a client may send while older services still run.

An option is one of
  * unset/empty: no cap (the newest version this code knows);
  * an explicit RPC version, ``1.1``;
  * a release alias, ``nubis-0.1``: the newest version release 0.1 understood (``RELEASES``);
  * ``auto``: the version the oldest running service of that kind reported (the service version
    records, ``nubis.compute.service_versions``); no cap when there are no records.

The table of releases is how an operator caps without knowing RPC numbers: during a
rolling upgrade from 0.1, set ``[upgrade_levels] compute = nubis-0.1`` everywhere,
restart, roll, then remove the cap. A new release appends a row (``test_rpc_versions``
checks every row names every level, and that the newest row is each client's VERSION).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping

LOG = logging.getLogger(__name__)

# Every capped RPC API (the option name in [upgrade_levels]). A topic with several
# namespaces has one level per namespace: their version histories are separate.
LEVELS = (
    "compute",  # nubis.compute.agent.rpcapi.ComputeAgentAPI
    "conductor",  # nubis.compute.conductor.rpcapi.ConductorAPI
    "conductor_metadata",  # nubis.compute.conductor.metadata_rpc.ConductorMetadataAPI
    "scheduler",  # nubis.scheduler.rpcapi.SchedulerAPI
    "network",  # nubis.network.rpcapi.NetworkServerAPI
    "network_agent",  # nubis.network.rpcapi.NetworkAgentAPI
    "network_metadata",  # nubis.network.metadata_rpc.NetworkMetadataAPI
    "volume",  # nubis.volume.manager.rpcapi.VolumeManagerAPI
)

ALIAS_PREFIX = "nubis-"

# The newest RPC version of each API a release sends and serves. 0.1 is the first
# packaged release (setuptools-scm's fallback version); "0.2" is what this tree ships.
RELEASES: Mapping[str, Mapping[str, str]] = {
    "0.1": {
        "compute": "1.1",
        "conductor": "1.2",
        "conductor_metadata": "1.0",
        "scheduler": "1.1",
        "network": "1.0",
        "network_agent": "1.0",
        "network_metadata": "1.0",
        "volume": "1.0",  # not packaged in 0.1: its first version, so a cap to 0.1 is still valid
    },
    "0.2": {
        # 1.2 get_console, rescue/unrescue, trigger_crash_dump; 1.3 diagnostics, changePassword,
        # attach/detach_volume; 1.4 build_and_run_instance(block_device_info): boot from volume; 1.5
        # extend_volume (volume-extended events)
        "compute": "1.5",
        # 1.3 service_heartbeat(version): services record their versions; 1.4 console tokens; 1.5
        # deleted_instances (agents release the ports of instances deleted while they were down)
        "conductor": "1.5",
        "conductor_metadata": "1.1",  # the guest's encrypted admin password (os-server-password)
        "scheduler": "1.2",  # select_destinations/explain carry a versioned RequestSpec object
        "network": "1.0",
        "network_agent": "1.0",
        "network_metadata": "1.0",
        # 1.1 initialize_connection, terminate_connection: NBD exports for attached volumes; 1.2 upload_image;
        # 1.3 backups
        "volume": "1.3",
    },
}

AUTO = "auto"
_VERSION = re.compile(r"^\d+\.\d+$")

# (level) -> the lowest RPC version running services of that level reported, or None if unknown.
MinimumLookup = Callable[[str], "str | None"]


class InvalidUpgradeLevel(ValueError):
    """An ``[upgrade_levels]`` value that is neither a version, a known release, nor ``auto``."""


def resolve(level: str, value: str | None, minimum: MinimumLookup | None = None) -> str | None:
    """The version cap ``value`` of option ``[upgrade_levels] <level>`` stands for (None: no cap).

    Raises InvalidUpgradeLevel naming the option and the accepted forms, so a typo stops the
    service at start instead of sending messages the other side may not understand.
    """
    value = (value or "").strip()
    if not value:
        return None
    if value == AUTO:
        found = minimum(level) if minimum is not None else None
        if found is None:
            # Nothing recorded yet (a new deployment) or no way to look: nothing older can be running.
            LOG.info("[upgrade_levels] %s = auto: no service versions recorded; not capping", level)
        return found
    if value.startswith(ALIAS_PREFIX):
        release = value[len(ALIAS_PREFIX):]
        if release not in RELEASES:
            raise InvalidUpgradeLevel(
                f"[upgrade_levels] {level} = {value}: unknown release; known: "
                f"{', '.join(ALIAS_PREFIX + r for r in RELEASES)}")
        return RELEASES[release][level]
    if _VERSION.match(value):
        return value
    raise InvalidUpgradeLevel(
        f"[upgrade_levels] {level} = {value}: expected an RPC version like 1.1, a release like "
        f"{ALIAS_PREFIX}{next(iter(RELEASES))}, or {AUTO}")


def version_tuple(version: str) -> tuple[int, int]:
    """``"1.10"`` -> ``(1, 10)`` (versions compare numerically, not as strings)."""
    major, minor = version.split(".")
    return int(major), int(minor)


def lowest(versions: list[str]) -> str | None:
    """The lowest of ``versions`` by number, None for none."""
    return min(versions, key=version_tuple) if versions else None
