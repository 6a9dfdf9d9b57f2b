"""Nova's image proxy (``/v2.1/images``): list, detail, show, delete and metadata through the image service as
the caller, Nova's shapes up to microversion 2.35 and 404 from 2.36."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest

from tests.functional import cloud as cloud_fixture

V21 = "2.1"


def _call(conn: Any, method: str, path: str, body: Any = None, version: str = V21) -> Any:
    return conn.compute.request(path, method, json=body, raise_exc=False, microversion=version)


@pytest.fixture(scope="module")
def owner(cloud: cloud_fixture.Cloud) -> Any:
    return cloud.connection(cloud.new_user(roles=("member", "reader")))


def _image(conn: Any, **props: Any) -> Any:
    """An active image made through the image API itself (the SDK's create_image adds properties of its own)."""
    body = {"name": f"img-{uuid.uuid4().hex[:6]}", "disk_format": "raw", "container_format": "bare", "min_ram": 64,
            **props}
    image = conn.image.post("/images", json=body).json()
    conn.image.put(f"/images/{image['id']}/file", data=io.BytesIO(b"\0" * 1024),
                   headers={"Content-Type": "application/octet-stream"})
    return conn.image.get_image(image["id"])


def test_list_detail_show_as_nova(owner):
    image = _image(owner, color="blue")
    listed = _call(owner, "GET", "/images")
    assert listed.status_code == 200, listed.text
    brief = next(i for i in listed.json()["images"] if i["id"] == image.id)
    assert set(brief) == {"id", "name", "links"}
    detail = next(i for i in _call(owner, "GET", "/images/detail").json()["images"] if i["id"] == image.id)
    shown = _call(owner, "GET", f"/images/{image.id}").json()["image"]
    for view in (detail, shown):
        assert view["status"] == "ACTIVE" and view["progress"] == 100 and view["minRam"] == 64
        assert view["minDisk"] == 0 and view["metadata"] == {"color": "blue"}
        assert view["OS-EXT-IMG-SIZE:size"] == 1024 and view["created"] and view["updated"]
        assert {link["rel"] for link in view["links"]} >= {"self", "bookmark"}
    named = _call(owner, "GET", f"/images?name={image.name}").json()["images"]
    assert [i["id"] for i in named] == [image.id]
    assert _call(owner, "GET", "/images?minRam=65").json()["images"] == [] or image.id not in {
        i["id"] for i in _call(owner, "GET", "/images?minRam=65").json()["images"]}
    assert _call(owner, "GET", "/images?minRam=x").status_code == 400
    assert len(_call(owner, "GET", "/images?limit=1").json()["images"]) == 1
    assert _call(owner, "GET", f"/images/{uuid.uuid4()}").status_code == 404
    assert _call(owner, "GET", "/images", version="2.36").status_code == 404


def test_metadata_through_compute(owner):
    image = _image(owner, color="blue", size_class="s")
    path = f"/images/{image.id}/metadata"
    assert _call(owner, "GET", path).json() == {"metadata": {"color": "blue", "size_class": "s"}}
    merged = _call(owner, "POST", path, {"metadata": {"color": "red", "shape": "round"}})
    assert merged.status_code == 200, merged.text
    assert merged.json()["metadata"] == {"color": "red", "size_class": "s", "shape": "round"}
    replaced = _call(owner, "PUT", path, {"metadata": {"only": "this"}})
    assert replaced.json() == {"metadata": {"only": "this"}}, replaced.text
    assert _call(owner, "GET", f"{path}/only").json() == {"meta": {"only": "this"}}
    assert _call(owner, "GET", f"{path}/missing").status_code == 404
    item = _call(owner, "PUT", f"{path}/new", {"meta": {"new": "v"}})
    assert item.status_code == 200 and item.json() == {"meta": {"new": "v"}}, item.text
    assert _call(owner, "PUT", f"{path}/new", {"meta": {"other": "v"}}).status_code == 400
    assert _call(owner, "PUT", f"{path}/new", {"meta": {"new": "v", "two": "v"}}).status_code == 400
    assert _call(owner, "DELETE", f"{path}/new").status_code == 204
    assert _call(owner, "DELETE", f"{path}/new").status_code == 404
    assert _call(owner, "GET", path).json() == {"metadata": {"only": "this"}}
    too_many = {f"k{i}": "v" for i in range(129)}
    assert _call(owner, "POST", path, {"metadata": too_many}).status_code == 403
    missing = f"/images/{uuid.uuid4()}/metadata"
    assert _call(owner, "GET", missing).status_code == 404
    assert _call(owner, "POST", missing, {"metadata": {"a": "b"}}).status_code == 404
    assert _call(owner, "PUT", f"{missing}/a", {"meta": {"a": "b"}}).status_code == 404


def test_delete_and_other_projects(cloud, owner):
    image = _image(owner)
    other = cloud.connection(cloud.new_user(roles=("member", "reader")))
    assert _call(other, "GET", f"/images/{image.id}").status_code == 404  # private: not the other's to see
    assert _call(other, "DELETE", f"/images/{image.id}").status_code == 404
    assert _call(other, "POST", f"/images/{image.id}/metadata", {"metadata": {"a": "b"}}).status_code == 404
    assert _call(owner, "DELETE", f"/images/{image.id}").status_code == 204
    assert _call(owner, "GET", f"/images/{image.id}").status_code == 404
    assert _call(owner, "DELETE", f"/images/{image.id}").status_code == 404
