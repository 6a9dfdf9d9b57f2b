"""What a boot asks of the scheduler, as it travels over RPC (plain, versioned dicts)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

SPEC_VERSION = "1.0"


@dataclasses.dataclass(frozen=True)
class Flavor:
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int = 0
    ephemeral_gb: int = 0
    swap_mb: int = 0
    extra_specs: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def disk_gb(self) -> int:
        return self.root_gb + self.ephemeral_gb + (self.swap_mb + 1023) // 1024


@dataclasses.dataclass(frozen=True)
class ServerGroup:
    policy: str  # affinity | anti-affinity | soft-affinity | soft-anti-affinity
    hosts: tuple[str, ...] = ()  # the host of each member already placed (a host once per member)
    max_per_host: int = 1  # anti-affinity's rules.max_server_per_host


@dataclasses.dataclass(frozen=True)
class RequestSpec:
    flavor: Flavor
    instance_uuids: tuple[str, ...] = ()
    project_id: str = ""
    user_id: str = ""
    image_properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    availability_zone: str | None = None
    force_host: str | None = None  # admin "zone:host"
    force_node: str | None = None
    ignore_hosts: tuple[str, ...] = ()  # hosts a moving instance must leave
    server_group: ServerGroup | None = None
    region: str | None = None  # kept for multi-region placement

    def to_dict(self) -> dict[str, Any]:
        body = dataclasses.asdict(self)
        body["flavor"]["extra_specs"] = dict(self.flavor.extra_specs)
        body["image_properties"] = dict(self.image_properties)
        body["instance_uuids"] = list(self.instance_uuids)
        body["ignore_hosts"] = list(self.ignore_hosts)
        if self.server_group is not None:
            body["server_group"]["hosts"] = list(self.server_group.hosts)
        body["version"] = SPEC_VERSION
        return body

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> RequestSpec:
        flavor = dict(body["flavor"])
        group = body.get("server_group")
        return cls(
            flavor=Flavor(**{**flavor, "extra_specs": dict(flavor.get("extra_specs") or {})}),
            instance_uuids=tuple(body.get("instance_uuids") or ()),
            project_id=body.get("project_id", ""), user_id=body.get("user_id", ""),
            image_properties=dict(body.get("image_properties") or {}),
            availability_zone=body.get("availability_zone"), force_host=body.get("force_host"),
            force_node=body.get("force_node"), ignore_hosts=tuple(body.get("ignore_hosts") or ()),
            server_group=ServerGroup(group["policy"], tuple(group.get("hosts") or ()),
                                     int(group.get("max_per_host") or 1)) if group else None,
            region=body.get("region"),
        )
