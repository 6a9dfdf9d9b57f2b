"""``nubis-serialproxy`` (see ``nubis.console.service``)."""

from nubis.console.service import SERIAL as SERVICE

__all__ = ["SERVICE"]
