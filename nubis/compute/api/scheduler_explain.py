"""``POST /scheduler/explain`` (a Nubis extension, admin): a dry run of the scheduler that says why hosts
were rejected. Served by the compute API, the scheduler's own front; the scheduler answers over RPC."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.compute.api.common import authorize, body_of, context, core

SCHEMA = {
    "type": "object", "required": ["flavor"], "additionalProperties": False,
    "properties": {
        "flavor": {"type": "object", "required": ["vcpus", "memory_mb"], "additionalProperties": False,
                   "properties": {"name": {"type": "string"}, "vcpus": {"type": "integer", "minimum": 1},
                                  "memory_mb": {"type": "integer", "minimum": 1},
                                  "root_gb": {"type": "integer", "minimum": 0},
                                  "ephemeral_gb": {"type": "integer", "minimum": 0},
                                  "swap_mb": {"type": "integer", "minimum": 0},
                                  "extra_specs": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "image_properties": {"type": "object"},
        "availability_zone": {"type": ["string", "null"]},
        "force_host": {"type": ["string", "null"]},
    },
}


def explain(req: router.Request) -> webob.Response:
    authorize(req, "scheduler:explain")
    data = body_of(req)
    validation.validate(data, SCHEMA)
    explainer = core(req).explain
    if explainer is None:
        raise exceptions.ServiceUnavailable("this compute API has no scheduler to ask")
    return router.json_response(explainer.explain(
        context(req), data["flavor"], data.get("image_properties"), data.get("availability_zone"),
        data.get("force_host")))


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/scheduler/explain": {"POST": explain}}
