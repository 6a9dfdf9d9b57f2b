"""Quota sets and quota class sets, per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version

# Resources the API still shows before the microversion that dropped them, with their defaults (a value an
# admin set is stored and shown instead; none is enforced).
LEGACY = {"injected_files": (5, Version(2, 57)), "injected_file_content_bytes": (10240, Version(2, 57)),
          "injected_file_path_bytes": (255, Version(2, 57)), "floating_ips": (-1, Version(2, 36)),
          "fixed_ips": (-1, Version(2, 36)), "security_groups": (-1, Version(2, 36)),
          "security_group_rules": (-1, Version(2, 36))}


def legacy_shown(version: Version) -> list[str]:
    """The legacy resources a request at ``version`` still sees (and may send)."""
    return [name for name, (_, dropped_in) in LEGACY.items() if version < dropped_in]


def quota_set(limits: dict[str, int], version: Version, usage: dict[str, int] | None = None) -> dict[str, Any]:
    """Limits as the API shows them at ``version``; with ``usage``, the detailed form."""
    out: dict[str, Any] = {name: limit for name, limit in limits.items() if name not in LEGACY}
    for name in legacy_shown(version):
        out[name] = limits.get(name, LEGACY[name][0])
    if usage is not None:
        out = {name: {"limit": limit, "in_use": usage.get(name, 0), "reserved": 0} for name, limit in out.items()}
    return out
