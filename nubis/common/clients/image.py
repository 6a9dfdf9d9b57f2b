"""The one image-service client: every Nubis call to the Image API v2 goes through ``ImageClient``.

API reference: https://docs.openstack.org/api-ref/image/v2/ . Paths are built here only, each id
percent-encoded (an id from a request body cannot add a path or a query). Calls return the HTTP response
(``raise_exc=False``) and leave its meaning to the caller, whose error messages differ (a boot's 400, the
``/images`` proxy's 404, a host's fault); keystoneauth's ``EndpointNotFound`` and ``ConnectionError`` pass
through. A call made with ``caller`` carries that request's token (``clients.as_caller``), so the image
service applies its own visibility rules to the caller; without it the service's own credentials are used.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from oslo_config import cfg
from oslo_context import context as oslo_context

from nubis.common import clients

JSON_PATCH = "application/openstack-images-v2.1-json-patch"


def image_path(image_id: str = "", *rest: str) -> str:
    """``/v2/images[/<image_id>[/<rest>...]]`` with every segment percent-encoded."""
    segments = [urllib.parse.quote(str(s), safe="") for s in (image_id, *rest) if s]
    return "/".join(["/v2/images", *segments])


class ImageClient:
    """Typed calls to the Image API over ``http`` (a keystoneauth adapter for service type ``image``)."""

    def __init__(self, http: ks_adapter.Adapter, conf: cfg.ConfigOpts) -> None:
        self.http = http
        self.conf = conf

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, optional: bool = False) -> ImageClient | None:
        """The image service as ``[service_credentials]`` finds it; with ``optional``, None when nothing says
        where it is (else ``cfg.RequiredOptError``)."""
        http = clients.optional_service_adapter(conf, "image") if optional else clients.service_adapter(conf, "image")
        return None if http is None else cls(http, conf)

    def _request(self, method: str, path: str, caller: oslo_context.RequestContext | None = None,
                 headers: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        extra = clients.as_caller(self.conf, caller) if caller is not None else {}
        merged = {**extra.pop("headers", {}), **(headers or {})}
        return self.http.request(path, method, raise_exc=False, headers=merged or None, **extra, **kwargs)

    def show(self, image_id: str, caller: oslo_context.RequestContext | None = None) -> Any:
        """``GET /v2/images/{image_id}`` (api-ref "Show image"): 200 with the image record."""
        return self._request("GET", image_path(image_id), caller)

    def list(self, params: Mapping[str, Any] | None = None, caller: oslo_context.RequestContext | None = None) -> Any:
        """``GET /v2/images`` (api-ref "List images") with ``params`` (filters, ``limit``, ``marker``, ``sort``):
        200 with ``images`` and, when more follow, ``next``."""
        return self._request("GET", image_path(), caller, params=dict(params or {}))

    def next_page(self, next_link: str, caller: oslo_context.RequestContext | None = None) -> Any:
        """The page a listing's ``next`` link names (a path and query under the image endpoint)."""
        if not next_link.startswith("/v2/images"):
            raise ValueError(f"not a link to the next page of images: {next_link[:100]!r}")
        return self._request("GET", next_link, caller)

    def create(self, body: Mapping[str, Any], caller: oslo_context.RequestContext | None = None) -> Any:
        """``POST /v2/images`` (api-ref "Create image"): 201 with the new, queued image."""
        return self._request("POST", image_path(), caller, json=dict(body))

    def update(self, image_id: str, ops: Iterable[Mapping[str, Any]],
               caller: oslo_context.RequestContext | None = None) -> Any:
        """``PATCH /v2/images/{image_id}`` (api-ref "Update image") with JSON-patch ``ops``: 200 with the image."""
        return self._request("PATCH", image_path(image_id), caller, headers={"Content-Type": JSON_PATCH},
                             json=[dict(op) for op in ops])

    def delete(self, image_id: str, caller: oslo_context.RequestContext | None = None) -> Any:
        """``DELETE /v2/images/{image_id}`` (api-ref "Delete image"): 204."""
        return self._request("DELETE", image_path(image_id), caller)

    def upload(self, image_id: str, chunks: Iterable[bytes]) -> Any:
        """``PUT /v2/images/{image_id}/file`` (api-ref "Upload binary image data"), streamed: 204."""
        return self._request("PUT", image_path(image_id, "file"), headers={"Content-Type": "application/octet-stream"},
                             data=iter(chunks))

    def download(self, image_id: str) -> Any:
        """``GET /v2/images/{image_id}/file`` (api-ref "Download binary image data"), streamed: 200; read it
        with ``iter_content``."""
        return self._request("GET", image_path(image_id, "file"), stream=True)

    def endpoint(self) -> str | None:
        """The image endpoint the catalog gives (None when it names none)."""
        found = self.http.get_endpoint()
        return str(found) if found else None

    def image_url(self, image_id: str) -> str:
        """The image's absolute URL under the image endpoint (for a ``Location`` header)."""
        return f"{(self.http.get_endpoint() or '').rstrip('/')}{image_path(image_id)}"
