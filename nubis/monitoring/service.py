"""The Prometheus exporter as the all-in-one and devstack see it: ``nubis-exporter`` on ``[exporter]
bind_host:bind_port`` (9180), serving ``GET /metrics`` (and ``/healthcheck``). It is no OpenStack API: it has
no catalog entry and no database; it reads the other APIs with the ``[service_credentials]`` identity."""

from __future__ import annotations

from collections.abc import Sequence

from nubis.common.runtime import Runtime
from nubis.monitoring import conf
from nubis.services import ServiceDefinition, Stoppable


def start(runtime: Runtime) -> Sequence[Stoppable]:
    """The exporter's HTTP server on the runtime's configuration."""
    from nubis.api import server
    from nubis.monitoring.exporter import build_app

    opts = runtime.conf.exporter
    http = server.HttpServer("exporter", opts.bind_host, opts.bind_port, build_app(runtime.conf), threads=4)
    http.start()
    return [http]


SERVICE = ServiceDefinition(
    name="exporter",
    console_script="nubis-exporter",
    port=9180,  # the all-in-one's [exporter] bind_port (plus its port offset); build_api None: no catalog entry
    list_opts=conf.list_opts,
    register_opts=conf.register_opts,
    start=start,
)
