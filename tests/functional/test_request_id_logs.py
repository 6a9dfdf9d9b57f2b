"""One request id through a whole boot, in the log files of ``nubis all-in-one`` run as a user runs it.

The id the compute API returns in ``x-openstack-request-id`` must be on the lines the API, the
conductor, the scheduler and the compute agent log for that boot (with the caller's user and
project), and on the lines of the APIs they call for it; no line carries a password or a token.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
from typing import Any

import pytest

from nubis import services
from nubis.cmd import cloud_bootstrap
from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.test_all_in_one import _free_offset, _start, _stop

NEEDED = {"identity", "image", "placement", "scheduler", "compute-api", "conductor", "compute"}
pytestmark = pytest.mark.skipif(not NEEDED <= set(services.available()), reason="needs the compute services")

# "<date> <time> <pid> <LEVEL> <logger> [<global id> <request id> <user> <project> ...] <message>"
LINE = re.compile(r"^\S+ \S+ \d+ [A-Z]+ (?P<logger>\S+) \[(?P<ids>[^\]]*)\] ")

# The services behind the compute API that log a boot, by the prefix of their loggers' names.
SERVICES = {"conductor": "nubis.compute.conductor.", "scheduler": "nubis.scheduler.",
            "compute agent": "nubis.compute.agent."}


def _parsed(lines: list[str]) -> list[tuple[str, list[str], str]]:
    """(logger, the ids between the brackets, the line) of each line that starts a record."""
    found = []
    for line in lines:
        match = LINE.match(line)
        if match:
            found.append((match["logger"], match["ids"].split(), line))
    return found


@pytest.mark.parametrize("backend", fixtures.backend_ids())
def test_boot_request_id_on_every_line_of_the_boot(tmp_path, backend: str) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    state.mkdir()
    with fixtures.backend_config(backend, str(tmp_path)) as sections:
        sections.setdefault("DEFAULT", {})["debug"] = "true"
        (state / "nubis.conf").write_text("".join(
            f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())
            for group, values in sections.items()))
        try:
            proc, _ = _start(str(state), _free_offset())
        except AssertionError as exc:  # it logs why to its file, not to its output
            logged = "".join(open(f).read() for f in glob.glob(str(state / "logs" / "*.log")))
            raise AssertionError(f"{exc}\n{logged[-5000:]}") from None
        try:
            boot = _boot(str(state))
        finally:
            assert _stop(proc) == 0

    files = glob.glob(str(state / "logs" / "*.log"))
    assert [os.path.basename(f) for f in files] == ["nubis.log"]
    lines = open(files[0]).read().splitlines()
    records = _parsed(lines)
    rid, server_id, user = boot["request_id"], boot["server_id"], boot["user"]

    # The boot's lines: the id is the request id (second), or the global id a called API was given (first).
    boot_lines = [(logger, ids, line) for logger, ids, line in records if rid in ids[:2]]
    caller = [user.user_id, user.project_id]
    assert [line for logger, ids, line in boot_lines if logger == "nubis.api.access_log" and
            '"POST /v2.1/servers" status: 202' in line and ids[:4] == ["None", rid, *caller]]
    for name, prefix in SERVICES.items():
        assert [line for logger, _ids, line in boot_lines if logger.startswith(prefix)], f"no {name} line has {rid}"

    # The compute services' lines of the boot name the caller; the APIs they call for it, the service user
    # (keystonemiddleware's own lines come before it knows who calls).
    for logger, ids, line in boot_lines:
        if ids[0] == "None":
            assert ids[1:4] == [rid, *caller], line
        elif not logger.startswith("keystonemiddleware."):
            assert ids[1] == rid and ids[2:4] in (caller, boot["service"]), line

    # Every line about the server was logged for the boot, but the client's own later requests for it (a show
    # also reads the security groups of the server's ports from the network service).
    for logger, ids, line in records:
        if server_id in line and rid not in ids:
            assert logger == "nubis.api.access_log" and (
                f'"GET /v2.1/servers/{server_id}"' in line or f'"GET /v2.0/ports?device_id={server_id}&' in line), line

    for secret in boot["secrets"]:
        assert not [line for line in lines if secret in line], "a secret is in the log"


def _boot(state: str) -> dict[str, Any]:
    """Boot a server as a new member user; return what the checks need."""
    cloud = cloud_fixture.Cloud.from_openrc(os.path.join(state, "openrc"))
    admin = cloud.connection()
    image = admin.image.create_image(name="tiny", disk_format="raw", container_format="bare",
                                     data=io.BytesIO(b"\0" * 4096), visibility="public")
    flavor = admin.compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1)
    user = cloud.new_user()
    conn = cloud.connection(user)
    resp = conn.compute.post("/servers", microversion="2.37", json={"server": {
        "name": "traced", "imageRef": image.id, "flavorRef": flavor.id, "networks": "none"}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]

    def active() -> bool:
        status = conn.compute.get_server(server_id).status
        assert status != "ERROR"
        return bool(status == "ACTIVE")

    fixtures.wait_until(active, timeout=60, what=f"server {server_id} to be ACTIVE")
    service = admin.identity.find_user(cloud_bootstrap.SERVICE_USER, ignore_missing=False)
    service_project = admin.identity.find_project("service", ignore_missing=False)
    with open(os.path.join(state, "secrets.json")) as f:
        secrets = list(json.load(f).values())
    return {
        "request_id": resp.headers["x-openstack-request-id"], "server_id": server_id, "user": user,
        "service": [service.id, service_project.id],
        "secrets": [*secrets, user.password, conn.auth_token, admin.auth_token],
    }
