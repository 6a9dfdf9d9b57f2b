"""Composing a service's WSGI application: one function, the order explained.

Outermost first:

1. request id   - everything below (logs, faults, metrics) can use it
   access log   - one line per request: method, path, status, time
2. metrics      - counts every response, including faults
3. faults       - turns every error below into the service's error body
4. target       - 400 for a path or query string that is not UTF-8, before
                  anything decodes them
5. /metrics     - for the addresses in [api] metrics_allowed_cidrs, 403 for others
6. size limit   - 413 before anything reads a huge body
7. healthcheck  - /healthcheck answers without a token
8. auth         - keystonemiddleware auth_token (delay_auth_decision: the
                  router decides which routes need a token), or the identity
                  service's own token reader
   caller       - makes the caller's context current: from here on log lines
                  name the user and project as well as the request id
9. microversion - negotiates the version before any handler runs
10. router      - dispatches to thin handlers
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from oslo_config import cfg
from oslo_middleware import healthcheck
from oslo_middleware.healthcheck import opts as healthcheck_opts

from nubis.api import access_log, faults, metrics, microversion, request_id, router, server, sizelimit, target
from nubis.common import token_cache

LOG = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
AuthFactory = Callable[[WSGIApp], WSGIApp]

DEFAULT_BODY_LIMIT = server.DEFAULT_BODY_LIMIT

API_OPTS = [
    cfg.IntOpt(
        "max_request_body_size",
        default=DEFAULT_BODY_LIMIT,
        help="Largest request body (bytes) accepted by JSON APIs; image data uploads are exempt.",
    ),
    cfg.StrOpt(
        "auth_strategy",
        default="keystone",
        choices=["keystone", "noauth"],
        help="keystone: validate tokens with keystonemiddleware. noauth: trust "
        "X-User-Id/X-Project-Id/X-Roles headers (tests only, never in production).",
    ),
    cfg.ListOpt(
        "metrics_allowed_cidrs",
        default=["127.0.0.0/8", "::1/128"],
        help="Client addresses (CIDRs) that may read GET /metrics (Prometheus) on every API; others get "
        "403. Add your Prometheus server's address; an empty list turns /metrics off for everyone. Behind a "
        "load balancer the client address is the balancer's: scrape each API node directly.",
    ),
    cfg.StrOpt(
        "healthcheck_disable_dir",
        help="Directory holding the files that drain this process's APIs: while <dir>/<service>-healthcheck-"
        "disable exists (service: identity, image, compute, ...), that API's /healthcheck answers 503 so the "
        "load balancer stops sending it requests, and it keeps serving those in flight. Default: state_path. "
        "Give each copy of an API on one host its own directory so copies drain one at a time.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(API_OPTS + server.OPTS, group="api")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("api", API_OPTS + server.OPTS)]


@dataclasses.dataclass
class ApiSpec:
    """What a service tells the HTTP layer about its API."""

    name: str  # "compute": the catalog service type (access rules), metrics labels and logs
    routes: router.RouteTable
    fault_format: faults.FaultFormatter
    versions: microversion.VersionRange | None = None
    body_limit_exempt: Callable[[dict[str, Any]], bool] | None = None
    # None: keystonemiddleware (every API but identity). Identity passes its own.
    auth: AuthFactory | None = None
    # Older names the request id also goes out under, as the reference service sends them
    # (compute: ``x-compute-request-id``, which Tempest and novaclient read).
    request_id_aliases: tuple[str, ...] = ()


class _FaultMiddleware:
    def __init__(self, app: WSGIApp, formatter: faults.FaultFormatter) -> None:
        self.app = app
        self.formatter = formatter

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        except Exception as exc:  # noqa: BLE001 - every error becomes a proper fault
            rid = environ.get(request_id.ENV_KEY, "-")
            return faults.from_exception(self.formatter, exc, rid)(environ, start_response)


class _AuthStatus:
    """Records whether auth_token confirmed the caller (it strips forged headers first)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[router.AUTHENTICATED_KEY] = environ.get("HTTP_X_IDENTITY_STATUS") == "Confirmed"
        return self.app(environ, start_response)


class _NoAuth:
    """Test-only: trust identity headers as sent."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[router.AUTHENTICATED_KEY] = bool(environ.get("HTTP_X_USER_ID"))
        environ.setdefault("HTTP_X_IDENTITY_STATUS", "Confirmed")
        return self.app(environ, start_response)


class _CurrentCaller:
    """Right inside auth: the request's context, now that auth has said who calls, becomes the thread's current one."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        router.Request(environ).context.update_store()
        return self.app(environ, start_response)


