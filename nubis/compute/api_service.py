"""The compute API as the commands see it."""

from __future__ import annotations

from nubis.api import deploy, faults, microversion
from nubis.common.clients.image import ImageClient
from nubis.common.clients.volume import VolumeClient
from nubis.common.runtime import Runtime
from nubis.compute import conf, db, manage, policies
from nubis.compute.agent.rpcapi import ComputeAgentAPI
from nubis.compute.api import routes, versions
from nubis.compute.conductor.rpcapi import ConductorAPI
from nubis.compute.core.aggregates import AggregateStore
from nubis.compute.core.consoles import Consoles
from nubis.compute.core.events import ExternalEvents
from nubis.compute.core.facade import ComputeCore
from nubis.compute.core.flavors import FlavorStore
from nubis.compute.core.guest_ops import GuestOps
from nubis.compute.core.host_settings import HostSettings
from nubis.compute.core.hosts import HostReport
from nubis.compute.core.image_proxy import ImageProxy
from nubis.compute.core.instances import InstanceStore
from nubis.compute.core.keypairs import KeypairStore
from nubis.compute.core.moves import ServerMoves
from nubis.compute.core.network_proxy import NetworkProxy
from nubis.compute.core.quotas import QuotaStore
from nubis.compute.core.scheduler_explain import SchedulerExplain
from nubis.compute.core.server_groups import ServerGroupStore
from nubis.compute.core.server_passwords import ServerPasswords
from nubis.compute.core.servers import ServerCore
from nubis.compute.core.services import ServiceStore
from nubis.compute.core.snapshots import Snapshots
from nubis.compute.core.usage import UsageReport
from nubis.compute.core.volume_attachments import VolumeAttachments
from nubis.compute.networking import Networking
from nubis.compute.service_versions import ServiceVersions
from nubis.scheduler.rpcapi import SchedulerAPI
from nubis.services import ServiceDefinition

VERSIONS = microversion.VersionRange("compute", microversion.Version.parse(versions.MIN_VERSION),
                                     microversion.Version.parse(versions.MAX_VERSION),
                                     legacy_header="X-OpenStack-Nova-API-Version")


def build_core(runtime: Runtime) -> ComputeCore:
    c = runtime.conf
    database = runtime.database("compute")
    # [upgrade_levels] compute = auto: cap by the oldest compute service recorded (read at start).
    runtime.messaging.minimum_version = ServiceVersions(database).minimum
    timeout = c.compute.rpc_timeout
    quotas = QuotaStore(c, database)
    flavors, keypairs = FlavorStore(database), KeypairStore(database, quotas.limits)
    groups = ServerGroupStore(database, quotas.limits)
    settings = HostSettings(c, database, SchedulerAPI(runtime.messaging, timeout))
    services = ServiceStore(c, database, settings)
    volumes = VolumeClient.from_conf(c)
    servers = ServerCore(c, database, flavors, keypairs, groups, services, quotas,
                         ConductorAPI(runtime.messaging, timeout), ComputeAgentAPI(runtime.messaging, timeout),
                         ImageClient.from_conf(c), Networking.from_conf(c), volumes)
    volume_attachments = VolumeAttachments(servers, volumes)
    servers.on_delete.append(volume_attachments.release_all)
    return ComputeCore(c, policies.make(c), flavors, keypairs, groups, servers, services, InstanceStore(database),
                       quotas, UsageReport(database), AggregateStore(database, settings),
                       ServerMoves(servers), Snapshots(servers),
                       ExternalEvents(servers), HostReport(database, services),
                       Consoles(c, database, servers), ServerPasswords(database), GuestOps(servers),
                       volume_attachments,
                       network_proxy=NetworkProxy(c, servers.network.client if servers.network else None), image_proxy=ImageProxy(c, servers.images),
                       explain=SchedulerExplain(settings.scheduler))


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    spec = deploy.ApiSpec(name="compute", routes=routes.ROUTES, fault_format=faults.compute_fault,
                          versions=VERSIONS, request_id_aliases=("x-compute-request-id",))
    return deploy.build_app(spec, runtime.conf, build_core(runtime))


SERVICE = ServiceDefinition(
    name="compute-api",
    console_script="nubis-compute-api",
    port=8774,
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    build_api=build_api,
    policy_rules=policies.list_rules,
    add_manage_commands=manage.add_commands,
)
