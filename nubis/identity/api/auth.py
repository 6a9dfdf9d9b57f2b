"""Tokens and what a token can see: ``/v3/auth/*``."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.identity.api import auth_schema, oauth1
from nubis.identity.api.common import authorize, collection, core
from nubis.identity.core import catalog as catalog_core
from nubis.identity.core import resources, roles
from nubis.identity.db.models import Project
from nubis.identity.tokens import provider

SUBJECT = "X-Subject-Token"


@router.public
def issue(req: router.Request) -> webob.Response:
    request = req.json_body()
    validation.validate(request, auth_schema.AUTH_REQUEST)
    token_id, body = core(req).issue_token(request, oauth1.signed_request(req))
    include_catalog = req.query_one("nocatalog") is None
    return router.json_response(provider.public_body(body, include_catalog), status=201,
                                headers={SUBJECT: token_id})


def _subject(req: router.Request) -> tuple[str, provider.TokenBody]:
    token_id = req.headers.get(SUBJECT)
    if not token_id:
        raise exceptions.BadRequest("Expecting to find the token to validate in the X-Subject-Token header.")
    allow_expired = (req.query_one("allow_expired") or "").lower() in ("1", "true")
    body = core(req).tokens.validate(token_id, allow_expired=allow_expired)
    authorize(req, "validate_token", {"target.token.user_id": body["token"]["user"]["id"]})
    return token_id, body


def validate(req: router.Request) -> webob.Response:
    token_id, body = _subject(req)
    include_catalog = req.query_one("nocatalog") is None
    resp = router.json_response(provider.public_body(body, include_catalog), headers={SUBJECT: token_id})
    if req.method == "HEAD":
        resp.body = b""
    return resp


def check(req: router.Request) -> webob.Response:
    token_id, _ = _subject(req)
    return router.empty_response(200, headers={SUBJECT: token_id})


def revoke(req: router.Request) -> webob.Response:
    token_id = req.headers.get(SUBJECT)
    if not token_id:
        raise exceptions.BadRequest("Expecting to find the token to revoke in the X-Subject-Token header.")
    body = core(req).tokens.validate(token_id)
    authorize(req, "revoke_token", {"target.token.user_id": body["token"]["user"]["id"]})
    core(req).revoke_token(token_id)
    return router.empty_response()


def _own_token(req: router.Request) -> provider.TokenBody:
    return core(req).tokens.validate(req.headers.get("X-Auth-Token", ""))


def auth_catalog(req: router.Request) -> webob.Response:
    body = _own_token(req)
    if "catalog" not in body["token"]:
        raise exceptions.Forbidden("The catalog comes with a scoped token only.")
    with core(req).db.reader() as session:
        project_id = body["token"].get("project", {}).get("id")
        return router.json_response({"catalog": catalog_core.build(session, project_id),
                                     "links": {"self": req.path_url}})


def _targets(req: router.Request, kind: str) -> list[dict[str, object]]:
    user_id = req.context.user_id
    with core(req).db.reader() as session:
        out = []
        query = session.query(Project).filter(Project.is_domain.is_(kind == "domain"), Project.enabled.is_(True))
        for target in query:
            try:
                if roles.effective_role_ids(session, user_id, kind, target.id):
                    out.append(resources.domain_to_dict(target) if kind == "domain" else resources.project_to_dict(target))
            except exceptions.NotFound:
                continue
        return out


def auth_projects(req: router.Request) -> webob.Response:
    return router.json_response(collection(req, "projects", _targets(req, "project")))


def auth_domains(req: router.Request) -> webob.Response:
    return router.json_response(collection(req, "domains", _targets(req, "domain")))


def auth_system(req: router.Request) -> webob.Response:
    with core(req).db.reader() as session:
        has = bool(roles.effective_role_ids(session, req.context.user_id, "system", "all"))
    return router.json_response({"system": [{"all": True}] if has else [], "links": {"self": req.path_url}})
