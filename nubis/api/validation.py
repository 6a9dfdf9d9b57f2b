"""JSON Schema validation of request bodies and query strings.

A failure names the offending field and what was wrong with it, in the words
compute's API uses ("Invalid input for field/attribute name. ...").
"""

from __future__ import annotations

import json
import threading
from typing import Any

import jsonschema
from jsonschema import validators

from nubis.common import exceptions

# Schemas are module-level constants, so a validator is built once per schema.
# The schema object is kept beside its validator so its id cannot be reused.
_VALIDATORS: dict[int, tuple[dict[str, Any], Any]] = {}
_LOCK = threading.Lock()


def _validator_for(schema: dict[str, Any]) -> Any:
    entry = _VALIDATORS.get(id(schema))
    if entry is None or entry[0] is not schema:
        cls = validators.validator_for(schema, default=jsonschema.Draft7Validator)
        cls.check_schema(schema)
        with _LOCK:
            entry = _VALIDATORS[id(schema)] = (schema, cls(schema, format_checker=jsonschema.FormatChecker()))
    return entry[1]


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """Raise ``BadRequest`` naming the first (deepest) problem in ``instance``."""
    validator = _validator_for(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is None:
        return
    field = "/".join(str(p) for p in error.absolute_path) or "request body"
    if error.validator in ("additionalProperties", "required"):
        raise exceptions.BadRequest(f"Invalid input for field/attribute {field}. {error.message}")
    value = json.dumps(error.instance, default=str)
    if len(value) > 200:
        value = value[:200] + "..."
    raise exceptions.BadRequest(
        f"Invalid input for field/attribute {field}. Value: {value}. {error.message}"
    )
