"""RPC from nubis-metadata to the conductor: the facts of one instance.

The conductor owns the compute database, so the metadata service asks it
rather than reading that database itself.

Topic ``conductor``, namespace ``metadata``, version history:
  1.0 - instance_facts
  1.1 - instance_password, set_instance_password: the guest's encrypted admin password
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import oslo_messaging

from nubis.common import exceptions, rpc
from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.compute.conductor.rpcapi import TOPIC
from nubis.compute.core.server_passwords import ServerPasswords
from nubis.compute.db import models
from nubis.compute.metadata import InstanceFacts

NAMESPACE = "metadata"
_REFUSALS: dict[str, type[exceptions.NubisError]] = {
    e.__name__: e for e in (exceptions.NotFound, exceptions.BadRequest, exceptions.Conflict)}


class ConductorMetadataAPI(rpc.RPCClient):
    """What the metadata service asks the conductor."""

    TOPIC = TOPIC
    VERSION = "1.1"
    UPGRADE_LEVEL = "conductor_metadata"  # its own version history (namespace metadata)
    SINCE: ClassVar[dict[str, str]] = {"instance_password": "1.1", "set_instance_password": "1.1"}

    def instance_facts(self, ctxt: RequestContext, instance_uuid: str) -> InstanceFacts | None:
        """The instance's metadata facts; None when it does not exist or is deleted."""
        facts = self.prepare(version="1.0", namespace=NAMESPACE).call(
            ctxt, "instance_facts", instance_uuid=instance_uuid)
        return InstanceFacts(**facts) if facts is not None else None

    def instance_password(self, ctxt: RequestContext, instance_uuid: str) -> str:
        """The encrypted password the guest posted ("" for none). Raises NotFound; ServiceTooOld before 1.1."""
        self.check_can_send("instance_password")
        password = self.prepare(version="1.1", namespace=NAMESPACE).call(
            ctxt, "instance_password", instance_uuid=instance_uuid)
        if password is None:
            raise exceptions.NotFound(f"Instance {instance_uuid} could not be found.")
        return str(password)

    def set_instance_password(self, ctxt: RequestContext, instance_uuid: str, password: str) -> None:
        """Record the guest's encrypted password once. Raises BadRequest (too long), Conflict (already set),
        NotFound; ServiceTooOld before 1.1."""
        self.check_can_send("set_instance_password")
        refused = self.prepare(version="1.1", namespace=NAMESPACE).call(
            ctxt, "set_instance_password", instance_uuid=instance_uuid, password=password)
        if refused is not None:
            raise _REFUSALS[refused["kind"]](refused["message"])


class ConductorMetadataEndpoint:
    target = oslo_messaging.Target(namespace=NAMESPACE, version="1.1")

    def __init__(self, database: Database) -> None:
        self.database = database
        self.passwords = ServerPasswords(database)

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

    # A guest posting twice is an expected refusal, not a conductor error: the refusal travels as a value
    # (an exception raised here would be logged with a traceback by oslo.messaging's dispatcher).
    def instance_password(self, ctxt: RequestContext, instance_uuid: str) -> str | None:
        try:
            return self.passwords.show(instance_uuid)
        except exceptions.NotFound:
            return None

    def set_instance_password(self, ctxt: RequestContext, instance_uuid: str,
                              password: str) -> dict[str, str] | None:
        try:
            self.passwords.set_once(instance_uuid, password)
        except (exceptions.NotFound, exceptions.BadRequest, exceptions.Conflict) as e:
            return {"kind": type(e).__name__, "message": e.message}
        return None
