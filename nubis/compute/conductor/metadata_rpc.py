"""RPC from nubis-metadata to the conductor: the facts of one instance.

The conductor owns the compute database, so the metadata service asks it
rather than reading that database itself.

Topic ``conductor``, namespace ``metadata``, version history:
  1.0 - instance_facts
"""

from __future__ import annotations

import dataclasses
from typing import Any

import oslo_messaging

from nubis.common import rpc
from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.compute.conductor.rpcapi import TOPIC
from nubis.compute.db import models
from nubis.compute.metadata import InstanceFacts

NAMESPACE = "metadata"


class ConductorMetadataAPI(rpc.RPCClient):
    """What the metadata service asks the conductor."""

    TOPIC = TOPIC
    VERSION = "1.0"
    UPGRADE_LEVEL = "conductor_metadata"  # its own version history (namespace metadata)

    def instance_facts(self, ctxt: RequestContext, instance_uuid: str) -> InstanceFacts | None:
        """The instance's metadata facts; None when it does not exist or is deleted."""
        facts = self.prepare(version="1.0", namespace=NAMESPACE).call(
            ctxt, "instance_facts", instance_uuid=instance_uuid)
        return InstanceFacts(**facts) if facts is not None else None


class ConductorMetadataEndpoint:
    target = oslo_messaging.Target(namespace=NAMESPACE, version="1.0")

    def __init__(self, database: Database) -> None:
        self.database = database

    def instance_facts(self, ctxt: RequestContext, instance_uuid: str) -> dict[str, Any] | None:
        with self.database.reader() as s:
            inst = s.get(models.Instance, instance_uuid)
            if inst is None or inst.deleted:
                return None
            return dataclasses.asdict(InstanceFacts(
                uuid=inst.uuid, name=inst.name, project_id=inst.project_id,
                availability_zone=inst.availability_zone, metadata=dict(inst.metadata_items or {}),
                key_name=inst.key_name, key_data=inst.key_data, user_data=inst.user_data,
                flavor_name=(inst.flavor or {}).get("name", "")))
