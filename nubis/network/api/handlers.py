"""Networking v2.0 handlers: parse the request, authorize (``access``), call the core, shape the response.

Every collection shares the same five handlers (list, create, show, update,
delete) and the tag handlers; the routes bind the collection name.
"""

from __future__ import annotations

import dataclasses
import functools
import urllib.parse
from collections.abc import Callable
from typing import Any

import webob

from nubis.api import router
from nubis.common import exceptions
from nubis.network.api import access, extensions
from nubis.network.api.access import caller
from nubis.network.core import qos, query
from nubis.network.core.base import Resources
from nubis.network.core.facade import NetworkCore

COLLECTIONS = ("networks", "subnets", "subnetpools", "ports", "security-groups", "security-group-rules", "routers",
               "floatingips")
METERING = ("metering/metering-labels", "metering/metering-label-rules")
QOS_POLICIES = "qos/policies"
TAGGABLE = ("networks", "subnets", "subnetpools", "ports", "security-groups", "routers", "floatingips")


def core(req: router.Request) -> NetworkCore:
    return access.core(req)


def _params(req: router.Request) -> query.ListParams:
    return query.parse(list(req.GET.items()), core(req).conf.network.pagination_max_limit)


def _links(req: router.Request, items: list[dict[str, Any]], params: query.ListParams) -> list[dict[str, str]]:
    """The ``<collection>_links`` of a page: this request again (its filters, sorting and limit), marked."""
    out = []
    base = [(k, v) for k, v in req.GET.items() if k not in ("marker", "page_reverse")]
    for rel, marker, reverse in query.links(items, params):
        q = base + ([("marker", marker)] if marker else []) + ([("page_reverse", "True")] if reverse else [])
        out.append({"rel": rel, "href": f"{req.path_url}?{urllib.parse.urlencode(q)}"})
    return out


def _listing(req: router.Request, key: str, page: query.Page, params: query.ListParams) -> webob.Response:
    """``{<key>: [...]}`` with ``fields=`` applied, and ``<key>_links`` when the request gave a ``limit``."""
    body: dict[str, Any] = {key: [query.select_fields(i, params.fields) for i in page.items]}
    if params.limit:
        body[f"{key}_links"] = _links(req, page.items, params)
    return router.json_response(body)


# -- discovery ------------------------------------------------------------------------------------

@router.public
def versions(req: router.Request) -> webob.Response:
    return router.json_response({"versions": [{"id": "v2.0", "status": "CURRENT",
                                                "links": [{"rel": "self", "href": f"{req.host_url}/v2.0/"}]}]})


def resources(req: router.Request) -> webob.Response:
    names = {"networks": "network", "subnets": "subnet", "subnetpools": "subnetpool", "ports": "port",
             "security-groups": "security_group", "security-group-rules": "security_group_rule",
             "routers": "router", "floatingips": "floatingip"}
    return router.json_response({"resources": [
        {"name": member, "collection": coll, "links": [{"rel": "self", "href": f"{req.host_url}/v2.0/{coll}"}]}
        for coll, member in names.items()]})


def list_extensions(req: router.Request) -> webob.Response:
    return router.json_response({"extensions": [extensions.view(a) for a in sorted(extensions.EXTENSIONS)]})


def show_extension(req: router.Request, alias: str) -> webob.Response:
    if alias not in extensions.EXTENSIONS:
        raise exceptions.NotFound(f"Extension with alias {alias} does not exist", "HTTPNotFound")
    return router.json_response({"extension": extensions.view(alias)})


# -- the collections ------------------------------------------------------------------------------

def _member(resources: Resources) -> str:
    return resources.member


def _key(resources: Resources) -> str:
    """The body key of a list: ``security_groups`` for /v2.0/security-groups, ``metering_labels`` for
    /v2.0/metering/metering-labels."""
    return resources.collection.rsplit("/", 1)[-1].replace("-", "_")


def _at(collection: str, handler: Callable[..., webob.Response]) -> Callable[..., webob.Response]:
    """``handler`` for the one collection whose path is not a single segment (``metering/metering-labels``)."""
    @functools.wraps(handler)
    def bound(req: router.Request, **params: str) -> webob.Response:
        return handler(req, collection=collection, **params)
    return bound


