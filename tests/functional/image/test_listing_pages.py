"""GET /v2/images pages in SQL: following `next` gives every image once, in order; unknown markers are 400."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.cloud import Cloud
from tests.functional.image.conftest import CONFIG
from tests.functional.image.test_field_validation import _create

MAX_LIMIT = 5


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The image service with a small [image] api_limit_max, so the bound shows with a few images."""
    tmp = tmp_path_factory.mktemp("image-pages")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {**CONFIG, "image": {**CONFIG["image"], "api_limit_max": str(MAX_LIMIT)},
                 "database": {"connection": url}}
        with cloud_fixture.running_cloud(tmp, ["image"], extra_config=extra) as c:
            yield c


@pytest.fixture(scope="module")
def tagged(cloud: Cloud, api: requests.Session) -> tuple[str, dict[str, dict[str, Any]]]:
    """Images sharing a tag, with ties on name (and one without a name)."""
    tag = f"pages-{uuid.uuid4().hex[:8]}"
    images = {}
    for name in ("same", "alpha", "same", None, "same", "zeta", "same", "alpha"):
        resp = _create(cloud, api, {"tags": [tag], **({"name": name} if name else {})})
        assert resp.status_code == 201, resp.text
        images[resp.json()["id"]] = resp.json()
    return tag, images


def _follow(cloud: Cloud, api: requests.Session, url: str) -> list[list[str]]:
    pages = []
    while url:
        body = api.get(url, timeout=10).json()
        pages.append([image["id"] for image in body["images"]])
        assert len(pages) < 50, "next links never end"
        url = f"{cloud.url('image')}{body['next']}" if "next" in body else ""
    return pages


@pytest.mark.parametrize("sort", ["sort_key=name&sort_dir=asc", "sort_key=name&sort_dir=desc", "sort=name:asc,size",
                                  "sort_key=created_at"])
def test_next_links_give_every_image_once_in_order(cloud: Cloud, api: requests.Session,
                                                   tagged: tuple[str, dict[str, dict[str, Any]]], sort: str) -> None:
    tag, images = tagged
    base = f"{cloud.url('image')}/v2/images?tag={tag}&{sort}"
    whole = _follow(cloud, api, f"{base}&limit={MAX_LIMIT}")
    expected = [i for page in whole for i in page]
    assert sorted(expected) == sorted(images)
    for limit in (1, 2, 3):
        pages = _follow(cloud, api, f"{base}&limit={limit}")
        assert [i for page in pages for i in page] == expected, f"limit {limit}"
        assert all(len(page) == limit for page in pages[:-1])
    if "name" in sort:  # the order really is by name: NULL first ascending, last descending (Glance on MySQL)
        names = [images[i].get("name") or "" for i in expected]
        assert names == sorted(names, reverse="desc" in sort)


def test_limit_is_bounded_by_api_limit_max(cloud: Cloud, api: requests.Session,
                                           tagged: tuple[str, dict[str, dict[str, Any]]]) -> None:
    tag, images = tagged
    body = api.get(f"{cloud.url('image')}/v2/images", params={"tag": tag, "limit": 1000}, timeout=10).json()
    assert len(body["images"]) == MAX_LIMIT and "marker=" in body["next"] and "limit=1000" in body["next"]
    last = api.get(f"{cloud.url('image')}/v2/images",
                   params={"tag": tag, "limit": 1000, "marker": body["images"][-1]["id"]}, timeout=10).json()
    assert len(last["images"]) == len(images) - MAX_LIMIT and "next" not in last


def test_unknown_marker_is_400(cloud: Cloud, api: requests.Session,
                               tagged: tuple[str, dict[str, dict[str, Any]]]) -> None:
    tag, images = tagged
    for marker in (str(uuid.uuid4()), "not-an-id"):
        resp = api.get(f"{cloud.url('image')}/v2/images", params={"tag": tag, "marker": marker}, timeout=10)
        assert resp.status_code == 400 and "marker" in resp.json()["error"]["message"], resp.text
    # An image outside the filtered listing is no marker for it either (the listing it would continue is unknown).
    other = _create(cloud, api, {"name": "untagged"}).json()["id"]
    resp = api.get(f"{cloud.url('image')}/v2/images", params={"tag": tag, "marker": other}, timeout=10)
    assert resp.status_code == 400
    assert api.get(f"{cloud.url('image')}/v2/images", params={"tag": tag, "limit": -1}, timeout=10).status_code == 400
