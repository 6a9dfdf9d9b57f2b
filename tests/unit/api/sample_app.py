"""A small API built on the HTTP layer, the way services build theirs."""

from __future__ import annotations

import logging

import webob
from oslo_config import cfg

from nubis.api import deploy, faults, microversion, router, validation
from nubis.common import exceptions

LOG = logging.getLogger("tests.sample_app")

THING_SCHEMA = {
    "type": "object",
    "properties": {
        "thing": {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 10}},
            "required": ["name"],
            "additionalProperties": False,
        }
    },
    "required": ["thing"],
    "additionalProperties": False,
}


@router.public
def versions(req: router.Request) -> webob.Response:
    return router.json_response({"versions": [{"id": "v1"}]})


def show(req: router.Request, thing_id: str) -> webob.Response:
    LOG.info("showing thing %s", thing_id)
    if thing_id == "boom":
        raise RuntimeError("database password is hunter2")
    if thing_id == "missing":
        raise exceptions.NotFound("Thing missing could not be found.", error_type="ThingNotFound")
    body = {"id": thing_id, "user": req.context.user_id}
    if req.version is not None and req.version.matches("2.5"):
        body["added_in_2_5"] = True
    return router.json_response(body)


def create(req: router.Request) -> webob.Response:
    body = req.json_body()
    validation.validate(body, THING_SCHEMA)
    return router.json_response(body, status=201)


ROUTES: router.RouteTable = {
    "/": {"GET": versions},
    "/v1/things": {"POST": create},
    "/v1/things/{thing_id}": {"GET": show},
}

VERSIONS = microversion.VersionRange(
    "compute", microversion.Version(2, 1), microversion.Version(2, 10), "X-OpenStack-Nova-API-Version"
)


def build(conf: cfg.ConfigOpts, fault_format: faults.FaultFormatter = faults.compute_fault) -> deploy.WSGIApp:
    spec = deploy.ApiSpec(name="sample", routes=ROUTES, fault_format=fault_format, versions=VERSIONS)
    return deploy.build_app(spec, conf, service=None)
