"""The metadata definitions catalog's JSON schemas: what ``/v2/schemas/metadefs/*`` publish, and what the
handlers validate request bodies against (the same documents, so a client that checks against the
published schema is never refused for a field it passed)."""

from __future__ import annotations

import copy
from typing import Any

NAME_LENGTH = 80
_TEXT: dict[str, Any] = {"type": "string"}
_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH}
_TIME: dict[str, Any] = {"type": "string", "readOnly": True, "format": "date-time"}
_READ_ONLY: dict[str, Any] = {"type": "string", "readOnly": True}
_TYPES = ["array", "boolean", "integer", "number", "object", "string", None]

DEFINITIONS: dict[str, Any] = {
    "positiveInteger": {"type": "integer", "minimum": 0},
    "positiveIntegerDefault0": {"allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}]},
    "stringArray": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "property": {"type": "object", "additionalProperties": {"$ref": "#/definitions/propertyDefinition"}},
    # One property: a JSON schema for one metadata key, as Glance's catalog describes them.
    "propertyDefinition": {
        "type": "object", "required": ["title", "type"], "additionalProperties": False, "properties": {
            "name": _NAME, "title": _TEXT, "description": _TEXT,
            "operators": {"type": "array", "items": _TEXT},
            "type": {"type": ["string", "null"], "enum": _TYPES},
            "required": {"$ref": "#/definitions/stringArray"},
            "minimum": {"type": "number"}, "maximum": {"type": "number"},
            "maxLength": {"$ref": "#/definitions/positiveInteger"},
            "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
            "pattern": {"type": "string", "format": "regex"}, "enum": {"type": "array"},
            "readonly": {"type": "boolean"}, "confidential": {"type": "boolean"}, "default": {},
            "items": {"type": "object", "properties": {"type": {"type": ["string", "null"], "enum": _TYPES},
                                                       "enum": {"type": "array"}}},
            "maxItems": {"$ref": "#/definitions/positiveInteger"},
            "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
            "uniqueItems": {"type": "boolean", "default": False}, "additionalItems": {"type": "boolean"}}},
}

_ASSOCIATION_FIELDS: dict[str, Any] = {
    "name": _NAME, "prefix": {"type": "string", "maxLength": NAME_LENGTH},
    "properties_target": {"type": "string", "maxLength": NAME_LENGTH}, "created_at": _TIME, "updated_at": _TIME}
_OBJECT_FIELDS: dict[str, Any] = {
    "name": _NAME, "description": _TEXT, "required": {"$ref": "#/definitions/stringArray"},
    "properties": {"$ref": "#/definitions/property"}, "created_at": _TIME, "updated_at": _TIME,
    "schema": _READ_ONLY, "self": _READ_ONLY}
_TAG_FIELDS: dict[str, Any] = {"name": _NAME, "created_at": _TIME, "updated_at": _TIME}
_NAMESPACE_FIELDS: dict[str, Any] = {
    "namespace": _NAME, "display_name": {"type": "string", "maxLength": NAME_LENGTH},
    "description": {"type": "string", "maxLength": 500},
    "visibility": {"type": "string", "enum": ["public", "private"]}, "protected": {"type": "boolean"},
    "owner": {"type": "string", "minLength": 1, "maxLength": 255}, "created_at": _TIME, "updated_at": _TIME,
    "schema": _READ_ONLY, "self": _READ_ONLY,
    "resource_type_associations": {"type": "array", "items": {
        "type": "object", "required": ["name"], "additionalProperties": False, "properties": _ASSOCIATION_FIELDS}},
    "properties": {"$ref": "#/definitions/property"},
    "objects": {"type": "array", "items": {
        "type": "object", "required": ["name"], "additionalProperties": False, "properties": _OBJECT_FIELDS}},
    "tags": {"type": "array", "items": {
        "type": "object", "required": ["name"], "additionalProperties": False, "properties": _TAG_FIELDS}},
}


def _document(name: str, fields: dict[str, Any], required: list[str], links: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name, "type": "object", "properties": copy.deepcopy(fields),
                           "required": required, "additionalProperties": False,
                           "definitions": copy.deepcopy(DEFINITIONS)}
    if links:
        doc["links"] = [{"rel": "self", "href": "{self}"}, {"rel": "describedby", "href": "{schema}"}]
    return doc


# What the handlers validate bodies against (module-level: the validator is built once).
NAMESPACE = _document("namespace", _NAMESPACE_FIELDS, ["namespace"])
OBJECT = _document("object", _OBJECT_FIELDS, ["name"])
PROPERTY = {**copy.deepcopy(DEFINITIONS["propertyDefinition"]), "name": "property",
            "required": ["type", "title", "name"], "definitions": copy.deepcopy(DEFINITIONS)}
TAG = _document("tag", _TAG_FIELDS, ["name"])
TAGS = {"type": "object", "required": ["tags"], "additionalProperties": False, "properties": {
    "tags": {"type": "array", "items": {"type": "object", "required": ["name"], "additionalProperties": False,
                                        "properties": _TAG_FIELDS}}}}
ASSOCIATION = _document("resource_type_association", _ASSOCIATION_FIELDS, ["name"])


def _collection(name: str, item: dict[str, Any]) -> dict[str, Any]:
    item = copy.deepcopy(item)
    definitions = item.pop("definitions", None)
    doc: dict[str, Any] = {
        "name": name, "properties": {name: {"type": "array", "items": item}, "first": _TEXT, "next": _TEXT,
                                     "schema": _TEXT},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]}
    if definitions:
        doc["definitions"] = definitions
    return doc


def namespace_schema() -> dict[str, Any]:
    """``GET /v2/schemas/metadefs/namespace``."""
    return _document("namespace", _NAMESPACE_FIELDS, ["namespace"], links=True)


def namespaces_schema() -> dict[str, Any]:
    return _collection("namespaces", namespace_schema())


def object_schema() -> dict[str, Any]:
    return _document("object", _OBJECT_FIELDS, ["name"], links=True)


def objects_schema() -> dict[str, Any]:
    return _collection("objects", object_schema())


def property_schema() -> dict[str, Any]:
    return copy.deepcopy(PROPERTY)


def properties_schema() -> dict[str, Any]:
    item = property_schema()
    definitions = item.pop("definitions")
    item["required"] = ["type", "title"]
    return {"name": "properties", "definitions": definitions,
            "properties": {"properties": {"type": "object", "additionalProperties": item}, "first": _TEXT,
                           "next": _TEXT, "schema": _TEXT},
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                      {"rel": "describedby", "href": "{schema}"}]}


def tag_schema() -> dict[str, Any]:
    doc = _document("tag", _TAG_FIELDS, ["name"])
    del doc["definitions"]
    return doc


def tags_schema() -> dict[str, Any]:
    return _collection("tags", tag_schema())


def resource_type_schema() -> dict[str, Any]:
    """``GET /v2/schemas/metadefs/resource_type``: a namespace's association with a resource type."""
    doc = _document("resource_type_association", _ASSOCIATION_FIELDS, ["name"])
    del doc["definitions"]
    return doc


def resource_types_schema() -> dict[str, Any]:
    return _collection("resource_type_associations", resource_type_schema())
