"""Every API route, called as every persona: allowed callers are let through, others are refused.

The rows (``rows.py``) follow the references' default policies. For each row:
- every persona the row allows reads without a 401/403;
- every persona it does not allow gets no 2xx, for reads and writes alike (the
  writes carry valid bodies, so a missing policy check would show as a 2xx);
- a caller from another project never sees project A's resources in a listing;
- without a token, every route but the public ones answers 401;
- nothing answers 5xx.
Writes by allowed personas are not sent (they would change the world the other
rows read); the services' own functional tests cover them.
The metadata API is not here: guests reach it without tokens, by address.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nubis.api import router
from tests.functional import cloud as cloud_fixture
from tests.functional.compute.conftest import CONFIG as COMPUTE_CONFIG
from tests.functional.probe import rows as matrix
from tests.functional.probe.world import ANONYMOUS, PERSONAS, World, build

SERVICES = ["image", "placement", "scheduler", "compute-api", "conductor", "compute", "network", "metering",
            "volume", "volume-manager"]
API_SERVICES = {"identity": "identity", "compute": "compute-api", "network": "network", "image": "image",
                "placement": "placement", "metering": "metering", "volume": "volume"}
READS = ("GET", "HEAD")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: Any) -> Iterator[cloud_fixture.Cloud]:
    tmp = tmp_path_factory.mktemp("persona")
    with cloud_fixture.running_cloud(tmp, SERVICES, extra_config=COMPUTE_CONFIG) as c:
        yield c


def world_urls(cloud: cloud_fixture.Cloud) -> dict[str, str]:
    """Each API's root URL (no version suffix): the rows' templates start below it."""
    urls = {name: cloud.url(service) for name, service in API_SERVICES.items()}
    urls["identity"] = cloud.auth_url.rsplit("/v3", 1)[0]
    for name, suffix in (("compute", "/v2.1"), ("network", "/v2.0"), ("image", "/v2")):
        urls[name] = urls[name].split(suffix)[0]
    return urls


@pytest.fixture(scope="module")
def world(cloud: cloud_fixture.Cloud) -> World:
    return build(cloud, world_urls(cloud))


def _router_of(app: Any) -> router.Router:
    """The Router at the bottom of a service's middleware stack."""
    for _ in range(20):
        if isinstance(app, router.Router):
            return app
        inner = [getattr(app, a) for a in ("app", "_app", "application") if hasattr(app, a)]
        # A middleware written as a closure keeps the app it wraps in a cell.
        inner += [c.cell_contents for c in getattr(app, "__closure__", None) or () if callable(c.cell_contents)]
        assert inner, f"cannot see inside {type(app)!r}: {vars(app)}"
        app = inner[0]
    raise AssertionError("no Router in the middleware stack")


def test_every_route_has_a_row(cloud: cloud_fixture.Cloud) -> None:
    from nubis import services

    assert cloud.aio.runtime is not None
    served = set()
    for name, service in API_SERVICES.items():
        api = _router_of(services.load(service).build_api(cloud.aio.runtime))  # type: ignore[misc]
        for template, _pattern, methods in api._routes:
            served |= {(name, method, template) for method in methods}
    covered = {(r.service, r.method, r.template) for r in matrix.ROWS}
    assert sorted(served - covered) == [], "routes without a persona-matrix row"
    assert sorted(covered - served) == [], "rows for routes that are not served"


def _row_id(row: matrix.Row) -> str:
    extra = row.params.get("collection", "").lstrip("=")
    return f"{row.service} {row.method} {row.template}" + (f" [{extra}]" if extra else "")


# Reads first: a write that wrongly succeeds must not hide what the reads would have shown.
ORDERED = sorted(matrix.ROWS, key=lambda r: r.method not in READS)


@pytest.mark.parametrize("row", ORDERED, ids=_row_id)
def test_persona_matrix(world: World, row: matrix.Row) -> None:
    failures = check_row(world, row)
    assert not failures, "\n".join(failures)


def check_row(world: World, row: matrix.Row) -> list[str]:
    """Call ``row`` as every persona; the list of what went against the row's access class."""
    access = matrix.CLASSES[row.access]
    path = matrix.resolve(row, world)
    is_read = row.method in READS
    unchecked = access.unchecked_reads if is_read else access.unchecked_writes
    failures: list[str] = []
    for persona in (*PERSONAS, ANONYMOUS):
        allowed = row.access == "public" or persona in access.allowed
        if persona == ANONYMOUS:
            if row.access == "public" and not is_read:
                continue
        elif persona in unchecked and not is_read:
            continue
        elif allowed and not is_read:
            continue  # see the module docstring
        headers = row.headers(world, persona) if row.headers else {}
        if row.template == "/v3/auth/tokens" and persona != ANONYMOUS:
            headers["X-Subject-Token"] = world.tokens[persona]
        body = row.body(world) if row.body else None
        resp = world.call(persona, row.service, row.method, path, body, headers)
        status = resp.status_code
        said = f"{persona}: {status} {resp.text[:200]}"
        if status >= 500:
            failures.append(f"server error for {said}")
        elif persona == ANONYMOUS:
            if row.access != "public" and status != 401:
                failures.append(f"no token must be 401, got {said}")
        elif persona in unchecked:
            continue
        elif allowed and status in (401, 403):
            failures.append(f"must be allowed, refused: {said}")
        elif not allowed and status < 300:
            failures.append(f"must be refused, got through: {said}")
        elif not allowed and is_read and status not in (403, 404):
            failures.append(f"a refused read must be 403 or 404: {said}")
        if persona in ("other", "domain_admin") and status < 300 and is_read:
            leaked = [i for i in world.private_ids() if i in resp.text]
            if leaked:
                failures.append(f"{persona} sees project A's {leaked} in {row.method} {path}")
    return failures
