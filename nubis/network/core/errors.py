"""Networking errors, named as the Networking v2.0 API names them.

Clients read ``NeutronError.type`` (openstacksdk, Terraform, Heat), so each
error raised here carries the reference's type name; the message says what
to change.
"""

from __future__ import annotations

from nubis.common import exceptions


def not_found(kind: str, ident: str) -> exceptions.NotFound:
    """``NetworkNotFound`` and friends: ``kind`` is the resource's type name ("Network", "SecurityGroup")."""
    words = "".join(f" {c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(kind)).strip()
    return exceptions.NotFound(f"{words[0].upper()}{words[1:]} {ident} could not be found.", f"{kind}NotFound")


def invalid(message: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"Invalid input for operation: {message}", "InvalidInput")


def conflict(error_type: str, message: str) -> exceptions.Conflict:
    return exceptions.Conflict(message, error_type)


def bad_request(error_type: str, message: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(message, error_type)


def over_quota(resource: str, limit: int) -> exceptions.Conflict:
    return exceptions.Conflict(f"Quota exceeded for resources: ['{resource}']. The project may have {limit}; "
                               f"delete some or ask an admin to raise the quota.", "OverQuota")


def not_authorized(action: str) -> exceptions.Forbidden:
    return exceptions.Forbidden(f"({action}) is disallowed by policy", "PolicyNotAuthorized")
