"""Every policy rule the compute API checks is one the compute policy defines (an unknown rule is a 500)."""

from __future__ import annotations

import pathlib
import re

from nubis.compute import policies
from nubis.compute.api import server_actions

API = pathlib.Path(policies.__file__).parent / "api"
# Calls that check a rule given as a literal: authorize(req, "x"), owned_server(req, id, "x"), _user(req, "x"), ...
_CHECKED = re.compile(r'(?:authorize|owned_server|shown|_project|_user)\(req,(?: \w+,)? "([^"]+)"')
# Rules chosen by a condition: authorize(req, "x" if ... else "y").
_CHOSEN = re.compile(r'(?:authorize|owned_server|shown)\(req,(?: \w+,)? "([\w:-]+)" if [^"\n]+ else "([\w:-]+)"')


def _registered() -> set[str]:
    return {rule.name for rule in policies.RULES}


def test_rules_named_in_handlers_are_registered() -> None:
    named = set()
    for module in API.rglob("*.py"):
        text = module.read_text()
        named |= set(_CHECKED.findall(text)) | {rule for pair in _CHOSEN.findall(text) for rule in pair}
    assert len(named) > 40
    missing = {f"os_compute_api:{name}" for name in named} - _registered()
    assert not missing


def test_every_server_action_has_a_registered_rule() -> None:
    assert {"os-start", "reboot", "createImage", "migrate", "os-resetState"} <= set(server_actions.TABLE)
    missing = {f"os_compute_api:{a.rule}" for a in server_actions.TABLE.values()} - _registered()
    assert not missing


def test_admin_is_decided_by_context_is_admin_not_by_a_service_rule() -> None:
    assert "os_compute_api:os-services" not in _registered()
    assert {"os_compute_api:os-keypairs:index", "os_compute_api:os-quota-sets:show",
            "os_compute_api:limits:other_project"} <= _registered()
