"""``/limits`` as Nova shows it per microversion: Nova's names for the quota resources in ``absolute``."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.compute.api.views.quotas import LEGACY

_MAX = {"maxTotalInstances": "instances", "maxTotalCores": "cores", "maxTotalRAMSize": "ram",
        "maxTotalKeypairs": "key_pairs", "maxServerMeta": "metadata_items", "maxServerGroups": "server_groups",
        "maxServerGroupMembers": "server_group_members"}
_USED = {"totalInstancesUsed": "instances", "totalCoresUsed": "cores", "totalRAMUsed": "ram",
         "totalServerGroupsUsed": "server_groups"}
# Limits of resources this API no longer manages (the network service owns them since 2.36; file injection went
# in 2.57), shown with the values of the legacy quota set before the microversion that dropped them.
_LEGACY_MAX = {"maxSecurityGroups": "security_groups", "maxSecurityGroupRules": "security_group_rules",
               "maxTotalFloatingIps": "floating_ips", "maxPersonality": "injected_files",
               "maxPersonalitySize": "injected_file_content_bytes"}
_LEGACY_USED = {"totalSecurityGroupsUsed": Version(2, 36), "totalFloatingIpsUsed": Version(2, 36)}
_IMAGE_META_DROPPED = Version(2, 39)  # the image proxy's maxImageMeta (= the metadata_items limit)


def absolute(limit: dict[str, int], used: dict[str, int], version: Version) -> dict[str, Any]:
    """The ``absolute`` limits at ``version``, from the project's quota limits and usage (by resource name)."""
    out = {k: limit[v] for k, v in _MAX.items()} | {k: used[v] for k, v in _USED.items()}
    for key, resource in _LEGACY_MAX.items():
        value, dropped_in = LEGACY[resource]
        if version < dropped_in:
            out[key] = value
    out.update({key: 0 for key, dropped_in in _LEGACY_USED.items() if version < dropped_in})
    if version < _IMAGE_META_DROPPED:
        out["maxImageMeta"] = limit["metadata_items"]
    return out
