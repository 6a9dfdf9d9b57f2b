"""Service-to-service calls made on a caller's behalf carry the caller's identity, not the service's."""

from __future__ import annotations

import json
from typing import Any

from nubis.common import clients
from nubis.common.context import RequestContext
from tests import fixtures


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_X_")}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def test_a_call_as_the_caller_sends_the_callers_identity_without_keystone(conf) -> None:  # type: ignore[no-untyped-def]
    clients.register_opts(conf)
    caller = RequestContext(user_id="u-1", project_id="p-1", roles=["member", "reader"])
    with fixtures.serving(_echo) as url:
        conf.set_override("endpoint_overrides", {"image": url}, group=clients.GROUP)
        adapter = clients.service_adapter(conf, "image")
        as_service = adapter.get("/v2/images/x").json()
        as_caller = adapter.get("/v2/images/x", **clients.as_caller(conf, caller)).json()
    assert as_service["HTTP_X_PROJECT_ID"] == "service" and "admin" in as_service["HTTP_X_ROLES"]
    assert (as_caller["HTTP_X_USER_ID"], as_caller["HTTP_X_PROJECT_ID"]) == ("u-1", "p-1")
    assert as_caller["HTTP_X_ROLES"] == "member,reader"

