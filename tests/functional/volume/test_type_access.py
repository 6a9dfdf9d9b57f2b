"""Private volume types and the projects given access to them (Cinder's ``os-volume-type-access``, Tempest's
admin/test_volume_type_access.py): who sees and uses such a type, and the admin-only access list and actions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.cloud import Cloud
from tests.functional.volume.test_volumes import Api


@pytest.fixture(scope="module")
def other(cloud: Cloud) -> Api:
    return Api(cloud, cloud.new_user(["member", "reader"]))


def _private(admin: Api) -> dict[str, Any]:
    made = admin.ok("POST", "/types", {"volume_type": {"name": f"private-{uuid.uuid4().hex[:8]}",
                                                       "os-volume-type-access:is_public": False}})["volume_type"]
    assert (made["is_public"], made["os-volume-type-access:is_public"]) == (False, False)
    return made


def _ids(api: Api, query: str = "") -> set[str]:
    return {t["id"] for t in api.ok("GET", f"/types{query}")["volume_types"]}


def test_private_type_is_seen_and_used_only_with_access(admin: Api, member: Api, other: Api) -> None:
    t = _private(admin)
    action = f"/types/{t['id']}/action"
    # Without access: not listed, not shown, and a volume of it is 404, as Cinder.
    assert t["id"] not in _ids(member)
    assert member.call("GET", f"/types/{t['id']}").status_code == 404
    assert member.call("GET", f"/types/{t['id']}/extra_specs").status_code == 404
    refused = member.call("POST", "/volumes", {"volume": {"size": 1, "volume_type": t["id"]}})
    assert refused.status_code == 404, refused.text
    assert member.call("POST", "/volumes", {"volume": {"size": 1, "volume_type": t["name"]}}).status_code == 404

    admin.ok("POST", action, {"addProjectAccess": {"project": member.project_id}}, status=202)
    assert t["id"] in _ids(member) and t["id"] not in _ids(other)
    assert t["id"] in _ids(member, "?is_public=true")  # a non-admin's filter does not hide what it may use
    assert member.ok("GET", f"/types/{t['id']}")["volume_type"]["name"] == t["name"]
    assert other.call("GET", f"/types/{t['id']}").status_code == 404
    vol = member.create(1, volume_type=t["id"])
    assert vol["volume_type"] == t["name"]
    member.wait(vol["id"], "available")
    assert other.call("POST", "/volumes", {"volume": {"size": 1, "volume_type": t["id"]}}).status_code == 404

    # Admins see every type; is_public filters their listing.
    assert t["id"] in _ids(admin) and t["id"] in _ids(admin, "?is_public=false")
    assert t["id"] not in _ids(admin, "?is_public=true")

    admin.ok("POST", action, {"removeProjectAccess": {"project": member.project_id}}, status=202)
    assert member.call("GET", f"/types/{t['id']}").status_code == 404
    assert member.volume(vol["id"])["volume_type"] == t["name"]  # its volumes keep their type
    member.ok("DELETE", f"/volumes/{vol['id']}")
    member.gone(f"/volumes/{vol['id']}")


def test_access_list_and_its_errors(admin: Api, member: Api, other: Api) -> None:
    t = _private(admin)
    action = f"/types/{t['id']}/action"
    listing = f"/types/{t['id']}/os-volume-type-access"
    assert admin.ok("GET", listing) == {"volume_type_access": []}
    for api in (member, other):
        admin.ok("POST", action, {"addProjectAccess": {"project": api.project_id}}, status=202)
    found = admin.ok("GET", listing)["volume_type_access"]
    assert sorted(found, key=lambda e: e["project_id"]) == sorted(
        ({"volume_type_id": t["id"], "project_id": p} for p in (member.project_id, other.project_id)),
        key=lambda e: e["project_id"])

    again = admin.call("POST", action, {"addProjectAccess": {"project": member.project_id}})
    assert again.status_code == 409 and "already exists" in again.json()["conflictingRequest"]["message"]
    gone = admin.call("POST", action, {"removeProjectAccess": {"project": "no-such-project"}})
    assert gone.status_code == 404
    bad: list[dict[str, Any]] = [{"addProjectAccess": {}}, {"addProjectAccess": {"project": ""}},
                                 {"grant": {"project": "p"}}, {"addProjectAccess": {"project": "p", "extra": 1}}, {}]
    for body in bad:
        resp = admin.call("POST", action, body)
        assert resp.status_code == 400, (body, resp.text)
    assert admin.call("POST", f"/types/{uuid.uuid4()}/action",
                      {"addProjectAccess": {"project": "p"}}).status_code == 404

    public = admin.ok("POST", "/types", {"volume_type": {"name": f"public-{uuid.uuid4().hex[:8]}"}})["volume_type"]
    assert admin.call("GET", f"/types/{public['id']}/os-volume-type-access").status_code == 404
    not_private = admin.call("POST", f"/types/{public['id']}/action", {"addProjectAccess": {"project": "p"}})
    assert not_private.status_code == 400 and "public" in not_private.json()["badRequest"]["message"]

    # Only admins manage or read the access.
    assert member.call("GET", listing).status_code == 403
    assert member.call("POST", action, {"addProjectAccess": {"project": member.project_id}}).status_code == 403
    assert member.call("POST", action, {"removeProjectAccess": {"project": member.project_id}}).status_code == 403

    # Making the type public again shows it to everyone; deleting it takes its access list along.
    admin.ok("PUT", f"/types/{t['id']}", {"volume_type": {"is_public": True}})
    assert t["id"] in _ids(other)
    admin.ok("PUT", f"/types/{t['id']}", {"volume_type": {"is_public": False}})
    admin.ok("DELETE", f"/types/{t['id']}", status=202)
    admin.ok("DELETE", f"/types/{public['id']}", status=202)
