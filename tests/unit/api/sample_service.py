"""The sample API as a standalone service, to test process handling (workers, SIGTERM)."""

from __future__ import annotations

import os
import time

import webob

from nubis.api import deploy, faults, router
from nubis.common.runtime import Runtime
from nubis.services import ServiceDefinition


@router.public
def slow(req: router.Request) -> webob.Response:
    time.sleep(float(req.GET.get("seconds", "2")))
    return router.json_response({"pid": os.getpid(), "slept": True})


@router.public
def whoami(req: router.Request) -> webob.Response:
    return router.json_response({"pid": os.getpid()})


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    spec = deploy.ApiSpec(name="sample", routes={"/slow": {"GET": slow}, "/pid": {"GET": whoami}},
                          fault_format=faults.compute_fault)
    return deploy.build_app(spec, runtime.conf, service=None)


SERVICE = ServiceDefinition(name="sample", console_script="-", port=None, build_api=build_api)
