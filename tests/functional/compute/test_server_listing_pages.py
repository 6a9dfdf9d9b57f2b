"""Server listings paged in SQL: limit, marker and sort behave as Nova's (and as the in-Python paging did).

Walking a listing page by page with ``limit`` and each page's last id as ``marker`` gives exactly the
one-request listing, in the order Nova documents (``sort_key``/``sort_dir``, then uuid ascending); the
filters applied outside SQL (name regex, tags) page the same way; an unknown marker is a 400.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.functional.compute.conftest import ComputeCloud, wait_for_status

NAMES = ["delta", "alpha", "echo", "bravo", "alpha", "charlie"]


@pytest.fixture(scope="module")
def tenant(cloud: ComputeCloud, image_id: str, flavor_id: str) -> dict[str, Any]:
    conn = cloud.connection(cloud.new_user(prefix="paging"))
    servers = []
    for i, name in enumerate(NAMES):
        server = conn.compute.create_server(name=name, image_id=image_id, flavor_id=flavor_id, networks="none")
        servers.append(server.id)
        if i % 2 == 0:
            conn.compute.put(f"/servers/{server.id}/tags/even", microversion="2.26")
    for server_id in servers:
        wait_for_status(conn, server_id, "ACTIVE")
    return {"conn": conn, "headers": {"X-Auth-Token": conn.session.get_token(),
                                      "OpenStack-API-Version": "compute 2.26"}}


def _list(cloud: ComputeCloud, tenant: dict[str, Any], **params: Any) -> requests.Response:
    return requests.get(f"{cloud.url('compute-api')}/v2.1/servers/detail", params=params, headers=tenant["headers"],
                        timeout=10)


def _ids(resp: requests.Response) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [s["id"] for s in resp.json()["servers"]]


def _walk(cloud: ComputeCloud, tenant: dict[str, Any], limit: int, **params: Any) -> list[str]:
    seen: list[str] = []
    marker = None
    while True:
        page = _list(cloud, tenant, limit=limit, **({"marker": marker} if marker else {}), **params)
        ids = _ids(page)
        assert len(ids) <= limit
        seen += ids
        if len(ids) < limit or "servers_links" not in page.json():
            return seen
        marker = ids[-1]


@pytest.mark.parametrize("sort", [{}, {"sort_key": "display_name", "sort_dir": "asc"},
                                  {"sort_key": "display_name", "sort_dir": "desc"},
                                  {"sort_key": "created_at", "sort_dir": "asc"}, {"sort_key": "uuid"}])
@pytest.mark.parametrize("filters", [{}, {"name": "^[a-d]"}, {"tags": "even"}])
def test_pages_walked_by_marker_are_the_whole_listing_in_order(cloud: ComputeCloud, tenant: dict[str, Any],
                                                               sort: dict[str, str], filters: dict[str, str]) -> None:
    whole = _list(cloud, tenant, **sort, **filters)
    servers = whole.json()["servers"]
    key = {"display_name": "name", "created_at": "created", "uuid": "id"}[sort.get("sort_key", "created_at")]
    descending = sort.get("sort_dir", "desc") == "desc"
    # Nova's order: the sort key, then uuid ascending to break ties.
    expected = sorted(servers, key=lambda s: s["id"])
    expected.sort(key=lambda s: s[key], reverse=descending)
    if key == "created":  # stored to the microsecond, shown to the second: ties in the view are no ties
        assert [s[key] for s in servers] == [s[key] for s in expected]
    else:
        assert [s["id"] for s in servers] == [s["id"] for s in expected]
    if filters.get("name"):
        assert sorted(s["name"] for s in servers) == sorted(n for n in NAMES if n[0] in "abcd")
    if filters.get("tags"):
        assert len(servers) == len(NAMES[::2])
    for limit in (1, 2, 4):
        assert _walk(cloud, tenant, limit, **sort, **filters) == [s["id"] for s in servers]


def test_marker_and_limit_edges(cloud: ComputeCloud, tenant: dict[str, Any]) -> None:
    everything = _ids(_list(cloud, tenant))
    assert len(everything) == len(NAMES)
    assert _ids(_list(cloud, tenant, limit=0)) == []
    assert _ids(_list(cloud, tenant, marker=everything[-1])) == []
    assert _ids(_list(cloud, tenant, marker=everything[1], limit=2)) == everything[2:4]
    for marker in (str(uuid.uuid4()), "not-a-uuid"):
        resp = _list(cloud, tenant, marker=marker)
        assert resp.status_code == 400 and "marker" in resp.json()["badRequest"]["message"]
    # A server the filter leaves out is no marker of the filtered listing.
    echo = next(s["id"] for s in _list(cloud, tenant, name="^echo$").json()["servers"])
    assert _list(cloud, tenant, name="^[a-d]", marker=echo).status_code == 400
