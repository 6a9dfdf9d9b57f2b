"""OS-FEDERATION objects: identity providers, mappings, protocols and service providers.

CRUD only, as Keystone's API shapes them; Nubis runs no SAML or OpenID Connect
flow, so these records are kept for clients and never used to authenticate.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.identity.api.common import authorize, collection, core, entity_body
from nubis.identity.core import catalog, resources
from nubis.identity.db.models import FederationMapping, FederationProtocol, IdentityProvider, ServiceProvider

_ID_PATTERN = "^[a-zA-Z0-9_.@-]{1,64}$"
_URL = {"type": "string", "minLength": 1, "maxLength": 256}
IDP_SCHEMA = {"type": "object", "properties": {
    "domain_id": {"type": ["string", "null"], "maxLength": 64}, "description": {"type": ["string", "null"]},
    "enabled": {"type": "boolean"}, "authorization_ttl": {"type": ["integer", "null"], "minimum": 0},
    "remote_ids": {"type": ["array", "null"], "items": {"type": "string", "minLength": 1, "maxLength": 255},
                   "maxItems": 100}}, "additionalProperties": False}
_RULE = {"type": "object", "properties": {"local": {"type": "array", "minItems": 1, "maxItems": 100},
                                          "remote": {"type": "array", "minItems": 1, "maxItems": 100}},
         "required": ["local", "remote"], "additionalProperties": False}
MAPPING_SCHEMA = {"type": "object", "properties": {
    "rules": {"type": "array", "items": _RULE, "minItems": 1, "maxItems": 100},
    "schema_version": {"type": "string", "enum": ["1.0", "2.0"]}},
    "required": ["rules"], "additionalProperties": False}
PROTOCOL_SCHEMA = {"type": "object", "properties": {
    "mapping_id": {"type": "string", "minLength": 1, "maxLength": 64},
    "remote_id_attribute": {"type": ["string", "null"], "maxLength": 64}}, "additionalProperties": False}
SP_SCHEMA = {"type": "object", "properties": {
    "auth_url": _URL, "sp_url": _URL, "description": {"type": ["string", "null"]}, "enabled": {"type": "boolean"},
    "relay_state_prefix": {"type": "string", "maxLength": 256}}, "additionalProperties": False}
_BASE = "/v3/OS-FEDERATION"


def _valid_id(value: str) -> None:
    """Ids come from the path: 1-64 letters, digits or ``_.@-`` (a 400 naming ``id`` otherwise)."""
    validation.validate({"id": value}, {"type": "object", "properties": {"id": {"type": "string",
                                                                                "pattern": _ID_PATTERN}}})


def _get(s: Any, model: Any, ident: Any, kind: str) -> Any:
    return catalog.get(s, model, ident, kind)


def _put_new(s: Any, model: Any, ident: Any, kind: str, obj: Any) -> None:
    if s.get(model, ident) is not None:
        raise exceptions.Conflict(f"Conflict occurred attempting to store {kind} - Duplicate ID, {ident}.")
    s.add(obj)
    s.flush()


# -- identity providers ----------------------------------------------------------------------

def _idp_dict(i: IdentityProvider) -> dict[str, Any]:
    return {"id": i.id, "domain_id": i.domain_id, "description": i.description, "enabled": i.enabled,
            "authorization_ttl": i.authorization_ttl, "remote_ids": list(i.remote_ids or []),  # type: ignore[call-overload]
            "links": {"self": f"{_BASE}/identity_providers/{i.id}",
                      "protocols": f"{_BASE}/identity_providers/{i.id}/protocols"}}


def _check_remote_ids(s: Any, idp_id: str, remote_ids: list[str]) -> None:
    """Keystone: a remote id names one identity provider only (409)."""
    for other in s.scalars(sa.select(IdentityProvider).where(IdentityProvider.id != idp_id)):
        if set(remote_ids) & set(other.remote_ids or []):
            raise exceptions.Conflict("Conflict occurred attempting to store identity_provider - Duplicate remote ID.")


def list_idps(req: router.Request) -> webob.Response:
    authorize(req, "get_federation")
    with core(req).db.reader() as s:
        q = sa.select(IdentityProvider).order_by(IdentityProvider.id)
        if req.query_one("id"):
            q = q.where(IdentityProvider.id == req.query_one("id"))
        return router.json_response(collection(req, "identity_providers", [_idp_dict(i) for i in s.scalars(q)]))


def create_idp(req: router.Request, idp_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    _valid_id(idp_id)
    v = entity_body(req, "identity_provider", set())
    validation.validate(v, IDP_SCHEMA)
    with core(req).db.writer() as s:
        if v.get("domain_id"):
            domain_id = resources.get_domain(s, v["domain_id"]).id
        else:  # as Keystone: a domain of its own for the provider's users
            domain_id = resources.create_domain(s, idp_id, "Auto generated federated domain").id
        _check_remote_ids(s, idp_id, v.get("remote_ids") or [])
        idp = IdentityProvider(id=idp_id, domain_id=domain_id, description=v.get("description"),
                               enabled=v.get("enabled", True), authorization_ttl=v.get("authorization_ttl"),
                               remote_ids=list(v.get("remote_ids") or []))
        _put_new(s, IdentityProvider, idp_id, "identity_provider", idp)
        return router.json_response({"identity_provider": _idp_dict(idp)}, status=201)


def get_idp(req: router.Request, idp_id: str) -> webob.Response:
    authorize(req, "get_federation")
    with core(req).db.reader() as s:
        return router.json_response({"identity_provider": _idp_dict(_get(s, IdentityProvider, idp_id,
                                                                          "identity provider"))})


def update_idp(req: router.Request, idp_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    v = entity_body(req, "identity_provider", set())
    validation.validate(v, IDP_SCHEMA)
    if "domain_id" in v:
        raise exceptions.BadRequest("The domain_id of an identity provider cannot be changed.")
    with core(req).db.writer() as s:
        idp = _get(s, IdentityProvider, idp_id, "identity provider")
        if "remote_ids" in v:
            _check_remote_ids(s, idp_id, v["remote_ids"] or [])
            idp.remote_ids = list(v["remote_ids"] or [])
        for key in ("description", "enabled", "authorization_ttl"):
            if key in v:
                setattr(idp, key, v[key])
        return router.json_response({"identity_provider": _idp_dict(idp)})


def delete_idp(req: router.Request, idp_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    with core(req).db.writer() as s:
        s.delete(_get(s, IdentityProvider, idp_id, "identity provider"))
    return router.empty_response()


# -- mappings ------------------------------------------------------------------------------

def _mapping_dict(m: FederationMapping) -> dict[str, Any]:
    return {"id": m.id, "rules": m.rules, "schema_version": m.schema_version,
            "links": {"self": f"{_BASE}/mappings/{m.id}"}}


def list_mappings(req: router.Request) -> webob.Response:
    authorize(req, "get_federation")
    with core(req).db.reader() as s:
        items = s.scalars(sa.select(FederationMapping).order_by(FederationMapping.id))
        return router.json_response(collection(req, "mappings", [_mapping_dict(m) for m in items]))


def create_mapping(req: router.Request, mapping_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    _valid_id(mapping_id)
    v = entity_body(req, "mapping", set())
    validation.validate(v, MAPPING_SCHEMA)
    with core(req).db.writer() as s:
        m = FederationMapping(id=mapping_id, rules=v["rules"], schema_version=v.get("schema_version", "1.0"))
        _put_new(s, FederationMapping, mapping_id, "mapping", m)
        return router.json_response({"mapping": _mapping_dict(m)}, status=201)


def get_mapping(req: router.Request, mapping_id: str) -> webob.Response:
    authorize(req, "get_federation")
    with core(req).db.reader() as s:
        return router.json_response({"mapping": _mapping_dict(_get(s, FederationMapping, mapping_id, "mapping"))})


def update_mapping(req: router.Request, mapping_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    v = entity_body(req, "mapping", set())
    validation.validate(v, MAPPING_SCHEMA)
    with core(req).db.writer() as s:
        m = _get(s, FederationMapping, mapping_id, "mapping")
        m.rules = v["rules"]
        m.schema_version = v.get("schema_version", m.schema_version)
        return router.json_response({"mapping": _mapping_dict(m)})


def delete_mapping(req: router.Request, mapping_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    with core(req).db.writer() as s:
        s.delete(_get(s, FederationMapping, mapping_id, "mapping"))
    return router.empty_response()


# -- protocols -----------------------------------------------------------------------------

def _protocol_dict(p: FederationProtocol) -> dict[str, Any]:
    return {"id": p.id, "mapping_id": p.mapping_id, "remote_id_attribute": p.remote_id_attribute,
            "links": {"self": f"{_BASE}/identity_providers/{p.idp_id}/protocols/{p.id}",
                      "identity_provider": f"{_BASE}/identity_providers/{p.idp_id}"}}


def list_protocols(req: router.Request, idp_id: str) -> webob.Response:
    authorize(req, "get_federation")
    with core(req).db.reader() as s:
        _get(s, IdentityProvider, idp_id, "identity provider")
        items = s.scalars(sa.select(FederationProtocol).where(FederationProtocol.idp_id == idp_id)
                          .order_by(FederationProtocol.id))
        return router.json_response(collection(req, "protocols", [_protocol_dict(p) for p in items]))


def create_protocol(req: router.Request, idp_id: str, protocol_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    _valid_id(protocol_id)
    v = entity_body(req, "protocol", set(), {"mapping_id"})
    validation.validate(v, PROTOCOL_SCHEMA)
    with core(req).db.writer() as s:
        _get(s, IdentityProvider, idp_id, "identity provider")
        _get(s, FederationMapping, v["mapping_id"], "mapping")
        p = FederationProtocol(id=protocol_id, idp_id=idp_id, mapping_id=v["mapping_id"],
                               remote_id_attribute=v.get("remote_id_attribute"))
        _put_new(s, FederationProtocol, (protocol_id, idp_id), "federation_protocol", p)
        return router.json_response({"protocol": _protocol_dict(p)}, status=201)


def get_protocol(req: router.Request, idp_id: str, protocol_id: str) -> webob.Response:
    authorize(req, "get_federation")
    with core(req).db.reader() as s:
        return router.json_response({"protocol": _protocol_dict(
            _get(s, FederationProtocol, (protocol_id, idp_id), "federation protocol"))})


def update_protocol(req: router.Request, idp_id: str, protocol_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    v = entity_body(req, "protocol", set())
    validation.validate(v, PROTOCOL_SCHEMA)
    with core(req).db.writer() as s:
        p = _get(s, FederationProtocol, (protocol_id, idp_id), "federation protocol")
        if "mapping_id" in v:
            p.mapping_id = _get(s, FederationMapping, v["mapping_id"], "mapping").id
        if "remote_id_attribute" in v:
            p.remote_id_attribute = v["remote_id_attribute"]
        return router.json_response({"protocol": _protocol_dict(p)})


def delete_protocol(req: router.Request, idp_id: str, protocol_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    with core(req).db.writer() as s:
        s.delete(_get(s, FederationProtocol, (protocol_id, idp_id), "federation protocol"))
    return router.empty_response()


# -- service providers ---------------------------------------------------------------------

def _sp_dict(sp: ServiceProvider) -> dict[str, Any]:
    return {"id": sp.id, "auth_url": sp.auth_url, "sp_url": sp.sp_url, "description": sp.description,
            "enabled": sp.enabled, "relay_state_prefix": sp.relay_state_prefix,
            "links": {"self": f"{_BASE}/service_providers/{sp.id}"}}


def list_sps(req: router.Request) -> webob.Response:
    authorize(req, "get_federation")
    with core(req).db.reader() as s:
        items = s.scalars(sa.select(ServiceProvider).order_by(ServiceProvider.id))
        return router.json_response(collection(req, "service_providers", [_sp_dict(x) for x in items]))


def create_sp(req: router.Request, sp_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    _valid_id(sp_id)
    v = entity_body(req, "service_provider", set(), {"auth_url", "sp_url"})
    validation.validate(v, SP_SCHEMA)
    with core(req).db.writer() as s:
        sp = ServiceProvider(id=sp_id, auth_url=v["auth_url"], sp_url=v["sp_url"], description=v.get("description"),
                             enabled=v.get("enabled", False), relay_state_prefix=v.get("relay_state_prefix", "ss:mem:"))
        _put_new(s, ServiceProvider, sp_id, "service_provider", sp)
        return router.json_response({"service_provider": _sp_dict(sp)}, status=201)


def get_sp(req: router.Request, sp_id: str) -> webob.Response:
    authorize(req, "get_federation")
    with core(req).db.reader() as s:
        return router.json_response({"service_provider": _sp_dict(_get(s, ServiceProvider, sp_id, "service provider"))})


def update_sp(req: router.Request, sp_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    v = entity_body(req, "service_provider", set())
    validation.validate(v, SP_SCHEMA)
    with core(req).db.writer() as s:
        sp = _get(s, ServiceProvider, sp_id, "service provider")
        for key, value in v.items():
            setattr(sp, key, value)
        return router.json_response({"service_provider": _sp_dict(sp)})


def delete_sp(req: router.Request, sp_id: str) -> webob.Response:
    authorize(req, "manage_federation")
    with core(req).db.writer() as s:
        s.delete(_get(s, ServiceProvider, sp_id, "service provider"))
    return router.empty_response()
