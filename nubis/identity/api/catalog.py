"""Regions, services and endpoints."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity.api.common import authorize, bool_filter, collection, core, entity_body
from nubis.identity.core import catalog
from nubis.identity.db.models import Endpoint, Region, Service

SERVICE_SCHEMA = {"type": "object", "properties": {
    "type": {"type": "string", "minLength": 1, "maxLength": 255}, "name": {"type": "string", "maxLength": 255},
    "description": {"type": ["string", "null"]}, "enabled": {"type": "boolean"}}, "additionalProperties": False}
ENDPOINT_SCHEMA = {"type": "object", "properties": {
    "service_id": {"type": "string"}, "interface": {"type": "string"}, "url": {"type": "string", "minLength": 1},
    "region_id": {"type": ["string", "null"], "maxLength": 255}, "region": {"type": ["string", "null"], "maxLength": 255},
    "enabled": {"type": "boolean"}}, "additionalProperties": False}
REGION_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string", "maxLength": 255}, "description": {"type": ["string", "null"]},
    "parent_region_id": {"type": ["string", "null"]}}, "additionalProperties": False}


# -- regions ------------------------------------------------------------------------------

def list_regions(req: router.Request) -> webob.Response:
    authorize(req, "get_catalog_entity")
    with core(req).db.reader() as s:
        q = s.query(Region)
        if req.query_one("parent_region_id"):
            q = q.filter_by(parent_region_id=req.query_one("parent_region_id"))
        return router.json_response(collection(req, "regions", [catalog.region_to_dict(r) for r in q.order_by(Region.id)]))


def get_region(req: router.Request, region_id: str) -> webob.Response:
    authorize(req, "get_catalog_entity")
    with core(req).db.reader() as s:
        return router.json_response({"region": catalog.region_to_dict(catalog.get(s, Region, region_id, "region"))})


def create_region(req: router.Request, region_id: str | None = None) -> webob.Response:
    authorize(req, "manage_catalog")
    r = entity_body(req, "region", set())
    validation.validate(r, REGION_SCHEMA)
    with core(req).db.writer() as s:
        region = catalog.create_region(s, region_id or r.get("id"), r.get("description") or "", r.get("parent_region_id"))
        return router.json_response({"region": catalog.region_to_dict(region)}, status=201)


def update_region(req: router.Request, region_id: str) -> webob.Response:
    authorize(req, "manage_catalog")
    r = entity_body(req, "region", set())
    validation.validate(r, REGION_SCHEMA)
    with core(req).db.writer() as s:
        region = catalog.get(s, Region, region_id, "region")
        if "description" in r:
            region.description = r["description"] or ""
        if "parent_region_id" in r:
            if r["parent_region_id"] == region_id:
                raise exceptions.BadRequest("A region cannot be its own parent.")
            if r["parent_region_id"]:
                catalog.get(s, Region, r["parent_region_id"], "region")
            region.parent_region_id = r["parent_region_id"]
        return router.json_response({"region": catalog.region_to_dict(region)})


def delete_region(req: router.Request, region_id: str) -> webob.Response:
    authorize(req, "manage_catalog")
    with core(req).db.writer() as s:
        region = catalog.get(s, Region, region_id, "region")
        if s.query(Region).filter_by(parent_region_id=region_id).count():
            raise exceptions.Forbidden(f"Cannot delete region {region_id}: it has child regions.")
        s.query(Endpoint).filter_by(region_id=region_id).delete()
        s.delete(region)
    return router.empty_response()


# -- services -----------------------------------------------------------------------------

def list_services(req: router.Request) -> webob.Response:
    authorize(req, "get_catalog_entity")
    with core(req).db.reader() as s:
        q = s.query(Service)
        for key in ("type", "name"):
            if req.query_one(key):
                q = q.filter(getattr(Service, key) == req.query_one(key))
        return router.json_response(collection(req, "services", [catalog.service_to_dict(x) for x in q]))


def get_service(req: router.Request, service_id: str) -> webob.Response:
    authorize(req, "get_catalog_entity")
    with core(req).db.reader() as s:
        return router.json_response({"service": catalog.service_to_dict(catalog.get(s, Service, service_id, "service"))})


def create_service(req: router.Request) -> webob.Response:
    authorize(req, "manage_catalog")
    v = entity_body(req, "service", set(), {"type"})
    validation.validate(v, SERVICE_SCHEMA)
    with core(req).db.writer() as s:
        service = Service(id=types.new_hex_id(), type=v["type"], name=v.get("name", ""),
                          description=v.get("description") or "", enabled=v.get("enabled", True))
        s.add(service)
        s.flush()
        return router.json_response({"service": catalog.service_to_dict(service)}, status=201)


def update_service(req: router.Request, service_id: str) -> webob.Response:
    authorize(req, "manage_catalog")
    v = entity_body(req, "service", set())
    validation.validate(v, SERVICE_SCHEMA)
    with core(req).db.writer() as s:
        service = catalog.get(s, Service, service_id, "service")
        for key, value in v.items():
            setattr(service, key, value if value is not None else "")
        return router.json_response({"service": catalog.service_to_dict(service)})


def delete_service(req: router.Request, service_id: str) -> webob.Response:
    authorize(req, "manage_catalog")
    with core(req).db.writer() as s:
        s.delete(catalog.get(s, Service, service_id, "service"))
    return router.empty_response()


# -- endpoints ----------------------------------------------------------------------------

def list_endpoints(req: router.Request) -> webob.Response:
    authorize(req, "get_catalog_entity")
    with core(req).db.reader() as s:
        q = s.query(Endpoint)
        for key in ("interface", "service_id", "region_id"):
            if req.query_one(key):
                q = q.filter(getattr(Endpoint, key) == req.query_one(key))
        if bool_filter(req, "enabled") is not None:
            q = q.filter(Endpoint.enabled.is_(bool_filter(req, "enabled")))
        return router.json_response(collection(req, "endpoints", [catalog.endpoint_to_dict(e) for e in q]))


def get_endpoint(req: router.Request, endpoint_id: str) -> webob.Response:
    authorize(req, "get_catalog_entity")
    with core(req).db.reader() as s:
        return router.json_response({"endpoint": catalog.endpoint_to_dict(catalog.get(s, Endpoint, endpoint_id, "endpoint"))})


def create_endpoint(req: router.Request) -> webob.Response:
    authorize(req, "manage_catalog")
    v = entity_body(req, "endpoint", set(), {"service_id", "interface", "url"})
    validation.validate(v, ENDPOINT_SCHEMA)
    region_id = v.get("region_id") or v.get("region")
    with core(req).db.writer() as s:
        if not v.get("region_id") and v.get("region"):
            catalog.ensure_region(s, v["region"])
        catalog.check_endpoint(s, v["interface"], region_id, v["service_id"])
        endpoint = Endpoint(id=types.new_hex_id(), service_id=v["service_id"], interface=v["interface"], url=v["url"],
                            region_id=region_id, enabled=v.get("enabled", True))
        s.add(endpoint)
        s.flush()
        return router.json_response({"endpoint": catalog.endpoint_to_dict(endpoint)}, status=201)


def update_endpoint(req: router.Request, endpoint_id: str) -> webob.Response:
    authorize(req, "manage_catalog")
    v = entity_body(req, "endpoint", set())
    validation.validate(v, ENDPOINT_SCHEMA)
    with core(req).db.writer() as s:
        endpoint = catalog.get(s, Endpoint, endpoint_id, "endpoint")
        if "region" in v and "region_id" not in v:
            v["region_id"] = v.pop("region")
            if v["region_id"]:
                catalog.ensure_region(s, v["region_id"])
        v.pop("region", None)
        for key, value in v.items():
            setattr(endpoint, key, value)
        catalog.check_endpoint(s, endpoint.interface, endpoint.region_id, endpoint.service_id)
        return router.json_response({"endpoint": catalog.endpoint_to_dict(endpoint)})


def delete_endpoint(req: router.Request, endpoint_id: str) -> webob.Response:
    authorize(req, "manage_catalog")
    with core(req).db.writer() as s:
        s.delete(catalog.get(s, Endpoint, endpoint_id, "endpoint"))
    return router.empty_response()
