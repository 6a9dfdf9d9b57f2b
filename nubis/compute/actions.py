"""Server actions that change power state: what each needs, what it sets, where it ends.

Shared by the API (which guards and starts an action) and the agent (which
carries it out and records the end state), so the two can never disagree.
"""

from __future__ import annotations

import dataclasses

from nubis.compute import states


@dataclasses.dataclass(frozen=True)
class PowerAction:
    name: str  # as recorded in os-instance-actions
    allowed_vm_states: tuple[str, ...]
    task_state: str
    driver_method: str
    end_vm_state: str
    end_power_state: int


_ANY_RUNNABLE = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED, states.ERROR)

POWER_ACTIONS: dict[str, PowerAction] = {a.name: a for a in (
    PowerAction("start", (states.STOPPED,), states.POWERING_ON, "power_on", states.ACTIVE, states.RUNNING),
    PowerAction("stop", (states.ACTIVE, states.ERROR), states.POWERING_OFF, "power_off", states.STOPPED,
                states.SHUTDOWN),
    PowerAction("reboot", (states.ACTIVE,), states.REBOOTING, "reboot_soft", states.ACTIVE, states.RUNNING),
    PowerAction("reboot_hard", _ANY_RUNNABLE, states.REBOOTING_HARD, "reboot_hard", states.ACTIVE, states.RUNNING),
    PowerAction("pause", (states.ACTIVE,), states.PAUSING, "pause", states.PAUSED, states.POWER_PAUSED),
    PowerAction("unpause", (states.PAUSED,), states.UNPAUSING, "unpause", states.ACTIVE, states.RUNNING),
    PowerAction("suspend", (states.ACTIVE,), states.SUSPENDING, "suspend", states.SUSPENDED, states.POWER_SUSPENDED),
    PowerAction("resume", (states.SUSPENDED,), states.RESUMING, "resume", states.ACTIVE, states.RUNNING),
)}
