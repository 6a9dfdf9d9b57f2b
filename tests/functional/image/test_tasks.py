"""Glance's tasks API (``/v2/tasks``): legacy import tasks run in the background with web-download, their
listing, expiry and schemas; the tasks of an image (``/v2/images/{id}/tasks``); tasks a restart interrupted.

Every source is served from 127.0.0.1 by the test itself; the failures use a closed loopback port and an
unresolvable ``.invalid`` host.
"""

from __future__ import annotations

import datetime
import os
import socket
import time
import uuid
from typing import Any

import pytest
import requests

from nubis.common.db import types
from nubis.image import service as image_service
from nubis.image.core import tasks as task_core
from nubis.image.db.models import Image
from nubis.image.db.task_models import Task
from tests.functional.cloud import Cloud
from tests.functional.image import disk_images

MIB = 1024 * 1024


def _base(cloud: Cloud) -> str:
    return cloud.url("image") + "/v2"


def _task_body(url: str, **properties: Any) -> dict[str, Any]:
    props = {"name": f"task-{uuid.uuid4().hex[:6]}", "disk_format": "raw", "container_format": "bare",
             **properties}
    return {"type": "import", "input": {"import_from": url, "import_from_format": "raw", "image_properties": props}}


def _wait(cloud: Cloud, api: requests.Session, task_id: str, statuses: tuple[str, ...] = ("success", "failure"),
          timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task = api.get(f"{_base(cloud)}/tasks/{task_id}", timeout=10).json()
        if task["status"] in statuses or time.monotonic() > deadline:
            return task  # type: ignore[no-any-return]
        time.sleep(0.1)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


def _time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.rstrip("Z"))


