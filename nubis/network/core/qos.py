"""QoS (Neutron's ``qos`` extension): policies, their rules, and which policy a port ends up with.

A policy holds at most one rule of a type per direction: ``bandwidth_limit`` (``max_kbps``,
``max_burst_kbps``, ``direction`` ingress/egress, from the guest's point of view, as Neutron),
``dscp_marking`` (``dscp_mark``) and ``minimum_bandwidth`` (``min_kbps``). The network agent enforces the
first two (``tc`` and iptables' ``DSCP`` target); minimum bandwidth is stored and shown but enforced by no
agent here, so it is not offered in the rule types. A port's own ``qos_policy_id`` wins over its network's;
the network's applies to the guests' ports only (Neutron leaves ``network:*`` ports alone). A project's
``is_default`` policy (``qos-default``) is given to its new networks that name none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.network.core import common, errors, rbac
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

MAX_INT = 2147483647
DIRECTIONS = ("egress", "ingress")
# Neutron's VALID_DSCP_MARKS (neutron_lib.constants): the marks of RFC 2474/2597/3246/4594.
DSCP_MARKS = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56)


def _kbps(value: Any, name: str) -> int:
    return common.as_int(value, name, 0, MAX_INT)


def _direction(value: Any, name: str = "direction") -> str:
    if value not in DIRECTIONS:
        raise errors.invalid(f"{value!r} is not in {list(DIRECTIONS)} for {name}.")
    return str(value)


def _dscp(value: Any, name: str = "dscp_mark") -> int:
    mark = common.as_int(value, name, 0, 56)
    if mark not in DSCP_MARKS:
        raise errors.invalid(f"{mark} is not a valid DSCP mark; use one of {', '.join(map(str, DSCP_MARKS))}.")
    return mark


class RuleType:
    """One rule type: its URL segment, body key, the fields it has (name -> (parse, default, required))."""

    def __init__(self, name: str, fields: dict[str, tuple[Any, Any, bool]], enforced: bool,
                 directions: Sequence[str] = DIRECTIONS) -> None:
        self.name = name
        self.member = f"{name}_rule"
        self.collection = f"{name}_rules"
        self.fields = fields
        self.enforced = enforced
        self.directions = tuple(directions)

    def view(self, r: models.QosRule) -> dict[str, Any]:
        out: dict[str, Any] = {"id": r.id}
        for field in self.fields:
            out[field] = getattr(r, field)
        return out

    def details(self) -> dict[str, Any]:
        """``GET /v2.0/qos/rule-types/{type}``: the values each field takes, for the one driver here."""
        params = []
        for field in self.fields:
            if field == "direction":
                values: Any = list(self.directions)
                kind = "choices"
            elif field == "dscp_mark":
                values, kind = list(DSCP_MARKS), "choices"
            else:
                values, kind = {"start": 0, "end": MAX_INT}, "range"
            params.append({"parameter_name": field, "parameter_type": kind, "parameter_values": values})
        return {"type": self.name, "drivers": [{"name": "linuxbridge", "supported_parameters": params}]}


RULE_TYPES: dict[str, RuleType] = {t.name: t for t in (
    RuleType("bandwidth_limit", {"max_kbps": (_kbps, None, True), "max_burst_kbps": (_kbps, 0, False),
                                 "direction": (_direction, "egress", False)}, enforced=True),
    RuleType("dscp_marking", {"dscp_mark": (_dscp, None, True)}, enforced=True, directions=("egress",)),
    RuleType("minimum_bandwidth", {"min_kbps": (_kbps, None, True), "direction": (_direction, "egress", False)},
             enforced=False),
)}
BY_COLLECTION = {t.collection: t for t in RULE_TYPES.values()}


def rule_type(collection: str) -> RuleType:
    """The rule type of a URL segment (``bandwidth_limit_rules``); 404 for any other."""
    try:
        return BY_COLLECTION[collection]
    except KeyError:
        raise exceptions.NotFound(f"The resource collection {collection!r} does not exist.", "HTTPNotFound") from None


def rule_not_found(rule_id: str, policy_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"QoS rule {rule_id} for policy {policy_id} could not be found.", "QosRuleNotFound")


def policy_not_found(policy_id: Any) -> exceptions.NotFound:
    return exceptions.NotFound(f"QoS policy {policy_id} could not be found.", "QosPolicyNotFound")


class QosPolicies(Resources):
    model = models.QosPolicy
    kind = "QosPolicy"
    member = "policy"
    collection = "qos/policies"
    sortable = (*Resources.sortable, "shared", "is_default")

    def visible(self, caller: Caller) -> Any:
        if caller.is_admin:
            return None
        return sa.or_(models.QosPolicy.project_id == caller.project_id, models.QosPolicy.shared.is_(True),
                      models.QosPolicy.id.in_(rbac.granted_to(caller.project_id, rbac.SHARED, "qos_policy")))

    def row(self, s: orm.Session, caller: Caller, ident: str) -> Any:
        try:
            return super().row(s, caller, ident)
        except exceptions.NotFound:
            raise policy_not_found(ident) from None

    # -- views ----------------------------------------------------------------------------------
    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.QosPolicy]) -> list[dict[str, Any]]:
        ids = [r.id for r in rows]
        rules: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for rule in s.scalars(sa.select(models.QosRule).where(models.QosRule.qos_policy_id.in_(ids))
                                  .order_by(models.QosRule.rule_type, models.QosRule.direction)):
                rules[rule.qos_policy_id].append({**RULE_TYPES[rule.rule_type].view(rule), "type": rule.rule_type,
                                                  "qos_policy_id": rule.qos_policy_id})
        tags = common.tags_of(s, ids)
        # Neutron shows a policy shared with the caller's project (an RBAC grant) as shared.
        granted = set(s.scalars(rbac.granted_to(caller.project_id, rbac.SHARED, "qos_policy").where(
            models.RbacPolicy.object_id.in_(ids)))) if ids and caller.project_id else set()
        out = []
        for r in rows:
            view = common.standard_view(r, tags[r.id])
            view.update({"shared": r.shared or r.id in granted, "is_default": r.is_default, "rules": rules[r.id]})
            out.append(view)
        return out

    # -- changes --------------------------------------------------------------------------------
    def check_body(self, body: Any) -> None:
        if isinstance(body, dict) and isinstance(body.get(self.member), dict):
            attrs = body[self.member]
            for name in ("name", "description", "project_id", "tenant_id"):
                if name in attrs:
                    common.as_str(attrs[name], f"{self.member} {name}")

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        """``{policy: {name, description, shared, is_default, project_id}}``; 409 when the project has a default
        policy already and this one is to be the default too."""
        attrs, project = self.create_attrs(caller, body, ("name", "description", "shared", "is_default",
                                                          "project_id", "tenant_id"))
        policy = models.QosPolicy(id=common.types.new_uuid(), project_id=project, shared=False, is_default=False)
        with self.core.db.writer() as s:
            self._apply(s, policy, attrs)
            view = self.add_new(s, caller, policy)
            self._sync_everyone(s, policy)
        self.core.notify("qos_policy.create", view)
        return view

    def _apply(self, s: orm.Session, policy: models.QosPolicy, attrs: dict[str, Any]) -> None:
        common.apply_standard(policy, attrs, self.member)
        if "shared" in attrs:
            policy.shared = common.as_bool(attrs["shared"], "shared")
        if "is_default" in attrs:
            policy.is_default = common.as_bool(attrs["is_default"], "is_default")
            if policy.is_default and s.scalar(sa.select(models.QosPolicy.id).where(
                    models.QosPolicy.project_id == policy.project_id, models.QosPolicy.is_default.is_(True),
                    models.QosPolicy.id != policy.id)):
                raise errors.conflict("QoSPolicyDefaultAlreadyExists",
                                      f"A default QoS policy exists for project {policy.project_id}.")

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_readonly(attrs, ("id", "project_id", "tenant_id", "rules"), self.member)
        common.reject_unknown(attrs, ("name", "description", "shared", "is_default"), self.member)
        with self.core.db.writer() as s:
            policy = self.owned_row(s, caller, ident)
            common.check_revision(policy, if_match, self.member)
            if attrs.get("shared") is False and policy.shared:
                self._refuse_unsharing(s, policy)
            self._apply(s, policy, attrs)
            self._sync_everyone(s, policy)
            common.touch(policy)
            view = self.views(s, caller, [policy])[0]
        self.core.notify("qos_policy.update", view)
        return view

    def _refuse_unsharing(self, s: orm.Session, policy: models.QosPolicy) -> None:
        """Unsharing is taking the grant to every project away: Neutron refuses it as it refuses deleting that
        grant (409 RbacPolicyInUse while a project with no grant of its own uses the policy)."""
        everyone = s.scalar(sa.select(models.RbacPolicy).where(
            models.RbacPolicy.object_type == "qos_policy", models.RbacPolicy.object_id == policy.id,
            models.RbacPolicy.action == rbac.SHARED, models.RbacPolicy.target_project == rbac.EVERYONE))
        if everyone is not None:
            self.core.rbac_policies.refuse_in_use(s, everyone)

    @staticmethod
    def _sync_everyone(s: orm.Session, policy: models.QosPolicy) -> None:
        """``shared`` is the RBAC grant to every project ('*'): keep the two in step, as for networks."""
        found = s.scalar(sa.select(models.RbacPolicy).where(
            models.RbacPolicy.object_type == "qos_policy", models.RbacPolicy.object_id == policy.id,
            models.RbacPolicy.action == rbac.SHARED, models.RbacPolicy.target_project == rbac.EVERYONE))
        if policy.shared and found is None:
            s.add(models.RbacPolicy(id=common.types.new_uuid(), project_id=policy.project_id, object_type="qos_policy",
                                    object_id=policy.id, action=rbac.SHARED, target_project=rbac.EVERYONE))
        elif not policy.shared and found is not None:
            s.delete(found)

    def before_delete(self, s: orm.Session, caller: Caller, found: models.QosPolicy) -> None:
        for model in (models.Network, models.Port):
            user = s.scalar(sa.select(model.id).where(model.qos_policy_id == found.id).limit(1))
            if user:
                raise errors.conflict("QosPolicyInUse", f"QoS Policy {found.id} is used by "
                                                        f"{model.__tablename__[:-1]} {user}.")
        s.execute(sa.delete(models.RbacPolicy).where(models.RbacPolicy.object_type == "qos_policy",
                                                     models.RbacPolicy.object_id == found.id))

    # -- what networks and ports may name -------------------------------------------------------
    def usable(self, s: orm.Session, caller: Caller, value: Any) -> str | None:
        """``value`` as a policy id ``caller`` may attach (its project's, a shared one, any for an admin);
        None detaches. 404 QosPolicyNotFound for one it cannot see."""
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise errors.invalid(f"'{value}' is not a valid qos_policy_id.")
        return str(self.row(s, caller, value).id)

    @staticmethod
    def default_for(s: orm.Session, project_id: str) -> str | None:
        """The project's default policy (``qos-default``), for its new networks."""
        found = s.scalar(sa.select(models.QosPolicy.id).where(models.QosPolicy.project_id == project_id,
                                                              models.QosPolicy.is_default.is_(True)))
        return str(found) if found else None

    @staticmethod
    def effective(s: orm.Session, port: models.Port) -> str | None:
        """The policy that governs ``port``: its own, else its network's (for guests' ports only)."""
        if port.qos_policy_id:
            return port.qos_policy_id
        if port.device_owner.startswith("network:"):
            return None
        return s.scalar(sa.select(models.Network.qos_policy_id).where(models.Network.id == port.network_id))

    @staticmethod
    def rules_for_agent(s: orm.Session, policy_id: str | None) -> dict[str, Any]:
        """What an agent enforces for a policy: ``{"bandwidth_limit": {"egress"|"ingress": {max_kbps,
        max_burst_kbps}}, "dscp_mark": int|None}`` (empty when no policy)."""
        out: dict[str, Any] = {"policy_id": policy_id, "bandwidth_limit": {}, "dscp_mark": None}
        if not policy_id:
            return out
        for rule in s.scalars(sa.select(models.QosRule).where(models.QosRule.qos_policy_id == policy_id)):
            if rule.rule_type == "bandwidth_limit":
                out["bandwidth_limit"][rule.direction] = {"max_kbps": rule.max_kbps,
                                                          "max_burst_kbps": rule.max_burst_kbps or 0}
            elif rule.rule_type == "dscp_marking":
                out["dscp_mark"] = rule.dscp_mark
        return out


class QosRules:
    """The rules of one policy, by type (``/v2.0/qos/policies/{policy_id}/<type>_rules``)."""

    def __init__(self, core: Any) -> None:
        self.core = core

    def target(self, caller: Caller, policy_id: str) -> dict[str, Any]:
        """The policy's project (what the handlers authorize against); 404 when ``caller`` cannot see it."""
        return self.core.qos_policies.target(caller, policy_id)

    def _rule(self, s: orm.Session, kind: RuleType, policy_id: str, rule_id: str) -> models.QosRule:
        found = s.scalar(sa.select(models.QosRule).where(models.QosRule.id == rule_id,
                                                         models.QosRule.qos_policy_id == policy_id,
                                                         models.QosRule.rule_type == kind.name))
        if found is None:
            raise rule_not_found(rule_id, policy_id)
        return found

    def list(self, caller: Caller, kind: RuleType, policy_id: str) -> list[dict[str, Any]]:
        with self.core.db.reader() as s:
            policy = self.core.qos_policies.row(s, caller, policy_id)
            return [kind.view(r) for r in s.scalars(sa.select(models.QosRule).where(
                models.QosRule.qos_policy_id == policy.id, models.QosRule.rule_type == kind.name)
                .order_by(models.QosRule.direction))]

    def get(self, caller: Caller, kind: RuleType, policy_id: str, rule_id: str) -> dict[str, Any]:
        with self.core.db.reader() as s:
            policy = self.core.qos_policies.row(s, caller, policy_id)
            return kind.view(self._rule(s, kind, policy.id, rule_id))

    def _values(self, kind: RuleType, attrs: dict[str, Any], rule: models.QosRule, creating: bool) -> None:
        common.reject_unknown(attrs, kind.fields, kind.member)
        for field, (parse, default, required) in kind.fields.items():
            if field in attrs:
                setattr(rule, field, parse(attrs[field], field))
            elif creating:
                if required:
                    raise errors.invalid(f"{field} is required to create a {kind.member}.")
                setattr(rule, field, default)
        if "direction" not in kind.fields:
            rule.direction = "egress"
        elif rule.direction not in kind.directions:
            raise errors.invalid(f"{rule.direction!r} is not in {list(kind.directions)} for direction.")

    def _store(self, s: orm.Session, kind: RuleType, rule: models.QosRule) -> None:
        """Flush ``rule``; 409 QoSRulesConflict when its policy has another of its type and direction (checked
        first, and by the unique constraint for a concurrent request)."""
        conflict = errors.conflict("QoSRulesConflict", f"Rule {kind.name} ({rule.direction}) conflicts with a rule "
                                   f"which already exists in QoS Policy {rule.qos_policy_id}.")
        with s.no_autoflush:
            other = s.scalar(sa.select(models.QosRule.id).where(
                models.QosRule.qos_policy_id == rule.qos_policy_id, models.QosRule.rule_type == kind.name,
                models.QosRule.direction == rule.direction, models.QosRule.id != rule.id))
        if other:
            raise conflict
        try:
            s.flush()
        except sa_exc.IntegrityError:
            raise conflict from None

    def _touch_policy(self, s: orm.Session, caller: Caller, policy: models.QosPolicy) -> dict[str, Any]:
        common.touch(policy)
        return self.core.qos_policies.views(s, caller, [policy])[0]

    def create(self, caller: Caller, kind: RuleType, policy_id: str, body: Any) -> dict[str, Any]:
        """``{<type>_rule: {...}}``; 409 QoSRulesConflict when the policy has one of this type (and direction)."""
        attrs = common.body_of(body, kind.member)
        with self.core.db.writer() as s:
            policy = self.core.qos_policies.owned_row(s, caller, policy_id)
            rule = models.QosRule(id=common.types.new_uuid(), qos_policy_id=policy.id, rule_type=kind.name)
            self._values(kind, attrs, rule, creating=True)
            s.add(rule)
            self._store(s, kind, rule)
            view = kind.view(rule)
            policy_view = self._touch_policy(s, caller, policy)
        self.core.notify("qos_policy.update", policy_view)
        return view

    def update(self, caller: Caller, kind: RuleType, policy_id: str, rule_id: str, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, kind.member)
        common.reject_readonly(attrs, ("id", "qos_policy_id", "type"), kind.member)
        with self.core.db.writer() as s:
            policy = self.core.qos_policies.owned_row(s, caller, policy_id)
            rule = self._rule(s, kind, policy.id, rule_id)
            self._values(kind, attrs, rule, creating=False)
            self._store(s, kind, rule)
            view = kind.view(rule)
            policy_view = self._touch_policy(s, caller, policy)
        self.core.notify("qos_policy.update", policy_view)
        return view

    def delete(self, caller: Caller, kind: RuleType, policy_id: str, rule_id: str) -> None:
        with self.core.db.writer() as s:
            policy = self.core.qos_policies.owned_row(s, caller, policy_id)
            s.delete(self._rule(s, kind, policy.id, rule_id))
            s.flush()
            policy_view = self._touch_policy(s, caller, policy)
        self.core.notify("qos_policy.update", policy_view)


def rule_types() -> list[dict[str, str]]:
    """``GET /v2.0/qos/rule-types``: the types the agents here enforce."""
    return [{"type": t.name} for t in RULE_TYPES.values() if t.enforced]


def rule_type_details(name: str) -> dict[str, Any]:
    kind = RULE_TYPES.get(name)
    if kind is None or not kind.enforced:
        raise exceptions.NotFound(f"QoS rule type {name} could not be found.", "QosRuleTypeNotFound")
    return kind.details()
