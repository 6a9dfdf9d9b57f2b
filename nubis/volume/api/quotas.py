"""``os-quota-sets``, ``limits``, ``os-availability-zone`` and ``os-services``."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.volume.api.common import authorize, body_of, context, core, is_true
from nubis.volume.api.schemas import quotas as schemas
from nubis.volume.api.views import timestamp
from nubis.volume.core.quotas import DEFAULT_CLASS, PER_VOLUME, RESOURCES, TYPED

# Quotas Cinder shows that Nubis has nothing to count against yet (none left: groups are counted now).
FIXED: dict[str, int] = {}
SETTABLE = (*RESOURCES, PER_VOLUME)


def _view(limits: dict[str, int]) -> dict[str, int]:
    """The limits as Cinder shows them: the counted resources, the largest volume (-1 unless set), FIXED, then
    each volume type's (``volumes_<type>`` ...)."""
    typed = {r: v for r, v in limits.items() if r not in RESOURCES and r != PER_VOLUME}
    return {**{r: limits[r] for r in RESOURCES}, PER_VOLUME: limits.get(PER_VOLUME, -1), **FIXED, **typed}


def _settable(req: router.Request, values: dict[str, Any]) -> dict[str, int]:
    """What of ``values`` to store: 400 for a per-type key whose volume type does not exist (Cinder's
    "Bad key(s) in quota set")."""
    typed = [k for k in values if k not in SETTABLE and k.startswith(tuple(f"{r}_" for r in TYPED))]
    if typed:
        unknown = sorted(set(typed) - core(req).quotas.known_typed())
        if unknown:
            raise exceptions.BadRequest(f"Bad key(s) in quota set: {', '.join(k[:300] for k in unknown)} (no "
                                        f"volume type of that name exists).")
        too_long = [k for k in typed if len(k) > 255]
        if too_long:
            raise exceptions.BadRequest(f"Invalid input received: quota name {too_long[0][:60]}... is longer than "
                                        f"255 characters (the volume type's name is too long to have quotas).")
    return {r: v for r, v in values.items() if r in SETTABLE or r in typed}


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
        body.update({r: {"limit": v, "in_use": used.get(r, 0), "reserved": 0, "allocated": 0}
                     for r, v in _view(limits).items() if r not in RESOURCES})
    else:
        body.update(_view(limits))
    return router.json_response({"quota_set": body})


def default_quotas(req: router.Request, target_project_id: str) -> webob.Response:
    _check_target(target_project_id)
    authorize(req, "volume_extension:quotas:show", target_project_id)
    return router.json_response({"quota_set": {"id": target_project_id, **_view(core(req).quotas.defaults())}})


def update_quotas(req: router.Request, target_project_id: str) -> webob.Response:
    _check_target(target_project_id)
    authorize(req, "volume_extension:quotas:update", target_project_id)
    body = body_of(req)
    validation.validate(body, schemas.UPDATE)
    _check_fixed(body["quota_set"])
    core(req).quotas.update(target_project_id, _settable(req, body["quota_set"]))
    return router.json_response({"quota_set": _view(core(req).quotas.limits(target_project_id))})


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


def _host_matches(wanted: str, host: str) -> bool:
    """Cinder's host filter: ``host`` matches itself and its backends and pools (``host@backend#pool``)."""
    return host == wanted or host.startswith((wanted + "@", wanted + "#"))


def services(req: router.Request) -> webob.Response:
    authorize(req, "volume_extension:services:index")
    found = core(req).services()
    if req.GET.get("host"):
        found = [svc for svc in found if _host_matches(req.GET["host"], svc["host"])]
    if req.GET.get("binary"):
        found = [svc for svc in found if svc["binary"] == req.GET["binary"]]
    return router.json_response({"services": [{**svc, "updated_at": timestamp(svc["updated_at"])} for svc in found]})


def update_service(req: router.Request, action: str) -> webob.Response:
    """``PUT /os-services/{enable|disable|disable-log-reason|freeze|thaw}`` (an admin's)."""
    authorize(req, "volume_extension:services:update")
    if action not in schemas.SERVICE_ACTIONS:
        raise exceptions.NotFound(f"Unknown action {action[:50]!r}: it must be one of "
                                  f"{', '.join(sorted(schemas.SERVICE_ACTIONS))}.")
    body = body_of(req)
    validation.validate(body, schemas.SERVICE_ACTIONS[action])
    if action in ("freeze", "thaw"):
        core(req).freeze(body["host"], action == "freeze")
        return router.empty_response(200)
    binary = body.get("binary") or body.get("service")
    if not binary:
        raise exceptions.BadRequest("Invalid input received: the body must name the service's binary.")
    reason = body.get("disabled_reason") if action == "disable-log-reason" else None
    if action == "disable-log-reason" and not (reason and reason.strip()):
        raise exceptions.BadRequest("Disabled reason contains invalid characters or is too long: it must be a "
                                    "non-empty string of at most 255 characters.")
    done = core(req).set_service(body["host"], binary, action != "enable", reason)
    done["service"] = done["binary"]  # Cinder's older name, still in the answer
    if action == "disable":
        del done["disabled_reason"]
    return router.json_response(done)


