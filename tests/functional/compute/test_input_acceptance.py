"""Input Nova accepts (and must be accepted here), and the matching refusals."""

from __future__ import annotations

import uuid

from tests.functional.compute.conftest import ComputeCloud, wait_for_status
from tests.functional.compute.test_api_bounds import Api, _admin, _bad_request


def _names(api: Api, **params: str) -> set[str]:
    resp = api.call("GET", "/flavors", **params)
    assert resp.status_code == 200, resp.text
    return {f["name"] for f in resp.json()["flavors"]}


def test_flavor_ids_given_as_numbers_and_the_is_public_filter(cloud: ComputeCloud) -> None:
    api = _admin(cloud)
    number = 900000 + uuid.uuid4().int % 99999
    made = api.call("POST", "/flavors", {"flavor": {"name": f"num-{number}", "id": number, "ram": 512, "vcpus": 1,
                                                    "disk": 1}})
    assert made.status_code == 200, made.text
    assert made.json()["flavor"]["id"] == str(number)
    assert api.call("GET", f"/flavors/{number}").json()["flavor"]["name"] == f"num-{number}"

    private = api.call("POST", "/flavors", {"flavor": {"name": f"priv-{number}", "ram": 512, "vcpus": 1, "disk": 1,
                                                       "os-flavor-access:is_public": False}}).json()["flavor"]
    public_name, private_name = f"num-{number}", f"priv-{number}"
    for value in ("None", "none", "NONE"):
        assert {public_name, private_name} <= _names(api, is_public=value)
    for value in ("true", "True", "TRUE", "1", "yes"):
        names = _names(api, is_public=value)
        assert public_name in names and private_name not in names
    for value in ("false", "False", "FALSE", "0", "no"):
        names = _names(api, is_public=value)
        assert private_name in names and public_name not in names
    names = _names(api)
    assert public_name in names and private_name not in names
    for value in ("maybe", "", "tru"):
        _bad_request(api.call("GET", "/flavors", is_public=value), "is_public")

    # The access list is a private flavor's: a public one has none (404).
    assert api.call("GET", f"/flavors/{private['id']}/os-flavor-access").json() == {"flavor_access": []}
    gone = api.call("GET", f"/flavors/{number}/os-flavor-access")
    assert gone.status_code == 404 and "public" in gone.json()["itemNotFound"]["message"]
    for flavor_id in (str(number), private["id"]):
        assert api.call("DELETE", f"/flavors/{flavor_id}").status_code == 202


def test_quota_values_given_as_numeric_strings(cloud: ComputeCloud) -> None:
    api = _admin(cloud, "2.1")
    project = cloud.new_user().project_id
    resp = api.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"ram": "5120", "instances": "-1",
                                                                       "injected_files": "3"}})
    assert resp.status_code == 200, resp.text
    quota = api.call("GET", f"/os-quota-sets/{project}").json()["quota_set"]
    assert (quota["ram"], quota["instances"]) == (5120, -1)
    _bad_request(api.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"ram": "5120MB"}}), "ram")
    api.call("DELETE", f"/os-quota-sets/{project}")


def test_flavor_is_public_given_as_a_string(cloud: ComputeCloud) -> None:
    """Nova's boolean takes "True", "false", "yes", "0", ... for ``os-flavor-access:is_public`` on create (as
    clients such as tempest send it); anything else is a 400 naming the field."""
    api = _admin(cloud)
    for value, public in (("True", True), ("False", False), ("yes", True), ("0", False), (True, True)):
        name = f"s-{uuid.uuid4().hex[:8]}"
        made = api.call("POST", "/flavors", {"flavor": {"name": name, "ram": 64, "vcpus": 1, "disk": 0,
                                                        "os-flavor-access:is_public": value}})
        assert made.status_code == 200, (value, made.text)
        assert made.json()["flavor"]["os-flavor-access:is_public"] is public
    _bad_request(api.call("POST", "/flavors", {"flavor": {"name": "bad", "ram": 64, "vcpus": 1, "disk": 0,
                                                          "os-flavor-access:is_public": "maybe"}}),
                 "is_public")


def test_an_unknown_status_filter(cloud: ComputeCloud) -> None:
    """Listing servers with a status no server can have: an admin gets an empty list, others a 400 (Nova)."""
    assert _admin(cloud).call("GET", "/servers/detail", status="invalid_status").json() == {"servers": []}
    member = Api(cloud, cloud.connection(cloud.new_user()).session.get_token())
    _bad_request(member.call("GET", "/servers/detail", status="invalid_status"), "status")
    old = Api(cloud, cloud.connection(cloud.new_user()).session.get_token(), "2.37")
    listed = old.call("GET", "/servers", status="invalid_status")
    assert listed.json() == {"servers": []}  # before 2.38: nothing matches, no error
    # Nova sends the request id under its own name too.
    assert listed.headers["x-compute-request-id"] == listed.headers["x-openstack-request-id"]


