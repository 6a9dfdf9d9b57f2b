"""The one network-service client: every Nubis call to the Networking API v2.0 goes through ``NetworkClient``.

API reference: https://docs.openstack.org/api-ref/network/v2/ . Paths are built here only, each segment
percent-encoded (a name or id a user chose, "web&project_id=...", stays one value and never becomes a filter
or another path). Calls return the HTTP response (``raise_exc=False``) and leave its meaning to the caller
(compute's boot checks, its deprecated network proxy, metering); keystoneauth's ``EndpointNotFound`` and
``ConnectionError`` pass through. A call made with ``caller`` carries that request's token
(``clients.as_caller``), so the network service applies its own visibility and policy to the caller; without
it the service's own credentials are used.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg
from oslo_context import context as oslo_context

from nubis.common import clients


def network_path(*segments: Any) -> str:
    """``/v2.0/a/b``, each segment percent-encoded."""
    return "/v2.0/" + "/".join(urllib.parse.quote(str(seg), safe="") for seg in segments)


class NetworkClient:
    """Typed calls to the Networking API over ``http`` (a keystoneauth adapter for service type ``network``)."""

    def __init__(self, http: ks_adapter.Adapter, conf: cfg.ConfigOpts) -> None:
        self.http = http
        self.conf = conf

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> NetworkClient | None:
        """The network service, when ``[service_credentials]`` says how to find it (catalog or override)."""
        http = clients.optional_service_adapter(conf, "network")
        return None if http is None else cls(http, conf)

    def available(self) -> bool:
        """Whether the catalog (or the override) names a network endpoint."""
        try:
            return bool(self.http.get_endpoint())
        except (ks_exc.EndpointNotFound, ks_exc.CatalogException):
            return False

    def request(self, method: str, *segments: Any, params: Mapping[str, Any] | None = None, body: Any = None,
                caller: oslo_context.RequestContext | None = None) -> Any:
        """``<method> /v2.0/<segments>?<params>`` with JSON ``body``: the response, whatever its status."""
        extra = clients.as_caller(self.conf, caller) if caller is not None else {}
        kwargs: dict[str, Any] = {"params": dict(params or {})}
        if body is not None:
            kwargs["json"] = body
        return self.http.request(network_path(*segments), method, raise_exc=False, **extra, **kwargs)

    def list(self, collection: str, params: Mapping[str, Any] | None = None,
             caller: oslo_context.RequestContext | None = None) -> Any:
        """``GET /v2.0/<collection>`` (api-ref "List networks", "List ports", ...) filtered by ``params``:
        200 with ``{<collection key>: [...]}``."""
        return self.request("GET", collection, params=params, caller=caller)

    def show(self, collection: str, resource_id: str, caller: oslo_context.RequestContext | None = None) -> Any:
        """``GET /v2.0/<collection>/<id>`` (api-ref "Show network details", "Show port details", ...): 200."""
        return self.request("GET", collection, resource_id, caller=caller)

    def create_port(self, port: Mapping[str, Any]) -> Any:
        """``POST /v2.0/ports`` (api-ref "Create port") with the service's credentials: 201 with ``port``."""
        return self.request("POST", "ports", body={"port": dict(port)})

    def update_port(self, port_id: str, values: Mapping[str, Any]) -> Any:
        """``PUT /v2.0/ports/{port_id}`` (api-ref "Update port"): 200 with ``port``."""
        return self.request("PUT", "ports", port_id, body={"port": dict(values)})

    def delete_port(self, port_id: str) -> Any:
        """``DELETE /v2.0/ports/{port_id}`` (api-ref "Delete port"): 204."""
        return self.request("DELETE", "ports", port_id)
