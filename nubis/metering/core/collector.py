"""The usage collector: versioned notifications in, ledger changes out.

It listens on the versioned-notifications topic (any transport: in-process or RabbitMQ) in its own pool.
Compute's ``instance.*`` events give the server and the new state; the server's owner and flavor come from
the compute API. The event's time is the notification's own timestamp, not the moment it is read, so a
backlog read after a restart is counted at the right times; its message id makes a redelivery a no-op.
The network service's ``floatingip.create.end`` / ``floatingip.delete.end`` (Neutron's shape) meter floating
IPs, its ``router.*.end`` the hours a router has an external gateway. The volume service's Cinder-shaped
``volume.create|resize|delete.end`` and ``snapshot.create|delete.end`` meter volume and snapshot GiB-hours.
The network agents' ``network.outgoing.bytes`` samples (a guest port's tap counter) meter outbound GB; the
network service's ``port.delete.end`` ends a port's counting. The image service sends no notifications yet:
the audit (``audit.py``) meters images.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import oslo_messaging

from nubis.common import context as nubis_context
from nubis.common import rpc
from nubis.metering.core import clock, meters
from nubis.metering.core.ledger import Ledger, state_of
from nubis.metering.core.sources import Sources

LOG = logging.getLogger(__name__)

# instance events and the state they leave the server in (None: the payload's ``state``, else unchanged)
INSTANCE_EVENTS = {
    "instance.create.end", "instance.power_off.end", "instance.power_on.end", "instance.stop.end",
    "instance.start.end", "instance.reboot.end", "instance.pause.end", "instance.unpause.end",
    "instance.suspend.end", "instance.resume.end", "instance.resize.end", "instance.resize_revert.end",
    "instance.rebuild.end", "instance.shelve.end", "instance.shelve_offload.end", "instance.unshelve.end",
    "instance.live_migration.end", "instance.migrate.end", "instance.evacuate.end", "instance.delete.end",
    "instance.lock.end", "instance.unlock.end", "instance.soft_delete.end", "instance.restore.end",
}
VOLUME_EVENTS = frozenset({"volume.create.end", "volume.resize.end", "volume.delete.end", "snapshot.create.end",
                           "snapshot.delete.end"})


class Collector:
    """Turns one notification into one ledger change."""

    def __init__(self, ledger: Ledger, sources: Sources) -> None:
        self.ledger = ledger
        self.sources = sources

    def handle(self, event_type: str, payload: dict[str, Any], metadata: dict[str, Any]) -> bool:
        """Apply a notification; returns whether the ledger changed (False: redelivery, or not metered)."""
        message_id = str(metadata.get("message_id") or "")
        if not message_id:
            return False
        at = clock.parse_timestamp(str(metadata.get("timestamp") or "")) if metadata.get("timestamp") else None
        if at is None:
            return False
        if event_type.startswith("instance.") and (event_type in INSTANCE_EVENTS or event_type.endswith(".end")):
            return self._instance(event_type, payload, message_id, at)
        if event_type in ("floatingip.create.end", "floatingip.delete.end"):
            return self._floating_ip(event_type, payload, message_id, at)
        if event_type in ("router.create.end", "router.update.end", "router.delete.end"):
            return self._router(event_type, payload, message_id, at)
        if event_type in VOLUME_EVENTS:
            return self._volume(event_type, payload, message_id, at)
        if event_type == "network.outgoing.bytes":
            return self._outgoing(payload, message_id, at)
        if event_type == "port.delete.end":
            port_id = payload.get("port_id")
            known = self.ledger.get(str(port_id)) if port_id else None
            # Only ports whose traffic is counted have a ledger row to close.
            return known is not None and self.ledger.apply(str(port_id), at, None, (message_id, event_type))
        return False

    def _outgoing(self, payload: dict[str, Any], message_id: str, at: Any) -> bool:
        """A network agent's sample: a guest port's cumulative outbound ``bytes`` (its tap's counter)."""
        port_id, project_id, counter = payload.get("port_id"), payload.get("project_id"), payload.get("bytes")
        if not port_id or not project_id or not isinstance(counter, int) or counter < 0:
            return False
        return self.ledger.add_counter(str(port_id), str(project_id), "outbound_gb", at, counter,
                                       (message_id, "network.outgoing.bytes"))

    def _volume(self, event_type: str, payload: dict[str, Any], message_id: str, at: Any) -> bool:
        """Cinder's flat payload: ``volume_id`` and ``size``, or ``snapshot_id`` and ``volume_size``, GiB."""
        kind, _, action = event_type.partition(".")
        resource_id = payload.get(f"{kind}_id")
        if not resource_id or not payload.get("tenant_id"):
            return False
        event = (message_id, event_type)
        if action == "delete.end":
            return self.ledger.apply(str(resource_id), at, None, event)
        size = payload.get("size" if kind == meters.VOLUME else "volume_size")
        if not isinstance(size, int) or size < 0:
            return False
        return self.ledger.apply(str(resource_id), at, Sources.volume_state(
            kind, str(payload["tenant_id"]), str(payload.get("status") or "available"), size), event)

    def _router(self, event_type: str, payload: dict[str, Any], message_id: str, at: Any) -> bool:
        """A router is metered while it has an external gateway (``external_gateway_info`` set)."""
        if event_type == "router.delete.end":
            router_id = payload.get("router_id")
            return bool(router_id) and self.ledger.apply(str(router_id), at, None, (message_id, event_type))
        router = payload.get("router") or {}
        if not router.get("id") or not router.get("project_id"):
            return False
        return self.ledger.apply(str(router["id"]), at, Sources.router_state(router), (message_id, event_type))

    def _floating_ip(self, event_type: str, payload: dict[str, Any], message_id: str, at: Any) -> bool:
        """Neutron's shape: ``{"floatingip": {...}}`` on create, ``{"floatingip_id": id}`` on delete."""
        if event_type == "floatingip.delete.end":
            fip_id = payload.get("floatingip_id")
            return bool(fip_id) and self.ledger.apply(str(fip_id), at, None, (message_id, event_type))
        fip = payload.get("floatingip") or {}
        if not fip.get("id") or not fip.get("project_id"):
            return False
        return self.ledger.apply(str(fip["id"]), at, meters.State(meters.FLOATING_IP, str(fip["project_id"]),
                                                                 "allocated"), (message_id, event_type))

    def _instance(self, event_type: str, payload: dict[str, Any], message_id: str, at: Any) -> bool:
        data = payload.get("nova_object.data") or {}
        uuid = data.get("uuid")
        if not uuid or self.ledger.seen(message_id):
            return False
        event = (message_id, event_type)
        if event_type == "instance.delete.end" or data.get("state") == "deleted":
            return self.ledger.apply(uuid, at, None, event)
        known = self.ledger.get(uuid)
        if known is None and event_type != "instance.create.end" and data.get("state") is None:
            # Nothing says the server runs (a snapshot of a server never seen): leave it to the audit.
            return self.ledger.apply(uuid, at, None, event)
        server = self.sources.server(uuid)
        if server is None and known is None:
            # Read late (a backlog after a restart): the server may be deleted already; its record says
            # who owned it and its flavor.
            server = self.sources.deleted_server(uuid, at - datetime.timedelta(seconds=1))
        if server is not None:
            new = Sources.server_state(server, data.get("state"))
        elif known is not None:
            # The server is gone already (deleted meanwhile) or compute is unreachable: keep what is known.
            old = state_of(known)
            new = meters.State(old.resource_type, old.project_id, data.get("state") or old.state, old.flavor,
                               old.vcpus, old.memory_mb, old.disk_gb)
        else:
            LOG.info("No details of server %s for %s; the audit will meter it", uuid, event_type)
            return self.ledger.apply(uuid, at, None, event)
        return self.ledger.apply(uuid, at, new, event)


class NotificationEndpoint:
    """oslo.messaging notification endpoint (threading executor)."""

    filter_rule = oslo_messaging.NotificationFilter(event_type=r"^(instance|image|floatingip|router|volume|snapshot|port|network\.outgoing)\.")

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def info(self, ctxt: dict[str, Any], publisher_id: str, event_type: str, payload: dict[str, Any],
             metadata: dict[str, Any]) -> Any:
        # The lines logged for a notification carry the ids of the request that caused it (a boot's, ...).
        with nubis_context.scope():
            if ctxt:
                nubis_context.RequestContext.from_dict(ctxt, overwrite=True)
            try:
                self.collector.handle(event_type, payload, metadata)
            except Exception:  # noqa: BLE001 - requeue: it is applied once when it comes back (message id)
                LOG.exception("Could not meter %s (%s); will retry it", event_type, metadata.get("message_id"))
                return oslo_messaging.NotificationResult.REQUEUE
        return oslo_messaging.NotificationResult.HANDLED


class Listener:
    """The running notification listener, as the service runner sees it."""

    def __init__(self, messaging: rpc.Messaging, pool: str, collector: Collector) -> None:
        topic = messaging.conf.notifications.topic
        self.listener = oslo_messaging.get_notification_listener(
            messaging.notification_transport, [oslo_messaging.Target(topic=topic)],
            [NotificationEndpoint(collector)], executor="threading", pool=pool, allow_requeue=True)

    def start(self) -> Listener:
        # One worker: notifications are applied in the order they arrive (a backlog read after a restart
        # holds a server's create and delete; applied the other way round, the server would never close).
        self.listener.start(override_pool_size=1)
        return self

    def stop(self) -> None:
        self.listener.stop()
        self.listener.wait()
