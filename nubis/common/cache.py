"""Caching through oslo.cache: memcached in deployments, process memory in the all-in-one."""

from __future__ import annotations

from dogpile.cache import region as dogpile_region
from oslo_cache import core as oslo_cache
from oslo_config import cfg

MEMORY_BACKEND = "oslo_cache.dict"
MEMCACHE_BACKEND = "dogpile.cache.pymemcache"


def register_opts(conf: cfg.ConfigOpts) -> None:
    oslo_cache.configure(conf)
    # Zero config must still cache (the all-in-one): memory unless told otherwise.
    conf.set_default("enabled", True, group="cache")
    conf.set_default("backend", MEMORY_BACKEND, group="cache")


# Attempts per cache call with memcached: a killed server first fails the pooled connection, then refuses the
# reconnect (pymemcache's hash client then marks it failed), and the third attempt reads that as a miss.
MEMCACHE_ATTEMPTS = 3


def make_region(conf: cfg.ConfigOpts, name: str, expiration_time: int | None = None) -> dogpile_region.CacheRegion:
    """A configured cache region; every write path must invalidate what it changes.

    With memcached, a dead server in ``[cache] memcache_servers`` is a cache miss, not a failed request:
    pymemcache's retrying client is on unless ``[cache] enable_retry_client``/``retry_attempts`` say otherwise
    (oslo.cache leaves it off, so one killed memcached failed the requests whose keys it held).
    """
    if conf.cache.backend == MEMCACHE_BACKEND:
        conf.set_default("enable_retry_client", True, group="cache")
        conf.set_default("retry_attempts", MEMCACHE_ATTEMPTS, group="cache")
    region = oslo_cache.create_region()
    region.name = name
    oslo_cache.configure_cache_region(conf, region)
    if expiration_time is not None:
        region.expiration_time = expiration_time
    return region
