"""Per-volume-type quotas (Cinder's ``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>``) through the
API: shown in quota sets, defaults and the default class, set by admins, 400 for a type that does not exist,
counted from the rows of that type and enforced on create, snapshot, extend and retype (413)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.functional.volume.test_volumes import Api

TYPED = ("volumes", "gigabytes", "snapshots")




def _type(admin: Api) -> str:
    name = f"tq-{uuid.uuid4().hex[:8]}"
    admin.ok("POST", "/types", {"volume_type": {"name": name}})
    return name


def _refused(api: Api, method: str, path: str, body: Any, status: int, *words: str) -> None:
    resp = api.call(method, path, body)
    assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
    for word in words:
        assert word in resp.text, resp.text


def test_type_quotas_are_shown_defaulting_to_unlimited(admin: Api, member: Api) -> None:
    name = _type(admin)
    for path in (f"/os-quota-sets/{member.project_id}", f"/os-quota-sets/{member.project_id}/defaults"):
        shown = admin.ok("GET", path)["quota_set"]
        assert {shown[f"{r}_{name}"] for r in TYPED} == {-1}, shown
        assert shown["volumes"] >= 0  # the overall ones are still there
    assert {admin.ok("GET", "/os-quota-class-sets/default")["quota_class_set"][f"{r}_{name}"] for r in TYPED} == {-1}
    used = member.ok("GET", f"/os-quota-sets/{member.project_id}?usage=true")["quota_set"]
    assert used[f"volumes_{name}"] == {"limit": -1, "in_use": 0, "reserved": 0, "allocated": 0}


def test_unknown_type_keys_are_400_and_other_keys_still_rejected(admin: Api, member: Api) -> None:
    target = f"/os-quota-sets/{member.project_id}"
    _refused(admin, "PUT", target, {"quota_set": {"volumes_no-such-type": 3}}, 400, "volumes_no-such-type")
    _refused(admin, "PUT", "/os-quota-class-sets/default", {"quota_class_set": {"gigabytes_nope": 3}}, 400,
             "gigabytes_nope")
    _refused(admin, "PUT", target, {"quota_set": {"backups_x": 3}}, 400, "backups_x")
    name = _type(admin)
    _refused(admin, "PUT", target, {"quota_set": {f"volumes_{name}": -2}}, 400)
    _refused(admin, "PUT", target, {"quota_set": {f"volumes_{name}": "many"}}, 400)
    # Only admins set them.
    _refused(member, "PUT", target, {"quota_set": {f"volumes_{name}": 3}}, 403)


def test_default_class_sets_every_project_and_a_project_overrides(admin: Api, member: Api) -> None:
    name = _type(admin)
    made = admin.ok("PUT", "/os-quota-class-sets/default",
                    {"quota_class_set": {f"volumes_{name}": 7, f"gigabytes_{name}": 70, f"snapshots_{name}": 5}})
    assert made["quota_class_set"][f"volumes_{name}"] == 7
    try:
        assert admin.ok("GET", f"/os-quota-sets/{member.project_id}/defaults")["quota_set"][f"gigabytes_{name}"] == 70
        assert admin.ok("GET", f"/os-quota-sets/{member.project_id}")["quota_set"][f"snapshots_{name}"] == 5
        put = admin.ok("PUT", f"/os-quota-sets/{member.project_id}", {"quota_set": {f"snapshots_{name}": 2}})
        assert (put["quota_set"][f"snapshots_{name}"], put["quota_set"][f"volumes_{name}"]) == (2, 7)
        admin.ok("DELETE", f"/os-quota-sets/{member.project_id}")
        assert admin.ok("GET", f"/os-quota-sets/{member.project_id}")["quota_set"][f"snapshots_{name}"] == 5
    finally:
        admin.ok("PUT", "/os-quota-class-sets/default",
                 {"quota_class_set": {f"volumes_{name}": -1, f"gigabytes_{name}": -1, f"snapshots_{name}": -1}})


def test_type_quotas_count_and_limit_volumes_and_snapshots(admin: Api, member: Api) -> None:
    name, other = _type(admin), _type(admin)
    target = f"/os-quota-sets/{member.project_id}"
    admin.ok("PUT", target, {"quota_set": {f"volumes_{name}": 1, f"gigabytes_{name}": 3, f"snapshots_{name}": 1}})
    try:
        # Over the type's GiB before any volume: 413 naming the resource.
        _refused(member, "POST", "/volumes", {"volume": {"size": 4, "volume_type": name}}, 413,
                 f"gigabytes_{name}")
        vol = member.create(1, volume_type=name)
        member.wait(vol["id"], "available")
        _refused(member, "POST", "/volumes", {"volume": {"size": 1, "volume_type": name}}, 413, f"volumes_{name}")
        # Another type is not limited by this one's quotas.
        free = member.create(1, volume_type=other)
        member.wait(free["id"], "available")
        snap = member.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}}, status=202)["snapshot"]
        _refused(member, "POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}}, 413, f"snapshots_{name}")
        used = member.ok("GET", f"{target}?usage=true")["quota_set"]
        assert used[f"volumes_{name}"]["in_use"] == 1 and used[f"snapshots_{name}"]["in_use"] == 1
        assert used[f"gigabytes_{name}"] == {"limit": 3, "in_use": 2, "reserved": 0, "allocated": 0}
        assert used[f"volumes_{other}"]["in_use"] == 1 and used[f"snapshots_{other}"]["in_use"] == 0
        # Extending past the type's GiB (2 used of 3) is 413 too.
        _refused(member, "POST", f"/volumes/{vol['id']}/action", {"os-extend": {"new_size": 3}}, 413,
                 f"gigabytes_{name}")
        # Retyping the other type's volume into this one: over volumes_<name>.
        _refused(member, "POST", f"/volumes/{free['id']}/action",
                 {"os-retype": {"new_type": name, "migration_policy": "never"}}, 413, f"volumes_{name}")
        # Raising the limits lets them through; the retype moves the usage from one type to the other.
        admin.ok("PUT", target, {"quota_set": {f"volumes_{name}": 5, f"gigabytes_{name}": 10}})
        member.ok("POST", f"/volumes/{free['id']}/action",
                  {"os-retype": {"new_type": name, "migration_policy": "never"}}, status=202)
        used = member.ok("GET", f"{target}?usage=true")["quota_set"]
        assert (used[f"volumes_{name}"]["in_use"], used[f"volumes_{other}"]["in_use"]) == (2, 0)
        member.ok("DELETE", f"/snapshots/{snap['id']}", status=202)
        member.gone(f"/snapshots/{snap['id']}")
        for v in (vol, free):
            member.ok("DELETE", f"/volumes/{v['id']}", status=202)
            member.gone(f"/volumes/{v['id']}")
        assert member.ok("GET", f"{target}?usage=true")["quota_set"][f"gigabytes_{name}"]["in_use"] == 0
    finally:
        admin.ok("DELETE", target)


def test_renamed_type_keeps_its_limits(admin: Api, member: Api) -> None:
    name = _type(admin)
    target = f"/os-quota-sets/{member.project_id}"
    admin.ok("PUT", target, {"quota_set": {f"volumes_{name}": 4}})
    type_id = next(t["id"] for t in admin.ok("GET", "/types")["volume_types"] if t["name"] == name)
    admin.ok("PUT", f"/types/{type_id}", {"volume_type": {"name": f"{name}-new"}})
    shown = admin.ok("GET", target)["quota_set"]
    assert shown[f"volumes_{name}-new"] == 4 and f"volumes_{name}" not in shown
    admin.ok("DELETE", f"/types/{type_id}", status=202)
    assert f"volumes_{name}-new" not in admin.ok("GET", target)["quota_set"]
    admin.ok("DELETE", target)
