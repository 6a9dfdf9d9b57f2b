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
          "Change, upload to, tag or delete an image of the project.", "PATCH", "/v2/images/{image_id}"),
    _rule("deactivate", f"({ADMIN}) or ({OWNER_MEMBER})", "Deactivate an image of the project (Glance's default "
          "under its new defaults: the owner's members may).", "POST", "/v2/images/{image_id}/actions/deactivate"),
    _rule("reactivate", f"({ADMIN}) or ({OWNER_MEMBER})", "Reactivate a deactivated image of the project.",
          "POST", "/v2/images/{image_id}/actions/reactivate"),
    _rule("publicize_image", ADMIN, "Make an image public.", "PATCH", "/v2/images/{image_id}"),
    _rule("communitize_image", f"({ADMIN}) or ({OWNER_MEMBER})", "Make an image community-visible.",
          "PATCH", "/v2/images/{image_id}"),
    _rule("set_owner", ADMIN, "Give an image to another project.", "PATCH", "/v2/images/{image_id}"),
    _rule("manage_members", f"({ADMIN}) or ({OWNER_MEMBER})", "Share an image with projects, or stop sharing it.",
          "POST", "/v2/images/{image_id}/members"),
    _rule("update_member", f"({ADMIN}) or (role:member and project_id:%(member)s)",
          "Accept or reject an image shared with the project.", "PUT", "/v2/images/{image_id}/members/{member_id}"),
]


def _rule_ops(name: str, check: str, description: str,
              operations: list[tuple[str, str]]) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(name=f"image:{name}", check_str=check, description=description,
                                        operations=[{"method": m, "path": p} for m, p in operations],
                                        scope_types=["project"])


# Tasks and the image cache: operators only, as Glance's defaults (tasks_api_access since Wallaby; the cache
# rules since Xena).
RULES += [
    _rule_ops("tasks_api_access", ADMIN, "Use the tasks API: create, list and show tasks.",
              [("GET", "/v2/tasks/{task_id}"), ("GET", "/v2/tasks"), ("POST", "/v2/tasks")]),
    _rule_ops("cache_list", ADMIN, "List the images this API node caches and has queued for caching.",
              [("GET", "/v2/cache")]),
    _rule_ops("cache_image", ADMIN, "Queue an image for caching on this API node.",
              [("PUT", "/v2/cache/{image_id}")]),
    _rule_ops("cache_delete", ADMIN, "Delete images from this API node's cache and/or queue.",
              [("DELETE", "/v2/cache"), ("DELETE", "/v2/cache/{image_id}")]),
]


# The metadata definitions catalog, as Glance's defaults: a cloud admin writes; readers read the public
# namespaces and their own project's private ones (the target: the namespace's owner as ``project_id``
# and its ``visibility``). Rules without a namespace are checked against the caller's own project.
METADEF_READ = f"({ADMIN}) or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))"
_NS = "/v2/metadefs/namespaces/{namespace_name}"
METADEF_RULES = [
    _rule("get_metadef_namespace", METADEF_READ, "Show a namespace.", "GET", _NS),
    _rule("get_metadef_namespaces", f"({ADMIN}) or (role:reader and project_id:%(project_id)s)",
          "List namespaces.", "GET", "/v2/metadefs/namespaces"),
    _rule("modify_metadef_namespace", ADMIN, "Change a namespace.", "PUT", _NS),
    _rule("add_metadef_namespace", ADMIN, "Create a namespace.", "POST", "/v2/metadefs/namespaces"),
    _rule("delete_metadef_namespace", ADMIN, "Delete a namespace, or all its objects, properties or tags.",
          "DELETE", _NS),
    _rule("get_metadef_object", METADEF_READ, "Show an object of a namespace.", "GET",
          _NS + "/objects/{object_name}"),
    _rule("get_metadef_objects", METADEF_READ, "List a namespace's objects.", "GET", _NS + "/objects"),
    _rule("modify_metadef_object", ADMIN, "Change an object of a namespace.", "PUT", _NS + "/objects/{object_name}"),
    _rule("add_metadef_object", ADMIN, "Create an object in a namespace.", "POST", _NS + "/objects"),
    _rule("delete_metadef_object", ADMIN, "Delete an object of a namespace.", "DELETE",
          _NS + "/objects/{object_name}"),
    _rule("list_metadef_resource_types", METADEF_READ, "List resource types.", "GET", "/v2/metadefs/resource_types"),
    _rule("get_metadef_resource_type", METADEF_READ, "List a namespace's resource type associations.", "GET",
          _NS + "/resource_types"),
    _rule("add_metadef_resource_type_association", ADMIN, "Associate a namespace with a resource type.", "POST",
          _NS + "/resource_types"),
    _rule("remove_metadef_resource_type_association", ADMIN, "Remove a namespace's resource type association.",
          "DELETE", _NS + "/resource_types/{name}"),
    _rule("get_metadef_property", METADEF_READ, "Show a property of a namespace.", "GET",
          _NS + "/properties/{property_name}"),
    _rule("get_metadef_properties", METADEF_READ, "List a namespace's properties.", "GET", _NS + "/properties"),
    _rule("modify_metadef_property", ADMIN, "Change a property of a namespace.", "PUT",
          _NS + "/properties/{property_name}"),
    _rule("add_metadef_property", ADMIN, "Create a property in a namespace.", "POST", _NS + "/properties"),
    _rule("remove_metadef_property", ADMIN, "Delete a property of a namespace.", "DELETE",
          _NS + "/properties/{property_name}"),
    _rule("get_metadef_tag", METADEF_READ, "Show a tag of a namespace.", "GET", _NS + "/tags/{tag_name}"),
    _rule("get_metadef_tags", METADEF_READ, "List a namespace's tags.", "GET", _NS + "/tags"),
    _rule("modify_metadef_tag", ADMIN, "Rename a tag of a namespace.", "PUT", _NS + "/tags/{tag_name}"),
    _rule("add_metadef_tag", ADMIN, "Create a tag in a namespace.", "POST", _NS + "/tags/{tag_name}"),
    _rule("add_metadef_tags", ADMIN, "Create several tags in a namespace.", "POST", _NS + "/tags"),
    _rule("delete_metadef_tag", ADMIN, "Delete a tag of a namespace.", "DELETE", _NS + "/tags/{tag_name}"),
    _rule("delete_metadef_tags", ADMIN, "Delete all tags of a namespace.", "DELETE", _NS + "/tags"),
]
RULES += METADEF_RULES


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)


def make(conf: Any) -> nubis_policy.Policy:
    return nubis_policy.Policy(conf, RULES)
