"""The request spec's versioned wire form, and the backport rule every Nubis payload follows."""

from __future__ import annotations

from typing import Any, ClassVar

from oslo_versionedobjects import fields

from nubis.common import objects
from nubis.scheduler.objects import RequestSpecObject
from nubis.scheduler.request_spec import Flavor, RequestSpec, ServerGroup

SPEC = RequestSpec(flavor=Flavor("m1", 2, 512, 10, 1, 512, {"hw:mem_page_size": "large"}),
                   instance_uuids=("u-1", "u-2"), project_id="p1", user_id="u1",
                   image_properties={"hw_disk_bus": "virtio", "min_ram": 128, "secure": True},
                   availability_zone="az1", force_host="h1", ignore_hosts=("h9",),
                   server_group=ServerGroup("anti-affinity", ("h2",), 2), region="r1")


def test_a_spec_survives_the_wire() -> None:
    primitive = RequestSpecObject.of(SPEC).obj_to_primitive()
    assert primitive["nubis_object.name"] == "RequestSpecObject"
    assert primitive["nubis_object.version"] == "1.0"
    assert RequestSpecObject.obj_from_primitive(primitive).to_spec() == SPEC


def test_a_spec_without_a_group_survives_the_wire() -> None:
    spec = RequestSpec(flavor=Flavor("tiny", 1, 64))
    assert RequestSpecObject.obj_from_primitive(RequestSpecObject.of(spec).obj_to_primitive()).to_spec() == spec


@objects.NubisObjectRegistry.register_if(False)
class _Probe(objects.NubisObject):
    """A payload at 1.1 that added ``hint`` (the rule is generic; RequestSpecObject has no 1.1 yet)."""

    VERSION = "1.1"
    fields: ClassVar[dict[str, Any]] = {"name": fields.StringField(), "hint": fields.StringField(nullable=True)}
    FIELDS_SINCE: ClassVar[dict[str, str]] = {"hint": "1.1"}


def test_sending_to_an_older_service_drops_the_fields_it_does_not_know() -> None:
    probe = _Probe(name="a", hint="b")
    old = probe.obj_to_primitive(target_version="1.0")
    assert old["nubis_object.version"] == "1.0"
    assert old["nubis_object.data"] == {"name": "a"}
    assert probe.obj_to_primitive()["nubis_object.data"] == {"name": "a", "hint": "b"}


def test_receiving_from_an_older_service_leaves_new_fields_at_their_default() -> None:
    received = _Probe(name="a")  # what obj_from_primitive builds from a 1.0 primitive
    assert received.obj_get("hint", "none given") == "none given"
