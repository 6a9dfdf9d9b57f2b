"""A boot whose commit the database answered with a lost connection (a failover cut it after the write).

The instances may or may not be written; either way the caller gets 503 and no server is left in BUILD
that no build will ever take.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import orm

from nubis.compute.db.models import Instance
from tests.functional.compute.conftest import ComputeCloud, wait_for_status


@pytest.fixture
def commit_then_lose_connection() -> Iterator[list[str]]:
    """The next commit that writes an instance commits, then raises the error of a cut connection."""
    cut: list[str] = []

    def note_new_instances(session: orm.Session, _flush: Any) -> None:
        if not cut and any(isinstance(obj, Instance) for obj in session.new):
            session.info["cut"] = True

    def lose_connection(session: orm.Session) -> None:
        if session.info.pop("cut", False):
            cut.append("cut")
            raise sa.exc.OperationalError("COMMIT", {}, Exception(2013, "Lost connection to MySQL server during query"))

    sa.event.listen(orm.Session, "after_flush", note_new_instances)
    sa.event.listen(orm.Session, "after_commit", lose_connection)
    try:
        yield cut
    finally:
        sa.event.remove(orm.Session, "after_commit", lose_connection)
        sa.event.remove(orm.Session, "after_flush", note_new_instances)


def test_boot_with_a_lost_commit_leaves_no_server_in_build(cloud: ComputeCloud, image_id: str, flavor_id: str,
                                                           commit_then_lose_connection: list[str]) -> None:
    conn = cloud.connection()
    name = f"lost-{uuid.uuid4().hex[:6]}"
    url = f"{cloud.url('compute-api')}/v2.1/servers"
    headers = {"X-Auth-Token": conn.session.get_token(), "OpenStack-API-Version": "compute 2.37"}
    resp = requests.post(url, headers=headers, timeout=60, json={
        "server": {"name": name, "imageRef": image_id, "flavorRef": flavor_id, "networks": "none"}})
    assert commit_then_lose_connection == ["cut"], f"the boot's commit was not cut: {resp.status_code} {resp.text}"
    assert resp.status_code == 503, resp.text
    assert "Send the request again" in resp.text, resp.text
    assert [s.status for s in conn.compute.servers(name=name)] == []  # written, then marked deleted
    # and the boot sent again works
    again = requests.post(url, headers=headers, timeout=60, json={
        "server": {"name": name, "imageRef": image_id, "flavorRef": flavor_id, "networks": "none"}})
    assert again.status_code == 202, again.text
    conn.compute.delete_server(again.json()["server"]["id"])


CUT_NAME = f"cut-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cut_instance_update() -> Iterator[list[str]]:
    """The conductor taking the server named ``CUT_NAME`` (its first UPDATE to 'scheduling') loses its
    connection; the list gets that statement. Only that server's: other tests' servers go on as usual."""
    cut: list[str] = []
    ids: set[str] = set()

    def lose_connection(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        shown = repr(parameters)
        if statement.startswith("INSERT INTO instances") and CUT_NAME in shown:
            ids.update(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", shown))
        elif (not cut and statement.startswith("UPDATE instances SET") and "'scheduling'" in shown
              and any(i in shown for i in ids)):
            cut.append(statement)
            raise sa.exc.OperationalError(statement, {}, Exception(2013, "Lost connection to MySQL server during query"))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", lose_connection)
    try:
        yield cut
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", lose_connection)


def test_conductor_losing_its_connection_ends_the_boot_in_error_at_once(
        cloud: ComputeCloud, image_id: str, flavor_id: str, cut_instance_update: list[str]) -> None:
    conn = cloud.connection()
    server = conn.compute.create_server(name=CUT_NAME, image_id=image_id, flavor_id=flavor_id, networks="none")
    # Not the recovery sweep (minutes later): the conductor ends what it could not schedule itself. (RabbitMQ
    # acknowledged the message on receipt, so nothing delivers it again; the in-process transport would.)
    ended = wait_for_status(conn, server.id, "ERROR", timeout=20)
    assert cut_instance_update, "the conductor's update was not cut"
    assert "Scheduling failed" in ended.fault["message"], ended.fault
    assert not conn.placement.get(f"/allocations/{server.id}").json()["allocations"]
    conn.compute.delete_server(server.id)