def list_resources(req: router.Request, collection: str) -> webob.Response:
    resources = core(req).collection(collection)
    params = _params(req)
    page = resources.list(caller(req), params) if access.readable(req, resources) else query.Page([])
    return _listing(req, _key(resources), page, params)


def create_resource(req: router.Request, collection: str) -> webob.Response:
    resources = core(req).collection(collection)
    body = req.json_body()
    key = _key(resources)
    if isinstance(body, dict) and isinstance(body.get(key), list):
        return router.json_response({key: _bulk_create(req, resources, body[key])}, status=201)
    resources.check_body(body)
    access.for_create(req, resources, body)
    created = resources.create(caller(req), body)  # type: ignore[attr-defined]
    return router.json_response({_member(resources): created}, status=201)


def _bulk_create(req: router.Request, resources: Resources, items: list[Any]) -> list[dict[str, Any]]:
    """Create each item; if one fails, delete the ones already made (all or nothing, as clients expect)."""
    who = caller(req)
    done: list[dict[str, Any]] = []
    try:
        for item in items:
            access.for_create(req, resources, {resources.member: item})
            done.append(resources.create(who, {resources.member: item}))  # type: ignore[attr-defined]
    except Exception:
        for made in reversed(done):
            try:
                resources.delete(who, made["id"])
            except exceptions.NubisError:
                pass  # already gone
        raise
    return done


def show_resource(req: router.Request, collection: str, ident: str) -> webob.Response:
    resources = core(req).collection(collection)
    access.readable(req, resources, ident)
    item = resources.get(caller(req), ident)
    return router.json_response({_member(resources): query.select_fields(item, req.GET.getall("fields"))})


def update_resource(req: router.Request, collection: str, ident: str) -> webob.Response:
    resources = core(req).collection(collection)
    body = req.json_body()
    resources.check_body(body)
    access.for_update(req, resources, ident, body)
    updated = resources.update(caller(req), ident, body,  # type: ignore[attr-defined]
                               req.headers.get("If-Match"))
    return router.json_response({_member(resources): updated})


def delete_resource(req: router.Request, collection: str, ident: str) -> webob.Response:
    resources = core(req).collection(collection)
    access.on_resource(req, resources, ident, f"delete_{resources.member}")
    resources.delete(caller(req), ident, req.headers.get("If-Match"))
    return router.empty_response()


# -- tags -----------------------------------------------------------------------------------------

def _taggable(collection: str) -> None:
    if collection not in TAGGABLE:
        raise exceptions.NotFound(f"The resource collection {collection!r} has no tags.", "HTTPNotFound")


def _may_tag(req: router.Request, collection: str, ident: str) -> None:
    """Changing a resource's tags is updating it: ``update_<member>`` on its project."""
    _taggable(collection)
    resources = core(req).collection(collection)
    access.on_resource(req, resources, ident, f"update_{resources.member}")


def list_tags(req: router.Request, collection: str, ident: str) -> webob.Response:
    _taggable(collection)
    return router.json_response({"tags": core(req).tags.list(caller(req), collection, ident)})


def replace_tags(req: router.Request, collection: str, ident: str) -> webob.Response:
    body = req.json_body()
    _may_tag(req, collection, ident)
    return router.json_response({"tags": core(req).tags.replace(caller(req), collection, ident, body)})


def delete_tags(req: router.Request, collection: str, ident: str) -> webob.Response:
    _may_tag(req, collection, ident)
    core(req).tags.remove(caller(req), collection, ident, None)
    return router.empty_response()


def check_tag(req: router.Request, collection: str, ident: str, tag: str) -> webob.Response:
    _taggable(collection)
    if not core(req).tags.has(caller(req), collection, ident, tag):
        raise exceptions.NotFound(f"Tag {tag} could not be found for {collection[:-1]} {ident}.", "TagNotFound")
    return router.empty_response()


def add_tag(req: router.Request, collection: str, ident: str, tag: str) -> webob.Response:
    _may_tag(req, collection, ident)
    core(req).tags.add(caller(req), collection, ident, tag)
    return router.empty_response(201)


