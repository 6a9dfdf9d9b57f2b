"""Generic volume groups through the API (the checks of Tempest's test_group_types, test_group_type_specs,
test_groups and test_group_snapshots, and the refusals around them): group types and their specs (3.11), groups
(3.13; from a source 3.14; reset 3.20), group snapshots (3.14; reset 3.19) and the ``groups`` quota."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests import fixtures
from tests.functional.cloud import Cloud
from tests.functional.volume.test_volumes import Api

# Tempest's schemas (they allow no other fields).
GROUP_TYPE = {"id", "name", "description", "is_public", "group_specs"}
GROUP_DETAIL = {"id", "status", "availability_zone", "created_at", "name", "description", "group_type",
                "volume_types", "group_snapshot_id", "source_group_id", "replication_status"}
GROUP_SNAPSHOT_DETAIL = {"id", "group_id", "group_type_id", "status", "created_at", "name", "description"}


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Api:
    return Api(cloud)


@pytest.fixture(scope="module")
def member(cloud: Cloud) -> Api:
    return Api(cloud, cloud.new_user(["member", "reader"], prefix="grouper"))


def _call(api: Api, method: str, path: str, body: Any = None, version: str = "3.60",
          status: int | None = None) -> Any:
    resp = api.call(method, path, body, version=version)
    assert resp.status_code < 300 and (status is None or resp.status_code == status), \
        f"{method} {path}: {resp.status_code} {resp.text}"
    return resp.json() if resp.content else None


def _refused(api: Api, method: str, path: str, body: Any, status: int, words: str = "",
             version: str = "3.60") -> None:
    resp = api.call(method, path, body, version=version)
    assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
    if words:
        assert words in resp.text, resp.text


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _types(admin: Api) -> tuple[str, str]:
    """A new volume type and a new group type (ids)."""
    vtype = _call(admin, "POST", "/types", {"volume_type": {"name": _name("gvt")}})["volume_type"]["id"]
    gtype = _call(admin, "POST", "/group_types", {"group_type": {"name": _name("gt")}},
                  status=202)["group_type"]["id"]
    return vtype, gtype


def _group(api: Api, gtype: str, vtypes: list[str], **extra: Any) -> dict[str, Any]:
    made = _call(api, "POST", "/groups", {"group": {"group_type": gtype, "volume_types": vtypes,
                                                    "name": _name("grp"), **extra}}, status=202)["group"]
    assert set(made) == {"id", "name"}
    return _wait_group(api, made["id"], "available")


def _show_group(api: Api, group_id: str, query: str = "") -> dict[str, Any]:
    return _call(api, "GET", f"/groups/{group_id}{query}")["group"]  # type: ignore[no-any-return]


def _wait_group(api: Api, group_id: str, status: str) -> dict[str, Any]:
    fixtures.wait_until(lambda: _show_group(api, group_id)["status"] == status, timeout=60, interval=0.1,
                        what=f"group {group_id} to be {status}")
    return _show_group(api, group_id)


def _volume(api: Api, vtype: str, group_id: str | None) -> dict[str, Any]:
    body = {"volume": {"size": 1, "volume_type": vtype, "group_id": group_id, "name": _name("gv")}}
    made = _call(api, "POST", "/volumes", body, status=202)["volume"]
    assert made["group_id"] == group_id
    return api.wait(made["id"], "available")


def _delete_group(api: Api, group_id: str, delete_volumes: bool = True) -> None:
    _call(api, "POST", f"/groups/{group_id}/action", {"delete": {"delete-volumes": delete_volumes}}, status=202)
    fixtures.wait_until(lambda: api.call("GET", f"/groups/{group_id}", version="3.60").status_code == 404,
                        timeout=30, interval=0.1, what=f"group {group_id} to be deleted")


def _group_volumes(api: Api, group_id: str) -> list[dict[str, Any]]:
    vols = _call(api, "GET", "/volumes/detail")["volumes"]
    return [v for v in vols if v["group_id"] == group_id]


# -- group types ------------------------------------------------------------------------------------------

def test_group_type_crud_specs_and_listing(admin: Api, member: Api) -> None:
    name = _name("a-gt")
    made = _call(admin, "POST", "/group_types", {"group_type": {
        "name": name, "description": "d", "is_public": True,
        "group_specs": {"consistent_group_snapshot_enabled": "<is> False"}}}, status=202)["group_type"]
    assert set(made) == GROUP_TYPE and made["name"] == name and made["description"] == "d"
    assert made["group_specs"] == {"consistent_group_snapshot_enabled": "<is> False"}
    type_id = made["id"]
    updated = _call(admin, "PUT", f"/group_types/{type_id}", {"group_type": {"name": name + "-x",
                                                                              "description": "dd"}})
    assert updated["group_type"]["name"] == name + "-x" and updated["group_type"]["description"] == "dd"
    shown = _call(admin, "GET", f"/group_types/{type_id}")["group_type"]
    assert shown["name"] == name + "-x" and shown["is_public"] is True

    # group specs: create (merge), show one, update one, list, delete one.
    specs = f"/group_types/{type_id}/group_specs"
    assert _call(admin, "POST", specs, {"group_specs": {"key1": "v1", "key2": "v2"}},
                 status=202)["group_specs"] == {"key1": "v1", "key2": "v2"}
    _call(admin, "POST", specs, {"group_specs": {"key2": "v2b", "key3": "v3"}}, status=202)
    assert _call(admin, "GET", f"{specs}/key2") == {"key2": "v2b"}
    assert _call(admin, "PUT", f"{specs}/key3", {"key3": "v3b"}) == {"key3": "v3b"}
    assert _call(admin, "GET", specs)["group_specs"] == {
        "consistent_group_snapshot_enabled": "<is> False", "key1": "v1", "key2": "v2b", "key3": "v3b"}
    _call(admin, "DELETE", f"{specs}/key1", status=202)
    _refused(admin, "GET", f"{specs}/key1", None, 404, "key1")
    _refused(admin, "DELETE", f"{specs}/key1", None, 404)
    _refused(admin, "PUT", f"{specs}/key3", {"other": "x"}, 400, "mismatch")

    # Non-admins read public types without their specs and manage nothing.
    seen = _call(member, "GET", f"/group_types/{type_id}")["group_type"]
    assert "group_specs" not in seen
    _refused(member, "POST", "/group_types", {"group_type": {"name": _name("no")}}, 403)
    _refused(member, "GET", specs, None, 403)
    _refused(member, "DELETE", f"/group_types/{type_id}", None, 403)

    _call(admin, "DELETE", f"/group_types/{type_id}", status=202)
    listed = [t["id"] for t in _call(admin, "GET", "/group_types")["group_types"]]
    assert type_id not in listed


def test_group_type_list_filters_sort_default_and_refusals(admin: Api, member: Api) -> None:
    a, b = _name("a_gt"), _name("b_gt")
    pub = _call(admin, "POST", "/group_types", {"group_type": {"name": a, "is_public": True}}, status=202)
    priv = _call(admin, "POST", "/group_types", {"group_type": {"name": b, "is_public": False}}, status=202)
    names = [t["name"] for t in _call(admin, "GET", "/group_types?sort=name:asc&is_public=None")["group_types"]]
    assert names.index(a) < names.index(b)
    names = [t["name"] for t in _call(admin, "GET", "/group_types?sort=name:desc&is_public=None")["group_types"]]
    assert names.index(b) < names.index(a)
    private = [t["name"] for t in _call(admin, "GET", "/group_types?is_public=False")["group_types"]]
    assert b in private and a not in private
    public = [t["name"] for t in _call(admin, "GET", "/group_types?is_public=True")["group_types"]]
    assert a in public and b not in public
    # A private type is not there for non-admins, whatever they ask.
    theirs = [t["name"] for t in _call(member, "GET", "/group_types?is_public=False")["group_types"]]
    assert b not in theirs and a in theirs
    _refused(member, "GET", f"/group_types/{priv['group_type']['id']}", None, 404)

    default = _call(member, "GET", "/group_types/default")["group_type"]
    assert default["name"] == "default_group_type"
    assert _call(admin, "GET", "/group_types/default")["group_type"]["group_specs"] == {
        "consistent_group_snapshot_enabled": "<is> True"}
    _refused(admin, "DELETE", f"/group_types/{default['id']}", None, 400, "default")

    _refused(admin, "POST", "/group_types", {"group_type": {"name": a}}, 409, a)
    _refused(admin, "POST", "/group_types", {"group_type": {"description": "no name"}}, 400, "name")
    _refused(admin, "POST", "/group_types", {"group_type": {"name": "x", "is_public": "maybe"}}, 400, "is_public")
    _refused(admin, "PUT", f"/group_types/{pub['group_type']['id']}", {"group_type": {}}, 400)
    _refused(admin, "GET", "/group_types?sort=size:asc", None, 400, "size")
    _refused(admin, "GET", "/group_types", None, 404, version="3.10")
    _refused(admin, "GET", f"/group_types/{uuid.uuid4()}", None, 404)
    for made in (pub, priv):
        _call(admin, "DELETE", f"/group_types/{made['group_type']['id']}", status=202)
