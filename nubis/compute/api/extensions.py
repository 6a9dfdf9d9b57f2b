"""``/extensions``: the v2 extensions this API provides, by Nova's names and aliases (kept for old clients)."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.common import exceptions
from nubis.compute.api.common import authorize

# (name, alias) of each extension whose API is served here; Nova shows them all with one namespace and date.
_EXTENSIONS = (
    ("AdminActions", "os-admin-actions"), ("Aggregates", "os-aggregates"),
    ("AvailabilityZone", "os-availability-zone"), ("ConsoleOutput", "os-console-output"),
    ("CreateBackup", "os-create-backup"), ("DiskConfig", "os-disk-config"), ("Evacuate", "os-evacuate"),
    ("ExtendedAvailabilityZone", "OS-EXT-AZ"), ("ExtendedServerAttributes", "OS-EXT-SRV-ATTR"),
    ("ExtendedStatus", "OS-EXT-STS"), ("ExtendedVolumes", "os-extended-volumes"),
    ("FlavorAccess", "os-flavor-access"), ("FlavorExtraSpecs", "os-flavor-extra-specs"),
    ("FlavorManage", "os-flavor-manage"), ("Flavors", "flavors"), ("Hosts", "os-hosts"),
    ("Hypervisors", "os-hypervisors"), ("InstanceActions", "os-instance-actions"),
    ("InstanceUsageAuditLog", "os-instance-usage-audit-log"), ("Keypairs", "os-keypairs"),
    ("Limits", "limits"), ("LockServer", "os-lock-server"), ("MigrateServer", "os-migrate-server"),
    ("Migrations", "os-migrations"), ("PauseServer", "os-pause-server"), ("QuotaClasses", "os-quota-class-sets"),
    ("Quotas", "os-quota-sets"), ("ServerExternalEvents", "os-server-external-events"),
    ("ServerGroups", "os-server-groups"), ("ServerMetadata", "server-metadata"),
    ("ServerUsage", "OS-SRV-USG"), ("Servers", "servers"), ("Services", "os-services"),
    ("Shelve", "os-shelve"), ("SimpleTenantUsage", "os-simple-tenant-usage"),
    ("SuspendServer", "os-suspend-server"), ("Versions", "versions"),
    # Nova keeps listing os-consoles although its API is gone; clients and tempest look it up by alias.
    ("Consoles", "os-consoles"), ("RemoteConsoles", "os-remote-consoles"), ("Rescue", "os-rescue"),
    ("ServerDiagnostics", "os-server-diagnostics"), ("ServerPassword", "os-server-password"),
    ("AdminPassword", "os-admin-password"),
    # Volume attachments (os-volume_attachments); the /os-volumes proxy to the volume service is not served.
    ("Volumes", "os-volumes"),
)


def _extension(name: str, alias: str) -> dict[str, object]:
    return {"name": name, "alias": alias, "description": f"{name} support.", "links": [],
            "namespace": "http://docs.openstack.org/compute/ext/fake_xml", "updated": "2014-12-03T00:00:00Z"}


def list_extensions(req: router.Request) -> webob.Response:
    authorize(req, "extensions")
    return router.json_response({"extensions": [_extension(n, a) for n, a in _EXTENSIONS]})


def show_extension(req: router.Request, alias: str) -> webob.Response:
    authorize(req, "extensions")
    for name, known in _EXTENSIONS:
        if known == alias:
            return router.json_response({"extension": _extension(name, known)})
    raise exceptions.NotFound(f"Extension {alias[:255]} could not be found.")


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/extensions": {"GET": list_extensions},
        f"{prefix}/extensions/{{alias}}": {"GET": show_extension},
    }
