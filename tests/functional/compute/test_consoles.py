"""Remote consoles, rescue and crash dumps through the compute API, on fake compute hosts."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest
import requests

from tests import fixtures
from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status


def _call(cloud: ComputeCloud, method: str, path: str, body: Any = None, version: str = "2.6",
          creds: Any = None) -> requests.Response:
    return requests.request(method, f"{cloud.url('compute-api')}/v2.1{path}", json=body, timeout=30,
                            headers={"X-Auth-Token": cloud.connection(creds).session.get_token(),
                                     "OpenStack-API-Version": f"compute {version}"})


def _remote(cloud: ComputeCloud, server_id: str, protocol: str, kind: str, version: str = "2.6",
            creds: Any = None) -> requests.Response:
    return _call(cloud, "POST", f"/servers/{server_id}/remote-consoles",
                 {"remote_console": {"protocol": protocol, "type": kind}}, version, creds)


def token_of(url: str) -> str:
    """The token in a console URL (noVNC's ``path=?token=...`` or the others' ``token=...``)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    if "path" in query:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(query["path"][0]).query)
    return query["token"][0]


def _driver(cloud: ComputeCloud, server: Any) -> Any:
    if server.compute_host in cloud.drivers:
        return cloud.drivers[server.compute_host]
    return next(item.driver for item in cloud.aio.running if hasattr(item, "driver"))


@pytest.fixture(scope="module")
def server(cloud: ComputeCloud, image_id: str, flavor_id: str) -> Any:
    return wait_for_status(cloud.connection(), boot(cloud, image_id, flavor_id).id, "ACTIVE")


def test_remote_consoles_give_urls_with_tokens(cloud: ComputeCloud, server: Any) -> None:
    vnc = _remote(cloud, server.id, "vnc", "novnc")
    assert vnc.status_code == 200, vnc.text
    body = vnc.json()["remote_console"]
    assert body["protocol"] == "vnc" and body["type"] == "novnc"
    assert body["url"].startswith("http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D")
    serial = _remote(cloud, server.id, "serial", "serial").json()["remote_console"]
    assert serial["url"].startswith("ws://127.0.0.1:6083/?token=")
    assert token_of(serial["url"]) != token_of(body["url"])

    # What an admin sees of a token (2.31 and later): the endpoint it grants.
    shown = _call(cloud, "GET", f"/os-console-auth-tokens/{token_of(body['url'])}", version="2.31")
    assert shown.status_code == 200, shown.text
    console = shown.json()["console"]
    assert console["instance_uuid"] == server.id and console["host"] == "127.0.0.1"
    assert isinstance(console["port"], int) and "internal_access_path" in console
    assert _call(cloud, "GET", f"/os-console-auth-tokens/{token_of(body['url'])}", version="2.30").status_code == 401
    missing = _call(cloud, "GET", "/os-console-auth-tokens/not-a-token", version="2.31")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()

    # The SDK's call for it.
    sdk = cloud.connection().compute.create_server_remote_console(server, protocol="serial", type="serial")
    assert sdk.url.startswith("ws://127.0.0.1:6083/?token=")


def test_remote_console_errors_as_nova_gives_them(cloud: ComputeCloud, server: Any) -> None:
    def refused(resp: requests.Response, code: int, fault: str) -> str:
        assert resp.status_code == code, resp.text
        return str(resp.json()[fault]["message"])

    assert "spice-html5" in refused(_remote(cloud, server.id, "spice", "spice-html5"), 400, "badRequest")
    assert "webmks" in refused(_remote(cloud, server.id, "mks", "webmks", version="2.8"), 400, "badRequest")
    refused(_remote(cloud, server.id, "mks", "webmks", version="2.6"), 400, "badRequest")  # not in the 2.6 schema
    assert "serial" in refused(_remote(cloud, server.id, "vnc", "serial"), 400, "badRequest")
    refused(_remote(cloud, server.id, "rdp", "rdp-html5"), 400, "badRequest")
    refused(_call(cloud, "POST", f"/servers/{server.id}/remote-consoles", {"remote_console": {"protocol": "vnc"}}),
            400, "badRequest")
    refused(_remote(cloud, str(uuid.uuid4()), "vnc", "novnc"), 404, "itemNotFound")
    refused(_remote(cloud, server.id, "vnc", "novnc", version="2.5"), 404, "itemNotFound")

    # Another project's member does not see the server; a reader may not open its console; nor may a member
    # look at tokens.
    other = cloud.new_user()
    refused(_remote(cloud, server.id, "vnc", "novnc", creds=other), 404, "itemNotFound")
    assert _call(cloud, "GET", "/os-console-auth-tokens/x", version="2.31", creds=other).status_code == 403


