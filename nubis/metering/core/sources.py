"""What the other services say exists now, read through their APIs with the service's own token.

The metering service never reads another service's database: servers come from the compute API (admin
listing, flavor embedded at microversion 2.47), images from the image API, floating IPs and routers from the
network API, volumes and snapshots from the volume (block-storage) API.
Each function returns ``meters.State`` values keyed by resource id.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exceptions

from nubis.common.clients.image import ImageClient
from nubis.common.clients.network import NetworkClient
from nubis.metering.core import clock, meters

LOG = logging.getLogger(__name__)
COMPUTE_MICROVERSION = "2.47"
PAGE = 500
MAX_PAGES = 1000  # bounds one audit's work: 500,000 resources of a kind


class Sources:
    """The compute, image, network and volume APIs (any may be None when the cloud has no such service)."""

    def __init__(self, compute: ks_adapter.Adapter | None, image: ImageClient | None,
                 network: NetworkClient | None, volume: ks_adapter.Adapter | None = None) -> None:
        self.compute = compute
        self.image = image
        self.network = network
        self.volume = volume

    # -- servers ------------------------------------------------------------------------------------------
    def server(self, uuid: str) -> dict[str, Any] | None:
        """One server's detail (None when it is gone or the compute API cannot be reached)."""
        if self.compute is None:
            return None
        try:
            resp = self.compute.get(f"/servers/{uuid}", microversion=COMPUTE_MICROVERSION, raise_exc=False)
        except ks_exceptions.ClientException as exc:
            LOG.warning("Could not read server %s: %s", uuid, exc)
            return None
        return resp.json()["server"] if resp.status_code == 200 else None

    def deleted_server(self, uuid: str, since: datetime.datetime) -> dict[str, Any] | None:
        """A server deleted since ``since`` (it is no longer shown by id): found among the changes since then,
        which the compute API lists with the deleted servers (None if it is not there, or unreachable)."""
        try:
            return next((s for s in self.servers(changes_since=since) if s["id"] == uuid), None)
        except ks_exceptions.ClientException as exc:
            LOG.warning("Could not look for deleted server %s: %s", uuid, exc)
            return None

    def servers(self, changes_since: datetime.datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every server of every project; with ``changes_since``, those changed since then, deleted ones too."""
        if self.compute is None:
            return
        params: dict[str, Any] = {"all_tenants": "1", "limit": str(PAGE)}
        if changes_since is not None:
            params["changes-since"] = changes_since.isoformat() + "Z"
        for _ in range(MAX_PAGES):
            body = self.compute.get("/servers/detail", params=params, microversion=COMPUTE_MICROVERSION).json()
            yield from body["servers"]
            if len(body["servers"]) < PAGE:
                return
            params["marker"] = body["servers"][-1]["id"]

    @staticmethod
    def server_state(server: dict[str, Any], state: str | None = None) -> meters.State:
        """The ledger's view of a server (its own ``vm_state`` unless ``state`` says otherwise)."""
        flavor = server.get("flavor") or {}
        return meters.State(meters.INSTANCE, server["tenant_id"],
                            state or server.get("OS-EXT-STS:vm_state") or "active",
                            flavor.get("original_name", ""), int(flavor.get("vcpus", 0)), int(flavor.get("ram", 0)),
                            int(flavor.get("disk", 0)))

    @staticmethod
    def launched_at(server: dict[str, Any]) -> datetime.datetime | None:
        text = server.get("OS-SRV-USG:launched_at")
        return clock.parse_timestamp(text) if text else None

    @staticmethod
    def terminated_at(server: dict[str, Any]) -> datetime.datetime | None:
        text = server.get("OS-SRV-USG:terminated_at")
        return clock.parse_timestamp(text) if text else None

    # -- images and floating IPs -------------------------------------------------------------------------
    def images(self) -> Iterator[tuple[dict[str, Any], meters.State]]:
        if self.image is None:
            return
        url: str | None = None
        for _ in range(MAX_PAGES):
            resp = self.image.list({"limit": PAGE}) if url is None else self.image.next_page(url)
            body = _ok(resp)
            for image in body["images"]:
                if image.get("owner"):
                    yield image, meters.State(meters.IMAGE, image["owner"], image["status"],
                                              size_bytes=int(image.get("size") or 0))
            url = body.get("next")
            if url is None:
                return

    @staticmethod
    def router_state(router: dict[str, Any]) -> meters.State:
        """A router is in state ``gateway`` while ``external_gateway_info`` names a network."""
        gateway = router.get("external_gateway_info") or {}
        return meters.State(meters.ROUTER, str(router["project_id"]),
                            "gateway" if gateway.get("network_id") else "internal")

    def routers(self) -> Iterator[tuple[dict[str, Any], meters.State]]:
        if self.network is None:
            return
        params: dict[str, Any] = {"limit": str(PAGE)}
        for _ in range(MAX_PAGES):
            body = _ok(self.network.list("routers", params))
            for router in body["routers"]:
                yield router, self.router_state(router)
            if len(body["routers"]) < PAGE:
                return
            params["marker"] = body["routers"][-1]["id"]

    def floating_ips(self) -> Iterator[tuple[dict[str, Any], meters.State]]:
        if self.network is None:
            return
        params: dict[str, Any] = {"limit": str(PAGE)}
        for _ in range(MAX_PAGES):
            body = _ok(self.network.list("floatingips", params))
            for fip in body["floatingips"]:
                yield fip, meters.State(meters.FLOATING_IP, fip["project_id"], "allocated")
            if len(body["floatingips"]) < PAGE:
                return
            params["marker"] = body["floatingips"][-1]["id"]

    # -- volumes and snapshots ----------------------------------------------------------------------------
    @staticmethod
    def volume_state(kind: str, project_id: str, status: str, size_gb: int) -> meters.State:
        """A volume or snapshot as the ledger sees it: ``stored`` (metered at ``size_gb``) unless its storage
        does not exist (yet): ``creating``, ``error`` (a failed create), ``deleted``."""
        state = status if status in NOT_STORED else meters.STORED
        return meters.State(kind, project_id, state, disk_gb=size_gb)

    def _cinder_pages(self, collection: str) -> Iterator[dict[str, Any]]:
        """Every project's ``collection`` (``volumes`` or ``snapshots``) in detail, page by page."""
        if self.volume is None:
            return
        params: dict[str, Any] = {"all_tenants": "1", "limit": str(PAGE)}
        for _ in range(MAX_PAGES):
            body = self.volume.get(f"/{collection}/detail", params=params).json()
            yield from body[collection]
            if len(body[collection]) < PAGE:
                return
            params["marker"] = body[collection][-1]["id"]

    def volumes(self) -> Iterator[tuple[dict[str, Any], meters.State]]:
        for v in self._cinder_pages("volumes"):
            yield v, self.volume_state(meters.VOLUME, v["os-vol-tenant-attr:tenant_id"], v["status"], int(v["size"]))

    def snapshots(self) -> Iterator[tuple[dict[str, Any], meters.State]]:
        for sn in self._cinder_pages("snapshots"):
            yield sn, self.volume_state(meters.SNAPSHOT, sn["os-extended-snapshot-attributes:project_id"],
                                        sn["status"], int(sn["size"]))


# Volume and snapshot statuses in which nothing is stored yet (or any more).
NOT_STORED = frozenset({"creating", "error", "deleted"})

def _ok(resp: Any) -> Any:
    """The JSON of a 200; keystoneauth's error for anything else (the audit reports those and carries on)."""
    if resp.status_code != 200:
        raise ks_exceptions.from_response(resp, resp.request.method if resp.request else "GET", resp.url)
    return resp.json()
