"""Volume policy, with Cinder's rule names and its default personas: a project's readers read its volumes and
snapshots, its members change them, admins manage volume types, quotas and every project's volumes.

Targets carry the owning project (``project_id``); ``context_is_admin`` (shared by every service) decides
whether the core shows a caller every project's volumes (``all_tenants``).
"""

from __future__ import annotations

from typing import Any

from oslo_policy import policy

from nubis.common import policy as nubis_policy

ADMIN = "role:admin"
PROJECT_MEMBER = f"({ADMIN}) or (role:member and project_id:%(project_id)s)"
PROJECT_READER = f"({ADMIN}) or (role:reader and project_id:%(project_id)s)"


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(name=name, check_str=check, description=description,
                                        operations=[{"method": method, "path": path}], scope_types=["project"])


_V = "/volumes/{volume_id}"
_S = "/snapshots/{snapshot_id}"
_T = "/types/{type_id}"
_Q = "/qos-specs/{qos_id}"
_B = "/backups/{backup_id}"
_X = "/os-volume-transfer/{transfer_id}"
_GT = "/group_types/{group_type_id}"
_G = "/groups/{group_id}"
_GS = "/group_snapshots/{group_snapshot_id}"
# (rule, check, method, path, what it allows)
_RULES = (
    ("volume:create", PROJECT_MEMBER, "POST", "/volumes", "Create a volume."),
    ("volume:get_all", PROJECT_READER, "GET", "/volumes/detail", "List the project's volumes."),
    ("volume:get", PROJECT_READER, "GET", _V, "Show a volume."),
    ("volume:update", PROJECT_MEMBER, "PUT", _V, "Rename or describe a volume."),
    ("volume:delete", PROJECT_MEMBER, "DELETE", _V, "Delete a volume."),
    ("volume:extend", PROJECT_MEMBER, "POST", _V + "/action (os-extend)", "Extend a volume."),
    ("volume_extension:volume_actions:attach", PROJECT_MEMBER, "POST", _V + "/action (os-attach)",
     "Record a volume as attached (os-reserve, os-attach, os-begin_detaching, os-detach and their undo)."),
    ("volume_extension:volume_actions:initialize_connection", PROJECT_MEMBER, "POST",
     _V + "/action (os-initialize_connection)", "Export a volume for a connector and show its connection_info."),
    ("volume_extension:volume_actions:terminate_connection", PROJECT_MEMBER, "POST",
     _V + "/action (os-terminate_connection)", "Remove a volume's export once nothing connects to it."),
    ("volume_extension:volume_actions:update_readonly_flag", PROJECT_MEMBER, "POST",
     _V + "/action (os-update_readonly_flag)", "Mark a volume read-only or not."),
    ("volume_extension:volume_actions:update_bootable", PROJECT_MEMBER, "POST", _V + "/action (os-set_bootable)",
     "Mark a volume bootable or not."),
    ("volume_extension:volume_admin_actions:reset_status", ADMIN, "POST", _V + "/action (os-reset_status)",
     "Set a volume's status directly."),
    ("volume_extension:volume_admin_actions:force_delete", ADMIN, "POST", _V + "/action (os-force_delete)",
     "Delete a volume whatever its status."),
    ("volume_extension:volume_admin_actions:force_detach", ADMIN, "POST", _V + "/action (os-force_detach)",
     "Remove a volume's attachment whatever its state."),
    ("volume:retype", PROJECT_MEMBER, "POST", _V + "/action (os-retype)", "Change a volume's type."),
    ("volume_extension:volume_image_metadata:show", PROJECT_READER, "POST", _V + "/action (os-show_image_metadata)",
     "Read a volume's image metadata."),
    ("volume_extension:volume_image_metadata:set", PROJECT_MEMBER, "POST", _V + "/action (os-set_image_metadata)",
     "Set items of a volume's image metadata."),
    ("volume_extension:volume_image_metadata:remove", PROJECT_MEMBER, "POST",
     _V + "/action (os-unset_image_metadata)", "Remove an item of a volume's image metadata."),
    ("volume:get_volume_summary", PROJECT_READER, "GET", "/volumes/summary",
     "Count the project's volumes and their size (3.12)."),
    ("volume_extension:volume_actions:upload_image", PROJECT_MEMBER, "POST",
     _V + "/action (os-volume_upload_image)", "Upload a volume's data to a new image."),
    ("volume_extension:volume_actions:upload_public", ADMIN, "POST", _V + "/action (os-volume_upload_image)",
     "Upload a volume to a public image."),
    ("volume:get_volume_metadata", PROJECT_READER, "GET", _V + "/metadata", "Read a volume's metadata."),
    ("volume:update_volume_metadata", PROJECT_MEMBER, "PUT", _V + "/metadata",
     "Set, replace or delete a volume's metadata."),
    ("volume:create_snapshot", PROJECT_MEMBER, "POST", "/snapshots", "Snapshot a volume."),
    ("volume:get_all_snapshots", PROJECT_READER, "GET", "/snapshots/detail", "List the project's snapshots."),
    ("volume:get_snapshot", PROJECT_READER, "GET", _S, "Show a snapshot."),
    ("volume:update_snapshot", PROJECT_MEMBER, "PUT", _S, "Rename or describe a snapshot."),
    ("volume:delete_snapshot", PROJECT_MEMBER, "DELETE", _S, "Delete a snapshot."),
    ("volume_extension:snapshot_admin_actions:reset_status", ADMIN, "POST", _S + "/action (os-reset_status)",
     "Set a snapshot's status directly."),
    ("volume_extension:snapshot_admin_actions:force_delete", ADMIN, "POST", _S + "/action (os-force_delete)",
     "Delete a snapshot whatever its status."),
    ("snapshot_extension:snapshot_actions:update_snapshot_status", PROJECT_MEMBER, "POST",
     _S + "/action (os-update_snapshot_status)", "Report a snapshot's status and progress (a driver's update)."),
    ("volume:get_snapshot_metadata", PROJECT_READER, "GET", _S + "/metadata", "Read a snapshot's metadata."),
    ("volume:update_snapshot_metadata", PROJECT_MEMBER, "PUT", _S + "/metadata",
     "Set or replace a snapshot's metadata."),
    ("volume:delete_snapshot_metadata", PROJECT_MEMBER, "DELETE", _S + "/metadata/{key}",
     "Delete a snapshot's metadata item."),
    ("volume:get_all_transfers", PROJECT_READER, "GET", "/os-volume-transfer",
     "List the project's volume transfers."),
    ("volume:create_transfer", PROJECT_MEMBER, "POST", "/os-volume-transfer",
     "Offer a volume to another project (also /volume-transfers, 3.55)."),
    ("volume:get_transfer", PROJECT_READER, "GET", _X, "Show a volume transfer."),
    ("volume:delete_transfer", PROJECT_MEMBER, "DELETE", _X, "Withdraw a volume transfer."),
    ("volume:accept_transfer", PROJECT_MEMBER, "POST", _X + "/accept",
     "Accept a volume transfer into the caller's project (with its auth_key)."),
    ("backup:create", PROJECT_MEMBER, "POST", "/backups", "Back up a volume."),
    ("backup:get_all", PROJECT_READER, "GET", "/backups/detail", "List the project's backups."),
    ("backup:get", PROJECT_READER, "GET", _B, "Show a backup."),
    ("backup:update", PROJECT_MEMBER, "PUT", _B, "Rename or describe a backup (3.9)."),
    ("backup:delete", PROJECT_MEMBER, "DELETE", _B, "Delete a backup."),
    ("backup:restore", PROJECT_MEMBER, "POST", _B + "/restore", "Restore a backup to a new or existing volume."),
    ("backup:backup-import", ADMIN, "POST", "/backups/import_record", "Import a backup record."),
    ("backup:export-import", ADMIN, "GET", _B + "/export_record", "Export a backup record."),
    ("volume_extension:backup_admin_actions:reset_status", ADMIN, "POST", _B + "/action (os-reset_status)",
     "Set a backup's status directly."),
    ("volume_extension:backup_admin_actions:force_delete", ADMIN, "POST", _B + "/action (os-force_delete)",
     "Delete a backup whatever its status."),
    ("volume_extension:type_get_all", f"({ADMIN}) or role:reader", "GET", "/types", "List volume types."),
    ("volume_extension:type_get", f"({ADMIN}) or role:reader", "GET", _T, "Show a volume type."),
    ("volume_extension:types_manage", ADMIN, "POST", "/types", "Create, change or delete volume types."),
    ("volume_extension:types_extra_specs:index", f"({ADMIN}) or role:reader", "GET", _T + "/extra_specs",
     "Read a volume type's extra specs."),
    ("volume_extension:types_extra_specs:update", ADMIN, "POST", _T + "/extra_specs",
     "Set or delete a volume type's extra specs."),
    ("volume_extension:qos_specs_manage:get_all", ADMIN, "GET", "/qos-specs",
     "List QoS specs (and one's volume type associations)."),
    ("volume_extension:qos_specs_manage:get", ADMIN, "GET", _Q, "Show QoS specs."),
    ("volume_extension:qos_specs_manage:create", ADMIN, "POST", "/qos-specs", "Create QoS specs."),
    ("volume_extension:qos_specs_manage:update", ADMIN, "PUT", _Q,
     "Set QoS specs keys; associate or disassociate volume types."),
    ("volume_extension:qos_specs_manage:delete", ADMIN, "DELETE", _Q, "Delete QoS specs or some of their keys."),
    ("volume_extension:volume_type_access:get_all_for_type", ADMIN, "GET", _T + "/os-volume-type-access",
     "List the projects that may use a private volume type."),
    ("volume_extension:volume_type_access:addProjectAccess", ADMIN, "POST", _T + "/action (addProjectAccess)",
     "Let a project use a private volume type."),
    ("volume_extension:volume_type_access:removeProjectAccess", ADMIN, "POST",
     _T + "/action (removeProjectAccess)", "Take a project's access to a private volume type."),
    ("volume_extension:quotas:show", PROJECT_READER, "GET", "/os-quota-sets/{project_id}",
     "Show a project's quotas (and usage)."),
    ("volume_extension:quotas:update", ADMIN, "PUT", "/os-quota-sets/{project_id}", "Change a project's quotas."),
    ("volume_extension:quotas:delete", ADMIN, "DELETE", "/os-quota-sets/{project_id}",
     "Reset a project's quotas to the defaults."),
    ("limits_extension:used_limits", PROJECT_READER, "GET", "/limits", "Show the project's limits and usage."),
    ("volume_extension:availability_zone_list", f"({ADMIN}) or role:reader", "GET", "/os-availability-zone",
     "List availability zones."),
    ("volume_extension:services:index", ADMIN, "GET", "/os-services", "List the volume services and their state."),
    ("volume_extension:services:update", ADMIN, "PUT", "/os-services/{action}",
     "Enable or disable a volume service (enable, disable, disable-log-reason), freeze or thaw a backend."),
    ("scheduler_extension:scheduler_stats:get_pools", ADMIN, "GET", "/scheduler-stats/get_pools",
     "List the storage pools and their capabilities."),
    ("volume_extension:capabilities", ADMIN, "GET", "/capabilities/{host}", "Show a backend's capabilities."),
    ("volume_extension:quota_classes", ADMIN, "GET", "/os-quota-class-sets/{class_name}",
     "Show or change the default quota class."),
    ("volume:get_all_extensions", f"({ADMIN}) or role:reader", "GET", "/extensions",
     "List the API extensions this service implements."),
    ("volume_extension:hosts", ADMIN, "GET", "/os-hosts", "List the volume hosts and show their usage."),
    ("message:get_all", PROJECT_READER, "GET", "/messages", "List the project's user messages (3.3)."),
    ("message:get", PROJECT_READER, "GET", "/messages/{message_id}", "Show a user message."),
    ("message:delete", PROJECT_MEMBER, "DELETE", "/messages/{message_id}", "Delete a user message."),
    ("volume:attachment_get_all", PROJECT_READER, "GET", "/attachments", "List the project's attachments."),
    ("volume:attachment_create", PROJECT_MEMBER, "POST", "/attachments", "Attach a volume (3.27)."),
    ("volume:attachment_update", PROJECT_MEMBER, "PUT", "/attachments/{attachment_id}",
     "Give an attachment its connector."),
    ("volume:attachment_complete", PROJECT_MEMBER, "POST", "/attachments/{attachment_id}/action (os-complete)",
     "Mark an attachment connected (3.44)."),
    ("volume:attachment_delete", PROJECT_MEMBER, "DELETE", "/attachments/{attachment_id}", "Detach a volume."),
    # Generic volume groups (Cinder's names; Cinder checks no rule to read group types, Nubis names these two).
    ("group:group_types:get_all", f"({ADMIN}) or role:reader", "GET", "/group_types",
     "List group types (3.11; non-admins see the public ones)."),
    ("group:group_types:get", f"({ADMIN}) or role:reader", "GET", _GT, "Show a group type (or the default)."),
    ("group:group_types:create", ADMIN, "POST", "/group_types", "Create a group type."),
    ("group:group_types:update", ADMIN, "PUT", _GT, "Change a group type."),
    ("group:group_types:delete", ADMIN, "DELETE", _GT, "Delete a group type."),
    ("group:access_group_types_specs", ADMIN, "GET", _GT, "See group types' group_specs in their views."),
    ("group:group_types_specs:get", ADMIN, "GET", _GT + "/group_specs/{key}", "Show a group spec."),
    ("group:group_types_specs:get_all", ADMIN, "GET", _GT + "/group_specs", "List a group type's group specs."),
    ("group:group_types_specs:create", ADMIN, "POST", _GT + "/group_specs", "Add or change group specs."),
    ("group:group_types_specs:update", ADMIN, "PUT", _GT + "/group_specs/{key}", "Change a group spec."),
    ("group:group_types_specs:delete", ADMIN, "DELETE", _GT + "/group_specs/{key}", "Delete a group spec."),
    ("group:get_all", PROJECT_READER, "GET", "/groups/detail", "List the project's groups (3.13)."),
    ("group:create", PROJECT_MEMBER, "POST", "/groups",
     "Create a group (3.13), also from a group snapshot or another group (groups/action create-from-src, 3.14)."),
    ("group:get", PROJECT_READER, "GET", _G, "Show a group."),
    ("group:update", PROJECT_MEMBER, "PUT", _G, "Rename a group, add volumes to it or remove them."),
    ("group:delete", PROJECT_MEMBER, "POST", _G + "/action (delete)", "Delete a group (and its volumes)."),
    ("group:reset_status", ADMIN, "POST", _G + "/action (reset_status)", "Set a group's status (3.20)."),
    ("group:group_project_attribute", ADMIN, "GET", _G, "See a group's project_id (3.58)."),
    ("group:get_all_group_snapshots", PROJECT_READER, "GET", "/group_snapshots/detail",
     "List the project's group snapshots (3.14)."),
    ("group:create_group_snapshot", PROJECT_MEMBER, "POST", "/group_snapshots", "Snapshot a group's volumes."),
    ("group:get_group_snapshot", PROJECT_READER, "GET", _GS, "Show a group snapshot."),
    ("group:delete_group_snapshot", PROJECT_MEMBER, "DELETE", _GS, "Delete a group snapshot and its snapshots."),
    ("group:reset_group_snapshot_status", ADMIN, "POST", _GS + "/action (reset_status)",
     "Set a group snapshot's status (3.19)."),
    ("group:group_snapshot_project_attribute", ADMIN, "GET", _GS, "See a group snapshot's project_id (3.58)."),
)

RULES = [_rule(*r) for r in _RULES]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
