"""Request bodies of the remote console APIs (Nova's remote_consoles schemas, restated)."""

from __future__ import annotations

from nubis.api.microversion import Version
from nubis.compute.api.schemas import Schema, Versioned

_PROTOCOLS = ["vnc", "spice", "rdp", "serial"]
_TYPES = ["novnc", "xvpvnc", "rdp-html5", "spice-html5", "serial"]


def _remote(protocols: list[str], types: list[str]) -> Schema:
    return {"type": "object", "required": ["remote_console"], "additionalProperties": False, "properties": {
        "remote_console": {"type": "object", "required": ["protocol", "type"], "additionalProperties": False,
                           "properties": {"protocol": {"type": "string", "enum": protocols},
                                          "type": {"type": "string", "enum": types}}}}}


# 2.6: one API for every protocol; 2.8 adds mks/webmks (this cloud has no VMware hosts: a clear 400 then).
REMOTE_CONSOLE: Versioned = [
    (Version(2, 6), _remote(_PROTOCOLS, _TYPES)),
    (Version(2, 8), _remote([*_PROTOCOLS, "mks"], [*_TYPES, "webmks"])),
]


def legacy(types: list[str]) -> Schema:
    """The argument of os-getVNCConsole / os-getSPICEConsole / os-getSerialConsole (before 2.6)."""
    return {"type": "object", "required": ["type"], "additionalProperties": False,
            "properties": {"type": {"type": "string", "enum": types}}}


# protocol -> the console types it offers (a type of another protocol is Nova's ConsoleTypeInvalid, 400).
PROTOCOL_TYPES = {"vnc": ("novnc", "xvpvnc"), "spice": ("spice-html5",), "rdp": ("rdp-html5",),
                  "serial": ("serial",), "mks": ("webmks",)}
