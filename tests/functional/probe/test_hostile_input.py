"""Hostile input against every write and every read of every API, generated with hypothesis.

Each write route of the persona matrix has a valid body; hypothesis replaces one
part of it (a field, a nested object, the whole body) with something hostile:
wrong types, integers past 2**63, huge floats, long and non-ASCII strings, deep
nesting, invalid UTF-8. Each read route gets odd path ids and undecodable query
strings. Whatever the input, the service must answer below 500, in its own error
format when it refuses, store nothing it refused, and serve the next request on
the same connection. ``NUBIS_PROBE_EXAMPLES`` bounds the examples per route.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import CONFIG as COMPUTE_CONFIG
from tests.functional.probe import rows as matrix
from tests.functional.probe.test_matrix import API_SERVICES, SERVICES, world_urls
from tests.functional.probe.world import World, build

EXAMPLES = int(os.environ.get("NUBIS_PROBE_EXAMPLES", "12"))
PLACEHOLDER = "__nubis_hostile__"
# The version document of each service: what "the next request" asks for.
ROOTS = {"identity": "/v3", "compute": "/v2.1", "network": "/", "image": "/versions", "placement": "/",
         "metering": "/", "volume": "/v3"}

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("hostile")
    with cloud_fixture.running_cloud(tmp, SERVICES, extra_config=COMPUTE_CONFIG) as cloud:
        yield build(cloud, world_urls(cloud))


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


HOSTILE_JSON = st.one_of(
    st.integers(min_value=2**63 - 2, max_value=2**66).map(str),
    st.integers(min_value=-(2**66), max_value=-(2**63) + 2).map(str),
    st.sampled_from(["1e308", "-1e308", "0.5", "-1", "0", "true", "false", "null", "[]", "{}", '""', '" "']),
    st.text(max_size=40).map(json.dumps),
    st.text(min_size=1, max_size=4).map(lambda s: json.dumps(s * 2000)),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=4).map(json.dumps),
    st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3).map(json.dumps),
    st.integers(min_value=50, max_value=60000).map(_deep),
    st.sampled_from(['"\\ud800"', '"a\\u0000b"', '"../../etc/passwd"', '"\u00e9\u00e9"', '"1; DROP TABLE x"']),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value that can be replaced (the root included)."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


def _replace(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return PLACEHOLDER
    copy = json.loads(json.dumps(value))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = PLACEHOLDER
    return copy


def _fault_shape_ok(service: str, body: Any) -> bool:
    """Whether ``body`` is an error in ``service``'s own fault format."""
    if service in ("compute", "metering", "volume"):  # metering and Cinder use Nova's fault shape
        return isinstance(body, dict) and len(body) == 1 and {"message", "code"} <= set(next(iter(body.values())))
    if service in ("identity", "image"):  # glanceclient needs every top-level value to be an object
        return isinstance(body, dict) and list(body) == ["error"] and {"code", "title", "message"} <= set(body["error"])
    if service == "network":
        return isinstance(body, dict) and {"type", "message"} <= set(body.get("NeutronError", {}))
    if service == "placement":
        return isinstance(body, dict) and bool(body.get("errors")) and "detail" in body["errors"][0]
    return isinstance(body, dict) and {"code", "message"} <= set(body)


def _count(world: World, row: matrix.Row) -> int | None:
    """How many items the listing of a collection POST shows to the admin (None: no listing)."""
    lists = {(r.service, r.template, tuple(sorted(r.params.items()))) for r in matrix.ROWS if r.method == "GET"}
    if (row.service, row.template, tuple(sorted(row.params.items()))) not in lists:
        return None
    resp = world.call("admin", row.service, "GET", matrix.resolve(row, world))
    body = resp.json() if resp.status_code == 200 else None
    items = [v for v in (body or {}).values() if isinstance(v, list)]
    return len(items[0]) if len(items) == 1 else None


def _check_answer(world: World, session: requests.Session, service: str, resp: requests.Response,
                  what: str) -> None:
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"
    if resp.status_code >= 400 and resp.request.method != "HEAD":
        try:
            body = resp.json()
        except ValueError:
            body = None
        assert _fault_shape_ok(service, body), f"{what}: not {service}'s fault format: {resp.text[:300]}"
    again = session.get(world.urls[service] + ROOTS[service], timeout=10,
                        headers={"X-Auth-Token": world.tokens["admin"]})
    assert again.status_code == 200, f"after {what} the next request on the connection failed: {again.status_code}"


