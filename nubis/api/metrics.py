"""Prometheus metrics: request count and latency by route and status, served at /metrics.

Each app has its own registry so the all-in-one (many services, one process)
keeps their series apart. With several worker processes each worker reports
its own counts; scrape them through the load balancer's per-worker ports or
sum them in the query.

Route names and request rates tell an outsider what a cloud is doing, so
``/metrics`` answers only callers whose address is in ``[api]
metrics_allowed_cidrs`` (loopback by default), like the other scrape
endpoints an operator runs; everyone else gets a 403.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import prometheus_client as prom

from nubis.common import exceptions

ROUTE_KEY = "nubis.route"  # set by the router to the matched route template
PATH = "/metrics"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Metrics:
    """One API's series."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = prom.CollectorRegistry()
        self.requests = prom.Counter(
            "nubis_http_requests",
            "HTTP requests handled, by route and status.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = prom.Histogram(
            "nubis_http_request_duration_seconds",
            "Time to produce the response headers, by route.",
            ["service", "method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


class MetricsMiddleware:
    """Counts every response (faults included) and times it."""

    def __init__(self, app: Callable[..., Iterable[bytes]], metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")

        def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            route = environ.get(ROUTE_KEY, "unmatched")
            self.metrics.requests.labels(self.metrics.service, method, route, status.split(" ", 1)[0]).inc()
            self.metrics.latency.labels(self.metrics.service, method, route).observe(time.perf_counter() - started)
            return start_response(status, headers, exc_info)

        return self.app(environ, _start_response)


def parse_networks(cidrs: Sequence[str]) -> list[Network]:
    """``["127.0.0.0/8", "::1"]`` -> networks; ValueError names a malformed entry."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"[api] metrics_allowed_cidrs: {exc}") from None
    return networks


def _address(environ: dict[str, Any]) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(environ.get("REMOTE_ADDR") or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class MetricsEndpoint:
    """``GET /metrics`` for allowed addresses; 403 (in the API's format) for the rest."""

    def __init__(self, app: Callable[..., Iterable[bytes]], metrics: Metrics, allowed: Sequence[Network]) -> None:
        self.app = app
        self.metrics = metrics
        self.allowed = list(allowed)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        environ[ROUTE_KEY] = PATH
        address = _address(environ)
        if address is None or not any(address in net for net in self.allowed if net.version == address.version):
            raise exceptions.Forbidden(
                "Metrics are served only to the addresses the operator lists in [api] metrics_allowed_cidrs."
            )
        body = prom.generate_latest(self.metrics.registry)
        start_response("200 OK", [("Content-Type", prom.CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]
