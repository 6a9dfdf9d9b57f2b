"""Security groups and their rules, including each project's ``default`` group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nubis.network.core import common, errors, ipam
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

PROTOCOL_NUMBERS = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51, "ipv6-icmp": 58,
                    "icmpv6": 58, "ospf": 89, "pim": 103, "vrrp": 112, "sctp": 132, "udplite": 136}
PORT_PROTOCOLS = ("tcp", "udp", "sctp", "udplite", "dccp", "6", "17", "132", "136", "33")
ICMP_PROTOCOLS = ("icmp", "ipv6-icmp", "icmpv6", "1", "58")
RULE_ATTRS = ("security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
              "remote_ip_prefix", "remote_group_id", "description", "project_id", "tenant_id",
              "remote_address_group_id")


def _protocol_number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return PROTOCOL_NUMBERS[protocol] if protocol in PROTOCOL_NUMBERS else int(protocol)


def _rule_key(r: models.SecurityGroupRule) -> tuple[Any, ...]:
    """What makes two rules the same to Neutron: protocols by number, no remote prefix = the whole family."""
    prefix = r.remote_ip_prefix
    if prefix is None and r.remote_group_id is None:
        prefix = "0.0.0.0/0" if r.ethertype == "IPv4" else "::/0"
    return (r.direction, r.ethertype, _protocol_number(r.protocol), r.port_range_min, r.port_range_max, prefix,
            r.remote_group_id)


def rule_view(r: models.SecurityGroupRule, default_groups: set[str]) -> dict[str, Any]:
    out = common.standard_view(r)
    out.pop("name")
    out.pop("tags")
    out.update({
        "security_group_id": r.security_group_id, "direction": r.direction, "ethertype": r.ethertype,
        "protocol": r.protocol, "port_range_min": r.port_range_min, "port_range_max": r.port_range_max,
        "remote_ip_prefix": r.remote_ip_prefix, "remote_group_id": r.remote_group_id,
        "remote_address_group_id": None, "normalized_cidr": r.remote_ip_prefix,
        "belongs_to_default_sg": r.security_group_id in default_groups,
    })
    return out


def _default_groups(s: orm.Session, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    return set(s.scalars(sa.select(models.DefaultSecurityGroup.security_group_id)
                         .where(models.DefaultSecurityGroup.security_group_id.in_(list(ids)))))


class SecurityGroups(Resources):
    model = models.SecurityGroup
    kind = "SecurityGroup"
    member = "security_group"
    collection = "security-groups"
    sortable = (*Resources.sortable, "stateful")

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.SecurityGroup]) -> list[dict[str, Any]]:
        ids = [r.id for r in rows]
        rules: dict[str, list[models.SecurityGroupRule]] = {i: [] for i in ids}
        if ids:
            for rule in s.scalars(sa.select(models.SecurityGroupRule)
                                  .where(models.SecurityGroupRule.security_group_id.in_(ids))):
                rules[rule.security_group_id].append(rule)
        defaults = _default_groups(s, ids)
        tags = common.tags_of(s, ids)
        out = []
        for r in rows:
            view = common.standard_view(r, tags[r.id])
            view.update({"stateful": r.stateful, "shared": False,
                         "security_group_rules": [rule_view(x, defaults) for x in rules[r.id]]})
            out.append(view)
        return out

    def list(self, caller: Caller, params: Any) -> Any:
        if caller.project_id:
            with self.core.db.writer() as s:  # a project sees its default group from its first look on
                self.default_id(s, caller.project_id)
        return super().list(caller, params)

    def default_id(self, s: orm.Session, project_id: str) -> str:
        """The project's default group, created with its standard rules on first use."""
        found = s.scalar(sa.select(models.DefaultSecurityGroup.security_group_id)
                         .where(models.DefaultSecurityGroup.project_id == project_id))
        if found:
            return str(found)
        group = models.SecurityGroup(id=common.types.new_uuid(), project_id=project_id, name="default",
                                     description="Default security group")
        try:
            with s.begin_nested():
                s.add(group)
                s.flush()
                s.add(models.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
                s.flush()
                for ethertype in ("IPv4", "IPv6"):
                    s.add(models.SecurityGroupRule(id=common.types.new_uuid(), project_id=project_id,
                                                   security_group_id=group.id, direction="egress",
                                                   ethertype=ethertype))
                    s.add(models.SecurityGroupRule(id=common.types.new_uuid(), project_id=project_id,
                                                   security_group_id=group.id, direction="ingress",
                                                   ethertype=ethertype, remote_group_id=group.id))
                s.flush()
        except sa_exc.IntegrityError:  # another request created it first
            found = s.scalar(sa.select(models.DefaultSecurityGroup.security_group_id)
                             .where(models.DefaultSecurityGroup.project_id == project_id))
            return str(found)
        return group.id

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("name", "description", "project_id", "tenant_id", "stateful"), self.member)
        project = common.owner_for_create(caller, attrs)
        if attrs.get("name") == "default":
            raise errors.conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists; "
                                                                       "choose another name.")
        with self.core.db.writer() as s:
            self.default_id(s, project)
            self.core.quotas.check(s, project, "security_group")
            group = models.SecurityGroup(id=common.types.new_uuid(), project_id=project)
            common.apply_standard(group, attrs, self.member)
            if "stateful" in attrs:
                group.stateful = common.as_bool(attrs["stateful"], "stateful")
            s.add(group)
            s.flush()
            for ethertype in ("IPv4", "IPv6"):  # new groups allow all egress, as Neutron's do
                s.add(models.SecurityGroupRule(id=common.types.new_uuid(), project_id=project,
                                               security_group_id=group.id, direction="egress", ethertype=ethertype))
            s.flush()
            view = self.views(s, caller, [group])[0]
        self.core.notify("security_group.create", view)
        return view

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("name", "description", "stateful"), self.member)
        with self.core.db.writer() as s:
            group = self.owned_row(s, caller, ident)
            common.check_revision(group, if_match, "security group")
            if _default_groups(s, [group.id]):
                if attrs.get("name", "default") != "default":
                    raise errors.conflict("SecurityGroupCannotUpdateDefault", "Updating default security group "
                                                                              "name not allowed.")
            elif attrs.get("name") == "default":  # the name is the project's default group's alone
                raise errors.conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists; "
                                                                           "choose another name.")
            common.apply_standard(group, attrs, self.member)
            if "stateful" in attrs:
                group.stateful = common.as_bool(attrs["stateful"], "stateful")
            common.touch(group)
            view = self.views(s, caller, [group])[0]
        self.core.notify("security_group.update", view)
        return view

    def before_delete(self, s: orm.Session, caller: Caller, found: models.SecurityGroup) -> None:
        if _default_groups(s, [found.id]) and not caller.is_admin:
            raise errors.conflict("SecurityGroupCannotRemoveDefault", "Removing default security group not allowed.")
        in_use = s.scalar(sa.select(sa.func.count()).select_from(models.PortSecurityGroup)
                          .where(models.PortSecurityGroup.security_group_id == found.id))
        if in_use:
            raise errors.conflict("SecurityGroupInUse", f"Security Group {found.id} in use by {in_use} port(s); "
                                                        "remove it from them first.")
        s.execute(sa.delete(models.DefaultSecurityGroup).where(models.DefaultSecurityGroup.security_group_id ==
                                                               found.id))
        s.execute(sa.delete(models.SecurityGroupRule).where(models.SecurityGroupRule.security_group_id == found.id))


