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
    return _call(api, "GET", f"/groups/{group_id}{query}")["group"]


def _wait_group(api: Api, group_id: str, status: str) -> dict[str, Any]:
    fixtures.wait_until(lambda: _show_group(api, group_id)["status"] == status, timeout=60, interval=0.1,
                        what=f"group {group_id} to be {status}")
    return _show_group(api, group_id)


def _volume(api: Api, vtype: str, group_id: str | None) -> dict[str, Any]:
    body = {"volume": {"size": 1, "volume_type": vtype, "group_id": group_id, "name": _name("gv")}}
    made = _call(api, "POST", "/volumes", body, status=202)["volume"]
    assert made["group_id"] == group_id
    api.wait(made["id"], "available")
    return _call(api, "GET", f"/volumes/{made['id']}")["volume"]


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


# -- groups -----------------------------------------------------------------------------------------------

def test_group_create_show_list_update_delete(admin: Api, member: Api) -> None:
    vtype, gtype = _types(admin)
    other_vtype, _ = _types(admin)
    g1 = _group(member, gtype, [vtype], description="first")
    g2 = _group(member, gtype, [vtype])
    assert set(g1) == GROUP_DETAIL
    assert g1["group_type"] == gtype and g1["volume_types"] == [vtype] and g1["description"] == "first"
    assert g1["group_snapshot_id"] is None and g1["source_group_id"] is None
    assert g1["availability_zone"] == "nova"
    # Before 3.14 no source fields; list_volume (3.25) adds the volume ids; 3.13 is the first version.
    old = _call(member, "GET", f"/groups/{g1['id']}", version="3.13")["group"]
    assert "group_snapshot_id" not in old and "replication_status" not in old
    _refused(member, "GET", f"/groups/{g1['id']}", None, 404, version="3.12")

    v1 = _volume(member, vtype, g1["id"])
    v2 = _volume(member, vtype, g1["id"])
    assert v1["group_id"] == g1["id"]
    assert _show_group(member, g1["id"], "?list_volume=True")["volumes"] == [v1["id"], v2["id"]]
    assert "volumes" not in _show_group(member, g1["id"])
    detail = {g["id"]: g for g in _call(member, "GET", "/groups/detail")["groups"]}
    assert {g1["id"], g2["id"]} <= set(detail) and detail[g1["id"]]["volume_types"] == [vtype]
    brief = _call(member, "GET", "/groups")["groups"]
    assert all(set(g) == {"id", "name"} for g in brief)
    assert [g["id"] for g in _call(member, "GET", f"/groups?name={g2['name']}")["groups"]] == [g2["id"]]
    # An admin sees it; a member of another project does not (see the snapshot test's stranger).
    assert _show_group(admin, g1["id"])["id"] == g1["id"]

    # A volume in a group is deleted with its group, not alone; its type must be one of the group's.
    _refused(member, "DELETE", f"/volumes/{v1['id']}", None, 400, "group")
    _refused(member, "POST", "/volumes", {"volume": {"size": 1, "volume_type": other_vtype, "group_id": g1["id"]}},
             400, "volume type")
    _refused(member, "POST", "/volumes", {"volume": {"size": 1, "volume_type": vtype,
                                                     "group_id": str(uuid.uuid4())}}, 404, "Group")

    # Update: name, description, remove and add volumes (comma-separated ids).
    _call(member, "PUT", f"/groups/{g1['id']}", {"group": {"name": "renamed", "description": "new",
                                                           "remove_volumes": v2["id"]}}, status=202)
    shown = _wait_group(member, g1["id"], "available")
    assert shown["name"] == "renamed" and shown["description"] == "new"
    assert [v["id"] for v in _group_volumes(member, g1["id"])] == [v1["id"]]
    assert _call(member, "GET", f"/volumes/{v2['id']}")["volume"]["group_id"] is None
    _call(member, "PUT", f"/groups/{g1['id']}", {"group": {"add_volumes": v2["id"]}}, status=202)
    assert {v["id"] for v in _group_volumes(member, g1["id"])} == {v1["id"], v2["id"]}
    _refused(member, "PUT", f"/groups/{g2['id']}", {"group": {"add_volumes": v1["id"]}}, 400, "already in group")
    stray = member.wait(member.create(volume_type=other_vtype)["id"], "available")
    _refused(member, "PUT", f"/groups/{g2['id']}", {"group": {"add_volumes": stray["id"]}}, 400, "volume type")
    _refused(member, "PUT", f"/groups/{g2['id']}", {"group": {"remove_volumes": v1["id"]}}, 400, "not in the group")
    _refused(member, "PUT", f"/groups/{g2['id']}", {"group": {}}, 400)
    _call(member, "DELETE", f"/volumes/{stray['id']}", status=202)

    # Delete: a group with volumes needs delete-volumes; its volumes go with it.
    _refused(member, "POST", f"/groups/{g1['id']}/action", {"delete": {"delete-volumes": False}}, 400,
             "delete-volumes")
    _delete_group(member, g1["id"])
    for v in (v1, v2):
        member.gone(f"/volumes/{v['id']}")
    _delete_group(member, g2["id"], delete_volumes=False)
    assert _call(member, "GET", "/groups/detail")["groups"] == []
    for path in (f"/types/{vtype}", f"/types/{other_vtype}", f"/group_types/{gtype}"):
        _call(admin, "DELETE", path, status=202)


