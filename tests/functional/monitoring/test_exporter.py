"""nubis-exporter against a running cloud: what it reports matches what the APIs say, and a compute agent that
stops reporting shows as down with a growing heartbeat age."""

from __future__ import annotations

import io
import os
import pathlib
import re
import subprocess
import sys
import time
import wsgiref.util

import requests

from nubis.monitoring import exporter
from tests import fixtures
from tests.functional.compute.conftest import wait_for_status
from tests.functional.monitoring.conftest import MonitoredCloud, cloud_conf, parse, value


def _scrape(cloud: MonitoredCloud) -> dict[str, list[tuple[dict[str, str], float]]]:
    resp = requests.get(cloud.exporter_url, timeout=60)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    return parse(resp.text)


def test_exporter_reports_the_cloud(cloud: MonitoredCloud) -> None:
    conn = cloud.connection()
    admin_project = conn.current_project_id
    image = conn.image.create_image(name="exported", disk_format="raw", container_format="bare",
                                    data=io.BytesIO(b"\1" * 8192), visibility="public")
    flavor = conn.compute.create_flavor(name="m.exp", ram=1024, vcpus=2, disk=3)
    network = conn.network.create_network(name="exported-net")
    conn.network.create_subnet(network_id=network.id, cidr="10.77.0.0/24", ip_version=4)
    port = conn.network.create_port(network_id=network.id)
    server = wait_for_status(conn, conn.compute.create_server(
        name="exported", image_id=image.id, flavor_id=flavor.id, networks="none",
        availability_zone="nova:compute-2").id, "ACTIVE")
    try:
        m = _scrape(cloud)
        for api in ("nova", "placement", "identity", "neutron", "glance"):
            assert value(m, f"openstack_{api}_up") == 1
        assert value(m, "openstack_nova_agent_state", hostname="compute-2", service="nova-compute",
                     adminState="enabled") == 1
        assert 0 <= value(m, "openstack_nova_agent_heartbeat_age_seconds", hostname="compute-2") < 3
        assert value(m, "openstack_nova_hypervisor_up", hostname="compute-2") == 1
        assert value(m, "openstack_nova_hypervisor_enabled", hostname="compute-2") == 1
        assert value(m, "openstack_nova_running_vms", hostname="compute-2") == 1
        assert value(m, "openstack_nova_vcpus_used", hostname="compute-2") == 2
        assert value(m, "openstack_nova_memory_used_bytes", hostname="compute-2") == 1024 * 2**20
        assert value(m, "openstack_nova_local_storage_used_bytes", hostname="compute-2") == 3 * 2**30
        assert value(m, "openstack_nova_running_vms", hostname="compute-3") == 0
        assert value(m, "openstack_nova_total_vms") == 1
        assert value(m, "openstack_nova_servers", status="ACTIVE", tenant_id=admin_project) == 1
        assert value(m, "openstack_placement_resource_usage", hostname="compute-2", resourcetype="VCPU") == 2
        assert value(m, "openstack_placement_resource_usage", hostname="compute-2", resourcetype="MEMORY_MB") == 1024
        assert value(m, "openstack_placement_resource_total", hostname="compute-2", resourcetype="VCPU") > 0
        assert value(m, "openstack_nova_limits_vcpus_used", tenant_id=admin_project) == 2
        assert value(m, "openstack_nova_limits_vcpus_max", tenant_id=admin_project) == 200  # the test cloud's quota
        assert value(m, "openstack_nova_limits_instances_used", tenant="admin") == 1
        assert value(m, "openstack_identity_projects") == len(list(conn.identity.projects()))
        assert value(m, "openstack_neutron_networks") == len(list(conn.network.networks()))
        assert value(m, "openstack_neutron_ports") == len(list(conn.network.ports())) >= 1
        assert value(m, "openstack_glance_images") == len(list(conn.image.images()))
        assert value(m, "openstack_glance_image_bytes", id=image.id) == 8192
        assert value(m, "nubis_quota_sum", quota="cores") == 200 * len(list(conn.identity.projects()))
        assert value(m, "nubis_capacity", quota="cores") > 0
        assert value(m, "nubis_exporter_read_seconds") > 0
        # Every cloud-state metric the shipped alerts and dashboard query is one the exporter declares (the APIs'
        # own nubis_http_* series and the broker check, absent with an in-process transport, aside).
        root = pathlib.Path(__file__).resolve().parents[3]
        shipped = (root / "etc/prometheus/alerts.yml").read_text() + (root / "etc/grafana/nubis-cloud.json").read_text()
        queried = set(re.findall(r"\b(?:openstack|nubis)_[a-z_]+[a-z]\b", shipped))
        queried -= {n for n in queried if n.startswith("nubis_http_")} | {"nubis_messaging_up"}
        declared = set(re.findall(r"^# TYPE (\S+) ", requests.get(cloud.exporter_url, timeout=60).text, re.M))
        assert queried and queried <= declared, sorted(queried - declared)
    finally:
        conn.compute.delete_server(server.id)
        conn.compute.wait_for_delete(server, wait=30)
        conn.network.delete_port(port.id)
        conn.network.delete_network(network.id)
        conn.compute.delete_flavor(flavor.id)
        conn.image.delete_image(image.id)


