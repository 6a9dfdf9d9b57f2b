"""Messaging: the transport, versioned RPC clients and servers, notifications.

``inproc://`` (oslo.messaging's in-process driver, minus its polling delay;
see ``nubis.common.inproc``) is the embedded default; a
deployment sets ``transport_url = rabbit://...``. One ``Messaging`` object is
built per process and shared, because the in-process driver only connects
clients and servers that use the same transport object.

Every RPC API is versioned the way nova's ``compute/rpcapi.py`` is: the client
class states the newest ``VERSION`` it can send, ``[upgrade_levels] <level>``
caps it during a rolling upgrade (a version, a release alias or ``auto``; see
``nubis.common.upgrade_levels``), and a method newer than 1.0 checks
``can_send_version()``: it sends the older form of the call, or raises
``ServiceTooOld`` when there is none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from oslo_service import backend as _oslo_service_backend

# oslo.messaging pulls in oslo.service, whose default backend is eventlet.
# Nubis runs on native threads (no eventlet anywhere), so choose the
# threading backend before anything asks oslo.service for one.
try:
    _oslo_service_backend.init_backend(_oslo_service_backend.BackendType.THREADING)
except _oslo_service_backend.exceptions.BackendAlreadySelected:
    # Only tools that load oslo libraries before Nubis (the config generator)
    # get here; Nubis's own processes import this module first.
    pass

import oslo_messaging  # noqa: E402
import tenacity  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_context import context as oslo_context  # noqa: E402
from oslo_versionedobjects import base as ovo_base  # noqa: E402

from nubis.common import context as nubis_context  # noqa: E402
from nubis.common import exceptions, upgrade_levels  # noqa: E402
from nubis.common.retrying import log_retry  # noqa: E402

LOG = logging.getLogger(__name__)

DEFAULT_TRANSPORT_URL = "inproc://"

# Exceptions from these modules raised in an RPC server are re-raised as the
# same type in the caller (e.g. the scheduler's NoValidHost reaches compute).
# Only modules that exist (test_rpc_versions imports each): anything else
# arrives as oslo.messaging's RemoteError.
ALLOWED_REMOTE_EXMODS = [
    "nubis.common.exceptions",
    "nubis.scheduler.exceptions",
]

# The APIs whose client version can be capped during rolling upgrades.
UPGRADE_LEVEL_TOPICS = upgrade_levels.LEVELS

UPGRADE_LEVEL_OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        level,
        help=f"Cap the RPC version this service sends to {level} while older ones still run: "
        f"a version ('1.0'), a release ('{upgrade_levels.ALIAS_PREFIX}0.1': what that release "
        "understands) or 'auto' (the oldest version running services of that kind recorded). "
        "Unset means the newest this code knows.",
    )
    for level in UPGRADE_LEVEL_TOPICS
]

NOTIFICATION_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt(
        "enabled",
        default=True,
        help="Emit versioned notifications (instance.create.start, ...).",
    ),
    cfg.StrOpt(
        "topic",
        default="versioned_notifications",
        help="Topic versioned notifications are sent on.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    # oslo.messaging registers its options lazily on the global CONF; Nubis
    # passes its own ConfigOpts, so register them all up front (its public
    # option list), then change the defaults: zero config files must give a
    # working in-process transport.
    from oslo_messaging import opts as messaging_opts

    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    # Tracing and metrics options are missing from that list (oslo.messaging
    # puts them on the global CONF only) but are read on every call.
    from oslo_messaging._metrics import client as metrics
    from oslo_messaging._tracing import client as tracing
    from oslo_messaging.rpc import dispatcher

    conf.register_opts(tracing.oslo_messaging_tracing, group="oslo_messaging_tracing")
    conf.register_opts(metrics.oslo_messaging_metrics, group="oslo_messaging_metrics")
    conf.register_opts(dispatcher._dispatcher_opts)
    conf.set_default("transport_url", DEFAULT_TRANSPORT_URL)
    conf.set_default("control_exchange", "nubis")
    conf.register_opts(UPGRADE_LEVEL_OPTS, group="upgrade_levels")
    conf.register_opts(NOTIFICATION_OPTS, group="notifications")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("upgrade_levels", UPGRADE_LEVEL_OPTS), ("notifications", NOTIFICATION_OPTS)]


_REMOTE_TRACEBACK = "\nTraceback (most recent call last):"


def error_message(exc: BaseException) -> str:
    """An exception's message without the remote traceback oslo.messaging appends to errors raised
    in another process (that belongs in logs, not in a fault a user reads)."""
    return str(exc).split(_REMOTE_TRACEBACK, 1)[0].rstrip()


class ContextSerializer(oslo_messaging.Serializer):
    """Versioned objects travel as primitives; the context as a dict."""

    def __init__(self) -> None:
        self._objects = ovo_base.VersionedObjectSerializer()

    def serialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return self._objects.serialize_entity(ctxt, entity)

    def deserialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return self._objects.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt: Any) -> dict[str, Any]:
        return ctxt.to_dict() if ctxt is not None else {}

    def deserialize_context(self, ctxt: dict[str, Any]) -> nubis_context.RequestContext:
        # The sender's request id comes along (a message without one gets a new id).
        return nubis_context.RequestContext.from_dict(ctxt or {})


def _serializer() -> oslo_messaging.Serializer:
    return ContextSerializer()


class Messaging:
    """The process-wide transport, built once at start and passed down."""

    def __init__(self, conf: cfg.ConfigOpts, url: str | None = None) -> None:
        self.conf = conf
        register_opts(conf)
        self.url = url or conf.transport_url or DEFAULT_TRANSPORT_URL
        self.transport = oslo_messaging.get_rpc_transport(
            conf, url=self.url, allowed_remote_exmods=ALLOWED_REMOTE_EXMODS
        )
        # How ``[upgrade_levels] ... = auto`` finds the oldest running version of a level; set by
        # services that can read the service version records (nubis.compute.service_versions).
        self.minimum_version: upgrade_levels.MinimumLookup | None = None
        self.is_in_process = self.url.startswith(("inproc:", "fake:"))
        if self.is_in_process:
            # The in-process driver only reaches listeners on the same transport.
            self.notification_transport = self.transport
        else:
            self.notification_transport = oslo_messaging.get_notification_transport(
                conf, url=self.url, allowed_remote_exmods=ALLOWED_REMOTE_EXMODS
            )

    def cleanup(self) -> None:
        self.transport.cleanup()
        if self.notification_transport is not self.transport:
            self.notification_transport.cleanup()


class RPCClient:
    """Base of every versioned RPC API client (one subclass per topic and namespace).

    Subclasses set ``TOPIC``, ``VERSION`` and ``UPGRADE_LEVEL`` (the
    ``[upgrade_levels]`` option, default ``TOPIC``) and keep a version history
    in their docstring; a method that needs a newer version than the cap
    allows sends the older form, or calls ``require_version`` which raises
    ``ServiceTooOld``.
    """

    TOPIC: ClassVar[str]
    VERSION: ClassVar[str]
    UPGRADE_LEVEL: ClassVar[str | None] = None  # defaults to TOPIC
    # Methods with no older form -> the version that added them (``check_can_send``).
    SINCE: ClassVar[dict[str, str]] = {}

    def __init__(self, messaging: Messaging, timeout: float | None = None) -> None:
        conf = messaging.conf
        self.level = self.UPGRADE_LEVEL or self.TOPIC
        configured = getattr(conf.upgrade_levels, self.level, None) if self.level in UPGRADE_LEVEL_TOPICS else None
        version_cap = upgrade_levels.resolve(self.level, configured, messaging.minimum_version)
        if version_cap is not None and upgrade_levels.version_tuple(version_cap) >= upgrade_levels.version_tuple(
                self.VERSION):
            version_cap = None  # a cap at or above what this code sends caps nothing
        if version_cap is not None:
            LOG.info("RPC to %s capped at %s ([upgrade_levels] %s = %s; this code knows %s)",
                     self.level, version_cap, self.level, configured, self.VERSION)
        # Like nova: messages default to the base version of the major series;
        # a method that needs a newer minor asks for it in prepare(version=...).
        base_version = self.VERSION.split(".")[0] + ".0"
        target = oslo_messaging.Target(topic=self.TOPIC, version=base_version)
        self.version_cap = version_cap
        self.client = oslo_messaging.get_rpc_client(
            messaging.transport,
            target,
            version_cap=version_cap,
            serializer=_serializer(),
            timeout=timeout,
        )

    def can_send_version(self, version: str) -> bool:
        """Whether the cap lets this client send ``version`` (always, uncapped)."""
        return bool(self.client.can_send_version(version))

    def require_version(self, version: str, method: str) -> None:
        """Raise ``ServiceTooOld`` when ``method`` needs ``version`` and the cap is lower.

        For methods with no older form: better a clear 409 at the caller than a message the
        older service rejects (or, for a cast, drops) with nobody told.
        """
        if not self.can_send_version(version):
            raise exceptions.ServiceTooOld(
                f"{method} needs {self.level} RPC {version}, but [upgrade_levels] {self.level} caps it at "
                f"{self.version_cap} while older {self.level} services run; finish the upgrade first.")

    def check_can_send(self, method: str) -> None:
        """``require_version`` for ``method`` by ``SINCE``: callers check before they change any state, so a
        refused action leaves nothing half done (no task state set, no image record made)."""
        self.require_version(self.SINCE.get(method, "1.0"), method)

    def prepare(self, **kwargs: Any) -> Any:
        return self.client.prepare(**kwargs)

    def call_idempotent(self, ctxt: nubis_context.RequestContext, method: str, *, version: str = "1.0",
                        timeout: float | None = None, attempts: int = 2, **kwargs: Any) -> Any:
        """``call`` ``method`` and, when no answer comes within ``timeout`` seconds (the client's own when
        None), send it again, up to ``attempts`` sends in all; raises ``MessagingTimeout`` after the last.

        Only for methods that are safe to run twice, possibly at once: a copy of the service that took the
        message and then died (or lost its broker) never answers, and with several copies on the topic the
        next send reaches one that is alive (the HA kill tests lost releases that way).
        """
        prepared = self.prepare(version=version, **({"timeout": timeout} if timeout is not None else {}))
        sends = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(oslo_messaging.MessagingTimeout),
            stop=tenacity.stop_after_attempt(attempts), reraise=True,
            before_sleep=log_retry(LOG, f"{self.TOPIC}.{method} got no answer; sending it again", logging.WARNING))
        return sends(prepared.call, ctxt, method, **kwargs)


class _ContextRPCServer(oslo_messaging.rpc.server.RPCServer):
    """An RPC server that makes each message's request context current while it handles the message.

    Every line logged for the message then carries the sender's request id and
    caller: the endpoint's, and oslo.messaging's own (receipt, reply, a
    failure). Executor threads are pooled, so the thread is left with no
    current context afterwards. (``_process_incoming`` is the method each kind
    of oslo.messaging server implements; ``get_rpc_server`` takes the class.)
    """

    def _process_incoming(self, incoming: list[Any]) -> None:
        with nubis_context.scope():
            nubis_context.RequestContext.from_dict(incoming[0].ctxt or {}).update_store()
            super()._process_incoming(incoming)


def make_server(
    messaging: Messaging,
    topic: str,
    server: str,
    endpoints: Sequence[object],
    fanout: bool = False,
) -> oslo_messaging.rpc.server.RPCServer:
    """An RPC server on ``topic`` for host ``server`` (native threads, no eventlet).

    Each endpoint declares its own ``target = oslo_messaging.Target(version=...)``
    so a call for a newer version than the server knows is refused cleanly.
    """
    target = oslo_messaging.Target(topic=topic, server=server, fanout=fanout)
    return oslo_messaging.get_rpc_server(
        messaging.transport,
        target,
        list(endpoints),
        executor="threading",
        serializer=_serializer(),
        server_cls=_ContextRPCServer,
    )


class RunningServer:
    """A started RPC server as the service runners see it: something to ``stop()``."""

    def __init__(self, server: oslo_messaging.rpc.server.RPCServer) -> None:
        self.server = server

    def stop(self) -> None:
        # Stop taking new messages, then let the ones in progress finish.
        self.server.stop()
        self.server.wait()


def start_server(messaging: Messaging, topic: str, server: str, endpoints: Sequence[object]) -> RunningServer:
    rpc_server = make_server(messaging, topic, server, endpoints)
    rpc_server.start()
    return RunningServer(rpc_server)


class Notifier:
    """Versioned notifications with ``publisher_id = <service>.<host>``."""

    def __init__(self, messaging: Messaging, service: str, host: str) -> None:
        self.publisher_id = f"{service}.{host}"
        opts = messaging.conf.notifications
        self._notifier = oslo_messaging.Notifier(
            messaging.notification_transport,
            publisher_id=self.publisher_id,
            driver="messagingv2" if opts.enabled else "noop",
            topics=[opts.topic],
            serializer=_serializer(),
        )

    def info(self, ctxt: oslo_context.RequestContext, event_type: str, payload: dict[str, Any]) -> None:
        self._notifier.info(ctxt, event_type, payload)

    def error(self, ctxt: nubis_context.RequestContext, event_type: str, payload: dict[str, Any]) -> None:
        self._notifier.error(ctxt, event_type, payload)