WRITES = [r for r in matrix.ROWS if r.body is not None and r.method in ("POST", "PUT", "PATCH")]


@pytest.mark.parametrize("row", WRITES, ids=lambda r: f"{r.service} {r.method} {r.template} {r.params}")
@SETTINGS
@given(data=st.data())
def test_hostile_bodies(world: World, row: matrix.Row, data: st.DataObject) -> None:
    assert row.body is not None
    valid = row.body(world)
    path = data.draw(st.sampled_from(_paths(valid)), label="replaced")
    hostile = data.draw(HOSTILE_JSON, label="value")
    text = json.dumps(_replace(valid, path)).replace(json.dumps(PLACEHOLDER), hostile, 1)
    before = _count(world, row) if row.method == "POST" else None
    with requests.Session() as session:
        headers = {"X-Auth-Token": world.tokens["admin"], "Content-Type": "application/json"}
        if row.service == "image" and row.method == "PATCH":
            headers["Content-Type"] = "application/openstack-images-v2.1-json-patch"
        resp = session.request(row.method, world.urls[row.service] + matrix.resolve(row, world),
                               data=text.encode("utf-8", "surrogatepass"), headers=headers, timeout=60)
        what = f"{row.method} {row.template} with {path}={hostile[:80]}"
        _check_answer(world, session, row.service, resp, what)
    if before is not None and resp.status_code >= 400:
        assert _count(world, row) == before, f"{what} was refused ({resp.status_code}) but something was stored"


def test_invalid_utf8_bodies(world: World) -> None:
    """Bytes that are not UTF-8 at all, on every write route."""
    for row in WRITES:
        with requests.Session() as session:
            resp = session.request(row.method, world.urls[row.service] + matrix.resolve(row, world),
                                   data=b'{"name": "\xff\xfe"}', timeout=30,
                                   headers={"X-Auth-Token": world.tokens["admin"], "Content-Type": "application/json"})
            _check_answer(world, session, row.service, resp, f"{row.method} {row.template} with invalid UTF-8")


READS_WITH_IDS = [r for r in matrix.ROWS if r.method == "GET" and "{" in r.template]
ODD_IDS = st.one_of(
    st.sampled_from(["\u00e9", "%ff", "%00", "..", "-1", "0", "9223372036854775808", "null", "true", " ", "a" * 300,
                     "a/b", "%2e%2e%2f", "\U0001f600", "1e308", "[]"]),
    st.text(min_size=1, max_size=20),
)


@pytest.mark.parametrize("row", READS_WITH_IDS, ids=lambda r: f"{r.service} {r.template} {r.params}")
@SETTINGS
@given(odd=ODD_IDS)
def test_odd_ids_in_paths(world: World, row: matrix.Row, odd: str) -> None:
    path = matrix.resolve(row, world)
    # Replace the last id of the path: the one the route is about.
    head, _, _ = path.rpartition("/")
    quoted = odd if odd.startswith("%") else urllib.parse.quote(odd, safe="")
    with requests.Session() as session:
        resp = session.get(world.urls[row.service] + head + "/" + quoted, timeout=30,
                           headers={"X-Auth-Token": world.tokens["admin"]})
        _check_answer(world, session, row.service, resp, f"GET {row.template} with id {odd!r}")


@pytest.mark.parametrize("row", [r for r in matrix.ROWS if r.method == "GET"],
                         ids=lambda r: f"{r.service} {r.template} {r.params}")
def test_undecodable_query_strings(world: World, row: matrix.Row) -> None:
    path = matrix.resolve(row, world)
    for query in ("x=%ff", "%ff=1", "limit=%ff", "limit=99999999999999999999", "marker=%00", "sort_key=%ff"):
        with requests.Session() as session:
            resp = session.get(f"{world.urls[row.service]}{path}?{query}", timeout=30,
                               headers={"X-Auth-Token": world.tokens["admin"]})
            _check_answer(world, session, row.service, resp, f"GET {path}?{query}")


def test_api_services_are_probed() -> None:
    """Every API service of the matrix is probed here too."""
    assert {r.service for r in WRITES} == set(API_SERVICES)
