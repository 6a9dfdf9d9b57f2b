"""Instance states as the Compute API shows them.

``vm_state`` is where an instance rests, ``task_state`` what is being done to
it (None when nothing), ``power_state`` what the hypervisor last reported.
The API's ``status`` is derived from the first two, as the reference defines.
"""

from __future__ import annotations

# vm_state
BUILDING = "building"
ACTIVE = "active"
STOPPED = "stopped"
PAUSED = "paused"
SUSPENDED = "suspended"
RESIZED = "resized"
RESCUED = "rescued"  # booted from a rescue image, its own disk attached second
SHELVED_OFFLOADED = "shelved_offloaded"  # disk saved as an image, no host, no resources held
ERROR = "error"
DELETED = "deleted"

# task_state
SCHEDULING = "scheduling"
SPAWNING = "spawning"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBOOTING = "rebooting"
REBOOTING_HARD = "rebooting_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
DELETING = "deleting"
REBUILDING = "rebuilding"
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_REVERTING = "resize_reverting"
MIGRATING = "migrating"  # live migration
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_BACKUP = "image_backup"
SHELVING = "shelving"
UNSHELVING = "unshelving"
RESCUING = "rescuing"
UNRESCUING = "unrescuing"
UPDATING_PASSWORD = "updating_password"  # changePassword, while the guest agent sets it

# power_state (numbers as the API reports them)
NOSTATE = 0
RUNNING = 1
POWER_PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
POWER_SUSPENDED = 7

_STATUS = {BUILDING: "BUILD", ACTIVE: "ACTIVE", STOPPED: "SHUTOFF", PAUSED: "PAUSED", SUSPENDED: "SUSPENDED", RESCUED: "RESCUE",
           SHELVED_OFFLOADED: "SHELVED_OFFLOADED",
           RESIZED: "VERIFY_RESIZE", ERROR: "ERROR", DELETED: "DELETED"}
_TASK_STATUS = {REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT", REBUILDING: "REBUILD",
                RESIZE_PREP: "RESIZE", RESIZE_MIGRATING: "RESIZE", RESIZE_REVERTING: "REVERT_RESIZE",
                MIGRATING: "MIGRATING", UPDATING_PASSWORD: "PASSWORD"}


def status(vm_state: str, task_state: str | None) -> str:
    if task_state in _TASK_STATUS and vm_state in (ACTIVE, STOPPED, ERROR, RESIZED):
        return _TASK_STATUS[task_state]
    return _STATUS.get(vm_state, "UNKNOWN")
