"""Network listings paged in SQL give the pages the in-Python paging gives.

A listing ordered by id and filtered only on ids is cut by the database
(``nubis.common.db.paging``); any other is filtered and sorted on the views.
Adding a filter every item passes (``admin_state_up=True``) sends the same
request down the in-Python path, so the two are compared page by page:
items, ``next``/``previous`` links, ``page_reverse``, unknown markers.
"""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest


def _page(conn: Any, params: list[tuple[str, str]]) -> tuple[list[str], dict[str, str | None]]:
    resp = conn.network.get("/networks?" + urllib.parse.urlencode(params))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    links = {}
    for link in body.get("networks_links", []):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link["href"]).query))
        links[link["rel"]] = (query.get("marker"), query.get("page_reverse"))
    return [n["id"] for n in body["networks"]], links


@pytest.fixture(scope="module")
def project(cloud):  # type: ignore[no-untyped-def]
    conn = cloud.connection(cloud.new_user(prefix="pages"))
    nets = [conn.network.create_network(name=f"pages-{i}-{uuid.uuid4().hex[:4]}") for i in range(7)]
    yield conn, sorted(n.id for n in nets)
    for n in nets:
        conn.network.delete_network(n)


@pytest.mark.parametrize("order", [[], [("sort_key", "id"), ("sort_dir", "asc")],
                                   [("sort_key", "id"), ("sort_dir", "desc")]])
@pytest.mark.parametrize("reverse", [False, True])
def test_sql_pages_are_the_in_python_pages(project, order, reverse):  # type: ignore[no-untyped-def]
    conn, ids = project
    descending = ("sort_dir", "desc") in order
    whole, _ = _page(conn, order)
    assert whole == (sorted(ids, reverse=descending))
    for limit in (1, 3, 7):
        for marker in [None, *ids, str(uuid.uuid4())]:
            params = [*order, ("limit", str(limit))] + ([("marker", marker)] if marker else []) + \
                ([("page_reverse", "True")] if reverse else [])
            in_sql = _page(conn, params)
            in_python = _page(conn, [*params, ("admin_state_up", "True")])
            assert in_sql == in_python, (params, in_sql, in_python)
            if marker in ids and not reverse:
                after = whole[whole.index(marker) + 1:]
                assert in_sql[0] == after[:limit]


def test_id_filters_page_in_sql_the_same(project):  # type: ignore[no-untyped-def]
    conn, ids = project
    chosen = ids[1:5]
    params = [("limit", "2")] + [("id", i) for i in chosen]
    assert _page(conn, params) == _page(conn, [*params, ("admin_state_up", "True")])
    assert _page(conn, params)[0] == chosen[:2]
    tenant = conn.session.get_project_id()
    first, links = _page(conn, [("limit", "3"), ("tenant_id", tenant)])
    assert first == ids[:3] and links["next"] == (ids[2], None)
