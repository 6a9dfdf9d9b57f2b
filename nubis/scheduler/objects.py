"""The scheduler's versioned RPC payloads: the request spec the conductor and the compute API's explain send.

``RequestSpec`` (``nubis.scheduler.request_spec``) stays the frozen dataclass the scheduler
works with; these objects are its wire form from scheduler RPC 1.2 on (before: a plain dict).

Version history:
  RequestSpecObject 1.0, FlavorObject 1.0, ServerGroupObject 1.0 - the fields of RequestSpec 1.0
"""

from __future__ import annotations

from oslo_versionedobjects import fields

from nubis.common import objects
from nubis.scheduler.request_spec import Flavor, RequestSpec, ServerGroup


@objects.NubisObjectRegistry.register
class FlavorObject(objects.NubisObject):
    """The flavor's sizes and extra specs (``request_spec.Flavor``)."""

    VERSION = "1.0"
    # Set by oslo.versionedobjects from ``fields``; declared for the type checker.
    name: str
    vcpus: int
    memory_mb: int
    fields = {
        "name": fields.StringField(),
        "vcpus": fields.IntegerField(),
        "memory_mb": fields.IntegerField(),
        "root_gb": fields.IntegerField(default=0),
        "ephemeral_gb": fields.IntegerField(default=0),
        "swap_mb": fields.IntegerField(default=0),
        "extra_specs": fields.DictOfStringsField(default={}),
    }

    @classmethod
    def of(cls, flavor: Flavor) -> FlavorObject:
        return cls(name=flavor.name, vcpus=flavor.vcpus, memory_mb=flavor.memory_mb, root_gb=flavor.root_gb,
                   ephemeral_gb=flavor.ephemeral_gb, swap_mb=flavor.swap_mb, extra_specs=dict(flavor.extra_specs))

    def to_flavor(self) -> Flavor:
        return Flavor(name=self.name, vcpus=self.vcpus, memory_mb=self.memory_mb,
                      root_gb=self.obj_get("root_gb", 0), ephemeral_gb=self.obj_get("ephemeral_gb", 0),
                      swap_mb=self.obj_get("swap_mb", 0), extra_specs=dict(self.obj_get("extra_specs", {})))


@objects.NubisObjectRegistry.register
class ServerGroupObject(objects.NubisObject):
    """The instance's server group policy and the hosts its placed members are on."""

    VERSION = "1.0"
    policy: str
    fields = {
        "policy": fields.StringField(),
        "hosts": fields.ListOfStringsField(default=[]),
        "max_per_host": fields.IntegerField(default=1),
    }

    @classmethod
    def of(cls, group: ServerGroup) -> ServerGroupObject:
        return cls(policy=group.policy, hosts=list(group.hosts), max_per_host=group.max_per_host)

    def to_group(self) -> ServerGroup:
        return ServerGroup(self.policy, tuple(self.obj_get("hosts", ())), int(self.obj_get("max_per_host", 1)))


@objects.NubisObjectRegistry.register
class RequestSpecObject(objects.NubisObject):
    """What a boot or a move asks of the scheduler (``request_spec.RequestSpec``)."""

    VERSION = "1.0"
    flavor: FlavorObject
    fields = {
        "flavor": fields.ObjectField("FlavorObject"),
        "instance_uuids": fields.ListOfStringsField(default=[]),
        "project_id": fields.StringField(default=""),
        "user_id": fields.StringField(default=""),
        "image_properties": objects.JSONField(default={}),
        "availability_zone": objects.nullable_string_field(),
        "force_host": objects.nullable_string_field(),
        "force_node": objects.nullable_string_field(),
        "ignore_hosts": fields.ListOfStringsField(default=[]),
        "server_group": fields.ObjectField("ServerGroupObject", nullable=True, default=None),
        "region": objects.nullable_string_field(),
    }
    # Which child version each version of this object carries (OVO backports children by it).
    obj_relationships = {
        "flavor": [("1.0", "1.0")],
        "server_group": [("1.0", "1.0")],
    }

    @classmethod
    def of(cls, spec: RequestSpec) -> RequestSpecObject:
        return cls(
            flavor=FlavorObject.of(spec.flavor), instance_uuids=list(spec.instance_uuids),
            project_id=spec.project_id, user_id=spec.user_id, image_properties=dict(spec.image_properties),
            availability_zone=spec.availability_zone, force_host=spec.force_host, force_node=spec.force_node,
            ignore_hosts=list(spec.ignore_hosts),
            server_group=ServerGroupObject.of(spec.server_group) if spec.server_group else None,
            region=spec.region)

    def to_spec(self) -> RequestSpec:
        group = self.obj_get("server_group")
        return RequestSpec(
            flavor=self.flavor.to_flavor(), instance_uuids=tuple(self.obj_get("instance_uuids", ())),
            project_id=self.obj_get("project_id", ""), user_id=self.obj_get("user_id", ""),
            image_properties=dict(self.obj_get("image_properties", {})),
            availability_zone=self.obj_get("availability_zone"), force_host=self.obj_get("force_host"),
            force_node=self.obj_get("force_node"), ignore_hosts=tuple(self.obj_get("ignore_hosts", ())),
            server_group=group.to_group() if group is not None else None, region=self.obj_get("region"))
