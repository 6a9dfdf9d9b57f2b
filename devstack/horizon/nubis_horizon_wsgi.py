"""Horizon's own WSGI application, with its compressed static files served by WhiteNoise.

Horizon leaves static files to the web server in front of it; a devstack has none, so the WSGI
server (gunicorn) serves them through WhiteNoise from STATIC_ROOT at STATIC_URL. Apache, which
Horizon is usually behind, merges repeated slashes in paths (MergeSlashes), and Horizon's images
panel asks for one of its templates as ``.../images//actions/...``: the paths are merged here too.
"""

import re

from django.conf import settings
from openstack_dashboard.wsgi import application as _horizon
from whitenoise import WhiteNoise

_SLASHES = re.compile(r"/{2,}")
_static = WhiteNoise(_horizon, root=settings.STATIC_ROOT, prefix=settings.STATIC_URL)


def application(environ, start_response):
    """The WSGI entry point: Horizon behind WhiteNoise, with Apache's slash merging."""
    environ["PATH_INFO"] = _SLASHES.sub("/", environ.get("PATH_INFO", ""))
    return _static(environ, start_response)
