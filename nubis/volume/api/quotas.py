"""``os-quota-sets``, ``limits``, ``os-availability-zone`` and ``os-services``."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.volume.api.common import authorize, body_of, context, core, is_true
from nubis.volume.api.schemas import quotas as schemas
from nubis.volume.api.views import timestamp
from nubis.volume.core.quotas import RESOURCES

# Quotas Cinder shows that Nubis has nothing to count against yet: no groups can be made (0), and no per-volume
# limit beyond [volume] max_volume_size_gb (-1).
FIXED = {"groups": 0, "per_volume_gigabytes": -1}


def _check_target(target: str) -> None:
    if not 0 < len(target) <= 255:
        raise exceptions.BadRequest("Invalid project id in the URL.")


def show_quotas(req: router.Request, target_project_id: str) -> webob.Response:
    _check_target(target_project_id)
    authorize(req, "volume_extension:quotas:show", target_project_id)
    quotas = core(req).quotas
    limits = quotas.limits(target_project_id)
    body: dict[str, Any] = {"id": target_project_id}
    if is_true(req.GET.get("usage")):
        used = quotas.usage_of(target_project_id)
        body.update({r: {"limit": limits[r], "in_use": used[r], "reserved": 0, "allocated": 0} for r in RESOURCES})
        body.update({r: {"limit": v, "in_use": 0, "reserved": 0, "allocated": 0} for r, v in FIXED.items()})
    else:
        body.update({r: limits[r] for r in RESOURCES} | FIXED)
    return router.json_response({"quota_set": body})


def default_quotas(req: router.Request, target_project_id: str) -> webob.Response:
    _check_target(target_project_id)
    authorize(req, "volume_extension:quotas:show", target_project_id)
    return router.json_response({"quota_set": {"id": target_project_id, **core(req).quotas.defaults(), **FIXED}})


def update_quotas(req: router.Request, target_project_id: str) -> webob.Response:
    _check_target(target_project_id)
    authorize(req, "volume_extension:quotas:update", target_project_id)
    body = body_of(req)
    validation.validate(body, schemas.UPDATE)
    values = {r: v for r, v in body["quota_set"].items() if r in RESOURCES}
    core(req).quotas.update(target_project_id, values)
    return router.json_response({"quota_set": {**core(req).quotas.limits(target_project_id), **FIXED}})


def delete_quotas(req: router.Request, target_project_id: str) -> webob.Response:
    _check_target(target_project_id)
    authorize(req, "volume_extension:quotas:delete", target_project_id)
    core(req).quotas.delete(target_project_id)
    return router.empty_response(200)


def limits(req: router.Request) -> webob.Response:
    """Cinder's absolute limits and usage of the caller's project (no rate limits)."""
    authorize(req, "limits_extension:used_limits")
    project = context(req).require_project_id()
    quotas = core(req).quotas
    lim, used = quotas.limits(project), quotas.usage_of(project)
    return router.json_response({"limits": {"rate": [], "absolute": {
        "maxTotalVolumes": lim["volumes"], "maxTotalSnapshots": lim["snapshots"],
        "maxTotalVolumeGigabytes": lim["gigabytes"], "maxTotalBackups": lim["backups"], "maxTotalBackupGigabytes": lim["backup_gigabytes"],
        "totalVolumesUsed": used["volumes"], "totalSnapshotsUsed": used["snapshots"],
        "totalGigabytesUsed": used["gigabytes"], "totalBackupsUsed": used["backups"], "totalBackupGigabytesUsed": used["backup_gigabytes"],
    }}})


def availability_zones(req: router.Request) -> webob.Response:
    authorize(req, "volume_extension:availability_zone_list")
    return router.json_response({"availabilityZoneInfo": core(req).zones()})


def services(req: router.Request) -> webob.Response:
    authorize(req, "volume_extension:services:index")
    found = core(req).services()
    for key in ("host", "binary"):
        if req.GET.get(key):
            found = [svc for svc in found if svc[key] == req.GET[key]]
    return router.json_response({"services": [{**svc, "updated_at": timestamp(svc["updated_at"])} for svc in found]})


def routes(prefix: str) -> router.RouteTable:
    quota = f"{prefix}/os-quota-sets/{{target_project_id}}"
    return {
        quota: {"GET": show_quotas, "PUT": update_quotas, "DELETE": delete_quotas},
        f"{quota}/defaults": {"GET": default_quotas},
        f"{prefix}/limits": {"GET": limits},
        f"{prefix}/os-availability-zone": {"GET": availability_zones},
        f"{prefix}/os-services": {"GET": services},
    }