def test_group_create_refusals_reset_status_and_quota(admin: Api, member: Api) -> None:
    vtype, gtype = _types(admin)
    _refused(member, "POST", "/groups", {"group": {"volume_types": [vtype]}}, 400, "group_type")
    _refused(member, "POST", "/groups", {"group": {"group_type": gtype}}, 400, "volume_types")
    _refused(member, "POST", "/groups", {"group": {"group_type": gtype, "volume_types": []}}, 400, "volume_types")
    _refused(member, "POST", "/groups", {"group": {"group_type": str(uuid.uuid4()), "volume_types": [vtype]}},
             404, "Group type")
    _refused(member, "POST", "/groups", {"group": {"group_type": gtype, "volume_types": [str(uuid.uuid4())]}},
             404, "Volume type")
    _refused(member, "POST", "/groups", {"group": {"group_type": gtype, "volume_types": [vtype],
                                                   "availability_zone": "nowhere"}}, 400, "nowhere")
    _refused(member, "POST", "/groups", {"group": {"group_type": gtype, "volume_types": [vtype], "bogus": 1}},
             400, "bogus")
    _refused(member, "POST", "/groups", {"group": {"group_type": gtype, "volume_types": [vtype]}}, 404,
             version="3.12")
    # A group type groups use is not deleted.
    group = _group(member, gtype, [vtype])
    _refused(admin, "DELETE", f"/group_types/{gtype}", None, 400, "in use")

    # reset_status: admins only, 3.20, Cinder's statuses.
    path = f"/groups/{group['id']}/action"
    _refused(member, "POST", path, {"reset_status": {"status": "error"}}, 403)
    _refused(admin, "POST", path, {"reset_status": {"status": "error"}}, 404, version="3.19")
    _refused(admin, "POST", path, {"reset_status": {"status": "bogus"}}, 400, "bogus")
    _refused(admin, "POST", path, {"frobnicate": {}}, 400, "delete")
    for status in ("creating", "available", "error"):
        _call(admin, "POST", path, {"reset_status": {"status": status}}, status=202)
        assert _show_group(member, group["id"])["status"] == status
    _refused(member, "PUT", f"/groups/{group['id']}", {"group": {"add_volumes": str(uuid.uuid4())}}, 400,
             "available")
    _call(admin, "POST", path, {"reset_status": {"status": "available"}}, status=202)

    # The groups quota: counted from the groups there are, settable.
    usage = _call(member, "GET", f"/os-quota-sets/{member.project_id}?usage=true")["quota_set"]["groups"]
    assert usage["in_use"] >= 1 and usage["limit"] == 10
    _call(admin, "PUT", f"/os-quota-sets/{member.project_id}", {"quota_set": {"groups": usage["in_use"]}})
    try:
        _refused(member, "POST", "/groups", {"group": {"group_type": gtype, "volume_types": [vtype]}}, 413,
                 "groups")
    finally:
        _call(admin, "PUT", f"/os-quota-sets/{member.project_id}", {"quota_set": {"groups": 10}})
    _delete_group(member, group["id"])
    _call(admin, "DELETE", f"/group_types/{gtype}", status=202)


# -- group snapshots and groups from sources ----------------------------------------------------------------

def _group_snapshot(api: Api, group_id: str) -> dict[str, Any]:
    made = _call(api, "POST", "/group_snapshots", {"group_snapshot": {"group_id": group_id, "name": _name("gs")}},
                 status=202)["group_snapshot"]
    assert set(made) == {"id", "name", "group_type_id"}
    fixtures.wait_until(lambda: _call(api, "GET", f"/group_snapshots/{made['id']}")["group_snapshot"]["status"]
                        == "available", timeout=60, interval=0.1, what="the group snapshot")
    return _call(api, "GET", f"/group_snapshots/{made['id']}")["group_snapshot"]


