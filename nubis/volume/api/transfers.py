"""Volume transfers (``/os-volume-transfer``, and ``/volume-transfers`` from 3.55), listed.

This volume service offers no transfers, so a project has none: the listings answer an empty list,
as Cinder does for a project without pending transfers. Dashboards list them beside the volumes
(Horizon marks volumes awaiting transfer) and fail the whole volume list when the listing is missing.
"""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.volume.api.common import authorize


def index(req: router.Request) -> webob.Response:
    """GET the project's transfers, brief or detailed: none (see the module's note)."""
    authorize(req, "volume:get_all_transfers")
    return router.json_response({"transfers": []})


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/{base}{tail}": {"GET": index}
            for base in ("os-volume-transfer", "volume-transfers") for tail in ("", "/detail")}