class _Healthcheck:
    """``/healthcheck`` served by oslo.middleware (which expects to be mounted at its path)."""

    def __init__(self, app: WSGIApp, disable_file: str) -> None:
        self.app = app
        # Touching the disable file makes /healthcheck answer 503, so an operator
        # can drain one API node from its load balancer without stopping it.
        # oslo.middleware given a dict writes it into the global cfg.CONF, so every API in one
        # process (the all-in-one) would read the last one's file: each gets a ConfigOpts of its own.
        own = cfg.ConfigOpts()
        own([], project="nubis-healthcheck", default_config_files=[], default_config_dirs=[])
        own.register_opts(healthcheck_opts.HEALTHCHECK_OPTS + healthcheck_opts.DISABLE_BY_FILE_OPTS,
                          group="healthcheck")
        for name, value in (("backends", ["disable_by_file"]), ("detailed", False),
                            ("disable_by_file_path", disable_file)):
            own.set_override(name, value, group="healthcheck")
        self.check = healthcheck.Healthcheck(app, own)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthcheck" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            environ["nubis.route"] = "/healthcheck"
            return self.check(environ, start_response)
        return self.app(environ, start_response)


def keystone_auth(conf: cfg.ConfigOpts, service_type: str | None = None) -> AuthFactory:
    """keystonemiddleware's auth_token, deciding nothing itself: the router
    knows which routes are public, so the decision is delayed to it.

    ``service_type`` (unless ``[keystone_authtoken] service_type`` says
    otherwise) lets auth_token enforce application credential access rules.
    Token caching is bounded as ``nubis.common.token_cache`` explains.
    """
    from keystonemiddleware import auth_token

    for group, opts in auth_token.list_opts():
        conf.register_opts(opts, group=group)
    conf.set_default("token_cache_time", token_cache.TOKEN_CACHE_TIME, group="keystone_authtoken")
    # Paste-style overrides win over the config file, so only fill in what the operator left unset.
    overrides = {"delay_auth_decision": "true"}
    if service_type and not conf.keystone_authtoken.service_type:
        overrides["service_type"] = service_type
    in_process = not conf.keystone_authtoken.memcached_servers and not conf.keystone_authtoken.cache
    if in_process:
        overrides["cache"] = token_cache.ENV_KEY

    def factory(app: WSGIApp) -> WSGIApp:
        protocol = auth_token.AuthProtocol(_AuthStatus(app), {"oslo_config_config": conf, **overrides})
        if not in_process:
            return protocol

        def with_cache(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            environ[token_cache.ENV_KEY] = token_cache.PROCESS_CACHE
            return protocol(environ, start_response)

        return with_cache

    return factory


def build_app(spec: ApiSpec, conf: cfg.ConfigOpts, service: Any) -> WSGIApp:
    """The complete WSGI app for one API service."""
    register_opts(conf)
    app: WSGIApp = router.Router(spec.routes, service, require_auth=True,
                                 auth_uri=_auth_uri(conf))
    if spec.versions is not None:
        app = microversion.MicroversionMiddleware(app, spec.versions)
    app = _CurrentCaller(app)
    if spec.auth is not None:
        app = spec.auth(app)
    elif conf.api.auth_strategy == "noauth":
        app = _NoAuth(app)
    else:
        app = keystone_auth(conf, spec.name)(app)
    disable_dir = conf.api.healthcheck_disable_dir or conf.state_path
    app = _Healthcheck(app, os.path.join(disable_dir, f"{spec.name}-healthcheck-disable"))
    app = sizelimit.SizeLimitMiddleware(app, conf.api.max_request_body_size, spec.body_limit_exempt)
    series = metrics.Metrics(spec.name)
    app = metrics.MetricsEndpoint(app, series, metrics.parse_networks(conf.api.metrics_allowed_cidrs))
    app = target.Utf8TargetMiddleware(app)
    app = _FaultMiddleware(app, spec.fault_format)
    app = metrics.MetricsMiddleware(app, series)
    app = access_log.AccessLogMiddleware(app)
    return request_id.RequestIdMiddleware(app, spec.request_id_aliases)


def _auth_uri(conf: cfg.ConfigOpts) -> str:
    try:
        return conf.keystone_authtoken.www_authenticate_uri or ""
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, AttributeError):
        return ""


