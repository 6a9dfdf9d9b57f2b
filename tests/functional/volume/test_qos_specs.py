"""QoS specs through the volume API (Cinder's ``qos-specs``, Tempest's admin/test_qos.py): create, list, show,
set and unset keys, associations with volume types, delete (forced or not), admins only; and a front-end QoS
spec reaching the attachment's connection_info (``data.qos_specs``), where the compute turns it into ``<iotune>``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.volume.test_volumes import Api


def _name(prefix: str = "qos") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _create(admin: Api, consumer: str | None = "front-end", **specs: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": _name(), **specs}
    if consumer is not None:
        body["consumer"] = consumer
    made = admin.ok("POST", "/qos-specs", {"qos_specs": body}, status=200)
    assert made["links"][0]["rel"] == "self" and made["links"][0]["href"].endswith(
        f"/qos-specs/{made['qos_specs']['id']}")
    return made["qos_specs"]


def _type(admin: Api) -> dict[str, Any]:
    return admin.ok("POST", "/types", {"volume_type": {"name": _name("type")}})["volume_type"]


@pytest.mark.parametrize("consumer", ["front-end", "back-end", "both"])
def test_create_show_list_delete_with_each_consumer(admin: Api, consumer: str) -> None:
    made = _create(admin, consumer, read_iops_sec="2000", total_bytes_sec=1048576)
    assert (made["consumer"], made["specs"]) == (consumer, {"read_iops_sec": "2000", "total_bytes_sec": "1048576"})
    shown = admin.ok("GET", f"/qos-specs/{made['id']}")
    assert shown["qos_specs"] == made and set(shown) == {"qos_specs", "links"}
    assert made in admin.ok("GET", "/qos-specs")["qos_specs"]  # the listing shows the same body as the create
    admin.ok("DELETE", f"/qos-specs/{made['id']}", status=202)
    assert admin.call("GET", f"/qos-specs/{made['id']}").status_code == 404
    assert made not in admin.ok("GET", "/qos-specs")["qos_specs"]


def test_defaults_and_bad_bodies(admin: Api) -> None:
    assert _create(admin, consumer=None)["consumer"] == "back-end"  # Cinder's default consumer
    taken = _create(admin)
    dup = admin.call("POST", "/qos-specs", {"qos_specs": {"name": taken["name"]}})
    assert dup.status_code == 409 and "already exists" in dup.json()["conflictingRequest"]["message"]
    cases: list[tuple[dict[str, Any], str]] = [({"qos_specs": {"consumer": "front-end"}}, "name"),
                        ({"qos_specs": {"name": _name(), "consumer": "middle"}}, "consumer"),
                        ({"qos_specs": {"name": "  "}}, "name"),
                        ({"qos_specs": {"name": _name(), "read_iops_sec": {"x": 1}}}, "read_iops_sec"),
                        ({"specs": {}}, "qos_specs")]
    for body, field in cases:
        resp = admin.call("POST", "/qos-specs", body)
        assert resp.status_code == 400 and field in resp.json()["badRequest"]["message"], (body, resp.text)
    assert admin.call("GET", f"/qos-specs/{uuid.uuid4()}").status_code == 404


def test_set_and_unset_keys(admin: Api) -> None:
    q = _create(admin, read_iops_sec="2000")
    path = f"/qos-specs/{q['id']}"
    assert admin.ok("PUT", path, {"qos_specs": {"iops_bytes": "500"}}) == {"qos_specs": {"iops_bytes": "500"}}
    assert admin.ok("GET", path)["qos_specs"]["specs"] == {"read_iops_sec": "2000", "iops_bytes": "500"}
    admin.ok("PUT", path, {"qos_specs": {"consumer": "both"}})
    assert admin.ok("GET", path)["qos_specs"]["consumer"] == "both"
    admin.ok("PUT", f"{path}/delete_keys", {"keys": ["iops_bytes"]}, status=202)
    assert admin.ok("GET", path)["qos_specs"]["specs"] == {"read_iops_sec": "2000"}
    missing = admin.call("PUT", f"{path}/delete_keys", {"keys": ["read_iops_sec", "nope"]})
    assert missing.status_code == 404 and "nope" in missing.json()["itemNotFound"]["message"]
    assert admin.ok("GET", path)["qos_specs"]["specs"] == {"read_iops_sec": "2000"}  # nothing was removed
    bad: list[dict[str, Any]] = [{"qos_specs": {}}, {"qos_specs": {"consumer": "x"}},
                                 {"qos_specs": {"name": "renamed"}}, {"keys": []}]
    for body in bad:
        target = f"{path}/delete_keys" if "keys" in body else path
        assert admin.call("PUT", target, body).status_code == 400, body
    assert admin.call("PUT", f"/qos-specs/{uuid.uuid4()}", {"qos_specs": {"a": "1"}}).status_code == 404


def test_associate_disassociate_and_forced_delete(admin: Api) -> None:
    q = _create(admin, read_iops_sec="2000")
    path = f"/qos-specs/{q['id']}"
    types = [_type(admin) for _ in range(3)]
    for t in types:
        admin.ok("GET", f"{path}/associate?vol_type_id={t['id']}", status=202)
    found = admin.ok("GET", f"{path}/associations")["qos_associations"]
    assert sorted(a["id"] for a in found) == sorted(t["id"] for t in types)
    assert {a["association_type"] for a in found} == {"volume_type"}
    assert {a["name"] for a in found} == {t["name"] for t in types}
    assert admin.ok("GET", f"/types/{types[0]['id']}")["volume_type"]["qos_specs_id"] == q["id"]
    assert all(t["qos_specs_id"] in (None, q["id"]) for t in admin.ok("GET", "/types")["volume_types"])

    # A type has one QoS specs at a time; query parameters are checked.
    other = _create(admin)
    busy = admin.call("GET", f"/qos-specs/{other['id']}/associate?vol_type_id={types[0]['id']}")
    assert busy.status_code == 400 and "already associated" in busy.json()["badRequest"]["message"]
    assert admin.call("GET", f"{path}/associate").status_code == 400
    assert admin.call("GET", f"{path}/associate?vol_type_id={uuid.uuid4()}").status_code == 404
    assert admin.call("GET", f"/qos-specs/{uuid.uuid4()}/associate?vol_type_id={types[0]['id']}").status_code == 404

    admin.ok("GET", f"{path}/disassociate?vol_type_id={types[0]['id']}", status=202)
    assert admin.ok("GET", f"/types/{types[0]['id']}")["volume_type"]["qos_specs_id"] is None
    assert len(admin.ok("GET", f"{path}/associations")["qos_associations"]) == 2

    in_use = admin.call("DELETE", path)
    assert in_use.status_code == 400 and "force" in in_use.json()["badRequest"]["message"]
    assert admin.call("DELETE", f"{path}?force=False").status_code == 400
    admin.ok("GET", f"{path}/disassociate_all", status=202)
    assert admin.ok("GET", f"{path}/associations")["qos_associations"] == []
    admin.ok("GET", f"{path}/associate?vol_type_id={types[1]['id']}", status=202)
    admin.ok("DELETE", f"{path}?force=True", status=202)  # forced: the association goes with it
    assert admin.ok("GET", f"/types/{types[1]['id']}")["volume_type"]["qos_specs_id"] is None
    for t in types:
        admin.ok("DELETE", f"/types/{t['id']}", status=202)


def test_admins_only(admin: Api, member: Api) -> None:
    q = _create(admin)
    path = f"/qos-specs/{q['id']}"
    for method, target, body in (("GET", "/qos-specs", None), ("POST", "/qos-specs", {"qos_specs": {"name": "m"}}),
                                 ("GET", path, None), ("PUT", path, {"qos_specs": {"a": "1"}}),
                                 ("DELETE", path, None), ("PUT", f"{path}/delete_keys", {"keys": ["a"]}),
                                 ("GET", f"{path}/associations", None),
                                 ("GET", f"{path}/disassociate_all", None)):
        assert member.call(method, target, body).status_code == 403, (method, target)
    # Members see the types, not which QoS specs they have.
    assert all("qos_specs_id" not in t for t in member.ok("GET", "/types")["volume_types"])


def test_front_end_specs_travel_in_the_connection_info(admin: Api, member: Api) -> None:
    """Cinder's data.qos_specs: the type's front-end (or both) specs, per-GiB IOPS scaled by the volume's size;
    None for back-end specs or a type without QoS specs."""
    front = _create(admin, "front-end", total_bytes_sec="10485760", read_iops_sec_per_gb="100",
                    write_iops_sec_per_gb="1", write_iops_sec_per_gb_min="50")
    back = _create(admin, "back-end", total_iops_sec="500")
    connector = {"host": "compute-qos", "initiator": "iqn.2026-12.org.nubis:compute-qos"}

    def connection(qos_id: str | None) -> dict[str, Any]:
        t = _type(admin)
        if qos_id:
            admin.ok("GET", f"/qos-specs/{qos_id}/associate?vol_type_id={t['id']}", status=202)
        vol = member.wait(member.create(2, volume_type=t["id"])["id"], "available")
        made = member.call("POST", "/attachments", {"attachment": {
            "volume_uuid": vol["id"], "instance_uuid": str(uuid.uuid4()), "connector": connector}}, version="3.44")
        assert made.status_code == 200, made.text
        attachment = made.json()["attachment"]
        info = attachment["connection_info"]
        member.call("DELETE", f"/attachments/{attachment['id']}", version="3.44")
        member.ok("DELETE", f"/volumes/{vol['id']}")
        return info

    info = connection(front["id"])
    assert info["driver_volume_type"] == "nbd"
    assert info["data"]["qos_specs"] == {"total_bytes_sec": "10485760", "read_iops_sec": "200",
                                         "write_iops_sec": "50"}
    assert connection(back["id"])["data"]["qos_specs"] is None
    assert connection(None)["data"]["qos_specs"] is None
