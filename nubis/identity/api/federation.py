"""OS-FEDERATION objects: identity providers, mappings, protocols and service providers.

CRUD only, as Keystone's API shapes them; Nubis runs no SAML or OpenID Connect
flow, so these records are kept for clients and never used to authenticate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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


def _put_new(s: Any, model: Any, ident: Any, kind: str, obj: Any) -> None:
    if s.get(model, ident) is not None:
        raise exceptions.Conflict(f"Conflict occurred attempting to store {kind} - Duplicate ID, {ident}.")
    s.add(obj)
    s.flush()


@dataclasses.dataclass(frozen=True)
class _Kind:
    """One OS-FEDERATION resource kind and the CRUD steps all four kinds share.

    ``member``/``plural`` are the body and collection keys; ``label`` names the kind in
    Keystone's 404 text (its 409 text uses the same words joined by ``_``).
    """

    member: str
    plural: str
    label: str
    model: Any
    schema: dict[str, Any]
    view: Callable[[Any], dict[str, Any]]

    def get(self, s: Any, key: Any) -> Any:
        """The row under ``key`` (404 naming the kind when absent)."""
        return catalog.get(s, self.model, key, self.label)

    def body(self, req: router.Request, required: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The request's ``{member: {...}}`` object, checked against the kind's schema (400)."""
        v = entity_body(req, self.member, set(), set(required))
        validation.validate(v, self.schema)
        return v

    def render(self, obj: Any, status: int = 200) -> webob.Response:
        return router.json_response({self.member: self.view(obj)}, status=status)

    def index(self, req: router.Request, *where: Any, idp_id: str | None = None) -> webob.Response:
        """GET the collection, filtered by ``where``; under an identity provider that must exist."""
        authorize(req, "get_federation")
        with core(req).db.reader() as s:
            if idp_id is not None:
                IDP.get(s, idp_id)
            q = sa.select(self.model).where(*where).order_by(self.model.id)
            return router.json_response(collection(req, self.plural, [self.view(x) for x in s.scalars(q)]))

    def create(self, req: router.Request, new_id: str, build: Callable[[Any, dict[str, Any]], Any],
               required: frozenset[str] = frozenset(), key: Any = None) -> webob.Response:
        """PUT a new row made by ``build(session, body)`` under ``key`` (default ``new_id``); 409 if taken."""
        authorize(req, "manage_federation")
        _valid_id(new_id)
        v = self.body(req, required)
        with core(req).db.writer() as s:
            obj = build(s, v)
            _put_new(s, self.model, new_id if key is None else key, self.label.replace(" ", "_"), obj)
            return self.render(obj, 201)

    def show(self, req: router.Request, key: Any) -> webob.Response:
        authorize(req, "get_federation")
        with core(req).db.reader() as s:
            return self.render(self.get(s, key))

    def update(self, req: router.Request, key: Any, apply: Callable[[Any, Any, dict[str, Any]], None],
               check: Callable[[dict[str, Any]], None] | None = None) -> webob.Response:
        """PATCH: ``check(body)`` before any read, then ``apply(session, row, body)``."""
        authorize(req, "manage_federation")
        v = self.body(req)
        if check is not None:
            check(v)
        with core(req).db.writer() as s:
            obj = self.get(s, key)
            apply(s, obj, v)
            return self.render(obj)

    def delete(self, req: router.Request, key: Any) -> webob.Response:
        authorize(req, "manage_federation")
        with core(req).db.writer() as s:
            s.delete(self.get(s, key))
        return router.empty_response()


# -- identity providers ----------------------------------------------------------------------

def _idp_dict(i: IdentityProvider) -> dict[str, Any]:
    return {"id": i.id, "domain_id": i.domain_id, "description": i.description, "enabled": i.enabled,
            "authorization_ttl": i.authorization_ttl, "remote_ids": list(i.remote_ids or []),
            "links": {"self": f"{_BASE}/identity_providers/{i.id}",
                      "protocols": f"{_BASE}/identity_providers/{i.id}/protocols"}}


IDP = _Kind("identity_provider", "identity_providers", "identity provider", IdentityProvider, IDP_SCHEMA, _idp_dict)


def _check_remote_ids(s: Any, idp_id: str, remote_ids: list[str]) -> None:
    """Keystone: a remote id names one identity provider only (409)."""
    for other in s.scalars(sa.select(IdentityProvider).where(IdentityProvider.id != idp_id)):
        if set(remote_ids) & set(other.remote_ids or []):
            raise exceptions.Conflict("Conflict occurred attempting to store identity_provider - Duplicate remote ID.")


def list_idps(req: router.Request) -> webob.Response:
    wanted = req.query_one("id")
    return IDP.index(req, *([IdentityProvider.id == wanted] if wanted else []))


def create_idp(req: router.Request, idp_id: str) -> webob.Response:
    def build(s: Any, v: dict[str, Any]) -> IdentityProvider:
        if v.get("domain_id"):
            domain_id = resources.get_domain(s, v["domain_id"]).id
        else:  # as Keystone: a domain of its own for the provider's users
            domain_id = resources.create_domain(s, idp_id, "Auto generated federated domain").id
        _check_remote_ids(s, idp_id, v.get("remote_ids") or [])
        return IdentityProvider(id=idp_id, domain_id=domain_id, description=v.get("description"),
                                enabled=v.get("enabled", True), authorization_ttl=v.get("authorization_ttl"),
                                remote_ids=list(v.get("remote_ids") or []))
    return IDP.create(req, idp_id, build)


def get_idp(req: router.Request, idp_id: str) -> webob.Response:
    return IDP.show(req, idp_id)


