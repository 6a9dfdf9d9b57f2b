"""Compute input bounds: requests whose cost grows with a client's number are refused before any work, and
bad values are a 400 in Nova's fault format naming the field, with nothing stored."""

from __future__ import annotations

import time
import urllib.parse
import uuid
from typing import Any

import pytest
import requests

from tests.functional.compute.conftest import ComputeCloud, boot


class Api:
    """Raw compute API calls as one user, at one microversion."""

    def __init__(self, cloud: ComputeCloud, token: str, version: str = "2.90") -> None:
        self.base = f"{cloud.url('compute-api')}/v2.1"
        self.headers = {"X-Auth-Token": token, "OpenStack-API-Version": f"compute {version}"}

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", json=body, params=params or None,
                                headers=self.headers, timeout=10)


def _admin(cloud: ComputeCloud, version: str = "2.90") -> Api:
    return Api(cloud, cloud.connection().session.get_token(), version)


def _bad_request(resp: requests.Response, field: str) -> str:
    assert resp.status_code == 400, resp.text
    fault = resp.json()["badRequest"]
    assert fault["code"] == 400 and field in fault["message"], fault
    return str(fault["message"])


def _server_names(api: Api) -> list[str]:
    return [s["name"] for s in api.call("GET", "/servers").json()["servers"]]


@pytest.mark.parametrize("count", [9223372036854775807, "9223372036854775807", 0, -1, "two", 1001])
def test_server_counts_are_bounded_before_any_work(cloud: ComputeCloud, image_id: str, flavor_id: str,
                                                   count: Any) -> None:
    api = _admin(cloud)
    name = f"many-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    resp = api.call("POST", "/servers", {"server": {"name": name, "imageRef": image_id, "flavorRef": flavor_id,
                                                    "networks": "none", "max_count": count}})
    assert time.monotonic() - started < 5
    _bad_request(resp, "max_count")
    assert name not in _server_names(api)


def test_more_servers_than_the_quota_allows_is_refused_at_once(cloud: ComputeCloud, image_id: str,
                                                               flavor_id: str) -> None:
    creds = cloud.new_user(roles=("member", "reader"), prefix="counts")
    api = Api(cloud, cloud.connection(creds).session.get_token())
    body = {"server": {"name": "fleet", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none",
                       "min_count": 11, "max_count": 1000}}  # the project may have 10 instances
    resp = api.call("POST", "/servers", body)
    assert resp.status_code == 403 and "instances" in resp.json()["forbidden"]["message"], resp.text
    assert _server_names(api) == []
    unordered = api.call("POST", "/servers", {"server": {**body["server"], "min_count": 3, "max_count": 2}})
    _bad_request(unordered, "min_count")


def test_server_create_rejects_keys_its_microversion_does_not_define(cloud: ComputeCloud, image_id: str,
                                                                     flavor_id: str) -> None:
    server = {"name": "strict", "imageRef": image_id, "flavorRef": flavor_id, "networks": "none"}
    _bad_request(_admin(cloud).call("POST", "/servers", {"server": {**server, "bogus": 1}}), "bogus")
    _bad_request(_admin(cloud).call("POST", "/servers", {"server": server, "extra": {}}), "extra")
    # description arrived in 2.19, tags in 2.52, personality left in 2.57.
    _bad_request(_admin(cloud, "2.18").call("POST", "/servers", {"server": {**server, "networks": [],
                                                                           "description": "d"}}), "description")
    _bad_request(_admin(cloud, "2.51").call("POST", "/servers", {"server": {**server, "tags": ["a"]}}), "tags")
    _bad_request(_admin(cloud).call("POST", "/servers", {"server": {**server, "personality": []}}), "personality")
    _bad_request(_admin(cloud).call("POST", "/servers", {"server": {**server, "tags": ["a/b"]}}), "tags")
    assert "strict" not in _server_names(_admin(cloud))
    made = _admin(cloud, "2.52").call("POST", "/servers", {"server": {**server, "tags": ["ok"]}})
    assert made.status_code == 202, made.text
    _admin(cloud).call("DELETE", f"/servers/{made.json()['server']['id']}")