def test_group_snapshots_and_groups_from_sources(admin: Api, member: Api) -> None:
    vtype, gtype = _types(admin)
    group = _group(member, gtype, [vtype])
    vols = [_volume(member, vtype, group["id"]) for _ in range(2)]
    gs = _group_snapshot(member, group["id"])
    assert set(gs) == GROUP_SNAPSHOT_DETAIL and gs["group_id"] == group["id"] and gs["group_type_id"] == gtype
    snaps = [s for s in _call(member, "GET", "/snapshots/detail")["snapshots"]
             if s["volume_id"] in {v["id"] for v in vols}]
    assert len(snaps) == 2 and all(s["group_snapshot_id"] == gs["id"] and s["status"] == "available" for s in snaps)
    assert [g["id"] for g in _call(member, "GET", "/group_snapshots")["group_snapshots"]] == [gs["id"]]
    assert set(_call(member, "GET", "/group_snapshots")["group_snapshots"][0]) == {"id", "name"}
    assert _call(member, "GET", "/group_snapshots/detail")["group_snapshots"][0]["created_at"]
    _refused(member, "GET", "/group_snapshots", None, 404, version="3.13")
    # A group with group snapshots is not deleted.
    _refused(member, "POST", f"/groups/{group['id']}/action", {"delete": {"delete-volumes": True}}, 400,
             "group snapshots")

    # A group from the group snapshot: one volume per snapshot, the group available once they are.
    made = _call(member, "POST", "/groups/action", {"create-from-src": {"group_snapshot_id": gs["id"],
                                                                        "name": "from-snap"}}, status=202)["group"]
    assert made["name"] == "from-snap"
    copy = _wait_group(member, made["id"], "available")
    assert copy["group_snapshot_id"] == gs["id"] and copy["group_type"] == gtype and copy["volume_types"] == [vtype]
    copies = _group_volumes(member, made["id"])
    assert sorted(v["snapshot_id"] for v in copies) == sorted(s["id"] for s in snaps)
    assert all(v["status"] == "available" for v in copies)
    # A group from a group: each volume cloned.
    cloned = _call(member, "POST", "/groups/action", {"create-from-src": {"source_group_id": group["id"]}},
                   status=202)["group"]
    assert _wait_group(member, cloned["id"], "available")["source_group_id"] == group["id"]
    assert sorted(v["source_volid"] for v in _group_volumes(member, cloned["id"])) == sorted(v["id"] for v in vols)
    _refused(member, "POST", "/groups/action", {"create-from-src": {}}, 400, "source_group_id")
    _refused(member, "POST", "/groups/action", {"create-from-src": {"group_snapshot_id": gs["id"],
                                                                    "source_group_id": group["id"]}}, 400)
    _refused(member, "POST", "/groups/action", {"create-from-src": {"source_group_id": group["id"]}}, 404,
             version="3.13")

    # reset_status of a group snapshot: admins, 3.19.
    path = f"/group_snapshots/{gs['id']}/action"
    _refused(member, "POST", path, {"reset_status": {"status": "error"}}, 403)
    _refused(admin, "POST", path, {"reset_status": {"status": "error"}}, 404, version="3.18")
    _refused(admin, "POST", path, {"reset_status": {"status": "nonsense"}}, 400, "nonsense")
    for status in ("creating", "available", "error"):
        _call(admin, "POST", path, {"reset_status": {"status": status}}, status=202)
        assert _call(member, "GET", f"/group_snapshots/{gs['id']}")["group_snapshot"]["status"] == status
    _call(member, "DELETE", f"/group_snapshots/{gs['id']}", status=202)
    member.gone(f"/group_snapshots/{gs['id']}")
    for s in snaps:
        member.gone(f"/snapshots/{s['id']}")
    _refused(member, "POST", "/group_snapshots", {"group_snapshot": {"group_id": str(uuid.uuid4())}}, 404)
    _refused(member, "POST", "/group_snapshots", {"group_snapshot": {}}, 400, "group_id")

    for group_id in (made["id"], cloned["id"], group["id"]):
        _delete_group(member, group_id)
    assert _call(member, "GET", "/groups")["groups"] == []
    _call(admin, "DELETE", f"/group_types/{gtype}", status=202)
