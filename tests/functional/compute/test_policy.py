"""Who may do what: a role granted the os-services rules is an operator of services, not an admin.

The cloud runs with a policy file that grants the ``os-services`` rules to an
``ops`` role. Holding it must not open other projects' quotas, other users'
keypairs or other projects' private flavors: those follow their own rules and
the ``context_is_admin`` rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests import fixtures
from tests.functional.compute import conftest

OPS_RULES = {f"os_compute_api:os-services:{name}": "role:admin or role:ops" for name in ("list", "update", "delete")}


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory) -> Iterator[conftest.ComputeCloud]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("compute-policy")
    policy_file = tmp / "compute-policy.yaml"
    policy_file.write_text("".join(f'"{rule}": "{check}"\n' for rule, check in OPS_RULES.items()))
    with fixtures.backend_config(request.param, str(tmp)) as backend:
        extra = {**conftest.CONFIG, **backend, "oslo_policy": {"policy_file": str(policy_file)}}
        yield from conftest._cloud(tmp, extra)


def _api(cloud: conftest.ComputeCloud, creds: Any = None) -> tuple[str, dict[str, str]]:
    token = cloud.connection(creds).session.get_token()
    return (f"{cloud.url('compute-api')}/v2.1",
            {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.90"})


def test_a_services_operator_is_not_an_admin(cloud: conftest.ComputeCloud) -> None:
    admin = cloud.connection()
    if admin.identity.find_role("ops") is None:
        admin.identity.create_role(name="ops")
    owner = cloud.new_user(roles=("member", "reader"), prefix="owner")
    operator = cloud.new_user(roles=("member", "reader", "ops"), prefix="operator")
    base, owner_headers = _api(cloud, owner)
    key = requests.post(f"{base}/os-keypairs", json={"keypair": {"name": "mine"}}, headers=owner_headers, timeout=10)
    assert key.status_code == 201, key.text
    private = admin.compute.create_flavor(name=f"private-{uuid.uuid4().hex[:6]}", ram=64, vcpus=1, disk=0,
                                          is_public=False)

    others = {  # requests about the owner's project and user, with the status an admin gets
        ("GET", f"/os-quota-sets/{owner.project_id}"): 200,
        ("GET", f"/os-quota-sets/{owner.project_id}/detail"): 200,
        ("PUT", f"/os-quota-sets/{owner.project_id}"): 200,
        ("GET", f"/limits?tenant_id={owner.project_id}"): 200,
        ("GET", f"/os-simple-tenant-usage/{owner.project_id}"): 200,
        ("GET", f"/os-keypairs?user_id={owner.user_id}"): 200,
        ("GET", f"/os-keypairs/mine?user_id={owner.user_id}"): 200,
        ("GET", "/os-server-groups?all_projects=true"): 200,
        ("GET", f"/flavors/{private.id}"): 200,  # private flavors are seen by admins (context_is_admin) only
    }
    _, ops_headers = _api(cloud, operator)
    assert requests.get(f"{base}/os-services", headers=ops_headers, timeout=10).status_code == 200  # the grant works
    for (method, path), _ in others.items():
        body = {"quota_set": {"instances": 5}} if method == "PUT" else None
        denied = requests.request(method, f"{base}{path}", json=body, headers=ops_headers, timeout=10)
        assert denied.status_code in (403, 404), (method, path, denied.status_code, denied.text)
    assert requests.get(f"{base}/os-keypairs/mine", params={"user_id": owner.user_id}, headers=ops_headers,
                        timeout=10).status_code == 403
    assert requests.delete(f"{base}/os-keypairs/mine", params={"user_id": owner.user_id}, headers=ops_headers,
                           timeout=10).status_code == 403
    made_for_owner = requests.post(f"{base}/os-keypairs", json={"keypair": {"name": "planted",
                                                                            "user_id": owner.user_id}},
                                   headers=ops_headers, timeout=10)
    assert made_for_owner.status_code == 403

    _, admin_headers = _api(cloud)
    for (method, path), status in others.items():
        body = {"quota_set": {"instances": 5}} if method == "PUT" else None
        allowed = requests.request(method, f"{base}{path}", json=body, headers=admin_headers, timeout=10)
        assert allowed.status_code == status, (method, path, allowed.status_code, allowed.text)
    listed = requests.get(f"{base}/os-keypairs", params={"user_id": owner.user_id}, headers=admin_headers,
                          timeout=10).json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == ["mine"]
    # The owner still manages their own.
    assert requests.get(f"{base}/os-quota-sets/{owner.project_id}", headers=owner_headers,
                        timeout=10).json()["quota_set"]["instances"] == 5
    assert requests.delete(f"{base}/os-keypairs/mine", headers=owner_headers, timeout=10).status_code == 204
    admin.compute.delete_flavor(private)


def test_zero_disk_flavors_boot_image_backed_servers_for_admins_only(cloud: conftest.ComputeCloud) -> None:
    """Nova's ``servers:create:zero_disk_flavor``: a member's image-backed boot on a flavor without a root disk
    (whose disk would grow to any image's size, past every quota) is 403; an admin's is accepted."""
    admin = cloud.connection()
    image = admin.image.create_image(name=f"zd-{uuid.uuid4().hex[:6]}", disk_format="raw", container_format="bare",
                                     data=b"\1" * 4096, visibility="public")
    flavor = admin.compute.create_flavor(name=f"zero-{uuid.uuid4().hex[:6]}", ram=64, vcpus=1, disk=0)
    member = cloud.new_user(roles=("member", "reader"), prefix="zerodisk")
    server = {"server": {"name": "zd", "imageRef": image.id, "flavorRef": flavor.id, "networks": "none"}}
    base, headers = _api(cloud, member)
    refused = requests.post(f"{base}/servers", json=server, headers=headers, timeout=30)
    assert refused.status_code == 403, refused.text
    assert "Only volume-backed servers are allowed for flavors with zero disk" in refused.json()["forbidden"]["message"]
    assert requests.get(f"{base}/servers", headers=headers, timeout=30).json()["servers"] == []  # nothing made
    base, headers = _api(cloud)
    made = requests.post(f"{base}/servers", json=server, headers=headers, timeout=30)
    assert made.status_code == 202, made.text
    conftest.wait_for_status(admin, made.json()["server"]["id"], "ACTIVE")
    admin.compute.delete_server(made.json()["server"]["id"])
