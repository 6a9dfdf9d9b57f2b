"""RPC version caps ([upgrade_levels]) and what a capped client sends; N servers taking N-1 messages."""

from __future__ import annotations

import importlib
import inspect
import threading
import uuid
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg

from nubis.common import context, exceptions, rpc, upgrade_levels
from nubis.compute.agent.rpcapi import ComputeAgentAPI, ComputeAgentEndpoint
from nubis.compute.conductor.metadata_rpc import ConductorMetadataAPI, ConductorMetadataEndpoint
from nubis.compute.conductor.rpcapi import ConductorAPI, ConductorEndpoint
from nubis.compute.core.instances import ActionEnd, Fault
from nubis.network.metadata_rpc import NetworkMetadataAPI, NetworkMetadataEndpoint
from nubis.network.rpcapi import NetworkAgentAPI, NetworkAgentEndpoint, NetworkServerAPI, NetworkServerEndpoint
from nubis.scheduler.request_spec import Flavor, RequestSpec, ServerGroup
from nubis.scheduler.rpcapi import SchedulerAPI, SchedulerEndpoint
from nubis.volume.manager.rpcapi import VolumeManagerAPI, VolumeManagerEndpoint

# Every RPC API: (client, its server endpoint).
APIS = [(ComputeAgentAPI, ComputeAgentEndpoint), (ConductorAPI, ConductorEndpoint),
        (ConductorMetadataAPI, ConductorMetadataEndpoint), (SchedulerAPI, SchedulerEndpoint),
        (NetworkServerAPI, NetworkServerEndpoint), (NetworkAgentAPI, NetworkAgentEndpoint),
        (NetworkMetadataAPI, NetworkMetadataEndpoint), (VolumeManagerAPI, VolumeManagerEndpoint)]


def _messaging(conf: cfg.ConfigOpts, **levels: str) -> rpc.Messaging:
    rpc.register_opts(conf)
    conf.set_override("control_exchange", f"nubis-test-{uuid.uuid4().hex[:8]}")
    conf.set_override("rpc_response_timeout", 5)
    for level, value in levels.items():
        conf.set_override(level, value, group="upgrade_levels")
    return rpc.Messaging(conf, url="inproc://")


def _ctx() -> context.RequestContext:
    return context.RequestContext(user_id="u1", project_id="p1")


# -- the option's forms


def test_unset_means_no_cap() -> None:
    assert upgrade_levels.resolve("compute", None) is None
    assert upgrade_levels.resolve("compute", "  ") is None


def test_explicit_version_and_release_alias() -> None:
    assert upgrade_levels.resolve("scheduler", "1.0") == "1.0"
    assert upgrade_levels.resolve("scheduler", "nubis-0.1") == "1.1"
    assert upgrade_levels.resolve("conductor", "nubis-0.1") == "1.2"


@pytest.mark.parametrize("value", ["nubis-9.9", "latest", "1", "1.x", "queens"])
def test_a_bad_value_stops_the_client_with_the_option_named(value: str) -> None:
    with pytest.raises(upgrade_levels.InvalidUpgradeLevel, match=r"\[upgrade_levels\] compute"):
        upgrade_levels.resolve("compute", value)


def test_auto_takes_the_oldest_recorded_version_or_none() -> None:
    assert upgrade_levels.resolve("compute", "auto", lambda level: "1.0") == "1.0"
    assert upgrade_levels.resolve("compute", "auto", lambda level: None) is None
    assert upgrade_levels.resolve("compute", "auto") is None  # a process with no records to read


def test_versions_compare_as_numbers() -> None:
    assert upgrade_levels.lowest(["1.10", "1.9", "2.0"]) == "1.9"


def test_a_bad_value_in_config_fails_at_client_start(conf: cfg.ConfigOpts) -> None:
    m = _messaging(conf, compute="nubis-0.0")
    try:
        with pytest.raises(upgrade_levels.InvalidUpgradeLevel, match="unknown release"):
            ComputeAgentAPI(m)
    finally:
        m.cleanup()


# -- the release table and the code agree


def test_every_api_has_a_level_and_every_release_names_every_level() -> None:
    assert sorted(c.UPGRADE_LEVEL or c.TOPIC for c, _ in APIS) == sorted(upgrade_levels.LEVELS)
    for release, row in upgrade_levels.RELEASES.items():
        assert sorted(row) == sorted(upgrade_levels.LEVELS), release


def test_the_newest_release_is_what_the_code_sends_and_serves() -> None:
    newest = upgrade_levels.RELEASES[max(upgrade_levels.RELEASES, key=upgrade_levels.version_tuple)]
    for client, endpoint in APIS:
        level = client.UPGRADE_LEVEL or client.TOPIC
        assert client.VERSION == newest[level], client
        assert endpoint.target.version == client.VERSION, endpoint


