"""``/v3/domains/{domain_id}/config``: a domain's configuration document, its groups and options,
and the read-only ``/v3/domains/config/default`` document."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.identity.api.common import authorize, core
from nubis.identity.core import domain_config, resources

CONFIG_SCHEMA = {"type": "object", "properties": {"config": {"type": "object", "maxProperties": 8}},
                 "required": ["config"], "additionalProperties": False}


def _body(req: router.Request) -> dict[str, Any]:
    body = req.json_body()
    validation.validate(body, CONFIG_SCHEMA)
    return dict(body["config"])


def show(req: router.Request, domain_id: str, group: str | None = None, option: str | None = None) -> webob.Response:
    authorize(req, "get_domain_config")
    with core(req).db.reader() as s:
        resources.get_domain(s, domain_id)
        return router.json_response({"config": domain_config.read(s, domain_id, group, option)})


def create(req: router.Request, domain_id: str) -> webob.Response:
    authorize(req, "manage_domain_config")
    doc = _body(req)
    with core(req).db.writer() as s:
        resources.get_domain(s, domain_id)
        created = domain_config.replace(s, domain_id, doc)
        return router.json_response({"config": domain_config.read(s, domain_id)}, status=201 if created else 200)


def update(req: router.Request, domain_id: str, group: str | None = None,
           option: str | None = None) -> webob.Response:
    authorize(req, "manage_domain_config")
    doc = _body(req)
    if option is not None and group is not None and set(doc) != {group}:
        doc = {group: doc}  # the option path's body may be just {"config": {option: value}}
    with core(req).db.writer() as s:
        resources.get_domain(s, domain_id)
        domain_config.update(s, domain_id, doc, group, option)
        # As Keystone: the answer is the domain's whole configuration after the change.
        return router.json_response({"config": domain_config.read(s, domain_id)})


def delete(req: router.Request, domain_id: str, group: str | None = None,
           option: str | None = None) -> webob.Response:
    authorize(req, "manage_domain_config")
    with core(req).db.writer() as s:
        resources.get_domain(s, domain_id)
        domain_config.delete(s, domain_id, group, option)
    return router.empty_response()


def show_default(req: router.Request, group: str | None = None, option: str | None = None) -> webob.Response:
    authorize(req, "get_domain_config")
    return router.json_response({"config": domain_config.default(group, option)})
