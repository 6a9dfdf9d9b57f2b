"""Resource class and trait names: standard ones from the os-* libraries, custom ones in the DB."""

from __future__ import annotations

import re
from collections.abc import Iterable

import os_resource_classes
import os_traits
import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.placement.db.models import CustomResourceClass, CustomTrait

STANDARD_CLASSES = frozenset(os_resource_classes.STANDARDS)
STANDARD_TRAITS = frozenset(os_traits.get_traits())
CUSTOM_NAME = re.compile(r"^CUSTOM_[A-Z0-9_]+$")


def check_custom_name(name: str, what: str) -> None:
    if not CUSTOM_NAME.match(name) or len(name) > 255:
        raise exceptions.BadRequest(
            f"'{name}' is not a valid custom {what} name: it must start with CUSTOM_ and contain only "
            "upper case letters, digits and underscores.")


def resource_classes(session: orm.Session) -> list[str]:
    custom = session.scalars(sa.select(CustomResourceClass.name).order_by(CustomResourceClass.name))
    return [*os_resource_classes.STANDARDS, *custom]


def resource_class_exists(session: orm.Session, name: str) -> bool:
    return name in STANDARD_CLASSES or session.get(CustomResourceClass, name) is not None


def require_resource_classes(session: orm.Session, names: Iterable[str]) -> None:
    for name in names:
        if not resource_class_exists(session, name):
            raise exceptions.BadRequest(f"Unknown resource class in request: {name}", error_type="placement.undefined_code")


def trait_exists(session: orm.Session, name: str) -> bool:
    return name in STANDARD_TRAITS or session.get(CustomTrait, name) is not None


def require_traits(session: orm.Session, names: Iterable[str]) -> None:
    missing = sorted(n for n in set(names) if not trait_exists(session, n))
    if missing:
        raise exceptions.BadRequest(f"No such trait(s): {', '.join(missing)}", error_type="placement.undefined_code")


def traits(session: orm.Session) -> list[str]:
    custom = session.scalars(sa.select(CustomTrait.name))
    return sorted([*STANDARD_TRAITS, *custom])