def test_releases_never_go_back() -> None:
    ordered = sorted(upgrade_levels.RELEASES, key=upgrade_levels.version_tuple)
    for older, newer in zip(ordered, ordered[1:], strict=False):
        for level in upgrade_levels.LEVELS:
            old, new = (upgrade_levels.RELEASES[r][level] for r in (older, newer))
            assert upgrade_levels.version_tuple(old) <= upgrade_levels.version_tuple(new), (level, older, newer)


def test_remote_exception_modules_exist() -> None:
    for name in rpc.ALLOWED_REMOTE_EXMODS:
        importlib.import_module(name)


# A method's arguments are its wire shape: changing them without a version bump breaks N-1 peers.
# Changing this table is the reminder: bump VERSION, add a line to the history and to RELEASES.
SIGNATURES = {
    "ComputeAgentEndpoint": ("1.5", {
        "attach_volume": "uuid,connection_info,device", "detach_volume": "uuid,device",
        "extend_volume": "uuid,volume_id,device,new_size",
        "build_and_run_instance": "instance,block_device_info", "console_output": "uuid", "drop_guest": "uuid",
        "external_event": "event", "power_action": "uuid,action", "rebuild_instance": "instance",
        "receive_guest": "instance,running", "resize_instance": "instance,revert",
        "shelve_instance": "uuid,image_id", "snapshot_instance": "uuid,image_id,rotation",
        "start_guest": "uuid", "stop_guest": "uuid", "terminate_instance": "uuid",
        "get_console": "uuid,kind", "rescue_instance": "instance,rescue_image", "unrescue_instance": "uuid",
        "trigger_crash_dump": "uuid", "get_diagnostics": "uuid", "set_admin_password": "instance,password"}),
    "ConductorEndpoint": ("1.5", {
        "add_fault": "uuid,code,message,details", "build_instances": "instances,spec",
        "check_console_token": "token,consume", "deleted_instances": "uuids",
        "compute_node_update": "node", "confirm_move": "migration_uuid", "execute_move": "migration_uuid",
        "finish_action": "uuid,request_id,message", "host_instances": "host", "instance_deleted": "uuid",
        "instance_update": "uuid,values,expected_task_state,only_if_idle,expected_vm_state,fault,action",
        "resize_instance": "uuid,flavor", "revert_move": "migration_uuid", "revert_resize": "uuid",
        "schedule_move": "migration_uuid,target_host", "service_heartbeat": "host,binary,versions",
        "unshelve_instance": "uuid,zone"}),
    "ConductorMetadataEndpoint": ("1.1", {"instance_facts": "instance_uuid", "instance_password": "instance_uuid",
                                          "set_instance_password": "instance_uuid,password"}),
    "SchedulerEndpoint": ("1.2", {
        "explain": "spec,spec_obj", "release": "instance_uuid", "select_destinations": "spec,return_alternates,spec_obj",
        "update_host": "report", "update_host_settings": "host,settings"}),
    "NetworkServerEndpoint": ("1.0", {
        "host_state": "host", "metadata_target": "network_id,address", "report_state": "host,configurations,starting",
        "update_port_status": "host,statuses"}),
    "NetworkAgentEndpoint": ("1.0", {"changed": "event,resource_id"}),
    "NetworkMetadataEndpoint": ("1.0", {"floating_ip": "instance_uuid,fixed_ip", "instance_ports": "instance_uuid"}),
    "VolumeManagerEndpoint": ("1.3", {
        "create_snapshot": "snapshot_id", "create_volume": "volume_id", "delete_snapshot": "snapshot_id",
        "delete_volume": "volume_id", "extend_volume": "volume_id,new_size",
        "initialize_connection": "volume_id,attachment_id", "terminate_connection": "volume_id",
        "upload_image": "volume_id,image_id,disk_format",
        "create_backup": "backup_id", "delete_backup": "backup_id", "restore_backup": "backup_id,volume_id"}),
}


def _signatures(endpoint: type) -> dict[str, str]:
    found = {}
    for name, fn in inspect.getmembers(endpoint, inspect.isfunction):
        if not name.startswith("_"):
            params = list(inspect.signature(fn).parameters)[2:]  # self, ctxt
            found[name] = ",".join(params)
    return found


@pytest.mark.parametrize("endpoint", [e for _, e in APIS], ids=lambda e: e.__name__)
def test_rpc_signatures_are_pinned_to_their_version(endpoint: type) -> None:
    version, methods = SIGNATURES[endpoint.__name__]
    assert (endpoint.target.version, _signatures(endpoint)) == (version, methods)


# -- capped clients send the older form; N servers take N-1 messages


