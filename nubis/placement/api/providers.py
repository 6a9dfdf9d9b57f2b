"""Resource providers and what hangs off them: inventories, traits, aggregates, usages."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import sqlalchemy as sa
import webob

from nubis.api import router
from nubis.common import exceptions
from nubis.placement.api.common import at_least, authorize, base_url, body, core, generation_of, require_version
from nubis.placement.core import candidates, inventories, names, providers
from nubis.placement.db.models import Inventory, ProviderAggregate, ProviderTrait, ResourceProvider

UUID = {"type": "string", "format": "uuid", "maxLength": 36}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
PROVIDER_SCHEMA = {"type": "object", "properties": {"name": NAME, "uuid": UUID,
                                                     "parent_provider_uuid": {"anyOf": [UUID, {"type": "null"}]}},
                   "required": ["name"], "additionalProperties": False}
INT = {"type": "integer", "minimum": 0, "maximum": inventories.MAX_INT}
POSITIVE = {"type": "integer", "minimum": 1, "maximum": inventories.MAX_INT}
INVENTORY_PROPS = {"total": POSITIVE, "reserved": INT, "min_unit": POSITIVE, "max_unit": POSITIVE,
                   "step_size": POSITIVE, "allocation_ratio": {"type": "number", "exclusiveMinimum": 0,
                                                             "maximum": inventories.MAX_FLOAT}}
INVENTORY_SCHEMA = {"type": "object", "properties": INVENTORY_PROPS, "required": ["total"],
                    "additionalProperties": False}
INVENTORIES_SCHEMA = {"type": "object", "required": ["inventories", "resource_provider_generation"],
                      "properties": {"resource_provider_generation": {"type": "integer"},
                                     "inventories": {"type": "object", "patternProperties": {
                                         "^[A-Z0-9_]+$": INVENTORY_SCHEMA}, "additionalProperties": False}},
                      "additionalProperties": False}
ONE_INVENTORY_SCHEMA = {"type": "object", "required": ["total", "resource_provider_generation"],
                        "properties": {**INVENTORY_PROPS, "resource_provider_generation": {"type": "integer"},
                                       "resource_class": {"type": "string"}},
                        "additionalProperties": False}
TRAITS_SCHEMA = {"type": "object", "required": ["traits", "resource_provider_generation"],
                 "properties": {"traits": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                                "resource_provider_generation": {"type": "integer"}}, "additionalProperties": False}
AGGS_LIST = {"type": "array", "items": UUID, "uniqueItems": True}
AGGS_SCHEMA = {"type": "object", "required": ["aggregates", "resource_provider_generation"],
               "properties": {"aggregates": AGGS_LIST, "resource_provider_generation": {"type": "integer"}},
               "additionalProperties": False}


def _provider_body(req: router.Request, rp: ResourceProvider, uuid_of: dict[int, str]) -> dict[str, Any]:
    return providers.to_dict(rp, uuid_of, base_url(req), with_tree=at_least(req, "1.14"))


def _tree_uuids(session: Any, rps: list[ResourceProvider]) -> dict[int, str]:
    ids = {i for rp in rps for i in (rp.parent_provider_id, rp.root_provider_id) if i}
    return providers.uuids_by_id(session, ids)


# -- providers -------------------------------------------------------------------------------------

# The first microversion whose query schema for GET /resource_providers takes each parameter (Placement's).
# ``limit`` is not one of Placement's; it is taken (and changes nothing) because SDKs send it when paging.
_LIST_PARAMS = {"name": "1.0", "uuid": "1.0", "limit": "1.0", "member_of": "1.3", "resources": "1.4",
                "in_tree": "1.14", "required": "1.18"}


def _check_list_query(req: router.Request) -> None:
    """400 for a parameter unknown at the request's microversion, or a ``uuid`` filter that is not a UUID.

    Placement's query schema refuses other parameters and says ``format: uuid`` for the uuid filter.
    """
    for key in req.GET:
        first = _LIST_PARAMS.get(key)
        if first is None or not at_least(req, first):
            raise exceptions.BadRequest(f"Invalid query string parameters: '{key}' is not a parameter of "
                                        "GET /resource_providers at this microversion.")
    value = req.query_one("uuid")
    if value is not None:
        try:
            uuidlib.UUID(value)
        except ValueError:
            raise exceptions.BadRequest(f"Invalid query string parameter: uuid '{value}' is not a UUID.") from None


def list_providers(req: router.Request) -> webob.Response:
    authorize(req, "read")
    _check_list_query(req)
    with core(req).db.reader() as s:
        q = sa.select(ResourceProvider).order_by(ResourceProvider.id)
        if req.query_one("name"):
            q = q.where(ResourceProvider.name == req.query_one("name"))
        if req.query_one("uuid"):
            q = q.where(ResourceProvider.uuid == req.query_one("uuid"))
        rps = list(s.scalars(q))
        keep = _filter_providers(req, s, rps)
        rps = [rp for rp in rps if rp.id in keep]
        uuid_of = _tree_uuids(s, rps)
        return router.json_response({"resource_providers": [_provider_body(req, rp, uuid_of) for rp in rps]})


def _filter_providers(req: router.Request, session: Any, rps: list[ResourceProvider]) -> set[int]:
    """Apply the list filters shared with allocation candidates (resources, required, member_of, in_tree)."""
    ids = {rp.id for rp in rps}
    params = [(k, v) for k, v in req.GET.items() if k in ("resources", "required", "member_of", "in_tree")]
    if not params:
        return ids
    group = candidates.RequestGroup("")
    for key, value in params:
        if key == "resources":
            group.resources = candidates.parse_resources(value)
        elif key == "required":
            candidates._add_traits(group, value, at_least(req, "1.39"))
        elif key == "member_of":
            candidates._add_aggregates(group, value, at_least(req, "1.32"))
        else:
            group.in_tree = value
    names.require_resource_classes(session, group.resources)
    names.require_traits(session, {t for any_of in group.required for t in any_of} | group.forbidden)
    candidates.check_in_tree(session, group)
    return ids & {rp_id for rp_id, _ in session.execute(candidates.group_query(group))}


def create_provider(req: router.Request) -> webob.Response:
    authorize(req, "write")
    data = body(req, PROVIDER_SCHEMA)
    if "parent_provider_uuid" in data and not at_least(req, "1.14"):
        raise exceptions.BadRequest("parent_provider_uuid needs microversion 1.14.")
    with core(req).db.writer() as s:
        rp = providers.create(s, data["name"], data.get("uuid"), data.get("parent_provider_uuid"))
        s.flush()
        location = f"{base_url(req)}/resource_providers/{rp.uuid}"
        if at_least(req, "1.20"):
            return router.json_response(_provider_body(req, rp, _tree_uuids(s, [rp])),
                                        headers={"Location": location})
        return router.empty_response(201, headers={"Location": location})


def get_provider(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        rp = providers.get(s, uuid)
        return router.json_response(_provider_body(req, rp, _tree_uuids(s, [rp])))


def update_provider(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "write")
    data = body(req, PROVIDER_SCHEMA)
    with core(req).db.writer() as s:
        rp = providers.get(s, uuid)
        providers.update(s, rp, data["name"], data.get("parent_provider_uuid"),
                         "parent_provider_uuid" in data and at_least(req, "1.14"))
        s.flush()
        s.refresh(rp)
        return router.json_response(_provider_body(req, rp, _tree_uuids(s, [rp])))


def delete_provider(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "write")
    with core(req).db.writer() as s:
        providers.delete(s, providers.get(s, uuid))
    return router.empty_response()


# -- inventories -------------------------------------------------------------------------------------

def list_inventories(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        rp = providers.get(s, uuid)
        invs = inventories.of_provider(s, rp)
        return router.json_response({"inventories": {rc: inventories.to_dict(i) for rc, i in invs.items()},
                                     "resource_provider_generation": rp.generation})


def replace_inventories(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "write")
    data = body(req, INVENTORIES_SCHEMA)
    specs = {rc: inventories.InventorySpec.from_body(v) for rc, v in data["inventories"].items()}
    with core(req).db.writer() as s:
        rp = providers.get(s, uuid)
        expected = generation_of(data)
        if rp.generation != expected:
            raise providers.concurrent_update(f"resource provider {uuid}")
        inventories.replace_all(s, rp, specs)
        s.flush()
        providers.bump_generation(s, rp, expected)
        invs = inventories.of_provider(s, rp)
        return router.json_response({"inventories": {rc: inventories.to_dict(i) for rc, i in invs.items()},
                                     "resource_provider_generation": expected + 1})


def _set_one(req: router.Request, uuid: str, rc: str, data: dict[str, Any], status: int) -> webob.Response:
    spec = inventories.InventorySpec.from_body(data)
    with core(req).db.writer() as s:
        rp = providers.get(s, uuid)
        expected = generation_of(data)
        if rp.generation != expected:
            raise providers.concurrent_update(f"resource provider {uuid}")
        current = {k: inventories.InventorySpec(**inventories.to_dict(v))
                   for k, v in inventories.of_provider(s, rp).items()}
        if status == 201 and rc in current:
            raise exceptions.Conflict(f"An inventory of {rc} already exists on resource provider {uuid}.")
        current[rc] = spec
        inventories.replace_all(s, rp, current)
        s.flush()
        providers.bump_generation(s, rp, expected)
        inv = inventories.of_provider(s, rp)[rc]
        return router.json_response({**inventories.to_dict(inv), "resource_provider_generation": expected + 1},
                                    status=status)


def create_inventory(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "write")
    data = body(req, {**ONE_INVENTORY_SCHEMA, "required": ["total", "resource_class", "resource_provider_generation"]})
    rc = data.pop("resource_class")
    resp = _set_one(req, uuid, rc, data, 201)
    resp.headers["Location"] = f"{base_url(req)}/resource_providers/{uuid}/inventories/{rc}"
    return resp


def get_inventory(req: router.Request, uuid: str, resource_class: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        rp = providers.get(s, uuid)
        inv = inventories.of_provider(s, rp).get(resource_class)
        if inv is None:
            raise exceptions.NotFound(f"No inventory of class {resource_class} for {uuid}")
        return router.json_response({**inventories.to_dict(inv), "resource_provider_generation": rp.generation})


def update_inventory(req: router.Request, uuid: str, resource_class: str) -> webob.Response:
    authorize(req, "write")
    data = body(req, ONE_INVENTORY_SCHEMA)
    data.pop("resource_class", None)
    return _set_one(req, uuid, resource_class, data, 200)


def delete_inventory(req: router.Request, uuid: str, resource_class: str) -> webob.Response:
    authorize(req, "write")
    with core(req).db.writer() as s:
        rp = providers.get(s, uuid)
        current = {k: inventories.InventorySpec(**inventories.to_dict(v))
                   for k, v in inventories.of_provider(s, rp).items()}
        if resource_class not in current:
            raise exceptions.NotFound(f"No inventory of class {resource_class} found for delete")
        del current[resource_class]
        inventories.replace_all(s, rp, current)
        s.flush()
        providers.bump_generation(s, rp)
    return router.empty_response()


def delete_inventories(req: router.Request, uuid: str) -> webob.Response:
    require_version(req, "1.5")
    authorize(req, "write")
    with core(req).db.writer() as s:
        rp = providers.get(s, uuid)
        inventories.replace_all(s, rp, {})
        s.flush()
        providers.bump_generation(s, rp)
    return router.empty_response()


# -- traits and aggregates of a provider ------------------------------------------------------------------

def _traits_of(session: Any, rp: ResourceProvider) -> list[str]:
    return sorted(session.scalars(sa.select(ProviderTrait.trait).where(ProviderTrait.resource_provider_id == rp.id)))


def get_provider_traits(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        rp = providers.get(s, uuid)
        return router.json_response({"traits": _traits_of(s, rp), "resource_provider_generation": rp.generation})


def set_provider_traits(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "write")
    data = body(req, TRAITS_SCHEMA)
    with core(req).db.writer() as s:
        rp = providers.get(s, uuid)
        names.require_traits(s, data["traits"])
        expected = generation_of(data)
        providers.bump_generation(s, rp, expected)
        s.execute(sa.delete(ProviderTrait).where(ProviderTrait.resource_provider_id == rp.id))
        for trait in data["traits"]:
            s.add(ProviderTrait(resource_provider_id=rp.id, trait=trait))
        s.flush()
        return router.json_response({"traits": sorted(data["traits"]), "resource_provider_generation": expected + 1})


def delete_provider_traits(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "write")
    with core(req).db.writer() as s:
        rp = providers.get(s, uuid)
        s.execute(sa.delete(ProviderTrait).where(ProviderTrait.resource_provider_id == rp.id))
        providers.bump_generation(s, rp)
    return router.empty_response()


def get_provider_aggregates(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        rp = providers.get(s, uuid)
        aggs = sorted(s.scalars(sa.select(ProviderAggregate.aggregate_uuid).where(
            ProviderAggregate.resource_provider_id == rp.id)))
        out: dict[str, Any] = {"aggregates": aggs}
        if at_least(req, "1.19"):
            out["resource_provider_generation"] = rp.generation
        return router.json_response(out)


def set_provider_aggregates(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "write")
    if at_least(req, "1.19"):
        data = body(req, AGGS_SCHEMA)
        aggs, expected = data["aggregates"], generation_of(data)
    else:
        aggs, expected = body(req, AGGS_LIST), None
    with core(req).db.writer() as s:
        rp = providers.get(s, uuid)
        providers.bump_generation(s, rp, expected)
        s.execute(sa.delete(ProviderAggregate).where(ProviderAggregate.resource_provider_id == rp.id))
        for agg in aggs:
            s.add(ProviderAggregate(resource_provider_id=rp.id, aggregate_uuid=agg))
        s.flush()
        s.refresh(rp)
        out: dict[str, Any] = {"aggregates": sorted(aggs)}
        if at_least(req, "1.19"):
            out["resource_provider_generation"] = rp.generation
        return router.json_response(out)


def provider_usages(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        rp = providers.get(s, uuid)
        used = {rc: n for (_, rc), n in inventories.usages(s, [rp.id]).items()}
        for rc in inventories.of_provider(s, rp):
            used.setdefault(rc, 0)
        return router.json_response({"usages": used, "resource_provider_generation": rp.generation})


def inventory_exists(session: Any, rc: str) -> bool:
    return session.scalar(sa.select(Inventory.id).where(Inventory.resource_class == rc).limit(1)) is not None
