"""Compute's versioned notifications: each event carries a named, versioned payload.

The envelope keys are nova's (``nova_object.name/namespace/version/data``) so
tools that consume nova's versioned notifications read ours unchanged.
"""

from __future__ import annotations

from typing import Any

from nubis.common import rpc
from nubis.common.context import RequestContext

PAYLOAD_VERSION = "1.0"


def instance_action(uuid: str, host: str | None, **fields: Any) -> dict[str, Any]:
    """The payload of ``instance.<action>.start/end/error``: the instance, its host, and what the action adds
    (``state``, ``power_state``, ``fault``, ``image_uuid``, ...)."""
    data = {"uuid": uuid, "host": host, **{k: v for k, v in fields.items() if v is not None}}
    return {"nova_object.name": "InstanceActionPayload", "nova_object.namespace": "nubis",
            "nova_object.version": PAYLOAD_VERSION, "nova_object.data": data}


def emit(notifier: rpc.Notifier, ctx: RequestContext, event_type: str, uuid: str, host: str | None,
         **fields: Any) -> None:
    """Send ``event_type`` (an ``.error`` event at error priority) about instance ``uuid``."""
    payload = instance_action(uuid, host, **fields)
    if event_type.endswith(".error"):
        notifier.error(ctx, event_type, payload)
    else:
        notifier.info(ctx, event_type, payload)
