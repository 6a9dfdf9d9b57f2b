"""Prometheus metrics: request count and latency by route and status, served at /metrics.

Each app has its own registry so the all-in-one (many services, one process)
keeps their series apart. With several worker processes each worker reports
its own counts; scrape them through the load balancer's per-worker ports or
sum them in the query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import prometheus_client as prom

ROUTE_KEY = "nubis.route"  # set by the router to the matched route template


class MetricsMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], service: str) -> None:
        self.app = app
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

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/metrics" and environ.get("REQUEST_METHOD") == "GET":
            body = prom.generate_latest(self.registry)
            start_response("200 OK", [("Content-Type", prom.CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
            return [body]
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")

        def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            route = environ.get(ROUTE_KEY, "unmatched")
            self.requests.labels(self.service, method, route, status.split(" ", 1)[0]).inc()
            self.latency.labels(self.service, method, route).observe(time.perf_counter() - started)
            return start_response(status, headers, exc_info)

        return self.app(environ, _start_response)
