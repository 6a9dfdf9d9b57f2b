"""Metering policy: a project's readers see its usage and cost, cloud admins see every project's and set
tariffs; anyone with a token reads the price list."""

from __future__ import annotations

from typing import Any

from oslo_policy import policy

from nubis.common import policy as nubis_policy
from nubis.common.policy import ADMIN, ADMIN_OR_PROJECT_READER, SYSTEM_READER

ADMIN_OR_SYSTEM_READER = f"({ADMIN}) or ({SYSTEM_READER})"


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(name=f"metering:{name}", check_str=check, description=description,
                                        operations=[{"method": method, "path": path}],
                                        scope_types=["system", "project"])


RULES = [
    _rule("get_usage", ADMIN_OR_PROJECT_READER, "Show a project's usage and cost over a period.",
          "GET", "/v1/usage/{project_id}"),
    _rule("list_usage", ADMIN_OR_SYSTEM_READER, "Show every project's usage and cost over a period.",
          "GET", "/v1/usage"),
    _rule("list_tariffs", "", "List the tariffs (prices per unit-hour).", "GET", "/v1/tariffs"),
    _rule("create_tariff", ADMIN, "Set a tariff.", "POST", "/v1/tariffs"),
    _rule("delete_tariff", ADMIN, "Remove a tariff set through the API.", "DELETE", "/v1/tariffs/{tariff_id}"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
