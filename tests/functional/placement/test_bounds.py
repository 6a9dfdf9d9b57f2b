"""Numbers past what placement can hold are refused with 400 before any work, never a 500."""

from __future__ import annotations

import uuid

from tests.functional.cloud import Cloud
from tests.functional.placement.conftest import placement_client

BIG = 2**63


def test_huge_numbers_in_bodies_and_queries(cloud: Cloud) -> None:
    client = placement_client(cloud)
    rp = str(uuid.uuid4())
    assert client.post("/resource_providers", json={"name": f"bounds-{rp[:8]}", "uuid": rp}).status_code == 200
    inventories = f"/resource_providers/{rp}/inventories"
    for inventory in ({"total": BIG}, {"total": 8, "reserved": BIG}, {"total": 8, "allocation_ratio": 1e308},
                      {"total": 8, "max_unit": BIG}):
        resp = client.put(inventories, json={"resource_provider_generation": 0, "inventories": {"VCPU": inventory}})
        assert resp.status_code == 400, (inventory, resp.text)
        assert resp.json()["errors"][0]["status"] == 400
    assert client.get(inventories).json()["inventories"] == {}, "a refused inventory was stored"
    resp = client.get(f"/allocation_candidates?resources=VCPU:{BIG}")
    assert resp.status_code == 400 and "resources" in resp.json()["errors"][0]["detail"]
    # A limit past anything the database could return means "no limit": an answer, not an overflow.
    assert client.get(f"/allocation_candidates?resources=VCPU:1&limit={BIG}").status_code == 200
    assert client.get(f"/resource_providers?limit={BIG}").status_code == 200
