"""The ``metadata`` sub-resource Cinder gives volumes and snapshots: the same bodies, rules of each noun's own.

``GET/POST/PUT {item}/metadata`` (read, merge, replace) and ``GET/PUT/DELETE {item}/metadata/{key}`` (one item),
Cinder's Block Storage v3 "Volume metadata" and "Snapshot metadata" references: 404 for an unknown key, 400 when
an item's body names another key than its URL, bodies validated by ``METADATA_BODY`` / ``META_ITEM``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.volume.api.common import authorize_owned, body_of, context, core
from nubis.volume.api.schemas.volumes import META_ITEM, METADATA_BODY


@dataclass(frozen=True)
class MetadataOf:
    """Whose metadata: the path parameter naming it, its core store (``owner``, ``metadata``,
    ``set_metadata``, ``delete_metadata_item``), and the policy rules for reading, writing and deleting."""

    id_name: str
    store: Callable[[Any], Any]
    read_rule: str
    write_rule: str
    delete_rule: str


def routes(item: str, of: MetadataOf) -> router.RouteTable:
    """The six handlers under ``item`` (a route path ending in ``{<of.id_name>}``)."""

    def owned(req: router.Request, rule: str, path: dict[str, str]) -> tuple[Any, str]:
        resource_id = path[of.id_name]
        store = of.store(core(req))
        authorize_owned(req, rule, store.owner(resource_id))
        return store, resource_id

    def show(req: router.Request, **path: str) -> webob.Response:
        store, resource_id = owned(req, of.read_rule, path)
        return router.json_response({"metadata": store.metadata(context(req), resource_id)})

    def put_all(req: router.Request, path: dict[str, str], replace: bool) -> webob.Response:
        store, resource_id = owned(req, of.write_rule, path)
        body = body_of(req)
        validation.validate(body, METADATA_BODY)
        return router.json_response({"metadata": store.set_metadata(context(req), resource_id, body["metadata"],
                                                                    replace)})

    def merge(req: router.Request, **path: str) -> webob.Response:
        return put_all(req, path, replace=False)

    def replace(req: router.Request, **path: str) -> webob.Response:
        return put_all(req, path, replace=True)

    def show_item(req: router.Request, key: str, **path: str) -> webob.Response:
        store, resource_id = owned(req, of.read_rule, path)
        items = store.metadata(context(req), resource_id)
        if key not in items:
            raise exceptions.NotFound(f"Metadata item was not found: {key}.")
        return router.json_response({"meta": {key: items[key]}})

    def update_item(req: router.Request, key: str, **path: str) -> webob.Response:
        store, resource_id = owned(req, of.write_rule, path)
        body = body_of(req)
        validation.validate(body, META_ITEM)
        if key not in body["meta"]:
            raise exceptions.BadRequest("Request body and URI mismatch: the key in the body is not the URL's.")
        store.set_metadata(context(req), resource_id, body["meta"], replace=False)
        return router.json_response({"meta": body["meta"]})

    def delete_item(req: router.Request, key: str, **path: str) -> webob.Response:
        store, resource_id = owned(req, of.delete_rule, path)
        store.delete_metadata_item(context(req), resource_id, key)
        return router.empty_response(200)

    return {f"{item}/metadata": {"GET": show, "POST": merge, "PUT": replace},
            f"{item}/metadata/{{key}}": {"GET": show_item, "PUT": update_item, "DELETE": delete_item}}
