"""Image policy: owners (members of the owning project) or admins change images; readers only read."""

from __future__ import annotations

from typing import Any

from oslo_policy import policy

from nubis.common import policy as nubis_policy

ADMIN = "role:admin"
OWNER_MEMBER = "role:member and project_id:%(owner)s"
READER = "role:reader"


def _rule(name: str, check: str, description: str, method: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(name=f"image:{name}", check_str=check, description=description,
                                        operations=[{"method": method, "path": path}],
                                        scope_types=["project"])


RULES = [
    _rule("get_image_tasks", f"({ADMIN}) or ({READER})", "List the import tasks of an image visible to the project.",
          "GET", "/v2/images/{image_id}/tasks"),
    _rule("get_images", f"({ADMIN}) or ({READER})", "List and show images visible to the project.",
          "GET", "/v2/images"),
    _rule("add_image", f"({ADMIN}) or (role:member and project_id:%(project_id)s)", "Create an image.",
          "POST", "/v2/images"),
    _rule("modify_image", f"({ADMIN}) or ({OWNER_MEMBER})",
          "Change, upload to, tag, (de)activate or delete an image of the project.", "PATCH", "/v2/images/{image_id}"),
    _rule("publicize_image", ADMIN, "Make an image public.", "PATCH", "/v2/images/{image_id}"),
    _rule("communitize_image", f"({ADMIN}) or ({OWNER_MEMBER})", "Make an image community-visible.",
          "PATCH", "/v2/images/{image_id}"),
    _rule("set_owner", ADMIN, "Give an image to another project.", "PATCH", "/v2/images/{image_id}"),
    _rule("manage_members", f"({ADMIN}) or ({OWNER_MEMBER})", "Share an image with projects, or stop sharing it.",
          "POST", "/v2/images/{image_id}/members"),
    _rule("update_member", f"({ADMIN}) or (role:member and project_id:%(member)s)",
          "Accept or reject an image shared with the project.", "PUT", "/v2/images/{image_id}/members/{member_id}"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
