"""Allocations of consumers, usages, and allocation candidates."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
import webob

from nubis.api import router
from nubis.common import exceptions
from nubis.placement.api.common import at_least, authorize, body, core, require_version
from nubis.placement.core import allocations, candidates, providers
from nubis.placement.db.models import Allocation

UUID = {"type": "string", "maxLength": 36, "minLength": 1}
RESOURCES = {"type": "object", "minProperties": 1, "patternProperties": {
    "^[A-Z0-9_]+$": {"type": "integer", "minimum": 1}}, "additionalProperties": False}
DICT_ALLOCS = {"type": "object", "patternProperties": {"^.+$": {
    "type": "object", "properties": {"resources": RESOURCES, "generation": {"type": ["integer", "null"]}},
    "required": ["resources"], "additionalProperties": False}}}
LIST_ALLOCS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["resource_provider", "resources"], "additionalProperties": False,
    "properties": {"resource_provider": {"type": "object", "properties": {"uuid": UUID}, "required": ["uuid"],
                                         "additionalProperties": False}, "resources": RESOURCES}}}
ID = {"type": "string", "minLength": 1, "maxLength": 255}


def _put_schema(req: router.Request) -> dict[str, Any]:
    props: dict[str, Any] = {"allocations": DICT_ALLOCS if at_least(req, "1.12") else LIST_ALLOCS,
                             "project_id": ID, "user_id": ID}
    required = ["allocations"]
    if at_least(req, "1.8"):
        required += ["project_id", "user_id"]
    if at_least(req, "1.28"):
        props["consumer_generation"] = {"type": ["integer", "null"]}
        required.append("consumer_generation")
    if at_least(req, "1.38"):
        props["consumer_type"] = {"type": "string", "pattern": "^[A-Z0-9_]+$", "maxLength": 255}
        required.append("consumer_type")
    if at_least(req, "1.12"):
        props["mappings"] = {"type": "object"}
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _request_from(req: router.Request, consumer: str, data: dict[str, Any]) -> allocations.ConsumerAllocations:
    allocs = data["allocations"]
    if isinstance(allocs, list):
        resources = {a["resource_provider"]["uuid"]: a["resources"] for a in allocs}
    else:
        resources = {rp: a["resources"] for rp, a in allocs.items()}
    ctx = req.context
    return allocations.ConsumerAllocations(
        consumer_uuid=consumer, resources=resources,
        project_id=data.get("project_id") or ctx.project_id or "", user_id=data.get("user_id") or ctx.user_id or "",
        consumer_generation=data.get("consumer_generation"), check_generation=at_least(req, "1.28"),
        consumer_type=data.get("consumer_type"))


def get_allocations(req: router.Request, consumer_uuid: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        consumer, allocs = allocations.of_consumer(s, consumer_uuid)
        out: dict[str, Any] = {"allocations": allocs}
        if consumer is not None and at_least(req, "1.12"):
            out.update(project_id=consumer.project_id, user_id=consumer.user_id)
        if consumer is not None and at_least(req, "1.28"):
            out["consumer_generation"] = consumer.generation
        if consumer is not None and at_least(req, "1.38"):
            out["consumer_type"] = consumer.consumer_type or "UNKNOWN"
    return router.json_response(out)


def put_allocations(req: router.Request, consumer_uuid: str) -> webob.Response:
    authorize(req, "allocate")
    data = body(req, _put_schema(req))
    if not data["allocations"] and not at_least(req, "1.12"):
        raise exceptions.BadRequest("allocations must not be empty.")
    request = _request_from(req, consumer_uuid, data)
    allocations.retry_on_generation_conflict(core(req).db, lambda s: allocations.replace(s, [request]))
    return router.empty_response()


def post_allocations(req: router.Request) -> webob.Response:
    require_version(req, "1.13")
    authorize(req, "allocate")
    schema = _put_schema(req)
    data = req.json_body()
    if not isinstance(data, dict) or not data:
        raise exceptions.BadRequest("The body must map consumer uuids to their allocations.")
    from nubis.api import validation

    requests = []
    for consumer, entry in data.items():
        validation.validate(entry, schema)
        requests.append(_request_from(req, consumer, entry))
    allocations.retry_on_generation_conflict(core(req).db, lambda s: allocations.replace(s, requests))
    return router.empty_response()


def delete_allocations(req: router.Request, consumer_uuid: str) -> webob.Response:
    authorize(req, "allocate")

    def work(s: Any) -> None:
        if s.scalar(sa.select(Allocation.id).where(Allocation.consumer_uuid == consumer_uuid).limit(1)) is None:
            raise exceptions.NotFound(f"No allocations for consumer '{consumer_uuid}'")
        allocations.replace(s, [allocations.ConsumerAllocations(consumer_uuid, {}, "", "", check_generation=False)])

    allocations.retry_on_generation_conflict(core(req).db, work)
    return router.empty_response()


def provider_allocations(req: router.Request, uuid: str) -> webob.Response:
    authorize(req, "read")
    with core(req).db.reader() as s:
        rp = providers.get(s, uuid)
        return router.json_response({"allocations": allocations.of_provider(s, rp),
                                     "resource_provider_generation": rp.generation})


def project_usages(req: router.Request) -> webob.Response:
    require_version(req, "1.9")
    authorize(req, "read")
    project_id = req.query_one("project_id")
    if not project_id:
        raise exceptions.BadRequest("The project_id query parameter is required.")
    with core(req).db.reader() as s:
        used = allocations.project_usages(s, project_id, req.query_one("user_id"), req.query_one("consumer_type"))
    return router.json_response({"usages": used})


# The first microversion whose query schema for GET /allocation_candidates takes each parameter (Placement's).
_CANDIDATE_PARAMS = {"required": "1.17", "member_of": "1.21", "group_policy": "1.25", "in_tree": "1.31"}


def _check_candidate_params(req: router.Request) -> None:
    """400 for a parameter the request's microversion does not have yet (numbered groups came in 1.25)."""
    for key in req.GET:
        match = candidates.GROUP_PARAM.match(key)
        base = match.group(1) if match else key
        first = "1.25" if match and match.group(2) else _CANDIDATE_PARAMS.get(base)
        if first is not None and not at_least(req, first):
            raise exceptions.BadRequest(f"Invalid query string parameters: {key} needs microversion {first} "
                                        "or later.")


