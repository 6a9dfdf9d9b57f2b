"""The conductor as the commands see it: an RPC-only service on the ``conductor`` topic."""

from __future__ import annotations

from collections.abc import Sequence

from nubis.common import clients, periodic, rpc
from nubis.common.clients.placement import PlacementClient
from nubis.common.clients.volume import VolumeClient
from nubis.common.runtime import Runtime
from nubis.compute import conf, db, service_versions
from nubis.compute.agent.rpcapi import ComputeAgentAPI
from nubis.compute.conductor.boot_volumes import BootVolumeConnector
from nubis.compute.conductor.manager import ConductorManager
from nubis.compute.conductor.metadata_rpc import ConductorMetadataEndpoint
from nubis.compute.conductor.recovery import ConductorRecovery, Sweeper
from nubis.compute.conductor.rpcapi import TOPIC, ConductorEndpoint
from nubis.compute.core.host_settings import HostSettings
from nubis.scheduler.rpcapi import SchedulerAPI
from nubis.services import ServiceDefinition, Stoppable


def start(runtime: Runtime) -> Sequence[Stoppable]:
    c = runtime.conf
    database = runtime.database("compute")
    # [upgrade_levels] compute = auto: cap by the oldest compute service recorded (read at start).
    runtime.messaging.minimum_version = service_versions.ServiceVersions(database).minimum
    scheduler = SchedulerAPI(runtime.messaging, c.compute.rpc_timeout)
    manager = ConductorManager(database, scheduler, ComputeAgentAPI(runtime.messaging, c.compute.rpc_timeout),
                               rpc.Notifier(runtime.messaging, "conductor", c.host),
                               PlacementClient(clients.service_adapter(c, "placement")), HostSettings(c, database, scheduler),
                               BootVolumeConnector(c, database, VolumeClient.from_conf(c)))
    server = rpc.start_server(runtime.messaging, TOPIC, c.host,
                              [ConductorEndpoint(manager), ConductorMetadataEndpoint(database)])
    # Started after the server: a message for an instance that waited for this conductor is taken
    # (touched) first, and the sweep leaves what was taken alone.
    recovery = ConductorRecovery(database, manager.instances, scheduler, manager.notifier, manager.placement,
                                 manager.agents)
    sweeper = Sweeper(recovery, runtime.messaging.is_in_process, runtime.started_at, c.compute.rpc_timeout).start()
    # Its own os-services row (Nova's nova-conductor, in the internal zone), kept up like a compute host's.
    heartbeat = periodic.PeriodicTasks("conductor-heartbeat").add(
        "conductor-heartbeat", c.compute.report_interval,
        lambda: manager.service_heartbeat(c.host, BINARY, service_versions.reported(BINARY)),
        run_immediately=True).start()
    return [server, sweeper, heartbeat]


BINARY = "nubis-conductor"


SERVICE = ServiceDefinition(
    name="conductor",
    console_script="nubis-conductor",
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    start=start,
)
