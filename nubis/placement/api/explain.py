"""POST /scheduler/explain: a dry run of the scheduler that says why hosts were rejected."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.common import exceptions
from nubis.placement.api.common import authorize, body, core
from nubis.scheduler.request_spec import Flavor, RequestSpec

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
    authorize(req, "explain")
    data = body(req, SCHEMA)
    factory = core(req).scheduler_client
    if factory is None:
        raise exceptions.ServiceUnavailable("this placement service has no scheduler to ask")
    flavor = Flavor(**{"name": "explain", **data["flavor"]})
    spec = RequestSpec(flavor=flavor, image_properties=data.get("image_properties") or {},
                       availability_zone=data.get("availability_zone"), force_host=data.get("force_host"),
                       project_id=req.context.project_id or "", user_id=req.context.user_id or "")
    return router.json_response(factory().explain(req.context, spec))
