"""``nubis-spicehtml5proxy`` (see ``nubis.console.service``)."""

from nubis.console.service import SPICE as SERVICE

__all__ = ["SERVICE"]