def delete_tag(req: router.Request, collection: str, ident: str, tag: str) -> webob.Response:
    _may_tag(req, collection, ident)
    core(req).tags.remove(caller(req), collection, ident, tag)
    return router.empty_response()


# -- routers --------------------------------------------------------------------------------------

def _on_router(req: router.Request, ident: str, rule: str) -> None:
    access.on_resource(req, core(req).routers, ident, rule)


def add_router_interface(req: router.Request, ident: str) -> webob.Response:
    _on_router(req, ident, "add_router_interface")
    return router.json_response(core(req).routers.add_interface(caller(req), ident, req.json_body()))


def remove_router_interface(req: router.Request, ident: str) -> webob.Response:
    _on_router(req, ident, "remove_router_interface")
    return router.json_response(core(req).routers.remove_interface(caller(req), ident, req.json_body()))


def add_extraroutes(req: router.Request, ident: str) -> webob.Response:
    _on_router(req, ident, "add_extraroutes")
    return router.json_response({"router": core(req).routers.change_extraroutes(caller(req), ident,
                                                                                 req.json_body(), add=True)})


def remove_extraroutes(req: router.Request, ident: str) -> webob.Response:
    _on_router(req, ident, "remove_extraroutes")
    return router.json_response({"router": core(req).routers.change_extraroutes(caller(req), ident,
                                                                                 req.json_body(), add=False)})


# -- zones and service providers ------------------------------------------------------------------

def list_availability_zones(req: router.Request) -> webob.Response:
    # Zones have no ids to page by: Neutron lists them whole, filtered and sorted.
    params = dataclasses.replace(_params(req), limit=None, marker=None, page_reverse=False)
    access.authorize(req, "get_availability_zone")
    page = query.apply(core(req).offerings.availability_zones(), params, ("name", "resource", "state"))
    return router.json_response({"availability_zones": [query.select_fields(i, params.fields) for i in page.items]})


def list_service_providers(req: router.Request) -> webob.Response:
    params = _params(req)
    access.authorize(req, "get_service_provider")
    page = query.apply(core(req).offerings.service_providers(), params, ("service_type", "name"))
    return router.json_response({"service_providers": [query.select_fields(i, params.fields) for i in page.items]})


# -- IP availability and history ------------------------------------------------------------------

def list_ip_availabilities(req: router.Request) -> webob.Response:
    params = _params(req)
    access.check(req, "get_network_ip_availability")
    items = core(req).availability.list(params)
    return router.json_response({"network_ip_availabilities": [query.select_fields(i, params.fields)
                                                               for i in items]})


def show_ip_availability(req: router.Request, network_id: str) -> webob.Response:
    access.check(req, "get_network_ip_availability")
    return router.json_response({"network_ip_availability": core(req).availability.get(network_id)})


def ip_allocation_history(req: router.Request) -> webob.Response:
    params = _params(req)
    access.check(req, "get_ip_allocation_history")
    return router.json_response({"ip_allocations": core(req).availability.history(params)})


# -- quotas ---------------------------------------------------------------------------------------

def list_quotas(req: router.Request) -> webob.Response:
    access.check(req, "update_quota", {"project_id": caller(req).project_id})
    return router.json_response({"quotas": core(req).quotas.list()})


def show_quota(req: router.Request, project_id: str) -> webob.Response:
    access.check(req, "get_quota", {"project_id": project_id})
    return router.json_response({"quota": core(req).quotas.show(project_id)})


def default_quota(req: router.Request, project_id: str) -> webob.Response:
    access.check(req, "get_quota", {"project_id": project_id})  # the same policy as reading the quota itself
    return router.json_response({"quota": core(req).quotas.defaults()})


def quota_details(req: router.Request, project_id: str) -> webob.Response:
    access.check(req, "get_quota", {"project_id": project_id})
    return router.json_response({"quota": core(req).quotas.details(project_id)})


def update_quota(req: router.Request, project_id: str) -> webob.Response:
    access.check(req, "update_quota", {"project_id": project_id})
    return router.json_response({"quota": core(req).quotas.update(project_id, req.json_body())})


def reset_quota(req: router.Request, project_id: str) -> webob.Response:
    access.check(req, "update_quota", {"project_id": project_id})
    core(req).quotas.reset(project_id)
    return router.empty_response()


