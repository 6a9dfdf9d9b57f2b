"""Snapshot metadata (Cinder's ``/snapshots/{id}/metadata``, Tempest's test_snapshot_metadata.py): set at create,
merged, replaced, one item read, changed and deleted; shown in the snapshot; the owner's project only."""

from __future__ import annotations

import uuid

from tests import fixtures
from tests.functional.cloud import Cloud
from tests.functional.volume.test_volumes import Api


def test_snapshot_metadata_crud(cloud: Cloud, member: Api) -> None:
    vol = member.wait(member.create(1)["id"], "available")
    made = member.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"], "metadata": {"tier": "gold"}}},
                     status=202)["snapshot"]
    assert made["metadata"] == {"tier": "gold"}
    snap = f"/snapshots/{made['id']}"
    fixtures.wait_until(lambda: member.ok("GET", snap)["snapshot"]["status"] == "available", timeout=30,
                        interval=0.1, what="the snapshot")
    meta = f"{snap}/metadata"
    assert member.ok("GET", meta) == {"metadata": {"tier": "gold"}}

    merged = member.ok("POST", meta, {"metadata": {"key1": "value1", "key2": "value2"}})
    assert merged == {"metadata": {"tier": "gold", "key1": "value1", "key2": "value2"}}
    replaced = member.ok("PUT", meta, {"metadata": {"key3": "value3", "key1": "other"}})
    assert replaced == {"metadata": {"key3": "value3", "key1": "other"}}
    assert member.ok("GET", snap)["snapshot"]["metadata"] == {"key3": "value3", "key1": "other"}
    assert member.ok("GET", "/snapshots/detail")["snapshots"][0]["metadata"] == {"key3": "value3", "key1": "other"}

    assert member.ok("GET", f"{meta}/key3") == {"meta": {"key3": "value3"}}
    assert member.ok("PUT", f"{meta}/key3", {"meta": {"key3": "changed"}}) == {"meta": {"key3": "changed"}}
    assert member.call("DELETE", f"{meta}/key1").status_code == 200
    assert member.ok("GET", meta) == {"metadata": {"key3": "changed"}}

    assert member.call("GET", f"{meta}/key1").status_code == 404
    assert member.call("DELETE", f"{meta}/key1").status_code == 404
    assert member.call("PUT", f"{meta}/key3", {"meta": {"other": "x"}}).status_code == 400  # body and URL differ
    assert member.call("PUT", f"{meta}/key3", {"meta": {"key3": "a", "b": "c"}}).status_code == 400
    assert member.call("POST", meta, {"metadata": {"k": 1}}).status_code == 400
    assert member.call("PUT", meta, {"meta": {}}).status_code == 400
    assert member.call("POST", meta, {"metadata": {f"k{i}": "v" for i in range(129)}}).status_code == 413
    assert member.call("GET", f"/snapshots/{uuid.uuid4()}/metadata").status_code == 404

    # Another project's member sees no such snapshot; a reader of the project reads but cannot change it.
    other = Api(cloud, cloud.new_user(["member", "reader"]))
    assert other.call("GET", meta).status_code == 404
    assert other.call("POST", meta, {"metadata": {"a": "b"}}).status_code in (403, 404)
    reader = Api(cloud, cloud.new_user(["reader"], project_id=member.project_id))
    assert reader.ok("GET", meta) == {"metadata": {"key3": "changed"}}
    assert reader.call("PUT", meta, {"metadata": {}}).status_code == 403
    assert reader.call("DELETE", f"{meta}/key3").status_code == 403

    member.ok("DELETE", snap)
    member.gone(snap)
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")