def update_idp(req: router.Request, idp_id: str) -> webob.Response:
    def check(v: dict[str, Any]) -> None:
        if "domain_id" in v:
            raise exceptions.BadRequest("The domain_id of an identity provider cannot be changed.")

    def apply(s: Any, idp: IdentityProvider, v: dict[str, Any]) -> None:
        if "remote_ids" in v:
            _check_remote_ids(s, idp_id, v["remote_ids"] or [])
            idp.remote_ids = list(v["remote_ids"] or [])
        for key in ("description", "enabled", "authorization_ttl"):
            if key in v:
                setattr(idp, key, v[key])
    return IDP.update(req, idp_id, apply, check)


def delete_idp(req: router.Request, idp_id: str) -> webob.Response:
    return IDP.delete(req, idp_id)


# -- mappings ------------------------------------------------------------------------------

def _mapping_dict(m: FederationMapping) -> dict[str, Any]:
    return {"id": m.id, "rules": m.rules, "schema_version": m.schema_version,
            "links": {"self": f"{_BASE}/mappings/{m.id}"}}


MAPPING = _Kind("mapping", "mappings", "mapping", FederationMapping, MAPPING_SCHEMA, _mapping_dict)


def list_mappings(req: router.Request) -> webob.Response:
    return MAPPING.index(req)


def create_mapping(req: router.Request, mapping_id: str) -> webob.Response:
    return MAPPING.create(req, mapping_id, lambda s, v: FederationMapping(
        id=mapping_id, rules=v["rules"], schema_version=v.get("schema_version", "1.0")))


def get_mapping(req: router.Request, mapping_id: str) -> webob.Response:
    return MAPPING.show(req, mapping_id)


def update_mapping(req: router.Request, mapping_id: str) -> webob.Response:
    def apply(s: Any, m: FederationMapping, v: dict[str, Any]) -> None:
        m.rules = v["rules"]
        m.schema_version = v.get("schema_version", m.schema_version)
    return MAPPING.update(req, mapping_id, apply)


def delete_mapping(req: router.Request, mapping_id: str) -> webob.Response:
    return MAPPING.delete(req, mapping_id)


# -- protocols -----------------------------------------------------------------------------

def _protocol_dict(p: FederationProtocol) -> dict[str, Any]:
    return {"id": p.id, "mapping_id": p.mapping_id, "remote_id_attribute": p.remote_id_attribute,
            "links": {"self": f"{_BASE}/identity_providers/{p.idp_id}/protocols/{p.id}",
                      "identity_provider": f"{_BASE}/identity_providers/{p.idp_id}"}}


PROTOCOL = _Kind("protocol", "protocols", "federation protocol", FederationProtocol, PROTOCOL_SCHEMA,
                 _protocol_dict)


def list_protocols(req: router.Request, idp_id: str) -> webob.Response:
    return PROTOCOL.index(req, FederationProtocol.idp_id == idp_id, idp_id=idp_id)


def create_protocol(req: router.Request, idp_id: str, protocol_id: str) -> webob.Response:
    def build(s: Any, v: dict[str, Any]) -> FederationProtocol:
        IDP.get(s, idp_id)
        MAPPING.get(s, v["mapping_id"])
        return FederationProtocol(id=protocol_id, idp_id=idp_id, mapping_id=v["mapping_id"],
                                  remote_id_attribute=v.get("remote_id_attribute"))
    return PROTOCOL.create(req, protocol_id, build, frozenset({"mapping_id"}), key=(protocol_id, idp_id))


def get_protocol(req: router.Request, idp_id: str, protocol_id: str) -> webob.Response:
    return PROTOCOL.show(req, (protocol_id, idp_id))


def update_protocol(req: router.Request, idp_id: str, protocol_id: str) -> webob.Response:
    def apply(s: Any, p: FederationProtocol, v: dict[str, Any]) -> None:
        if "mapping_id" in v:
            p.mapping_id = MAPPING.get(s, v["mapping_id"]).id
        if "remote_id_attribute" in v:
            p.remote_id_attribute = v["remote_id_attribute"]
    return PROTOCOL.update(req, (protocol_id, idp_id), apply)


def delete_protocol(req: router.Request, idp_id: str, protocol_id: str) -> webob.Response:
    return PROTOCOL.delete(req, (protocol_id, idp_id))


# -- service providers ---------------------------------------------------------------------

def _sp_dict(sp: ServiceProvider) -> dict[str, Any]:
    return {"id": sp.id, "auth_url": sp.auth_url, "sp_url": sp.sp_url, "description": sp.description,
            "enabled": sp.enabled, "relay_state_prefix": sp.relay_state_prefix,
            "links": {"self": f"{_BASE}/service_providers/{sp.id}"}}


SP = _Kind("service_provider", "service_providers", "service provider", ServiceProvider, SP_SCHEMA, _sp_dict)


def list_sps(req: router.Request) -> webob.Response:
    return SP.index(req)


def create_sp(req: router.Request, sp_id: str) -> webob.Response:
    return SP.create(req, sp_id, lambda s, v: ServiceProvider(
        id=sp_id, auth_url=v["auth_url"], sp_url=v["sp_url"], description=v.get("description"),
        enabled=v.get("enabled", False), relay_state_prefix=v.get("relay_state_prefix", "ss:mem:")),
        frozenset({"auth_url", "sp_url"}))


def get_sp(req: router.Request, sp_id: str) -> webob.Response:
    return SP.show(req, sp_id)


def update_sp(req: router.Request, sp_id: str) -> webob.Response:
    def apply(s: Any, sp: ServiceProvider, v: dict[str, Any]) -> None:
        for key, value in v.items():
            setattr(sp, key, value)
    return SP.update(req, sp_id, apply)


def delete_sp(req: router.Request, sp_id: str) -> webob.Response:
    return SP.delete(req, sp_id)