def test_server_tags_and_names_are_checked(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    api = _admin(cloud)
    server_id = boot(cloud, image_id, flavor_id).id
    for bad in ("a,b", "x" * 61):
        _bad_request(api.call("PUT", f"/servers/{server_id}/tags/{urllib.parse.quote(bad)}"), "tag")
    _bad_request(api.call("PUT", f"/servers/{server_id}/tags", {"tags": ["fine", "not/fine"]}), "tags")
    _bad_request(api.call("PUT", f"/servers/{server_id}/tags", {"tags": [f"t{i}" for i in range(51)]}), "tags")
    assert api.call("GET", f"/servers/{server_id}/tags").json()["tags"] == []
    assert api.call("PUT", f"/servers/{server_id}/tags", {"tags": [f"t{i}" for i in range(50)]}).status_code == 200
    assert api.call("PUT", f"/servers/{server_id}/tags/{'y' * 60}").status_code == 400  # a 51st tag
    assert api.call("PUT", f"/servers/{server_id}/tags/t0").status_code == 204

    _bad_request(api.call("PUT", f"/servers/{server_id}", {"server": {"name": "n" * 256}}), "name")
    _bad_request(api.call("PUT", f"/servers/{server_id}", {"server": {"name": "ok", "image": "x"}}), "image")
    assert api.call("GET", f"/servers/{server_id}").json()["server"]["name"] != "n" * 256
    renamed = api.call("PUT", f"/servers/{server_id}", {"server": {"name": "n" * 255}})
    assert renamed.status_code == 200 and renamed.json()["server"]["name"] == "n" * 255
    api.call("DELETE", f"/servers/{server_id}")


@pytest.mark.parametrize("field", ["ram", "vcpus", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral"])
def test_flavor_sizes_must_fit_the_database(cloud: ComputeCloud, field: str) -> None:
    api = _admin(cloud)
    name = f"huge-{uuid.uuid4().hex[:6]}"
    flavor = {"name": name, "ram": 512, "vcpus": 1, "disk": 1, field: 2**63}
    _bad_request(api.call("POST", "/flavors", {"flavor": flavor}), field)
    _bad_request(api.call("POST", "/flavors", {"flavor": {**flavor, field: str(2**31)}}), field)
    assert name not in [f["name"] for f in api.call("GET", "/flavors", is_public="None").json()["flavors"]]


def test_flavor_extra_spec_values_are_checked(cloud: ComputeCloud) -> None:
    api = _admin(cloud)
    flavor = api.call("POST", "/flavors", {"flavor": {"name": f"spec-{uuid.uuid4().hex[:6]}", "ram": 512,
                                                      "vcpus": 1, "disk": 1}}).json()["flavor"]
    specs = f"/flavors/{flavor['id']}/os-extra_specs"
    for key, value in (("hw:cpu_policy", "bogus"), ("hw:cpu_thread_policy", "sometimes"),
                       ("hw:mem_page_size", "huge"), ("hw:numa_nodes", "two")):
        _bad_request(api.call("POST", specs, {"extra_specs": {key: value}}), key)
        _bad_request(api.call("PUT", f"{specs}/{key}", {key: value}), key)
    assert api.call("GET", specs).json()["extra_specs"] == {}
    good = api.call("POST", specs, {"extra_specs": {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0",
                                                    "hw:mem_page_size": "2MB", "vendor:anything": "goes"}})
    assert good.status_code == 200 and good.json()["extra_specs"]["hw:cpu_policy"] == "mixed", good.text
    api.call("DELETE", f"/flavors/{flavor['id']}")


@pytest.mark.parametrize("value", [2**63, 2**31, -2, "lots", 1.5])
def test_quota_limits_must_be_within_minus_one_and_max_int(cloud: ComputeCloud, value: Any) -> None:
    api = _admin(cloud)
    project = cloud.new_user(prefix="limits").project_id
    before = api.call("GET", f"/os-quota-sets/{project}").json()["quota_set"]
    _bad_request(api.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"cores": value}}), "cores")
    _bad_request(api.call("PUT", "/os-quota-class-sets/default", {"quota_class_set": {"ram": value}}), "ram")
    assert api.call("GET", f"/os-quota-sets/{project}").json()["quota_set"] == before
    assert api.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"cores": 2**31 - 1}}).status_code == 200
    assert api.call("GET", f"/os-quota-sets/{project}").json()["quota_set"]["cores"] == 2**31 - 1


def test_page_sizes_are_bounded_and_checked(cloud: ComputeCloud) -> None:
    api = _admin(cloud)
    assert api.call("GET", "/servers", limit=str(10**30)).status_code == 200  # capped, as Nova caps at max_limit
    assert api.call("GET", "/flavors", limit=str(10**30)).status_code == 200
    for path in ("/servers", "/servers/detail", "/flavors", "/os-server-groups"):
        for bad in ("-1", "ten"):
            _bad_request(api.call("GET", path, limit=bad), "limit")
    _bad_request(api.call("GET", "/os-server-groups", offset="-5"), "offset")
    # The name filter is a regular expression: one that could backtrack for minutes is refused.
    for costly in ("(a+)+$", "a*a*a*a*a*a*b", "x" * 256):
        _bad_request(api.call("GET", "/servers", name=costly), "name")
    assert api.call("GET", "/servers/detail", name="^vm-.*[0-9]$").status_code == 200


def test_links_are_url_encoded(cloud: ComputeCloud) -> None:
    api = _admin(cloud)
    flavor_id = f"odd id {uuid.uuid4().hex[:4]}"
    made = api.call("POST", "/flavors", {"flavor": {"name": flavor_id, "id": flavor_id, "ram": 64, "vcpus": 1,
                                                    "disk": 0}})
    assert made.status_code == 200, made.text
    hrefs = [link["href"] for link in made.json()["flavor"]["links"]]
    encoded = urllib.parse.quote(flavor_id, safe="")
    assert all(href.endswith(f"/flavors/{encoded}") for href in hrefs), hrefs
    assert requests.get(hrefs[0], headers=api.headers, timeout=10).json()["flavor"]["id"] == flavor_id
    api.call("DELETE", f"/flavors/{encoded}")
