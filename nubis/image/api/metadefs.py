"""``/v2/metadefs``: the metadata definitions catalog's handlers (parse, validate, authorize, one core call,
render), with Glance's codes: 409 for a name taken, 403 for deleting from a protected namespace or for a
read-only attribute in a body, 400 naming the field of a bad one, 404 for what the caller cannot see."""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.image.api import metadef_schemas as schemas
from nubis.image.api import metadef_views as views
from nubis.image.api.metadef_access import authorize, authorize_namespace, catalog, may_read
from nubis.image.core import fields
from nubis.image.core.metadefs.namespaces import SORT_KEYS, NamespaceQuery

READ_ONLY = ("self", "schema", "created_at", "updated_at")
TRUE = ("1", "t", "true", "on", "y", "yes")


def _body(req: router.Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON object, valid against ``schema``; read-only attributes are Glance's 403."""
    body = req.json_body()
    if not isinstance(body, dict):
        raise exceptions.BadRequest("The request body must be a JSON object.")
    for key in READ_ONLY:
        if key in body:
            raise exceptions.Forbidden(f"Attribute '{key}' is read-only.")
    validation.validate(body, schema)
    return body


def _query_text(req: router.Request) -> None:
    for name, value in req.GET.items():
        if "\x00" in name or "\x00" in value:
            raise exceptions.BadRequest(f"Query parameter {name!r} contains a NUL character.")


def _namespace_query(req: router.Request) -> NamespaceQuery:
    _query_text(req)
    params = req.GET
    limit_text = params.get("limit")
    limit = req.service.conf.image.limit_param_default
    if limit_text is not None:
        if not (limit_text.isascii() and limit_text.isdigit()) or len(limit_text) > 9:
            raise exceptions.BadRequest(f"limit param must be a non-negative integer, not {limit_text[:40]!r}")
        limit = int(limit_text)
    sort_key, sort_dir = params.get("sort_key", "created_at"), params.get("sort_dir", "desc")
    if sort_key not in SORT_KEYS:
        raise exceptions.BadRequest(f"Invalid sort_key {sort_key[:80]!r}; valid keys: {', '.join(SORT_KEYS)}")
    if sort_dir not in ("asc", "desc"):
        raise exceptions.BadRequest(f"Invalid sort direction: {sort_dir[:40]}")
    visibility = params.get("visibility")
    if visibility is not None and visibility not in ("public", "private"):
        raise exceptions.BadRequest(f"Invalid visibility value: {visibility[:40]}")
    resource_types = tuple(t.strip() for t in params.get("resource_types", "").split(",") if t.strip())
    return NamespaceQuery(limit=limit, marker=params.get("marker") or None, sort_key=sort_key, sort_dir=sort_dir,
                          visibility=visibility, resource_types=resource_types)


# -- namespaces --------------------------------------------------------------------------------------

def list_namespaces(req: router.Request) -> webob.Response:
    query = _namespace_query(req)
    authorize(req, "get_metadef_namespaces", "list_metadef_resource_types")
    page = catalog(req).namespaces.index(req.context, query)
    params = [(k, v) for k, v in req.GET.items() if k != "marker"]
    out: dict[str, Any] = {
        "namespaces": [views.namespace(ns) for ns in page.namespaces if may_read(req, ns)],
        "first": views.NAMESPACES + (f"?{urllib.parse.urlencode(params)}" if params else ""),
        "schema": "/v2/schemas/metadefs/namespaces"}
    if page.next_marker:
        out["next"] = f"{views.NAMESPACES}?{urllib.parse.urlencode([*params, ('marker', page.next_marker)])}"
    return router.json_response(out)


def create_namespace(req: router.Request) -> webob.Response:
    body = _body(req, schemas.NAMESPACE)
    rules = ["add_metadef_namespace"]
    for key, rule in (("resource_type_associations", "add_metadef_resource_type_association"),
                      ("objects", "add_metadef_object"), ("properties", "add_metadef_property"),
                      ("tags", "add_metadef_tag")):
        if body.get(key):
            rules.append(rule)
    authorize(req, *rules)
    record = catalog(req).namespaces.create(req.context, body)
    return router.json_response(views.namespace(record), status=201,
                                headers={"Location": req.host_url + urllib.parse.quote(
                                    views.namespace_href(record["namespace"]), safe="/:")})


def show_namespace(req: router.Request, namespace_name: str) -> webob.Response:
    _query_text(req)
    authorize_namespace(req, namespace_name, "get_metadef_namespace", "list_metadef_resource_types",
                        "get_metadef_objects", "get_metadef_properties", "get_metadef_tags")
    record = catalog(req).namespaces.show(req.context, namespace_name, req.GET.get("resource_type") or None)
    return router.json_response(views.namespace(record))


def update_namespace(req: router.Request, namespace_name: str) -> webob.Response:
    body = _body(req, schemas.NAMESPACE)
    authorize_namespace(req, namespace_name, "modify_metadef_namespace")
    return router.json_response(views.namespace(catalog(req).namespaces.update(req.context, namespace_name, body)))


def delete_namespace(req: router.Request, namespace_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "delete_metadef_namespace")
    catalog(req).namespaces.delete(req.context, namespace_name)
    return router.empty_response()


def _delete_all(kind: str, *rules: str) -> router.Handler:
    def handler(req: router.Request, namespace_name: str) -> webob.Response:
        authorize_namespace(req, namespace_name, "delete_metadef_namespace", *rules)
        catalog(req).namespaces.delete_contents(req.context, namespace_name, kind)
        return router.empty_response()
    handler.__doc__ = f"DELETE /v2/metadefs/namespaces/{{namespace}}/{kind}: all of the namespace's {kind}."
    return handler


# -- objects -----------------------------------------------------------------------------------------

def list_objects(req: router.Request, namespace_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "get_metadef_objects")
    objects = catalog(req).objects.index(req.context, namespace_name)
    return router.json_response({"objects": [views.metadef_object(namespace_name, o) for o in objects],
                                 "schema": "/v2/schemas/metadefs/objects"})


def create_object(req: router.Request, namespace_name: str) -> webob.Response:
    body = _body(req, schemas.OBJECT)
    authorize_namespace(req, namespace_name, "add_metadef_object")
    record = catalog(req).objects.create(req.context, namespace_name, body)
    return router.json_response(views.metadef_object(namespace_name, record), status=201)


def show_object(req: router.Request, namespace_name: str, object_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "get_metadef_object")
    record = catalog(req).objects.get(req.context, namespace_name, object_name)
    return router.json_response(views.metadef_object(namespace_name, record))


def update_object(req: router.Request, namespace_name: str, object_name: str) -> webob.Response:
    body = _body(req, schemas.OBJECT)
    authorize_namespace(req, namespace_name, "modify_metadef_object")
    record = catalog(req).objects.update(req.context, namespace_name, object_name, body)
    return router.json_response(views.metadef_object(namespace_name, record))


def delete_object(req: router.Request, namespace_name: str, object_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "delete_metadef_object")
    catalog(req).objects.delete(req.context, namespace_name, object_name)
    return router.empty_response()


# -- properties --------------------------------------------------------------------------------------

def list_properties(req: router.Request, namespace_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "get_metadef_properties")
    return router.json_response({"properties": catalog(req).properties.index(req.context, namespace_name)})


def create_property(req: router.Request, namespace_name: str) -> webob.Response:
    body = _body(req, schemas.PROPERTY)
    authorize_namespace(req, namespace_name, "add_metadef_property")
    record = catalog(req).properties.create(req.context, namespace_name, body)
    return router.json_response(views.metadef_property(record), status=201)


def show_property(req: router.Request, namespace_name: str, property_name: str) -> webob.Response:
    _query_text(req)
    authorize_namespace(req, namespace_name, "get_metadef_property")
    record = catalog(req).properties.get(req.context, namespace_name, property_name,
                                         req.GET.get("resource_type") or None)
    return router.json_response(views.metadef_property(record))


def update_property(req: router.Request, namespace_name: str, property_name: str) -> webob.Response:
    body = _body(req, schemas.PROPERTY)
    authorize_namespace(req, namespace_name, "modify_metadef_property")
    record = catalog(req).properties.update(req.context, namespace_name, property_name, body)
    return router.json_response(views.metadef_property(record))


def delete_property(req: router.Request, namespace_name: str, property_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "remove_metadef_property")
    catalog(req).properties.delete(req.context, namespace_name, property_name)
    return router.empty_response()


# -- tags --------------------------------------------------------------------------------------------

def list_tags(req: router.Request, namespace_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "get_metadef_tags")
    return router.json_response({"tags": [{"name": t["name"]}
                                          for t in catalog(req).tags.index(req.context, namespace_name)]})


def create_tags(req: router.Request, namespace_name: str) -> webob.Response:
    """POST .../tags: the body's tags replace the namespace's, or join them with ``X-Openstack-Append: true``."""
    body = _body(req, schemas.TAGS)
    append = req.headers.get("X-Openstack-Append", "").strip().lower() in TRUE
    authorize_namespace(req, namespace_name, "add_metadef_tags")
    records = catalog(req).tags.create_many(req.context, namespace_name, [t["name"] for t in body["tags"]], append)
    return router.json_response({"tags": [{"name": t["name"]} for t in records]}, status=201)


def create_tag(req: router.Request, namespace_name: str, tag_name: str) -> webob.Response:
    validation.validate({"name": tag_name}, schemas.TAG)
    authorize_namespace(req, namespace_name, "add_metadef_tag")
    return router.json_response(views.tag(catalog(req).tags.create(req.context, namespace_name, tag_name)),
                                status=201)


def show_tag(req: router.Request, namespace_name: str, tag_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "get_metadef_tag")
    return router.json_response(views.tag(catalog(req).tags.get(req.context, namespace_name, tag_name)))


def update_tag(req: router.Request, namespace_name: str, tag_name: str) -> webob.Response:
    body = _body(req, schemas.TAG)
    authorize_namespace(req, namespace_name, "modify_metadef_tag")
    record = catalog(req).tags.update(req.context, namespace_name, tag_name, body["name"])
    return router.json_response(views.tag(record))


def delete_tag(req: router.Request, namespace_name: str, tag_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "delete_metadef_tag")
    catalog(req).tags.delete(req.context, namespace_name, tag_name)
    return router.empty_response()


# -- resource types ----------------------------------------------------------------------------------

def list_resource_types(req: router.Request) -> webob.Response:
    authorize(req, "list_metadef_resource_types")
    return router.json_response({"resource_types": [views.resource_type(r)
                                                    for r in catalog(req).resource_types.index()]})


def list_associations(req: router.Request, namespace_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "get_metadef_resource_type")
    associations = catalog(req).resource_types.associations(req.context, namespace_name)
    return router.json_response({"resource_type_associations": [views.association(a) for a in associations]})


def create_association(req: router.Request, namespace_name: str) -> webob.Response:
    body = _body(req, schemas.ASSOCIATION)
    authorize_namespace(req, namespace_name, "add_metadef_resource_type_association")
    record = catalog(req).resource_types.associate(req.context, namespace_name, body)
    return router.json_response(views.association(record), status=201)


def delete_association(req: router.Request, namespace_name: str, resource_type_name: str) -> webob.Response:
    authorize_namespace(req, namespace_name, "remove_metadef_resource_type_association")
    catalog(req).resource_types.dissociate(req.context, namespace_name, resource_type_name)
    return router.empty_response()


# -- routes ------------------------------------------------------------------------------------------

def _schema(builder: Any) -> router.Handler:
    def handler(req: router.Request) -> webob.Response:
        return router.json_response(builder())
    return handler


def _named_by_path(handler: router.Handler) -> router.Handler:
    """404 before any lookup for a name in the path that no stored row can have: longer than its column,
    or with control characters (which some databases cannot even compare)."""
    @functools.wraps(handler)
    def checked(req: router.Request, **params: str) -> webob.Response:
        for key, value in params.items():
            if key == "tag_name" and req.method == "POST":
                continue  # a new tag's name: validated (400) by the handler
            if fields.path_names_nothing(value, schemas.NAME_LENGTH):
                what = "namespace" if key == "namespace_name" else key.removesuffix("_name").replace("_", " ")
                raise exceptions.NotFound(f"Metadata definition {what}={value[:100]} was not found.")
        return handler(req, **params)
    return checked


_NS = "/v2/metadefs/namespaces/{namespace_name}"
_ROUTES: router.RouteTable = {
    "/v2/metadefs/namespaces": {"GET": list_namespaces, "POST": create_namespace},
    _NS: {"GET": show_namespace, "PUT": update_namespace, "DELETE": delete_namespace},
    _NS + "/objects": {"GET": list_objects, "POST": create_object,
                       "DELETE": _delete_all("objects")},
    _NS + "/objects/{object_name}": {"GET": show_object, "PUT": update_object, "DELETE": delete_object},
    _NS + "/properties": {"GET": list_properties, "POST": create_property,
                          "DELETE": _delete_all("properties")},
    _NS + "/properties/{property_name}": {"GET": show_property, "PUT": update_property, "DELETE": delete_property},
    _NS + "/tags": {"GET": list_tags, "POST": create_tags, "DELETE": _delete_all("tags", "delete_metadef_tags")},
    _NS + "/tags/{tag_name}": {"GET": show_tag, "POST": create_tag, "PUT": update_tag, "DELETE": delete_tag},
    "/v2/metadefs/resource_types": {"GET": list_resource_types},
    _NS + "/resource_types": {"GET": list_associations, "POST": create_association},
    _NS + "/resource_types/{resource_type_name}": {"DELETE": delete_association},
    "/v2/schemas/metadefs/namespace": {"GET": _schema(schemas.namespace_schema)},
    "/v2/schemas/metadefs/namespaces": {"GET": _schema(schemas.namespaces_schema)},
    "/v2/schemas/metadefs/object": {"GET": _schema(schemas.object_schema)},
    "/v2/schemas/metadefs/objects": {"GET": _schema(schemas.objects_schema)},
    "/v2/schemas/metadefs/property": {"GET": _schema(schemas.property_schema)},
    "/v2/schemas/metadefs/properties": {"GET": _schema(schemas.properties_schema)},
    "/v2/schemas/metadefs/tag": {"GET": _schema(schemas.tag_schema)},
    "/v2/schemas/metadefs/tags": {"GET": _schema(schemas.tags_schema)},
    "/v2/schemas/metadefs/resource_type": {"GET": _schema(schemas.resource_type_schema)},
    "/v2/schemas/metadefs/resource_types": {"GET": _schema(schemas.resource_types_schema)},
}
ROUTES: router.RouteTable = {path: {method: _named_by_path(fn) if "{" in path else fn for method, fn in methods.items()}
                             for path, methods in _ROUTES.items()}