def test_legacy_quota_values_are_kept(cloud: ComputeCloud) -> None:
    """Before 2.36 (2.57 for file injection) the network and injection quotas are still part of a quota set: a
    value an admin sets is stored and shown back (never enforced), as Nova does."""
    api = _admin(cloud, "2.1")
    original = api.call("GET", "/os-quota-class-sets/default").json()["quota_class_set"]
    assert original["floating_ips"] == -1 and original["injected_files"] == 5
    changed = {"floating_ips": 99, "security_groups": 105, "injected_files": 9, "instances": original["instances"]}
    updated = api.call("PUT", "/os-quota-class-sets/default", {"quota_class_set": changed})
    assert updated.status_code == 200, updated.text
    try:
        for body in (updated.json()["quota_class_set"],
                     api.call("GET", "/os-quota-class-sets/default").json()["quota_class_set"]):
            assert {k: body[k] for k in changed} == changed
        modern = _admin(cloud, "2.57").call("GET", "/os-quota-class-sets/default").json()["quota_class_set"]
        assert "floating_ips" not in modern and "injected_files" not in modern
    finally:
        api.call("PUT", "/os-quota-class-sets/default", {"quota_class_set": {
            k: original[k] for k in ("floating_ips", "security_groups", "injected_files")}})


def test_usage_of_an_empty_project_id_is_not_found(cloud: ComputeCloud) -> None:
    """``GET /os-simple-tenant-usage/`` names a project with an empty id: 404 as in Nova, not every project's."""
    api = _admin(cloud)
    assert api.call("GET", "/os-simple-tenant-usage/").status_code == 404
    assert "tenant_usages" in api.call("GET", "/os-simple-tenant-usage").json()


def test_a_public_key_that_does_not_load_is_refused(cloud: ComputeCloud) -> None:
    """An imported key must be a real key of its stated type (Nova loads it): "ssh-rsa JUNK" is a 400."""
    api = _admin(cloud, "2.1")
    _bad_request(api.call("POST", "/os-keypairs", {"keypair": {"name": "junk", "public_key": "ssh-rsa JUNK n@u"}}),
                 "Keypair data is invalid")
    made = api.call("POST", "/os-keypairs", {"keypair": {"name": f"gen-{uuid.uuid4().hex[:6]}"}}).json()["keypair"]
    again = api.call("POST", "/os-keypairs", {"keypair": {"name": f"imp-{uuid.uuid4().hex[:6]}",
                                                          "public_key": made["public_key"]}})
    assert again.status_code == 200 and again.json()["keypair"]["fingerprint"] == made["fingerprint"]


def test_server_metadata_over_the_quota_is_refused_at_boot(cloud: ComputeCloud, image_id: str,
                                                           flavor_id: str) -> None:
    """More metadata items than ``maxServerMeta`` in a boot request: 403 before anything is built (Nova)."""
    api = _admin(cloud)
    limit = api.call("GET", "/limits").json()["limits"]["absolute"]["maxServerMeta"]
    body = {"server": {"name": "meta", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none",
                       "metadata": {str(i): "v" for i in range(limit + 1)}}}
    resp = api.call("POST", "/servers", body)
    assert resp.status_code == 403 and "metadata" in resp.text, resp.text


def test_boot_and_resize_arguments_nova_refuses(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    """An unknown key_name at boot and an unknown flavorRef at resize are bad arguments (400, not 404); access
    addresses must be addresses of their version (400)."""
    api = _admin(cloud)
    base = {"name": "args", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none"}
    _bad_request(api.call("POST", "/servers", {"server": {**base, "key_name": "no-such-key"}}), "key_name")
    _bad_request(api.call("POST", "/servers", {"server": {**base, "accessIPv4": "1.1.1.1.1"}}), "accessIPv4")
    _bad_request(api.call("POST", "/servers", {"server": {**base, "accessIPv6": "notv6"}}), "accessIPv6")
    server = api.call("POST", "/servers", {"server": base}).json()["server"]
    wait_for_status(cloud.connection(), server["id"], "ACTIVE")
    _bad_request(api.call("POST", f"/servers/{server['id']}/action", {"resize": {"flavorRef": "no-such-flavor"}}),
                 "flavor")
    tag = api.call("PUT", f"/servers/{server['id']}/tags/blue")
    assert tag.status_code == 201 and tag.headers["Location"].endswith(f"/v2.1/servers/{server['id']}/tags/blue")
    again = api.call("PUT", f"/servers/{server['id']}/tags/blue")
    assert again.status_code == 204 and again.headers["Location"] == tag.headers["Location"]
    api.call("DELETE", f"/servers/{server['id']}")
