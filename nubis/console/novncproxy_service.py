"""``nubis-novncproxy`` (see ``nubis.console.service``)."""

from nubis.console.service import NOVNC as SERVICE

__all__ = ["SERVICE"]
