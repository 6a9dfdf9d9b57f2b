"""The image service as the commands see it."""

from __future__ import annotations

from typing import Any

from nubis.api import deploy, faults
from nubis.common.runtime import Runtime
from nubis.image import conf, db, manage, policies
from nubis.image.api import handlers
from nubis.image.core.facade import ImageCore
from nubis.image.store import FilesystemStore
from nubis.services import ServiceDefinition


def _is_data_upload(environ: dict[str, Any]) -> bool:
    """Image data is streamed to the store, never held in memory: the JSON body limit does not apply."""
    path = environ.get("PATH_INFO", "")
    return environ.get("REQUEST_METHOD") == "PUT" and (path.endswith("/file") or path.endswith("/stage"))


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    c = runtime.conf
    image_core = ImageCore(c, runtime.database("image"), policies.make(c), FilesystemStore(conf.data_dir(c)),
                           FilesystemStore(conf.staging_dir(c)))
    spec = deploy.ApiSpec(name="image", routes=handlers.ROUTES, fault_format=faults.image_fault,
                          body_limit_exempt=_is_data_upload)
    return deploy.build_app(spec, c, image_core)


SERVICE = ServiceDefinition(
    name="image",
    console_script="nubis-image",
    port=9292,
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    build_api=build_api,
    policy_rules=policies.list_rules,
    add_manage_commands=manage.add_commands,
)
