"""Agents: the per-host processes that build the data plane, as the agents API shows them."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common.db import dml, types
from nubis.network.core import common, errors
from nubis.network.db import models

AGENT_TYPE = "Linux bridge agent"
BINARY = "nubis-network-agent"
TOPIC = "network-agent"


class Agents:
    def __init__(self, conf: cfg.ConfigOpts, db: Any) -> None:
        self.conf = conf
        self.db = db

    def view(self, a: models.Agent) -> dict[str, Any]:
        alive = types.utcnow() - a.heartbeat_timestamp < datetime.timedelta(seconds=self.conf.network.agent_down_time)
        return {"id": a.id, "agent_type": a.agent_type, "binary": a.binary, "topic": a.topic, "host": a.host,
                "admin_state_up": a.admin_state_up, "alive": alive, "description": a.description,
                "availability_zone": a.availability_zone, "configurations": a.configurations,
                "created_at": common.fmt_time(a.created_at), "started_at": common.fmt_time(a.started_at),
                "heartbeat_timestamp": common.fmt_time(a.heartbeat_timestamp), "resources_synced": None}

    def list(self) -> list[dict[str, Any]]:
        """Every agent (whoever Neutron's ``get_agent`` policy hides them from the handler shows none)."""
        with self.db.reader() as s:
            return [self.view(a) for a in s.scalars(sa.select(models.Agent).order_by(models.Agent.host))]

    def get(self, ident: str) -> dict[str, Any]:
        with self.db.reader() as s:
            agent = s.get(models.Agent, ident)
            if agent is None:
                raise errors.not_found("Agent", ident)
            return self.view(agent)

    def update(self, ident: str, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, "agent")
        common.reject_unknown(attrs, ("admin_state_up", "description"), "agent")
        with self.db.writer() as s:
            agent = s.get(models.Agent, ident)
            if agent is None:
                raise errors.not_found("Agent", ident)
            if "admin_state_up" in attrs:
                agent.admin_state_up = common.as_bool(attrs["admin_state_up"], "admin_state_up")
            if "description" in attrs:
                agent.description = common.as_str(attrs["description"], "description")
            return self.view(agent)

    def delete(self, ident: str) -> None:
        with self.db.writer() as s:
            if not dml.rowcount(s.execute(sa.delete(models.Agent).where(models.Agent.id == ident))):
                raise errors.not_found("Agent", ident)

    def report(self, host: str, configurations: dict[str, Any], starting: bool) -> str:
        """An agent's heartbeat (and registration on its first one); returns its id."""
        now = types.utcnow()
        with self.db.writer() as s:
            agent = s.scalar(sa.select(models.Agent).where(models.Agent.agent_type == AGENT_TYPE,
                                                           models.Agent.host == host))
            if agent is None:
                agent = models.Agent(id=types.new_uuid(), agent_type=AGENT_TYPE, binary=BINARY, topic=TOPIC,
                                     host=host, availability_zone=None, created_at=now, started_at=now)
                s.add(agent)
            if starting:
                agent.started_at = now
            agent.heartbeat_timestamp = now
            agent.configurations = configurations
            s.flush()
            return agent.id
