"""Checks of server-create bodies, with the reference's error wording where clients rely on it."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from nubis.api.microversion import Version
from nubis.common import exceptions

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def _bad(field: str, why: str) -> exceptions.BadRequest:
    return exceptions.BadRequest(f"Invalid input for field/attribute {field}. {why}")


def _string(body: dict[str, Any], field: str, required: bool = False, max_len: int = 255) -> None:
    value = body.get(field)
    if value is None:
        if required:
            raise _bad(field, f"'{field}' is a required property")
        return
    if not isinstance(value, str) or (field == "name" and not value.strip()) or len(value) > max_len:
        raise _bad(field, f"Value must be a non-empty string of at most {max_len} characters.")


def _count(body: dict[str, Any], field: str) -> None:
    value = body.get(field)
    if value is None:
        return
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _bad(field, f"Value {value!r} is not an integer.") from None
    if number < 1:
        raise _bad(field, "Value must be 1 or more.")


def server_create(body: Any, version: Version) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise exceptions.BadRequest("The request body must be {\"server\": {...}}.")
    server: dict[str, Any] = body["server"]
    _string(server, "name", required=True)
    if server.get("flavorRef") in (None, ""):
        raise _bad("flavorRef", "'flavorRef' is a required property")
    _string(server, "key_name")
    _string(server, "availability_zone")
    if version >= Version(2, 19):
        _string(server, "description")
    elif "description" in server:
        raise exceptions.BadRequest("Additional properties are not allowed ('description' was unexpected); "
                                    "it needs microversion 2.19.")
    _count(server, "min_count")
    _count(server, "max_count")
    if server.get("min_count") and server.get("max_count") and int(server["min_count"]) > int(server["max_count"]):
        raise exceptions.BadRequest("min_count must be <= max_count")
    metadata = server.get("metadata", {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255 and len(v) <= 255
            for k, v in metadata.items()):
        raise _bad("metadata", "Metadata must be an object of strings (keys 1-255, values up to 255 characters).")
    user_data = server.get("user_data")
    if user_data is not None:
        try:
            base64.b64decode(user_data, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise _bad("user_data", "User data must be base64 encoded.") from None
        if len(user_data) > 65535:
            raise _bad("user_data", "User data is longer than 65535 bytes.")
    drive = server.get("config_drive")
    if drive is not None and not isinstance(drive, bool) and str(drive).lower() not in ("true", "false", "1", "0",
                                                                                           ""):
        raise _bad("config_drive", f"Value {drive!r} is not a boolean.")
    server["config_drive"] = drive is True or str(drive).lower() in ("true", "1")
    networks = server.get("networks")
    if networks is None and version >= Version(2, 37):
        raise _bad("networks", "'networks' is a required property")
    if networks not in (None, "auto", "none"):
        if not isinstance(networks, list):
            raise _bad("networks", "Use 'auto', 'none' or a list of networks.")
        for item in networks:
            if not isinstance(item, dict) or not ({"uuid", "port"} & set(item)):
                raise _bad("networks", f"Each network needs a 'uuid' or a 'port', not {item!r}.")
            unknown = set(item) - {"uuid", "port", "fixed_ip", "tag"}
            if unknown:
                raise _bad("networks", f"Additional properties are not allowed ({', '.join(sorted(unknown))}).")
    groups = server.get("security_groups")
    if groups is not None and (not isinstance(groups, list)
                               or not all(isinstance(g, dict) and g.get("name") for g in groups)):
        raise _bad("security_groups", "Use a list of {\"name\": ...} objects.")
    for bdm in server.get("block_device_mapping_v2") or []:
        if not isinstance(bdm, dict) or bdm.get("source_type") != "image" or bdm.get("destination_type") != "local":
            raise exceptions.BadRequest("Only image-to-local block device mappings are supported: this cloud has no "
                                        "block storage service.")
        server.setdefault("imageRef", bdm.get("uuid"))
    return server


def scheduler_hints(body: dict[str, Any]) -> dict[str, Any]:
    hints = body.get("os:scheduler_hints", body.get("OS-SCH-HNT:scheduler_hints")) or {}
    if not isinstance(hints, dict):
        raise _bad("os:scheduler_hints", "Scheduler hints must be an object.")
    group = hints.get("group")
    if group is not None and (not isinstance(group, str) or not _UUID.match(group)):
        raise _bad("os:scheduler_hints", f"group {group!r} is not a server group id (a UUID).")
    return hints


def rebuild(arg: Any, version: Version) -> dict[str, Any]:
    if not isinstance(arg, dict) or not arg.get("imageRef"):
        raise _bad("imageRef", "'imageRef' is a required property")
    _string(arg, "name")
    if "description" in arg and version < Version(2, 19):
        raise exceptions.BadRequest("description needs microversion 2.19.")
    metadata = arg.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise _bad("metadata", "Metadata must be an object of strings.")
    return arg
