"""What every compute handler needs from a request: the core, the microversion, the JSON body."""

from __future__ import annotations

from typing import Any

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.core.facade import ComputeCore


def core(req: router.Request) -> ComputeCore:
    return req.service  # type: ignore[no-any-return]


def version_of(req: router.Request) -> Version:
    return req.version or Version(2, 1)


def body_of(req: router.Request) -> dict[str, Any]:
    body = req.json_body()
    if not isinstance(body, dict):
        raise exceptions.BadRequest("The request body must be a JSON object.")
    return body
