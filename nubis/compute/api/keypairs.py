"""``/os-keypairs``: a user's SSH keys. An admin may act for another user (``user_id``, 2.10)."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api import schemas
from nubis.compute.api.common import authorize, body_of, context, core, version_of
from nubis.compute.api.schemas import keypairs as keypair_schemas
from nubis.compute.api.views import keypairs as views


def _user(req: router.Request, rule: str, asked: Any = None) -> str:
    """The user whose keypairs the request is about, once ``rule`` allows the caller to act for them.

    Nova's default rule is "admin or that user": the target carries that user's id.
    """
    ctx = context(req)
    user = asked if asked is not None else req.GET.get("user_id")
    if user is not None and version_of(req) < Version(2, 10):
        raise exceptions.BadRequest("Acting on another user's keypairs needs microversion 2.10 or later.")
    if user is not None and (not isinstance(user, str) or not 0 < len(user) <= 255):
        raise exceptions.BadRequest("Invalid input for field/attribute user_id: a user id is required.")
    user = user or ctx.require_user_id()
    authorize(req, rule, {"user_id": user})
    return user


def list_keypairs(req: router.Request) -> webob.Response:
    user = _user(req, "os-keypairs:index")
    version = version_of(req)
    return router.json_response({"keypairs": [views.listed(k, version) for k in core(req).keypairs.list(user)]})


def create_keypair(req: router.Request) -> webob.Response:
    body = body_of(req)
    spec = body.get("keypair")
    user = _user(req, "os-keypairs:create", spec.get("user_id") if isinstance(spec, dict) else None)
    version = version_of(req)
    validation.validate(body, schemas.pick(keypair_schemas.CREATE, version))
    body["keypair"]["user_id"] = user  # the schema made it a dict
    keypair = core(req).keypairs.create(user, context(req).project_id, body)
    return router.json_response({"keypair": views.created(keypair, version)},
                                status=201 if version >= Version(2, 2) else 200)


def show_keypair(req: router.Request, name: str) -> webob.Response:
    user = _user(req, "os-keypairs:show")
    return router.json_response({"keypair": views.shown(core(req).keypairs.get(user, name), version_of(req))})


def delete_keypair(req: router.Request, name: str) -> webob.Response:
    user = _user(req, "os-keypairs:delete")
    core(req).keypairs.delete(user, name)
    return router.empty_response(202 if version_of(req) < Version(2, 2) else 204)


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-keypairs": {"GET": list_keypairs, "POST": create_keypair},
        f"{prefix}/os-keypairs/{{name}}": {"GET": show_keypair, "DELETE": delete_keypair},
    }
