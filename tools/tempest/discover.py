"""tempest.conf settings read from the cloud itself: its catalog, versions, extensions, and probes.

A feature flag is true unless the cloud really lacks the feature. Each flag set to
false carries the reason, printed by the runner and kept in doc/tempest.md. What an
API call can show is probed (a 404 on the feature's path means absent); what only
the code can show (server actions Nubis does not implement) is in ``KNOWN_ABSENT``.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from typing import Any

import openstack.connection

from tools.tempest.prepare import Prepared


@dataclasses.dataclass(frozen=True)
class Setting:
    group: str
    option: str
    value: str
    why: str = ""  # for a flag set false: why; otherwise where the value came from


# Compute features Nubis does not implement (an action it answers 400 "no such action" or a
# path it has no route for), so no probe short of booting a server could show them.
KNOWN_ABSENT = {
    ("compute-feature-enabled", "personality"): "file injection (personality) is not supported",
    ("compute-feature-enabled", "unified_limits"): "quotas are os-quota-sets limits, not Keystone unified limits",
    ("identity-feature-enabled", "domain_specific_drivers"): "one SQL identity backend for every domain",
    ("image-feature-enabled", "manage_locations"): "image locations cannot be added or changed through the API",
    ("image-feature-enabled", "http_store_enabled"): "the only store is the filesystem store",
    ("image-feature-enabled", "store_weight_enabled"): "a single store, so no store weights",
    ("image-feature-enabled", "image_conversion"): "import does not convert disk formats",
}

NO_VOLUME = ("no block storage service in the catalog, or compute cannot attach its volumes "
             "(no os-volumes in compute's /extensions)")
VOLUME_FLAGS = ("attach_encrypted_volume", "swap_volume", "volume_multiattach", "volume_backed_live_migration")


class Probe:
    """GETs against the cloud's own endpoints, with the admin's token."""

    def __init__(self, conn: openstack.connection.Connection) -> None:
        self.conn = conn
        access = conn.session.auth.get_access(conn.session)
        self.catalog = {e["type"]: e for e in access.service_catalog.catalog}
        self.user_id = access.user_id
        self.project_id = access.project_id
        self.region = conn.config.get_region_name()

    def url(self, service_type: str) -> str | None:
        entry = self.catalog.get(service_type)
        if entry is None:
            return None
        for ep in entry.get("endpoints", []):
            if ep.get("interface") == "public" and ep.get("region_id", ep.get("region")) in (self.region, None):
                return str(ep["url"]).rstrip("/")
        return None

    def get(self, url: str, **headers: str) -> tuple[int, Any]:
        resp = self.conn.session.get(url, raise_exc=False, headers=headers or None)
        try:
            body = resp.json()
        except ValueError:
            body = None
        return resp.status_code, body

    def exists(self, url: str) -> bool:
        return self.get(url)[0] not in (404, 405, 501)


def _microversion(text: str) -> tuple[int, int]:
    """``3.42`` as (3, 42); anything else as (0, 0)."""
    major, _, minor = str(text).partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else (0, 0)


def _flag(group: str, option: str, present: bool, why_absent: str, source: str = "") -> Setting:
    return Setting(group, option, "true" if present else "false", source if present else why_absent)


def _compute_attaches_volumes(probe: Probe) -> bool:
    """Whether compute says it attaches volumes: Nova lists the ``os-volumes`` extension (``GET /extensions``);
    a compute whose attach is not built leaves it out."""
    compute = probe.url("compute")
    if compute is None:
        return False
    _, body = probe.get(f"{compute}/extensions")
    return any(e.get("alias") == "os-volumes" for e in (body or {}).get("extensions", []))


def _volume_available(probe: Probe) -> bool:
    # Tempest's [service_available] cinder also turns on compute's attach tests, so it is set only when
    # both halves exist: a block-storage API in the catalog and a compute that attaches its volumes.
    in_catalog = any(probe.url(t) for t in ("block-storage", "volumev3", "volume"))
    return in_catalog and _compute_attaches_volumes(probe)


def _services(probe: Probe, dashboard_url: str | None) -> list[Setting]:
    return [
        _flag("service_available", "nova", bool(probe.url("compute")), "no compute service in the catalog"),
        _flag("service_available", "glance", bool(probe.url("image")), "no image service in the catalog"),
        _flag("service_available", "neutron", bool(probe.url("network")), "no network service in the catalog"),
        _flag("service_available", "cinder", _volume_available(probe), NO_VOLUME),
        _flag("service_available", "swift", bool(probe.url("object-store")), "no object storage in the catalog"),
        _flag("service_available", "horizon", dashboard_url is not None,
              "no dashboard given (--dashboard-url); Nubis serves none itself"),
    ]


def _identity(probe: Probe, security_compliance: bool | None) -> list[Setting]:
    v3 = probe.url("identity") or ""
    ec2 = probe.exists(f"{v3}/users/{probe.user_id}/credentials/OS-EC2")
    inherit = probe.exists(f"{v3}/OS-INHERIT/projects/{probe.project_id}/users/{probe.user_id}/roles/inherited_to_projects")
    out = [
        Setting("identity", "uri_v3", v3, "catalog"),
        Setting("identity", "region", probe.region or "RegionOne", "the admin's region"),
        _flag("identity-feature-enabled", "trust", probe.exists(f"{v3}/OS-TRUST/trusts"),
              "GET /v3/OS-TRUST/trusts answers 404: no trusts (delegation)"),
        _flag("identity-feature-enabled", "access_rules", probe.exists(f"{v3}/users/{probe.user_id}/access_rules"),
              "GET /v3/users/{id}/access_rules answers 404: no access rules API"),
        Setting("identity-feature-enabled", "api_extensions",
                ",".join(e for e, on in (("OS-INHERIT", inherit), ("OS-EC2", ec2)) if on) or "",
                "probed: OS-INHERIT and OS-EC2 paths (the extensions tempest checks)"),
    ]
    if security_compliance is None:
        out.append(Setting("identity-feature-enabled", "security_compliance", "false",
                           "an existing cloud's [security_compliance] cannot be read; pass --security-compliance "
                           "when its lockout and password history match tempest's [identity] user_lockout_*"))
    else:
        out.append(_flag("identity-feature-enabled", "security_compliance", security_compliance,
                         "not enabled on this cloud", "enabled by the runner on its all-in-one"))
    return out


def _compute(probe: Probe, prepared: Prepared) -> list[Setting]:
    url = probe.url("compute")
    if url is None:
        return []
    _, root = probe.get(url)
    version = (root or {}).get("version", {})
    _, hyp = probe.get(f"{url}/os-hypervisors")
    hosts = len([h for h in (hyp or {}).get("hypervisors", []) if h.get("state", "up") == "up"])
    has_volume = _volume_available(probe)
    out = [
        Setting("compute", "image_ref", prepared.image_ref, "prepared"),
        Setting("compute", "image_ref_alt", prepared.image_ref_alt, "prepared"),
        Setting("compute", "flavor_ref", prepared.flavor_ref, "prepared"),
        Setting("compute", "flavor_ref_alt", prepared.flavor_ref_alt, "prepared"),
        Setting("compute", "min_microversion", version.get("min_version") or "2.1", "GET /v2.1"),
        Setting("compute", "max_microversion", version.get("version") or "2.1", "GET /v2.1"),
        Setting("compute", "min_compute_nodes", str(max(hosts, 1)), "hypervisors that are up"),
        _flag("compute-feature-enabled", "shelve_migrate", hosts >= 2, "one compute host: nowhere else to unshelve"),
        _flag("compute-feature-enabled", "live_migrate_back_and_forth", hosts >= 2, "one compute host"),
    ]
    out += [_flag("compute-feature-enabled", flag, False, NO_VOLUME if not has_volume else
                  "not supported yet: swap, multiattach, encrypted volumes, volume-backed live migration")
            for flag in VOLUME_FLAGS]
    # Everything else Nubis implements stays at true (tempest's own default for most of them).
    for flag in ("disk_config", "console_output", "resize", "pause", "shelve", "suspend", "cold_migration",
                 "live_migration", "metadata_service", "interface_attach", "snapshot", "config_drive",
                 "can_migrate_between_any_hosts", "change_password", "rescue", "stable_rescue", "vnc_console",
                 "spice_console", "serial_console"):
        out.append(Setting("compute-feature-enabled", flag, "true", "implemented"))
    return out


def _placement(probe: Probe) -> list[Setting]:
    url = probe.url("placement")
    if url is None:
        return []
    _, root = probe.get(url)
    versions = (root or {}).get("versions") or [{}]
    return [Setting("placement", "min_microversion", versions[0].get("min_version", "1.0"), "GET /"),
            Setting("placement", "max_microversion", versions[0].get("max_version", "1.0"), "GET /")]


def _volume(probe: Probe) -> list[Setting]:
    """The block-storage microversion range, from its version document (``GET /`` at the endpoint's root),
    so that tempest's compute tests of volume microversions (attachments at 3.27 and later) run."""
    url = next((u for u in (probe.url(t) for t in ("block-storage", "volumev3", "volume")) if u), None)
    if url is None or not _volume_available(probe):
        return []
    parts = urllib.parse.urlsplit(url)
    _, root = probe.get(f"{parts.scheme}://{parts.netloc}/")
    current = next((v for v in (root or {}).get("versions", []) if v.get("id", "").startswith("v3")), None)
    if not current or not current.get("version"):
        return []
    out = [Setting("volume", "min_microversion", current.get("min_version") or "3.0", "GET /"),
           Setting("volume", "max_microversion", current["version"], "GET /"),
           # Backups are files on the storage host, as Cinder's POSIX driver keeps them (no Swift containers).
           Setting("volume", "backup_driver", "posix", "the volume service's backup store")]
    # Extend of attached volumes is Cinder's 3.42 (the volume service then tells compute: volume-extended).
    newest = current["version"]
    out.append(_flag("volume-feature-enabled", "extend_attached_volume", _microversion(newest) >= (3, 42),
                     f"the volume service's newest microversion {newest} is below 3.42 (extend of attached "
                     f"volumes)", "GET / (3.42 served)"))
    # Tempest makes volume types whose extra specs name [volume] storage_protocol and vendor_name; the
    # capabilities filter places their volumes only on a backend reporting those, so they are read from it.
    _, found = probe.get(f"{url}/scheduler-stats/get_pools?detail=true")
    caps = next((p.get("capabilities") or {} for p in (found or {}).get("pools", [])), {})
    for option in ("storage_protocol", "vendor_name"):
        if caps.get(option):
            out.append(Setting("volume", option, str(caps[option]), "GET /scheduler-stats/get_pools"))
    # The extensions the service lists, rather than tempest's "all" (which assumes every Cinder extension).
    _, listed = probe.get(f"{url}/extensions")
    aliases = sorted(e["alias"] for e in (listed or {}).get("extensions", []) if e.get("alias"))
    if aliases:
        out.append(Setting("volume-feature-enabled", "api_extensions", ",".join(aliases), "GET /extensions"))
    return out


def _image(probe: Probe) -> list[Setting]:
    url = probe.url("image")
    if url is None:
        return []
    _, schema = probe.get(f"{url}/v2/schemas/image")
    props = (schema or {}).get("properties", {})
    _, info = probe.get(f"{url}/v2/info/import")
    methods = ((info or {}).get("import-methods") or {}).get("value") or []
    def formats(field: str) -> str:
        return ",".join(f for f in props.get(field, {}).get("enum") or [] if f)  # the enum includes null

    out = [
        Setting("image", "disk_formats", formats("disk_format") or "raw", "GET /v2/schemas/image"),
        Setting("image", "container_formats", formats("container_format") or "bare", "GET /v2/schemas/image"),
        _flag("image-feature-enabled", "import_image", bool(methods), "GET /v2/info/import lists no import method",
              "import methods: " + ",".join(methods)),
        _flag("image-feature-enabled", "do_secure_hash", "os_hash_value" in props,
              "images have no os_hash_value", "os_hash_value in the image schema"),
        _flag("image-feature-enabled", "os_glance_reserved", _os_glance_reserved(probe, url),
              "an image with an os_glance_ property could be created"),
        Setting("image-feature-enabled", "image_format_enforcement", "true", "implemented"),
        # Tempest's cache tests run when the cloud caches images: the cache API answers the admin.
        _flag("image", "image_caching_enabled", probe.get(f"{url}/v2/cache")[0] == 200,
              "GET /v2/cache does not answer the admin: no image cache", "GET /v2/cache answers the admin"),
    ]
    return out


def _os_glance_reserved(probe: Probe, url: str) -> bool:
    resp = probe.conn.session.post(f"{url}/v2/images", json={"name": "tempest-probe", "os_glance_probe": "x"},
                                   raise_exc=False)
    if resp.status_code == 201:
        probe.conn.session.delete(f"{url}/v2/images/{resp.json()['id']}", raise_exc=False)
        return False
    return resp.status_code == 403


def _network(probe: Probe, prepared: Prepared) -> list[Setting]:
    url = probe.url("network")
    if url is None:
        return []
    _, body = probe.get(f"{url}/v2.0/extensions")
    aliases = sorted(e["alias"] for e in (body or {}).get("extensions", []))
    return [
        Setting("network", "public_network_id", prepared.public_network_id, "prepared"),
        Setting("network", "floating_network_name", prepared.public_network_name, "prepared"),
        Setting("network-feature-enabled", "api_extensions", ",".join(aliases), "GET /v2.0/extensions"),
        _flag("network-feature-enabled", "floating_ips", "router" in aliases, "no router extension"),
        _flag("network-feature-enabled", "port_security", "port-security" in aliases, "no port-security extension"),
        Setting("network-feature-enabled", "ipv6", "true", "implemented"),
        Setting("network-feature-enabled", "ipv6_subnet_attributes", "true", "ipv6_ra_mode/ipv6_address_mode"),
        Setting("network-feature-enabled", "port_admin_state_change", "true", "implemented"),
    ]


def _scope(probe: Probe) -> list[Setting]:
    # Nubis's policy engine turns on enforce_scope and enforce_new_defaults for every service
    # (the personas depend on them), so tempest must use scoped personas too.
    why = "Nubis enforces scope and the new policy defaults"
    out = [Setting("enforce_scope", name, "true", why)
           for name, service in (("keystone", "identity"), ("nova", "compute"), ("glance", "image"),
                                 ("neutron", "network"), ("placement", "placement")) if probe.url(service)]
    out.append(Setting("auth", "admin_system", "all", "the admin has the admin role on the system"))
    return out


def discover(conn: openstack.connection.Connection, prepared: Prepared, *, security_compliance: bool | None,
             dashboard_url: str | None, validation: bool) -> list[Setting]:
    """Every setting the runner writes beyond credentials; known-absent flags are appended as false."""
    probe = Probe(conn)
    out = _services(probe, dashboard_url) + _identity(probe, security_compliance) + _compute(probe, prepared)
    out += _placement(probe) + _volume(probe) + _image(probe) + _network(probe, prepared) + _scope(probe)
    out += [Setting(group, option, "false", why) for (group, option), why in KNOWN_ABSENT.items()]
    out.append(_flag("validation", "run_validation", validation,
                     "guests are not reachable over SSH (fake driver, or no --validation)"))
    if dashboard_url:
        out.append(Setting("dashboard", "dashboard_url", dashboard_url, "--dashboard-url"))
    return out
