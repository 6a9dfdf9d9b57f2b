"""Servers' admin passwords as the compute API hands them out (Nova's ``adminPass``)."""

from __future__ import annotations

import secrets
from typing import Any

from nubis.api import router
from nubis.compute.api.common import core

# Letters and digits without the look-alikes (0/O, 1/l/I), as Nova's generated passwords avoid them.
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def generate(length: int) -> str:
    """A random password of ``length`` characters from a cryptographic source."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def admin_pass(req: router.Request, arg: dict[str, Any] | None) -> str | None:
    """The password to return for a create/rebuild/evacuate: ``adminPass`` if the body gave one, else generated.

    None when ``[api] enable_instance_password`` is false: Nova then leaves ``adminPass`` out of the response.
    """
    conf = core(req).conf
    if not conf.api.enable_instance_password:
        return None
    given = (arg or {}).get("adminPass")
    return given if isinstance(given, str) and given else generate(conf.password_length)