def test_a_silent_agent_shows_down(cloud: MonitoredCloud) -> None:
    running = cloud.agents["compute-3"]
    for item in reversed(running):
        item.stop()
    running.clear()
    stopped = time.monotonic()

    def down() -> dict[str, list[tuple[dict[str, str], float]]] | None:
        m = _scrape(cloud)
        return m if value(m, "openstack_nova_agent_state", hostname="compute-3") == 0 else None

    m = fixtures.wait_until(down, timeout=20, interval=0.5, what="compute-3's agent_state to drop to 0")
    assert time.monotonic() - stopped >= 2  # not before [compute] service_down_time (3 s) after its last beat
    assert value(m, "openstack_nova_agent_heartbeat_age_seconds", hostname="compute-3") > 3
    assert value(m, "openstack_nova_hypervisor_up", hostname="compute-3") == 0
    assert value(m, "openstack_nova_agent_state", hostname="compute-2") == 1


def _call(app: exporter.MetricsApp, path: str, address: str) -> tuple[str, bytes]:
    environ: dict[str, object] = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": address}
    wsgiref.util.setup_testing_defaults(environ)
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: seen.append(status)))
    return seen[0], body


def test_only_allowed_addresses_scrape(cloud: MonitoredCloud) -> None:
    app = exporter.build_app(cloud_conf(cloud, allowed_cidrs=["10.0.0.0/8"]))
    status, body = _call(app, "/metrics", "127.0.0.1")
    assert status.startswith("403") and b"allowed_cidrs" in body
    status, _ = _call(app, "/metrics", "10.1.2.3")
    assert status.startswith("200")
    status, _ = _call(app, "/other", "10.1.2.3")
    assert status.startswith("404")


def test_an_api_down_is_reported_and_the_rest_still_exported(cloud: MonitoredCloud) -> None:
    conf = cloud_conf(cloud, cache_seconds=0)
    conf.set_override("endpoint_overrides", {"image": "http://127.0.0.1:9"}, group="service_credentials")
    status, body = _call(exporter.build_app(conf), "/metrics", "127.0.0.1")
    m = parse(body.decode())
    assert status.startswith("200")
    assert value(m, "openstack_glance_up") == 0 and "openstack_glance_images" not in m
    assert value(m, "openstack_nova_up") == 1 and "openstack_nova_total_vms" in m


def test_nubis_exporter_command_serves_metrics(cloud: MonitoredCloud, tmp_path: pathlib.Path) -> None:
    """``nubis-exporter --config-file ...`` as its own process, reading the cloud over HTTP; SIGTERM stops it."""
    port = fixtures.free_port()
    extra = tmp_path / "exporter.conf"
    extra.write_text(f"[exporter]\nbind_port = {port}\ncache_seconds = 0\n")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, "-m", "nubis.monitoring.exporter", "--config-file",
                             os.path.join(cloud.aio.state_dir, "all-in-one.conf"), "--config-file", str(extra)],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "exporter.log", "w"))
    try:
        def scraped() -> str | None:
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
            except requests.ConnectionError:
                return None
            return resp.text if resp.status_code == 200 else None

        text = fixtures.wait_until(scraped, timeout=60, interval=0.5, what=lambda: (
            f"nubis-exporter to answer: {(tmp_path / 'exporter.log').read_text()[-2000:]}"))
        m = parse(text)
        assert value(m, "openstack_nova_up") == 1 and value(m, "openstack_identity_up") == 1
        assert value(m, "openstack_nova_agent_state", hostname="compute-2") == 1
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