def test_legacy_console_actions_before_2_6(cloud: ComputeCloud, server: Any) -> None:
    for action, kind, prefix in (("os-getVNCConsole", "novnc", "http://127.0.0.1:6080/vnc_auto.html?path="),
                                 ("os-getSerialConsole", "serial", "ws://127.0.0.1:6083/?token=")):
        resp = _call(cloud, "POST", f"/servers/{server.id}/action", {action: {"type": kind}}, version="2.1")
        assert resp.status_code == 200, resp.text
        assert resp.json()["console"]["type"] == kind and resp.json()["console"]["url"].startswith(prefix)
        assert _call(cloud, "POST", f"/servers/{server.id}/action", {action: {"type": kind}},
                     version="2.6").status_code == 404
    bad = _call(cloud, "POST", f"/servers/{server.id}/action", {"os-getVNCConsole": {"type": "serial"}},
                version="2.1")
    assert bad.status_code == 400 and "type" in bad.json()["badRequest"]["message"]
    spice = _call(cloud, "POST", f"/servers/{server.id}/action", {"os-getSPICEConsole": {"type": "spice-html5"}},
                  version="2.1")
    assert spice.status_code == 400


def test_console_of_a_stopped_server_is_a_conflict(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    stopped = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    conn.compute.stop_server(stopped)
    wait_for_status(conn, stopped.id, "SHUTOFF")
    resp = _remote(cloud, stopped.id, "vnc", "novnc")
    assert resp.status_code == 409 and "not ready" in resp.json()["conflictingRequest"]["message"]
    conn.compute.delete_server(stopped)


def test_tokens_expire_and_go_with_their_server(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    doomed = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    token = token_of(_remote(cloud, doomed.id, "vnc", "novnc").json()["remote_console"]["url"])
    assert _call(cloud, "GET", f"/os-console-auth-tokens/{token}", version="2.31").status_code == 200
    conn.compute.delete_server(doomed)
    conn.compute.wait_for_delete(doomed, wait=30)
    assert _call(cloud, "GET", f"/os-console-auth-tokens/{token}", version="2.31").status_code == 404

    conf = cloud.aio.runtime.conf  # type: ignore[union-attr]
    live = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    conf.set_override("token_ttl", 1, group="console")
    try:
        token = token_of(_remote(cloud, live.id, "serial", "serial").json()["remote_console"]["url"])
    finally:
        conf.clear_override("token_ttl", group="console")
    fixtures.wait_until(lambda: _call(cloud, "GET", f"/os-console-auth-tokens/{token}",
                                      version="2.31").status_code == 404, timeout=5, what="the token to expire")
    conn.compute.delete_server(live)


def test_rescue_unrescue_and_crash_dump(cloud: ComputeCloud, server: Any, image_id: str) -> None:
    conn = cloud.connection()
    rescued = _call(cloud, "POST", f"/servers/{server.id}/action", {"rescue": {"adminPass": "rescue-pw"}})
    assert rescued.status_code == 200, rescued.text
    assert rescued.json() == {"adminPass": "rescue-pw"}
    shown = wait_for_status(conn, server.id, "RESCUE")
    assert shown.vm_state == "rescued"
    assert _driver(cloud, shown).rescued[server.id] == image_id
    again = _call(cloud, "POST", f"/servers/{server.id}/action", {"rescue": None})
    assert again.status_code == 409, again.text
    # A rescued server still has a console (that is how one repairs it).
    assert _remote(cloud, server.id, "vnc", "novnc").status_code == 200
    assert _call(cloud, "POST", f"/servers/{server.id}/action", {"unrescue": None}).status_code == 202
    wait_for_status(conn, server.id, "ACTIVE")
    assert server.id not in _driver(cloud, shown).rescued
    generated = _call(cloud, "POST", f"/servers/{server.id}/action", {"rescue": {"rescue_image_ref": image_id}})
    assert generated.status_code == 200 and len(generated.json()["adminPass"]) == 12
    wait_for_status(conn, server.id, "RESCUE")
    assert _call(cloud, "POST", f"/servers/{server.id}/action", {"unrescue": None}).status_code == 202
    wait_for_status(conn, server.id, "ACTIVE")
    bad_image = _call(cloud, "POST", f"/servers/{server.id}/action", {"rescue": {"rescue_image_ref": str(uuid.uuid4())}})
    assert bad_image.status_code == 400, bad_image.text
    assert _call(cloud, "POST", f"/servers/{server.id}/action", {"unrescue": None}).status_code == 409

    assert _call(cloud, "POST", f"/servers/{server.id}/action", {"trigger_crash_dump": None},
                 version="2.16").status_code == 404
    dumped = _call(cloud, "POST", f"/servers/{server.id}/action", {"trigger_crash_dump": None}, version="2.17")
    assert dumped.status_code == 202, dumped.text
    fixtures.wait_until(lambda: _driver(cloud, shown).crash_dumps.get(server.id) == 1, timeout=10,
                        what="the NMI to reach the guest")
    actions = [a.action for a in conn.compute.server_actions(server.id)]
    for name in ("rescue", "unrescue", "trigger_crash_dump"):
        assert name in actions

    conn.compute.stop_server(server)
    wait_for_status(conn, server.id, "SHUTOFF")
    assert _call(cloud, "POST", f"/servers/{server.id}/action", {"trigger_crash_dump": None},
                 version="2.17").status_code == 409
    conn.compute.start_server(server)
    wait_for_status(conn, server.id, "ACTIVE")


def test_openstack_console_url_show_for_every_type(cloud: ComputeCloud, server: Any) -> None:
    conf = cloud.aio.runtime.conf  # type: ignore[union-attr]
    conf.set_override("enabled", True, group="spice")  # the fake hosts answer SPICE too
    try:
        for flag, kind, prefix in (("--novnc", "novnc", "http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D"),
                                   ("--serial", "serial", "ws://127.0.0.1:6083/?token="),
                                   ("--spice", "spice-html5", "http://127.0.0.1:6082/spice_auto.html?token=")):
            shown = cloud.openstack("--os-compute-api-version", "2.6", "console", "url", "show", flag, server.id)
            assert shown["type"] == kind and shown["url"].startswith(prefix), shown
            token = token_of(shown["url"])
            granted = _call(cloud, "GET", f"/os-console-auth-tokens/{token}", version="2.31").json()["console"]
            assert granted["instance_uuid"] == server.id
    finally:
        conf.clear_override("enabled", group="spice")
    refused = cloud.openstack("console", "url", "show", "--spice", server.id, check=False, json_output=False)
    assert refused.returncode != 0 and "spice-html5" in refused.stderr


def test_tokens_go_when_their_server_moves(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    moving = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
    token = token_of(_remote(cloud, moving.id, "vnc", "novnc").json()["remote_console"]["url"])
    source = moving.compute_host
    conn.compute.live_migrate_server(moving, host=None, block_migration="auto")
    fixtures.wait_until(lambda: (s := conn.compute.get_server(moving.id)).compute_host != source
                        and not s.task_state and s, timeout=30, what="the live migration to finish")
    # The token named the old host's console: it is gone; a new one names the new host's.
    assert _call(cloud, "GET", f"/os-console-auth-tokens/{token}", version="2.31").status_code == 404
    fresh = token_of(_remote(cloud, moving.id, "vnc", "novnc").json()["remote_console"]["url"])
    assert _call(cloud, "GET", f"/os-console-auth-tokens/{fresh}", version="2.31").status_code == 200
    conn.compute.delete_server(moving)
