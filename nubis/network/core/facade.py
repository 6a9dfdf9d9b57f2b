"""The network service's core: every collection, quotas, tags, agents, and how changes reach agents."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oslo_config import cfg

from nubis.common import context as nubis_context
from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.common.policy import Policy
from nubis.network.core.address_scopes import AddressScopes
from nubis.network.core.agents import Agents
from nubis.network.core.availability import Availability
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.core.floatingips import FloatingIPs
from nubis.network.core.metering import MeteringLabelRules, MeteringLabels
from nubis.network.core.networks import Networks
from nubis.network.core.offerings import Offerings
from nubis.network.core.ports import Ports
from nubis.network.core.qos import QosPolicies, QosRules
from nubis.network.core.quotas import Quotas
from nubis.network.core.rbac import RbacPolicies
from nubis.network.core.routers import Routers
from nubis.network.core.security_groups import SecurityGroupRules, SecurityGroups
from nubis.network.core.subnetpools import SubnetPools
from nubis.network.core.subnets import Subnets
from nubis.network.core.tags import Tags

# Called with (event, payload) after a change commits, e.g. ("port.update", {...port view...}).
Listener = Callable[[str, Mapping[str, Any]], None]


class NetworkCore:
    def __init__(self, conf: cfg.ConfigOpts, db: Database, policy: Policy) -> None:
        self.conf = conf
        self.db = db
        self.policy = policy  # for the handlers, which authorize (nubis.network.api.access); the core never does
        self.listeners: list[Listener] = []
        self.quotas = Quotas(conf, db)
        self.agents = Agents(conf, db)
        self.availability = Availability(db)
        self.networks = Networks(self)
        self.subnets = Subnets(self)
        self.subnetpools = SubnetPools(self)
        self.ports = Ports(self)
        self.security_groups = SecurityGroups(self)
        self.security_group_rules = SecurityGroupRules(self)
        self.routers = Routers(self)
        self.floatingips = FloatingIPs(self)
        self.tags = Tags(self)
        self.offerings = Offerings(self)
        self.address_scopes = AddressScopes(self)
        self.rbac_policies = RbacPolicies(self)
        self.metering_labels = MeteringLabels(self)
        self.metering_label_rules = MeteringLabelRules(self)
        self.qos_policies = QosPolicies(self)
        self.qos_rules = QosRules(self)
        self._collections: dict[str, Resources] = {
            r.collection: r for r in (self.networks, self.subnets, self.subnetpools, self.ports,
                                      self.security_groups, self.security_group_rules, self.routers,
                                      self.floatingips, self.address_scopes, self.rbac_policies, self.metering_labels,
                                      self.metering_label_rules, self.qos_policies)}

    def collection(self, name: str) -> Resources:
        try:
            return self._collections[name]
        except KeyError:
            raise exceptions.NotFound(f"The resource collection {name!r} does not exist.", "HTTPNotFound") from None

    @property
    def collections(self) -> Mapping[str, Resources]:
        return self._collections

    # -- who is asking --------------------------------------------------------------------------
    @staticmethod
    def internal_caller() -> Caller:
        """The service acting for itself (router gateway and floating IP ports)."""
        return Caller(nubis_context.admin_context(), True)

    # -- telling agents -------------------------------------------------------------------------
    def notify(self, event: str, payload: Mapping[str, Any]) -> None:
        for listener in self.listeners:
            listener(event, payload)
