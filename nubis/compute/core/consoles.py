"""Remote consoles: issue a token bound to a guest's console endpoint, and check one for a proxy.

Nova's model (``nova.objects.ConsoleAuthToken``): the token is random, only its SHA-256 is stored, and it
names the host and port a proxy may connect to, so a proxy needs nothing but the token to reach exactly
that console. Tokens expire after ``[console] token_ttl`` seconds and are dropped with their server when it
is deleted or moves (``instances.revoke_console_tokens``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import time
import urllib.parse
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common import exceptions, rpc
from nubis.common.context import RequestContext
from nubis.common.db import dml
from nubis.common.db.engine import Database
from nubis.compute import states
from nubis.compute.db.models import ConsoleAuthToken

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ConsoleType:
    """One console type of the API: its protocol, the driver's kind, and how its access URL carries the token."""

    name: str  # novnc | spice-html5 | serial
    protocol: str  # vnc | spice | serial
    kind: str  # what the driver is asked for (virt.driver.CONSOLE_KINDS)
    group: str  # the config group of its switch and base URL
    url_option: str


CONSOLE_TYPES: dict[str, ConsoleType] = {t.name: t for t in (
    ConsoleType("novnc", "vnc", "vnc", "vnc", "novncproxy_base_url"),
    ConsoleType("spice-html5", "spice", "spice", "spice", "html5proxy_base_url"),
    ConsoleType("serial", "serial", "serial", "serial_console", "base_url"),
)}
# Servers in these states have a guest whose console can be reached.
CONSOLE_VM_STATES = (states.ACTIVE, states.PAUSED, states.RESCUED)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_url(base: str, console_type: str, token: str) -> str:
    """The URL a client opens: noVNC (1.0 and later) reads the websocket path from ``path``, the other
    clients the token from ``token`` (Nova's forms)."""
    sep = "&" if "?" in base else "?"
    if console_type == "novnc":
        return f"{base}{sep}path={urllib.parse.quote('?token=' + token, safe='')}"
    return f"{base}{sep}token={urllib.parse.quote(token, safe='')}"


class ConsoleTokens:
    """The token table: issue, check, and drop expired rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def issue(self, instance_uuid: str, compute_host: str, console_type: str, endpoint: dict[str, Any],
              ttl: int, access_url_base: str, ctx: RequestContext | None = None) -> str:
        """Store a new token for ``endpoint`` ({"host", "port", "internal_access_path"}); returns the token."""
        token = secrets.token_urlsafe(32)
        now = int(time.time())
        with self.db.writer() as s:
            s.execute(sa.delete(ConsoleAuthToken).where(ConsoleAuthToken.expires < now))
            s.add(ConsoleAuthToken(token_hash=token_hash(token), console_type=console_type, host=endpoint["host"],
                                   port=int(endpoint["port"]), internal_access_path=endpoint.get("internal_access_path"),
                                   instance_uuid=instance_uuid, compute_host=compute_host,
                                   access_url_base=access_url_base, expires=now + ttl,
                                   user_id=ctx.user_id if ctx else None, project_id=ctx.project_id if ctx else None))
        return token

    def check(self, token: str, consume: bool = False) -> dict[str, Any] | None:
        """The connection a valid, unexpired token grants, or None: {"instance_uuid", "console_type", "host",
        "port", "internal_access_path", "access_url_base", "expires", "user_id", "project_id"}.

        With ``consume`` the token is deleted in the same transaction: of two uses racing, one wins.
        """
        if not isinstance(token, str) or not 0 < len(token) <= 255:
            return None
        with (self.db.writer() if consume else self.db.reader()) as s:
            row = s.scalar(sa.select(ConsoleAuthToken).where(ConsoleAuthToken.token_hash == token_hash(token),
                                                            ConsoleAuthToken.expires >= int(time.time())))
            if row is None:
                return None
            if consume and not dml.rowcount(s.execute(sa.delete(ConsoleAuthToken).where(
                    ConsoleAuthToken.id == row.id))):
                return None
            return {"instance_uuid": row.instance_uuid, "console_type": row.console_type, "host": row.host,
                    "port": row.port, "internal_access_path": row.internal_access_path,
                    "access_url_base": row.access_url_base, "expires": row.expires, "user_id": row.user_id,
                    "project_id": row.project_id}


class Consoles:
    """The API's side: a console URL for a server, and an admin's look at a token."""

    def __init__(self, conf: cfg.ConfigOpts, db: Database, servers: Any) -> None:
        self.conf = conf
        self.tokens = ConsoleTokens(db)
        self.servers = servers  # ServerCore: the caller's view of a server, and the agents

    def get_console(self, ctx: RequestContext, uuid: str, console_type: str) -> str:
        """The access URL of a new token for ``uuid``'s ``console_type`` console.

        :raises NotFound: no such server (for this caller).
        :raises BadRequest: the type is unknown or not enabled on this cloud (Nova: ConsoleTypeUnavailable).
        :raises Conflict: the server has no running guest (not ACTIVE, PAUSED or RESCUE).
        """
        inst, _ = self.servers.get(ctx, uuid)
        kind = CONSOLE_TYPES.get(console_type)
        if kind is None:
            raise exceptions.BadRequest(f"Invalid console type {console_type}")
        group = self.conf[kind.group]
        if not group.enabled:
            raise exceptions.BadRequest(f"Unavailable console type {console_type}.")
        if inst.vm_state not in CONSOLE_VM_STATES or not inst.host or inst.task_state in (
                states.DELETING, states.MIGRATING, states.RESIZE_MIGRATING):
            raise exceptions.Conflict(f"Instance {uuid} is not ready (vm_state {inst.vm_state}, task_state "
                                      f"{inst.task_state}): a console needs an ACTIVE, PAUSED or RESCUE server.")
        try:
            endpoint = self.servers.agents.get_console(ctx, inst.host, uuid, kind.kind)
        except Exception as exc:  # noqa: BLE001 - a remote ConsoleUnavailable is the caller's 400
            if "ConsoleUnavailable" in (type(exc).__name__, getattr(exc, "exc_type", "")) or \
                    type(exc).__name__.startswith("ConsoleUnavailable"):
                raise exceptions.BadRequest(f"Unavailable console type {console_type}.") from None
            raise exceptions.Conflict(f"The console of instance {uuid} cannot be reached on host {inst.host}: "
                                      f"{rpc.error_message(exc)}") from None
        base = group[kind.url_option]
        token = self.tokens.issue(uuid, inst.host, console_type, endpoint, self.conf.console.token_ttl, base, ctx)
        LOG.info("%s console token issued for instance %s to user %s (project %s)", console_type, uuid,
                 ctx.user_id, ctx.project_id)
        return access_url(base, console_type, token)

    def show_token(self, token: str) -> dict[str, Any]:
        """What a token grants (os-console-auth-tokens); 404 when it is unknown or expired."""
        found = self.tokens.check(token)
        if found is None:
            raise exceptions.NotFound("The token is invalid or has expired.")
        return found
