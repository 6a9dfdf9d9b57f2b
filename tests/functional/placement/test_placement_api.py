"""Placement through osc-placement (the `openstack resource ...` commands) and direct HTTP."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from tests.functional.cloud import Cloud
from tests.functional.placement.conftest import placement_client

COMPUTE_INVENTORY = {"VCPU": {"total": 8, "allocation_ratio": 1.0}, "MEMORY_MB": {"total": 16384},
                     "DISK_GB": {"total": 100}}


def _provider(cloud: Cloud, inventory: dict[str, Any] | None = None, name: str | None = None) -> str:
    api = placement_client(cloud)
    rp = api.post("/resource_providers", json={"name": name or f"host-{uuid.uuid4().hex[:8]}"}).json()
    resp = api.put(f"/resource_providers/{rp['uuid']}/inventories", json={
        "resource_provider_generation": rp["generation"], "inventories": inventory or COMPUTE_INVENTORY})
    assert resp.status_code == 200, resp.text
    return str(rp["uuid"])


def _osc(cloud: Cloud, *args: str, version: str = "1.39") -> Any:
    return cloud.openstack("--os-placement-api-version", version, *args)


def test_osc_placement_provider_inventory_trait_candidates(cloud: Cloud) -> None:
    name = f"node-{uuid.uuid4().hex[:8]}"
    rp = _osc(cloud, "resource", "provider", "create", name)
    assert rp["name"] == name and rp["generation"] == 0
    listed = _osc(cloud, "resource", "provider", "list", "--name", name)
    assert [p["uuid"] for p in listed] == [rp["uuid"]]
    _osc(cloud, "resource", "provider", "inventory", "set", rp["uuid"], "--resource", "VCPU=16",
         "--resource", "MEMORY_MB=32768", "--resource", "VCPU:allocation_ratio=2.0")
    inv = {row["resource_class"]: row for row in _osc(cloud, "resource", "provider", "inventory", "list", rp["uuid"])}
    assert inv["VCPU"]["total"] == 16 and inv["VCPU"]["allocation_ratio"] == 2.0
    cloud.openstack("--os-placement-api-version", "1.39", "trait", "create", "CUSTOM_FAST_DISK", json_output=False)
    _osc(cloud, "resource", "provider", "trait", "set", rp["uuid"], "--trait", "CUSTOM_FAST_DISK",
         "--trait", "HW_CPU_X86_AVX2")
    traits = {t["name"] for t in _osc(cloud, "resource", "provider", "trait", "list", rp["uuid"])}
    assert traits == {"CUSTOM_FAST_DISK", "HW_CPU_X86_AVX2"}
    found = _osc(cloud, "allocation", "candidate", "list", "--resource", "VCPU=20", "--resource", "MEMORY_MB=1024",
                 "--required", "CUSTOM_FAST_DISK")
    assert rp["uuid"] in {row["resource provider"] for row in found}
    none = _osc(cloud, "allocation", "candidate", "list", "--resource", "VCPU=40")  # 16 * 2.0 = 32 < 40
    assert rp["uuid"] not in {row["resource provider"] for row in none}
    cloud.openstack("resource", "provider", "delete", rp["uuid"], json_output=False)


def test_version_discovery_and_microversion_gating(cloud: Cloud) -> None:
    api = placement_client(cloud)
    root = api.get("/").json()["versions"][0]
    assert root["min_version"] == "1.0" and root["max_version"] == "1.39"
    old = placement_client(cloud, "1.0")
    created = old.post("/resource_providers", json={"name": f"old-{uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201 and not created.content and "/resource_providers/" in created.headers["Location"]
    assert old.get("/allocation_candidates?resources=VCPU:1").status_code == 404
    too_new = placement_client(cloud, "1.99").get("/resource_providers")
    assert too_new.status_code == 406


def test_allocations_generations_and_usages(cloud: Cloud) -> None:
    api = placement_client(cloud)
    rp = _provider(cloud)
    consumer, project, user = str(uuid.uuid4()), uuid.uuid4().hex, uuid.uuid4().hex
    body = {"allocations": {rp: {"resources": {"VCPU": 2, "MEMORY_MB": 2048}}}, "project_id": project,
            "user_id": user, "consumer_generation": None, "consumer_type": "INSTANCE"}
    assert api.put(f"/allocations/{consumer}", json=body).status_code == 204
    got = api.get(f"/allocations/{consumer}").json()
    assert got["allocations"][rp]["resources"] == {"VCPU": 2, "MEMORY_MB": 2048}
    assert got["consumer_generation"] == 0 and got["project_id"] == project
    # A stale consumer generation is refused with placement's error code.
    stale = api.put(f"/allocations/{consumer}", json={**body, "consumer_generation": None})
    assert stale.status_code == 409 and stale.json()["errors"][0]["code"] == "placement.concurrent_update"
    usages = api.get(f"/resource_providers/{rp}/usages").json()["usages"]
    assert usages["VCPU"] == 2 and usages["DISK_GB"] == 0
    assert api.get(f"/usages?project_id={project}").json()["usages"] == {"VCPU": 2, "MEMORY_MB": 2048}
    # Shrinking inventory below what is allocated is a 409 that says why.
    gen = api.get(f"/resource_providers/{rp}").json()["generation"]
    shrink = api.put(f"/resource_providers/{rp}/inventories/VCPU",
                     json={"total": 1, "resource_provider_generation": gen})
    assert shrink.status_code == 409 and "allocated" in shrink.json()["errors"][0]["detail"]
    # A stale provider generation is refused.
    stale_rp = api.put(f"/resource_providers/{rp}/inventories/VCPU",
                       json={"total": 4, "resource_provider_generation": gen - 1})
    assert stale_rp.json()["errors"][0]["code"] == "placement.concurrent_update"
    over = api.put(f"/allocations/{uuid.uuid4()}", json={**body, "allocations": {rp: {"resources": {"VCPU": 7}}}})
    assert over.status_code == 409 and "capacity" in over.json()["errors"][0]["detail"]
    assert api.delete(f"/allocations/{consumer}").status_code == 204
    assert api.get(f"/resource_providers/{rp}/usages").json()["usages"]["VCPU"] == 0


def test_racing_claims_never_overcommit(cloud: Cloud) -> None:
    rp = _provider(cloud, {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 4096}})
    results: list[int] = []
    barrier = threading.Barrier(12)

    # Authenticate one by one before the race: twelve logins at once would meet identity's password-hash gate.
    clients = [placement_client(cloud) for _ in range(12)]
    for api in clients:
        api.get("/")

    def claim(api: Any) -> None:
        barrier.wait()
        resp = api.put(f"/allocations/{uuid.uuid4()}", json={
            "allocations": {rp: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}}, "project_id": "p", "user_id": "u",
            "consumer_generation": None, "consumer_type": "INSTANCE"})
        results.append(resp.status_code)

    threads = [threading.Thread(target=claim, args=(api,)) for api in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [204] * 4 + [409] * 8
    usages = placement_client(cloud).get(f"/resource_providers/{rp}/usages").json()["usages"]
    assert usages == {"VCPU": 4, "MEMORY_MB": 2048}


def test_candidates_filters_granular_groups_and_limit(cloud: Cloud) -> None:
    api = placement_client(cloud)
    agg = str(uuid.uuid4())
    a, b = _provider(cloud), _provider(cloud)
    gen = api.get(f"/resource_providers/{a}").json()["generation"]
    assert api.put(f"/resource_providers/{a}/aggregates",
                   json={"aggregates": [agg], "resource_provider_generation": gen}).status_code == 200
    found = api.get(f"/allocation_candidates?resources=VCPU:1&member_of={agg}").json()
    assert list(found["provider_summaries"]) == [a]
    summary = found["provider_summaries"][a]
    assert summary["resources"]["VCPU"] == {"capacity": 8, "used": 0} and "DISK_GB" in summary["resources"]
    assert summary["root_provider_uuid"] == a and summary["parent_provider_uuid"] is None
    listed = api.get(f"/resource_providers?member_of={agg}&resources=VCPU:8").json()["resource_providers"]
    assert [p["uuid"] for p in listed] == [a]
    assert api.get(f"/resource_providers?member_of={agg}&resources=VCPU:9").json()["resource_providers"] == []
    not_a = api.get(f"/allocation_candidates?resources=VCPU:1&member_of=!{agg}").json()
    assert a not in not_a["provider_summaries"] and b in not_a["provider_summaries"]
    limited = api.get("/allocation_candidates?resources=VCPU:1&limit=1").json()
    assert len(limited["allocation_requests"]) == 1
    # Two granular groups on a tree: a child provider with its own inventory.
    child = api.post("/resource_providers", json={"name": f"numa-{uuid.uuid4().hex[:6]}",
                                                   "parent_provider_uuid": b}).json()
    api.put(f"/resource_providers/{child['uuid']}/inventories", json={
        "resource_provider_generation": child["generation"], "inventories": {"PCPU": {"total": 4}}})
    both = api.get("/allocation_candidates?resources1=DISK_GB:10&resources2=PCPU:2&group_policy=isolate"
                   f"&in_tree={b}").json()
    assert both["allocation_requests"] == [{
        "allocations": {b: {"resources": {"DISK_GB": 10}}, child["uuid"]: {"resources": {"PCPU": 2}}},
        "mappings": {"1": [b], "2": [child["uuid"]]}}]


def test_bad_input_is_a_clear_400(cloud: Cloud) -> None:
    api = placement_client(cloud)
    cases = {
        "/allocation_candidates?resources=NOT_A_CLASS:1": "NOT_A_CLASS",
        "/allocation_candidates?resources=VCPU:1&required=CUSTOM_NOPE": "CUSTOM_NOPE",
        "/allocation_candidates?resources=VCPU": "resources",
        "/allocation_candidates?resources=VCPU:1&bogus=1": "bogus",
        "/allocation_candidates?resources1=VCPU:1&resources2=MEMORY_MB:1": "group_policy",
    }
    for path, word in cases.items():
        resp = api.get(path)
        assert resp.status_code == 400, (path, resp.text)
        assert word in resp.json()["errors"][0]["detail"], (path, resp.text)
    rp = api.post("/resource_providers", json={"name": f"bad-{uuid.uuid4().hex[:6]}"}).json()
    resp = api.put(f"/resource_providers/{rp['uuid']}/inventories", json={
        "resource_provider_generation": 0, "inventories": {"CUSTOM_UNKNOWN": {"total": 1}}})
    assert resp.status_code == 400 and "CUSTOM_UNKNOWN" in resp.json()["errors"][0]["detail"]
    assert api.post("/resource_providers", json={"name": rp["name"]}).status_code == 409
    assert api.put("/traits/NOT_CUSTOM").status_code == 400
    assert api.get(f"/resource_providers/{uuid.uuid4()}").status_code == 404


def test_placement_is_for_admins_and_services(cloud: Cloud) -> None:
    from keystoneauth1 import adapter
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    member = cloud.new_user(["member"])
    auth = v3.Password(auth_url=cloud.auth_url, username=member.username, password=member.password,
                       user_domain_id="default", project_name=member.project_name, project_domain_id="default")
    api = adapter.Adapter(ks_session.Session(auth=auth), service_type="placement", interface="public",
                          default_microversion="1.39", raise_exc=False)
    for method, path, body in (("GET", "/resource_providers", None),
                               ("POST", "/resource_providers", {"name": "nope"})):
        resp = api.request(path, method, json=body)
        assert resp.status_code == 403, (method, path, resp.text)
        assert resp.json()["errors"][0]["status"] == 403
    assert api.get("/").status_code == 200  # version discovery stays open


def test_deleting_custom_classes_and_traits(cloud: Cloud) -> None:
    """Standard ones are refused (400), unknown ones 404, ones in use 409, unused ones go (204)."""
    api = placement_client(cloud)
    suffix = uuid.uuid4().hex[:8].upper()
    rc, trait = f"CUSTOM_RC_{suffix}", f"CUSTOM_T_{suffix}"
    assert api.delete("/resource_classes/VCPU").status_code == 400
    assert api.delete("/traits/HW_CPU_X86_AVX2").status_code == 400
    assert api.delete(f"/resource_classes/CUSTOM_NONE_{suffix}").status_code == 404
    assert api.delete(f"/traits/CUSTOM_NONE_{suffix}").status_code == 404
    assert api.put(f"/resource_classes/{rc}").status_code == 201
    assert api.put(f"/traits/{trait}").status_code == 201
    rp = _provider(cloud, {rc: {"total": 4}})
    generation = api.get(f"/resource_providers/{rp}").json()["generation"]
    assert api.put(f"/resource_providers/{rp}/traits", json={
        "resource_provider_generation": generation, "traits": [trait]}).status_code == 200
    in_use = api.delete(f"/resource_classes/{rc}")
    assert in_use.status_code == 409 and "inventories" in in_use.text
    in_use = api.delete(f"/traits/{trait}")
    assert in_use.status_code == 409 and "in use" in in_use.text
    assert api.delete(f"/resource_providers/{rp}").status_code == 204
    assert api.delete(f"/resource_classes/{rc}").status_code == 204
    assert api.delete(f"/traits/{trait}").status_code == 204
    assert api.get(f"/traits/{trait}").status_code == 404
