"""The image service as the commands see it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nubis.api import deploy, faults
from nubis.common import periodic
from nubis.common.runtime import Runtime
from nubis.image import conf, db, manage, policies
from nubis.image.api import handlers
from nubis.image.core import tasks
from nubis.image.core.cache import ImageCache
from nubis.image.core.facade import ImageCore
from nubis.image.store import FilesystemStore
from nubis.services import ServiceDefinition, Stoppable


def _is_data_upload(environ: dict[str, Any]) -> bool:
    """Image data is streamed to the store, never held in memory: the JSON body limit does not apply."""
    path = environ.get("PATH_INFO", "")
    return environ.get("REQUEST_METHOD") == "PUT" and (path.endswith("/file") or path.endswith("/stage"))


def _cache(runtime: Runtime, store: FilesystemStore) -> ImageCache:
    """This node's image cache: private files in ``[image] image_cache_dir``, copied from ``store``."""
    c = runtime.conf
    return ImageCache(c, runtime.database("image"), FilesystemStore(conf.image_cache_dir(c), private=True),
                      store.open)


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    c = runtime.conf
    store = FilesystemStore(conf.data_dir(c))
    tasks.mark_started()  # tasks this process recorded before now belong to a previous start
    image_core = ImageCore(c, runtime.database("image"), policies.make(c), store,
                           FilesystemStore(conf.staging_dir(c)), cache=_cache(runtime, store))
    spec = deploy.ApiSpec(name="image", routes=handlers.ROUTES, fault_format=faults.image_fault,
                          body_limit_exempt=_is_data_upload)
    return deploy.build_app(spec, c, image_core)


def start(runtime: Runtime) -> Sequence[Stoppable]:
    """At start-up, end as failures the tasks a previous run of this host left unfinished; then the periodic
    work: the cache prefetcher's round (``[image] image_cache_prefetcher_interval``, first at once) and the
    hourly deletion of expired tasks."""
    c = runtime.conf
    records = tasks.TaskRecords(c, runtime.database("image"))
    records.end_interrupted()
    cache = _cache(runtime, FilesystemStore(conf.data_dir(c)))
    return [periodic.PeriodicTasks("image-periodic")
            .add("image_cache_prefetch", c.image.image_cache_prefetcher_interval, cache.run_round,
                 run_immediately=True)
            .add("image_tasks_purge", 3600, records.purge_expired, run_immediately=True)
            .start()]


SERVICE = ServiceDefinition(
    name="image",
    console_script="nubis-image",
    port=9292,
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    build_api=build_api,
    start=start,
    policy_rules=policies.list_rules,
    add_manage_commands=manage.add_commands,
)
