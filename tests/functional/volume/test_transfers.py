"""Volume transfers through the API (Cinder's ``os-volume-transfer`` and, from 3.55, ``volume-transfers``; the
checks of Tempest's test_volume_transfers): create, show, list, delete, accept by another project, snapshots
moving with the volume or not (``no_snapshots``), wrong keys and the receiver's quotas."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from tests import fixtures
from tests.functional.cloud import Cloud
from tests.functional.volume.test_volumes import Api

# Tempest's schemas of a transfer (they allow no other fields).
CREATED = {"id", "auth_key", "links", "created_at", "volume_id", "name"}
SHOWN = {"id", "links", "created_at", "volume_id", "name"}
LISTED = {"id", "volume_id", "links", "name"}
HISTORY = {"destination_project_id", "source_project_id", "accepted"}



@pytest.fixture(scope="module")
def owner(cloud: Cloud) -> Api:
    return Api(cloud, cloud.new_user(["member", "reader"], prefix="giver"))


@pytest.fixture(scope="module")
def receiver(cloud: Cloud) -> Api:
    creds = cloud.new_user(["member", "reader"], prefix="taker")
    api = Api(cloud, creds)
    api.user_id = cloud.connection(creds).session.get_user_id()  # type: ignore[attr-defined]
    return api


def _call(api: Api, method: str, path: str, body: Any = None, version: str | None = None,
          status: int | None = None) -> Any:
    resp = api.call(method, path, body, version=version)
    assert resp.status_code < 300 and (status is None or resp.status_code == status), \
        f"{method} {path}: {resp.status_code} {resp.text}"
    return resp.json() if resp.content else None


def _snapshot(api: Api, volume_id: str) -> str:
    snap = api.ok("POST", "/snapshots", {"snapshot": {"volume_id": volume_id}}, status=202)["snapshot"]
    fixtures.wait_until(lambda: api.ok("GET", f"/snapshots/{snap['id']}")["snapshot"]["status"] == "available",
                        timeout=30, what="the snapshot")
    snapshot_id: str = snap["id"]
    return snapshot_id


@pytest.mark.parametrize(("collection", "version"), [("os-volume-transfer", None),
                                                     ("volume-transfers", "3.55"),
                                                     ("volume-transfers", "3.57")])
def test_create_get_list_accept(cloud: Cloud, owner: Api, receiver: Api, admin: Api, collection: str,
                                version: str | None) -> None:
    """Tempest's create/get/list/accept: the volume (and its snapshot) become the receiver's."""
    vol = owner.wait(owner.create(1, name="gift")["id"], "available")
    snap_id = _snapshot(owner, vol["id"])
    made = _call(owner, "POST", f"/{collection}", {"transfer": {"volume_id": vol["id"], "name": " t1 "}},
                 version, status=202)["transfer"]
    extra = {"no_snapshots"} if version else set()
    extra |= HISTORY if version == "3.57" else set()
    assert set(made) == CREATED | extra, set(made)
    assert made["name"] == "t1" and made["volume_id"] == vol["id"] and len(made["auth_key"]) == 16
    assert made["links"][0]["href"].endswith(f"/{collection}/{made['id']}")
    if version == "3.57":
        assert (made["source_project_id"], made["destination_project_id"], made["accepted"]) == (
            owner.project_id, None, False)
    assert owner.volume(vol["id"])["status"] == "awaiting-transfer"

    shown = _call(owner, "GET", f"/{collection}/{made['id']}", version=version)["transfer"]
    assert set(shown) == SHOWN | extra and "auth_key" not in shown and shown["volume_id"] == vol["id"]
    brief = _call(owner, "GET", f"/{collection}", version=version)["transfers"]
    assert [t for t in brief if t["id"] == made["id"]] and all(set(t) == LISTED for t in brief)
    detailed = _call(owner, "GET", f"/{collection}/detail", version=version)["transfers"]
    assert vol["id"] in [t["volume_id"] for t in detailed]

    # The receiver cannot see the offer (it knows the id and key from the owner) nor the volume yet.
    assert receiver.call("GET", f"/{collection}/{made['id']}", version=version).status_code == 404
    assert made["id"] not in receiver.call("GET", f"/{collection}", version=version).text
    assert receiver.call("DELETE", f"/{collection}/{made['id']}", version=version).status_code == 404
    wrong = receiver.call("POST", f"/{collection}/{made['id']}/accept", {"accept": {"auth_key": "0" * 16}},
                          version=version)
    assert wrong.status_code == 400 and "auth key" in wrong.text, wrong.text
    assert receiver.call("POST", f"/{collection}/{uuid.uuid4()}/accept", {"accept": {"auth_key": "x"}},
                         version=version).status_code == 404
    accepted = _call(receiver, "POST", f"/{collection}/{made['id']}/accept",
                     {"accept": {"auth_key": made["auth_key"]}}, version, status=202)["transfer"]
    assert set(accepted) == LISTED and accepted["volume_id"] == vol["id"] and accepted["name"] == "t1"

    taken = receiver.wait(vol["id"], "available")
    assert taken["os-vol-tenant-attr:tenant_id"] == receiver.project_id
    assert taken["user_id"] == receiver.user_id  # type: ignore[attr-defined]
    assert owner.call("GET", f"/volumes/{vol['id']}").status_code == 404
    snap = receiver.ok("GET", f"/snapshots/{snap_id}")["snapshot"]
    assert snap["volume_id"] == vol["id"]
    assert owner.call("GET", f"/snapshots/{snap_id}").status_code == 404
    assert owner.call("GET", f"/{collection}/{made['id']}", version=version).status_code == 404  # accepted: gone

    receiver.ok("DELETE", f"/snapshots/{snap_id}")
    receiver.gone(f"/snapshots/{snap_id}")
    receiver.ok("DELETE", f"/volumes/{vol['id']}")
    receiver.gone(f"/volumes/{vol['id']}")


def test_create_list_delete(owner: Api) -> None:
    """Tempest's create/list/delete: deleting the transfer gives the volume back."""
    vol = owner.wait(owner.create(1)["id"], "available")
    made = owner.ok("POST", "/os-volume-transfer", {"transfer": {"volume_id": vol["id"]}}, status=202)["transfer"]
    assert made["name"] is None
    assert vol["id"] in [t["volume_id"] for t in owner.ok("GET", "/os-volume-transfer/detail")["transfers"]]
    again = owner.call("POST", "/os-volume-transfer", {"transfer": {"volume_id": vol["id"]}})
    assert again.status_code == 400 and "available" in again.text  # already awaiting a transfer
    refused = owner.call("DELETE", f"/volumes/{vol['id']}")
    assert refused.status_code == 400
    owner.ok("DELETE", f"/os-volume-transfer/{made['id']}", status=202)
    assert owner.volume(vol["id"])["status"] == "available"
    assert owner.call("GET", f"/os-volume-transfer/{made['id']}").status_code == 404
    owner.ok("DELETE", f"/volumes/{vol['id']}")


