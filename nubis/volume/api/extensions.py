"""``/v3/{project_id}/extensions``: Cinder's API extensions that this volume service implements.

Cinder lists its extensions by name and alias; clients (and Tempest's ``api_extensions``) read the list to learn
what the cloud offers. Only what Nubis serves is listed: an extension lands here with its API.
"""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.volume.api.common import authorize

_UPDATED = "2012-01-01T00:00:00+00:00"  # Cinder's extensions all carry a date of that era; nothing reads it

# (name, alias, description)
EXTENSIONS = (
    ("AdminActions", "os-admin-actions", "Enable admin actions (reset status, force delete, force detach)."),
    ("AvailabilityZones", "os-availability-zone", "Describe availability zones."),
    ("Backups", "backups", "Backups support."),
    ("Capabilities", "capabilities", "Capabilities support."),
    ("ExtendedServices", "os-extended-services", "Extended services support (disabled reason)."),
    ("ExtendedSnapshotAttributes", "os-extended-snapshot-attributes", "Extended SnapshotAttributes support."),
    ("Hosts", "os-hosts", "Admin-only host administration."),
    ("QuotaClasses", "os-quota-class-sets", "Quota classes management support."),
    ("Qos_specs_manage", "qos-specs", "QoS specs support."),
    ("Quotas", "os-quota-sets", "Quota management support."),
    ("SchedulerStats", "scheduler-stats", "Scheduler stats support."),
    ("Services", "os-services", "Services support."),
    ("SnapshotActions", "os-snapshot-actions", "Enable snapshot manager actions."),
    ("Types_extra_specs", "os-types-extra-specs", "Type extra specs support."),
    ("Types_manage", "os-types-manage", "Types manage support."),
    ("UsedLimits", "os-used-limits", "Provide data on limited resources that are being used."),
    ("VolumeActions", "os-volume-actions", "Enable volume actions."),
    ("VolumeHostAttribute", "os-vol-host-attr", "Expose host as an attribute of a volume."),
    ("VolumeImageMetadata", "os-vol-image-meta", "Show image metadata associated with the volume."),
    ("VolumeMigStatusAttribute", "os-vol-mig-status-attr", "Expose migration_status as an attribute of a volume."),
    ("VolumeTenantAttribute", "os-vol-tenant-attr", "Expose the internal project_id as an attribute of a volume."),
    ("VolumeTransfer", "os-volume-transfer", "Volume transfer management support."),
    ("VolumeTypeAccess", "os-volume-type-access", "Volume type access support."),
)


def index(req: router.Request) -> webob.Response:
    authorize(req, "volume:get_all_extensions")
    return router.json_response({"extensions": [
        {"name": name, "alias": alias, "description": description, "updated": _UPDATED, "links": []}
        for name, alias, description in EXTENSIONS]})


def routes(prefix: str) -> router.RouteTable:
    return {f"{prefix}/extensions": {"GET": index}}
