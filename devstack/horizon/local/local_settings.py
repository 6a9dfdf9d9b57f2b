"""Horizon's local settings for a Nubis cloud (Horizon unchanged, only configured).

Horizon's settings module runs ``from local.local_settings import *`` with its own directory last on
sys.path, so this package, on the WSGI server's Python path ahead of it, is the one taken. Everything
that differs per cloud comes from the environment devstack/stack.sh starts the server with:

NUBIS_HORIZON_KEYSTONE_URL  the identity v3 endpoint (http://HOST:PORT/v3)
NUBIS_HORIZON_SECRET_KEY    Django's secret key (kept in the stack's secrets)
NUBIS_HORIZON_MEMCACHED     host:port of memcached, for Horizon's sessions and cache
NUBIS_HORIZON_STATIC_ROOT   where collectstatic and compress put the static files (in Horizon's venv)
NUBIS_HORIZON_CONSOLE_TYPE  the instance console tab's kind: AUTO (VNC first), VNC, SPICE or SERIAL
"""

import os

DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = os.environ.get("NUBIS_HORIZON_SECRET_KEY") or None

OPENSTACK_KEYSTONE_URL = os.environ.get("NUBIS_HORIZON_KEYSTONE_URL", "http://127.0.0.1:5000/v3")
OPENSTACK_API_VERSIONS = {"identity": 3}
OPENSTACK_KEYSTONE_MULTIDOMAIN_SUPPORT = False
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = "Default"
OPENSTACK_KEYSTONE_DEFAULT_ROLE = "member"
OPENSTACK_ENDPOINT_TYPE = "publicURL"
CONSOLE_TYPE = os.environ.get("NUBIS_HORIZON_CONSOLE_TYPE", "AUTO")
# Compute does not attach volumes yet: instances boot from their image, not from a new volume.
LAUNCH_INSTANCE_DEFAULTS = {"create_volume": False}

# Sessions live in the cache, and the cache is memcached: every worker sees every session.
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": os.environ.get("NUBIS_HORIZON_MEMCACHED", "127.0.0.1:11211"),
        # Two stacks on one host share memcached; their sessions must not.
        "KEY_PREFIX": os.environ.get("NUBIS_HORIZON_CACHE_PREFIX", "horizon"),
    },
}

# Compressed once when Horizon is installed; WhiteNoise serves them (nubis_horizon_wsgi).
STATIC_ROOT = os.environ.get("NUBIS_HORIZON_STATIC_ROOT") or None
COMPRESS_OFFLINE = True

# The Console tab embeds Horizon's own serial console page in a frame; Django's default (DENY) blanks it.
X_FRAME_OPTIONS = "SAMEORIGIN"

# Plain HTTP on loopback in a devstack: the cookies cannot ask for TLS.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

OPENSTACK_NEUTRON_NETWORK = {
    "enable_router": True,
    "enable_quotas": True,
    "enable_distributed_router": False,
    "enable_ha_router": False,
    "enable_fip_topology_check": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Every request with its status, so a 500 is in the log.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "horizon": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "openstack_dashboard": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "openstack_auth": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