class _RecordingScheduler:
    """Stands in for the scheduler's manager (placement and host state are not the point here)."""

    def __init__(self) -> None:
        self.specs: list[RequestSpec] = []

    def select_destinations(self, spec: RequestSpec, return_alternates: bool) -> list[dict[str, Any]]:
        self.specs.append(spec)
        return [{"host": "h1"}]

    def explain(self, spec: RequestSpec) -> dict[str, Any]:
        self.specs.append(spec)
        return {"hosts": []}


class Scheduler01Endpoint:
    """The scheduler endpoint as release 0.1 shipped it (1.1: the spec as a dict)."""

    target = oslo_messaging.Target(version="1.1")

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    def select_destinations(self, ctxt: Any, spec: dict[str, Any], return_alternates: bool = True) -> list[Any]:
        self.received.append(spec)
        return [{"host": "old"}]


SPEC = RequestSpec(flavor=Flavor("m1", 2, 512, 10, extra_specs={"hw:cpu_policy": "dedicated"}),
                   instance_uuids=("u-1",), project_id="p1", user_id="u1",
                   image_properties={"hw_disk_bus": "virtio", "min_ram": 128},
                   availability_zone="az1", ignore_hosts=("h9",),
                   server_group=ServerGroup("anti-affinity", ("h2", "h2"), 2))


@pytest.fixture
def serve(conf: cfg.ConfigOpts):  # type: ignore[no-untyped-def]
    """serve(topic, endpoint, **levels) -> messaging with a server for ``endpoint`` running."""
    started: list[Any] = []

    def _serve(topic: str, endpoint: object, **levels: str) -> rpc.Messaging:
        m = _messaging(conf, **levels)
        srv = rpc.make_server(m, topic, "host1", [endpoint])
        srv.start()
        started.append((m, srv))
        return m

    yield _serve
    for m, srv in started:
        srv.stop()
        srv.wait()
        m.cleanup()


def test_uncapped_scheduler_client_sends_a_versioned_spec_object(serve) -> None:  # type: ignore[no-untyped-def]
    manager = _RecordingScheduler()
    m = serve("scheduler", SchedulerEndpoint(manager))  # type: ignore[arg-type]
    assert SchedulerAPI(m).select_destinations(_ctx(), SPEC) == [{"host": "h1"}]
    assert manager.specs == [SPEC]


def test_scheduler_client_capped_at_the_old_release_sends_the_old_dict(serve) -> None:  # type: ignore[no-untyped-def]
    old = Scheduler01Endpoint()
    m = serve("scheduler", old, scheduler="nubis-0.1")
    assert SchedulerAPI(m).select_destinations(_ctx(), SPEC) == [{"host": "old"}]
    assert old.received == [SPEC.to_dict()]


def test_an_uncapped_client_is_refused_by_the_old_server(serve) -> None:  # type: ignore[no-untyped-def]
    # Why the cap exists: 1.2 is not something a 1.1 server will take.
    m = serve("scheduler", Scheduler01Endpoint())
    with pytest.raises(oslo_messaging.UnsupportedVersion):
        SchedulerAPI(m).select_destinations(_ctx(), SPEC)


def test_new_scheduler_takes_the_old_clients_dict(serve) -> None:  # type: ignore[no-untyped-def]
    manager = _RecordingScheduler()
    m = serve("scheduler", SchedulerEndpoint(manager))  # type: ignore[arg-type]
    old_client = SchedulerAPI(m)
    # Exactly what a 0.1 client put on the wire.
    answer = old_client.prepare(version="1.0").call(_ctx(), "select_destinations", spec=SPEC.to_dict(),
                                                    return_alternates=False)
    assert answer == [{"host": "h1"}] and manager.specs == [SPEC]
    old_client.prepare(version="1.0").call(_ctx(), "explain", spec=SPEC.to_dict())
    assert manager.specs == [SPEC, SPEC]


class _RecordingConductor:
    def __init__(self) -> None:
        self.heartbeats: list[tuple[str, str, Any]] = []
        self.seen = threading.Event()

    def service_heartbeat(self, host: str, binary: str, versions: Any = None) -> None:
        self.heartbeats.append((host, binary, versions))


class Conductor01Endpoint:
    """service_heartbeat as 0.1's conductor (1.2) served it: no versions argument."""

    target = oslo_messaging.Target(version="1.2")

    def __init__(self) -> None:
        self.heartbeats: list[tuple[str, str]] = []

    def service_heartbeat(self, ctxt: Any, host: str, binary: str) -> None:
        self.heartbeats.append((host, binary))


VERSIONS = {"release": "0.2.0", "rpc": {"compute": "1.1"}}


def test_heartbeat_capped_at_the_old_release_drops_the_versions(serve) -> None:  # type: ignore[no-untyped-def]
    old = Conductor01Endpoint()
    m = serve("conductor", old, conductor="nubis-0.1")
    ConductorAPI(m).service_heartbeat(_ctx(), "c1", "nubis-compute", VERSIONS)
    assert old.heartbeats == [("c1", "nubis-compute")]


