"""Errors the scheduler sends back over RPC (module listed in the allowed remote exception modules)."""

from __future__ import annotations

from nubis.common.exceptions import NubisError


class NoValidHost(NubisError):
    """No host can take the request; the message explains, per reason, how many hosts it removed."""

    code = 400
    title = "No valid host"
