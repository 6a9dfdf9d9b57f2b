"""oslo.policy enforcement with the default personas, defined in code.

Each service lists its ``DocumentedRuleDefault`` rules and builds one
``Policy``; handlers call ``authorize`` before touching anything. Scope types
and the new defaults are enforced (admin / member / reader, system / domain /
project scope), as current OpenStack does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from nubis.common import exceptions
from nubis.common.context import RequestContext

# Check strings shared by every service's rules.
ADMIN = "role:admin"
SYSTEM_ADMIN = "role:admin and system_scope:all"
SYSTEM_READER = "role:reader and system_scope:all"
PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
PROJECT_ADMIN = "role:admin and project_id:%(project_id)s"
ADMIN_OR_PROJECT_MEMBER = f"({ADMIN}) or ({PROJECT_MEMBER})"
ADMIN_OR_PROJECT_READER = f"({ADMIN}) or ({SYSTEM_READER}) or ({PROJECT_READER})"

BASE_RULES = [
    # A domain-scoped token carries the admin role of one domain: it manages that
    # domain's identity records and is never a cloud admin (doc/personas.md).
    policy.RuleDefault("context_is_admin", f"{ADMIN} and domain_id:None",
                       "The caller has the admin role on a project or the system."),
    policy.RuleDefault("admin_api", ADMIN, "Operator-only APIs."),
    policy.RuleDefault("project_member_api", PROJECT_MEMBER, "A member of the target project."),
    policy.RuleDefault("project_reader_api", PROJECT_READER, "A reader of the target project."),
]


# How often a process looks for an edited policy file.
RELOAD_INTERVAL = 1.0
DECISION_CACHE_SIZE = 10000


def _freeze(values: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in values.items()))


class Policy:
    """One service's rules and the enforcer that applies them.

    Decisions are remembered per (rule, caller, target): oslo.policy re-reads
    the policy file's state and introspects every check on each call, which
    was the biggest cost of a cached token validation. The memory is dropped
    whenever the enforcer's rules change (an edited policy file is picked up
    within ``RELOAD_INTERVAL``).
    """

    def __init__(self, conf: cfg.ConfigOpts, rules: Iterable[policy.RuleDefault]) -> None:
        # The personas only work if scope and the new defaults are enforced.
        policy_opts.set_defaults(conf, enforce_scope=True, enforce_new_defaults=True)
        self._enforcer = policy.Enforcer(conf, use_conf=True)
        self._enforcer.register_defaults(BASE_RULES)
        self._enforcer.register_defaults(list(rules))
        self._decisions: dict[tuple[Any, ...], bool] = {}
        self._rules_seen: Any = None
        self._next_reload = 0.0

    def _current_decisions(self) -> dict[tuple[Any, ...], bool]:
        now = time.monotonic()
        if now >= self._next_reload:
            self._next_reload = now + RELOAD_INTERVAL
            self._enforcer.load_rules()
            seen = (id(self._enforcer.rules), len(self._enforcer.rules))
            if seen != self._rules_seen:
                self._rules_seen = seen
                self._decisions = {}
        if len(self._decisions) > DECISION_CACHE_SIZE:
            self._decisions = {}
        return self._decisions

    @property
    def rules(self) -> list[policy.RuleDefault]:
        return list(self._enforcer.registered_rules.values())

    def check(self, context: RequestContext, rule: str, target: Mapping[str, Any] | None = None) -> bool:
        """True when ``context`` may do ``rule`` on ``target`` (no exception)."""
        decisions = self._current_decisions()
        target = dict(target or {})
        key = (rule, _freeze(target), _freeze(context.to_policy_values()))
        allowed = decisions.get(key)
        if allowed is None:
            try:
                allowed = bool(self._enforcer.authorize(rule, target, context, do_raise=False))
            except policy.InvalidScope:
                allowed = False
            decisions[key] = allowed
        return allowed

    def authorize(self, context: RequestContext, rule: str, target: Mapping[str, Any] | None = None) -> None:
        """Raise 403 unless ``context`` may do ``rule`` on ``target``."""
        if target is None:
            target = {"project_id": context.project_id, "user_id": context.user_id}
        if not self.check(context, rule, target):
            raise exceptions.Forbidden(f"Policy doesn't allow {rule} to be performed.")
