"""The compute calls other services make: the volume service telling Nova's API about volume events.

API reference: https://docs.openstack.org/api-ref/compute/#create-external-events-os-server-external-events .
Calls go with the service's own credentials (``[service_credentials]``), as Cinder's Nova client sends
``volume-extended`` with its service user, and return the HTTP response for the caller to judge.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from oslo_config import cfg

from nubis.common import clients

# ``volume-extended`` is an event name from compute 2.51 (what Cinder's Nova client sends it with).
MICROVERSION = "2.51"


class ComputeClient:
    """Typed calls to the Compute API over ``http`` (a keystoneauth adapter for service type ``compute``)."""

    def __init__(self, http: ks_adapter.Adapter) -> None:
        self.http = http

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> ComputeClient | None:
        """The compute service as ``[service_credentials]`` finds it, or None when nothing says where it is."""
        try:
            http = clients.service_adapter(conf, "compute", microversion=MICROVERSION)
        except cfg.RequiredOptError:
            return None
        return cls(http)

    def external_events(self, events: Iterable[dict[str, Any]]) -> Any:
        """``POST /os-server-external-events``: 200 (all handed on), 207 (some), 404 (none), each event with its
        ``code``."""
        return self.http.request("/os-server-external-events", "POST", json={"events": list(events)},
                                 raise_exc=False)

    def volume_extended(self, volume_id: str, server_ids: Iterable[str]) -> Any:
        """Tell compute that ``volume_id``, attached to ``server_ids``, grew (one event per server, tag the volume)."""
        return self.external_events({"name": "volume-extended", "server_uuid": server_id, "tag": volume_id}
                                    for server_id in server_ids)
