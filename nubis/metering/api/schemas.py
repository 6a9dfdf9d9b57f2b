"""Request bodies of the metering API."""

from __future__ import annotations

from nubis.metering.core import meters

CREATE_TARIFF = {
    "type": "object",
    "properties": {
        "tariff": {
            "type": "object",
            "properties": {
                "meter": {"type": "string", "enum": list(meters.METERS)},
                "flavor": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
                "project_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 64},
                "price": {"type": "string", "pattern": r"^[0-9]{1,6}(\.[0-9]{1,8})?$"},
            },
            "required": ["meter", "price"],
            "additionalProperties": False,
        },
    },
    "required": ["tariff"],
    "additionalProperties": False,
}
