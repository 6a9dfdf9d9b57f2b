"""What the compute API handlers talk to: the stores and the server logic, and the policy they check."""

from __future__ import annotations

import dataclasses

from oslo_config import cfg

from nubis.common import policy
from nubis.compute.core.aggregates import AggregateStore
from nubis.compute.core.consoles import Consoles
from nubis.compute.core.events import ExternalEvents
from nubis.compute.core.flavors import FlavorStore
from nubis.compute.core.guest_ops import GuestOps
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


@dataclasses.dataclass
class ComputeCore:
    conf: cfg.ConfigOpts
    policy: policy.Policy
    flavors: FlavorStore
    keypairs: KeypairStore
    groups: ServerGroupStore
    servers: ServerCore
    services: ServiceStore
    instances: InstanceStore
    quotas: QuotaStore
    usage: UsageReport
    aggregates: AggregateStore
    moves: ServerMoves
    snapshots: Snapshots
    events: ExternalEvents
    hosts: HostReport
    consoles: Consoles
    passwords: ServerPasswords
    guest_ops: GuestOps
    volume_attachments: VolumeAttachments
    network_proxy: NetworkProxy | None = None  # the deprecated network proxy APIs
    image_proxy: ImageProxy | None = None  # the deprecated /images proxy
    explain: SchedulerExplain | None = None  # the scheduler's dry run (POST /scheduler/explain)
