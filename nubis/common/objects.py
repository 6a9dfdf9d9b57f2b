"""Versioned RPC payloads: oslo.versionedobjects with one backport rule.

An object that crosses services states its ``VERSION`` and, for every field added after
1.0, the version that added it (``FIELDS_SINCE``). Sending to an older service,
``obj_to_primitive(target_version=...)`` drops the fields that version does not know
(``obj_make_compatible``); receiving an older primitive leaves them unset, and the object's
``obj_get`` gives their default. A field may only be added (with a minor bump) or, in a new
major version, removed: never renamed or retyped in place.
"""

from __future__ import annotations

from typing import Any, ClassVar

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from nubis.common import upgrade_levels


class NubisObjectRegistry(ovo_base.VersionedObjectRegistry):
    """The registry of Nubis's payload classes (separate from other projects' objects)."""


class NubisObject(ovo_base.VersionedObject):
    """Base of Nubis's versioned payloads (namespace ``nubis``)."""

    OBJ_PROJECT_NAMESPACE = "nubis"
    OBJ_SERIAL_NAMESPACE = "nubis_object"
    # field name -> the object version that added it (fields absent here are in 1.0)
    FIELDS_SINCE: ClassVar[dict[str, str]] = {}

    def obj_make_compatible(self, primitive: dict[str, Any], target_version: str) -> None:
        """Drop from ``primitive`` the fields ``target_version`` does not know (then children as OVO does)."""
        super().obj_make_compatible(primitive, target_version)
        target = upgrade_levels.version_tuple(target_version)
        for name, since in self.FIELDS_SINCE.items():
            if target < upgrade_levels.version_tuple(since):
                primitive.pop(name, None)

    def obj_get(self, name: str, default: Any = None) -> Any:
        """The field's value, or ``default`` when it is unset (e.g. sent by an older service)."""
        return getattr(self, name) if self.obj_attr_is_set(name) else default


class JSON(fields.FieldType[Any]):
    """Any JSON value (dicts of image properties and extra specs whose values are not all strings)."""

    @staticmethod
    def coerce(obj: Any, attr: str, value: Any) -> Any:
        return value

    def to_primitive(self, obj: Any, attr: str, value: Any) -> Any:
        return value

    def from_primitive(self, obj: Any, attr: str, value: Any) -> Any:
        return value


class JSONField(fields.AutoTypedField[Any]):
    AUTO_TYPE = JSON()


def nullable_string_field() -> fields.StringField:
    """``StringField(nullable=True, default=None)``: oslo.versionedobjects' type hints leave None
    out of a field's ``default`` even for a nullable field, so the None goes through ``Any``."""
    none: Any = None
    return fields.StringField(nullable=True, default=none)
