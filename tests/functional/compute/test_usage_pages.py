"""``/os-simple-tenant-usage`` pages as Nova 2.40 pages them (``limit``, ``marker``): a client that follows
markers until a page has no server usages (novaclient, Horizon's overview) gets every instance once."""

from __future__ import annotations

from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status
from tests.functional.compute.test_api_bounds import _admin, _bad_request


def test_usage_pages_follow_the_marker_to_an_empty_page(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    servers = [boot(cloud, image_id, flavor_id) for _ in range(3)]
    for server in servers:
        wait_for_status(conn, server.id, "ACTIVE")
    project = conn.current_project_id
    api = _admin(cloud, "2.40")
    seen: list[str] = []
    marker = None
    for _ in range(10):
        params = {"start": "2000-01-01T00:00:00", "limit": "2", **({"marker": marker} if marker else {})}
        resp = api.call("GET", f"/os-simple-tenant-usage/{project}", **params)
        assert resp.status_code == 200, resp.text
        page = resp.json()["tenant_usage"]
        usages = page.get("server_usages", [])
        if not usages:
            break
        assert len(usages) <= 2
        seen += [u["instance_id"] for u in usages]
        marker = usages[-1]["instance_id"]
    else:
        raise AssertionError(f"the pages never ended: {seen}")
    assert len(seen) == len(set(seen)) and {s.id for s in servers} <= set(seen)
    whole = _admin(cloud, "2.39").call("GET", f"/os-simple-tenant-usage/{project}", start="2000-01-01T00:00:00",
                                       limit="1", marker=servers[0].id).json()["tenant_usage"]
    assert len(whole["server_usages"]) == len(seen)  # before 2.40 there is no paging
    _bad_request(api.call("GET", f"/os-simple-tenant-usage/{project}", marker="no-such-server"), "marker")
    for server in servers:
        conn.compute.delete_server(server)