class SecurityGroupRules(Resources):
    model = models.SecurityGroupRule
    kind = "SecurityGroupRule"
    member = "security_group_rule"
    collection = "security-group-rules"
    sql_filters = ("id", "project_id", "security_group_id", "direction", "ethertype", "protocol",
                   "remote_group_id", "remote_ip_prefix")
    sortable = (*Resources.sortable, "security_group_id", "direction", "ethertype", "protocol")

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.SecurityGroupRule]) -> list[dict[str, Any]]:
        defaults = _default_groups(s, list({r.security_group_id for r in rows}))
        return [rule_view(r, defaults) for r in rows]

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, RULE_ATTRS, self.member)
        attrs.pop("remote_address_group_id", None)
        if not attrs.get("security_group_id"):
            raise errors.invalid("security_group_id is required.")
        with self.core.db.writer() as s:
            group = self.core.security_groups.owned_row(s, caller, attrs["security_group_id"])
            attrs.pop("project_id", None)
            attrs.pop("tenant_id", None)
            self.core.quotas.check(s, group.project_id, "security_group_rule")
            rule = self._rule(s, caller, group, attrs)
            self._refuse_duplicate(s, rule)
            s.add(rule)
            s.flush()
            view = self.views(s, caller, [rule])[0]
        self.core.notify("security_group_rule.create", view)
        return view

    def _rule(self, s: orm.Session, caller: Caller, group: models.SecurityGroup,
              attrs: dict[str, Any]) -> models.SecurityGroupRule:
        direction = attrs.get("direction")
        if direction not in ("ingress", "egress"):
            raise errors.invalid(f"'{direction}' is not in ['ingress', 'egress'] for direction.")
        ethertype = attrs.get("ethertype") or "IPv4"
        if ethertype not in ("IPv4", "IPv6"):
            raise errors.invalid(f"'{ethertype}' is not in ['IPv4', 'IPv6'] for ethertype.")
        protocol = attrs.get("protocol")
        if protocol in ("any", "", 0, "0"):
            protocol = None
        if protocol is not None:
            protocol = str(protocol).lower()
            if protocol not in PROTOCOL_NUMBERS and not (protocol.isdigit() and 0 <= int(protocol) <= 255):
                raise errors.bad_request("SecurityGroupRuleInvalidProtocol",
                                         f"Security group rule protocol {protocol} not supported. Only protocol "
                                         f"values {sorted(PROTOCOL_NUMBERS)} and integer representations [0 to "
                                         "255] are supported.")
            if protocol in ("icmp", "1") and ethertype == "IPv6":
                protocol = "ipv6-icmp"
        low = attrs.get("port_range_min")
        high = attrs.get("port_range_max")
        low = None if low is None else common.as_int(low, "port_range_min")
        high = None if high is None else common.as_int(high, "port_range_max")
        if protocol in PORT_PROTOCOLS:
            if low is None and high is not None:  # Neutron: a range needs its start
                raise errors.bad_request("SecurityGroupInvalidPortRange",
                                         "For TCP/UDP protocols, port_range_min must be <= port_range_max")
            if low is not None and high is None:
                high = low
            for value in (low, high):
                if value is not None and not 1 <= value <= 65535:
                    raise errors.bad_request("SecurityGroupInvalidPortValue",
                                             f"Invalid value for port {value}: use 1..65535.")
            if low is not None and high is not None and low > high:
                raise errors.bad_request("SecurityGroupInvalidPortRange",
                                         "For TCP/UDP protocols, port_range_min must be <= port_range_max")
        elif protocol in ICMP_PROTOCOLS:
            for name, value in (("type", low), ("code", high)):
                if value is not None and not 0 <= value <= 255:
                    raise errors.bad_request("SecurityGroupInvalidIcmpValue",
                                             f"Invalid value for ICMP {name}: {value}; use 0..255.")
            if high is not None and low is None:
                raise errors.bad_request("SecurityGroupMissingIcmpType", "ICMP code (port-range-max) "
                                                                         f"{high} is provided but ICMP type "
                                                                         "(port-range-min) is missing.")
        elif low is not None or high is not None:
            raise errors.bad_request("SecurityGroupInvalidPortRange",
                                     f"Port ranges are only valid for TCP, UDP, SCTP and ICMP, not {protocol}.")
        prefix = attrs.get("remote_ip_prefix")
        remote_group = attrs.get("remote_group_id")
        if prefix and remote_group:
            raise errors.bad_request("SecurityGroupRemoteGroupAndRemoteIpPrefix",
                                     "Only remote_ip_prefix or remote_group_id may be provided.")
        if prefix:
            net = ipam.network_of(prefix)
            if f"IPv{net.version}" != ethertype:
                raise errors.bad_request("SecurityGroupRuleParameterConflict",
                                         f"Conflicting value ethertype {ethertype} for CIDR {prefix}")
            prefix = str(net)
        if remote_group:
            self.core.security_groups.row(s, caller, remote_group)
        rule = models.SecurityGroupRule(id=common.types.new_uuid(), project_id=group.project_id,
                                        security_group_id=group.id, direction=direction, ethertype=ethertype,
                                        protocol=protocol, port_range_min=low, port_range_max=high,
                                        remote_ip_prefix=prefix, remote_group_id=remote_group)
        common.apply_standard(rule, {"description": attrs.get("description", "")}, self.member)
        return rule

    @staticmethod
    def _refuse_duplicate(s: orm.Session, rule: models.SecurityGroupRule) -> None:
        """409 SecurityGroupRuleExists for a rule that matches one of the group's, as Neutron compares them."""
        key = _rule_key(rule)
        for other in s.scalars(sa.select(models.SecurityGroupRule)
                               .where(models.SecurityGroupRule.security_group_id == rule.security_group_id)):
            if _rule_key(other) == key:
                raise errors.conflict("SecurityGroupRuleExists",
                                      f"Security group rule already exists. Rule id is {other.id}.")

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("description",), self.member)
        with self.core.db.writer() as s:
            rule = self.owned_row(s, caller, ident)
            common.apply_standard(rule, attrs, self.member)
            common.touch(rule)
            return self.views(s, caller, [rule])[0]
