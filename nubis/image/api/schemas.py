"""GET /v2/schemas/*: what the API accepts and returns, as glanceclient validates against it."""

from __future__ import annotations

import copy
from typing import Any

from nubis.image.core import fields


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
