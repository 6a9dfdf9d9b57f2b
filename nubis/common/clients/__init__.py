"""HTTP sessions for service-to-service calls (compute → placement, image, network, ...).

All such calls authenticate with the credentials in ``[service_credentials]``
(keystoneauth1 options: ``auth_type = password``, ``auth_url``, ``username``,
...) and find the target through the catalog (``interface``, ``region_name``),
as nova's clients do. ``endpoint_overrides`` pins a service type to a URL;
with no ``auth_type`` (tests, noauth deployments) it is required and calls
carry the service's identity in the headers ``[api] auth_strategy = noauth``
trusts.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from oslo_context import context as oslo_context

from nubis.common import context

GROUP = "service_credentials"

OPTS = [
    cfg.DictOpt(
        "endpoint_overrides",
        default={},
        help="service_type:url pairs that bypass the catalog, e.g. placement:http://10.0.0.5:8778.",
    ),
    cfg.StrOpt("interface", default="internal", help="Catalog interface to use for service-to-service calls."),
]

NOAUTH_HEADERS = {"X-User-Id": "nubis", "X-Project-Id": "service", "X-Roles": "admin,service"}


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    opts = list(OPTS)
    opts += ks_loading.get_session_conf_options()
    opts += ks_loading.get_auth_common_conf_options()
    opts += ks_loading.get_auth_plugin_conf_options("password")
    return [(GROUP, opts)]


def service_session(conf: cfg.ConfigOpts) -> ks_session.Session:
    """A keystoneauth session with the service's own credentials (token cached and renewed)."""
    auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
    return ks_loading.load_session_from_conf_options(conf, GROUP, auth=auth)


# A call whose connection failed (refused while a load balancer moves its virtual IP, or cut by an API copy
# that died) is sent again this often, 0.5 s apart and doubling: only idempotent methods, since a POST that
# was cut may have done its work.
IDEMPOTENT_CONNECT_RETRIES = 3
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class _RequestIdAdapter(ks_adapter.Adapter):
    """Sends the current request's id along (``X-OpenStack-Request-ID``, keystoneauth's global request id):
    the called API keeps a well-formed inbound id as its own, so its part of the work is logged under it too.
    Idempotent calls survive a connection failure (``IDEMPOTENT_CONNECT_RETRIES``)."""

    def request(self, url: str, method: str, **kwargs: Any) -> Any:
        ctx = context.current()
        if ctx is not None:
            kwargs.setdefault("global_request_id", ctx.global_id)
        if method.upper() in _IDEMPOTENT:
            kwargs.setdefault("connect_retries", IDEMPOTENT_CONNECT_RETRIES)
            kwargs.setdefault("connect_retry_delay", 0.5)
        return super().request(url, method, **kwargs)


def service_adapter(conf: cfg.ConfigOpts, service_type: str, session: ks_session.Session | None = None,
                    microversion: str | None = None) -> ks_adapter.Adapter:
    """An adapter for ``service_type``: catalog lookup, or the configured override."""
    group = conf[GROUP]
    override = group.endpoint_overrides.get(service_type)
    headers = {} if group.auth_type else dict(NOAUTH_HEADERS)
    if not group.auth_type and not override:
        raise cfg.RequiredOptError("endpoint_overrides", cfg.OptGroup(GROUP))
    return _RequestIdAdapter(
        session or service_session(conf),
        service_type=service_type,
        interface=group.interface,
        region_name=conf.region_name,
        endpoint_override=override,
        additional_headers=headers,
        default_microversion=microversion,
    )


def optional_service_adapter(conf: cfg.ConfigOpts, service_type: str) -> ks_adapter.Adapter | None:
    """Like ``service_adapter``, or None when nothing says where ``service_type`` is (no credentials to
    read a catalog with, no endpoint override): the caller works without that service."""
    try:
        return service_adapter(conf, service_type)
    except cfg.RequiredOptError:
        return None


def as_caller(conf: cfg.ConfigOpts, ctx: oslo_context.RequestContext) -> dict[str, Any]:
    """Request keyword arguments that make a call through a ``service_adapter`` on the caller's behalf: with the
    caller's token (keystone), or the caller's identity headers (``noauth``), instead of the service's own
    credentials. The target service then applies its own visibility rules to the caller, as nova does when it
    reads an image with the user's token; the adapter still finds the endpoint with the service's session.
    """
    if conf[GROUP].auth_type:
        return {"authenticated": False, "headers": {"X-Auth-Token": ctx.auth_token or ""}}
    return {"headers": {"X-User-Id": ctx.user_id or "", "X-Project-Id": ctx.project_id or "",
                        "X-Roles": ",".join(ctx.roles or [])}}