def test_no_snapshots_leaves_them_with_the_owner(owner: Api, receiver: Api) -> None:
    vol = owner.wait(owner.create(1)["id"], "available")
    snap_id = _snapshot(owner, vol["id"])
    # no_snapshots is a 3.55 field.
    assert owner.call("POST", "/os-volume-transfer", {"transfer": {"volume_id": vol["id"],
                                                                   "no_snapshots": True}}).status_code == 400
    made = _call(owner, "POST", "/volume-transfers", {"transfer": {"volume_id": vol["id"], "no_snapshots": True}},
                 "3.55", status=202)["transfer"]
    assert made["no_snapshots"] is True
    _call(receiver, "POST", f"/volume-transfers/{made['id']}/accept", {"accept": {"auth_key": made["auth_key"]}},
          "3.55", status=202)
    receiver.wait(vol["id"], "available")
    assert owner.ok("GET", f"/snapshots/{snap_id}")["snapshot"]["volume_id"] == vol["id"]
    assert receiver.call("GET", f"/snapshots/{snap_id}").status_code == 404
    owner.ok("DELETE", f"/snapshots/{snap_id}")
    owner.gone(f"/snapshots/{snap_id}")
    receiver.ok("DELETE", f"/volumes/{vol['id']}")


def test_refusals_quota_and_bad_input(cloud: Cloud, owner: Api, admin: Api) -> None:
    # volume-transfers is there from 3.55 only.
    assert owner.call("GET", "/volume-transfers").status_code == 404
    assert owner.call("GET", "/volume-transfers/detail", version="3.54").status_code == 404
    assert owner.ok("GET", "/os-volume-transfer/detail")["transfers"] is not None
    assert owner.call("POST", "/os-volume-transfer", {"transfer": {"volume_id": str(uuid.uuid4())}}).status_code == 404
    bad: Any
    for bad in ({}, {"transfer": {}}, {"transfer": {"volume_id": "x", "color": "red"}}, []):
        resp = owner.call("POST", "/os-volume-transfer", bad)
        assert resp.status_code == 400 and "badRequest" in resp.json(), (bad, resp.text)

    vol = owner.wait(owner.create(2)["id"], "available")
    pending = owner.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}}, status=202)["snapshot"]
    # The manager first finishes the snapshot (else its "available" could land after the rewind below).
    fixtures.wait_until(lambda: owner.ok("GET", f"/snapshots/{pending['id']}")["snapshot"]["status"] == "available",
                        timeout=60, what="the snapshot to be available")
    runtime = cloud.aio.runtime
    assert runtime is not None
    with runtime.database("volume").writer() as s:  # a snapshot not available yet: the volume cannot move
        s.execute(sa.text("UPDATE snapshot SET status = 'creating' WHERE id = :i"), {"i": pending["id"]})
    blocked = owner.call("POST", "/os-volume-transfer", {"transfer": {"volume_id": vol["id"]}})
    assert blocked.status_code == 400 and pending["id"] in blocked.text, blocked.text
    with runtime.database("volume").writer() as s:
        s.execute(sa.text("UPDATE snapshot SET status = 'available' WHERE id = :i"), {"i": pending["id"]})

    made = owner.ok("POST", "/os-volume-transfer", {"transfer": {"volume_id": vol["id"]}}, status=202)["transfer"]
    for bad in ({}, {"accept": {}}, {"accept": {"auth_key": None}}, {"accept": {"auth_key": "k", "x": 1}}):
        assert owner.call("POST", f"/os-volume-transfer/{made['id']}/accept", bad).status_code == 400, bad

    # The receiver's quotas decide (413): 2 GiB of volume and 2 of its snapshot do not fit in 3.
    small = Api(cloud, cloud.new_user(["member", "reader"], prefix="small"))
    admin.ok("PUT", f"/os-quota-sets/{small.project_id}", {"quota_set": {"gigabytes": 3}})
    over = small.call("POST", f"/os-volume-transfer/{made['id']}/accept", {"accept": {"auth_key": made["auth_key"]}})
    assert over.status_code == 413 and "gigabytes" in over.text, over.text
    admin.ok("PUT", f"/os-quota-sets/{small.project_id}", {"quota_set": {"gigabytes": 10, "volumes": 0}})
    over = small.call("POST", f"/os-volume-transfer/{made['id']}/accept", {"accept": {"auth_key": made["auth_key"]}})
    assert over.status_code == 413 and "volumes" in over.text, over.text
    assert owner.volume(vol["id"])["status"] == "awaiting-transfer"  # still the owner's, still offered

    # Admins list every project's transfers with all_tenants.
    assert made["id"] in [t["id"] for t in admin.ok("GET", "/os-volume-transfer?all_tenants=1")["transfers"]]
    assert made["id"] not in [t["id"] for t in admin.ok("GET", "/os-volume-transfer")["transfers"]]

    admin.ok("DELETE", f"/os-quota-sets/{small.project_id}")
    owner.ok("DELETE", f"/os-volume-transfer/{made['id']}", status=202)
    owner.ok("DELETE", f"/snapshots/{pending['id']}")
    owner.gone(f"/snapshots/{pending['id']}")
    owner.ok("DELETE", f"/volumes/{vol['id']}")
