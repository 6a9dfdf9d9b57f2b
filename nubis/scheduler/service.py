"""The scheduler as the commands see it: an RPC-only service on the ``scheduler`` topic."""

from __future__ import annotations

from collections.abc import Sequence

from nubis.common import clients, rpc
from nubis.common.clients.placement import PlacementClient
from nubis.common.runtime import Runtime
from nubis.scheduler import conf, db
from nubis.scheduler.manager import SchedulerManager
from nubis.scheduler.rpcapi import TOPIC, SchedulerEndpoint
from nubis.services import ServiceDefinition, Stoppable


def build_manager(runtime: Runtime) -> SchedulerManager:
    http = clients.service_adapter(runtime.conf, "placement")
    return SchedulerManager(runtime.conf, runtime.database("scheduler"), PlacementClient(http))


def start(runtime: Runtime) -> Sequence[Stoppable]:
    endpoint = SchedulerEndpoint(build_manager(runtime))
    return [rpc.start_server(runtime.messaging, TOPIC, runtime.conf.host, [endpoint])]


SERVICE = ServiceDefinition(
    name="scheduler",
    console_script="nubis-scheduler",
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    start=start,
)
