"""GET /v2/schemas/*: what the API accepts and returns, as glanceclient validates against it."""

from __future__ import annotations

import copy
from typing import Any

from nubis.image.core import fields, records


def image_schema() -> dict[str, Any]:
    return {
        "name": "image", "properties": copy.deepcopy(fields.PROPERTIES), "additionalProperties": {"type": "string"},
        "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def images_schema() -> dict[str, Any]:
    return {"name": "images", "properties": {
        "images": {"type": "array", "items": image_schema()}, "schema": {"type": "string"},
        "first": {"type": "string"}, "next": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]}


def member_schema() -> dict[str, Any]:
    return {"name": "member", "properties": {
        "created_at": {"type": "string"}, "updated_at": {"type": "string"},
        "image_id": {"type": "string"}, "member_id": {"type": "string"},
        "schema": {"type": "string", "readOnly": True},
        "status": {"type": "string", "enum": ["pending", "accepted", "rejected"]}}}


def members_schema() -> dict[str, Any]:
    return {"name": "members", "properties": {"members": {"type": "array", "items": member_schema()},
                                              "schema": {"type": "string"}},
            "links": [{"rel": "self", "href": "{self}"}, {"rel": "describedby", "href": "{schema}"}]}


# -- tasks (Glance's task schema: the full task, and the stub a listing shows) ---------------------------------

_UUID_PATTERN = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
_TASK_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": _UUID_PATTERN, "description": "An identifier for the task"},
    "type": {"type": "string", "enum": ["import", "api_image_import", "location_import"],
             "description": "The type of task represented by this content"},
    "status": {"type": "string", "enum": ["pending", "processing", "success", "failure"],
               "description": "The current status of this task"},
    "input": {"type": ["null", "object"], "description": "The parameters required by task, JSON blob"},
    "result": {"type": ["null", "object"], "description": "The result of current task, JSON blob"},
    "owner": {"type": "string", "description": "An identifier for the owner of this task"},
    "message": {"type": "string", "description": "Human-readable informative message only included when "
                                                 "appropriate (usually on failure)"},
    "image_id": {"type": "string", "description": "Image associated with the task"},
    "request_id": {"type": "string", "description": "Human-readable informative request-id"},
    "user_id": {"type": "string", "description": "User associated with the task"},
    "expires_at": {"type": ["null", "string"], "description": "Datetime when this resource would be subject to "
                                                               "removal"},
    "created_at": {"type": "string", "description": "Datetime when this resource was created"},
    "updated_at": {"type": "string", "description": "Datetime when this resource was updated"},
    "self": {"type": "string", "readOnly": True},
    "schema": {"type": "string", "readOnly": True},
}


def task_schema() -> dict[str, Any]:
    """``GET /v2/schemas/task``."""
    return {"name": "task", "properties": copy.deepcopy(_TASK_PROPERTIES)}


def tasks_schema() -> dict[str, Any]:
    """``GET /v2/schemas/tasks``: a listing's tasks have no ``input``, ``result`` or ``message``."""
    stub = {k: v for k, v in copy.deepcopy(_TASK_PROPERTIES).items() if k not in ("input", "result", "message")}
    return {"name": "tasks", "properties": {"tasks": {"type": "array", "items": {"name": "task", "properties": stub}},
                                            "schema": {"type": "string"}},
            "links": [{"rel": "describedby", "href": "{schema}"}]}


# POST /v2/tasks: an ``import`` task (the only type Glance creates through the API).
TASK_CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["import"]},
        "input": {
            "type": "object",
            "properties": {
                "import_from": {"type": "string", "minLength": 1, "maxLength": 2048},
                "import_from_format": {"type": "string", "enum": list(records.DISK_FORMATS)},
                "image_properties": {"type": "object"},
            },
            "required": ["import_from", "import_from_format", "image_properties"],
        },
    },
    "required": ["type", "input"],
}
