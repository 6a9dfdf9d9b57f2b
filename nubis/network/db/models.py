"""Network records: networks, subnets, ports and their addresses, security groups,
routers, floating IPs, subnet pools, quotas, tags, agents and the address history.

Every API resource carries Neutron's standard attributes (project, name,
description, timestamps, revision number) through ``Standard``. Lists that
are only ever read whole live in JSON columns; anything that needs uniqueness
or lookups (addresses, MACs, segments, security group bindings) has its own
table with the constraint in the database, so concurrent API workers cannot
hand out the same thing twice.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types

ID = sa.String(36)


class Base(orm.DeclarativeBase):
    pass


class Standard:
    """Neutron's standard attributes, shared by every resource table."""

    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True, default=types.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True, default="")
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    description: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class Network(Standard, Base):
    __tablename__ = "networks"
    __table_args__ = (sa.UniqueConstraint("network_type", "physical_network", "segmentation_id",
                                          name="uniq_networks_segment"),)

    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ACTIVE")
    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    router_external: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    mtu: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=1450)
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    network_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    # '' rather than NULL for overlay networks, so the unique segment constraint holds on every backend.
    physical_network: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="")
    segmentation_id: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    dns_domain: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    # The QoS policy of the network's ports that have none of their own (checked in the core: no FK, so a
    # policy row and the networks using it are never locked together).
    qos_policy_id: orm.Mapped[str | None] = orm.mapped_column(ID, nullable=True, index=True)


class SubnetPool(Standard, Base):
    __tablename__ = "subnetpools"

    ip_version: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    prefixes: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=list)
    default_prefixlen: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    min_prefixlen: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    max_prefixlen: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    is_default: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    default_quota: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    address_scope_id: orm.Mapped[str | None] = orm.mapped_column(
        ID, sa.ForeignKey("address_scopes.id"), nullable=True, index=True)


class AddressScope(Standard, Base):
    """A space in which subnet pools' prefixes may not overlap (routed without NAT between them)."""

    __tablename__ = "address_scopes"

    ip_version: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)


class Subnet(Standard, Base):
    __tablename__ = "subnets"

    network_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("networks.id", ondelete="CASCADE"),
                                                    index=True)
    ip_version: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    cidr: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    gateway_ip: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    enable_dhcp: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    ipv6_ra_mode: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), nullable=True)
    ipv6_address_mode: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), nullable=True)
    subnetpool_id: orm.Mapped[str | None] = orm.mapped_column(ID, sa.ForeignKey("subnetpools.id"), nullable=True,
                                                              index=True)
    allocation_pools: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=list)
    dns_nameservers: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=list)
    host_routes: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=list)


class Port(Standard, Base):
    __tablename__ = "ports"
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address", name="uniq_ports_network_mac"),
                      sa.Index("ix_ports_device_id", "device_id"))

    network_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("networks.id", ondelete="CASCADE"),
                                                    index=True)
    mac_address: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN")
    device_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    device_owner: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    binding_host_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="", index=True)
    binding_vnic_type: orm.Mapped[str] = orm.mapped_column(sa.String(32), default="normal")
    binding_profile: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=dict)
    binding_vif_type: orm.Mapped[str] = orm.mapped_column(sa.String(32), default="unbound")
    binding_vif_details: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=dict)
    allowed_address_pairs: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=list)
    extra_dhcp_opts: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=list)
    dns_name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    qos_policy_id: orm.Mapped[str | None] = orm.mapped_column(ID, nullable=True, index=True)


class IPAllocation(Base):
    """One address held by one port. The primary key is what makes an address single-use."""

    __tablename__ = "ip_allocations"

    subnet_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("subnets.id", ondelete="CASCADE"),
                                                   primary_key=True)
    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    network_id: orm.Mapped[str] = orm.mapped_column(ID, index=True)
    port_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("ports.id", ondelete="CASCADE"), index=True)


class IPAllocationHistory(Base):
    """Who held which address when: one row per allocation, closed when released."""

    __tablename__ = "ip_allocation_history"
    __table_args__ = (sa.Index("ix_ip_history_address", "ip_address"),
                      sa.Index("ix_ip_history_subnet", "subnet_id"))

    id: orm.Mapped[int] = orm.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                            autoincrement=True)
    network_id: orm.Mapped[str] = orm.mapped_column(ID)
    subnet_id: orm.Mapped[str] = orm.mapped_column(ID)
    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    port_id: orm.Mapped[str] = orm.mapped_column(ID, index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    device_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    device_owner: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    mac_address: orm.Mapped[str] = orm.mapped_column(sa.String(32), default="")
    allocated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    released_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)