# -- agents ---------------------------------------------------------------------------------------

def list_agents(req: router.Request) -> webob.Response:
    params = _params(req)
    # An empty list for whoever Neutron's get_agent policy hides agents from.
    found = core(req).agents.list() if access.may(req, "get_agent") else []
    page = query.apply(found, params, ("id", "host", "agent_type", "binary"))
    return router.json_response({"agents": [query.select_fields(i, params.fields) for i in page.items]})


def show_agent(req: router.Request, ident: str) -> webob.Response:
    access.agent(req, "get_agent", ident)
    return router.json_response({"agent": core(req).agents.get(ident)})


def update_agent(req: router.Request, ident: str) -> webob.Response:
    access.agent(req, "update_agent", ident)
    return router.json_response({"agent": core(req).agents.update(ident, req.json_body())})


def delete_agent(req: router.Request, ident: str) -> webob.Response:
    access.agent(req, "delete_agent", ident)
    core(req).agents.delete(ident)
    return router.empty_response()


# -- QoS --------------------------------------------------------------------------------------------

def list_rule_types(req: router.Request) -> webob.Response:
    # Whoever may read policies may learn which rule types they can hold; the details are the admin's.
    access.authorize(req, "get_policy")
    params = _params(req)
    # Neutron lists the rule types whole: it ignores limit and marker (so no links lead to the same page again).
    page = query.apply(qos.rule_types(), dataclasses.replace(params, limit=None, marker=None), ("type",))
    return router.json_response({"rule_types": [query.select_fields(i, params.fields) for i in page.items]})


def show_rule_type(req: router.Request, rule_type: str) -> webob.Response:
    access.authorize(req, "get_rule_type")
    return router.json_response({"rule_type": qos.rule_type_details(rule_type)})


def _qos_rules(rule_kind: str, handler: Callable[..., webob.Response]) -> Callable[..., webob.Response]:
    """``handler`` for one rule type's routes (``bandwidth_limit_rules``, ...)."""
    kind = qos.rule_type(rule_kind)

    @functools.wraps(handler)
    def bound(req: router.Request, **params: str) -> webob.Response:
        return handler(req, kind, **params)
    return bound


def _on_policy(req: router.Request, kind: qos.RuleType, op: str, policy_id: str) -> None:
    """``<op>_policy_<type>_rule`` on the policy's project (404 first for a policy the caller cannot see)."""
    rule = f"{op}_policy_{kind.member}"
    if op == "create":  # Neutron: a create the caller may make on no policy is refused before any lookup
        access.authorize(req, rule)
    access.authorize(req, rule, core(req).qos_rules.target(caller(req), policy_id))


def list_qos_rules(req: router.Request, kind: qos.RuleType, policy_id: str) -> webob.Response:
    _on_policy(req, kind, "get", policy_id)
    params = _params(req)
    page = query.apply(core(req).qos_rules.list(caller(req), kind, policy_id), params, ("id", *kind.fields))
    return _listing(req, kind.collection, page, params)


def create_qos_rule(req: router.Request, kind: qos.RuleType, policy_id: str) -> webob.Response:
    body = req.json_body()
    _on_policy(req, kind, "create", policy_id)
    return router.json_response({kind.member: core(req).qos_rules.create(caller(req), kind, policy_id, body)},
                                status=201)


def show_qos_rule(req: router.Request, kind: qos.RuleType, policy_id: str, rule_id: str) -> webob.Response:
    _on_policy(req, kind, "get", policy_id)
    item = core(req).qos_rules.get(caller(req), kind, policy_id, rule_id)
    return router.json_response({kind.member: query.select_fields(item, req.GET.getall("fields"))})


def update_qos_rule(req: router.Request, kind: qos.RuleType, policy_id: str, rule_id: str) -> webob.Response:
    body = req.json_body()
    _on_policy(req, kind, "update", policy_id)
    return router.json_response({kind.member: core(req).qos_rules.update(caller(req), kind, policy_id, rule_id,
                                                                         body)})


def delete_qos_rule(req: router.Request, kind: qos.RuleType, policy_id: str, rule_id: str) -> webob.Response:
    _on_policy(req, kind, "delete", policy_id)
    core(req).qos_rules.delete(caller(req), kind, policy_id, rule_id)
    return router.empty_response()


