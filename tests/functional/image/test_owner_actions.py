"""What an image's own project may do with it, as Glance's new defaults allow: deactivate and reactivate it;
and where its data is kept (``stores``), as Glance shows once ``/v2/info/stores`` is served."""

from __future__ import annotations

from typing import Any

from tests.functional.cloud import Cloud


def _call(session: Any, method: str, url: str, **kwargs: Any) -> Any:
    return session.request(url, method, raise_exc=False, **kwargs)


def test_the_owners_member_deactivates_and_reactivates(cloud: Cloud) -> None:
    member = cloud.connection(cloud.new_user(roles=("member", "reader"), prefix="deact")).session
    reader = cloud.new_user(roles=("reader",), prefix="deact-reader")
    base = cloud.url("image") + "/v2/images"
    created = _call(member, "POST", base, json={"name": "mine", "disk_format": "raw", "container_format": "bare"})
    assert created.status_code == 201, created.text
    image = created.json()
    assert "stores" not in image  # no data yet, so in no store
    put = _call(member, "PUT", f"{base}/{image['id']}/file", data=b"x" * 1024,
                headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 204, put.text
    shown = _call(member, "GET", f"{base}/{image['id']}").json()
    stores = _call(member, "GET", cloud.url("image") + "/v2/info/stores").json()["stores"]
    assert shown["status"] == "active" and shown["stores"] == ",".join(s["id"] for s in stores)

    # A reader of another project does not see the image at all.
    outsider = cloud.connection(reader).session
    assert _call(outsider, "POST", f"{base}/{image['id']}/actions/deactivate").status_code == 404
    assert _call(member, "POST", f"{base}/{image['id']}/actions/deactivate").status_code == 204
    assert _call(member, "GET", f"{base}/{image['id']}").json()["status"] == "deactivated"
    assert _call(member, "GET", f"{base}/{image['id']}/file").status_code == 403  # no download while deactivated
    assert _call(member, "POST", f"{base}/{image['id']}/actions/reactivate").status_code == 204
    assert _call(member, "GET", f"{base}/{image['id']}").json()["status"] == "active"
    patch = _call(member, "PATCH", f"{base}/{image['id']}", json=[{"op": "add", "path": "/stores", "value": "x"}],
                  headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert patch.status_code == 403, patch.text  # read-only, as Glance's
