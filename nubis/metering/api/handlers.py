"""The metering API (a Nubis extension, ``/v1``): usage and cost per project, and tariffs.

``GET /v1/usage/{project_id}?period=2026-11`` (or ``start``/``end`` on the hour, ISO 8601 UTC) answers
``{"usage": {"project_id", "start", "end", "currency", "lines": [{"meter", "flavor", "unit", "quantity",
"price", "cost"}], "total"}}``; ``GET /v1/usage`` the same for every project with usage
(``{"usages": [...]}``). Quantities and money are decimal strings, so no client reads them as floats.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import webob

from nubis.api import router, validation
from nubis.common.policy import Policy
from nubis.metering.api import schemas
from nubis.metering.core.facade import MeteringCore

API_VERSION = "v1"


@dataclasses.dataclass(frozen=True)
class MeteringApi:
    """What the handlers reach through ``req.service``."""

    core: MeteringCore
    policy: Policy


def _api(req: router.Request) -> MeteringApi:
    return req.service  # type: ignore[no-any-return]


def _authorize(req: router.Request, rule: str, target: dict[str, Any] | None = None) -> None:
    ctx = req.context
    _api(req).policy.authorize(ctx, f"metering:{rule}", target or {"project_id": ctx.project_id})


def _version(req: router.Request) -> dict[str, Any]:
    return {"id": API_VERSION, "status": "CURRENT",
            "links": [{"rel": "self", "href": f"{req.application_url}/{API_VERSION}/"}]}


@router.public
def versions(req: router.Request) -> webob.Response:
    return router.json_response({"versions": [_version(req)]})


@router.public
def version(req: router.Request) -> webob.Response:
    return router.json_response({"version": _version(req)})


def _period(req: router.Request) -> Any:
    return _api(req).core.period(req.query_one("period"), req.query_one("start"), req.query_one("end"))


def get_usage(req: router.Request, project_id: str) -> webob.Response:
    _authorize(req, "get_usage", {"project_id": project_id})
    period = _period(req)
    return router.json_response({"usage": _api(req).core.usage(period, project_id)[0]})


def list_usage(req: router.Request) -> webob.Response:
    _authorize(req, "list_usage")
    period = _period(req)
    return router.json_response({"usages": _api(req).core.usage(period, None)})


def list_tariffs(req: router.Request) -> webob.Response:
    _authorize(req, "list_tariffs")
    return router.json_response({"tariffs": [p.view() for p in _api(req).core.list_tariffs()],
                                 "currency": _api(req).core.conf.metering.currency})


def create_tariff(req: router.Request) -> webob.Response:
    body = req.json_body()
    validation.validate(body, schemas.CREATE_TARIFF)
    _authorize(req, "create_tariff")
    t = body["tariff"]
    made = _api(req).core.create_tariff(t["meter"], t.get("flavor"), t.get("project_id"), t["price"])
    return router.json_response({"tariff": made.view()}, status=201)


def delete_tariff(req: router.Request, tariff_id: str) -> webob.Response:
    _authorize(req, "delete_tariff")
    _api(req).core.delete_tariff(tariff_id)
    return router.empty_response()


ROUTES: router.RouteTable = {
    "/": {"GET": versions},
    "/v1": {"GET": version},
    "/v1/usage": {"GET": list_usage},
    "/v1/usage/{project_id}": {"GET": get_usage},
    "/v1/tariffs": {"GET": list_tariffs, "POST": create_tariff},
    "/v1/tariffs/{tariff_id}": {"DELETE": delete_tariff},
}
