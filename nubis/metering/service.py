"""The metering service as the commands see it: ``nubis-metering`` (API on 8777, the notification listener,
the audit and the hourly close)."""

from __future__ import annotations

from collections.abc import Sequence

from nubis.api import deploy, faults
from nubis.common import clients
from nubis.common.clients.image import ImageClient
from nubis.common.clients.network import NetworkClient
from nubis.common.periodic import PeriodicTasks
from nubis.common.runtime import Runtime
from nubis.metering import conf, db, manage, policies
from nubis.metering.api import handlers
from nubis.metering.core.collector import Listener
from nubis.metering.core.facade import MeteringCore
from nubis.metering.core.sources import Sources
from nubis.services import ServiceDefinition, Stoppable


def build_core(runtime: Runtime) -> MeteringCore:
    c = runtime.conf
    sources = Sources(clients.optional_service_adapter(c, "compute"), ImageClient.from_conf(c, optional=True),
                      NetworkClient.from_conf(c), clients.optional_service_adapter(c, "block-storage"))
    return MeteringCore(c, runtime.database("metering"), sources)


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    spec = deploy.ApiSpec(name="metering", routes=handlers.ROUTES, fault_format=faults.compute_fault)
    return deploy.build_app(spec, runtime.conf, handlers.MeteringApi(build_core(runtime),
                                                                      policies.make(runtime.conf)))


def start(runtime: Runtime) -> Sequence[Stoppable]:
    """The collector on the notification topic, the periodic audit and the close of each finished hour."""
    c = runtime.conf
    core = build_core(runtime)
    tasks = PeriodicTasks("metering-periodic").add("metering-close-hours", c.metering.rollup_interval,
                                                    core.close_hours)
    tasks.add("metering-audit", c.metering.audit_interval, core.audit)
    return [Listener(runtime.messaging, c.metering.notification_pool, core.collector).start(), tasks.start()]


SERVICE = ServiceDefinition(
    name="metering",
    console_script="nubis-metering",
    port=8777,
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    build_api=build_api,
    start=start,
    add_manage_commands=manage.add_commands,
    policy_rules=policies.list_rules,
)