def test_new_conductor_records_versions_and_takes_the_old_heartbeat(serve) -> None:  # type: ignore[no-untyped-def]
    manager = _RecordingConductor()
    m = serve("conductor", ConductorEndpoint(manager))
    ConductorAPI(m).service_heartbeat(_ctx(), "c1", "nubis-compute", VERSIONS)
    ConductorAPI(m).prepare(version="1.0").call(_ctx(), "service_heartbeat", host="c2", binary="nubis-compute")
    assert manager.heartbeats == [("c1", "nubis-compute", VERSIONS), ("c2", "nubis-compute", None)]


def test_a_method_with_no_older_form_is_refused_with_409_before_sending(conf: cfg.ConfigOpts) -> None:
    m = _messaging(conf, compute="1.0")
    try:
        agents = ComputeAgentAPI(m)
        assert agents.version_cap == "1.0"
        with pytest.raises(exceptions.ServiceTooOld, match=r"shelve_instance needs compute RPC 1\.1") as err:
            agents.shelve_instance(_ctx(), "h1", "u-1", "img-1")
        assert err.value.code == 409
        with pytest.raises(exceptions.ServiceTooOld):
            ConductorAPI(_messaging(conf, conductor="1.0")).unshelve_instance(_ctx(), "u-1", None)
    finally:
        m.cleanup()


def test_volume_extended_needs_compute_1_5_while_other_events_go_at_1_1(conf: cfg.ConfigOpts) -> None:
    """A 1.4 compute would take a volume-extended external_event and drop it: extend_volume is 1.5's."""
    m = _messaging(conf, compute="1.4")
    try:
        agents = ComputeAgentAPI(m)
        agents.check_can_send("external_event")
        with pytest.raises(exceptions.ServiceTooOld, match=r"extend_volume needs compute RPC 1\.5") as err:
            agents.extend_volume(_ctx(), "h1", "u-1", "v-1", "/dev/vdb", 2 << 30)
        assert err.value.code == 409
    finally:
        m.cleanup()


def test_a_cap_at_or_above_the_code_caps_nothing(conf: cfg.ConfigOpts) -> None:
    m = _messaging(conf, compute="nubis-0.2", scheduler="1.5")
    try:
        assert ComputeAgentAPI(m).version_cap is None
        assert SchedulerAPI(m).version_cap is None
    finally:
        m.cleanup()


def test_auto_caps_from_the_processes_version_lookup(conf: cfg.ConfigOpts) -> None:
    m = _messaging(conf, compute="auto", scheduler="auto")
    m.minimum_version = {"compute": "1.0"}.get
    try:
        assert ComputeAgentAPI(m).version_cap == "1.0"
        assert SchedulerAPI(m).version_cap is None  # nothing recorded for schedulers
    finally:
        m.cleanup()


class Conductor10Endpoint:
    """instance_update, add_fault and finish_action as a 1.0 conductor served them."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def instance_update(self, ctxt: Any, uuid: str, values: dict[str, Any],
                        expected_task_state: str | None = None) -> bool:
        self.calls.append(("instance_update", values))
        return True

    def add_fault(self, ctxt: Any, uuid: str, code: int, message: str, details: str | None = None) -> None:
        self.calls.append(("add_fault", message))

    def finish_action(self, ctxt: Any, uuid: str, request_id: str, message: str | None = None) -> None:
        self.calls.append(("finish_action", request_id))


def test_instance_update_capped_at_1_0_writes_fault_state_and_action_end_one_by_one(serve) -> None:  # type: ignore[no-untyped-def]
    old = Conductor10Endpoint()
    conductor = ConductorAPI(serve("conductor", old, conductor="1.0"))
    done = conductor.instance_update(_ctx(), "u-1", {"vm_state": "error"}, fault=Fault(500, "boom"),
                                     action=ActionEnd("req-1", "failed"))
    assert done is True
    assert old.calls == [("add_fault", "boom"), ("instance_update", {"vm_state": "error"}),
                         ("finish_action", "req-1")]
    with pytest.raises(exceptions.ServiceTooOld, match=r"instance_update\(only_if_idle\)"):
        conductor.instance_update(_ctx(), "u-1", {"task_state": "x"}, only_if_idle=True)


@pytest.mark.parametrize("client", [c for c, _ in APIS], ids=lambda c: c.__name__)
def test_since_names_methods_of_the_client_within_its_version(client: type) -> None:
    for method, since in client.SINCE.items():
        assert callable(getattr(client, method, None)), method
        assert upgrade_levels.version_tuple("1.0") < upgrade_levels.version_tuple(since) <= \
            upgrade_levels.version_tuple(client.VERSION), method
