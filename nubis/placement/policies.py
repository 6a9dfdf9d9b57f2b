"""Placement's policy: it is an operator and service API (admin or the service role)."""

from __future__ import annotations

from typing import Any

from oslo_policy import policy

from nubis.common import policy as nubis_policy

ADMIN_OR_SERVICE = "role:admin or role:service"
READER = f"({ADMIN_OR_SERVICE}) or (role:reader and system_scope:all)"


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(name=f"placement:{name}", check_str=check, description=description,
                                        operations=[{"method": method, "path": path}],
                                        scope_types=["system", "project"])


RULES = [
    _rule("read", READER, "Read providers, inventories, traits, aggregates, usages, allocations and candidates.",
          "GET", "/resource_providers"),
    _rule("write", ADMIN_OR_SERVICE, "Create, change or delete providers, inventories, traits and aggregates.",
          "POST", "/resource_providers"),
    _rule("allocate", ADMIN_OR_SERVICE, "Write or delete the allocations of consumers.",
          "PUT", "/allocations/{consumer_uuid}"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