def hosts(req: router.Request) -> webob.Response:
    """Cinder's ``os-hosts``: each volume service's host, zone and state."""
    authorize(req, "volume_extension:hosts")
    return router.json_response({"hosts": [
        {"host_name": svc["host"], "service": svc["binary"], "zone": svc["zone"], "service-state": svc["status"],
         "service-status": "available" if svc["state"] == "up" else "unavailable",
         "last-update": timestamp(svc["updated_at"])} for svc in core(req).services()]})


def show_host(req: router.Request, host: str) -> webob.Response:
    """A volume host's usage: the total, then each project's volumes and snapshots there (404 for a host with
    no enabled volume service, as Cinder)."""
    authorize(req, "volume_extension:hosts")
    rows = core(req).host_usage(host)
    return router.json_response({"host": [{"resource": {k: str(v) if k not in ("project", "host") else v
                                                        for k, v in row.items()}} for row in rows]})


def pools(req: router.Request) -> webob.Response:
    """``GET /scheduler-stats/get_pools`` (``?detail=true`` with each pool's capabilities)."""
    authorize(req, "scheduler_extension:scheduler_stats:get_pools")
    found = core(req).pools()
    if is_true(req.GET.get("detail")):
        body = [{"name": p["name"], "capabilities": {
            **p["capabilities"], "timestamp": timestamp(p["capabilities"]["timestamp"]),
            "updated": timestamp(p["capabilities"]["updated"])}} for p in found]
    else:
        body = [{"name": p["name"]} for p in found]
    return router.json_response({"pools": body})


def capabilities(req: router.Request, host: str) -> webob.Response:
    authorize(req, "volume_extension:capabilities")
    return router.json_response(core(req).capabilities(host))


def _check_class(class_name: str) -> None:
    if class_name != "default":
        raise exceptions.NotFound(f"Quota class {class_name[:50]} could not be found: only the default class "
                                  f"exists.")


def show_quota_class(req: router.Request, class_name: str) -> webob.Response:
    """The default quota class: the limits a project has until it is given its own."""
    authorize(req, "volume_extension:quota_classes")
    _check_class(class_name)
    return router.json_response({"quota_class_set": {"id": class_name, **_view(core(req).quotas.defaults())}})


def update_quota_class(req: router.Request, class_name: str) -> webob.Response:
    authorize(req, "volume_extension:quota_classes")
    _check_class(class_name)
    body = body_of(req)
    validation.validate(body, schemas.UPDATE_CLASS)
    values = body["quota_class_set"]
    _check_fixed(values)
    core(req).quotas.update(DEFAULT_CLASS, _settable(req, values))
    return router.json_response({"quota_class_set": _view(core(req).quotas.defaults())})


def _check_fixed(values: dict[str, Any]) -> None:
    """The quotas shown but not counted here (``FIXED``) may be sent back as they are, not changed."""
    for key, value in values.items():
        if key in FIXED and value != FIXED[key]:
            raise exceptions.BadRequest(f"Invalid input received: quota {key} cannot be changed here: it is "
                                        f"{FIXED[key]}, as nothing is counted against it yet.")


def routes(prefix: str) -> router.RouteTable:
    quota = f"{prefix}/os-quota-sets/{{target_project_id}}"
    return {
        quota: {"GET": show_quotas, "PUT": update_quotas, "DELETE": delete_quotas},
        f"{quota}/defaults": {"GET": default_quotas},
        f"{prefix}/limits": {"GET": limits},
        f"{prefix}/os-availability-zone": {"GET": availability_zones},
        f"{prefix}/os-services": {"GET": services},
        f"{prefix}/os-services/{{action}}": {"PUT": update_service},
        f"{prefix}/scheduler-stats/get_pools": {"GET": pools},
        f"{prefix}/os-hosts": {"GET": hosts},
        f"{prefix}/os-hosts/{{host}}": {"GET": show_host},
        f"{prefix}/capabilities/{{host}}": {"GET": capabilities},
        f"{prefix}/os-quota-class-sets/{{class_name}}": {"GET": show_quota_class, "PUT": update_quota_class},
    }