def allocation_candidates(req: router.Request) -> webob.Response:
    require_version(req, "1.10")
    authorize(req, "read")
    _check_candidate_params(req)
    request = candidates.parse_query(req.GET.items(), at_least(req, "1.39"), at_least(req, "1.32"))
    if not at_least(req, "1.16"):
        request.limit = None
    with core(req).db.reader() as s:
        found = candidates.find(s, request)
        ids = {rp_id for combo in found for rp_id, _ in combo}
        wanted = {rc for g in request.groups for rc in g.resources}
        summaries = candidates.summaries(s, ids, at_least(req, "1.27"), wanted, at_least(req, "1.17"),
                                         at_least(req, "1.29"))
        tree_ids = {i for v in summaries.values() for i in v.get("_tree", ()) if i}
        uuid_of = candidates.uuid_map(s, ids | tree_ids)
    # The microversion is looked at once, not once per candidate: at 10,000 it cost a third of the time.
    keyed, mapped = at_least(req, "1.12"), at_least(req, "1.34")
    return fast_json_response({
        "allocation_requests": [_allocation_request(combo, uuid_of, keyed, mapped) for combo in found],
        "provider_summaries": _summaries_body(summaries, uuid_of)})


def fast_json_response(body: dict[str, Any]) -> webob.Response:
    """A 200 JSON response serialised with orjson (str keys and plain JSON values only)."""
    resp = webob.Response(status=200, content_type="application/json", charset="UTF-8")
    resp.body = orjson.dumps(body)
    return resp


def _allocation_request(combo: list[tuple[int, candidates.RequestGroup]], uuid_of: dict[int, str] | Any,
                        keyed: bool, mapped: bool) -> dict[str, Any]:
    merged: dict[str, dict[str, int]] = {}
    mappings: dict[str, list[str]] = {}
    for rp_id, group in combo:
        per_rp = merged.setdefault(uuid_of[rp_id], {})
        for rc, amount in group.resources.items():
            per_rp[rc] = per_rp.get(rc, 0) + amount
        mappings.setdefault(group.suffix, []).append(uuid_of[rp_id])
    if not keyed:
        return {"allocations": [{"resource_provider": {"uuid": rp}, "resources": res} for rp, res in merged.items()]}
    out: dict[str, Any] = {"allocations": {rp: {"resources": res} for rp, res in merged.items()}}
    if mapped:
        out["mappings"] = mappings
    return out


def _summaries_body(summaries: dict[int, dict[str, Any]], uuid_of: Any) -> dict[str, Any]:
    out = {}
    for rp_id, summary in summaries.items():
        tree = summary.pop("_tree", None)
        if tree is not None:
            parent, root = tree
            summary["parent_provider_uuid"] = uuid_of.get(parent) if parent else None
            summary["root_provider_uuid"] = uuid_of.get(root, uuid_of[rp_id])
        out[uuid_of[rp_id]] = summary
    return out