class SecurityGroup(Standard, Base):
    __tablename__ = "security_groups"

    stateful: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)


class DefaultSecurityGroup(Base):
    """The project's ``default`` group; the primary key keeps it to one per project under races."""

    __tablename__ = "default_security_groups"

    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("security_groups.id", ondelete="CASCADE"))


class SecurityGroupRule(Standard, Base):
    __tablename__ = "security_group_rules"

    security_group_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("security_groups.id", ondelete="CASCADE"), index=True)
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(8))
    ethertype: orm.Mapped[str] = orm.mapped_column(sa.String(8))
    protocol: orm.Mapped[str | None] = orm.mapped_column(sa.String(40), nullable=True)
    port_range_min: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    port_range_max: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    remote_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    remote_group_id: orm.Mapped[str | None] = orm.mapped_column(
        ID, sa.ForeignKey("security_groups.id", ondelete="CASCADE"), nullable=True)


class PortSecurityGroup(Base):
    __tablename__ = "port_security_groups"

    port_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("ports.id", ondelete="CASCADE"),
                                                 primary_key=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("security_groups.id"),
                                                           primary_key=True, index=True)


class Router(Standard, Base):
    __tablename__ = "routers"

    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ACTIVE")
    gw_port_id: orm.Mapped[str | None] = orm.mapped_column(ID, sa.ForeignKey("ports.id"), nullable=True)
    enable_snat: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    routes: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=list)


class FloatingIP(Standard, Base):
    __tablename__ = "floatingips"

    floating_network_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("networks.id"), index=True)
    floating_ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    floating_port_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("ports.id", ondelete="CASCADE"))
    port_id: orm.Mapped[str | None] = orm.mapped_column(ID, sa.ForeignKey("ports.id"), nullable=True, index=True)
    fixed_ip_address: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    router_id: orm.Mapped[str | None] = orm.mapped_column(ID, sa.ForeignKey("routers.id"), nullable=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN")


class Tag(Base):
    __tablename__ = "tags"

    resource_id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    tag: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    resource_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))


class Quota(Base):
    __tablename__ = "network_quotas"

    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (sa.UniqueConstraint("agent_type", "host", name="uniq_agents_type_host"),)

    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True, default=types.new_uuid)
    agent_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    topic: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    description: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    configurations: orm.Mapped[Any] = orm.mapped_column(types.JSONText, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    started_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    heartbeat_timestamp: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class MeteringLabel(Standard, Base):
    """A set of traffic an operator counts (the metering extension)."""

    __tablename__ = "metering_labels"

    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)


class MeteringLabelRule(Base):
    __tablename__ = "metering_label_rules"

    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True, default=types.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True, default="")
    metering_label_id: orm.Mapped[str] = orm.mapped_column(
        ID, sa.ForeignKey("metering_labels.id", ondelete="CASCADE"), index=True)
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(8))
    excluded: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    remote_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    source_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    destination_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)


class RbacPolicy(Base):
    """One grant of a network to another project (or to every project, ``*``): shared or external use."""

    __tablename__ = "rbac_policies"
    __table_args__ = (sa.UniqueConstraint("object_type", "object_id", "action", "target_project",
                                          name="uniq_rbac_policies_grant"),)

    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True, default=types.new_uuid)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True, default="")
    object_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    object_id: orm.Mapped[str] = orm.mapped_column(ID, index=True)
    action: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    target_project: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)


class QosPolicy(Standard, Base):
    """A QoS policy: a named set of rules attached to networks and ports (Neutron's ``qos`` extension)."""

    __tablename__ = "qos_policies"

    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    is_default: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)


class QosRule(Base):
    """One rule of a policy. One table for every rule type: each uses the columns it needs, the others stay NULL.
    At most one rule of a type per direction in a policy (the unique constraint)."""

    __tablename__ = "qos_rules"
    __table_args__ = (sa.UniqueConstraint("qos_policy_id", "rule_type", "direction", name="uniq_qos_rules_type"),)

    id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True, default=types.new_uuid)
    qos_policy_id: orm.Mapped[str] = orm.mapped_column(ID, sa.ForeignKey("qos_policies.id", ondelete="CASCADE"),
                                                       index=True)
    rule_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(8), default="egress")
    max_kbps: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    max_burst_kbps: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    min_kbps: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    dscp_mark: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