def test_an_import_task_creates_and_fills_an_image(cloud: Cloud, api: requests.Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    payload = os.urandom(3 * MIB + 123)
    (tmp_path / "disk.raw").write_bytes(payload)
    with disk_images.serve_directory(str(tmp_path)) as port:
        sent = _task_body(f"http://127.0.0.1:{port}/disk.raw", visibility="public", os_distro="cirros")
        resp = api.post(f"{_base(cloud)}/tasks", json=sent, timeout=10)
        assert resp.status_code == 201, resp.text
        task = resp.json()
        assert resp.headers["Location"].endswith(f"/v2/tasks/{task['id']}")
        assert task["type"] == "import" and task["status"] == "pending", task
        assert task["input"] == sent["input"] and task["result"] is None and task["message"] == ""
        assert task["expires_at"] is None and task["owner"] and task["created_at"].endswith("Z")
        assert task["self"] == f"/v2/tasks/{task['id']}" and task["schema"] == "/v2/schemas/task"
        done = _wait(cloud, api, task["id"])
    assert done["status"] == "success", done
    image_id = done["result"]["image_id"]
    assert done["message"] == "" and done["image_id"] == image_id
    # It expires [image] task_time_to_live (48) hours after it ended.
    assert _time(done["expires_at"]) - _time(done["updated_at"]) == datetime.timedelta(hours=48)

    image = api.get(f"{_base(cloud)}/images/{image_id}", timeout=10).json()
    assert image["status"] == "active" and image["size"] == len(payload), image
    assert image["name"] == sent["input"]["image_properties"]["name"] and image["disk_format"] == "raw"
    assert image["visibility"] == "public" and image["os_distro"] == "cirros" and image["owner"] == task["owner"]
    assert api.get(f"{_base(cloud)}/images/{image_id}/file", timeout=30).content == payload

    # The image's tasks (image API 2.12) name the task that made it.
    shown = api.get(f"{_base(cloud)}/images/{image_id}/tasks", timeout=10).json()["tasks"]
    assert [t["id"] for t in shown] == [task["id"]]
    assert shown[0]["status"] == "success" and shown[0]["image_id"] == image_id and shown[0]["deleted"] is False
    assert shown[0]["input"] == sent["input"] and shown[0]["user_id"] and shown[0]["request_id"]


def test_a_failed_import_says_why(cloud: Cloud, api: requests.Session) -> None:
    port = _closed_port()
    resp = api.post(f"{_base(cloud)}/tasks", json=_task_body(f"http://127.0.0.1:{port}/gone.raw"), timeout=10)
    assert resp.status_code == 201, resp.text
    done = _wait(cloud, api, resp.json()["id"])
    assert done["status"] == "failure" and done["result"] is None, done
    assert "cannot reach" in done["message"] and str(port) in done["message"], done
    assert done["expires_at"] is not None

    unresolvable = f"http://no-such-host-{uuid.uuid4().hex[:8]}.invalid/disk.raw"
    resp = api.post(f"{_base(cloud)}/tasks", json=_task_body(unresolvable), timeout=10)
    assert resp.status_code == 201, resp.text
    done = _wait(cloud, api, resp.json()["id"])
    assert done["status"] == "failure" and "cannot resolve" in done["message"], done


@pytest.mark.parametrize(("change", "words"), [
    (lambda b: b.update(type="export"), "type"),
    (lambda b: b.pop("input"), "input"),
    (lambda b: b.update(input="x"), "input"),
    (lambda b: b["input"].pop("import_from"), "import_from"),
    (lambda b: b["input"].pop("image_properties"), "image_properties"),
    (lambda b: b["input"].update(import_from_format="floppy"), "import_from_format"),
    (lambda b: b["input"].update(image_properties=[]), "image_properties"),
    (lambda b: b["input"]["image_properties"].update(min_ram="lots"), "min_ram"),
    (lambda b: b["input"]["image_properties"].update(os_glance_x="1"), "os_glance_x"),
    (lambda b: b["input"].update(import_from="ftp://127.0.0.1/disk.raw"), "http"),
    (lambda b: b["input"].update(import_from="http://127.0.0.1:0x/disk.raw"), "port"),
], ids=["type", "no-input", "input-not-object", "no-import_from", "no-image_properties", "format",
        "properties-not-object", "bad-property", "reserved-property", "scheme", "bad-port"])
def test_bad_tasks_are_refused_naming_what_is_wrong(cloud: Cloud, api: requests.Session, change: Any,
                                                    words: str) -> None:
    before = len(api.get(f"{_base(cloud)}/tasks", params={"limit": 1000}, timeout=10).json()["tasks"])
    body = _task_body("http://127.0.0.1:9/disk.raw")
    change(body)
    resp = api.post(f"{_base(cloud)}/tasks", json=body, timeout=10)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == 400 and words in error["message"], error
    assert len(api.get(f"{_base(cloud)}/tasks", params={"limit": 1000}, timeout=10).json()["tasks"]) == before


def test_listing_filters_sorts_and_pages(cloud: Cloud, api: requests.Session) -> None:
    port = _closed_port()
    made = []
    for _ in range(3):
        resp = api.post(f"{_base(cloud)}/tasks", json=_task_body(f"http://127.0.0.1:{port}/x.raw"), timeout=10)
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    for task_id in made:
        assert _wait(cloud, api, task_id)["status"] == "failure"

    listing = api.get(f"{_base(cloud)}/tasks", params={"status": "failure", "type": "import"}, timeout=10).json()
    assert listing["schema"] == "/v2/schemas/tasks" and listing["first"].startswith("/v2/tasks?")
    ids = [t["id"] for t in listing["tasks"]]
    assert set(made) <= set(ids) and all(t["status"] == "failure" for t in listing["tasks"])
    stub = next(t for t in listing["tasks"] if t["id"] == made[0])
    assert not {"input", "result", "message"} & set(stub), stub  # a listing shows stubs, as Glance's
    assert stub["self"] == f"/v2/tasks/{made[0]}" and stub["expires_at"]
    succeeded = api.get(f"{_base(cloud)}/tasks", params={"status": "success"}, timeout=10).json()["tasks"]
    assert all(t["status"] == "success" for t in succeeded) and not set(made) & {t["id"] for t in succeeded}

    # Newest first by default; one page at a time through the next link.
    first = api.get(f"{_base(cloud)}/tasks", params={"limit": 2}, timeout=10).json()
    assert [t["id"] for t in first["tasks"]] == [made[2], made[1]] and "next" in first, first
    second = api.get(cloud.url("image") + first["next"], timeout=10).json()
    assert second["tasks"][0]["id"] == made[0]
    oldest_first = api.get(f"{_base(cloud)}/tasks", params={"sort_dir": "asc", "limit": 1000}, timeout=10).json()
    ordered = [t["id"] for t in oldest_first["tasks"]]
    assert ordered.index(made[0]) < ordered.index(made[1]) < ordered.index(made[2])

    for params, words in (({"status": "done"}, "status"), ({"type": "export"}, "type"),
                          ({"sort_key": "input"}, "sort key"), ({"sort_dir": "up"}, "sort direction"),
                          ({"limit": "-1"}, "limit"), ({"marker": str(uuid.uuid4())}, "marker"),
                          ({"color": "red"}, "color")):
        resp = api.get(f"{_base(cloud)}/tasks", params=params, timeout=10)
        assert resp.status_code == 400 and words in resp.json()["error"]["message"], (params, resp.text)
    assert api.get(f"{_base(cloud)}/tasks/{uuid.uuid4()}", timeout=10).status_code == 404
    assert api.get(f"{_base(cloud)}/tasks/{'x' * 40}", timeout=10).status_code == 404
    assert api.delete(f"{_base(cloud)}/tasks/{made[0]}", timeout=10).status_code == 405  # tasks expire instead


def test_expired_tasks_are_gone(cloud: Cloud, api: requests.Session) -> None:
    resp = api.post(f"{_base(cloud)}/tasks", json=_task_body(f"http://127.0.0.1:{_closed_port()}/x.raw"), timeout=10)
    task_id = resp.json()["id"]
    assert _wait(cloud, api, task_id)["status"] == "failure"
    assert cloud.aio.runtime is not None
    with cloud.aio.runtime.database("image").writer() as s:  # as if its time to live had run out
        row = s.get(Task, task_id)
        assert row is not None
        row.expires_at = types.utcnow() - datetime.timedelta(seconds=1)
    assert api.get(f"{_base(cloud)}/tasks/{task_id}", timeout=10).status_code == 404
    listed = api.get(f"{_base(cloud)}/tasks", params={"limit": 1000}, timeout=10).json()["tasks"]
    assert task_id not in [t["id"] for t in listed]
    # The service's hourly purge then deletes it.
    records = task_core.TaskRecords(cloud.aio.runtime.conf, cloud.aio.runtime.database("image"))
    assert records.purge_expired() >= 1
    with cloud.aio.runtime.database("image").reader() as s:
        assert s.get(Task, task_id) is None


def test_only_admins_use_the_tasks_api(cloud: Cloud, api: requests.Session) -> None:
    member = cloud.connection(cloud.new_user(roles=("member", "reader"), prefix="tasks")).session
    base = _base(cloud)
    some = api.get(f"{base}/tasks", params={"limit": 1}, timeout=10).json()["tasks"]
    for method, url, body in (("GET", f"{base}/tasks", None), ("POST", f"{base}/tasks", _task_body("http://x/y")),
                              ("GET", f"{base}/tasks/{some[0]['id'] if some else uuid.uuid4()}", None)):
        resp = member.request(url, method, json=body, raise_exc=False)
        assert resp.status_code == 403, (method, url, resp.text)


def test_task_schemas(cloud: Cloud, api: requests.Session) -> None:
    task = api.get(f"{_base(cloud)}/schemas/task", timeout=10).json()
    assert task["name"] == "task" and {"input", "result", "message", "expires_at"} <= set(task["properties"])
    assert task["properties"]["status"]["enum"] == ["pending", "processing", "success", "failure"]
    tasks = api.get(f"{_base(cloud)}/schemas/tasks", timeout=10).json()
    item = tasks["properties"]["tasks"]["items"]["properties"]
    assert tasks["name"] == "tasks" and "input" not in item and "result" not in item and "id" in item


def test_an_interoperable_import_is_a_task_of_its_image(cloud: Cloud, api: requests.Session) -> None:
    base = _base(cloud)
    image = api.post(f"{base}/images", json={"name": "direct", "disk_format": "raw", "container_format": "bare"},
                     timeout=10).json()
    assert api.get(f"{base}/images/{image['id']}/tasks", timeout=10).json() == {"tasks": []}
    staged = api.put(f"{base}/images/{image['id']}/stage", data=b"\1" * 4096, timeout=30,
                     headers={"Content-Type": "application/octet-stream"})
    assert staged.status_code == 204, staged.text
    resp = api.post(f"{base}/images/{image['id']}/import", json={"method": {"name": "glance-direct"}}, timeout=10)
    assert resp.status_code == 202, resp.text
    deadline = time.monotonic() + 30
    while True:
        tasks = api.get(f"{base}/images/{image['id']}/tasks", timeout=10).json()["tasks"]
        if (tasks and tasks[0]["status"] == "success") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(tasks) == 1 and tasks[0]["status"] == "success", tasks
    assert tasks[0]["type"] == "api_image_import" and tasks[0]["image_id"] == image["id"]
    assert tasks[0]["request_id"] == resp.headers["x-openstack-request-id"]
    assert tasks[0]["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert api.get(f"{base}/images/{image['id']}", timeout=10).json()["status"] == "active"


def test_a_restart_fails_the_tasks_it_interrupted(cloud: Cloud, api: requests.Session) -> None:
    """The start-up of the image service ends as failures the unfinished tasks of its host whose process is
    gone; a live process's task and another host's are left alone."""
    runtime = cloud.aio.runtime
    assert runtime is not None
    host = runtime.conf.host
    dead_pid = 2**22 + 17  # above Linux's largest pid: no such process
    now = types.utcnow()
    rows = {"dead": f"{host}:{dead_pid}", "live": f"{host}:1", "elsewhere": f"other-{host}:{dead_pid}"}
    ids = {}
    # An interoperable import the restart cut short: its image was importing.
    image = api.post(f"{_base(cloud)}/images", json={"name": "cut", "disk_format": "raw", "container_format": "bare"},
                     timeout=10).json()
    with runtime.database("image").writer() as s:
        row = s.get(Image, image["id"])
        assert row is not None
        row.status = "importing"
        for name, runner in rows.items():
            ids[name] = str(uuid.uuid4())
            s.add(Task(id=ids[name], type="import", status="processing", owner=None, input={"import_from": "x"},
                       message="", runner=runner, created_at=now, updated_at=now,
                       image_id=image["id"] if name == "dead" else None))
    assert api.get(f"{_base(cloud)}/tasks/{ids['dead']}", timeout=10).json()["status"] == "processing"
    for item in image_service.start(runtime):  # the service's start-up, as after a restart
        item.stop()
    dead = api.get(f"{_base(cloud)}/tasks/{ids['dead']}", timeout=10).json()
    assert dead["status"] == "failure" and "interrupted" in dead["message"] and dead["expires_at"], dead
    shown = api.get(f"{_base(cloud)}/images/{image['id']}", timeout=10).json()
    assert shown["status"] == "queued" and "interrupted" in shown["os_glance_failed_import"], shown
    for name in ("live", "elsewhere"):
        assert api.get(f"{_base(cloud)}/tasks/{ids[name]}", timeout=10).json()["status"] == "processing", name
    with runtime.database("image").writer() as s:  # leave nothing running for the other tests' listings
        for name in ("live", "elsewhere"):
            row = s.get(Task, ids[name])
            assert row is not None
            row.status = "failure"
    assert task_core.INTERRUPTED in dead["message"]
