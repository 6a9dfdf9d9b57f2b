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


def make_region(conf: cfg.ConfigOpts, name: str, expiration_time: int | None = None) -> dogpile_region.CacheRegion:
    """A configured cache region; every write path must invalidate what it changes."""
    region = oslo_cache.create_region()
    region.name = name
    oslo_cache.configure_cache_region(conf, region)
    if expiration_time is not None:
        region.expiration_time = expiration_time
    return region
