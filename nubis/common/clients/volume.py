"""The block storage service (Cinder v3 attachments API, 3.44) as compute calls it, always as the caller.

Every call carries the caller's credentials (``clients.as_caller``), so the volume service's own visibility and
policy decide which volumes a server may get, as nova's cinderclient calls with the user's token. The endpoint
names a project (``/v3/{project_id}``); the one found in the catalog is the service's, so the path is rebuilt
with the caller's project.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

from nubis.common import clients, exceptions
from nubis.common.context import RequestContext

MICROVERSION = "volume 3.44"  # attachments (3.27) and os-complete (3.44)
_ROOT = re.compile(r"^(.*?/v3)(/.*)?$")


def _message(resp: Any) -> str:
    try:
        body = resp.json()
        return str(next(iter(body.values()))["message"])
    except (ValueError, AttributeError, KeyError, StopIteration, TypeError):
        return str(resp.text[:300])


class VolumeClient:
    """The volume calls compute makes for a server's attachments."""

    def __init__(self, conf: cfg.ConfigOpts, adapter: ks_adapter.Adapter) -> None:
        self.conf = conf
        self.api = adapter

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> VolumeClient | None:
        """The block storage service, when this cloud's config says how to find it (catalog or override)."""
        adapter = clients.optional_service_adapter(conf, "block-storage")
        return None if adapter is None else cls(conf, adapter)

    def _call(self, ctx: RequestContext, method: str, path: str, body: Any = None) -> Any:
        try:
            endpoint = self.api.get_endpoint() or ""
        except (ks_exc.EndpointNotFound, ks_exc.CatalogException) as exc:
            raise exceptions.BadRequest("This cloud's catalog has no block storage service.") from exc
        match = _ROOT.match(endpoint.split("?")[0])
        if match is None:
            raise exceptions.ServiceUnavailable(f"The block storage endpoint {endpoint} names no /v3 root.")
        url = f"{match.group(1)}/{urllib.parse.quote(ctx.project_id or '', safe='')}{path}"
        caller = clients.as_caller(self.conf, ctx)
        headers = {**caller.pop("headers"), "OpenStack-API-Version": MICROVERSION}
        try:
            return self.api.request(url, method, json=body, headers=headers, raise_exc=False, **caller)
        except ks_exc.ConnectionError as exc:
            raise exceptions.ServiceUnavailable(f"The block storage service cannot be reached: {exc}") from None

    @staticmethod
    def _check(resp: Any, what: str) -> Any:
        if resp.status_code == 404:
            raise exceptions.NotFound(f"{what}: {_message(resp)}")
        if resp.status_code == 400:
            raise exceptions.BadRequest(_message(resp))
        if resp.status_code == 403:
            raise exceptions.Forbidden(_message(resp))
        if resp.status_code >= 300:
            raise exceptions.ServiceUnavailable(f"{what}: the block storage service answered {resp.status_code}: "
                                                f"{_message(resp)}")
        return resp.json() if resp.content else None

    def get_volume(self, ctx: RequestContext, volume_id: str) -> dict[str, Any]:
        """The volume as the caller sees it; 404 ``Volume ... could not be found.``"""
        resp = self._call(ctx, "GET", f"/volumes/{urllib.parse.quote(volume_id, safe='')}")
        return self._check(resp, f"Volume {volume_id} could not be found")["volume"]  # type: ignore[no-any-return]

    def create_attachment(self, ctx: RequestContext, volume_id: str, instance_uuid: str,
                          connector: dict[str, Any] | None) -> dict[str, Any]:
        """Reserve the volume for the server and export it for ``connector``: the attachment, with
        ``connection_info``; without a connector the volume is only reserved (``reserved``, no export yet).
        400 when the volume is not available (in use, reserved, error)."""
        resp = self._call(ctx, "POST", "/attachments", {"attachment": {
            "volume_uuid": volume_id, "instance_uuid": instance_uuid, "connector": connector}})
        return self._check(resp, f"Volume {volume_id} could not be found")["attachment"]  # type: ignore[no-any-return]

    def update_attachment(self, ctx: RequestContext, attachment_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        """Give a reserved attachment its ``connector``: the volume is exported for it; the attachment, with
        ``connection_info``."""
        resp = self._call(ctx, "PUT", f"/attachments/{urllib.parse.quote(attachment_id, safe='')}",
                          {"attachment": {"connector": connector}})
        return self._check(resp, f"Attachment {attachment_id}")["attachment"]  # type: ignore[no-any-return]

    def complete_attachment(self, ctx: RequestContext, attachment_id: str) -> None:
        """The guest has the disk: the volume becomes ``in-use``."""
        self._check(self._call(ctx, "POST", f"/attachments/{attachment_id}/action", {"os-complete": None}),
                    f"Attachment {attachment_id}")

    def delete_attachment(self, ctx: RequestContext, attachment_id: str) -> None:
        """Remove the attachment (the volume becomes ``available``, its export goes); a missing one is fine."""
        resp = self._call(ctx, "DELETE", f"/attachments/{attachment_id}")
        if resp.status_code != 404:
            self._check(resp, f"Attachment {attachment_id}")

    def delete_volume(self, ctx: RequestContext, volume_id: str) -> None:
        """Delete the volume (``delete_on_termination``); a missing one is fine."""
        resp = self._call(ctx, "DELETE", f"/volumes/{volume_id}")
        if resp.status_code != 404:
            self._check(resp, f"Volume {volume_id}")

    # -- the deprecated /os-volumes and /os-snapshots proxies (Nova's, up to 2.35) ---------------------

    def list_volumes(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """The caller's volumes (Cinder's detail form), newest first."""
        return self._check(self._call(ctx, "GET", "/volumes/detail"), "Volumes")["volumes"]  # type: ignore[no-any-return]

    def create_volume(self, ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
        """A new volume from Cinder's ``volume`` body (400 for what the volume service refuses)."""
        resp = self._call(ctx, "POST", "/volumes", {"volume": spec})
        if resp.status_code == 413:
            raise exceptions.Forbidden(f"Quota exceeded: {_message(resp)}")
        return self._check(resp, "Volume")["volume"]  # type: ignore[no-any-return]

    def list_snapshots(self, ctx: RequestContext) -> list[dict[str, Any]]:
        return self._check(self._call(ctx, "GET", "/snapshots/detail"), "Snapshots")["snapshots"]  # type: ignore[no-any-return]

    def get_snapshot(self, ctx: RequestContext, snapshot_id: str) -> dict[str, Any]:
        resp = self._call(ctx, "GET", f"/snapshots/{urllib.parse.quote(snapshot_id, safe='')}")
        return self._check(resp, f"Snapshot {snapshot_id} could not be found")["snapshot"]  # type: ignore[no-any-return]

    def create_snapshot(self, ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
        return self._check(self._call(ctx, "POST", "/snapshots", {"snapshot": spec}),  # type: ignore[no-any-return]
                           "Volume")["snapshot"]

    def delete_snapshot(self, ctx: RequestContext, snapshot_id: str) -> None:
        resp = self._call(ctx, "DELETE", f"/snapshots/{urllib.parse.quote(snapshot_id, safe='')}")
        self._check(resp, f"Snapshot {snapshot_id} could not be found")

    def delete_volume_strict(self, ctx: RequestContext, volume_id: str) -> None:
        """Delete the volume; 404 when the caller has no such volume, 400 when it is attached."""
        resp = self._call(ctx, "DELETE", f"/volumes/{urllib.parse.quote(volume_id, safe='')}")
        self._check(resp, f"Volume {volume_id} could not be found")
