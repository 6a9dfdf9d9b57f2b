"""What the compute API asks of a running guest and waits for: its diagnostics and a new admin password.

API reference: compute "Servers diagnostics" and "Change Administrative Password (changePassword Action)".
Both go to the guest's host over RPC as calls (Nova makes them synchronous too) and answer 409 when the
guest is not in a state, or on a host, that can answer.
"""

from __future__ import annotations

import dataclasses

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.compute import states
from nubis.compute.core.instances import guest_payload
from nubis.compute.core.servers import ServerCore
from nubis.compute.virt.diagnostics import Diagnostics


class GuestOps:
    def __init__(self, servers: ServerCore) -> None:
        self.servers = servers

    def diagnostics(self, ctx: RequestContext, uuid: str) -> Diagnostics:
        """The running guest's diagnostics, uptime counted from its launch (seconds).

        :raises NotFound: no such server for the caller.
        :raises Conflict: the guest is not running, has no host, or its host could not read them.
        """
        inst, _ = self.servers.get(ctx, uuid)
        if not inst.host or inst.power_state != states.RUNNING:
            raise exceptions.Conflict(f"Cannot get the diagnostics of instance {uuid}: it is not running "
                                      f"(vm_state {inst.vm_state}).")
        self.servers.agents.check_can_send("get_diagnostics")
        body = self.servers.agents.get_diagnostics(ctx, inst.host, uuid)
        if "error" in body:
            raise exceptions.Conflict(f"The host {inst.host} could not read the diagnostics of instance {uuid}: "
                                      f"{body['error']}")
        found = Diagnostics.from_dict(body)
        if inst.launched_at is not None and found.uptime is None:  # both naive UTC
            uptime = int((types.utcnow() - inst.launched_at).total_seconds())
            found = dataclasses.replace(found, uptime=max(0, uptime))
        return found

    def change_password(self, ctx: RequestContext, uuid: str, password: str) -> None:
        """Have the guest agent set the admin password; the server shows status PASSWORD meanwhile.

        :raises Conflict: locked, not ACTIVE (or busy), no guest agent in its image, or the agent failed.
        """
        servers = self.servers
        inst, _ = servers.get(ctx, uuid)
        servers._check_lock(ctx, inst)
        if not inst.host:
            raise exceptions.Conflict(f"Cannot 'changePassword' instance {uuid}: it was never placed on a host")
        servers.agents.check_can_send("set_admin_password")
        servers._start(ctx, inst, "changePassword", {"task_state": states.UPDATING_PASSWORD}, (states.ACTIVE,))
        # The image's properties say whether the guest has an agent to set it through (hw_qemu_guest_agent).
        image = None
        if inst.image_ref:
            try:
                image = servers._image(ctx, inst.image_ref)
            except exceptions.NubisError:
                image = None  # deleted since boot: the host decides from what it has
        refused = servers.agents.set_admin_password(ctx, inst.host, guest_payload(inst, image), password)
        if refused is not None:
            raise exceptions.Conflict(f"Unable to set the admin password of instance {uuid}: {refused['message']}")