def _strip_json(handler: Callable[..., webob.Response]) -> Callable[..., webob.Response]:
    """Old clients add ``.json`` to the path; the same resource answers."""
    @functools.wraps(handler)
    def wrapper(req: router.Request, **params: str) -> webob.Response:
        return handler(req, **{k: v.removesuffix(".json") for k, v in params.items()})
    return wrapper


ROUTES: dict[str, dict[str, Callable[..., webob.Response]]] = {
    "/": {"GET": versions},
    "/v2.0": {"GET": resources},
    "/v2.0/extensions": {"GET": list_extensions},
    "/v2.0/extensions/{alias}": {"GET": show_extension},
    "/v2.0/network-ip-availabilities": {"GET": list_ip_availabilities},
    "/v2.0/network-ip-availabilities/{network_id}": {"GET": show_ip_availability},
    "/v2.0/ip-allocation-history": {"GET": ip_allocation_history},
    "/v2.0/quotas": {"GET": list_quotas},
    "/v2.0/quotas/{project_id}/default": {"GET": default_quota},
    "/v2.0/quotas/{project_id}/details.json": {"GET": quota_details},
    "/v2.0/quotas/{project_id}/details": {"GET": quota_details},
    "/v2.0/quotas/{project_id}": {"GET": _strip_json(show_quota), "PUT": _strip_json(update_quota),
                                  "DELETE": _strip_json(reset_quota)},
    "/v2.0/agents": {"GET": list_agents},
    "/v2.0/agents/{ident}": {"GET": show_agent, "PUT": update_agent, "DELETE": delete_agent},
    "/v2.0/routers/{ident}/add_router_interface": {"PUT": add_router_interface},
    "/v2.0/routers/{ident}/remove_router_interface": {"PUT": remove_router_interface},
    "/v2.0/routers/{ident}/add_extraroutes": {"PUT": add_extraroutes},
    "/v2.0/routers/{ident}/remove_extraroutes": {"PUT": remove_extraroutes},
    "/v2.0/availability_zones": {"GET": list_availability_zones},
    "/v2.0/service-providers": {"GET": list_service_providers},
    **{f"/v2.0/{c}": {"GET": _at(c, list_resources), "POST": _at(c, create_resource)} for c in METERING},
    "/v2.0/qos/rule-types": {"GET": list_rule_types},
    "/v2.0/qos/rule-types/{rule_type}": {"GET": show_rule_type},
    f"/v2.0/{QOS_POLICIES}": {"GET": _at(QOS_POLICIES, list_resources), "POST": _at(QOS_POLICIES, create_resource)},
    f"/v2.0/{QOS_POLICIES}/{{ident}}": {"GET": _at(QOS_POLICIES, show_resource),
                                        "PUT": _at(QOS_POLICIES, update_resource),
                                        "DELETE": _at(QOS_POLICIES, delete_resource)},
    **{f"/v2.0/{QOS_POLICIES}/{{policy_id}}/{c}": {"GET": _qos_rules(c, list_qos_rules),
                                                  "POST": _qos_rules(c, create_qos_rule)} for c in qos.BY_COLLECTION},
    **{f"/v2.0/{QOS_POLICIES}/{{policy_id}}/{c}/{{rule_id}}": {
        "GET": _qos_rules(c, show_qos_rule), "PUT": _qos_rules(c, update_qos_rule),
        "DELETE": _qos_rules(c, delete_qos_rule)} for c in qos.BY_COLLECTION},
    **{f"/v2.0/{c}/{{ident}}": {"GET": _at(c, show_resource), "DELETE": _at(c, delete_resource)}
       for c in METERING},
    "/v2.0/{collection}": {"GET": list_resources, "POST": create_resource},
    "/v2.0/{collection}/{ident}": {"GET": show_resource, "PUT": update_resource, "DELETE": delete_resource},
    "/v2.0/{collection}/{ident}/tags": {"GET": list_tags, "PUT": replace_tags, "DELETE": delete_tags},
    "/v2.0/{collection}/{ident}/tags/{tag}": {"GET": check_tag, "PUT": add_tag, "DELETE": delete_tag},
}
