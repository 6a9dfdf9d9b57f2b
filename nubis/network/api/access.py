"""Who may do what in the network API: the handlers' one place for policy (the core never sees it).

Neutron's rule names (``create_network``, ``update_port:binding:host_id``, ...) are checked
against a target: the project that owns (or will own) the resource, fetched through the core
for an existing one. The core keeps the business rules that are not policy (which rows a
caller can see, that only the owner changes a resource it merely sees through a share).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nubis.api import admin_context, router
from nubis.common import exceptions
from nubis.network import policies
from nubis.network.core import common, errors, ports, rbac
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.core.facade import NetworkCore

_CALLER = "nubis.network.caller"
# Rules whose targets are not a resource of the collection (checked by hand below).
_OWN_RULES = {"security_group_rule": "create", "metering_label_rule": "create"}


def core(req: router.Request) -> NetworkCore:
    return req.service


def caller(req: router.Request) -> Caller:
    """The caller, with ``is_admin`` derived from ``context_is_admin`` once per request."""
    found: Caller | None = req.environ.get(_CALLER)
    if found is None:
        ctx = admin_context.admin_context(req)  # ``is_admin`` from ``context_is_admin``, as every service
        found = Caller(ctx, bool(ctx.is_admin))
        req.environ[_CALLER] = found
    return found


def authorize(req: router.Request, rule: str, target: Mapping[str, Any] | None = None) -> None:
    """403 PolicyNotAuthorized (Neutron's fault) unless policy allows ``rule`` on ``target``
    (default: the caller's project)."""
    who = caller(req)
    try:
        core(req).policy.authorize(who.ctx, rule, target or {"project_id": who.project_id})
    except exceptions.Forbidden:
        raise errors.not_authorized(rule) from None


def check(req: router.Request, rule: str, target: Mapping[str, Any] | None = None) -> None:
    """As ``authorize``, with the policy's own 403 (quotas, agents, IP availability answer so)."""
    who = caller(req)
    core(req).policy.authorize(who.ctx, rule, target)


def may(req: router.Request, rule: str) -> bool:
    """Whether policy allows ``rule`` for the caller's own project (no 403)."""
    who = caller(req)
    return bool(core(req).policy.check(who.ctx, rule, {"project_id": who.project_id}))


def readable(req: router.Request, resources: Resources, ident: str | None = None) -> bool:
    """Whether the caller may read ``resources`` (``get_<member>``). A collection Neutron hides from
    whoever may not read it answers False (list empty); for one item (``ident``), 404; any other, 403.

    :raises NotFound: a hidden collection's item ``ident``.
    :raises Forbidden: the policy says no.
    """
    rule = f"get_{resources.member}"
    if resources.hidden_unless_readable and not may(req, rule):
        if ident is not None:
            raise errors.not_found(resources.kind, ident)
        return False
    authorize(req, rule)
    return True


def _attributes(req: router.Request, op: str, member: str, attrs: Mapping[str, Any]) -> None:
    """Admin-only attributes (``shared``, ``provider:*``, ``binding:host_id``...) need their own rule."""
    if member == "rbac_policy":  # its one admin attribute depends on the value: see _rbac_target
        return
    defaults = policies.ADMIN_ATTRIBUTE_DEFAULTS.get(member, {}) if op == "create" else {}
    for attr in policies.ADMIN_ATTRIBUTES.get(member, []):
        present = attr in attrs and not (attr in defaults and attrs[attr] is defaults[attr])
        if not present and ":" in attr:
            outer, inner = attr.split(":", 1)
            present = isinstance(attrs.get(outer), dict) and inner in attrs[outer]
        if present:
            authorize(req, f"{op}_{member}:{attr}", {"project_id": caller(req).project_id})


def _on_network(req: router.Request, op: str, network_project: str, project: str, attrs: Mapping[str, Any]) -> None:
    """403 unless the caller may set what ``attrs`` set on a port of ``project`` on a network of
    ``network_project``: address, MAC, filtering and network device owner are for the network's owner
    (``policies.NETWORK_OWNER_ATTRIBUTES``); admins may set them all."""
    if caller(req).is_admin:
        return
    fixed = attrs.get("fixed_ips")
    present = {
        "fixed_ips:ip_address": isinstance(fixed, list) and any(isinstance(f, dict) and "ip_address" in f
                                                                for f in fixed),
        "mac_address": "mac_address" in attrs,
        "port_security_enabled": "port_security_enabled" in attrs,
        "allowed_address_pairs": "allowed_address_pairs" in attrs,
        "device_owner": isinstance(attrs.get("device_owner"), str) and attrs["device_owner"].startswith("network:"),
    }
    target = {"project_id": project, "network:project_id": network_project}
    for attr in policies.NETWORK_OWNER_ATTRIBUTES[op]:
        if present[attr]:
            authorize(req, f"{op}_port:{attr}", target)


def _rbac_target(req: router.Request, op: str, attrs: Mapping[str, Any]) -> None:
    """Neutron: only an admin grants to every project ('*')."""
    target = attrs.get("target_tenant", attrs.get("target_project"))
    if target == rbac.EVERYONE:
        authorize(req, f"{op}_rbac_policy:target_tenant", {"project_id": caller(req).project_id})


def for_create(req: router.Request, resources: Resources, body: Any) -> None:
    """Authorize creating one ``{<member>: {...}}`` in ``resources``: ``create_<member>`` for the project that
    will own it, and the rules of the attributes it sets.

    :raises BadRequest: no ``<member>`` object, or contradicting project ids.
    :raises Forbidden: the policy says no.
    """
    member = resources.member
    attrs = common.body_of(body, member)
    who = caller(req)
    if member == "security_group_rule":
        group = attrs.get("security_group_id")
        if group:
            owner = core(req).security_groups.target(who, group)["project_id"]
            authorize(req, "create_security_group_rule", {"project_id": owner})
        return
    if member == "metering_label_rule":
        authorize(req, "create_metering_label_rule")
        return
    project = common.owner_for_create(who, dict(attrs))
    authorize(req, f"create_{member}", {"project_id": project})
    _attributes(req, "create", member, attrs)
    if member == "rbac_policy":
        _rbac_target(req, "create", attrs)
    if member == "port" and isinstance(attrs.get("network_id"), str) and attrs["network_id"] and not who.is_admin:
        network = core(req).networks.target(who, attrs["network_id"])
        _on_network(req, "create", network["project_id"], project, attrs)


def for_update(req: router.Request, resources: Resources, ident: str, body: Any) -> None:
    """Authorize changing ``ident``: ``update_<member>`` on its project, and the rules of what ``body`` sets.

    :raises NotFound: the caller cannot see ``ident``.
    :raises Forbidden: the policy says no.
    """
    member = resources.member
    attrs = common.body_of(body, member)
    target = resources.target(caller(req), ident)
    authorize(req, f"update_{member}", {"project_id": target["project_id"]})
    _attributes(req, "update", member, attrs)
    if member == "rbac_policy":
        _rbac_target(req, "update", attrs)
    if member == "port":
        _on_network(req, "update", target["network:project_id"], target["project_id"], attrs)
        # Neutron: the MAC of an existing port is the admin's alone (setting the same one is no change).
        if "mac_address" in attrs and ports.valid_mac(attrs["mac_address"]) != target["mac_address"]:
            authorize(req, "update_port:mac_address", {"project_id": target["project_id"]})


def on_resource(req: router.Request, resources: Resources, ident: str, rule: str) -> None:
    """Authorize ``rule`` (``delete_port``, ``add_router_interface``, ...) on the project of ``ident``.

    :raises NotFound: the caller cannot see ``ident``.
    :raises Forbidden: the policy says no.
    """
    if resources.hidden_unless_readable:
        readable(req, resources, ident)
    authorize(req, rule, {"project_id": resources.target(caller(req), ident)["project_id"]})


def agent(req: router.Request, rule: str, ident: str) -> None:
    """As Neutron: whoever may not even see agents is told the agent does not exist, not 403."""
    if not may(req, "get_agent"):
        raise errors.not_found("Agent", ident)
    check(req, rule)
