"""Volume transfers: ``/os-volume-transfer``, and ``/volume-transfers`` from 3.55 (with ``no_snapshots``):
create (the ``auth_key`` is shown once), list (brief and detailed), show, delete, accept (by another project)."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.volume.api.common import (
    authorize,
    authorize_owned,
    body_of,
    context,
    core,
    is_true,
    list_query,
    page_response,
    version_of,
)
from nubis.volume.api.schemas import transfers as schemas
from nubis.volume.api.views import transfers as views

LEGACY = "os-volume-transfer"
CURRENT = "volume-transfers"
CURRENT_VERSION = Version(3, 55)
FILTERS = ("name", "volume_id")


def _collection(req: router.Request, collection: str) -> str:
    """The path's collection; ``volume-transfers`` is there from 3.55 only (404 before, as Cinder)."""
    if collection == CURRENT and version_of(req) < CURRENT_VERSION:
        raise exceptions.NotFound(f"The resource could not be found: {CURRENT} needs microversion 3.55 or later.")
    return collection


def _owned(req: router.Request, rule: str, transfer_id: str) -> None:
    authorize_owned(req, rule, core(req).transfers.owner(transfer_id))


def create(req: router.Request, collection: str) -> webob.Response:
    collection = _collection(req, collection)
    body = body_of(req)
    version = version_of(req)
    # no_snapshots is a field of the 3.55 API (both paths take it from 3.55, as Cinder's schema does).
    validation.validate(body, schemas.CREATE_V355 if version >= CURRENT_VERSION else schemas.CREATE)
    spec = body["transfer"]
    authorize_owned(req, "volume:create_transfer", core(req).volumes.owner(spec["volume_id"]))
    name = spec.get("name")
    no_snapshots = spec.get("no_snapshots", False)
    made = core(req).transfers.create(context(req), spec["volume_id"], name.strip() if name else name,
                                      no_snapshots is True or (isinstance(no_snapshots, str) and is_true(no_snapshots)))
    return router.json_response({"transfer": views.detail(req, collection, made, version)}, status=202)


def _list(req: router.Request, collection: str, detailed: bool) -> webob.Response:
    collection = _collection(req, collection)
    authorize(req, "volume:get_all_transfers")
    query = list_query(req, FILTERS)
    found, more = core(req).transfers.list(context(req), query.all_projects, query.limit, query.marker,
                                           query.filters)
    items = [views.detail(req, collection, t, version_of(req)) if detailed else views.summary(req, collection, t)
             for t in found]
    return page_response(req, "transfers", items, more)


def _index(collection: str, detailed: bool) -> router.Handler:
    def handler(req: router.Request) -> webob.Response:
        return _list(req, collection, detailed)
    return handler


def show(req: router.Request, collection: str, transfer_id: str) -> webob.Response:
    collection = _collection(req, collection)
    _owned(req, "volume:get_transfer", transfer_id)
    found = core(req).transfers.get(context(req), transfer_id)
    return router.json_response({"transfer": views.detail(req, collection, found, version_of(req))})


def delete(req: router.Request, collection: str, transfer_id: str) -> webob.Response:
    collection = _collection(req, collection)
    _owned(req, "volume:delete_transfer", transfer_id)
    core(req).transfers.delete(context(req), transfer_id)
    return router.empty_response(202)


def accept(req: router.Request, collection: str, transfer_id: str) -> webob.Response:
    """Another project takes the volume: authorized against the caller's own project (it is the receiver)."""
    collection = _collection(req, collection)
    authorize(req, "volume:accept_transfer")
    body = body_of(req)
    validation.validate(body, schemas.ACCEPT)
    accepted = core(req).transfers.accept(context(req), transfer_id, str(body["accept"]["auth_key"]))
    shown: dict[str, Any] = {**accepted, "source_project_id": context(req).project_id}
    return router.json_response({"transfer": views.summary(req, collection, shown)}, status=202)


def _bind(handler: Any, collection: str) -> router.Handler:
    def bound(req: router.Request, **params: str) -> webob.Response:
        return handler(req, collection, **params)  # type: ignore[no-any-return]
    bound.__name__ = handler.__name__
    bound.__doc__ = handler.__doc__
    return bound


def routes(prefix: str) -> router.RouteTable:
    table: dict[str, dict[str, router.Handler]] = {}
    for collection in (LEGACY, CURRENT):
        base = f"{prefix}/{collection}"
        table[base] = {"GET": _index(collection, detailed=False), "POST": _bind(create, collection)}
        table[f"{base}/detail"] = {"GET": _index(collection, detailed=True)}
        table[f"{base}/{{transfer_id}}"] = {"GET": _bind(show, collection), "DELETE": _bind(delete, collection)}
        table[f"{base}/{{transfer_id}}/accept"] = {"POST": _bind(accept, collection)}
    return table
