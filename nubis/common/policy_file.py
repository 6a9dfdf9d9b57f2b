"""A service's policy defaults rendered as a ``policy.yaml`` operators can edit."""

from __future__ import annotations

import json
from collections.abc import Iterable

from oslo_policy import policy


def render(service: str, rules: Iterable[policy.RuleDefault]) -> str:
    """Every rule commented out: an override file only needs the lines it changes."""
    lines = [f"# Policy defaults of the {service} service (nubis-manage policy-dump {service}).", ""]
    for rule in rules:
        lines.append(f"# {rule.description}")
        for op in getattr(rule, "operations", None) or []:
            lines.append(f"# {op['method']}  {op['path']}")
        if rule.scope_types:
            lines.append(f"# Intended scope(s): {', '.join(rule.scope_types)}")
        # JSON strings are valid YAML scalars and quote whatever a check string holds.
        lines.append(f"#{json.dumps(rule.name)}: {json.dumps(rule.check_str)}")
        lines.append("")
    return "\n".join(lines) + "\n"
