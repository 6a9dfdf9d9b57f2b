"""Links in compute responses: ``self`` (versioned) and ``bookmark`` (unversioned), path segments URL-encoded."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping

from nubis.api import router

API_PREFIX = "/v2.1"


def base_url(req: router.Request) -> str:
    """Scheme, host and port the client used to reach the API."""
    return req.host_url


def path(*segments: str) -> str:
    """``segments`` joined as a URL path, each percent-encoded (a '/' in an id stays inside its segment)."""
    return "/".join(urllib.parse.quote(str(s), safe="") for s in segments)


def links(base: str, *segments: str) -> list[dict[str, str]]:
    """The ``links`` of the resource at ``segments`` (e.g. ``"servers", server_id``)."""
    where = path(*segments)
    return [{"rel": "self", "href": f"{base}{API_PREFIX}/{where}"}, {"rel": "bookmark", "href": f"{base}/{where}"}]


def bookmark(base: str, *segments: str) -> str:
    return f"{base}/{path(*segments)}"


def next_link(base: str, collection: str, query: Mapping[str, str], marker: str) -> list[dict[str, str]]:
    """The ``<collection>_links`` entry that continues a paginated listing after ``marker``."""
    params = {k: v for k, v in query.items() if k != "marker"} | {"marker": marker}
    return [{"rel": "next", "href": f"{base}{API_PREFIX}/{collection}?{urllib.parse.urlencode(params)}"}]
