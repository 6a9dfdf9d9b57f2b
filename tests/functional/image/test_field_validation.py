"""Image fields as Glance's image schema allows them: bad values are 400 naming the field and store nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.functional.cloud import Cloud

DRAFT_10 = "application/openstack-images-v2.1-json-patch"
DRAFT_4 = "application/openstack-images-v2.0-json-patch"


def _images(cloud: Cloud, api: requests.Session) -> set[str]:
    body = api.get(f"{cloud.url('image')}/v2/images", params={"limit": 1000, "visibility": "all"}, timeout=10).json()
    return {image["id"] for image in body["images"]}


def _create(cloud: Cloud, api: requests.Session, body: dict[str, Any]) -> requests.Response:
    """POST /v2/images with the body as UTF-8 JSON (not \\u escapes, so long texts fit the body limit)."""
    return api.post(f"{cloud.url('image')}/v2/images", data=json.dumps(body, ensure_ascii=False).encode(),
                    headers={"Content-Type": "application/json"}, timeout=10)


def _error(resp: requests.Response, status: int, field: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert list(body) == ["error"] and body["error"]["code"] == status, body
    assert field in body["error"]["message"], body


BAD_CREATES = [
    ({"name": ["a"]}, "name"), ({"name": 5}, "name"), ({"name": True}, "name"), ({"name": "x" * 256}, "name"),
    ({"protected": "maybe"}, "protected"), ({"os_hidden": 1}, "os_hidden"),
    ({"tags": 5}, "tags"), ({"tags": "abc"}, "tags"), ({"tags": ["ok", 7]}, "tags"), ({"tags": ["x" * 256]}, "tags"),
    ({"min_ram": -1}, "min_ram"), ({"min_disk": -1}, "min_disk"), ({"min_disk": 2**63}, "min_disk"),
    ({"min_ram": 2**31}, "min_ram"), ({"min_ram": "1"}, "min_ram"), ({"min_ram": 1.5}, "min_ram"),
    ({"min_disk": 2.0}, "min_disk"), ({"min_ram": None}, "min_ram"),
    ({"id": "not-a-uuid"}, "id"), ({"id": "x" * 100}, "id"), ({"id": 5}, "id"), ({"id": None}, "id"),
    ({"visibility": "everyone"}, "visibility"), ({"disk_format": "floppy"}, "disk_format"),
    ({"container_format": 3}, "container_format"), ({"owner": ["p"]}, "owner"),
    ({"hw_disk_bus": 1}, "hw_disk_bus"), ({"hw_disk_bus": None}, "hw_disk_bus"), ({"k" * 256: "v"}, "k" * 20),
    ({"name": "a\x00b"}, "name"), ({"os_distro": "a\x00b"}, "os_distro"), ({"big": "é" * 40000}, "big"),
    ({"": "empty key"}, "request body"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CREATES, ids=[json.dumps(b)[:40] for b, _ in BAD_CREATES])
def test_create_refuses_bad_fields(cloud: Cloud, api: requests.Session, body: dict[str, Any], field: str) -> None:
    before = _images(cloud, api)
    _error(_create(cloud, api, body), 400, field)
    assert _images(cloud, api) == before


def test_create_accepts_what_the_schema_allows(cloud: Cloud, api: requests.Session) -> None:
    chosen = str(uuid.uuid4()).upper()
    body = {"id": chosen, "name": "é" * 255, "protected": False, "tags": ["t" * 255, "😀"], "min_ram": 2**31 - 1,
            "min_disk": 0, "os_distro": "😀" * 1000, "p" * 255: "v", "visibility": "private"}
    created = _create(cloud, api, body)
    assert created.status_code == 201, created.text
    shown = api.get(f"{cloud.url('image')}/v2/images/{chosen}", timeout=10).json()
    assert shown["id"] == chosen and shown["name"] == "é" * 255 and shown["min_ram"] == 2**31 - 1
    assert sorted(shown["tags"]) == sorted(["t" * 255, "😀"]) and shown["os_distro"] == "😀" * 1000
    assert shown["p" * 255] == "v"
    assert api.post(f"{cloud.url('image')}/v2/images", json={"name": None}, timeout=10).status_code == 201


def test_tag_and_property_quotas_at_create(cloud: Cloud, api: requests.Session) -> None:
    before = _images(cloud, api)
    _error(api.post(f"{cloud.url('image')}/v2/images", json={"tags": [str(i) for i in range(1000)]}, timeout=10),
           413, "tags")
    _error(api.post(f"{cloud.url('image')}/v2/images", json={f"p{i}": "v" for i in range(129)}, timeout=10),
           413, "properties")
    assert _images(cloud, api) == before
    at_quota = api.post(f"{cloud.url('image')}/v2/images", timeout=10,
                        json={"tags": [str(i) for i in range(128)], **{f"p{i}": "v" for i in range(128)}})
    assert at_quota.status_code == 201, at_quota.text


def _patch(cloud: Cloud, api: requests.Session, image_id: str, ops: list[dict[str, Any]],
           media_type: str = DRAFT_10) -> requests.Response:
    return api.patch(f"{cloud.url('image')}/v2/images/{image_id}", data=json.dumps(ops, ensure_ascii=False).encode(),
                     headers={"Content-Type": media_type}, timeout=10)


BAD_VALUES = [("name", ["a"]), ("name", 5), ("name", "x" * 256), ("protected", "maybe"), ("tags", 5),
              ("tags", "abc"), ("tags", ["x" * 256]), ("min_ram", -1), ("min_disk", 2**63), ("visibility", "all"),
              ("disk_format", "floppy"), ("hw_disk_bus", 1), ("hw_disk_bus", None), ("k" * 256, "v"),
              ("name", "a\x00"), ("os_distro", "é" * 40000)]


@pytest.mark.parametrize("media_type", [DRAFT_10, DRAFT_4])
def test_patch_refuses_bad_values_in_both_dialects(cloud: Cloud, api: requests.Session, media_type: str) -> None:
    image = api.post(f"{cloud.url('image')}/v2/images", json={"name": "orig", "tags": ["keep"]}, timeout=10).json()

    def op(kind: str, name: str, value: Any = None) -> dict[str, Any]:
        path = "/" + name.replace("~", "~0").replace("/", "~1")
        body = {"op": kind, "path": path} if media_type == DRAFT_10 else {kind: path}
        return body if kind == "remove" else {**body, "value": value}

    for name, value in BAD_VALUES:
        _error(_patch(cloud, api, image["id"], [op("add", name, value)], media_type), 400, name[:20])
        _error(_patch(cloud, api, image["id"], [op("replace", "name", "ok"), op("replace", name, value)],
                      media_type), 400, name[:20])
    _error(_patch(cloud, api, image["id"], [op("replace", "tags", [str(i) for i in range(1000)])], media_type),
           413, "tags")
    _error(_patch(cloud, api, image["id"], [op("add", f"p{i}", "v") for i in range(129)], media_type),
           413, "properties")
    _error(_patch(cloud, api, image["id"], [op("add", "id", str(uuid.uuid4()))], media_type), 403, "id")
    _error(_patch(cloud, api, image["id"], [op("add", "deleted", "x")], media_type), 403, "deleted")
    shown = api.get(f"{cloud.url('image')}/v2/images/{image['id']}", timeout=10).json()
    assert shown["name"] == "orig" and shown["tags"] == ["keep"] and "p0" not in shown  # nothing half-applied

    good = _patch(cloud, api, image["id"], [op("replace", "name", "new"), op("add", "hw_disk_bus", "virtio"),
                                            op("replace", "min_ram", 512), op("replace", "tags", ["a", "b"])],
                  media_type)
    assert good.status_code == 200, good.text
    assert good.json()["name"] == "new" and good.json()["hw_disk_bus"] == "virtio" and good.json()["min_ram"] == 512
    assert _patch(cloud, api, image["id"], [op("remove", "hw_disk_bus")], media_type).status_code == 200


def test_patch_dialects_and_media_types(cloud: Cloud, api: requests.Session) -> None:
    image = api.post(f"{cloud.url('image')}/v2/images", json={"name": "d"}, timeout=10).json()
    # Each media type reads its own operation shape only.
    _error(_patch(cloud, api, image["id"], [{"replace": "/name", "value": "x"}], DRAFT_10), 400, "operation")
    _error(_patch(cloud, api, image["id"], [{"op": "replace", "path": "/name", "value": "x"}], DRAFT_4), 400, "add")
    _error(_patch(cloud, api, image["id"], [{"replace": "/name", "add": "/name", "value": "x"}], DRAFT_4), 400,
           "one member")
    _error(_patch(cloud, api, image["id"], [{"op": "replace", "path": "/a/b", "value": "x"}]), 400, "pointer")
    _error(_patch(cloud, api, image["id"], [{"op": "replace", "path": "/name"}]), 400, "value")
    _error(_patch(cloud, api, image["id"], [{"op": "replace", "path": "/name", "value": "x"}],
                  "application/json"), 415, "json-patch")
    assert _patch(cloud, api, image["id"], [{"replace": "/name", "value": "v20"}], DRAFT_4).json()["name"] == "v20"


def test_tags_and_members_by_path_and_body(cloud: Cloud, api: requests.Session) -> None:
    base = cloud.url("image")
    image = api.post(f"{base}/v2/images", json={"name": "t", "visibility": "shared"}, timeout=10).json()
    _error(api.put(f"{base}/v2/images/{image['id']}/tags/{'x' * 256}", timeout=10), 400, "tags")
    _error(api.put(f"{base}/v2/images/{image['id']}/tags/a%00b", timeout=10), 400, "tags")
    assert api.delete(f"{base}/v2/images/{image['id']}/tags/a%00b", timeout=10).status_code == 404
    for i in range(128):
        assert api.put(f"{base}/v2/images/{image['id']}/tags/t{i}", timeout=10).status_code == 204
    _error(api.put(f"{base}/v2/images/{image['id']}/tags/one-more", timeout=10), 413, "tags")
    assert api.put(f"{base}/v2/images/{image['id']}/tags/t0", timeout=10).status_code == 204  # already there
    assert len(api.get(f"{base}/v2/images/{image['id']}", timeout=10).json()["tags"]) == 128

    members = f"{base}/v2/images/{image['id']}/members"
    for bad in ([1], 5, None, "", "m" * 256, "a\x00b"):
        _error(api.post(members, json={"member": bad}, timeout=10), 400, "member")
    assert api.get(members, timeout=10).json()["members"] == []
    member = api.post(members, json={"member": "p" * 255}, timeout=10)
    assert member.status_code == 200, member.text
    _error(api.put(f"{members}/{'p' * 255}", json={"status": ["accepted"]}, timeout=10), 400, "status")


def test_list_filters_are_bounded(cloud: Cloud, api: requests.Session) -> None:
    base = cloud.url("image")
    for params in ({"size_min": str(2**64)}, {"size_max": "1e3"}, {"limit": "٣"}, {"name": "a\x00"},
                   {"id": "\x00"}, {"tag": "\x00"}, {"os_distro": "\x00"}, {"a\x00": "b"}):
        resp = api.get(f"{base}/v2/images", params=params, timeout=10)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == 400, (params, resp.text)
    assert api.get(f"{base}/v2/images", params={"size_min": str(2**63 - 1)}, timeout=10).json()["images"] == []
